//! `rkvstore audit`: the backup health of every instance of one or more regions, one row each,
//! worst first, with exit status 5 when any is not `OK`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rkvstore_blocking::audit::{
    AuditOptions, AuditProgress, AuditReport, RegionFailure, RegionWarning,
};
use rkvstore_blocking::core::audit::{
    parse_age, short_age, InstanceAudit, Summary, TasksCheck, Verdict,
};
use rkvstore_blocking::core::escape::controls;
use serde::Serialize;

use crate::args::Global;
use crate::config::{Config, Output};
use crate::failure::Failure;

/// The exit status when any instance is not `OK` or a region could not be listed.
pub const NOT_ALL_OK: u8 = 5;

/// Flags of `rkvstore audit`. The regions come from the global `--region`, which here may
/// name several separated by commas.
#[derive(Args, Debug, Clone)]
pub struct AuditArgs {
    /// Audit every region DescribeRegions lists (else those of --region, which may list several
    /// separated by commas, such as cn-hangzhou,cn-shanghai).
    #[arg(long)]
    pub all_regions: bool,

    /// Only this instance (repeat, or separate with commas, for more).
    #[arg(long = "instance-id", value_name = "ID")]
    pub instance_ids: Vec<String>,

    /// A last successful backup older than this is STALE: a number with s, m, h, d or w.
    #[arg(long, value_name = "AGE", default_value = "26h")]
    pub max_age: String,

    /// Requests in flight at most (1 to 256); fewer while the service throttles.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: u32,
}

/// The JSON document: stable field names, one object per instance, then the summary.
#[derive(Serialize)]
struct Document<'a> {
    instances: &'a [InstanceAudit],
    region_failures: &'a [RegionFailure],
    region_warnings: &'a [RegionWarning],
    summary: &'a Summary,
    all_ok: bool,
}

/// Runs the audit. `global` is the raw global flags: `--output csv` and a list of regions are
/// this command's alone, so they are taken out before the rest is checked as usual.
pub fn run(global: &Global, args: &AuditArgs) -> Result<(), Failure> {
    let mut g = global.clone();
    let csv = g
        .output
        .as_deref()
        .is_some_and(|o| o.trim().eq_ignore_ascii_case("csv"));
    if csv {
        // A query selects from the JSON document, which CSV is not: refused rather than
        // silently ignored.
        if g.cli_query.is_some() {
            return Err(Failure::Usage(
                "--cli-query applies to JSON, not to --output csv: use --output json with \
                 --cli-query, or csv without it"
                    .into(),
            ));
        }
        g.output = Some("json".into());
    }
    let regions: Vec<String> = g
        .region
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    g.region = regions.first().cloned();
    let config = Config::from_args(&g)?;
    if config.dry_run {
        return Err(Failure::Usage(
            "audit makes many calls and cannot be shown with --dry-run; try it against the \
             emulator instead (rkvstore-emulator --fleet 24)"
                .into(),
        ));
    }
    if !(1..=rkvstore_blocking::audit::MAX_CONCURRENCY).contains(&args.concurrency) {
        return Err(Failure::Usage(format!(
            "--concurrency must be 1 to {}, not {}",
            rkvstore_blocking::audit::MAX_CONCURRENCY,
            args.concurrency
        )));
    }
    if args.all_regions && regions.len() > 1 {
        return Err(Failure::Usage(
            "give either --all-regions or a list of regions in --region, not both".into(),
        ));
    }
    let max_age = parse_age(&args.max_age)?;
    let mut options = AuditOptions::default();
    options.all_regions = args.all_regions;
    options.regions = if args.all_regions {
        Vec::new()
    } else {
        regions
    };
    options.instance_ids = args
        .instance_ids
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    options.max_age = Duration::from_secs(max_age);
    options.concurrency = args.concurrency;
    let (client, _emulator) = config.connect()?;
    let bar = Bar::new(config.progress_bars && !config.quiet);
    let report = client
        .audit(&options, &|p: &AuditProgress| bar.show(p))
        .map_err(|e| match e {
            rkvstore_blocking::Error::Config(m) => {
                Failure::Usage(format!("{m} (use --region R[,R…] or --all-regions)"))
            }
            other => Failure::Client(other),
        });
    bar.finish();
    let report = report?;
    if !config.quiet {
        warn_short_listings(&report);
    }
    if config.verbose {
        let s = &report.stats;
        crate::term::line(format_args!(
            "rkvstore: audit of {} region(s): {} requests, {} throttled, at most {} in flight",
            s.regions, s.requests, s.throttled, s.peak_in_flight
        ));
    }
    let summary = summary_line(&report);
    match (csv, config.output) {
        (true, _) => {
            super::print(|out| write_csv(out, &report))?;
            crate::term::line(&summary);
        }
        // Through the common JSON printer, so that `--cli-query` and `--output cols=…` apply.
        (false, Output::Json) => super::print(|out| {
            crate::output::json(
                out,
                &Document {
                    instances: &report.rows,
                    region_failures: &report.region_failures,
                    region_warnings: &report.region_warnings,
                    summary: &report.summary,
                    all_ok: report.all_ok(),
                },
            )
        })?,
        (false, Output::Table) => super::print(|out| {
            write_table(out, &report)?;
            writeln!(out, "{summary}")
        })?,
    }
    if report.all_ok() {
        Ok(())
    } else {
        Err(Failure::Exit {
            code: NOT_ALL_OK,
            message: format!(
                "{} of {} instances are not OK{}",
                report.summary.total() - report.summary.count(Verdict::Ok),
                report.summary.total(),
                if report.region_failures.is_empty() {
                    ""
                } else {
                    ", and some regions could not be listed"
                }
            ),
        })
    }
}

