//! The emulator survives hostile or broken clients: huge headers, bad lengths, running out of
//! file descriptors, absurd flags. Everything goes over real loopback sockets.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rkvstore_emulator::{Emulator, EmulatorArgs, Error};

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key("id", "secret")
        .instance("r-a")
        .start("127.0.0.1:0")
        .unwrap()
}

/// Sends `request` as raw bytes and returns everything the server answers until it closes the
/// connection or goes quiet for five seconds.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    // A refused connection is an empty answer, which every caller treats as a failure.
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return String::new();
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // A server that closes early may make the tail of a large write fail; its answer is what
    // matters here.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// A plain request that any working server answers at once (the emulator says 400: unsigned).
fn still_serves(addr: SocketAddr) -> bool {
    exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 ")
}

#[test]
fn a_huge_header_is_answered_431_and_the_server_goes_on() {
    let emu = emulator();
    let mut request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 128 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    let answer = exchange(emu.addr(), &request);
    assert!(
        answer.starts_with("HTTP/1.1 431 "),
        "{:?}",
        answer.get(..answer.len().min(200))
    );
    assert!(still_serves(emu.addr()));
}

#[test]
fn a_bad_content_length_is_answered_400_before_the_emulator_sees_it() {
    let emu = emulator();
    for length in ["-5", "99999999999999999999", "12abc"] {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\nAction=X"
        );
        let answer = exchange(emu.addr(), request.as_bytes());
        assert!(answer.starts_with("HTTP/1.1 400 "), "{length}: {answer:?}");
        // The HTTP layer refused it: no request ID, nothing in the log.
        assert!(
            !answer.to_ascii_lowercase().contains("x-acs-request-id"),
            "{length}: {answer:?}"
        );
    }
    assert_eq!(emu.requests(), []);
    assert!(still_serves(emu.addr()));
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn running_out_of_file_descriptors_only_pauses_the_binary() {
    // With 32 descriptors the binary can hold fewer than 30 connections, so 60 slow ones
    // exhaust them; the rest wait in the listen queue.
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 32 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_rkvstore-emulator"))
        .args(["--listen", "127.0.0.1:0", "--instance", "r-fd"])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "fd-id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "fd-secret")
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line.trim().trim_start_matches("http://").parse().unwrap();
    assert!(still_serves(addr));

    let mut slow = Vec::new();
    for _ in 0..60 {
        // A server that lost its listener refuses; the check below reports that.
        let Ok(mut s) = TcpStream::connect(addr) else {
            break;
        };
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        slow.push(s);
    }
    // Give the server time to accept all it can and run into the limit.
    std::thread::sleep(Duration::from_millis(500));
    drop(slow);

    let start = Instant::now();
    let mut served = false;
    while !served && start.elapsed() < Duration::from_secs(10) {
        served = still_serves(addr);
    }
    assert!(served, "no answer after the slow connections closed");
    assert!(child.0.try_wait().unwrap().is_none(), "the emulator exited");
}

fn run_binary(extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rkvstore-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "flag-id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "flag-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn absurd_flags_are_usage_errors_not_panics() {
    for (flag, value, says) in [
        ("--step-seconds", "1e300", "at most 86400"),
        ("--step-seconds", "inf", "at most 86400"),
        ("--clock-offset", "9223372036854775807", "315360000"),
        ("--clock-offset", "-9223372036854775808", "315360000"),
    ] {
        let arg = format!("{flag}={value}");
        let (code, err) = run_binary(&[arg.as_str()]);
        assert_eq!(code, Some(2), "{arg}: {err}");
        assert!(err.contains(flag) && err.contains(says), "{arg}: {err}");
        assert!(!err.contains("panicked"), "{arg}: {err}");
    }
}

fn args(secret: &str, token: Option<&str>) -> EmulatorArgs {
    EmulatorArgs {
        listen: "127.0.0.1:0".into(),
        access_key_id: "LTAIvisible".into(),
        access_key_secret: secret.into(),
        security_token: token.map(str::to_owned),
        instances: vec!["r-a".into()],
        step_seconds: 0.0,
        clock_offset: 0,
        roles: Vec::new(),
        ecs_role: None,
        no_imdsv1: false,
        credentials_lifetime: None,
        backups: 0,
        download_url_lifetime: None,
        cut_downloads_after: None,
    }
}

#[test]
fn the_builder_names_the_flag_and_its_range() {
    let mut a = args("s", None);
    a.step_seconds = 1e300;
    match a.builder() {
        Err(Error::Config(msg)) => assert!(
            msg.contains("--step-seconds") && msg.contains("86400"),
            "{msg}"
        ),
        other => panic!("{other:?}"),
    }
    for offset in [i64::MAX, i64::MIN] {
        let mut a = args("s", None);
        a.clock_offset = offset;
        match a.builder() {
            Err(Error::Config(msg)) => assert!(
                msg.contains("--clock-offset") && msg.contains("315360000"),
                "{msg}"
            ),
            other => panic!("{offset}: {other:?}"),
        }
    }
}

#[test]
fn an_absurd_clock_offset_is_refused_or_cut_to_the_limit() {
    let refused = Emulator::builder()
        .access_key("id", "secret")
        .clock_offset(i64::MAX)
        .start("127.0.0.1:0");
    assert!(matches!(refused, Err(Error::Config(_))), "{refused:?}");
    // At run time there is no error to return, so the offset is cut to ten years; the server
    // must still answer (with a Date ten years off) rather than panic in its handler.
    let emu = emulator();
    for offset in [i64::MAX, i64::MIN] {
        emu.set_clock_offset(offset);
        let answer = exchange(
            emu.addr(),
            b"GET /?Action=DescribeBackupTasks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        );
        assert!(answer.starts_with("HTTP/1.1 400 "), "{offset}: {answer:?}");
    }
}

#[test]
fn debug_output_hides_the_secret_and_the_token() {
    let shown = format!("{:?}", args("top-secret-value", Some("sts-token-value")));
    assert!(!shown.contains("top-secret-value"), "{shown}");
    assert!(!shown.contains("sts-token-value"), "{shown}");
    assert!(shown.contains("LTAIvisible"), "{shown}");
}

#[test]
fn a_body_past_one_mib_is_answered_413() {
    let emu = emulator();
    let body = vec![b'a'; (1 << 20) + 1];
    // Announced up front, and sent in chunks with no length announced.
    let mut announced = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    announced.extend_from_slice(&body);
    let mut chunked =
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for part in body.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    for request in [announced, chunked] {
        let answer = exchange(emu.addr(), &request);
        assert!(
            answer.starts_with("HTTP/1.1 413 ") && answer.contains("RequestTooLarge"),
            "{:?}",
            answer.get(..answer.len().min(300))
        );
    }
    assert!(still_serves(emu.addr()));
}

#[test]
fn shutdown_is_prompt_and_ends_idle_connections() {
    let emu = emulator();
    let addr = emu.addr();
    let mut idle = TcpStream::connect(addr).unwrap();
    // Let the connection be accepted before stopping.
    assert!(still_serves(addr));
    let start = Instant::now();
    emu.shutdown();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    idle.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 16];
    // End of file or a reset, not a timeout: the server closed its side.
    match idle.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
    assert!(TcpStream::connect(addr).is_err(), "still accepting");
}
