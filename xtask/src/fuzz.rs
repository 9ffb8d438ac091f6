//! `cargo xtask fuzz [TARGET] [--time SECS]`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{cargo, root, run as sh};

pub const TARGETS: [&str; 10] = [
    "parse_json",
    "parse_xml",
    "percent_roundtrip",
    "sign",
    "diagnose",
    "parse_backups",
    "download_headers",
    "parse_sts",
    "parse_metadata",
    "parse_external",
];

pub fn run(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut secs: u64 = 60;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--time needs a number of seconds")?;
            }
            t if TARGETS.contains(&t) => target = Some(t.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz target {other:?}; targets: {}",
                    TARGETS.join(", ")
                ))
            }
        }
    }
    let installed = cargo(&["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        sh(&mut cargo(&["install", "cargo-fuzz", "--locked"]))?;
    }
    let targets: Vec<String> = match target {
        Some(t) => vec![t],
        None => TARGETS.iter().map(|t| (*t).to_owned()).collect(),
    };
    let mut summary = Vec::new();
    for t in &targets {
        summary.push((t.clone(), fuzz_one(t, secs)?));
    }
    println!("\n{:<20} final libFuzzer status", "target");
    for (t, line) in summary {
        println!("{t:<20} {line}");
    }
    Ok(())
}

/// Runs one target for `secs` seconds; returns libFuzzer's last status line.
fn fuzz_one(target: &str, secs: u64) -> Result<String, String> {
    let corpus = format!("fuzz/corpus/{target}");
    std::fs::create_dir_all(root().join(&corpus)).map_err(|e| format!("{corpus}: {e}"))?;
    let mut cmd: Command = cargo(&[
        "fuzz",
        "run",
        target,
        &corpus,
        &format!("fuzz/seeds/{target}"),
        "--",
        &format!("-max_total_time={secs}"),
    ]);
    // cargo-fuzz passes nightly-only sanitizer flags; this lets the stable toolchain take them.
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .current_dir(root())
        .stderr(Stdio::piped());
    eprintln!("$ RUSTC_BOOTSTRAP=1 cargo fuzz run {target} -- -max_total_time={secs}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    let mut last = String::new();
    if let Some(err) = child.stderr.take() {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if line.starts_with('#') && line.contains("cov:") {
                last = line.clone();
            }
            if line.starts_with("Done ") {
                last = format!("{last} | {line}");
            }
            eprintln!("{line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "fuzz target {target} failed ({status}); the crash input is in fuzz/artifacts/{target}"
        ));
    }
    Ok(last)
}
