//! ACS3-HMAC-SHA256 (signature v3), the official SDKs' current default.
//!
//! The canonical request is
//! `METHOD\nPATH\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nHEX(SHA256(body))`, the string to sign is
//! `ACS3-HMAC-SHA256\n` + its hex SHA-256, and the signature is the hex HMAC-SHA256 of that with
//! the AccessKey secret as key. Action, version, time and nonce travel in `x-acs-*` headers.

// The building blocks below are public for `crate::verify` (feature `verify`), which
// re-exports them for test doubles; without it they are the signer's own.
#![cfg_attr(not(feature = "verify"), allow(unreachable_pub))]

use std::borrow::Cow;
use std::fmt::Write as _;

use hmac::Mac;
use sha2::{Digest, Sha256};

use super::{SignedRequest, SigningParams};
use crate::percent::encode_pairs_into;
use crate::request::{Placement, RpcRequest};
use crate::{validate, Credentials, ParamError};

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Hex SHA-256 of the empty body.
#[cfg(any(test, feature = "verify"))]
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(super) fn sign(req: &RpcRequest, sp: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    let creds = sp.credentials;
    validate::nonce(sp.nonce)?;
    validate::header_safe("AccessKeyId", creds.access_key_id())?;
    if let Some(token) = creds.security_token() {
        validate::header_safe("SecurityToken", token.expose())?;
    }
    let endpoint = req.endpoint();
    let params: Vec<(&str, &str)> = req.params().iter().collect();
    let (query, body): (&[(&str, &str)], String) = match req.placement() {
        Placement::Query => (&params, String::new()),
        Placement::FormBody => {
            let mut body = String::new();
            encode_pairs_into(&mut body, params.iter().copied());
            (&[], body)
        }
    };
    let content_sha256 = hex_sha256(body.as_bytes());
    let hashed = content_sha256.clone();
    let date = sp.time.to_string();
    let mut headers: Vec<(&'static str, String)> = vec![
        ("host", endpoint.host().to_owned()),
        ("x-acs-action", req.action().to_owned()),
        ("x-acs-version", req.version().to_owned()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", sp.nonce.to_owned()),
        ("x-acs-content-sha256", content_sha256),
    ];
    if let Some(token) = creds.security_token() {
        // The official SDKs send and sign the key ID beside the token.
        headers.push(("x-acs-security-token", token.expose().to_owned()));
        headers.push(("x-acs-accesskey-id", creds.access_key_id().to_owned()));
    }
    if !body.is_empty() {
        headers.push((
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ));
    }

    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let parts = canonical_request(req.method().as_str(), "/", query, &header_refs, &hashed);
    let string_to_sign = string_to_sign(&parts.canonical_request);
    let authorization = authorization(creds, &parts.signed_headers, &string_to_sign);
    headers.push(("authorization", authorization));

    let mut url = String::with_capacity(endpoint.host().len() + parts.canonical_query.len() + 16);
    let _ = write!(url, "{}://{}/", endpoint.scheme().as_str(), endpoint.host());
    if !parts.canonical_query.is_empty() {
        url.push('?');
        url.push_str(&parts.canonical_query);
    }
    Ok(SignedRequest::new_v3(
        req,
        url,
        headers,
        body,
        parts.canonical_request,
        string_to_sign,
        creds,
    ))
}

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

/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// The `Authorization` header value.
pub fn authorization(creds: &Credentials, signed_headers: &str, string_to_sign: &str) -> String {
    let mut mac = creds.v3_mac();
    mac.update(string_to_sign.as_bytes());
    let signature = hex(&mac.finalize().into_bytes());
    format!(
        "{ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}",
        creds.access_key_id()
    )
}

/// Hex SHA-256, the form of `x-acs-content-sha256`.
pub fn hex_sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0F)]));
    }
    s
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
