//! When to try a request again, as a pure function, so that every transport retries the same
//! safe way.
//!
//! The rule that matters: an action that changes state (CreateBackup) is retried only when the
//! request certainly did not run. A connection that was refused never reached the service, and a
//! throttling answer is given before the action runs; a timeout, a 5xx or a transient code
//! (whatever the status) after the request was sent may hide a backup that did start, and
//! sending it again would start a second one. [`Failure::may_have_run`] is that rule, for the
//! policy and for anyone who reports on a failure.

use std::time::Duration;

use crate::{ApiError, ParseError};

/// What happened to one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The connection could not be made (refused, no route, DNS failure, connect timeout): the
    /// request never left.
    NotSent,
    /// The request was sent, or may have been, and no answer came (read timeout, reset,
    /// truncated response).
    NoAnswer,
    /// The service answered with an error.
    Answer {
        /// The HTTP status.
        status: u16,
        /// The API error code, when the body had one.
        code: Option<&'a str>,
        /// The `x-acs-retry-after` hint, when present.
        retry_after: Option<Duration>,
    },
}

impl<'a> Failure<'a> {
    /// The failure an API error is, as the policy judged it (less the retry hint, which does
    /// not change the judgement).
    pub fn of_api(api: &'a ApiError) -> Self {
        Failure::Answer {
            status: api.http_status,
            code: Some(&api.code),
            retry_after: None,
        }
    }

    /// The failure an error status with a body that is not an API error is (a proxy's page, a
    /// load balancer's 503); `None` for a parse error that came with no error status, such as
    /// a 2xx answer that is not the operation's, which the policy never retries.
    pub fn of_unreadable(error: &ParseError) -> Option<Self> {
        error.error_status.map(|status| Failure::Answer {
            status,
            code: None,
            retry_after: None,
        })
    }

    /// `true` for throttling: a throttling code, or HTTP 429, whatever else the answer says.
    /// The request was refused, so it is always worth another try, later.
    pub fn is_throttled(&self) -> bool {
        match *self {
            Failure::Answer { status, code, .. } => {
                status == 429 || code.is_some_and(is_throttling)
            }
            Failure::NotSent | Failure::NoAnswer => false,
        }
    }

    /// `true` when the request may have reached the service and run, so that an action that
    /// changes state must not be sent again: no answer came after it was sent, or the service
    /// answered with a server-side failure (a 5xx or a transient code, whatever the status).
    /// Throttling, whatever its status, says the request was refused, and one never sent
    /// certainly did not run. [`RetryPolicy::decide`] and the clients' "may the backup have
    /// started?" both ask this.
    ///
    /// ```
    /// use rkvstore_core::retry::Failure;
    /// let answer = |status, code| Failure::Answer { status, code: Some(code), retry_after: None };
    /// assert!(answer(400, "ServiceUnavailable").may_have_run());
    /// assert!(!answer(503, "ServiceUnavailable.Throttling").may_have_run());
    /// assert!(!answer(404, "InvalidInstanceId.NotFound").may_have_run());
    /// assert!(Failure::NoAnswer.may_have_run() && !Failure::NotSent.may_have_run());
    /// ```
    pub fn may_have_run(&self) -> bool {
        match *self {
            Failure::NotSent => false,
            Failure::NoAnswer => true,
            Failure::Answer { status, code, .. } => {
                !self.is_throttled()
                    && (code.is_some_and(is_transient) || (500..600).contains(&status))
            }
        }
    }
}

/// Why no further attempt is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiveUp {
    /// The error will not go away by trying again (a bad parameter, a missing instance).
    NotRetryable,
    /// The action changes state and may have run; repeating it could run it twice.
    MayHaveRun,
    /// Every allowed attempt was made.
    Exhausted,
}

/// The decision after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this long, with a fresh nonce and timestamp.
    RetryAfter(Duration),
    /// Stop and report the failure.
    GiveUp(GiveUp),
}

/// How many attempts and how long to wait between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// The first backoff ceiling; each further attempt doubles it.
    pub base_delay: Duration,
    /// The largest backoff ceiling, and the most a server's retry-after hint is honoured for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms doubling up to 20 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// `true` for the codes of an answer given before the action ran because of rate limits.
pub fn is_throttling(code: &str) -> bool {
    code.starts_with("Throttling") || code == "ServiceUnavailable.Throttling"
}

/// `true` for the codes of a server-side failure worth another try.
pub fn is_transient(code: &str) -> bool {
    matches!(
        code,
        "ServiceUnavailable" | "InternalError" | "ServiceTimeout" | "UnknownError"
    )
}

/// Reads the `x-acs-retry-after` header: a wait in milliseconds, as the official SDKs read it.
/// Missing, malformed, zero or negative values give `None`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(rkvstore_core::retry::parse_retry_after(" 1500 "), Some(Duration::from_millis(1500)));
/// assert_eq!(rkvstore_core::retry::parse_retry_after("soon"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let ms: u64 = value.trim().parse().ok()?;
    (ms > 0).then(|| Duration::from_millis(ms))
}

