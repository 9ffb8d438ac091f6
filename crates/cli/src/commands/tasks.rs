//! `rkvstore backup-tasks`.

use rkvstore_blocking::core::{DescribeBackupTasks, JobMode};
use rkvstore_blocking::Client;

use super::{dry_run, print, wait_options};
use crate::args::WaitArgs;
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;
use crate::progress::Reporter;

pub fn run(
    config: &Config,
    instance_id: &str,
    job_id: Option<u64>,
    mode: Option<JobMode>,
    wait: &WaitArgs,
) -> Result<(), Failure> {
    let wait = wait_options(config, wait)?;
    let mut op = DescribeBackupTasks::new(instance_id);
    op.backup_job_id = job_id;
    op.job_mode = mode;
    // Checked before any network use, so that a typo is a usage error.
    rkvstore_blocking::core::Operation::params(&op)?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        return dry_run(&client, &client.request_for(&op)?);
    }
    // With a job ID, waiting starts at once: a job that is not listed yet is "not visible yet"
    // for the waiter's grace period and then an error naming it, never an empty success.
    if let (Some(id), Some(options)) = (job_id, &wait) {
        let done = follow(&client, config, instance_id, &[id], options)?;
        return print(|out| output::jobs(out, config.output, instance_id, &done));
    }
    let answer = client.describe_backup_tasks(&op)?;
    let Some(options) = wait else {
        return print(|out| match config.output {
            Output::Json => output::json(out, &answer),
            Output::Table => output::jobs_table(out, instance_id, &answer.backup_jobs),
        });
    };
    let ids: Vec<u64> = answer.backup_jobs.iter().map(|j| j.backup_job_id).collect();
    if ids.is_empty() {
        crate::term::line(format_args!(
            "rkvstore: instance {instance_id} has no backup jobs{}; nothing to wait for",
            op.job_mode
                .as_ref()
                .map(|m| format!(" in {} mode", m.as_str().to_ascii_lowercase()))
                .unwrap_or_default()
        ));
    }
    let done = follow(&client, config, instance_id, &ids, &options)?;
    print(|out| output::jobs(out, config.output, instance_id, &done))
}

/// Waits for `ids`, showing progress on stderr.
pub fn follow(
    client: &Client,
    config: &Config,
    instance_id: &str,
    ids: &[u64],
    options: &rkvstore_blocking::WaitOptions,
) -> Result<Vec<rkvstore_blocking::core::BackupJob>, Failure> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut reporter = Reporter::new(config.progress_bars);
    let result = client.wait_for_backup_jobs(instance_id, ids, options, |job| reporter.update(job));
    reporter.finish();
    Ok(result?)
}
