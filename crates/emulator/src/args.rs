//! The emulator's command-line flags, shared by the `rkvstore-emulator` binary and the
//! `rkvstore emulator` subcommand.

use std::time::Duration;

use clap::Args;

use crate::{Builder, Emulator, Error, JobSeed, Pace};

/// Flags of the emulator.
#[derive(Args, Clone, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub listen: String,

    /// AccessKey ID to accept.
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_ID", value_name = "ID")]
    pub access_key_id: String,

    /// AccessKey secret to accept.
    #[arg(
        long,
        env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub access_key_secret: String,

    /// STS security token that must accompany the key.
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

    /// Seconds per job step (Preparing, Waiting, Uploading…), or 0 for one step per poll.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub step_seconds: f64,

    /// Run the server clock this many seconds ahead (negative: behind).
    #[arg(
        long,
        default_value_t = 0,
        value_name = "SECS",
        allow_negative_numbers = true
    )]
    pub clock_offset: i64,
}

impl EmulatorArgs {
    /// The builder these flags describe.
    pub fn builder(&self) -> Result<Builder, Error> {
        if !self.step_seconds.is_finite() || self.step_seconds < 0.0 {
            return Err(Error::Config(format!(
                "--step-seconds must be 0 or more, not {}",
                self.step_seconds
            )));
        }
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
        for id in &self.instances {
            b = b
                .instance(id.as_str())
                .seed_job(id.as_str(), JobSeed::finished_automated());
        }
        Ok(b)
    }

    /// Starts the emulator these flags describe.
    pub fn start(&self) -> Result<Emulator, Error> {
        self.builder()?.start(&self.listen)
    }
}
