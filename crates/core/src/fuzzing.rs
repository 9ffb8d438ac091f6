//! Entry points for the fuzz targets in `fuzz/`, kept in the library so that every crash the
//! fuzzer finds can be replayed as an ordinary test (the `tests` module below).
//!
//! Each function takes arbitrary bytes, must never panic, and asserts the properties that
//! must hold for any input. The module exists only when cargo-fuzz builds the crate
//! (`--cfg fuzzing`) and in the crate's own tests: it is no part of the public API.

use crate::diagnose::diagnose;
use crate::response::{parse_error_body, parse_response};
use crate::{
    percent, CreateBackupResponse, Credentials, DescribeBackupTasksResponse, Endpoint, Format,
    Method, Params, RpcRequest, SignatureVersion, SigningParams, Timestamp,
};

/// Typed responses and errors from JSON.
pub fn parse_json(data: &[u8]) {
    parse_any(data, Format::Json);
}

/// Typed responses and errors from XML.
pub fn parse_xml(data: &[u8]) {
    parse_any(data, Format::Xml);
    // The typed answers read from events must be what the tree path reads.
    use crate::response::xml_paths_agree;
    xml_paths_agree::<DescribeBackupTasksResponse>(data);
    xml_paths_agree::<CreateBackupResponse>(data);
    xml_paths_agree::<crate::DescribeBackupsResponse>(data);
    xml_paths_agree::<crate::DescribeInstancesResponse>(data);
    xml_paths_agree::<crate::DescribeInstanceAttributeResponse>(data);
    xml_paths_agree::<crate::DescribeBackupPolicyResponse>(data);
    xml_paths_agree::<crate::DescribeRegionsResponse>(data);
    xml_paths_agree::<crate::response::Document>(data);
}

fn parse_any(data: &[u8], format: Format) {
    // A success must have the operation's shape, whatever the body.
    if let Ok(r) = parse_response::<DescribeBackupTasksResponse>(200, data, format) {
        assert!(!r.request_id.trim().is_empty());
    }
    if let Ok(r) = parse_response::<CreateBackupResponse>(200, data, format) {
        assert!(r.job_ids().is_some_and(|ids| !ids.is_empty()));
    }
    if let Ok(d) = parse_response::<crate::response::Document>(200, data, format) {
        assert!(d.request_id().is_some());
    }
    let _ = parse_error_body(400, data, format);
    answer_hides_the_token(data, format);
}

/// Whatever an answer holds, nothing derived from it shows the request's security token.
fn answer_hides_the_token(data: &[u8], format: Format) {
    const TOKEN: &str = "CAISfuzzTOKEN+/=abcdefghijklmnop";
    let creds = Credentials::new("STS.fuzz", "fuzz-secret").with_security_token(TOKEN);
    let Ok(endpoint) = Endpoint::parse("r-kvstore.aliyuncs.com") else {
        return;
    };
    let Ok(request) = RpcRequest::new(endpoint, "2015-01-01", "DescribeBackupTasks") else {
        return;
    };
    let Ok(signed) = crate::sign(
        &request.with_format(format),
        &SigningParams {
            credentials: &creds,
            time: Timestamp::from_unix(1_767_225_600),
            nonce: "fuzz",
            version: SignatureVersion::V1,
        },
    ) else {
        return;
    };
    // The body may quote the token in any encoding: put it there, as a hostile server would.
    let body = String::from_utf8_lossy(data).replace("TOKEN", TOKEN);
    for status in [200, 400] {
        if let Err(e) = crate::response::read_answer::<DescribeBackupTasksResponse>(
            &signed,
            status,
            body.as_bytes(),
        ) {
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains("CAISfuzzTOKEN%2B"), "{shown}");
        }
    }
}

/// `decode(encode(s)) == s` for the UTF-8 part of the input; decoding anything never panics.
pub fn percent_roundtrip(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let encoded = percent::encode(&s);
    assert_eq!(percent::decode(&encoded).as_deref(), Ok(&*s));
    assert!(encoded
        .bytes()
        .all(|b| percent::is_unreserved(b) || b == b'%'));
    let _ = percent::decode(&s);
    let _ = percent::decode_form(&s);
}

