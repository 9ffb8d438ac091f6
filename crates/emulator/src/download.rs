//! Serving backup files the way OSS serves pre-signed URLs: `GET /download/<instance>/<id>/<name>
//! ?OSSAccessKeyId=…&Expires=…&Signature=…`, with `Range` (206 and `Content-Range`), a 403 XML
//! answer once the URL has expired or when it was edited, and a fault that cuts the connection
//! part-way through a file. Contents are made up as they are sent ([`backup_content`]), so a
//! file of any size costs no memory.

use std::io;
use std::sync::Mutex;
use std::task::{Context, Poll};

use hyper::body::Bytes;
use hyper::http::request::Parts;
use rkvstore_core::Timestamp;

use crate::backups::{BackupSet, DownloadRecord, Store};
use crate::state::State;

/// The path every download URL starts with.
pub(crate) const PREFIX: &str = "/download/";

/// Bytes sent per frame.
const CHUNK: u64 = 16 * 1024;

/// The byte at `offset` of backup set `backup_id`: every file's content is a function of its ID,
/// so tests can check what they downloaded without the emulator keeping it.
pub fn backup_content(backup_id: u64, offset: u64) -> u8 {
    // A cheap mix of both, so that a resumed download at the wrong offset shows.
    let x = offset
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(backup_id.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    (x >> 56) as u8
}

/// The signature of a URL: a keyed hash (FNV-1a) of what it grants, as hex.
fn signature(key: u64, instance: &str, id: u64, expires: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ key;
    for b in format!("{instance}/{id}/{expires}").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The download URL of `set`, valid for the store's lifetime from `now`.
pub(crate) fn url(store: &Store, instance: &str, set: &BackupSet, now: Timestamp) -> String {
    let lifetime = i64::try_from(store.url_lifetime.as_secs()).unwrap_or(i64::MAX);
    let expires = now.unix().saturating_add(lifetime);
    let stamp: String = set
        .start
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!(
        "{}{PREFIX}{instance}/{}/hins{}_data_{stamp}.rdb?OSSAccessKeyId=LTAIemulatorOSS&Expires={expires}&Signature={}",
        store.base_url,
        set.id,
        set.id,
        signature(store.url_key, instance, set.id, expires)
    )
}

/// What to answer a download request.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) stream: Option<Stream>,
}

/// The file's bytes from `pos` to `end` (exclusive), made as they are sent; with a cut, the
/// stream fails at `cut_at`, which ends the connection before the promised length.
pub(crate) struct Stream {
    backup_id: u64,
    pos: u64,
    end: u64,
    cut_at: Option<u64>,
    /// Set once the stream has paused at the cut, so that hyper flushes the bytes before it.
    paused: bool,
}

impl Stream {
    /// Bytes still to be sent if nothing is cut.
    pub(crate) fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.pos)
    }

    /// The next frame: bytes, the cut, or the end. At the cut the stream first answers
    /// `Pending` once (waking itself at once): hyper flushes what it holds while a body is
    /// pending, so the bytes before the cut reach the client before the connection drops.
    pub(crate) fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, io::Error>>> {
        if self.cut_at.is_some_and(|cut| self.pos >= cut) && !self.paused {
            self.paused = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(self.next_chunk())
    }

    /// The next frame, without the pause at the cut.
    fn next_chunk(&mut self) -> Option<Result<Bytes, io::Error>> {
        if let Some(cut) = self.cut_at {
            if self.pos >= cut {
                self.cut_at = None;
                self.end = self.pos;
                return Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "download cut by an injected fault",
                )));
            }
        }
        if self.pos >= self.end {
            return None;
        }
        let stop = self
            .end
            .min(self.pos + CHUNK)
            .min(self.cut_at.unwrap_or(u64::MAX));
        let chunk: Vec<u8> = (self.pos..stop)
            .map(|i| backup_content(self.backup_id, i))
            .collect();
        self.pos = stop;
        Some(Ok(Bytes::from(chunk)))
    }
}

