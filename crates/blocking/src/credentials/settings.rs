//! What besides credentials a profile or the environment configures: STS and metadata
//! endpoints, and the client settings a profile carries.

use rkvstore_core::sts::sts_endpoint;
use rkvstore_core::Endpoint;

use super::{CredentialsError, Env};

/// Client settings found beside the credentials (an aliyun CLI profile's fields). Builder
/// settings and command-line flags win over them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileSettings {
    /// `endpoint`: the API endpoint.
    pub endpoint: Option<String>,
    /// `endpoint_type`: `vpc` for the VPC endpoint.
    pub endpoint_type: Option<String>,
    /// `retry_count`: retries after the first attempt.
    pub retry_count: Option<u32>,
    /// `connect_timeout`, in seconds.
    pub connect_timeout: Option<u64>,
    /// `read_timeout` (the aliyun CLI writes `retry_timeout`), in seconds.
    pub read_timeout: Option<u64>,
}

/// `true` for `true` in any case, as the official libraries read their switches.
pub(super) fn is_true(value: Option<String>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The first of `names` that is set.
pub(super) fn first_var(env: &dyn Env, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| env.var(n))
}

/// The STS endpoint: `explicit` (a profile's `sts_endpoint`) or `ALIBABA_CLOUD_STS_ENDPOINT`
/// (a host or an `http(s)://host:port` URL); else by region, from `region` (a profile's
/// `sts_region`) or `ALIBABA_CLOUD_STS_REGION`, through the VPC when `vpc` or
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`; else `sts.aliyuncs.com`. `origin` names the
/// configuration for errors.
pub(super) fn sts_endpoint_for(
    env: &dyn Env,
    explicit: Option<&str>,
    region: Option<&str>,
    vpc: bool,
    origin: &str,
) -> Result<Endpoint, CredentialsError> {
    let bad = |what: &str, problem: String| CredentialsError::Provider {
        mode: "STS".to_owned(),
        origin: origin.to_owned(),
        problem: format!("{what}: {problem}"),
        fix: "give a host such as sts.cn-hangzhou.aliyuncs.com or a URL such as \
              http://127.0.0.1:8080"
            .to_owned(),
    };
    if let Some(e) = explicit {
        return Endpoint::parse(e).map_err(|err| bad("sts_endpoint", err.to_string()));
    }
    if let Some(e) = first_var(
        env,
        &["ALIBABA_CLOUD_STS_ENDPOINT", "ALIBABACLOUD_STS_ENDPOINT"],
    ) {
        return Endpoint::parse(&e)
            .map_err(|err| bad("ALIBABA_CLOUD_STS_ENDPOINT", err.to_string()));
    }
    let region = region
        .map(str::to_owned)
        .or_else(|| env.var("ALIBABA_CLOUD_STS_REGION"));
    let vpc = vpc || is_true(env.var("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"));
    sts_endpoint(region.as_deref(), vpc).map_err(|err| bad("the STS region", err.to_string()))
}
