//! `rkvstore`: ApsaraDB for Redis (R-kvstore) backups from the command line.
//!
//! The flags are parsed raw by clap ([`args`]), checked into a [`config::Config`], and handed
//! to one module per command. Errors print as one block on stderr and choose the exit status.

// In a binary nothing is reachable from outside, so `pub` only marks what other modules use.
#![allow(unreachable_pub)]

mod args;
mod backup_args;
mod cols;
mod commands;
mod completion;
mod config;
mod failure;
mod interrupt;
mod output;
mod pager;
mod progress;
mod query;
mod raw_args;
mod term;
mod transfer;
mod typed;
mod waiter;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Whatever a server sends, the user sees an error message, never a panic's: the default
    // hook is replaced, and a panic still ends with status 1 rather than 101.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // Not eprintln!, which panics when stderr is closed: a panic inside the hook aborts.
        term::last_words(&format!(
            "error: rkvstore hit an internal error{place}; please report it\n"
        ));
    }));
    let cli = args::parse();
    match std::panic::catch_unwind(move || commands::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(failure)) => {
            term::last_words(&failure.render());
            ExitCode::from(failure.exit_code())
        }
        Err(_) => ExitCode::from(1),
    }
}
