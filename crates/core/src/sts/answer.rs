//! Reading the answers of the ECS metadata service, a credentials URI and an external command.
//!
//! These are not API answers: a plain JSON document, or a list of role names. Each can instead
//! be a proxy's HTML page, a 404, or garbage, and each of those gets an error that says which.
//! No error quotes a body raw: an excerpt has the values of secret-looking keys and every long
//! base64-like run hidden, since any body (JSON followed by a log line, say) may hold a secret.

use std::fmt;

use serde_json::Value;

use super::TemporaryCredentials;
use crate::{Credentials, Timestamp};

/// The longest excerpt of a body an error quotes.
const EXCERPT_CHARS: usize = 80;

/// Why an answer holds no usable credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerError {
    /// An error status.
    Status {
        /// Who answered, such as "the ECS metadata service".
        source: &'static str,
        /// The status.
        status: u16,
        /// The start of the body, escaped.
        excerpt: String,
    },
    /// An HTML page, as a proxy or a captive portal sends.
    Html {
        /// Who answered.
        source: &'static str,
        /// The status.
        status: u16,
    },
    /// Not JSON at all.
    NotJson {
        /// Who answered.
        source: &'static str,
        /// The start of the body, escaped.
        excerpt: String,
    },
    /// A `Code` other than `Success`.
    Code {
        /// Who answered.
        source: &'static str,
        /// The code.
        code: String,
    },
    /// A field is missing or empty.
    Missing {
        /// Who answered.
        source: &'static str,
        /// The field.
        field: &'static str,
    },
    /// `Expiration` is not `yyyy-MM-ddTHH:mm:ssZ`.
    BadExpiration {
        /// Who answered.
        source: &'static str,
        /// The value, escaped and cut short.
        value: String,
    },
    /// The role list is empty: no RAM role is attached to the instance.
    NoRole,
    /// The role name is not one a RAM role can have.
    BadRoleName {
        /// The name, escaped and cut short.
        value: String,
    },
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerError::Status {
                source,
                status,
                excerpt,
            } => {
                write!(f, "{source} answered HTTP {status}")?;
                if !excerpt.is_empty() {
                    write!(f, ": {excerpt:?}")?;
                }
                Ok(())
            }
            AnswerError::Html { source, status } => write!(
                f,
                "{source} answered HTTP {status} with an HTML page instead of credentials \
                 (a proxy or a captive portal may be in the way)"
            ),
            AnswerError::NotJson { source, excerpt } => {
                write!(
                    f,
                    "{source} answered something that is not JSON: {excerpt:?}"
                )
            }
            AnswerError::Code { source, code } => {
                write!(f, "{source} answered Code {code:?} instead of \"Success\"")
            }
            AnswerError::Missing { source, field } => {
                write!(f, "{source} has no {field}")
            }
            AnswerError::BadExpiration { source, value } => write!(
                f,
                "{source} has Expiration {value:?}, which is not a time in the form \
                 yyyy-MM-ddTHH:mm:ssZ"
            ),
            AnswerError::NoRole => f.write_str(
                "the ECS metadata service lists no RAM role: no role is attached to this instance",
            ),
            AnswerError::BadRoleName { value } => write!(
                f,
                "the ECS metadata service gave the role name {value:?}, which is not a RAM role \
                 name"
            ),
        }
    }
}

impl std::error::Error for AnswerError {}

/// The start of `body`, as an error may quote it: the value of every secret-looking key
/// (`AccessKeySecret`, `sts_token`, `password`, …) and every long run of base64-like
/// characters replaced by `***`, cut short, and escaped. A body that is not JSON can still
/// hold credentials (JSON followed by a log line), so nothing is quoted raw.
pub(crate) fn excerpt(body: &[u8]) -> String {
    shown(String::from_utf8_lossy(body).trim(), EXCERPT_CHARS)
}

/// `text` as an error may show it: secret-looking values hidden, control characters escaped,
/// long base64-like runs (of what is shown) hidden, then cut to `max` characters.
fn shown(text: &str, max: usize) -> String {
    let escaped = crate::escape::controls(&redact_secret_values(text)).into_owned();
    hide_long_runs(&escaped).chars().take(max).collect()
}

/// Runs of base64-like characters at least this long are hidden: keys, tokens, signatures.
const LONG_RUN: usize = 20;

