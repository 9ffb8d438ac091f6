//! Temporary credentials kept until shortly before they expire, refreshed once for all threads.
//!
//! One thread refreshes while the others either keep using the credentials in hand (when they
//! are still valid) or wait for the refresh to end and share its result, error included, so a
//! burst of requests never turns into a burst of STS calls. When a refresh fails and the old
//! credentials have not expired yet, they stay in use and the logger says so.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use rkvstore_core::sts::TemporaryCredentials;
use rkvstore_core::Credentials;

use super::{CredentialsError, CredentialsProvider};
use crate::Logger;

/// Credentials are refreshed this long before they expire, as the official CLI does…
const REFRESH_EARLY_SECS: i64 = 180;

/// …but never earlier than when this fraction (a third) of their life is left, so that
/// credentials issued for a few seconds (in tests) are still used for a while.
const REFRESH_FRACTION: i64 = 3;

/// After a failed refresh, the next try waits this long (or half the time left, if less).
const RETRY_REFRESH_SECS: i64 = 10;

/// Credentials that arrive already expired by the local clock (a clock that is off, a source
/// that hands out stale ones) are used, and fetched again at most this often: never a fetch
/// per request. The official library retries such credentials a second later; a minute is
/// kinder to STS and to the metadata service.
const EXPIRED_ON_ARRIVAL_RETRY_SECS: i64 = 60;

/// A provider behind a cache. Cheap to share between threads.
pub struct CachedProvider {
    provider: Arc<dyn CredentialsProvider>,
    slot: Mutex<Slot>,
    done: Condvar,
    logger: Option<Logger>,
}

#[derive(Default)]
struct Slot {
    current: Option<Held>,
    refreshing: bool,
    /// Counts finished refreshes, so that a waiting thread knows one ended.
    generation: u64,
    last_error: Option<CredentialsError>,
}

struct Held {
    value: TemporaryCredentials,
    /// Local time, in Unix seconds, at which to refresh.
    refresh_at: Option<i64>,
    /// Local time at which they stop working.
    expires_at: Option<i64>,
}

impl Held {
    fn fresh(&self, now: i64) -> bool {
        self.refresh_at.is_none_or(|t| now < t)
    }

    fn valid(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| now < t)
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl std::fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedProvider")
            .field("provider", &self.provider.describe())
            .finish_non_exhaustive()
    }
}

impl CachedProvider {
    /// Caches `provider`; `logger` hears of every fetch (never the secret or the token).
    pub fn new(provider: Arc<dyn CredentialsProvider>, logger: Option<Logger>) -> Self {
        CachedProvider {
            provider,
            slot: Mutex::new(Slot::default()),
            done: Condvar::new(),
            logger,
        }
    }

    /// The provider behind the cache.
    pub fn provider(&self) -> &Arc<dyn CredentialsProvider> {
        &self.provider
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A provider that panicked leaves nothing half-written: the slot is used as it is.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(logger) = &self.logger {
            logger(&line());
        }
    }

    /// Credentials to sign with now: the cached ones while they are fresh, else new ones.
    pub fn get(&self) -> Result<Credentials, CredentialsError> {
        let mut slot = self.lock();
        loop {
            let now = now_unix();
            if let Some(held) = slot.current.as_ref().filter(|h| h.fresh(now)) {
                return Ok(held.value.credentials.clone());
            }
            if !slot.refreshing {
                break;
            }
            // Another thread is refreshing: credentials that still work are good enough.
            if let Some(held) = slot.current.as_ref().filter(|h| h.valid(now)) {
                return Ok(held.value.credentials.clone());
            }
            let generation = slot.generation;
            while slot.refreshing && slot.generation == generation {
                slot = self.done.wait(slot).unwrap_or_else(|e| e.into_inner());
            }
            // The refresh this thread waited for failed with nothing to fall back on: its error
            // is this thread's answer too, rather than another call of its own.
            if slot.generation != generation && slot.current.is_none() {
                if let Some(e) = &slot.last_error {
                    return Err(e.clone());
                }
            }
        }
        slot.refreshing = true;
        drop(slot);

        let fetched_at = now_unix();
        let result = self.provider.fetch();

        let mut slot = self.lock();
        slot.refreshing = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.done.notify_all();
        match result {
            Ok(value) => {
                let now = now_unix();
                let mut expires_at = value.expiration.map(|t| t.unix());
                let mut refresh_at = expires_at.map(|exp| {
                    let life = exp.saturating_sub(fetched_at).max(0);
                    exp - REFRESH_EARLY_SECS.min(life / REFRESH_FRACTION)
                });
                if let Some(exp) = expires_at.filter(|exp| *exp <= now) {
                    // Expired on arrival: use them anyway (the clock may be what is wrong) and
                    // ask again later, not on every request.
                    refresh_at = Some(now + EXPIRED_ON_ARRIVAL_RETRY_SECS);
                    expires_at = None;
                    self.log(|| {
                        format!(
                            "credentials: {} supplied credentials that expired {} s ago by this \
                             machine's clock; using them, and asking again in {} s (is the clock \
                             right?)",
                            self.provider.describe(),
                            now - exp,
                            EXPIRED_ON_ARRIVAL_RETRY_SECS
                        )
                    });
                } else if expires_at.is_none() {
                    // No expiration: fixed credentials are kept, a command's output only for a
                    // while.
                    refresh_at = self
                        .provider
                        .reuse_without_expiration()
                        .map(|d| now + i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2).max(1));
                }
                self.log(|| match value.expiration {
                    Some(exp) => format!(
                        "credentials: {} supplied {}, expiring {exp}",
                        self.provider.describe(),
                        value.credentials.access_key_id()
                    ),
                    None => format!(
                        "credentials: {} supplied {}",
                        self.provider.describe(),
                        value.credentials.access_key_id()
                    ),
                });
                let credentials = value.credentials.clone();
                slot.last_error = None;
                slot.current = Some(Held {
                    value,
                    refresh_at,
                    expires_at,
                });
                Ok(credentials)
            }
            Err(e) => {
                let now = now_unix();
                if let Some(held) = slot.current.as_mut().filter(|h| h.valid(now)) {
                    let left = held.expires_at.map_or(0, |t| t - now);
                    // Try again a little later rather than on every request meanwhile.
                    held.refresh_at = Some(now + RETRY_REFRESH_SECS.min(left / 2).max(1));
                    self.log(|| {
                        format!(
                            "credentials: refreshing failed, still using the current ones \
                             ({left} s left): {e}"
                        )
                    });
                    return Ok(held.value.credentials.clone());
                }
                slot.current = None;
                slot.last_error = Some(e.clone());
                Err(e)
            }
        }
    }
}
