//! A connection that idles or sends a request a byte at a time is closed after the request
//! timeout, so slow clients cannot hold the server's threads.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rkvstore_emulator::{Emulator, DEFAULT_REQUEST_TIMEOUT};

const TIMEOUT: Duration = Duration::from_millis(800);

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key("id", "secret")
        .request_timeout(TIMEOUT)
        .start("127.0.0.1:0")
        .unwrap()
}

/// Reads until the server closes the connection; how long that took, or `None` if it was
/// still open after five seconds.
fn time_to_close(stream: &mut TcpStream, start: Instant) -> Option<Duration> {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 1024];
    while start.elapsed() < Duration::from_secs(5) {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn the_default_timeout_is_a_few_tens_of_seconds() {
    assert!((10..=30).contains(&DEFAULT_REQUEST_TIMEOUT.as_secs()));
}

#[test]
fn a_half_sent_request_is_closed_after_the_timeout() {
    let emu = emulator();
    let start = Instant::now();
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let took = time_to_close(&mut s, start).expect("still open after 5 s");
    assert!(took >= TIMEOUT.mul_f32(0.9), "closed after {took:?}");
}

#[test]
fn an_idle_connection_is_closed_after_the_timeout() {
    let emu = emulator();
    let start = Instant::now();
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    let took = time_to_close(&mut s, start).expect("still open after 5 s");
    assert!(took >= TIMEOUT.mul_f32(0.9), "closed after {took:?}");
}

#[test]
fn a_request_sent_a_byte_at_a_time_does_not_hold_the_connection() {
    let emu = emulator();
    let start = Instant::now();
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    let mut writer = s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        // Each byte arrives well within the timeout; together they never finish a request.
        for b in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            .iter()
            .cycle()
            .take(40)
        {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let took = time_to_close(&mut s, start).expect("still open after 5 s");
    assert!(took < TIMEOUT * 3, "closed after {took:?}");
    drop(s);
    trickle.join().unwrap();
}

#[test]
fn a_kept_alive_connection_serves_more_than_one_request() {
    let emu = emulator();
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..3 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut s);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer:?}");
        // Waiting less than the timeout between requests is fine, however often.
        std::thread::sleep(TIMEOUT / 2);
    }
}

/// Reads one answer: the head, then as many body bytes as its `Content-Length` says.
fn read_answer(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}
