//! What an outside attack run found, each pinned by a test: 2xx answers that are not the
//! operation's answer, error bodies sent with 200, unbounded nesting, the STS token quoted back
//! by `SignatureDoesNotMatch`, control characters in server text, hostile `Date` headers.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use rkvstore_core::diagnose::SignatureDiagnosis;
use rkvstore_core::response::Document as Value;
use rkvstore_core::response::{parse_response, read_answer};
use rkvstore_core::{
    sign, CreateBackupResponse, Credentials, DescribeBackupTasks, DescribeBackupTasksResponse,
    Endpoint, Error, Format, Operation, ParseErrorKind, Shape, SignatureVersion, SignedRequest,
    SigningParams, Timestamp,
};

const TOKEN: &str = "CAIS+STStoken/with==base64+chars0123456789abcdef";

fn kind<T: Shape + std::fmt::Debug>(status: u16, body: &[u8], hint: Format) -> ParseErrorKind {
    match parse_response::<T>(status, body, hint) {
        Err(Error::Parse(e)) => e.kind,
        other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(body)),
    }
}

#[test]
fn a_2xx_body_that_is_not_the_answer_is_an_error() {
    let html = b"<!DOCTYPE html>\n<html><head><title>Sign in to the Wi-Fi</title></head></html>";
    let bodies: [&[u8]; 8] = [
        b"{}",
        b"[]",
        b"null",
        b"\"ok\"",
        b"<html><body>Welcome</body></html>",
        b"<DescribeBackupTasksResponse/>",
        br#"{"InstanceId":"r-1","BackupJobs":[]}"#,
        html,
    ];
    for body in bodies {
        for hint in [Format::Json, Format::Xml] {
            for k in [
                kind::<DescribeBackupTasksResponse>(200, body, hint),
                kind::<CreateBackupResponse>(200, body, hint),
                kind::<Value>(204, body, hint),
            ] {
                assert!(
                    matches!(
                        k,
                        ParseErrorKind::Unexpected | ParseErrorKind::Syntax | ParseErrorKind::Empty
                    ),
                    "{:?}: {k:?}",
                    String::from_utf8_lossy(body)
                );
            }
        }
    }
    // The message quotes a short, escaped excerpt.
    let e = parse_response::<DescribeBackupTasksResponse>(
        200,
        b"<html>\x1b[2J\x1b]0;owned\x07 portal</html>",
        Format::Json,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "unexpected XML response: HTTP status 200 with a body that is not the operation's answer \
         (no RequestId): \"<html>\\u{1b}[2J\\u{1b}]0;owned\\u{7} portal</html>\""
    );
    let e = parse_response::<Value>(200, b"OK\r\n", Format::Json).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unexpected JSON response: HTTP status 200 with a body that is not the operation's answer \
         (neither JSON nor XML): \"OK\""
    );
    let long = format!("{{\"X\":\"{}\"}}", "a".repeat(10_000));
    let e = parse_response::<Value>(200, long.as_bytes(), Format::Json).unwrap_err();
    assert!(e.to_string().len() < 300, "{e}");
}

#[test]
fn create_backup_needs_a_job_id() {
    for body in [
        r#"{"RequestId":"R"}"#,
        r#"{"RequestId":"R","BackupJobID":""}"#,
        r#"{"RequestId":"R","BackupJobID":"soon"}"#,
    ] {
        let e =
            parse_response::<CreateBackupResponse>(200, body.as_bytes(), Format::Json).unwrap_err();
        assert!(e.to_string().contains("(no backup job ID)"), "{body}: {e}");
    }
    let ok: CreateBackupResponse = parse_response(
        200,
        br#"{"RequestId":"R","BackupJobID":"7,8"}"#,
        Format::Json,
    )
    .unwrap();
    assert_eq!(ok.job_ids(), Some(vec![7, 8]));
}

#[test]
fn a_body_carrying_code_is_an_api_error_whatever_the_status() {
    let bodies: [(&[u8], Format); 4] = [
        (
            br#"{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#,
            Format::Json,
        ),
        (
            br#"{"RequestId":"R","Code":"Throttling.User","Message":"slow down"}"#,
            Format::Json,
        ),
        (
            b"<Error><RequestId>R</RequestId><Code>Throttling.User</Code><Message>m</Message></Error>",
            Format::Xml,
        ),
        (
            b"<Response><RequestId>R</RequestId><Code>Throttling.User</Code></Response>",
            Format::Json,
        ),
    ];
    for (body, hint) in bodies {
        for status in [200, 202] {
            match parse_response::<DescribeBackupTasksResponse>(status, body, hint) {
                Err(Error::Api(api)) => {
                    assert_eq!(api.code, "Throttling.User");
                    assert_eq!(api.http_status, status);
                }
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
            assert!(matches!(
                parse_response::<Value>(status, body, hint),
                Err(Error::Api(_))
            ));
        }
    }
    // Some APIs put a success code in a successful answer; that is no error.
    let ok: Value =
        parse_response(200, br#"{"RequestId":"R","Code":"Success"}"#, Format::Json).unwrap();
    assert_eq!(ok.get_str("Code"), Some("Success"));
}

#[test]
fn json_nesting_is_limited_even_in_unknown_fields() {
    let nested = |n: usize| {
        format!(
            "{{\"RequestId\":\"R\",\"Unknown\":{}1{}}}",
            "{\"a\":".repeat(n),
            "}".repeat(n)
        )
    };
    assert_eq!(
        kind::<DescribeBackupTasksResponse>(200, nested(200_000).as_bytes(), Format::Json),
        ParseErrorKind::TooDeep
    );
    assert_eq!(
        kind::<Value>(200, nested(65).as_bytes(), Format::Json),
        ParseErrorKind::TooDeep
    );
    // Within the limit it is an ordinary answer.
    let ok: DescribeBackupTasksResponse =
        parse_response(200, nested(60).as_bytes(), Format::Json).unwrap();
    assert_eq!(ok.request_id, "R");
}

fn sts_request(version: SignatureVersion) -> SignedRequest {
    let creds = Credentials::new("STS.test", "sts-secret").with_security_token(TOKEN);
    let op = DescribeBackupTasks::new("r-bp1abc").region("cn-hangzhou");
    let req = op
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap();
    sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: Timestamp::parse_iso8601("2026-01-01T00:00:00Z").unwrap(),
            nonce: "3156853299f313e23d1673dc12e1703d",
            version,
        },
    )
    .unwrap()
}

