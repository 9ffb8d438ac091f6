//! The result of signing: a request any transport can send, and the texts that went into its
//! signature, with redacted twins for logs.

use std::fmt;
use std::ops::Range;

use super::SignatureVersion;
use crate::request::{Format, Method, RpcRequest};
use crate::{Credentials, Secret};

#[derive(Clone, PartialEq, Eq)]
pub(super) enum Canonical {
    /// The canonical query is this range of the URL.
    InUrl(Range<usize>),
    /// Parameters went in the body, so the canonical query exists only here.
    Owned(String),
}

#[derive(Clone, PartialEq, Eq)]
enum Details {
    V1(Canonical),
    /// Ranges of the request's text.
    V3 {
        canonical_request: Range<usize>,
        string_to_sign: Range<usize>,
    },
}

/// The most headers a signed request carries: ACS3's six, the security token and the key ID
/// beside it, `content-type` and `authorization`.
pub(super) const MAX_HEADERS: usize = 10;

/// Where a header's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HeaderValue {
    Static(&'static str),
    /// A range of the request's text.
    Text(u32, u32),
}

/// The headers, in a fixed array: signing allocates nothing for them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct HeaderList {
    items: [(&'static str, HeaderValue); MAX_HEADERS],
    len: usize,
}

impl HeaderList {
    pub(super) const fn new() -> Self {
        HeaderList {
            items: [("", HeaderValue::Static("")); MAX_HEADERS],
            len: 0,
        }
    }

    /// Adds a header; the signer never adds more than [`MAX_HEADERS`].
    pub(super) fn push(&mut self, name: &'static str, value: HeaderValue) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (name, value);
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[(&'static str, HeaderValue)] {
        self.items.get(..self.len).unwrap_or_default()
    }
}

/// A signed request: method, URL, headers and body, ready to send.
///
/// Its `Debug` output and [`SignedRequest::dry_run`] hide the security token; the AccessKey
/// secret is never part of a request at all.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    method: Method,
    /// The URL, then for ACS3 the canonical request, the string to sign and the header values
    /// that appear in neither: one buffer for the whole request.
    text: String,
    url_end: usize,
    headers: HeaderList,
    body: String,
    response_format: Format,
    version: SignatureVersion,
    details: Details,
    token: Option<Secret>,
}

/// The headers of a [`SignedRequest`], as `(name, value)` pairs with lower-case names.
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    text: &'a str,
    items: std::slice::Iter<'a, (&'static str, HeaderValue)>,
}

impl<'a> Headers<'a> {
    fn resolve(&self, (name, value): &(&'static str, HeaderValue)) -> (&'static str, &'a str) {
        let value = match *value {
            HeaderValue::Static(s) => s,
            HeaderValue::Text(start, end) => self
                .text
                .get(start as usize..end as usize)
                .unwrap_or_default(),
        };
        (name, value)
    }

    /// The value of the header `name`, if the request has it.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.clone().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'static str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.items.next()?;
        Some(self.resolve(item))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl DoubleEndedIterator for Headers<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let item = self.items.next_back()?;
        Some(self.resolve(item))
    }
}

impl ExactSizeIterator for Headers<'_> {}

impl SignedRequest {
    pub(super) fn new_v1(
        req: &RpcRequest,
        url: String,
        body: String,
        canonical: Canonical,
        creds: &Credentials,
    ) -> Self {
        let mut headers = HeaderList::new();
        if !body.is_empty() {
            headers.push(
                "content-type",
                HeaderValue::Static("application/x-www-form-urlencoded"),
            );
        }
        SignedRequest {
            method: req.method(),
            url_end: url.len(),
            text: url,
            headers,
            body,
            response_format: req.format(),
            version: SignatureVersion::V1,
            details: Details::V1(canonical),
            token: creds.security_token().cloned(),
        }
    }

