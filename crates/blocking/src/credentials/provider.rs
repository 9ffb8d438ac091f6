//! What every source of credentials implements, and the simplest source: fixed credentials.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

    /// How long credentials fetched without an expiration may be used before fetching again;
    /// `None` (the default) keeps them for good. A command's output without `expiration` is
    /// only good for a while (see [`super::ExternalProvider`]).
    fn reuse_without_expiration(&self) -> Option<Duration> {
        None
    }
}

/// Tries `first`, then `second` when it fails, and keeps to the one that worked: the official
/// chain's instance role, then its credentials URI.
pub(super) struct Fallback {
    first: Arc<dyn CredentialsProvider>,
    second: Arc<dyn CredentialsProvider>,
    /// 0: not known yet; 1: `first` worked; 2: `second` worked.
    used: AtomicU8,
}

impl Fallback {
    pub(super) fn new(
        first: Arc<dyn CredentialsProvider>,
        second: Arc<dyn CredentialsProvider>,
    ) -> Self {
        Fallback {
            first,
            second,
            used: AtomicU8::new(0),
        }
    }
}

impl CredentialsProvider for Fallback {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        match self.used.load(Ordering::Relaxed) {
            1 => return self.first.fetch(),
            2 => return self.second.fetch(),
            _ => {}
        }
        match self.first.fetch() {
            Ok(c) => {
                self.used.store(1, Ordering::Relaxed);
                Ok(c)
            }
            Err(first) => match self.second.fetch() {
                Ok(c) => {
                    self.used.store(2, Ordering::Relaxed);
                    Ok(c)
                }
                Err(second) => Err(CredentialsError::Provider {
                    mode: "EcsRamRole, then CredentialsURI".to_owned(),
                    origin: "the default chain".to_owned(),
                    problem: format!("{first}; then {second}"),
                    fix: "fix either source".to_owned(),
                }),
            },
        }
    }

    fn describe(&self) -> String {
        match self.used.load(Ordering::Relaxed) {
            1 => self.first.describe(),
            2 => self.second.describe(),
            _ => format!("{}, else {}", self.first.describe(), self.second.describe()),
        }
    }

    fn reuse_without_expiration(&self) -> Option<Duration> {
        match self.used.load(Ordering::Relaxed) {
            1 => self.first.reuse_without_expiration(),
            _ => self.second.reuse_without_expiration(),
        }
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
