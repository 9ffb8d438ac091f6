//! Credentials, and the secret type that keeps them out of logs.
//!
//! The HMAC keys are derived once, when the credentials are made: signing then clones a keyed
//! state instead of hashing the secret again for every request.

use std::fmt;

use hmac::Hmac;
use sha1::Sha1;
use sha2::Sha256;

/// The text every redacted value prints as.
pub const REDACTED: &str = "** REDACTED **";

/// A string that must never be printed: an AccessKey secret or a security token.
///
/// `Debug` and `Display` both print [`REDACTED`]; the value is reachable only through
/// [`Secret::expose`], which makes every use easy to find.
///
/// ```
/// use rkvstore_core::Secret;
/// let s = Secret::new("hunter2");
/// assert_eq!(format!("{s} {s:?}"), "** REDACTED ** ** REDACTED **");
/// assert_eq!(s.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call this only where the value is sent or used as a key.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// An AccessKey pair, optionally with an STS security token.
///
/// ```
/// use rkvstore_core::Credentials;
/// let c = Credentials::new("LTAIexample", "the-secret").with_security_token("the-token");
/// let shown = format!("{c:?}");
/// assert_eq!(
///     shown,
///     r#"Credentials { access_key_id: "LTAIexample", access_key_secret: ** REDACTED **, security_token: Some(** REDACTED **) }"#
/// );
/// ```
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret: Secret,
    security_token: Option<Secret>,
    v1_key: Hmac<Sha1>,
    v3_key: Hmac<Sha256>,
    /// The key ID has nothing to escape (as real IDs never do), known once for every signature.
    id_is_plain: bool,
}

impl Credentials {
    /// Credentials from an AccessKey ID and secret.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        let secret = Secret::new(access_key_secret);
        // Signature 1.0 keys HMAC-SHA1 with `secret + "&"`; ACS3 keys HMAC-SHA256 with the secret.
        let mut v1_key = Vec::with_capacity(secret.expose().len() + 1);
        v1_key.extend_from_slice(secret.expose().as_bytes());
        v1_key.push(b'&');
        let access_key_id: String = access_key_id.into();
        Credentials {
            id_is_plain: access_key_id.bytes().all(crate::percent::is_unreserved),
            access_key_id,
            v1_key: new_hmac(&v1_key),
            v3_key: new_hmac(secret.expose().as_bytes()),
            secret,
            security_token: None,
        }
    }

    /// Adds an STS security token (credentials from AssumeRole and the like).
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(Secret::new(token));
        self
    }

    /// The AccessKey ID, which is public.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The AccessKey secret.
    pub fn access_key_secret(&self) -> &Secret {
        &self.secret
    }

    /// The STS security token, if any.
    pub fn security_token(&self) -> Option<&Secret> {
        self.security_token.as_ref()
    }

    pub(crate) fn id_is_plain(&self) -> bool {
        self.id_is_plain
    }

    pub(crate) fn v1_mac(&self) -> Hmac<Sha1> {
        self.v1_key.clone()
    }

    pub(crate) fn v3_mac(&self) -> Hmac<Sha256> {
        self.v3_key.clone()
    }
}

fn new_hmac<M: hmac::digest::KeyInit>(key: &[u8]) -> M {
    #[allow(clippy::expect_used)]
    M::new_from_slice(key).expect("HMAC accepts keys of any length")
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.secret)
            .field("security_token", &self.security_token)
            .finish()
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        self.access_key_id == other.access_key_id
            && self.secret == other.secret
            && self.security_token == other.security_token
    }
}

impl Eq for Credentials {}
