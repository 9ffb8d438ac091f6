//! Checking the signers against signing vectors computed by the official SDKs.
//!
//! The vector format is one JSON object a line (see `crates/core/tests/vectors/README.md`).
//! [`check_line`] recomputes one vector from its inputs through the same code that signs real
//! requests and says what differs. The `conformance` example runs it over a file, and
//! `tests/vectors.rs` includes this file to run it on every vector; it is test support, not
//! part of the library.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use rkvstore_core::verify::{v1, v3};
use rkvstore_core::{
    sign, Credentials, Endpoint, Format, Method, ParamError, Params, RpcRequest, SignatureVersion,
    SigningParams, Timestamp,
};

/// Which signature a vector file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suite {
    /// RPC signature 1.0 (`rpc-v1`).
    RpcV1,
    /// ACS3-HMAC-SHA256 (`acs3`).
    Acs3,
}

impl Suite {
    /// `rpc-v1` or `acs3`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "rpc-v1" => Some(Suite::RpcV1),
            "acs3" => Some(Suite::Acs3),
            _ => None,
        }
    }
}

/// One value that came out differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// What was compared: `signature`, `string_to_sign`, …
    pub(crate) field: &'static str,
    /// The vector's value.
    pub(crate) expected: String,
    /// Ours.
    pub(crate) actual: String,
}

/// The outcome for one vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The vector's `id`.
    pub(crate) id: String,
    /// Empty when the vector passed.
    pub(crate) mismatches: Vec<Mismatch>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mismatches.is_empty() {
            return write!(f, "{}: ok", self.id);
        }
        write!(f, "{}: FAILED", self.id)?;
        for m in &self.mismatches {
            write!(
                f,
                "\n  {}\n    expected: {}\n    actual:   {}",
                m.field, m.expected, m.actual
            )?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct RpcVector {
    id: String,
    method: String,
    access_key_secret: String,
    params: serde_json::Map<String, Value>,
    canonicalized_query: String,
    string_to_sign: String,
    signature: String,
}

#[derive(Deserialize)]
struct Acs3Vector {
    id: String,
    method: String,
    pathname: String,
    access_key_id: String,
    access_key_secret: String,
    query: serde_json::Map<String, Value>,
    headers: serde_json::Map<String, Value>,
    body: String,
    authorization: String,
}

/// Checks one line of a vector file. `Err` means the line itself is not a valid vector.
pub(crate) fn check_line(suite: Suite, line: &str) -> Result<Outcome, String> {
    match suite {
        Suite::RpcV1 => {
            let v: RpcVector = serde_json::from_str(line).map_err(|e| e.to_string())?;
            check_rpc_v1(&v)
        }
        Suite::Acs3 => {
            let v: Acs3Vector = serde_json::from_str(line).map_err(|e| e.to_string())?;
            check_acs3(&v)
        }
    }
}

fn strings(map: &serde_json::Map<String, Value>) -> Result<Vec<(&str, &str)>, String> {
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.as_str(), s.as_str())),
            other => Err(format!("value of {k} is not a string: {other}")),
        })
        .collect()
}

fn compare(out: &mut Vec<Mismatch>, field: &'static str, expected: &str, actual: &str) {
    if expected != actual {
        out.push(Mismatch {
            field,
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        });
    }
}

