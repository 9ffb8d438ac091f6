//! The emulator's command-line flags, shared by the `rkvstore-emulator` binary and the
//! `rkvstore emulator` subcommand.

use std::fmt;
use std::time::Duration;

use clap::Args;

use crate::{check_clock_offset, Builder, Emulator, Error, JobSeed, Pace};

/// The longest job step `--step-seconds` accepts: a day, far past any test's patience, and far
/// from where a `Duration` made of it could overflow.
pub const MAX_STEP_SECONDS: f64 = 86_400.0;

/// Flags of the emulator.
///
/// Its `Debug` output leaves out the secret and the token.
#[derive(Args, Clone)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,

    /// AccessKey ID to accept.
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_ID", value_name = "ID")]
    pub access_key_id: String,

    /// AccessKey secret to accept. Prefer setting ALIBABA_CLOUD_ACCESS_KEY_SECRET instead:
    /// other users of the machine can read a flag's value, for example with `ps`.
    #[arg(
        long,
        env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub access_key_secret: String,

    /// STS security token that must accompany the key. Prefer setting
    /// ALIBABA_CLOUD_SECURITY_TOKEN instead, for the same reason as the secret.
    #[arg(
        long,
        env = "ALIBABA_CLOUD_SECURITY_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub security_token: Option<String>,

    /// Instance to serve (repeat for more); each starts with one finished automated backup.
    #[arg(long = "instance", value_name = "ID", default_values_t = [String::from("r-demo")])]
    pub instances: Vec<String>,

    /// Seconds per job step (Preparing, Waiting, Uploading…), or 0 for one step per poll; at
    /// most 86400.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub step_seconds: f64,

    /// Run the server clock this many seconds ahead (negative: behind); at most ten years
    /// (315360000) either way.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub clock_offset: i64,

    /// RAM role ARN that STS AssumeRole may assume with the key above (repeat for more).
    #[arg(long = "role", value_name = "ARN")]
    pub roles: Vec<String>,

    /// RAM role attached to the emulated ECS instance, served by the metadata endpoint.
    #[arg(long, value_name = "NAME")]
    pub ecs_role: Option<String>,

    /// Refuse metadata requests without an IMDSv2 session token.
    #[arg(long)]
    pub no_imdsv1: bool,

    /// Seconds every temporary credential lives, whatever was asked (to watch expiry).
    #[arg(long, value_name = "SECS")]
    pub credentials_lifetime: Option<u64>,

    /// Also seed N finished backup sets on each instance, spread over the last six days (for
    /// pagination: pages hold 30 to 300); at most 100000.
    #[arg(long = "backups", value_name = "N", default_value_t = 0)]
    pub backups: u32,

    /// Seconds the download URLs handed out by DescribeBackups work (default 3600); past it
    /// they answer 403 "Request has expired." as OSS does. At most 604800 (a week).
    #[arg(long, value_name = "SECS")]
    pub download_url_lifetime: Option<u64>,

    /// Cut the connection of each of the next TIMES downloads (default 1) after BYTES bytes of
    /// its body, as a network failure part-way through a file would.
    #[arg(long, value_name = "BYTES[:TIMES]")]
    pub cut_downloads_after: Option<String>,
}

/// The most backup sets `--backups` seeds on each instance.
pub const MAX_SEEDED_BACKUPS: u32 = 100_000;

/// `BYTES[:TIMES]` of `--cut-downloads-after`.
fn parse_cut(text: &str) -> Result<(u64, u32), Error> {
    let bad = || {
        Error::Config(format!(
            "--cut-downloads-after must be BYTES or BYTES:TIMES (such as 4096 or 4096:2), not \
             {text:?}"
        ))
    };
    let (bytes, times) = match text.split_once(':') {
        Some((b, t)) => (b, Some(t)),
        None => (text, None),
    };
    let bytes = bytes.trim().parse().map_err(|_| bad())?;
    let times = match times {
        Some(t) => t.trim().parse().map_err(|_| bad())?,
        None => 1,
    };
    Ok((bytes, times))
}

impl EmulatorArgs {
    /// The builder these flags describe.
    pub fn builder(&self) -> Result<Builder, Error> {
        // The range check also rejects NaN and infinities, which compare false either way; it
        // keeps `Duration::from_secs_f64` below from panicking on a huge value.
        if !(0.0..=MAX_STEP_SECONDS).contains(&self.step_seconds) {
            return Err(Error::Config(format!(
                "--step-seconds must be 0 or more and at most {MAX_STEP_SECONDS} (one day), \
                 not {:?}",
                self.step_seconds
            )));
        }
        check_clock_offset(self.clock_offset, "--clock-offset")?;
        let pace = if self.step_seconds == 0.0 {
            Pace::PerPoll(1)
        } else {
            Pace::WallTime(Duration::from_secs_f64(self.step_seconds))
        };
        let mut b = Emulator::builder()
            .pace(pace)
            .clock_offset(self.clock_offset);
        b = match &self.security_token {
            Some(t) => b.sts(&self.access_key_id, &self.access_key_secret, t),
            None => b.access_key(&self.access_key_id, &self.access_key_secret),
        };
        for arn in &self.roles {
            b = b.role(arn.as_str());
        }
        if let Some(role) = &self.ecs_role {
            b = b.ecs_role(role.as_str());
        }
        b = b.imds_v1(!self.no_imdsv1);
        if let Some(secs) = self.credentials_lifetime {
            if !(1..=43_200).contains(&secs) {
                return Err(Error::Config(format!(
                    "--credentials-lifetime must be 1 to 43200 seconds, not {secs}"
                )));
            }
            b = b.credentials_lifetime(Duration::from_secs(secs));
        }
        if self.backups > MAX_SEEDED_BACKUPS {
            return Err(Error::Config(format!(
                "--backups must be at most {MAX_SEEDED_BACKUPS}, not {}",
                self.backups
            )));
        }
        if let Some(secs) = self.download_url_lifetime {
            if !(1..=604_800).contains(&secs) {
                return Err(Error::Config(format!(
                    "--download-url-lifetime must be 1 to 604800 seconds, not {secs}"
                )));
            }
            b = b.download_url_lifetime(Duration::from_secs(secs));
        }
        if let Some(cut) = &self.cut_downloads_after {
            let (bytes, times) = parse_cut(cut)?;
            b = b.cut_downloads(bytes, times);
        }
        for id in &self.instances {
            b = b
                .instance(id.as_str())
                .seed_job(id.as_str(), JobSeed::finished_automated());
            if self.backups > 0 {
                b = b.seed_backups(id.as_str(), self.backups);
            }
        }
        Ok(b)
    }

    /// Starts the emulator these flags describe.
    pub fn start(&self) -> Result<Emulator, Error> {
        self.builder()?.start(&self.listen)
    }
}

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written out by hand so that the secret and the token never reach a log.
        let redacted = "<redacted>";
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &redacted)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| redacted),
            )
            .field("instances", &self.instances)
            .field("step_seconds", &self.step_seconds)
            .field("clock_offset", &self.clock_offset)
            .field("roles", &self.roles)
            .field("ecs_role", &self.ecs_role)
            .field("no_imdsv1", &self.no_imdsv1)
            .field("credentials_lifetime", &self.credentials_lifetime)
            .field("backups", &self.backups)
            .field("download_url_lifetime", &self.download_url_lifetime)
            .field("cut_downloads_after", &self.cut_downloads_after)
            .finish()
    }
}
