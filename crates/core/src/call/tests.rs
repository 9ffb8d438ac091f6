use std::time::Duration;

use super::*;
use crate::{
    BackupStatus, CreateBackup, CreateBackupResponse, DescribeBackupTasks,
    DescribeBackupTasksResponse,
};

const T0: Timestamp = Timestamp::from_unix(1_767_225_600);
const OK: &[u8] = br#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":[]}"#;
const THROTTLED: &[u8] = br#"{"RequestId":"R","Code":"Throttling.User","Message":"slow"}"#;
const INTERNAL: &[u8] = br#"{"RequestId":"R","Code":"InternalError","Message":"oops"}"#;

fn policy() -> CallPolicy {
    CallPolicy::default().retry(RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    })
}

fn creds() -> Credentials {
    Credentials::new("LTAIcall", "secret").with_security_token("TOKEN+/=secret-token-value")
}

fn describe() -> Call<DescribeBackupTasksResponse> {
    let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
    Call::for_operation(&DescribeBackupTasks::new("r-1"), endpoint, &policy())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn create() -> Call<CreateBackupResponse> {
    let endpoint = Endpoint::parse("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
    Call::for_operation(&CreateBackup::new("r-1"), endpoint, &policy())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn send<T: Shape>(call: &mut Call<T>, nonce: &str) -> String {
    call.next_request(&creds(), T0, nonce)
        .map(|r| r.url().to_owned())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn each_attempt_is_signed_anew_and_hints_are_honoured() {
    let mut call = describe();
    let first = send(&mut call, "n1");
    let step = call.answer(Answer::new(400, THROTTLED).retry_after(Some("700")), 0.9);
    assert!(
        matches!(step, Step::Again { delay, because: Retry::Failed(_) } if delay == Duration::from_millis(700)),
        "{step:?}"
    );
    let second = send(&mut call, "n2");
    assert_ne!(first, second);
    assert!(second.contains("SignatureNonce=n2"));
    assert_eq!(call.attempts(), 2);
    // Without a hint: full jitter under the doubled ceiling.
    let step = call.answer(Answer::new(503, INTERNAL), 0.5);
    assert_eq!(
        step,
        Step::Again {
            delay: Duration::from_millis(100),
            because: Retry::Failed(Error::Api(Box::new(
                crate::response::parse_error_body(503, INTERNAL, Format::Json)
                    .api()
                    .cloned()
                    .unwrap_or_else(|| panic!("an API error"))
            )))
        }
    );
    send(&mut call, "n3");
    match call.answer(Answer::new(400, THROTTLED), 0.5) {
        Step::Failed(Error::RetriesExhausted { attempts: 3, last }) => {
            assert_eq!(last.api().map(|a| a.code.as_str()), Some("Throttling.User"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_action_that_may_have_run_is_never_sent_twice() {
    for fail in [
        |c: &mut Call<CreateBackupResponse>| c.answer(Answer::new(500, INTERNAL), 0.5),
        |c: &mut Call<CreateBackupResponse>| {
            c.transport_failed(TransportError::new(TransportKind::Timeout, "read"), 0.5)
        },
        |c: &mut Call<CreateBackupResponse>| {
            c.transport_failed(TransportError::new(TransportKind::NoAnswer, "reset"), 0.5)
        },
        |c: &mut Call<CreateBackupResponse>| c.answer(Answer::new(200, b"<html/>"), 0.5),
    ] {
        let mut call = create();
        send(&mut call, "n1");
        assert!(matches!(fail(&mut call), Step::Failed(_)));
    }
    // Refused connections and throttling certainly did not run it.
    let mut call = create();
    send(&mut call, "n1");
    let step = call.transport_failed(TransportError::new(TransportKind::NotSent, "refused"), 0.5);
    assert!(matches!(step, Step::Again { .. }), "{step:?}");
    send(&mut call, "n2");
    assert!(matches!(
        call.answer(Answer::new(400, THROTTLED), 0.5),
        Step::Again { .. }
    ));
    send(&mut call, "n3");
    match call.answer(
        Answer::new(200, br#"{"RequestId":"R","BackupJobID":9}"#),
        0.5,
    ) {
        Step::Done(r) => assert_eq!(r.job_ids(), Some(vec![9])),
        other => panic!("{other:?}"),
    }
}

fn expired(date: &str) -> (Vec<u8>, String) {
    (
        br#"{"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"expired"}"#.to_vec(),
        date.to_owned(),
    )
}

#[test]
fn the_clock_is_corrected_once_and_within_bounds() {
    let mut call = describe();
    send(&mut call, "n1");
    let (body, date) = expired(&T0.offset(1800).to_http_date());
    let step = call.answer(Answer::new(400, &body).date(Some(&date)), 0.5);
    assert_eq!(
        step,
        Step::Again {
            delay: Duration::ZERO,
            because: Retry::ClockSkew(1800)
        }
    );
    let url = send(&mut call, "n2");
    assert!(url.contains("Timestamp=2026-01-01T00%3A30%3A00Z"), "{url}");
    assert_eq!(call.attempts(), 1, "a re-signing is not a new attempt");
    assert_eq!(call.skew(), 1800);
    // A second expiry is not corrected again: it is an ordinary, non-retryable error.
    let step = call.answer(Answer::new(400, &body).date(Some(&date)), 0.5);
    assert!(matches!(step, Step::Failed(Error::Api(_))), "{step:?}");

    for (date, expect_skew_error) in [
        (T0.offset(3 * 86_400).to_http_date(), true),
        (T0.offset(-3 * 86_400).to_http_date(), true),
        ("Thu, 01 Mar 300000000000 00:00:00 GMT".to_owned(), false),
        ("yesterday".to_owned(), false),
    ] {
        let mut call = describe();
        send(&mut call, "n1");
        let (body, date) = expired(&date);
        match call.answer(Answer::new(400, &body).date(Some(&date)), 0.5) {
            Step::Failed(Error::ClockSkew { skew_secs, .. }) if expect_skew_error => {
                assert_eq!(skew_secs.unsigned_abs(), 3 * 86_400)
            }
            Step::Failed(Error::Api(api)) if !expect_skew_error => {
                assert_eq!(api.code, "InvalidTimeStamp.Expired")
            }
            other => panic!("{date}: {other:?}"),
        }
    }
}

#[test]
fn transport_messages_are_redacted_and_misuse_is_an_error() {
    let mut call = describe();
    let url = send(&mut call, "n1");
    assert!(url.contains("SecurityToken=TOKEN%2B%2F%3Dsecret-token-value"));
    let step = call.transport_failed(
        TransportError::new(TransportKind::NoAnswer, format!("connection reset: {url}")),
        0.5,
    );
    let Step::Again {
        because: Retry::Failed(e),
        ..
    } = step
    else {
        panic!("{step:?}")
    };
    assert!(!e.to_string().contains("secret-token"), "{e}");
    assert!(e.to_string().contains("** REDACTED **"), "{e}");
    // Reporting twice without a new request is refused, not a panic.
    assert!(matches!(
        call.answer(Answer::new(200, OK), 0.5),
        Step::Failed(Error::Transport(_))
    ));
}

#[test]
fn a_body_over_the_cap_is_not_retried() {
    let mut call = describe();
    send(&mut call, "n1");
    let step = call.transport_failed(
        TransportError::new(TransportKind::TooLarge { limit: 10 }, ""),
        0.5,
    );
    assert!(
        matches!(step, Step::Failed(Error::Transport(_))),
        "{step:?}"
    );
}

fn tasks(jobs: &[(u64, &str, u8)]) -> DescribeBackupTasksResponse {
    DescribeBackupTasksResponse {
        request_id: "R".into(),
        instance_id: "r-1".into(),
        backup_jobs: jobs
            .iter()
            .map(|&(id, status, percent)| crate::BackupJob {
                backup_job_id: id,
                backup_progress_status: Some(BackupStatus::from_api(status)),
                job_mode: None,
                node_id: None,
                process: None,
                progress: Some(percent.to_string()),
                start_time: None,
                task_action: None,
            })
            .collect(),
    }
}

#[test]
fn a_wait_reports_changes_and_finishes_in_the_order_asked() {
    let options = WaitOptions {
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(60),
        grace: Duration::from_secs(10),
    };
    let mut wait = JobWait::new("r-1", &[2, 1], options);
    assert_eq!(wait.operation().backup_job_id, None);
    let step = wait.update(
        &tasks(&[(1, "Uploading", 20), (3, "Finished", 100)]),
        Duration::ZERO,
    );
    assert_eq!(step.changed.len(), 1);
    assert_eq!(step.next, WaitNext::PollAfter(Duration::from_secs(5)));
    let step = wait.update(
        &tasks(&[(1, "Uploading", 20), (2, "Preparing", 0)]),
        Duration::from_secs(5),
    );
    assert_eq!(
        step.changed
            .iter()
            .map(|j| j.backup_job_id)
            .collect::<Vec<_>>(),
        [2]
    );
    let step = wait.update(
        &tasks(&[(1, "Finished", 100), (2, "Finished", 100)]),
        Duration::from_secs(10),
    );
    match step.next {
        WaitNext::Finished(jobs) => {
            assert_eq!(
                jobs.iter().map(|j| j.backup_job_id).collect::<Vec<_>>(),
                [2, 1]
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_job_has_a_grace_period_then_fails_and_a_stuck_one_times_out() {
    let options = WaitOptions {
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        grace: Duration::from_secs(10),
    };
    let mut wait = JobWait::new("r-1", &[999], options);
    assert_eq!(wait.operation().backup_job_id, Some(999));
    assert!(matches!(
        wait.update(&tasks(&[]), Duration::from_secs(9)).next,
        WaitNext::PollAfter(_)
    ));
    let step = wait.update(&tasks(&[]), Duration::from_secs(10));
    assert_eq!(
        step.next,
        WaitNext::Failed(WaitError::JobNotFound {
            job_id: 999,
            instance_id: "r-1".into(),
            waited: Duration::from_secs(10)
        })
    );

    let mut wait = JobWait::new("r-1", &[7], options);
    wait.update(&tasks(&[(7, "Uploading", 55)]), Duration::ZERO);
    // The last poll before the deadline is shortened to end on it.
    assert_eq!(
        wait.update(&tasks(&[(7, "Uploading", 55)]), Duration::from_secs(28))
            .next,
        WaitNext::PollAfter(Duration::from_secs(2))
    );
    let step = wait.update(
        &tasks(&[(7, "\u{1b}[2JUploading", 60)]),
        Duration::from_secs(30),
    );
    let WaitNext::Failed(e) = step.next else {
        panic!()
    };
    assert_eq!(
        e.to_string(),
        "backup job 7 did not finish within 30s; last status \\x1b[2JUploading at 60%"
    );
}
