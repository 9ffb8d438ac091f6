//! Writing to stderr without ever panicking, and telling a closed pipe from a real failure.
//!
//! `eprintln!` panics when stderr cannot be written, and a panic hook that prints with it panics
//! again, which aborts the process: `rkvstore … 2>&1 | head -1` used to end that way. Rust
//! ignores SIGPIPE, so a closed pipe shows up here as an `EPIPE` error from the write; the
//! program then ends as a program killed by SIGPIPE would in spirit, quietly, but with status 0,
//! since the reader has all it asked for.

use std::fmt::Display;
use std::io::{self, ErrorKind, Write};

/// `true` when `e` says that the reader of our output has gone (`| head`, `| true`), looking
/// through the wrappers that serializers put around the I/O error.
pub fn is_broken_pipe(e: &io::Error) -> bool {
    if e.kind() == ErrorKind::BrokenPipe {
        return true;
    }
    let Some(inner) = e.get_ref() else {
        return false;
    };
    if let Some(io) = inner.downcast_ref::<io::Error>() {
        return is_broken_pipe(io);
    }
    if let Some(json) = inner.downcast_ref::<serde_json::Error>() {
        return json.io_error_kind() == Some(ErrorKind::BrokenPipe);
    }
    false
}

/// Writes `text` and a newline to stderr, at once. When stderr is closed the process ends
/// quietly with status 0; when it fails otherwise (a full disk) it ends with status 1, since
/// there is nowhere left to say why.
pub fn line(text: impl Display) {
    // While progress bars are drawn, a line goes above them; printed past them, it would leave
    // a stale copy of the bars on screen.
    let text = text.to_string();
    if crate::progress::above_bars(&text) {
        return;
    }
    let mut err = io::stderr().lock();
    if let Err(e) = writeln!(err, "{text}").and_then(|()| err.flush()) {
        drop(err);
        std::process::exit(if is_broken_pipe(&e) { 0 } else { 1 });
    }
}

/// Writes `text` to stderr as it is, ignoring any failure: for the last words of the process
/// (an error block, a panic message), whose exit status is already decided.
pub fn last_words(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipes_are_found_inside_wrappers() {
        let pipe = || io::Error::from(ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(&pipe()));
        assert!(is_broken_pipe(&io::Error::other(pipe())));
        let json = serde_json::Error::io(pipe());
        assert!(is_broken_pipe(&io::Error::other(json)));
        assert!(!is_broken_pipe(&io::Error::from(ErrorKind::StorageFull)));
        assert!(!is_broken_pipe(&io::Error::other("x")));
    }
}
