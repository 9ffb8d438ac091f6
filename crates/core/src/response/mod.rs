//! Reading responses: JSON or XML into the same typed values, and errors into [`ApiError`].
//!
//! A 2xx status is not enough to call an answer a success. Captive portals and proxies answer
//! 200 with an HTML page, some gateways answer `{"Code": "Throttling.User", …}` with 200, and a
//! hostile server can send anything. So a success must have the operation's shape ([`Shape`]:
//! at least a `RequestId`, and for `CreateBackup` a job ID); a body carrying `Code` is an API
//! error whatever the status; anything else is a [`ParseErrorKind::Unexpected`] error that
//! quotes a short, escaped excerpt of the body.

pub(crate) mod lenient;
mod scan;
pub(crate) mod xml;
mod xml_de;

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::sign::SignedRequest;
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
    /// A success status came with a body that is not the operation's answer: an HTML page from
    /// a proxy, `{}`, an answer without a `RequestId`.
    Unexpected,
}

/// A response that could not be read, with what went wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// The format the body was read as.
    pub format: Format,
    /// The kind of failure.
    pub kind: ParseErrorKind,
    /// What went wrong, in words; quotes of the body are clipped.
    pub message: String,
    /// Byte offset in the body, where known.
    pub offset: Option<u64>,
    /// The HTTP error status the body came with, for [`ParseErrorKind::NotAnApiError`]: what
    /// the retry policy judged the answer by (see [`crate::retry::Failure::of_unreadable`]).
    pub error_status: Option<u16>,
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
            ParseErrorKind::Unexpected => "unexpected",
        };
        write!(f, "{what} {} response", self.format)?;
        if let Some(offset) = self.offset {
            write!(f, " at byte {offset}")?;
        }
        // The message may quote the body, which came from the network.
        write!(f, ": {}", crate::escape::controls(&self.message))
    }
}

impl std::error::Error for ParseError {}

/// What a successful answer must hold to be taken as one.
///
/// Implemented by every typed response and by [`Document`] (for any action: an object with a
/// `RequestId`).
pub trait Shape: DeserializeOwned {
    /// What this answer lacks to be the operation's answer, in a few words such as
    /// `"no RequestId"`; `None` when it is complete.
    fn lacks(&self) -> Option<&'static str>;

    /// Called once with the body a complete answer was read from. Typed models keep only
    /// their fields and ignore it; [`Document`] keeps the fields' order from it.
    fn attach_body(&mut self, _body: &[u8], _format: Format) {}
}

/// The answer of any action, for callers without a typed model of it (`rkvstore call`): the
/// fields with the API's names, whichever wire format the answer came in. It serializes as
/// that JSON; [`Document::to_ordered_json`] and `Display` give it with the fields in the order
/// the answer listed them.
///
/// An XML answer has no types and no list markers, so a generic rule reads it: every value is
/// text (numbers and booleans stay strings, as they stand in the XML), and an element that
/// repeats among its siblings is a list, placed where it first appears. A list of one item is
/// therefore an object; callers with the operation's model can restore both (the CLI does).
///
/// ```
/// use rkvstore_core::response::{parse_success, Document};
/// use rkvstore_core::Format;
/// let d: Document = parse_success(br#"{"RequestId":"R1","Engine":"Redis"}"#, Format::Json)?;
/// assert_eq!(d.request_id(), Some("R1"));
/// assert_eq!(d.get_str("Engine"), Some("Redis"));
/// assert_eq!(d.to_string(), r#"{"RequestId":"R1","Engine":"Redis"}"#);
/// let x: Document = parse_success(
///     b"<R><RequestId>R2</RequestId><Zone><Id>b</Id></Zone><Count>2</Count><Zone><Id>a</Id></Zone></R>",
///     Format::Xml,
/// )?;
/// assert_eq!(
///     x.to_ordered_json(),
///     r#"{"RequestId":"R2","Zone":[{"Id":"b"},{"Id":"a"}],"Count":"2"}"#
/// );
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    value: Value,
    /// Compact JSON in the answer's order, once the answer's body is known.
    ordered: Option<String>,
}

impl serde::Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(|value| Document {
            value,
            ordered: None,
        })
    }
}

impl Document {
    /// The top-level field `key` when it is text.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// `RequestId`.
    pub fn request_id(&self) -> Option<&str> {
        self.get_str("RequestId")
    }

    /// The document as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.value).unwrap_or_default()
    }

    /// Compact JSON with the fields in the order the answer gave them (for an XML answer, by
    /// the rule above); a document built otherwise has its map's order.
    pub fn to_ordered_json(&self) -> String {
        match &self.ordered {
            Some(text) => text.clone(),
            None => self.value.to_string(),
        }
    }
}

impl fmt::Display for Document {
    /// Compact JSON, in the answer's order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.ordered {
            Some(text) => f.write_str(text),
            None => fmt::Display::fmt(&self.value, f),
        }
    }
}

