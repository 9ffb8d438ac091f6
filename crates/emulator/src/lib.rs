//! A loopback stand-in for the ApsaraDB for Redis (R-kvstore) OpenAPI endpoint.
//!
//! It speaks real HTTP, checks RPC signature 1.0 and ACS3-HMAC-SHA256 signatures, timestamps and
//! nonces the way the service does, answers in JSON or XML with the service's error codes, and
//! runs backup jobs through their states. Faults (throttling, 5xx, slow or broken bodies, a
//! skewed clock) can be switched on per action or instance. Tests of every rkvstore crate run
//! against it, and so can the official SDKs and the `aliyun` CLI: point their endpoint at
//! [`Emulator::url`].
//!
//! ```
//! use rkvstore_emulator::Emulator;
//! let emu = Emulator::builder()
//!     .access_key("LTAIdemo", "demo-secret")
//!     .instance("r-demo")
//!     .start("127.0.0.1:0")?;
//! assert!(emu.url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), rkvstore_emulator::Error>(())
//! ```
//!
//! # In scope
//!
//! `DescribeBackupTasks` and `CreateBackup` with signature, timestamp, nonce, version and
//! parameter checks; fault injection; a log of what arrived.
//!
//! # Robustness
//!
//! The emulator may be left running where other programs can reach it, so it protects itself
//! the way a real endpoint does. hyper parses HTTP: headers past 64 KiB are answered 431, a
//! malformed request (a bad `Content-Length`, say) 400, and bodies past 1 MiB 413. At most
//! [`Builder::max_connections`] connections are served at once (more wait in the listen
//! queue), a request must arrive within [`Builder::request_timeout`], and running out of file
//! descriptors only pauses accepting until some are free again.
//!
//! # Secrets
//!
//! The `rkvstore-emulator` binary and the `rkvstore emulator` subcommand take the secret from
//! `ALIBABA_CLOUD_ACCESS_KEY_SECRET` (and the STS token from `ALIBABA_CLOUD_SECURITY_TOKEN`)
//! as well as from flags. Prefer the environment: other users of the machine can read a
//! process's flags, for example with `ps`.
//!
//! # Out of scope
//!
//! Every other action (answered with `InvalidAction.NotFound`), TLS, persistence.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod actions;
mod args;
mod auth;
mod backups;
mod download;
mod faults;
mod fleet;
mod fleet_args;
mod jobs;
mod metadata;
mod policy;
mod render;
mod restore;
mod server;
mod state;
mod sts;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use args::{EmulatorArgs, MAX_SEEDED_BACKUPS, MAX_STEP_SECONDS};
pub use backups::{DownloadRecord, DEFAULT_URL_LIFETIME};
pub use download::backup_content;
pub use faults::{Fault, FaultRule};
pub use fleet::{
    FleetInstance, FleetSpec, History, DEFAULT_FLEET_REGIONS, UNSUPPORTED_ARCHITECTURE,
};
pub use fleet_args::{FleetArgs, MAX_LATENCY_MS};
pub use jobs::{JobSeed, Pace};
pub use state::RequestRecord;

use state::{AccessKey, State};

