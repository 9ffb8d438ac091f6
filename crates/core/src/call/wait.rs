//! Following backup jobs until they finish, as a state machine over DescribeBackupTasks polls.
//!
//! The caller polls with [`JobWait::operation`] (each poll an ordinary [`super::Call`]), feeds
//! every answer to [`JobWait::update`] with the time elapsed since the wait began, reports the
//! jobs that changed, and sleeps or stops as the step says. A job that is not listed yet is "not
//! visible yet" for a grace period (a new job takes a moment to show up), then an error naming
//! it; a job that never finishes is a timeout naming its last status.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::{BackupJob, DescribeBackupTasks, DescribeBackupTasksResponse};

/// How to wait.
///
/// All three limits are always needed, so this struct is complete as it is and can be written
/// as a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// Time between polls.
    pub interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// A new job can take a while to show up in DescribeBackupTasks; until this much time has
    /// passed, an absent job is "not visible yet" rather than an error.
    pub grace: Duration,
}

impl Default for WaitOptions {
    /// Poll every 5 s for up to an hour; allow 60 s for a new job to appear.
    fn default() -> Self {
        WaitOptions {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(3600),
            grace: Duration::from_secs(60),
        }
    }
}

/// Why a wait failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// The job never appeared in DescribeBackupTasks within the grace period (or the timeout,
    /// if that came first).
    JobNotFound {
        /// The job.
        job_id: u64,
        /// The instance.
        instance_id: String,
        /// How long it was looked for.
        waited: Duration,
    },
    /// The job did not finish in time.
    TimedOut {
        /// The job.
        job_id: u64,
        /// The last status seen.
        last_status: Option<String>,
        /// The last progress seen, in percent.
        last_percent: Option<u8>,
        /// How long was waited.
        waited: Duration,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::JobNotFound {
                job_id,
                instance_id,
                waited,
            } => write!(
                f,
                "backup job {job_id} of instance {} did not appear in DescribeBackupTasks \
                 within {}s; check the job ID",
                crate::escape::controls(instance_id),
                waited.as_secs()
            ),
            WaitError::TimedOut {
                job_id,
                last_status,
                last_percent,
                waited,
            } => {
                write!(
                    f,
                    "backup job {job_id} did not finish within {}s",
                    waited.as_secs()
                )?;
                // The status came from the network.
                let status = last_status.as_deref().map(crate::escape::controls);
                match (status, last_percent) {
                    (Some(s), Some(p)) => write!(f, "; last status {s} at {p}%"),
                    (Some(s), None) => write!(f, "; last status {s}"),
                    _ => f.write_str("; the job was never seen"),
                }
            }
        }
    }
}

impl std::error::Error for WaitError {}

/// What happens after a poll.
///
/// Not `#[non_exhaustive]` on purpose: every waiting loop must handle every outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitNext {
    /// Poll again after this long.
    PollAfter(Duration),
    /// Every job is Finished: here they are, in the order asked for.
    Finished(Vec<BackupJob>),
    /// The wait is over without success.
    Failed(WaitError),
}

/// The outcome of one poll: the jobs whose status or progress changed, then what comes next.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitStep {
    /// Jobs seen for the first time or changed since the last poll, in the order listed.
    pub changed: Vec<BackupJob>,
    /// What the caller does now.
    pub next: WaitNext,
}

/// Waiting for one or more backup jobs of an instance to finish.
#[derive(Clone, Debug)]
pub struct JobWait {
    instance_id: String,
    job_ids: Vec<u64>,
    options: WaitOptions,
    last: BTreeMap<u64, BackupJob>,
}

impl JobWait {
    /// Waits for `job_ids` of `instance_id`.
    pub fn new(instance_id: impl Into<String>, job_ids: &[u64], options: WaitOptions) -> Self {
        JobWait {
            instance_id: instance_id.into(),
            job_ids: job_ids.to_vec(),
            options,
            last: BTreeMap::new(),
        }
    }

    /// The poll to send: one job asked for by ID, several by listing the instance's jobs.
    pub fn operation(&self) -> DescribeBackupTasks {
        match self.job_ids.as_slice() {
            [one] => DescribeBackupTasks::new(self.instance_id.as_str()).job_id(*one),
            _ => DescribeBackupTasks::new(self.instance_id.as_str()),
        }
    }

    /// Takes one poll's answer, `elapsed` after the wait began.
    pub fn update(&mut self, answer: &DescribeBackupTasksResponse, elapsed: Duration) -> WaitStep {
        let mut changed = Vec::new();
        for job in answer
            .backup_jobs
            .iter()
            .filter(|j| self.job_ids.contains(&j.backup_job_id))
        {
            let is_new = self.last.get(&job.backup_job_id).is_none_or(|prev| {
                prev.backup_progress_status != job.backup_progress_status
                    || prev.percent() != job.percent()
            });
            if is_new {
                changed.push(job.clone());
                self.last.insert(job.backup_job_id, job.clone());
            }
        }
        let next = self.next(elapsed);
        WaitStep { changed, next }
    }

    fn next(&mut self, waited: Duration) -> WaitNext {
        if self
            .job_ids
            .iter()
            .all(|id| self.last.get(id).is_some_and(BackupJob::is_finished))
        {
            let done = self
                .job_ids
                .iter()
                .filter_map(|id| self.last.get(id).cloned())
                .collect();
            return WaitNext::Finished(done);
        }
        let missing = self.job_ids.iter().find(|id| !self.last.contains_key(id));
        // A job never seen at all is reported as missing, whichever limit came first: "not
        // found" says more than "did not finish".
        if let Some(&job_id) = missing {
            if waited >= self.options.grace || waited >= self.options.timeout {
                return WaitNext::Failed(WaitError::JobNotFound {
                    job_id,
                    instance_id: self.instance_id.clone(),
                    waited,
                });
            }
        }
        if waited >= self.options.timeout {
            let pending = self
                .job_ids
                .iter()
                .find(|id| !self.last.get(id).is_some_and(BackupJob::is_finished))
                .copied()
                .unwrap_or_default();
            let seen = self.last.get(&pending);
            return WaitNext::Failed(WaitError::TimedOut {
                job_id: pending,
                last_status: seen
                    .and_then(|j| j.backup_progress_status.as_ref())
                    .map(ToString::to_string),
                last_percent: seen.and_then(BackupJob::percent),
                waited,
            });
        }
        WaitNext::PollAfter(
            self.options
                .interval
                .min(self.options.timeout.saturating_sub(waited)),
        )
    }
}
