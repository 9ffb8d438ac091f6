//! The one error type of the core, with a typed error for each way things fail.
//!
//! The contract, as in rustls and aws-sigv4: each variant's `Display` describes only its own
//! layer, and `source()` returns the cause, so that printing the chain never repeats a message.
//! A variant that only wraps a typed error is transparent: it shows that error's message and
//! returns that error's own source. [`Error::RetriesExhausted`] says how many attempts were made
//! and returns the last failure as its source.

use std::fmt;

use crate::call::{TransportError, WaitError};
use crate::{ApiError, EndpointError, ParamError, ParseError};

/// Everything the core can report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A request was built wrongly: a bad or repeated parameter, a bad identifier.
    Param(ParamError),
    /// An endpoint override could not be used.
    Endpoint(EndpointError),
    /// A response could not be read, or was not the operation's answer.
    Parse(ParseError),
    /// The service answered with an error.
    Api(Box<ApiError>),
    /// The transport could not deliver the request or bring back an answer.
    Transport(TransportError),
    /// The service's clock, from its `Date` header, is further from this machine's than a call
    /// corrects by itself ([`crate::call::CallPolicy::max_clock_skew`]).
    ClockSkew {
        /// The service's time, `yyyy-MM-ddTHH:mm:ssZ`.
        server_time: String,
        /// Seconds the service's clock is ahead of this machine's (negative: behind).
        skew_secs: i64,
        /// The largest correction allowed, in seconds.
        limit_secs: u64,
    },
    /// Every attempt the retry policy allows failed; the last failure is the source.
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<Error>,
    },
    /// Waiting for a backup job failed.
    Wait(WaitError),
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

    /// The error answer this is, as the retry policy judged it: an API error, or an error
    /// status whose body is not one; looking through [`Error::RetriesExhausted`].
    pub fn answer(&self) -> Option<crate::retry::Failure<'_>> {
        match self {
            Error::Api(e) => Some(crate::retry::Failure::of_api(e)),
            Error::Parse(e) => crate::retry::Failure::of_unreadable(e),
            Error::RetriesExhausted { last, .. } => last.answer(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Param(e) => e.fmt(f),
            Error::Endpoint(e) => e.fmt(f),
            Error::Parse(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
            Error::Transport(e) => e.fmt(f),
            Error::Wait(e) => e.fmt(f),
            Error::ClockSkew {
                server_time,
                skew_secs,
                limit_secs,
            } => {
                let hours = skew_secs.unsigned_abs() / 3600;
                let side = if *skew_secs > 0 { "ahead of" } else { "behind" };
                write!(
                    f,
                    "the service's clock ({server_time}) is {hours} h {side} this machine's, more \
                     than the {} h the client corrects by itself; set this machine's clock \
                     right (NTP) and try again",
                    limit_secs / 3600
                )
            }
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
            Error::Param(e) => e.source(),
            Error::Endpoint(e) => e.source(),
            Error::Parse(e) => e.source(),
            Error::Api(e) => e.source(),
            Error::Transport(e) => e.source(),
            Error::Wait(e) => e.source(),
            Error::ClockSkew { .. } => None,
            Error::RetriesExhausted { last, .. } => Some(last.as_ref()),
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

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Self {
        Error::Wait(e)
    }
}
