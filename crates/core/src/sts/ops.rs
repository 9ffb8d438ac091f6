//! `AssumeRole` and `AssumeRoleWithOIDC`, and their common answer.

use std::fmt;

use serde::Deserialize;

use super::{TemporaryCredentials, STS_VERSION};
use crate::{Credentials, Endpoint, Operation, ParamError, Params, RpcRequest, Shape, Timestamp};

/// The session lifetime asked for when none is given, as in the official libraries.
pub const DEFAULT_DURATION_SECS: u32 = 3600;

/// The shortest session STS grants.
pub const MIN_DURATION_SECS: u32 = 900;

/// The longest session a role can be configured for.
const MAX_DURATION_SECS: u32 = 43_200;

const ROLE_ARN_EXAMPLE: &str = "a role ARN is acs:ram::<account ID>:role/<role name>, such as \
     acs:ram::123456789012:role/backup-operator; copy it from the role's page in the RAM console";

const OIDC_ARN_EXAMPLE: &str =
    "an OIDC provider ARN is acs:ram::<account ID>:oidc-provider/<name>, \
     such as acs:ram::123456789012:oidc-provider/ack-rrsa-c123; copy it from the RAM console";

/// Checks `acs:ram::<account>:<kind>/<name>`.
fn check_arn(
    name: &'static str,
    value: &str,
    kind: &str,
    expected: &'static str,
) -> Result<(), ParamError> {
    let bad = || ParamError::Invalid {
        name,
        value: value.to_owned(),
        expected,
    };
    let rest = value.strip_prefix("acs:ram::").ok_or_else(bad)?;
    let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
    let entity = resource
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(bad)?;
    let account_ok =
        !account.is_empty() && account.len() <= 32 && account.bytes().all(|b| b.is_ascii_digit());
    let entity_ok = !entity.is_empty()
        && entity.len() <= 128
        && entity
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@+=,/".contains(&b));
    if account_ok && entity_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Checks a role ARN such as `acs:ram::123456789012:role/backup-operator`.
///
/// ```
/// use rkvstore_core::sts::validate_role_arn;
/// assert!(validate_role_arn("acs:ram::123456789012:role/backup").is_ok());
/// assert_eq!(
///     validate_role_arn("arn:aws:iam::1:role/x").unwrap_err().to_string(),
///     "invalid RoleArn \"arn:aws:iam::1:role/x\": a role ARN is acs:ram::<account ID>:role/<role \
///      name>, such as acs:ram::123456789012:role/backup-operator; copy it from the role's page \
///      in the RAM console"
/// );
/// ```
pub fn validate_role_arn(value: &str) -> Result<(), ParamError> {
    check_arn("RoleArn", value, "role", ROLE_ARN_EXAMPLE)
}

/// Checks an OIDC provider ARN such as `acs:ram::123456789012:oidc-provider/ack-rrsa-c123`.
pub fn validate_oidc_provider_arn(value: &str) -> Result<(), ParamError> {
    check_arn("OIDCProviderArn", value, "oidc-provider", OIDC_ARN_EXAMPLE)
}

/// Checks a session name: 2 to 64 letters, digits, `.`, `@`, `-` or `_`, as STS requires.
pub fn validate_session_name(value: &str) -> Result<(), ParamError> {
    let ok = (2..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".@-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ParamError::Invalid {
            name: "RoleSessionName",
            value: value.to_owned(),
            expected: "a session name is 2 to 64 letters, digits, '.', '@', '-' or '_'",
        })
    }
}

/// Checks a session lifetime: 900 to 43200 seconds, as STS documents (the official libraries
/// refuse less than 900 before sending; STS refuses more than 43200 and more than the role's own
/// maximum).
pub fn validate_duration_seconds(secs: u32) -> Result<(), ParamError> {
    check_duration(secs)
}

fn check_duration(secs: u32) -> Result<(), ParamError> {
    if (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(ParamError::Invalid {
            name: "DurationSeconds",
            value: secs.to_string(),
            expected: "a session lasts 900 to 43200 seconds (and at most the role's own maximum)",
        })
    }
}

/// `AssumeRole`: temporary credentials for a RAM role, signed with the caller's own.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssumeRole {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`, which shows in the role's audit trail.
    pub role_session_name: String,
    /// `DurationSeconds`, 900 to 43200.
    pub duration_seconds: u32,
    /// `Policy`: a JSON policy that narrows the role's permissions for this session.
    pub policy: Option<String>,
    /// `ExternalId`, when the role's trust policy requires one.
    pub external_id: Option<String>,
}

