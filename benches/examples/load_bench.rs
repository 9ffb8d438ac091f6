//! The emulator under load: N clients, each on its own connection, calling DescribeBackupTasks
//! back to back over loopback, against the `rkvstore-emulator` binary in a child process. Run by
//! `cargo xtask bench`, which prints the table; by hand:
//!
//! ```text
//! cargo build --release -p rkvstore-emulator
//! cargo run --release -p rkvstore-benches --example load_bench -- --clients 8,64 --rounds 7
//! ```
//!
//! One emulator serves the whole run. A prefill of `--prefill` requests (default 250,000) first
//! fills and churns its bounded memories (100,000 nonces, 10,000 log records), so that a later
//! rise in its memory would be growth past them. Then each client count of `--clients` runs in
//! turn, `--rounds` times: fresh clients and connections, half a second of warm-up, then a
//! window of `--seconds` (default 3). Each window prints one JSON line: requests per second,
//! each client's count (the least against the mean share), latency percentiles, the emulator's
//! resident memory (`VmRSS`) through the window, and the CPU time per request of the emulator
//! and of the clients.
//!
//! The emulator runs in its own process, as users run it, rather than in this one: in one
//! process its two workers shared glibc's malloc arenas with the clients' threads, which at 64
//! clients outnumber the arenas (8 per core), and most of the lock waits in a profile of that
//! run were the workers' allocations waiting on a client's. That measured the harness, not the
//! server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rkvstore_benches::emulator::{cpu_seconds, EmulatorProcess};
use rkvstore_benches::{credentials, flag, operation, KEY_ID, SECRET};
use rkvstore_blocking::Client;

/// Latency histogram: 10 µs buckets up to 200 ms, then one overflow bucket.
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 20_000;

/// The instance every request names.
const INSTANCE: &str = "r-bp1zxszhcgatnx";

struct Tally {
    count: u64,
    errors: u64,
    histogram: Vec<u64>,
    worst: Duration,
}

fn client(url: &str) -> Client {
    Client::builder()
        .credentials(credentials())
        .endpoint(url)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `total` requests from `clients` threads, answers unread.
fn prefill(url: &str, clients: usize, total: u64) {
    let sent = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                let client = client(url);
                let op = operation();
                while sent.fetch_add(1, Ordering::Relaxed) < total {
                    let _ = client.describe_backup_tasks(&op);
                }
            });
        }
    });
}

/// One window at `clients` clients; returns its JSON line.
fn window(
    emulator: &EmulatorProcess,
    clients: usize,
    round: usize,
    window: Duration,
) -> serde_json::Value {
    let warmup = Duration::from_millis(500);
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (measuring, stop, ready, url) = (
                measuring.clone(),
                stop.clone(),
                ready.clone(),
                emulator.url().to_owned(),
            );
            std::thread::spawn(move || {
                let client = client(&url);
                let op = operation();
                let mut tally = Tally {
                    count: 0,
                    errors: 0,
                    histogram: vec![0; BUCKETS + 1],
                    worst: Duration::ZERO,
                };
                ready.wait();
                while !stop.load(Ordering::Relaxed) {
                    let began_inside = measuring.load(Ordering::Relaxed);
                    let started = Instant::now();
                    let ok = client.describe_backup_tasks(&op).is_ok();
                    let took = started.elapsed();
                    // A call that began before the window or ends after it is not counted.
                    if began_inside && !stop.load(Ordering::Relaxed) {
                        tally.count += 1;
                        tally.errors += u64::from(!ok);
                        let bucket = (took.as_micros() as u64 / BUCKET_US) as usize;
                        tally.histogram[bucket.min(BUCKETS)] += 1;
                        tally.worst = tally.worst.max(took);
                    }
                }
                tally
            })
        })
        .collect();
    ready.wait();
    std::thread::sleep(warmup);
    let rss_start = emulator.rss_kib();
    let mut rss_max = rss_start;
    let cpu_start = (emulator.cpu_seconds(), cpu_seconds("/proc/self/stat"));
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    while started.elapsed() < window {
        std::thread::sleep(Duration::from_millis(100));
        rss_max = rss_max.max(emulator.rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let rss_end = emulator.rss_kib();
    let cpu = (
        emulator.cpu_seconds() - cpu_start.0,
        cpu_seconds("/proc/self/stat") - cpu_start.1,
    );
    let tallies: Vec<Tally> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let counts: Vec<u64> = tallies.iter().map(|t| t.count).collect();
    let total: u64 = counts.iter().sum();
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let mean = total as f64 / clients as f64;
    let least = counts.iter().copied().min().unwrap_or(0);
    let most = counts.iter().copied().max().unwrap_or(0);
    let mut histogram = vec![0u64; BUCKETS + 1];
    for t in &tallies {
        for (h, c) in histogram.iter_mut().zip(&t.histogram) {
            *h += c;
        }
    }
    let percentile = |p: f64| -> f64 {
        let rank = (p * total as f64).ceil() as u64;
        let mut seen = 0;
        for (i, c) in histogram.iter().enumerate() {
            seen += c;
            if seen >= rank.max(1) {
                return ((i as u64 + 1) * BUCKET_US) as f64 / 1000.0;
            }
        }
        f64::INFINITY
    };
    let worst = tallies.iter().map(|t| t.worst).max().unwrap_or_default();
    serde_json::json!({
        "clients": clients,
        "round": round,
        "seconds": elapsed.as_secs_f64(),
        "requests": total,
        "errors": errors,
        "req_per_s": total as f64 / elapsed.as_secs_f64(),
        "least_client": least,
        "most_client": most,
        "least_share": if mean > 0.0 { least as f64 / mean } else { 0.0 },
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "max_ms": worst.as_secs_f64() * 1000.0,
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "rss_max_kib": rss_max,
        // CPU time per request in the window, the emulator's and the clients'. Calls finishing
        // after the window add a little to the clients' (they stop within one call).
        "emulator_cpu_us": cpu.0 * 1e6 / total.max(1) as f64,
        "client_cpu_us": cpu.1 * 1e6 / total.max(1) as f64,
    })
}

fn main() {
    let counts: Vec<usize> = flag("--clients", "8")
        .split(',')
        .map(|n| n.trim().parse().expect("--clients N[,N...]"))
        .collect();
    let rounds: usize = flag("--rounds", "1").parse().expect("--rounds N");
    let seconds: f64 = flag("--seconds", "3").parse().expect("--seconds S");
    let total: u64 = flag("--prefill", "250000").parse().expect("--prefill N");
    assert!(
        counts.iter().all(|&n| n > 0),
        "--clients takes counts above 0"
    );

    let emulator = EmulatorProcess::start(KEY_ID, SECRET, &["--instance", INSTANCE])
        .unwrap_or_else(|e| panic!("{e}"));
    prefill(
        emulator.url(),
        counts.iter().copied().max().unwrap_or(1),
        total,
    );
    let mut out = std::io::stdout().lock();
    for round in 1..=rounds {
        for &clients in &counts {
            let line = window(&emulator, clients, round, Duration::from_secs_f64(seconds));
            writeln!(out, "{line}").unwrap();
            out.flush().unwrap();
        }
    }
}
