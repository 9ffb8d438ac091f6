//! The validated configuration, built from the raw flags, and the client it describes.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use rkvstore_blocking::core::retry::RetryPolicy;
use rkvstore_blocking::core::{Credentials, Endpoint, Format, SignatureVersion};
use rkvstore_blocking::credentials::{self, CredentialsError, ProcessEnv};
use rkvstore_blocking::{Client, Error};
use rkvstore_emulator::{Emulator, JobSeed, Pace};

use crate::args::Global;
use crate::failure::Failure;
use crate::output::{Post, Render};
use crate::progress::Display;

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Table,
}

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// Resolved from the region.
    Resolved,
    /// An explicit endpoint: as the user typed it (for suggested commands) and parsed.
    Explicit(String, Endpoint),
    /// An emulator started in this process.
    Local,
}

/// Everything the commands need, checked.
#[derive(Clone, Debug)]
pub struct Config {
    pub output: Output,
    /// `--output` or `--json` was given (else `output` is the terminal's default).
    pub output_given: bool,
    pub dry_run: bool,
    pub verbose: bool,
    /// `--quiet`: no progress, notices or warnings.
    pub quiet: bool,
    /// Progress bars when stderr is a terminal that can draw them, plain lines otherwise,
    /// nothing with `--quiet`.
    pub progress: Display,
    /// `progress` is [`Display::Bars`] (for the download bar).
    pub progress_bars: bool,
    target: Target,
    profile: Option<String>,
    region: Option<String>,
    signature: SignatureVersion,
    format: Format,
    /// Unset flags leave the profile's setting, or the default, in force.
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    retries: Option<u32>,
}

/// Demo credentials for `--endpoint local` and `rkvstore emulator` when none are configured.
pub const DEMO_KEY_ID: &str = "LTAIrkvstoreLocalDemo";
/// The secret that goes with [`DEMO_KEY_ID`]; it opens nothing but a local emulator.
pub const DEMO_SECRET: &str = "rkvstore-local-demo-secret";

/// The key a `--dry-run` is signed with when no credentials are configured. Its name says what
/// it is wherever it shows (the URL, the string to sign), and a note on stderr says it too.
pub const PLACEHOLDER_KEY_ID: &str = "PLACEHOLDER-KEY-FOR-DRY-RUN";
const PLACEHOLDER_SECRET: &str = "placeholder-secret-for-dry-run";

pub fn seconds(flag: &str, value: f64) -> Result<Duration, Failure> {
    if value.is_finite() && value > 0.0 && value < 1e9 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Failure::Usage(format!(
            "{flag} must be a positive number of seconds, not {value}"
        )))
    }
}

impl Config {
    pub fn from_args(g: &Global) -> Result<Self, Failure> {
        let target = match g.endpoint.as_deref() {
            None => Target::Resolved,
            Some(e) if e.eq_ignore_ascii_case("local") => Target::Local,
            // Parsed here, once, so that a malformed endpoint is a usage error before
            // credentials are looked for; the client takes the parsed value.
            Some(e) => Target::Explicit(
                e.to_owned(),
                Endpoint::parse(e).map_err(|e| Failure::Usage(e.to_string()))?,
            ),
        };
        // The region is checked by the client builder, the one place that sees every source
        // of it (this flag, the environment, the profile); a bad one is a usage error there.
        let (output, post) = output_of(g)?;
        crate::output::configure(post);
        let progress = if g.quiet {
            Display::Silent
        } else if std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        {
            Display::Bars
        } else {
            // A pipe, a log file, or a terminal that cannot move the cursor (TERM=dumb, as in
            // Emacs shells): one line per change.
            Display::Lines
        };
        Ok(Config {
            output,
            output_given: g.output.is_some() || g.json,
            dry_run: g.dry_run,
            verbose: g.verbose,
            quiet: g.quiet,
            progress,
            progress_bars: progress == Display::Bars,
            target,
            profile: g.profile.clone(),
            region: g.region.clone(),
            signature: g.signature_version,
            format: g.format,
            connect_timeout: g
                .connect_timeout
                .map(|s| seconds("--connect-timeout", s))
                .transpose()?,
            read_timeout: g
                .read_timeout
                .map(|s| seconds("--read-timeout", s))
                .transpose()?,
            retries: g.retries,
        })
    }

