//! Issue 13: the command line an `aliyun` user reaches for, run as a user runs it against the
//! emulator over loopback (and, for the waiting screen, in a real terminal under tmux).

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod support {
    pub mod hostile;
    pub mod run;
}

use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{Emulator, JobSeed, Pace};
use serde_json::Value;
use support::hostile::{Hostile, Reply};
use support::run::Run;

const ID: &str = "LTAIhabits";
const SECRET: &str = "habits-secret-DO-NOT-PRINT";

fn emulator(pace: Pace) -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .instance("r-cli")
        .seed_job("r-cli", JobSeed::finished_automated())
        .pace(pace)
        .start("127.0.0.1:0")
        .unwrap()
}

/// `rkvstore` with no credentials and an empty HOME.
fn bare(home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
        "ALIBABA_CLOUD_ENDPOINT",
        "ALIBABACLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY_ID",
    ] {
        c.env_remove(var);
    }
    c.env("HOME", home).timeout(Duration::from_secs(60));
    c
}

/// `rkvstore --endpoint URL` with the test key.
fn cmd(emu: &Emulator, home: &std::path::Path) -> Command {
    let mut c = bare(home);
    c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .arg("--endpoint")
        .arg(emu.url());
    c
}

#[track_caller]
fn run(c: &mut Command) -> Run {
    support::run::run(c, &[])
}

#[track_caller]
fn ok(c: &mut Command) -> Run {
    let r = run(c);
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    r
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

/// The keys of an object, in order, all the way down (for comparing order, not only content).
fn shape(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn cli_query_prints_scalars_bare_and_applies_to_every_json_command() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r = ok(cmd(&emu, home.path()).args([
        "backup",
        "--instance-id",
        "r-cli",
        "--cli-query",
        "BackupJobID",
    ]));
    assert!(r.stdout.trim().parse::<u64>().is_ok(), "{}", r.stdout);
    let r = ok(cmd(&emu, home.path())
        .args(["backup-tasks", "--instance-id", "r-cli"])
        .args([
            "--cli-query",
            "BackupJobs[?JobMode=='Automated'].BackupJobID",
        ]));
    assert_eq!(json(&r.stdout), serde_json::json!([100001]));
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--cli-query",
        "InstanceId",
    ]));
    assert_eq!(r.stdout, "r-cli\n");
    let r = run(cmd(&emu, home.path()).args([
        "backup-tasks",
        "--instance-id",
        "r-cli",
        "--cli-query",
        "BackupJobs[",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error: invalid --cli-query"),
        "{}",
        r.stderr
    );
}

#[test]
fn output_cols_rows_num_on_typed_commands_and_call() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let table = "Num | BackupJobID | JobMode   | BackupProgressStatus\n\
                 --- | ----------- | -------   | --------------------\n\
                 0   | 100001      | Automated | Finished\n";
    let r = ok(cmd(&emu, home.path())
        .args([
            "--output",
            "cols=BackupJobID,JobMode,BackupProgressStatus",
            "rows=BackupJobs",
            "num=true",
        ])
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.stdout, table);
    // The same after the action, as aliyun users write it, and with the XML wire format.
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--format",
        "xml",
        "--output",
        "cols=BackupJobID,JobMode,BackupProgressStatus",
        "rows=BackupJobs",
        "num=true",
    ]));
    assert_eq!(r.stdout, table);
    // `call --output table` is a table, never JSON in disguise.
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--output",
        "table",
    ]));
    assert!(r.stdout.starts_with("BackupJobID | "), "{}", r.stdout);
    assert!(!r.stdout.contains('{'), "{}", r.stdout);
}

