//! The backup-set workflow end to end: `backups`, `backup-policy`, `download` and `restore`,
//! run as a user runs them against the emulator over loopback.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{backup_content, Emulator, Fault, FaultRule, Pace};
use serde_json::Value;
use support::run::Run;

mod support {
    pub mod hostile;
    pub mod run;
}

const ID: &str = "LTAIworkflow";
const SECRET: &str = "workflow-secret-DO-NOT-PRINT";
const INSTANCE: &str = "r-flow";

struct Env {
    emu: Emulator,
    home: tempfile::TempDir,
}

fn start(
    backups: u32,
    tune: impl FnOnce(rkvstore_emulator::Builder) -> rkvstore_emulator::Builder,
) -> Env {
    let builder = Emulator::builder()
        .access_key(ID, SECRET)
        .instance(INSTANCE)
        .seed_backups(INSTANCE, backups)
        .pace(Pace::PerPoll(1));
    Env {
        emu: tune(builder).start("127.0.0.1:0").unwrap(),
        home: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    /// `rkvstore --endpoint URL …` with only the test key in a clean environment.
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("rkvstore").unwrap();
        c.env_clear()
            .env("HOME", self.home.path())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .arg("--endpoint")
            .arg(self.emu.url())
            .timeout(Duration::from_secs(60));
        c
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Run {
        support::run::run(self.cmd().args(args), &[SECRET])
    }

    fn sent(&self, action: &str) -> usize {
        self.emu
            .requests()
            .iter()
            .filter(|r| r.action.as_deref() == Some(action))
            .count()
    }

    /// The backup sets as the JSON output lists them.
    fn backups(&self) -> Vec<Value> {
        let r = self.run(&["backups", "--instance-id", INSTANCE]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["Backups"]["Backup"].as_array().unwrap().clone()
    }
}

#[test]
fn backups_merges_every_page() {
    let env = start(70, |b| b);
    let r = env.run(&["backups", "--instance-id", INSTANCE, "--page-size", "30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["Backups"]["Backup"].as_array().unwrap();
    assert_eq!(list.len(), 70);
    assert_eq!(v["TotalCount"], 70);
    let mut ids: Vec<u64> = list
        .iter()
        .map(|b| b["BackupId"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 70, "no set twice, none missing");
    assert_eq!(env.sent("DescribeBackups"), 3, "pages of 30, 30 and 10");
    for b in list {
        assert!(b["BackupSize"].as_u64().unwrap() > 0);
        assert!(b["BackupDownloadURL"]
            .as_str()
            .unwrap()
            .contains("Expires="));
    }
}

#[test]
fn backups_table_shows_human_sizes_and_a_bad_page_size_is_a_usage_error() {
    let env = start(2, |b| b);
    let r = env.run(&["--output", "table", "backups", "--instance-id", INSTANCE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["BACKUP", "ID", "STATUS", "METHOD", "TYPE", "SIZE", "START", "END", "NODE"]
    );
    let row = lines.next().unwrap();
    assert!(
        row.contains("Success  Physical  FullBackup") && row.contains(" KiB "),
        "{row}"
    );
    assert_eq!(r.stdout.lines().count(), 3);

    let r = env.run(&["backups", "--instance-id", INSTANCE, "--page-size", "40"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: invalid PageSize \"40\": use 30, 50, 100, 200 or 300\n"
    );
    let r = env.run(&["backups", "--instance-id", INSTANCE, "--since", "7 days"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("use a number of days, hours or minutes such as 7d"),
        "{}",
        r.stderr
    );
    assert_eq!(env.sent("DescribeBackups"), 1, "bad flags send nothing");
}

#[test]
fn the_emulator_refuses_a_page_size_the_service_refuses() {
    let env = start(1, |b| b);
    let r = env.run(&[
        "call",
        "DescribeBackups",
        "--InstanceId",
        INSTANCE,
        "--StartTime",
        "2020-01-01T00:00Z",
        "--EndTime",
        "2099-01-01T00:00Z",
        "--PageSize",
        "10",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: InvalidPageSize.Malformed\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn policy_set_reads_merges_writes_and_shows_the_result() {
    let env = start(0, |b| b);
    let r = env.run(&["backup-policy", "--instance-id", INSTANCE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(before["PreferredBackupTime"], "18:00Z-19:00Z");
    assert_eq!(before["BackupRetentionPeriod"], "7");
    assert_eq!(before["EnableBackupLog"], 0);

    let r = env.run(&[
        "backup-policy",
        "set",
        "--instance-id",
        INSTANCE,
        "--period",
        "fri,Mon",
        "--retention-days",
        "30",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(after["PreferredBackupPeriod"], "Monday,Friday");
    assert_eq!(after["BackupRetentionPeriod"], "30");
    assert_eq!(after["PreferredBackupTime"], "18:00Z-19:00Z", "unchanged");
    assert_eq!(env.sent("ModifyBackupPolicy"), 1);
    assert_eq!(env.sent("DescribeBackupPolicy"), 3);

    let r = env.run(&[
        "--output",
        "table",
        "backup-policy",
        "set",
        "--instance-id",
        INSTANCE,
        "--backup-log",
        "on",
        "--time",
        "23:00Z-00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("BACKUP WINDOW  23:00Z-00:00Z\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("BACKUP DAYS    Monday,Friday\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("RETENTION      30 days\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("LOG BACKUP     on\n"), "{}", r.stdout);
}

#[test]
fn policy_validation_names_the_allowed_values_before_sending() {
    let env = start(0, |b| b);
    let cases: [(&[&str], &str); 4] = [
        (
            &["--retention-days", "3"],
            "error: invalid BackupRetentionPeriod \"3\": use 7 to 730 days\n",
        ),
        (
            &["--period", "Mon,Funday"],
            "error: invalid PreferredBackupPeriod \"Funday\": use Monday, Tuesday, Wednesday, \
             Thursday, Friday, Saturday or Sunday (or Mon, Tue, Wed, Thu, Fri, Sat, Sun), \
             separated by commas\n",
        ),
        (
            &["--time", "02:30Z-03:30Z"],
            "error: invalid PreferredBackupTime \"02:30Z-03:30Z\": use HH:00Z-HH:00Z in UTC, on \
             the hour and one hour long, such as 02:00Z-03:00Z\n",
        ),
        (
            &["--backup-log", "maybe"],
            "error: invalid --backup-log \"maybe\": use on or off\n",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["backup-policy", "set", "--instance-id", INSTANCE];
        args.extend_from_slice(flags);
        let r = env.run(&args);
        assert_eq!((r.code, r.stderr.as_str()), (2, message), "{flags:?}");
    }
    let r = env.run(&["backup-policy", "set", "--instance-id", INSTANCE]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("changes nothing"), "{}", r.stderr);
    assert!(env.emu.requests().is_empty(), "nothing was sent");

    // The emulator checks like the service, for clients that skip the client-side checks.
    let r = env.run(&[
        "call",
        "ModifyBackupPolicy",
        "--InstanceId",
        INSTANCE,
        "--PreferredBackupTime",
        "02:00Z-03:00Z",
        "--PreferredBackupPeriod",
        "Mon",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: InvalidPreferredBackupPeriod.Malformed\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn policy_set_is_never_sent_twice() {
    for fault in [
        Fault::ErrorAfterProcessing { status: 500 },
        Fault::SlowAfterProcessing(Duration::from_secs(3)),
    ] {
        let env = start(0, |b| b);
        env.emu
            .add_fault(FaultRule::new(fault.clone()).action("ModifyBackupPolicy"));
        let r = env.run(&[
            "--read-timeout",
            "1",
            "--retries",
            "3",
            "backup-policy",
            "set",
            "--instance-id",
            INSTANCE,
            "--retention-days",
            "9",
        ]);
        assert_eq!(r.code, 1, "{fault:?}: {}", r.stderr);
        settle(&fault);
        assert!(
            r.stderr.contains(&format!(
                "hint: the policy may have changed; check with rkvstore --endpoint {} \
                 backup-policy --instance-id {INSTANCE}",
                env.emu.url()
            )),
            "{}",
            r.stderr
        );
        assert_eq!(env.sent("ModifyBackupPolicy"), 1, "{fault:?}");
        // It ran once: the change is there.
        env.emu.clear_faults();
        let r = env.run(&["backup-policy", "--instance-id", INSTANCE]);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["BackupRetentionPeriod"], "9");
    }
}

/// The emulator logs a request once it has answered it; a slow answer outlives the client that
/// gave up on it, so the log is read after the answer is out.
fn settle(fault: &Fault) {
    if let Fault::SlowAfterProcessing(d) = fault {
        std::thread::sleep(*d + Duration::from_millis(500));
    }
}

fn file_of(env: &Env, dir: &std::path::Path, id: u64) -> Vec<u8> {
    let _ = env;
    let entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .contains(&id.to_string())
        })
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    std::fs::read(&entries[0]).unwrap()
}

fn expected_content(id: u64, size: u64) -> Vec<u8> {
    (0..size).map(|i| backup_content(id, i)).collect()
}

#[test]
fn download_resumes_after_a_cut_and_checks_the_size() {
    let env = start(3, |b| b);
    let newest = env.backups()[0].clone();
    let id = newest["BackupId"].as_u64().unwrap();
    let size = newest["BackupSize"].as_u64().unwrap();
    env.emu.cut_downloads(100_000, 1);
    let dir = tempfile::tempdir().unwrap();
    let r = env.run(&[
        "download",
        "--instance-id",
        INSTANCE,
        "--latest",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["BackupId"].as_u64(), v["Bytes"].as_u64()),
        (Some(id), Some(size))
    );
    assert_eq!(v["Resumes"], 1);
    assert_eq!(file_of(&env, dir.path(), id), expected_content(id, size));
    let downloads = env.emu.downloads();
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    assert_eq!(downloads[0].range, None);
    let range = downloads[1].range.clone().unwrap();
    let from: u64 = range
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .unwrap()
        .parse()
        .unwrap();
    assert!(from > 0 && from <= 100_000, "{range}");
    assert_eq!(downloads[1].status, 206);
    // Progress went to stderr, one line per 10% (stderr is not a terminal here).
    assert!(
        r.stderr
            .lines()
            .any(|l| l.ends_with(&format!("100% ({0} of {0})", rkvstore_size(size)))),
        "{}",
        r.stderr
    );
    // No partial file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// The CLI's size format, for matching its lines.
fn rkvstore_size(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[test]
fn a_download_interrupted_too_often_resumes_on_the_next_run() {
    let env = start(1, |b| b);
    let id = env.backups()[0]["BackupId"].as_u64().unwrap();
    let size = env.backups()[0]["BackupSize"].as_u64().unwrap();
    env.emu.cut_downloads(50_000, 4);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "download",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id.to_string(),
        "--dir",
        dir.path().to_str().unwrap(),
    ];
    let r = env.run(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("was interrupted after")
            && r.stderr.contains("run the same command again to resume"),
        "{}",
        r.stderr
    );
    // The URL's signature is no part of any message.
    assert!(!r.stderr.contains("Signature="), "{}", r.stderr);
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["ResumedFrom"].as_u64().unwrap() >= 150_000, "{v}");
    assert_eq!(file_of(&env, dir.path(), id), expected_content(id, size));
}

#[test]
fn an_expired_url_is_refused_with_the_way_to_a_fresh_one() {
    let env = start(1, |b| b.download_url_lifetime(Duration::ZERO));
    let id = env.backups()[0]["BackupId"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = env.run(&[
        "download",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id.to_string(),
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: the download URL http://127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(".rdb?… has expired (at "), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "hint: get a fresh URL with `rkvstore --endpoint {} backups --instance-id {INSTANCE} --backup-id {id}`",
            env.emu.url()
        )),
        "{}",
        r.stderr
    );
    assert!(env.emu.downloads().is_empty(), "refused before sending");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_different_file_is_never_overwritten_without_force() {
    let env = start(1, |b| b);
    let id = env.backups()[0]["BackupId"].as_u64().unwrap();
    let size = env.backups()[0]["BackupSize"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "download",
        "--instance-id",
        INSTANCE,
        "--latest",
        "--dir",
        dir.path().to_str().unwrap(),
    ];
    assert_eq!(env.run(&args).code, 0);
    let path = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // The same file again: nothing is sent.
    let r = env.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).unwrap()["AlreadyPresent"],
        true
    );
    assert_eq!(env.emu.downloads().len(), 1);

    std::fs::write(&path, b"my own notes").unwrap();
    let r = env.run(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("already exists (12 bytes) and is not this backup"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("pass --force to replace it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"my own notes");

    let mut forced = args.to_vec();
    forced.push("--force");
    let r = env.run(&forced);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), expected_content(id, size));
}

#[test]
fn restore_needs_yes_without_a_terminal() {
    let env = start(1, |b| b);
    let id = env.backups()[0]["BackupId"].as_u64().unwrap().to_string();
    let r = env.run(&["restore", "--instance-id", INSTANCE, "--backup-id", &id]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        format!(
            "error: restore overwrites all data of {INSTANCE} with backup {id}; stdin is not a \
             terminal to confirm on, so pass --yes to go ahead\n"
        )
    );
    assert_eq!(env.sent("RestoreInstance"), 0);

    let r = env.run(&[
        "--dry-run",
        "restore",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Action=RestoreInstance&BackupId="),
        "{}",
        r.stdout
    );
    assert_eq!(env.sent("RestoreInstance"), 0);
}

#[test]
fn restore_waits_for_the_instance_to_be_normal_again() {
    let env = start(1, |b| b);
    let id = env.backups()[0]["BackupId"].as_u64().unwrap().to_string();
    let r = env.run(&[
        "restore",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id,
        "--yes",
        "--wait",
        "--interval",
        "0.5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["InstanceStatus"], "Normal");
    assert_eq!(v["BackupId"], id.as_str());
    assert_eq!(
        r.stderr,
        format!("instance {INSTANCE}: BackupRecovering\ninstance {INSTANCE}: Normal\n")
    );
    assert_eq!(env.sent("RestoreInstance"), 1);
    assert!(env.sent("DescribeInstanceAttribute") >= 4);

    let r = env.run(&[
        "restore",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        "42",
        "--yes",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: InvalidBackupId.NotFound\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn restore_is_never_sent_twice() {
    for fault in [
        Fault::ErrorAfterProcessing { status: 503 },
        Fault::SlowAfterProcessing(Duration::from_secs(3)),
    ] {
        let env = start(1, |b| b);
        let id = env.backups()[0]["BackupId"].as_u64().unwrap();
        env.emu
            .add_fault(FaultRule::new(fault.clone()).action("RestoreInstance"));
        let r = env.run(&[
            "--read-timeout",
            "1",
            "--retries",
            "3",
            "restore",
            "--instance-id",
            INSTANCE,
            "--backup-id",
            &id.to_string(),
            "--yes",
        ]);
        assert_eq!(r.code, 1, "{fault:?}: {}", r.stderr);
        settle(&fault);
        assert!(
            r.stderr
                .contains("hint: the restore may have started; check with rkvstore --endpoint"),
            "{}",
            r.stderr
        );
        assert_eq!(env.sent("RestoreInstance"), 1, "{fault:?}");
        assert_eq!(env.emu.restoring(INSTANCE), Some(id), "it ran, once");
    }
}

// Regression tests: a stalled download, a lying pager, the restore hint, the emulator's flags
// and an old backup set by ID.

use support::hostile::{Hostile, Reply};

/// `rkvstore --endpoint URL …` against a scripted server, with only the test key.
fn hostile_cmd(home: &std::path::Path, endpoint: &str) -> Command {
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    c.env_clear()
        .env("HOME", home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .arg("--endpoint")
        .arg(endpoint)
        .timeout(Duration::from_secs(60));
    c
}

#[track_caller]
fn output(c: &mut Command) -> Run {
    support::run::run(c, &[SECRET])
}

/// A DescribeBackups page holding sets `ids`, claiming `total`.
fn backups_page(ids: std::ops::Range<u64>, total: u64, url: &str) -> Reply {
    let sets: Vec<Value> = ids
        .map(|id| {
            serde_json::json!({
                "BackupId": id,
                "BackupStatus": "Success",
                "BackupStartTime": "2026-11-28T02:00:00Z",
                "BackupEndTime": "2026-11-28T02:05:00Z",
                "BackupMethod": "Physical",
                "BackupType": "FullBackup",
                "BackupSize": 100_000,
                "BackupDownloadURL": format!("{url}/r-flow/hins_{id}.rdb?Expires=4102444800&OSSAccessKeyId=k&Signature=s"),
            })
        })
        .collect();
    let body = serde_json::json!({
        "RequestId": "R-HOSTILE",
        "TotalCount": total,
        "PageNumber": 1,
        "PageSize": 300,
        "Backups": { "Backup": sets },
    });
    Reply::new(200, body.to_string())
}

#[test]
fn a_download_that_stalls_mid_file_ends_with_a_resume_hint() {
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let files = Hostile::start(vec![Reply::bare(200, body)
        .header("Content-Type", "application/octet-stream")
        .header("ETag", "\"e7\"")
        .stall_after(4096)]);
    let api = Hostile::start(vec![backups_page(7..8, 1, &files.url())]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r = output(hostile_cmd(home.path(), &api.url()).args([
        "--read-timeout",
        "1",
        "download",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        "7",
        "--dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(started.elapsed() < Duration::from_secs(30), "it ended");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the download stalled: no data arrived for 1 s after 4096 bytes")
            && r.stderr.contains("run the same command again to resume it"),
        "{}",
        r.stderr
    );
    let partial = dir.path().join(".hins_7.rdb.part");
    assert_eq!(std::fs::metadata(&partial).unwrap().len(), 4096, "kept");
    assert!(!dir.path().join("hins_7.rdb").exists());
}

#[test]
fn repeated_pages_with_a_huge_total_end_quickly_with_each_set_once() {
    // The same 300 sets on every page, TotalCount 10^12.
    let api = Hostile::start(vec![backups_page(
        1..301,
        1_000_000_000_000,
        "http://127.0.0.1:9",
    )]);
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let r =
        output(hostile_cmd(home.path(), &api.url()).args(["backups", "--instance-id", INSTANCE]));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["Backups"]["Backup"].as_array().unwrap();
    assert_eq!(list.len(), 300);
    assert_eq!(api.hits(), 2, "the repeated page ended it");
    assert!(
        r.stderr.contains("rkvstore: warning: page 2 of DescribeBackups repeated sets already listed; stopped at 300 distinct backup sets although TotalCount says 1000000000000"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_server_that_ignores_page_number_gives_no_duplicates() {
    // Pages of 30 asked; the server sends its first page whatever PageNumber says, and then
    // one that overlaps it: each set is listed once.
    let api = Hostile::start(vec![
        backups_page(1..31, 90, "http://127.0.0.1:9"),
        backups_page(21..51, 90, "http://127.0.0.1:9"),
        backups_page(1..31, 90, "http://127.0.0.1:9"),
    ]);
    let home = tempfile::tempdir().unwrap();
    let r = output(hostile_cmd(home.path(), &api.url()).args([
        "backups",
        "--instance-id",
        INSTANCE,
        "--page-size",
        "30",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut ids: Vec<u64> = v["Backups"]["Backup"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["BackupId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 50);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50, "no set twice");
    assert_eq!(api.hits(), 3);
    assert!(
        r.stderr.contains("rkvstore: warning: page 3"),
        "{}",
        r.stderr
    );
    let requests = api.requests();
    assert!(requests[2].contains("PageNumber=3"), "{}", requests[2]);
}

#[test]
fn the_restore_hint_follows_without_restoring_again() {
    let env = start(1, |b| b);
    let id = env.backups()[0]["BackupId"].as_u64().unwrap().to_string();
    let r = env.run(&[
        "--output",
        "table",
        "restore",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id,
        "--yes",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hint = r.stdout.split('`').nth(1).unwrap().to_owned();
    assert!(!hint.contains(" restore "), "{hint}");
    assert_eq!(
        hint,
        format!(
            "rkvstore --endpoint {} call DescribeInstanceAttribute --InstanceId {INSTANCE} \
             --waiter 'expr=Instances.DBInstanceAttribute[0].InstanceStatus,to=Normal,timeout=600'",
            env.emu.url()
        )
    );
    // Run as a user would paste it, through a shell.
    let bin = assert_cmd::cargo::cargo_bin("rkvstore");
    let line = hint.replacen("rkvstore", &format!("'{}'", bin.display()), 1);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&line)
        .env_clear()
        .env("HOME", env.home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"InstanceStatus\": \"Normal\""),
        "{stdout}"
    );
    assert_eq!(env.sent("RestoreInstance"), 1, "never twice");
    assert!(env.sent("DescribeInstanceAttribute") >= 2);

    let help = env.run(&["restore", "--help"]);
    assert!(
        !help.stdout.contains("every job is Finished"),
        "{}",
        help.stdout
    );
    assert!(
        help.stdout.contains("the instance Normal"),
        "{}",
        help.stdout
    );
}

#[test]
fn backups_by_id_finds_a_set_older_than_the_default_window() {
    // Sets made 40 days ago (the server's clock then), listed with today's clock.
    let env = start(3, |b| b.clock_offset(-40 * 86_400));
    env.emu.set_clock_offset(0);
    let r = env.run(&["backups", "--instance-id", INSTANCE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["Backups"]["Backup"].as_array().unwrap().len(),
        0,
        "not in 7 days"
    );
    let r = env.run(&["backups", "--instance-id", INSTANCE, "--since", "730d"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let old = v["Backups"]["Backup"][0]["BackupId"].as_u64().unwrap();
    // The command the expired-URL hint gives finds it.
    let r = env.run(&[
        "backups",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &old.to_string(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["Backups"]["Backup"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["BackupId"].as_u64(), Some(old));
    // An explicit window still wins.
    let r = env.run(&[
        "backups",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &old.to_string(),
        "--since",
        "7d",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["Backups"]["Backup"].as_array().unwrap().len(), 0);
}

#[test]
fn the_expiry_check_trusts_the_services_clock_once_known() {
    // The service's clock is two hours behind: its URLs expire, by this machine's clock,
    // an hour before they were made; the client learns the skew and downloads anyway.
    let env = start(1, |b| b.clock_offset(-7200));
    let id = env.backups()[0]["BackupId"].as_u64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = env.run(&[
        "download",
        "--instance-id",
        INSTANCE,
        "--backup-id",
        &id.to_string(),
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.emu.downloads().len(), 1);
}

/// A child process killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_emulator_subcommand_takes_backups_url_lifetime_and_cuts() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let mut child = Child(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("rkvstore"))
            .args([
                "emulator",
                "--instance",
                INSTANCE,
                "--step-seconds",
                "0",
                "--backups",
                "65",
                "--download-url-lifetime",
                "90",
                "--cut-downloads-after",
                "20000:2",
            ])
            .env_clear()
            .env("HOME", home.path())
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut url = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut url)
        .unwrap();
    let url = url.trim().to_owned();
    let r = output(hostile_cmd(home.path(), &url).args([
        "backups",
        "--instance-id",
        INSTANCE,
        "--page-size",
        "30",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["Backups"]["Backup"].as_array().unwrap();
    assert!(list.len() >= 65, "{}", list.len());
    let link = list[0]["BackupDownloadURL"].as_str().unwrap();
    let expires: i64 = link
        .split("Expires=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((80..=95).contains(&(expires - now)), "{}", expires - now);
    let dir = tempfile::tempdir().unwrap();
    let r = output(hostile_cmd(home.path(), &url).args([
        "download",
        "--instance-id",
        INSTANCE,
        "--latest",
        "--dir",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["Resumes"], 2, "{v}");
    // A bad value is a usage error.
    let r = output(Command::cargo_bin("rkvstore").unwrap().env_clear().args([
        "emulator",
        "--access-key-id",
        "x",
        "--access-key-secret",
        "y",
        "--cut-downloads-after",
        "lots",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--cut-downloads-after must be BYTES or BYTES:TIMES"),
        "{}",
        r.stderr
    );
}
