//! ACS3-HMAC-SHA256 (signature v3), the official SDKs' current default.
//!
//! The canonical request is
//! `METHOD\nPATH\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nHEX(SHA256(body))`, the string to sign is
//! `ACS3-HMAC-SHA256\n` + its hex SHA-256, and the signature is the hex HMAC-SHA256 of that with
//! the AccessKey secret as key. Action, version, time and nonce travel in `x-acs-*` headers.

// The building blocks below are public for `crate::verify` (feature `verify`), which
// re-exports them for test doubles; without it they are the signer's own.
#![cfg_attr(not(feature = "verify"), allow(unreachable_pub))]

#[cfg(any(test, feature = "verify"))]
use std::borrow::Cow;

use hmac::Mac;
use sha2::{Digest, Sha256};

use super::bytes::Out;
use super::signed::{HeaderList, HeaderValue};
use super::{SignedRequest, SigningParams, HEX_LOWER};
use crate::percent::{encode_pairs_into, is_unreserved};
use crate::request::{Placement, RpcRequest};
#[cfg(any(test, feature = "verify"))]
use crate::Credentials;
use crate::{validate, ParamError};

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of the empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Parameter counts up to this sort their indices on the stack; more use a `Vec`.
const STACK_PARAMS: usize = 64;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// The signed header names, joined, for each combination of a security token and a body. The
/// headers are always the same set, so their order is known without sorting.
fn signed_headers(token: bool, body: bool) -> &'static str {
    match (token, body) {
        (false, false) => {
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        }
        (false, true) => {
            "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;\
             x-acs-signature-nonce;x-acs-version"
        }
        (true, false) => {
            "host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;\
             x-acs-security-token;x-acs-signature-nonce;x-acs-version"
        }
        (true, true) => {
            "content-type;host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;\
             x-acs-security-token;x-acs-signature-nonce;x-acs-version"
        }
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// Signs `req`. Everything the request carries (URL, canonical request, string to sign,
/// header values) is written into one buffer, sized in advance; the header values are ranges
/// of it. A request whose parameters go in the query string allocates once, one with a form
/// body twice (the body).
pub(super) fn sign(req: &RpcRequest, sp: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    let creds = sp.credentials;
    validate::nonce(sp.nonce)?;
    let id = creds.access_key_id();
    validate::header_safe("AccessKeyId", id)?;
    let token = creds.security_token().map(|t| t.expose());
    if let Some(token) = token {
        validate::header_safe("SecurityToken", token)?;
    }
    let endpoint = req.endpoint();
    let host = endpoint.host();
    let params = req.params();

    // The caller's parameters sorted as indices, by name in byte order.
    let mut stack = [0u16; STACK_PARAMS];
    let mut heap = Vec::new();
    let order: &mut [u16] = if params.len() <= STACK_PARAMS {
        let order = stack.get_mut(..params.len()).unwrap_or_default();
        for (i, slot) in order.iter_mut().enumerate() {
            *slot = i as u16;
        }
        order
    } else {
        let n = u16::try_from(params.len()).map_err(|_| ParamError::Invalid {
            name: "parameters",
            value: params.len().to_string(),
            expected: "at most 65535 parameters",
        })?;
        heap.extend(0..n);
        &mut heap
    };
    let key = |i: u16| params.entry(usize::from(i)).map_or("", |(k, _, _)| k);
    order.sort_unstable_by(|&a, &b| key(a).cmp(key(b)));

    let in_query = matches!(req.placement(), Placement::Query);
    let bound = |s: &str, plain: bool| if plain { s.len() } else { 3 * s.len() };
    let pairs_bound: usize = (0..params.len())
        .filter_map(|i| params.entry(i))
        .map(|(k, v, plain)| bound(k, plain) + bound(v, plain) + 2)
        .sum();
    let query_bound = if in_query { pairs_bound } else { 0 };
    let body = if in_query {
        String::new()
    } else {
        let mut body = String::with_capacity(pairs_bound);
        encode_pairs_into(&mut body, params.iter());
        body
    };
    let mut body_hex = [0u8; 64];
    if body.is_empty() {
        body_hex.copy_from_slice(EMPTY_BODY_SHA256.as_bytes());
    } else {
        hex_into(&mut body_hex, &Sha256::digest(body.as_bytes()));
    }

    let method = req.method().as_str();
    let signed = signed_headers(token.is_some(), !body.is_empty());
    let date = sp.time.iso8601_bytes();
    let scheme = endpoint.scheme().as_str();
    let token_len = token.map_or(0, |t| 2 * t.len() + 2 * id.len() + 64);
    let capacity = scheme.len() + host.len() + 5 + query_bound // URL
        + method.len() + 4 + query_bound // canonical request: method, path, query
        + 256 + host.len() + req.action().len() + req.version().len() + sp.nonce.len() + 64
        + token_len + signed.len() + 66
        + ALGORITHM.len() + 65 // string to sign
        + ALGORITHM.len() + 40 + id.len() + signed.len() + 64; // Authorization
    let mut out = Out::with_capacity(capacity);

    // The URL.
    out.push(scheme.as_bytes());
    out.push(b"://");
    let host_start = out.len();
    out.push(host.as_bytes());
    let host_range = host_start..out.len();
    out.push(b"/");
    let query_start = out.len() + 1;
    if in_query && !params.is_empty() {
        out.push(b"?");
        for (n, &i) in order.iter().enumerate() {
            if let Some((k, v, plain)) = params.entry(usize::from(i)) {
                if n > 0 {
                    out.push(b"&");
                }
                push_text(&mut out, k, plain);
                out.push(b"=");
                push_text(&mut out, v, plain);
            }
        }
    }
    let url_end = out.len();
    let query = query_start.min(url_end)..url_end;

    // The canonical request, its headers in byte order.
    let canonical_start = out.len();
    out.push(method.as_bytes());
    out.push(b"\n/\n");
    out.repeat(query);
    out.push(b"\n");
    let mut values = [(0u32, 0u32); 9];
    let mut header = |out: &mut Out, slot: usize, name: &[u8], value: &[u8]| {
        out.push(name);
        let start = out.len();
        out.push(value);
        if let Some(v) = values.get_mut(slot) {
            *v = (start as u32, out.len() as u32);
        }
        out.push(b"\n");
    };
    const CONTENT_TYPE: usize = 0;
    const HOST: usize = 1;
    const KEY_ID: usize = 2;
    const ACTION: usize = 3;
    const SHA: usize = 4;
    const DATE: usize = 5;
    const TOKEN: usize = 6;
    const NONCE: usize = 7;
    const VERSION: usize = 8;
    if !body.is_empty() {
        header(&mut out, CONTENT_TYPE, b"content-type:", FORM.as_bytes());
    }
    header(&mut out, HOST, b"host:", host.as_bytes());
    if token.is_some() {
        header(
            &mut out,
            KEY_ID,
            b"x-acs-accesskey-id:",
            id.trim().as_bytes(),
        );
    }
    header(&mut out, ACTION, b"x-acs-action:", req.action().as_bytes());
    header(&mut out, SHA, b"x-acs-content-sha256:", &body_hex);
    header(&mut out, DATE, b"x-acs-date:", &date);
    if let Some(token) = token {
        header(
            &mut out,
            TOKEN,
            b"x-acs-security-token:",
            token.trim().as_bytes(),
        );
    }
    header(
        &mut out,
        NONCE,
        b"x-acs-signature-nonce:",
        sp.nonce.as_bytes(),
    );
    header(
        &mut out,
        VERSION,
        b"x-acs-version:",
        req.version().as_bytes(),
    );
    out.push(b"\n");
    out.push(signed.as_bytes());
    out.push(b"\n");
    out.push(&body_hex);
    let canonical = canonical_start..out.len();

    // The string to sign and the signature.
    let mut hex = [0u8; 64];
    hex_into(&mut hex, &Sha256::digest(out.get(canonical.clone())));
    let sts_start = out.len();
    out.push(ALGORITHM.as_bytes());
    out.push(b"\n");
    out.push(&hex);
    let string_to_sign = sts_start..out.len();
    let mut mac = creds.v3_mac();
    mac.update(out.get(string_to_sign.clone()));
    hex_into(&mut hex, &mac.finalize().into_bytes());

    let auth_start = out.len();
    out.push(ALGORITHM.as_bytes());
    out.push(b" Credential=");
    out.push(id.as_bytes());
    out.push(b",SignedHeaders=");
    out.push(signed.as_bytes());
    out.push(b",Signature=");
    out.push(&hex);
    let auth = (auth_start as u32, out.len() as u32);

    // Values sent with the blanks the canonical form trims away are sent as they were given.
    let mut raw = |out: &mut Out, slot: usize, value: &str| {
        if value.trim().len() != value.len() {
            let start = out.len();
            out.push(value.as_bytes());
            if let Some(v) = values.get_mut(slot) {
                *v = (start as u32, out.len() as u32);
            }
        }
    };
    if let Some(token) = token {
        raw(&mut out, TOKEN, token);
        raw(&mut out, KEY_ID, id);
    }

    let text = |slot: usize| {
        let (start, end) = values.get(slot).copied().unwrap_or_default();
        HeaderValue::Text(start, end)
    };
    let mut headers = HeaderList::new();
    headers.push(
        "host",
        HeaderValue::Text(host_range.start as u32, host_range.end as u32),
    );
    headers.push("x-acs-action", text(ACTION));
    headers.push("x-acs-version", text(VERSION));
    headers.push("x-acs-date", text(DATE));
    headers.push("x-acs-signature-nonce", text(NONCE));
    headers.push("x-acs-content-sha256", text(SHA));
    if token.is_some() {
        // The official SDKs send and sign the key ID beside the token.
        headers.push("x-acs-security-token", text(TOKEN));
        headers.push("x-acs-accesskey-id", text(KEY_ID));
    }
    if !body.is_empty() {
        headers.push("content-type", HeaderValue::Static(FORM));
    }
    headers.push("authorization", HeaderValue::Text(auth.0, auth.1));

    Ok(SignedRequest::new_v3(
        req,
        out.into_string(),
        url_end,
        headers,
        body,
        canonical,
        string_to_sign,
        creds,
    ))
}

/// Writes `s` as the canonical query has it: copied when it is plain, percent-encoded
/// otherwise.
#[inline]
fn push_text(out: &mut Out, s: &str, plain: bool) {
    if plain {
        out.push(s.as_bytes());
        return;
    }
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !is_unreserved(b) {
            out.push(bytes.get(start..i).unwrap_or_default());
            out.push(&[
                b'%',
                HEX_UPPER[usize::from(b >> 4)],
                HEX_UPPER[usize::from(b & 0x0F)],
            ]);
            start = i + 1;
        }
    }
    out.push(bytes.get(start..).unwrap_or_default());
}

