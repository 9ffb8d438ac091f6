//! `cargo xtask bench`: run the benchmarks, then print the headline figures and ratios from
//! criterion's saved estimates.

use std::path::Path;

use serde_json::Value;

use crate::{cargo, root, run as sh};

/// The median of a benchmark, in nanoseconds, and its throughput in bytes if it has one.
fn median(dir: &Path) -> Option<(f64, Option<u64>)> {
    let read = |name: &str| -> Option<Value> {
        let text = std::fs::read_to_string(dir.join("new").join(name)).ok()?;
        serde_json::from_str(&text).ok()
    };
    let ns = read("estimates.json")?
        .get("median")?
        .get("point_estimate")?
        .as_f64()?;
    let bytes = read("benchmark.json").and_then(|b| b.get("throughput")?.get("Bytes")?.as_u64());
    Some((ns, bytes))
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// `cargo xtask bench [--report]`: with `--report`, only the table from the last run.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None => {
            sh(&mut cargo(&["bench", "-p", "rkvstore-benches"]))?;
            crate::audit_bench::run()?;
            crate::load_bench::run()?;
        }
        Some("--report") => {}
        Some(other) => return Err(format!("unknown bench option {other:?}; use --report")),
    }
    let base = root().join("target").join("criterion");
    let get = |path: &str| median(&base.join(path));
    println!(
        "\n{:<34} {:>12} {:>14}",
        "benchmark", "median", "throughput"
    );
    for path in [
        "sign/sign_v1",
        "sign/sign_v1_generic",
        "sign/sign_v1_prebuilt",
        "sign/hmac_floor",
        "sign/hmac_floor_prekeyed",
        "sign/naive_baseline",
        "sign/sign_v3",
        "sign/acs3_floor",
        "sign/acs3_floor_prekeyed",
        "parse_json/typed/1",
        "parse_json/value_floor/1",
        "parse_json/typed/1000",
        "parse_json/value_floor/1000",
        "parse_xml/typed/1",
        "parse_xml/event_floor/1",
        "parse_xml/typed/1000",
        "parse_xml/event_floor/1000",
        "roundtrip/describe_backup_tasks",
        "describe_backups/typed/300",
        "describe_backups/value_floor/300",
    ] {
        match get(path) {
            Some((ns, bytes)) => {
                let tput = bytes
                    .map(|b| format!("{:.0} MiB/s", b as f64 / ns * 1e9 / (1 << 20) as f64))
                    .unwrap_or_default();
                println!("{path:<34} {:>12} {tput:>14}", time(ns));
            }
            None => println!("{path:<34} {:>12}", "(no data)"),
        }
    }
    crate::audit_bench::report();
    crate::load_bench::report();
    let ratio = |a: &str, b: &str| Some(get(a)?.0 / get(b)?.0);
    println!();
    if let (Some(floor), Some(naive)) = (
        ratio("sign/sign_v1", "sign/hmac_floor"),
        ratio("sign/naive_baseline", "sign/sign_v1"),
    ) {
        let ok = |c: bool| if c { "met" } else { "NOT met" };
        println!(
            "sign_v1 / hmac_floor        = {floor:.2}x  (target <= 2.0x: {})",
            ok(floor <= 2.0)
        );
        println!(
            "naive_baseline / sign_v1    = {naive:.2}x  (target >= 4x: {})",
            ok(naive >= 4.0)
        );
    }
    if let Some(r) = ratio("sign/sign_v1", "sign/hmac_floor_prekeyed") {
        println!(
            "sign_v1 / hmac_floor_prekeyed = {r:.2}x  (the floor with its key schedule done once)"
        );
    }
    let verdict = |c: bool| if c { "met" } else { "NOT met" };
    if let Some(r) = ratio("sign/sign_v3", "sign/acs3_floor") {
        println!(
            "sign_v3 / acs3_floor        = {r:.2}x  (target <= 2.0x: {})",
            verdict(r <= 2.0)
        );
    }
    if let Some(r) = ratio("sign/sign_v3", "sign/acs3_floor_prekeyed") {
        println!(
            "sign_v3 / acs3_floor_prekeyed = {r:.2}x  (the floor with its key schedule done once)"
        );
    }
    if let Some(r) = ratio("sign/sign_v1_generic", "sign/sign_v1") {
        println!(
            "sign_v1_generic / sign_v1   = {r:.2}x  (target <= 1.10x: {})",
            verdict(r <= 1.10)
        );
    }
    if let Some(r) = ratio(
        "describe_backups/typed/300",
        "describe_backups/value_floor/300",
    ) {
        let verdict = if r <= 1.0 { "met" } else { "NOT met" };
        println!("DescribeBackups typed / Value, 300 sets = {r:.2}x  (target <= 1.0x: {verdict})");
    }
    for n in ["1", "1000"] {
        if let Some(r) = ratio(
            &format!("parse_json/typed/{n}"),
            &format!("parse_json/value_floor/{n}"),
        ) {
            let verdict = if r <= 1.0 { "met" } else { "NOT met" };
            println!(
                "parse_json typed / Value, {n:>4} jobs = {r:.2}x  (target <= 1.0x: {verdict})"
            );
        }
        if let Some(r) = ratio(
            &format!("parse_xml/typed/{n}"),
            &format!("parse_xml/event_floor/{n}"),
        ) {
            println!(
                "parse_xml typed / event loop, {n:>4} jobs = {r:.2}x  (target <= 1.5x: {})",
                if r <= 1.5 { "met" } else { "NOT met" }
            );
        }
    }
    Ok(())
}
