//! The rules of a fleet backup audit, as pure functions: the verdict of each instance and its
//! precedence ([`judge`], [`Verdict`]), the row shown for it ([`InstanceAudit`]), the summary
//! ([`Summary`]), the look-back window, and how many requests to keep in flight when the
//! service throttles ([`Pace`]). The `rkvstore-blocking` crate runs an audit with them, on
//! plain threads; any other transport can do the same.

mod pace;
mod row;
mod verdict;

pub use pace::{Admit, Outcome, Pace, Ticket, DEFAULT_PAUSE, MAX_PAUSE};
pub use row::{
    judge, short_age, sort_rows, Findings, InstanceAudit, PolicyView, RowError, RunningJob,
    TasksCheck,
};
pub use verdict::{Summary, Verdict};

use crate::{Endpoint, Network, ParamError};

/// The default `--max-age`: 26 hours, a daily backup with two hours of slack.
pub const DEFAULT_MAX_AGE_SECS: u64 = 26 * 3600;

/// The shortest look-back window, in days.
pub const MIN_LOOKBACK_DAYS: u32 = 7;

/// Parses an age such as `26h`, `90m`, `2d`, `1w` or `3600s` (a bare number is seconds) into
/// seconds; at most 730 days, the longest a backup is kept.
///
/// ```
/// use rkvstore_core::audit::parse_age;
/// assert_eq!(parse_age("26h")?, 26 * 3600);
/// assert_eq!(parse_age(" 2d ")?, 2 * 86400);
/// assert_eq!(parse_age("90")?, 90);
/// assert_eq!(
///     parse_age("soon").unwrap_err().to_string(),
///     "invalid --max-age \"soon\": use a number with s, m, h, d or w, such as 26h or 2d, \
///      from 1 minute to 730 days"
/// );
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
pub fn parse_age(text: &str) -> Result<u64, ParamError> {
    let bad = || ParamError::Invalid {
        name: "--max-age",
        value: text.to_owned(),
        expected: "use a number with s, m, h, d or w, such as 26h or 2d, from 1 minute to \
                   730 days",
    };
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (t.get(..i).ok_or_else(bad)?, c),
        Some(_) => (t, 's'),
        None => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let unit_secs = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(bad)?;
    if !(60..=730 * 86_400).contains(&secs) {
        return Err(bad());
    }
    Ok(secs)
}

/// Days DescribeBackups looks back: twice the allowed age, rounded up to whole days, and at
/// least [`MIN_LOOKBACK_DAYS`], so that a stale instance is told apart from one with no
/// backups at all.
///
/// ```
/// use rkvstore_core::audit::lookback_days;
/// assert_eq!(lookback_days(26 * 3600), 7);
/// assert_eq!(lookback_days(5 * 86400), 10);
/// assert_eq!(lookback_days(5 * 86400 + 1), 11);
/// ```
pub fn lookback_days(max_age_secs: u64) -> u32 {
    let days = max_age_secs.saturating_mul(2).div_ceil(86_400);
    u32::try_from(days)
        .unwrap_or(u32::MAX)
        .max(MIN_LOOKBACK_DAYS)
}

/// How requests about the instances of another region are addressed. A client whose endpoint
/// is the one resolved for its own region talks to each region's own endpoint (regions
/// outside the central group have their own hosts); a client given an explicit endpoint (a
/// proxy, an emulator) sends everything there, naming the region in `RegionId`.
///
/// ```
/// use rkvstore_core::audit::endpoint_for_region;
/// use rkvstore_core::{Endpoint, Network};
/// let own = Endpoint::resolve("cn-hangzhou", Network::Public)?;
/// let other = endpoint_for_region(&own, Some("cn-hangzhou"), "ap-southeast-1")?;
/// assert_eq!(other.to_string(), "https://r-kvstore.ap-southeast-1.aliyuncs.com");
/// let explicit = Endpoint::parse("http://127.0.0.1:8080")?;
/// assert_eq!(endpoint_for_region(&explicit, Some("cn-hangzhou"), "ap-southeast-1")?, explicit);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn endpoint_for_region(
    client_endpoint: &Endpoint,
    client_region: Option<&str>,
    region: &str,
) -> Result<Endpoint, crate::Error> {
    if let Some(own) = client_region {
        for network in [Network::Public, Network::Vpc] {
            if Endpoint::resolve(own, network).is_ok_and(|e| &e == client_endpoint) {
                return Endpoint::resolve(region, network);
            }
        }
    }
    Ok(client_endpoint.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        for bad in [
            "",
            "h",
            "-1h",
            "1.5h",
            "26x",
            "59",
            "731d",
            "99999999999999999999w",
        ] {
            assert!(parse_age(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_age("1W").unwrap(), 7 * 86_400);
        assert_eq!(parse_age("730d").unwrap(), 730 * 86_400);
        assert_eq!(lookback_days(u64::MAX), u32::MAX);
    }
}
