//! What every source of credentials implements, and the simplest source: fixed credentials.

use std::fmt;

use rkvstore_core::sts::TemporaryCredentials;
use rkvstore_core::Credentials;

use super::CredentialsError;

/// A source of credentials: fixed ones, or temporary ones fetched anew when asked.
///
/// A [`crate::Client`] asks through a cache ([`super::CachedProvider`]) that calls `fetch`
/// only when the credentials it holds are about to expire, once for all threads.
pub trait CredentialsProvider: Send + Sync {
    /// Gets credentials now, with their expiration when they have one.
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError>;

    /// The provider and where its configuration came from, such as
    /// `RamRoleArn (profile ops of /home/me/.aliyun/config.json)`, for `-v` and errors. It
    /// never holds a secret.
    fn describe(&self) -> String;

    /// The credentials themselves when they are fixed (an AccessKey pair or a given STS
    /// token), so that they can be used without a fetch; `None` for temporary ones.
    fn static_credentials(&self) -> Option<Credentials> {
        None
    }
}

/// Fixed credentials: an AccessKey pair, or an STS token given as it is.
#[derive(Clone)]
pub struct StaticProvider {
    credentials: Credentials,
    describe: String,
}

impl StaticProvider {
    /// `credentials`, described as `describe` (such as "AK (environment variables)").
    pub fn new(credentials: Credentials, describe: impl Into<String>) -> Self {
        StaticProvider {
            credentials,
            describe: describe.into(),
        }
    }
}

impl fmt::Debug for StaticProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticProvider")
            .field("credentials", &self.credentials)
            .field("describe", &self.describe)
            .finish()
    }
}

impl CredentialsProvider for StaticProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        Ok(TemporaryCredentials {
            credentials: self.credentials.clone(),
            expiration: None,
        })
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn static_credentials(&self) -> Option<Credentials> {
        Some(self.credentials.clone())
    }
}
