//! One instance's audit: what was found about it, and the verdict, as pure functions of the
//! answers and the time.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Verdict;
use crate::{Backup, BackupJob, DescribeBackupPolicyResponse, KvStoreInstance, Timestamp, Weekday};

/// A call about an instance that failed, as shown in its row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RowError {
    /// The action that failed, such as `DescribeBackups`.
    pub action: String,
    /// The API error code, such as `Forbidden.RAM`, or a short name of the failure when there
    /// was no answer (`Transport`, `Parse`).
    pub code: String,
    /// What went wrong, in words.
    pub message: String,
}

impl RowError {
    /// A failure of `action`.
    pub fn new(
        action: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        RowError {
            action: action.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The automatic backup policy, as the row shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicyView {
    /// The weekdays backups run on, Monday first; empty when the policy is off. Serialized
    /// with the API's names (`Monday`).
    #[serde(serialize_with = "day_names")]
    pub days: Vec<Weekday>,
    /// The window, such as `02:00Z-03:00Z`.
    pub window: Option<String>,
    /// Days backups are kept.
    pub retention_days: Option<u32>,
}

impl PolicyView {
    /// The policy of `answer`. Days the service names that are no weekday are left out: they
    /// schedule nothing.
    pub fn of(answer: &DescribeBackupPolicyResponse) -> Self {
        let mut days: Vec<Weekday> = answer
            .preferred_backup_period
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(Weekday::parse)
            .collect();
        days.sort();
        days.dedup();
        PolicyView {
            days,
            window: answer
                .preferred_backup_time
                .clone()
                .filter(|w| !w.trim().is_empty()),
            retention_days: answer
                .backup_retention_period
                .as_deref()
                .and_then(|d| d.trim().parse().ok()),
        }
    }

    /// `true` when no weekday is scheduled.
    pub fn is_off(&self) -> bool {
        self.days.is_empty()
    }

    /// `daily 02:00Z-03:00Z 7d`, `Mon,Thu 02:00Z-03:00Z 30d` or `off`.
    ///
    /// ```
    /// use rkvstore_core::audit::PolicyView;
    /// use rkvstore_core::DescribeBackupPolicyResponse;
    /// let p = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "Thursday,Monday", 30);
    /// assert_eq!(PolicyView::of(&p).short(), "Mon,Thu 02:00Z-03:00Z 30d");
    /// let off = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "", 7);
    /// assert_eq!(PolicyView::of(&off).short(), "off");
    /// ```
    pub fn short(&self) -> String {
        if self.is_off() {
            return "off".into();
        }
        let days = if self.days.len() == 7 {
            "daily".to_owned()
        } else {
            self.days
                .iter()
                .map(|d| d.as_str().get(..3).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = days;
        if let Some(w) = &self.window {
            out.push(' ');
            out.push_str(w);
        }
        if let Some(r) = self.retention_days {
            out.push_str(&format!(" {r}d"));
        }
        out
    }
}

fn day_names<S: serde::Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(days.iter().map(|d| d.as_str()))
}

/// A backup job that has not finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RunningJob {
    /// `BackupJobID`.
    pub job_id: u64,
    /// `BackupProgressStatus`, such as `Uploading`.
    pub status: String,
    /// Progress in percent, when the service says.
    pub progress: Option<u8>,
}

/// Whether DescribeBackupTasks was asked about the instance. Serialized as one shape whatever
/// the case, for machines: `{"status": "checked" | "skipped" | "not_checked", "reason": text
/// or null}`.
///
/// ```
/// use rkvstore_core::audit::TasksCheck;
/// assert_eq!(serde_json::to_string(&TasksCheck::Checked).unwrap(),
///     r#"{"status":"checked","reason":null}"#);
/// let skipped = TasksCheck::Skipped { reason: "cluster".into() };
/// assert_eq!(serde_json::to_string(&skipped).unwrap(),
///     r#"{"status":"skipped","reason":"cluster"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TasksCheck {
    /// It was asked.
    Checked,
    /// It was not, because the API does not support the instance's architecture.
    Skipped {
        /// Why, in words.
        reason: String,
    },
    /// It was not, or it failed (the row's error says which).
    NotChecked,
}

impl TasksCheck {
    /// `checked`, `skipped` or `not_checked`.
    pub fn status(&self) -> &'static str {
        match self {
            TasksCheck::Checked => "checked",
            TasksCheck::Skipped { .. } => "skipped",
            TasksCheck::NotChecked => "not_checked",
        }
    }
}

impl Serialize for TasksCheck {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("status", self.status())?;
        let reason = match self {
            TasksCheck::Skipped { reason } => Some(reason.as_str()),
            _ => None,
        };
        map.serialize_entry("reason", &reason)?;
        map.end()
    }
}

