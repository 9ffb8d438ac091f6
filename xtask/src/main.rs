//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: format check, clippy with warnings denied, the README's test command, and builds of
//!   the benchmarks and fuzz targets;
//! - `bench [--report]`: the criterion benchmarks, then a short table of the headline figures
//!   and ratios (`--report`: the table of the last run only);
//! - `fuzz [TARGET] [--time SECS]`: installs cargo-fuzz when missing and runs one or all targets.

// A binary: `pub` only marks what other modules use.
#![allow(unreachable_pub)]

mod audit_bench;
mod bench;
mod ci;
mod fuzz;
mod load_bench;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask ci | bench [--report] | fuzz [TARGET] [--time SECS]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("bench") => bench::run(args.get(1..).unwrap_or_default()),
        Some("fuzz") => fuzz::run(args.get(1..).unwrap_or_default()),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (this crate's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `cmd` in the root, echoing it first; fails with the command line when it fails.
fn run(cmd: &mut Command) -> Result<(), String> {
    cmd.current_dir(root());
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Builds the `rkvstore-emulator` binary and the benchmark example `name` in release mode, and
/// returns the example's path; the example starts the emulator from beside it.
fn bench_example(name: &str) -> Result<PathBuf, String> {
    run(&mut cargo(&[
        "build",
        "--release",
        "-p",
        "rkvstore-emulator",
        "--bin",
        "rkvstore-emulator",
        "-p",
        "rkvstore-benches",
        "--example",
        name,
    ]))?;
    Ok(root()
        .join("target")
        .join("release")
        .join("examples")
        .join(name))
}

/// Runs a benchmark example with `args` and returns what it printed, or its standard error
/// when it fails.
fn bench_output(exe: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(exe)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cargo(args: &[&str]) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    c.args(args);
    c
}
