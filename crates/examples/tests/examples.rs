//! Both example transports against the emulator over loopback: plain listings in both
//! signatures, throttling with retry hints, a skewed server clock, and following a job.
//!
//! The examples' own source files are compiled in here as modules, so the code under test is
//! exactly the code a reader sees; one run of each through `cargo run --example`'s binary checks
//! the command line, the environment and the exit statuses too.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rkvstore_core::{Credentials, DescribeBackupTasksResponse, JobMode, SignatureVersion};
use rkvstore_emulator::{Emulator, Fault, FaultRule, JobSeed, Pace, RequestRecord};
use rkvstore_examples::{Args, Failure};

// `main` and the helpers a test does not call are unused here.
#[allow(dead_code)]
#[path = "../examples/custom_transport.rs"]
mod custom_transport;

#[allow(dead_code)]
#[path = "../examples/async_transport.rs"]
mod async_transport;

const ID: &str = "LTAIexamples";
const SECRET: &str = "examples-secret";
const INSTANCE: &str = "r-ex";

fn emulator(clock_offset: i64) -> Emulator {
    Emulator::builder()
        .access_key(ID, SECRET)
        .instance(INSTANCE)
        .seed_job(INSTANCE, JobSeed::finished_automated())
        .pace(Pace::PerPoll(1))
        .clock_offset(clock_offset)
        .start("127.0.0.1:0")
        .unwrap()
}

fn creds() -> Credentials {
    Credentials::new(ID, SECRET)
}

fn args(emu: &Emulator, extra: &[&str]) -> Args {
    let mut words = vec![
        "--endpoint".to_owned(),
        emu.url(),
        "--instance-id".to_owned(),
        INSTANCE.to_owned(),
    ];
    words.extend(extra.iter().map(|w| (*w).to_owned()));
    Args::parse(words).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum Transport {
    Custom,
    Async,
}

const BOTH: [Transport; 2] = [Transport::Custom, Transport::Async];

/// Runs one example's logic in-process: the JSON it would print and the change lines.
fn run(transport: Transport, args: &Args) -> (Result<String, Failure>, Vec<String>) {
    let mut lines = Vec::new();
    let mut on_change =
        |job: &rkvstore_core::BackupJob| lines.push(rkvstore_examples::change_line(job));
    let result = match transport {
        Transport::Custom => custom_transport::run(args, &creds(), &mut on_change),
        Transport::Async => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async_transport::run(args, &creds(), &mut on_change)),
    };
    (result, lines)
}

fn ok(transport: Transport, args: &Args) -> (String, Vec<String>) {
    let (result, lines) = run(transport, args);
    match result {
        Ok(json) => (json, lines),
        Err(e) => panic!("{transport:?}: {e}"),
    }
}

/// The listing as `rkvstore --output json backup-tasks` prints it: the answer's own
/// serialization, which keeps the API's names and order.
fn assert_cli_json(json: &str) {
    let answer: DescribeBackupTasksResponse = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string_pretty(&answer).unwrap(), json);
    let keys: Vec<usize> = ["\"RequestId\"", "\"InstanceId\"", "\"BackupJobs\""]
        .iter()
        .map(|k| {
            json.find(k)
                .unwrap_or_else(|| panic!("{k} missing: {json}"))
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "API order: {json}");
    assert_eq!(answer.instance_id, INSTANCE);
    assert_eq!(answer.backup_jobs.len(), 1);
    assert!(answer.backup_jobs[0].is_finished());
    assert_eq!(answer.backup_jobs[0].job_mode, Some(JobMode::Automated));
}

fn nonces(records: &[RequestRecord]) -> HashSet<String> {
    records.iter().filter_map(|r| r.nonce.clone()).collect()
}

#[test]
fn both_transports_list_jobs_in_both_signatures() {
    let emu = emulator(0);
    for transport in BOTH {
        for (flag, version) in [("v1", SignatureVersion::V1), ("v3", SignatureVersion::V3)] {
            let before = emu.requests().len();
            let (json, lines) = ok(transport, &args(&emu, &["--signature-version", flag]));
            assert_cli_json(&json);
            assert!(lines.is_empty());
            let records = emu.requests();
            let new = &records[before..];
            assert_eq!(new.len(), 1, "{transport:?} {flag}: {new:?}");
            assert_eq!(new[0].signature_version, Some(version));
            assert_eq!(new[0].action.as_deref(), Some("DescribeBackupTasks"));
            assert_eq!(new[0].status, 200);
        }
    }
}