impl Shape for Document {
    fn lacks(&self) -> Option<&'static str> {
        lacks_request_id(&self.value)
    }

    fn attach_body(&mut self, body: &[u8], format: Format) {
        self.ordered = match format {
            // Already read as JSON once: the text is the answer, minus layout.
            Format::Json => std::str::from_utf8(body).ok().map(compact),
            Format::Xml => xml::to_ordered_json(body),
        };
    }
}

/// `json` without the whitespace between tokens, the order of its fields kept.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Every answer of every action carries a `RequestId`.
fn lacks_request_id(v: &Value) -> Option<&'static str> {
    match v.get("RequestId") {
        Some(Value::String(id)) if !id.trim().is_empty() => None,
        _ => Some("no RequestId"),
    }
}

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
pub(crate) fn to_value(body: &[u8], hint: Format) -> Result<Value, ParseError> {
    match sniff(body, hint) {
        Format::Json => {
            scan::scan(body).map_err(too_deep)?;
            serde_json::from_slice(body).map_err(|e| json_error(&e, body))
        }
        Format::Xml => xml::to_value(body).map(|(_, v)| v),
    }
}

/// Parses a body that came with a 2xx status as `T`: [`parse_response`] with status 200.
pub fn parse_success<T: Shape>(body: &[u8], hint: Format) -> Result<T, Error> {
    parse_response(200, body, hint)
}

/// Parses a response of any status: `T` for a 2xx status and a body of the operation's shape,
/// the API error for a body carrying `Code` (whatever the status) or an error status, and a
/// [`ParseError`] for anything else.
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
/// let err = parse_response::<CreateBackupResponse>(200, b"<html>Sign in</html>", Format::Json)
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "unexpected XML response: HTTP status 200 with a body that is not the operation's \
///      answer (no RequestId): \"<html>Sign in</html>\""
/// );
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
pub fn parse_response<T: Shape>(status: u16, body: &[u8], hint: Format) -> Result<T, Error> {
    parse(status, body, hint, None)
}

/// Reads the answer to `request`: [`parse_response`], and then, for an error, the security
/// token hidden in every field and every form it may take (a `SignatureDoesNotMatch` message
/// quotes it, encoded twice) and, for a signature mismatch, the diagnosis.
pub fn read_answer<T: Shape>(
    request: &SignedRequest,
    status: u16,
    body: &[u8],
) -> Result<T, Error> {
    let token = request.token().map(crate::Secret::expose);
    parse(status, body, request.response_format(), token).map_err(|e| match e {
        Error::Api(api) => Error::Api(Box::new(api.for_request(request))),
        other => other,
    })
}

fn parse<T: Shape>(
    status: u16,
    body: &[u8],
    hint: Format,
    token: Option<&str>,
) -> Result<T, Error> {
    if !(200..300).contains(&status) {
        return Err(error_body(status, body, hint, token));
    }
    let format = sniff(body, hint);
    // Text that starts like neither document (a plain "OK", a proxy's banner) is no answer.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| !matches!(b, b'{' | b'[' | b'<')) {
        return Err(unexpected(status, body, format, "neither JSON nor XML", token).into());
    }
    let value: T = match format {
        Format::Json => {
            let scan = scan::scan(body).map_err(too_deep)?;
            if scan.has_code {
                if let Some(api) = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|v| ApiError::from_value(status, &v))
                    .filter(|api| !is_success_code(&api.code))
                {
                    return Err(api.into());
                }
            }
            match serde_json::from_slice(body) {
                Ok(value) => value,
                Err(e) => {
                    let e = json_error(&e, body);
                    // A document of another shape altogether says so, with an excerpt; one
                    // that is an answer with a bad field says which field.
                    let answer_like = e.kind != ParseErrorKind::Shape
                        || serde_json::from_slice::<Document>(body)
                            .is_ok_and(|d| d.lacks().is_none());
                    return Err(if answer_like {
                        redacted(e, token).into()
                    } else {
                        unexpected(status, body, format, "no RequestId", token).into()
                    });
                }
            }
        }
        // A plain success answer is read straight from the events; anything else (an error, a
        // body of another shape, a syntax error) goes through the tree below, which decides
        // and words the error exactly as before.
        Format::Xml => match xml_de::from_body::<T>(body) {
            Ok(value) => value,
            Err(xml_de::Bail) => xml_by_tree(status, body, token)?,
        },
    };
    match value.lacks() {
        None => {
            let mut value = value;
            value.attach_body(body, format);
            Ok(value)
        }
        Some(what) => Err(unexpected(status, body, format, what, token).into()),
    }
}

/// Reads an XML answer through a `serde_json::Value` tree: the checks of a success answer
/// (no `Code`, not an `Error` root, a `RequestId`), then `T`.
fn xml_by_tree<T: Shape>(status: u16, body: &[u8], token: Option<&str>) -> Result<T, Error> {
    let format = Format::Xml;
    // Syntax errors name the elements they are about, which a hostile body can spell as the
    // token.
    let (root, value) = xml::to_value(body).map_err(|e| redacted(e, token))?;
    let api = ApiError::from_value(status, &value).filter(|a| !is_success_code(&a.code));
    if let Some(api) = api {
        return Err(api.into());
    }
    if root == "Error" {
        return Err(not_an_api_error(status, body, format, token).into());
    }
    if let Some(what) = lacks_request_id(&value) {
        return Err(unexpected(status, body, format, what, token).into());
    }
    T::deserialize(value).map_err(|e| {
        redacted(
            ParseError {
                format,
                kind: ParseErrorKind::Shape,
                message: e.to_string(),
                offset: None,
                error_status: None,
            },
            token,
        )
        .into()
    })
}

