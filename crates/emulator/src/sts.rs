//! The Security Token Service (STS) on the emulator's listener: `AssumeRole`, checked like any
//! signed request, and `AssumeRoleWithOIDC`, checked against the tokens the emulator was given.
//! Both issue temporary credentials that the R-kvstore side accepts until they expire, and
//! refuses after with `InvalidSecurityToken.Expired`, as the service does.
//!
//! The temporary credentials the ECS metadata service and the credentials URI hand out
//! ([`crate::metadata`]) come from here too.

use std::collections::HashMap;
use std::time::Duration;

use rkvstore_core::sts::{validate_oidc_provider_arn, validate_role_arn, STS_VERSION};
use rkvstore_core::{Secret, Timestamp};
use serde_json::{json, Value};

use crate::auth::{authenticate, Incoming};
use crate::render::Failure;
use crate::state::{AccessKey, State};

/// A role that `AssumeRole` can assume.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub(crate) arn: String,
    /// The AccessKey IDs allowed to assume it; `None` allows every key the emulator accepts.
    pub(crate) trusted: Option<Vec<String>>,
}

/// An OIDC token `AssumeRoleWithOIDC` accepts, for one provider and role.
#[derive(Clone)]
pub(crate) struct OidcTrust {
    pub(crate) provider_arn: String,
    pub(crate) role_arn: String,
    pub(crate) token: Secret,
}

impl std::fmt::Debug for OidcTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcTrust")
            .field("provider_arn", &self.provider_arn)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

/// What the emulator's STS, metadata service and credentials URI are configured with.
#[derive(Clone, Debug)]
pub(crate) struct StsConfig {
    pub(crate) roles: Vec<Role>,
    pub(crate) oidc: Vec<OidcTrust>,
    /// Overrides every lifetime asked for, so that tests can watch credentials expire.
    pub(crate) lifetime: Option<Duration>,
    /// The role attached to the "instance" the metadata service describes.
    pub(crate) ecs_role: Option<String>,
    /// Whether the metadata service answers without a session token (IMDSv1).
    pub(crate) imds_v1: bool,
    /// Whether the metadata service hands out session tokens and then refuses them, as a
    /// proxy that drops the token header makes it seem.
    pub(crate) imds_tokens_refused: bool,
}

impl Default for StsConfig {
    fn default() -> Self {
        StsConfig {
            roles: Vec::new(),
            oidc: Vec::new(),
            lifetime: None,
            ecs_role: None,
            imds_v1: true,
            imds_tokens_refused: false,
        }
    }
}

/// The configuration and what was issued under it.
#[derive(Debug, Default)]
pub(crate) struct StsState {
    pub(crate) config: StsConfig,
    /// When each issued AccessKey ID expires.
    expiry: HashMap<String, Timestamp>,
    /// Metadata session tokens and when they expire.
    pub(crate) metadata_tokens: HashMap<String, Timestamp>,
    issued: u64,
}

impl StsState {
    pub(crate) fn new(config: StsConfig) -> Self {
        StsState {
            config,
            ..StsState::default()
        }
    }

    /// `true` when `key_id` was issued here and has expired at `now`.
    pub(crate) fn expired(&self, key_id: &str, now: Timestamp) -> bool {
        self.expiry
            .get(key_id)
            .is_some_and(|e| now.unix() >= e.unix())
    }

    /// A counter for tokens and keys, unique within this emulator.
    pub(crate) fn next_serial(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }
}

/// Issues temporary credentials valid for `secs` seconds (or the configured lifetime) and
/// returns them in the shape every issuer uses.
pub(crate) fn issue(state: &mut State, secs: u64) -> Value {
    let secs = state
        .sts
        .config
        .lifetime
        .map_or(secs, |d| d.as_secs().max(1));
    let n = state.sts.next_serial();
    let now = state.now();
    let expiration = now.offset(i64::try_from(secs).unwrap_or(i64::MAX));
    let id = format!("STS.NTemulator{n:06}");
    let secret = format!("emulator-sts-secret-{n:06}");
    let token = format!("CAISemulator{n:06}Token/+=x");
    state.keys.push(AccessKey {
        id: id.clone(),
        secret: Secret::new(secret.clone()),
        token: Some(Secret::new(token.clone())),
    });
    state.sts.expiry.insert(id.clone(), expiration);
    json!({
        "AccessKeyId": id,
        "AccessKeySecret": secret,
        "SecurityToken": token,
        "Expiration": expiration.to_string(),
        "LastUpdated": now.to_string(),
    })
}

/// `true` for a request to STS rather than R-kvstore.
pub(crate) fn is_sts(req: &Incoming) -> bool {
    let version = req.param("Version").or_else(|| req.header("x-acs-version"));
    version == Some(STS_VERSION)
}

/// Runs an STS action.
pub(crate) fn run(req: &Incoming, state: &mut State, request_id: &str) -> Result<Value, Failure> {
    match req.action().unwrap_or_default() {
        "AssumeRole" => assume_role(req, state, request_id),
        "AssumeRoleWithOIDC" => assume_role_with_oidc(req, state, request_id),
        other => Err(Failure::new(
            404,
            "InvalidAction.NotFound",
            format!(
                "Specified api is not found, please check your url and method. (action {other})"
            ),
        )),
    }
}