/// Why the emulator could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound.
    Bind {
        /// The address asked for.
        addr: String,
        /// What the system said.
        reason: String,
    },
    /// The configuration is unusable.
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Bind { addr, reason } => write!(
                f,
                "cannot listen on {addr}: {reason}; pick a free address such as 127.0.0.1:0"
            ),
            Error::Config(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// Configures an [`Emulator`].
#[derive(Clone, Debug, Default)]
pub struct Builder {
    keys: Vec<AccessKey>,
    instances: Vec<String>,
    seeds: Vec<(String, JobSeed)>,
    pace: Pace,
    clock_offset: i64,
    faults: Vec<FaultRule>,
    max_connections: Option<usize>,
    request_timeout: Option<Duration>,
    workers: Option<usize>,
    sts: sts::StsConfig,
    backup_seeds: Vec<(String, u32)>,
    url_lifetime: Option<Duration>,
    cuts: Vec<(u64, u32)>,
    fleet: Option<FleetSpec>,
}

impl Builder {
    /// Accepts requests signed with this AccessKey pair.
    pub fn access_key(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.keys.push(AccessKey {
            id: id.into(),
            secret: rkvstore_core::Secret::new(secret),
            token: None,
        });
        self
    }

    /// Accepts requests signed with these STS credentials (the token must be sent).
    pub fn sts(
        mut self,
        id: impl Into<String>,
        secret: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.keys.push(AccessKey {
            id: id.into(),
            secret: rkvstore_core::Secret::new(secret),
            token: Some(rkvstore_core::Secret::new(token)),
        });
        self
    }

    /// Lets STS `AssumeRole` assume the role `arn` (such as `acs:ram::1234567890:role/backup`)
    /// with any key the emulator accepts. Roles not added answer `EntityNotExist.Role`.
    pub fn role(mut self, arn: impl Into<String>) -> Self {
        self.sts.roles.push(sts::Role {
            arn: arn.into(),
            trusted: None,
        });
        self
    }

    /// Like [`Builder::role`], but only the AccessKey IDs in `key_ids` may assume it; others
    /// get `NoPermission`.
    pub fn role_trusting<I, S>(mut self, arn: impl Into<String>, key_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sts.roles.push(sts::Role {
            arn: arn.into(),
            trusted: Some(key_ids.into_iter().map(Into::into).collect()),
        });
        self
    }

    /// Lets STS `AssumeRoleWithOIDC` assume `role_arn` with `token` (the content of the token
    /// file) from the OIDC provider `provider_arn`.
    pub fn oidc_token(
        mut self,
        provider_arn: impl Into<String>,
        role_arn: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        self.sts.oidc.push(sts::OidcTrust {
            provider_arn: provider_arn.into(),
            role_arn: role_arn.into(),
            token: rkvstore_core::Secret::new(token),
        });
        self
    }

    /// Issues every temporary credential (STS, metadata service, credentials URI) for this
    /// long, whatever was asked, so that tests can watch them expire.
    pub fn credentials_lifetime(mut self, lifetime: Duration) -> Self {
        self.sts.lifetime = Some(lifetime);
        self
    }

    /// Attaches the RAM role `name` to the instance the ECS metadata service describes.
    pub fn ecs_role(mut self, name: impl Into<String>) -> Self {
        self.sts.ecs_role = Some(name.into());
        self
    }

    /// Whether the metadata service answers requests without a session token (IMDSv1); on by
    /// default, as on most instances.
    pub fn imds_v1(mut self, allowed: bool) -> Self {
        self.sts.imds_v1 = allowed;
        self
    }

    /// Makes the metadata service hand out IMDSv2 session tokens and then refuse requests
    /// that carry one (HTTP 401), so that a client's fallback to IMDSv1 can be tested.
    pub fn imds_tokens_refused(mut self, refused: bool) -> Self {
        self.sts.imds_tokens_refused = refused;
        self
    }

    /// Adds `n` finished automated backup sets to `instance`, spread over the six days before
    /// the start (for pagination: DescribeBackups pages hold 30 to 300).
    pub fn seed_backups(mut self, instance: impl Into<String>, n: u32) -> Self {
        self.backup_seeds.push((instance.into(), n));
        self
    }

    /// How long the download URLs that DescribeBackups hands out work (default
    /// [`DEFAULT_URL_LIFETIME`]); past it they answer 403 `Request has expired.` as OSS does.
    pub fn download_url_lifetime(mut self, lifetime: Duration) -> Self {
        self.url_lifetime = Some(lifetime);
        self
    }

    /// Cuts the connection of each of the first `times` downloads after `after_bytes` bytes of
    /// its body (see [`Emulator::cut_downloads`]).
    pub fn cut_downloads(mut self, after_bytes: u64, times: u32) -> Self {
        self.cuts.push((after_bytes, times));
        self
    }

    /// Adds a seeded fleet of instances for audits (see [`FleetSpec`]), alongside any plain
    /// instances.
    pub fn fleet(mut self, spec: FleetSpec) -> Self {
        self.fleet = Some(spec);
        self
    }

    /// The fleet instances [`Builder::start`] will serve, without starting anything.
    pub fn fleet_preview(&self) -> Vec<FleetInstance> {
        self.fleet
            .as_ref()
            .map(FleetSpec::build)
            .unwrap_or_default()
    }

    /// Adds an instance that backups can be taken of.
    pub fn instance(mut self, id: impl Into<String>) -> Self {
        self.instances.push(id.into());
        self
    }

    /// Adds a job that exists from the start, such as a finished automated backup.
    pub fn seed_job(mut self, instance: impl Into<String>, seed: JobSeed) -> Self {
        self.seeds.push((instance.into(), seed));
        self
    }

    /// How fast manual jobs move through their states.
    pub fn pace(mut self, pace: Pace) -> Self {
        self.pace = pace;
        self
    }

    /// Runs the server's clock `secs` seconds ahead of this machine's (negative: behind), at
    /// most [`MAX_CLOCK_OFFSET_SECS`] either way ([`Builder::start`] refuses more).
    pub fn clock_offset(mut self, secs: i64) -> Self {
        self.clock_offset = secs;
        self
    }

    /// Injects a fault from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Serves at most `n` connections at once (default [`DEFAULT_MAX_CONNECTIONS`]); more
    /// wait in the listen queue until one closes. This bounds the emulator's memory and file
    /// descriptors whatever its clients do.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// How long a connection may take to deliver a whole request, counted from its opening or
    /// from the previous answer on it (default [`DEFAULT_REQUEST_TIMEOUT`]). A connection that
    /// idles or trickles past it is closed, so slow clients cannot hold connections forever.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Serves connections from `n` worker threads, each serving many connections (default one
    /// per core, at most four; [`Builder::start`] refuses 0 and more than [`MAX_WORKERS`]).
    /// A single worker is useful to test that one connection never holds up the others.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Binds `addr` (use port 0 for a free port) and serves in the background: an accept
    /// thread and a few worker threads, each serving many connections.
    pub fn start(self, addr: &str) -> Result<Emulator, Error> {
        // Credentials the emulator issues itself (the metadata service's, OIDC's) are keys too.
        let issues_keys = self.sts.ecs_role.is_some() || !self.sts.oidc.is_empty();
        if self.keys.is_empty() && !issues_keys {
            return Err(Error::Config(
                "the emulator needs at least one AccessKey pair to accept".into(),
            ));
        }
        check_clock_offset(self.clock_offset, "the clock offset")?;
        let limits = server::Limits {
            max_connections: self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
            request_timeout: self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT),
        };
        if limits.max_connections == 0 {
            return Err(Error::Config(
                "the emulator must serve at least one connection at a time".into(),
            ));
        }
        if limits.request_timeout.is_zero() {
            return Err(Error::Config(
                "the request timeout must be longer than zero".into(),
            ));
        }
        if let Some(n) = self.workers {
            if !(1..=MAX_WORKERS).contains(&n) {
                return Err(Error::Config(format!(
                    "the emulator needs between 1 and {MAX_WORKERS} workers, not {n}"
                )));
            }
        }
        let mut state = State::new(self.keys, self.pace, self.clock_offset);
        for id in self.instances {
            state.add_instance(&id).map_err(Error::Config)?;
        }
        for (instance, seed) in self.seeds {
            state.seed_job(&instance, seed).map_err(Error::Config)?;
        }
        state.faults = self.faults;
        for (instance, n) in &self.backup_seeds {
            if !state.instances.contains_key(instance) {
                return Err(Error::Config(format!(
                    "no instance {instance} to seed backup sets on; add it first"
                )));
            }
            let now = state.now();
            state.backup.seed(instance, *n, now);
        }
        if let Some(lifetime) = self.url_lifetime {
            state.backup.url_lifetime = lifetime;
        }
        for (after_bytes, remaining) in self.cuts {
            state.backup.cuts.push(backups::Cut {
                after_bytes,
                remaining,
            });
        }
        state.sts = sts::StsState::new(self.sts);
        if let Some(spec) = self.fleet {
            spec.check().map_err(Error::Config)?;
            state.fleet = Some(fleet::Fleet::new(spec));
        }
        let state = Arc::new(Mutex::new(state));
        let listener = server::bind(addr)?;
        let local = listener.local();
        // Download URLs point back at this listener.
        state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .backup
            .base_url = format!("http://{local}");
        let server = server::spawn(listener, Arc::clone(&state), limits, self.workers)?;
        Ok(Emulator {
            server,
            state,
            local,
        })
    }
}

