//! Authenticating a request the way the service does: signature, credentials, time, nonce.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rkvstore_core::verify::{v1, v3};
use rkvstore_core::{Credentials, SignatureVersion, Timestamp};

use crate::render::Failure;
use crate::state::State;

/// The service accepts timestamps this far from its own clock.
pub(crate) const WINDOW_SECS: i64 = 15 * 60;

/// A request as parsed off the wire.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Query parameters, decoded, in order.
    pub(crate) query: Vec<(String, String)>,
    /// Form body parameters, decoded, in order.
    pub(crate) form: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Incoming {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, query and body together, as the signature covers them.
    pub(crate) fn params(&self) -> BTreeMap<&str, &str> {
        self.query
            .iter()
            .chain(self.form.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .chain(self.form.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn signature_version(&self) -> SignatureVersion {
        match self.header("authorization") {
            Some(a) if a.starts_with("ACS3-") => SignatureVersion::V3,
            _ => SignatureVersion::V1,
        }
    }

    pub(crate) fn action(&self) -> Option<&str> {
        match self.signature_version() {
            SignatureVersion::V3 => self.header("x-acs-action"),
            SignatureVersion::V1 => self.param("Action"),
        }
    }

    pub(crate) fn nonce(&self) -> Option<&str> {
        match self.signature_version() {
            SignatureVersion::V3 => self.header("x-acs-signature-nonce"),
            SignatureVersion::V1 => self.param("SignatureNonce"),
        }
    }
}

/// Checks the request; on success returns the API version it asked for.
pub(crate) fn authenticate<'a>(req: &'a Incoming, state: &mut State) -> Result<&'a str, Failure> {
    let mut access = state;
    match req.signature_version() {
        SignatureVersion::V1 => authenticate_v1(req, &mut access),
        SignatureVersion::V3 => authenticate_v3(req, &mut access),
    }
}

/// [`authenticate`] with the state behind its lock, taken only to read the key and the clock
/// and to spend the nonce: the signature is recomputed outside it. Under load, a lock held
/// for the whole check (HMAC, canonical strings, allocations) makes every connection queue
/// behind whichever thread the scheduler preempted while holding it.
pub(crate) fn authenticate_shared<'a>(
    req: &'a Incoming,
    state: &Mutex<State>,
) -> Result<&'a str, Failure> {
    let mut access = state;
    match req.signature_version() {
        SignatureVersion::V1 => authenticate_v1(req, &mut access),
        SignatureVersion::V3 => authenticate_v3(req, &mut access),
    }
}

/// The state, however the caller holds it.
trait Access {
    fn with<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> R;
}

impl Access for &mut State {
    fn with<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> R {
        f(self)
    }
}

impl Access for &Mutex<State> {
    fn with<R>(&mut self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut crate::lock(self))
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, Failure> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        Failure::new(
            400,
            "IncompleteSignature",
            format!(
                "The request signature does not conform to Aliyun standards. {name} is missing."
            ),
        )
    })
}

fn authenticate_v1<'a>(req: &'a Incoming, state: &mut impl Access) -> Result<&'a str, Failure> {
    let key_id = required(req.param("AccessKeyId"), "AccessKeyId")?;
    let signature = required(req.param("Signature"), "Signature")?;
    let method = required(req.param("SignatureMethod"), "SignatureMethod")?;
    let sig_version = required(req.param("SignatureVersion"), "SignatureVersion")?;
    let nonce = required(req.param("SignatureNonce"), "SignatureNonce")?;
    let timestamp = required(req.param("Timestamp"), "Timestamp")?;
    if method != "HMAC-SHA1" || sig_version != "1.0" {
        return Err(Failure::new(
            400,
            "IncompleteSignature",
            format!(
                "The request signature does not conform to Aliyun standards. \
                 SignatureMethod {method} with SignatureVersion {sig_version} is not supported."
            ),
        ));
    }
    let key = state.with(|st| {
        let key = lookup(st, key_id)?;
        check_token(&key, req.param("SecurityToken"))?;
        check_time(st, Timestamp::parse_iso8601(timestamp), timestamp)?;
        Ok::<_, Failure>(key)
    })?;

    let mut params = req.params();
    params.remove("Signature");
    let pairs: Vec<(&str, &str)> = params.into_iter().collect();
    let expected = v1::sign_params(&req.method, &pairs, key.secret.expose());
    if expected.signature != signature {
        return Err(Failure::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{}",
                expected.string_to_sign
            ),
        ));
    }
    state.with(|st| check_nonce(st, nonce))?;
    required(req.param("Version"), "Version").map_err(|_| {
        Failure::new(
            400,
            "MissingVersion",
            "Version is mandatory for this action.",
        )
    })
}

