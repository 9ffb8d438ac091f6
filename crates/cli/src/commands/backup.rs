//! `rkvstore backup`.

use std::io::Write;

use rkvstore_blocking::core::CreateBackup;

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
    let started = client.create_backup(&op)?;
    let ids = started.job_ids().unwrap_or_default();
    let Some(options) = wait else {
        return print(|out| match config.output {
            Output::Json => output::json(out, &started),
            Output::Table => writeln!(
                out,
                "Started backup job {} of {instance_id}; follow it with \
                 `rkvstore backup-tasks --instance-id {instance_id} --job-id {} --wait`.",
                started.backup_job_id,
                ids.first().copied().unwrap_or_default()
            ),
        });
    };
    if ids.is_empty() {
        return Err(Failure::Client(rkvstore_blocking::Error::Config(format!(
            "CreateBackup returned the job ID {:?}, which cannot be followed",
            started.backup_job_id
        ))));
    }
    if config.output == Output::Table {
        eprintln!(
            "Started backup job {} of {instance_id}.",
            started.backup_job_id
        );
    }
    let done = follow(&client, config, instance_id, &ids, &options)?;
    print(|out| output::jobs(out, config.output, instance_id, &done))
}
