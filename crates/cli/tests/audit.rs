//! `rkvstore audit` end to end, against a seeded fleet of the emulator over loopback: every
//! verdict, the exit status, the JSON document field by field, CSV, a failing region and the
//! throttling mode.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::collections::BTreeMap;
use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{Emulator, FleetSpec, History};
use support::hostile::{Hostile, Reply};
use support::run::Run;

mod support {
    pub mod hostile;
    pub mod run;
}
use serde_json::Value;

const ID: &str = "LTAIaudit";
const SECRET: &str = "audit-secret-DO-NOT-PRINT";

fn fleet(spec: FleetSpec) -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .fleet(spec)
        .start("127.0.0.1:0")
        .unwrap()
}

#[track_caller]
fn run(emu: &Emulator, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    c.env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .arg("--endpoint")
        .arg(emu.url())
        .args(args)
        .timeout(Duration::from_secs(120));
    support::run::run(&mut c, &[SECRET])
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn every_verdict_appears_is_right_and_the_exit_status_is_5() {
    let emu = fleet(FleetSpec::new(40, 7));
    let r = run(
        &emu,
        &[
            "--region",
            "cn-hangzhou",
            "--output",
            "json",
            "audit",
            "--all-regions",
        ],
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("instances are not OK"), "{}", r.stderr);
    let doc = json(&r);
    let rows = doc["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    let expected: BTreeMap<String, History> = emu
        .fleet()
        .into_iter()
        .map(|m| (m.instance_id.clone(), m.history))
        .collect();
    let mut seen = BTreeMap::new();
    for row in rows {
        let id = row["instance_id"].as_str().unwrap();
        let verdict = row["verdict"].as_str().unwrap();
        assert_eq!(verdict, expected[id].expected_verdict(), "{row}");
        *seen.entry(verdict.to_owned()).or_insert(0) += 1;
    }
    for v in ["ERROR", "NO-BACKUPS", "STALE", "FAILED", "POLICY-OFF", "OK"] {
        assert!(seen.contains_key(v), "{v} missing: {seen:?}");
    }
    // Worst first.
    let order = ["ERROR", "NO-BACKUPS", "STALE", "FAILED", "POLICY-OFF", "OK"];
    let ranks: Vec<usize> = rows
        .iter()
        .map(|r| order.iter().position(|v| *v == r["verdict"]).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // The summary counts each verdict.
    let summary = &doc["summary"];
    assert_eq!(summary["instances"], 40);
    for (v, n) in &seen {
        assert_eq!(summary[v.as_str()], *n, "{v}");
    }
    assert_eq!(doc["all_ok"], false);
    assert_eq!(doc["region_failures"], Value::Array(Vec::new()));

    // One row field by field: a healthy standard instance with a running job.
    let member = emu
        .fleet()
        .into_iter()
        .find(|m| m.history == History::Running)
        .unwrap();
    let row = rows
        .iter()
        .find(|r| r["instance_id"] == member.instance_id.as_str())
        .unwrap();
    let keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "region",
            "instance_id",
            "instance_name",
            "zone",
            "architecture",
            "engine_version",
            "instance_status",
            "capacity_mb",
            "network_type",
            "tags",
            "policy",
            "last_success",
            "last_success_age_secs",
            "latest_status",
            "backups_in_window",
            "running_job",
            "backup_tasks",
            "verdict",
            "error"
        ]
    );
    assert_eq!(row["region"], member.region.as_str());
    assert_eq!(row["instance_name"], member.name.as_str());
    assert_eq!(row["architecture"], "standard");
    assert_eq!(row["instance_status"], "Normal");
    assert_eq!(row["policy"]["days"].as_array().unwrap().len(), 7);
    assert_eq!(row["policy"]["days"][0], "Monday");
    assert!(row["policy"]["window"].as_str().unwrap().ends_with(":00Z"));
    assert!([7, 30].contains(&row["policy"]["retention_days"].as_u64().unwrap()));
    let age = row["last_success_age_secs"].as_u64().unwrap();
    assert!((3600 - 5..=20 * 3600 + 60).contains(&age), "{age}");
    assert!(row["last_success"].as_str().unwrap().ends_with('Z'));
    assert_eq!(row["latest_status"], "Success");
    assert_eq!(row["backups_in_window"], 7);
    assert_eq!(row["running_job"]["status"], "Uploading");
    assert_eq!(row["running_job"]["progress"], 55);
    assert_eq!(
        row["backup_tasks"],
        serde_json::json!({"status": "checked", "reason": null})
    );
    assert!(
        row["zone"]
            .as_str()
            .unwrap()
            .starts_with(member.region.as_str()),
        "{row}"
    );
    assert!(row["capacity_mb"].as_u64().unwrap() > 0, "{row}");
    assert!(row["network_type"].is_string(), "{row}");
    assert!(row["tags"].is_object(), "{row}");
    // Every row's backup_tasks has the one shape.
    for r in rows {
        let t = r["backup_tasks"].as_object().unwrap();
        assert_eq!(t.keys().collect::<Vec<_>>(), ["status", "reason"], "{r}");
    }
    assert_eq!(row["verdict"], "OK");
    assert_eq!(row["error"], Value::Null);

    // A cluster instance: no DescribeBackupTasks, and the row says why.
    let cluster = rows
        .iter()
        .find(|r| r["architecture"] == "cluster")
        .unwrap();
    assert_eq!(cluster["backup_tasks"]["status"], "skipped");
    assert_eq!(
        cluster["backup_tasks"]["reason"],
        "DescribeBackupTasks does not support cluster instances"
    );
    let cluster_id = cluster["instance_id"].as_str().unwrap();
    assert!(!emu.requests().iter().any(|q| {
        q.action.as_deref() == Some("DescribeBackupTasks")
            && q.instance_id.as_deref() == Some(cluster_id)
    }));

    // An ERROR row names the action and the API code.
    let error = rows.iter().find(|r| r["verdict"] == "ERROR").unwrap();
    assert_eq!(error["error"]["code"], "Forbidden.RAM");
    assert!(error["error"]["action"]
        .as_str()
        .unwrap()
        .starts_with("DescribeBackup"));
}

#[test]
fn all_ok_exits_0_and_the_table_ends_with_the_summary() {
    let emu = fleet(FleetSpec::new(40, 7));
    let healthy: Vec<String> = emu
        .fleet()
        .into_iter()
        .filter(|m| m.history.expected_verdict() == "OK")
        .map(|m| m.instance_id)
        .collect();
    let ids = healthy.join(",");
    let r = run(
        &emu,
        &[
            "--region",
            "cn-hangzhou,cn-shanghai,cn-beijing",
            "--output",
            "table",
            "audit",
            "--instance-id",
            &ids,
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("VERDICT  "), "{}", r.stdout);
    assert_eq!(lines.len(), healthy.len() + 2, "{}", r.stdout);
    assert_eq!(
        lines.last().unwrap(),
        &format!("audited {} instances: {} OK", healthy.len(), healthy.len())
    );
    // Not a terminal: no progress bar, nothing at all on stderr.
    assert_eq!(r.stderr, "");
}

#[test]
fn csv_has_a_header_and_rows_on_stdout_and_the_summary_on_stderr() {
    let emu = fleet(FleetSpec::new(20, 3));
    let r = run(
        &emu,
        &[
            "--region",
            "cn-hangzhou",
            "--output",
            "csv",
            "audit",
            "--all-regions",
        ],
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("verdict,region,instance_id,"),
        "{}",
        r.stdout
    );
    assert_eq!(lines.len(), 21);
    let columns = lines[0].split(',').count();
    assert!(lines[1].starts_with("ERROR,"), "{}", lines[1]);
    assert!(lines[20].starts_with("OK,"), "{}", lines[20]);
    assert!(lines[20].split(',').count() == columns, "{}", lines[20]);
    assert!(
        r.stderr.starts_with("audited 20 instances: 1 ERROR, "),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("audited"));
}

#[test]
fn one_region_failing_does_not_stop_the_others() {
    let emu = fleet(FleetSpec::new(30, 5).failing_region("cn-beijing"));
    let r = run(
        &emu,
        &[
            "--region",
            "cn-hangzhou",
            "--retries",
            "0",
            "--output",
            "json",
            "audit",
            "--all-regions",
        ],
    );
    assert_eq!(r.code, 5, "{}", r.stderr);
    let doc = json(&r);
    let failures = doc["region_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["region"], "cn-beijing");
    assert_eq!(failures[0]["error"]["code"], "ServiceUnavailable");
    let others = emu
        .fleet()
        .iter()
        .filter(|m| m.region != "cn-beijing")
        .count();
    let rows = doc["instances"].as_array().unwrap();
    assert_eq!(rows.len(), others);
    assert!(rows.iter().all(|r| r["region"] != "cn-beijing"));
}

#[test]
fn throttling_mode_slows_down_and_finishes_without_errors() {
    // Throttled above 3 in flight, asked for 16: the audit must back off, not fail rows.
    let emu = fleet(
        FleetSpec::new(60, 11)
            .throttle_above(3)
            .latency(Duration::from_millis(5)),
    );
    let r = run(
        &emu,
        &[
            "-v",
            "--region",
            "cn-hangzhou",
            "--output",
            "json",
            "audit",
            "--all-regions",
            "--concurrency",
            "16",
        ],
    );
    let doc = json(&r);
    let throttled = emu
        .requests()
        .iter()
        .filter(|q| q.code.as_deref() == Some("Throttling.User"))
        .count();
    assert!(throttled > 0, "the test did not throttle");
    let rows = doc["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 60);
    // The fleet's own ERROR instances (Forbidden.RAM) are the only ERROR rows.
    for row in rows.iter().filter(|r| r["verdict"] == "ERROR") {
        assert_eq!(row["error"]["code"], "Forbidden.RAM", "{row}");
    }
    let expected_errors = emu
        .fleet()
        .iter()
        .filter(|m| m.history.expected_verdict() == "ERROR")
        .count();
    assert_eq!(doc["summary"]["ERROR"], expected_errors);
    assert!(
        r.stderr.contains("throttled; the audit slows down"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let emu = fleet(FleetSpec::new(1, 1));
    for (args, says) in [
        (
            vec!["audit", "--all-regions", "--max-age", "soon"],
            "invalid --max-age",
        ),
        (
            vec!["audit", "--all-regions", "--concurrency", "0"],
            "--concurrency must be 1 to 256",
        ),
        (vec!["audit"], "no region to audit"),
        (
            vec![
                "--output",
                "csv",
                "--cli-query",
                "instances[0]",
                "audit",
                "--all-regions",
            ],
            "--cli-query applies to JSON, not to --output csv",
        ),
    ] {
        let r = run(&emu, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}

/// A tmux session of `width` columns running `command`; `None` (the test skipped) without tmux.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, width: u16, command: &str) -> Option<Tmux> {
        if std::process::Command::new("tmux")
            .arg("-V")
            .output()
            .is_err()
        {
            eprintln!("skipping: tmux is not installed (apt-get install -y tmux)");
            return None;
        }
        let socket = format!("rkvstore-audit-{name}-{}", std::process::id());
        let status = std::process::Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x"])
            .arg(width.to_string())
            .args(["-y", "12", "-e", "TERM=xterm-256color", command])
            .status()
            .unwrap();
        assert!(status.success());
        Some(Tmux { socket })
    }

    fn screen(&self) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        for _ in 0..200 {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{needle:?} never appeared:\n{}", self.screen());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

#[test]
fn the_progress_bar_fits_the_terminal_at_40_and_120_columns() {
    let mut spec = FleetSpec::new(12, 3);
    spec.latency = Duration::from_millis(150);
    let emu = fleet(spec);
    let home = tempfile::tempdir().unwrap();
    for width in [120u16, 40] {
        let command = format!(
            "env -i HOME={} TERM=xterm-256color ALIBABA_CLOUD_ACCESS_KEY_ID={ID} \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET} {} --endpoint {} --region cn-hangzhou \
             --output json audit --all-regions --concurrency 1 > /dev/null; echo EXIT=$?; \
             sleep 30",
            home.path().display(),
            assert_cmd::cargo::cargo_bin("rkvstore").display(),
            emu.url()
        );
        let Some(t) = Tmux::start(&format!("bar{width}"), width, &command) else {
            return;
        };
        let screen = t.wait_for("/12 ");
        let bar: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            bar.len(),
            1,
            "one line, unwrapped, at {width} columns:\n{screen}"
        );
        assert!(bar[0].chars().count() <= usize::from(width), "{screen}");
        assert!(bar[0].contains("err"), "{screen}");
        eprintln!("--- {width} columns ---\n{screen}");
        let end = t.wait_for("EXIT=");
        assert!(end.contains("EXIT=5"), "{end}");
    }
}

#[test]
fn a_window_of_failed_backups_only_is_failed_not_no_backups() {
    // A scripted server: one cluster instance (no DescribeBackupTasks), its policy, and a
    // look-back window whose only backup failed an hour ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = rkvstore_blocking::core::Timestamp::from_unix(now as i64 - 3600).to_string();
    let server = Hostile::start(vec![
        Reply::new(
            200,
            r#"{"RequestId":"R1","TotalCount":1,"PageNumber":1,"PageSize":30,"Instances":{"KVStoreInstance":[{"InstanceId":"r-failing","InstanceName":"f","RegionId":"cn-hangzhou","ZoneId":"cn-hangzhou-h","ArchitectureType":"cluster","EngineVersion":"7.0","InstanceStatus":"Normal","Capacity":2048,"NetworkType":"VPC","Tags":{"Tag":[{"Key":"team","Value":"cache"}]}}]}}"#,
        ),
        Reply::new(
            200,
            r#"{"RequestId":"R2","PreferredBackupTime":"02:00Z-03:00Z","PreferredBackupPeriod":"Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday","BackupRetentionPeriod":"7"}"#,
        ),
        Reply::new(
            200,
            format!(
                r#"{{"RequestId":"R3","TotalCount":1,"PageNumber":1,"PageSize":100,"Backups":{{"Backup":[{{"BackupId":1,"BackupStatus":"Failed","BackupStartTime":"{at}","BackupEndTime":"{at}"}}]}}}}"#
            ),
        ),
    ]);
    let out = audit_scripted(&server.url(), Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(5));
    let row = &doc["instances"][0];
    assert_eq!(row["verdict"], "FAILED", "{row}");
    assert_eq!(row["latest_status"], "Failed", "{row}");
    assert_eq!(row["zone"], "cn-hangzhou-h");
    assert_eq!(row["capacity_mb"], 2048);
    assert_eq!(row["network_type"], "VPC");
    assert_eq!(row["tags"], serde_json::json!({"team": "cache"}));
    assert_eq!(row["backup_tasks"]["status"], "skipped");
    assert_eq!(server.hits(), 3);
}

#[test]
fn a_region_that_repeats_its_first_page_forever_is_listed_in_two_requests_with_a_warning() {
    // A scripted server that answers every request with the same page of DescribeInstances,
    // claiming a billion instances: page 2 brings nothing new, so the listing must stop there
    // and say why, instead of asking for thousands of pages and counting the instance twice.
    let page = r#"{"RequestId":"R1","TotalCount":1000000000,"PageNumber":1,"PageSize":50,"Instances":{"KVStoreInstance":[{"InstanceId":"r-repeat","InstanceName":"loop","RegionId":"cn-hangzhou","ArchitectureType":"cluster","InstanceStatus":"Normal"}]}}"#;
    let server = Hostile::start(vec![Reply::new(200, page)]);
    let out = audit_scripted(&server.url(), Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let listings = server
        .requests()
        .iter()
        .filter(|r| {
            r.contains("Action=DescribeInstances&")
                || r.contains("x-acs-action: DescribeInstances\r")
        })
        .count();
    assert_eq!(listings, 2, "{stderr}");
    assert!(
        stderr.contains(
            "rkvstore: warning: region cn-hangzhou: page 2 of DescribeInstances repeated \
             instances already listed; stopped at 1 distinct instances although TotalCount says \
             1000000000"
        ),
        "{stderr}"
    );
    let doc: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    // The instance listed is real: audited once, not once per page.
    let rows = doc["instances"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert_eq!(rows[0]["instance_id"], "r-repeat");
    assert_eq!(doc["region_failures"], Value::Array(Vec::new()));
    let warnings = doc["region_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert_eq!(warnings[0]["region"], "cn-hangzhou");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(message.contains("DescribeInstances"), "{message}");
    assert!(!message.contains("backup"), "{message}");
}

/// `rkvstore audit --output json`, one request at a time and no retries, against the scripted
/// server at `url`, with AccessKey credentials from the environment and an empty home.
fn audit_scripted(url: &str, timeout: Duration) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::cargo_bin("rkvstore")
        .unwrap()
        .env_clear()
        .env("HOME", home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args(["--endpoint", url, "--region", "cn-hangzhou"])
        .args(["--output", "json", "--retries", "0"])
        .args(["audit", "--concurrency", "1"])
        .timeout(timeout)
        .output()
        .unwrap()
}
