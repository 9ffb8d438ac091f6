//! Downloading a backup file from its pre-signed URL: streamed to a temporary file next to the
//! target through one fixed buffer (memory stays flat whatever the size), resumed with `Range`
//! after an interruption (also across runs: the temporary file is kept), and renamed into place
//! only when complete and of the expected size. An existing different file is never overwritten
//! unless asked; an expired URL is refused before anything is sent when the URL says when it
//! expires, and recognised in OSS's answer otherwise.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkvstore_core::download::{content_range, expires_at, is_expired_answer, oss_error, shown_url};
use rkvstore_core::escape::controls;
use rkvstore_core::Timestamp;

/// The buffer every byte goes through.
const BUFFER: usize = 64 * 1024;

/// How much of an error body is read, to find OSS's `<Code>`.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// What to download and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// The directory to write into.
    pub dir: PathBuf,
    /// The file name inside `dir`.
    pub file_name: String,
    /// The size the file must have (the backup's `BackupSize`), if known.
    pub expected_size: Option<u64>,
    /// Replace an existing file of another size.
    pub force: bool,
    /// How many times an interrupted transfer is resumed within one call.
    pub resumes: u32,
    /// Time to connect, and to wait for the answer's head.
    pub connect_timeout: Duration,
    /// Time to wait for the answer's head once connected.
    pub response_timeout: Duration,
}

impl DownloadOptions {
    /// Writes `file_name` into `dir`, resuming up to 3 times, with 10 s timeouts.
    pub fn new(dir: impl Into<PathBuf>, file_name: impl Into<String>) -> Self {
        DownloadOptions {
            dir: dir.into(),
            file_name: file_name.into(),
            expected_size: None,
            force: false,
            resumes: 3,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(30),
        }
    }

    /// The file must end up `bytes` long.
    pub fn expected_size(mut self, bytes: Option<u64>) -> Self {
        self.expected_size = bytes;
        self
    }

    /// Replace an existing file that differs.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Resume at most `n` times within one call.
    pub fn resumes(mut self, n: u32) -> Self {
        self.resumes = n;
        self
    }

    /// The temporary file the transfer writes to: hidden, next to the target, so that the
    /// final rename stays on one file system.
    pub fn partial_path(&self) -> PathBuf {
        self.dir.join(format!(".{}.part", self.file_name))
    }

    /// The target.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.file_name)
    }
}

/// A finished download.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Bytes already there from an earlier interrupted run.
    pub resumed_from: u64,
    /// Times the transfer was resumed within this call.
    pub resumes: u32,
    /// `true` when the same file was already in place and nothing was sent.
    pub already_present: bool,
}

/// Why a download failed. Every message says what to do next; none shows the URL's signature.
#[derive(Debug)]
#[non_exhaustive]
pub enum DownloadError {
    /// The pre-signed URL has expired.
    Expired {
        /// The URL without its query.
        url: String,
        /// When it expired (Unix seconds), if the URL says.
        expired_at: Option<i64>,
    },
    /// A different file is already where the download would go.
    Exists {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The transfer ended with another size than expected.
    SizeMismatch {
        /// The temporary file, kept for inspection.
        path: PathBuf,
        /// The size expected.
        expected: u64,
        /// The size received.
        got: u64,
    },
    /// The server refused the download.
    Http {
        /// The HTTP status.
        status: u16,
        /// OSS's `Code` and `Message`, if it sent them.
        detail: Option<(String, String)>,
    },
    /// The network failed, more often than resuming allows.
    Interrupted {
        /// Bytes on disk in the temporary file.
        got: u64,
        /// What went wrong last.
        reason: String,
    },
    /// A local file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownloadError::Expired { url, expired_at } => {
                write!(f, "the download URL {url} has expired")?;
                if let Some(t) = expired_at {
                    write!(f, " (at {})", Timestamp::from_unix(*t))?;
                }
                f.write_str("; describe the backup again for a fresh URL")
            }
            DownloadError::Exists { path, size } => write!(
                f,
                "{} already exists ({size} bytes) and is not this backup; move it away, choose \
                 another --dir, or pass --force to replace it",
                controls(&path.display().to_string())
            ),
            DownloadError::SizeMismatch {
                path,
                expected,
                got,
            } => write!(
                f,
                "the download ended at {got} bytes but the backup is {expected} bytes; the \
                 partial file {} was kept; run the download again to resume it",
                controls(&path.display().to_string())
            ),
            DownloadError::Http { status, detail } => {
                write!(f, "the download was refused with HTTP {status}")?;
                if let Some((code, message)) = detail {
                    write!(f, ": {}: {}", controls(code), controls(message))?;
                }
                Ok(())
            }
            DownloadError::Interrupted { got, reason } => write!(
                f,
                "the download was interrupted after {got} bytes ({}); run the same command \
                 again to resume where it stopped",
                controls(reason)
            ),
            DownloadError::Io { path, error } => write!(
                f,
                "cannot write {}: {error}",
                controls(&path.display().to_string())
            ),
        }
    }
}

impl std::error::Error for DownloadError {}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> DownloadError + '_ {
    move |error| DownloadError::Io {
        path: path.to_owned(),
        error,
    }
}

fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}

