//! The HTTP side: hyper parses and writes HTTP/1.1, driven without an async runtime.
//!
//! One thread accepts connections and one plain thread serves each, up to a bound, so that a
//! slow answer (an injected fault) holds up only its own connection. hyper does every part of
//! the protocol: it answers 431 to headers past [`MAX_HEADER_BYTES`], 400 to a malformed
//! request such as a bad `Content-Length`, and keeps connections alive. This module only moves
//! bytes between hyper and a blocking socket:
//!
//! - Reads are non-blocking, so hyper sees "not ready" exactly when it would under a reactor.
//!   When the connection's future is pending and nothing but the socket can wake it, the
//!   connection's thread waits for the socket to become readable (a blocking `peek` with a
//!   timeout), which is all a reactor would do for a single socket.
//! - Writes block, with a timeout, so a response is always written in full or the connection
//!   fails; hyper therefore never waits on the write side.
//! - Each request must arrive within the request timeout of the connection opening or of the
//!   previous answer, which bounds idle connections and requests sent a byte at a time.
//! - `accept` errors (running out of file descriptors above all) are waited out, never fatal.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming as IncomingBody, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::rt::ReadBufCursor;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use rkvstore_core::{percent, Format, SignatureVersion};

use crate::auth::{authenticate_shared, Incoming};
use crate::faults::{self, Fault};
use crate::render::{self, Failure};
use crate::state::{RequestRecord, State};
use crate::{actions, Error};

/// Bodies larger than this are refused; no R-kvstore request comes near it.
const MAX_REQUEST_BODY: u64 = 1 << 20;

/// The request line and headers together may not exceed this; hyper answers 431 past it. A
/// signed RPC request carries every parameter in its query, so this leaves ample room for the
/// longest real one while keeping a hostile header from growing memory.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long the accept loop waits after `accept` fails before trying again. Running out of
/// file descriptors makes every `accept` fail at once until some connection closes, so retrying
/// without a pause would only burn a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How often a waiting thread looks at the stop flag, so that `shutdown` ends idle connections
/// promptly.
const STOP_POLL: Duration = Duration::from_millis(200);

/// How long a finished connection keeps reading (and discarding) what the client still sends,
/// so that an early answer such as 413 or 431 is not destroyed by a TCP reset when the socket
/// closes with unread data.
const LINGER: Duration = Duration::from_secs(1);

/// Limits that protect the emulator from a client that misbehaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// At most this many connections are served at once; more wait in the listen queue.
    pub(crate) max_connections: usize,
    /// A request must arrive whole within this long of the connection opening or of the previous
    /// answer on it; a connection that idles or trickles longer is closed.
    pub(crate) request_timeout: Duration,
}

