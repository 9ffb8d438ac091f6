//! What the two transport examples share: their flags, credentials from the environment,
//! nonces and jitter, and output in the CLI's formats.
//!
//! Nothing here does HTTP. Each example (`examples/custom_transport.rs`,
//! `examples/async_transport.rs`) owns its transport and its loop around
//! [`rkvstore_core::call::Call`], so that either file shows, whole, what a transport needs:
//!
//! ```text
//! cargo run -q -p rkvstore-examples --example custom_transport -- --endpoint http://127.0.0.1:8080 --instance-id r-demo
//! cargo run -q -p rkvstore-examples --example async_transport -- --endpoint http://127.0.0.1:8080 --instance-id r-demo --wait-job 100002
//! ```
//!
//! Both print the DescribeBackupTasks answer as the JSON `rkvstore --output json backup-tasks`
//! prints; with `--wait-job` they print one line per change on stderr
//! (`job 100002: Uploading 55%`) and the finished job as JSON on stdout, as
//! `rkvstore backup-tasks --job-id … --wait` does.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkvstore_core::call::{CallPolicy, Retry, WaitError, WaitOptions};
use rkvstore_core::{
    BackupJob, Credentials, DescribeBackupTasksResponse, Endpoint, Error, SignatureVersion,
    Timestamp,
};

/// The flags, for `--help` and usage errors.
pub const USAGE: &str = "\
usage: EXAMPLE --endpoint URL --instance-id ID [--signature-version v1|v3] [--wait-job JOB_ID]
               [--interval SECS] [--timeout SECS] [--verbose]

Prints the instance's backup jobs (DescribeBackupTasks) as JSON, or with --wait-job follows
that job to Finished, one line per change on stderr, then prints it as JSON.

  --endpoint URL             the endpoint, such as http://127.0.0.1:8080
  --instance-id ID           the instance
  --signature-version V      v1 (HMAC-SHA1, the default) or v3 (ACS3-HMAC-SHA256)
  --wait-job JOB_ID          follow this backup job until it is Finished
  --interval SECS            seconds between polls when waiting (default 0.5)
  --timeout SECS             give up waiting after this long (default 3600)
  --verbose                  say on stderr why each retry happens

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and, for
STS, ALIBABA_CLOUD_SECURITY_TOKEN.";

/// What went wrong, and so the exit status.
#[derive(Debug)]
pub enum Failure {
    /// `--help` was asked for: the usage goes to stdout and the status is 0.
    Help,
    /// The command line is wrong (exit 2).
    Usage(String),
    /// Credentials are missing (exit 3).
    Credentials(String),
    /// The call failed: an API, network or wait error (exit 1; 4 when a wait timed out, as
    /// with the CLI).
    Call(Error),
    /// Standard output could not be written (exit 1).
    Output(String),
}

impl Failure {
    /// The exit status, with the CLI's meanings.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Help => 0,
            Failure::Usage(_) => 2,
            Failure::Credentials(_) => 3,
            Failure::Call(Error::Wait(WaitError::TimedOut { .. })) => 4,
            Failure::Call(_) | Failure::Output(_) => 1,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Call(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Help => f.write_str(USAGE),
            Failure::Usage(m) => write!(f, "{m} (--help lists the flags)"),
            Failure::Credentials(m) | Failure::Output(m) => f.write_str(m),
            Failure::Call(e) => {
                // The core's errors describe only their own layer and give the cause as their
                // source (the last failure after "gave up after 3 attempts"), so the chain is
                // printed whole.
                write!(f, "{e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

/// The examples' command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// Where to send requests.
    pub endpoint: Endpoint,
    /// The instance whose backup jobs are listed or followed.
    pub instance_id: String,
    /// The signature algorithm.
    pub signature: SignatureVersion,
    /// The job to follow to Finished, if any.
    pub wait_job: Option<u64>,
    /// Time between polls when waiting.
    pub interval: Duration,
    /// How long to wait at most.
    pub timeout: Duration,
    /// Whether to say why each retry happens.
    pub verbose: bool,
}

impl Args {
    /// Parses the flags (without the program name). Flags take their value as the next word or
    /// after `=`.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Failure> {
        let usage = |m: String| Failure::Usage(m);
        let mut endpoint = None;
        let mut instance_id = None;
        let mut signature = SignatureVersion::V1;
        let mut wait_job = None;
        let mut interval = Duration::from_millis(500);
        let mut timeout = WaitOptions::default().timeout;
        let mut verbose = false;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
                _ => (arg.clone(), None),
            };
            match flag.as_str() {
                "-h" | "--help" => return Err(Failure::Help),
                "-v" | "--verbose" if inline.is_none() => {
                    verbose = true;
                    continue;
                }
                _ => {}
            }
            let mut value = || match inline {
                Some(v) => Ok(v.to_owned()),
                None => args
                    .next()
                    .ok_or_else(|| usage(format!("{flag} needs a value"))),
            };
            match flag.as_str() {
                "--endpoint" => {
                    let given = value()?;
                    endpoint = Some(Endpoint::parse(&given).map_err(|e| usage(e.to_string()))?);
                }
                "--instance-id" => instance_id = Some(value()?),
                "--signature-version" => {
                    signature = match value()?.as_str() {
                        "v1" | "1" | "1.0" => SignatureVersion::V1,
                        "v3" | "3" | "acs3" => SignatureVersion::V3,
                        other => {
                            return Err(usage(format!(
                                "--signature-version is v1 or v3, not {other:?}"
                            )))
                        }
                    }
                }
                "--wait-job" => {
                    let given = value()?;
                    let id = given.parse::<u64>().map_err(|_| {
                        usage(format!(
                            "--wait-job takes a job ID (a number), not {given:?}"
                        ))
                    })?;
                    wait_job = Some(id);
                }
                "--interval" => interval = seconds(&flag, &value()?, 3600.0)?,
                "--timeout" => timeout = seconds(&flag, &value()?, 7.0 * 86_400.0)?,
                other => return Err(usage(format!("unknown argument {other:?}"))),
            }
        }
        let endpoint = endpoint.ok_or_else(|| usage("--endpoint is required".to_owned()))?;
        let instance_id =
            instance_id.ok_or_else(|| usage("--instance-id is required".to_owned()))?;
        Ok(Args {
            endpoint,
            instance_id,
            signature,
            wait_job,
            interval,
            timeout,
            verbose,
        })
    }

