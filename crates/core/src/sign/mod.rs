//! Signing: from an [`RpcRequest`] and [`SigningParams`] to a [`SignedRequest`] that any HTTP
//! transport can send as it is.

mod bytes;
mod feed;
mod signed;
mod unsigned;
mod v1;
mod v3;
#[cfg(feature = "verify")]
pub mod verify;

use std::fmt;
use std::str::FromStr;

use signed::Canonical;
pub use signed::{Headers, SignedRequest, SigningText};
pub use unsigned::sign_unsigned;

use crate::request::RpcRequest;
use crate::{Credentials, ParamError, Timestamp};

/// Which signature algorithm to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SignatureVersion {
    /// RPC signature 1.0: HMAC-SHA1 in the `Signature` query parameter. The default, as in the
    /// `aliyun` CLI.
    #[default]
    V1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header, the default of the newer SDKs.
    V3,
}

impl SignatureVersion {
    /// `"v1"` or `"v3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureVersion::V1 => "v1",
            SignatureVersion::V3 => "v3",
        }
    }
}

impl fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignatureVersion {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "v1" | "1" | "1.0" | "hmac-sha1" => Ok(SignatureVersion::V1),
            "v3" | "3" | "acs3" | "acs3-hmac-sha256" => Ok(SignatureVersion::V3),
            _ => Err(ParamError::Invalid {
                name: "signature version",
                value: s.to_owned(),
                expected: "use v1 (RPC signature 1.0, HMAC-SHA1) or v3 (ACS3-HMAC-SHA256)",
            }),
        }
    }
}

/// Everything signing needs besides the request. Time and nonce are inputs: the core reads no
/// clock and draws no random numbers, so the same inputs always give the same signature.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// Who signs.
    pub credentials: &'a Credentials,
    /// The request time, checked by the service to within 15 minutes.
    pub time: Timestamp,
    /// A value never used before with these credentials (the service refuses replays).
    pub nonce: &'a str,
    /// The algorithm.
    pub version: SignatureVersion,
}

/// The nonce the official SDKs send, 32 lower-case hex digits, from 16 random bytes that the
/// caller draws (the core draws no random numbers).
///
/// ```
/// let mut random = [0u8; 16];
/// random[..5].copy_from_slice(&[0x00, 0x0f, 0xa5, 0xff, 0x10]);
/// random[15] = 0x01;
/// assert_eq!(
///     rkvstore_core::nonce_from_bytes(random),
///     "000fa5ff100000000000000000000001"
/// );
/// ```
pub fn nonce_from_bytes(random: [u8; 16]) -> String {
    lower_hex(&random)
}

/// The digits of lower-case hex, which ACS3 writes its hashes and signature in.
pub(crate) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex digits of `bytes`.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        s.push(char::from(HEX_LOWER[usize::from(b & 0x0F)]));
    }
    s
}

/// Signs `request`.
///
/// ```
/// use rkvstore_core::{sign, Credentials, Endpoint, Method, RpcRequest, SignatureVersion, SigningParams, Timestamp};
/// let creds = Credentials::new("testid", "testsecret");
/// let req = RpcRequest::new(Endpoint::parse("ecs.aliyuncs.com")?, "2014-05-26", "DescribeRegions")?
///     .with_method(Method::Get)
///     .with_format(rkvstore_core::Format::Xml);
/// let signed = sign(&req, &SigningParams {
///     credentials: &creds,
///     time: Timestamp::parse_iso8601("2016-02-23T12:46:24Z").unwrap(),
///     nonce: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
///     version: SignatureVersion::V1,
/// })?;
/// assert!(signed.url().ends_with("&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D"));
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
pub fn sign(request: &RpcRequest, params: &SigningParams<'_>) -> Result<SignedRequest, ParamError> {
    match params.version {
        SignatureVersion::V1 => v1::sign(request, params),
        SignatureVersion::V3 => v3::sign(request, params),
    }
}
