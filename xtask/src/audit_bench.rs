//! The audit benchmark of `cargo xtask bench`: a 1,000-instance fleet in 3 regions audited over
//! loopback at 1, 8 and 32 requests in flight, with the emulator answering at once and with
//! 5 ms of service time per request. Each run is `benches/examples/audit_bench.rs` in its own
//! process (the emulator in a child of it), so that the peak memory is the audit's.

use std::path::PathBuf;

use serde_json::Value;

use crate::root;

fn results_file() -> PathBuf {
    root().join("target").join("audit-bench.jsonl")
}

/// Builds and runs every configuration, saving one JSON line each.
pub fn run() -> Result<(), String> {
    let exe = crate::bench_example("audit_bench")?;
    let mut lines = String::new();
    for latency in ["0", "5"] {
        for concurrency in ["1", "8", "32"] {
            lines.push_str(&crate::bench_output(
                &exe,
                &["--concurrency", concurrency, "--latency-ms", latency],
            )?);
        }
    }
    std::fs::write(results_file(), lines).map_err(|e| format!("cannot save the results: {e}"))
}

/// Prints the table of the last run, if there was one.
pub fn report() {
    let Ok(text) = std::fs::read_to_string(results_file()) else {
        println!("\naudit: (no data; run `cargo xtask bench`)");
        return;
    };
    println!(
        "\n{:<28} {:>9} {:>9} {:>10} {:>9} {:>10} {:>9}",
        "audit (1,000 instances)", "wall", "requests", "req/s", "peak mem", "in flight", "vs ideal"
    );
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let f = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
        println!(
            "{:<28} {:>7.0}ms {:>9} {:>10.0} {:>6.1}MiB {:>10} {:>8.2}x",
            format!(
                "concurrency {:>2}, {} ms service",
                f("concurrency"),
                f("latency_ms")
            ),
            f("wall_s") * 1e3,
            f("requests"),
            f("req_per_s"),
            f("vm_hwm_mib"),
            f("peak_in_flight"),
            f("wall_s") / f("ideal_s"),
        );
    }
    println!(
        "(vs ideal: wall time / (requests x median round trip / concurrency); target <= 1.5x at \
         8 in flight; memory target < 50 MiB)"
    );
}
