//! One connection as a worker holds it: its socket, hyper's view of that socket, and what the
//! connection is doing (being served by hyper, sending its last output, or lingering after the
//! last answer).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::ReadBufCursor;
use hyper::server::conn::http1;
use mio::Interest;

use super::service::Service;
use super::{timer, Slot, MAX_HEADER_BYTES};

/// How long a finished connection keeps reading (and discarding) what the client still sends,
/// so that an early answer such as 413 or 431 is not destroyed by a TCP reset when the socket
/// closes with unread data.
const LINGER: Duration = Duration::from_secs(1);

/// A connection's socket, shared between hyper (through [`Io`]) and the worker.
pub(super) struct Socket {
    pub(super) stream: TcpStream,
    /// When the connection opened, last wrote, or first found the socket full for its answer;
    /// the next request (or room for the answer) must come within the request timeout of it.
    last_progress: Cell<Instant>,
    /// Set while an answer waits for room in the socket's send buffer; the worker then also
    /// listens for the socket becoming writable.
    write_blocked: Cell<bool>,
    /// Whether a read may find data. A read that returns less than it asked for has emptied
    /// the socket, and any data arriving after it raises a readiness event (which sets this
    /// again), so until then a read would only fail with "would block": hyper is told "not
    /// ready" without the system call, which saves one per request.
    readable: Cell<bool>,
    /// Bytes hyper has written and the worker has not yet sent. The worker sends every
    /// connection's after polling those that are ready (see [`Socket::flush`]), so that a busy
    /// worker first answers everything that is ready and only then wakes the clients waiting
    /// for those answers, instead of being preempted by a woken client after every answer.
    out: RefCell<Vec<u8>>,
    /// Set when the last poll left the connection waiting for `out` to be sent (hyper's writes
    /// past [`OUT_LIMIT`], its shutdown, or the last output while closing); the worker polls
    /// the connection again once `out` is all sent, and not before: while the socket is full
    /// it waits for the socket to become writable.
    stalled: Cell<bool>,
}

/// Past this many unsent bytes a connection's writes wait for the worker to send them, which
/// keeps a large answer (the Oversized fault, a download) from growing memory.
const OUT_LIMIT: usize = 64 * 1024;

/// An output buffer larger than this is given back once empty.
const OUT_KEEP: usize = 16 * 1024;

impl Socket {
    /// Sends what hyper has written; `Ok(true)` once all of it is out, `Ok(false)` when the
    /// socket's buffer is full (the worker then waits for it to become writable).
    pub(super) fn flush(&self) -> io::Result<bool> {
        let mut out = self.out.borrow_mut();
        let mut sent = 0;
        let result = loop {
            let Some(rest) = out.get(sent..).filter(|r| !r.is_empty()) else {
                break Ok(true);
            };
            match (&self.stream).write(rest) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    sent += n;
                    self.last_progress.set(Instant::now());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // A client that stops reading gets the request timeout from the moment the
                    // answer stalled, as a blocking write with that timeout would give it.
                    if !self.write_blocked.replace(true) {
                        self.last_progress.set(Instant::now());
                    }
                    break Ok(false);
                }
                Err(e) => break Err(e),
            }
        };
        out.drain(..sent);
        if matches!(result, Ok(true)) {
            self.write_blocked.set(false);
            // A large answer's buffer is not kept for the small ones that follow.
            if out.capacity() > OUT_KEEP {
                *out = Vec::new();
            }
        }
        result
    }

    pub(super) fn has_output(&self) -> bool {
        !self.out.borrow().is_empty()
    }

    /// Whether the connection waits for its output to be sent. The mark stays until the
    /// connection is polled again.
    pub(super) fn stalled(&self) -> bool {
        self.stalled.get()
    }
}

