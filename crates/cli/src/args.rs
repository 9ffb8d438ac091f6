//! The raw command line, as clap parses it. Nothing here is validated beyond its type; the
//! [`crate::config`] module turns it into a configuration that can be trusted.

use std::ffi::OsStr;
use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rkvstore_blocking::core::{Format, JobMode, SignatureVersion};
use rkvstore_emulator::EmulatorArgs;

const EXAMPLES: &str = "\
Examples:
  # The whole backup workflow against a local emulator, no cloud account needed:
  rkvstore --endpoint local backup --instance-id r-demo --wait

  # Backup jobs of an instance, as a table or as JSON:
  rkvstore --region cn-hangzhou backup-tasks --instance-id r-bp1zxszhcgatnx
  rkvstore --region cn-hangzhou --output json backup-tasks --instance-id r-bp1zxszhcgatnx --mode manual

  # Start a backup kept 30 days and follow it:
  rkvstore --region cn-hangzhou backup --instance-id r-bp1zxszhcgatnx --retention-days 30 --wait

  # Any R-kvstore action, aliyun-CLI style:
  rkvstore --region cn-hangzhou call DescribeInstanceAttribute --InstanceId r-bp1zxszhcgatnx

  # See exactly what would be sent, with secrets hidden:
  rkvstore --region cn-hangzhou --dry-run backup-tasks --instance-id r-bp1zxszhcgatnx

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
(/ ALIBABA_CLOUD_SECURITY_TOKEN), ~/.aliyun/config.json or ~/.alibabacloud/credentials.
Exit status: 0 ok, 1 API, network or output error, 2 usage error, 3 configuration or
credentials error, 4 wait timed out.";

/// ApsaraDB for Redis (R-kvstore) backups from the command line.
#[derive(Parser, Debug)]
#[command(name = "rkvstore", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// Options for every command.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Profile in ~/.aliyun/config.json (or section of ~/.alibabacloud/credentials).
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// Region ID, such as cn-hangzhou.
    #[arg(
        long,
        global = true,
        env = "ALIBABA_CLOUD_REGION_ID",
        value_name = "ID"
    )]
    pub region: Option<String>,

    /// Endpoint: https://HOST (the default scheme), http://HOST:PORT, a bare HOST, or `local`
    /// for an emulator started in-process.
    #[arg(long, global = true, value_name = "URL|HOST|local")]
    pub endpoint: Option<String>,

    /// Signature version: v1 (RPC signature 1.0, HMAC-SHA1) or v3 (ACS3-HMAC-SHA256).
    #[arg(
        long,
        global = true,
        default_value = "v1",
        value_parser = core_value(&[SignatureVersion::V1, SignatureVersion::V3])
    )]
    pub signature_version: SignatureVersion,

    /// Wire format asked of the API.
    #[arg(
        long,
        global = true,
        default_value = "json",
        value_parser = core_value(&[Format::Json, Format::Xml])
    )]
    pub format: Format,

    /// Output: table on a terminal, json otherwise.
    #[arg(long, global = true, value_enum)]
    pub output: Option<OutputArg>,

    /// Seconds to wait for a connection [default: the profile's connect_timeout, else 5].
    #[arg(long, global = true, value_name = "SECS")]
    pub connect_timeout: Option<f64>,

    /// Seconds to wait for an answer [default: the profile's read_timeout, else 10].
    #[arg(long, global = true, value_name = "SECS")]
    pub read_timeout: Option<f64>,

    /// Retries after a failed attempt (state-changing calls retry only when they did not run)
    /// [default: the profile's retry_count, else 2].
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,

    /// Print the signed request (method, URL, headers, body, string to sign) and send nothing;
    /// the secret and token never appear.
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Request and response summaries on stderr (redacted).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputArg {
    Json,
    Table,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List an instance's backup jobs (DescribeBackupTasks); --wait follows them to the end.
    BackupTasks {
        /// Instance ID, such as r-bp1zxszhcgatnx.
        #[arg(long, value_name = "ID")]
        instance_id: String,
        /// Only this job.
        #[arg(long, value_name = "N")]
        job_id: Option<u64>,
        /// Only automated or only manual jobs.
        #[arg(long, value_parser = core_value(&[JobMode::Automated, JobMode::Manual]))]
        mode: Option<JobMode>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Start a manual backup (CreateBackup); --wait follows it to the end.
    Backup {
        /// Instance ID.
        #[arg(long, value_name = "ID")]
        instance_id: String,
        /// Keep the backup this many days (7 to 730, or -1 for the instance's lifetime).
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        retention_days: Option<i32>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// List an instance's backup sets (DescribeBackups), every page merged; the last 7 days
    /// unless told otherwise.
    Backups(crate::backup_args::BackupsArgs),
    /// Show the automatic backup policy; `backup-policy set` changes it.
    BackupPolicy(crate::backup_args::PolicyArgs),
    /// Download a backup file, resuming an interrupted transfer (exit 2 when a different file
    /// is in the way and --force is not given).
    Download(crate::backup_args::DownloadArgs),
    /// Restore an instance from a backup set (RestoreInstance); --wait follows it back to
    /// Normal. Asks for the instance ID on a terminal; needs --yes anywhere else.
    Restore(crate::backup_args::RestoreArgs),
    /// Call any R-kvstore action: `call ACTION --Name value …` (`--Name-FILE path` reads the
    /// value from a file). Prints the response as JSON.
    Call {
        /// The action, such as DescribeInstanceAttribute.
        action: String,
        /// Parameters as `--Name value`, `--Name=value` or `--Name-FILE path`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--Name value"
        )]
        params: Vec<String>,
    },
    /// Serve a local R-kvstore emulator until killed (the first line of output is its URL).
    Emulator {
        #[command(flatten)]
        args: EmulatorArgs,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: ShellArg,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Poll until every job is Finished.
    #[arg(long)]
    pub wait: bool,
    /// Seconds between polls, at least 0.5 except against a local emulator [default: 5, or 0.5
    /// with --endpoint local].
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub interval: Option<f64>,
    /// Give up after this many seconds (exit status 4).
    #[arg(long, value_name = "SECS", default_value_t = 3600.0, requires = "wait")]
    pub timeout: f64,
}

/// Parses a flag with the core's own `FromStr`, so that what is accepted (any case, aliases such
/// as `1.0` for `v1`) and the error listing the allowed values are the library's; `shown` are
/// the values `--help` and shell completions offer, in lower case as people type them.
#[derive(Clone)]
pub struct CoreValue<T: 'static> {
    shown: &'static [T],
    parsed: PhantomData<fn() -> T>,
}

