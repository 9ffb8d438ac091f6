//! The binary against hostile surroundings: closed pipes and full disks, local files that are
//! not files, endless polling, malformed endpoints, over-long parameters and mistyped regions.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use assert_cmd::Command;
use rkvstore_emulator::{Emulator, JobSeed, Pace};
use support::run::{assert_has, Run};

mod support {
    pub mod run;
}

const ID: &str = "LTAIhardening";
const SECRET: &str = "hardening-secret";

/// Variables that would let the developer's own setup leak into a test.
const CLEARED: [&str; 8] = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
];

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .instance("r-cli")
        .seed_job("r-cli", JobSeed::finished_automated())
        .pace(Pace::PerPoll(1))
        .start("127.0.0.1:0")
        .unwrap()
}

/// `rkvstore` as a plain process, with the test key and an empty HOME, for tests that need
/// control over its pipes.
fn process(home: &Path) -> StdCommand {
    let mut c = StdCommand::cargo_bin("rkvstore").unwrap();
    for var in CLEARED {
        c.env_remove(var);
    }
    c.env("HOME", home)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
    c
}

/// `rkvstore` under assert_cmd with a deadline, so that a hang fails the test instead of
/// stalling it; `keys` puts the test key in the environment.
fn cmd(home: &Path, keys: bool) -> Command {
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    for var in CLEARED {
        c.env_remove(var);
    }
    c.env("HOME", home).timeout(Duration::from_secs(20));
    if keys {
        c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET);
    }
    c
}

#[track_caller]
fn run(c: &mut Command) -> Run {
    support::run::run(c, &[])
}

fn mkfifo(path: &Path) {
    let ok = StdCommand::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success(), "mkfifo failed");
}

// ---- Item 5: closed pipes and failed writes -------------------------------------------------

#[test]
fn closed_stdout_and_stderr_end_quietly_with_status_0() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        // Both read ends are closed before the first byte is written: the first write happens
        // only after a round trip to the emulator.
        let mut child = process(home.path())
            .args(["--endpoint", &emu.url(), "--output", "json"])
            .args([
                "backup",
                "--instance-id",
                "r-cli",
                "--wait",
                "--interval",
                "0.5",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{status:?} (134 is an abort)");
    }
}

