//! A transport written by hand: HTTP/1.1 over `std::net::TcpStream`, plain `http://` only.
//!
//! It shows that driving `rkvstore-core`'s call state machine is all a transport needs: the
//! core signs each attempt (a fresh nonce every time), reads the answer, corrects a skewed
//! clock, and decides whether and when to retry (honouring `x-acs-retry-after`); this file only
//! moves bytes and sleeps.
//!
//! ```text
//! cargo run -q -p rkvstore-examples --example custom_transport -- \
//!     --endpoint http://127.0.0.1:8080 --instance-id r-demo [--signature-version v3] [--wait-job 100002]
//! ```

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rkvstore_core::call::{Answer, Call, JobWait, Step, TransportError, TransportKind, WaitNext};
use rkvstore_core::{
    BackupJob, Credentials, DescribeBackupTasks, DescribeBackupTasksResponse, Error, Scheme,
    SignedRequest,
};
use rkvstore_examples::{finish, Args, Failure};

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long any one read or write may stall.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body read; a bigger one is an error, not an allocation.
const MAX_BODY: u64 = 16 * 1024 * 1024;
/// The largest status line plus headers read.
const MAX_HEAD: u64 = 64 * 1024;

fn main() -> ExitCode {
    let result = Args::parse(std::env::args().skip(1)).and_then(|args| {
        let creds = rkvstore_examples::credentials_from_env()?;
        run(&args, &creds, &mut |job| {
            rkvstore_examples::note(&rkvstore_examples::change_line(job));
        })
    });
    finish(result)
}

/// Lists the instance's backup jobs, or follows `--wait-job` to Finished (reporting each change
/// to `on_change`), and returns the JSON to print.
pub(crate) fn run(
    args: &Args,
    creds: &Credentials,
    on_change: &mut dyn FnMut(&BackupJob),
) -> Result<String, Failure> {
    if args.endpoint.scheme() != Scheme::Http {
        return Err(Failure::Usage(
            "custom_transport speaks plain http:// only (it has no TLS); use an http:// endpoint"
                .to_owned(),
        ));
    }
    // The clock correction one call learns is handed to the next, so that a skewed clock costs
    // one re-signing per run rather than one per poll.
    let mut skew = 0;
    let Some(job_id) = args.wait_job else {
        let op = DescribeBackupTasks::new(args.instance_id.as_str());
        let answer = describe(args, creds, &op, &mut skew)?;
        return rkvstore_examples::tasks_json(&answer);
    };
    let mut wait = JobWait::new(args.instance_id.as_str(), &[job_id], args.wait_options());
    let started = Instant::now();
    loop {
        let answer = describe(args, creds, &wait.operation(), &mut skew)?;
        let step = wait.update(&answer, started.elapsed());
        for job in &step.changed {
            on_change(job);
        }
        match step.next {
            WaitNext::PollAfter(delay) => std::thread::sleep(delay),
            WaitNext::Finished(jobs) => {
                return rkvstore_examples::jobs_json(&args.instance_id, &jobs)
            }
            WaitNext::Failed(e) => return Err(Failure::Call(e.into())),
        }
    }
}

/// One DescribeBackupTasks call, from its first attempt to its answer: the whole transport loop.
pub(crate) fn describe(
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
        let step = match send(request) {
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
                std::thread::sleep(delay);
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
    pub(crate) body: Vec<u8>,
}

/// Sends `request` on a new connection and reads the whole answer.
///
/// Failures are sorted by what they say about the request: no connection means it never left
/// (`NotSent`, safe to send again even for an action that changes state); a failure once it may
/// have been written means its fate is unknown (`NoAnswer`, or `Timeout` for a stalled read).
pub(crate) fn send(request: &SignedRequest) -> Result<Received, TransportError> {
    let (authority, target) = split_url(request.url())?;
    let stream = connect(authority)?;
    let head = request_head(request, authority, &target)?;
    let no_answer =
        |e: std::io::Error| io_failure(TransportKind::NoAnswer, "sending the request", e);
    let mut writer = &stream;
    writer.write_all(head.as_bytes()).map_err(no_answer)?;
    writer.write_all(request.body()).map_err(no_answer)?;
    writer.flush().map_err(no_answer)?;
    read_response(BufReader::new(&stream))
}

/// Splits `http://authority/target` into its authority and its request target (path and
/// query).
fn split_url(url: &str) -> Result<(&str, String), TransportError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        TransportError::new(TransportKind::NotSent, "only http:// URLs can be sent")
    })?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    // A query straight after the authority still needs the path `/` before it.
    let target = match target.strip_prefix('/') {
        Some(_) => target.to_owned(),
        None => format!("/{target}"),
    };
    Ok((authority, target))
}

