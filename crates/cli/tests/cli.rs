//! The `rkvstore` binary, run as a user runs it, against the emulator over loopback.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{Emulator, Fault, FaultRule, JobSeed, Pace};
use serde_json::Value;
use support::run::{assert_has, Run};

mod support {
    pub mod run;
}

const ID: &str = "LTAIclitest";
const SECRET: &str = "cli-secret-DO-NOT-PRINT";
const TOKEN: &str = "cli-token-DO-NOT-PRINT";

struct Env {
    emu: Emulator,
    home: tempfile::TempDir,
}

fn setup() -> Env {
    let emu = Emulator::builder()
        .access_key(ID, SECRET)
        .sts("STS.cli", SECRET, TOKEN)
        .instance("r-cli")
        .seed_job("r-cli", JobSeed::finished_automated())
        .pace(Pace::PerPoll(1))
        .start("127.0.0.1:0")
        .unwrap();
    Env {
        emu,
        home: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    /// `rkvstore --endpoint URL …` with the test key in the environment and an empty HOME.
    fn cmd(&self) -> Command {
        let mut c = self.bare();
        c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .arg("--endpoint")
            .arg(self.emu.url());
        c
    }

    /// `rkvstore` with the test STS credentials in the environment and an empty HOME.
    fn sts(&self) -> Command {
        let mut c = self.bare();
        c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.cli")
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
            .env("ALIBABA_CLOUD_SECURITY_TOKEN", TOKEN);
        c
    }

    /// `rkvstore` with no credentials anywhere.
    fn bare(&self) -> Command {
        let mut c = Command::cargo_bin("rkvstore").unwrap();
        for var in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "ALIBABA_CLOUD_PROFILE",
            "ALIBABA_CLOUD_REGION_ID",
            "ALIBABA_CLOUD_CREDENTIALS_FILE",
            "ALIBABACLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY_ID",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", self.home.path())
            .timeout(Duration::from_secs(60));
        c
    }
}

#[track_caller]
fn run(c: &mut Command) -> Run {
    support::run::run(c, &[])
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn without_request_id(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("RequestId");
    v
}

#[test]
fn backup_tasks_json_and_table() {
    let env = setup();
    let r = run(env
        .cmd()
        .args(["--output", "json", "backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["InstanceId"], "r-cli");
    let job = &v["BackupJobs"][0];
    assert!(job["BackupJobID"].is_u64(), "{job}");
    assert_eq!(job["Process"], "100");
    assert_eq!(job["JobMode"], "Automated");

    let r = run(env.cmd().args([
        "--output",
        "table",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "JOB ID  MODE       ACTION            STATUS    PROGRESS  START TIME"
    );
    assert!(
        lines[1].starts_with("100001  Automated  NormalBackupTask  Finished  100%"),
        "{}",
        lines[1]
    );

    let r = run(env.cmd().args([
        "--output",
        "table",
        "backup-tasks",
        "--instance-id",
        "r-cli",
        "--mode",
        "manual",
    ]));
    assert_eq!(r.stdout, "No backup jobs for instance r-cli.\n");
}

#[test]
fn wire_formats_and_signature_versions_give_identical_json() {
    let env = setup();
    let mut outputs = Vec::new();
    for extra in [
        &["--format", "json"][..],
        &["--format", "xml"],
        &["--signature-version", "v3"],
        &["--format", "xml", "--signature-version", "v1"],
    ] {
        let r = run(env.cmd().args(extra).args([
            "--output",
            "json",
            "backup-tasks",
            "--instance-id",
            "r-cli",
        ]));
        assert_eq!(r.code, 0, "{extra:?}: {}", r.stderr);
        outputs.push(without_request_id(json(&r.stdout)));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{outputs:#?}");
    let formats: Vec<_> = env
        .emu
        .requests()
        .iter()
        .map(|r| r.format.clone())
        .collect();
    assert_eq!(
        formats,
        [
            Some("JSON".into()),
            Some("XML".into()),
            None,
            Some("XML".into())
        ]
    );
}

#[test]
fn sts_from_the_environment_and_a_profile_from_a_config_file() {
    let env = setup();
    let r = run(env.sts().args([
        "--endpoint",
        &env.emu.url(),
        "--output",
        "json",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let dir = env.home.path().join(".aliyun");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!(
            r#"{{"current":"default","profiles":[
                {{"name":"default","mode":"AK","access_key_id":"nobody","access_key_secret":"x","region_id":"cn-hangzhou"}},
                {{"name":"ci","mode":"StsToken","access_key_id":"STS.cli","access_key_secret":"{SECRET}","sts_token":"{TOKEN}","region_id":"cn-shanghai"}}
            ]}}"#
        ),
    )
    .unwrap();
    let r = run(env.bare().args([
        "--profile",
        "ci",
        "--endpoint",
        &env.emu.url(),
        "--output",
        "json",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The current profile's key is unknown to the emulator: the API says so, exit 1.
    let r = run(env.bare().args([
        "--endpoint",
        &env.emu.url(),
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_has(&r.stderr, "InvalidAccessKeyId.NotFound");
}

#[test]
fn dry_run_shows_the_request_and_never_a_secret() {
    let env = setup();
    for version in ["v1", "v3"] {
        let r = run(env.sts().args([
            "--region",
            "cn-hangzhou",
            "--signature-version",
            version,
            "--dry-run",
            "backup",
            "--instance-id",
            "r-cli",
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.starts_with("POST https://r-kvstore.aliyuncs.com/"),
            "{}",
            r.stdout
        );
        assert_has(&r.stdout, "string to sign:");
        assert_has(&r.stdout, "** REDACTED **");
        for secret in [SECRET, TOKEN, "DO-NOT-PRINT"] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{version}: {}",
                r.stdout
            );
        }
    }
    assert!(env.emu.requests().is_empty(), "a dry run sends nothing");
}

#[test]
fn throttling_is_ridden_out() {
    let env = setup();
    env.emu.add_fault(
        FaultRule::new(Fault::Throttle {
            retry_after_ms: Some(10),
        })
        .times(2),
    );
    let r = run(env
        .cmd()
        .args(["--output", "json", "backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(env.emu.requests().len(), 3);
}

#[test]
fn api_and_body_errors_exit_1_with_a_readable_block() {
    let env = setup();
    let r = run(env
        .cmd()
        .args(["backup-tasks", "--instance-id", "r-nosuch"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with("error: InvalidInstanceId.NotFound\n"),
        "{}",
        r.stderr
    );
    for label in ["message:", "request id:", "http status: 404", "recommend:"] {
        assert!(r.stderr.contains(label), "{label}: {}", r.stderr);
    }
    env.emu.add_fault(FaultRule::new(Fault::Malformed));
    let r = run(env.cmd().args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .starts_with("error: malformed XML response at byte 0"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_secret_shows_the_diagnosis() {
    let env = setup();
    let r = run(env
        .bare()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret")
        .args([
            "--endpoint",
            &env.emu.url(),
            "backup-tasks",
            "--instance-id",
            "r-cli",
        ]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("diagnosis:   our string to sign equals the server's"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("wrong-secret"));
}

#[test]
fn backup_wait_reports_every_step_in_order() {
    let env = setup();
    let r = run(env.cmd().args([
        "--output",
        "json",
        "backup",
        "--instance-id",
        "r-cli",
        "--retention-days",
        "7",
        "--wait",
        "--interval",
        "0.5",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let steps: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("job ")).collect();
    let id = env.emu.requests()[0].action.clone().unwrap();
    assert_eq!(id, "CreateBackup");
    let expected: Vec<String> = [
        "Preparing 0%",
        "Waiting 0%",
        "Uploading 20%",
        "Uploading 55%",
        "Uploading 85%",
        "Checking 95%",
        "Finished 100%",
    ]
    .iter()
    .map(|s| format!("job 100002: {s}"))
    .collect();
    assert_eq!(steps, expected);
    let v = json(&r.stdout);
    assert_eq!(v["BackupJobs"][0]["BackupProgressStatus"], "Finished");
    assert_eq!(v["BackupJobs"][0]["BackupJobID"], 100002);
}

#[test]
fn wait_timeout_exits_4_naming_the_last_status() {
    let env = setup();
    let id = env.emu.seed_job("r-cli", JobSeed::stuck_manual()).unwrap();
    let r = run(env.cmd().args([
        "backup-tasks",
        "--instance-id",
        "r-cli",
        "--job-id",
        &id.to_string(),
        "--wait",
        "--interval",
        "0.5",
        "--timeout",
        "1",
    ]));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("backup job {id} did not finish")),
        "{}",
        r.stderr
    );
    assert_has(&r.stderr, "last status Uploading at 20%");
}

#[test]
fn call_accepts_tricky_values() {
    let env = setup();
    let file = env.home.path().join("note.txt");
    std::fs::write(&file, "from a file: ü & = *\n").unwrap();
    let r = run(env.cmd().args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--Note",
        "spaces and * ~ & = ü 😀 %20 +",
        "--Other=a=b",
        "--Text-FILE",
        &file.display().to_string(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["InstanceId"], "r-cli");
    let r = run(env.cmd().args([
        "--signature-version",
        "v3",
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--Note",
        "a b*~ ü",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(env.cmd().args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--bogus",
        "x",
    ]));
    // Our own options may follow the action (issue 13); a lower-case word that is none of them
    // is still a usage error.
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(
        &r.stderr,
        "neither an option of rkvstore nor an API parameter",
    );
}

#[test]
fn local_endpoint_runs_the_whole_workflow_without_credentials() {
    let env = setup();
    let r = run(env.bare().args([
        "--endpoint",
        "local",
        "--output",
        "json",
        "backup",
        "--instance-id",
        "r-demo",
        "--wait",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        json(&r.stdout)["BackupJobs"][0]["BackupProgressStatus"],
        "Finished"
    );
    assert_has(&r.stderr, "Finished 100%");
}

#[test]
fn usage_and_configuration_errors() {
    let env = setup();
    let r = run(env.cmd().args(["backup-tasks"]));
    assert_eq!(r.code, 2);
    let r = run(env
        .cmd()
        .args(["backup", "--instance-id", "r-cli", "--retention-days", "3"]));
    assert_eq!(r.code, 2);
    assert_has(&r.stderr, "retention is 7 to 730 days");
    let r = run(env.bare().args([
        "--region",
        "cn-hangzhou",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 3);
    assert_has(&r.stderr, "no Alibaba Cloud credentials found");
    let r = run(env
        .bare()
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b")
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 3);
    assert!(r.stderr.starts_with("error: no region"), "{}", r.stderr);
    let r = run(env.cmd().args([
        "--read-timeout",
        "0",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 2);
}

#[test]
fn completions_and_help() {
    let env = setup();
    for shell in ["bash", "zsh", "fish"] {
        let r = run(env.bare().args(["completions", shell]));
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("backup-tasks"), "{shell}");
    }
    let r = run(env.bare().arg("--help"));
    assert!(r
        .stdout
        .contains("rkvstore --endpoint local backup --instance-id r-demo --wait"));
}

#[test]
fn backup_without_wait_in_table_and_json() {
    let env = setup();
    let r = run(env
        .cmd()
        .args(["--output", "table", "backup", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The hint keeps the user's own endpoint, so that it can be pasted as it is.
    assert_eq!(
        r.stdout,
        format!(
            "Started backup job 100002 of r-cli; follow it with \
             `rkvstore --endpoint {} backup-tasks --instance-id r-cli --job-id 100002 --wait`.\n",
            env.emu.url()
        )
    );
    let r = run(env.cmd().args([
        "--output",
        "json",
        "backup",
        "--instance-id",
        "r-cli",
        "--retention-days",
        "-1",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["BackupJobID"], "100003");
    assert!(v["RequestId"].is_string());
}

#[test]
fn verbose_summaries_are_redacted() {
    let env = setup();
    let r = run(env.sts().args([
        "-v",
        "--endpoint",
        &env.emu.url(),
        "--output",
        "json",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(&r.stderr, "rkvstore: → POST http://127.0.0.1:");
    assert_has(&r.stderr, "rkvstore: ← HTTP 200");
    assert!(
        r.stderr
            .contains("credentials from environment variables ALIBABA_CLOUD_*"),
        "{}",
        r.stderr
    );
    assert_has(&r.stderr, "SecurityToken=** REDACTED **");
    assert!(!r.stderr.contains("DO-NOT-PRINT"), "{}", r.stderr);
}
