//! `rkvstore download`: find the backup set, then stream its file to disk (see
//! `rkvstore_blocking::download`).

use std::io::Write;

use rkvstore_blocking::core::download::{file_name, shown_url};
use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::{minute_time, Backup, DescribeBackups, Operation};
use rkvstore_blocking::download::{download, DownloadError, DownloadOptions};
use serde_json::json;

use super::backups::{human_size, now};
use super::{dry_run, print};
use crate::backup_args::DownloadArgs;
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;
use crate::transfer::Transfer;

/// How far back `--backup-id` is looked for: the longest retention the service allows.
use super::backups::LOOKUP_DAYS;

pub fn run(config: &Config, args: &DownloadArgs) -> Result<(), Failure> {
    let now = now();
    let mut op = match args.backup_id {
        Some(id) => DescribeBackups::new(
            args.instance_id.as_str(),
            minute_time(now.offset(-LOOKUP_DAYS * 86_400)),
            minute_time(now.offset(60)),
        )
        .backup_id(id),
        None => DescribeBackups::last_days(args.instance_id.as_str(), now, 7),
    };
    op.page_size = Some(300);
    op.params()?;
    let (client, _emulator) = config.connect()?;
    if config.dry_run {
        return dry_run(&client, &client.request_for(&op)?);
    }
    let all = super::backups::all_backups(config, &client, &op)?;
    let backup = pick(&all.backups, args.backup_id).ok_or_else(|| Failure::Exit {
        code: 1,
        message: match args.backup_id {
            Some(id) => format!(
                "backup set {id} of {} was not found; list them with {} backups \
                     --instance-id {} --since 730d",
                args.instance_id,
                config.command_prefix(),
                args.instance_id
            ),
            None => format!(
                "{} has no successful backup set in the last 7 days; list them with {} \
                     backups --instance-id {} --since 30d",
                args.instance_id,
                config.command_prefix(),
                args.instance_id
            ),
        },
    })?;
    let fresh = format!(
        "{} backups --instance-id {} --backup-id {}",
        config.command_prefix(),
        args.instance_id,
        backup.backup_id
    );
    let url = backup
        .download_url(args.intranet)
        .ok_or_else(|| Failure::Exit {
            code: 1,
            message: format!(
                "backup set {} has no {} download URL; see `{fresh}`",
                backup.backup_id,
                if args.intranet { "intranet" } else { "public" }
            ),
        })?;
    let name = file_name(url, backup.backup_id);
    let options = DownloadOptions::new(&args.dir, name.clone())
        .expected_size(backup.backup_size)
        .force(args.force)
        // `--connect-timeout`/`--read-timeout` (or the profile's): the read timeout is also the
        // body's idle timeout, so that a server gone quiet mid-file ends the download.
        .timeouts(client.connect_timeout(), client.read_timeout())
        // The expiry check by the service's clock, when a call taught the client ours is off.
        .clock_skew(client.clock_skew());
    if config.verbose {
        crate::term::line(format_args!("rkvstore: downloading {}", shown_url(url)));
    }
    let mut shown = Transfer::new(config.progress_bars, name.clone());
    let result = download(url, &options, |bytes, total| shown.update(bytes, total));
    shown.finish();
    let done = result.map_err(|e| failure(e, &fresh))?;
    let path = done.path.display().to_string();
    print(|out| match config.output {
        Output::Json => output::json(
            out,
            &json!({
                "InstanceId": args.instance_id,
                "BackupId": backup.backup_id,
                "Path": path,
                "Bytes": done.bytes,
                "ResumedFrom": done.resumed_from,
                "Resumes": done.resumes,
                "AlreadyPresent": done.already_present,
            }),
        ),
        Output::Table => writeln!(
            out,
            "{} backup {} to {} ({}{}).",
            if done.already_present {
                "Already have"
            } else {
                "Saved"
            },
            backup.backup_id,
            controls(&path),
            human_size(done.bytes),
            match (done.resumed_from, done.resumes) {
                (0, 0) => String::new(),
                (from, n) => format!(
                    ", resumed from {} after {n} interruption(s)",
                    human_size(from)
                ),
            }
        ),
    })
}

/// The set asked for, or the newest successful one.
fn pick(backups: &[Backup], id: Option<u64>) -> Option<Backup> {
    match id {
        Some(id) => backups.iter().find(|b| b.backup_id == id).cloned(),
        None => backups
            .iter()
            .filter(|b| {
                b.backup_status
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("Success"))
            })
            .max_by(|a, b| {
                (&a.backup_start_time, a.backup_id).cmp(&(&b.backup_start_time, b.backup_id))
            })
            .cloned(),
    }
}

/// The exit status and advice for each way a download fails: 2 when the user must choose
/// (`--force`), 1 otherwise.
fn failure(e: DownloadError, fresh: &str) -> Failure {
    let code = match e {
        DownloadError::Exists { .. } => 2,
        _ => 1,
    };
    let message = e.to_string();
    match e {
        DownloadError::Expired { .. } => Failure::Hinted {
            failure: Box::new(Failure::Exit { code, message }),
            hint: format!(
                "get a fresh URL with `{fresh}` (running download again also asks for one); if \
                 this keeps happening, check this machine's clock"
            ),
        },
        _ => Failure::Exit { code, message },
    }
}
