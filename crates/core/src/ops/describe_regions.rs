//! `DescribeRegions`: the regions where ApsaraDB for Redis can be used, for auditing every one.

use serde::{Deserialize, Serialize};

use super::{owner_params, Operation, Owner};
use crate::response::lenient;
use crate::{ParamError, Params};

/// The request. Every parameter is optional.
///
/// ```
/// use rkvstore_core::{DescribeRegions, Operation};
/// let p = DescribeRegions::new().accept_language("en-US").params()?;
/// assert_eq!(p.get("AcceptLanguage"), Some("en-US"));
/// let e = DescribeRegions::new().accept_language("fr-FR").params().unwrap_err();
/// assert_eq!(e.to_string(), "invalid AcceptLanguage \"fr-FR\": use zh-CN or en-US");
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeRegions {
    /// `AcceptLanguage`: the language of `LocalName`, `zh-CN` (the service's default) or
    /// `en-US`.
    pub accept_language: Option<String>,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeRegions {
    /// Every region.
    pub fn new() -> Self {
        DescribeRegions::default()
    }

    /// Sets `AcceptLanguage` (`zh-CN` or `en-US`).
    pub fn accept_language(mut self, language: impl Into<String>) -> Self {
        self.accept_language = Some(language.into());
        self
    }
}

impl Operation for DescribeRegions {
    const ACTION: &'static str = "DescribeRegions";
    const IDEMPOTENT: bool = true;
    type Output = DescribeRegionsResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(1);
        if let Some(language) = &self.accept_language {
            if language != "zh-CN" && language != "en-US" {
                return Err(ParamError::Invalid {
                    name: "AcceptLanguage",
                    value: language.clone(),
                    expected: "use zh-CN or en-US",
                });
            }
            p.insert("AcceptLanguage", language.as_str())?;
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The response. `#[non_exhaustive]`: the API adds fields over time.
///
/// ```
/// use rkvstore_core::DescribeRegionsResponse;
/// let body = r#"{"RequestId":"R1","RegionIds":{"KVStoreRegion":[
///     {"RegionId":"cn-hangzhou","LocalName":"China (Hangzhou)","RegionEndpoint":"r-kvstore.aliyuncs.com",
///      "ZoneIds":"cn-hangzhou-h,cn-hangzhou-i","ZoneIdList":{"ZoneId":["cn-hangzhou-h","cn-hangzhou-i"]}}]}}"#;
/// let answer: DescribeRegionsResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(answer.region_ids(), ["cn-hangzhou"]);
/// assert_eq!(answer.regions[0].zone_ids.as_deref(), Some("cn-hangzhou-h,cn-hangzhou-i"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeRegionsResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `RegionIds.KVStoreRegion`.
    #[serde(rename = "RegionIds", default, deserialize_with = "lenient::list")]
    pub regions: Vec<KvStoreRegion>,
}

shape_by_request_id!(DescribeRegionsResponse);

impl DescribeRegionsResponse {
    /// An answer listing `regions` (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>, regions: Vec<KvStoreRegion>) -> Self {
        DescribeRegionsResponse {
            request_id: request_id.into(),
            regions,
        }
    }

    /// The region IDs, in the order listed, without empty ones or repeats.
    pub fn region_ids(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(self.regions.len());
        for region in &self.regions {
            let id = region.region_id.trim();
            if !id.is_empty() && !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}

/// One region. `#[non_exhaustive]`: build one with [`KvStoreRegion::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KvStoreRegion {
    /// `RegionId`, such as `cn-hangzhou`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub region_id: String,
    /// `LocalName`, in the language asked for.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_name: Option<String>,
    /// `RegionEndpoint`, such as `r-kvstore.aliyuncs.com`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region_endpoint: Option<String>,
    /// `ZoneIds`: the zones, separated by commas.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub zone_ids: Option<String>,
}

impl KvStoreRegion {
    /// Region `region_id` with every other field unset.
    pub fn new(region_id: impl Into<String>) -> Self {
        KvStoreRegion {
            region_id: region_id.into(),
            local_name: None,
            region_endpoint: None,
            zone_ids: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_region_in_xml_shape_and_repeats() {
        let body = r#"{"RequestId":"R","RegionIds":{"KVStoreRegion":{"RegionId":"cn-beijing"}}}"#;
        let a: DescribeRegionsResponse = serde_json::from_str(body).unwrap();
        assert_eq!(a.region_ids(), ["cn-beijing"]);
        let a = DescribeRegionsResponse::new(
            "R",
            vec![
                KvStoreRegion::new("cn-a"),
                KvStoreRegion::new(" "),
                KvStoreRegion::new("cn-a"),
                KvStoreRegion::new("cn-b"),
            ],
        );
        assert_eq!(a.region_ids(), ["cn-a", "cn-b"]);
        let empty: DescribeRegionsResponse =
            serde_json::from_str(r#"{"RequestId":"R","RegionIds":""}"#).unwrap();
        assert!(empty.regions.is_empty());
    }
}