/// Opens a connection to `authority` (`host[:port]`, port 80 by default) within the timeout,
/// trying each address the name resolves to.
fn connect(authority: &str) -> Result<TcpStream, TransportError> {
    // `host:80` and `[::1]:80` have a port; `host` and `[::1]` do not.
    let has_port = authority.rsplit_once(':').is_some_and(|(host, port)| {
        !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && (!host.contains(':') || host.ends_with(']'))
    });
    let with_port = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<SocketAddr> = with_port
        .to_socket_addrs()
        .map_err(|e| io_failure(TransportKind::NotSent, &format!("resolving {authority}"), e))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                let timeouts = stream
                    .set_read_timeout(Some(READ_TIMEOUT))
                    .and_then(|()| stream.set_write_timeout(Some(READ_TIMEOUT)));
                timeouts.map_err(|e| io_failure(TransportKind::NotSent, "configuring", e))?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    // Whatever stopped the connection (refused, unreachable, timed out), nothing was sent.
    Err(match last {
        Some(e) => io_failure(
            TransportKind::NotSent,
            &format!("connecting to {authority}"),
            e,
        ),
        None => TransportError::new(
            TransportKind::NotSent,
            format!("{authority} resolves to no address"),
        ),
    })
}

/// The request line and headers. `Connection: close` lets the answer end with the connection
/// when it has neither a length nor chunks, and keeps this transport free of pooling.
fn request_head(
    request: &SignedRequest,
    authority: &str,
    target: &str,
) -> Result<String, TransportError> {
    // ACS3 signs the `host` header, so its value is sent as signed; signature 1.0 has none.
    let host = request.headers().get("host").unwrap_or(authority);
    let mut head = format!("{} {target} HTTP/1.1\r\nHost: {host}\r\n", request.method());
    for (name, value) in request.headers() {
        if name == "host" {
            continue;
        }
        // A value with CR or LF (a security token pasted with its newline, say) would end the
        // header early and smuggle in another; it is refused rather than sent.
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(TransportError::new(
                TransportKind::NotSent,
                format!("the {name} header has a control character"),
            ));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\nUser-Agent: rkvstore-examples/custom_transport\r\n\r\n",
        request.body().len()
    ));
    Ok(head)
}

