//! The whole call, as deterministic state machines any transport can drive.
//!
//! A [`Call`] owns everything between "send this operation" and "here is its typed answer" that
//! does not touch the outside world: signing each attempt anew (a fresh nonce and time every
//! time), reading the answer ([`crate::response::read_answer`]: the shape check, the API error,
//! the token hidden), correcting the clock from the service's `Date` once on
//! `InvalidTimeStamp.Expired` (bounded, so a server days away is an error), and the retry rules
//! ([`crate::retry`]), including never sending twice an action that may have run.
//!
//! The transport's loop is short: ask for the next request, send it, hand back the answer (or
//! the failure), and do what the [`Step`] says.
//!
//! ```
//! use std::time::Duration;
//! use rkvstore_core::call::{Answer, Call, CallPolicy, Step};
//! use rkvstore_core::{Credentials, DescribeBackupTasks, Endpoint, Timestamp};
//!
//! let creds = Credentials::new("LTAIexample", "secret");
//! let endpoint = Endpoint::parse("http://127.0.0.1:8080")?;
//! let op = DescribeBackupTasks::new("r-demo");
//! let mut call = Call::for_operation(&op, endpoint, &CallPolicy::default())?;
//! let now = Timestamp::parse_iso8601("2026-01-01T00:00:00Z").unwrap();
//!
//! // The first attempt is throttled, with a hint to wait 300 ms.
//! let _request = call.next_request(&creds, now, "nonce-1")?;
//! let body = br#"{"RequestId":"R1","Code":"Throttling.User","Message":"slow down"}"#;
//! let step = call.answer(Answer::new(400, body).retry_after(Some("300")), 0.5);
//! assert!(matches!(step, Step::Again { delay, .. } if delay == Duration::from_millis(300)));
//!
//! // The second, signed anew with another nonce, succeeds.
//! let request = call.next_request(&creds, now.offset(1), "nonce-2")?;
//! assert!(request.url().contains("SignatureNonce=nonce-2"));
//! let body = br#"{"RequestId":"R2","InstanceId":"r-demo","BackupJobs":[]}"#;
//! match call.answer(Answer::new(200, body), 0.5) {
//!     Step::Done(tasks) => assert_eq!(tasks.request_id, "R2"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), rkvstore_core::Error>(())
//! ```

mod transport;
mod wait;

use std::marker::PhantomData;
use std::time::Duration;

pub use transport::{TransportError, TransportKind};
pub use wait::{JobWait, WaitError, WaitNext, WaitOptions, WaitStep};

use crate::response::{read_answer, Shape};
use crate::retry::{parse_retry_after, Decision, Failure, GiveUp, RetryPolicy};
use crate::{
    sign, Credentials, Endpoint, Error, Format, Operation, RpcRequest, SignatureVersion,
    SignedRequest, SigningParams, Timestamp,
};

/// The code with which the service refuses a request whose timestamp is too far from its clock.
const EXPIRED: &str = "InvalidTimeStamp.Expired";

/// How a call signs and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallPolicy {
    /// Attempts and backoff.
    pub retry: RetryPolicy,
    /// The signature algorithm.
    pub signature: SignatureVersion,
    /// The largest clock correction taken from a `Date` header; beyond it the call fails with
    /// [`Error::ClockSkew`].
    pub max_clock_skew: Duration,
}

impl Default for CallPolicy {
    /// The default retry policy, signature 1.0, and clock corrections of up to 24 hours.
    fn default() -> Self {
        CallPolicy {
            retry: RetryPolicy::default(),
            signature: SignatureVersion::V1,
            max_clock_skew: Duration::from_secs(24 * 3600),
        }
    }
}

impl CallPolicy {
    /// This policy with `retry`.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// This policy signing with `version`.
    pub fn signature(mut self, version: SignatureVersion) -> Self {
        self.signature = version;
        self
    }

    /// This policy correcting the clock by at most `limit`.
    pub fn max_clock_skew(mut self, limit: Duration) -> Self {
        self.max_clock_skew = limit;
        self
    }
}

/// An answer as the transport received it: the status, the headers the call reads, the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Date` header, read for clock-skew correction.
    pub date: Option<&'a str>,
    /// The `x-acs-retry-after` header (milliseconds), honoured when retrying.
    pub retry_after: Option<&'a str>,
    /// The whole body.
    pub body: &'a [u8],
}

