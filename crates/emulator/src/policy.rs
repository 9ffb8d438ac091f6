//! The automatic backup policy of each instance: `DescribeBackupPolicy` and
//! `ModifyBackupPolicy`, with the service's defaults and checks.

use rkvstore_core::{check_backup_time, DescribeBackupPolicyResponse, Timestamp, Weekday, WEEK};
use serde_json::Value;

use crate::auth::Incoming;
use crate::render::Failure;
use crate::state::State;

/// One instance's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) time: String,
    pub(crate) period: Vec<Weekday>,
    pub(crate) retention_days: u32,
    pub(crate) backup_log: bool,
}

impl Default for Policy {
    /// A new instance's policy: a daily backup in the 18:00 to 19:00 UTC window (early morning
    /// in China), kept 7 days, log backups off.
    fn default() -> Self {
        Policy {
            time: "18:00Z-19:00Z".into(),
            period: WEEK.to_vec(),
            retention_days: 7,
            backup_log: false,
        }
    }
}

impl Policy {
    /// The next backup after `now`: the window's start on the next day of the period.
    fn next_backup(&self, now: Timestamp) -> Option<Timestamp> {
        let hour: i64 = self.time.get(..2)?.parse().ok()?;
        let today = now.unix().div_euclid(86_400);
        (0..=7).find_map(|d| {
            let day = today + d;
            // 1970-01-01 was a Thursday, the fourth day of a week that starts on Monday.
            let weekday = WEEK.get(usize::try_from((day + 3).rem_euclid(7)).ok()?)?;
            let at = day * 86_400 + hour * 3600;
            (self.period.contains(weekday) && at > now.unix()).then(|| Timestamp::from_unix(at))
        })
    }
}

/// `DescribeBackupPolicy`.
pub(crate) fn describe(
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    let now = state.now();
    let policy = state
        .backup
        .policies
        .entry(instance.to_owned())
        .or_default();
    let mut answer = DescribeBackupPolicyResponse::new(
        request_id,
        policy.time.clone(),
        Weekday::join(&policy.period),
        policy.retention_days,
    );
    answer.enable_backup_log = Some(u64::from(policy.backup_log));
    answer.preferred_next_backup_time = policy.next_backup(now).map(rkvstore_core::minute_time);
    answer.dbs_instance = Some("0".into());
    if policy.backup_log {
        answer.backup_log_start_time = Some(now.to_string());
    }
    serde_json::to_value(answer).map_err(|e| Failure::new(500, "InternalError", e.to_string()))
}

/// `ModifyBackupPolicy`: every parameter is checked before anything changes.
pub(crate) fn modify(
    req: &Incoming,
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    let time = req
        .param("PreferredBackupTime")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::new(
                400,
                "MissingPreferredBackupTime",
                "PreferredBackupTime is mandatory for this action.",
            )
        })?;
    if check_backup_time(time).is_err() {
        return Err(Failure::new(
            400,
            "InvalidPreferredBackupTime.Malformed",
            "Specified PreferredBackupTime is not valid; use HH:mmZ-HH:mmZ in UTC, on the hour \
             and one hour long.",
        ));
    }
    let period = req
        .param("PreferredBackupPeriod")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::new(
                400,
                "MissingPreferredBackupPeriod",
                "PreferredBackupPeriod is mandatory for this action.",
            )
        })?;
    // The service takes the full English names only, exactly spelt.
    let days: Option<Vec<Weekday>> = period
        .split(',')
        .map(|d| WEEK.into_iter().find(|w| w.as_str() == d))
        .collect();
    let Some(mut days) = days else {
        return Err(Failure::new(
            400,
            "InvalidPreferredBackupPeriod.Malformed",
            "Specified PreferredBackupPeriod is not valid; use Monday to Sunday, separated by \
             commas.",
        ));
    };
    days.sort();
    days.dedup();
    let retention = match req.param("BackupRetentionPeriod").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(d) if (7..=730).contains(&d) => Some(d),
            _ => {
                return Err(Failure::new(
                    400,
                    "InvalidBackupRetentionPeriod.Malformed",
                    "Specified BackupRetentionPeriod is not valid; use 7 to 730.",
                ))
            }
        },
    };
    let log = match req.param("EnableBackupLog").filter(|v| !v.is_empty()) {
        None => None,
        Some("0") => Some(false),
        Some("1") => Some(true),
        Some(_) => {
            return Err(Failure::new(
                400,
                "InvalidEnableBackupLog.Malformed",
                "Specified EnableBackupLog is not valid; use 0 or 1.",
            ))
        }
    };
    let policy = state
        .backup
        .policies
        .entry(instance.to_owned())
        .or_default();
    policy.time = time.to_owned();
    policy.period = days;
    if let Some(d) = retention {
        policy.retention_days = d;
    }
    if let Some(on) = log {
        policy.backup_log = on;
    }
    Ok(serde_json::json!({ "RequestId": request_id }))
}