/// For tests and the fuzz target: whenever the event path reads `body` as a `T`, the tree path
/// reads it to the same value. Returns whether the event path read it.
#[cfg(any(test, fuzzing))]
pub(crate) fn xml_paths_agree<T: Shape + PartialEq + fmt::Debug>(body: &[u8]) -> bool {
    match xml_de::from_body::<T>(body) {
        Ok(fast) => {
            match xml_by_tree::<T>(200, body, None) {
                Ok(tree) => assert_eq!(fast, tree, "{:?}", String::from_utf8_lossy(body)),
                Err(e) => panic!(
                    "the event path read {:?} but the tree path refused it: {e}",
                    String::from_utf8_lossy(body)
                ),
            }
            true
        }
        Err(xml_de::Bail) => false,
    }
}

fn unexpected(
    status: u16,
    body: &[u8],
    format: Format,
    what: &str,
    token: Option<&str>,
) -> ParseError {
    ParseError {
        format,
        kind: ParseErrorKind::Unexpected,
        message: format!(
            "HTTP status {status} with a body that is not the operation's answer ({what}): {:?}",
            excerpt(body, token)
        ),
        offset: None,
        error_status: None,
    }
}

/// Codes that some APIs put in a successful answer; they are not errors.
fn is_success_code(code: &str) -> bool {
    ["200", "0", "OK", "Success"]
        .iter()
        .any(|ok| code.eq_ignore_ascii_case(ok))
}

/// Reads an error response into [`Error::Api`], or [`Error::Parse`] when the body is not an
/// API error (a proxy's HTML page, a truncated body).
pub fn parse_error_body(status: u16, body: &[u8], hint: Format) -> Error {
    error_body(status, body, hint, None)
}

fn error_body(status: u16, body: &[u8], hint: Format, token: Option<&str>) -> Error {
    let format = sniff(body, hint);
    match to_value(body, format)
        .ok()
        .and_then(|v| ApiError::from_value(status, &v))
    {
        Some(api) => api.into(),
        None => not_an_api_error(status, body, format, token).into(),
    }
}

fn not_an_api_error(status: u16, body: &[u8], format: Format, token: Option<&str>) -> ParseError {
    let snippet = excerpt(body, token);
    ParseError {
        format,
        kind: ParseErrorKind::NotAnApiError,
        message: if snippet.is_empty() {
            format!("HTTP status {status} with an empty body")
        } else {
            format!("HTTP status {status} with a body that is not an API error: {snippet:?}")
        },
        offset: None,
        // Only an error status is one the retry policy judged; a 2xx answer with an `Error`
        // root is an unreadable success, which may have run.
        error_status: (!(200..300).contains(&status)).then_some(status),
    }
}

/// The beginning of `body` for an error message: the token hidden before the text is clipped,
/// so that a clip cannot leave part of it behind. Callers quote it with `{:?}`, which escapes
/// control characters.
fn excerpt(body: &[u8], token: Option<&str>) -> String {
    let head = body.get(..4096).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let text = match token {
        Some(t) => crate::redact::redact(text.trim(), t),
        None => text.trim().to_owned(),
    };
    lenient::clip(&text)
}

/// `e` with the token hidden in its message (serde quotes the values it could not read).
fn redacted(mut e: ParseError, token: Option<&str>) -> ParseError {
    if let Some(t) = token {
        e.message = crate::redact::redact(&e.message, t);
    }
    e
}

fn too_deep(e: scan::TooDeep) -> ParseError {
    ParseError {
        format: Format::Json,
        kind: ParseErrorKind::TooDeep,
        message: format!("values nest deeper than {} levels", xml::MAX_DEPTH),
        offset: Some(e.offset as u64),
        error_status: None,
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
        error_status: None,
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

    #[test]
    fn only_an_error_status_is_kept_for_the_retry_rule() {
        let e = parse_error_body(502, b"<html><body>Bad Gateway</body></html>", Format::Json);
        let Error::Parse(p) = e else { panic!("{e:?}") };
        assert_eq!(p.error_status, Some(502));
        // An `Error` root without a code, with 200: an unreadable success, not an error page.
        let body = b"<Error><Message>m</Message><RequestId>R</RequestId></Error>";
        let e = parse_response::<crate::DescribeBackupTasksResponse>(200, body, Format::Xml)
            .unwrap_err();
        let Error::Parse(p) = e else { panic!("{e:?}") };
        assert_eq!(p.kind, ParseErrorKind::NotAnApiError);
        assert_eq!(p.error_status, None);
    }
}
