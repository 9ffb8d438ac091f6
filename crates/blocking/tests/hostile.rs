//! The client against a hostile server on loopback: answers that look like success and are not,
//! error bodies with status 200, a token quoted back, dates that are no dates.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

#[path = "../../cli/tests/support/hostile.rs"]
mod hostile;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostile::{Hostile, Reply};
use rkvstore_blocking::core::retry::RetryPolicy;
use rkvstore_blocking::core::{
    CreateBackup, Credentials, DescribeBackupTasks, ParseErrorKind, Timestamp,
};
use rkvstore_blocking::{Client, Error};

const TOKEN: &str = "CAIS+hostileToken/abc==0123456789xyz";

fn client(server: &Hostile) -> rkvstore_blocking::Builder {
    Client::builder()
        .credentials(Credentials::new("LTAIhostile", "hostile-secret"))
        .endpoint(server.url())
        .region("cn-hangzhou")
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        })
}

fn describe(server: &Hostile) -> Result<(), Error> {
    client(server)
        .build()
        .unwrap()
        .describe_backup_tasks(&DescribeBackupTasks::new("r-demo"))
        .map(|_| ())
}

fn create(server: &Hostile) -> Result<(), Error> {
    client(server)
        .build()
        .unwrap()
        .create_backup(&CreateBackup::new("r-demo"))
        .map(|_| ())
}

#[test]
fn a_portal_page_or_an_empty_object_is_never_a_success() {
    for body in [
        &b"<html><body>Please sign in to the hotel Wi-Fi</body></html>"[..],
        b"{}",
        br#"{"RequestId":"R"}"#,
    ] {
        let server = Hostile::start(vec![Reply::new(200, body)]);
        let e = create(&server).unwrap_err();
        match &e {
            Error::Parse(p) => assert_eq!(p.kind, ParseErrorKind::Unexpected, "{e}"),
            other => panic!("{other:?}"),
        }
        // A backup request that may have run is never sent twice.
        assert_eq!(server.hits(), 1);
        assert!(e.request_may_have_run());
    }
    let server = Hostile::start(vec![Reply::new(200, "{}")]);
    assert!(matches!(describe(&server), Err(Error::Parse(_))));
}

#[test]
fn throttling_with_status_200_is_throttling() {
    let server = Hostile::start(vec![
        Reply::new(
            200,
            r#"{"RequestId":"R1","Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#,
        ),
        Reply::new(200, r#"{"RequestId":"R2","BackupJobID":77}"#),
    ]);
    let started = client(&server)
        .build()
        .unwrap()
        .create_backup(&CreateBackup::new("r-demo"))
        .unwrap();
    assert_eq!(started.job_ids(), Some(vec![77]));
    assert_eq!(
        server.hits(),
        2,
        "throttling is answered before the action runs"
    );

    let server = Hostile::start(vec![Reply::new(
        200,
        r#"{"Code":"Throttling.User","Message":"slow down"}"#,
    )]);
    let e = describe(&server).unwrap_err();
    assert_eq!(e.api().map(|a| a.code.as_str()), Some("Throttling.User"));
    assert_eq!(e.api().map(|a| a.http_status), Some(200));
    assert_eq!(server.hits(), 3);
}

#[test]
fn a_deeply_nested_answer_is_refused() {
    let n = 200_000;
    let body = format!(
        "{{\"RequestId\":\"R\",\"X\":{}1{}}}",
        "{\"a\":".repeat(n),
        "}".repeat(n)
    );
    let server = Hostile::start(vec![Reply::new(200, body)]);
    match describe(&server) {
        Err(Error::Parse(p)) => assert_eq!(p.kind, ParseErrorKind::TooDeep),
        other => panic!("{other:?}"),
    }
}

fn expired(date: &str) -> Reply {
    Reply::new(
        400,
        r#"{"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"Specified time stamp or date value is expired."}"#,
    )
    .header("Date", date)
}

#[test]
fn a_date_that_is_no_date_is_ignored_without_a_panic() {
    let server = Hostile::start(vec![expired("Thu, 01 Mar 300000000000 00:00:00 GMT")]);
    let e = describe(&server).unwrap_err();
    assert_eq!(
        e.api().map(|a| a.code.as_str()),
        Some("InvalidTimeStamp.Expired")
    );
    assert_eq!(server.hits(), 1);
}

#[test]
fn a_clock_days_away_is_an_error_not_a_correction() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let far = Timestamp::from_unix(now + 3 * 86_400).to_http_date();
    let server = Hostile::start(vec![expired(&far)]);
    let e = describe(&server).unwrap_err();
    assert!(matches!(e, Error::ClockSkew { .. }), "{e:?}");
    assert!(
        e.to_string().contains("72 h ahead of this machine's"),
        "{e}"
    );
    assert_eq!(server.hits(), 1);

    // Within a day it is corrected and the request goes through.
    let near = Timestamp::from_unix(now + 2 * 3600).to_http_date();
    let server = Hostile::start(vec![
        expired(&near),
        Reply::new(
            200,
            r#"{"RequestId":"R","InstanceId":"r-demo","BackupJobs":[]}"#,
        ),
    ]);
    let c = client(&server).build().unwrap();
    c.describe_backup_tasks(&DescribeBackupTasks::new("r-demo"))
        .unwrap();
    assert!(
        (7190..=7210).contains(&c.clock_skew()),
        "{}",
        c.clock_skew()
    );
}

