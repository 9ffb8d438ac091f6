//! The flags of the backup-set commands: `backups`, `backup-policy`, `download`, `restore`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::args::WaitArgs;

/// `rkvstore backups`.
#[derive(Args, Debug)]
pub struct BackupsArgs {
    /// Instance ID, such as r-bp1zxszhcgatnx.
    #[arg(long, value_name = "ID")]
    pub instance_id: String,
    /// How far back to look: a number of days (7d), hours (12h) or minutes (30m) [default: 7d;
    /// with --backup-id, the 731 days retention can keep a set].
    #[arg(long, value_name = "AGE", conflicts_with_all = ["start", "end"])]
    pub since: Option<String>,
    /// Start of the window, UTC, yyyy-MM-ddTHH:mmZ (with --end).
    #[arg(long, value_name = "TIME", requires = "end")]
    pub start: Option<String>,
    /// End of the window, UTC, yyyy-MM-ddTHH:mmZ (with --start).
    #[arg(long, value_name = "TIME", requires = "start")]
    pub end: Option<String>,
    /// Only this backup set.
    #[arg(long, value_name = "N")]
    pub backup_id: Option<u64>,
    /// Only the sets of this backup job.
    #[arg(long, value_name = "N")]
    pub job_id: Option<u64>,
    /// Sets per request: 30, 50, 100, 200 or 300 (every page is fetched either way).
    #[arg(long, value_name = "N")]
    pub page_size: Option<u32>,
}

/// `rkvstore backup-policy`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PolicyArgs {
    /// Instance ID.
    #[arg(long, value_name = "ID")]
    pub instance_id: Option<String>,
    #[command(subcommand)]
    pub set: Option<PolicyCommand>,
}

/// `rkvstore backup-policy set`.
#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Change the policy: only what is given changes; prints the policy after the change.
    Set(PolicySetArgs),
}

/// The flags of `backup-policy set`.
#[derive(Args, Debug)]
pub struct PolicySetArgs {
    /// Instance ID.
    #[arg(long, value_name = "ID")]
    pub instance_id: String,
    /// Days to back up on, such as Mon,Wed,Fri or Monday,Thursday.
    #[arg(long, value_name = "DAYS")]
    pub period: Option<String>,
    /// The backup window, one hour in UTC on the hour, such as 02:00Z-03:00Z.
    #[arg(long, value_name = "WINDOW")]
    pub time: Option<String>,
    /// Keep backups this many days (7 to 730).
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
    /// Log backups (data flashback): on or off.
    #[arg(long, value_name = "on|off")]
    pub backup_log: Option<String>,
}

/// `rkvstore download`.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["backup_id", "latest"]))]
pub struct DownloadArgs {
    /// Instance ID.
    #[arg(long, value_name = "ID")]
    pub instance_id: String,
    /// The backup set to download.
    #[arg(long, value_name = "N")]
    pub backup_id: Option<u64>,
    /// The newest successful backup set of the last 7 days.
    #[arg(long)]
    pub latest: bool,
    /// Directory to write into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Use the URL for downloads from inside the instance's VPC.
    #[arg(long)]
    pub intranet: bool,
    /// Replace an existing file of the same name that is not this backup.
    #[arg(long)]
    pub force: bool,
}

/// `rkvstore restore`.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// Instance ID.
    #[arg(long, value_name = "ID")]
    pub instance_id: String,
    /// The backup set to restore (see `rkvstore backups`).
    #[arg(long, value_name = "N")]
    pub backup_id: String,
    /// Restore only keys matching these comma-separated regular expressions.
    #[arg(long, value_name = "PATTERNS")]
    pub filter_keys: Option<String>,
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub wait: WaitArgs,
}
