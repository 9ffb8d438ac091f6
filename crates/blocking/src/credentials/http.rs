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
        let request = builder.body(Vec::new()).map_err(|e| {
            NoAnswer(format!(
                "the request to {} could not be built: {}",
                shown_url(url),
                scrub(&e.to_string(), url)
            ))
        })?;
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

/// `text` with the URL `url` shown as [`shown_url`] shows it, and with its user info, query
/// and fragment removed wherever they appear on their own (an error may quote the URL as it
/// parsed it).
fn scrub(text: &str, url: &str) -> String {
    let mut out = text.replace(url, &shown_url(url));
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut hidden: Vec<&str> = Vec::new();
    if let Some((user_info, _)) = authority.rsplit_once('@') {
        hidden.push(user_info);
        hidden.extend(user_info.split(':'));
    }
    if let Some(at) = tail.find(['?', '#']) {
        let extra = &tail[at + 1..];
        hidden.push(extra);
        hidden.extend(extra.split(['&', '=', '#', '?']));
    }
    hidden.sort_by_key(|h| std::cmp::Reverse(h.len()));
    for h in hidden {
        // Very short pieces ("a", "1") would mangle the text without protecting much.
        if h.len() >= 3 {
            out = out.replace(h, "…");
        }
    }
    rkvstore_core::escape::controls(&out).into_owned()
}

fn describe(e: &ureq::Error, raw_url: &str) -> String {
    let url = shown_url(raw_url);
    // ureq's own text may quote the URL whole, or parts of it.
    let other_text = |other: &ureq::Error| scrub(&other.to_string(), raw_url);
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
    use super::{shown_url, Http};
    use std::time::Duration;

    #[test]
    fn a_uri_that_cannot_become_a_request_is_never_quoted_whole() {
        let http = Http::new(Duration::from_millis(300), Duration::from_millis(300));
        for url in [
            "http://user:PASSWORDSECRET@127.0.0.1:1/ bad path?token=TOKENSECRET",
            "http://user:PASSWORDSECRET@127.0.0.1:1/creds?token=TOKENSECRET",
            "ftp://user:PASSWORDSECRET@127.0.0.1:1/creds?token=TOKENSECRET",
            "http://user:PASSWORDSECRET@[::1/creds",
        ] {
            let Err(super::NoAnswer(text)) = http.send("GET", url, &[]) else {
                panic!("{url} answered");
            };
            assert!(
                !text.contains("PASSWORDSECRET") && !text.contains("TOKENSECRET"),
                "{text}"
            );
        }
    }

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