/// Lower-case hex of 32 bytes.
fn hex_into(out: &mut [u8; 64], bytes: &[u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&[
            HEX_LOWER[usize::from(b >> 4)],
            HEX_LOWER[usize::from(b & 0x0F)],
        ]);
    }
}

#[cfg(any(test, feature = "verify"))]
/// What [`canonical_request`] builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Parts {
    /// The canonical query string, which is also the URL's query.
    pub canonical_query: String,
    /// The whole canonical request.
    pub canonical_request: String,
    /// Lower-case header names, sorted, joined by `;`.
    pub signed_headers: String,
}

#[cfg(any(test, feature = "verify"))]
/// Builds the canonical request from its inputs. Every header given is signed; names are
/// lower-cased, values trimmed, and repeated names joined with `,` as the SDKs do.
pub fn canonical_request(
    method: &str,
    pathname: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    hashed_payload: &str,
) -> V3Parts {
    let mut q: Vec<(&str, &str)> = query.to_vec();
    q.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut canonical_query = String::new();
    encode_pairs_into(&mut canonical_query, q);

    // Names are lower-cased (borrowed when they already are, as ours always are), values
    // trimmed; sorting by (name, value) puts repeated names together with their values in
    // order, ready to be joined with ','.
    let mut h: Vec<(Cow<'_, str>, &str)> = headers
        .iter()
        .map(|(k, v)| {
            let name = if k.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(k.to_ascii_lowercase())
            } else {
                Cow::Borrowed(*k)
            };
            (name, v.trim())
        })
        .collect();
    h.sort();
    let mut canonical_headers = String::new();
    let mut signed_headers = String::new();
    let mut previous: Option<&str> = None;
    for (name, value) in &h {
        if previous == Some(name.as_ref()) {
            canonical_headers.push(',');
        } else {
            if previous.is_some() {
                canonical_headers.push('\n');
                signed_headers.push(';');
            }
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            signed_headers.push_str(name);
            previous = Some(name);
        }
        canonical_headers.push_str(value);
    }
    if previous.is_some() {
        canonical_headers.push('\n');
    }

    let canonical_request = format!(
        "{method}\n{pathname}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}"
    );
    V3Parts {
        canonical_query,
        canonical_request,
        signed_headers,
    }
}