#[test]
fn one_json_shape_whatever_the_wire_format_the_wait_or_the_command() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let strip = |mut v: Value| {
        v.as_object_mut()
            .unwrap()
            .remove("RequestId")
            .expect("a RequestId");
        v
    };
    let typed = |extra: &[&str]| {
        let r = ok(cmd(&emu, home.path()).args(extra).args([
            "backup-tasks",
            "--instance-id",
            "r-cli",
            "--job-id",
            "100001",
        ]));
        json(&r.stdout)
    };
    let variants = [
        ("typed json", typed(&[])),
        ("typed xml", typed(&["--format", "xml"])),
        ("typed v3", typed(&["--signature-version", "v3"])),
        ("typed --wait", {
            let r = ok(cmd(&emu, home.path()).args([
                "--output",
                "json",
                "backup-tasks",
                "--instance-id",
                "r-cli",
                "--job-id",
                "100001",
                "--wait",
                "--interval",
                "0.5",
            ]));
            json(&r.stdout)
        }),
        (
            "call json",
            json(
                &ok(cmd(&emu, home.path()).args([
                    "call",
                    "DescribeBackupTasks",
                    "--InstanceId",
                    "r-cli",
                    "--BackupJobId",
                    "100001",
                ]))
                .stdout,
            ),
        ),
        (
            "call xml",
            json(
                &ok(cmd(&emu, home.path()).args([
                    "--format",
                    "xml",
                    "call",
                    "DescribeBackupTasks",
                    "--InstanceId",
                    "r-cli",
                    "--BackupJobId",
                    "100001",
                ]))
                .stdout,
            ),
        ),
    ];
    let reference = shape(&strip(variants[0].1.clone()));
    for (name, v) in variants {
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["RequestId", "InstanceId", "BackupJobs"],
            "{name}: {v}"
        );
        assert_eq!(shape(&strip(v.clone())), reference, "{name} differs");
    }
    assert!(
        reference.contains(r#""BackupJobs":[{"BackupJobID":100001,"#),
        "{reference}"
    );
}

