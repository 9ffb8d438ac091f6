//! Hiding a security token in text that may quote it, in whatever encoding it arrives.
//!
//! A request carries the token raw (a header), percent-encoded once (the query) and, inside the
//! string to sign that a `SignatureDoesNotMatch` answer quotes back, encoded twice. A server or
//! proxy may also use lower-case hex, `+` for a space, or encode characters that we left as
//! they are. So instead of replacing a few spellings, the matcher decodes as it compares: each
//! byte of the token may appear as itself or as `%XX` with any number of `25` layers (`%2B`,
//! `%252B`, `%25252B`, hex in either case).
//!
//! Error messages clip what they quote, so a quote may end inside the token. A run of at least
//! [`MIN_CLIPPED`] bytes of the token's beginning that stops where the text stops, or at the `…`
//! that marks a clip, is hidden too.

use crate::credentials::REDACTED;

/// The shortest beginning of a token that is hidden when a clipped quote ends with it.
const MIN_CLIPPED: usize = 12;

/// `text` with every occurrence of `token`, in any percent-encoding, replaced by
/// `** REDACTED **`. An empty token hides nothing.
pub(crate) fn redact(text: &str, token: &str) -> String {
    let token = token.as_bytes();
    let Some(&first) = token.first() else {
        return text.to_owned();
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Only a byte that can start the token (itself or a `%` escape) is worth a full match.
        let candidate = bytes.get(i).is_some_and(|&b| b == first || b == b'%');
        if candidate {
            if let Some(len) = match_at(bytes, i, token) {
                out.push_str(text.get(copied..i).unwrap_or_default());
                out.push_str(REDACTED);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// The length of `token` encoded at `at` in `text`, if it is there, whole or clipped.
fn match_at(text: &[u8], at: usize, token: &[u8]) -> Option<usize> {
    let mut j = at;
    for (n, &want) in token.iter().enumerate() {
        match decode_one(text, j, want) {
            Some(next) => j = next,
            None => {
                let rest = text.get(j..).unwrap_or_default();
                let clipped = rest.is_empty() || rest.starts_with("…".as_bytes());
                return (n >= MIN_CLIPPED && clipped).then_some(j - at);
            }
        }
    }
    // A match always ends on a character boundary: every byte it consumed was ASCII or a whole
    // UTF-8 sequence of the token itself.
    Some(j - at)
}

/// If the text at `j` encodes the byte `want`, the index just after it.
fn decode_one(text: &[u8], j: usize, want: u8) -> Option<usize> {
    let b = *text.get(j)?;
    if b == want {
        return Some(j + 1);
    }
    if b == b'+' && want == b' ' {
        return Some(j + 1);
    }
    if b != b'%' {
        return None;
    }
    // `%` followed by zero or more `25` layers and then the hex of the byte.
    let mut k = j + 1;
    loop {
        let byte = hex_pair(text, k)?;
        if byte == want {
            return Some(k + 2);
        }
        if byte != b'%' {
            return None;
        }
        k += 2;
    }
}

fn hex_pair(text: &[u8], k: usize) -> Option<u8> {
    let hi = (*text.get(k)? as char).to_digit(16)?;
    let lo = (*text.get(k + 1)? as char).to_digit(16)?;
    u8::try_from(hi * 16 + lo).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "CAIS+tok/en==";

    #[test]
    fn every_encoding_is_hidden() {
        for shown in [
            "CAIS+tok/en==",
            "CAIS%2Btok%2Fen%3D%3D",
            "CAIS%252Btok%252Fen%253D%253D",
            "CAIS%2btok%2fen%3d%3d",
            "CAIS%25252Btok%25252Fen%25253D%25253D",
            "%43%41IS%2Btok/en==",
        ] {
            let text = format!("SecurityToken%3D{shown}%26X%3D1");
            assert_eq!(
                redact(&text, TOKEN),
                "SecurityToken%3D** REDACTED **%26X%3D1",
                "{shown}"
            );
        }
    }

    #[test]
    fn other_text_is_kept() {
        assert_eq!(
            redact("no token here: CAIS+tok", TOKEN),
            "no token here: CAIS+tok"
        );
        assert_eq!(redact("中文 %zz %", TOKEN), "中文 %zz %");
        assert_eq!(
            redact("a CAIS+tok/en== b CAIS+tok/en==", TOKEN),
            "a ** REDACTED ** b ** REDACTED **"
        );
        assert_eq!(redact("x", ""), "x");
    }

    #[test]
    fn a_clipped_quote_of_the_token_is_hidden() {
        let token = "CAISabcdefghijklmnopqrstuvwxyz";
        assert_eq!(
            redact("found \"CAISabcdefghij…\"", token),
            "found \"** REDACTED **…\""
        );
        assert_eq!(redact("ends CAISabcdefghij", token), "ends ** REDACTED **");
        // A short common beginning is not the token.
        assert_eq!(redact("CAISab…", token), "CAISab…");
        assert_eq!(
            redact("CAISabcdefghij and more", token),
            "CAISabcdefghij and more"
        );
    }
}
