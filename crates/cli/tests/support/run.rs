//! A run of the `rkvstore` binary in the CLI's tests: how it ended and what it printed, with
//! the checks every run shares.

#![allow(dead_code, unreachable_pub)] // Each test crate uses a different part of it.

use assert_cmd::Command;

/// How a run ended and what it printed.
pub struct Run {
    /// The exit status, or -1 when a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `c` to its end. Whatever happened, no panic or internal-error text reaches the user,
/// and none of `secrets` appears in either stream.
#[track_caller]
pub fn run(c: &mut Command, secrets: &[&str]) -> Run {
    let out = c.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("internal error"),
        "{}",
        run.stderr
    );
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret leaked:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    run
}

/// Asserts that `text` contains `needle`, showing all of `text` when it does not.
#[track_caller]
pub fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} is missing from:\n{text}");
}
