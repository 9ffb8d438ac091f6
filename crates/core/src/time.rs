//! Time as a value: the caller reads the clock, the core only formats and parses.
//!
//! Signature 1.0 wants `Timestamp=yyyy-MM-ddTHH:mm:ssZ`, ACS3 the same form in `x-acs-date`, and
//! clock-skew correction reads the RFC 7231 `Date` header of a response. All three are small
//! enough to own here instead of pulling a date crate into the signing path.

use std::fmt;

/// A UTC instant with one-second resolution, as seconds since the Unix epoch.
///
/// ```
/// use rkvstore_core::Timestamp;
/// let t = Timestamp::from_unix(1_456_231_584);
/// assert_eq!(t.to_string(), "2016-02-23T12:46:24Z");
/// assert_eq!(Timestamp::parse_iso8601("2016-02-23T12:46:24Z"), Some(t));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// The length of `yyyy-MM-ddTHH:mm:ssZ`.
pub(crate) const ISO8601_LEN: usize = 20;

impl Timestamp {
    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix(secs: i64) -> Self {
        Timestamp(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This instant moved by `secs` seconds (negative moves back).
    pub const fn offset(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs))
    }

    /// Writes `yyyy-MM-ddTHH:mm:ssZ` into a fixed buffer, without allocating.
    ///
    /// Years outside 0..=9999 cannot be written in this form; they are clamped, which only a
    /// caller passing an absurd clock could see (and the service would reject it anyway).
    pub(crate) fn iso8601_bytes(self) -> [u8; ISO8601_LEN] {
        let (y, mo, d, h, mi, s) = self.civil();
        let y = y.clamp(0, 9999) as u32;
        let mut out = *b"0000-00-00T00:00:00Z";
        // Two digits at a time; every value here is below 100 after the split.
        let two = |v: u32| [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8];
        let fields = [
            (0, two(y / 100)),
            (2, two(y % 100)),
            (5, two(mo)),
            (8, two(d)),
            (11, two(h)),
            (14, two(mi)),
            (17, two(s)),
        ];
        for (at, digits) in fields {
            if let Some(slot) = out.get_mut(at..at + 2) {
                slot.copy_from_slice(&digits);
            }
        }
        out
    }

    /// (year, month, day, hour, minute, second) in the proleptic Gregorian calendar.
    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
    }

    /// Parses `yyyy-MM-ddTHH:mm:ssZ` (the only form the API sends and accepts).
    pub fn parse_iso8601(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != ISO8601_LEN
            || b.get(4) != Some(&b'-')
            || b.get(7) != Some(&b'-')
            || b.get(10) != Some(&b'T')
            || b.get(13) != Some(&b':')
            || b.get(16) != Some(&b':')
            || b.get(19) != Some(&b'Z')
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        Self::from_civil(i64::from(y), mo, d, h, mi, sec)
    }

    /// Parses an RFC 7231 IMF-fixdate such as `Sun, 06 Nov 1994 08:49:37 GMT`, the form of the
    /// HTTP `Date` header.
    ///
    /// ```
    /// use rkvstore_core::Timestamp;
    /// let t = Timestamp::parse_http_date("Tue, 23 Feb 2016 12:46:24 GMT").unwrap();
    /// assert_eq!(t.to_string(), "2016-02-23T12:46:24Z");
    /// ```
    pub fn parse_http_date(s: &str) -> Option<Self> {
        let mut parts = s.split_ascii_whitespace();
        let _weekday = parts.next()?;
        let day: u32 = parts.next()?.parse().ok()?;
        let month_name = parts.next()?;
        let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
        let year: i64 = parts.next()?.parse().ok()?;
        let mut hms = parts.next()?.split(':');
        let h: u32 = hms.next()?.parse().ok()?;
        let mi: u32 = hms.next()?.parse().ok()?;
        let sec: u32 = hms.next()?.parse().ok()?;
        if parts.next()? != "GMT" || hms.next().is_some() {
            return None;
        }
        Self::from_civil(year, month, day, h, mi, sec)
    }

    /// Formats this instant as an RFC 7231 IMF-fixdate, for a `Date` header.
    pub fn to_http_date(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        // 1970-01-01 was a Thursday.
        let weekday = WEEKDAYS
            .get(self.0.div_euclid(86_400).rem_euclid(7) as usize)
            .copied()
            .unwrap_or("Thu");
        let month = MONTHS.get(mo as usize - 1).copied().unwrap_or("Jan");
        format!("{weekday}, {d:02} {month} {y:04} {h:02}:{mi:02}:{s:02} GMT")
    }

    /// The instant of a civil date and time, or `None` when it is not a real one. Years are
    /// those of the four-digit forms (0 to 9999): a header claiming the year 300000000000 is
    /// not a date, and every sum below stays far from overflow.
    fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<Self> {
        if !(0..=9999).contains(&y)
            || !(1..=12).contains(&mo)
            || d == 0
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
        {
            return None;
        }
        // A leap second (:60) is accepted by the format but folded into the next minute.
        if s > 60 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let secs = days
            .checked_mul(86_400)?
            .checked_add(i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s))?;
        Some(Timestamp(secs))
    }

    /// Seconds from `earlier` to this instant, or `None` if the difference does not fit.
    pub fn seconds_since(self, earlier: Timestamp) -> Option<i64> {
        self.0.checked_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.iso8601_bytes();
        f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days, valid for the whole i64 day range we use.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(1_893_456_000).to_string(),
            "2030-01-01T00:00:00Z"
        );
    }

    #[test]
    fn iso_round_trips_over_a_range() {
        let mut t = -86_400 * 366;
        while t < 4_102_444_800 {
            let ts = Timestamp::from_unix(t);
            assert_eq!(Timestamp::parse_iso8601(&ts.to_string()), Some(ts), "{t}");
            assert_eq!(
                Timestamp::parse_http_date(&ts.to_http_date()),
                Some(ts),
                "{t}"
            );
            t += 86_400 * 13 + 3_607;
        }
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "2016-02-23 12:46:24Z",
            "2016-02-30T12:46:24Z",
            "2016-13-01T00:00:00Z",
            "2016-02-23T24:00:00Z",
            "2016-02-23T12:46:24+08:00",
            "２016-02-23T12:46:24Z",
        ] {
            assert_eq!(Timestamp::parse_iso8601(bad), None, "{bad:?}");
        }
        assert_eq!(
            Timestamp::parse_http_date("Tue, 23 Feb 2016 12:46:24 UTC"),
            None
        );
        assert_eq!(Timestamp::parse_http_date("yesterday"), None);
        // Years beyond the four-digit form used to overflow the seconds arithmetic.
        for hostile in [
            "Thu, 01 Mar 300000000000 00:00:00 GMT",
            "Thu, 01 Mar 9223372036854775807 00:00:00 GMT",
            "Thu, 01 Mar -9223372036854775808 00:00:00 GMT",
            "Thu, 01 Mar 10000 00:00:00 GMT",
        ] {
            assert_eq!(Timestamp::parse_http_date(hostile), None, "{hostile}");
        }
        assert_eq!(
            Timestamp::from_unix(i64::MAX).seconds_since(Timestamp::from_unix(-1)),
            None
        );
    }

    #[test]
    fn http_date_has_the_right_weekday() {
        assert_eq!(
            Timestamp::from_unix(784_111_777).to_http_date(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }
}