/// What was gathered about one instance; a field is `None` when its call was not made or
/// failed.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Findings {
    /// The DescribeBackupPolicy answer.
    pub policy: Option<DescribeBackupPolicyResponse>,
    /// Every backup set in the look-back window, from every page of DescribeBackups.
    pub backups: Option<Vec<Backup>>,
    /// The DescribeBackupTasks answer's jobs.
    pub jobs: Option<Vec<BackupJob>>,
    /// `true` when DescribeBackupTasks was skipped because of the architecture.
    pub tasks_skipped: bool,
    /// The first call that failed.
    pub error: Option<RowError>,
}

/// One instance's row. `#[non_exhaustive]`: made by [`InstanceAudit::assess`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InstanceAudit {
    /// The region.
    pub region: String,
    /// The instance ID.
    pub instance_id: String,
    /// The instance's name.
    pub instance_name: Option<String>,
    /// The zone, such as `cn-hangzhou-h`.
    pub zone: Option<String>,
    /// `standard`, `cluster` or `rwsplit`.
    pub architecture: Option<String>,
    /// The engine version, such as `7.0`.
    pub engine_version: Option<String>,
    /// The instance's status, such as `Normal`.
    pub instance_status: Option<String>,
    /// The capacity in MB (`Capacity`).
    pub capacity_mb: Option<u64>,
    /// `VPC` or `CLASSIC`.
    pub network_type: Option<String>,
    /// The tags, key to value.
    pub tags: BTreeMap<String, String>,
    /// The backup policy, when it could be read.
    pub policy: Option<PolicyView>,
    /// When the last successful backup ended (else started), `yyyy-MM-ddTHH:mm:ssZ`.
    pub last_success: Option<String>,
    /// Seconds from the last successful backup to the audit.
    pub last_success_age_secs: Option<u64>,
    /// The status of the latest backup set, such as `Success` or `Failed`.
    pub latest_status: Option<String>,
    /// Backup sets in the look-back window.
    pub backups_in_window: Option<u64>,
    /// A backup job still running.
    pub running_job: Option<RunningJob>,
    /// Whether running jobs were looked for.
    pub backup_tasks: TasksCheck,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the verdict is `ERROR`.
    pub error: Option<RowError>,
}

/// A backup set's time: when it ended, else when it started.
fn set_time(b: &Backup) -> Option<Timestamp> {
    b.backup_end_time
        .as_deref()
        .or(b.backup_start_time.as_deref())
        .and_then(|t| Timestamp::parse_iso8601(t.trim()))
}

fn is_success(b: &Backup) -> bool {
    b.backup_status
        .as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("success"))
}

/// The verdict for an instance whose calls all succeeded: the first of `NO-BACKUPS`, `STALE`,
/// `FAILED`, `POLICY-OFF` that applies, else `OK`, with the issue's definitions taken as they
/// are written: `NO-BACKUPS` when there is no backup set in the look-back window at all,
/// `STALE` when the last successful one is older than the allowed age, `FAILED` when the
/// latest set failed. So a window of failed sets only is `FAILED` (its latest failed); one
/// with no success and a latest set that did not fail either (still running) is `STALE`, since
/// any success is older than the window, which is longer than the allowed age. Sets whose time
/// cannot be read are ignored.
///
/// ```
/// use rkvstore_core::audit::{judge, Verdict};
/// use rkvstore_core::{Backup, DescribeBackupPolicyResponse, Timestamp};
/// let now = Timestamp::parse_iso8601("2026-11-29T12:00:00Z").unwrap();
/// let set = |id, end: &str, status: &str| {
///     let mut b = Backup::new(id);
///     b.backup_end_time = Some(end.into());
///     b.backup_status = Some(status.into());
///     b
/// };
/// let daily = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "Monday,Tuesday", 7);
/// let day = 24 * 3600;
/// assert_eq!(judge(&daily, &[], now, day), Verdict::NoBackups);
/// let old = [set(1, "2026-11-27T02:30:00Z", "Success")];
/// assert_eq!(judge(&daily, &old, now, day), Verdict::Stale);
/// let failed = [set(1, "2026-11-29T02:30:00Z", "Success"), set(2, "2026-11-29T10:00:00Z", "Failed")];
/// assert_eq!(judge(&daily, &failed, now, day), Verdict::Failed);
/// let off = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "", 7);
/// assert_eq!(judge(&off, &failed[..1], now, day), Verdict::PolicyOff);
/// assert_eq!(judge(&daily, &failed[..1], now, day), Verdict::Ok);
/// ```
pub fn judge(
    policy: &DescribeBackupPolicyResponse,
    backups: &[Backup],
    now: Timestamp,
    max_age_secs: u64,
) -> Verdict {
    let latest = backups
        .iter()
        .filter_map(|b| set_time(b).map(|t| (t, b)))
        .max_by_key(|(t, b)| (*t, b.backup_id));
    let Some((_, latest)) = latest else {
        return Verdict::NoBackups;
    };
    let latest_failed = latest
        .backup_status
        .as_deref()
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("failed"));
    let last_success = backups
        .iter()
        .filter(|b| is_success(b))
        .filter_map(set_time)
        .max();
    let stale = match last_success {
        Some(t) => {
            now.seconds_since(t).unwrap_or(i64::MAX)
                > i64::try_from(max_age_secs).unwrap_or(i64::MAX)
        }
        // No success in the window: none at all to measure when the latest failed (FAILED
        // says it), else any success is older than the window.
        None => !latest_failed,
    };
    if stale {
        return Verdict::Stale;
    }
    if !is_success(latest) {
        return Verdict::Failed;
    }
    if PolicyView::of(policy).is_off() {
        return Verdict::PolicyOff;
    }
    Verdict::Ok
}