impl<'a> Answer<'a> {
    /// An answer with `status` and `body` and no headers of interest.
    pub fn new(status: u16, body: &'a [u8]) -> Self {
        Answer {
            status,
            date: None,
            retry_after: None,
            body,
        }
    }

    /// With the `Date` header's value.
    pub fn date(mut self, date: Option<&'a str>) -> Self {
        self.date = date;
        self
    }

    /// With the `x-acs-retry-after` header's value.
    pub fn retry_after(mut self, retry_after: Option<&'a str>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// Why a call sends again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// The attempt failed in a way worth another try.
    Failed(Error),
    /// The service's clock differs from ours by this many seconds; the next attempt is signed
    /// with the corrected time.
    ClockSkew(i64),
}

/// What the transport does next.
///
/// Not `#[non_exhaustive]` on purpose: every transport must handle every step, so a new one
/// would be a breaking change whatever the attribute says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// The call is over: the typed answer.
    Done(T),
    /// Wait `delay`, then ask for the next request ([`Call::next_request`]) and send it.
    Again {
        /// How long to wait first.
        delay: Duration,
        /// Why, for logs.
        because: Retry,
    },
    /// The call is over: it failed.
    Failed(Error),
}

/// One call of an operation, from its first attempt to its typed answer or error.
#[derive(Debug)]
pub struct Call<T> {
    request: RpcRequest,
    idempotent: bool,
    policy: CallPolicy,
    /// Attempts signed so far (a re-signing after a clock correction is not a new attempt).
    attempt: u32,
    skew: i64,
    skew_corrected: bool,
    /// The next request repeats the attempt with a corrected clock rather than making a new one.
    resign: bool,
    /// The request in flight and the local time it was signed at.
    in_flight: Option<(SignedRequest, Timestamp)>,
    /// Sent without a signature (STS `AssumeRoleWithOIDC`).
    unsigned: bool,
    output: PhantomData<fn() -> T>,
}

impl<T: Shape> Call<T> {
    /// A call of `request`. Pass `idempotent: false` for an action that changes state, so
    /// that it is never sent again once it may have run.
    pub fn new(request: RpcRequest, idempotent: bool, policy: &CallPolicy) -> Self {
        Call {
            request,
            idempotent,
            policy: *policy,
            attempt: 0,
            skew: 0,
            skew_corrected: false,
            resign: false,
            in_flight: None,
            unsigned: false,
            output: PhantomData,
        }
    }

    /// A call of a typed operation at `endpoint`, in JSON.
    pub fn for_operation<O: Operation<Output = T>>(
        op: &O,
        endpoint: Endpoint,
        policy: &CallPolicy,
    ) -> Result<Self, Error> {
        Ok(Call::new(op.to_request(endpoint)?, O::IDEMPOTENT, policy))
    }

    /// The same call asking for `format` (signature 1.0; ACS3 answers in JSON).
    pub fn format(mut self, format: Format) -> Self {
        self.request = self.request.with_format(format);
        self
    }

    /// The same call sent without a signature, for the actions the service takes anonymously
    /// (STS `AssumeRoleWithOIDC`); [`Call::next_request`] then ignores the credentials. The
    /// retry rules and the clock correction stay as they are.
    pub fn unsigned(mut self) -> Self {
        self.unsigned = true;
        self
    }

    /// Starts from a known clock correction (seconds to add to the local clock), such as one
    /// an earlier call learnt.
    pub fn clock_skew(mut self, secs: i64) -> Self {
        self.skew = secs;
        self
    }

