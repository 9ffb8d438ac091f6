//! The command line against hostile servers and the emulator: no false success, no leaked
//! token, no terminal injection, no panic on a hostile `Date`. Each test pins a finding of the
//! outside attack run.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod support {
    pub mod hostile;
    pub mod run;
}

use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{Emulator, JobSeed, Pace};
use support::hostile::{Hostile, Reply};
use support::run::Run;

const ID: &str = "LTAIhardening";
const SECRET: &str = "hardening-secret-DO-NOT-PRINT";
const TOKEN: &str = "CAIS+hardeningToken/DO-NOT-PRINT==0123456789";

/// `rkvstore` with an AccessKey (or STS, with `sts`) in the environment and an empty HOME.
fn rkvstore(home: &tempfile::TempDir, sts: bool) -> Command {
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    for var in [
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", home.path())
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            if sts { "STS.hardening" } else { ID },
        )
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .timeout(Duration::from_secs(60));
    if sts {
        c.env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN);
    }
    c
}

#[track_caller]
fn run(c: &mut Command) -> Run {
    support::run::run(c, &[])
}

/// No control character but the newline ends a line, anywhere in `text`.
#[track_caller]
fn assert_inert(text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(bad.is_empty(), "control characters {bad:?} in:\n{text:?}");
}

#[test]
fn a_portal_page_with_status_200_is_not_a_started_backup() {
    let home = tempfile::tempdir().unwrap();
    let portal = Hostile::start(vec![Reply::new(
        200,
        "<html><body>Sign in to continue</body></html>",
    )
    .header("Content-Type", "text/html")]);
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &portal.url(),
        "--region",
        "cn-hangzhou",
        "--output",
        "table",
        "backup",
        "--instance-id",
        "r-demo",
    ]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("Started backup job"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("not the operation's answer (no RequestId)")
            && r.stderr.contains("Sign in to continue"),
        "{}",
        r.stderr
    );
    let hint = format!(
        "hint: the backup may have started; check with rkvstore --endpoint {} --region \
         cn-hangzhou backup-tasks --instance-id r-demo --mode manual",
        portal.url()
    );
    assert!(r.stderr.contains(&hint), "{}", r.stderr);
    assert_eq!(portal.hits(), 1, "never sent twice");
}

#[test]
fn empty_or_error_bodies_with_status_200_fail_backup_tasks() {
    let home = tempfile::tempdir().unwrap();
    for body in [
        "{}",
        r#"{"Code":"Throttling.User","Message":"Request was denied due to user flow control."}"#,
    ] {
        let server = Hostile::start(vec![Reply::new(200, body)]);
        let r = run(rkvstore(&home, false).args([
            "--endpoint",
            &server.url(),
            "--retries",
            "0",
            "backup-tasks",
            "--instance-id",
            "r-demo",
        ]));
        assert_eq!(r.code, 1, "{body}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    // A CreateBackup error the service gave before running it carries no "may have started".
    let server = Hostile::start(vec![Reply::new(
        404,
        r#"{"RequestId":"R","Code":"InvalidInstanceId.NotFound","Message":"gone"}"#,
    )]);
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &server.url(),
        "backup",
        "--instance-id",
        "r-demo",
    ]));
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("may have started"), "{}", r.stderr);
}

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .instance("r-jobs")
        .seed_job("r-jobs", JobSeed::finished_automated())
        .instance("r-empty")
        .pace(Pace::PerPoll(1))
        .start("127.0.0.1:0")
        .unwrap()
}

#[test]
fn waiting_on_a_job_that_never_appears_fails() {
    let home = tempfile::tempdir().unwrap();
    let emu = emulator();
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &emu.url(),
        "backup-tasks",
        "--instance-id",
        "r-jobs",
        "--job-id",
        "999",
        "--wait",
        "--interval",
        "0.5",
        "--timeout",
        "1.5",
    ]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("backup job 999 of instance r-jobs did not appear in DescribeBackupTasks"),
        "{}",
        r.stderr
    );
    // It kept looking during the grace period instead of giving up at once.
    let polls = emu
        .requests()
        .iter()
        .filter(|q| q.action.as_deref() == Some("DescribeBackupTasks"))
        .count();
    assert!(polls >= 2, "{polls} polls");
}

