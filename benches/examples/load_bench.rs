//! The emulator under load: N clients, each on its own connection, calling DescribeBackupTasks
//! back to back over loopback for a bounded time. Run by `cargo xtask bench` for 8 and 64
//! clients, five times each, alternating; by hand:
//!
//! ```text
//! cargo run --release -p rkvstore-benches --example load_bench -- --clients 64 --seconds 3
//! ```
//!
//! Prints one JSON line: requests per second over the measured window, each client's count
//! (the least against the mean share), latency percentiles, and this process's resident memory
//! (`VmRSS`) sampled through the window. Clients and server share the process, and both keep
//! fixed-size state once warm, so growth in the window is growth of the server's. The warm-up
//! first sends `--prefill` requests (default 250,000), enough to fill and churn the emulator's bounded
//! memories (100,000 nonces, 10,000 log records), so that the window shows whether anything
//! grows past them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rkvstore_benches::{credentials, operation, KEY_ID, SECRET};
use rkvstore_blocking::Client;
use rkvstore_emulator::Emulator;

/// Latency histogram: 10 µs buckets up to 200 ms, then one overflow bucket.
const BUCKET_US: u64 = 10;
const BUCKETS: usize = 20_000;

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

struct Tally {
    count: u64,
    errors: u64,
    histogram: Vec<u64>,
    worst: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let clients: usize = flag("--clients", "8").parse().expect("--clients N");
    let seconds: f64 = flag("--seconds", "3").parse().expect("--seconds S");
    let prefill: u64 = flag("--prefill", "250000").parse().expect("--prefill N");
    let warmup = Duration::from_millis(500);
    let window = Duration::from_secs_f64(seconds);

    let emu = Emulator::builder()
        .access_key(KEY_ID, SECRET)
        .instance("r-bp1zxszhcgatnx")
        .start("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    let url = emu.url().to_owned();

    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(clients + 1));
    let sent = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (measuring, stop, ready, url, sent) = (
                measuring.clone(),
                stop.clone(),
                ready.clone(),
                url.clone(),
                sent.clone(),
            );
            std::thread::spawn(move || {
                let client = Client::builder()
                    .credentials(credentials())
                    .endpoint(&url)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}"));
                let op = operation();
                let mut tally = Tally {
                    count: 0,
                    errors: 0,
                    histogram: Vec::with_capacity(BUCKETS + 1),
                    worst: Duration::ZERO,
                };
                // Written, not calloc'd, so that its pages count before the window opens.
                tally.histogram.resize(BUCKETS + 1, 0);
                ready.wait();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = client.describe_backup_tasks(&op).is_ok();
                    let took = started.elapsed();
                    sent.fetch_add(1, Ordering::Relaxed);
                    // A call that began before the window or ends after it is not counted.
                    if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
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
    while sent.load(Ordering::Relaxed) < prefill {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(warmup);
    let rss_start = vm_rss_kib();
    let mut rss_max = rss_start;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    while started.elapsed() < window {
        std::thread::sleep(Duration::from_millis(100));
        rss_max = rss_max.max(vm_rss_kib());
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let rss_end = vm_rss_kib();
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
    println!(
        "{}",
        serde_json::json!({
            "clients": clients,
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
        })
    );
    drop(emu);
}
