//! `rkvstore restore`: confirmation, RestoreInstance (never sent twice), and `--wait` to
//! follow the instance back to `Normal`.

use std::io::{BufRead, IsTerminal, Write};

use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::{Operation, RestoreInstance};
use rkvstore_blocking::{Error, InstanceWaitError};
use serde_json::json;

use super::{dry_run, print, wait_options};
use crate::backup_args::RestoreArgs;
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;

pub fn run(config: &Config, args: &RestoreArgs) -> Result<(), Failure> {
    let wait = wait_options(config, &args.wait)?;
    let mut op = RestoreInstance::from_backup(args.instance_id.as_str(), args.backup_id.as_str());
    op.filter_key = args.filter_keys.clone();
    op.params()?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        return dry_run(&client, &client.request_for(&op)?);
    }
    if !args.yes {
        confirm(&args.instance_id, &args.backup_id)?;
    }
    let answer = client
        .restore_instance(&op)
        .map_err(|e| may_have_started(config, &args.instance_id, e))?;
    let Some(options) = wait else {
        return print(|out| match config.output {
            Output::Json => output::json(
                out,
                &json!({
                    "RequestId": answer.request_id,
                    "InstanceId": args.instance_id,
                    "BackupId": args.backup_id,
                }),
            ),
            Output::Table => writeln!(
                out,
                "Restoring {} from backup {}; follow it (read-only: this does not restore \
                 again) with `{}`.",
                args.instance_id,
                args.backup_id,
                follow_command(config, &args.instance_id)
            ),
        });
    };
    let instance = args.instance_id.as_str();
    let status = client
        .wait_for_instance(instance, &options, |status| {
            // The status came from the network.
            crate::term::line(format_args!("instance {instance}: {}", controls(status)));
        })
        .map_err(|e| match e {
            InstanceWaitError::Client(e) => Failure::Client(e),
            InstanceWaitError::TimedOut(t) => Failure::Exit {
                code: 4,
                message: t.to_string(),
            },
            other => Failure::Exit {
                code: 1,
                message: other.to_string(),
            },
        })?;
    print(|out| match config.output {
        Output::Json => output::json(
            out,
            &json!({
                "RequestId": answer.request_id,
                "InstanceId": instance,
                "BackupId": args.backup_id,
                "InstanceStatus": status,
            }),
        ),
        Output::Table => writeln!(
            out,
            "Restored {instance} from backup {}; the instance is {} again.",
            args.backup_id,
            controls(&status)
        ),
    })
}

/// A read-only command that follows the instance back to `Normal`: DescribeInstanceAttribute
/// polled by `call --waiter`, never a second RestoreInstance.
pub fn follow_command(config: &Config, instance_id: &str) -> String {
    format!(
        "{} call DescribeInstanceAttribute --InstanceId {} --waiter \
         'expr=Instances.DBInstanceAttribute[0].InstanceStatus,to=Normal,timeout=600'",
        config.command_prefix(),
        crate::config::shell_quote(instance_id)
    )
}

/// Asks for the instance ID on a terminal; refuses without `--yes` anywhere else.
fn confirm(instance_id: &str, backup_id: &str) -> Result<(), Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::Usage(format!(
            "restore overwrites all data of {instance_id} with backup {backup_id}; stdin is not a \
             terminal to confirm on, so pass --yes to go ahead"
        )));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "Restoring backup {backup_id} overwrites all data of {instance_id}.\nType the instance \
         ID to go ahead: "
    );
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Usage(format!("cannot read the confirmation: {e}")))?;
    if line.trim() != instance_id {
        return Err(Failure::Usage(format!(
            "restore cancelled: the answer was not {instance_id}"
        )));
    }
    Ok(())
}

/// A failed RestoreInstance that may have reached the service: it is never sent again, and the
/// user is told how to look.
fn may_have_started(config: &Config, instance_id: &str, e: Error) -> Failure {
    if !e.request_may_have_run() {
        return Failure::Client(e);
    }
    Failure::Hinted {
        failure: Box::new(Failure::Client(e)),
        hint: format!(
            "the restore may have started; check with {} call DescribeInstanceAttribute \
             --InstanceId {} (BackupRecovering means it is running) before trying again",
            config.command_prefix(),
            crate::config::shell_quote(instance_id)
        ),
    }
}
