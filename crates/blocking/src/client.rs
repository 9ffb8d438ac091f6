//! The client: signing each attempt, retries, clock-skew correction.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkvstore_core::response::{read_answer, Shape};
use rkvstore_core::retry::{parse_retry_after, Decision, Failure, GiveUp, RetryPolicy};
use rkvstore_core::{
    sign, CreateBackup, CreateBackupResponse, Credentials, DescribeBackupTasks,
    DescribeBackupTasksResponse, Endpoint, Format, Operation, Params, RpcRequest, SignatureVersion,
    SignedRequest, SigningParams, Timestamp, VERSION,
};

use crate::builder::Builder;
use crate::credentials::Source;
use crate::error::{Error, TransportKind};
use crate::random;
use crate::transport::{Answer, Transport};

/// The default connect timeout, as in the official SDKs.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default read timeout, as in the official SDKs.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// The largest clock difference the client corrects by itself. Beyond it (a clock days away)
/// the client stops with [`Error::ClockSkew`] rather than sign with the server's idea of time.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(24 * 3600);

/// This machine's clock, in seconds since the Unix epoch (0 before it).
fn local_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A callback for one-line, redacted descriptions of what the client does (`--verbose`).
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

pub(crate) struct Inner {
    pub(crate) credentials: Credentials,
    pub(crate) source: Source,
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Endpoint,
    pub(crate) version: SignatureVersion,
    pub(crate) format: Format,
    pub(crate) retry: RetryPolicy,
    pub(crate) transport: Transport,
    /// Seconds to add to this machine's clock, learnt from the service's `Date` header.
    pub(crate) skew: AtomicI64,
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
    pub fn call(
        &self,
        action: &str,
        params: Params,
        idempotent: bool,
    ) -> Result<serde_json::Value, Error> {
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
        let nonce = random::nonce();
        Ok(sign(
            request,
            &SigningParams {
                credentials: &self.inner.credentials,
                time: self.now(),
                nonce: &nonce,
                version: self.inner.version,
            },
        )?)
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_unix(local_unix()).offset(self.inner.skew.load(Ordering::Relaxed))
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(logger) = &self.inner.logger {
            logger(&line());
        }
    }

    /// Sends `request` with retries and parses the answer as `T`.
    pub fn send<T: Shape>(&self, request: &RpcRequest, idempotent: bool) -> Result<T, Error> {
        let mut attempt = 1u32;
        let mut skew_corrected = false;
        loop {
            // Every attempt is signed anew: a fresh nonce and the current time.
            let signed = self.sign(request)?;
            self.log(|| {
                format!(
                    "→ {} {} (attempt {attempt})",
                    signed.method(),
                    signed.redacted_url()
                )
            });
            let started = std::time::Instant::now();
            let (error, failure_kind) = match self.inner.transport.send(&signed) {
                Ok(answer) => {
                    self.log(|| {
                        format!(
                            "← HTTP {} ({} bytes, {} ms)",
                            answer.status,
                            answer.body.len(),
                            started.elapsed().as_millis()
                        )
                    });
                    // A 2xx answer is a success only if it has the operation's shape; a body
                    // carrying `Code` is an API error whatever the status.
                    let error: Error = match read_answer(&signed, answer.status, &answer.body) {
                        Ok(value) => return Ok(value),
                        Err(e) => e.into(),
                    };
                    // A 2xx body that could not be read will not improve with a retry (an error
                    // status with a proxy's page in place of an API error may: it goes on).
                    if (200..300).contains(&answer.status) && !matches!(error, Error::Api(_)) {
                        return Err(error);
                    }
                    if !skew_corrected && self.correct_skew(&error, &answer)? {
                        skew_corrected = true;
                        continue;
                    }
                    let retry_after = answer.retry_after.as_deref().and_then(parse_retry_after);
                    (error, Some((answer.status, retry_after)))
                }
                Err(e) => {
                    self.log(|| format!("← {e}"));
                    (e, None)
                }
            };
            let failure = match (&error, failure_kind) {
                (_, Some((status, retry_after))) => Failure::Answer {
                    status,
                    code: error.api().map(|a| a.code.as_str()),
                    retry_after,
                },
                (
                    Error::Transport {
                        kind: TransportKind::NotSent,
                        ..
                    },
                    None,
                ) => Failure::NotSent,
                (Error::Transport { .. }, None) => Failure::NoAnswer,
                // A body over the cap or a parse failure will not improve with a retry.
                _ => return Err(error),
            };
            match self
                .inner
                .retry
                .decide(attempt, &failure, idempotent, random::unit())
            {
                Decision::RetryAfter(delay) => {
                    self.log(|| format!("  retrying in {} ms: {error}", delay.as_millis()));
                    std::thread::sleep(delay);
                    attempt += 1;
                }
                Decision::GiveUp(GiveUp::Exhausted) if attempt > 1 => {
                    return Err(Error::RetriesExhausted {
                        attempts: attempt,
                        last: Box::new(error),
                    })
                }
                Decision::GiveUp(_) => return Err(error),
            }
        }
    }

    /// On `InvalidTimeStamp.Expired`, learns the offset from the answer's `Date` header and
    /// returns `true` to re-sign with it. A `Date` that is no date is ignored; one further away
    /// than [`MAX_CLOCK_SKEW`] is an error: that is a wrong clock (or a hostile server), and
    /// following it would sign every later request with a nonsense time.
    fn correct_skew(&self, error: &Error, answer: &Answer) -> Result<bool, Error> {
        let expired = error
            .api()
            .is_some_and(|a| a.code == "InvalidTimeStamp.Expired");
        let Some(server) = answer.date.as_deref().and_then(Timestamp::parse_http_date) else {
            return Ok(false);
        };
        if !expired {
            return Ok(false);
        }
        let local = Timestamp::from_unix(local_unix());
        let skew = server.seconds_since(local).unwrap_or(i64::MAX);
        if skew.unsigned_abs() > MAX_CLOCK_SKEW.as_secs() {
            return Err(Error::ClockSkew {
                server_time: server.to_string(),
                skew_secs: skew,
            });
        }
        self.inner.skew.store(skew, Ordering::Relaxed);
        self.log(|| format!("  the service's clock is {skew:+} s from ours; re-signing with it"));
        Ok(true)
    }

    /// The clock correction in use, in seconds.
    pub fn clock_skew(&self) -> i64 {
        self.inner.skew.load(Ordering::Relaxed)
    }
}
