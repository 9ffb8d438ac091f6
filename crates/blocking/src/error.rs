//! The one error type of the blocking client.

use std::fmt;
use std::time::Duration;

use rkvstore_core::escape::controls;
use rkvstore_core::{ApiError, ParseError};

use crate::credentials::CredentialsError;

/// How a request failed on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made; the request never left.
    NotSent,
    /// The request was sent (or may have been) and no usable answer came.
    NoAnswer,
    /// A timeout, which leaves it unknown whether the request ran.
    Timeout,
}

/// Everything the client can report. Messages never contain a secret or a token.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The service answered with an error.
    Api(Box<ApiError>),
    /// A request could not be built: a bad parameter, instance ID, endpoint.
    Invalid(rkvstore_core::Error),
    /// The network failed.
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// What the transport said.
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
    /// The response could not be read.
    Parse(ParseError),
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
    /// The service's clock, from its `Date` header, is further from this machine's than the
    /// client corrects by itself ([`crate::MAX_CLOCK_SKEW`]).
    ClockSkew {
        /// The service's time, `yyyy-MM-ddTHH:mm:ssZ`.
        server_time: String,
        /// Seconds the service's clock is ahead of this machine's (negative: behind).
        skew_secs: i64,
    },
    /// The last error after every attempt allowed was made.
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<Error>,
    },
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

    /// `true` when the request may have reached the service and run, so that a state-changing
    /// action (a backup) may have started although an error is reported: a timeout or a lost
    /// answer, a 5xx, an answer that could not be read. `false` when the request certainly did
    /// not run: it was never sent or could not be built, or the service refused it (a 4xx API
    /// error, throttling).
    pub fn request_may_have_run(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => *kind != TransportKind::NotSent,
            Error::Api(api) => api.http_status >= 500,
            Error::ResponseTooLarge { .. } | Error::Parse(_) => true,
            Error::RetriesExhausted { last, .. } => last.request_may_have_run(),
            _ => false,
        }
    }

    /// The failure itself, looking through [`Error::RetriesExhausted`].
    pub fn root(&self) -> &Error {
        match self {
            Error::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => e.fmt(f),
            Error::Invalid(e) => e.fmt(f),
            Error::Transport { kind, message } => {
                let message = controls(message);
                match kind {
                    TransportKind::NotSent => write!(f, "could not connect: {message}"),
                    TransportKind::NoAnswer => write!(f, "no answer from the endpoint: {message}"),
                    TransportKind::Timeout => write!(f, "timed out: {message}"),
                }
            }
            Error::Credentials(e) => e.fmt(f),
            Error::Config(msg) => f.write_str(msg),
            Error::ResponseTooLarge { limit } => write!(
                f,
                "the response is larger than the {limit}-byte limit; raise it with \
                 max_response_bytes if this is expected"
            ),
            Error::Parse(e) => e.fmt(f),
            Error::WaitTimedOut {
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
                match (last_status.as_deref().map(controls), last_percent) {
                    (Some(s), Some(p)) => write!(f, "; last status {s} at {p}%"),
                    (Some(s), None) => write!(f, "; last status {s}"),
                    _ => f.write_str("; the job was never seen"),
                }
            }
            Error::JobNotFound {
                job_id,
                instance_id,
                waited,
            } => write!(
                f,
                "backup job {job_id} of instance {instance_id} did not appear in \
                 DescribeBackupTasks within {}s; check the job ID",
                waited.as_secs()
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
            Error::RetriesExhausted { attempts, last } => {
                write!(f, "{last} (gave up after {attempts} attempts)")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Api(e) => Some(e.as_ref()),
            Error::Invalid(e) => Some(e),
            Error::Credentials(e) => Some(e),
            Error::Parse(e) => Some(e),
            Error::RetriesExhausted { last, .. } => Some(last.as_ref()),
            _ => None,
        }
    }
}

impl From<rkvstore_core::Error> for Error {
    fn from(e: rkvstore_core::Error) -> Self {
        match e {
            rkvstore_core::Error::Api(api) => Error::Api(api),
            rkvstore_core::Error::Parse(p) => Error::Parse(p),
            other => Error::Invalid(other),
        }
    }
}

impl From<rkvstore_core::ParamError> for Error {
    fn from(e: rkvstore_core::ParamError) -> Self {
        Error::Invalid(e.into())
    }
}

impl From<CredentialsError> for Error {
    fn from(e: CredentialsError) -> Self {
        Error::Credentials(e)
    }
}
