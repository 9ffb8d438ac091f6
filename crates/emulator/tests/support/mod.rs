//! What the emulator's test files share.

use std::time::{SystemTime, UNIX_EPOCH};

use rkvstore_core::Timestamp;

/// This machine's time, to sign requests the emulator accepts.
pub(crate) fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
}
