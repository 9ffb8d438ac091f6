//! Temporary credentials: the Security Token Service (STS) actions that issue them, and the
//! answers of the other places that hand them out (the ECS metadata service, a credentials URI,
//! an external command).
//!
//! Everything here is sans-IO like the rest of the crate. The STS actions are typed operations
//! sent through [`crate::call::Call`] (`AssumeRoleWithOIDC` unsigned, with
//! [`crate::call::Call::unsigned`]); the metadata service and a credentials URI answer plain
//! HTTP GETs whose bodies [`parse_credentials_document`] and [`parse_role_list`] read.
//!
//! ```
//! use rkvstore_core::sts::{sts_endpoint, AssumeRole};
//! use rkvstore_core::Operation;
//!
//! let op = AssumeRole::new("acs:ram::123456789012:role/backup", "nightly-backup");
//! let request = op.to_request(sts_endpoint(Some("cn-hangzhou"), false)?)?;
//! assert_eq!(request.endpoint().host(), "sts.cn-hangzhou.aliyuncs.com");
//! assert_eq!(request.version(), "2015-04-01");
//! assert_eq!(request.params().get("DurationSeconds"), Some("3600"));
//! # Ok::<(), rkvstore_core::Error>(())
//! ```

pub(crate) mod answer;
mod endpoint;
mod ops;

use std::fmt;

pub use answer::{parse_credentials_document, parse_external_output, parse_role_list, AnswerError};
pub use endpoint::sts_endpoint;
pub use ops::{
    validate_duration_seconds, validate_oidc_provider_arn, validate_role_arn,
    validate_session_name, AssumeRole, AssumeRoleResponse, AssumeRoleWithOidc,
    DEFAULT_DURATION_SECS, MIN_DURATION_SECS,
};

use crate::{Credentials, Timestamp};

/// The STS API version.
pub const STS_VERSION: &str = "2015-04-01";

/// Credentials and, for temporary ones, the moment they stop working.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    /// The credentials.
    pub credentials: Credentials,
    /// When they expire; `None` for credentials that do not (an AccessKey pair).
    pub expiration: Option<Timestamp>,
}

impl fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Credentials` hides its secret and token itself.
        f.debug_struct("TemporaryCredentials")
            .field("credentials", &self.credentials)
            .field("expiration", &self.expiration.map(|t| t.to_string()))
            .finish()
    }
}