#[test]
fn waiting_with_no_jobs_at_all_says_so() {
    let home = tempfile::tempdir().unwrap();
    let emu = emulator();
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &emu.url(),
        "backup-tasks",
        "--instance-id",
        "r-empty",
        "--wait",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("instance r-empty has no backup jobs; nothing to wait for"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_sts_token_quoted_by_the_server_is_hidden_everywhere() {
    let home = tempfile::tempdir().unwrap();
    let once = rkvstore_blocking::core::percent::encode(TOKEN);
    let twice = rkvstore_blocking::core::percent::encode(&once);
    let body = serde_json::json!({
        "RequestId": "R",
        "Code": "SignatureDoesNotMatch",
        "Message": format!("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3DSTS.hardening%26Action%3DDescribeBackupTasks%26SecurityToken%3D{twice}%26Version%3D2015-01-01"),
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&t={once}"),
        "AccessDeniedDetail": {"Token": TOKEN},
    })
    .to_string();
    let server = Hostile::start(vec![Reply::new(400, body)]);
    for version in ["v1", "v3"] {
        let r = run(rkvstore(&home, true).args([
            "--endpoint",
            &server.url(),
            "-v",
            "--signature-version",
            version,
            "backup-tasks",
            "--instance-id",
            "r-demo",
        ]));
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("error: SignatureDoesNotMatch"),
            "{}",
            r.stderr
        );
        let all = format!("{}{}", r.stdout, r.stderr);
        for form in [TOKEN, &once, &twice, "hardeningToken", SECRET] {
            assert!(!all.contains(form), "{form} leaked:\n{all}");
        }
    }
}

#[test]
fn server_text_cannot_drive_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let esc = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;SGVsbG8=\u{7}\r\u{8}\u{9b}31m";
    let error = serde_json::json!({
        "RequestId": format!("R{esc}"),
        "Code": format!("Forbidden.RAM{esc}"),
        "Message": format!("denied{esc}"),
        "Recommend": format!("https://x{esc}"),
        "AccessDeniedDetail": {"PolicyType": esc},
    })
    .to_string();
    let server = Hostile::start(vec![Reply::new(403, error)]);
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &server.url(),
        "-v",
        "backup-tasks",
        "--instance-id",
        "r-demo",
    ]));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("\\x1b[2J"), "{}", r.stderr);
    assert_inert(&r.stderr);

    // A table cell and a job status.
    let jobs = serde_json::json!({
        "RequestId": "R",
        "InstanceId": "r-demo",
        "BackupJobs": [{"BackupJobID": 5, "BackupProgressStatus": format!("Uploading{esc}"),
                        "StartTime": esc, "JobMode": esc, "TaskAction": esc, "Progress": "20"}],
    })
    .to_string();
    let server = Hostile::start(vec![Reply::new(200, jobs.clone())]);
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &server.url(),
        "--output",
        "table",
        "backup-tasks",
        "--instance-id",
        "r-demo",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Uploading\\x1b[2J"), "{}", r.stdout);
    assert_inert(&r.stdout);

    // Progress lines and the wait-timeout error quote the status.
    let server = Hostile::start(vec![
        Reply::new(200, r#"{"RequestId":"R","BackupJobID":5}"#),
        Reply::new(200, jobs),
    ]);
    let r = run(rkvstore(&home, false).args([
        "--endpoint",
        &server.url(),
        "--output",
        "table",
        "backup",
        "--instance-id",
        "r-demo",
        "--wait",
        "--interval",
        "0.5",
        "--timeout",
        "1",
    ]));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("job 5: Uploading\\x1b[2J"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("last status Uploading\\x1b[2J"),
        "{}",
        r.stderr
    );
    assert_inert(&r.stderr);
    assert_inert(&r.stdout);
}

#[test]
fn a_hostile_date_header_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    let expired = |date: &str| {
        Reply::new(
            400,
            r#"{"RequestId":"R","Code":"InvalidTimeStamp.Expired","Message":"Specified time stamp or date value is expired."}"#,
        )
        .header("Date", date)
    };
    for date in [
        "Thu, 01 Mar 300000000000 00:00:00 GMT",
        "Thu, 01 Mar 9999 00:00:00 GMT",
    ] {
        let server = Hostile::start(vec![expired(date)]);
        let r = run(rkvstore(&home, false).args([
            "--endpoint",
            &server.url(),
            "backup-tasks",
            "--instance-id",
            "r-demo",
        ]));
        assert_eq!(r.code, 1, "{date}: {}", r.stderr);
        assert_eq!(server.hits(), 1, "{date}: no correction was attempted");
    }
}

#[test]
fn the_emulator_subcommand_refuses_absurd_flags_as_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--step-seconds", "1e300"),
        ("--clock-offset", "9223372036854775807"),
        ("--clock-offset", "-9223372036854775808"),
    ] {
        let r = run(rkvstore(&home, false).args(["emulator", flag, value]));
        assert_eq!(r.code, 2, "{flag} {value}: {}", r.stderr);
        assert!(r.stderr.contains(flag), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "it did not start: {}", r.stdout);
    }
}