    /// The clock correction in use, in seconds; keep it for the next call.
    pub fn skew(&self) -> i64 {
        self.skew
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The request this call sends, unsigned.
    pub fn request(&self) -> &RpcRequest {
        &self.request
    }

    /// Signs the next attempt with the local time `now` (the call adds its clock correction)
    /// and a fresh `nonce`, and returns the request to send.
    pub fn next_request(
        &mut self,
        credentials: &Credentials,
        now: Timestamp,
        nonce: &str,
    ) -> Result<&SignedRequest, Error> {
        let time = now.offset(self.skew);
        let signed = if self.unsigned {
            crate::sign_unsigned(&self.request, time, nonce)?
        } else {
            sign(
                &self.request,
                &SigningParams {
                    credentials,
                    time,
                    nonce,
                    version: self.policy.signature,
                },
            )?
        };
        // A re-signing after a clock correction is the same attempt again, not a new one.
        if !std::mem::take(&mut self.resign) {
            self.attempt += 1;
        }
        let (signed, _) = self.in_flight.insert((signed, now));
        Ok(signed)
    }

    /// Takes the answer to the last request and says what happens next. `jitter` is a random
    /// number in `[0, 1)` for the backoff.
    pub fn answer(&mut self, answer: Answer<'_>, jitter: f64) -> Step<T> {
        let Some((signed, signed_at)) = self.in_flight.take() else {
            return Step::Failed(no_request_in_flight());
        };
        let error = match read_answer::<T>(&signed, answer.status, answer.body) {
            Ok(value) => return Step::Done(value),
            Err(e) => e,
        };
        // A 2xx body that could not be read will not improve with a retry (an error status
        // with a proxy's page in place of an API error may: it goes on to the policy).
        if (200..300).contains(&answer.status) && !matches!(error, Error::Api(_)) {
            return Step::Failed(error);
        }
        if let Some(step) = self.correct_skew(&error, answer.date, signed_at) {
            return step;
        }
        let code = error.api().map(|a| a.code.clone());
        let failure = Failure::Answer {
            status: answer.status,
            code: code.as_deref(),
            retry_after: answer.retry_after.and_then(parse_retry_after),
        };
        self.decide(&failure, error, jitter)
    }

    /// Takes the transport's failure to deliver the last request and says what happens next.
    pub fn transport_failed(&mut self, mut error: TransportError, jitter: f64) -> Step<T> {
        let Some((signed, _)) = self.in_flight.take() else {
            return Step::Failed(no_request_in_flight());
        };
        // The message may quote the URL, and with it the security token.
        error.message = signed.redact(&error.message);
        let failure = match error.kind {
            TransportKind::NotSent => Failure::NotSent,
            TransportKind::NoAnswer | TransportKind::Timeout => Failure::NoAnswer,
            // A body over the cap will not shrink on a retry.
            TransportKind::TooLarge { .. } => return Step::Failed(error.into()),
        };
        self.decide(&failure, error.into(), jitter)
    }

    /// On `InvalidTimeStamp.Expired` with a `Date` that is a date, once per call: the
    /// correction, or the error when the clocks are further apart than the policy allows.
    fn correct_skew(
        &mut self,
        error: &Error,
        date: Option<&str>,
        signed_at: Timestamp,
    ) -> Option<Step<T>> {
        if self.skew_corrected || error.api().is_none_or(|a| a.code != EXPIRED) {
            return None;
        }
        let server = Timestamp::parse_http_date(date?)?;
        let skew = server.seconds_since(signed_at).unwrap_or(i64::MAX);
        let limit = self.policy.max_clock_skew.as_secs();
        if skew.unsigned_abs() > limit {
            return Some(Step::Failed(Error::ClockSkew {
                server_time: server.to_string(),
                skew_secs: skew,
                limit_secs: limit,
            }));
        }
        self.skew = skew;
        self.skew_corrected = true;
        self.resign = true;
        Some(Step::Again {
            delay: Duration::ZERO,
            because: Retry::ClockSkew(skew),
        })
    }

    fn decide(&mut self, failure: &Failure<'_>, error: Error, jitter: f64) -> Step<T> {
        match self
            .policy
            .retry
            .decide(self.attempt, failure, self.idempotent, jitter)
        {
            Decision::RetryAfter(delay) => Step::Again {
                delay,
                because: Retry::Failed(error),
            },
            Decision::GiveUp(GiveUp::Exhausted) if self.attempt > 1 => {
                Step::Failed(Error::RetriesExhausted {
                    attempts: self.attempt,
                    last: Box::new(error),
                })
            }
            Decision::GiveUp(_) => Step::Failed(error),
        }
    }
}

/// A transport that reports an answer without having asked for a request is driving the call
/// wrongly; it gets an error rather than a panic.
fn no_request_in_flight() -> Error {
    Error::Transport(TransportError::new(
        TransportKind::NotSent,
        "an answer was reported before any request was sent (call next_request first)",
    ))
}

#[cfg(test)]
mod tests;
