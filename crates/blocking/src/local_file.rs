//! Reading a small local file, such as a config file, safely: only a regular file, only up to a
//! size cap, and with an error that says what the path really is.
//!
//! A path given by a user can name anything: `/dev/zero` would be read until memory runs out,
//! and a FIFO would block the process until some writer appears. So the path is examined before
//! it is opened, the opened file is examined again (the path may have changed in between), and
//! at most the cap plus one byte is ever read.
//!
//! ```
//! use rkvstore_blocking::local_file::{self, LocalFileErrorKind};
//! let err = local_file::read_to_string(&std::env::temp_dir(), 1024).unwrap_err();
//! assert_eq!(*err.kind(), LocalFileErrorKind::NotRegular("a directory"));
//! ```

use std::fmt;
use std::fs::{File, FileType};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// The cap for configuration and credentials files: 1 MiB, far more than any real one.
pub const CONFIG_FILE_LIMIT: u64 = 1024 * 1024;

/// Why a local file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalFileError {
    path: PathBuf,
    kind: LocalFileErrorKind,
}

/// What was wrong with the file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalFileErrorKind {
    /// Nothing is at the path.
    NotFound,
    /// The path goes through a loop of symbolic links.
    SymlinkLoop,
    /// The path names something other than a regular file: the text says what.
    NotRegular(&'static str),
    /// The file is larger than the cap.
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    NotUtf8,
    /// Any other failure, as the system described it.
    Io(String),
}

impl LocalFileError {
    /// The path that was read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was wrong.
    pub fn kind(&self) -> &LocalFileErrorKind {
        &self.kind
    }
}

impl fmt::Display for LocalFileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalFileErrorKind::NotFound => f.write_str("it does not exist"),
            LocalFileErrorKind::SymlinkLoop => {
                f.write_str("it is a symlink loop (the links point at each other)")
            }
            LocalFileErrorKind::NotRegular(what) => {
                write!(f, "it is {what}, not a regular file")
            }
            LocalFileErrorKind::TooLarge { limit } => {
                write!(f, "it is larger than the limit of {}", bytes(*limit))
            }
            LocalFileErrorKind::NotUtf8 => f.write_str("it is not UTF-8 text"),
            LocalFileErrorKind::Io(e) => f.write_str(e),
        }
    }
}

impl fmt::Display for LocalFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for LocalFileError {}

/// `1 MiB`, `64 KiB` or `100 bytes`, for messages.
fn bytes(n: u64) -> String {
    if n >= 1024 * 1024 && n % (1024 * 1024) == 0 {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n % 1024 == 0 {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// `true` when something is at `path`, following symbolic links. Only a plain "not found"
/// counts as absent: a symlink loop or a permission problem is there to be reported.
pub fn exists(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(_) => true,
        Err(e) => e.kind() != ErrorKind::NotFound,
    }
}

/// Reads the regular file at `path` (following symbolic links) as UTF-8 text of at most `limit`
/// bytes. Never blocks on a FIFO and never reads more than `limit + 1` bytes.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, LocalFileError> {
    let fail = |kind| LocalFileError {
        path: path.to_owned(),
        kind,
    };
    let io = |e: std::io::Error| fail(io_kind(&e));
    // Examined before opening, because opening a FIFO for reading waits for a writer.
    let before = std::fs::metadata(path).map_err(io)?;
    check_type(before.file_type()).map_err(fail)?;
    let file = File::open(path).map_err(io)?;
    let after = file.metadata().map_err(io)?;
    check_type(after.file_type()).map_err(fail)?;
    let mut data = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > limit {
        return Err(fail(LocalFileErrorKind::TooLarge { limit }));
    }
    String::from_utf8(data).map_err(|_| fail(LocalFileErrorKind::NotUtf8))
}

fn check_type(t: FileType) -> Result<(), LocalFileErrorKind> {
    if t.is_file() {
        return Ok(());
    }
    let what = if t.is_dir() {
        "a directory"
    } else {
        special_type(t)
    };
    Err(LocalFileErrorKind::NotRegular(what))
}

#[cfg(unix)]
fn special_type(t: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "something special"
    }
}

#[cfg(not(unix))]
fn special_type(_: FileType) -> &'static str {
    "something special"
}

/// The error number of "too many levels of symbolic links" (ELOOP), which the standard library
/// does not yet name with a stable `ErrorKind`.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ELOOP: Option<i32> = Some(40);
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
const ELOOP: Option<i32> = Some(62);
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
const ELOOP: Option<i32> = None;

fn io_kind(e: &std::io::Error) -> LocalFileErrorKind {
    if e.kind() == ErrorKind::NotFound {
        LocalFileErrorKind::NotFound
    } else if ELOOP.is_some() && e.raw_os_error() == ELOOP {
        LocalFileErrorKind::SymlinkLoop
    } else {
        LocalFileErrorKind::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "12345").unwrap();
        assert_eq!(read_to_string(&path, 5).unwrap(), "12345");
        assert!(exists(&path));
        let err = read_to_string(&path, 4).unwrap_err();
        assert_eq!(*err.kind(), LocalFileErrorKind::TooLarge { limit: 4 });
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: it is larger than the limit of 4 bytes",
                path.display()
            )
        );
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert_eq!(
            *read_to_string(&path, 5).unwrap_err().kind(),
            LocalFileErrorKind::NotUtf8
        );
    }

    #[test]
    fn missing_directory_and_devices_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(!exists(&missing));
        assert_eq!(
            *read_to_string(&missing, 5).unwrap_err().kind(),
            LocalFileErrorKind::NotFound
        );
        assert_eq!(
            *read_to_string(dir.path(), 5).unwrap_err().kind(),
            LocalFileErrorKind::NotRegular("a directory")
        );
        #[cfg(unix)]
        assert_eq!(
            read_to_string(Path::new("/dev/zero"), CONFIG_FILE_LIMIT)
                .unwrap_err()
                .to_string(),
            "cannot read /dev/zero: it is a character device, not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking_and_a_loop_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert_eq!(
                *read_to_string(&fifo, 5).unwrap_err().kind(),
                LocalFileErrorKind::NotRegular("a FIFO (named pipe)")
            );
        }
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(exists(&a), "a loop is something to report, not nothing");
        let err = read_to_string(&a, 5).unwrap_err();
        assert_eq!(*err.kind(), LocalFileErrorKind::SymlinkLoop, "{err}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        assert!(!exists(&dangling));
    }
}
