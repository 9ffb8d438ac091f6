//! Showing a download: a bar with bytes, rate and time left on a terminal, one line per 10%
//! otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::backups::human_size;

/// Receives `(bytes on disk, total)` as a download goes.
pub enum Transfer {
    Bar(ProgressBar),
    Lines {
        label: String,
        last_tenth: Option<u64>,
    },
}

impl Transfer {
    /// `label` names the file (already safe to print).
    pub fn new(bars: bool, label: String) -> Self {
        if bars {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label);
            Transfer::Bar(bar)
        } else {
            Transfer::Lines {
                label,
                last_tenth: None,
            }
        }
    }

    pub fn update(&mut self, bytes: u64, total: Option<u64>) {
        match self {
            Transfer::Bar(bar) => {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(bytes);
            }
            Transfer::Lines { label, last_tenth } => {
                let Some(total) = total.filter(|&t| t > 0) else {
                    return;
                };
                let tenth = (bytes.min(total) * 10 / total).min(10);
                if *last_tenth != Some(tenth) {
                    *last_tenth = Some(tenth);
                    crate::term::line(format_args!(
                        "{label}: {}% ({} of {})",
                        tenth * 10,
                        human_size(bytes),
                        human_size(total)
                    ));
                }
            }
        }
    }

    pub fn finish(&self) {
        if let Transfer::Bar(bar) = self {
            bar.abandon();
        }
    }
}
