//! RPC signature 1.0: HMAC-SHA1 over `METHOD&%2F&` + the encoded canonical query.
//!
//! This is the hot path. The caller's parameters are sorted as indices in a stack array and
//! merged with the signer's own, which are already in order. One pass writes the canonical
//! query into the URL (encoded once) while streaming the same text, encoded a second time, into
//! the HMAC; the string to sign is never materialised. Text known to need no escaping
//! (constants, validated values) is copied without being scanned. Signing a request whose
//! parameters go in the query string allocates once: the URL.

use base64::Engine;

use super::bytes::Out;
use super::feed::MacFeed;
use super::{Canonical, SignedRequest, SigningParams};
use crate::percent::{encode_pairs_into, is_unreserved};
use crate::request::{Placement, RpcRequest};
use crate::time::ISO8601_LEN;
use crate::{validate, ParamError};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Parameter counts up to this sort their indices on the stack; more use a `Vec`.
const STACK_PARAMS: usize = 64;

/// How a piece of text reaches the two outputs.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// Nothing to escape: the same bytes go to the URL and the MAC.
    Plain(&'a str),
    /// Arbitrary text: escaped once for the URL, twice for the MAC.
    Escape(&'a str),
    /// Both forms, prepared in advance.
    Ready { url: &'a [u8], mac: &'a [u8] },
}

impl Text<'_> {
    /// The most bytes this can take in the URL.
    fn bound(&self) -> usize {
        match self {
            Text::Plain(s) => s.len(),
            Text::Escape(s) => 3 * s.len(),
            Text::Ready { url, .. } => url.len(),
        }
    }
}

/// One parameter on its way into the canonical query.
#[derive(Clone, Copy)]
struct Pair<'a> {
    key: &'a str,
    /// For the signer's own names, `&Key=` as the URL has it and `%26Key%3D` as the MAC sees
    /// it, written in one copy each (the first pair skips the `&`).
    head: Option<(&'static str, &'static str)>,
    key_plain: bool,
    value: Text<'a>,
    /// `false` for the security token's slot when there is no token.
    present: bool,
}

impl<'a> Pair<'a> {
    /// A pair under one of the signer's own (constant, unreserved) names.
    const fn own(key: &'a str, head: (&'static str, &'static str), value: Text<'a>) -> Self {
        Pair {
            key,
            head: Some(head),
            key_plain: true,
            value,
            present: true,
        }
    }

    fn from_entry((key, value, plain): (&'a str, &'a str, bool)) -> Self {
        Pair {
            key,
            head: None,
            key_plain: plain,
            value: if plain {
                Text::Plain(value)
            } else {
                Text::Escape(value)
            },
            present: true,
        }
    }

    fn bound(&self) -> usize {
        let key = if self.key_plain {
            self.key.len()
        } else {
            3 * self.key.len()
        };
        key + 2 + self.value.bound()
    }
}

/// A pair under one of the signer's names, with its `&Key=` / `%26Key%3D` heads spelled out
/// at compile time.
macro_rules! own {
    ($key:literal, $value:expr $(,)?) => {
        Pair::own(
            $key,
            (concat!("&", $key, "="), concat!("%26", $key, "%3D")),
            $value,
        )
    };
}

