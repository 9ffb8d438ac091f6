//! A blocking client for the ApsaraDB for Redis (R-kvstore) OpenAPI, over [`ureq`].
//!
//! It adds to [`rkvstore_core`] what needs the outside world: credentials from the environment
//! and the official config files, the clock and random nonces, HTTP with timeouts and a cap on
//! response size, retries that never repeat a state-changing call that may have run, clock-skew
//! correction, and waiting for a backup job.
//!
//! ```no_run
//! use std::time::Duration;
//! use rkvstore_blocking::{Client, WaitOptions};
//! use rkvstore_core::CreateBackup;
//!
//! let client = Client::builder().region("cn-hangzhou").build()?;
//! let started = client.create_backup(&CreateBackup::new("r-bp1zxszhcgatnx"))?;
//! let job_id = started.job_ids().and_then(|ids| ids.first().copied()).unwrap_or_default();
//! let options = WaitOptions { interval: Duration::from_secs(10), ..WaitOptions::default() };
//! let done = client.wait_for_backup_job("r-bp1zxszhcgatnx", job_id, &options, |job| {
//!     println!("{:?} {:?}%", job.backup_progress_status, job.percent());
//! })?;
//! println!("backup {} finished", done.backup_job_id);
//! # Ok::<(), rkvstore_blocking::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
mod backups;
mod builder;
mod client;
pub mod credentials;
pub mod download;
mod error;
pub mod local_file;
mod random;
mod transport;
mod wait;

pub use backups::InstanceWaitError;
pub use builder::Builder;
pub use client::{
    Client, Logger, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_READ_TIMEOUT,
    MAX_CLOCK_SKEW,
};
pub use error::{Error, Report};
pub use rkvstore_core::call::{TransportKind, WaitOptions};

pub use rkvstore_core as core;

/// The README's Rust examples, compiled and run as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