/// `true` for a key whose value must not be shown, however it is spelled
/// (`AccessKeySecret`, `access_key_secret`, `SecurityToken`, `sts-token`, `Password`, …).
fn secret_key(word: &str) -> bool {
    let key: String = word
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "secret",
        "token",
        "password",
        "passwd",
        "signature",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|s| key.contains(s))
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Replaces the value after every secret-looking key (`key: value`, `"key":"value"`,
/// `key=value`) with `***`.
fn redact_secret_values(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < n {
        if !is_word(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < n && is_word(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        out.push_str(&word);
        if !secret_key(&word) {
            continue;
        }
        let mut j = i;
        if j < n && (chars[j] == '"' || chars[j] == '\'') {
            j += 1;
        }
        while j < n && chars[j].is_whitespace() {
            j += 1;
        }
        if j >= n || !(chars[j] == ':' || chars[j] == '=') {
            continue;
        }
        j += 1;
        while j < n && chars[j].is_whitespace() {
            j += 1;
        }
        out.extend(&chars[i..j]);
        i = j;
        match chars.get(i) {
            Some(&q) if q == '"' || q == '\'' => {
                i += 1;
                while i < n && chars[i] != q {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                out.push(q);
                out.push_str("***");
                if i < n {
                    out.push(q);
                    i += 1;
                }
            }
            _ => {
                while i < n && !chars[i].is_whitespace() && !",;&}]".contains(chars[i]) {
                    i += 1;
                }
                out.push_str("***");
            }
        }
    }
    out
}

/// Replaces every run of at least [`LONG_RUN`] base64-like characters with `***`.
fn hide_long_runs(text: &str) -> String {
    let like = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= LONG_RUN {
            out.push_str("***");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if like(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn looks_like_html(body: &[u8]) -> bool {
    let start: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(15)
        .map(u8::to_ascii_lowercase)
        .collect();
    start.starts_with(b"<!doctype html")
        || start.starts_with(b"<html")
        || start.starts_with(b"<head")
}

/// The body as a JSON object, or why not.
fn json_object(
    status: u16,
    body: &[u8],
    source: &'static str,
) -> Result<serde_json::Map<String, Value>, AnswerError> {
    if looks_like_html(body) {
        return Err(AnswerError::Html { source, status });
    }
    if !(200..300).contains(&status) {
        return Err(AnswerError::Status {
            source,
            status,
            excerpt: excerpt(body),
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AnswerError::NotJson {
            source,
            excerpt: excerpt(body),
        }),
    }
}

fn text<'a>(
    map: &'a serde_json::Map<String, Value>,
    field: &'static str,
    source: &'static str,
) -> Result<&'a str, AnswerError> {
    map.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(AnswerError::Missing { source, field })
}

fn expiration(raw: &str, source: &'static str) -> Result<Timestamp, AnswerError> {
    Timestamp::parse_iso8601(raw).ok_or_else(|| AnswerError::BadExpiration {
        source,
        value: shown(raw, 40),
    })
}

/// Reads the credentials document the ECS metadata service and a credentials URI answer:
/// `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}`.
/// `source` names who answered, for the error.
///
/// ```
/// use rkvstore_core::sts::parse_credentials_document;
/// let body = br#"{"Code":"Success","AccessKeyId":"STS.id","AccessKeySecret":"s",
///     "SecurityToken":"t","Expiration":"2026-01-01T06:00:00Z","LastUpdated":"2026-01-01T00:00:00Z"}"#;
/// let c = parse_credentials_document(200, body, "the ECS metadata service")?;
/// assert_eq!(c.credentials.access_key_id(), "STS.id");
///
/// let err = parse_credentials_document(404, b"<html><body>Not Found</body></html>", "the URI")
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "the URI answered HTTP 404 with an HTML page instead of credentials (a proxy or a \
///      captive portal may be in the way)"
/// );
/// # Ok::<(), rkvstore_core::sts::AnswerError>(())
/// ```
pub fn parse_credentials_document(
    status: u16,
    body: &[u8],
    source: &'static str,
) -> Result<TemporaryCredentials, AnswerError> {
    let map = json_object(status, body, source)?;
    // The official libraries require the code; a document without one is not theirs either.
    match map.get("Code").and_then(Value::as_str) {
        Some("Success") => {}
        Some(other) => {
            return Err(AnswerError::Code {
                source,
                code: shown(other, 64),
            })
        }
        None => {
            return Err(AnswerError::Missing {
                source,
                field: "Code",
            })
        }
    }
    let id = text(&map, "AccessKeyId", source)?;
    let secret = text(&map, "AccessKeySecret", source)?;
    let token = text(&map, "SecurityToken", source)?;
    let expires = expiration(text(&map, "Expiration", source)?, source)?;
    Ok(TemporaryCredentials {
        credentials: Credentials::new(id, secret).with_security_token(token),
        expiration: Some(expires),
    })
}

/// Reads the role list of the ECS metadata service (one name per line) and returns the first
/// role, as the official libraries do.
///
/// ```
/// use rkvstore_core::sts::parse_role_list;
/// assert_eq!(parse_role_list(200, b"backup-role\n")?, "backup-role");
/// assert!(parse_role_list(200, b"").is_err());
/// # Ok::<(), rkvstore_core::sts::AnswerError>(())
/// ```
pub fn parse_role_list(status: u16, body: &[u8]) -> Result<String, AnswerError> {
    const SOURCE: &str = "the ECS metadata service";
    if looks_like_html(body) {
        return Err(AnswerError::Html {
            source: SOURCE,
            status,
        });
    }
    if status == 404 {
        return Err(AnswerError::NoRole);
    }
    if !(200..300).contains(&status) {
        return Err(AnswerError::Status {
            source: SOURCE,
            status,
            excerpt: excerpt(body),
        });
    }
    let text = String::from_utf8_lossy(body);
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Err(AnswerError::NoRole);
    };
    let ok = first.len() <= 64
        && first
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(first.to_owned())
    } else {
        Err(AnswerError::BadRoleName {
            value: shown(first, 40),
        })
    }
}

/// Reads what an external command (`process_command`) printed: the aliyun CLI's profile
/// fields, `{"mode": "AK" | "StsToken", "access_key_id", "access_key_secret", "sts_token",
/// "expiration"}`, where `expiration` is optional.
///
/// ```
/// use rkvstore_core::sts::parse_external_output;
/// let out = br#"{"mode":"StsToken","access_key_id":"STS.id","access_key_secret":"s","sts_token":"t"}"#;
/// let c = parse_external_output(out)?;
/// assert!(c.credentials.security_token().is_some());
/// assert!(c.expiration.is_none());
/// # Ok::<(), rkvstore_core::sts::AnswerError>(())
/// ```
pub fn parse_external_output(stdout: &[u8]) -> Result<TemporaryCredentials, AnswerError> {
    const SOURCE: &str = "the command's output";
    let map = match serde_json::from_slice::<Value>(stdout) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(AnswerError::NotJson {
                source: SOURCE,
                excerpt: excerpt(stdout),
            })
        }
    };
    let id = text(&map, "access_key_id", SOURCE)?;
    let secret = text(&map, "access_key_secret", SOURCE)?;
    let token = map
        .get("sts_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let mode = map.get("mode").and_then(Value::as_str).unwrap_or("AK");
    if mode.eq_ignore_ascii_case("StsToken") && token.is_none() {
        return Err(AnswerError::Missing {
            source: SOURCE,
            field: "sts_token",
        });
    }
    let expires = match map.get("expiration").and_then(Value::as_str) {
        Some(raw) if !raw.is_empty() => Some(expiration(raw, SOURCE)?),
        _ => None,
    };
    let mut credentials = Credentials::new(id, secret);
    if let Some(t) = token {
        credentials = credentials.with_security_token(t);
    }
    Ok(TemporaryCredentials {
        credentials,
        expiration: expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_json_is_quoted_with_its_secrets_hidden() {
        let out = b"{\"mode\":\"StsToken\",\"access_key_id\":\"STS.id\",\"access_key_secret\":\"sekrit\",\"sts_token\":\"tok\"}\nINFO fetched credentials";
        let err = parse_external_output(out).unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
        assert!(!err.contains("sekrit") && !err.contains("tok\""), "{err}");
        let body =
            b"AccessKeySecret: abc SecurityToken=CAIS123 password='p w' Signature = \"s\" ok";
        let e = excerpt(body);
        for s in ["abc", "CAIS123", "p w", "\"s\""] {
            assert!(!e.contains(s), "{e}");
        }
        assert!(e.ends_with(" ok"), "{e}");
        let long = excerpt(b"oops CAISabcdefghijklmnopqrstuvwxyz0123456789+/== end");
        assert_eq!(long, "oops *** end");
        let doc = parse_credentials_document(
            500,
            b"{\"Code\":\"x\",\"AccessKeySecret\":\"hidden-secret\"} trailing",
            "the URI",
        )
        .unwrap_err()
        .to_string();
        assert!(!doc.contains("hidden-secret"), "{doc}");
    }
}
