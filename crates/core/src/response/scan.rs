//! One quick pass over a JSON body before it is deserialized: how deep it nests, and whether its
//! top-level object carries a `Code` key.
//!
//! serde_json limits recursion only for values it builds; a field the typed model does not know
//! is skipped without any limit, so 200,000 nested objects in an unknown field would parse as a
//! success. This pass applies the same depth limit as the XML reader to every value. It also
//! spots an error body (`{"Code": …}`) that came with a 2xx status, without deserializing the
//! body twice: only bodies that have a top-level `Code` are read again as an error.

use super::xml::MAX_DEPTH;

/// What the pass found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The top-level value is an object with a `Code` key.
    pub(crate) has_code: bool,
}

/// The pass failed: the body nests deeper than [`MAX_DEPTH`], at this byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooDeep {
    pub(crate) offset: usize,
}

/// Scans `body`. Malformed JSON is not reported here: serde_json reports it better, with line
/// and column, when it reads the body afterwards.
pub(crate) fn scan(body: &[u8]) -> Result<Scan, TooDeep> {
    let mut depth = 0usize;
    let mut has_code = false;
    // At depth 1 inside the top-level object, the next string is a key after `{` or `,`.
    let mut top_is_object = false;
    let mut expect_key = false;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => {
                let start = i + 1;
                let end = string_end(body, start);
                if expect_key
                    && depth == 1
                    && top_is_object
                    && body.get(start..end) == Some(b"Code")
                {
                    has_code = true;
                }
                expect_key = false;
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                if depth == 0 {
                    top_is_object = b == b'{';
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(TooDeep { offset: i });
                }
                expect_key = b == b'{';
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                expect_key = false;
            }
            b',' => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    Ok(Scan { has_code })
}

/// The index of the quote that closes the string starting at `from` (just after its opening
/// quote), or the body's length when it never closes.
fn string_end(body: &[u8], mut from: usize) -> usize {
    loop {
        // Only a quote or a backslash can end the plain run inside a string.
        match body
            .get(from..)
            .and_then(|rest| rest.iter().position(|&c| c == b'"' || c == b'\\'))
        {
            None => return body.len(),
            Some(at) => {
                let at = from + at;
                if body.get(at) == Some(&b'\\') {
                    from = at + 2;
                } else {
                    return at;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_top_level_code_only() {
        let has = |s: &str| scan(s.as_bytes()).map(|s| s.has_code);
        assert_eq!(has(r#"{"Code":"Throttling.User"}"#), Ok(true));
        assert_eq!(has(r#"{"RequestId":"R", "Code" : 1}"#), Ok(true));
        assert_eq!(has(r#"{"RequestId":"Code","X":{"Code":1}}"#), Ok(false));
        assert_eq!(has(r#"{"A":["Code"],"B":"x\"Code"}"#), Ok(false));
        assert_eq!(has(r#"["Code"]"#), Ok(false));
        assert_eq!(has(r#"{"Codes":1,"Cod":2}"#), Ok(false));
        assert_eq!(has(r#"{"A":"\\","Code":1}"#), Ok(true));
    }

    #[test]
    fn depth_is_limited_in_every_value() {
        let nested = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(scan(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert!(scan(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        let in_string = format!("{{\"a\":\"{}\"}}", "[".repeat(1000));
        assert!(scan(in_string.as_bytes()).is_ok());
        assert!(scan(&b"[".repeat(200_000)).is_err());
    }

    #[test]
    fn unterminated_input_ends_quietly() {
        assert!(scan(b"{\"Code").is_ok());
        assert!(scan(b"{\"a\":\"\\").is_ok());
        assert!(scan(b"").is_ok());
    }
}
