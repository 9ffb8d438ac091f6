//! Calling STS: the core's call state machine over the client's transport, with retries and the
//! clock correction like every API call.

use std::time::Duration;

use rkvstore_core::call::{Call, CallPolicy, Step};
use rkvstore_core::sts::{AssumeRoleResponse, TemporaryCredentials};
use rkvstore_core::{Credentials, Endpoint, Operation, Timestamp};

use crate::random;
use crate::transport::Transport;

/// STS is given this long to connect, as the official libraries do.
const CONNECT: Duration = Duration::from_secs(5);
/// And this long to answer.
const READ: Duration = Duration::from_secs(10);

/// Where STS is and how to reach it.
pub(super) struct Sts {
    /// `None` only if the central endpoint's name failed to parse, which it does not; the
    /// call then fails instead of the constructor panicking.
    endpoint: Option<Endpoint>,
    transport: Transport,
}

impl Sts {
    pub(super) fn new(endpoint: Option<Endpoint>) -> Self {
        let ua = concat!("rkvstore/", env!("CARGO_PKG_VERSION"), " (Rust; ureq)");
        Sts {
            endpoint,
            transport: Transport::new(CONNECT, READ, ua, 1 << 20),
        }
    }

    /// The endpoint, for messages.
    pub(super) fn host(&self) -> String {
        self.endpoint
            .as_ref()
            .map_or_else(|| "(none)".to_owned(), ToString::to_string)
    }

    /// Runs `op`, signed with `caller` (or unsigned when `caller` is `None`), to its
    /// credentials; the error is the client's, as a person reads it.
    pub(super) fn call<O: Operation<Output = AssumeRoleResponse>>(
        &self,
        op: &O,
        caller: Option<&Credentials>,
    ) -> Result<TemporaryCredentials, crate::Error> {
        let endpoint = self
            .endpoint
            .clone()
            .ok_or_else(|| crate::Error::Config("no STS endpoint".into()))?;
        let mut call = Call::for_operation(op, endpoint, &CallPolicy::default())?;
        if caller.is_none() {
            call = call.unsigned();
        }
        let nobody = Credentials::new("", "");
        let creds = caller.unwrap_or(&nobody);
        loop {
            let signed = call.next_request(creds, now(), &random::nonce())?.clone();
            let step = match self.transport.send(&signed) {
                Ok(got) => call.answer(got.answer(), random::unit()),
                Err(e) => call.transport_failed(e, random::unit()),
            };
            match step {
                Step::Done(answer) => {
                    return answer
                        .temporary_credentials()
                        .map_err(|e| crate::Error::Config(e.to_string()))
                }
                Step::Failed(e) => return Err(e.into()),
                Step::Again { delay, .. } => std::thread::sleep(delay),
            }
        }
    }
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}