    /// `rkvstore` with the user's own `--endpoint`, `--region` and `--profile`, for a command
    /// suggested in a message, shell-quoted and safe to print.
    pub fn command_prefix(&self) -> String {
        let mut out = String::from("rkvstore");
        let mut flag = |name: &str, value: &str| {
            out.push_str(" --");
            out.push_str(name);
            out.push(' ');
            out.push_str(&shell_quote(value));
        };
        match &self.target {
            Target::Resolved => {}
            Target::Explicit(e, _) => flag("endpoint", e),
            Target::Local => flag("endpoint", "local"),
        }
        if let Some(r) = &self.region {
            flag("region", r);
        }
        if let Some(p) = &self.profile {
            flag("profile", p);
        }
        if self.signature != SignatureVersion::V1 {
            flag("signature-version", "v3");
        }
        if self.format != Format::Json {
            flag("format", "xml");
        }
        out
    }

    /// `true` when the endpoint was given (`--endpoint`), rather than resolved from a region.
    pub fn has_endpoint(&self) -> bool {
        self.target != Target::Resolved
    }

    /// The wire format asked of the API.
    pub fn format(&self) -> Format {
        self.format
    }

    /// `true` for `--endpoint local`.
    pub fn is_local(&self) -> bool {
        self.target == Target::Local
    }

    /// The client, and the emulator it talks to for `--endpoint local` (kept alive by the
    /// caller for as long as the client is used).
    pub fn connect(&self) -> Result<(Client, Option<Emulator>), Failure> {
        let mut b = Client::builder()
            .signature_version(self.signature)
            .format(self.format);
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = self.read_timeout {
            b = b.read_timeout(t);
        }
        if let Some(n) = self.retries {
            b = b.retry_policy(RetryPolicy {
                max_attempts: n.saturating_add(1),
                ..RetryPolicy::default()
            });
        }
        if let Some(p) = &self.profile {
            b = b.profile(p);
        }
        if let Some(r) = &self.region {
            b = b.region(r);
        }
        if self.verbose {
            b = b.logger(Arc::new(|line: &str| {
                // A line may quote an error from the network: no control character gets through.
                let line = rkvstore_blocking::core::escape::controls(line);
                crate::term::line(format_args!("rkvstore: {line}"));
            }));
        }
        let mut emulator = None;
        if self.dry_run && !self.is_local() && self.no_credentials()? {
            // A newcomer may preview a request before setting anything up; the placeholder's
            // name marks it in the output, and this note says so in words.
            if !self.quiet {
                crate::term::line(format_args!(
                    "note: no credentials are configured; this dry run is signed with the \
                     placeholder key {PLACEHOLDER_KEY_ID}, which the service would refuse"
                ));
            }
            b = b.credentials(Credentials::new(PLACEHOLDER_KEY_ID, PLACEHOLDER_SECRET));
        }
        match &self.target {
            Target::Resolved => {}
            Target::Explicit(_, e) => b = b.parsed_endpoint(e.clone()),
            Target::Local => {
                let creds = self.local_credentials()?;
                let mut eb = Emulator::builder()
                    .pace(Pace::PerPoll(1))
                    .instance("r-demo")
                    .seed_job("r-demo", JobSeed::finished_automated());
                eb = match creds.security_token() {
                    Some(t) => eb.sts(
                        creds.access_key_id(),
                        creds.access_key_secret().expose(),
                        t.expose(),
                    ),
                    None => {
                        eb.access_key(creds.access_key_id(), creds.access_key_secret().expose())
                    }
                };
                let emu = eb.start("127.0.0.1:0").map_err(|e| {
                    Failure::Config(format!("cannot start the local emulator: {e}"))
                })?;
                if self.verbose {
                    crate::term::line(format_args!(
                        "rkvstore: local emulator at {} with instance r-demo",
                        emu.url()
                    ));
                }
                b = b.endpoint(emu.url()).credentials(creds);
                emulator = Some(emu);
            }
        }
        let client = b.build().map_err(|e| match e {
            Error::Credentials(_) | Error::Config(_) => Failure::Config(e.to_string()),
            other => Failure::Client(other),
        })?;
        // A region missing from the built-in list may be a typo, or may be new: say so, and
        // send anyway. The region ID was validated, so it is safe to print.
        if let Some(unknown) = client
            .region()
            .and_then(rkvstore_blocking::core::regions::unknown_region)
            .filter(|_| !self.quiet)
        {
            crate::term::line(format_args!(
                "warning: {unknown} (sending anyway: new regions appear)"
            ));
        }
        if self.verbose {
            crate::term::line(format_args!(
                "rkvstore: endpoint {}, credentials from {} via {}",
                client.endpoint(),
                client.credentials_source(),
                client.credentials_provider()
            ));
        }
        Ok((client, emulator))
    }

