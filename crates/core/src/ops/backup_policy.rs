//! `DescribeBackupPolicy` and `ModifyBackupPolicy`: when automatic backups run, how long they
//! are kept, and whether log backups (data flashback) are on.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::{owner_params, Operation, Owner};
use crate::params::{Decimal, Plain};
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// A day of the week, as `PreferredBackupPeriod` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    /// `Monday`.
    Monday,
    /// `Tuesday`.
    Tuesday,
    /// `Wednesday`.
    Wednesday,
    /// `Thursday`.
    Thursday,
    /// `Friday`.
    Friday,
    /// `Saturday`.
    Saturday,
    /// `Sunday`.
    Sunday,
}

/// Every day, Monday first.
pub const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

const PERIOD_HELP: &str = "use Monday, Tuesday, Wednesday, Thursday, Friday, Saturday or Sunday \
                           (or Mon, Tue, Wed, Thu, Fri, Sat, Sun), separated by commas";

impl Weekday {
    /// The API's name, such as `Monday`.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }

    /// A day from its full name or its first three letters, in any case.
    pub fn parse(text: &str) -> Option<Weekday> {
        let t = text.trim();
        WEEK.into_iter().find(|d| {
            let name = d.as_str();
            t.eq_ignore_ascii_case(name) || name.get(..3).is_some_and(|s| t.eq_ignore_ascii_case(s))
        })
    }

    /// A comma list of days (`Mon,Wed,Fri` or `Monday,Wednesday`), in week order without
    /// repeats.
    ///
    /// ```
    /// use rkvstore_core::Weekday;
    /// let days = Weekday::parse_list("fri, Mon,wednesday,Mon")?;
    /// assert_eq!(Weekday::join(&days), "Monday,Wednesday,Friday");
    /// assert_eq!(
    ///     Weekday::parse_list("Mon,Funday").unwrap_err().to_string(),
    ///     "invalid PreferredBackupPeriod \"Funday\": use Monday, Tuesday, Wednesday, Thursday, \
    ///      Friday, Saturday or Sunday (or Mon, Tue, Wed, Thu, Fri, Sat, Sun), separated by commas"
    /// );
    /// # Ok::<(), rkvstore_core::ParamError>(())
    /// ```
    pub fn parse_list(text: &str) -> Result<Vec<Weekday>, ParamError> {
        let mut days = Vec::new();
        for part in text.split(',') {
            let day = Weekday::parse(part).ok_or_else(|| ParamError::Invalid {
                name: "PreferredBackupPeriod",
                value: part.trim().to_owned(),
                expected: PERIOD_HELP,
            })?;
            if !days.contains(&day) {
                days.push(day);
            }
        }
        days.sort();
        Ok(days)
    }

    /// `days` as the API takes them: `Monday,Wednesday`.
    pub fn join(days: &[Weekday]) -> String {
        days.iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a backup window such as `02:00Z-03:00Z`: UTC, on the hour, one hour long.
///
/// ```
/// use rkvstore_core::check_backup_time;
/// assert!(check_backup_time("23:00Z-00:00Z").is_ok());
/// assert!(check_backup_time("02:30Z-03:30Z").is_err());
/// assert!(check_backup_time("02:00Z-04:00Z").is_err());
/// ```
pub fn check_backup_time(window: &str) -> Result<(), ParamError> {
    let bad = || ParamError::Invalid {
        name: "PreferredBackupTime",
        value: window.to_owned(),
        expected: "use HH:00Z-HH:00Z in UTC, on the hour and one hour long, such as 02:00Z-03:00Z",
    };
    let hour = |part: &str| -> Option<u32> {
        let b = part.as_bytes();
        if b.len() != 6 || b.get(2) != Some(&b':') || !part.ends_with("00Z") {
            return None;
        }
        let h: u32 = part.get(..2)?.parse().ok()?;
        (h < 24 && b.first()?.is_ascii_digit()).then_some(h)
    };
    let (start, end) = window.split_once('-').ok_or_else(bad)?;
    match (hour(start), hour(end)) {
        (Some(s), Some(e)) if (s + 1) % 24 == e => Ok(()),
        _ => Err(bad()),
    }
}

/// The `DescribeBackupPolicy` request.
///
/// ```
/// use rkvstore_core::{DescribeBackupPolicy, Operation};
/// let p = DescribeBackupPolicy::new("r-bp1example").params()?;
/// assert_eq!(p.get("InstanceId"), Some("r-bp1example"));
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeBackupPolicy {
    /// `InstanceId`.
    pub instance_id: String,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeBackupPolicy {
    /// The policy of `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        DescribeBackupPolicy {
            instance_id: instance_id.into(),
            owner: Owner::default(),
        }
    }
}

impl Operation for DescribeBackupPolicy {
    const ACTION: &'static str = "DescribeBackupPolicy";
    const IDEMPOTENT: bool = true;
    type Output = DescribeBackupPolicyResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(1);
        p.insert_plain(
            const { Plain::name("InstanceId") },
            validate::plain_instance_id(&self.instance_id)?,
        );
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The policy. `#[non_exhaustive]`: the API adds fields over time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeBackupPolicyResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `PreferredBackupTime`, such as `02:00Z-03:00Z`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_backup_time: Option<String>,
    /// `PreferredBackupPeriod`, such as `Monday,Wednesday`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_backup_period: Option<String>,
    /// `BackupRetentionPeriod` in days, as text (the API's type).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_retention_period: Option<String>,
    /// `EnableBackupLog`: 1 when log backups (data flashback) are on.
    #[serde(
        default,
        deserialize_with = "enable_backup_log",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_backup_log: Option<u64>,
    /// `PreferredNextBackupTime`, `yyyy-MM-ddTHH:mmZ`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred_next_backup_time: Option<String>,
    /// `BackupLogStartTime`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_log_start_time: Option<String>,
    /// `DbsInstance`: 1 when the backup service (DBS) is on.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub dbs_instance: Option<String>,
}

fn enable_backup_log<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    lenient::u64_named(d, "EnableBackupLog")
}