pub(super) fn sign(req: &RpcRequest, sp: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    let creds = sp.credentials;
    validate::nonce(sp.nonce)?;
    let (ts_url, ts_mac) = timestamp_forms(&sp.time.iso8601_bytes());
    let token = creds.security_token().map(|t| t.expose());
    let id = creds.access_key_id();
    // The signer's own parameters, already in byte order. Action and Version were validated
    // as tokens when the request was made, and the nonce just now.
    let own = [
        own!(
            "AccessKeyId",
            if creds.id_is_plain() {
                Text::Plain(id)
            } else {
                Text::Escape(id)
            },
        ),
        own!("Action", Text::Plain(req.action())),
        own!("Format", Text::Plain(req.format().as_str())),
        Pair {
            present: token.is_some(),
            ..own!("SecurityToken", Text::Escape(token.unwrap_or_default()))
        },
        own!("SignatureMethod", Text::Plain("HMAC-SHA1")),
        own!("SignatureNonce", Text::Plain(sp.nonce)),
        own!("SignatureVersion", Text::Plain("1.0")),
        own!(
            "Timestamp",
            Text::Ready {
                url: &ts_url,
                mac: &ts_mac,
            },
        ),
        own!("Version", Text::Plain(req.version())),
    ];

    // The caller's parameters are sorted as indices, which are cheap to move and to set up.
    let params = req.params();
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
    // `str` orders by bytes, which is the order both SDKs sort in.
    order.sort_unstable_by(|&a, &b| key_order(key(a), key(b)));
    let user = || {
        order
            .iter()
            .filter_map(|&i| params.entry(usize::from(i)).map(Pair::from_entry))
    };

    let method = req.method().as_str();
    let mut feed = MacFeed::new(creds.v1_mac());
    feed.push(method.as_bytes());
    feed.push(b"&%2F&");

    let endpoint = req.endpoint();
    let prefix_len = endpoint.scheme().as_str().len() + 3 + endpoint.host().len() + 2;
    let own_bound: usize = own.iter().filter(|p| p.present).map(Pair::bound).sum();
    let user_bound: usize = user().map(|p| p.bound()).sum();
    // Room for `&Signature=` and an encoded base64 HMAC-SHA1.
    const SIGNATURE_ROOM: usize = 11 + 3 * 28;
    let (mut url, body, canonical) = match req.placement() {
        Placement::Query => {
            let mut url = Out::with_capacity(prefix_len + own_bound + user_bound + SIGNATURE_ROOM);
            push_prefix(&mut url, req);
            let start = url.len();
            write_canonical(&mut url, &mut feed, &own, user());
            let end = url.len();
            (url, String::new(), Canonical::InUrl(start..end))
        }
        Placement::FormBody => {
            let mut canonical = Out::with_capacity(own_bound + user_bound);
            write_canonical(&mut canonical, &mut feed, &own, user());
            let mut url = Out::with_capacity(prefix_len + own_bound + SIGNATURE_ROOM);
            push_prefix(&mut url, req);
            // The URL carries only the signer's parameters; the caller's go in the body.
            write_url_only(&mut url, &own);
            let mut body = String::with_capacity(user_bound);
            encode_pairs_into(&mut body, req.params().iter());
            (url, body, Canonical::Owned(canonical.into_string()))
        }
    };

    let digest = feed.finish();
    let mut b64 = [0u8; 28];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(digest, &mut b64)
        .unwrap_or_default();
    url.push(b"&Signature=");
    put_once(&mut url, b64.get(..n).unwrap_or_default());

    Ok(SignedRequest::new_v1(
        req,
        url.into_string(),
        body,
        canonical,
        creds,
    ))
}

/// The timestamp as the URL carries it (`:` escaped) and as the MAC sees it (escaped twice).
/// Its shape is fixed, so the escapes go where the colons are without scanning.
fn timestamp_forms(iso: &[u8; ISO8601_LEN]) -> ([u8; ISO8601_LEN + 4], [u8; ISO8601_LEN + 8]) {
    fn put(buf: &mut [u8], at: usize, bytes: &[u8]) -> usize {
        if let Some(slot) = buf.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        at + bytes.len()
    }
    let part = |r: std::ops::Range<usize>| iso.get(r).unwrap_or_default();
    // `yyyy-MM-ddTHH` `:` `mm` `:` `ssZ`
    let (head, minutes, seconds) = (part(0..13), part(14..16), part(17..20));
    let mut url = [0u8; ISO8601_LEN + 4];
    let at = put(&mut url, 0, head);
    let at = put(&mut url, at, b"%3A");
    let at = put(&mut url, at, minutes);
    let at = put(&mut url, at, b"%3A");
    put(&mut url, at, seconds);
    let mut mac = [0u8; ISO8601_LEN + 8];
    let at = put(&mut mac, 0, head);
    let at = put(&mut mac, at, b"%253A");
    let at = put(&mut mac, at, minutes);
    let at = put(&mut mac, at, b"%253A");
    put(&mut mac, at, seconds);
    (url, mac)
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

fn push_prefix(url: &mut Out, req: &RpcRequest) {
    let endpoint = req.endpoint();
    url.push(endpoint.scheme().as_str().as_bytes());
    url.push(b"://");
    url.push(endpoint.host().as_bytes());
    url.push(b"/?");
}

/// Percent-encodes `bytes` once into `out`.
fn put_once(out: &mut Out, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        out.push(bytes.get(start..i).unwrap_or_default());
        out.push(&[
            b'%',
            HEX_UPPER[usize::from(b >> 4)],
            HEX_UPPER[usize::from(b & 0x0F)],
        ]);
        start = i + 1;
    }
    out.push(bytes.get(start..).unwrap_or_default());
}

