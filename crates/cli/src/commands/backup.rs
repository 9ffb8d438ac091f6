//! `rkvstore backup`.

use std::io::Write;

use rkvstore_blocking::core::CreateBackup;
use rkvstore_blocking::Error;

use super::tasks::follow;
use super::{dry_run, print, wait_options};
use crate::args::WaitArgs;
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;

pub fn run(
    config: &Config,
    instance_id: &str,
    retention_days: Option<i32>,
    wait: &WaitArgs,
) -> Result<(), Failure> {
    let wait = wait_options(config, wait)?;
    let mut op = CreateBackup::new(instance_id);
    op.backup_retention_period = retention_days;
    rkvstore_blocking::core::Operation::params(&op)?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        return dry_run(&client, &client.request_for(&op)?);
    }
    let started = client
        .create_backup(&op)
        .map_err(|e| may_have_started(config, instance_id, e))?;
    // The core accepts an answer only with at least one numeric job ID, so this list is never
    // empty; the IDs, unlike the raw field, are safe to print as they are.
    let ids = started.job_ids().unwrap_or_default();
    let shown = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let follow_hint = |id: u64| {
        format!(
            "{} backup-tasks --instance-id {instance_id} --job-id {id} --wait",
            config.command_prefix()
        )
    };
    let Some(options) = wait else {
        return print(|out| match config.output {
            Output::Json => output::json(out, &started),
            Output::Table => writeln!(
                out,
                "Started backup job {shown} of {instance_id}; follow it with `{}`.",
                follow_hint(ids.first().copied().unwrap_or_default())
            ),
        });
    };
    if config.output == Output::Table {
        crate::term::line(format_args!("Started backup job {shown} of {instance_id}."));
    }
    follow(&client, config, instance_id, &ids, &options)?;
    let answer = super::tasks::final_answer(&client, instance_id, &ids)?;
    print(|out| output::jobs(out, config.output, &answer))
}

/// The failure of CreateBackup, with a warning when the request may have reached the service:
/// then the backup may be running although an error is reported, and starting another one
/// blindly would make two.
fn may_have_started(config: &Config, instance_id: &str, e: Error) -> Failure {
    if !e.request_may_have_run() {
        return Failure::Client(e);
    }
    Failure::Hinted {
        failure: Box::new(Failure::Client(e)),
        hint: format!(
            "the backup may have started; check with {} backup-tasks --instance-id {instance_id} \
             --mode manual",
            config.command_prefix()
        ),
    }
}
