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
        follow(&client, config, instance_id, &[id], options)?;
        let answer = final_answer(&client, instance_id, &[id])?;
        return print(|out| output::jobs(out, config.output, &answer));
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
    follow(&client, config, instance_id, &ids, &options)?;
    let answer = final_answer(&client, instance_id, &ids)?;
    print(|out| output::jobs(out, config.output, &answer))
}

/// The answer printed after a wait: DescribeBackupTasks asked once more and cut to the jobs
/// waited for, so that `--wait` prints the same JSON as a plain listing (with its `RequestId`),
/// not a shape of its own.
pub fn final_answer(
    client: &Client,
    instance_id: &str,
    ids: &[u64],
) -> Result<rkvstore_blocking::core::DescribeBackupTasksResponse, Failure> {
    let mut op = DescribeBackupTasks::new(instance_id);
    if let [only] = ids {
        op.backup_job_id = Some(*only);
    }
    let mut answer = client.describe_backup_tasks(&op)?;
    answer
        .backup_jobs
        .retain(|j| ids.contains(&j.backup_job_id));
    Ok(answer)
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
    let hint = continue_hint(config, instance_id, ids);
    crate::interrupt::set_hint(Some(hint.clone()));
    let mut reporter = Reporter::new(config.progress);
    let result = client.wait_for_backup_jobs(instance_id, ids, options, |job| reporter.update(job));
    reporter.finish();
    crate::interrupt::set_hint(None);
    result.map_err(|e| match e.root() {
        // The job goes on at the server after a timeout as after Ctrl-C.
        rkvstore_blocking::Error::WaitTimedOut { .. } => Failure::Hinted {
            failure: Box::new(Failure::Client(e)),
            hint,
        },
        _ => Failure::Client(e),
    })
}

/// "job N continues on the server; follow it with: rkvstore … --wait", with the user's own
/// global flags, for Ctrl-C and timeouts.
pub fn continue_hint(config: &Config, instance_id: &str, ids: &[u64]) -> String {
    let prefix = config.command_prefix();
    let instance = crate::config::shell_quote(instance_id);
    let mut hint = match ids {
        [one] => format!(
            "job {one} continues on the server; follow it with: {prefix} backup-tasks \
             --instance-id {instance} --job-id {one} --wait"
        ),
        many => format!(
            "jobs {} continue on the server; follow them with: {prefix} backup-tasks \
             --instance-id {instance} --wait",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if config.is_local() {
        hint.push_str(
            " (with --endpoint local the emulator ends with this command, and so does the job)",
        );
    }
    hint
}
