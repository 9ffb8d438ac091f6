//! Text from a server made safe to show a person on a terminal.
//!
//! An error message, a job status or a request ID comes from the network. Written to a terminal
//! as it is, an ESC sequence in it could clear the screen, retitle the window or, through OSC 52,
//! write the clipboard; a CR or BS could overwrite what was printed before it. Every control
//! character (C0, DEL and the C1 range U+0080–U+009F) is therefore shown as an escape such as
//! `\x1b` or `\u{9b}`, and the rest of the text is kept as it is.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character escaped; borrowed when there is none.
///
/// ```
/// use rkvstore_core::escape::controls;
/// assert_eq!(controls("Finished"), "Finished");
/// assert_eq!(controls("a\x1b[2Jb\r\n\u{9b}31m"), "a\\x1b[2Jb\\r\\n\\u{9b}31m");
/// ```
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_escaped() {
        for c in (0u32..0x20).chain([0x7f]).chain(0x80..0xa0) {
            let c = char::from_u32(c).unwrap_or_default();
            let shown = controls(&format!("a{c}b")).into_owned();
            assert!(!shown.chars().any(char::is_control), "{:x}", c as u32);
            assert!(shown.starts_with("a\\") && shown.ends_with('b'), "{shown}");
        }
        assert_eq!(
            controls("\x1b]52;c;SGVsbG8=\x07"),
            "\\x1b]52;c;SGVsbG8=\\x07"
        );
        assert_eq!(controls("\x08\x7f"), "\\x08\\x7f");
        assert_eq!(controls("中文 ü"), "中文 ü");
    }
}