fn check_rpc_v1(v: &RpcVector) -> Result<Outcome, String> {
    let params = strings(&v.params)?;
    let mut mismatches = Vec::new();

    // The stand-alone signer, from the parameter list as given.
    let parts = v1::sign_params(&v.method, &params, &v.access_key_secret);
    compare(
        &mut mismatches,
        "canonicalized_query",
        &v.canonicalized_query,
        &parts.canonical_query,
    );
    compare(
        &mut mismatches,
        "string_to_sign",
        &v.string_to_sign,
        &parts.string_to_sign,
    );
    compare(&mut mismatches, "signature", &v.signature, &parts.signature);

    // The request signer, from a request rebuilt out of the same inputs.
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, val)| *val)
            .ok_or_else(|| format!("{} has no {k}", v.id))
    };
    let method = match v.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => return Err(format!("unknown method {other}")),
    };
    let format = match get("Format")? {
        "XML" => Format::Xml,
        _ => Format::Json,
    };
    let mut creds = Credentials::new(get("AccessKeyId")?, v.access_key_secret.as_str());
    if let Ok(token) = get("SecurityToken") {
        creds = creds.with_security_token(token);
    }
    let time = Timestamp::parse_iso8601(get("Timestamp")?)
        .ok_or_else(|| format!("{}: bad Timestamp", v.id))?;
    // The signer writes its own parameters (key ID, time, nonce, …); the request carries the
    // rest, and `Params` says which are the signer's by refusing them.
    let mut rest = Params::new();
    for (k, val) in &params {
        match rest.insert(k.to_string(), *val) {
            Ok(_) | Err(ParamError::Reserved { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let endpoint = Endpoint::parse(rkvstore_core::CENTRAL_HOST).map_err(|e| e.to_string())?;
    let req = RpcRequest::new(
        endpoint,
        get("Version")?.to_owned(),
        get("Action")?.to_owned(),
    )
    .map_err(|e| e.to_string())?
    .with_method(method)
    .with_format(format)
    .with_params(rest);
    let signed = sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time,
            nonce: get("SignatureNonce")?,
            version: SignatureVersion::V1,
        },
    )
    .map_err(|e| e.to_string())?;
    compare(
        &mut mismatches,
        "request canonical query",
        &v.canonicalized_query,
        signed.canonical().as_str(),
    );
    compare(
        &mut mismatches,
        "request string to sign",
        &v.string_to_sign,
        signed.string_to_sign().as_str(),
    );
    let url_signature = signed
        .url()
        .rsplit_once("&Signature=")
        .and_then(|(_, s)| rkvstore_core::percent::decode(s).ok())
        .unwrap_or_default();
    compare(
        &mut mismatches,
        "request signature",
        &v.signature,
        &url_signature,
    );
    Ok(Outcome {
        id: v.id.clone(),
        mismatches,
    })
}

fn check_acs3(v: &Acs3Vector) -> Result<Outcome, String> {
    let query = strings(&v.query)?;
    let headers = strings(&v.headers)?;
    let mut mismatches = Vec::new();
    let mut creds = Credentials::new(v.access_key_id.as_str(), v.access_key_secret.as_str());

    let hashed = v3::hex_sha256(v.body.as_bytes());
    let declared = headers
        .iter()
        .find(|(k, _)| *k == "x-acs-content-sha256")
        .map(|(_, h)| *h)
        .unwrap_or_default();
    compare(&mut mismatches, "x-acs-content-sha256", declared, &hashed);
    let parts = v3::canonical_request(&v.method, &v.pathname, &query, &headers, &hashed);
    let string_to_sign = v3::string_to_sign(&parts.canonical_request);
    let auth = v3::authorization(&creds, &parts.signed_headers, &string_to_sign);
    compare(&mut mismatches, "authorization", &v.authorization, &auth);

    // Where the vector is a plain query-string call, the request signer must agree as well.
    let get = |k: &str| {
        headers
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, val)| *val)
    };
    let standard = v.body.is_empty() && v.pathname == "/" && get("content-type").is_none();
    if let (true, Some(host), Some(action), Some(version), Some(date), Some(nonce)) = (
        standard,
        get("host"),
        get("x-acs-action"),
        get("x-acs-version"),
        get("x-acs-date"),
        get("x-acs-signature-nonce"),
    ) {
        if let Some(token) = get("x-acs-security-token") {
            creds = creds.with_security_token(token);
        }
        let method = if v.method == "GET" {
            Method::Get
        } else {
            Method::Post
        };
        let mut params = Params::new();
        for (k, val) in &query {
            params
                .insert(k.to_string(), *val)
                .map_err(|e| e.to_string())?;
        }
        let req = RpcRequest::new(
            Endpoint::parse(host).map_err(|e| e.to_string())?,
            version.to_owned(),
            action.to_owned(),
        )
        .map_err(|e| e.to_string())?
        .with_method(method)
        .with_params(params);
        let time =
            Timestamp::parse_iso8601(date).ok_or_else(|| format!("{}: bad x-acs-date", v.id))?;
        let signed = sign(
            &req,
            &SigningParams {
                credentials: &creds,
                time,
                nonce,
                version: SignatureVersion::V3,
            },
        )
        .map_err(|e| e.to_string())?;
        let ours = signed.headers().get("authorization").unwrap_or_default();
        compare(
            &mut mismatches,
            "request authorization",
            &v.authorization,
            ours,
        );
    }
    Ok(Outcome {
        id: v.id.clone(),
        mismatches,
    })
}
