//! Backup sets, the backup policy and restores: the client calls, the loop that walks every
//! page of DescribeBackups, and the loop that follows an instance back to `Normal`.

use std::fmt;
use std::time::Instant;

use rkvstore_core::instance_wait::{InstanceNext, InstanceTimedOut, InstanceWait};
use rkvstore_core::pager::{merge, BackupPager, PagerWarning};
use rkvstore_core::{
    DescribeBackupPolicy, DescribeBackupPolicyResponse, DescribeBackups, DescribeBackupsResponse,
    DescribeInstanceAttribute, DescribeInstanceAttributeResponse, ModifyBackupPolicy,
    ModifyBackupPolicyResponse, RestoreInstance, RestoreInstanceResponse,
};

use crate::{Client, Error, WaitOptions};

/// Why following an instance failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum InstanceWaitError {
    /// A poll failed.
    Client(Error),
    /// The instance was not `Normal` again in time.
    TimedOut(InstanceTimedOut),
}

impl fmt::Display for InstanceWaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceWaitError::Client(e) => e.fmt(f),
            InstanceWaitError::TimedOut(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for InstanceWaitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InstanceWaitError::Client(e) => e.source(),
            InstanceWaitError::TimedOut(_) => None,
        }
    }
}

impl Client {
    /// `DescribeBackups`: one page.
    pub fn describe_backups(&self, op: &DescribeBackups) -> Result<DescribeBackupsResponse, Error> {
        self.execute(op)
    }

    /// Every page of `op`, merged into one answer with each set once (see
    /// [`rkvstore_core::pager`]). When the service repeated pages or claimed an implausible
    /// `TotalCount`, the walk stops and the warning goes to the logger; see
    /// [`Client::walk_backups`] to have it.
    pub fn describe_all_backups(
        &self,
        op: &DescribeBackups,
    ) -> Result<DescribeBackupsResponse, Error> {
        let (all, warning) = self.walk_backups(op)?;
        if let Some(w) = warning {
            self.log(|| format!("warning: {w}"));
        }
        Ok(all)
    }

    /// Every page of `op`, merged into one answer with each set once, and why the walk stopped
    /// short of `TotalCount` if it did (the sets gathered are still returned).
    pub fn walk_backups(
        &self,
        op: &DescribeBackups,
    ) -> Result<(DescribeBackupsResponse, Option<PagerWarning>), Error> {
        let mut pager = BackupPager::new(op.clone());
        let mut pages = Vec::new();
        while let Some(page) = pager.next_operation() {
            let answer = self.describe_backups(&page)?;
            pages.push(pager.take_new(answer));
        }
        Ok((merge(pages), pager.warning().cloned()))
    }

    /// `DescribeBackupPolicy`.
    pub fn describe_backup_policy(
        &self,
        op: &DescribeBackupPolicy,
    ) -> Result<DescribeBackupPolicyResponse, Error> {
        self.execute(op)
    }

    /// `ModifyBackupPolicy`. Never sent twice: retried only when it certainly did not run.
    pub fn modify_backup_policy(
        &self,
        op: &ModifyBackupPolicy,
    ) -> Result<ModifyBackupPolicyResponse, Error> {
        self.execute(op)
    }

    /// `RestoreInstance`. Never sent twice: retried only when it certainly did not run.
    pub fn restore_instance(&self, op: &RestoreInstance) -> Result<RestoreInstanceResponse, Error> {
        self.execute(op)
    }

    /// `DescribeInstanceAttribute`.
    pub fn describe_instance_attribute(
        &self,
        op: &DescribeInstanceAttribute,
    ) -> Result<DescribeInstanceAttributeResponse, Error> {
        self.execute(op)
    }

    /// Polls DescribeInstanceAttribute until `instance_id` is `Normal` again (after a restore),
    /// calling `on_change` with every new status. `options.grace` is how long a `Normal` that
    /// never changed counts as a restore not yet begun.
    pub fn wait_for_instance(
        &self,
        instance_id: &str,
        options: &WaitOptions,
        mut on_change: impl FnMut(&str),
    ) -> Result<String, InstanceWaitError> {
        let started = Instant::now();
        let mut wait = InstanceWait::new(instance_id, *options);
        let poll = wait.operation();
        loop {
            let answer = self
                .describe_instance_attribute(&poll)
                .map_err(InstanceWaitError::Client)?;
            let step = wait.update(&answer, started.elapsed());
            if let Some(status) = &step.changed {
                on_change(status);
            }
            match step.next {
                InstanceNext::PollAfter(delay) => std::thread::sleep(delay),
                InstanceNext::Done(status) => return Ok(status),
                InstanceNext::TimedOut(e) => return Err(InstanceWaitError::TimedOut(e)),
            }
        }
    }
}