/// Every way the token could be spelt in what we show.
fn assert_no_token(shown: &str) {
    let once = rkvstore_core::percent::encode(TOKEN);
    let twice = rkvstore_core::percent::encode(&once);
    for form in [TOKEN, &once, &twice, "STStoken", "STStoken%252Fwith"] {
        assert!(!shown.contains(form), "{form:?} in {shown}");
    }
}

#[test]
fn the_sts_token_quoted_by_signature_does_not_match_is_hidden() {
    let signed = sts_request(SignatureVersion::V1);
    // The server quotes its string to sign, which holds the token encoded twice.
    let server = signed.string_to_sign().as_str().to_owned();
    assert!(
        server.contains("SecurityToken%3DCAIS%252BSTStoken%252Fwith"),
        "{server}"
    );
    let body = serde_json::json!({
        "RequestId": "R",
        "Code": "SignatureDoesNotMatch",
        "Message": format!("Specified signature is not matched with our calculation. server string to sign is:{server}"),
        "Recommend": format!("https://api.aliyun.com/troubleshoot?token={TOKEN}"),
        "HostId": format!("{}", rkvstore_core::percent::encode(TOKEN)),
        "AccessDeniedDetail": {"Token": TOKEN.to_lowercase(), "Raw": TOKEN},
    })
    .to_string();
    for status in [400, 200] {
        let e = read_answer::<DescribeBackupTasksResponse>(&signed, status, body.as_bytes())
            .unwrap_err();
        let Error::Api(api) = &e else { panic!("{e:?}") };
        // The diagnosis is made before the token is hidden, so it is still right.
        assert_eq!(
            api.signature_diagnosis,
            Some(SignatureDiagnosis::SecretMismatch)
        );
        assert!(
            api.message.contains("SecurityToken%3D** REDACTED **%26"),
            "{}",
            api.message
        );
        assert_no_token(&format!("{e} {e:?} {}", api.message));
    }
}

#[test]
fn the_token_is_hidden_in_excerpts_and_field_errors_too() {
    let signed = sts_request(SignatureVersion::V3);
    let bodies = [
        format!("<html>proxy saw {TOKEN}</html>"),
        format!("<html>{}</html>", "x".repeat(40) + TOKEN),
        format!(r#"{{"RequestId":"R","BackupJobs":[{{"BackupJobID":"{TOKEN}"}}]}}"#),
        format!(r#"{{"RequestId":"R","BackupJobs":[{{"BackupJobID":{{"{TOKEN}":1}}}}]}}"#),
        // XML syntax errors name the elements they are about.
        format!("<R><RequestId>Q</RequestId><{TOKEN}>"),
        format!("<R><RequestId>Q</RequestId><a></{TOKEN}></R>"),
        format!("<R><RequestId>Q</RequestId><a>x</a {TOKEN}></R>"),
    ];
    for body in &bodies {
        for status in [200, 502] {
            let e = read_answer::<DescribeBackupTasksResponse>(&signed, status, body.as_bytes())
                .unwrap_err();
            assert_no_token(&format!("{e} {e:?}"));
        }
    }
}

#[test]
fn server_text_cannot_drive_the_terminal() {
    let body = br#"{"Code":"Bad\u001b[2J","Message":"x\u001b]52;c;SGk=\u0007\r\b","RequestId":"\u009b31m"}"#;
    let e = parse_response::<Value>(400, body, Format::Json).unwrap_err();
    let shown = e.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert_eq!(
        shown,
        "Bad\\x1b[2J: x\\x1b]52;c;SGk=\\x07\\r\\x08 (HTTP 400, RequestId \\u{9b}31m)"
    );
}

#[test]
fn hostile_date_headers_are_no_dates() {
    for date in [
        "Thu, 01 Mar 300000000000 00:00:00 GMT",
        "Thu, 01 Mar 99999999999999999 23:59:59 GMT",
        "Thu, 01 Mar -300000000000 00:00:00 GMT",
    ] {
        assert_eq!(Timestamp::parse_http_date(date), None, "{date}");
    }
    let far = Timestamp::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
    assert_eq!(
        far.seconds_since(Timestamp::from_unix(0)),
        Some(253_402_300_799)
    );
    assert_eq!(Timestamp::from_unix(i64::MIN).seconds_since(far), None);
}
