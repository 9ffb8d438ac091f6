//! One module per command.

pub mod audit;
mod backup;
mod backup_policy;
pub mod backups;
mod call;
mod download;
mod restore;
mod tasks;

use std::io::Write;

use rkvstore_blocking::core::RpcRequest;
use rkvstore_blocking::{Client, WaitOptions};

use crate::args::{Cli, Command, ShellArg, WaitArgs};
use crate::config::{seconds, Config};
use crate::failure::Failure;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Completions { shell } => completions(shell),
        Command::Version => print(|out| writeln!(out, "rkvstore {}", env!("CARGO_PKG_VERSION"))),
        Command::Audit(args) => audit::run(&cli.global, &args),
        Command::Emulator { args } => emulator(&args),
        Command::BackupTasks {
            instance_id,
            job_id,
            mode,
            wait,
        } => {
            let config = Config::from_args(&cli.global)?;
            tasks::run(&config, &instance_id, job_id, mode, &wait)
        }
        Command::Backup {
            instance_id,
            retention_days,
            wait,
        } => {
            let config = Config::from_args(&cli.global)?;
            backup::run(&config, &instance_id, retention_days, &wait)
        }
        Command::Backups(args) => backups::run(&Config::from_args(&cli.global)?, &args),
        Command::BackupPolicy(args) => backup_policy::run(&Config::from_args(&cli.global)?, &args),
        Command::Download(args) => download::run(&Config::from_args(&cli.global)?, &args),
        Command::Restore(args) => restore::run(&Config::from_args(&cli.global)?, &args),
        Command::Call {
            action,
            product,
            api_version,
            pager,
            waiter,
            params,
        } => {
            let config = Config::from_args(&cli.global)?;
            let how = call::How {
                product: product.as_deref().zip(api_version.as_deref()),
                pager: pager.as_deref(),
                waiter: waiter.as_deref(),
            };
            call::run(&config, &action, &params, &how)
        }
    }
}

/// The shortest `--interval` allowed, except with `--endpoint local`.
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// The wait options of `--wait`, checked; `None` without `--wait`.
fn wait_options(config: &Config, w: &WaitArgs) -> Result<Option<WaitOptions>, Failure> {
    if !w.wait {
        return Ok(None);
    }
    // The local emulator moves a job one step per poll, so a short default shows every step
    // of the demo in a few seconds.
    let default_interval = if config.is_local() { 0.5 } else { 5.0 };
    let interval = seconds("--interval", w.interval.unwrap_or(default_interval))?;
    // Polling the service faster than this only earns throttling (and a test double on the
    // network is polled like the service); the emulator inside this process costs nothing to
    // ask, so a demo may go as fast as it likes.
    if !config.is_local() && interval < MIN_INTERVAL {
        return Err(Failure::Usage(format!(
            "--interval must be at least {} seconds (the service throttles faster polling), \
             not {}",
            MIN_INTERVAL.as_secs_f64(),
            interval.as_secs_f64()
        )));
    }
    Ok(Some(WaitOptions {
        interval,
        timeout: seconds("--timeout", w.timeout)?,
        ..WaitOptions::default()
    }))
}

/// Prints what would be sent, and nothing else happens.
fn dry_run(client: &Client, request: &RpcRequest) -> Result<(), Failure> {
    let signed = client.sign(request)?;
    print(|out| out.write_all(signed.dry_run().as_bytes()))
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message, and any other
/// write error is an output failure (exit 1).
fn print(
    f: impl FnOnce(&mut std::io::StdoutLock<'_>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match f(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if crate::term::is_broken_pipe(&e) => Ok(()),
        // A --cli-query or --output cols= that does not fit the result.
        Err(e)
            if e.get_ref()
                .is_some_and(|i| i.is::<crate::output::QueryError>()) =>
        {
            Err(Failure::Usage(
                e.get_ref().map(ToString::to_string).unwrap_or_default(),
            ))
        }
        Err(e) => Err(Failure::Output(e)),
    }
}

fn completions(shell: ShellArg) -> Result<(), Failure> {
    let shell = match shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
    };
    // Generated into memory first, because clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::completion::command(),
        "rkvstore",
        &mut script,
    );
    let script = crate::completion::dynamic(shell, &String::from_utf8_lossy(&script));
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        crate::term::line(crate::completion::INSTALL);
    }
    print(|out| out.write_all(script.as_bytes()))
}

fn emulator(args: &rkvstore_emulator::EmulatorArgs) -> Result<(), Failure> {
    if args.access_key_id == crate::config::DEMO_KEY_ID {
        // No keys were given (the demo ones are the flags' defaults): say which to use, since
        // a client must sign with them. They open nothing but this emulator.
        crate::term::line(format_args!(
            "no credentials given; accepting the demo ones:\n  \
             export ALIBABA_CLOUD_ACCESS_KEY_ID={} ALIBABA_CLOUD_ACCESS_KEY_SECRET={}",
            crate::config::DEMO_KEY_ID,
            crate::config::DEMO_SECRET
        ));
    }
    let emu = args.start().map_err(|e| match e {
        // A flag out of range is a usage error, like any other bad flag.
        rkvstore_emulator::Error::Config(m) => Failure::Usage(m),
        other => Failure::Config(other.to_string()),
    })?;
    print(|out| writeln!(out, "{}", emu.url()))?;
    // The first line of stdout stays the API endpoint, which scripts read; the other services
    // on the same listener are listed on stderr.
    crate::term::line(format_args!("STS endpoint:      {}", emu.sts_endpoint()));
    crate::term::line(format_args!(
        "metadata endpoint: {}",
        emu.metadata_endpoint()
    ));
    crate::term::line(format_args!("credentials URI:   {}", emu.credentials_uri()));
    emu.wait();
    Ok(())
}