impl AssumeRole {
    /// Assumes `role_arn` as session `role_session_name` for an hour.
    pub fn new(role_arn: impl Into<String>, role_session_name: impl Into<String>) -> Self {
        AssumeRole {
            role_arn: role_arn.into(),
            role_session_name: role_session_name.into(),
            duration_seconds: DEFAULT_DURATION_SECS,
            policy: None,
            external_id: None,
        }
    }

    /// For `secs` seconds instead of an hour.
    pub fn duration_seconds(mut self, secs: u32) -> Self {
        self.duration_seconds = secs;
        self
    }

    /// With a session policy.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }

    /// With an external ID.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// Checks the role ARN, session name and duration, as sending would.
    pub fn validate(&self) -> Result<(), ParamError> {
        validate_role_arn(&self.role_arn)?;
        validate_session_name(&self.role_session_name)?;
        check_duration(self.duration_seconds)
    }
}

impl Operation for AssumeRole {
    const ACTION: &'static str = "AssumeRole";
    // Asking again for a session only issues another one: nothing is changed by a repeat.
    const IDEMPOTENT: bool = true;
    type Output = AssumeRoleResponse;

    fn params(&self) -> Result<Params, ParamError> {
        validate_role_arn(&self.role_arn)?;
        validate_session_name(&self.role_session_name)?;
        check_duration(self.duration_seconds)?;
        let mut p = Params::with_capacity(5);
        p.insert("RoleArn", &self.role_arn)?;
        p.insert("RoleSessionName", &self.role_session_name)?;
        p.insert("DurationSeconds", self.duration_seconds.to_string())?;
        p.insert_opt("Policy", self.policy.clone())?;
        p.insert_opt("ExternalId", self.external_id.clone())?;
        Ok(p)
    }

    /// A POST to STS with the parameters in a form body, which keeps a long policy out of the
    /// URL.
    fn to_request(&self, endpoint: Endpoint) -> Result<RpcRequest, ParamError> {
        Ok(
            RpcRequest::for_operation(endpoint, STS_VERSION, Self::ACTION)
                .with_form_body()
                .with_params(self.params()?),
        )
    }
}

/// `AssumeRoleWithOIDC`: temporary credentials for a RAM role in exchange for an OIDC token
/// (RRSA in Kubernetes). The request is not signed: the token is the proof.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssumeRoleWithOidc {
    /// `RoleArn`.
    pub role_arn: String,
    /// `OIDCProviderArn`.
    pub oidc_provider_arn: String,
    /// `OIDCToken`, the content of the token file.
    pub oidc_token: crate::Secret,
    /// `RoleSessionName`.
    pub role_session_name: String,
    /// `DurationSeconds`, 900 to 43200.
    pub duration_seconds: u32,
    /// `Policy`.
    pub policy: Option<String>,
}

impl fmt::Debug for AssumeRoleWithOidc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleWithOidc")
            .field("role_arn", &self.role_arn)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("oidc_token", &self.oidc_token)
            .field("role_session_name", &self.role_session_name)
            .field("duration_seconds", &self.duration_seconds)
            .finish_non_exhaustive()
    }
}

impl AssumeRoleWithOidc {
    /// Assumes `role_arn` with `oidc_token` from `oidc_provider_arn`, for an hour.
    pub fn new(
        role_arn: impl Into<String>,
        oidc_provider_arn: impl Into<String>,
        oidc_token: impl Into<String>,
        role_session_name: impl Into<String>,
    ) -> Self {
        AssumeRoleWithOidc {
            role_arn: role_arn.into(),
            oidc_provider_arn: oidc_provider_arn.into(),
            oidc_token: crate::Secret::new(oidc_token),
            role_session_name: role_session_name.into(),
            duration_seconds: DEFAULT_DURATION_SECS,
            policy: None,
        }
    }

    /// For `secs` seconds instead of an hour.
    pub fn duration_seconds(mut self, secs: u32) -> Self {
        self.duration_seconds = secs;
        self
    }

    /// With a session policy.
    pub fn policy(mut self, policy: impl Into<String>) -> Self {
        self.policy = Some(policy.into());
        self
    }
}

impl Operation for AssumeRoleWithOidc {
    const ACTION: &'static str = "AssumeRoleWithOIDC";
    const IDEMPOTENT: bool = true;
    type Output = AssumeRoleResponse;