/// Arbitrary parameters and secret: signing never panics, and the canonical query decodes back
/// to the sorted input.
pub fn sign(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\u{0}');
    let secret = parts.next().unwrap_or_default();
    let mut params = Params::new();
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut fields = parts.collect::<Vec<_>>().into_iter();
    while let (Some(k), Some(v)) = (fields.next(), fields.next()) {
        if params.insert(k.to_owned(), v).is_ok() {
            expected.push((k.to_owned(), v.to_owned()));
        }
    }
    let Ok(endpoint) = Endpoint::parse("r-kvstore.aliyuncs.com") else {
        return;
    };
    let Ok(request) = RpcRequest::new(endpoint, "2015-01-01", "DescribeBackupTasks") else {
        return;
    };
    let method = if data.first().is_some_and(|b| b & 1 == 1) {
        Method::Get
    } else {
        Method::Post
    };
    let request = request.with_method(method).with_params(params);
    let creds = Credentials::new("LTAIfuzz", secret);
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let signed = crate::sign(
            &request,
            &SigningParams {
                credentials: &creds,
                time: Timestamp::from_unix(1_767_225_600),
                nonce: "fuzz",
                version,
            },
        );
        let Ok(signed) = signed else { continue };
        if version == SignatureVersion::V1 {
            let canonical = signed.canonical().as_str().to_owned();
            let mut decoded: Vec<(String, String)> = canonical
                .split('&')
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (
                        percent::decode(k).unwrap_or_default(),
                        percent::decode(v).unwrap_or_default(),
                    )
                })
                .filter(|(k, _)| expected.iter().any(|(e, _)| e == k))
                .collect();
            let mut sorted = expected.clone();
            sorted.sort();
            decoded.sort();
            assert_eq!(decoded, sorted);
            // The server-side signer (feature `verify`) takes the same text apart again.
            #[cfg(feature = "verify")]
            {
                let refs: Vec<(&str, &str)> = canonical
                    .split('&')
                    .filter_map(|p| p.split_once('='))
                    .collect();
                let _ = crate::verify::v1::sign_params(method.as_str(), &refs, secret);
            }
        }
        let _ = signed.dry_run();
    }
}

/// An arbitrary server message against a fixed string to sign, and the reverse.
pub fn diagnose_message(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ours = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeBackupTasks%26SecurityToken%3Dt";
    let _ = diagnose(&text, ours).to_string();
    let _ = diagnose(&format!("server string to sign is:{text}"), ours).to_string();
    let _ = diagnose(&format!("server string to sign is:{ours}"), &text).to_string();
}

/// The backup-set answers (DescribeBackups, DescribeBackupPolicy, DescribeInstanceAttribute) from
/// either format: a success always has its shape, and the pager always stops.
pub fn parse_backups(data: &[u8]) {
    use crate::pager::BackupPager;
    for format in [Format::Json, Format::Xml] {
        if let Ok(r) = parse_response::<crate::DescribeBackupsResponse>(200, data, format) {
            assert!(!r.request_id.trim().is_empty());
            // The same page over and over must still end.
            let op = crate::DescribeBackups::new("r-1", "2026-01-01T00:00Z", "2026-01-02T00:00Z");
            let mut pager = BackupPager::new(op);
            let mut pages = 0;
            while pager.next_operation().is_some() {
                let kept = pager.take_new(r.clone());
                assert!(kept.backups.len() <= r.backups.len());
                pages += 1;
                // A page repeated stops the walk at the second one at the latest.
                assert!(pages <= 2);
            }
            for b in &r.backups {
                let _ = b.download_url(false);
            }
        }
        if let Ok(r) = parse_response::<crate::DescribeBackupPolicyResponse>(200, data, format) {
            assert!(!r.request_id.trim().is_empty());
            if let Ok(op) = crate::ModifyBackupPolicy::from_policy("r-1", &r) {
                let _ = crate::Operation::params(&op);
            }
        }
        if let Ok(r) = parse_response::<crate::DescribeInstanceAttributeResponse>(200, data, format)
        {
            assert!(!r.instances.is_empty());
            let _ = r.status_of("r-1");
        }
    }
}