/// What the accept thread and the connection threads share with the [`Handle`].
struct Shared {
    limits: Limits,
    stop: AtomicBool,
    active: Mutex<usize>,
    freed: Condvar,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn active(&self) -> MutexGuard<'_, usize> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a free connection slot; `None` once the server is stopping.
    fn acquire(self: &Arc<Self>) -> Option<Slot> {
        let mut active = self.active();
        loop {
            if self.stopping() {
                return None;
            }
            if *active < self.limits.max_connections {
                *active += 1;
                return Some(Slot(Arc::clone(self)));
            }
            active = self
                .freed
                .wait_timeout(active, STOP_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// One connection's share of the bound, given back when the connection ends however it ends.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut active = self.0.active();
        *active = active.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

/// A bound listener, not yet serving.
pub(crate) struct Listener {
    listener: TcpListener,
    local: SocketAddr,
}

impl Listener {
    pub(crate) fn local(&self) -> SocketAddr {
        self.local
    }
}

pub(crate) fn bind(addr: &str) -> Result<Listener, Error> {
    let bind_error = |reason: String| Error::Bind {
        addr: addr.to_owned(),
        reason,
    };
    let listener = TcpListener::bind(addr).map_err(|e| bind_error(e.to_string()))?;
    let local = listener
        .local_addr()
        .map_err(|e| bind_error(e.to_string()))?;
    Ok(Listener { listener, local })
}

/// The running server, as the [`crate::Emulator`] holds it.
pub(crate) struct Handle {
    shared: Arc<Shared>,
    local: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Handle {
    /// Stops accepting, ends idle connections, and waits for the accept thread.
    pub(crate) fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.freed.notify_all();
        let Some(thread) = self.thread.take() else {
            return;
        };
        // The accept thread sits in a blocking `accept`; a connection of our own wakes it to see
        // the stop flag. If even that connection cannot be made (no descriptors left), joining
        // could wait forever, so the thread is left to notice the flag on its next connection.
        let mut wake = self.local;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        if TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok() {
            let _ = thread.join();
        }
    }

    /// Waits for the accept thread, which only ends when stopped.
    pub(crate) fn wait(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) fn spawn(
    listener: Listener,
    state: Arc<Mutex<State>>,
    limits: Limits,
) -> Result<Handle, Error> {
    let shared = Arc::new(Shared {
        limits,
        stop: AtomicBool::new(false),
        active: Mutex::new(0),
        freed: Condvar::new(),
    });
    let local = listener.local;
    let accept_shared = Arc::clone(&shared);
    let thread = std::thread::Builder::new()
        .name("rkvstore-emulator-accept".into())
        .spawn(move || accept_loop(&listener.listener, &accept_shared, &state))
        .map_err(|e| Error::Bind {
            addr: local.to_string(),
            reason: format!("cannot start the server thread: {e}"),
        })?;
    Ok(Handle {
        shared,
        local,
        thread: Some(thread),
    })
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, state: &Arc<Mutex<State>>) {
    // Taking a slot before accepting keeps the number of open sockets (and threads) bounded;
    // connections past the bound wait in the kernel's listen queue until one ends.
    while let Some(slot) = shared.acquire() {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                // EMFILE, ENFILE, ENOBUFS and the like clear up when connections close; a
                // connection aborted before it was accepted is simply gone. Neither is a reason
                // to stop serving.
                drop(slot);
                std::thread::sleep(ACCEPT_BACKOFF);
                continue;
            }
        };
        if shared.stopping() {
            return;
        }
        let state = Arc::clone(state);
        let conn_shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name("rkvstore-emulator-conn".into())
            .spawn(move || {
                let _slot = slot;
                serve_connection(stream, &state, &conn_shared);
            });
        if spawned.is_err() {
            // The closure, and with it the socket and the slot, has been dropped: the client
            // sees the connection close, and the server goes on once threads are available.
            std::thread::sleep(ACCEPT_BACKOFF);
        }
    }
}

/// A connection's socket, shared between hyper (through [`Io`]) and the loop that waits on it.
struct Socket {
    stream: TcpStream,
    nonblocking: Cell<bool>,
    /// The read timeout last set, so that waiting sets it only when it changes.
    read_timeout: Cell<Option<Duration>>,
    /// When the connection opened or last wrote; the next request must arrive within the
    /// request timeout of it.
    last_progress: Cell<Instant>,
}

impl Socket {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        if self.nonblocking.get() != on {
            self.stream.set_nonblocking(on)?;
            self.nonblocking.set(on);
        }
        Ok(())
    }

    /// Sets the read timeout unless it is already `timeout`; `true` when that failed.
    fn set_read_timeout(&self, timeout: Duration) -> bool {
        if self.read_timeout.get() == Some(timeout) {
            return false;
        }
        let failed = self.stream.set_read_timeout(Some(timeout)).is_err();
        self.read_timeout.set((!failed).then_some(timeout));
        failed
    }

    /// Waits until the socket has something to read (or has hit end of file or an error, which
    /// the next read reports). `false` when the request timeout passed or the server stopped.
    fn wait_readable(&self, shared: &Shared) -> bool {
        let deadline = self.last_progress.get() + shared.limits.request_timeout;
        loop {
            if shared.stopping() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            if self.set_nonblocking(false).is_err() || self.set_read_timeout(left.min(STOP_POLL)) {
                return false;
            }
            match self.stream.peek(&mut [0u8; 1]) {
                Ok(_) => return true,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return true,
            }
        }
    }
}

/// hyper's view of the socket.
struct Io {
    socket: Rc<Socket>,
    scratch: Box<[u8]>,
}

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.socket.set_nonblocking(true)?;
        let want = buf.remaining().min(this.scratch.len());
        let Some(scratch) = this.scratch.get_mut(..want) else {
            return Poll::Ready(Ok(()));
        };
        loop {
            match (&this.socket.stream).read(scratch) {
                Ok(n) => {
                    buf.put_slice(scratch.get(..n).unwrap_or_default());
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // No waker is registered: the connection's loop waits on the socket itself
                // whenever the future is pending (see `block_on`).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let socket = &self.socket;
        // An answer almost always fits the socket's buffer, so the write is first tried in
        // whatever mode the socket is in (saving two mode switches per request); only a full
        // buffer makes it block, with the write timeout.
        loop {
            match (&socket.stream).write(buf) {
                Ok(n) => {
                    socket.last_progress.set(Instant::now());
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && socket.nonblocking.get() => {
                    socket.set_nonblocking(false)?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A peer that already went away makes this fail; there is nothing left to do either way.
        let _ = self.socket.stream.shutdown(Shutdown::Write);
        Poll::Ready(Ok(()))
    }
}

/// Wakes the connection's loop; every wake-up comes from hyper itself on the same thread (a
/// request body handed over, a yield after a burst of work), so a flag is enough.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs a connection's future to the end on this thread; `None` when the request timeout
/// passed or the server stopped first.
fn block_on<F: Future>(future: F, socket: &Socket, shared: &Shared) -> Option<F::Output> {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&flag));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        if flag.0.swap(false, Ordering::SeqCst) {
            continue;
        }
        // Writes never leave hyper waiting, so a pending connection is waiting to read.
        if !socket.wait_readable(shared) {
            return None;
        }
    }
}

fn serve_connection(stream: TcpStream, state: &Arc<Mutex<State>>, shared: &Shared) {
    let timeout = shared.limits.request_timeout;
    // A client that stops reading an answer must not hold its thread past the timeout either.
    if stream.set_write_timeout(Some(timeout)).is_err() {
        return;
    }
    let _ = stream.set_nodelay(true);
    let socket = Rc::new(Socket {
        stream,
        nonblocking: Cell::new(false),
        read_timeout: Cell::new(None),
        last_progress: Cell::new(Instant::now()),
    });
    let io = Io {
        socket: Rc::clone(&socket),
        scratch: vec![0; 16 * 1024].into_boxed_slice(),
    };
    let service = service_fn(|request: hyper::Request<IncomingBody>| {
        let state = Arc::clone(state);
        async move { Ok::<_, Infallible>(handle(request, &state).await) }
    });
    let mut http = http1::Builder::new();
    // The Date header carries the emulator's own (possibly skewed) clock, so hyper's is off.
    http.max_header_size(MAX_HEADER_BYTES)
        .auto_date_header(false);
    let connection = http.serve_connection(io, service);
    let finished = block_on(connection, &socket, shared).is_some();
    if finished {
        linger(&socket.stream);
    }
}

/// Closes the write side, then reads and drops what the client still sends for a moment, so
/// that the answer already written reaches it instead of being cut short by a reset.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    if stream.set_nonblocking(false).is_err() {
        return;
    }
    let until = Instant::now() + LINGER;
    let mut sink = [0u8; 8192];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match (&*stream).read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// What to send back.
struct Answer {
    status: u16,
    format: Format,
    body: OutBody,
    retry_after_ms: Option<u64>,
}

/// A response body: some bytes, then (for the Oversized fault) filler produced as it is sent,
/// so that a huge body never sits in memory. Its exact length goes out as `Content-Length`.
struct OutBody {
    bytes: Bytes,
    filler: u64,
    /// A backup file, made as it is sent (see [`crate::download`]).
    stream: Option<crate::download::Stream>,
}

/// The filler is sent in slices of this.
static FILLER: [u8; 16 * 1024] = [b' '; 16 * 1024];

impl OutBody {
    fn bytes(bytes: Vec<u8>) -> Self {
        OutBody {
            bytes: Bytes::from(bytes),
            filler: 0,
            stream: None,
        }
    }

    fn filler(n: u64) -> Self {
        OutBody {
            bytes: Bytes::new(),
            filler: n,
            stream: None,
        }
    }
}

impl HttpBody for OutBody {
    type Data = Bytes;
    // A download cut on purpose fails its body, which makes hyper drop the connection.
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if !this.bytes.is_empty() {
            return Poll::Ready(Some(Ok(Frame::data(std::mem::take(&mut this.bytes)))));
        }
        if this.filler > 0 {
            let n = usize::try_from(this.filler)
                .unwrap_or(usize::MAX)
                .min(FILLER.len());
            this.filler -= n as u64;
            let slice: &'static [u8] = FILLER.get(..n).unwrap_or_default();
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(slice)))));
        }
        if let Some(stream) = this.stream.as_mut() {
            return stream
                .poll_chunk(cx)
                .map(|frame| frame.map(|r| r.map(Frame::data)));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_empty()
            && self.filler == 0
            && self.stream.as_ref().is_none_or(|s| s.remaining() == 0)
    }

    fn size_hint(&self) -> SizeHint {
        let streamed = self
            .stream
            .as_ref()
            .map_or(0, crate::download::Stream::remaining);
        SizeHint::with_exact(
            (self.bytes.len() as u64)
                .saturating_add(self.filler)
                .saturating_add(streamed),
        )
    }
}