/// `v` with every text emptied and every number zero: the names, order, types and lists.
fn skeleton(v: &Value) -> Value {
    match v {
        Value::String(_) => Value::String(String::new()),
        Value::Number(_) => Value::from(0),
        Value::Array(items) => Value::Array(items.iter().map(skeleton).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
fn call_format_xml_gives_the_json_shape_for_every_typed_action() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    // A restore leaves the instance busy: each format restores on an emulator of its own.
    let (for_json, for_xml) = (emulator(Pace::PerPoll(1)), emulator(Pace::PerPoll(1)));
    let call = |format: &str, args: &[&str]| {
        let target = match (args[0], format) {
            ("RestoreInstance", "json") => &for_json,
            ("RestoreInstance", _) => &for_xml,
            _ => &emu,
        };
        let r = ok(cmd(target, home.path())
            .args(["--format", format, "call"])
            .args(args));
        json(&r.stdout)
    };
    let window = [
        "--StartTime",
        "2020-01-01T00:00Z",
        "--EndTime",
        "2099-01-01T00:00Z",
    ];
    let backups: Vec<&str> = [&["DescribeBackups", "--InstanceId", "r-cli"][..], &window].concat();
    let backup_id = call("json", &backups)["Backups"]["Backup"][0]["BackupId"]
        .as_u64()
        .unwrap()
        .to_string();
    let restore = [
        "RestoreInstance",
        "--InstanceId",
        "r-cli",
        "--BackupId",
        backup_id.as_str(),
    ];
    let cases: Vec<Vec<&str>> = vec![
        backups.clone(),
        vec!["DescribeInstanceAttribute", "--InstanceId", "r-cli"],
        vec!["DescribeInstances"],
        vec!["DescribeInstances", "--InstanceIds", "r-none"],
        vec!["DescribeRegions"],
        vec!["DescribeBackupPolicy", "--InstanceId", "r-cli"],
        vec!["DescribeBackupTasks", "--InstanceId", "r-cli"],
        vec![
            "ModifyBackupPolicy",
            "--InstanceId",
            "r-cli",
            "--PreferredBackupTime",
            "01:00Z-02:00Z",
            "--PreferredBackupPeriod",
            "Monday,Friday",
        ],
        vec!["CreateBackup", "--InstanceId", "r-cli"],
        restore.to_vec(),
    ];
    let mut seen = std::collections::BTreeMap::new();
    for args in &cases {
        let j = call("json", args);
        let x = call("xml", args);
        assert_eq!(
            shape(&skeleton(&x)),
            shape(&skeleton(&j)),
            "{args:?}:\njson {j}\nxml  {x}"
        );
        seen.insert(args.join(" "), x);
    }
    let b = &seen[&backups.join(" ")]["Backups"]["Backup"][0];
    assert!(b["BackupId"].is_u64() && b["BackupSize"].is_u64(), "{b}");
    assert!(b["BackupJobID"].is_u64(), "{b}");
    let a = &seen["DescribeInstanceAttribute --InstanceId r-cli"];
    assert!(a["Instances"]["DBInstanceAttribute"].is_array(), "{a}");
    let i = &seen["DescribeInstances"];
    assert!(i["Instances"]["KVStoreInstance"].is_array(), "{i}");
    for n in ["PageNumber", "PageSize", "TotalCount"] {
        assert!(i[n].is_u64(), "{n}: {i}");
    }
    let none = &seen["DescribeInstances --InstanceIds r-none"];
    assert_eq!(
        none["Instances"]["KVStoreInstance"],
        serde_json::json!([]),
        "{none}"
    );
    let r = &seen["DescribeRegions"];
    assert!(r["RegionIds"]["KVStoreRegion"].is_array(), "{r}");
}

#[test]
fn field_values_keep_their_spaces_and_errors_their_lines() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstanceAttribute",
        "--InstanceId",
        "r-cli",
        "--waiter",
        "expr=Instances.DBInstanceAttribute | [0].InstanceStatus",
        "to=Normal",
        "interval=2",
        "--cli-query",
        "Instances.DBInstanceAttribute[0].InstanceStatus",
    ]));
    assert_eq!(r.stdout, "Normal\n");
    // A `to=` value with a space is one value: it never matches "Normal", so it times out.
    let r = run(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstanceAttribute",
        "--InstanceId",
        "r-cli",
        "--waiter",
        "expr=Instances.DBInstanceAttribute[0].InstanceStatus",
        "to=Normal again",
        "timeout=1",
        "interval=2",
    ]));
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains(r#"not "Normal again""#), "{}", r.stderr);
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstances",
        "--output",
        "cols=InstanceId",
        "rows=Instances.KVStoreInstance[?ArchitectureType == 'standard']",
    ]));
    assert_eq!(r.stdout, "InstanceId\n----------\nr-cli\n");
    // A JMESPath error points at the column on a line of its own: real line breaks.
    let r = run(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstances",
        "--waiter",
        "expr=Instances.KVStoreInstance[",
        "to=x",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("\\n"), "{}", r.stderr);
    assert!(r.stderr.lines().count() >= 3, "{}", r.stderr);
    assert!(r.stderr.lines().any(|l| l.trim() == "^"), "{}", r.stderr);
}

#[test]
fn output_cols_take_array_indexes_and_quoted_lists() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstances",
        "--output",
        "cols=id:0,name:1",
        "rows=Instances.KVStoreInstance[].[InstanceId,InstanceName]",
    ]));
    assert_eq!(r.stdout, "id    | name\n--    | ----\nr-cli | r-cli\n");
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstances",
        "--output",
        "cols=\"InstanceId,ZoneId\"",
        "rows=Instances.KVStoreInstance",
    ]));
    assert!(
        r.stdout.starts_with("InstanceId | ZoneId\n"),
        "{}",
        r.stdout
    );
    let r = run(cmd(&emu, home.path()).args([
        "call",
        "DescribeInstances",
        "--output",
        "cols=id,name",
        "rows=Instances.KVStoreInstance[].[InstanceId,InstanceName]",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cols=id:0,name:1"), "{}", r.stderr);
}

/// A DescribeInstances page for the scripted server.
fn instances_page(ids: &[&str], extra: &str) -> Reply {
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"InstanceId":"{id}"}}"#))
        .collect();
    Reply::new(
        200,
        format!(
            r#"{{"RequestId":"R",{extra}"Instances":{{"KVStoreInstance":[{}]}}}}"#,
            items.join(",")
        ),
    )
}