/// Refuses a clock offset past [`MAX_CLOCK_OFFSET_SECS`]; `what` names it in the message.
pub(crate) fn check_clock_offset(secs: i64, what: &str) -> Result<(), Error> {
    if (-MAX_CLOCK_OFFSET_SECS..=MAX_CLOCK_OFFSET_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{what} must be between -{MAX_CLOCK_OFFSET_SECS} and {MAX_CLOCK_OFFSET_SECS} \
             seconds (ten years either way), not {secs}"
        )))
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    server: server::Handle,
    state: Arc<Mutex<State>>,
    local: SocketAddr,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// A builder with no keys, no instances, one job step per poll and a true clock.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://IP:PORT`, the endpoint to give a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.local)
    }

    /// The STS endpoint (`ALIBABA_CLOUD_STS_ENDPOINT`): the same listener, told apart by the
    /// API version.
    pub fn sts_endpoint(&self) -> String {
        self.url()
    }

    /// The ECS metadata service (`ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`): the same listener,
    /// under `/latest/`.
    pub fn metadata_endpoint(&self) -> String {
        self.url()
    }

    /// A credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`) answering temporary credentials.
    pub fn credentials_uri(&self) -> String {
        format!("{}{}", self.url(), metadata::CREDENTIALS_URI_PATH)
    }

    /// Replaces the OIDC token accepted for `provider_arn` and `role_arn`, as a token rotation
    /// does: the old token is refused from now on.
    pub fn rotate_oidc_token(&self, provider_arn: &str, role_arn: &str, token: &str) {
        let mut state = self.state();
        for trust in &mut state.sts.config.oidc {
            if trust.provider_arn == provider_arn && trust.role_arn == role_arn {
                trust.token = rkvstore_core::Secret::new(token);
            }
        }
    }

    /// The fleet's instances (empty without one).
    pub fn fleet(&self) -> Vec<FleetInstance> {
        self.state()
            .fleet
            .as_ref()
            .map(|f| f.members.clone())
            .unwrap_or_default()
    }

    /// The most R-kvstore requests that were ever being handled at once (since the last
    /// [`Emulator::reset_peak_in_flight`]).
    pub fn peak_in_flight(&self) -> usize {
        self.state().flight.peak()
    }

    /// Starts counting [`Emulator::peak_in_flight`] afresh.
    pub fn reset_peak_in_flight(&self) {
        self.state().flight.reset_peak();
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.local
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The requests that arrived, in order (the latest 10,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().log.iter().cloned().collect()
    }

    /// Injects a fault from now on.
    pub fn add_fault(&self, rule: FaultRule) {
        self.state().faults.push(rule);
    }

    /// Cuts the connection of each of the next `times` downloads after `after_bytes` bytes of
    /// its body, as a network failure part-way through a file would.
    pub fn cut_downloads(&self, after_bytes: u64, times: u32) {
        self.state().backup.cuts.push(backups::Cut {
            after_bytes,
            remaining: times,
        });
    }

    /// The download requests that arrived, in order.
    pub fn downloads(&self) -> Vec<DownloadRecord> {
        self.state().backup.downloads.clone()
    }

    /// Changes how long download URLs handed out from now on work.
    pub fn set_download_url_lifetime(&self, lifetime: Duration) {
        self.state().backup.url_lifetime = lifetime;
    }

    /// Adds `n` finished automated backup sets to `instance` while running.
    pub fn seed_backups(&self, instance: &str, n: u32) -> Result<(), Error> {
        let mut state = self.state();
        if !state.instances.contains_key(instance) {
            return Err(Error::Config(format!(
                "no instance {instance} to seed backup sets on; add it first"
            )));
        }
        let now = state.now();
        state.backup.seed(instance, n, now);
        Ok(())
    }

    /// The backup set being restored into `instance`, while its restore runs.
    pub fn restoring(&self, instance: &str) -> Option<u64> {
        self.state()
            .backup
            .restores
            .get(instance)
            .map(|r| r.backup_id)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Adds an instance while running.
    pub fn add_instance(&self, id: &str) -> Result<(), Error> {
        self.state().add_instance(id).map_err(Error::Config)
    }

    /// Adds a job while running; returns its ID.
    pub fn seed_job(&self, instance: &str, seed: JobSeed) -> Result<u64, Error> {
        self.state().seed_job(instance, seed).map_err(Error::Config)
    }

    /// Moves the server's clock to `secs` seconds ahead of this machine's; an offset past
    /// [`MAX_CLOCK_OFFSET_SECS`] either way is cut to it.
    pub fn set_clock_offset(&self, secs: i64) {
        self.state().clock_offset = secs.clamp(-MAX_CLOCK_OFFSET_SECS, MAX_CLOCK_OFFSET_SECS);
    }

    /// Stops serving and waits for the accept thread; the workers close their idle
    /// connections and end on their own.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.server.stop();
    }

    /// Serves until the process ends (for the binary).
    pub fn wait(mut self) {
        self.server.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The default step time for [`Pace::WallTime`] in the binary.
pub const DEFAULT_STEP: Duration = Duration::from_secs(1);

/// The most the server's clock may run ahead of or behind this machine's: ten years, far past
/// any skew worth testing and far from where the arithmetic of time could overflow.
pub const MAX_CLOCK_OFFSET_SECS: i64 = 10 * 365 * 86_400;

/// How many connections [`Builder::max_connections`] allows unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 128;

/// The most worker threads [`Builder::workers`] accepts.
pub const MAX_WORKERS: usize = 64;

/// How long [`Builder::request_timeout`] allows unless told otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Takes `m`'s lock. A thread that panicked while holding it cannot have left what it guards
/// half-written in a way that matters to an emulator, so a poisoned lock is used as it is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