async fn handle(request: hyper::Request<IncomingBody>, state: &Mutex<State>) -> Response<OutBody> {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await;
    if let Some(plain) = metadata_answer(&parts, state) {
        return plain;
    }
    if let Some(file) = download_answer(&parts, state) {
        return file;
    }
    // Counted until the response is built, for the fleet's peak and its throttling mode.
    let _in_flight = crate::fleet::enter(state);
    let (answer, request_id) = answer(&parts, body, state);
    respond(answer, &request_id, state)
}

/// A backup file download (`GET /download/…`, see [`crate::download`]), answered as OSS would.
fn download_answer(parts: &Parts, state: &Mutex<State>) -> Option<Response<OutBody>> {
    let reply = crate::download::serve(parts, &mut lock(state))?;
    let mut response = Response::new(OutBody {
        bytes: Bytes::from(reply.body),
        filler: 0,
        stream: reply.stream,
    });
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let date = lock(state).now().to_http_date();
    for (name, value) in reply.headers.into_iter().chain([("date", date)]) {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    Some(response)
}

/// The metadata service's and the credentials URI's plain answers (see [`crate::metadata`]),
/// logged like API calls with the method and path in place of the action.
fn metadata_answer(parts: &Parts, state: &Mutex<State>) -> Option<Response<OutBody>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let (status, content_type, body) = crate::metadata::answer(method, path, &header, state)?;
    lock(state).record(RequestRecord {
        method: method.to_owned(),
        action: Some(path.to_owned()),
        nonce: None,
        signature_version: None,
        format: None,
        instance_id: None,
        status,
        code: None,
    });
    let mut response = Response::new(OutBody::bytes(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().append(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static(content_type),
    );
    Some(response)
}

/// Reads the whole body, refusing one past [`MAX_REQUEST_BODY`] as soon as that is known.
async fn read_body(mut body: IncomingBody) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::new(
            413,
            "RequestTooLarge",
            "The request body is larger than 1 MiB.",
        )
    };
    if body.size_hint().lower() > MAX_REQUEST_BODY {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            Failure::new(
                400,
                "InvalidParameter",
                format!("could not read the body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() as u64 > MAX_REQUEST_BODY {
                return Err(too_large());
            }
        }
    }
    Ok(out)
}