fn oss_error(status: u16, code: &str, message: &str, extra: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  \
         <Message>{message}</Message>\n  <RequestId>5F3C0D2A4A1E8E3738D0B1F6</RequestId>\n  \
         <HostId>rdsbak-emulator.oss-cn-hangzhou.aliyuncs.com</HostId>{extra}\n</Error>\n"
    );
    Reply {
        status,
        headers: vec![("content-type", "application/xml".into())],
        body: body.into_bytes(),
        stream: None,
    }
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Answers `GET /download/…`; `None` for any other path, without taking the state's lock.
pub(crate) fn serve(parts: &Parts, state: &Mutex<State>) -> Option<Reply> {
    let path = parts.uri.path().strip_prefix(PREFIX)?;
    let state = &mut *crate::lock(state);
    let range = parts
        .headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut segments = path.split('/');
    let instance = segments.next().unwrap_or_default().to_owned();
    let id: Option<u64> = segments.next().and_then(|s| s.parse().ok());
    let reply = answer(parts, state, &instance, id, range.as_deref());
    state.backup.downloads.push(DownloadRecord {
        backup_id: id.unwrap_or_default(),
        range,
        status: reply.status,
    });
    Some(reply)
}

fn answer(
    parts: &Parts,
    state: &mut State,
    instance: &str,
    id: Option<u64>,
    range: Option<&str>,
) -> Reply {
    if parts.method != hyper::Method::GET {
        return oss_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed.",
            "",
        );
    }
    let query = parts.uri.query().unwrap_or_default();
    let expires: Option<i64> = query_param(query, "Expires").and_then(|e| e.parse().ok());
    let now = state.now();
    let (Some(id), Some(expires)) = (id, expires) else {
        return oss_error(
            403,
            "AccessDenied",
            "Anonymous access is forbidden for this operation.",
            "",
        );
    };
    let signed = signature(state.backup.url_key, instance, id, expires);
    if query_param(query, "Signature") != Some(signed.as_str()) {
        return oss_error(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
            "",
        );
    }
    if expires <= now.unix() {
        let when = Timestamp::from_unix(expires)
            .to_string()
            .replace('Z', ".000Z");
        let server = now.to_string().replace('Z', ".000Z");
        return oss_error(
            403,
            "AccessDenied",
            "Request has expired.",
            &format!("\n  <Expires>{when}</Expires>\n  <ServerTime>{server}</ServerTime>"),
        );
    }
    let Some(size) = state.backup.find(instance, id).map(|s| s.size) else {
        return oss_error(404, "NoSuchKey", "The specified key does not exist.", "");
    };
    let (first, last) = match range.map(parse_range) {
        None => (0, size.saturating_sub(1)),
        Some(Some((first, last))) if first < size => {
            (first, last.unwrap_or(size - 1).min(size - 1))
        }
        Some(Some(_)) => {
            let mut r = oss_error(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
                "",
            );
            r.headers.push(("content-range", format!("bytes */{size}")));
            return r;
        }
        // OSS ignores a Range header it cannot read and sends the whole object.
        Some(None) => (0, size.saturating_sub(1)),
    };
    let partial = range.is_some_and(|r| parse_range(r).is_some());
    let cut_at = state
        .backup
        .cuts
        .iter_mut()
        .find(|c| c.remaining > 0)
        .map(|c| {
            c.remaining -= 1;
            first + c.after_bytes
        });
    let mut headers = vec![
        ("content-type", "application/octet-stream".to_owned()),
        ("accept-ranges", "bytes".to_owned()),
        ("etag", format!("\"{id:032X}\"")),
        ("x-oss-request-id", "5F3C0D2A4A1E8E3738D0B1F7".to_owned()),
    ];
    if partial {
        headers.push(("content-range", format!("bytes {first}-{last}/{size}")));
    }
    Reply {
        status: if partial { 206 } else { 200 },
        headers,
        body: Vec::new(),
        stream: Some(Stream {
            backup_id: id,
            pos: first,
            end: last + 1,
            cut_at,
            paused: false,
        }),
    }
}

/// `bytes=FIRST-` or `bytes=FIRST-LAST`.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => None,
        l => Some(l.parse::<u64>().ok().filter(|&l| l >= first)?),
    };
    Some((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=10-"), Some((10, None)));
        assert_eq!(parse_range("bytes=10-19"), Some((10, Some(19))));
        assert_eq!(parse_range("bytes=19-10"), None);
        assert_eq!(parse_range("bytes=-10"), None);
        assert_eq!(parse_range("items=1-2"), None);
    }

    #[test]
    fn a_cut_stream_fails_once_then_ends() {
        let mut s = Stream {
            backup_id: 1,
            pos: 0,
            end: 40_000,
            cut_at: Some(20_000),
            paused: false,
        };
        let mut got = 0;
        let mut failed = false;
        while let Some(frame) = s.next_chunk() {
            match frame {
                Ok(b) => got += b.len(),
                Err(_) => failed = true,
            }
        }
        assert_eq!((got, failed), (20_000, true));
    }
}
