//! The one error type of the blocking client.
//!
//! The contract is the core's: each variant's `Display` describes only its own layer and
//! `source()` returns the cause, so that printing the chain never repeats a message. Variants
//! that hold a typed error of the core are transparent (that error's message, that error's
//! source); [`Error::RetriesExhausted`] says how many attempts were made and returns the last
//! failure as its source. [`Report`] prints a whole chain on one line.

use std::fmt;
use std::time::Duration;

use rkvstore_core::call::{TransportKind, WaitError};
use rkvstore_core::escape::controls;
use rkvstore_core::retry::Failure;
use rkvstore_core::{ApiError, EndpointError, ParamError, ParseError};

use crate::credentials::CredentialsError;

/// Everything the client can report. Messages never contain a secret or a token.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error.
    Api(Box<ApiError>),
    /// A request could not be built: a bad or repeated parameter, a bad instance or region ID.
    Param(ParamError),
    /// The endpoint given cannot be used.
    Endpoint(EndpointError),
    /// The network failed.
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// What the transport said (redacted).
        message: String,
    },
    /// No credentials, or unusable ones.
    Credentials(CredentialsError),
    /// The client is configured in a way that cannot work (no region and no endpoint, …).
    Config(String),
    /// The response was larger than the client's cap.
    ResponseTooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The response could not be read, or was not the operation's answer.
    Parse(ParseError),
    /// The service's clock, from its `Date` header, is further from this machine's than the
    /// client corrects by itself ([`crate::MAX_CLOCK_SKEW`]).
    ClockSkew {
        /// The service's time, `yyyy-MM-ddTHH:mm:ssZ`.
        server_time: String,
        /// Seconds the service's clock is ahead of this machine's (negative: behind).
        skew_secs: i64,
    },
    /// The job did not finish in time.
    WaitTimedOut {
        /// The job.
        job_id: u64,
        /// The last status seen, if the job was ever seen.
        last_status: Option<String>,
        /// The last progress seen, in percent.
        last_percent: Option<u8>,
        /// How long was waited.
        waited: Duration,
    },
    /// The job never appeared in DescribeBackupTasks within the grace period.
    JobNotFound {
        /// The job.
        job_id: u64,
        /// The instance.
        instance_id: String,
        /// How long it was looked for.
        waited: Duration,
    },
    /// Every attempt allowed was made; the last failure is the source.
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<Error>,
    },
    /// An error of the core that none of the kinds above describes (the core may add kinds).
    Core(rkvstore_core::Error),
}