#[test]
fn a_bare_pager_follows_next_tokens_and_returns_the_collection() {
    let home = tempfile::tempdir().unwrap();
    let server = Hostile::start(vec![
        instances_page(&["r-1", "r-2"], r#""NextToken":"tok2","MaxResults":2,"#),
        instances_page(&["r-3"], r#""NextToken":"","MaxResults":2,"#),
    ]);
    let r = ok(bare(home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "--endpoint",
            &server.url(),
            "call",
            "DescribeInstances",
            "--pager",
        ]));
    assert_eq!(
        shape(&json(&r.stdout)),
        r#"{"Instances":{"KVStoreInstance":[{"InstanceId":"r-1"},{"InstanceId":"r-2"},{"InstanceId":"r-3"}]}}"#
    );
    let asked = server.requests();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked[1].contains("NextToken=tok2"), "{}", asked[1]);
    // A server that ignores PageNumber: the repeated page is not merged again.
    let server = Hostile::start(vec![instances_page(
        &["r-1", "r-2"],
        r#""PageNumber":1,"PageSize":2,"TotalCount":6,"#,
    )]);
    let r = ok(bare(home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "--endpoint",
            &server.url(),
            "call",
            "DescribeInstances",
            "--pager",
        ]));
    assert_eq!(
        shape(&json(&r.stdout)),
        r#"{"Instances":{"KVStoreInstance":[{"InstanceId":"r-1"},{"InstanceId":"r-2"}]}}"#
    );
    assert_eq!(server.hits(), 2);
}