    fn params(&self) -> Result<Params, ParamError> {
        validate_role_arn(&self.role_arn)?;
        validate_oidc_provider_arn(&self.oidc_provider_arn)?;
        validate_session_name(&self.role_session_name)?;
        check_duration(self.duration_seconds)?;
        let token = self.oidc_token.expose().trim();
        if token.is_empty() {
            return Err(ParamError::Invalid {
                name: "OIDCToken",
                value: String::new(),
                expected: "the OIDC token file is empty; check that the token is mounted",
            });
        }
        let mut p = Params::with_capacity(6);
        p.insert("RoleArn", &self.role_arn)?;
        p.insert("OIDCProviderArn", &self.oidc_provider_arn)?;
        p.insert("OIDCToken", token)?;
        p.insert("RoleSessionName", &self.role_session_name)?;
        p.insert("DurationSeconds", self.duration_seconds.to_string())?;
        p.insert_opt("Policy", self.policy.clone())?;
        Ok(p)
    }

    /// A POST with the parameters, the token among them, in a form body: never in the URL,
    /// which proxies and logs keep.
    fn to_request(&self, endpoint: Endpoint) -> Result<RpcRequest, ParamError> {
        Ok(
            RpcRequest::for_operation(endpoint, STS_VERSION, Self::ACTION)
                .with_form_body()
                .with_params(self.params()?),
        )
    }
}

/// The answer of `AssumeRole` and `AssumeRoleWithOIDC`.
///
/// ```
/// use rkvstore_core::response::parse_success;
/// use rkvstore_core::sts::AssumeRoleResponse;
/// use rkvstore_core::Format;
/// let body = br#"{"RequestId":"R1","Credentials":{"AccessKeyId":"STS.id","AccessKeySecret":"s",
///     "SecurityToken":"t","Expiration":"2026-01-01T01:00:00Z"}}"#;
/// let answer: AssumeRoleResponse = parse_success(body, Format::Json)?;
/// let temporary = answer.temporary_credentials()?;
/// assert_eq!(temporary.credentials.access_key_id(), "STS.id");
/// assert_eq!(temporary.expiration.unwrap().to_string(), "2026-01-01T01:00:00Z");
/// assert!(!format!("{answer:?}").contains("\"s\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRoleResponse {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    credentials: Option<RawCredentials>,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCredentials {
    #[serde(default)]
    access_key_id: Option<String>,
    #[serde(default)]
    access_key_secret: Option<String>,
    #[serde(default)]
    security_token: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
}

impl fmt::Debug for AssumeRoleResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleResponse")
            .field("request_id", &self.request_id)
            .field(
                "access_key_id",
                &self
                    .credentials
                    .as_ref()
                    .and_then(|c| c.access_key_id.as_deref()),
            )
            .finish_non_exhaustive()
    }
}

impl Shape for AssumeRoleResponse {
    fn lacks(&self) -> Option<&'static str> {
        if self.request_id.as_deref().is_none_or(str::is_empty) {
            return Some("no RequestId");
        }
        let Some(c) = &self.credentials else {
            return Some("no Credentials");
        };
        let missing = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
        if missing(&c.access_key_id) {
            Some("no Credentials.AccessKeyId")
        } else if missing(&c.access_key_secret) {
            Some("no Credentials.AccessKeySecret")
        } else if missing(&c.security_token) {
            Some("no Credentials.SecurityToken")
        } else if missing(&c.expiration) {
            Some("no Credentials.Expiration")
        } else {
            None
        }
    }
}

impl AssumeRoleResponse {
    /// The request ID.
    pub fn request_id(&self) -> &str {
        self.request_id.as_deref().unwrap_or_default()
    }

    /// The credentials issued, with their expiration.
    pub fn temporary_credentials(&self) -> Result<TemporaryCredentials, super::AnswerError> {
        let missing = |field: &'static str| super::AnswerError::Missing {
            source: "the STS answer",
            field,
        };
        let c = self
            .credentials
            .as_ref()
            .ok_or_else(|| missing("Credentials"))?;
        let id = c
            .access_key_id
            .as_deref()
            .ok_or_else(|| missing("AccessKeyId"))?;
        let secret = c
            .access_key_secret
            .as_deref()
            .ok_or_else(|| missing("AccessKeySecret"))?;
        let token = c
            .security_token
            .as_deref()
            .ok_or_else(|| missing("SecurityToken"))?;
        let raw = c
            .expiration
            .as_deref()
            .ok_or_else(|| missing("Expiration"))?;
        let expiration =
            Timestamp::parse_iso8601(raw).ok_or_else(|| super::AnswerError::BadExpiration {
                source: "the STS answer",
                value: crate::escape::controls(raw).chars().take(40).collect(),
            })?;
        Ok(TemporaryCredentials {
            credentials: Credentials::new(id, secret).with_security_token(token),
            expiration: Some(expiration),
        })
    }
}
