//! `rkvstore-emulator`: serve a local R-kvstore endpoint until killed.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use rkvstore_emulator::{EmulatorArgs, FleetArgs};

/// A local stand-in for the ApsaraDB for Redis (R-kvstore) API endpoint.
///
/// Prints the URL it listens on as the first line of standard output, then serves until killed.
/// Point any client at it: `rkvstore --endpoint URL …`, or the official SDKs with that endpoint.
#[derive(Parser)]
#[command(name = "rkvstore-emulator", version)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
    #[command(flatten)]
    fleet: FleetArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = cli
        .args
        .builder()
        .and_then(|b| cli.fleet.apply(b))
        .and_then(|b| b.start(&cli.args.listen));
    match started {
        Ok(emulator) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", emulator.url());
            let _ = out.flush();
            drop(out);
            emulator.wait();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rkvstore-emulator: {e}");
            ExitCode::from(2)
        }
    }
}
