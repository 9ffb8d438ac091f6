//! Showing a wait: a bar per job on a terminal, one line per change otherwise.

use std::collections::BTreeMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rkvstore_blocking::core::BackupJob;

/// Receives every change of a job's status or progress.
pub enum Reporter {
    Bars {
        multi: MultiProgress,
        bars: BTreeMap<u64, ProgressBar>,
    },
    Lines,
}

impl Reporter {
    pub fn new(bars: bool) -> Self {
        if bars {
            Reporter::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: BTreeMap::new(),
            }
        } else {
            Reporter::Lines
        }
    }

    pub fn update(&mut self, job: &BackupJob) {
        let status = job
            .backup_progress_status
            .as_ref()
            .map_or_else(|| "Unknown".to_owned(), ToString::to_string);
        // The status came from the network: it must not drive the terminal.
        let status = rkvstore_blocking::core::escape::controls(&status).into_owned();
        let percent = job.percent().unwrap_or(0);
        match self {
            Reporter::Lines => crate::term::line(format_args!(
                "job {}: {status} {percent}%",
                job.backup_job_id
            )),
            Reporter::Bars { multi, bars } => {
                let bar = bars.entry(job.backup_job_id).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(100));
                    let style = ProgressStyle::with_template(
                        "{prefix:>12} [{bar:30.cyan/blue}] {pos:>3}% {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                    bar.set_style(style);
                    bar.set_prefix(format!("job {}", job.backup_job_id));
                    bar
                });
                bar.set_position(u64::from(percent));
                bar.set_message(status);
                if job.is_finished() {
                    bar.finish();
                }
            }
        }
    }

    /// Leaves the bars on screen as they last were.
    pub fn finish(&self) {
        if let Reporter::Bars { bars, .. } = self {
            for bar in bars.values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}
