//! The client against the emulator, over real HTTP on loopback.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::collections::HashSet;
use std::time::Duration;

use rkvstore_blocking::core::diagnose::SignatureDiagnosis;
use rkvstore_blocking::core::retry::RetryPolicy;
use rkvstore_blocking::core::{
    BackupStatus, CreateBackup, Credentials, DescribeBackupTasks, Format, JobMode, Params,
    SignatureVersion,
};
use rkvstore_blocking::{Client, Error, TransportKind, WaitOptions};
use rkvstore_emulator::{Emulator, Fault, FaultRule, JobSeed};

const ID: &str = "LTAItestkey";
const SECRET: &str = "test-secret-value";
const INSTANCE: &str = "r-test1";

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .sts("STS.tempkey", "sts-secret", "sts-token+/=")
        .instance(INSTANCE)
        .seed_job(INSTANCE, JobSeed::finished_automated())
        .start("127.0.0.1:0")
        .unwrap()
}

/// A client for `emu`, with fast retries so tests do not sleep long.
fn client(emu: &Emulator) -> rkvstore_blocking::Builder {
    Client::builder()
        .credentials(Credentials::new(ID, SECRET))
        .endpoint(emu.url())
        .region("cn-hangzhou")
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        })
}

fn fast_wait() -> WaitOptions {
    WaitOptions {
        interval: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
        grace: Duration::from_secs(2),
    }
}

#[test]
fn describe_in_json_and_xml_gives_the_same_jobs() {
    let emu = emulator();
    let op = DescribeBackupTasks::new(INSTANCE).mode(JobMode::Automated);
    let json = client(&emu)
        .build()
        .unwrap()
        .describe_backup_tasks(&op)
        .unwrap();
    let xml = client(&emu)
        .format(Format::Xml)
        .build()
        .unwrap()
        .describe_backup_tasks(&op)
        .unwrap();
    assert_eq!(json.backup_jobs, xml.backup_jobs);
    assert_eq!(json.instance_id, INSTANCE);
    assert_eq!(json.backup_jobs.len(), 1);
    assert_eq!(
        json.backup_jobs[0].backup_progress_status,
        Some(BackupStatus::Finished)
    );
    let formats: Vec<_> = emu.requests().iter().map(|r| r.format.clone()).collect();
    assert_eq!(formats, [Some("JSON".to_owned()), Some("XML".to_owned())]);
}

#[test]
fn v3_and_sts_are_accepted() {
    let emu = emulator();
    let op = DescribeBackupTasks::new(INSTANCE);
    for (creds, version) in [
        (Credentials::new(ID, SECRET), SignatureVersion::V3),
        (
            Credentials::new("STS.tempkey", "sts-secret").with_security_token("sts-token+/="),
            SignatureVersion::V1,
        ),
        (
            Credentials::new("STS.tempkey", "sts-secret").with_security_token("sts-token+/="),
            SignatureVersion::V3,
        ),
    ] {
        let c = client(&emu)
            .credentials(creds)
            .signature_version(version)
            .build()
            .unwrap();
        let r = c.describe_backup_tasks(&op).unwrap();
        assert_eq!(r.backup_jobs.len(), 1, "{version}");
    }
    let versions: Vec<_> = emu
        .requests()
        .iter()
        .map(|r| (r.signature_version, r.status))
        .collect();
    assert_eq!(
        versions,
        [
            (Some(SignatureVersion::V3), 200),
            (Some(SignatureVersion::V1), 200),
            (Some(SignatureVersion::V3), 200)
        ]
    );
}

#[test]
fn sts_key_without_its_token_is_refused() {
    let emu = emulator();
    let c = client(&emu)
        .credentials(Credentials::new("STS.tempkey", "sts-secret"))
        .build()
        .unwrap();
    let err = c
        .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
        .unwrap_err();
    assert_eq!(err.api().unwrap().code, "MissingSecurityToken");
}

#[test]
fn wrong_secret_is_diagnosed_as_the_secret() {
    let emu = emulator();
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let c = client(&emu)
            .credentials(Credentials::new(ID, "not-the-secret"))
            .signature_version(version)
            .build()
            .unwrap();
        let err = c
            .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
            .unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(api.code, "SignatureDoesNotMatch", "{version}");
        assert_eq!(
            api.signature_diagnosis,
            Some(SignatureDiagnosis::SecretMismatch),
            "{version}"
        );
        let text = err.to_string();
        assert!(text.contains("the AccessKey secret is wrong"), "{text}");
        assert!(!text.contains("not-the-secret"), "{text}");
    }
    // Not retried: a bad signature will not get better.
    assert_eq!(emu.requests().len(), 2);
}

