//! Sending a signed request over ureq and reading the answer within limits.

use std::time::Duration;

use rkvstore_core::SignedRequest;
use ureq::Agent;

use crate::error::{Error, TransportKind};

/// An answer: status, the headers the client uses, and the body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) date: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

pub(crate) struct Transport {
    agent: Agent,
    max_body: u64,
}

impl Transport {
    pub(crate) fn new(connect: Duration, read: Duration, user_agent: &str, max_body: u64) -> Self {
        let config = Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_recv_response(Some(read))
            .timeout_recv_body(Some(read))
            .timeout_send_request(Some(read))
            .timeout_send_body(Some(read))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(user_agent)
            .build();
        Transport {
            agent: config.into(),
            max_body,
        }
    }

    pub(crate) fn send(&self, signed: &SignedRequest) -> Result<Answer, Error> {
        let mut builder = ureq::http::Request::builder()
            .method(signed.method().as_str())
            .uri(signed.url());
        for (name, value) in signed.headers() {
            // ureq writes Host from the URL, which is the same authority the signature covers.
            if *name != "host" {
                builder = builder.header(*name, value.as_str());
            }
        }
        let request = builder
            .body(signed.body().to_vec())
            .map_err(|e| Error::Config(format!("the request could not be built: {e}")))?;
        let mut response = self.agent.run(request).map_err(|e| classify(e, signed))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let date = header("date");
        let retry_after = header("x-acs-retry-after");
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::ResponseTooLarge {
                    limit: self.max_body,
                },
                other => classify(other, signed),
            })?;
        Ok(Answer {
            status,
            date,
            retry_after,
            body,
        })
    }
}

/// Sorts a ureq error by what it says about the request: never sent, or fate unknown. The
/// message is redacted, in case it quotes the URL and with it a security token.
fn classify(e: ureq::Error, signed: &SignedRequest) -> Error {
    use std::io::ErrorKind;
    use ureq::Timeout;
    let kind = match &e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::BadUri(_) => {
            TransportKind::NotSent
        }
        ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => TransportKind::NotSent,
        ureq::Error::Timeout(_) => TransportKind::Timeout,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
                    | ErrorKind::NetworkDown
                    | ErrorKind::AddrNotAvailable
            ) =>
        {
            TransportKind::NotSent
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => TransportKind::Timeout,
        _ => TransportKind::NoAnswer,
    };
    Error::Transport {
        kind,
        message: signed.redact(&e.to_string()),
    }
}
