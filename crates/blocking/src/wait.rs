//! Following backup jobs until they finish: the loop around the core's [`JobWait`].

use std::time::Instant;

use rkvstore_core::call::{JobWait, WaitNext};
use rkvstore_core::BackupJob;

use crate::{Client, Error, WaitOptions};

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
            waited: std::time::Duration::ZERO,
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
        let mut wait = JobWait::new(instance_id, job_ids, *options);
        let poll = wait.operation();
        loop {
            let answer = self.describe_backup_tasks(&poll)?;
            let step = wait.update(&answer, started.elapsed());
            step.changed.iter().for_each(&mut on_progress);
            match step.next {
                WaitNext::PollAfter(delay) => std::thread::sleep(delay),
                WaitNext::Finished(jobs) => return Ok(jobs),
                WaitNext::Failed(e) => return Err(rkvstore_core::Error::from(e).into()),
            }
        }
    }
}
