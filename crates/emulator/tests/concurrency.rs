//! Many connections at once: a slow answer holds up only its own connection, answers that take
//! time overlap, and a crowd of connections is served in full without passing the bound.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod support;
use support::now;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rkvstore_core::{
    sign, Credentials, DescribeBackupTasks, Endpoint, Operation, SignatureVersion, SignedRequest,
    SigningParams,
};
use rkvstore_emulator::{Builder, Emulator, Fault, FaultRule, FleetSpec, DEFAULT_MAX_CONNECTIONS};

/// A thread reading `stream` as fast as it can, adding the bytes to `received`, until `done`;
/// it returns `true` when the stream was still open then.
fn reader(
    mut stream: TcpStream,
    received: &Arc<AtomicU64>,
    done: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<bool> {
    let (received, done) = (Arc::clone(received), Arc::clone(done));
    std::thread::spawn(move || {
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut buf = vec![0u8; 256 * 1024];
        while !done.load(Ordering::SeqCst) {
            match stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    received.fetch_add(n as u64, Ordering::SeqCst);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return false,
            }
        }
        true
    })
}

/// Once `progress` has reached `at_least` (another connection is busy), a small request on a
/// connection of its own, given 10 s. `what` says what failed when `progress` never gets there.
fn small_request_once(
    url: &str,
    progress: &AtomicU64,
    at_least: u64,
    what: &str,
) -> Result<u16, ureq::Error> {
    let start = Instant::now();
    while progress.load(Ordering::SeqCst) < at_least {
        assert!(start.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    describe_within(url, "r-small", "small", Some(Duration::from_secs(10)))
}

/// DescribeBackupTasks for `instance`, signed now with `nonce` by the emulator's test key.
fn signed_describe(url: &str, instance: &str, nonce: &str) -> SignedRequest {
    let request = DescribeBackupTasks::new(instance)
        .to_request(Endpoint::parse(url).unwrap())
        .unwrap();
    let creds = Credentials::new("id", "secret");
    sign(
        &request,
        &SigningParams {
            credentials: &creds,
            time: now(),
            nonce,
            version: SignatureVersion::V1,
        },
    )
    .unwrap()
}

/// `n` DescribeBackupTasks for `r-a`, each on a connection of its own, are answered 200 within
/// 10 s each.
fn assert_served(url: &str, n: usize) {
    for i in 0..n {
        let status = describe_within(url, "r-a", &format!("n-{i}"), Some(Duration::from_secs(10)));
        assert_eq!(status.ok(), Some(200), "request {i}");
    }
}

/// Sends a signed DescribeBackupTasks for `instance` on a connection of its own; the status.
fn describe(url: &str, instance: &str, nonce: &str) -> u16 {
    describe_within(url, instance, nonce, None).unwrap()
}

/// [`describe`], giving up (and closing the connection) after `timeout` if one is given.
fn describe_within(
    url: &str,
    instance: &str,
    nonce: &str,
    timeout: Option<Duration>,
) -> Result<u16, ureq::Error> {
    let signed = signed_describe(url, instance, nonce);
    // A new agent per call, so that every call has a connection of its own.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .build()
        .into();
    let mut req = ureq::http::Request::builder()
        .method(signed.method().as_str())
        .uri(signed.url());
    for (k, v) in signed.headers() {
        if k != "host" {
            req = req.header(k, v);
        }
    }
    let resp = agent.run(req.body(signed.body().to_vec()).unwrap())?;
    Ok(resp.status().as_u16())
}

#[test]
fn a_slow_answer_holds_up_only_its_own_connection() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .instance("r-slow")
        .instance("r-fast")
        .fault(
            FaultRule::new(Fault::Slow(Duration::from_secs(3)))
                .instance("r-slow")
                .times(1),
        )
        .start("127.0.0.1:0")
        .unwrap();
    let url = emu.url();
    let slow_done = Arc::new(AtomicBool::new(false));
    let slow = {
        let (url, slow_done) = (url.clone(), Arc::clone(&slow_done));
        std::thread::spawn(move || {
            let status = describe(&url, "r-slow", "slow");
            slow_done.store(true, Ordering::SeqCst);
            status
        })
    };
    // Let the slow request reach its delay before the others start.
    std::thread::sleep(Duration::from_millis(300));
    // More connections than the server has workers, so that some share the slow one's worker.
    let fast: Vec<_> = (0..16)
        .map(|i| {
            let (url, slow_done) = (url.clone(), Arc::clone(&slow_done));
            std::thread::spawn(move || {
                let status = describe(&url, "r-fast", &format!("fast-{i}"));
                (status, slow_done.load(Ordering::SeqCst))
            })
        })
        .collect();
    for f in fast {
        let (status, after_slow) = f.join().unwrap();
        assert_eq!(status, 200);
        assert!(!after_slow, "a fast answer waited for the slow one");
    }
    assert_eq!(slow.join().unwrap(), 200);
}

#[test]
fn a_slow_answer_is_finished_and_logged_after_its_client_hangs_up() {
    let delay = Duration::from_millis(1500);
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .instance("r-slow")
        .fault(FaultRule::new(Fault::SlowAfterProcessing(delay)).times(1))
        .start("127.0.0.1:0")
        .unwrap();
    let gave_up = describe_within(
        &emu.url(),
        "r-slow",
        "impatient",
        Some(Duration::from_millis(300)),
    );
    assert!(gave_up.is_err(), "{gave_up:?}");
    // The client has closed its connection; the answer still runs to its end, as the service's
    // would, and is logged.
    let logged = || {
        emu.requests()
            .iter()
            .any(|r| r.nonce.as_deref() == Some("impatient") && r.status == 200)
    };
    let start = Instant::now();
    while !logged() && start.elapsed() < delay * 4 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(logged(), "{:?}", emu.requests());
}

#[test]
fn answers_that_take_time_overlap() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .fleet(FleetSpec::new(4, 7).latency(Duration::from_millis(700)))
        .start("127.0.0.1:0")
        .unwrap();
    let url = emu.url();
    let n = 8;
    let start = Arc::new(Barrier::new(n));
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let (url, start) = (url.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                describe(&url, "r-none", &format!("overlap-{i}"))
            })
        })
        .collect();
    for c in calls {
        c.join().unwrap();
    }
    // Every request was counted in before any of them finished its service time.
    assert_eq!(emu.peak_in_flight(), n);
}

