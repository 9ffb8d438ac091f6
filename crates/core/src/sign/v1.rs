//! RPC signature 1.0: HMAC-SHA1 over `METHOD&%2F&` + the encoded canonical query.
//!
//! This is the hot path. Parameters are sorted as borrowed pairs in a stack array, and one pass
//! writes the canonical query into the URL (encoded once) while streaming the same text, encoded
//! a second time, into the HMAC; the string to sign is never materialised. Signing a request
//! whose parameters go in the query string therefore allocates once: the URL.

use base64::Engine;

use super::feed::MacFeed;
use super::{Canonical, SignedRequest, SigningParams};
use crate::percent::{encode_into, is_unreserved};
use crate::request::{Placement, RpcRequest};
use crate::{validate, ParamError};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Pairs that fit on the stack; longer requests sort in a `Vec` instead.
const STACK_PAIRS: usize = 80;

pub(super) fn sign(req: &RpcRequest, sp: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    let creds = sp.credentials;
    validate::nonce(sp.nonce)?;
    let ts_bytes = sp.time.iso8601_bytes();
    let ts = std::str::from_utf8(&ts_bytes).unwrap_or_default();
    let token = creds.security_token().map(|t| t.expose());
    let common_all = [
        ("AccessKeyId", creds.access_key_id()),
        ("Action", req.action()),
        ("Format", req.format().as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", sp.nonce),
        ("SignatureVersion", "1.0"),
        ("Timestamp", ts),
        ("Version", req.version()),
        ("SecurityToken", token.unwrap_or_default()),
    ];
    let common = common_all
        .get(..if token.is_some() { 9 } else { 8 })
        .unwrap_or_default();

    let total = common.len() + req.params().len();
    let mut stack = [("", ""); STACK_PAIRS];
    let mut heap = Vec::new();
    let pairs: &mut [(&str, &str)] = if total <= STACK_PAIRS {
        for (slot, pair) in stack
            .iter_mut()
            .zip(common.iter().copied().chain(req.params().iter()))
        {
            *slot = pair;
        }
        stack.get_mut(..total).unwrap_or_default()
    } else {
        heap.extend(common.iter().copied().chain(req.params().iter()));
        &mut heap
    };
    // `str` orders by bytes, which is the order both SDKs sort in.
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));

    let method = req.method().as_str();
    let mut feed = MacFeed::new(creds.v1_mac());
    feed.push(method.as_bytes());
    feed.push(b"&%2F&");

    let endpoint = req.endpoint();
    let prefix_len = endpoint.scheme().as_str().len() + 3 + endpoint.host().len() + 2;
    let (url, body, canonical) = match req.placement() {
        Placement::Query => {
            let mut url = String::with_capacity(prefix_len + encoded_bound(pairs) + 96);
            push_prefix(&mut url, req);
            let start = url.len();
            write_canonical(&mut url, &mut feed, pairs);
            let end = url.len();
            (url, String::new(), Canonical::InUrl(start..end))
        }
        Placement::FormBody => {
            let mut canonical = String::with_capacity(encoded_bound(pairs));
            write_canonical(&mut canonical, &mut feed, pairs);
            let mut url = String::with_capacity(prefix_len + encoded_bound(common) + 96);
            push_prefix(&mut url, req);
            let mut sorted_common = common_all;
            let sorted_common = sorted_common.get_mut(..common.len()).unwrap_or_default();
            sorted_common.sort_unstable_by(|a, b| a.0.cmp(b.0));
            write_plain(&mut url, sorted_common.iter().copied());
            let mut body = String::with_capacity(encoded_bound_iter(req.params().iter()));
            write_plain(&mut body, req.params().iter());
            (url, body, Canonical::Owned(canonical))
        }
    };

    let digest = feed.finish();
    let mut b64 = [0u8; 28];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut b64)
        .unwrap_or_default();
    let signature = std::str::from_utf8(b64.get(..n).unwrap_or_default()).unwrap_or_default();
    let mut url = url;
    url.push_str("&Signature=");
    encode_into(&mut url, signature);

    Ok(SignedRequest::new_v1(req, url, body, canonical, creds))
}

fn push_prefix(url: &mut String, req: &RpcRequest) {
    let endpoint = req.endpoint();
    url.push_str(endpoint.scheme().as_str());
    url.push_str("://");
    url.push_str(endpoint.host());
    url.push_str("/?");
}

/// An upper bound on the encoded length of `pairs`, so each buffer is allocated once.
fn encoded_bound(pairs: &[(&str, &str)]) -> usize {
    encoded_bound_iter(pairs.iter().copied())
}

fn encoded_bound_iter<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    pairs.map(|(k, v)| 3 * (k.len() + v.len()) + 2).sum()
}

/// Writes `k=v&k=v…` encoded into `out` and, encoded once more, into the MAC.
fn write_canonical<M: hmac::Mac>(out: &mut String, feed: &mut MacFeed<M>, pairs: &[(&str, &str)]) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
            feed.push(b"%26");
        }
        put_twice(out, feed, k);
        out.push('=');
        feed.push(b"%3D");
        put_twice(out, feed, v);
    }
}

/// Encodes `s` into `out`, and feeds the MAC the encoding of that encoding: literal runs are the
/// same in both, and an escape `%XX` becomes `%25XX`.
#[inline]
fn put_twice<M: hmac::Mac>(out: &mut String, feed: &mut MacFeed<M>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        if let Some(run) = s.get(start..i) {
            out.push_str(run);
            feed.push(run.as_bytes());
        }
        let hi = HEX_UPPER[usize::from(b >> 4)];
        let lo = HEX_UPPER[usize::from(b & 0x0F)];
        out.push('%');
        out.push(char::from(hi));
        out.push(char::from(lo));
        feed.push(&[b'%', b'2', b'5', hi, lo]);
        start = i + 1;
    }
    if let Some(run) = s.get(start..) {
        out.push_str(run);
        feed.push(run.as_bytes());
    }
}

fn write_plain<'a>(out: &mut String, pairs: impl Iterator<Item = (&'a str, &'a str)>) {
    for (i, (k, v)) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(out, k);
        out.push('=');
        encode_into(out, v);
    }
}

/// Signs a fully assembled parameter list, as the vectors give it: every parameter but
/// `Signature`. Returns the canonical query, the string to sign and the signature.
///
/// This is for conformance checks and custom transports that build their own parameter list;
/// [`crate::sign`] is the way to sign a request.
pub fn sign_params(method: &str, params: &[(&str, &str)], access_key_secret: &str) -> V1Parts {
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let creds = crate::Credentials::new("", access_key_secret);
    let mut feed = MacFeed::new(creds.v1_mac());
    feed.push(method.as_bytes());
    feed.push(b"&%2F&");
    let mut canonical_query = String::with_capacity(encoded_bound(&pairs));
    write_canonical(&mut canonical_query, &mut feed, &pairs);
    let signature = base64::engine::general_purpose::STANDARD.encode(feed.finish());
    let string_to_sign = format!("{method}&%2F&{}", crate::percent::Encoded(&canonical_query));
    V1Parts {
        canonical_query,
        string_to_sign,
        signature,
    }
}

/// The three results of signature 1.0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Parts {
    /// Sorted, encoded `k=v&…` without `Signature`.
    pub canonical_query: String,
    /// `METHOD&%2F&` + the canonical query encoded again.
    pub string_to_sign: String,
    /// Base64 HMAC-SHA1, not yet percent-encoded.
    pub signature: String,
}