#[test]
fn throttling_is_retried_with_fresh_nonces_after_the_hinted_delay() {
    for transport in BOTH {
        let emu = emulator(0);
        emu.add_fault(
            FaultRule::new(Fault::Throttle {
                retry_after_ms: Some(300),
            })
            .action("DescribeBackupTasks")
            .times(2),
        );
        let started = Instant::now();
        let (json, _) = ok(transport, &args(&emu, &[]));
        let elapsed = started.elapsed();
        assert_cli_json(&json);
        let records = emu.requests();
        let codes: Vec<Option<&str>> = records.iter().map(|r| r.code.as_deref()).collect();
        assert_eq!(
            codes,
            [Some("Throttling.User"), Some("Throttling.User"), None],
            "{transport:?}"
        );
        assert_eq!(nonces(&records).len(), 3, "{transport:?}: {records:?}");
        // Two hints of 300 ms, each slept in full. (A lower bound only: the machine may be slow.)
        assert!(
            elapsed >= Duration::from_millis(600),
            "{transport:?}: {elapsed:?}"
        );
    }
}

#[test]
fn throttling_past_the_attempts_is_an_error_naming_them() {
    for transport in BOTH {
        let emu = emulator(0);
        emu.add_fault(FaultRule::new(Fault::Throttle {
            retry_after_ms: Some(10),
        }));
        let (result, _) = run(transport, &args(&emu, &[]));
        let e = result.unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        assert!(
            text.contains("gave up after 3 attempts") && text.contains("Throttling.User"),
            "{transport:?}: {text}"
        );
        assert_eq!(nonces(&emu.requests()).len(), 3);
    }
}

#[test]
fn a_skewed_server_clock_costs_one_re_signing() {
    for transport in BOTH {
        let emu = emulator(3600);
        let (json, _) = ok(transport, &args(&emu, &["--signature-version", "v3"]));
        assert_cli_json(&json);
        let records = emu.requests();
        let codes: Vec<Option<&str>> = records.iter().map(|r| r.code.as_deref()).collect();
        assert_eq!(
            codes,
            [Some("InvalidTimeStamp.Expired"), None],
            "{transport:?}"
        );
        assert_eq!(nonces(&records).len(), 2);
    }
}

#[test]
fn a_job_is_followed_to_finished_one_line_per_change() {
    for transport in BOTH {
        // The server's clock is an hour ahead too: the correction the first poll learns is
        // kept for the others, so only the first is ever refused.
        let emu = emulator(3600);
        let job_id = emu
            .seed_job(
                INSTANCE,
                JobSeed {
                    mode: JobMode::Manual,
                    step: 0,
                    frozen: false,
                },
            )
            .unwrap();
        let job = job_id.to_string();
        let (json, lines) = ok(
            transport,
            &args(&emu, &["--wait-job", &job, "--interval", "0.01"]),
        );
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
        .map(|s| format!("job {job_id}: {s}"))
        .collect();
        assert_eq!(lines, expected, "{transport:?}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["InstanceId"], INSTANCE);
        assert_eq!(value["BackupJobs"][0]["BackupJobID"], job_id);
        assert_eq!(value["BackupJobs"][0]["BackupProgressStatus"], "Finished");
        let records = emu.requests();
        let expired = records
            .iter()
            .filter(|r| r.code.as_deref() == Some("InvalidTimeStamp.Expired"))
            .count();
        assert_eq!(expired, 1, "{transport:?}: {records:?}");
        assert_eq!(nonces(&records).len(), records.len());
    }
}

#[test]
fn a_missing_job_and_a_stuck_one_end_the_wait_as_the_cli_does() {
    for transport in BOTH {
        let emu = emulator(0);
        // The timeout cuts the minute-long grace period for a job that is not listed short.
        let missing = args(
            &emu,
            &[
                "--wait-job",
                "424242",
                "--interval",
                "0.01",
                "--timeout",
                "0.2",
            ],
        );
        let (result, lines) = run(transport, &missing);
        let e = result.unwrap_err();
        assert!(
            e.to_string()
                .contains("backup job 424242 of instance r-ex did not appear"),
            "{transport:?}: {e}"
        );
        assert_eq!(e.exit_code(), 1);
        assert!(lines.is_empty());

        let stuck = emu
            .seed_job(INSTANCE, JobSeed::stuck_manual())
            .unwrap()
            .to_string();
        let stuck = args(
            &emu,
            &[
                "--wait-job",
                &stuck,
                "--interval",
                "0.01",
                "--timeout",
                "0.2",
            ],
        );
        let (result, lines) = run(transport, &stuck);
        let e = result.unwrap_err();
        assert!(
            e.to_string().contains("last status Uploading at 20%"),
            "{transport:?}: {e}"
        );
        assert_eq!(e.exit_code(), 4);
        assert_eq!(lines.len(), 1, "{lines:?}");
    }
}

/// The examples' binaries, built now so that they are never stale. `cargo test --all-targets`
/// builds examples as test harnesses, not as the programs `cargo run --example` runs, so
/// they are built here the way `cargo run --example` builds them (which takes a second or two
/// once the dependencies are built).
fn example_binaries() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "-q", "-p", "rkvstore-examples"])
        .args([
            "--example",
            "custom_transport",
            "--example",
            "async_transport",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --example failed");
    // Test binaries live in target/<profile>/deps, examples in target/<profile>/examples.
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("examples")
}

fn run_binary(dir: &Path, name: &str, args: &[&str], key: Option<(&str, &str)>) -> Output {
    let mut cmd = Command::new(dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)));
    cmd.args(args)
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN");
    if let Some((id, secret)) = key {
        cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret);
    }
    cmd.output().unwrap()
}

