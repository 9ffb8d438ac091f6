//! Credentials from environment variables.

use std::sync::Arc;

use super::settings::{first_var, sts_endpoint_for};
use super::{CredentialsError, Env, OidcProvider, ProfileSettings, Resolved, Source};
use rkvstore_core::sts::{validate_oidc_provider_arn, validate_role_arn, validate_session_name};
use rkvstore_core::Credentials;

/// The prefixes read, in order: the official SDKs' first, then the `aliyun` CLI's aliases.
const PREFIXES: [&str; 3] = ["ALIBABA_CLOUD_", "ALIBABACLOUD_", "ALICLOUD_"];

/// The ID variables, for the list of places looked.
pub(super) const ID_VARS: [&str; 3] = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
];

pub(super) fn from_env(env: &dyn Env) -> Result<Option<Resolved>, CredentialsError> {
    for prefix in PREFIXES {
        let id = env.var(&format!("{prefix}ACCESS_KEY_ID"));
        let secret = env.var(&format!("{prefix}ACCESS_KEY_SECRET"));
        let token = env.var(&format!("{prefix}SECURITY_TOKEN"));
        match (id, secret) {
            (Some(id), Some(secret)) => {
                let mut credentials = Credentials::new(id, secret);
                if let Some(token) = token {
                    credentials = credentials.with_security_token(token);
                }
                return Ok(Some(Resolved::fixed(
                    credentials,
                    Source::Environment { prefix },
                    None,
                )));
            }
            (Some(_), None) => {
                return Err(CredentialsError::Incomplete {
                    source: "the environment".into(),
                    missing: format!(
                        "{prefix}ACCESS_KEY_SECRET (the ID {prefix}ACCESS_KEY_ID is set)"
                    ),
                })
            }
            (None, Some(_)) => {
                return Err(CredentialsError::Incomplete {
                    source: "the environment".into(),
                    missing: format!(
                        "{prefix}ACCESS_KEY_ID (the secret {prefix}ACCESS_KEY_SECRET is set)"
                    ),
                })
            }
            (None, None) => {}
        }
    }
    Ok(None)
}

/// OIDC from the environment, when all three of its variables are set.
pub(super) fn oidc_from_env(env: &dyn Env) -> Result<Option<Resolved>, CredentialsError> {
    let role = first_var(env, &["ALIBABA_CLOUD_ROLE_ARN", "ALIBABACLOUD_ROLE_ARN"]);
    let provider = first_var(
        env,
        &[
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "ALIBABACLOUD_OIDC_PROVIDER_ARN",
        ],
    );
    let file = first_var(
        env,
        &[
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            "ALIBABACLOUD_OIDC_TOKEN_FILE",
        ],
    );
    let (Some(role), Some(provider_arn), Some(file)) = (role, provider, file) else {
        return Ok(None);
    };
    let origin = Source::OidcEnvironment.to_string();
    // A malformed value is the environment's mistake: named here, before anything is sent.
    let bad = |var: &str, e: rkvstore_core::ParamError| CredentialsError::Provider {
        mode: "OIDC".to_owned(),
        origin: origin.clone(),
        problem: format!("{var} is not valid: {e}"),
        fix: format!("fix the variable {var}; nothing was sent to STS"),
    };
    validate_role_arn(&role).map_err(|e| bad("ALIBABA_CLOUD_ROLE_ARN", e))?;
    validate_oidc_provider_arn(&provider_arn)
        .map_err(|e| bad("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", e))?;
    if let Some(name) = env.var("ALIBABA_CLOUD_ROLE_SESSION_NAME") {
        validate_session_name(&name).map_err(|e| bad("ALIBABA_CLOUD_ROLE_SESSION_NAME", e))?;
    }
    let endpoint = sts_endpoint_for(env, None, None, false, &origin)?;
    let mut oidc = OidcProvider::new(role, provider_arn, file)
        .sts_endpoint(endpoint)
        .origin(origin);
    if let Some(name) = env.var("ALIBABA_CLOUD_ROLE_SESSION_NAME") {
        oidc = oidc.session_name(name);
    }
    Ok(Some(Resolved {
        provider: Arc::new(oidc),
        source: Source::OidcEnvironment,
        region: None,
        settings: ProfileSettings::default(),
    }))
}