#[test]
fn throttling_is_ridden_out_with_fresh_nonces() {
    let emu = emulator();
    emu.add_fault(
        FaultRule::new(Fault::Throttle {
            retry_after_ms: Some(20),
        })
        .action("DescribeBackupTasks")
        .times(2),
    );
    let r = client(&emu)
        .build()
        .unwrap()
        .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE));
    assert!(r.is_ok(), "{r:?}");
    let log = emu.requests();
    let statuses: Vec<u16> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 200]);
    assert_eq!(log[0].code.as_deref(), Some("Throttling.User"));
    let nonces: HashSet<_> = log.iter().map(|r| r.nonce.clone().unwrap()).collect();
    assert_eq!(
        nonces.len(),
        3,
        "every attempt is signed with its own nonce"
    );
}

#[test]
fn server_errors_forever_stop_after_the_allowed_attempts() {
    let emu = emulator();
    emu.add_fault(FaultRule::new(Fault::ServerError { status: 503 }));
    let err = client(&emu)
        .build()
        .unwrap()
        .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
        .unwrap_err();
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.api().unwrap().code, "ServiceUnavailable");
    assert!(err.to_string() == "gave up after 3 attempts", "{err}");
    assert_eq!(emu.requests().len(), 3);
}

#[test]
fn create_backup_is_never_sent_twice_when_it_may_have_run() {
    // 1. The service runs it and then fails.
    let emu = emulator();
    emu.add_fault(
        FaultRule::new(Fault::ErrorAfterProcessing { status: 500 }).action("CreateBackup"),
    );
    let c = client(&emu).build().unwrap();
    let err = c.create_backup(&CreateBackup::new(INSTANCE)).unwrap_err();
    assert_eq!(err.api().unwrap().code, "InternalError");
    let creates = |emu: &Emulator| {
        emu.requests()
            .iter()
            .filter(|r| r.action.as_deref() == Some("CreateBackup"))
            .count()
    };
    assert_eq!(creates(&emu), 1);
    // The backup did start: a describe shows the manual job.
    emu.clear_faults();
    let jobs = c
        .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE).mode(JobMode::Manual))
        .unwrap();
    assert_eq!(jobs.backup_jobs.len(), 1);

    // 2. The answer never comes back in time.
    let emu = emulator();
    emu.add_fault(
        FaultRule::new(Fault::SlowAfterProcessing(Duration::from_millis(600)))
            .action("CreateBackup"),
    );
    let c = client(&emu)
        .read_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let err = c.create_backup(&CreateBackup::new(INSTANCE)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(creates(&emu), 1);

    // 3. Throttled: it certainly did not run, so it is retried, and runs once.
    let emu = emulator();
    emu.add_fault(
        FaultRule::new(Fault::Throttle {
            retry_after_ms: None,
        })
        .action("CreateBackup")
        .times(1),
    );
    let started = client(&emu)
        .build()
        .unwrap()
        .create_backup(&CreateBackup::new(INSTANCE))
        .unwrap();
    assert_eq!(started.job_ids().unwrap().len(), 1);
    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 200]);
}

#[test]
fn timeouts_and_refused_connections() {
    let emu = emulator();
    emu.add_fault(FaultRule::new(Fault::Slow(Duration::from_millis(500))));
    let c = client(&emu)
        .read_timeout(Duration::from_millis(100))
        .retries(1)
        .build()
        .unwrap();
    let err = c
        .describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
        .unwrap_err();
    assert!(
        matches!(
            err.root(),
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 2, .. }),
        "{err:?}"
    );

    // A port nobody listens on: bind one, learn its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::builder()
        .credentials(Credentials::new(ID, SECRET))
        .endpoint(format!("http://127.0.0.1:{port}"))
        .retries(0)
        .build()
        .unwrap();
    let err = c.create_backup(&CreateBackup::new(INSTANCE)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::NotSent,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("could not connect"), "{err}");
}

#[test]
fn broken_and_oversized_bodies_are_errors() {
    let emu = emulator();
    let c = client(&emu).max_response_bytes(64 * 1024).build().unwrap();
    let op = DescribeBackupTasks::new(INSTANCE);
    for (fault, check) in [
        (Fault::Truncated, "truncated JSON response"),
        (Fault::Malformed, "malformed"),
    ] {
        emu.clear_faults();
        emu.add_fault(FaultRule::new(fault));
        let err = c.describe_backup_tasks(&op).unwrap_err();
        assert!(matches!(err, Error::Parse(_)), "{err:?}");
        assert!(err.to_string().contains(check), "{err}");
    }
    emu.clear_faults();
    emu.add_fault(FaultRule::new(Fault::Oversized(10 << 20)));
    let err = c.describe_backup_tasks(&op).unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit: 65536 }),
        "{err:?}"
    );
}

