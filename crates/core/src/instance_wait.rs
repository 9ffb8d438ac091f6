//! Following an instance's status back to `Normal` after a restore, as a state machine over
//! `DescribeInstanceAttribute` polls, like [`crate::call::JobWait`] for backup jobs.
//!
//! A restore does not always show at once: a first poll may still see `Normal` from before it
//! began. So `Normal` ends the wait only once another status has been seen, or once the grace
//! period has passed without one (a restore so quick that no poll caught it).
//!
//! ```
//! use std::time::Duration;
//! use rkvstore_core::call::WaitOptions;
//! use rkvstore_core::instance_wait::{InstanceNext, InstanceWait};
//! use rkvstore_core::{DescribeInstanceAttributeResponse, InstanceAttribute};
//!
//! let mut wait = InstanceWait::new("r-demo", WaitOptions::default());
//! let answer = |s: &str| DescribeInstanceAttributeResponse::new("R", InstanceAttribute::new("r-demo", s));
//! let step = wait.update(&answer("BackupRecovering"), Duration::from_secs(1));
//! assert_eq!(step.changed.as_deref(), Some("BackupRecovering"));
//! assert!(matches!(step.next, InstanceNext::PollAfter(_)));
//! let step = wait.update(&answer("Normal"), Duration::from_secs(6));
//! assert_eq!(step.next, InstanceNext::Done("Normal".into()));
//! ```

use std::fmt;
use std::time::Duration;

use crate::call::WaitOptions;
use crate::{DescribeInstanceAttribute, DescribeInstanceAttributeResponse, NORMAL};

/// What happens after a poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceNext {
    /// Poll again after this long.
    PollAfter(Duration),
    /// The instance is back in this status (`Normal`).
    Done(String),
    /// The instance did not come back in time.
    TimedOut(InstanceTimedOut),
}

/// One poll's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceStep {
    /// The status, when it differs from the previous poll's.
    pub changed: Option<String>,
    /// What the caller does now.
    pub next: InstanceNext,
}

/// The wait's timeout, with what was last seen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InstanceTimedOut {
    /// The instance.
    pub instance_id: String,
    /// The last status seen.
    pub last_status: Option<String>,
    /// How long was waited.
    pub waited: Duration,
}

impl fmt::Display for InstanceTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "instance {} did not return to {NORMAL} within {}s",
            crate::escape::controls(&self.instance_id),
            self.waited.as_secs()
        )?;
        match &self.last_status {
            Some(s) => write!(f, "; last status {}", crate::escape::controls(s)),
            None => f.write_str("; its status was never reported"),
        }
    }
}

impl std::error::Error for InstanceTimedOut {}

/// Waiting for an instance to be `Normal` again.
#[derive(Clone, Debug)]
pub struct InstanceWait {
    instance_id: String,
    options: WaitOptions,
    last: Option<String>,
    left_normal: bool,
}

impl InstanceWait {
    /// Waits for `instance_id`; `options.grace` is how long a `Normal` that never changed is
    /// taken for a restore not yet begun.
    pub fn new(instance_id: impl Into<String>, options: WaitOptions) -> Self {
        InstanceWait {
            instance_id: instance_id.into(),
            options,
            last: None,
            left_normal: false,
        }
    }

    /// The poll to send.
    pub fn operation(&self) -> DescribeInstanceAttribute {
        DescribeInstanceAttribute::new(self.instance_id.as_str())
    }

    /// Takes one poll's answer, `elapsed` after the wait began.
    pub fn update(
        &mut self,
        answer: &DescribeInstanceAttributeResponse,
        elapsed: Duration,
    ) -> InstanceStep {
        let status = answer.status_of(&self.instance_id).map(str::to_owned);
        let changed = (status.is_some() && status != self.last)
            .then(|| status.clone())
            .flatten();
        if let Some(s) = &status {
            self.left_normal |= s != NORMAL;
            self.last = Some(s.clone());
        }
        let normal = status.as_deref() == Some(NORMAL);
        let next = if normal && (self.left_normal || elapsed >= self.options.grace) {
            InstanceNext::Done(NORMAL.to_owned())
        } else if elapsed >= self.options.timeout {
            InstanceNext::TimedOut(InstanceTimedOut {
                instance_id: self.instance_id.clone(),
                last_status: self.last.clone(),
                waited: elapsed,
            })
        } else {
            InstanceNext::PollAfter(
                self.options
                    .interval
                    .min(self.options.timeout.saturating_sub(elapsed)),
            )
        };
        InstanceStep { changed, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InstanceAttribute;

    fn answer(s: &str) -> DescribeInstanceAttributeResponse {
        DescribeInstanceAttributeResponse::new("R", InstanceAttribute::new("r-1", s))
    }

    #[test]
    fn a_normal_before_the_restore_shows_is_not_the_end() {
        let options = WaitOptions {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(100),
            grace: Duration::from_secs(10),
        };
        let mut w = InstanceWait::new("r-1", options);
        let s = w.update(&answer("Normal"), Duration::from_secs(1));
        assert_eq!(s.changed.as_deref(), Some("Normal"));
        assert_eq!(s.next, InstanceNext::PollAfter(Duration::from_secs(1)));
        let s = w.update(&answer("Normal"), Duration::from_secs(2));
        assert_eq!(s.changed, None);
        let s = w.update(&answer("Normal"), Duration::from_secs(10));
        assert_eq!(s.next, InstanceNext::Done("Normal".into()));
    }

    #[test]
    fn a_stuck_instance_times_out_naming_its_status() {
        let options = WaitOptions {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(8),
            grace: Duration::from_secs(1),
        };
        let mut w = InstanceWait::new("r-1", options);
        let s = w.update(&answer("BackupRecovering"), Duration::from_secs(4));
        assert_eq!(s.next, InstanceNext::PollAfter(Duration::from_secs(4)));
        let s = w.update(&answer("BackupRecovering"), Duration::from_secs(8));
        let InstanceNext::TimedOut(e) = s.next else {
            panic!("{s:?}")
        };
        assert_eq!(
            e.to_string(),
            "instance r-1 did not return to Normal within 8s; last status BackupRecovering"
        );
    }
}
