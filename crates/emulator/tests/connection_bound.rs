//! Idle connections past the bound do not each get a thread, and the server goes on serving
//! once they close. Alone in its test binary, so that no other test's threads are counted.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rkvstore_emulator::{Emulator, DEFAULT_MAX_CONNECTIONS};

/// The threads of this process, from the kernel's own count.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    answer.starts_with(b"HTTP/1.1 ")
}

#[test]
fn connections_past_the_bound_wait_instead_of_spawning_threads() {
    let emu = Emulator::builder()
        .access_key("id", "secret")
        .start("127.0.0.1:0")
        .unwrap();
    let before = threads();
    let extra = 60;
    let idle: Vec<TcpStream> = (0..DEFAULT_MAX_CONNECTIONS + extra)
        .map(|_| TcpStream::connect(emu.addr()).unwrap())
        .collect();
    // Let the server accept everything it is going to.
    std::thread::sleep(Duration::from_secs(1));
    let grown = threads().saturating_sub(before);
    assert!(
        grown <= DEFAULT_MAX_CONNECTIONS + 2,
        "{grown} new threads for {} connections",
        idle.len()
    );
    drop(idle);
    let start = Instant::now();
    let mut served = false;
    while !served && start.elapsed() < Duration::from_secs(10) {
        served = answers(emu.addr());
    }
    assert!(served, "no answer after the idle connections closed");
}
