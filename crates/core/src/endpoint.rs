//! Where requests go: the R-kvstore endpoint for a region, or an explicit override.
//!
//! The official SDKs send a fixed list of regions to the central endpoint
//! `r-kvstore.aliyuncs.com` and every other region to `r-kvstore.<region>.aliyuncs.com`; this
//! module follows the same table (copied from `alibabacloud-r-kvstore20150101`).

use std::fmt;
use std::sync::Arc;

use crate::validate;

/// The central endpoint.
pub const CENTRAL_HOST: &str = "r-kvstore.aliyuncs.com";

/// Regions the official SDKs send to [`CENTRAL_HOST`].
pub const CENTRAL_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-hangzhou-finance",
    "ap-northeast-2-pop",
    "cn-beijing-finance-pop",
    "cn-beijing-gov-1",
    "cn-beijing-nu16-b01",
    "cn-edge-1",
    "cn-fujian",
    "cn-haidian-cm12-c01",
    "cn-hangzhou-bj-b01",
    "cn-hangzhou-internal-prod-1",
    "cn-hangzhou-internal-test-1",
    "cn-hangzhou-internal-test-2",
    "cn-hangzhou-internal-test-3",
    "cn-hangzhou-test-306",
    "cn-hongkong-finance-pop",
    "cn-qingdao-nebula",
    "cn-shanghai-et15-b01",
    "cn-shanghai-et2-b01",
    "cn-shanghai-inner",
    "cn-shanghai-internal-test-1",
    "cn-shenzhen-inner",
    "cn-shenzhen-st4-d01",
    "cn-shenzhen-su18-b01",
    "cn-wuhan",
    "cn-yushanfang",
    "cn-zhangbei",
    "cn-zhangbei-na61-b01",
    "cn-zhangjiakou-na62-a01",
    "cn-zhengzhou-nebula-1",
    "eu-west-1-oxs",
    "rus-west-1-pop",
];

/// URL scheme of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// TLS; the default for every resolved endpoint.
    Https,
    /// Plain HTTP: only when an override says `http://`, for example a local emulator.
    Http,
}

impl Scheme {
    /// `"https"` or `"http"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// Which network the caller reaches the API from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Network {
    /// The internet.
    #[default]
    Public,
    /// Inside an Alibaba Cloud VPC: `r-kvstore-vpc.<region>.aliyuncs.com`.
    ///
    /// VPC endpoints are always regional, so unlike [`Network::Public`] no region is sent to the
    /// central host.
    Vpc,
}

/// A scheme and a host (with an optional port): everything a transport needs to connect.
///
/// ```
/// use rkvstore_core::{Endpoint, Network};
/// assert_eq!(Endpoint::resolve("cn-hangzhou", Network::Public)?.to_string(), "https://r-kvstore.aliyuncs.com");
/// assert_eq!(Endpoint::resolve("ap-southeast-1", Network::Public)?.to_string(), "https://r-kvstore.ap-southeast-1.aliyuncs.com");
/// assert_eq!(Endpoint::resolve("cn-hangzhou", Network::Vpc)?.to_string(), "https://r-kvstore-vpc.cn-hangzhou.aliyuncs.com");
/// assert_eq!(Endpoint::parse("http://127.0.0.1:8080/")?.to_string(), "http://127.0.0.1:8080");
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: Scheme,
    // Shared, because every request holds a copy of its endpoint.
    host: Arc<str>,
}

/// Why an endpoint override was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError {
    given: String,
    problem: &'static str,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid endpoint {:?}: {}; give a host such as r-kvstore.aliyuncs.com, \
             or a URL such as https://r-kvstore.aliyuncs.com or http://127.0.0.1:8080",
            self.given, self.problem
        )
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// The endpoint the official SDKs would use for `region`.
    pub fn resolve(region: &str, network: Network) -> Result<Self, crate::Error> {
        validate::region_id(region)?;
        let host = match network {
            Network::Public if CENTRAL_REGIONS.contains(&region) => CENTRAL_HOST.to_owned(),
            Network::Public => format!("r-kvstore.{region}.aliyuncs.com"),
            Network::Vpc => format!("r-kvstore-vpc.{region}.aliyuncs.com"),
        };
        Ok(Endpoint {
            scheme: Scheme::Https,
            host: host.into(),
        })
    }

    /// An explicit endpoint: `https://host[:port]`, `http://host[:port]`, or a bare host, which
    /// means HTTPS. A trailing `/` is accepted; any other path, a query or user info is not.
    pub fn parse(given: &str) -> Result<Self, EndpointError> {
        let err = |problem| EndpointError {
            given: given.to_owned(),
            problem,
        };
        let (scheme, rest) = if let Some(rest) = given.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = given.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if given.contains("://") {
            return Err(err("only https:// and http:// are supported"));
        } else {
            (Scheme::Https, given)
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(err("the host is empty"));
        }
        if host.contains(['/', '?', '#']) {
            return Err(err("an endpoint has no path or query"));
        }
        if host.contains('@') {
            return Err(err("an endpoint has no user info"));
        }
        let ok =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_');
        if !host.chars().all(ok) {
            return Err(err(
                "a host has only letters, digits, '.', '-', and ':' before a port",
            ));
        }
        Ok(Endpoint {
            scheme,
            host: host.into(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, with the port when one was given.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides() {
        let e = Endpoint::parse("r-kvstore.cn-shanghai.aliyuncs.com").unwrap();
        assert_eq!(e.scheme(), Scheme::Https);
        assert_eq!(e.host(), "r-kvstore.cn-shanghai.aliyuncs.com");
        assert_eq!(
            Endpoint::parse("http://[::1]:9000").unwrap().host(),
            "[::1]:9000"
        );
        for bad in [
            "",
            "https://",
            "ftp://x",
            "https://x/path",
            "http://u@x",
            "a b",
            "x?y",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Endpoint::parse("ftp://x").unwrap_err().to_string(),
            "invalid endpoint \"ftp://x\": only https:// and http:// are supported; give a host \
             such as r-kvstore.aliyuncs.com, or a URL such as https://r-kvstore.aliyuncs.com or \
             http://127.0.0.1:8080"
        );
    }

    #[test]
    fn every_central_region_resolves_centrally() {
        for r in CENTRAL_REGIONS {
            assert_eq!(
                Endpoint::resolve(r, Network::Public).unwrap().host(),
                CENTRAL_HOST
            );
        }
        assert_eq!(
            Endpoint::resolve("cn-beijing", Network::Public)
                .unwrap()
                .host(),
            "r-kvstore.cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn bad_region_is_an_error() {
        assert!(Endpoint::resolve("", Network::Public).is_err());
        assert!(Endpoint::resolve("cn hangzhou", Network::Public).is_err());
    }
}
