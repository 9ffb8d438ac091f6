//! Recomputes every signing vector in a file and reports the ones that differ.
//!
//! ```text
//! cargo run -q -p rkvstore-core --example conformance -- rpc-v1 FILE
//! cargo run -q -p rkvstore-core --example conformance -- acs3 FILE
//! ```
//!
//! Ends with `N passed, M failed`; exits 1 when any vector fails, 2 on bad usage or input.

mod check;

use std::process::ExitCode;

use check::{check_line, Suite};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(suite), Some(path), None) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: conformance rpc-v1|acs3 FILE");
        return ExitCode::from(2);
    };
    let Some(suite) = Suite::parse(suite) else {
        eprintln!("unknown suite {suite:?}: use rpc-v1 or acs3");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match check_line(suite, line) {
            Ok(outcome) if outcome.mismatches.is_empty() => passed += 1,
            Ok(outcome) => {
                failed += 1;
                println!("{outcome}");
            }
            Err(e) => {
                failed += 1;
                println!("{path}:{}: not a valid vector: {e}", n + 1);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 && passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
