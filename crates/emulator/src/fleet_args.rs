//! The command-line flags of the seeded fleet, kept apart from [`crate::EmulatorArgs`] so that
//! either can grow without touching the other; both the `rkvstore-emulator` binary and the
//! `rkvstore emulator` subcommand flatten them side by side.

use std::time::Duration;

use clap::Args;

use crate::{Builder, Error, FleetSpec};

/// The longest `--latency-ms`: a minute, far past any round trip worth simulating.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// Flags of the fleet.
#[derive(Args, Clone, Debug, Default)]
pub struct FleetArgs {
    /// Also serve a seeded fleet of N instances for `rkvstore audit`, spread over cn-hangzhou,
    /// cn-shanghai and cn-beijing, three architectures and every kind of backup history.
    #[arg(long, value_name = "N")]
    pub fleet: Option<u32>,

    /// Seed of the fleet: the same seed gives the same fleet.
    #[arg(long, value_name = "S", default_value_t = 1, requires = "fleet")]
    pub seed: u64,

    /// Answer Throttling.User when more than K requests are in flight.
    #[arg(long, value_name = "K", requires = "fleet")]
    pub throttle_above: Option<usize>,

    /// Milliseconds the fleet spends on each request, like the service's own processing time
    /// (at most 60000).
    #[arg(long, value_name = "MS", default_value_t = 0, requires = "fleet")]
    pub latency_ms: u64,

    /// A region whose DescribeInstances answers 503 ServiceUnavailable.
    #[arg(long, value_name = "REGION", requires = "fleet")]
    pub fail_region: Option<String>,
}

impl FleetArgs {
    /// `builder` with the fleet these flags describe (unchanged without `--fleet`).
    ///
    /// ```
    /// use rkvstore_emulator::{Emulator, FleetArgs};
    /// let flags = FleetArgs { fleet: Some(30), seed: 9, ..FleetArgs::default() };
    /// let builder = flags.apply(Emulator::builder())?;
    /// assert_eq!(builder.fleet_preview().len(), 30);
    /// let slow = FleetArgs { fleet: Some(1), latency_ms: 60_001, ..FleetArgs::default() };
    /// assert_eq!(
    ///     slow.apply(Emulator::builder()).unwrap_err().to_string(),
    ///     "--latency-ms must be at most 60000, not 60001"
    /// );
    /// # Ok::<(), rkvstore_emulator::Error>(())
    /// ```
    pub fn apply(&self, builder: Builder) -> Result<Builder, Error> {
        let Some(size) = self.fleet else {
            return Ok(builder);
        };
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(Error::Config(format!(
                "--latency-ms must be at most {MAX_LATENCY_MS}, not {}",
                self.latency_ms
            )));
        }
        let mut spec =
            FleetSpec::new(size, self.seed).latency(Duration::from_millis(self.latency_ms));
        if let Some(k) = self.throttle_above {
            spec = spec.throttle_above(k);
        }
        if let Some(r) = &self.fail_region {
            spec = spec.failing_region(r.as_str());
        }
        spec.check().map_err(Error::Config)?;
        Ok(builder.fleet(spec))
    }
}