impl InstanceAudit {
    /// The row of `instance` in `region` from what was gathered, at `now`, with backups
    /// older than `max_age_secs` counting as stale. Any failed call makes the verdict
    /// `ERROR`, naming the first; otherwise [`judge`] decides.
    pub fn assess(
        region: &str,
        instance: &KvStoreInstance,
        findings: Findings,
        now: Timestamp,
        max_age_secs: u64,
    ) -> Self {
        let Findings {
            policy,
            backups,
            jobs,
            tasks_skipped,
            error,
        } = findings;
        let last = backups.as_deref().and_then(|sets| {
            sets.iter()
                .filter(|b| is_success(b))
                .filter_map(set_time)
                .max()
        });
        let latest_status = backups.as_deref().and_then(|sets| {
            sets.iter()
                .filter_map(|b| set_time(b).map(|t| (t, b)))
                .max_by_key(|(t, b)| (*t, b.backup_id))
                .and_then(|(_, b)| b.backup_status.clone())
        });
        let running_job = jobs.as_deref().and_then(|jobs| {
            jobs.iter().find(|j| !j.is_finished()).map(|j| RunningJob {
                job_id: j.backup_job_id,
                status: j
                    .backup_progress_status
                    .as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_else(|| "unknown".into()),
                progress: j.percent(),
            })
        });
        let backup_tasks = if tasks_skipped {
            TasksCheck::Skipped {
                reason: format!(
                    "DescribeBackupTasks does not support {} instances",
                    instance.architecture_type.as_deref().unwrap_or("these")
                ),
            }
        } else if jobs.is_some() {
            TasksCheck::Checked
        } else {
            TasksCheck::NotChecked
        };
        let verdict = match (&error, &policy, &backups) {
            (None, Some(p), Some(b)) => judge(p, b, now, max_age_secs),
            _ => Verdict::Error,
        };
        // A verdict of ERROR always says why, even if no call reported one.
        let error = match (verdict, error) {
            (Verdict::Error, None) => Some(RowError::new(
                "audit",
                "Incomplete",
                "the policy or the backup sets could not be read",
            )),
            (_, e) => e,
        };
        InstanceAudit {
            region: region.to_owned(),
            instance_id: instance.instance_id.clone(),
            instance_name: instance.instance_name.clone(),
            zone: instance.zone_id.clone(),
            architecture: instance.architecture_type.clone(),
            engine_version: instance.engine_version.clone(),
            instance_status: instance.instance_status.clone(),
            capacity_mb: instance.capacity,
            network_type: instance.network_type.clone(),
            tags: instance
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
            policy: policy.as_ref().map(PolicyView::of),
            last_success: last.map(|t| t.to_string()),
            last_success_age_secs: last
                .and_then(|t| now.seconds_since(t))
                .map(|s| u64::try_from(s).unwrap_or(0)),
            latest_status,
            backups_in_window: backups.as_ref().map(|b| b.len() as u64),
            running_job,
            backup_tasks,
            verdict,
            error,
        }
    }

    /// A row for an instance that was asked for by ID but not found in any region audited.
    pub fn not_found(region: &str, instance_id: &str) -> Self {
        let instance = KvStoreInstance::new(instance_id);
        let findings = Findings {
            error: Some(RowError::new(
                "DescribeInstances",
                "InvalidInstanceId.NotFound",
                format!("{instance_id} is not among the instances of the regions audited"),
            )),
            ..Findings::default()
        };
        InstanceAudit::assess(region, &instance, findings, Timestamp::from_unix(0), 0)
    }
}

/// Sorts rows worst first, then by region and instance ID, so that the order never depends on
/// which answer came first.
pub fn sort_rows(rows: &mut [InstanceAudit]) {
    rows.sort_by(|a, b| {
        (a.verdict, &a.region, &a.instance_id).cmp(&(b.verdict, &b.region, &b.instance_id))
    });
}