impl Error {
    /// The API error, looking through [`Error::RetriesExhausted`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            Error::RetriesExhausted { last, .. } => last.api(),
            _ => None,
        }
    }

    /// The failure itself, looking through [`Error::RetriesExhausted`].
    pub fn root(&self) -> &Error {
        match self {
            Error::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }

    /// `true` when the request may have reached the service and run, so that a state-changing
    /// action (a backup) may have started although an error is reported: a timeout or a lost
    /// answer, a 5xx or a transient code (`ServiceUnavailable`, `InternalError`, …, whatever
    /// the status), a 2xx answer that could not be read. `false` when the request certainly
    /// did not run: it was never sent or could not be built, or it was refused (any other API
    /// error or error status, throttling whatever its status). This is the rule the retry
    /// policy applied ([`rkvstore_core::retry::Failure::may_have_run`]), so what is reported
    /// agrees with whether the request was sent again.
    pub fn request_may_have_run(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => *kind != TransportKind::NotSent,
            Error::Api(api) => Failure::of_api(api).may_have_run(),
            // An answer that could not be read came from wherever the request reached, unless
            // it was an error status, which the policy judged like any other.
            Error::Parse(e) => Failure::of_unreadable(e).is_none_or(|f| f.may_have_run()),
            Error::ResponseTooLarge { .. } => true,
            Error::RetriesExhausted { last, .. } => last.request_may_have_run(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::Param(e) => e.fmt(f),
            Error::Endpoint(e) => e.fmt(f),
            Error::Parse(e) => e.fmt(f),
            Error::Credentials(e) => e.fmt(f),
            Error::Core(e) => e.fmt(f),
            Error::Transport { kind, message } => {
                let message = controls(message);
                match kind {
                    TransportKind::NotSent => write!(f, "could not connect: {message}"),
                    TransportKind::Timeout => write!(f, "timed out: {message}"),
                    _ => write!(f, "no answer from the endpoint: {message}"),
                }
            }
            Error::Config(msg) => f.write_str(&controls(msg)),
            Error::ResponseTooLarge { limit } => write!(
                f,
                "the response is larger than the {limit}-byte limit; raise it with \
                 max_response_bytes if this is expected"
            ),
            Error::ClockSkew {
                server_time,
                skew_secs,
            } => {
                let hours = skew_secs.unsigned_abs() / 3600;
                let side = if *skew_secs > 0 { "ahead of" } else { "behind" };
                write!(
                    f,
                    "the service's clock ({server_time}) is {hours} h {side} this machine's, \
                     more than the {} h the client corrects by itself; set this machine's \
                     clock right (NTP) and try again",
                    crate::MAX_CLOCK_SKEW.as_secs() / 3600
                )
            }
            Error::WaitTimedOut {
                job_id,
                last_status,
                last_percent,
                waited,
            } => WaitError::TimedOut {
                job_id: *job_id,
                last_status: last_status.clone(),
                last_percent: *last_percent,
                waited: *waited,
            }
            .fmt(f),
            Error::JobNotFound {
                job_id,
                instance_id,
                waited,
            } => WaitError::JobNotFound {
                job_id: *job_id,
                instance_id: instance_id.clone(),
                waited: *waited,
            }
            .fmt(f),
            Error::RetriesExhausted { attempts, .. } => {
                write!(f, "gave up after {attempts} attempts")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Transparent variants pass on their inner error's own source; only the retry wrapper
        // has a cause of its own.
        match self {
            Error::Api(e) => e.source(),
            Error::Param(e) => e.source(),
            Error::Endpoint(e) => e.source(),
            Error::Parse(e) => e.source(),
            Error::Credentials(e) => e.source(),
            Error::Core(e) => e.source(),
            Error::RetriesExhausted { last, .. } => Some(last.as_ref()),
            _ => None,
        }
    }
}

impl From<rkvstore_core::Error> for Error {
    fn from(e: rkvstore_core::Error) -> Self {
        use rkvstore_core::Error as Core;
        match e {
            Core::Api(api) => Error::Api(api),
            Core::Parse(p) => Error::Parse(p),
            Core::Param(p) => Error::Param(p),
            Core::Endpoint(e) => Error::Endpoint(e),
            Core::Transport(t) => match t.kind {
                TransportKind::TooLarge { limit } => Error::ResponseTooLarge { limit },
                kind => Error::Transport {
                    kind,
                    message: t.message,
                },
            },
            Core::ClockSkew {
                server_time,
                skew_secs,
                ..
            } => Error::ClockSkew {
                server_time,
                skew_secs,
            },
            Core::RetriesExhausted { attempts, last } => Error::RetriesExhausted {
                attempts,
                last: Box::new(Error::from(*last)),
            },
            Core::Wait(WaitError::JobNotFound {
                job_id,
                instance_id,
                waited,
            }) => Error::JobNotFound {
                job_id,
                instance_id,
                waited,
            },
            Core::Wait(WaitError::TimedOut {
                job_id,
                last_status,
                last_percent,
                waited,
            }) => Error::WaitTimedOut {
                job_id,
                last_status,
                last_percent,
                waited,
            },
            other => Error::Core(other),
        }
    }
}

impl From<ParamError> for Error {
    fn from(e: ParamError) -> Self {
        Error::Param(e)
    }
}

impl From<EndpointError> for Error {
    fn from(e: EndpointError) -> Self {
        Error::Endpoint(e)
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}

/// An error and every cause after it on one line, `outer: cause: …`, for a person.
///
/// ```
/// use rkvstore_blocking::{Error, Report};
/// let e = Error::RetriesExhausted {
///     attempts: 3,
///     last: Box::new(Error::ResponseTooLarge { limit: 10 }),
/// };
/// assert_eq!(
///     Report(&e).to_string(),
///     "gave up after 3 attempts: the response is larger than the 10-byte limit; raise it \
///      with max_response_bytes if this is expected"
/// );
/// ```
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}
