//! Requests that carry no signature, for the few actions the service takes anonymously, such as
//! STS `AssumeRoleWithOIDC`, whose proof of identity is the OIDC token in its parameters.

use super::{Canonical, SignedRequest};
use crate::percent::encode_pairs_into;
use crate::request::{Placement, RpcRequest};
use crate::{validate, Credentials, ParamError, Timestamp};

/// The request with the protocol's own parameters (`Action`, `Format`, `SignatureNonce`,
/// `Timestamp`, `Version`) in the query and no credentials at all.
///
/// It takes the same time and nonce as a signed request, because the service still checks the
/// timestamp and refuses a replayed nonce.
///
/// ```
/// use rkvstore_core::{sign_unsigned, Endpoint, RpcRequest, Timestamp};
/// let req = RpcRequest::new(Endpoint::parse("sts.aliyuncs.com")?, "2015-04-01", "AssumeRoleWithOIDC")?
///     .with_form_body()
///     .param("OIDCToken", "eyJ.token")?;
/// let time = Timestamp::parse_iso8601("2026-01-01T00:00:00Z").unwrap();
/// let unsigned = sign_unsigned(&req, time, "nonce-1")?;
/// assert_eq!(
///     unsigned.url(),
///     "https://sts.aliyuncs.com/?Action=AssumeRoleWithOIDC&Format=JSON&SignatureNonce=nonce-1\
///      &Timestamp=2026-01-01T00%3A00%3A00Z&Version=2015-04-01"
/// );
/// assert_eq!(unsigned.body(), b"OIDCToken=eyJ.token");
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
pub fn sign_unsigned(
    req: &RpcRequest,
    time: Timestamp,
    nonce: &str,
) -> Result<SignedRequest, ParamError> {
    validate::nonce(nonce)?;
    let timestamp = time.to_string();
    let own = [
        ("Action", req.action()),
        ("Format", req.format().as_str()),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp.as_str()),
        ("Version", req.version()),
    ];
    let endpoint = req.endpoint();
    let mut url = format!("{}://{}/?", endpoint.scheme().as_str(), endpoint.host());
    let mut body = String::new();
    let mut all: Vec<(&str, &str)> = own.to_vec();
    match req.placement() {
        Placement::Query => all.extend(req.params().iter()),
        Placement::FormBody => encode_pairs_into(&mut body, req.params().iter()),
    }
    // Byte order, as for a signed request, so that logs compare easily.
    all.sort_unstable();
    let in_url: &[(&str, &str)] = match req.placement() {
        Placement::Query => &all,
        Placement::FormBody => &own,
    };
    encode_pairs_into(&mut url, in_url.iter().copied());
    let mut canonical = String::new();
    encode_pairs_into(&mut canonical, all.iter().copied());
    // No credentials sign this request; an empty pair stands in for them so that the request
    // carries no security token to hide.
    let nobody = Credentials::new("", "");
    Ok(SignedRequest::new_v1(
        req,
        url,
        body,
        Canonical::Owned(canonical),
        &nobody,
    ))
}