/// A warning on stderr for each region whose listing stopped short, as `rkvstore backups` warns
/// of a listing of backup sets that did: the instances listed were audited, but the region may
/// hold more.
fn warn_short_listings(report: &AuditReport) {
    for w in &report.region_warnings {
        // The region and the counts came from the options and the network.
        crate::term::line(format_args!(
            "rkvstore: warning: region {}: {}; the audit may have missed instances",
            controls(&w.region),
            controls(&w.message)
        ));
    }
}

/// `audited 24 instances: 2 ERROR, …, 13 OK`, and the regions that failed.
fn summary_line(report: &AuditReport) -> String {
    let mut s = format!("audited {}", report.summary);
    if report.summary.total() == 0 {
        s.push_str(" (no instances found)");
    }
    let failed = report.region_failures.len();
    if failed > 0 {
        let names: Vec<&str> = report
            .region_failures
            .iter()
            .map(|f| f.region.as_str())
            .collect();
        s.push_str(&format!(
            "; {failed} region{} could not be listed: {}",
            if failed == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    s
}

/// The cells of one row, escaped for a terminal.
fn cells(r: &InstanceAudit) -> [String; 9] {
    let text = |s: Option<&str>| controls(s.unwrap_or("-")).into_owned();
    let job = match (&r.running_job, &r.backup_tasks) {
        (Some(j), _) => match j.progress {
            Some(p) => format!("{} {} {p}%", j.job_id, controls(&j.status)),
            None => format!("{} {}", j.job_id, controls(&j.status)),
        },
        (None, TasksCheck::Skipped { .. }) => "n/a".into(),
        (None, TasksCheck::Checked) => "none".into(),
        (None, _) => "-".into(),
    };
    let detail = match &r.error {
        Some(e) => format!(
            "{} ({}): {}",
            controls(&e.code),
            controls(&e.action),
            controls(&e.message)
        ),
        None => match &r.backup_tasks {
            TasksCheck::Skipped { .. } => "jobs not listed for this architecture".into(),
            _ => String::new(),
        },
    };
    [
        r.verdict.to_string(),
        controls(&r.region).into_owned(),
        controls(&r.instance_id).into_owned(),
        text(r.instance_name.as_deref()),
        text(r.architecture.as_deref()),
        r.policy
            .as_ref()
            .map(|p| p.short())
            .unwrap_or_else(|| "-".into()),
        r.last_success_age_secs
            .map(|a| format!("{} ago", short_age(a)))
            .unwrap_or_else(|| "never".into()),
        job,
        detail,
    ]
}

const HEADER: [&str; 9] = [
    "VERDICT",
    "REGION",
    "INSTANCE",
    "NAME",
    "ARCH",
    "POLICY",
    "LAST BACKUP",
    "JOB",
    "DETAIL",
];

fn write_table(out: &mut impl Write, report: &AuditReport) -> std::io::Result<()> {
    let rows: Vec<[String; 9]> = report.rows.iter().map(cells).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &HEADER)?;
    for row in &rows {
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        line(out, &refs)?;
    }
    for f in &report.region_failures {
        writeln!(
            out,
            "region {}: {} (DescribeInstances): {}",
            controls(&f.region),
            controls(&f.error.code),
            controls(&f.error.message)
        )?;
    }
    Ok(())
}

/// One CSV field: quoted when it holds a comma, a quote or a line break; control characters
/// escaped like everywhere else, since a spreadsheet is a terminal of sorts.
fn csv_field(s: &str) -> String {
    let s = controls(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn write_csv(out: &mut impl Write, report: &AuditReport) -> std::io::Result<()> {
    writeln!(
        out,
        "verdict,region,instance_id,instance_name,zone,architecture,capacity_mb,network_type,\
         tags,policy_days,policy_window,retention_days,last_success,last_success_age_secs,running_job_id,running_job_status,\
         running_job_progress,error_action,error_code,error_message"
    )?;
    for r in &report.rows {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let fields = [
            r.verdict.to_string(),
            r.region.clone(),
            r.instance_id.clone(),
            opt(r.instance_name.clone()),
            opt(r.zone.clone()),
            opt(r.architecture.clone()),
            opt(r.capacity_mb.map(|c| c.to_string())),
            opt(r.network_type.clone()),
            r.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
            opt(r.policy.as_ref().map(|p| {
                p.days
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })),
            opt(r.policy.as_ref().and_then(|p| p.window.clone())),
            opt(r
                .policy
                .as_ref()
                .and_then(|p| p.retention_days.map(|d| d.to_string()))),
            opt(r.last_success.clone()),
            opt(r.last_success_age_secs.map(|a| a.to_string())),
            opt(r.running_job.as_ref().map(|j| j.job_id.to_string())),
            opt(r.running_job.as_ref().map(|j| j.status.clone())),
            opt(r
                .running_job
                .as_ref()
                .and_then(|j| j.progress.map(|p| p.to_string()))),
            opt(r.error.as_ref().map(|e| e.action.clone())),
            opt(r.error.as_ref().map(|e| e.code.clone())),
            opt(r.error.as_ref().map(|e| e.message.clone())),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// The progress bar: instances done of the total, and errors so far; only on a terminal. Like
/// the wait bars ([`crate::progress`]) it fits the terminal: the bar takes what the text leaves,
/// and below 60 columns the text is shorter, so that nothing wraps at 40.
struct Bar {
    bar: Option<ProgressBar>,
    narrow: bool,
}

/// Below this many columns the compact layout is used.
const NARROW: u16 = 60;

impl Bar {
    fn new(on_terminal: bool) -> Self {
        if !(on_terminal && std::io::stderr().is_terminal()) {
            return Bar {
                bar: None,
                narrow: false,
            };
        }
        let narrow = console::Term::stderr()
            .size_checked()
            .is_some_and(|(_, cols)| cols < NARROW);
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let template = if narrow {
            "{spinner} {wide_bar} {pos}/{len} {msg} {elapsed}"
        } else {
            "{spinner} auditing [{wide_bar}] {pos}/{len} instances, {msg} ({elapsed})"
        };
        let style = ProgressStyle::with_template(template)
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        let bar = Bar {
            bar: Some(bar),
            narrow,
        };
        bar.set_errors(0);
        if let Some(b) = &bar.bar {
            b.enable_steady_tick(Duration::from_millis(100));
        }
        bar
    }

    fn set_errors(&self, errors: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(if self.narrow {
                format!("{errors} err")
            } else {
                format!("{errors} error{}", if errors == 1 { "" } else { "s" })
            });
        }
    }

    fn show(&self, p: &AuditProgress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        }
        self.set_errors(p.errors);
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_escaped() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("\u{1b}[2J"), "\\x1b[2J");
    }
}
