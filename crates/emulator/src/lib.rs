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
mod faults;
mod jobs;
mod render;
mod server;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use args::{EmulatorArgs, MAX_STEP_SECONDS};
pub use faults::{Fault, FaultRule};
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
    /// wait in the listen queue until one closes. This bounds the emulator's threads and file
    /// descriptors whatever its clients do.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// How long a connection may take to deliver a whole request, counted from its opening or
    /// from the previous answer on it (default [`DEFAULT_REQUEST_TIMEOUT`]). A connection that
    /// idles or trickles past it is closed, so slow clients cannot hold threads forever.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// Binds `addr` (use port 0 for a free port) and serves on a background thread.
    pub fn start(self, addr: &str) -> Result<Emulator, Error> {
        if self.keys.is_empty() {
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
        let mut state = State::new(self.keys, self.pace, self.clock_offset);
        for id in self.instances {
            state.add_instance(&id).map_err(Error::Config)?;
        }
        for (instance, seed) in self.seeds {
            state.seed_job(&instance, seed).map_err(Error::Config)?;
        }
        state.faults = self.faults;
        let state = Arc::new(Mutex::new(state));
        let listener = server::bind(addr)?;
        let local = listener.local();
        let server = server::spawn(listener, Arc::clone(&state), limits)?;
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

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.local
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked cannot leave the state half-written in a way that matters to
        // a test, so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The requests that arrived, in order (the latest 10,000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().log.iter().cloned().collect()
    }

    /// Injects a fault from now on.
    pub fn add_fault(&self, rule: FaultRule) {
        self.state().faults.push(rule);
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

    /// Stops serving and waits for the server thread.
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

/// How long [`Builder::request_timeout`] allows unless told otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
