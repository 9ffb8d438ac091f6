//! Printing results: JSON with the API's own names and types, or a table for people.

use std::io::Write;

use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::{BackupJob, DescribeBackupTasksResponse};
use serde::Serialize;

use crate::config::Output;

/// What happens to a JSON result before it is printed: `--cli-query`, then `--output cols=…`
/// or a generic table. Set once, from the command line, before any command prints.
#[derive(Debug, Default)]
pub struct Post {
    /// `--cli-query`.
    pub query: Option<crate::query::Query>,
    /// How the (queried) result is shown.
    pub render: Render,
}

/// How a JSON result is shown.
#[derive(Debug, Default)]
pub enum Render {
    /// Pretty JSON; a text, number or boolean result of a query prints bare.
    #[default]
    Json,
    /// `--output table` where the command has no table of its own, or after `--cli-query`.
    Table,
    /// `--output cols=…`.
    Cols(crate::cols::Cols),
}

static POST: std::sync::OnceLock<Post> = std::sync::OnceLock::new();

/// Sets what [`json`] does to results; the first call wins.
pub fn configure(post: Post) {
    let _ = POST.set(post);
}

/// Prints `value` as its JSON with the API's names and order (after `--cli-query`, and as a
/// table for `--output cols=…`), and a newline.
pub fn json(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    let value = serde_json::to_value(value).map_err(std::io::Error::other)?;
    let post = POST.get_or_init(Post::default);
    let (value, queried) = match &post.query {
        Some(q) => (q.apply(&value).map_err(query_failed)?, true),
        None => (value, false),
    };
    match &post.render {
        Render::Cols(cols) => out.write_all(cols.render(&value).map_err(query_failed)?.as_bytes()),
        Render::Table => out.write_all(crate::cols::generic_table(&value).as_bytes()),
        Render::Json => match &value {
            // `ID=$(rkvstore … --cli-query BackupJobID)` gets the bare value. Control
            // characters from the network stay escaped even then.
            serde_json::Value::String(s) if queried => writeln!(out, "{}", controls(s)),
            serde_json::Value::Number(_) | serde_json::Value::Bool(_) if queried => {
                writeln!(out, "{value}")
            }
            _ => {
                serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::other)?;
                writeln!(out)
            }
        },
    }
}

/// A query or table that fails on the result: carried through the writer's error as a usage
/// failure, which [`crate::commands`] turns back into its message.
fn query_failed(f: crate::failure::Failure) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, QueryError(f.render()))
}

/// The message of a failed `--cli-query` or `--output cols=…`, as an I/O error's payload.
#[derive(Debug)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.trim_start_matches("error: ").trim_end())
    }
}

impl std::error::Error for QueryError {}

/// One row per job: ID, mode, action, status, progress, start time.
pub fn jobs_table(out: &mut impl Write, instance: &str, jobs: &[BackupJob]) -> std::io::Result<()> {
    if jobs.is_empty() {
        return writeln!(out, "No backup jobs for instance {instance}.");
    }
    let text = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    let mut rows = vec![[
        "JOB ID".to_owned(),
        "MODE".to_owned(),
        "ACTION".to_owned(),
        "STATUS".to_owned(),
        "PROGRESS".to_owned(),
        "START TIME".to_owned(),
    ]];
    for j in jobs {
        rows.push([
            j.backup_job_id.to_string(),
            text(j.job_mode.as_ref().map(ToString::to_string)),
            text(j.task_action.as_ref().map(ToString::to_string)),
            text(j.backup_progress_status.as_ref().map(ToString::to_string)),
            text(j.percent().map(|p| format!("{p}%"))),
            text(j.start_time.clone()),
        ]);
    }
    write_rows(out, rows)
}

/// Writes aligned columns; every cell has its control characters escaped first (cells come
/// from the network), which also keeps the widths true.
pub fn write_rows<const N: usize>(
    out: &mut impl Write,
    mut rows: Vec<[String; N]>,
) -> std::io::Result<()> {
    for row in rows.iter_mut() {
        for cell in row.iter_mut() {
            if let std::borrow::Cow::Owned(safe) = controls(cell) {
                *cell = safe;
            }
        }
    }
    let mut widths = [0usize; N];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

/// Prints the answer about the jobs waited for in the chosen output: the same JSON as
/// `backup-tasks` prints without `--wait` (the API's `RequestId`, `InstanceId`, `BackupJobs`).
pub fn jobs(
    out: &mut impl Write,
    output: Output,
    answer: &DescribeBackupTasksResponse,
) -> std::io::Result<()> {
    match output {
        Output::Json => json(out, answer),
        Output::Table => jobs_table(out, &answer.instance_id, &answer.backup_jobs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkvstore_blocking::core::{BackupStatus, JobMode, TaskAction};

    #[test]
    fn table_aligns_columns_and_says_when_empty() {
        let mut job = BackupJob::new(100002);
        job.backup_progress_status = Some(BackupStatus::Uploading);
        job.job_mode = Some(JobMode::Manual);
        job.process = Some("55".into());
        job.progress = Some("55".into());
        job.start_time = Some("2026-11-29T10:00:00Z".into());
        job.task_action = Some(TaskAction::TempBackupTask);
        let mut out = Vec::new();
        jobs_table(&mut out, "r-demo", std::slice::from_ref(&job)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "JOB ID  MODE    ACTION          STATUS     PROGRESS  START TIME\n\
             100002  Manual  TempBackupTask  Uploading  55%       2026-11-29T10:00:00Z\n"
        );
        let mut out = Vec::new();
        let mut hostile = job.clone();
        hostile.backup_progress_status = Some(BackupStatus::Other("\x1b[2JDone\r".into()));
        hostile.start_time = Some("\u{9b}31mnow".into());
        jobs_table(&mut out, "r-demo", &[hostile]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.replace('\n', "").chars().any(char::is_control),
            "{text:?}"
        );
        assert!(
            text.contains("\\x1b[2JDone\\r") && text.contains("\\u{9b}31mnow"),
            "{text}"
        );
        let mut out = Vec::new();
        jobs_table(&mut out, "r-demo", &[]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "No backup jobs for instance r-demo.\n"
        );
    }
}