/// An age in seconds the way the table shows it: `45m`, `5h 12m`, `3d 4h`.
///
/// ```
/// use rkvstore_core::audit::short_age;
/// assert_eq!(short_age(59), "0m");
/// assert_eq!(short_age(5 * 3600 + 12 * 60), "5h 12m");
/// assert_eq!(short_age(3 * 86400 + 4 * 3600 + 59), "3d 4h");
/// ```
pub fn short_age(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BackupStatus, DescribeBackupPolicyResponse};

    fn now() -> Timestamp {
        Timestamp::parse_iso8601("2026-11-29T12:00:00Z").unwrap()
    }

    fn set(id: u64, end: &str, status: &str) -> Backup {
        let mut b = Backup::new(id);
        b.backup_end_time = Some(end.into());
        b.backup_status = Some(status.into());
        b
    }

    #[test]
    fn precedence_is_error_nobackups_stale_failed_policyoff() {
        let off = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "", 7);
        let instance = KvStoreInstance::new("r-1");
        // Off, failed latest and stale all at once: STALE wins over FAILED and POLICY-OFF.
        let sets = vec![
            set(1, "2026-11-25T02:00:00Z", "Success"),
            set(2, "2026-11-26T02:00:00Z", "Failed"),
        ];
        assert_eq!(judge(&off, &sets, now(), 86_400), Verdict::Stale);
        // Only failed sets: the latest failed (NO-BACKUPS is for an empty window).
        assert_eq!(judge(&off, &sets[1..], now(), 86_400), Verdict::Failed);
        assert_eq!(judge(&off, &[], now(), 86_400), Verdict::NoBackups);
        // No success and the latest still running: any success is older than the window.
        let running = [set(3, "2026-11-29T11:00:00Z", "Running")];
        assert_eq!(judge(&off, &running, now(), 86_400), Verdict::Stale);
        // An error beats everything.
        let row = InstanceAudit::assess(
            "cn-hangzhou",
            &instance,
            Findings {
                policy: Some(off.clone()),
                backups: Some(sets.clone()),
                error: Some(RowError::new("DescribeBackupTasks", "Forbidden.RAM", "no")),
                ..Findings::default()
            },
            now(),
            86_400,
        );
        assert_eq!(row.verdict, Verdict::Error);
        assert_eq!(row.error.unwrap().code, "Forbidden.RAM");
        assert_eq!(row.last_success.as_deref(), Some("2026-11-25T02:00:00Z"));
        assert_eq!(row.latest_status.as_deref(), Some("Failed"));
        // A policy missing without an error still says why.
        let row = InstanceAudit::assess("r", &instance, Findings::default(), now(), 1);
        assert_eq!(row.verdict, Verdict::Error);
        assert_eq!(row.error.unwrap().code, "Incomplete");
    }

    #[test]
    fn unreadable_times_are_ignored_and_jobs_show() {
        let daily = DescribeBackupPolicyResponse::new("R", "02:00Z-03:00Z", "Monday", 7);
        let mut odd = set(3, "yesterday", "Success");
        odd.backup_start_time = Some("\u{1b}[2J".into());
        assert_eq!(judge(&daily, &[odd], now(), 86_400), Verdict::NoBackups);
        let mut job = BackupJob::new(9);
        job.backup_progress_status = Some(BackupStatus::Uploading);
        job.progress = Some("55".into());
        let mut instance = KvStoreInstance::new("r-1");
        instance.architecture_type = Some("standard".into());
        let row = InstanceAudit::assess(
            "cn-hangzhou",
            &instance,
            Findings {
                policy: Some(daily),
                backups: Some(vec![set(1, "2026-11-29T02:00:00Z", "Success")]),
                jobs: Some(vec![BackupJob::new(8), job]),
                ..Findings::default()
            },
            now(),
            86_400,
        );
        assert_eq!(row.verdict, Verdict::Ok);
        assert_eq!(row.last_success_age_secs, Some(10 * 3600));
        // Job 8 has no status, so it is not known to be finished either: the first shown.
        assert_eq!(row.running_job.as_ref().map(|j| j.job_id), Some(8));
        assert_eq!(row.backup_tasks, TasksCheck::Checked);
    }

    #[test]
    fn rows_sort_worst_first() {
        let mk = |id: &str, v| {
            let mut r = InstanceAudit::not_found("cn-a", id);
            r.verdict = v;
            r
        };
        let mut rows = vec![
            mk("r-3", Verdict::Ok),
            mk("r-2", Verdict::Stale),
            mk("r-1", Verdict::Ok),
            mk("r-4", Verdict::Error),
        ];
        sort_rows(&mut rows);
        let order: Vec<_> = rows.iter().map(|r| r.instance_id.as_str()).collect();
        assert_eq!(order, ["r-4", "r-2", "r-1", "r-3"]);
    }
}
