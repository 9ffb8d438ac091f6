//! RPC signature 1.0: HMAC-SHA1 over `METHOD&%2F&` + the encoded canonical query.
//!
//! This is the hot path. The caller's parameters are sorted as indices in a stack array and
//! merged with the signer's own, which are already in order; one pass
//! writes the canonical query into the URL (encoded once) while streaming the same text, encoded
//! a second time, into the HMAC; the string to sign is never materialised. Signing a request
//! whose parameters go in the query string therefore allocates once: the URL.

use base64::Engine;

use super::feed::MacFeed;
use super::{Canonical, SignedRequest, SigningParams};
use crate::percent::{encode_into, encode_pairs_into, is_unreserved};
use crate::request::{Placement, RpcRequest};
use crate::{validate, ParamError};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Parameter counts up to this sort their indices on the stack; more use a `Vec`.
const STACK_PARAMS: usize = 64;

/// One parameter on its way into the canonical query.
#[derive(Clone, Copy)]
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
    /// Both key and value are known to hold only unreserved characters (constants and
    /// validated tokens), so they are copied without scanning.
    literal: bool,
}

impl<'a> Pair<'a> {
    const fn new(key: &'a str, value: &'a str, literal: bool) -> Self {
        Pair {
            key,
            value,
            literal,
        }
    }
}

pub(super) fn sign(req: &RpcRequest, sp: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    let creds = sp.credentials;
    validate::nonce(sp.nonce)?;
    let ts_bytes = sp.time.iso8601_bytes();
    let ts = std::str::from_utf8(&ts_bytes).unwrap_or_default();
    let token = creds.security_token().map(|t| t.expose());
    // The signer's own parameters, already in byte order. Action and Version were validated
    // as tokens when the request was made, and the nonce just now.
    let common_all = [
        Pair::new("AccessKeyId", creds.access_key_id(), creds.id_is_plain()),
        Pair::new("Action", req.action(), true),
        Pair::new("Format", req.format().as_str(), true),
        Pair::new("SecurityToken", token.unwrap_or_default(), false),
        Pair::new("SignatureMethod", "HMAC-SHA1", true),
        Pair::new("SignatureNonce", sp.nonce, true),
        Pair::new("SignatureVersion", "1.0", true),
        Pair::new("Timestamp", ts, false),
        Pair::new("Version", req.version(), true),
    ];
    // Without a token, its slot (index 3) is skipped.
    let has_token = token.is_some();
    let common = || {
        common_all
            .iter()
            .enumerate()
            .filter(move |(i, _)| has_token || *i != 3)
            .map(|(_, p)| *p)
    };

    // The caller's parameters are sorted as indices, which are cheap to move and to set up.
    let params = req.params().entries();
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
    let key = |i: u16| params.get(usize::from(i)).map_or("", |e| e.key.as_ref());
    // `str` orders by bytes, which is the order both SDKs sort in.
    order.sort_unstable_by(|&a, &b| key_order(key(a), key(b)));
    let user = order.iter().filter_map(|&i| {
        params
            .get(usize::from(i))
            .map(|e| Pair::new(&e.key, &e.value, e.plain))
    });

    let method = req.method().as_str();
    let mut feed = MacFeed::new(creds.v1_mac());
    feed.push(method.as_bytes());
    feed.push(b"&%2F&");

    let endpoint = req.endpoint();
    let prefix_len = endpoint.scheme().as_str().len() + 3 + endpoint.host().len() + 2;
    let common_bound = encoded_bound(common().map(|p| (p.key, p.value)));
    let user_bound = encoded_bound(req.params().iter());
    let (url, body, canonical) = match req.placement() {
        Placement::Query => {
            let mut url = String::with_capacity(prefix_len + common_bound + user_bound + 96);
            push_prefix(&mut url, req);
            let start = url.len();
            write_canonical(&mut url, &mut feed, merge(common(), user));
            let end = url.len();
            (url, String::new(), Canonical::InUrl(start..end))
        }
        Placement::FormBody => {
            let mut canonical = String::with_capacity(common_bound + user_bound);
            write_canonical(&mut canonical, &mut feed, merge(common(), user));
            let mut url = String::with_capacity(prefix_len + common_bound + 96);
            push_prefix(&mut url, req);
            encode_pairs_into(&mut url, common().map(|p| (p.key, p.value)));
            let mut body = String::with_capacity(user_bound);
            encode_pairs_into(&mut body, req.params().iter());
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

/// Byte order, deciding on the first byte inline when it differs (it nearly always does among
/// API parameter names) instead of calling `memcmp`.
#[inline]
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.as_bytes().first(), b.as_bytes().first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

/// Merges two sequences sorted by key (their keys never collide: the caller's parameters
/// cannot use the signer's names).
fn merge<'a>(
    common: impl Iterator<Item = Pair<'a>>,
    user: impl Iterator<Item = Pair<'a>>,
) -> impl Iterator<Item = Pair<'a>> {
    let mut common = common.peekable();
    let mut user = user.peekable();
    std::iter::from_fn(move || match (common.peek(), user.peek()) {
        (Some(c), Some(u)) if key_order(c.key, u.key).is_lt() => common.next(),
        (Some(_), Some(_)) | (None, Some(_)) => user.next(),
        (Some(_), None) => common.next(),
        (None, None) => None,
    })
}

fn push_prefix(url: &mut String, req: &RpcRequest) {
    let endpoint = req.endpoint();
    url.push_str(endpoint.scheme().as_str());
    url.push_str("://");
    url.push_str(endpoint.host());
    url.push_str("/?");
}

/// An upper bound on the encoded length of `pairs`, so each buffer is allocated once.
fn encoded_bound<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    pairs.map(|(k, v)| 3 * (k.len() + v.len()) + 2).sum()
}

/// Writes `k=v&k=v…` encoded into `out` and, encoded once more, into the MAC.
fn write_canonical<'a, M: hmac::Mac>(
    out: &mut String,
    feed: &mut MacFeed<M>,
    pairs: impl Iterator<Item = Pair<'a>>,
) {
    for (i, pair) in pairs.enumerate() {
        if i > 0 {
            out.push('&');
            feed.push(b"%26");
        }
        if pair.literal {
            put_literal(out, feed, pair.key);
            out.push('=');
            feed.push(b"%3D");
            put_literal(out, feed, pair.value);
        } else {
            put_twice(out, feed, pair.key);
            out.push('=');
            feed.push(b"%3D");
            put_twice(out, feed, pair.value);
        }
    }
}

/// Text with nothing to escape is the same in both encodings.
#[inline]
fn put_literal<M: hmac::Mac>(out: &mut String, feed: &mut MacFeed<M>, s: &str) {
    out.push_str(s);
    feed.push(s.as_bytes());
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
    let mut canonical_query = String::with_capacity(encoded_bound(pairs.iter().copied()));
    write_canonical(
        &mut canonical_query,
        &mut feed,
        pairs.iter().map(|&(k, v)| Pair::new(k, v, false)),
    );
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
