//! The client: signing each attempt, retries, clock-skew correction.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkvstore_core::call::{Call, CallPolicy, Retry, Step};
use rkvstore_core::response::{Document, Shape};
use rkvstore_core::retry::RetryPolicy;
use rkvstore_core::{
    CreateBackup, CreateBackupResponse, DescribeBackupTasks, DescribeBackupTasksResponse, Endpoint,
    Format, Operation, Params, RpcRequest, SignatureVersion, SignedRequest, Timestamp, VERSION,
};

use crate::builder::Builder;
use crate::credentials::{CachedProvider, Source};
use crate::error::{Error, Report};
use crate::random;
use crate::transport::Transport;

/// The default connect timeout, as in the official SDKs.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default read timeout, as in the official SDKs.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// The largest clock difference the client corrects by itself. Beyond it (a clock days away)
/// the client stops with [`Error::ClockSkew`] rather than sign with the server's idea of time.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(24 * 3600);

/// This machine's clock (0 before the Unix epoch).
fn local_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}

/// A callback for one-line, redacted descriptions of what the client does (`--verbose`).
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

pub(crate) struct Inner {
    /// The provider behind a cache: every attempt asks it, and it fetches only near expiry.
    pub(crate) credentials: CachedProvider,
    pub(crate) source: Source,
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Endpoint,
    pub(crate) version: SignatureVersion,
    pub(crate) format: Format,
    pub(crate) retry: RetryPolicy,
    pub(crate) transport: Transport,
    /// Seconds to add to this machine's clock, learnt from the service's `Date` header.
    pub(crate) skew: AtomicI64,
    /// The connect and read timeouts, after the profile's and the defaults.
    pub(crate) timeouts: (std::time::Duration, std::time::Duration),
    pub(crate) logger: Option<Logger>,
}