/// hyper's view of the socket. Nothing here blocks: a read that would block tells hyper "not
/// ready" (the worker polls the connection again when data arrives), and writes go to the
/// connection's output, which the worker sends (see [`Socket::out`]).
pub(super) struct Io {
    socket: Rc<Socket>,
    /// The worker's read buffer, shared by its connections since a read is copied into hyper's
    /// own buffer at once.
    scratch: Rc<RefCell<Box<[u8]>>>,
}

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.socket.readable.get() {
            return Poll::Pending;
        }
        let mut scratch = self.scratch.borrow_mut();
        let want = buf.remaining().min(scratch.len());
        // `want` is at most the scratch buffer's length, so this takes all of `want`.
        let (scratch, _) = scratch.split_at_mut(want);
        loop {
            match (&self.socket.stream).read(scratch) {
                Ok(n) => {
                    if n > 0 && n < want {
                        self.socket.readable.set(false);
                    }
                    buf.put_slice(scratch.get(..n).unwrap_or_default());
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Readiness is edge-triggered: a read that would block is exactly what makes
                // the next arrival of data wake the worker for this connection.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.socket.readable.set(false);
                    return Poll::Pending;
                }
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
        // The worker sends the output and polls the connection again once it has (at once if
        // the socket took all of it, else when the socket becomes writable). Waiting here, in
        // place of sending, also bounds what one poll writes, so that an answer streamed to a
        // fast reader leaves the worker to its other connections between slices.
        if socket.out.borrow().len() >= OUT_LIMIT {
            socket.stalled.set(true);
            return Poll::Pending;
        }
        socket.out.borrow_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The worker sends the output at the end of its round; nothing waits on it before.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The last answer goes out before the write side closes.
        if !self.socket.flush()? {
            self.socket.stalled.set(true);
            return Poll::Pending;
        }
        // A peer that already went away makes this fail; there is nothing left to do either way.
        let _ = self.socket.stream.shutdown(Shutdown::Write);
        Poll::Ready(Ok(()))
    }
}

/// What a connection is doing.
enum Phase {
    /// hyper is serving requests on it.
    Serving(Pin<Box<http1::Connection<Io, Service>>>),
    /// hyper is done; the rest of the output is being sent.
    Closing,
    /// The last answer is out; what the client still sends is read and dropped until this
    /// instant, end of file or an error, whichever comes first.
    Lingering(Instant),
}

/// Whether a connection goes on after being polled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Next {
    Keep,
    Close,
}

/// One connection of a worker.
pub(super) struct Conn {
    socket: Rc<Socket>,
    phase: Phase,
    /// Wakes the worker for this connection; hyper and timers are handed it.
    waker: Waker,
    /// Whether the last poll left the answer waiting on a timer (see [`timer::Sleep`]): the
    /// request has arrived, so the request timeout does not run meanwhile.
    asleep: bool,
    /// A readiness event that came while the answer was asleep, held back until the answer is
    /// out. Otherwise hyper would read meanwhile, and a client that hung up (a client timeout,
    /// say) would make it drop the answer half done: the action run but never logged, the
    /// delay after it never spent. A thread sleeping through the delay never read either.
    held_event: bool,
    /// Whether the stop has been passed on to hyper.
    stopping: bool,
    /// The interest registered with the worker's poller.
    interest: Interest,
    /// The connection's share of the bound, given back when it is dropped.
    _slot: Slot,
}

impl Conn {
    pub(super) fn new(
        stream: TcpStream,
        service: Service,
        scratch: Rc<RefCell<Box<[u8]>>>,
        waker: Waker,
        slot: Slot,
    ) -> Conn {
        let socket = Rc::new(Socket {
            stream,
            last_progress: Cell::new(Instant::now()),
            write_blocked: Cell::new(false),
            readable: Cell::new(true),
            out: RefCell::new(Vec::new()),
            stalled: Cell::new(false),
        });
        let io = Io {
            socket: Rc::clone(&socket),
            scratch,
        };
        let mut http = http1::Builder::new();
        // The Date header carries the emulator's own (possibly skewed) clock, so hyper's is off.
        http.max_header_size(MAX_HEADER_BYTES)
            .auto_date_header(false);
        Conn {
            socket,
            phase: Phase::Serving(Box::pin(http.serve_connection(io, service))),
            waker,
            asleep: false,
            held_event: false,
            stopping: false,
            interest: Interest::READABLE,
            _slot: slot,
        }
    }