#[test]
fn call_without_a_region_uses_the_central_host() {
    let home = tempfile::tempdir().unwrap();
    for (args, host) in [
        (
            &[
                "call",
                "--product",
                "Ecs",
                "--api-version",
                "2014-05-26",
                "DescribeRegions",
            ][..],
            "https://ecs.aliyuncs.com/",
        ),
        (
            &["call", "DescribeRegions"][..],
            "https://r-kvstore.aliyuncs.com/",
        ),
    ] {
        let r = ok(bare(home.path()).args(args).arg("--dry-run"));
        assert!(r.stdout.contains(host), "{args:?}: {}", r.stdout);
        assert!(!r.stdout.contains("RegionId="), "{}", r.stdout);
    }
    // Other commands still need a region.
    let r = run(bare(home.path()).args(["--dry-run", "backup-tasks", "--instance-id", "r-x"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
}

#[test]
fn help_of_a_command_without_globals_and_completion_without_the_hidden_command() {
    let home = tempfile::tempdir().unwrap();
    for sub in ["completions", "version"] {
        let h = ok(bare(home.path()).args(["help", sub])).stdout;
        assert!(
            !h.contains("--retries") && !h.contains("Global options") && !h.contains("--region"),
            "help {sub}:\n{h}"
        );
        assert!(h.contains(&format!("rkvstore {sub}")), "{h}");
    }
    let h = ok(bare(home.path()).arg("--help")).stdout;
    assert!(h.contains("csv") && h.contains("audit"), "{h}");
    // `__complete` still answers, but no script offers it as a command.
    std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
    std::fs::write(
        home.path().join(".aliyun/config.json"),
        r#"{"profiles":[{"name":"my team","mode":"AK"},{"name":"ops","mode":"AK"},{"name":"bad\nname"}]}"#,
    )
    .unwrap();
    assert_eq!(
        ok(bare(home.path()).args(["__complete", "profiles"])).stdout,
        "my team\nops\n"
    );
    for shell in ["bash", "fish", "zsh"] {
        let s = ok(bare(home.path()).args(["completions", shell])).stdout;
        let offered = s
            .lines()
            .filter(|l| l.contains("__complete") && !l.contains("__complete profiles"))
            .collect::<Vec<_>>();
        assert!(offered.is_empty(), "{shell}: {offered:?}");
    }
    // bash completes the profile with a space as one quoted word.
    let script = ok(bare(home.path()).args(["completions", "bash"])).stdout;
    let path = home.path().join("rkvstore.bash");
    std::fs::write(&path, script).unwrap();
    let bin_dir = assert_cmd::cargo::cargo_bin("rkvstore")
        .parent()
        .unwrap()
        .to_path_buf();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(rkvstore --profile my); COMP_CWORD=2; \
             _rkvstore rkvstore my --profile; printf '<%s>\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .env("HOME", home.path())
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "<my\\ team>\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn quiet_aliases_version_json_and_dry_run_without_credentials() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r = ok(bare(home.path()).arg("version"));
    assert_eq!(
        r.stdout,
        format!("rkvstore {}\n", env!("CARGO_PKG_VERSION"))
    );
    // --dryrun, no credentials: a labelled placeholder key.
    let r = ok(bare(home.path()).args([
        "--region",
        "cn-shanghai",
        "--dryrun",
        "backup-tasks",
        "--instance-id",
        "r-x",
    ]));
    assert!(
        r.stdout.contains("AccessKeyId=PLACEHOLDER-KEY-FOR-DRY-RUN"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("placeholder key PLACEHOLDER-KEY-FOR-DRY-RUN"),
        "{}",
        r.stderr
    );
    // --retry-count is --retries; --json is --output json; --quiet keeps stderr empty.
    let r = ok(cmd(&emu, home.path()).args([
        "--retry-count",
        "0",
        "--json",
        "--quiet",
        "backup",
        "--instance-id",
        "r-cli",
        "--wait",
        "--interval",
        "0.5",
    ]));
    assert_eq!(r.stderr, "");
    assert_eq!(
        json(&r.stdout)["BackupJobs"][0]["BackupProgressStatus"],
        "Finished"
    );
    let r = run(cmd(&emu, home.path()).args([
        "--json",
        "--output",
        "table",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ]));
    assert_eq!(r.code, 2);
}

#[test]
fn call_takes_flags_anywhere_and_other_products() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r = ok(bare(home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "call",
            "DescribeBackupTasks",
            "--InstanceId",
            "r-cli",
            "--endpoint",
            &emu.url(),
            "--output",
            "json",
        ]));
    assert_eq!(json(&r.stdout)["InstanceId"], "r-cli");
    // Another product: its own version, and its own host from the region.
    let r = ok(bare(home.path()).args([
        "call",
        "DescribeRegions",
        "--product",
        "Ecs",
        "--api-version",
        "2014-05-26",
        "--region",
        "cn-hangzhou",
        "--dry-run",
    ]));
    assert!(
        r.stdout
            .starts_with("POST https://ecs.cn-hangzhou.aliyuncs.com/?"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Version=2014-05-26"), "{}", r.stdout);
}

#[test]
fn action_names_are_checked_with_suggestions_but_still_sent() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    let r =
        run(cmd(&emu, home.path()).args(["call", "DescribeBakupTasks", "--InstanceId", "r-cli"]));
    assert!(
        r.stderr.starts_with("warning: unknown R-kvstore action DescribeBakupTasks; did you mean DescribeBackupTasks? (sending anyway: new actions appear)\n"),
        "{}",
        r.stderr
    );
    // It was sent: the emulator's own answer to an action it does not know.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r =
        ok(cmd(&emu, home.path()).args(["call", "DescribeBackupTasks", "--InstanceId", "r-cli"]));
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn pager_merges_every_page_and_waiter_polls_until_the_value() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        ok(cmd(&emu, home.path()).args([
            "backup",
            "--instance-id",
            "r-cli",
            "--wait",
            "--interval",
            "0.5",
            "--quiet",
        ]));
    }
    let all = json(
        &ok(cmd(&emu, home.path()).args(["--output", "json", "backups", "--instance-id", "r-cli"]))
            .stdout,
    );
    let total = all["Backups"]["Backup"].as_array().unwrap().len();
    assert!(total >= 3, "{all}");
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeBackups",
        "--InstanceId",
        "r-cli",
        "--StartTime",
        "2000-01-01T00:00Z",
        "--EndTime",
        "2100-01-01T00:00Z",
        "--PageSize",
        "30",
        "--pager",
        "path=Backups.Backup,PageSize=PageSize",
        "--cli-query",
        "length(Backups.Backup)",
    ]));
    assert!(
        r.stdout.trim().parse::<usize>().unwrap() >= 3,
        "{}",
        r.stdout
    );
    // --waiter: poll until the expression matches.
    let r = ok(cmd(&emu, home.path()).args([
        "call",
        "DescribeBackupTasks",
        "--InstanceId",
        "r-cli",
        "--BackupJobId",
        "100001",
        "--waiter",
        "expr=BackupJobs[0].BackupProgressStatus",
        "to=Finished",
        "interval=2",
    ]));
    assert_eq!(
        json(&r.stdout)["BackupJobs"][0]["BackupProgressStatus"],
        "Finished"
    );
}