#[cfg(any(test, feature = "verify"))]
/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

#[cfg(any(test, feature = "verify"))]
/// The `Authorization` header value.
pub fn authorization(creds: &Credentials, signed_headers: &str, string_to_sign: &str) -> String {
    let mut mac = creds.v3_mac();
    mac.update(string_to_sign.as_bytes());
    let signature = super::lower_hex(&mac.finalize().into_bytes());
    format!(
        "{ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}",
        creds.access_key_id()
    )
}

#[cfg(any(test, feature = "verify"))]
/// Hex SHA-256, the form of `x-acs-content-sha256`.
pub fn hex_sha256(data: &[u8]) -> String {
    super::lower_hex(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_hash_is_the_constant() {
        assert_eq!(hex_sha256(b""), EMPTY_BODY_SHA256);
    }

    #[test]
    fn repeated_headers_are_joined_and_names_lowered() {
        let parts = canonical_request(
            "GET",
            "/",
            &[("b", "2"), ("a", "x y")],
            &[("X-Acs-B", " 2 "), ("x-acs-a", "1"), ("x-acs-b", "1")],
            EMPTY_BODY_SHA256,
        );
        assert_eq!(parts.canonical_query, "a=x%20y&b=2");
        assert_eq!(parts.signed_headers, "x-acs-a;x-acs-b");
        assert_eq!(
            parts.canonical_request,
            format!("GET\n/\na=x%20y&b=2\nx-acs-a:1\nx-acs-b:1,2\n\nx-acs-a;x-acs-b\n{EMPTY_BODY_SHA256}")
        );
    }
}