    /// The call policy: the core's defaults (three attempts, 200 ms backoff doubling, retry
    /// hints honoured up to 20 s, clock corrections up to 24 h), with the chosen signature.
    pub fn policy(&self) -> CallPolicy {
        CallPolicy::default().signature(self.signature)
    }

    /// How to wait: the core's defaults with the chosen interval.
    pub fn wait_options(&self) -> WaitOptions {
        WaitOptions {
            interval: self.interval,
            timeout: self.timeout,
            ..WaitOptions::default()
        }
    }
}

/// A flag's value in seconds, from 0 to `max`.
fn seconds(flag: &str, given: &str, max: f64) -> Result<Duration, Failure> {
    match given.parse::<f64>() {
        // The range check also refuses NaN and infinities, which would make
        // `Duration::from_secs_f64` panic.
        Ok(secs) if (0.0..=max).contains(&secs) => Ok(Duration::from_secs_f64(secs)),
        _ => Err(Failure::Usage(format!(
            "{flag} takes seconds from 0 to {max}, not {given:?}"
        ))),
    }
}

/// Credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and the
/// optional `ALIBABA_CLOUD_SECURITY_TOKEN`.
pub fn credentials_from_env() -> Result<Credentials, Failure> {
    credentials_from(|name| std::env::var(name).ok())
}

/// Credentials from the same variables, looked up with `var` (for tests).
pub fn credentials_from(var: impl Fn(&str) -> Option<String>) -> Result<Credentials, Failure> {
    let get = |name: &str| var(name).filter(|v| !v.is_empty());
    let (Some(id), Some(secret)) = (
        get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) else {
        return Err(Failure::Credentials(
            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET \
             (and ALIBABA_CLOUD_SECURITY_TOKEN for STS)"
                .to_owned(),
        ));
    };
    let creds = Credentials::new(id, secret);
    Ok(match get("ALIBABA_CLOUD_SECURITY_TOKEN") {
        Some(token) => creds.with_security_token(token),
        None => creds,
    })
}

/// A fresh signature nonce: 32 hex digits from 16 random bytes, the form the official SDKs
/// use. The service refuses a nonce it has seen, so every attempt needs a new one.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number in `[0, 1)` for the call's backoff jitter.
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    fill(&mut bytes);
    // The top 53 bits make a uniform double in [0, 1).
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn fill(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // Without OS randomness, the clock and a counter still keep nonces unique within the
        // process, which is what the service checks.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mixed = [nanos.to_le_bytes(), count.to_le_bytes()].concat();
        for (b, m) in buf.iter_mut().zip(mixed.iter().cycle()) {
            *b = *m;
        }
    }
}

/// The local clock, which the call corrects by the skew it learns.
pub fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Timestamp::from_unix(secs)
}

