//! An async transport: tokio with hyper's client (hyper-util's pooled `legacy::Client`).
//!
//! The same call state machine as every other transport: `rkvstore-core` signs each attempt
//! (a fresh nonce every time), reads the answer, corrects a skewed clock and decides retries and
//! their delays (honouring `x-acs-retry-after`); this file sends, awaits and sleeps with
//! `tokio::time::sleep`, so the runtime is never blocked. Async stays here: neither
//! `rkvstore-core` nor `rkvstore-blocking` depends on tokio.
//!
//! ```text
//! cargo run -q -p rkvstore-examples --example async_transport -- \
//!     --endpoint http://127.0.0.1:8080 --instance-id r-demo [--signature-version v3] [--wait-job 100002]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rkvstore_core::call::{Answer, Call, JobWait, Step, TransportError, TransportKind, WaitNext};
use rkvstore_core::{
    BackupJob, Credentials, DescribeBackupTasks, DescribeBackupTasksResponse, Error, Scheme,
    SignedRequest,
};
use rkvstore_examples::{finish, Args, Failure};
use tokio::time::Instant;

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the whole answer, head and body, may take once connected.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body read; a bigger one is an error, not an allocation.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The HTTP client: hyper over plain TCP, with connections kept alive between polls.
pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

// One thread is enough: the examples await one request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let result = async {
        let args = Args::parse(std::env::args().skip(1))?;
        let creds = rkvstore_examples::credentials_from_env()?;
        run(&args, &creds, &mut |job| {
            rkvstore_examples::note(&rkvstore_examples::change_line(job));
        })
        .await
    }
    .await;
    finish(result)
}

/// A client with the connect timeout set. It speaks plain `http://` only: this example is
/// built without TLS, to keep its dependencies few.
pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Lists the instance's backup jobs, or follows `--wait-job` to Finished (reporting each change
/// to `on_change`), and returns the JSON to print.
pub(crate) async fn run(
    args: &Args,
    creds: &Credentials,
    on_change: &mut (dyn FnMut(&BackupJob) + Send),
) -> Result<String, Failure> {
    if args.endpoint.scheme() != Scheme::Http {
        return Err(Failure::Usage(
            "async_transport is built without TLS and speaks plain http:// only; use an \
             http:// endpoint"
                .to_owned(),
        ));
    }
    let client = client();
    // The clock correction one call learns is handed to the next, so that a skewed clock costs
    // one re-signing per run rather than one per poll.
    let mut skew = 0;
    let Some(job_id) = args.wait_job else {
        let op = DescribeBackupTasks::new(args.instance_id.as_str());
        let answer = describe(&client, args, creds, &op, &mut skew).await?;
        return rkvstore_examples::tasks_json(&answer);
    };
    let mut wait = JobWait::new(args.instance_id.as_str(), &[job_id], args.wait_options());
    let started = Instant::now();
    loop {
        let answer = describe(&client, args, creds, &wait.operation(), &mut skew).await?;
        let step = wait.update(&answer, started.elapsed());
        for job in &step.changed {
            on_change(job);
        }
        match step.next {
            WaitNext::PollAfter(delay) => tokio::time::sleep(delay).await,
            WaitNext::Finished(jobs) => {
                return rkvstore_examples::jobs_json(&args.instance_id, &jobs)
            }
            WaitNext::Failed(e) => return Err(Failure::Call(e.into())),
        }
    }
}

/// One DescribeBackupTasks call, from its first attempt to its answer: the whole transport loop.
pub(crate) async fn describe(
    client: &HttpClient,
    args: &Args,
    creds: &Credentials,
    op: &DescribeBackupTasks,
    skew: &mut i64,
) -> Result<DescribeBackupTasksResponse, Error> {
    let mut call =
        Call::for_operation(op, args.endpoint.clone(), &args.policy())?.clock_skew(*skew);
    loop {
        // Every attempt is signed anew, with the time now and a nonce never used before.
        let nonce = rkvstore_examples::nonce();
        let request = call.next_request(creds, rkvstore_examples::now(), &nonce)?;
        let step = match send(client, request).await {
            Ok(received) => call.answer(
                Answer::new(received.status, &received.body)
                    .date(received.date.as_deref())
                    .retry_after(received.retry_after.as_deref()),
                rkvstore_examples::jitter(),
            ),
            Err(e) => call.transport_failed(e, rkvstore_examples::jitter()),
        };
        *skew = call.skew();
        match step {
            Step::Done(answer) => return Ok(answer),
            // The delay is the state machine's: the server's hint when it gave one, else the
            // backoff; zero after a clock correction.
            Step::Again { delay, because } => {
                if args.verbose {
                    rkvstore_examples::note(&rkvstore_examples::retry_note(delay, &because));
                }
                tokio::time::sleep(delay).await;
            }
            Step::Failed(e) => return Err(e),
        }
    }
}

/// What came back: the status, the two headers the call reads, and the body.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) date: Option<String>,
    pub(crate) retry_after: Option<String>,
    pub(crate) body: Bytes,
}

/// Sends `request` and reads the whole answer within [`READ_TIMEOUT`] and [`MAX_BODY`].
///
/// Failures are sorted by what they say about the request: no connection means it never left
/// (`NotSent`); a failure once it may have been written means its fate is unknown (`NoAnswer`,
/// or `Timeout` when the answer took too long).
pub(crate) async fn send(
    client: &HttpClient,
    request: &SignedRequest,
) -> Result<Received, TransportError> {
    let mut builder = hyper::Request::builder()
        .method(request.method().as_str())
        .uri(request.url());
    // ACS3's signed headers include `host`; hyper sends it as given rather than adding its own.
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(Full::new(Bytes::copy_from_slice(request.body())))
        // A URL or header value hyper refuses (a control character in a token, say) is never
        // sent.
        .map_err(|e| {
            TransportError::new(TransportKind::NotSent, format!("building the request: {e}"))
        })?;
    let exchange = async {
        let response = client.request(http_request).await.map_err(|e| {
            // A connect error (refused, unreachable, connect timeout) means nothing was sent.
            let kind = if e.is_connect() {
                TransportKind::NotSent
            } else {
                TransportKind::NoAnswer
            };
            TransportError::new(kind, error_chain(&e))
        })?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let date = header("date");
        let retry_after = header("x-acs-retry-after");
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    TransportError::new(
                        TransportKind::TooLarge {
                            limit: MAX_BODY as u64,
                        },
                        "",
                    )
                } else {
                    TransportError::new(
                        TransportKind::NoAnswer,
                        format!("reading the body: {}", error_chain(e.as_ref())),
                    )
                }
            })?
            .to_bytes();
        Ok(Received {
            status,
            date,
            retry_after,
            body,
        })
    };
    tokio::time::timeout(READ_TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(TransportError::new(
                TransportKind::Timeout,
                format!("no complete answer within {} s", READ_TIMEOUT.as_secs()),
            ))
        })
}

/// An error and its causes on one line: hyper's own message is often just "client error
/// (Connect)", with the reason in the source.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
