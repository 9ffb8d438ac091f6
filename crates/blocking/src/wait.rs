//! Following backup jobs until they finish.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rkvstore_core::{BackupJob, DescribeBackupTasks};

use crate::{Client, Error};

/// How to wait.
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

impl Client {
    /// Polls DescribeBackupTasks until job `job_id` of `instance_id` is Finished, calling
    /// `on_progress` every time its status or progress changes. Returns the finished job.
    ///
    /// A retryable failure of one poll is retried by the client as usual; an API error that
    /// is not retryable ends the wait at once.
    pub fn wait_for_backup_job(
        &self,
        instance_id: &str,
        job_id: u64,
        options: &WaitOptions,
        on_progress: impl FnMut(&BackupJob),
    ) -> Result<BackupJob, Error> {
        let mut done = self.wait_for_backup_jobs(instance_id, &[job_id], options, on_progress)?;
        done.pop().ok_or(Error::JobNotFound {
            job_id,
            instance_id: instance_id.to_owned(),
            waited: Duration::ZERO,
        })
    }

    /// Like [`Client::wait_for_backup_job`] for several jobs at once; returns them in the order
    /// given once every one is Finished.
    pub fn wait_for_backup_jobs(
        &self,
        instance_id: &str,
        job_ids: &[u64],
        options: &WaitOptions,
        mut on_progress: impl FnMut(&BackupJob),
    ) -> Result<Vec<BackupJob>, Error> {
        let started = Instant::now();
        let mut last: BTreeMap<u64, BackupJob> = BTreeMap::new();
        let op = match job_ids {
            [one] => DescribeBackupTasks::new(instance_id).job_id(*one),
            _ => DescribeBackupTasks::new(instance_id),
        };
        loop {
            let answer = self.describe_backup_tasks(&op)?;
            for job in answer
                .backup_jobs
                .iter()
                .filter(|j| job_ids.contains(&j.backup_job_id))
            {
                let changed = last.get(&job.backup_job_id).is_none_or(|prev| {
                    prev.backup_progress_status != job.backup_progress_status
                        || prev.percent() != job.percent()
                });
                if changed {
                    on_progress(job);
                    last.insert(job.backup_job_id, job.clone());
                }
            }
            if job_ids
                .iter()
                .all(|id| last.get(id).is_some_and(BackupJob::is_finished))
            {
                return Ok(job_ids.iter().filter_map(|id| last.remove(id)).collect());
            }
            let waited = started.elapsed();
            if let Some(missing) = job_ids.iter().find(|id| !last.contains_key(id)) {
                if waited >= options.grace {
                    return Err(Error::JobNotFound {
                        job_id: *missing,
                        instance_id: instance_id.to_owned(),
                        waited,
                    });
                }
            }
            if waited >= options.timeout {
                // A job never seen at all is reported as missing, whichever limit came first:
                // "not found" says more than "did not finish".
                if let Some(missing) = job_ids.iter().find(|id| !last.contains_key(id)) {
                    return Err(Error::JobNotFound {
                        job_id: *missing,
                        instance_id: instance_id.to_owned(),
                        waited,
                    });
                }
                let pending = job_ids
                    .iter()
                    .find(|id| !last.get(id).is_some_and(BackupJob::is_finished))
                    .copied()
                    .unwrap_or_default();
                let seen = last.get(&pending);
                return Err(Error::WaitTimedOut {
                    job_id: pending,
                    last_status: seen
                        .and_then(|j| j.backup_progress_status.as_ref())
                        .map(ToString::to_string),
                    last_percent: seen.and_then(BackupJob::percent),
                    waited,
                });
            }
            std::thread::sleep(options.interval.min(options.timeout.saturating_sub(waited)));
        }
    }
}
