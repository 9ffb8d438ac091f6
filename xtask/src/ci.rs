//! `cargo xtask ci`.

use crate::{cargo, run as sh};

/// The README's test command, word for word.
pub const TEST_COMMAND: &str =
    "cargo test --workspace --all-targets && cargo test --workspace --doc";

pub fn run() -> Result<(), String> {
    sh(&mut cargo(&["fmt", "--all", "--", "--check"]))?;
    sh(&mut cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh(std::process::Command::new("sh").args(["-c", TEST_COMMAND]))?;
    sh(&mut cargo(&["bench", "-p", "rkvstore-benches", "--no-run"]))?;
    // The core without its test-only feature, as a client crate builds it: the `verify`
    // helpers and the fuzzing module must stay out of it cleanly.
    sh(&mut cargo(&[
        "clippy",
        "-p",
        "rkvstore-core",
        "--lib",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The fuzz targets are type-checked on the stable toolchain; running them needs
    // `cargo xtask fuzz`. The core's fuzz entry points exist only under `--cfg fuzzing`, which
    // cargo-fuzz adds to RUSTFLAGS; so does this, after any flags already set.
    let mut fuzz = cargo(&["check", "--manifest-path", "fuzz/Cargo.toml", "--bins"]);
    fuzz.env(
        "RUSTFLAGS",
        with_cfg_fuzzing(std::env::var("RUSTFLAGS").ok()),
    );
    sh(&mut fuzz)
}

/// `flags` with `--cfg fuzzing` added.
fn with_cfg_fuzzing(flags: Option<String>) -> String {
    match flags {
        Some(f) if !f.trim().is_empty() => format!("{f} --cfg fuzzing"),
        _ => "--cfg fuzzing".to_owned(),
    }
}
