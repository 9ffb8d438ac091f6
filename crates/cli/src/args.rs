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

  # Any R-kvstore action, aliyun-CLI style (options may follow the parameters):
  rkvstore call DescribeInstanceAttribute --InstanceId r-bp1zxszhcgatnx --region cn-hangzhou

  # Every page merged, as a table of chosen columns (aliyun's --pager and --output cols=):
  rkvstore --region cn-hangzhou call DescribeBackups --InstanceId r-bp1zxszhcgatnx --StartTime 2026-11-01T00:00Z --EndTime 2030-01-01T00:00Z --pager path=Backups.Backup --output cols=BackupId,BackupStatus,BackupSize rows=Backups.Backup

  # One value for a script (JMESPath; text prints bare), such as JOB=$(…):
  rkvstore --region cn-hangzhou backup --instance-id r-bp1zxszhcgatnx --cli-query BackupJobID

  # See exactly what would be sent, with secrets hidden:
  rkvstore --region cn-hangzhou --dry-run backup-tasks --instance-id r-bp1zxszhcgatnx

  # The backup health of every instance of every region, for cron (exit 5 unless all OK):
  rkvstore --region cn-hangzhou audit --all-regions --max-age 26h --output csv > audit.csv

Every example runs against the local emulator too: put --endpoint local in place of --region
and r-demo in place of the instance ID.

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET
(/ ALIBABA_CLOUD_SECURITY_TOKEN), ~/.aliyun/config.json or ~/.alibabacloud/credentials.
Exit status: 0 ok, 1 API, network or output error, 2 usage error, 3 configuration or
credentials error, 4 wait timed out, 5 audit found an instance that is not OK.";

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
    /// Use this profile of ~/.aliyun/config.json (or section of ~/.alibabacloud/credentials)
    /// and nothing else. ALIBABA_CLOUD_PROFILE only picks the profile the credentials chain
    /// reads after the environment's keys.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub profile: Option<String>,

    /// Region ID, such as cn-hangzhou.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "ALIBABA_CLOUD_REGION_ID",
        value_name = "ID"
    )]
    pub region: Option<String>,

    /// Endpoint: https://HOST (the default scheme), http://HOST:PORT, a bare HOST, or `local`
    /// for an emulator started in-process.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "URL|HOST|local")]
    pub endpoint: Option<String>,

    /// Signature version: v1 (RPC signature 1.0, HMAC-SHA1) or v3 (ACS3-HMAC-SHA256).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        default_value = "v1",
        value_parser = core_value(&[SignatureVersion::V1, SignatureVersion::V3])
    )]
    pub signature_version: SignatureVersion,

    /// Wire format asked of the API.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        default_value = "json",
        value_parser = core_value(&[Format::Json, Format::Xml])
    )]
    pub format: Format,

    /// Output: json, table, or aliyun's `cols=A,B [rows=PATH] [num=true]` (a table of those
    /// fields of the rows PATH selects; `cols=name:0,id:1` for rows that are lists), and csv
    /// for `audit`; table on a terminal, json otherwise (`call` prints json unless told).
    #[arg(long, short = 'o', global = true, help_heading = GLOBAL, value_name = "json|table|cols=A,B")]
    pub output: Option<String>,

    /// Shorthand for --output json.
    #[arg(long, global = true, help_heading = GLOBAL, conflicts_with = "output")]
    pub json: bool,

    /// A JMESPath expression applied to the JSON result (after paging); a text, number or
    /// boolean result prints bare, for `ID=$(rkvstore … --cli-query BackupJobID)`.
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "JMESPATH")]
    pub cli_query: Option<String>,

    /// Print only the result: no progress, notices or warnings on stderr (errors still are).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Seconds to wait for a connection [default: the profile's connect_timeout, else 5].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    pub connect_timeout: Option<f64>,

    /// Seconds to wait for an answer, and for each read of a file `download` streams
    /// [default: the profile's read_timeout, else 10].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SECS")]
    pub read_timeout: Option<f64>,

    /// Retries after a failed attempt (state-changing calls retry only when they did not run)
    /// [default: the profile's retry_count, else 2].
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "N", alias = "retry-count")]
    pub retries: Option<u32>,

    /// Print the signed request (method, URL, headers, body, string to sign) and send nothing;
    /// the secret and token never appear. Works without credentials (with a placeholder key,
    /// labelled as such).
    #[arg(long, global = true, help_heading = GLOBAL, alias = "dryrun")]
    pub dry_run: bool,

    /// Request and response summaries on stderr (redacted).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
}

