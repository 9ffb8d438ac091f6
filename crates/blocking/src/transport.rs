//! Sending a signed request over ureq and reading the answer within limits.

use std::time::Duration;

use rkvstore_core::call::{Answer, TransportError, TransportKind};
use rkvstore_core::SignedRequest;
use ureq::Agent;

/// An answer as received: status, the headers the call reads, and the body.
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) date: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    /// The answer as the call state machine takes it.
    pub(crate) fn answer(&self) -> Answer<'_> {
        Answer::new(self.status, &self.body)
            .date(self.date.as_deref())
            .retry_after(self.retry_after.as_deref())
    }
}

pub(crate) struct Transport {
    agent: Agent,
    max_body: u64,
    /// Added to the message when the host name does not resolve, such as "unknown region
    /// cn-hangzu; did you mean cn-hangzhou?" when the host was made from a region ID.
    unresolved_hint: Option<String>,
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
            unresolved_hint: None,
        }
    }

    /// Sets what a failed name lookup adds to its message.
    pub(crate) fn unresolved_hint(mut self, hint: Option<String>) -> Self {
        self.unresolved_hint = hint;
        self
    }

    /// Sends `signed` and reads the whole answer. The call redacts the failure's message.
    pub(crate) fn send(&self, signed: &SignedRequest) -> Result<Received, TransportError> {
        let mut builder = ureq::http::Request::builder()
            .method(signed.method().as_str())
            .uri(signed.url());
        for (name, value) in signed.headers() {
            // ureq writes Host from the URL, which is the same authority the signature covers.
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        let request = builder.body(signed.body().to_vec()).map_err(|e| {
            TransportError::new(
                TransportKind::NotSent,
                format!("the request could not be built: {e}"),
            )
        })?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| self.classify(e, signed))?;
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
                ureq::Error::BodyExceedsLimit(_) => TransportError::new(
                    TransportKind::TooLarge {
                        limit: self.max_body,
                    },
                    "",
                ),
                other => self.classify(other, signed),
            })?;
        Ok(Received {
            status,
            date,
            retry_after,
            body,
        })
    }
}

impl Transport {
    /// Sorts a ureq error by what it says about the request: never sent, or fate unknown. The
    /// message is redacted, in case it quotes the URL and with it a security token. A host name
    /// that does not resolve is named, since it is usually a typo in a region or endpoint.
    fn classify(&self, e: ureq::Error, signed: &SignedRequest) -> TransportError {
        if is_unresolved(&e) {
            let host = host_of(signed.url());
            // The I/O error's own text, without ureq's "io: " in front of it.
            let detail = match &e {
                ureq::Error::Io(io) => io.to_string(),
                ureq::Error::Timeout(_) => "the lookup timed out".to_owned(),
                other => other.to_string(),
            };
            let mut message = format!("could not resolve host {host}: {detail}");
            if let Some(hint) = &self.unresolved_hint {
                message.push_str("; ");
                message.push_str(hint);
            }
            return TransportError::new(TransportKind::NotSent, signed.redact(&message));
        }
        classify(e, signed)
    }
}

/// `true` for a failed name lookup. The standard library reports one as an I/O error of no
/// stable kind whose text starts with the words below (on Unix; Windows gives WSAHOST_NOT_FOUND
/// or WSANO_DATA), and ureq reports a lookup with no address as `HostNotFound`.
fn is_unresolved(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::HostNotFound | ureq::Error::Timeout(ureq::Timeout::Resolve) => true,
        ureq::Error::Io(io) => {
            io.to_string()
                .starts_with("failed to lookup address information")
                || (cfg!(windows) && matches!(io.raw_os_error(), Some(11001 | 11004)))
        }
        _ => false,
    }
}

/// The host (and port) of a URL, for messages.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// Sorts a ureq error by what it says about the request: never sent, or fate unknown. The
/// message is redacted, in case it quotes the URL and with it a security token.
fn classify(e: ureq::Error, signed: &SignedRequest) -> TransportError {
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
    TransportError::new(kind, signed.redact(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_a_url() {
        assert_eq!(
            host_of("https://r-kvstore.aliyuncs.com/?A=1"),
            "r-kvstore.aliyuncs.com"
        );
        assert_eq!(host_of("http://[::1]:80/"), "[::1]:80");
        assert_eq!(host_of("http://h"), "h");
    }

    #[test]
    fn lookup_failures_are_recognised() {
        assert!(is_unresolved(&ureq::Error::HostNotFound));
        assert!(is_unresolved(&ureq::Error::Timeout(ureq::Timeout::Resolve)));
        let io = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        assert!(is_unresolved(&ureq::Error::Io(io)));
        assert!(!is_unresolved(&ureq::Error::ConnectionFailed));
    }

    #[test]
    fn a_failed_lookup_names_the_host_and_the_hint() {
        use rkvstore_core::{
            sign, Credentials, Endpoint, Network, RpcRequest, SignatureVersion, SigningParams,
            Timestamp,
        };
        let endpoint = Endpoint::resolve("cn-hangzu", Network::Public).unwrap();
        let request = RpcRequest::new(endpoint, "2015-01-01", "DescribeBackupTasks").unwrap();
        let signed = sign(
            &request,
            &SigningParams {
                credentials: &Credentials::new("id", "secret"),
                time: Timestamp::from_unix(0),
                nonce: "0123456789abcdef",
                version: SignatureVersion::V1,
            },
        )
        .unwrap();
        let transport = Transport::new(Duration::from_secs(1), Duration::from_secs(1), "t", 10)
            .unresolved_hint(rkvstore_core::regions::unknown_region("cn-hangzu"));
        let io = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        let e = transport.classify(ureq::Error::Io(io), &signed);
        assert_eq!(e.kind, TransportKind::NotSent);
        assert_eq!(
            e.message,
            "could not resolve host r-kvstore.cn-hangzu.aliyuncs.com: failed to lookup address \
             information: Name or service not known; unknown region cn-hangzu; did you mean \
             cn-hangzhou?"
        );
    }
}
