//! `EcsRamRole`: the credentials of the RAM role attached to this ECS instance, from the
//! instance metadata service, IMDSv2 first.
//!
//! Off ECS nothing listens at the metadata address, so every request is bounded by a one-second
//! connect timeout and the provider fails within seconds instead of hanging. The default chain
//! only tries it where there is evidence of an instance (see the module above).

use std::time::Duration;

use rkvstore_core::sts::{parse_credentials_document, parse_role_list, TemporaryCredentials};

use super::http::Http;
use super::{CredentialsError, CredentialsProvider};

/// The metadata service of every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";

/// How long an IMDSv2 session lasts, as the official libraries ask.
const TOKEN_TTL_SECS: &str = "21600";

const TOKEN_PATH: &str = "/latest/api/token";
const ROLES_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// Credentials of the instance's RAM role.
pub struct EcsRamRoleProvider {
    role_name: Option<String>,
    endpoint: String,
    imds_v1_disabled: bool,
    http: Http,
    origin: String,
}

impl EcsRamRoleProvider {
    /// The role `role_name`, or the one attached to the instance when `None`, from the metadata
    /// service at [`DEFAULT_METADATA_ENDPOINT`].
    pub fn new(role_name: Option<String>) -> Self {
        EcsRamRoleProvider {
            role_name,
            endpoint: DEFAULT_METADATA_ENDPOINT.to_owned(),
            imds_v1_disabled: false,
            http: Http::new(Duration::from_secs(1), Duration::from_secs(2)),
            origin: "code".to_owned(),
        }
    }

    /// The metadata service at `url` instead (a proxy, a test double).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Never fall back to requests without a session token (IMDSv1).
    pub fn imds_v1_disabled(mut self, disabled: bool) -> Self {
        self.imds_v1_disabled = disabled;
        self
    }

    pub(super) fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    fn failed(&self, problem: String) -> CredentialsError {
        CredentialsError::Provider {
            mode: "EcsRamRole".to_owned(),
            origin: self.origin.clone(),
            problem,
            fix: "run on an ECS instance with a RAM role attached (or set \
                  ALIBABA_CLOUD_ECS_METADATA_ENDPOINT to a reachable metadata service); off ECS, \
                  set ALIBABA_CLOUD_ECS_METADATA_DISABLED=true and configure other credentials"
                .to_owned(),
        }
    }

    /// A session token, or `None` to go on without one (IMDSv1) when that is allowed.
    fn session_token(&self) -> Result<Option<String>, CredentialsError> {
        let url = format!("{}{TOKEN_PATH}", self.endpoint);
        let answer = self.http.send(
            "PUT",
            &url,
            &[("X-aliyun-ecs-metadata-token-ttl-seconds", TOKEN_TTL_SECS)],
        );
        let problem = match answer {
            Ok((200, body)) => {
                let token = String::from_utf8_lossy(&body).trim().to_owned();
                if !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Ok(Some(token));
                }
                "the metadata service answered an unusable session token".to_owned()
            }
            Ok((status, _)) => format!("the metadata service answered HTTP {status} to {url}"),
            Err(e) => e.0,
        };
        if self.imds_v1_disabled {
            Err(self.failed(format!(
                "{problem}, and ALIBABA_CLOUD_IMDSV1_DISABLED=true forbids going on without a \
                 session token"
            )))
        } else if problem.starts_with("nothing listens") || problem.contains("did not answer") {
            // No metadata service at all: falling back would only fail the same way, slower.
            Err(self.failed(problem))
        } else {
            Ok(None)
        }
    }

    /// Runs `step` with the session token; when that fails, once more without it (IMDSv1),
    /// as the official library does, unless IMDSv1 is disabled or there was no token.
    fn with_fallback<T>(
        &self,
        token: Option<&str>,
        step: impl Fn(Option<&str>) -> Result<T, CredentialsError>,
    ) -> Result<T, CredentialsError> {
        match step(token) {
            Err(e) if token.is_some() && !self.imds_v1_disabled => step(None).map_err(|_| e),
            other => other,
        }
    }

    fn get(&self, path: &str, token: Option<&str>) -> Result<(u16, Vec<u8>), CredentialsError> {
        let url = format!("{}{path}", self.endpoint);
        let headers: Vec<(&str, &str)> = token
            .map(|t| vec![("X-aliyun-ecs-metadata-token", t)])
            .unwrap_or_default();
        self.http
            .send("GET", &url, &headers)
            .map_err(|e| self.failed(e.0))
    }
}

impl CredentialsProvider for EcsRamRoleProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        let token = self.session_token()?;
        let role = match &self.role_name {
            Some(r) => r.clone(),
            None => self.with_fallback(token.as_deref(), |token| {
                let (status, body) = self.get(ROLES_PATH, token)?;
                parse_role_list(status, &body).map_err(|e| self.failed(e.to_string()))
            })?,
        };
        self.with_fallback(token.as_deref(), |token| {
            let (status, body) = self.get(&format!("{ROLES_PATH}{role}"), token)?;
            parse_credentials_document(status, &body, "the ECS metadata service").map_err(|e| {
                let mut problem = e.to_string();
                if status == 404 {
                    problem.push_str(&format!(" (no role {role:?} is attached to this instance)"));
                }
                self.failed(problem)
            })
        })
    }

    fn describe(&self) -> String {
        match &self.role_name {
            Some(r) => format!("EcsRamRole {r} ({})", self.origin),
            None => format!("EcsRamRole ({})", self.origin),
        }
    }
}
