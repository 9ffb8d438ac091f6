//! Percent-encoding exactly as Alibaba Cloud signs it.
//!
//! Only the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` stay literal; every other byte
//! of the UTF-8 form becomes `%XX` with upper-case hex. That makes a space `%20` (never `+`) and
//! `*` `%2A`, which is what both signature versions require. The encoder is table-driven because
//! it runs over every byte of every signed request.

use std::fmt;

/// `true` for the bytes that stay literal.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.' || c == b'~';
        b += 1;
    }
    table
};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Returns `true` when `byte` is written literally by [`encode`].
#[inline]
pub fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// Appends the encoded form of `input` to `out`.
///
/// Runs of literal bytes are copied in one piece, so an input that needs no escaping costs one
/// `memcpy`.
#[inline]
pub fn encode_into(out: &mut String, input: &str) {
    let bytes = input.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !is_unreserved(b) {
            if start < i {
                // `start..i` holds only ASCII bytes, so it lies on character boundaries.
                out.push_str(input.get(start..i).unwrap_or_default());
            }
            push_escape(out, b);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push_str(input.get(start..).unwrap_or_default());
    }
}

#[inline]
fn push_escape(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
    out.push(char::from(HEX_UPPER[usize::from(b & 0x0F)]));
}

/// Returns the encoded form of `input`.
///
/// ```
/// assert_eq!(rkvstore_core::percent::encode("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
/// ```
pub fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    encode_into(&mut out, input);
    out
}

/// Appends `k=v&k=v…`, each key and value encoded, in the order given. This is the form of a
/// query string and of a form body.
///
/// ```
/// let mut out = String::new();
/// rkvstore_core::percent::encode_pairs_into(&mut out, [("a b", "1"), ("c", "x*y")]);
/// assert_eq!(out, "a%20b=1&c=x%2Ay");
/// ```
pub fn encode_pairs_into<'a>(
    out: &mut String,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(out, k);
        out.push('=');
        encode_into(out, v);
    }
}

/// A [`Display`](fmt::Display) adapter that encodes while formatting, without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Encoded<'a>(pub &'a str);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.0.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if !is_unreserved(b) {
                f.write_str(self.0.get(start..i).unwrap_or_default())?;
                let hex = [
                    b'%',
                    HEX_UPPER[usize::from(b >> 4)],
                    HEX_UPPER[usize::from(b & 0x0F)],
                ];
                f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)?;
                start = i + 1;
            }
        }
        f.write_str(self.0.get(start..).unwrap_or_default())
    }
}

/// Why a percent-encoded string could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A `%` not followed by two hex digits, at this byte offset.
    BadEscape {
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadEscape { offset } => write!(
                f,
                "bad percent-escape at byte {offset}: '%' must be followed by two hex digits"
            ),
            DecodeError::NotUtf8 => f.write_str("percent-decoded bytes are not valid UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes `%XX` escapes; every other byte, `+` included, stands for itself.
///
/// This is the inverse of [`encode`]. Use [`decode_form`] for `application/x-www-form-urlencoded`
/// input, where `+` means a space.
///
/// ```
/// use rkvstore_core::percent::{decode, encode};
/// assert_eq!(decode("a%20b%2Ac").unwrap(), "a b*c");
/// assert_eq!(decode(&encode("x y+z")).unwrap(), "x y+z");
/// assert!(decode("100%").is_err());
/// ```
pub fn decode(input: &str) -> Result<String, DecodeError> {
    decode_inner(input, false)
}

/// Decodes form-urlencoded input: like [`decode`], and `+` is a space.
pub fn decode_form(input: &str) -> Result<String, DecodeError> {
    decode_inner(input, true)
}

fn decode_inner(input: &str, plus_is_space: bool) -> Result<String, DecodeError> {
    // The percent-encoding crate decodes leniently (a bad escape passes through), so the escapes
    // are checked here first: a caller must learn that its input was malformed.
    let bytes = input.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let ok = matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()
            );
            if !ok {
                return Err(DecodeError::BadEscape { offset: i });
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let decoded: Vec<u8> = if plus_is_space && input.contains('+') {
        let spaced = input.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced).collect()
    } else {
        percent_encoding::percent_decode_str(input).collect()
    };
    String::from_utf8(decoded).map_err(|_| DecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_set_is_exactly_unreserved() {
        for b in 0u8..=255 {
            let expected = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
            assert_eq!(is_unreserved(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn encodes_the_documented_specials() {
        assert_eq!(encode(" "), "%20");
        assert_eq!(encode("*"), "%2A");
        assert_eq!(encode("~"), "~");
        assert_eq!(encode("+"), "%2B");
        assert_eq!(encode("/"), "%2F");
        assert_eq!(encode("€"), "%E2%82%AC");
        assert_eq!(encode("2016-02-23T12:46:24Z"), "2016-02-23T12%3A46%3A24Z");
    }

    #[test]
    fn display_adapter_matches_encode() {
        let s = "a b&c=d/ü~*";
        assert_eq!(Encoded(s).to_string(), encode(s));
    }

    #[test]
    fn decode_rejects_bad_escapes_and_bad_utf8() {
        assert_eq!(decode("%zz"), Err(DecodeError::BadEscape { offset: 0 }));
        assert_eq!(decode("ab%4"), Err(DecodeError::BadEscape { offset: 2 }));
        assert_eq!(decode("%FF"), Err(DecodeError::NotUtf8));
        assert_eq!(decode_form("a+b%2B").unwrap(), "a b+");
        assert_eq!(decode("a+b").unwrap(), "a+b");
    }
}