fn required<'a>(
    req: &'a Incoming,
    name: &'static str,
    code: &'static str,
) -> Result<&'a str, Failure> {
    req.param(name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::new(400, code, format!("{name} is mandatory for this action.")))
}

fn duration(req: &Incoming) -> Result<u64, Failure> {
    let raw = req.param("DurationSeconds").unwrap_or("3600");
    match raw.parse::<u64>() {
        Ok(secs) if (900..=43_200).contains(&secs) => Ok(secs),
        _ => Err(Failure::new(
            400,
            "InvalidParameter.DurationSeconds",
            "The parameter DurationSeconds is invalid: it must be between 900 and 43200.",
        )),
    }
}

fn session_name(req: &Incoming) -> Result<&str, Failure> {
    let name = required(req, "RoleSessionName", "MissingRoleSessionName")?;
    if rkvstore_core::sts::validate_session_name(name).is_err() {
        return Err(Failure::new(
            400,
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is invalid.",
        ));
    }
    Ok(name)
}

fn answer(state: &mut State, request_id: &str, role_arn: &str, session: &str, secs: u64) -> Value {
    let credentials = issue(state, secs);
    let role = role_arn.rsplit('/').next().unwrap_or_default();
    json!({
        "RequestId": request_id,
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{session}"),
            "AssumedRoleId": format!("3{:017}:{session}", role.len()),
        },
        "Credentials": {
            "AccessKeyId": credentials["AccessKeyId"],
            "AccessKeySecret": credentials["AccessKeySecret"],
            "SecurityToken": credentials["SecurityToken"],
            "Expiration": credentials["Expiration"],
        },
    })
}

/// The AccessKey ID that signed the request.
fn caller(req: &Incoming) -> Option<&str> {
    req.param("AccessKeyId").or_else(|| {
        let auth = req.header("authorization")?;
        auth.split([' ', ','])
            .find_map(|part| part.trim().strip_prefix("Credential="))
    })
}

fn assume_role(req: &Incoming, state: &mut State, request_id: &str) -> Result<Value, Failure> {
    authenticate(req, state)?;
    let arn = required(req, "RoleArn", "MissingRoleArn")?;
    if validate_role_arn(arn).is_err() {
        return Err(Failure::new(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is invalid.",
        ));
    }
    let session = session_name(req)?;
    let secs = duration(req)?;
    let Some(role) = state.sts.config.roles.iter().find(|r| r.arn == arn) else {
        return Err(Failure::new(
            404,
            "EntityNotExist.Role",
            format!("The role not exists: {arn}."),
        ));
    };
    let caller = caller(req).unwrap_or_default();
    if role
        .trusted
        .as_ref()
        .is_some_and(|keys| !keys.iter().any(|k| k == caller))
    {
        return Err(Failure::new(
            403,
            "NoPermission",
            format!(
                "You are not authorized to do this action. You should be authorized by RAM. \
                 (the role {arn} does not trust AccessKey {caller})"
            ),
        ));
    }
    Ok(answer(state, request_id, arn, session, secs))
}

fn assume_role_with_oidc(
    req: &Incoming,
    state: &mut State,
    request_id: &str,
) -> Result<Value, Failure> {
    // Unsigned, but the replay and clock checks of every request still apply.
    if let Some(nonce) = req.param("SignatureNonce") {
        if !state.use_nonce(nonce) {
            return Err(Failure::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
    }
    let provider = required(req, "OIDCProviderArn", "MissingOIDCProviderArn")?;
    if validate_oidc_provider_arn(provider).is_err() {
        return Err(Failure::new(
            400,
            "InvalidParameter.OIDCProviderArn",
            "The parameter OIDCProviderArn is invalid.",
        ));
    }
    let arn = required(req, "RoleArn", "MissingRoleArn")?;
    if validate_role_arn(arn).is_err() {
        return Err(Failure::new(
            400,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is invalid.",
        ));
    }
    let token = required(req, "OIDCToken", "MissingOIDCToken")?;
    let session = session_name(req)?;
    let secs = duration(req)?;
    let trusts: Vec<&OidcTrust> = state
        .sts
        .config
        .oidc
        .iter()
        .filter(|t| t.provider_arn == provider)
        .collect();
    if trusts.is_empty() {
        return Err(Failure::new(
            404,
            "EntityNotExist.OIDCProvider",
            format!("The OIDC provider not exists: {provider}."),
        ));
    }
    if !trusts.iter().any(|t| t.role_arn == arn) {
        return Err(Failure::new(
            404,
            "EntityNotExist.Role",
            format!("The role not exists: {arn}."),
        ));
    }
    if !trusts
        .iter()
        .any(|t| t.role_arn == arn && t.token.expose() == token)
    {
        return Err(Failure::new(
            400,
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDC token is invalid: it was not issued by this provider, or it has expired.",
        ));
    }
    Ok(answer(state, request_id, arn, session, secs))
}