/// The heading of the options every command takes, listed after the command's own.
pub const GLOBAL: &str = "Global options";

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
    /// Call any R-kvstore action, or any RPC action of another product with --product and
    /// --api-version: `call ACTION --Name value …` (`--Name-FILE path` reads the value from a
    /// file); options may come before or after the parameters. Prints the response as JSON.
    Call {
        /// The action, such as DescribeInstanceAttribute.
        action: String,
        /// Product code for another product's API, such as Ecs (with --api-version); the
        /// endpoint is --endpoint, else <product>.<region>.aliyuncs.com, else
        /// <product>.aliyuncs.com.
        #[arg(long, value_name = "CODE", requires = "api_version")]
        product: Option<String>,
        /// API version of --product, such as 2014-05-26.
        #[arg(long, value_name = "YYYY-MM-DD", requires = "product")]
        api_version: Option<String>,
        /// Merge every page: `path=LIST,PageNumber=…,PageSize=…,TotalCount=…` or
        /// `NextToken=…` (aliyun syntax; each part optional, defaults are the usual names, and
        /// the list defaults to the first list in the answer). Prints the merged list under
        /// its path, as aliyun does: `{"Backups":{"Backup":[…]}}`.
        #[arg(long, value_name = "path=LIST,…", conflicts_with = "waiter")]
        pager: Option<String>,
        /// Poll until a JMESPath expression equals a value: `expr=PATH,to=VALUE[,timeout=S]
        /// [,interval=S]` (aliyun syntax; timeout 180 s and interval 5 s by default).
        #[arg(long, value_name = "expr=PATH,to=VALUE")]
        waiter: Option<String>,
        /// Parameters as `--Name value`, `--Name=value` or `--Name-FILE path`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "--Name value"
        )]
        params: Vec<String>,
    },
    /// Audit the backups of every instance of the regions (--region R[,R…] or --all-regions):
    /// one row per instance, worst first; exit status 5 when any is not OK. --output table,
    /// json or csv.
    Audit(crate::commands::audit::AuditArgs),
    /// Serve a local R-kvstore emulator until killed (the first line of output is its URL).
    Emulator {
        #[command(flatten)]
        args: EmulatorArgs,
    },
    /// Print a shell completion script (profiles, regions and action names complete too).
    #[command(after_help = crate::completion::INSTALL)]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Print the version.
    Version,
}

/// The commands that send no request and print no JSON (and the emulator, which has flags of
/// its own): the global options do not apply to them, so their help leaves them out.
const WITHOUT_GLOBALS: &[&str] = &["completions", "version", "emulator"];

/// The command line's definition: [`Cli`], with the help of the commands the global options do
/// not apply to left without them, and the emulator's keys defaulting to demo ones.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().mut_subcommand("emulator", |sub| {
        sub.mut_arg("access_key_id", |a| {
            a.required(false).default_value(crate::config::DEMO_KEY_ID)
        })
        .mut_arg("access_key_secret", |a| {
            a.required(false)
                .default_value(crate::config::DEMO_SECRET)
                .hide_default_value(true)
        })
    })
}

/// Parses the process's command line (aliyun habits rewritten by [`crate::raw_args`]),
/// exiting with clap's message on a usage error.
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let argv = crate::raw_args::normalize(std::env::args_os().collect());
    crate::completion::hidden_command(&argv);
    own_help(&argv);
    let matches = command().get_matches_from(argv);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `rkvstore completions --help` and the like: the subcommand's help as it is before clap
/// adds the global options to it (which happens when the whole command is built), then exit.
fn own_help(argv: &[std::ffi::OsString]) {
    let words: Vec<&str> = argv.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let Some(mut at) = words.iter().position(|w| !w.starts_with('-')) else {
        return;
    };
    // `rkvstore help completions` is `rkvstore completions --help`.
    let by_help = words[at] == "help"
        && words
            .get(at + 1)
            .is_some_and(|w| WITHOUT_GLOBALS.contains(w));
    if by_help {
        at += 1;
    }
    if !WITHOUT_GLOBALS.contains(&words[at])
        || !(by_help || words[at + 1..].iter().any(|w| *w == "--help" || *w == "-h"))
    {
        return;
    }
    let Some(sub) = command().find_subcommand(words[at]).cloned() else {
        return;
    };
    let mut sub = sub.bin_name(format!("rkvstore {}", words[at]));
    let help = if by_help || words.contains(&"--help") {
        sub.render_long_help()
    } else {
        sub.render_help()
    };
    // Help goes to stdout, as clap's own does; a closed pipe loses nothing worth a message.
    let mut out = std::io::stdout().lock();
    let _ = std::io::Write::write_all(&mut out, help.to_string().as_bytes())
        .and_then(|()| std::io::Write::flush(&mut out));
    std::process::exit(0);
}

#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Poll until done: every job Finished (backup, backup-tasks), or the instance Normal
    /// again (restore).
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