#[test]
fn the_command_lines_work_and_exit_as_the_cli_does() {
    let emu = emulator(0);
    emu.add_fault(
        FaultRule::new(Fault::Throttle {
            retry_after_ms: Some(50),
        })
        .times(2),
    );
    let url = emu.url();
    let dir = example_binaries();
    for name in ["custom_transport", "async_transport"] {
        let listing = ["--endpoint", &url, "--instance-id", INSTANCE];
        let out = run_binary(&dir, name, &listing, Some((ID, SECRET)));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
        assert_cli_json(stdout.trim_end());

        let out = run_binary(&dir, name, &listing, None);
        assert_eq!(out.status.code(), Some(3), "{name}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("ALIBABA_CLOUD_ACCESS_KEY_ID"));

        let out = run_binary(&dir, name, &["--instance-id", INSTANCE], Some((ID, SECRET)));
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");

        let wrong = ["--endpoint", &url, "--instance-id", "r-nope"];
        let out = run_binary(&dir, name, &wrong, Some((ID, SECRET)));
        assert_eq!(out.status.code(), Some(1), "{name}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidInstanceId.NotFound"));
    }
    // The two throttled answers went to the first run, which retried through them.
    let records = emu.requests();
    assert_eq!(records[0].code.as_deref(), Some("Throttling.User"));
    assert_eq!(nonces(&records).len(), records.len());
}

#[test]
fn the_hand_written_reader_takes_lengths_chunks_and_eof_and_refuses_the_rest() {
    use rkvstore_core::call::TransportKind;
    let read = |bytes: &[u8]| custom_transport::read_response(bytes);

    let r = read(b"HTTP/1.1 400 Bad Request\r\nDate: Sun, 29 Nov 2026 20:00:00 GMT\r\nx-acs-retry-after: 300\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
    assert_eq!((r.status, r.body.as_slice()), (400, &b"{}"[..]));
    assert_eq!(r.date.as_deref(), Some("Sun, 29 Nov 2026 20:00:00 GMT"));
    assert_eq!(r.retry_after.as_deref(), Some("300"));

    let r = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\n{\"a\r\n2\r\n\":\r\n1\r\n1\r\n0\r\nTrailer: t\r\n\r\n").unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"a\":1"[..]));

    let r = read(b"HTTP/1.0 200 OK\nConnection: close\n\nto the end").unwrap();
    assert_eq!(r.body, b"to the end");

    let too_large = read(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n").unwrap_err();
    assert!(
        matches!(too_large.kind, TransportKind::TooLarge { .. }),
        "{too_large:?}"
    );
    let chunk =
        read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n").unwrap_err();
    assert!(
        matches!(chunk.kind, TransportKind::TooLarge { .. }),
        "{chunk:?}"
    );

    for broken in [
        &b""[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n",
    ] {
        let e = read(broken).unwrap_err();
        assert_eq!(
            e.kind,
            TransportKind::NoAnswer,
            "{:?}: {e:?}",
            String::from_utf8_lossy(broken)
        );
    }
}

#[test]
fn a_token_that_would_split_the_request_is_refused_before_sending() {
    let emu = emulator(0);
    // ACS3 sends the security token as a header, where a newline would start another header.
    // The core refuses it when signing, so neither transport ever sees it (each also refuses
    // such a header value itself).
    let creds = Credentials::new(ID, SECRET).with_security_token("token\r\nX-Injected: 1");
    let args = args(&emu, &["--signature-version", "v3"]);
    let custom = custom_transport::run(&args, &creds, &mut |_| {});
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hyper = runtime.block_on(async_transport::run(&args, &creds, &mut |_| {}));
    for result in [custom, hyper] {
        let e = result.unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().contains("SecurityToken"), "{e}");
        assert!(!e.to_string().contains("X-Injected"), "{e}");
    }
    assert!(emu.requests().is_empty());
}