shape_by_request_id!(DescribeBackupPolicyResponse);

impl DescribeBackupPolicyResponse {
    /// A policy (for test doubles and emulators).
    pub fn new(
        request_id: impl Into<String>,
        time: impl Into<String>,
        period: impl Into<String>,
        retention_days: u32,
    ) -> Self {
        DescribeBackupPolicyResponse {
            request_id: request_id.into(),
            preferred_backup_time: Some(time.into()),
            preferred_backup_period: Some(period.into()),
            backup_retention_period: Some(retention_days.to_string()),
            ..DescribeBackupPolicyResponse::default()
        }
    }

    /// `true` when log backups are on.
    pub fn backup_log_enabled(&self) -> bool {
        self.enable_backup_log == Some(1)
    }
}

/// The `ModifyBackupPolicy` request. The API requires the window and the days every time, so
/// a change of one setting is a read, a merge and a write ([`ModifyBackupPolicy::from_policy`]).
///
/// ```
/// use rkvstore_core::{ModifyBackupPolicy, Operation, Weekday};
/// let op = ModifyBackupPolicy::new("r-bp1example", "02:00Z-03:00Z", vec![Weekday::Monday, Weekday::Friday])
///     .retention_days(30);
/// let p = op.params()?;
/// assert_eq!(p.get("PreferredBackupPeriod"), Some("Monday,Friday"));
/// assert_eq!(p.get("BackupRetentionPeriod"), Some("30"));
/// let e = op.clone().retention_days(3).params().unwrap_err();
/// assert_eq!(e.to_string(), "invalid BackupRetentionPeriod \"3\": use 7 to 730 days");
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModifyBackupPolicy {
    /// `InstanceId`.
    pub instance_id: String,
    /// `PreferredBackupTime`, such as `02:00Z-03:00Z`.
    pub preferred_backup_time: String,
    /// `PreferredBackupPeriod`.
    pub preferred_backup_period: Vec<Weekday>,
    /// `BackupRetentionPeriod`, 7 to 730 days.
    pub backup_retention_period: Option<u32>,
    /// `EnableBackupLog`.
    pub enable_backup_log: Option<bool>,
    /// The owner parameters.
    pub owner: Owner,
}

impl ModifyBackupPolicy {
    /// Backups of `instance_id` in `window` on `days`.
    pub fn new(
        instance_id: impl Into<String>,
        window: impl Into<String>,
        days: Vec<Weekday>,
    ) -> Self {
        ModifyBackupPolicy {
            instance_id: instance_id.into(),
            preferred_backup_time: window.into(),
            preferred_backup_period: days,
            backup_retention_period: None,
            enable_backup_log: None,
            owner: Owner::default(),
        }
    }

