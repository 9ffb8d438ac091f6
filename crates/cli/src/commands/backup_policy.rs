//! `rkvstore backup-policy` and `rkvstore backup-policy set`: read, merge, write, read back.

use std::io::Write;

use rkvstore_blocking::core::{
    DescribeBackupPolicy, DescribeBackupPolicyResponse, ModifyBackupPolicy, Operation, Weekday,
};
use rkvstore_blocking::Error;

use super::{dry_run, print};
use crate::backup_args::{PolicyArgs, PolicyCommand, PolicySetArgs};
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;
use crate::output::write_rows;

pub fn run(config: &Config, args: &PolicyArgs) -> Result<(), Failure> {
    match (&args.set, &args.instance_id) {
        (Some(PolicyCommand::Set(set)), _) => change(config, set),
        (None, Some(instance_id)) => show(config, instance_id),
        (None, None) => Err(Failure::Usage(
            "backup-policy needs --instance-id ID (or `backup-policy set --instance-id ID …` to \
             change it)"
                .into(),
        )),
    }
}

fn show(config: &Config, instance_id: &str) -> Result<(), Failure> {
    let op = DescribeBackupPolicy::new(instance_id);
    op.params()?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        return dry_run(&client, &client.request_for(&op)?);
    }
    let policy = client.describe_backup_policy(&op)?;
    print(|out| write_policy(out, config.output, instance_id, &policy))
}

fn write_policy(
    out: &mut impl Write,
    output: Output,
    instance_id: &str,
    p: &DescribeBackupPolicyResponse,
) -> std::io::Result<()> {
    if output == Output::Json {
        return output::json(out, p);
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let rows = vec![
        ["INSTANCE".to_owned(), instance_id.to_owned()],
        ["BACKUP WINDOW".to_owned(), text(&p.preferred_backup_time)],
        ["BACKUP DAYS".to_owned(), text(&p.preferred_backup_period)],
        [
            "RETENTION".to_owned(),
            p.backup_retention_period
                .as_ref()
                .map_or_else(|| "-".to_owned(), |d| format!("{d} days")),
        ],
        [
            "LOG BACKUP".to_owned(),
            if p.backup_log_enabled() { "on" } else { "off" }.to_owned(),
        ],
        [
            "NEXT BACKUP".to_owned(),
            text(&p.preferred_next_backup_time),
        ],
    ];
    write_rows(out, rows)
}

/// The `set` flags as a change of `current`; only what is given changes.
fn merged(
    args: &PolicySetArgs,
    current: &DescribeBackupPolicyResponse,
) -> Result<ModifyBackupPolicy, Failure> {
    let mut op = ModifyBackupPolicy::from_policy(args.instance_id.as_str(), current)?;
    if let Some(days) = &args.period {
        op.preferred_backup_period = Weekday::parse_list(days)?;
    }
    if let Some(window) = &args.time {
        op.preferred_backup_time = window.clone();
    }
    if let Some(days) = args.retention_days {
        op.backup_retention_period = Some(days);
    }
    if let Some(log) = &args.backup_log {
        op.enable_backup_log = Some(match log.to_ascii_lowercase().as_str() {
            "on" | "1" | "true" => true,
            "off" | "0" | "false" => false,
            _ => {
                return Err(Failure::Usage(format!(
                    "invalid --backup-log {:?}: use on or off",
                    rkvstore_blocking::core::escape::controls(log)
                )))
            }
        });
    }
    op.params()?;
    Ok(op)
}

fn change(config: &Config, args: &PolicySetArgs) -> Result<(), Failure> {
    let nothing = args.period.is_none()
        && args.time.is_none()
        && args.retention_days.is_none()
        && args.backup_log.is_none();
    if nothing {
        return Err(Failure::Usage(
            "backup-policy set changes nothing without --period, --time, --retention-days or \
             --backup-log"
                .into(),
        ));
    }
    // The flags are checked against a placeholder policy first, so that a typo is a usage
    // error before anything is sent.
    let placeholder = DescribeBackupPolicyResponse::new("-", "00:00Z-01:00Z", "Monday", 7);
    merged(args, &placeholder)?;
    let (client, _emulator) = config.connect()?;
    let describe = DescribeBackupPolicy::new(args.instance_id.as_str());
    if config.dry_run {
        // The write depends on the policy read first; without sending anything, the read is
        // what would go out first.
        return dry_run(&client, &client.request_for(&describe)?);
    }
    let current = client.describe_backup_policy(&describe)?;
    let op = merged(args, &current)?;
    client
        .modify_backup_policy(&op)
        .map_err(|e| may_have_changed(config, &args.instance_id, e))?;
    let after = client.describe_backup_policy(&describe)?;
    print(|out| write_policy(out, config.output, &args.instance_id, &after))
}

/// A failed write that may have reached the service: say how to look rather than retry blindly.
fn may_have_changed(config: &Config, instance_id: &str, e: Error) -> Failure {
    if !e.request_may_have_run() {
        return Failure::Client(e);
    }
    Failure::Hinted {
        failure: Box::new(Failure::Client(e)),
        hint: format!(
            "the policy may have changed; check with {} backup-policy --instance-id {instance_id}",
            config.command_prefix()
        ),
    }
}