    /// [`Config::connect`], but to the central `host` when neither an endpoint nor a region is
    /// configured anywhere (flags, environment, profile), where `connect` would ask for a
    /// region: `call DescribeRegions` needs none, as with the aliyun CLI.
    pub fn connect_or_central(&self, host: &str) -> Result<(Client, Option<Emulator>), Failure> {
        if self.target != Target::Resolved || self.region.is_some() || self.region_configured()? {
            return self.connect();
        }
        let mut central = self.clone();
        central.target = Target::Explicit(
            host.to_owned(),
            Endpoint::parse(host).map_err(|e| Failure::Usage(e.to_string()))?,
        );
        central.connect()
    }

    /// A region or an endpoint is set in the environment or the profile.
    fn region_configured(&self) -> Result<bool, Failure> {
        if credentials::region_from_env(&ProcessEnv).is_some()
            || std::env::var_os("ALIBABA_CLOUD_ENDPOINT").is_some()
        {
            return Ok(true);
        }
        match credentials::resolve(&ProcessEnv, None, self.profile.as_deref()) {
            Ok(r) => Ok(r.region.is_some() || r.settings.endpoint.is_some()),
            // No credentials: no profile to hold a region either (and a dry run goes on with
            // the placeholder key); any other problem is reported by `connect`.
            Err(_) => Ok(false),
        }
    }

    /// `true` when the credentials chain finds nothing configured at all.
    fn no_credentials(&self) -> Result<bool, Failure> {
        match credentials::resolve(&ProcessEnv, None, self.profile.as_deref()) {
            Ok(_) => Ok(false),
            Err(CredentialsError::NotFound { .. }) => Ok(true),
            Err(e) => Err(Failure::Config(e.to_string())),
        }
    }

    /// The configured credentials when they are fixed ones, or demo ones when there are none
    /// at all or they are temporary (the in-process emulator cannot assume your roles).
    fn local_credentials(&self) -> Result<Credentials, Failure> {
        match credentials::resolve(&ProcessEnv, None, self.profile.as_deref()) {
            Ok(r) => Ok(r
                .provider
                .static_credentials()
                .unwrap_or_else(|| Credentials::new(DEMO_KEY_ID, DEMO_SECRET))),
            Err(CredentialsError::NotFound { .. }) => {
                Ok(Credentials::new(DEMO_KEY_ID, DEMO_SECRET))
            }
            Err(e) => Err(Failure::Config(e.to_string())),
        }
    }
}

/// The output of `--output`/`--json`, and what happens to JSON results before printing.
fn output_of(g: &Global) -> Result<(Output, Post), Failure> {
    let query = g
        .cli_query
        .as_deref()
        .map(|q| crate::query::Query::parse("--cli-query", q))
        .transpose()?;
    let given = if g.json {
        Some("json")
    } else {
        g.output.as_deref()
    };
    let chosen = match given.map(str::trim) {
        Some(o) if o.eq_ignore_ascii_case("json") => Output::Json,
        Some(o) if o.eq_ignore_ascii_case("table") => Output::Table,
        Some(o) => {
            return match crate::cols::Cols::parse(o) {
                Some(cols) => Ok((
                    Output::Json,
                    Post {
                        query,
                        render: Render::Cols(cols?),
                    },
                )),
                None => Err(Failure::Usage(format!(
                    "invalid --output {o:?}: use json, table, or cols=A,B [rows=PATH] [num=true]"
                ))),
            };
        }
        // A query's result is data for a script, whatever stdout is.
        None if query.is_some() => Output::Json,
        None if std::io::stdout().is_terminal() => Output::Table,
        None => Output::Json,
    };
    // A command's own table cannot show a query's result: the query runs on the JSON, and a
    // generic table shows what it selected.
    Ok(match (chosen, query) {
        (Output::Table, Some(q)) => (
            Output::Json,
            Post {
                query: Some(q),
                render: Render::Table,
            },
        ),
        (chosen, query) => (
            chosen,
            Post {
                query,
                render: Render::Json,
            },
        ),
    })
}

/// `value` as one shell word: as it is when that is safe, else in single quotes; control
/// characters shown as escapes, since the result is printed for a person.
pub fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.,:/@%+=".contains(&b));
    let quoted = if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    };
    rkvstore_blocking::core::escape::controls(&quoted).into_owned()
}
