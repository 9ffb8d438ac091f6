//! The sans-IO core of rkvstore, a client for the Alibaba Cloud OpenAPI of ApsaraDB for Redis
//! (product code `R-kvstore`, API version `2015-01-01`).
//!
//! It turns a typed operation into a signed HTTP request description, and an HTTP response into
//! a typed value or a typed error. It never does I/O: the caller owns the socket, the clock and
//! the random numbers, so every function here is deterministic and any transport (blocking,
//! async, a proxy, a test harness) can use it.
//!
//! # In scope
//!
//! - Percent-encoding exactly as Alibaba Cloud signs it ([`percent`]).
//! - Parameters that keep "unset" apart from "empty" and refuse duplicates ([`Params`]), for any
//!   RPC-style API ([`RpcRequest`]), sent with GET or POST, in the query or a form body.
//! - RPC signature 1.0 (HMAC-SHA1) and ACS3-HMAC-SHA256 ([`sign()`]), returning a complete
//!   [`SignedRequest`]: method, URL, headers, body.
//! - The canonical query or request and the string to sign, exactly and redacted for logs
//!   ([`SigningText`]); credentials whose `Debug` hides the secret and token ([`Credentials`]).
//! - Typed operations [`DescribeBackupTasks`] and [`CreateBackup`], parsed from JSON and XML into
//!   the same values, leniently ([`response`]).
//! - The API error in both wire shapes ([`ApiError`]) and, for `SignatureDoesNotMatch`, what
//!   differs between the server's string to sign and ours ([`diagnose`]).
//! - Pure policy: endpoint resolution ([`Endpoint`]) and retry decisions ([`retry`]).
//! - A success only when the answer has the operation's shape, an API error whenever the body
//!   carries `Code`, nesting limits, the security token hidden in everything derived from an
//!   answer, control characters escaped for people ([`response`], [`escape`]).
//! - The whole call as a state machine ([`call::Call`]): signing each attempt anew, reading the
//!   answer, the retry and never-twice rules, clock-skew correction; and waiting for backup jobs
//!   ([`call::JobWait`]): polls, a grace period for a job not yet listed, the timeout, progress.
//!
//! # Out of scope
//!
//! - Sockets, TLS, HTTP framing, timeouts: the caller's transport sends the
//!   [`SignedRequest`] (the `rkvstore-blocking` crate does it over `ureq`; the
//!   `rkvstore-examples` crate over a bare `TcpStream` and over tokio).
//! - Reading the clock, drawing a nonce or a jitter: all are inputs.
//! - Finding credentials in the environment or in files.
//! - Sleeping: a [`call::Step`] says how long, the caller sleeps.
//!
//! # Cargo features
//!
//! - `verify` (off by default): server-side verification helpers for test doubles such as
//!   `rkvstore-emulator` (the v1 parts of a request, the ACS3 canonical request and hashes).
//!   A client never needs them.
//!
//! # Example
//!
//! Sign a `DescribeBackupTasks` call with a fixed time and nonce:
//!
//! ```
//! use rkvstore_core::{
//!     sign, Credentials, DescribeBackupTasks, Endpoint, JobMode, Network, Operation,
//!     SignatureVersion, SigningParams, Timestamp,
//! };
//!
//! let creds = Credentials::new("LTAI5tExampleKeyId", "ExampleSecret");
//! let op = DescribeBackupTasks::new("r-bp1zxszhcgatnx").region("cn-hangzhou").mode(JobMode::Manual);
//! let request = op.to_request(Endpoint::resolve("cn-hangzhou", Network::Public)?)?;
//! let signed = sign(&request, &SigningParams {
//!     credentials: &creds,
//!     time: Timestamp::parse_iso8601("2026-01-01T00:00:00Z").unwrap(),
//!     nonce: "3156853299f313e23d1673dc12e1703d",
//!     version: SignatureVersion::V1,
//! })?;
//! assert_eq!(signed.method().as_str(), "POST");
//! assert_eq!(
//!     signed.url(),
//!     "https://r-kvstore.aliyuncs.com/?AccessKeyId=LTAI5tExampleKeyId\
//!      &Action=DescribeBackupTasks&Format=JSON&InstanceId=r-bp1zxszhcgatnx&JobMode=Manual\
//!      &RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1\
//!      &SignatureNonce=3156853299f313e23d1673dc12e1703d&SignatureVersion=1.0\
//!      &Timestamp=2026-01-01T00%3A00%3A00Z&Version=2015-01-01\
//!      &Signature=MUdET3Mxs2QchbT7PvceF%2Fb2oB4%3D"
//! );
//! # Ok::<(), rkvstore_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod actions;
mod api_error;
pub mod audit;
pub mod call;
mod credentials;
pub mod diagnose;
pub mod download;
mod endpoint;
mod error;
pub mod escape;
// Entry points for the fuzz targets; cargo-fuzz builds with `--cfg fuzzing`, and the crate's
// own tests replay the saved inputs, so the module is no part of the public API.
#[cfg(any(test, fuzzing))]
pub mod fuzzing;
pub mod instance_wait;
mod ops;
pub mod pager;
mod params;
pub mod percent;
mod redact;
pub mod regions;
mod request;
pub mod response;
pub mod retry;
mod sign;
pub mod sts;
mod time;
pub mod validate;

pub use api_error::ApiError;
pub use credentials::{Credentials, Secret, REDACTED};
pub use endpoint::{Endpoint, EndpointError, Network, Scheme, CENTRAL_HOST, CENTRAL_REGIONS};
pub use error::Error;
pub use ops::{
    check_backup_time, minute_time, Backup, DescribeBackupPolicy, DescribeBackupPolicyResponse,
    DescribeBackups, DescribeBackupsResponse, DescribeInstanceAttribute,
    DescribeInstanceAttributeResponse, InstanceAttribute, ModifyBackupPolicy,
    ModifyBackupPolicyResponse, RestoreInstance, RestoreInstanceResponse, Weekday, NORMAL,
    PAGE_SIZES, WEEK,
};
pub use ops::{
    BackupJob, BackupStatus, CreateBackup, CreateBackupResponse, DescribeBackupTasks,
    DescribeBackupTasksResponse, JobMode, Operation, Owner, TaskAction, PRODUCT, VERSION,
};
pub use ops::{
    DescribeInstances, DescribeInstancesResponse, DescribeRegions, DescribeRegionsResponse,
    InstancePager, KvStoreInstance, KvStoreRegion, Tag, MAX_INSTANCE_IDS, MAX_INSTANCE_PAGES,
    MAX_INSTANCE_PAGE_SIZE,
};
pub use params::{ParamError, Params};
pub use request::{Format, Method, Placement, RpcRequest};
pub use response::{ParseError, ParseErrorKind, Shape};
#[cfg(feature = "verify")]
pub use sign::verify;
pub use sign::{
    nonce_from_bytes, sign, sign_unsigned, Headers, SignatureVersion, SignedRequest, SigningParams,
    SigningText,
};
pub use time::Timestamp;