fn core_value<T>(shown: &'static [T]) -> CoreValue<T> {
    CoreValue {
        shown,
        parsed: PhantomData,
    }
}

impl<T> TypedValueParser for CoreValue<T>
where
    T: FromStr + Display + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        // clap's own parser for `FromStr` types, for its usual error layout and exit status.
        StringValueParser::new()
            .try_map(|s| s.parse::<T>())
            .parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.shown.iter().map(|v| {
            PossibleValue::new(v.to_string().to_ascii_lowercase())
        })))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn global(args: &[&str]) -> Result<Global, clap::Error> {
        let mut argv = vec!["rkvstore"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["completions", "bash"]);
        Cli::try_parse_from(argv).map(|cli| cli.global)
    }

    #[test]
    fn flags_take_the_core_spellings_in_any_case() {
        let g = global(&["--signature-version", "V3", "--format", "XML"]).unwrap();
        assert_eq!(g.signature_version, SignatureVersion::V3);
        assert_eq!(g.format, Format::Xml);
        let g = global(&["--signature-version", "1.0"]).unwrap();
        assert_eq!(g.signature_version, SignatureVersion::V1);
        let g = global(&[]).unwrap();
        assert_eq!(
            (g.signature_version, g.format),
            (SignatureVersion::V1, Format::Json)
        );
    }

    #[test]
    fn a_bad_value_is_a_usage_error_listing_the_allowed_ones() {
        let e = global(&["--format", "yaml"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("use json or xml"), "{e}");
        let e = global(&["--signature-version", "v2"]).unwrap_err();
        assert!(e.to_string().contains("use v1 (RPC signature 1.0"), "{e}");
    }

    #[test]
    fn help_lists_the_values() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("[possible values: v1, v3]"), "{help}");
        assert!(help.contains("[possible values: json, xml]"), "{help}");
    }
}