fn answer(parts: &Parts, body: Result<Vec<u8>, Failure>, state: &Mutex<State>) -> (Answer, String) {
    let incoming = match body.and_then(|body| parse(parts, body)) {
        Ok(i) => i,
        Err(failure) => {
            let request_id = lock(state).next_request_id();
            let answer = Answer {
                status: failure.status,
                format: Format::Xml,
                body: OutBody::bytes(render::error(Format::Xml, &failure, &request_id)),
                retry_after_ms: None,
            };
            return (answer, request_id);
        }
    };
    let version = incoming.signature_version();
    if crate::sts::is_sts(&incoming) {
        return sts_answer(&incoming, state);
    }
    let format = match version {
        SignatureVersion::V3 => Format::Json,
        SignatureVersion::V1 => match incoming.param("Format") {
            Some(f) if f.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Xml,
        },
    };
    let mut record = RequestRecord {
        method: incoming.method.clone(),
        action: incoming.action().map(str::to_owned),
        nonce: incoming.nonce().map(str::to_owned),
        signature_version: Some(version),
        format: incoming.param("Format").map(str::to_owned),
        instance_id: incoming.param("InstanceId").map(str::to_owned),
        status: 0,
        code: None,
    };

    // The lock is taken for the state's parts of the check (the nonce is spent under it, so
    // a replay is still refused atomically), not while the signature is recomputed.
    let request_id = lock(state).next_request_id();
    let outcome = authenticate_shared(&incoming, state).map(|api_version| {
        let fault = faults::take(
            &mut lock(state).faults,
            incoming.action(),
            incoming.param("InstanceId"),
        );
        (api_version.to_owned(), fault)
    });

    let result: Result<(Vec<u8>, Option<Fault>), Failure> = match outcome {
        Err(f) => Err(f),
        Ok((api_version, fault)) => {
            if let Some(Fault::Slow(d)) = &fault {
                std::thread::sleep(*d);
            }
            match &fault {
                Some(Fault::Throttle { retry_after_ms }) => Err(Failure {
                    retry_after_ms: *retry_after_ms,
                    ..Failure::new(
                        400,
                        "Throttling.User",
                        "Request was denied due to user flow control.",
                    )
                }),
                Some(Fault::ServerError { status }) => Err(server_error(*status)),
                Some(Fault::Malformed) => Ok((b"<<<{{ this is not a response".to_vec(), fault)),
                _ => {
                    let action = incoming.action().unwrap_or_default();
                    let ran = {
                        let mut st = lock(state);
                        actions::run(action, &api_version, &incoming, &mut st, &request_id)
                    };
                    ran.map(|value| (render::success(format, action, &value), fault))
                }
            }
        }
    };

    let answer = match result {
        Err(failure) => Answer {
            status: failure.status,
            format,
            body: OutBody::bytes(render::error(format, &failure, &request_id)),
            retry_after_ms: failure.retry_after_ms,
        },
        Ok((body, fault)) => {
            let ok = |body| Answer {
                status: 200,
                format,
                body,
                retry_after_ms: None,
            };
            match fault {
                Some(Fault::ErrorAfterProcessing { status }) => {
                    let failure = server_error(status);
                    Answer {
                        status: failure.status,
                        format,
                        body: OutBody::bytes(render::error(format, &failure, &request_id)),
                        retry_after_ms: None,
                    }
                }
                Some(Fault::SlowAfterProcessing(d)) => {
                    std::thread::sleep(d);
                    ok(OutBody::bytes(body))
                }
                Some(Fault::Truncated) => {
                    let half = body.len() / 2;
                    ok(OutBody::bytes(body.into_iter().take(half).collect()))
                }
                Some(Fault::Oversized(n)) => ok(OutBody::filler(n)),
                _ => ok(OutBody::bytes(body)),
            }
        }
    };
    record.status = answer.status;
    if answer.status >= 400 {
        record.code = match rkvstore_core::response::parse_error_body(
            answer.status,
            &answer.body.bytes,
            answer.format,
        ) {
            rkvstore_core::Error::Api(api) => Some(api.code),
            _ => None,
        };
    }
    lock(state).record(record);
    (answer, request_id)
}

