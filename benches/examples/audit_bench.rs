//! The audit benchmark: one audit of a 1,000-instance fleet in 3 regions, served by the
//! `rkvstore-emulator` binary in a child process over loopback, so that this process's peak
//! memory is the audit's alone. Run by `cargo xtask bench`, which prints the table; by hand:
//!
//! ```text
//! cargo build --release -p rkvstore-emulator
//! cargo run --release -p rkvstore-benches --example audit_bench -- --concurrency 8
//! ```
//!
//! Prints one JSON line: wall time, requests, requests per second, the median round trip of a
//! lone request, the ideal wall time (requests × median round trip / concurrency), peak memory
//! (`VmHWM` of this process) and the most requests in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rkvstore_benches::emulator::{memory_kib, EmulatorProcess};
use rkvstore_benches::flag;
use rkvstore_blocking::audit::AuditOptions;
use rkvstore_blocking::core::{Credentials, DescribeBackupPolicy};
use rkvstore_blocking::Client;

fn main() {
    let concurrency: u32 = flag("--concurrency", "8").parse().expect("--concurrency N");
    let size = flag("--fleet", "1000");
    let latency = flag("--latency-ms", "0");
    let emulator = EmulatorProcess::start(
        "LTAIbench",
        "bench-secret",
        &["--fleet", &size, "--seed", "1", "--latency-ms", &latency],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let client = Client::builder()
        .credentials(Credentials::new("LTAIbench", "bench-secret"))
        .endpoint(emulator.url())
        .build()
        .unwrap();
    // The median round trip of one request at a time, with a warm connection.
    let probe = DescribeBackupPolicy::new("r-bp1probe-none");
    let mut rtts: Vec<Duration> = (0..201)
        .map(|_| {
            let t = Instant::now();
            let _ = client.execute(&probe);
            t.elapsed()
        })
        .collect();
    rtts.sort();
    let median = rtts[rtts.len() / 2];

    let mut options = AuditOptions::default();
    options.all_regions = true;
    options.concurrency = concurrency;
    let started = Instant::now();
    let report = client.audit(&options, &|_| {}).unwrap();
    let wall = started.elapsed();
    drop(emulator);
    let requests = report.stats.requests;
    let ideal = median.as_secs_f64() * requests as f64 / f64::from(concurrency);
    println!(
        "{}",
        serde_json::json!({
            "concurrency": concurrency,
            "latency_ms": latency.parse::<u64>().unwrap_or(0),
            "instances": report.rows.len(),
            "wall_s": wall.as_secs_f64(),
            "requests": requests,
            "req_per_s": requests as f64 / wall.as_secs_f64(),
            "median_rtt_ms": median.as_secs_f64() * 1e3,
            "ideal_s": ideal,
            "vm_hwm_mib": memory_kib("/proc/self/status", "VmHWM").map(|k| k as f64 / 1024.0),
            "peak_in_flight": report.stats.peak_in_flight,
            "throttled": report.stats.throttled,
        })
    );
}