#[test]
fn help_puts_global_options_last_and_only_where_they_apply() {
    let home = tempfile::tempdir().unwrap();
    let h = ok(bare(home.path()).args(["backup-tasks", "--help"])).stdout;
    let own = h.find("--instance-id").unwrap();
    let global = h.find("Global options:").unwrap();
    assert!(own < global && h[global..].contains("--retries"), "{h}");
    let h = ok(bare(home.path()).args(["completions", "--help"])).stdout;
    assert!(
        !h.contains("--retries") && !h.contains("Global options"),
        "{h}"
    );
    assert!(h.contains("Install completion:"), "{h}");
}

#[test]
fn every_example_in_the_help_runs_against_the_local_emulator() {
    let home = tempfile::tempdir().unwrap();
    let help = ok(bare(home.path()).arg("--help")).stdout;
    let mut ran = 0;
    for line in help
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("rkvstore "))
    {
        // The shell's redirections are not the command's.
        let command = line.split(" > ").next().unwrap();
        let words: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(|w| w.trim_matches('\'').to_owned())
            .collect();
        // The cloud's region gives way to the emulator; everything else is as printed.
        let mut args = vec!["--endpoint".to_owned(), "local".to_owned()];
        let mut skip = false;
        for w in words {
            if skip {
                skip = false;
            } else if w == "--region" || w == "--endpoint" {
                skip = true;
            } else {
                args.push(w.replace("r-bp1zxszhcgatnx", "r-demo"));
            }
        }
        let r = run(bare(home.path()).args(&args));
        assert_eq!(r.code, 0, "{line}\n{}", r.stderr);
        ran += 1;
    }
    assert!(ran >= 6, "{help}");
}

#[test]
fn the_emulator_runs_with_demo_credentials_and_says_which() {
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rkvstore"))
        .args(["emulator"])
        .env("HOME", home.path())
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    std::io::BufRead::read_line(&mut out, &mut url).unwrap();
    let url = url.trim().to_owned();
    let r = run(bare(home.path())
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIrkvstoreLocalDemo")
        .env(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "rkvstore-local-demo-secret",
        )
        .args([
            "--endpoint",
            &url,
            "backup-tasks",
            "--instance-id",
            "r-demo",
            "--cli-query",
            "InstanceId",
        ]));
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        err.contains("export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIrkvstoreLocalDemo"),
        "{err}"
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "r-demo\n"), "{}", r.stderr);
}

#[test]
fn completion_offers_profiles_regions_and_actions_with_an_install_hint() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
    std::fs::write(
        home.path().join(".aliyun/config.json"),
        r#"{"current":"ops","profiles":[{"name":"ops","mode":"AK"},{"name":"staging","mode":"AK"}]}"#,
    )
    .unwrap();
    assert_eq!(
        ok(bare(home.path()).args(["__complete", "profiles"])).stdout,
        "ops\nstaging\n"
    );
    for shell in ["bash", "zsh", "fish"] {
        let s = ok(bare(home.path()).args(["completions", shell])).stdout;
        assert!(s.contains("rkvstore __complete profiles"), "{shell}");
        assert!(
            s.contains("cn-hangzhou") && s.contains("DescribeBackupTasks"),
            "{shell}"
        );
    }
}