    /// The interest the worker should have registered: writability too while an answer waits
    /// for room, which is rare, so that ordinary acknowledgements do not wake the worker.
    pub(super) fn wanted_interest(&self) -> Interest {
        if self.socket.write_blocked.get() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    pub(super) fn interest(&self) -> Interest {
        self.interest
    }

    pub(super) fn set_interest(&mut self, interest: Interest) {
        self.interest = interest;
    }

    pub(super) fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Notes a readiness event from the poller; `true` when the connection should be polled
    /// for it now.
    pub(super) fn ready(&mut self) -> bool {
        if self.asleep {
            self.held_event = true;
            return false;
        }
        self.socket.readable.set(true);
        true
    }

    /// Runs the connection as far as it can go without waiting.
    pub(super) fn poll(&mut self) -> Next {
        // Set again below if the connection still waits for its output.
        self.socket.stalled.set(false);
        match &mut self.phase {
            Phase::Serving(connection) => {
                let mut cx = Context::from_waker(&self.waker);
                let done = loop {
                    let _ = timer::take_asleep();
                    let done = connection.as_mut().poll(&mut cx).is_ready();
                    self.asleep = timer::take_asleep();
                    if done || self.asleep || !self.held_event {
                        break done;
                    }
                    // The answer is out: the event held back while it slept counts now.
                    self.held_event = false;
                    self.socket.readable.set(true);
                };
                if !done {
                    return Next::Keep;
                }
                self.asleep = false;
                self.phase = Phase::Closing;
                self.close_step()
            }
            Phase::Closing => self.close_step(),
            Phase::Lingering(_) => self.drain(),
        }
    }

    /// Sends what is left of the output (hyper ends some connections, a download cut on
    /// purpose say, without waiting for it), then closes the write side and lingers: however
    /// hyper ended (a closed keep-alive, an early 431), the client may still be sending, and
    /// the last answer must not be lost to a reset.
    fn close_step(&mut self) -> Next {
        match self.socket.flush() {
            Ok(true) => {
                let _ = self.socket.stream.shutdown(Shutdown::Write);
                self.phase = Phase::Lingering(Instant::now() + LINGER);
                self.drain()
            }
            Ok(false) => {
                // The worker polls again once the output is out.
                self.socket.stalled.set(true);
                Next::Keep
            }
            Err(_) => Next::Close,
        }
    }

    /// Reads and drops what a lingering client sends; `Close` at end of file or an error.
    fn drain(&mut self) -> Next {
        let mut sink = [0u8; 4096];
        loop {
            match (&self.socket.stream).read(&mut sink) {
                Ok(0) => return Next::Close,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Keep,
                Err(_) => return Next::Close,
            }
        }
    }

    /// When the connection is to be closed unless it makes progress first: the request timeout
    /// while it waits on its client, the end of lingering, or never while its answer waits on a
    /// timer (or when the timeout is too long to be added to the clock).
    pub(super) fn deadline(&self, request_timeout: Duration) -> Option<Instant> {
        match self.phase {
            Phase::Serving(_) if self.asleep => None,
            Phase::Serving(_) | Phase::Closing => {
                self.socket.last_progress.get().checked_add(request_timeout)
            }
            Phase::Lingering(until) => Some(until),
        }
    }

    /// Passes the server's stop on; `Close` when the connection should end at once. A
    /// connection waiting on its client ends now, as an idle one would under a blocking
    /// server; one whose answer waits on a timer or is being written (output not yet sent, or
    /// waiting for room) finishes that answer first (hyper then closes it, since keep-alive is
    /// off), still within the request timeout; one sending its last output or lingering goes on.
    pub(super) fn stop(&mut self) -> Next {
        match &mut self.phase {
            Phase::Serving(connection) => {
                if !self.stopping {
                    self.stopping = true;
                    connection.as_mut().graceful_shutdown();
                }
                let socket = &self.socket;
                let answering = self.asleep
                    || socket.has_output()
                    || socket.stalled.get()
                    || socket.write_blocked.get();
                if answering {
                    Next::Keep
                } else {
                    Next::Close
                }
            }
            Phase::Closing | Phase::Lingering(_) => Next::Keep,
        }
    }
}
