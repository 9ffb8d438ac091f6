//! Showing a wait: a bar per job on a terminal, one line per change otherwise.
//!
//! The bars keep moving while a job sits in one state (a spinner and the elapsed time, redrawn
//! ten times a second), fit the terminal's width (a compact layout below 60 columns, so nothing
//! wraps at 40), and lines printed meanwhile (`-v`, warnings) go above them through
//! [`above_bars`] instead of leaving stale copies of the bars behind.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rkvstore_blocking::core::BackupJob;

/// The bars on screen, for [`above_bars`] and the Ctrl-C handler.
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Below this many columns the bars use the compact layout.
const NARROW: u16 = 60;

/// Receives every change of a job's status or progress.
pub enum Reporter {
    Bars {
        multi: MultiProgress,
        bars: BTreeMap<u64, ProgressBar>,
        narrow: bool,
    },
    Lines,
    /// `--quiet`: nothing.
    Silent,
}

/// How the bars are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    Bars,
    Lines,
    Silent,
}

impl Reporter {
    pub fn new(display: Display) -> Self {
        match display {
            Display::Bars => {
                let target = ProgressDrawTarget::stderr();
                // indicatif's own terminal library, asked for the width it will draw in.
                let narrow = console::Term::stderr()
                    .size_checked()
                    .is_some_and(|(_, cols)| cols < NARROW);
                let multi = MultiProgress::with_draw_target(target);
                if let Ok(mut active) = ACTIVE.lock() {
                    *active = Some(multi.clone());
                }
                Reporter::Bars {
                    multi,
                    bars: BTreeMap::new(),
                    narrow,
                }
            }
            Display::Lines => Reporter::Lines,
            Display::Silent => Reporter::Silent,
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
            Reporter::Silent => {}
            Reporter::Lines => crate::term::line(format_args!(
                "job {}: {status} {percent}%",
                job.backup_job_id
            )),
            Reporter::Bars {
                multi,
                bars,
                narrow,
            } => {
                let narrow = *narrow;
                let bar = bars.entry(job.backup_job_id).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new(100));
                    bar.set_style(style(narrow));
                    bar.set_prefix(format!("job {}", job.backup_job_id));
                    // Redrawn on a timer, so that the spinner and the clock move between polls.
                    bar.enable_steady_tick(Duration::from_millis(100));
                    bar
                });
                bar.set_position(u64::from(percent));
                // A status is a word or two; a longer one from a hostile server is cut so that
                // the line still fits.
                let limit = if narrow { 10 } else { 24 };
                let shown: String = status.chars().take(limit).collect();
                bar.set_message(shown);
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
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
    }
}

/// `{spinner} job N [=====>    ]  55% Uploading 12s`; the bar takes what the rest leaves.
fn style(narrow: bool) -> ProgressStyle {
    let template = if narrow {
        "{spinner:.green} {prefix} {wide_bar:.cyan/blue} {pos:>3}% {msg:10} {elapsed:>3}"
    } else {
        "{spinner:.green} {prefix:>12} [{wide_bar:.cyan/blue}] {pos:>3}% {msg:<12} {elapsed:>6}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Prints `text` above the bars when bars are on screen; `false` when there are none, and the
/// caller prints it itself.
pub fn above_bars(text: &str) -> bool {
    let multi = match ACTIVE.lock() {
        Ok(active) => active.clone(),
        Err(_) => None,
    };
    match multi {
        Some(m) => m.println(text).is_ok(),
        None => false,
    }
}

/// Takes the bars off the screen (before the last words of an interrupted wait).
pub fn clear() {
    let multi = match ACTIVE.lock() {
        Ok(mut active) => active.take(),
        Err(_) => None,
    };
    if let Some(m) = multi {
        let _ = m.clear();
    }
}
