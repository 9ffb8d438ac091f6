//! Credentials from environment variables.

use super::{CredentialsError, Env, Resolved, Source};
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
                return Ok(Some(Resolved {
                    credentials,
                    source: Source::Environment { prefix },
                    region: None,
                }));
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