#[test]
fn clock_skew_is_corrected_from_the_date_header() {
    let emu = emulator();
    emu.set_clock_offset(2 * 3600);
    let c = client(&emu).build().unwrap();
    let r = c.describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE));
    assert!(r.is_ok(), "{r:?}");
    assert!(
        (c.clock_skew() - 7200).abs() <= 2,
        "skew {}",
        c.clock_skew()
    );
    let codes: Vec<_> = emu.requests().iter().map(|r| r.code.clone()).collect();
    assert_eq!(codes, [Some("InvalidTimeStamp.Expired".to_owned()), None]);
    // The correction sticks: the next call goes through at once.
    c.describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
        .unwrap();
    assert_eq!(emu.requests().len(), 3);
}

#[test]
fn waiter_follows_a_job_to_finished_reporting_every_step() {
    let emu = emulator();
    let c = client(&emu).build().unwrap();
    let started = c
        .create_backup(&CreateBackup::new(INSTANCE).retention_days(7))
        .unwrap();
    let id = started.job_ids().unwrap()[0];
    let mut seen = Vec::new();
    let done = c
        .wait_for_backup_job(INSTANCE, id, &fast_wait(), |job| {
            seen.push((
                job.backup_progress_status.clone().unwrap(),
                job.percent().unwrap(),
            ));
        })
        .unwrap();
    assert!(done.is_finished());
    assert_eq!(done.backup_job_id, id);
    use BackupStatus::*;
    assert_eq!(
        seen,
        [
            (Preparing, 0),
            (Waiting, 0),
            (Uploading, 20),
            (Uploading, 55),
            (Uploading, 85),
            (Checking, 95),
            (Finished, 100)
        ]
    );
}

#[test]
fn waiter_times_out_naming_the_last_status() {
    let emu = emulator();
    let id = emu.seed_job(INSTANCE, JobSeed::stuck_manual()).unwrap();
    let c = client(&emu).build().unwrap();
    let options = WaitOptions {
        timeout: Duration::from_millis(100),
        ..fast_wait()
    };
    let err = c
        .wait_for_backup_job(INSTANCE, id, &options, |_| {})
        .unwrap_err();
    assert!(matches!(err, Error::WaitTimedOut { .. }), "{err:?}");
    assert!(
        err.to_string().contains("last status Uploading at 20%"),
        "{err}"
    );
}

#[test]
fn waiter_tolerates_a_job_not_yet_visible_then_gives_up() {
    let emu = emulator();
    let c = client(&emu).build().unwrap();
    let options = WaitOptions {
        grace: Duration::from_millis(60),
        ..fast_wait()
    };
    let err = c
        .wait_for_backup_job(INSTANCE, 999_999, &options, |_| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::JobNotFound {
                job_id: 999_999,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        emu.requests().len() > 2,
        "it kept looking during the grace period"
    );
}

#[test]
fn waiter_stops_at_once_on_an_api_error() {
    let emu = emulator();
    let c = client(&emu).build().unwrap();
    let err = c
        .wait_for_backup_job("r-nosuch", 1, &fast_wait(), |_| {})
        .unwrap_err();
    assert_eq!(err.api().unwrap().code, "InvalidInstanceId.NotFound");
    assert_eq!(err.api().unwrap().http_status, 404);
    assert_eq!(emu.requests().len(), 1);
}

#[test]
fn generic_call_reads_any_format() {
    let emu = emulator();
    let mut params = Params::new();
    params.insert("InstanceId", INSTANCE).unwrap();
    params.insert("Note", "spaces * ~ & = ü 😀").unwrap();
    for format in [Format::Json, Format::Xml] {
        let c = client(&emu).format(format).build().unwrap();
        let v = c.call("DescribeBackupTasks", params.clone(), true).unwrap();
        assert_eq!(v.get_str("InstanceId"), Some(INSTANCE), "{format}");
    }
    let err = client(&emu)
        .build()
        .unwrap()
        .call("NoSuchAction", params, true)
        .unwrap_err();
    assert_eq!(err.api().unwrap().code, "InvalidAction.NotFound");
}

#[test]
fn logs_are_redacted() {
    let emu = emulator();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let c = client(&emu)
        .credentials(
            Credentials::new("STS.tempkey", "sts-secret").with_security_token("sts-token+/="),
        )
        .logger(std::sync::Arc::new(move |l: &str| {
            sink.lock().unwrap().push(l.to_owned())
        }))
        .build()
        .unwrap();
    c.describe_backup_tasks(&DescribeBackupTasks::new(INSTANCE))
        .unwrap();
    let all = lines.lock().unwrap().join("\n");
    assert!(all.contains("SecurityToken=** REDACTED **"), "{all}");
    assert!(
        !all.contains("sts-token") && !all.contains("sts-secret"),
        "{all}"
    );
    assert!(!format!("{c:?}").contains("sts-secret"));
}
