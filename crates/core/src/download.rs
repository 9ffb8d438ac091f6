//! The pure parts of downloading a backup file from its pre-signed OSS URL: when the URL
//! expires, whether an answer says it has, what a `Content-Range` means, a safe file name, and
//! the URL without its signature for messages. The transfer itself belongs to a transport
//! (`rkvstore-blocking` streams it over ureq).
//!
//! ```
//! use rkvstore_core::download::{content_range, expires_at, file_name, shown_url};
//! let url = "https://rdsbak-hz.oss-cn-hangzhou.aliyuncs.com/custins1/hins1_data_20261129.rdb?OSSAccessKeyId=LTAIx&Expires=1795000000&Signature=abc%3D";
//! assert_eq!(expires_at(url), Some(1_795_000_000));
//! assert_eq!(file_name(url, 7), "hins1_data_20261129.rdb");
//! assert_eq!(shown_url(url), "https://rdsbak-hz.oss-cn-hangzhou.aliyuncs.com/custins1/hins1_data_20261129.rdb?…");
//! assert_eq!(content_range("bytes 100-199/1000"), Some((100, 199, Some(1000))));
//! ```

use crate::Timestamp;

/// When a pre-signed URL stops working, in Unix seconds: its `Expires` (OSS signature 1), or
/// `x-oss-date` plus `x-oss-expires` (OSS signature 4). `None` when it says neither.
pub fn expires_at(url: &str) -> Option<i64> {
    let query = url.split_once('?')?.1.split('#').next().unwrap_or_default();
    let param = |name: &str| {
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.eq_ignore_ascii_case(name).then_some(v)
        })
    };
    if let Some(v) = param("Expires") {
        return v.parse().ok();
    }
    let date = param("x-oss-date")?;
    let secs: i64 = param("x-oss-expires")?.parse().ok()?;
    // `20261129T150509Z`, the compact ISO 8601 form OSS signs.
    let b = date.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        date.get(0..4)?,
        date.get(4..6)?,
        date.get(6..8)?,
        date.get(9..11)?,
        date.get(11..13)?,
        date.get(13..15)?
    );
    Timestamp::parse_iso8601(&iso)?.unix().checked_add(secs)
}

/// `true` when `url` has expired by `now`.
pub fn has_expired(url: &str, now: Timestamp) -> bool {
    expires_at(url).is_some_and(|t| t <= now.unix())
}

/// The `<Code>` and `<Message>` of an OSS XML error body, when it is one.
pub fn oss_error(body: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(body.get(..body.len().min(64 * 1024))?).ok()?;
    let element = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let len = text.get(start..)?.find(&close)?;
        text.get(start..start + len).map(str::to_owned)
    };
    Some((element("Code")?, element("Message").unwrap_or_default()))
}

/// `true` when an answer says the pre-signed URL has expired: OSS answers 403 with
/// `<Code>AccessDenied</Code><Message>Request has expired.</Message>`.
pub fn is_expired_answer(status: u16, body: &[u8]) -> bool {
    status == 403
        && oss_error(body).is_some_and(|(code, message)| {
            code == "AccessDenied" && message.to_ascii_lowercase().contains("expired")
        })
}

/// A `Content-Range` value, `bytes FIRST-LAST/TOTAL` (`TOTAL` may be `*`): the first and last
/// byte and the total size.
pub fn content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    let fits = first <= last && total.is_none_or(|t| last < t);
    fits.then_some((first, last, total))
}

/// A file name for the download: the URL's last path segment when it is a plain name (letters,
/// digits, `.`, `_`, `-`, not starting with a dot, at most 200 bytes), else
/// `backup-<backup_id>.rdb`. Nothing from the network can name a path outside the directory.
pub fn file_name(url: &str, backup_id: u64) -> String {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split_once("://")
        .map_or("", |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    let last = path.rsplit('/').next().unwrap_or_default();
    let plain = !last.is_empty()
        && last.len() <= 200
        && !last.starts_with('.')
        && last
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if plain {
        last.to_owned()
    } else {
        format!("backup-{backup_id}.rdb")
    }
}

/// The URL without its query, which holds the signature (and for STS a token): safe to show.
pub fn shown_url(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let base = crate::escape::controls(base);
    if base.len() < url.len() {
        format!("{base}?…")
    } else {
        base.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_forms() {
        assert_eq!(expires_at("https://h/f?Expires=10&Signature=x"), Some(10));
        assert_eq!(expires_at("https://h/f"), None);
        assert_eq!(expires_at("https://h/f?Expires=soon"), None);
        assert_eq!(
            expires_at(
                "https://h/f?x-oss-date=20261129T150509Z&x-oss-expires=60&x-oss-signature=s"
            ),
            Timestamp::parse_iso8601("2026-11-29T15:06:09Z").map(Timestamp::unix)
        );
        assert_eq!(
            expires_at("https://h/f?x-oss-date=2026&x-oss-expires=60"),
            None
        );
        assert!(has_expired(
            "https://h/f?Expires=10",
            Timestamp::from_unix(10)
        ));
        assert!(!has_expired(
            "https://h/f?Expires=10",
            Timestamp::from_unix(9)
        ));
    }

    #[test]
    fn the_expired_answer_of_oss() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>Request has expired.</Message>\n  <RequestId>656C0D2A4A1E8E3738D0B1F6</RequestId>\n  <HostId>rdsbak.oss-cn-hangzhou.aliyuncs.com</HostId>\n  <Expires>2026-11-29T15:00:00.000Z</Expires>\n</Error>\n";
        assert!(is_expired_answer(403, body));
        assert!(!is_expired_answer(200, body));
        assert!(!is_expired_answer(
            403,
            b"<Error><Code>AccessDenied</Code><Message>Bucket policy.</Message></Error>"
        ));
        assert_eq!(oss_error(b"not xml"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(content_range("bytes 0-0/1"), Some((0, 0, Some(1))));
        assert_eq!(content_range("bytes 5-9/*"), Some((5, 9, None)));
        for bad in [
            "",
            "bytes",
            "bytes 9-5/10",
            "bytes 0-10/10",
            "items 0-1/2",
            "bytes */10",
        ] {
            assert_eq!(content_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        assert_eq!(file_name("https://h/a/b.rdb?x=1", 1), "b.rdb");
        for bad in [
            "https://h/a/..",
            "https://h/a/.hidden",
            "https://h/a/",
            "https://h",
            "https://h/a/b%2F..%2Fc",
            "https://h/a/b\\c",
            "no-scheme/b.rdb",
        ] {
            assert_eq!(file_name(bad, 9), "backup-9.rdb", "{bad}");
        }
        assert_eq!(
            shown_url("https://h/a\x1b[2J?Signature=s"),
            "https://h/a\\x1b[2J?…"
        );
    }
}