/// The download helpers on arbitrary URLs, headers and error bodies: no panic, and a file name
/// that can never leave its directory.
pub fn download_headers(data: &[u8]) {
    use crate::download::{content_range, expires_at, file_name, is_expired_answer, shown_url};
    let text = String::from_utf8_lossy(data);
    let _ = expires_at(&text);
    if let Some((first, last, total)) = content_range(&text) {
        assert!(first <= last && total.is_none_or(|t| last < t));
    }
    let name = file_name(&text, 1);
    assert!(!name.contains('/') && !name.contains('\\') && !name.starts_with('.'));
    assert!(!name.is_empty());
    let shown = shown_url(&text);
    assert!(!shown.chars().any(char::is_control));
    let _ = is_expired_answer(403, data);
    let _ = crate::Weekday::parse_list(&text);
    let _ = crate::check_backup_time(&text);
}

/// An STS answer (`AssumeRole`, `AssumeRoleWithOIDC`) in JSON and XML: no panic, and
/// credentials only with all three parts.
pub fn parse_sts(data: &[u8]) {
    use crate::sts::AssumeRoleResponse;
    for format in [Format::Json, Format::Xml] {
        if let Ok(r) = parse_response::<AssumeRoleResponse>(200, data, format) {
            if let Ok(c) = r.temporary_credentials() {
                assert!(!c.credentials.access_key_id().is_empty());
                assert!(c.credentials.security_token().is_some());
            }
        }
        let _ = parse_error_body(400, data, format);
    }
}

/// The ECS metadata service's and a credentials URI's answers: no panic, and no error that
/// shows a secret-looking value or a long base64-like run of the body.
pub fn parse_metadata(data: &[u8]) {
    use crate::sts::{parse_credentials_document, parse_role_list};
    for status in [200, 404, 500] {
        match parse_credentials_document(status, data, "the URI") {
            Ok(c) => assert!(c.expiration.is_some()),
            Err(e) => error_hides_secrets(&e.to_string()),
        }
        match parse_role_list(status, data) {
            Ok(role) => assert!(!role.is_empty() && role.len() <= 64),
            Err(e) => error_hides_secrets(&e.to_string()),
        }
    }
}

/// An external command's output: no panic, and no error showing a secret.
pub fn parse_external(data: &[u8]) {
    match crate::sts::parse_external_output(data) {
        Ok(c) => assert!(!c.credentials.access_key_id().is_empty()),
        Err(e) => error_hides_secrets(&e.to_string()),
    }
    // The redaction itself, on any text.
    let shown = crate::sts::answer::excerpt(data);
    assert!(!shown.chars().any(char::is_control));
    assert!(shown.chars().count() <= 80);
}

/// An error text from an answer: no control character, and no run of 20 base64-like
/// characters (a key, a token) copied from the body.
fn error_hides_secrets(text: &str) {
    assert!(!text.chars().any(char::is_control), "{text:?}");
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || "+/=_-".contains(c) {
            run += 1;
            // Our own words ("yyyy-MM-ddTHH:mm:ssZ", field names) are shorter than this.
            assert!(run < 20, "{text:?}");
        } else {
            run = 0;
        }
    }
}

/// Inputs the fuzz targets must keep handling: their seeds, edge cases, and every crash the
/// fuzzer has found (one test each, named after what it caught). Unit tests, because the
/// module is not compiled for other crates' tests.
#[cfg(test)]
mod tests {
    /// Runs every target on `data`, as the fuzzer would.
    fn all(data: &[u8]) {
        super::parse_json(data);
        super::parse_xml(data);
        super::percent_roundtrip(data);
        super::sign(data);
        super::diagnose_message(data);
        super::parse_backups(data);
        super::download_headers(data);
        super::parse_sts(data);
        super::parse_metadata(data);
        super::parse_external(data);
    }

    #[test]
    fn seeds() {
        for data in [
            &include_bytes!("../tests/fixtures/describe-backup-tasks.json")[..],
            include_bytes!("../tests/fixtures/describe-backup-tasks.xml"),
            include_bytes!("../tests/fixtures/error-instance-not-found.xml"),
            include_bytes!("../tests/fixtures/error-signature-mismatch.json"),
            include_bytes!("../tests/fixtures/describe-backups.json"),
            include_bytes!("../tests/fixtures/describe-backups.xml"),
            include_bytes!("../tests/fixtures/describe-backup-policy.xml"),
            include_bytes!("../tests/fixtures/describe-instance-attribute.xml"),
            include_bytes!("../tests/fixtures/oss-request-expired.xml"),
            b"https://h/a/hins1_data.rdb?Expires=1&Signature=x",
            b"bytes 0-9/10",
            b"secret\0InstanceId\0r-bp1abc\0RegionId\0cn-hangzhou\0Note\0a b*~&=\xc3\xbc",
        ] {
            all(data);
        }
    }