/// Reads a status line, headers and body, within [`MAX_HEAD`] and [`MAX_BODY`].
pub(crate) fn read_response(mut reader: impl BufRead) -> Result<Received, TransportError> {
    loop {
        let mut head = (&mut reader).take(MAX_HEAD);
        let status_line = read_line(&mut head)?;
        let status = parse_status(&status_line)?;
        let mut date = None;
        let mut retry_after = None;
        let mut length = None;
        let mut chunked = false;
        loop {
            let line = read_line(&mut head)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(malformed(format!(
                    "a header line without a colon: {line:?}"
                )));
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "date" => date = Some(value.to_owned()),
                "x-acs-retry-after" => retry_after = Some(value.to_owned()),
                "content-length" => {
                    let n = value
                        .parse::<u64>()
                        .map_err(|_| malformed(format!("Content-Length {value:?}")))?;
                    length = Some(n);
                }
                "transfer-encoding" => {
                    chunked = value
                        .rsplit(',')
                        .next()
                        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
                }
                _ => {}
            }
        }
        // An interim answer (100 Continue) comes before the real one.
        if (100..200).contains(&status) {
            continue;
        }
        let body = if chunked {
            read_chunked(&mut reader)?
        } else if let Some(n) = length {
            if n > MAX_BODY {
                return Err(too_large());
            }
            let mut body = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(64 * 1024));
            (&mut reader)
                .take(n)
                .read_to_end(&mut body)
                .map_err(|e| io_failure(TransportKind::NoAnswer, "reading the body", e))?;
            if (body.len() as u64) < n {
                return Err(malformed(format!(
                    "the body ended after {} of {n} bytes",
                    body.len()
                )));
            }
            body
        } else {
            // Neither a length nor chunks: the body runs to the end of the connection.
            read_capped(&mut reader, MAX_BODY)?
        };
        return Ok(Received {
            status,
            date,
            retry_after,
            body,
        });
    }
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status(line: &str) -> Result<u16, TransportError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(malformed(format!("not an HTTP/1.x status line: {line:?}")));
    }
    code.parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| malformed(format!("not an HTTP/1.x status line: {line:?}")))
}

/// A chunked body: hex sizes, each chunk followed by CRLF, a zero size, then trailers.
fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(&mut reader.take(1024))?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| malformed(format!("a chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, if any, end with an empty line; they are not needed.
            let mut trailers = reader.take(MAX_HEAD);
            while !read_line(&mut trailers)?.is_empty() {}
            return Ok(body);
        }
        if (body.len() as u64).saturating_add(size) > MAX_BODY {
            return Err(too_large());
        }
        let before = body.len();
        reader
            .take(size)
            .read_to_end(&mut body)
            .map_err(|e| io_failure(TransportKind::NoAnswer, "reading a chunk", e))?;
        if ((body.len() - before) as u64) < size {
            return Err(malformed("the body ended inside a chunk".to_owned()));
        }
        if !read_line(&mut reader.take(2))?.is_empty() {
            return Err(malformed("a chunk not followed by CRLF".to_owned()));
        }
    }
}

/// Reads to the end of the stream, refusing more than `cap` bytes.
fn read_capped(reader: &mut impl Read, cap: u64) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| io_failure(TransportKind::NoAnswer, "reading the body", e))?;
    if body.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(body)
}

/// One line without its CRLF (or bare LF). The end of the stream, or a line longer than what
/// the reader allows, is an error: the head is incomplete.
fn read_line(reader: &mut impl BufRead) -> Result<String, TransportError> {
    let mut line = Vec::new();
    reader
        .read_until(b'\n', &mut line)
        .map_err(|e| io_failure(TransportKind::NoAnswer, "reading the answer", e))?;
    if line.last() != Some(&b'\n') {
        return Err(malformed(
            "the connection closed or the line was too long before the answer was complete"
                .to_owned(),
        ));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    // Header values are ASCII in practice; anything else is shown, not trusted.
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// An I/O failure while `doing`, as `kind` — except that a timeout is always `Timeout`.
fn io_failure(kind: TransportKind, doing: &str, e: std::io::Error) -> TransportError {
    let kind = match e.kind() {
        // A stalled read or write: the request may have run. A connect that timed out is
        // still `NotSent`.
        ErrorKind::TimedOut | ErrorKind::WouldBlock if kind != TransportKind::NotSent => {
            TransportKind::Timeout
        }
        _ => kind,
    };
    TransportError::new(kind, format!("{doing}: {e}"))
}

/// An answer that is not HTTP as expected: the request was sent, so its fate is unknown.
fn malformed(what: String) -> TransportError {
    TransportError::new(
        TransportKind::NoAnswer,
        format!("a malformed answer: {what}"),
    )
}

fn too_large() -> TransportError {
    TransportError::new(TransportKind::TooLarge { limit: MAX_BODY }, "")
}