#[test]
fn a_large_answer_reaches_a_slow_reader_whole_while_others_are_served() {
    let size: u64 = 4 << 20;
    let emu = big_and_small(size).start("127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .write_all(&signed_raw(&emu.url(), "r-big", "big"))
        .unwrap();
    // Not reading for a while fills the socket's buffers, so the server has to wait for room.
    std::thread::sleep(Duration::from_millis(500));
    // Meanwhile another connection is answered at once.
    assert_eq!(describe(&emu.url(), "r-small", "small"), 200);
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    read_whole_answer(&mut stream, size);
}

/// A signed DescribeBackupTasks for `instance` as raw HTTP/1.1 bytes, kept alive.
fn signed_raw(url: &str, instance: &str, nonce: &str) -> Vec<u8> {
    let signed = signed_describe(url, instance, nonce);
    let mut raw = format!("{} {} HTTP/1.1\r\n", signed.method().as_str(), {
        let url = signed.url();
        &url[url.find("/?").unwrap()..]
    });
    for (k, v) in signed.headers() {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str(&format!("content-length: {}\r\n\r\n", signed.body().len()));
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(signed.body());
    raw
}

/// Reads a 200 answer's head, then its body until all `size` bytes are in (each read waiting
/// at most ten seconds).
fn read_whole_answer(stream: &mut TcpStream, size: u64) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {size}")), "{head}");
    let mut buf = vec![0u8; 64 * 1024];
    let mut body = 0u64;
    while body < size {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {body} of {size} body bytes");
        body += n as u64;
    }
    assert_eq!(body, size);
}

/// An emulator with `r-big`, which answers its first request with `size` bytes of filler, and
/// `r-small`.
fn big_and_small(size: u64) -> Builder {
    Emulator::builder()
        .access_key("id", "secret")
        .instance("r-big")
        .instance("r-small")
        .fault(
            FaultRule::new(Fault::Oversized(size))
                .instance("r-big")
                .times(1),
        )
}

/// [`big_and_small`] with a single worker, so that every connection shares it.
fn one_worker(size: u64, request_timeout: Duration) -> Emulator {
    big_and_small(size)
        .workers(1)
        .request_timeout(request_timeout)
        .start("127.0.0.1:0")
        .unwrap()
}

#[test]
fn a_reader_that_stops_holds_up_no_other_connection_and_is_closed_after_the_timeout() {
    let size: u64 = 64 << 20;
    let timeout = Duration::from_secs(1);
    let emu = one_worker(size, timeout);
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .write_all(&signed_raw(&emu.url(), "r-big", "big"))
        .unwrap();
    // Not reading: the socket's buffers fill and the answer stalls.
    std::thread::sleep(Duration::from_millis(500));
    // The only worker answers another connection meanwhile.
    let small = describe_within(
        &emu.url(),
        "r-small",
        "small",
        Some(Duration::from_secs(10)),
    );
    assert_eq!(small.ok(), Some(200), "another connection was held up");
    // Past the request timeout (counted from the stall) the server gives up on the reader:
    // what was already in the sockets' buffers arrives, then the end.
    std::thread::sleep(timeout * 2);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "{got} bytes");
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got += n as u64,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("still open after {got} bytes")
            }
            Err(_) => break,
        }
    }
    assert!(
        got < size,
        "the whole answer arrived: the reader was not closed"
    );
}

