//! Plain HTTP for the metadata service and credentials URIs: short timeouts, no redirects, a
//! small cap on the answer.

use std::time::Duration;

use ureq::Agent;

/// Answers larger than this are not credentials.
const MAX_ANSWER: u64 = 64 * 1024;

/// A plain HTTP client.
pub(super) struct Http {
    agent: Agent,
}

/// A failure to get any answer, already described for a person.
pub(super) struct NoAnswer(pub(super) String);

impl Http {
    pub(super) fn new(connect: Duration, read: Duration) -> Self {
        let config = Agent::config_builder()
            .timeout_connect(Some(connect))
            .timeout_recv_response(Some(read))
            .timeout_recv_body(Some(read))
            .timeout_send_request(Some(read))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!(
                "rkvstore/",
                env!("CARGO_PKG_VERSION"),
                " (Rust; ureq)"
            ))
            .build();
        Http {
            agent: config.into(),
        }
    }

    /// Sends `method` to `url` with `headers`; the status and body, or why there is none.
    pub(super) fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), NoAnswer> {
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Vec::new())
            .map_err(|e| NoAnswer(format!("the request to {url} could not be built: {e}")))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| NoAnswer(describe(&e, url)))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| NoAnswer(describe(&e, url)))?;
        Ok((status, body))
    }
}

/// `url` as it may be shown: a credentials URI can carry a token in its query or user info,
/// so only the scheme, host and path are kept.
pub(super) fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let hidden = if rest.len() > authority.len() + path.len() || host.len() < authority.len() {
        "?…"
    } else {
        ""
    };
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    rkvstore_core::escape::controls(&format!("{scheme}{host}{path}{hidden}")).into_owned()
}

fn describe(e: &ureq::Error, url: &str) -> String {
    let url = shown_url(url);
    // ureq's own text may quote the URL whole.
    let other_text =
        |other: &ureq::Error| other.to_string().replace(url.trim_end_matches("?…"), "");
    match e {
        ureq::Error::Timeout(_) => format!("{url} did not answer in time"),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("{url} answered more than {MAX_ANSWER} bytes, which are not credentials")
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("nothing listens at {url} (connection refused)")
        }
        other => format!("could not reach {url}: {}", other_text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::shown_url;

    #[test]
    fn a_token_in_the_uri_is_never_shown() {
        assert_eq!(
            shown_url("http://127.0.0.1:9/v1/credentials?token=SECRET"),
            "http://127.0.0.1:9/v1/credentials?…"
        );
        assert_eq!(shown_url("https://user:SECRET@h/p"), "https://h/p?…");
        assert_eq!(shown_url("http://h/p"), "http://h/p");
        assert_eq!(shown_url("http://h"), "http://h");
    }
}
