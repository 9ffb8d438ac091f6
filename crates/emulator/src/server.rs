//! The HTTP side: hyper parses and writes HTTP/1.1, driven without an async runtime.
//!
//! One thread accepts connections, up to a bound (more wait in the listen queue), and hands
//! each to one of a few workers ([`worker`]). A worker serves all its connections from one
//! readiness loop: mio (an event-notification library, not a runtime) says which sockets are
//! ready, and the worker polls those connections' hyper futures with non-blocking sockets
//! ([`conn`]). hyper does every part of the protocol: it answers 431 to headers past
//! [`MAX_HEADER_BYTES`], 400 to a malformed request such as a bad `Content-Length`, and keeps
//! connections alive. What the emulator answers is in [`service`].
//!
//! - An answer that takes time on purpose (an injected delay, the fleet's service time)
//!   awaits a timer ([`timer`]) instead of sleeping, so that it holds up only its own
//!   connection, never the worker's others.
//! - A worker answers every request that is ready before it sends the answers, so that under
//!   load it is not preempted by a woken client after each one; but after a few rounds of
//!   polling it sends what it has and looks at its poller again, so that a connection that is
//!   always ready (pipelining, a long answer to a fast reader) cannot starve the others.
//! - An answer waits for the worker to send it once 64 KiB of it are unsent; while the
//!   client's socket is full the connection waits for it to become writable, so a client that
//!   stops reading holds up only itself.
//! - Each request must arrive within the request timeout of the connection opening or of the
//!   previous answer, which bounds idle connections and requests sent a byte at a time; a
//!   client that stops reading an answer is closed once the answer has made no progress for
//!   the same timeout. A timeout or delay too long to be added to the clock means never.
//! - After its last answer a connection lingers, reading and dropping what the client still
//!   sends, so that an early answer is not lost to a reset.
//! - `accept` errors (running out of file descriptors above all) are waited out, never fatal.
//! - Stopping ends idle connections at once and lets answers already under way finish:
//!   those waiting on a timer, and those being written (bounded by the request timeout if the
//!   client stops reading).
//! - A worker that ends, by stopping or by a bug outside a connection's polling, closes its
//!   inbox: the accept thread then hands connections to the other workers.

mod conn;
mod service;
mod timer;
mod worker;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::state::State;
use crate::Error;

/// The request line and headers together may not exceed this; hyper answers 431 past it. A
/// signed RPC request carries every parameter in its query, so this leaves ample room for the
/// longest real one while keeping a hostile header from growing memory.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long the accept loop waits after `accept` fails before trying again. Running out of
/// file descriptors makes every `accept` fail at once until some connection closes, so retrying
/// without a pause would only burn a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How often the accept thread, waiting for a free slot, looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(200);

/// At most this many workers by default, however many cores there are: each serves many
/// connections, and the emulator's work per request is small next to the clients' in any test
/// or benchmark.
const DEFAULT_MAX_WORKERS: usize = 4;

/// Limits that protect the emulator from a client that misbehaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// At most this many connections are served at once; more wait in the listen queue.
    pub(crate) max_connections: usize,
    /// A request must arrive whole within this long of the connection opening or of the previous
    /// answer on it; a connection that idles or trickles longer is closed.
    pub(crate) request_timeout: Duration,
}

/// What the accept thread and the workers share with the [`Handle`].
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
        crate::lock(&self.active)
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
    workers: Vec<Arc<worker::Inbox>>,
}

impl Handle {
    /// Stops accepting, ends idle connections, and waits for the accept thread. Workers are not
    /// waited for: they end by themselves once the answers under way are out.
    pub(crate) fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.freed.notify_all();
        for inbox in &self.workers {
            inbox.wake();
        }
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

/// How many workers to run by default: one per core, up to [`DEFAULT_MAX_WORKERS`].
fn default_worker_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .clamp(1, DEFAULT_MAX_WORKERS)
}

/// A thread of the server could not start: the workers already running are told to stop, and
/// end once they see it.
fn abandon(shared: &Shared, workers: &[Arc<worker::Inbox>]) {
    shared.stop.store(true, Ordering::SeqCst);
    for inbox in workers {
        inbox.wake();
    }
}

pub(crate) fn spawn(
    listener: Listener,
    state: Arc<Mutex<State>>,
    limits: Limits,
    workers: Option<usize>,
) -> Result<Handle, Error> {
    let local = listener.local;
    let start_error = |what: &str, e: std::io::Error| Error::Bind {
        addr: local.to_string(),
        reason: format!("cannot start the server's {what}: {e}"),
    };
    let shared = Arc::new(Shared {
        limits,
        stop: AtomicBool::new(false),
        active: Mutex::new(0),
        freed: Condvar::new(),
    });
    let count = workers.unwrap_or_else(default_worker_count).max(1);
    let mut workers: Vec<Arc<worker::Inbox>> = Vec::new();
    for _ in 0..count {
        let (poll, inbox) = worker::new().map_err(|e| start_error("poller", e))?;
        let (worker_inbox, worker_state, worker_shared) =
            (Arc::clone(&inbox), Arc::clone(&state), Arc::clone(&shared));
        std::thread::Builder::new()
            .name("rkvstore-emulator-worker".into())
            .spawn(move || worker::run(poll, worker_inbox, worker_state, worker_shared))
            .map_err(|e| {
                abandon(&shared, &workers);
                start_error("threads", e)
            })?;
        workers.push(inbox);
    }
    let accept_shared = Arc::clone(&shared);
    let accept_workers = workers.clone();
    let thread = std::thread::Builder::new()
        .name("rkvstore-emulator-accept".into())
        .spawn(move || accept_loop(&listener.listener, &accept_shared, &accept_workers))
        .map_err(|e| {
            abandon(&shared, &workers);
            start_error("threads", e)
        })?;
    Ok(Handle {
        shared,
        local,
        thread: Some(thread),
        workers,
    })
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, workers: &[Arc<worker::Inbox>]) {
    // Taking a slot before accepting keeps the number of open sockets bounded; connections
    // past the bound wait in the kernel's listen queue until one ends.
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
        // Workers read and write without blocking; a socket that cannot be switched over is
        // dropped, which the client sees as the connection closing.
        if stream.set_nonblocking(true).is_err() {
            continue;
        }
        // Answers go out as soon as they are written, not held back to be coalesced.
        let _ = stream.set_nodelay(true);
        // The least loaded worker takes it; one that has ended (stopping, or a bug) gives it
        // back and the next is tried. With none left the connection is dropped.
        let mut handed = (stream, slot);
        while let Some(inbox) = workers
            .iter()
            .filter(|w| !w.closed())
            .min_by_key(|w| w.load())
        {
            match inbox.hand_over(handed.0, handed.1) {
                Ok(()) => break,
                Err(back) => handed = back,
            }
        }
    }
}
