//! Downloading a backup file from its pre-signed URL: streamed to a temporary file next to the
//! target through one fixed buffer (memory stays flat whatever the size), resumed with `Range`
//! after an interruption (also across runs: the temporary file is kept), and renamed into place
//! only when complete and of the expected size. An existing different file is never overwritten
//! unless asked; an expired URL is refused before anything is sent when the URL says when it
//! expires (by the service's clock, when the client knows how far ours is off), and recognised in
//! OSS's answer otherwise.
//!
//! A partial file is only ever written from an answer that is the object itself: status 200 or
//! 206, not an HTML page, of the backup's size, and (for 206) a `Content-Range` that starts where
//! the partial file ends. The validator of that first answer (`ETag`, else `Last-Modified`) is
//! kept next to the partial file (`.NAME.part.meta`) and sent as `If-Range` on resume, so that a
//! changed object starts over instead of being spliced onto the old bytes. A partial file without
//! that record is not trusted and is started over. Writing stops as soon as the body would pass
//! the backup's size. A server that goes quiet mid-file is given up on after the idle timeout
//! (each read waits at most that long), keeping the partial file for the next run.

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
    /// Longest wait for the next bytes of the body (each read): past it the download has
    /// stalled.
    pub read_timeout: Duration,
    /// Seconds to add to this machine's clock to get the service's (see
    /// [`crate::Client::clock_skew`]), for the expiry check.
    pub clock_skew: i64,
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
            read_timeout: Duration::from_secs(10),
            clock_skew: 0,
        }
    }

    /// Connect within `connect`, and wait at most `read` for the answer's head and for each
    /// read of its body (the idle timeout).
    pub fn timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.response_timeout = read;
        self.read_timeout = read;
        self
    }

    /// The service's clock is `secs` seconds ahead of this machine's (negative: behind).
    pub fn clock_skew(mut self, secs: i64) -> Self {
        self.clock_skew = secs;
        self
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

    /// Where the partial file's origin is recorded: the validator and size of the answer it
    /// was written from.
    pub fn meta_path(&self) -> PathBuf {
        self.dir.join(format!(".{}.part.meta", self.file_name))
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
    /// No byte arrived for the idle timeout: the server stalled mid-file.
    Stalled {
        /// Bytes on disk in the temporary file.
        got: u64,
        /// How long nothing arrived.
        idle: Duration,
        /// The temporary file, kept for the next run.
        path: PathBuf,
    },
    /// The answer was not the backup file (a proxy's or portal's page, another object, more
    /// bytes than the backup has); nothing of it was kept.
    NotTheBackup {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
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
            DownloadError::Stalled { got, idle, path } => write!(
                f,
                "the download stalled: no data arrived for {} s after {got} bytes; the partial \
                 file {} was kept; run the same command again to resume it",
                idle.as_secs_f64(),
                controls(&path.display().to_string())
            ),
            DownloadError::NotTheBackup { status, reason } => write!(
                f,
                "the download server answered HTTP {status} with something that is not the \
                 backup file ({}), as a proxy or a captive portal would; nothing of it was kept; \
                 check the network and run the same command again",
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

/// What the partial file was written from: the first answer's validator and the object's size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Origin {
    etag: Option<String>,
    last_modified: Option<String>,
    size: Option<u64>,
}

impl Origin {
    fn read(path: &Path) -> Option<Origin> {
        let text = fs::read_to_string(path).ok()?;
        let mut origin = Origin::default();
        for line in text.lines() {
            match line.split_once(": ") {
                Some(("etag", v)) => origin.etag = Some(v.to_owned()),
                Some(("last-modified", v)) => origin.last_modified = Some(v.to_owned()),
                Some(("size", v)) => origin.size = Some(v.parse().ok()?),
                _ => {}
            }
        }
        Some(origin)
    }

    fn write(&self, path: &Path) -> Result<(), DownloadError> {
        let mut text = String::from("rkvstore partial download\n");
        // Header values with a line break would corrupt the record; they were refused by the
        // HTTP parser already, but the record must stay one value a line whatever happens.
        let clean = |v: &str| v.replace(['\r', '\n'], " ");
        if let Some(v) = &self.etag {
            text.push_str(&format!("etag: {}\n", clean(v)));
        }
        if let Some(v) = &self.last_modified {
            text.push_str(&format!("last-modified: {}\n", clean(v)));
        }
        if let Some(v) = self.size {
            text.push_str(&format!("size: {v}\n"));
        }
        fs::write(path, text).map_err(io_error(path))
    }

    /// The `If-Range` value: the strong `ETag`, else `Last-Modified`.
    fn if_range(&self) -> Option<&str> {
        self.etag
            .as_deref()
            .filter(|e| !e.starts_with("W/"))
            .or(self.last_modified.as_deref())
    }
}

/// `true` when a partial file of `offset` bytes written from `origin` may be resumed: it came
/// from an answer that said its size (the backup's), and is not longer than that.
fn trusted(origin: Option<&Origin>, offset: u64, expected: Option<u64>) -> bool {
    origin.is_some_and(|o| {
        o.size.is_some_and(|s| offset <= s) && (expected.is_none() || o.size == expected)
    })
}

/// Removes the partial file and its record, so that the next transfer starts from zero.
fn discard(partial: &Path, meta: &Path) -> Result<(), DownloadError> {
    for path in [partial, meta] {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(path)(e)),
        }
    }
    Ok(())
}

/// Downloads `url` as `options` say, calling `progress(bytes_on_disk, total)` as bytes arrive.
pub fn download(
    url: &str,
    options: &DownloadOptions,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Downloaded, DownloadError> {
    let target = options.path();
    let partial = options.partial_path();
    let meta = options.meta_path();
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
    // Checked before sending anything: the service's clock (ours corrected by the skew the
    // client learnt) says whether the URL can still work.
    let service_now = now().unix().saturating_add(options.clock_skew);
    if let Some(at) = expires_at(url).filter(|&at| at <= service_now) {
        return Err(DownloadError::Expired {
            url: shown_url(url),
            expired_at: Some(at),
        });
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(options.connect_timeout))
        .timeout_recv_response(Some(options.response_timeout))
        // The idle timeout: each read of the body waits at most this long for data.
        .timeout_per_read(Some(options.read_timeout))
        .http_status_as_error(false)
        .max_redirects(3)
        .build()
        .into();
    let mut origin = Origin::read(&meta);
    let mut offset = file_size(&partial)?.unwrap_or(0);
    if offset > 0 && !trusted(origin.as_ref(), offset, expected) {
        discard(&partial, &meta)?;
        origin = None;
        offset = 0;
    }
    let resumed_from = offset;
    let mut resumes = 0;
    let mut total = expected;
    loop {
        let step = transfer(
            &agent,
            url,
            (&partial, &meta),
            offset,
            expected,
            &mut origin,
            &mut progress,
        )?;
        match step {
            Transfer::Complete(size) => {
                offset = size;
                total = total.or(Some(size));
                break;
            }
            Transfer::Cut {
                got,
                reason,
                size,
                stalled,
            } => {
                offset = got;
                total = total.or(size);
                if resumes >= options.resumes {
                    if stalled {
                        return Err(DownloadError::Stalled {
                            got,
                            idle: options.read_timeout,
                            path: partial,
                        });
                    }
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
    discard(&partial, &meta)?;
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
        /// Nothing arrived for the idle timeout.
        stalled: bool,
    },
}

/// `true` for a read that gave up because no data arrived in time.
fn is_stall(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) || e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// Why an answer cannot be the backup's bytes, if it cannot: an HTML page, a length other
/// than the backup's, or a total size other than the backup's.
fn not_the_object(
    content_type: Option<&str>,
    body_length: Option<u64>,
    object_size: Option<u64>,
    expected: Option<u64>,
) -> Option<String> {
    if let Some(t) = content_type {
        let t = t.trim().to_ascii_lowercase();
        if t.starts_with("text/html") || t.starts_with("application/xhtml") {
            return Some(format!(
                "a {} page of {} bytes",
                t.split(';').next().unwrap_or_default(),
                body_length.map_or_else(|| "unknown".into(), |n| n.to_string())
            ));
        }
    }
    if let (Some(want), Some(size)) = (expected, object_size) {
        if want != size {
            return Some(format!(
                "an object of {size} bytes, but the backup is {want} bytes"
            ));
        }
    }
    None
}

/// Starts the partial file afresh, recording where its bytes come from before the first one is
/// written.
fn start(
    partial: &Path,
    meta: &Path,
    origin: &mut Option<Origin>,
    answered: Origin,
) -> Result<(), DownloadError> {
    File::create(partial).map_err(io_error(partial))?;
    answered.write(meta)?;
    *origin = Some(answered);
    Ok(())
}

/// One request: from `offset` to the end, appended to the partial file (`files.0`, whose
/// origin is recorded in `files.1`).
fn transfer(
    agent: &ureq::Agent,
    url: &str,
    files: (&Path, &Path),
    mut offset: u64,
    expected: Option<u64>,
    origin: &mut Option<Origin>,
    progress: &mut impl FnMut(u64, Option<u64>),
) -> Result<Transfer, DownloadError> {
    let (partial, meta) = files;
    if offset > 0 && !trusted(origin.as_ref(), offset, expected) {
        // Bytes from an answer that did not say what it was cannot be continued.
        discard(partial, meta)?;
        *origin = None;
        offset = 0;
    }
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
        if let Some(v) = origin.as_ref().and_then(Origin::if_range) {
            // The object changed since the partial file was written: the whole new one.
            request = request.header("If-Range", v);
        }
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(e) => {
            return Ok(Transfer::Cut {
                got: offset,
                stalled: matches!(e, ureq::Error::Timeout(_)),
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
    let content_type = header("content-type");
    let answered = Origin {
        etag: header("etag"),
        last_modified: header("last-modified"),
        size: None,
    };
    let length: Option<u64> = header("content-length").and_then(|v| v.trim().parse().ok());
    let mut body = response.into_body().into_reader();
    let size = match status {
        200 => {
            // The whole file, whatever was asked: checked, then started again from zero.
            if let Some(reason) = not_the_object(content_type.as_deref(), length, length, expected)
            {
                return Err(DownloadError::NotTheBackup { status, reason });
            }
            offset = 0;
            start(
                partial,
                meta,
                origin,
                Origin {
                    size: length,
                    ..answered
                },
            )?;
            length.or(expected)
        }
        206 => {
            let parsed = range.as_deref().and_then(content_range);
            let total = parsed.and_then(|(_, _, size)| size).or(expected);
            if let Some(reason) = not_the_object(content_type.as_deref(), length, total, expected) {
                return Err(DownloadError::NotTheBackup { status, reason });
            }
            let known = origin.clone().unwrap_or_default();
            let same_object = |mine: &Option<String>, theirs: &Option<String>| {
                mine.is_none() || theirs.is_none() || mine == theirs
            };
            let fits = matches!(parsed, Some((first, _, _)) if first == offset)
                && same_object(&known.etag, &answered.etag)
                && same_object(&known.last_modified, &answered.last_modified)
                && (known.size.is_none() || total.is_none() || known.size == total);
            if !fits {
                // Another range, or another object, than the partial file holds: it cannot be
                // appended to; start over.
                discard(partial, meta)?;
                *origin = None;
                return Ok(Transfer::Cut {
                    got: 0,
                    reason: "the server sent another range or object than asked for".into(),
                    size: None,
                    stalled: false,
                });
            }
            if offset == 0 {
                start(
                    partial,
                    meta,
                    origin,
                    Origin {
                        size: total,
                        ..answered
                    },
                )?;
            }
            total
        }
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
                discard(partial, meta)?;
                *origin = None;
                return Ok(Transfer::Cut {
                    got: 0,
                    reason: "the partial file is longer than the backup".into(),
                    size: None,
                    stalled: false,
                });
            }
            return Err(DownloadError::Http {
                status,
                detail: oss_error(&text),
            });
        }
    };
    let mut file = OpenOptions::new()
        .append(true)
        .open(partial)
        .map_err(io_error(partial))?;
    progress(offset, size);
    let limit = expected.or(size);
    let mut buffer = vec![0u8; BUFFER];
    loop {
        match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                let chunk = buffer.get(..n).unwrap_or_default();
                if let Some(limit) = limit {
                    if offset.saturating_add(n as u64) > limit {
                        // More than the backup holds: not the backup; nothing of it is kept.
                        drop(file);
                        discard(partial, meta)?;
                        *origin = None;
                        return Err(DownloadError::NotTheBackup {
                            status,
                            reason: format!("more than the backup's {limit} bytes"),
                        });
                    }
                }
                file.write_all(chunk).map_err(io_error(partial))?;
                offset += n as u64;
                progress(offset, size);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                file.flush().map_err(io_error(partial))?;
                return Ok(Transfer::Cut {
                    got: offset,
                    stalled: is_stall(&e),
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
            stalled: false,
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
