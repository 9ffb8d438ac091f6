//! Where STS is, by the rule the official credentials libraries use.

use crate::{validate, Endpoint, Error};

/// The STS endpoint for `region` (`sts.<region>.aliyuncs.com`, or
/// `sts-vpc.<region>.aliyuncs.com` through a VPC), or the central `sts.aliyuncs.com` when no
/// region is given, which is also what the official libraries do for a VPC without a region.
///
/// ```
/// use rkvstore_core::sts::sts_endpoint;
/// assert_eq!(sts_endpoint(None, false)?.host(), "sts.aliyuncs.com");
/// assert_eq!(sts_endpoint(Some("cn-shanghai"), false)?.host(), "sts.cn-shanghai.aliyuncs.com");
/// assert_eq!(sts_endpoint(Some("cn-shanghai"), true)?.host(), "sts-vpc.cn-shanghai.aliyuncs.com");
/// assert!(sts_endpoint(Some("CN SHANGHAI"), false).is_err());
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
pub fn sts_endpoint(region: Option<&str>, vpc: bool) -> Result<Endpoint, Error> {
    let host = match region {
        None => "sts.aliyuncs.com".to_owned(),
        Some(r) => {
            validate::region_id(r)?;
            let prefix = if vpc { "sts-vpc" } else { "sts" };
            format!("{prefix}.{r}.aliyuncs.com")
        }
    };
    Ok(Endpoint::parse(&host)?)
}