fn file_size(path: &Path) -> Result<Option<u64>, DownloadError> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Downloads `url` as `options` say, calling `progress(bytes_on_disk, total)` as bytes arrive.
pub fn download(
    url: &str,
    options: &DownloadOptions,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Downloaded, DownloadError> {
    let target = options.path();
    let partial = options.partial_path();
    let expected = options.expected_size;
    if let Some(size) = file_size(&target)? {
        if expected == Some(size) && !options.force {
            // The same size under the backup's own name: this backup, downloaded before.
            progress(size, Some(size));
            return Ok(Downloaded {
                path: target,
                bytes: size,
                resumed_from: size,
                resumes: 0,
                already_present: true,
            });
        }
        if !options.force {
            return Err(DownloadError::Exists { path: target, size });
        }
    }
    // Checked before sending anything: the clock says whether the URL can still work.
    if let Some(at) = expires_at(url).filter(|&at| at <= now().unix()) {
        return Err(DownloadError::Expired {
            url: shown_url(url),
            expired_at: Some(at),
        });
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.response_timeout))
        .http_status_as_error(false)
        .max_redirects(3)
        .build()
        .into();
    let mut offset = file_size(&partial)?.unwrap_or(0);
    if expected.is_some_and(|e| offset > e) {
        offset = 0;
    }
    let resumed_from = offset;
    let mut resumes = 0;
    let mut total = expected;
    loop {
        match transfer(&agent, url, &partial, offset, expected, &mut progress)? {
            Transfer::Complete(size) => {
                offset = size;
                total = total.or(Some(size));
                break;
            }
            Transfer::Cut { got, reason, size } => {
                offset = got;
                total = total.or(size);
                if resumes >= options.resumes {
                    return Err(DownloadError::Interrupted { got, reason });
                }
                resumes += 1;
                std::thread::sleep(Duration::from_millis(100 * u64::from(resumes)));
            }
        }
    }
    if let Some(want) = expected.or(total) {
        if offset != want {
            return Err(DownloadError::SizeMismatch {
                path: partial,
                expected: want,
                got: offset,
            });
        }
    }
    fs::rename(&partial, &target).map_err(io_error(&target))?;
    Ok(Downloaded {
        path: target,
        bytes: offset,
        resumed_from,
        resumes,
        already_present: false,
    })
}

enum Transfer {
    /// The file is complete at this size.
    Complete(u64),
    /// The body stopped early; `got` bytes are on disk.
    Cut {
        got: u64,
        reason: String,
        size: Option<u64>,
    },
}

/// One request: from `offset` to the end, appended to `partial`.
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    mut offset: u64,
    expected: Option<u64>,
    progress: &mut impl FnMut(u64, Option<u64>),
) -> Result<Transfer, DownloadError> {
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(e) => {
            return Ok(Transfer::Cut {
                got: offset,
                // ureq's message may quote the URL, signature and all.
                reason: redact_url(&e.to_string(), url),
                size: None,
            });
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let range = header("content-range");
    let length: Option<u64> = header("content-length").and_then(|v| v.trim().parse().ok());
    let mut body = response.into_body().into_reader();
    let size = match status {
        200 => {
            // The whole file, whatever was asked: start again from the beginning.
            offset = 0;
            length
        }
        206 => match range.as_deref().and_then(content_range) {
            Some((first, _, size)) if first == offset => size.or(expected),
            _ => {
                // A range other than the one asked for cannot be appended; start over.
                File::create(partial).map_err(io_error(partial))?;
                return Ok(Transfer::Cut {
                    got: 0,
                    reason: "the server sent another range than asked for".into(),
                    size: None,
                });
            }
        },
        416 if expected == Some(offset) => return Ok(Transfer::Complete(offset)),
        _ => {
            let mut text = Vec::new();
            let _ = body.take(ERROR_BODY_LIMIT).read_to_end(&mut text);
            if is_expired_answer(status, &text) {
                return Err(DownloadError::Expired {
                    url: shown_url(url),
                    expired_at: expires_at(url),
                });
            }
            if status == 416 {
                File::create(partial).map_err(io_error(partial))?;
                return Ok(Transfer::Cut {
                    got: 0,
                    reason: "the partial file is longer than the backup".into(),
                    size: None,
                });
            }
            return Err(DownloadError::Http {
                status,
                detail: oss_error(&text),
            });
        }
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(offset == 0)
        .append(offset > 0)
        .open(partial)
        .map_err(io_error(partial))?;
    progress(offset, size);
    let mut buffer = vec![0u8; BUFFER];
    loop {
        match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                let chunk = buffer.get(..n).unwrap_or_default();
                file.write_all(chunk).map_err(io_error(partial))?;
                offset += n as u64;
                progress(offset, size);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                file.flush().map_err(io_error(partial))?;
                return Ok(Transfer::Cut {
                    got: offset,
                    reason: redact_url(&e.to_string(), url),
                    size,
                });
            }
        }
    }
    file.sync_all().map_err(io_error(partial))?;
    if size.is_some_and(|s| offset < s) {
        return Ok(Transfer::Cut {
            got: offset,
            reason: "the connection closed before the end of the file".into(),
            size,
        });
    }
    Ok(Transfer::Complete(offset))
}

/// `message` with the URL (and its query, which holds the signature) replaced by its shown form.
fn redact_url(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &shown_url(url));
    if let Some((_, query)) = url.split_once('?') {
        out = out.replace(query, "…");
    }
    out
}
