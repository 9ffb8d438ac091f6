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
    // The fuzz targets are type-checked on the stable toolchain; running them needs
    // `cargo xtask fuzz`.
    sh(&mut cargo(&[
        "check",
        "--manifest-path",
        "fuzz/Cargo.toml",
        "--bins",
    ]))
}
