//! `rkvstore backups`: every backup set of a window, all pages merged.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::{
    Backup, DescribeBackups, DescribeBackupsResponse, Operation, Timestamp,
};
use serde_json::json;

use super::{dry_run, print};
use crate::backup_args::BackupsArgs;
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;

/// This machine's clock.
pub fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}

/// `--since 7d` (or `12h`, `30m`) in seconds, at most two years.
pub fn since_seconds(text: &str) -> Result<i64, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "invalid --since {:?}: use a number of days, hours or minutes such as 7d, 12h or \
             30m (at most 730d)",
            controls(text)
        ))
    };
    let t = text.trim();
    let unit = match t.chars().last() {
        Some('d') => 86_400,
        Some('h') => 3600,
        Some('m') => 60,
        _ => return Err(bad()),
    };
    let n: i64 = t
        .get(..t.len() - 1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)?;
    let secs = n.checked_mul(unit).ok_or_else(bad)?;
    if n <= 0 || secs > 730 * 86_400 {
        return Err(bad());
    }
    Ok(secs)
}

/// The DescribeBackups window of `--since` or `--start`/`--end`, the last 7 days by default.
pub fn window(
    instance_id: &str,
    since: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Result<DescribeBackups, Failure> {
    let op = match (start, end) {
        (Some(s), Some(e)) => DescribeBackups::new(instance_id, s, e),
        _ => {
            let secs = since.map(since_seconds).transpose()?.unwrap_or(7 * 86_400);
            let now = now();
            DescribeBackups::new(
                instance_id,
                rkvstore_blocking::core::minute_time(now.offset(-secs)),
                rkvstore_blocking::core::minute_time(now.offset(60)),
            )
        }
    };
    Ok(op)
}

/// The window looked through for `--backup-id` without `--since`/`--start`: the longest
/// retention the service allows (730 days) and a day to spare. DescribeBackups sets no limit on
/// the window's length (the pager walks however many pages it holds).
pub const LOOKUP_DAYS: i64 = 731;

pub fn run(config: &Config, args: &BackupsArgs) -> Result<(), Failure> {
    // One set by ID may be as old as retention allows: look through all of it unless told.
    let mut op = if args.backup_id.is_some() && args.since.is_none() && args.start.is_none() {
        let now = now();
        DescribeBackups::new(
            args.instance_id.as_str(),
            rkvstore_blocking::core::minute_time(now.offset(-LOOKUP_DAYS * 86_400)),
            rkvstore_blocking::core::minute_time(now.offset(60)),
        )
    } else {
        window(
            &args.instance_id,
            args.since.as_deref(),
            args.start.as_deref(),
            args.end.as_deref(),
        )?
    };
    op.backup_id = args.backup_id;
    op.backup_job_id = args.job_id;
    op.page_size = args.page_size;
    // Checked before any network use, so that a typo is a usage error.
    op.params()?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        let first = rkvstore_blocking::core::pager::BackupPager::new(op);
        let page = first.next_operation().ok_or_else(|| {
            Failure::Usage("nothing to ask for: the window has no first page".into())
        })?;
        return dry_run(&client, &client.request_for(&page)?);
    }
    let all = all_backups(config, &client, &op)?;
    print(|out| match config.output {
        Output::Json => output::json(out, &api_json(&args.instance_id, &all)),
        Output::Table => table(out, &args.instance_id, &all.backups),
    })
}

/// Every page of `op`, each set once; a warning on stderr when the service repeated pages or
/// claimed more sets than it gave (the sets gathered are still shown).
pub fn all_backups(
    config: &Config,
    client: &rkvstore_blocking::Client,
    op: &DescribeBackups,
) -> Result<DescribeBackupsResponse, Failure> {
    let (all, warning) = client.walk_backups(op)?;
    if let Some(w) = warning {
        if !config.quiet {
            // The counts came from the network.
            crate::term::line(format_args!(
                "rkvstore: warning: {}; the list may be incomplete",
                controls(&w.to_string())
            ));
        }
    }
    Ok(all)
}

/// The merged answer in the API's own shape: `Backups.Backup` holds every page's sets.
pub fn api_json(instance_id: &str, all: &DescribeBackupsResponse) -> serde_json::Value {
    json!({
        "RequestId": all.request_id,
        "InstanceId": instance_id,
        "TotalCount": all.total_count,
        "FullStorageSize": all.full_storage_size,
        "LogStorageSize": all.log_storage_size,
        "FreeSize": all.free_size,
        "Backups": { "Backup": all.backups },
    })
}

/// `bytes` in binary units: `512 B`, `1.5 KiB`, `301.2 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS.get(unit).unwrap_or(&"B")),
    }
}

/// One row per set: ID, status, method, type, size, start, end, node.
pub fn table(out: &mut impl Write, instance: &str, backups: &[Backup]) -> std::io::Result<()> {
    if backups.is_empty() {
        return writeln!(
            out,
            "No backup sets for instance {instance} in this window."
        );
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut rows = vec![[
        "BACKUP ID",
        "STATUS",
        "METHOD",
        "TYPE",
        "SIZE",
        "START",
        "END",
        "NODE",
    ]
    .map(str::to_owned)];
    for b in backups {
        rows.push([
            b.backup_id.to_string(),
            text(&b.backup_status),
            text(&b.backup_method),
            text(&b.backup_type),
            b.backup_size.map_or_else(|| "-".to_owned(), human_size),
            text(&b.backup_start_time),
            text(&b.backup_end_time),
            text(&b.node_instance_id),
        ]);
    }
    crate::output::write_rows(out, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 << 30), "5.0 GiB");
        assert_eq!(since_seconds("7d").unwrap(), 7 * 86_400);
        assert_eq!(since_seconds("12h").unwrap(), 12 * 3600);
        for bad in [
            "",
            "7",
            "d",
            "-1d",
            "0h",
            "731d",
            "99999999999999999d",
            "7\u{e9}",
        ] {
            assert!(since_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_table_escapes_what_came_from_the_network() {
        let mut b = Backup::new(7);
        b.backup_status = Some("Success\x1b]0;pwned\x07".into());
        b.backup_size = Some(3 << 20);
        let mut out = Vec::new();
        table(&mut out, "r-1", &[b]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Success\\x1b]0;pwned\\x07"), "{text}");
        assert!(text.contains("3.0 MiB"), "{text}");
        assert!(!text.replace('\n', "").chars().any(char::is_control));
    }
}
