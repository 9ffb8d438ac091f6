//! `RamRoleArn` and `ChainableRamRoleArn`: STS `AssumeRole`, signed with credentials from
//! another provider (an AccessKey pair, an STS token, or another profile).

use std::sync::Arc;

use rkvstore_core::escape::controls;
use rkvstore_core::sts::{sts_endpoint, AssumeRole, TemporaryCredentials};
use rkvstore_core::Endpoint;

use super::sts_call::Sts;
use super::{CredentialsError, CredentialsProvider};

/// A session name for when none is configured, as the official libraries send one.
pub(super) fn default_session_name() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("rkvstore-{secs}")
}

/// Assumes a RAM role with STS `AssumeRole`, signing with another provider's credentials.
///
/// ```no_run
/// use std::sync::Arc;
/// use rkvstore_blocking::credentials::{RamRoleArnProvider, StaticProvider};
/// use rkvstore_blocking::core::Credentials;
///
/// let source = StaticProvider::new(Credentials::new("LTAI5tExample", "secret"), "AK");
/// let role = RamRoleArnProvider::new(Arc::new(source), "acs:ram::123456789012:role/backup")
///     .session_name("nightly-backup");
/// let client = rkvstore_blocking::Client::builder()
///     .credentials_provider(Arc::new(role))
///     .region("cn-hangzhou")
///     .build()?;
/// # Ok::<(), rkvstore_blocking::Error>(())
/// ```
pub struct RamRoleArnProvider {
    source: Arc<dyn CredentialsProvider>,
    op: AssumeRole,
    sts: Sts,
    mode: &'static str,
    origin: String,
}

impl RamRoleArnProvider {
    /// Assumes `role_arn` with `source`'s credentials, through `sts.aliyuncs.com`, for an hour.
    pub fn new(source: Arc<dyn CredentialsProvider>, role_arn: impl Into<String>) -> Self {
        RamRoleArnProvider {
            source,
            op: AssumeRole::new(role_arn, default_session_name()),
            sts: Sts::new(sts_endpoint(None, false).ok()),
            mode: "RamRoleArn",
            origin: "code".to_owned(),
        }
    }

    /// The session name, shown in the role's audit trail.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.op.role_session_name = name.into();
        self
    }

    /// The session lifetime, 900 to 43200 seconds (3600 by default).
    pub fn duration_seconds(mut self, secs: u32) -> Self {
        self.op.duration_seconds = secs;
        self
    }

    /// A session policy narrowing the role's permissions.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.op.policy = Some(policy.into());
        self
    }

    /// The external ID the role's trust policy asks for.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.op.external_id = Some(id.into());
        self
    }

    /// The STS endpoint (see [`rkvstore_core::sts::sts_endpoint`]).
    pub fn sts_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.sts = Sts::new(Some(endpoint));
        self
    }

    /// Names the mode and where the configuration came from, for messages.
    pub(super) fn described(mut self, mode: &'static str, origin: impl Into<String>) -> Self {
        self.mode = mode;
        self.origin = origin.into();
        self
    }
}

impl CredentialsProvider for RamRoleArnProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        // A mistake in the configuration is not an STS failure: say so, and send nothing.
        self.op.validate().map_err(|e| CredentialsError::Provider {
            mode: self.mode.to_owned(),
            origin: self.origin.clone(),
            problem: e.to_string(),
            fix: "fix the configuration (role ARN, session name or duration); nothing was \
                      sent to STS"
                .to_owned(),
        })?;
        let source = self.source.fetch()?;
        self.sts
            .call(&self.op, Some(&source.credentials))
            .map_err(|e| {
                sts_failure(
                    self.mode,
                    &self.origin,
                    &self.op.role_arn,
                    &self.sts.host(),
                    &e,
                )
            })
    }

    fn describe(&self) -> String {
        format!(
            "{} {} ({}), signed by {}",
            self.mode,
            self.op.role_arn,
            self.origin,
            self.source.describe()
        )
    }
}

/// An STS failure as one clear error: what STS said and what to do about it.
pub(super) fn sts_failure(
    mode: &str,
    origin: &str,
    role_arn: &str,
    endpoint: &str,
    e: &crate::Error,
) -> CredentialsError {
    let (problem, fix) = match e.api() {
        Some(api) => {
            // From the network: one line, whatever it holds.
            let problem = format!(
                "STS answered {}: {}",
                controls(&api.code),
                controls(&api.message)
            );
            let fix = match api.code.as_str() {
                "NoPermission" => format!(
                    "the credentials that sign the request may not assume {role_arn}: add their \
                     RAM user or role to the role's trust policy and grant it sts:AssumeRole"
                ),
                "InvalidParameter.RoleArn" => format!(
                    "{role_arn} is not a valid role ARN: copy the ARN from the role's page in \
                     the RAM console"
                ),
                "EntityNotExist.Role" => format!(
                    "no role {role_arn} exists: check the role name and the account ID in the ARN"
                ),
                c if c.starts_with("AuthenticationFail.OIDCToken")
                    || c.starts_with("InvalidParameter.OIDCToken") =>
                {
                    "the OIDC token was refused: check that the token file is the one mounted \
                     for this pod and that it was issued by the OIDC provider named"
                        .to_owned()
                }
                c if c.starts_with("EntityNotExist.OIDCProvider") => {
                    "no such OIDC provider: check the OIDC provider ARN".to_owned()
                }
                c if c.starts_with("InvalidAccessKeyId")
                    || c.starts_with("InvalidSecurityToken")
                    || c.starts_with("SignatureDoesNotMatch") =>
                {
                    "the credentials that sign the AssumeRole request were refused: check the \
                     source AccessKey pair (or the source profile)"
                        .to_owned()
                }
                _ => "check the role's configuration in the RAM console".to_owned(),
            };
            (problem, fix)
        }
        None => (
            format!(
                "calling STS at {} failed: {}",
                endpoint,
                controls(&crate::Report(e).to_string())
            ),
            "check the STS endpoint (sts_endpoint, ALIBABA_CLOUD_STS_ENDPOINT, \
             ALIBABA_CLOUD_STS_REGION) and the network"
                .to_owned(),
        ),
    };
    CredentialsError::Provider {
        mode: mode.to_owned(),
        origin: origin.to_owned(),
        problem,
        fix,
    }
}
