//! Printing results: JSON with the API's own names and types, or a table for people.

use std::io::Write;

use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::BackupJob;
use serde::Serialize;

use crate::config::Output;

/// Prints `value` as pretty JSON and a newline.
pub fn json(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

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
    let mut widths = [0usize; 6];
    // Cells come from the network: control characters are shown as escapes, which also keeps
    // the widths true.
    for row in rows.iter_mut() {
        for cell in row.iter_mut() {
            if let std::borrow::Cow::Owned(safe) = controls(cell) {
                *cell = safe;
            }
        }
    }
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

/// Prints jobs in the chosen output.
pub fn jobs(
    out: &mut impl Write,
    output: Output,
    instance: &str,
    jobs: &[BackupJob],
) -> std::io::Result<()> {
    match output {
        Output::Json => json(
            out,
            &serde_json::json!({ "InstanceId": instance, "BackupJobs": jobs }),
        ),
        Output::Table => jobs_table(out, instance, jobs),
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