    #[test]
    fn edge_cases() {
        for data in [
            &b""[..],
            b"\0",
            b"\0\0\0",
            b"\xff\xfe\xfd",
            b"%",
            b"%%%zz",
            b"<",
            b"<a>",
            b"</a>",
            b"<![CDATA[",
            b"<?xml?><Error><Code/></Error>",
            b"{\"BackupJobs\":[{\"BackupJobID\":-1}]}",
            b"{\"BackupJobs\":{\"x\":[1,2]}}",
            b"server string to sign is:",
            b"server string to sign is:GET&%2F&",
            b"server string to sign is:GET&%2F&%ZZ",
            b"s\0Signature\0x\0\0\0=\0&",
            b"{\"access_key_id\":\"a\",\"access_key_secret\":\"b\"}\nlog",
            b"{\"Code\":\"Success\",\"AccessKeyId\":\"x\",\"AccessKeySecret\":\"y\",\"SecurityToken\":\"z\",\"Expiration\":\"2026-01-01T00:00:00Z\"}",
            b"{\"RequestId\":\"r\",\"Credentials\":{\"AccessKeyId\":\"x\",\"AccessKeySecret\":\"y\",\"SecurityToken\":\"z\",\"Expiration\":\"2026-01-01T00:00:00Z\"}}",
            b"AccessKeySecret=\"unterminated \\",
            b"role-a\nrole-b\n",
        ] {
            all(data);
        }
    }

    /// The XML target on mutations of its seeds, for machines without cargo-fuzz: structural
    /// edits (tags cut, repeated, renamed, moved apart) that reach the event path's list and
    /// fallback decisions. Run by hand:
    /// `cargo test --release -p rkvstore-core --lib xml_mutations -- --ignored`.
    #[test]
    #[ignore = "a long run; by hand"]
    fn xml_mutations() {
        let seeds: [&[u8]; 6] = [
            include_bytes!("../tests/fixtures/describe-backup-tasks.xml"),
            include_bytes!("../tests/fixtures/describe-backups.xml"),
            include_bytes!("../tests/fixtures/describe-backup-policy.xml"),
            include_bytes!("../tests/fixtures/describe-instance-attribute.xml"),
            include_bytes!("../tests/fixtures/error-instance-not-found.xml"),
            b"<R><RequestId>Q</RequestId><BackupJobs><BackupJob><BackupJobID>1</BackupJobID>\
              </BackupJob></BackupJobs><InstanceId>i</InstanceId></R>",
        ];
        let pieces: [&[u8]; 12] = [
            b"<BackupJobs>",
            b"</BackupJobs>",
            b"<BackupJob>",
            b"</BackupJob>",
            b"<RequestId>",
            b"</RequestId>",
            b"<Code>",
            b"&amp;",
            b"<![CDATA[x]]>",
            b"<x/>",
            b" ",
            b"1",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let rounds: usize = std::env::var("XML_MUTATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000);
        for _ in 0..rounds {
            let mut data = seeds[next(seeds.len())].to_vec();
            for _ in 0..1 + next(3) {
                let at = next(data.len() + 1);
                match next(4) {
                    0 => {
                        let piece = pieces[next(pieces.len())];
                        data.splice(at..at, piece.iter().copied());
                    }
                    1 => {
                        let end = (at + next(40)).min(data.len());
                        data.drain(at..end);
                    }
                    2 => {
                        // A span repeated in place: an element given twice, or cut oddly.
                        let end = (at + next(120)).min(data.len());
                        let span = data[at..end].to_vec();
                        data.splice(end..end, span);
                    }
                    _ => {
                        if let Some(b) = data.get_mut(at) {
                            *b = b"<>/a &;Q"[next(8)];
                        }
                    }
                }
            }
            super::parse_xml(&data);
        }
    }

    /// Every seed the fuzz targets start from, so that a seed that no longer parses is caught
    /// by `cargo test`, not only by a fuzzing run.
    #[test]
    fn fuzz_seeds() {
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds");
        let Ok(targets) = std::fs::read_dir(seeds) else {
            return; // A packaged crate has no fuzz directory.
        };
        for dir in targets.flatten() {
            for file in std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Ok(data) = std::fs::read(file.path()) {
                    all(&data);
                }
            }
        }
    }
}
