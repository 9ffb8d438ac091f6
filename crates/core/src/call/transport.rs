//! What a transport reports when no answer came back.

use std::fmt;

/// How sending a request failed, as far as retrying it is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, no route, DNS failure, connect timeout): the
    /// request never left, so it certainly did not run.
    NotSent,
    /// The request was sent, or may have been, and no usable answer came (a reset, a body cut
    /// short): it may have run.
    NoAnswer,
    /// A read or write timeout, which leaves it unknown whether the request ran.
    Timeout,
    /// The answer was larger than the transport's cap. Trying again would not make it smaller.
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
}

/// A transport failure: its kind and what the transport said.
///
/// The message is redacted by the call before it is shown (it may quote the URL, and with it a
/// security token).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportKind,
    /// What the transport said.
    pub message: String,
}

impl TransportError {
    /// A failure of `kind`, described by `message`.
    pub fn new(kind: TransportKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = crate::escape::controls(&self.message);
        match self.kind {
            TransportKind::NotSent => write!(f, "could not connect: {message}"),
            TransportKind::NoAnswer => write!(f, "no answer from the endpoint: {message}"),
            TransportKind::Timeout => write!(f, "timed out: {message}"),
            TransportKind::TooLarge { limit } => write!(
                f,
                "the response is larger than the {limit}-byte limit; raise it with \
                 max_response_bytes if this is expected"
            ),
        }
    }
}

impl std::error::Error for TransportError {}