/// Runs `command` in a detached tmux window `width` columns wide; `None` (and a message) when
/// tmux is not installed.
fn tmux(name: &str, width: u16, command: &str) -> Option<Tmux> {
    if std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipping: tmux is not installed (apt-get install -y tmux)");
        return None;
    }
    let socket = format!("rkvstore-test-{name}-{}", std::process::id());
    let status = std::process::Command::new("tmux")
        .args([
            "-L",
            &socket,
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            "12",
        ])
        .args(["-e", "TERM=xterm-256color", command])
        .status()
        .unwrap();
    assert!(status.success());
    Some(Tmux { socket })
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn screen(&self) -> String {
        let out = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        std::process::Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .unwrap();
    }

    fn wait_for(&self, needle: &str) -> String {
        for _ in 0..150 {
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

fn waiting_command(home: &std::path::Path) -> String {
    format!(
        "env -u ALIBABA_CLOUD_ACCESS_KEY_ID HOME={} {} --endpoint local --region cn-hangzhou backup \
         --instance-id r-demo --wait --interval 2; echo EXIT=$?; sleep 30",
        home.display(),
        assert_cmd::cargo::cargo_bin("rkvstore").display()
    )
}

#[test]
fn the_waiting_screen_moves_fits_the_width_and_ctrl_c_prints_the_hint() {
    let home = tempfile::tempdir().unwrap();
    for width in [120u16, 40] {
        let Some(t) = tmux(
            &format!("wait{width}"),
            width,
            &waiting_command(home.path()),
        ) else {
            return;
        };
        let first = t.wait_for("job 100002");
        std::thread::sleep(Duration::from_millis(1100));
        let later = t.screen();
        // The same state, yet the screen moved (spinner, elapsed time).
        assert_ne!(first, later, "the screen stood still at {width} columns");
        let bar_lines: Vec<&str> = later
            .lines()
            .filter(|l| l.contains("job 100002") && l.contains('%'))
            .collect();
        assert_eq!(
            bar_lines.len(),
            1,
            "one bar line, unwrapped, at {width} columns:\n{later}"
        );
        assert!(
            bar_lines[0].chars().count() <= usize::from(width),
            "{later}"
        );
        eprintln!("--- {width} columns ---\n{later}");
        t.keys("C-c");
        let end = t.wait_for("EXIT=");
        assert!(end.contains("EXIT=130"), "{end}");
        let joined = end.replace('\n', "");
        assert!(
            joined.contains("job 100002 continues on the server; follow it with: rkvstore --endpoint local --region cn-hangzhou backup-tasks --instance-id r-demo --job-id 100002 --wait"),
            "{end}"
        );
    }
}

#[test]
fn term_dumb_gets_one_line_per_change() {
    let home = tempfile::tempdir().unwrap();
    let command = format!(
        "TERM=dumb HOME={} {} --endpoint local backup --instance-id r-demo --wait --interval 0.2 --output json >/dev/null; echo EXIT=$?; sleep 30",
        home.path().display(),
        assert_cmd::cargo::cargo_bin("rkvstore").display()
    );
    let Some(t) = tmux("dumb", 80, &command) else {
        return;
    };
    let s = t.wait_for("EXIT=");
    assert!(
        s.contains("job 100002: Uploading 20%") && s.contains("job 100002: Finished 100%"),
        "{s}"
    );
    assert!(s.contains("EXIT=0"), "{s}");
}

#[test]
fn call_prints_json_on_a_terminal_unless_a_table_is_asked_for() {
    let emu = emulator(Pace::PerPoll(1));
    let home = tempfile::tempdir().unwrap();
    for (name, extra, json_expected) in [("json", "", true), ("table", "--output table", false)] {
        let command = format!(
            "env -i HOME={} TERM=xterm-256color ALIBABA_CLOUD_ACCESS_KEY_ID={ID} \
             ALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET} {} --endpoint {} call CreateBackup \
             --InstanceId r-cli {extra}; echo EXIT=$?; sleep 30",
            home.path().display(),
            assert_cmd::cargo::cargo_bin("rkvstore").display(),
            emu.url()
        );
        let Some(t) = tmux(&format!("call{name}"), 100, &command) else {
            return;
        };
        let screen = t.wait_for("EXIT=");
        assert!(screen.contains("EXIT=0"), "{screen}");
        assert_eq!(
            screen.contains("\"BackupJobID\": "),
            json_expected,
            "{name}:\n{screen}"
        );
        assert_eq!(
            screen.contains("Field "),
            !json_expected,
            "{name}:\n{screen}"
        );
    }
}