/// One line for a job's change, as the CLI prints it when stderr is not a terminal:
/// `job 100002: Uploading 55%`. The status came from the network, so control characters in it
/// are shown as escapes.
pub fn change_line(job: &BackupJob) -> String {
    let status = job
        .backup_progress_status
        .as_ref()
        .map_or_else(|| "Unknown".to_owned(), ToString::to_string);
    let status = rkvstore_core::escape::controls(&status);
    format!(
        "job {}: {status} {}%",
        job.backup_job_id,
        job.percent().unwrap_or(0)
    )
}

/// The answer as `rkvstore --output json backup-tasks` prints it: the API's field names, in
/// the API's order.
pub fn tasks_json(answer: &DescribeBackupTasksResponse) -> Result<String, Failure> {
    serde_json::to_string_pretty(answer).map_err(|e| Failure::Output(e.to_string()))
}

/// Finished jobs as `rkvstore --output json backup-tasks --job-id … --wait` prints them.
pub fn jobs_json(instance_id: &str, jobs: &[BackupJob]) -> Result<String, Failure> {
    let value = serde_json::json!({ "InstanceId": instance_id, "BackupJobs": jobs });
    serde_json::to_string_pretty(&value).map_err(|e| Failure::Output(e.to_string()))
}

/// Why the call sends again, for `--verbose`.
pub fn retry_note(delay: Duration, because: &Retry) -> String {
    match because {
        Retry::ClockSkew(secs) => {
            format!("retry: the service's clock is {secs} s ahead of ours; signing again")
        }
        Retry::Failed(e) => format!(
            "retry: {}; again in {} ms",
            Failure::Call(e.clone()),
            delay.as_millis()
        ),
        // `Retry` may grow; its `Debug` still says what happened.
        other => format!("retry: {other:?}; again in {} ms", delay.as_millis()),
    }
}

/// Writes a line to stderr. A closed or broken stderr is ignored: there is nowhere else to say
/// anything, and a diagnostic is not worth a panic.
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Ends the program: the JSON on stdout and status 0, or the failure on stderr (the usage on
/// stdout for `--help`) and its status.
pub fn finish(result: Result<String, Failure>) -> ExitCode {
    let failure = match result {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            return match writeln!(out, "{json}").and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                // A reader that hung up early (`| head`) has all it asked for.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    note(&format!("error: could not write the output: {e}"));
                    ExitCode::FAILURE
                }
            };
        }
        Err(failure) => failure,
    };
    if let Failure::Help = failure {
        let _ = writeln!(std::io::stdout().lock(), "{USAGE}");
    } else {
        note(&format!("error: {failure}"));
    }
    ExitCode::from(failure.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Args, Failure> {
        Args::parse(words.iter().map(|w| (*w).to_owned()))
    }

    #[test]
    fn flags_parse_and_mistakes_are_usage_errors() {
        let args = parse(&[
            "--endpoint",
            "http://127.0.0.1:9",
            "--instance-id=r-1",
            "--signature-version",
            "v3",
            "--wait-job",
            "7",
            "--interval=0.25",
            "--timeout",
            "2",
            "-v",
        ])
        .unwrap();
        assert_eq!(args.endpoint.host(), "127.0.0.1:9");
        assert_eq!(args.instance_id, "r-1");
        assert_eq!(args.signature, SignatureVersion::V3);
        assert_eq!(args.wait_job, Some(7));
        assert_eq!(args.interval, Duration::from_millis(250));
        assert_eq!(args.wait_options().timeout, Duration::from_secs(2));
        assert!(args.verbose);
        for bad in [
            &["--instance-id", "r-1"][..],
            &["--endpoint", "http://h"],
            &["--endpoint", "ftp://h", "--instance-id", "r"],
            &["--endpoint", "http://h", "--instance-id"],
            &[
                "--endpoint",
                "http://h",
                "--instance-id",
                "r",
                "--wait-job",
                "x",
            ],
            &[
                "--endpoint",
                "http://h",
                "--instance-id",
                "r",
                "--interval",
                "NaN",
            ],
            &[
                "--endpoint",
                "http://h",
                "--instance-id",
                "r",
                "--signature-version",
                "v2",
            ],
            &["--endpoint", "http://h", "--instance-id", "r", "--bogus"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
        assert!(matches!(parse(&["--help"]), Err(Failure::Help)));
    }

    #[test]
    fn credentials_come_from_the_variables() {
        let e = credentials_from(|_| None).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_ID"), "{e}");
        let creds = credentials_from(|name| match name {
            "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("LTAIx".into()),
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("s".into()),
            "ALIBABA_CLOUD_SECURITY_TOKEN" => Some("t".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(creds.access_key_id(), "LTAIx");
        assert!(creds.security_token().is_some());
    }

    #[test]
    fn nonces_are_fresh_and_jitter_is_a_unit_number() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!((0.0..1.0).contains(&jitter()));
    }
}
