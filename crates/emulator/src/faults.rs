//! Faults to inject, so that clients can be tested against a misbehaving service.

use std::time::Duration;

/// One kind of misbehaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `400 Throttling.User`, optionally with an `x-acs-retry-after` header (milliseconds).
    /// The action does not run.
    Throttle {
        /// The `x-acs-retry-after` value in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// Answer `500 InternalError` or `503 ServiceUnavailable` without running the action.
    ServerError {
        /// 500 or 503 (other 5xx statuses are sent with `InternalError`).
        status: u16,
    },
    /// Run the action, then answer with a 5xx: the client cannot tell whether it ran.
    ErrorAfterProcessing {
        /// The status.
        status: u16,
    },
    /// Wait this long before handling the request.
    Slow(Duration),
    /// Run the action, then wait this long before answering (a client timeout leaves the
    /// outcome unknown).
    SlowAfterProcessing(Duration),
    /// Answer 200 with the first half of the real body.
    Truncated,
    /// Answer 200 with a body that is neither JSON nor XML.
    Malformed,
    /// Answer 200 with a body of this many bytes.
    Oversized(u64),
}

/// A fault and when it applies.
///
/// ```
/// use rkvstore_emulator::{Fault, FaultRule};
/// let rule = FaultRule::new(Fault::Throttle { retry_after_ms: Some(50) })
///     .action("DescribeBackupTasks")
///     .times(2);
/// assert_eq!(rule.remaining(), Some(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    fault: Fault,
    action: Option<String>,
    instance: Option<String>,
    remaining: Option<u32>,
}

impl FaultRule {
    /// `fault` on every request, until limited.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            fault,
            action: None,
            instance: None,
            remaining: None,
        }
    }

    /// Only for `action`.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Only for requests naming `instance`.
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// How many more times it fires; `None` for always.
    pub fn remaining(&self) -> Option<u32> {
        self.remaining
    }

    fn matches(&self, action: Option<&str>, instance: Option<&str>) -> bool {
        let ok = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == got)
        };
        self.remaining != Some(0) && ok(&self.action, action) && ok(&self.instance, instance)
    }
}

/// Takes the first rule matching this request, counting it down.
pub(crate) fn take(
    rules: &mut [FaultRule],
    action: Option<&str>,
    instance: Option<&str>,
) -> Option<Fault> {
    let rule = rules.iter_mut().find(|r| r.matches(action, instance))?;
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
    }
    Some(rule.fault.clone())
}