#[test]
fn the_token_quoted_back_never_reaches_errors_or_logs() {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    // The server quotes a string to sign holding the token encoded twice, as the service does.
    let once = rkvstore_blocking::core::percent::encode(TOKEN);
    let twice = rkvstore_blocking::core::percent::encode(&once);
    let body = serde_json::json!({
        "RequestId": "R",
        "Code": "SignatureDoesNotMatch",
        "Message": format!("Specified signature is not matched with our calculation. server string to sign is:GET&%2F&AccessKeyId%3DSTS.x%26SecurityToken%3D{twice}%26Version%3D2015-01-01"),
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={once}"),
    })
    .to_string();
    let server = Hostile::start(vec![Reply::new(400, body)]);
    let c = client(&server)
        .credentials(Credentials::new("STS.x", "sts-secret").with_security_token(TOKEN))
        .logger(Arc::new(move |line: &str| {
            sink.lock().unwrap().push(line.to_owned())
        }))
        .build()
        .unwrap();
    let e = c
        .describe_backup_tasks(&DescribeBackupTasks::new("r-demo"))
        .unwrap_err();
    let shown = format!("{e} {e:?} {}", lines.lock().unwrap().join("\n"));
    for form in [TOKEN, &once, &twice, "hostileToken"] {
        assert!(!shown.contains(form), "{form} in {shown}");
    }
    assert!(
        shown.contains("SecurityToken%3D** REDACTED **%26"),
        "{shown}"
    );
    // The token did travel: the request carried it.
    assert!(server.requests()[0].contains("hostileToken"));
}

/// What the error says about whether a backup may have started agrees with what the retry
/// policy did: an answer the policy treats as "may have run" (a transient code whatever the
/// status, a 5xx) is never repeated and is reported as such; throttling, which the policy
/// resends because it means refused, is reported as not run, whatever the status. An error
/// status whose body is not an API error (a proxy's or a load balancer's page) is judged by the
/// status alone, as the policy judged it.
#[test]
fn may_have_run_agrees_with_the_retry_policy() {
    let api = |code: &str| format!(r#"{{"RequestId":"R","Code":"{code}","Message":"m"}}"#);
    let page = String::from("<html><body>Service Temporarily Unavailable</body></html>");
    let cases = [
        // status, body, may have run, requests sent
        (400, api("ServiceUnavailable"), true, 1),
        (400, api("InternalError"), true, 1),
        (503, api("ServiceUnavailable.Throttling"), false, 3),
        (500, api("SomethingElse"), true, 1),
        (400, api("InvalidInstanceId.NotFound"), false, 1),
        (429, page.clone(), false, 3),
        (403, page.clone(), false, 1),
        (502, page, true, 1),
    ];
    for (status, body, ran, hits) in cases {
        let server = Hostile::start(vec![Reply::new(status, body.as_str())]);
        let e = create(&server).unwrap_err();
        assert_eq!(server.hits(), hits, "{status} {body}: {e}");
        assert_eq!(e.request_may_have_run(), ran, "{status} {body}: {e}");
    }
}

/// A 2xx answer that is an `Error` without a code was read, so the request reached something
/// that answered as the service: it may have run, and a backup is not sent again.
#[test]
fn an_error_root_without_a_code_with_status_200_may_have_run() {
    let body = "<Error><Message>m</Message><RequestId>R</RequestId></Error>";
    let server = Hostile::start(vec![Reply::new(200, body)]);
    let e = client(&server)
        .format(rkvstore_blocking::core::Format::Xml)
        .build()
        .unwrap()
        .create_backup(&CreateBackup::new("r-demo"))
        .unwrap_err();
    assert_eq!(server.hits(), 1, "{e}");
    assert!(e.request_may_have_run(), "{e}");
}