#[test]
fn a_long_answer_streamed_to_a_fast_reader_does_not_starve_the_others() {
    // Far more than the test could ever read: the answer is still streaming at the end.
    let emu = one_worker(1 << 40, Duration::from_secs(5));
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .write_all(&signed_raw(&emu.url(), "r-big", "big"))
        .unwrap();
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let reader = reader(stream, &received, &done);
    let small = small_request_once(&emu.url(), &received, 1 << 20, "no streaming");
    done.store(true, Ordering::SeqCst);
    let still_streaming = reader.join().unwrap();
    assert_eq!(small.ok(), Some(200), "the other connection was starved");
    assert!(still_streaming, "the long answer ended early");
}

#[test]
fn a_request_timeout_too_long_to_add_up_means_never() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .instance("r-a")
        .workers(1)
        .request_timeout(Duration::MAX)
        .start("127.0.0.1:0")
        .unwrap();
    assert_served(&emu.url(), 3);
}

#[test]
fn a_delay_too_long_to_add_up_holds_up_only_its_own_connection() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .instance("r-forever")
        .instance("r-a")
        .fault(
            FaultRule::new(Fault::Slow(Duration::MAX))
                .instance("r-forever")
                .times(1),
        )
        .workers(1)
        .start("127.0.0.1:0")
        .unwrap();
    let forever = describe_within(
        &emu.url(),
        "r-forever",
        "forever",
        Some(Duration::from_millis(500)),
    );
    // Still waiting when the client gives up, not cut short.
    assert!(
        matches!(forever, Err(ureq::Error::Timeout(_))),
        "{forever:?}"
    );
    assert_served(&emu.url(), 2);
}

#[test]
fn stopping_lets_an_answer_being_written_to_a_slow_reader_finish() {
    // Far more than the sockets' buffers hold.
    let size: u64 = 64 << 20;
    let emu = one_worker(size, Duration::from_secs(10));
    let mut stream = TcpStream::connect(emu.addr()).unwrap();
    stream
        .write_all(&signed_raw(&emu.url(), "r-big", "big"))
        .unwrap();
    // Not reading for a while: the answer stalls part-way.
    std::thread::sleep(Duration::from_millis(500));
    emu.shutdown();
    read_whole_answer(&mut stream, size);
}

/// A connection that sent one request and is waiting for the answer.
struct Waiting {
    stream: TcpStream,
    got: Vec<u8>,
}

impl Waiting {
    /// Reads what has arrived; `true` once the head of an answer is in.
    fn answered(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        self.got.starts_with(b"HTTP/1.1 ") && self.got.windows(4).any(|w| w == b"\r\n\r\n")
    }
}

#[test]
fn two_hundred_connections_are_all_served_never_more_than_the_bound_at_once() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .start("127.0.0.1:0")
        .unwrap();
    let total = 200;
    let mut waiting: Vec<Waiting> = (0..total)
        .map(|_| {
            let mut stream = TcpStream::connect(emu.addr()).unwrap();
            // Kept alive: an answered connection holds its place until the test closes it.
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .unwrap();
            stream.set_nonblocking(true).unwrap();
            Waiting {
                stream,
                got: Vec::new(),
            }
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut served = 0;
    let mut waves = 0;
    while !waiting.is_empty() {
        assert!(Instant::now() < deadline, "{served} of {total} served");
        // Collect answers until none has come for a while: the server is then holding as many
        // connections as it will.
        let mut open = Vec::new();
        let mut quiet_since = Instant::now();
        while quiet_since.elapsed() < Duration::from_millis(500) {
            let before = open.len();
            let mut still = Vec::new();
            for mut w in waiting.drain(..) {
                if w.answered() {
                    open.push(w);
                } else {
                    still.push(w);
                }
            }
            waiting = still;
            assert!(
                open.len() <= DEFAULT_MAX_CONNECTIONS,
                "{} connections answered at once",
                open.len()
            );
            if open.len() > before {
                quiet_since = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !open.is_empty() || waiting.is_empty(),
            "no answer in a wave"
        );
        served += open.len();
        waves += 1;
        // Closing the answered connections lets the server take the next ones in.
        drop(open);
    }
    assert_eq!(served, total);
    // 200 connections with room for 128 at a time: the rest waited for the first to close.
    assert!(waves >= 2, "all served in {waves} wave(s)");
}

#[test]
fn a_client_pipelining_without_pause_does_not_starve_the_others() {
    let emu = one_worker(0, Duration::from_secs(5));
    let stream = TcpStream::connect(emu.addr()).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    // One thread sends requests back to back, never waiting for an answer, so that the
    // connection always has a request ready; another reads the answers as fast as they come.
    let writer = {
        let (mut stream, done) = (stream.try_clone().unwrap(), Arc::clone(&done));
        std::thread::spawn(move || {
            stream
                .set_write_timeout(Some(Duration::from_secs(1)))
                .unwrap();
            let batch = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(4096);
            while !done.load(Ordering::SeqCst) {
                match stream.write_all(&batch) {
                    Ok(()) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => return,
                }
            }
        })
    };
    let answered = Arc::new(AtomicU64::new(0));
    let reader = reader(stream, &answered, &done);
    let small = small_request_once(&emu.url(), &answered, 64 * 1024, "no answers");
    done.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    reader.join().unwrap();
    assert_eq!(small.ok(), Some(200), "the other connection was starved");
}
