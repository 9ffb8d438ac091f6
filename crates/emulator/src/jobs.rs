//! Backup jobs and how they advance.

use std::time::{Duration, Instant};

use rkvstore_core::{BackupJob, BackupStatus, JobMode, TaskAction, Timestamp};

/// How fast a manual job moves through Preparing → Waiting → Uploading → Checking → Finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// One step each time a `DescribeBackupTasks` answer includes the job: deterministic, for
    /// tests. `PerPoll(2)` takes two polls a step.
    PerPoll(u32),
    /// One step per interval of wall time, like a real (if fast) backup.
    WallTime(Duration),
}

impl Default for Pace {
    fn default() -> Self {
        Pace::PerPoll(1)
    }
}

/// The states and progress a manual job shows, in order.
pub(crate) const STEPS: [(BackupStatus, u8); 7] = [
    (BackupStatus::Preparing, 0),
    (BackupStatus::Waiting, 0),
    (BackupStatus::Uploading, 20),
    (BackupStatus::Uploading, 55),
    (BackupStatus::Uploading, 85),
    (BackupStatus::Checking, 95),
    (BackupStatus::Finished, 100),
];

/// A job to create up front, for example an automated backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSeed {
    /// Automated or manual.
    pub mode: JobMode,
    /// Where it starts, as an index into the steps (0 = Preparing, 6 = Finished).
    pub step: usize,
    /// Whether it advances; a frozen job never changes (useful for timeouts).
    pub frozen: bool,
}

impl JobSeed {
    /// A finished automated backup.
    pub fn finished_automated() -> Self {
        JobSeed {
            mode: JobMode::Automated,
            step: STEPS.len() - 1,
            frozen: true,
        }
    }

    /// A manual job stuck at Uploading forever.
    pub fn stuck_manual() -> Self {
        JobSeed {
            mode: JobMode::Manual,
            step: 2,
            frozen: true,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) mode: JobMode,
    pub(crate) start: Timestamp,
    pub(crate) step: usize,
    pub(crate) frozen: bool,
    pub(crate) created: Instant,
    pub(crate) polls: u32,
}

impl Job {
    /// Called when an answer is about to include this job.
    pub(crate) fn observe(&mut self, pace: Pace) {
        if self.frozen {
            return;
        }
        let last = STEPS.len() - 1;
        match pace {
            Pace::PerPoll(n) => {
                self.polls = self.polls.saturating_add(1);
                if self.polls >= n.max(1) {
                    self.polls = 0;
                    self.step = (self.step + 1).min(last);
                }
            }
            Pace::WallTime(step) => {
                let elapsed = self.created.elapsed().as_millis();
                let per = step.as_millis().max(1);
                self.step = usize::try_from(elapsed / per).unwrap_or(last).min(last);
            }
        }
    }

    pub(crate) fn view(&self) -> BackupJob {
        let (status, progress) = STEPS
            .get(self.step)
            .cloned()
            .unwrap_or((BackupStatus::Finished, 100));
        let action = match self.mode {
            JobMode::Automated => TaskAction::NormalBackupTask,
            _ => TaskAction::TempBackupTask,
        };
        let mut job = BackupJob::new(self.id);
        job.backup_progress_status = Some(status);
        job.job_mode = Some(self.mode.clone());
        job.process = Some(progress.to_string());
        job.progress = Some(progress.to_string());
        job.start_time = Some(self.start.to_string());
        job.task_action = Some(action);
        job
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_poll_walks_every_step_then_stays() {
        let mut job = Job {
            id: 1,
            mode: JobMode::Manual,
            start: Timestamp::from_unix(0),
            step: 0,
            frozen: false,
            created: Instant::now(),
            polls: 0,
        };
        let mut seen = vec![job.view().backup_progress_status.unwrap()];
        for _ in 0..10 {
            job.observe(Pace::PerPoll(1));
            seen.push(job.view().backup_progress_status.unwrap());
        }
        assert_eq!(seen[1], BackupStatus::Waiting);
        assert_eq!(seen[6], BackupStatus::Finished);
        assert_eq!(seen[10], BackupStatus::Finished);
    }
}