    /// `text` holds the URL in `..url_end`, then the rest; `headers` point into it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_v3(
        req: &RpcRequest,
        text: String,
        url_end: usize,
        headers: HeaderList,
        body: String,
        canonical_request: Range<usize>,
        string_to_sign: Range<usize>,
        creds: &Credentials,
    ) -> Self {
        SignedRequest {
            method: req.method(),
            text,
            url_end,
            headers,
            body,
            response_format: Format::Json,
            version: SignatureVersion::V3,
            details: Details::V3 {
                canonical_request,
                string_to_sign,
            },
            token: creds.security_token().cloned(),
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The full URL, with the signature for signature 1.0.
    pub fn url(&self) -> &str {
        self.text.get(..self.url_end).unwrap_or_default()
    }

    /// Headers to send, lower-case names. For ACS3 they include `host` (equal to the URL's
    /// authority) because it is signed.
    pub fn headers(&self) -> Headers<'_> {
        Headers {
            text: &self.text,
            items: self.headers.as_slice().iter(),
        }
    }

    /// The body; empty unless parameters travel in a form body.
    pub fn body(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The format the response will be in: what was asked for with signature 1.0, JSON with ACS3.
    pub fn response_format(&self) -> Format {
        self.response_format
    }

    /// The signature algorithm used.
    pub fn signature_version(&self) -> SignatureVersion {
        self.version
    }

    /// For signature 1.0, the canonical query; for ACS3, the canonical request.
    pub fn canonical(&self) -> SigningText<'_> {
        let text = match &self.details {
            Details::V1(Canonical::InUrl(r)) => self.url().get(r.clone()).unwrap_or_default(),
            Details::V1(Canonical::Owned(s)) => s,
            Details::V3 {
                canonical_request, ..
            } => self.text.get(canonical_request.clone()).unwrap_or_default(),
        };
        SigningText {
            text: text.into(),
            token: self.token.as_ref(),
        }
    }

    /// The string to sign, which a `SignatureDoesNotMatch` answer quotes back.
    pub fn string_to_sign(&self) -> SigningText<'_> {
        let text = match &self.details {
            Details::V1(_) => {
                let canonical = self.canonical();
                format!(
                    "{}&%2F&{}",
                    self.method,
                    crate::percent::Encoded(&canonical.text)
                )
                .into()
            }
            Details::V3 { string_to_sign, .. } => self
                .text
                .get(string_to_sign.clone())
                .unwrap_or_default()
                .into(),
        };
        SigningText {
            text,
            token: self.token.as_ref(),
        }
    }

    /// `text` with this request's security token hidden in every form it takes, for messages
    /// that may quote the request (a transport's error naming the URL, say).
    pub fn redact(&self, text: &str) -> String {
        redact(text, self.token.as_ref())
    }

    /// The security token the request carries, for hiding it in what the answer quotes.
    pub(crate) fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// The URL with the security token hidden, safe for logs.
    pub fn redacted_url(&self) -> String {
        redact(self.url(), self.token.as_ref())
    }

    /// A multi-line description safe to print: method, URL, headers, body and string to sign,
    /// with the security token hidden. This is what `--dry-run` shows.
    pub fn dry_run(&self) -> String {
        let mut out = format!("{} {}\n", self.method, self.redacted_url());
        for (name, value) in self.headers() {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&redact(value, self.token.as_ref()));
            out.push('\n');
        }
        out.push('\n');
        if !self.body.is_empty() {
            out.push_str(&self.body);
            out.push('\n');
        }
        let label = match self.version {
            SignatureVersion::V1 => "canonical query",
            SignatureVersion::V3 => "canonical request",
        };
        out.push_str(&format!("\n{label}:\n{}\n", self.canonical().redacted()));
        out.push_str(&format!(
            "\nstring to sign:\n{}\n",
            self.string_to_sign().redacted()
        ));
        out
    }

    /// Takes the parts: method, URL, headers, body. The headers are copied out of the
    /// request's one buffer; a transport that only reads them uses [`SignedRequest::headers`].
    pub fn into_parts(self) -> (Method, String, Vec<(&'static str, String)>, Vec<u8>) {
        let headers = self.headers().map(|(k, v)| (k, v.to_owned())).collect();
        let mut url = self.text;
        url.truncate(self.url_end);
        (self.method, url, headers, self.body.into_bytes())
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, String)> = self
            .headers()
            .map(|(k, v)| (k, redact(v, self.token.as_ref())))
            .collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("headers", &headers)
            .field("body", &self.body)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Text that went into a signature: the canonical query or request, or the string to sign.
///
/// `Display` prints it exactly (it may contain the security token, for comparing with what the
/// server computed); [`SigningText::redacted`] is its twin for logs.
#[derive(Clone)]
pub struct SigningText<'a> {
    text: std::borrow::Cow<'a, str>,
    token: Option<&'a Secret>,
}

impl SigningText<'_> {
    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text with every form of the security token (raw, encoded once, encoded twice)
    /// replaced by `** REDACTED **`.
    pub fn redacted(&self) -> String {
        redact(&self.text, self.token)
    }
}

impl fmt::Display for SigningText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for SigningText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.redacted(), f)
    }
}

/// Replaces `token` in `text`, in every form a request or an answer may carry it.
pub(crate) fn redact(text: &str, token: Option<&Secret>) -> String {
    match token.map(Secret::expose) {
        Some(token) => crate::redact::redact(text, token),
        None => text.to_owned(),
    }
}
