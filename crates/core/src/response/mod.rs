//! Reading responses: JSON or XML into the same typed values, and errors into [`ApiError`].

pub(crate) mod lenient;
pub mod xml;

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{ApiError, Error, Format};

/// How a response failed to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not well-formed JSON or XML.
    Syntax,
    /// The body stops in the middle of the document.
    Truncated,
    /// The body is empty or holds no document.
    Empty,
    /// The document nests deeper than the limit.
    TooDeep,
    /// The document is well-formed but not what the operation returns (a wrong type, a missing
    /// field, a number out of range).
    Shape,
    /// An error status came with a body that is not an API error.
    NotAnApiError,
}

/// A response that could not be read, with what went wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The format the body was read as.
    pub format: Format,
    /// The kind of failure.
    pub kind: ParseErrorKind,
    /// What went wrong, in words; quotes of the body are clipped.
    pub message: String,
    /// Byte offset in the body, where known.
    pub offset: Option<u64>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ParseErrorKind::Syntax => "malformed",
            ParseErrorKind::Truncated => "truncated",
            ParseErrorKind::Empty => "empty",
            ParseErrorKind::TooDeep => "too deeply nested",
            ParseErrorKind::Shape => "unexpected",
            ParseErrorKind::NotAnApiError => "unrecognised",
        };
        write!(f, "{what} {} response", self.format)?;
        if let Some(offset) = self.offset {
            write!(f, " at byte {offset}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ParseError {}

/// The format a body is really in: its first non-blank byte decides, and `hint` (what was asked
/// for) breaks ties. Gateways in front of the API answer some errors in XML whatever was asked.
pub fn sniff(body: &[u8], hint: Format) -> Format {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Format::Xml,
        Some(b'{') | Some(b'[') => Format::Json,
        _ => hint,
    }
}

/// Reads a body into a JSON value, whatever its format; for XML, the root element's content.
pub fn to_value(body: &[u8], hint: Format) -> Result<Value, ParseError> {
    match sniff(body, hint) {
        Format::Json => serde_json::from_slice(body).map_err(|e| json_error(&e, body)),
        Format::Xml => xml::to_value(body).map(|(_, v)| v),
    }
}

/// Parses a successful (2xx) body as `T`.
pub fn parse_success<T: DeserializeOwned>(body: &[u8], hint: Format) -> Result<T, Error> {
    match sniff(body, hint) {
        Format::Json => serde_json::from_slice(body).map_err(|e| json_error(&e, body).into()),
        Format::Xml => {
            let (root, value) = xml::to_value(body)?;
            if root == "Error" {
                return Err(ApiError::from_value(200, &value)
                    .ok_or_else(|| not_an_api_error(200, body, Format::Xml))?
                    .into());
            }
            T::deserialize(value).map_err(|e| {
                Error::Parse(ParseError {
                    format: Format::Xml,
                    kind: ParseErrorKind::Shape,
                    message: e.to_string(),
                    offset: None,
                })
            })
        }
    }
}

/// Parses a response of any status: `T` for 2xx, the API error otherwise.
///
/// ```
/// use rkvstore_core::{response::parse_response, CreateBackupResponse, Error, Format};
/// let ok: CreateBackupResponse =
///     parse_response(200, br#"{"RequestId":"R1","BackupJobID":1162}"#, Format::Json)?;
/// assert_eq!(ok.backup_job_id, "1162");
/// let err = parse_response::<CreateBackupResponse>(
///     404,
///     b"<Error><Code>InvalidInstanceId.NotFound</Code><Message>nope</Message></Error>",
///     Format::Json,
/// ).unwrap_err();
/// assert!(matches!(err, Error::Api(e) if e.code == "InvalidInstanceId.NotFound" && e.http_status == 404));
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
pub fn parse_response<T: DeserializeOwned>(
    status: u16,
    body: &[u8],
    hint: Format,
) -> Result<T, Error> {
    if (200..300).contains(&status) {
        parse_success(body, hint)
    } else {
        Err(parse_error_body(status, body, hint))
    }
}

/// Reads an error response into [`Error::Api`], or [`Error::Parse`] when the body is not an
/// API error (a proxy's HTML page, a truncated body).
pub fn parse_error_body(status: u16, body: &[u8], hint: Format) -> Error {
    let format = sniff(body, hint);
    let value = match format {
        Format::Json => serde_json::from_slice::<Value>(body).ok(),
        Format::Xml => xml::to_value(body).ok().map(|(_, v)| v),
    };
    match value.and_then(|v| ApiError::from_value(status, &v)) {
        Some(api) => api.into(),
        None => not_an_api_error(status, body, format).into(),
    }
}

fn not_an_api_error(status: u16, body: &[u8], format: Format) -> ParseError {
    let text = String::from_utf8_lossy(body);
    let snippet = lenient::clip(text.trim());
    ParseError {
        format,
        kind: ParseErrorKind::NotAnApiError,
        message: if snippet.is_empty() {
            format!("HTTP status {status} with an empty body")
        } else {
            format!("HTTP status {status} with a body that is not an API error: {snippet:?}")
        },
        offset: None,
    }
}

pub(crate) fn json_error(e: &serde_json::Error, body: &[u8]) -> ParseError {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Eof if body.iter().all(u8::is_ascii_whitespace) => ParseErrorKind::Empty,
        Category::Eof => ParseErrorKind::Truncated,
        Category::Syntax if e.to_string().contains("recursion limit") => ParseErrorKind::TooDeep,
        Category::Syntax | Category::Io => ParseErrorKind::Syntax,
        Category::Data => ParseErrorKind::Shape,
    };
    // serde_json's message already ends with "at line L column C".
    ParseError {
        format: Format::Json,
        kind,
        message: e.to_string(),
        offset: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_prefers_the_body() {
        assert_eq!(sniff(b"  <Error/>", Format::Json), Format::Xml);
        assert_eq!(sniff(b"\n{}", Format::Xml), Format::Json);
        assert_eq!(sniff(b"", Format::Xml), Format::Xml);
    }

    #[test]
    fn json_error_kinds() {
        let kind = |b: &[u8]| match to_value(b, Format::Json) {
            Err(e) => e.kind,
            Ok(v) => panic!("parsed {v}"),
        };
        assert_eq!(kind(b"{\"a\":"), ParseErrorKind::Truncated);
        assert_eq!(kind(b"{\"a\" 1}"), ParseErrorKind::Syntax);
        assert_eq!(kind(&b"[".repeat(10_000)), ParseErrorKind::TooDeep);
    }

    #[test]
    fn html_error_page_is_reported_with_status() {
        let e = parse_error_body(502, b"<html><body>Bad Gateway</body></html>", Format::Json);
        let Error::Parse(p) = e else { panic!("{e:?}") };
        assert_eq!(p.kind, ParseErrorKind::NotAnApiError);
        assert!(p.message.contains("HTTP status 502"), "{}", p.message);
    }
}