/// A blocking R-kvstore client. Cheap to clone; connections are reused.
///
/// ```no_run
/// use rkvstore_blocking::Client;
/// use rkvstore_core::DescribeBackupTasks;
///
/// let client = Client::builder().region("cn-hangzhou").build()?;
/// let tasks = client.describe_backup_tasks(&DescribeBackupTasks::new("r-bp1zxszhcgatnx"))?;
/// for job in &tasks.backup_jobs {
///     println!("{} {:?} {:?}", job.backup_job_id, job.backup_progress_status, job.percent());
/// }
/// # Ok::<(), rkvstore_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("region", &self.inner.region)
            .field("credentials", &self.inner.credentials)
            .field("signature_version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults of the official SDKs.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Where the credentials came from.
    pub fn credentials_source(&self) -> &Source {
        &self.inner.source
    }

    /// The provider of the credentials and where it was configured, such as
    /// `RamRoleArn acs:ram::1:role/ops (profile ops of …)`; never a secret.
    pub fn credentials_provider(&self) -> String {
        self.inner.credentials.provider().describe()
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The region, if known.
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// `DescribeBackupTasks`.
    pub fn describe_backup_tasks(
        &self,
        op: &DescribeBackupTasks,
    ) -> Result<DescribeBackupTasksResponse, Error> {
        self.execute(op)
    }

    /// `CreateBackup`. Never sent twice: it is retried only when it certainly did not run.
    pub fn create_backup(&self, op: &CreateBackup) -> Result<CreateBackupResponse, Error> {
        self.execute(op)
    }

    /// Any typed operation.
    pub fn execute<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let request = self.request_for(op)?;
        self.send(&request, O::IDEMPOTENT)
    }

    /// Any R-kvstore action, with the response as JSON (from either wire format). Mark actions
    /// that change state `idempotent: false` so that they are never repeated after an unclear
    /// failure. The client's region is added as `RegionId` when `params` has none.
    pub fn call(&self, action: &str, params: Params, idempotent: bool) -> Result<Document, Error> {
        let request = self.call_request(action, params)?;
        self.send(&request, idempotent)
    }

    /// The unsigned request `call` would send.
    pub fn call_request(&self, action: &str, mut params: Params) -> Result<RpcRequest, Error> {
        if params.get("RegionId").is_none() {
            if let Some(region) = &self.inner.region {
                params.insert("RegionId", region.as_str())?;
            }
        }
        Ok(
            RpcRequest::new(self.inner.endpoint.clone(), VERSION, action.to_owned())?
                .with_format(self.inner.format)
                .with_params(params),
        )
    }

    /// The unsigned request for a typed operation.
    pub fn request_for<O: Operation>(&self, op: &O) -> Result<RpcRequest, Error> {
        Ok(op
            .to_request(self.inner.endpoint.clone())?
            .with_format(self.inner.format))
    }

    /// Signs `request` as the next attempt would be signed (for `--dry-run`).
    pub fn sign(&self, request: &RpcRequest) -> Result<SignedRequest, Error> {
        let mut call = Call::<Document>::new(request.clone(), true, &self.policy())
            .clock_skew(self.clock_skew());
        Ok(call
            .next_request(
                &self.inner.credentials.get()?,
                local_now(),
                &random::nonce(),
            )?
            .clone())
    }

    fn policy(&self) -> CallPolicy {
        CallPolicy::default()
            .retry(self.inner.retry)
            .signature(self.inner.version)
            .max_clock_skew(MAX_CLOCK_SKEW)
    }

    pub(crate) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(logger) = &self.inner.logger {
            logger(&line());
        }
    }

    /// Sends `request` and parses the answer as `T`. The core's [`Call`] decides everything
    /// (signing each attempt anew, retries, the clock correction, the answer's checks); this
    /// loop only sends, sleeps, reads the clock and logs.
    pub fn send<T: Shape>(&self, request: &RpcRequest, idempotent: bool) -> Result<T, Error> {
        let mut call = Call::<T>::new(request.clone(), idempotent, &self.policy())
            .clock_skew(self.clock_skew());
        loop {
            // Asked at every attempt: a long wait outlives temporary credentials, and the cache
            // hands out the same ones until they are due for a refresh.
            let credentials = self.inner.credentials.get()?;
            let now = local_now();
            let signed = call
                .next_request(&credentials, now, &random::nonce())?
                .clone();
            let attempt = call.attempts();
            self.log(|| {
                format!(
                    "→ {} {} (attempt {attempt})",
                    signed.method(),
                    signed.redacted_url()
                )
            });
            let started = Instant::now();
            let step = match self.inner.transport.send(&signed) {
                Ok(got) => {
                    let ms = started.elapsed().as_millis();
                    self.log(|| {
                        format!("← HTTP {} ({} bytes, {ms} ms)", got.status, got.body.len())
                    });
                    call.answer(got.answer(), random::unit())
                }
                Err(e) => {
                    self.log(|| format!("← {}", signed.redact(&e.to_string())));
                    call.transport_failed(e, random::unit())
                }
            };
            match step {
                Step::Done(value) => return Ok(value),
                Step::Failed(e) => return Err(e.into()),
                Step::Again { delay, because } => {
                    match because {
                        Retry::ClockSkew(skew) => {
                            self.inner.skew.store(skew, Ordering::Relaxed);
                            self.log(|| format!("  the service's clock is {skew:+} s from ours; re-signing with it"));
                        }
                        Retry::Failed(e) => {
                            let e = Error::from(e);
                            self.log(|| {
                                format!("  retrying in {} ms: {}", delay.as_millis(), Report(&e))
                            });
                        }
                        _ => {}
                    }
                    std::thread::sleep(delay);
                }
            }
        }
    }

    /// How long connecting may take (`--connect-timeout`, the profile's, else the default).
    pub fn connect_timeout(&self) -> std::time::Duration {
        self.inner.timeouts.0
    }

    /// How long one read may wait for data (`--read-timeout`, the profile's, else 10 s); a
    /// download uses it as its idle timeout.
    pub fn read_timeout(&self) -> std::time::Duration {
        self.inner.timeouts.1
    }

    /// The clock correction in use, in seconds.
    pub fn clock_skew(&self) -> i64 {
        self.inner.skew.load(Ordering::Relaxed)
    }
}
