//! `OIDC`: STS `AssumeRoleWithOIDC` with a token file that rotates (RRSA in ACK), read anew at
//! every refresh.

use std::path::PathBuf;

use rkvstore_core::sts::{
    sts_endpoint, validate_duration_seconds, validate_oidc_provider_arn, validate_role_arn,
    validate_session_name, AssumeRoleWithOidc, TemporaryCredentials,
};
use rkvstore_core::Endpoint;

use super::ram_role::{default_session_name, sts_failure};
use super::sts_call::Sts;
use super::{CredentialsError, CredentialsProvider};
use crate::local_file::{self, LocalFileErrorKind};

/// A token file larger than this is not a token.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Assumes a RAM role with an OIDC token read from a file.
pub struct OidcProvider {
    role_arn: String,
    provider_arn: String,
    token_file: PathBuf,
    session_name: String,
    duration_seconds: Option<u32>,
    policy: Option<String>,
    sts: Sts,
    origin: String,
}

impl OidcProvider {
    /// Assumes `role_arn` with the token in `token_file`, issued by `provider_arn`.
    pub fn new(
        role_arn: impl Into<String>,
        provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
    ) -> Self {
        OidcProvider {
            role_arn: role_arn.into(),
            provider_arn: provider_arn.into(),
            token_file: token_file.into(),
            session_name: default_session_name(),
            duration_seconds: None,
            policy: None,
            sts: Sts::new(sts_endpoint(None, false).ok()),
            origin: "code".to_owned(),
        }
    }

    /// The session name.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = name.into();
        self
    }

    /// The session lifetime, 900 to 43200 seconds (3600 by default).
    pub fn duration_seconds(mut self, secs: u32) -> Self {
        self.duration_seconds = Some(secs);
        self
    }

    /// A session policy.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// The STS endpoint.
    pub fn sts_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.sts = Sts::new(Some(endpoint));
        self
    }

    pub(super) fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    fn failed(&self, problem: String, fix: &str) -> CredentialsError {
        CredentialsError::Provider {
            mode: "OIDC".to_owned(),
            origin: self.origin.clone(),
            problem,
            fix: fix.to_owned(),
        }
    }
}

impl CredentialsProvider for OidcProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        // A mistake in the configuration is not an STS failure: say so, and send nothing.
        validate_role_arn(&self.role_arn)
            .and_then(|()| validate_oidc_provider_arn(&self.provider_arn))
            .and_then(|()| validate_session_name(&self.session_name))
            .and_then(|()| {
                self.duration_seconds
                    .map_or(Ok(()), validate_duration_seconds)
            })
            .map_err(|e| {
                self.failed(
                    e.to_string(),
                    "fix the configuration (role ARN, OIDC provider ARN, session name or \
                     duration); nothing was sent to STS",
                )
            })?;
        // Read at every refresh: the platform rotates the token in place.
        let token = local_file::read_to_string(&self.token_file, MAX_TOKEN_BYTES).map_err(|e| {
            let fix = match e.kind() {
                LocalFileErrorKind::NotFound => {
                    "check ALIBABA_CLOUD_OIDC_TOKEN_FILE (or oidc_token_file in the profile); in \
                     ACK, check that RRSA is enabled and the pod's service account is annotated"
                }
                _ => "point ALIBABA_CLOUD_OIDC_TOKEN_FILE (or oidc_token_file) at the token file",
            };
            self.failed(format!("the OIDC token file: {e}"), fix)
        })?;
        let token = token.trim();
        if token.is_empty() {
            return Err(self.failed(
                format!("the OIDC token file {} is empty", self.token_file.display()),
                "check that the token is mounted and written",
            ));
        }
        let mut op = AssumeRoleWithOidc::new(
            &self.role_arn,
            &self.provider_arn,
            token,
            &self.session_name,
        );
        if let Some(secs) = self.duration_seconds {
            op = op.duration_seconds(secs);
        }
        if let Some(p) = &self.policy {
            op = op.policy(p);
        }
        self.sts
            .call(&op, None)
            .map_err(|e| sts_failure("OIDC", &self.origin, &self.role_arn, &self.sts.host(), &e))
    }

    fn describe(&self) -> String {
        format!("OIDC {} ({})", self.role_arn, self.origin)
    }
}
