//! The emulator-under-load benchmark of `cargo xtask bench`: `benches/examples/load_bench.rs`
//! with 8 and 64 concurrent clients over loopback against the `rkvstore-emulator` binary in a
//! child process, bounded (a prefill of the emulator's bounded memories, then 3-second windows).
//! Results go to `target/load-bench.jsonl`; [`report`] prints them with the targets.
//!
//! One 3-second window on a shared machine is at the mercy of whatever else runs on it: the
//! same build measured from 23,000 to 42,000 requests a second at 64 clients, and from 28,000
//! to 42,000 at 8, from one run to the next, every client slowed alike, so that the ratio of
//! one pair of windows ranged from 0.75x to 1.34x within a single `cargo xtask bench`. So each
//! client count runs [`ROUNDS`] times, the two counts alternating so that a slow spell falls
//! on both, and the targets compare medians; every window is printed, with the spread.

use std::path::PathBuf;

use serde_json::Value;

use crate::root;

fn results_file() -> PathBuf {
    root().join("target").join("load-bench.jsonl")
}

/// How many times each client count runs.
const ROUNDS: usize = 7;

/// Builds the emulator and the benchmark, and runs 8 and 64 clients, [`ROUNDS`] times each,
/// alternating, against one emulator.
pub fn run() -> Result<(), String> {
    let exe = crate::bench_example("load_bench")?;
    let rounds = ROUNDS.to_string();
    let out = crate::bench_output(
        &exe,
        &["--clients", "8,64", "--rounds", &rounds, "--seconds", "3"],
    )?;
    std::fs::write(results_file(), out).map_err(|e| format!("cannot save the results: {e}"))
}

/// Prints the table of the last run and the targets, if there was a run.
pub fn report() {
    let Ok(text) = std::fs::read_to_string(results_file()) else {
        println!("\nload: (no data; run `cargo xtask bench`)");
        return;
    };
    println!(
        "\n{:<22} {:>9} {:>8} {:>12} {:>8} {:>8} {:>8} {:>17} {:>11}",
        "emulator under load",
        "req/s",
        "errors",
        "least share",
        "p50",
        "p99",
        "max",
        "memory in window",
        "CPU/req e+c"
    );
    let runs: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    for v in &runs {
        println!(
            "{:<22} {:>9.0} {:>8} {:>11.0}% {:>6.2}ms {:>6.2}ms {:>6.1}ms {:>5.1} -> {:>4.1} MiB \
             {:>4.1}+{:>4.1}µs",
            format!("{} clients", f(v, "clients")),
            f(v, "req_per_s"),
            f(v, "errors"),
            f(v, "least_share") * 100.0,
            f(v, "p50_ms"),
            f(v, "p99_ms"),
            f(v, "max_ms"),
            f(v, "rss_start_kib") / 1024.0,
            f(v, "rss_max_kib") / 1024.0,
            f(v, "emulator_cpu_us"),
            f(v, "client_cpu_us"),
        );
    }
    let at = |n: f64| -> Vec<&Value> { runs.iter().filter(|v| f(v, "clients") == n).collect() };
    let ok = |c: bool| if c { "met" } else { "NOT met" };
    let (eight, sixty_four) = (at(8.0), at(64.0));
    if eight.is_empty() || sixty_four.is_empty() {
        return;
    }
    let rates = |runs: &[&Value]| -> Vec<f64> { runs.iter().map(|v| f(v, "req_per_s")).collect() };
    let (m8, m64) = (median(rates(&eight)), median(rates(&sixty_four)));
    let pairs: Vec<f64> = eight
        .iter()
        .zip(&sixty_four)
        .map(|(a, b)| f(b, "req_per_s") / f(a, "req_per_s"))
        .collect();
    let ratio = m64 / m8;
    println!(
        "median req/s: {m8:.0} at 8 clients, {m64:.0} at 64 clients ({} windows each)",
        eight.len()
    );
    println!(
        "throughput 64 / 8 clients = {ratio:.2}x, medians  (target >= 1.0x: {}); run by run {}",
        ok(ratio >= 1.0),
        pairs
            .iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let least = runs
        .iter()
        .map(|v| f(v, "least_share"))
        .fold(f64::INFINITY, f64::min);
    println!(
        "least client / mean share = {:.0}%, worst run  (target >= 25%: {})",
        least * 100.0,
        ok(least >= 0.25)
    );
    let p99 = sixty_four
        .iter()
        .map(|v| f(v, "p99_ms"))
        .fold(0.0, f64::max);
    println!(
        "p99 at 64 clients = {p99:.2} ms, worst run  (target < 20 ms: {})",
        ok(p99 < 20.0)
    );
    let growth = runs
        .iter()
        .map(|v| (f(v, "rss_max_kib") - f(v, "rss_start_kib")) / 1024.0)
        .fold(0.0, f64::max);
    // Over the run: the emulator's peak in the later rounds against its peak in the first,
    // which served both counts' connections once already.
    let peak = |first: bool| {
        runs.iter()
            .filter(|v| (f(v, "round") == 1.0) == first)
            .map(|v| f(v, "rss_max_kib") / 1024.0)
            .fold(0.0, f64::max)
    };
    let (first, later) = (peak(true), peak(false));
    // Results saved before windows carried their round have no round 1 to compare with.
    let over_run = if first > 0.0 && later > 0.0 {
        format!("; over the run, peak {first:.1} MiB in round 1, {later:.1} MiB after")
    } else {
        String::new()
    };
    let run_growth = if over_run.is_empty() {
        0.0
    } else {
        (later - first).max(0.0)
    };
    println!(
        "emulator memory growth in a window = {growth:.1} MiB, worst run{over_run}  (after a \
         prefill of its bounded memories; target flat, < 2 MiB: {})",
        ok(growth < 2.0 && run_growth < 2.0)
    );
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