/// An STS call ([`crate::sts`]): JSON unless XML is asked for, logged like any other.
fn sts_answer(incoming: &Incoming, state: &Mutex<State>) -> (Answer, String) {
    let format = match incoming.param("Format") {
        Some(f) if f.eq_ignore_ascii_case("xml") => Format::Xml,
        _ => Format::Json,
    };
    let action = incoming.action().unwrap_or_default().to_owned();
    let mut st = lock(state);
    let request_id = st.next_request_id();
    let result = crate::sts::run(incoming, &mut st, &request_id);
    let (status, body, code) = match result {
        Ok(value) => (200, render::success(format, &action, &value), None),
        Err(failure) => (
            failure.status,
            render::error(format, &failure, &request_id),
            Some(failure.code.to_owned()),
        ),
    };
    st.record(RequestRecord {
        method: incoming.method.clone(),
        action: Some(action),
        nonce: incoming.nonce().map(str::to_owned),
        signature_version: Some(incoming.signature_version()),
        format: incoming.param("Format").map(str::to_owned),
        instance_id: None,
        status,
        code,
    });
    let answer = Answer {
        status,
        format,
        body: OutBody::bytes(body),
        retry_after_ms: None,
    };
    (answer, request_id)
}

fn server_error(status: u16) -> Failure {
    if status == 503 {
        Failure::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    } else {
        Failure::new(
            status.max(500),
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }
}

/// The request as the rest of the emulator sees it.
fn parse(parts: &Parts, body: Vec<u8>) -> Result<Incoming, Failure> {
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = parse_form(parts.uri.query().unwrap_or_default())?;
    let is_form = headers.iter().any(|(k, v)| {
        k == "content-type"
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    });
    let form = if is_form {
        let text = std::str::from_utf8(&body)
            .map_err(|_| Failure::new(400, "InvalidParameter", "The form body is not UTF-8."))?;
        parse_form(text)?
    } else {
        Vec::new()
    };
    if path != "/" {
        return Err(Failure::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api is not found, please check your url and method. (path {path})"),
        ));
    }
    Ok(Incoming {
        method,
        path: path.to_owned(),
        query,
        form,
        headers,
        body,
    })
}

fn parse_form(text: &str) -> Result<Vec<(String, String)>, Failure> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = |e: percent::DecodeError| {
                Failure::new(
                    400,
                    "InvalidParameter",
                    format!("A parameter is not valid percent-encoding: {e}."),
                )
            };
            Ok((
                percent::decode_form(k).map_err(bad)?,
                percent::decode_form(v).map_err(bad)?,
            ))
        })
        .collect()
}

fn respond(answer: Answer, request_id: &str, state: &Mutex<State>) -> Response<OutBody> {
    let date = lock(state).now().to_http_date();
    let mut response = Response::new(answer.body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = vec![
        (
            "content-type",
            render::content_type(answer.format).to_owned(),
        ),
        ("date", date),
        ("x-acs-request-id", request_id.to_owned()),
    ];
    if let Some(ms) = answer.retry_after_ms {
        headers.push(("x-acs-retry-after", ms.to_string()));
    }
    // Every name and value here is ASCII made by this module (values never echo the request),
    // so none is dropped in practice.
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    response
}