impl RetryPolicy {
    /// Decides what to do after attempt number `attempt` (1 for the first) failed.
    ///
    /// `idempotent` says whether the action may safely run twice. `jitter` is a random number
    /// in `[0, 1)` from the caller: the backoff is "full jitter", a uniform pick between zero
    /// and the ceiling, so that many clients throttled together do not retry together.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rkvstore_core::retry::{Decision, Failure, GiveUp, RetryPolicy};
    /// let policy = RetryPolicy::default();
    /// let timeout = Failure::NoAnswer;
    /// assert_eq!(policy.decide(1, &timeout, true, 0.5), Decision::RetryAfter(Duration::from_millis(100)));
    /// assert_eq!(policy.decide(1, &timeout, false, 0.5), Decision::GiveUp(GiveUp::MayHaveRun));
    /// assert_eq!(policy.decide(3, &timeout, true, 0.5), Decision::GiveUp(GiveUp::Exhausted));
    /// ```
    pub fn decide(
        &self,
        attempt: u32,
        failure: &Failure<'_>,
        idempotent: bool,
        jitter: f64,
    ) -> Decision {
        let mut hint = None;
        // A failure that may have run is worth another try only for an action that can run
        // twice; throttling and a request never sent always are.
        let retryable = match *failure {
            Failure::NotSent | Failure::NoAnswer => true,
            Failure::Answer { retry_after, .. } => {
                hint = retry_after;
                failure.is_throttled() || failure.may_have_run()
            }
        };
        if !retryable {
            return Decision::GiveUp(GiveUp::NotRetryable);
        }
        if !idempotent && failure.may_have_run() {
            return Decision::GiveUp(GiveUp::MayHaveRun);
        }
        if attempt >= self.max_attempts {
            return Decision::GiveUp(GiveUp::Exhausted);
        }
        if let Some(hint) = hint {
            return Decision::RetryAfter(hint.min(self.max_delay));
        }
        Decision::RetryAfter(self.backoff(attempt, jitter))
    }

    /// The full-jitter backoff after attempt `attempt`.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ceiling.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };

    fn answer(status: u16, code: &str) -> Failure<'_> {
        Failure::Answer {
            status,
            code: Some(code),
            retry_after: None,
        }
    }

    /// For every kind of answer, both kinds of action: the decision, and what `may_have_run`
    /// and `is_throttled` say, which reports rely on and which must agree with the decision.
    #[test]
    fn the_decision_follows_may_have_run_and_is_throttled() {
        let bare = |status| Failure::Answer {
            status,
            code: None,
            retry_after: None,
        };
        // failure, throttled, may have run, retried when idempotent
        let cases = [
            (Failure::NotSent, false, false, true),
            (Failure::NoAnswer, false, true, true),
            (answer(400, "Throttling.User"), true, false, true),
            (
                answer(503, "ServiceUnavailable.Throttling"),
                true,
                false,
                true,
            ),
            (answer(429, "Anything"), true, false, true),
            (bare(429), true, false, true),
            (answer(400, "ServiceUnavailable"), false, true, true),
            (answer(200, "InternalError"), false, true, true),
            (answer(500, "Whatever"), false, true, true),
            (bare(502), false, true, true),
            (bare(403), false, false, false),
            (
                answer(404, "InvalidInstanceId.NotFound"),
                false,
                false,
                false,
            ),
        ];
        for (f, throttled, ran, retried) in cases {
            assert_eq!(f.is_throttled(), throttled, "{f:?}");
            assert_eq!(f.may_have_run(), ran, "{f:?}");
            let again =
                |idempotent| matches!(P.decide(1, &f, idempotent, 1.0), Decision::RetryAfter(_));
            assert_eq!(again(true), retried, "{f:?}");
            // An action that changes state is retried exactly when it certainly did not run.
            assert_eq!(again(false), retried && !ran, "{f:?}");
            if ran && retried {
                assert_eq!(
                    P.decide(1, &f, false, 1.0),
                    Decision::GiveUp(GiveUp::MayHaveRun),
                    "{f:?}"
                );
            }
        }
    }

    #[test]
    fn state_changing_actions_retry_only_when_certainly_not_run() {
        let retry = |f: &Failure<'_>| matches!(P.decide(1, f, false, 1.0), Decision::RetryAfter(_));
        assert!(retry(&Failure::NotSent));
        assert!(retry(&answer(400, "Throttling.User")));
        assert!(!retry(&Failure::NoAnswer));
        assert!(!retry(&answer(500, "InternalError")));
        assert!(!retry(&answer(503, "ServiceUnavailable")));
        assert!(!retry(&answer(404, "InvalidInstanceId.NotFound")));
    }

    #[test]
    fn reads_retry_transient_failures_but_not_client_errors() {
        for f in [
            Failure::NotSent,
            Failure::NoAnswer,
            answer(503, "ServiceUnavailable"),
            answer(500, "InternalError"),
            answer(502, ""),
            answer(400, "Throttling"),
        ] {
            assert!(
                matches!(P.decide(1, &f, true, 1.0), Decision::RetryAfter(_)),
                "{f:?}"
            );
        }
        assert_eq!(
            P.decide(1, &answer(400, "InvalidParameter"), true, 1.0),
            Decision::GiveUp(GiveUp::NotRetryable)
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_hints() {
        assert_eq!(P.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(P.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(P.backoff(3, 0.5), Duration::from_millis(200));
        assert_eq!(P.backoff(40, 1.0), Duration::from_secs(1));
        assert_eq!(P.backoff(2, f64::NAN), Duration::ZERO);
        let hinted = Failure::Answer {
            status: 400,
            code: Some("Throttling.User"),
            retry_after: Some(Duration::from_millis(700)),
        };
        assert_eq!(
            P.decide(1, &hinted, false, 0.0),
            Decision::RetryAfter(Duration::from_millis(700))
        );
        assert_eq!(
            P.decide(4, &hinted, true, 0.0),
            Decision::GiveUp(GiveUp::Exhausted)
        );
    }
}