    /// The write that keeps `current` as it is; change fields on the result. Days the service
    /// lists that are no weekday are an error naming them.
    pub fn from_policy(
        instance_id: impl Into<String>,
        current: &DescribeBackupPolicyResponse,
    ) -> Result<Self, ParamError> {
        let days = match current.preferred_backup_period.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => Weekday::parse_list(text)?,
            _ => Vec::new(),
        };
        let mut op = ModifyBackupPolicy::new(
            instance_id,
            current.preferred_backup_time.clone().unwrap_or_default(),
            days,
        );
        op.backup_retention_period = current
            .backup_retention_period
            .as_deref()
            .and_then(|d| d.trim().parse().ok());
        op.enable_backup_log = current.enable_backup_log.map(|v| v == 1);
        Ok(op)
    }

    /// Keep backups `days` days (7 to 730).
    pub fn retention_days(mut self, days: u32) -> Self {
        self.backup_retention_period = Some(days);
        self
    }

    /// Turns log backups on or off.
    pub fn backup_log(mut self, on: bool) -> Self {
        self.enable_backup_log = Some(on);
        self
    }
}

impl Operation for ModifyBackupPolicy {
    const ACTION: &'static str = "ModifyBackupPolicy";
    // Setting the same policy twice has the same effect, but the client's rule for actions
    // that change state is stricter: never send one again after an unclear failure.
    const IDEMPOTENT: bool = false;
    type Output = ModifyBackupPolicyResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(5);
        p.insert_plain(
            const { Plain::name("InstanceId") },
            validate::plain_instance_id(&self.instance_id)?,
        );
        check_backup_time(&self.preferred_backup_time)?;
        p.insert("PreferredBackupTime", self.preferred_backup_time.as_str())?;
        if self.preferred_backup_period.is_empty() {
            return Err(ParamError::Invalid {
                name: "PreferredBackupPeriod",
                value: String::new(),
                expected: PERIOD_HELP,
            });
        }
        p.insert(
            "PreferredBackupPeriod",
            Weekday::join(&self.preferred_backup_period),
        )?;
        if let Some(days) = self.backup_retention_period {
            if !(7..=730).contains(&days) {
                return Err(ParamError::Invalid {
                    name: "BackupRetentionPeriod",
                    value: days.to_string(),
                    expected: "use 7 to 730 days",
                });
            }
            p.insert_plain(
                const { Plain::name("BackupRetentionPeriod") },
                Decimal::new(u64::from(days)).as_plain(),
            );
        }
        if let Some(on) = self.enable_backup_log {
            p.insert("EnableBackupLog", if on { "1" } else { "0" })?;
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The answer to `ModifyBackupPolicy`: only the request ID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ModifyBackupPolicyResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
}

impl ModifyBackupPolicyResponse {
    /// An answer (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>) -> Self {
        ModifyBackupPolicyResponse {
            request_id: request_id.into(),
        }
    }
}

shape_by_request_id!(ModifyBackupPolicyResponse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        for ok in ["00:00Z-01:00Z", "02:00Z-03:00Z", "23:00Z-00:00Z"] {
            assert!(check_backup_time(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "02:00Z",
            "2:00Z-3:00Z",
            "02:00-03:00",
            "24:00Z-01:00Z",
            "02:00Z-02:00Z",
            "+2:00Z-03:00Z",
            "02:00Z-03:00Z-04:00Z",
            "0\u{e9}:00Z-03:00Z",
        ] {
            assert!(check_backup_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days() {
        assert_eq!(Weekday::parse("SUN"), Some(Weekday::Sunday));
        assert_eq!(Weekday::parse("thursday"), Some(Weekday::Thursday));
        assert_eq!(Weekday::parse("Thur"), None);
        assert!(Weekday::parse_list("").is_err());
        assert!(Weekday::parse_list("Mon,,Tue").is_err());
    }

    #[test]
    fn merge_keeps_what_is_not_changed() {
        let current = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "Monday,Friday", 7);
        let op = ModifyBackupPolicy::from_policy("r-1", &current)
            .unwrap()
            .retention_days(30);
        let p = op.params().unwrap();
        let got: Vec<_> = p.iter().collect();
        assert_eq!(
            got,
            [
                ("InstanceId", "r-1"),
                ("PreferredBackupTime", "02:00Z-03:00Z"),
                ("PreferredBackupPeriod", "Monday,Friday"),
                ("BackupRetentionPeriod", "30"),
            ]
        );
        let mut odd = current.clone();
        odd.preferred_backup_period = Some("Monday,Someday".into());
        assert!(ModifyBackupPolicy::from_policy("r-1", &odd).is_err());
    }
}
