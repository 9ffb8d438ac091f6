//! Why a signature did not match.
//!
//! The service quotes the string to sign it computed (`… server string to sign is:<text>`). When
//! it equals ours, the request arrived intact and only the key can differ: the secret is wrong.
//! When it does not, the first differing parameter is almost always the culprit (a proxy that
//! rewrote a value, a parameter added after signing, a double-encoded value).

use std::collections::BTreeMap;
use std::fmt;

use crate::credentials::REDACTED;
use crate::percent;

const MARKER: &str = "server string to sign is:";

/// One difference between our string to sign and the server's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// The HTTP methods differ (a proxy changed POST to GET, or the reverse).
    Method {
        /// Ours.
        ours: String,
        /// The server's.
        server: String,
    },
    /// A parameter only we signed: the server did not receive it.
    OnlyOurs {
        /// The parameter.
        name: String,
    },
    /// A parameter only the server saw: something added it after signing.
    OnlyServer {
        /// The parameter.
        name: String,
    },
    /// Both have the parameter with different values.
    Value {
        /// The parameter.
        name: String,
        /// Our value (redacted for `SecurityToken`).
        ours: String,
        /// The server's value (redacted for `SecurityToken`).
        server: String,
    },
    /// The strings differ in a way that is not a parameter (ACS3 strings to sign are hashes).
    Opaque,
}

/// The outcome of comparing the two strings to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureDiagnosis {
    /// The message did not quote the server's string to sign.
    ServerStringMissing,
    /// The strings are equal: the AccessKey secret is wrong.
    SecretMismatch,
    /// The strings differ, in these ways.
    Differs(Vec<Difference>),
}

impl fmt::Display for SignatureDiagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureDiagnosis::ServerStringMissing => f.write_str(
                "the server did not quote its string to sign, so the cause cannot be narrowed \
                 down; check the AccessKey secret first",
            ),
            SignatureDiagnosis::SecretMismatch => f.write_str(
                "our string to sign equals the server's, so the request arrived intact and the \
                 AccessKey secret is wrong (or belongs to another AccessKey ID)",
            ),
            SignatureDiagnosis::Differs(diffs) => {
                f.write_str("our string to sign differs from the server's: ")?;
                for (i, d) in diffs.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    match d {
                        Difference::Method { ours, server } => {
                            write!(f, "the method is {ours} here but {server} at the server")?
                        }
                        Difference::OnlyOurs { name } => write!(
                            f,
                            "parameter {name} was signed but did not reach the server"
                        )?,
                        Difference::OnlyServer { name } => {
                            write!(f, "parameter {name} reached the server but was not signed")?
                        }
                        Difference::Value { name, ours, server } => write!(
                            f,
                            "parameter {name} is {ours:?} here but {server:?} at the server"
                        )?,
                        Difference::Opaque => f.write_str(
                            "the canonical requests differ (a header, the query or the body \
                             changed on the way)",
                        )?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// Compares the server's string to sign, quoted in `server_message`, with `ours`.
///
/// ```
/// use rkvstore_core::diagnose::{diagnose, SignatureDiagnosis};
/// let ours = "GET&%2F&A%3D1%26B%3D2";
/// let msg = "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&A%3D1%26B%3D3";
/// assert_eq!(
///     diagnose(msg, ours).to_string(),
///     "our string to sign differs from the server's: parameter B is \"2\" here but \"3\" at the server"
/// );
/// assert_eq!(diagnose(&msg.replace("B%3D3", "B%3D2"), ours), SignatureDiagnosis::SecretMismatch);
/// ```
pub fn diagnose(server_message: &str, ours: &str) -> SignatureDiagnosis {
    diagnose_with_token(server_message, ours, None)
}

/// [`diagnose`], with the security token hidden in every name and value the diagnosis quotes
/// (before they are clipped, so that no piece of it is left).
pub(crate) fn diagnose_with_token(
    server_message: &str,
    ours: &str,
    token: Option<&str>,
) -> SignatureDiagnosis {
    let Some(at) = server_message.find(MARKER) else {
        return SignatureDiagnosis::ServerStringMissing;
    };
    let server = server_message
        .get(at + MARKER.len()..)
        .unwrap_or_default()
        .trim();
    let ours = ours.trim();
    if server.is_empty() {
        return SignatureDiagnosis::ServerStringMissing;
    }
    if server == ours {
        return SignatureDiagnosis::SecretMismatch;
    }
    match (split_v1(ours), split_v1(server)) {
        (Some((om, op)), Some((sm, sp))) => {
            let mut diffs = Vec::new();
            if om != sm {
                diffs.push(Difference::Method {
                    ours: om.to_owned(),
                    server: sm.to_owned(),
                });
            }
            for (name, ov) in &op {
                match sp.get(name) {
                    None => diffs.push(Difference::OnlyOurs {
                        name: shown("", name, token),
                    }),
                    Some(sv) if sv != ov => diffs.push(Difference::Value {
                        name: shown("", name, token),
                        ours: shown(name, ov, token),
                        server: shown(name, sv, token),
                    }),
                    Some(_) => {}
                }
            }
            for name in sp.keys().filter(|n| !op.contains_key(*n)) {
                diffs.push(Difference::OnlyServer {
                    name: shown("", name, token),
                });
            }
            if diffs.is_empty() {
                // Same parameters, different bytes: an encoding difference.
                diffs.push(Difference::Opaque);
            }
            SignatureDiagnosis::Differs(diffs)
        }
        _ => SignatureDiagnosis::Differs(vec![Difference::Opaque]),
    }
}

/// A quoted parameter name or value: the token hidden, then clipped.
fn shown(name: &str, value: &str, token: Option<&str>) -> String {
    if name == "SecurityToken" {
        return REDACTED.to_owned();
    }
    match token {
        Some(t) => crate::response::lenient::clip(&crate::redact::redact(value, t)),
        None => crate::response::lenient::clip(value),
    }
}

/// Splits `METHOD&%2F&ENCODED` into the method and the decoded parameters.
fn split_v1(s: &str) -> Option<(&str, BTreeMap<String, String>)> {
    let mut parts = s.splitn(3, '&');
    let method = parts.next()?;
    if parts.next()? != "%2F" {
        return None;
    }
    let query = percent::decode(parts.next()?).ok()?;
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(percent::decode(k).ok()?, percent::decode(v).ok()?);
    }
    Some((method, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_extra_and_method_differences() {
        let ours = "POST&%2F&A%3D1%26SecurityToken%3Dabc";
        let msg = "x server string to sign is:GET&%2F&C%3D1%26SecurityToken%3Dxyz";
        let SignatureDiagnosis::Differs(d) = diagnose(msg, ours) else {
            panic!()
        };
        assert_eq!(
            d,
            vec![
                Difference::Method {
                    ours: "POST".into(),
                    server: "GET".into()
                },
                Difference::OnlyOurs { name: "A".into() },
                Difference::Value {
                    name: "SecurityToken".into(),
                    ours: REDACTED.into(),
                    server: REDACTED.into()
                },
                Difference::OnlyServer { name: "C".into() },
            ]
        );
    }

    #[test]
    fn no_marker_or_garbage() {
        assert_eq!(
            diagnose("nope", "GET&%2F&"),
            SignatureDiagnosis::ServerStringMissing
        );
        assert_eq!(
            diagnose("server string to sign is:%%%", "GET&%2F&A%3D1"),
            SignatureDiagnosis::Differs(vec![Difference::Opaque])
        );
    }
}