fn authenticate_v3<'a>(req: &'a Incoming, state: &mut impl Access) -> Result<&'a str, Failure> {
    let auth = req.header("authorization").unwrap_or_default();
    let malformed = || {
        Failure::new(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards. The Authorization \
             header must be ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=….",
        )
    };
    let rest = auth
        .strip_prefix("ACS3-HMAC-SHA256 ")
        .ok_or_else(malformed)?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => return Err(malformed()),
        }
    }
    let (key_id, signed_headers, signature) = match (credential, signed_headers, signature) {
        (Some(c), Some(h), Some(s)) if !c.is_empty() && !h.is_empty() => (c, h, s),
        _ => return Err(malformed()),
    };
    let nonce = required(req.header("x-acs-signature-nonce"), "x-acs-signature-nonce")?;
    let date = required(req.header("x-acs-date"), "x-acs-date")?;
    let content_sha = required(req.header("x-acs-content-sha256"), "x-acs-content-sha256")?;
    let key = state.with(|st| {
        let key = lookup(st, key_id)?;
        check_token(&key, req.header("x-acs-security-token"))?;
        check_time(st, Timestamp::parse_iso8601(date), date)?;
        Ok::<_, Failure>(key)
    })?;
    if content_sha != v3::hex_sha256(&req.body) {
        return Err(Failure::new(
            400,
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the SHA-256 of the body.",
        ));
    }

    let mut headers = Vec::new();
    for name in signed_headers.split(';') {
        let value = req.header(name).ok_or_else(|| {
            Failure::new(
                400,
                "IncompleteSignature",
                format!("The signed header {name} is not in the request."),
            )
        })?;
        headers.push((name, value));
    }
    let query: Vec<(&str, &str)> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let parts = v3::canonical_request(&req.method, &req.path, &query, &headers, content_sha);
    let string_to_sign = v3::string_to_sign(&parts.canonical_request);
    let creds = Credentials::new(key_id, key.secret.expose());
    let expected = v3::authorization(&creds, &parts.signed_headers, &string_to_sign);
    let expected_sig = expected
        .rsplit_once("Signature=")
        .map(|(_, s)| s)
        .unwrap_or_default();
    if expected_sig != signature {
        return Err(Failure::new(
            400,
            "SignatureDoesNotMatch",
            format!(
                "The request signature does not match our calculation. server string to sign is:{string_to_sign}"
            ),
        ));
    }
    state.with(|st| check_nonce(st, nonce))?;
    required(req.header("x-acs-version"), "x-acs-version")
}

fn lookup(state: &State, key_id: &str) -> Result<crate::state::AccessKey, Failure> {
    let key = state.key(key_id).cloned().ok_or_else(|| {
        Failure::new(
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    })?;
    // Temporary credentials the emulator issued work until they expire, as at the service.
    if state.sts.expired(key_id, state.now()) {
        return Err(Failure::new(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ));
    }
    Ok(key)
}

fn check_token(key: &crate::state::AccessKey, sent: Option<&str>) -> Result<(), Failure> {
    match (&key.token, sent) {
        (None, None) => Ok(()),
        (Some(t), Some(s)) if t.expose() == s => Ok(()),
        (Some(_), None) => Err(Failure::new(
            400,
            "MissingSecurityToken",
            "SecurityToken is mandatory for this AccessKey: it is a temporary (STS) key.",
        )),
        _ => Err(Failure::new(
            400,
            "InvalidSecurityToken.Mismatch",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
    }
}

fn check_time(state: &State, parsed: Option<Timestamp>, raw: &str) -> Result<(), Failure> {
    let Some(t) = parsed else {
        return Err(Failure::new(
            400,
            "InvalidTimeStamp.Format",
            format!("Specified time stamp or date value {raw:?} is not well formatted; use yyyy-MM-ddTHH:mm:ssZ in UTC."),
        ));
    };
    let now = state.now();
    if t.unix().abs_diff(now.unix()) > WINDOW_SECS.unsigned_abs() {
        return Err(Failure::new(
            400,
            "InvalidTimeStamp.Expired",
            format!("Specified time stamp or date value is expired. The server time is {now}, the request time is {t}."),
        ));
    }
    Ok(())
}

fn check_nonce(state: &mut State, nonce: &str) -> Result<(), Failure> {
    if state.use_nonce(nonce) {
        Ok(())
    } else {
        Err(Failure::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ))
    }
}