/// Writes the signer's pairs as `k=v&k=v…`, encoded once, into `url` alone (the form-body case,
/// where the canonical query is written separately).
fn write_url_only(url: &mut Out, own: &[Pair<'_>]) {
    for (i, pair) in own.iter().filter(|p| p.present).enumerate() {
        if i > 0 {
            url.push(b"&");
        }
        url.push(pair.key.as_bytes());
        url.push(b"=");
        match pair.value {
            Text::Plain(s) => url.push(s.as_bytes()),
            Text::Escape(s) => put_once(url, s.as_bytes()),
            Text::Ready { url: ready, .. } => url.push(ready),
        }
    }
}

/// Writes `k=v&k=v…` encoded into `out` and, encoded once more, into the MAC: the signer's
/// pairs and the caller's, merged by key (they never share one: the caller cannot use the
/// signer's names).
fn write_canonical<'a, M: hmac::Mac>(
    out: &mut Out,
    feed: &mut MacFeed<M>,
    own: &[Pair<'a>],
    mut user: impl Iterator<Item = Pair<'a>>,
) {
    let mut first = true;
    // The caller's next pair, held by hand rather than through `Peekable::next_if`, which the
    // compiler does not always inline here and which then costs a tenth of the signing time.
    let mut next = user.next();
    for mine in own.iter().filter(|p| p.present) {
        while let Some(theirs) = next.filter(|u| key_order(u.key, mine.key).is_lt()) {
            write_pair(out, feed, &theirs, &mut first);
            next = user.next();
        }
        write_pair(out, feed, mine, &mut first);
    }
    while let Some(theirs) = next {
        write_pair(out, feed, &theirs, &mut first);
        next = user.next();
    }
}

#[inline(always)]
fn write_pair<M: hmac::Mac>(
    out: &mut Out,
    feed: &mut MacFeed<M>,
    pair: &Pair<'_>,
    first: &mut bool,
) {
    if let Some((url, mac)) = pair.head {
        // Skip the leading `&` (one byte in the URL, three in the MAC) on the first pair.
        let (u, m) = if *first { (1, 3) } else { (0, 0) };
        out.push(url.as_bytes().get(u..).unwrap_or_default());
        feed.push(mac.as_bytes().get(m..).unwrap_or_default());
    } else {
        if !*first {
            out.push(b"&");
            feed.push(b"%26");
        }
        if pair.key_plain {
            put_plain(out, feed, pair.key.as_bytes());
        } else {
            put_twice(out, feed, pair.key);
        }
        out.push(b"=");
        feed.push(b"%3D");
    }
    *first = false;
    match pair.value {
        Text::Plain(s) => put_plain(out, feed, s.as_bytes()),
        Text::Escape(s) => put_twice(out, feed, s),
        Text::Ready { url, mac } => {
            out.push(url);
            feed.push(mac);
        }
    }
}

/// Text with nothing to escape is the same in both encodings.
#[inline]
fn put_plain<M: hmac::Mac>(out: &mut Out, feed: &mut MacFeed<M>, bytes: &[u8]) {
    out.push(bytes);
    feed.push(bytes);
}

/// Encodes `s` into `out`, and feeds the MAC the encoding of that encoding: literal runs are the
/// same in both, and an escape `%XX` becomes `%25XX`.
#[inline]
fn put_twice<M: hmac::Mac>(out: &mut Out, feed: &mut MacFeed<M>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        put_plain(out, feed, bytes.get(start..i).unwrap_or_default());
        let hi = HEX_UPPER[usize::from(b >> 4)];
        let lo = HEX_UPPER[usize::from(b & 0x0F)];
        out.push(&[b'%', hi, lo]);
        feed.push(&[b'%', b'2', b'5', hi, lo]);
        start = i + 1;
    }
    put_plain(out, feed, bytes.get(start..).unwrap_or_default());
}

/// Signs a fully assembled parameter list, as a server receives it: every parameter but
/// `Signature`. Returns the canonical query, the string to sign and the signature.
///
/// This is for test doubles that check what they receive, and for conformance checks against
/// the official SDKs' vectors; [`crate::sign`] is the way to sign a request.
#[cfg(feature = "verify")]
pub fn sign_params(method: &str, params: &[(&str, &str)], access_key_secret: &str) -> V1Parts {
    let mut pairs: Vec<Pair<'_>> = params
        .iter()
        .map(|&(k, v)| Pair {
            key: k,
            head: None,
            key_plain: false,
            value: Text::Escape(v),
            present: true,
        })
        .collect();
    pairs.sort_unstable_by(|a, b| a.key.cmp(b.key));
    let creds = crate::Credentials::new("", access_key_secret);
    let mut feed = MacFeed::new(creds.v1_mac());
    feed.push(method.as_bytes());
    feed.push(b"&%2F&");
    let mut canonical = Out::with_capacity(pairs.iter().map(Pair::bound).sum());
    write_canonical(&mut canonical, &mut feed, &pairs, std::iter::empty());
    let canonical_query = canonical.into_string();
    let signature = base64::engine::general_purpose::STANDARD.encode(feed.finish());
    let string_to_sign = format!("{method}&%2F&{}", crate::percent::Encoded(&canonical_query));
    V1Parts {
        canonical_query,
        string_to_sign,
        signature,
    }
}

/// The three results of signature 1.0.
#[cfg(feature = "verify")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1Parts {
    /// Sorted, encoded `k=v&…` without `Signature`.
    pub canonical_query: String,
    /// `METHOD&%2F&` + the canonical query encoded again.
    pub string_to_sign: String,
    /// Base64 HMAC-SHA1, not yet percent-encoded.
    pub signature: String,
}