#[test]
fn head_of_merged_output_ends_the_wait_quietly() {
    // `rkvstore … backup --wait 2>&1 | head -1`: one pipe for both streams, closed by the
    // reader after the first line, while progress lines are still coming.
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let mut child = process(home.path())
            .args(["--endpoint", &emu.url(), "--output", "table"])
            .args([
                "backup",
                "--instance-id",
                "r-cli",
                "--wait",
                "--interval",
                "0.5",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Stderr carries the progress lines; reading one of them and hanging up is `head -1`.
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        err.read_line(&mut first).unwrap();
        drop(err);
        drop(child.stdout.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{status:?} after {first:?}");
        assert!(first.starts_with("Started backup job"), "{first:?}");
    }
}

#[test]
fn a_closed_stdout_is_no_configuration_error() {
    // `rkvstore backup-tasks … | true`: nothing on stderr, status 0.
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        let mut child = process(home.path())
            .args(["--endpoint", &emu.url(), "--output", "json"])
            .args(["backup-tasks", "--instance-id", "r-cli"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{stderr}");
        assert_eq!(stderr, "");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_exit_1_never_3_or_an_abort() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // Stdout full: an output error, said on stderr.
    let out = process(home.path())
        .args(["--endpoint", &emu.url(), "--output", "json"])
        .args(["backup-tasks", "--instance-id", "r-cli"])
        .stdout(full())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_has(
        &stderr,
        "error: cannot write the output: No space left on device",
    );
    // Stderr full while progress lines are written: status 1, and no abort.
    let out = process(home.path())
        .args(["--endpoint", &emu.url(), "--output", "json"])
        .args([
            "backup",
            "--instance-id",
            "r-cli",
            "--wait",
            "--interval",
            "0.5",
        ])
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", out.status);
}

// ---- Item 7: local files that are not regular files, and polling too fast ---------------------

#[cfg(unix)]
#[test]
fn a_parameter_file_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let cases = [
        (
            Path::new("/dev/zero"),
            "it is a character device, not a regular file",
        ),
        (
            fifo.as_path(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (a.as_path(), "it is a symlink loop"),
        (dir.path(), "it is a directory, not a regular file"),
    ];
    for (path, problem) in cases {
        let r = run(cmd(dir.path(), true)
            .args(["--endpoint", "local", "call", "DescribeBackupTasks"])
            .args(["--InstanceId", "r-demo", "--Description-FILE"])
            .arg(path));
        assert_eq!(r.code, 2, "{}: {}", path.display(), r.stderr);
        assert_has(
            &r.stderr,
            &format!(
                "--Description-FILE: cannot read {}: {problem}",
                path.display()
            ),
        );
    }
    // Larger than a call's parameters may be: refused after reading at most the cap.
    let big = dir.path().join("big");
    std::fs::write(&big, "x".repeat(40 * 1024)).unwrap();
    let r = run(cmd(dir.path(), true)
        .args(["--endpoint", "local", "call", "DescribeBackupTasks"])
        .args(["--InstanceId", "r-demo", "--Description-FILE"])
        .arg(&big));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(&r.stderr, "it is larger than the limit of 32 KiB");
}

#[cfg(unix)]
#[test]
fn credentials_files_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let args = [
        "--region",
        "cn-hangzhou",
        "--dry-run",
        "backup-tasks",
        "--instance-id",
        "r-cli",
    ];

    // The INI credentials file named by the environment.
    for (path, problem) in [
        (
            fifo.as_path(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (a.as_path(), "it is a symlink loop"),
        (
            Path::new("/dev/zero"),
            "it is a character device, not a regular file",
        ),
    ] {
        let r = run(cmd(&home, false)
            .env("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
            .args(args));
        assert_eq!(r.code, 3, "{}: {}", path.display(), r.stderr);
        assert_has(
            &r.stderr,
            &format!("cannot use {}: cannot read it: {problem}", path.display()),
        );
    }

    // The aliyun CLI's config file: a FIFO, a link to /dev/zero, a link loop.
    let config = home.join(".aliyun").join("config.json");
    let cases: [(&dyn Fn(), &str); 3] = [
        (
            &|| mkfifo(&config),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (
            &|| std::os::unix::fs::symlink("/dev/zero", &config).unwrap(),
            "it is a character device, not a regular file",
        ),
        (
            &|| {
                let other = home.join(".aliyun").join("other.json");
                std::os::unix::fs::symlink(&other, &config).unwrap();
                std::os::unix::fs::symlink(&config, &other).unwrap();
            },
            "it is a symlink loop",
        ),
    ];
    for (make, problem) in cases {
        let _ = std::fs::remove_file(&config);
        let _ = std::fs::remove_file(home.join(".aliyun").join("other.json"));
        make();
        let r = run(cmd(&home, false).args(args));
        assert_eq!(r.code, 3, "{problem}: {}", r.stderr);
        assert_has(
            &r.stderr,
            &format!("cannot use {}: cannot read it: {problem}", config.display()),
        );
    }
}

#[test]
fn polling_faster_than_half_a_second_is_refused_except_locally() {
    let home = tempfile::tempdir().unwrap();
    for interval in ["1e-9", "0.1", "0.49"] {
        let r = run(cmd(home.path(), true)
            .args(["--endpoint", "https://r-kvstore.nowhere.invalid"])
            .args(["backup-tasks", "--instance-id", "r-cli", "--wait"])
            .args(["--interval", interval]));
        assert_eq!(r.code, 2, "{interval}: {}", r.stderr);
        assert_has(&r.stderr, "--interval must be at least 0.5 seconds");
    }
    // The in-process emulator may be polled as fast as one likes.
    let r = run(cmd(home.path(), false)
        .args(["--endpoint", "local", "--output", "json"])
        .args([
            "backup",
            "--instance-id",
            "r-demo",
            "--wait",
            "--interval",
            "0.01",
        ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_has(&r.stdout, "\"Finished\"");
}

// ---- Item 8: exit codes and messages ----------------------------------------------------------

#[test]
fn a_malformed_endpoint_is_a_usage_error_saying_what_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    for (endpoint, problem) in [
        ("http://[::1", "the IPv6 address has no closing ']'"),
        (
            "http://host:99999",
            "the port is not a number from 1 to 65535",
        ),
        ("http://::1", "an IPv6 address goes in brackets"),
    ] {
        let r = run(cmd(home.path(), true).args(["--endpoint", endpoint]).args([
            "backup-tasks",
            "--instance-id",
            "r-cli",
        ]));
        assert_eq!(r.code, 2, "{endpoint}: {}", r.stderr);
        assert_has(
            &r.stderr,
            &format!("invalid endpoint {endpoint:?}: {problem}"),
        );
    }
}

#[test]
fn an_over_long_parameter_is_a_usage_error_naming_the_limit() {
    let emu = emulator();
    let home = tempfile::tempdir().unwrap();
    let r = run(cmd(home.path(), true)
        .args(["--endpoint", &emu.url(), "call", "DescribeBackupTasks"])
        .args(["--InstanceId", "r-cli", "--Description"])
        .arg("d".repeat(100 * 1024)));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_has(&r.stderr, "--Description is too long: 102400 bytes");
    assert_has(&r.stderr, "within 32 KiB");
    assert!(emu.requests().is_empty(), "nothing is sent");
    // A large value within the limit still goes through.
    let r = run(cmd(home.path(), true)
        .args(["--endpoint", &emu.url(), "call", "DescribeBackupTasks"])
        .args(["--InstanceId", "r-cli", "--Description"])
        .arg("d".repeat(20 * 1024)));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn an_unresolvable_host_is_named() {
    // The reserved .invalid domain never resolves (RFC 6761).
    let home = tempfile::tempdir().unwrap();
    let r = run(cmd(home.path(), true)
        .args([
            "--endpoint",
            "https://r-kvstore.nowhere.invalid",
            "--retries",
            "0",
        ])
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_has(
        &r.stderr,
        "could not resolve host r-kvstore.nowhere.invalid",
    );
}

#[test]
fn an_unknown_region_is_warned_about_and_sent_anyway() {
    let home = tempfile::tempdir().unwrap();
    let r = run(cmd(home.path(), true)
        .args(["--region", "cn-hangzu", "--dry-run"])
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "warning: unknown region cn-hangzu; did you mean cn-hangzhou? \
         (sending anyway: new regions appear)\n"
    );
    assert_has(&r.stdout, "https://r-kvstore.cn-hangzu.aliyuncs.com/");
    // A known region draws no warning.
    let r = run(cmd(home.path(), true)
        .args(["--region", "cn-shanghai", "--dry-run"])
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
}

#[test]
fn an_unknown_region_that_does_not_resolve_suggests_the_right_one() {
    // Without a network the name does not resolve, nor on a networked machine unless a resolver
    // invents answers; only in that case is there nothing to check here.
    let host = "r-kvstore.cn-hangzu.aliyuncs.com";
    if std::net::ToSocketAddrs::to_socket_addrs(&(host, 443)).is_ok() {
        eprintln!("skipped: {host} resolves here");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let r = run(cmd(home.path(), true)
        .args(["--region", "cn-hangzu", "--retries", "0"])
        .args(["backup-tasks", "--instance-id", "r-cli"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_has(
        &r.stderr,
        "could not resolve host r-kvstore.cn-hangzu.aliyuncs.com: ",
    );
    assert_has(
        &r.stderr,
        "; unknown region cn-hangzu; did you mean cn-hangzhou?",
    );
}
