//! A worker: one thread serving many connections from one readiness loop.
//!
//! The worker owns a mio poller (epoll on Linux) on which its connections' sockets are
//! registered, edge-triggered. It polls a connection's hyper future when the socket becomes
//! ready, when something wakes the future (hyper itself, or the clock of [`super::timer`]), or
//! when the output it waited for has been sent, and closes a connection whose deadline passes.
//! Each turn of its loop polls what is ready for a few rounds at most, sends the output, and
//! goes back to the poller (without blocking while some connection is still to be polled), so
//! that a connection that is always ready (pipelining, or a long answer to a fast reader)
//! cannot keep the worker from its other connections. With nothing to do it blocks in the
//! poller until the earliest deadline. A few workers in place of a thread per connection means that under load
//! one wake-up serves every connection that became ready meanwhile, instead of costing a
//! context switch per request, and that the shared state's lock has a few contenders rather
//! than one per connection. mio only reports readiness; hyper still does all of HTTP.

use std::cell::RefCell;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Wake, Waker};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::conn::{Conn, Next};
use super::service::Service;
use super::{timer, Shared, Slot};
use crate::lock;
use crate::state::State;

/// The token of the worker's own waker; connections use their index in the table.
const WAKE: Token = Token(usize::MAX);

/// At most this many rounds of polling (see [`Worker::serve`]) before the output is sent and
/// the poller looked at again. A request usually takes two (the second for hyper's wake once
/// the body is in), so this keeps each turn's answers together while bounding how long a
/// connection that is always ready holds up the others.
const MAX_ROUNDS: usize = 4;

/// How long the worker waits before polling again when the poller itself fails, which only a
/// shortage of memory makes happen; retrying without a pause would only burn a core.
const POLL_BACKOFF: Duration = Duration::from_millis(50);

/// What other threads hand a worker, and how they wake it.
pub(super) struct Inbox {
    /// Connections the accept thread has handed over and the worker has not yet taken up.
    new: Mutex<New>,
    /// Set (under the lock of `new`) once the worker has ended, normally or by a panic; the
    /// accept thread then hands its connections to another worker.
    closed: AtomicBool,
    /// Connections whose futures were woken since the worker last looked.
    woken: Mutex<Vec<usize>>,
    /// Wakes the worker out of its poller.
    waker: mio::Waker,
    /// The worker's thread. A wake on it needs no system call: the worker is running, not
    /// blocked, and looks at `woken` before it blocks again.
    owner: OnceLock<ThreadId>,
    /// How many connections the worker holds, so that the accept thread can pick the least
    /// loaded worker.
    load: AtomicUsize,
}

/// The connections handed over and not yet taken up.
type New = Vec<(TcpStream, Slot)>;

impl Inbox {
    /// Gives the worker a new connection; gives it back if the worker has ended.
    pub(super) fn hand_over(&self, stream: TcpStream, slot: Slot) -> Result<(), (TcpStream, Slot)> {
        let mut new = lock(&self.new);
        if self.closed() {
            return Err((stream, slot));
        }
        self.load.fetch_add(1, Ordering::Relaxed);
        new.push((stream, slot));
        drop(new);
        self.wake();
        Ok(())
    }

    /// Whether the worker has ended and takes no more connections.
    pub(super) fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Marks the worker ended and drops the connections handed over that it never took up,
    /// which gives their slots back.
    fn close(&self) {
        let mut new = lock(&self.new);
        self.closed.store(true, Ordering::SeqCst);
        let orphans = std::mem::take(&mut *new);
        drop(new);
        self.load.fetch_sub(orphans.len(), Ordering::Relaxed);
        drop(orphans);
    }

    pub(super) fn load(&self) -> usize {
        self.load.load(Ordering::Relaxed)
    }

    /// Wakes the worker, to take up new connections or to see that the server is stopping.
    pub(super) fn wake(&self) {
        // Waking can only fail when the eventfd is full, in which case the worker is awake.
        let _ = self.waker.wake();
    }
}

/// Wakes the worker for one connection: hyper hands it out when a connection's future is
/// waiting on something other than the socket, and timers hold it.
struct ConnWaker {
    token: usize,
    inbox: Arc<Inbox>,
}

impl Wake for ConnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        lock(&self.inbox.woken).push(self.token);
        if self.inbox.owner.get() != Some(&std::thread::current().id()) {
            self.inbox.wake();
        }
    }
}

/// Creates a worker's poller and inbox; [`run`] then serves on them from the worker's thread.
pub(super) fn new() -> io::Result<(Poll, Arc<Inbox>)> {
    let poll = Poll::new()?;
    let waker = mio::Waker::new(poll.registry(), WAKE)?;
    let inbox = Arc::new(Inbox {
        new: Mutex::new(Vec::new()),
        closed: AtomicBool::new(false),
        woken: Mutex::new(Vec::new()),
        waker,
        owner: OnceLock::new(),
        load: AtomicUsize::new(0),
    });
    Ok((poll, inbox))
}

/// Closes the worker's inbox when its loop ends, however it ends: a panic outside a
/// connection's own polling must not leave the accept thread handing it connections.
struct Exit(Arc<Inbox>);

impl Drop for Exit {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The worker's loop; returns once the server is stopping and every connection has ended.
pub(super) fn run(poll: Poll, inbox: Arc<Inbox>, state: Arc<Mutex<State>>, shared: Arc<Shared>) {
    let _exit = Exit(Arc::clone(&inbox));
    timer::install();
    let _ = inbox.owner.set(std::thread::current().id());
    let mut worker = Worker {
        poll,
        inbox,
        service: Service(state),
        shared,
        conns: Vec::new(),
        free: Vec::new(),
        polled: Vec::new(),
        round: 0,
        unsent: Vec::new(),
        scratch: Rc::new(RefCell::new(vec![0; 16 * 1024].into_boxed_slice())),
    };
    let mut events = Events::with_capacity(256);
    let mut ready = Vec::new();
    loop {
        let stopping = worker.shared.stopping();
        if stopping {
            worker.stop();
            if worker.conns.iter().all(Option::is_none) {
                return;
            }
        }
        // With connections still to be polled the poller is only looked at, so that what
        // became ready meanwhile joins them; otherwise it waits until the earliest deadline.
        let timeout = if ready.is_empty() && lock(&worker.inbox.woken).is_empty() {
            worker.timeout(Instant::now())
        } else {
            Some(Duration::ZERO)
        };
        if let Err(e) = worker.poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                std::thread::sleep(POLL_BACKOFF);
            }
        }
        for event in &events {
            let token = event.token().0;
            if event.token() != WAKE && worker.note_ready(token) {
                ready.push(token);
            }
        }
        worker.take_new(&mut ready, stopping);
        worker.serve(&mut ready);
        worker.expire(Instant::now());
    }
}

struct Worker {
    poll: Poll,
    inbox: Arc<Inbox>,
    service: Service,
    shared: Arc<Shared>,
    /// The connections, indexed by their token; `None` marks a free entry.
    conns: Vec<Option<Conn>>,
    /// Free entries of `conns`, reused before the table grows.
    free: Vec<usize>,
    /// For each entry of `conns`, the round of [`Worker::serve`] that last polled it, so that
    /// a connection both ready and woken is polled once per round.
    polled: Vec<u64>,
    round: u64,
    /// Connections with output to send at the end of [`Worker::serve`].
    unsent: Vec<usize>,
    scratch: Rc<RefCell<Box<[u8]>>>,
}

impl Worker {
    /// Takes up the connections handed over, queueing each to be polled once (a request may
    /// already be waiting on it).
    fn take_new(&mut self, ready: &mut Vec<usize>, stopping: bool) {
        let new = std::mem::take(&mut *lock(&self.inbox.new));
        for (stream, slot) in new {
            if stopping {
                self.inbox.load.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            let token = self.free.pop().unwrap_or(self.conns.len());
            let waker = Waker::from(Arc::new(ConnWaker {
                token,
                inbox: Arc::clone(&self.inbox),
            }));
            let registered = self.poll.registry().register(
                &mut SourceFd(&stream.as_raw_fd()),
                Token(token),
                Interest::READABLE,
            );
            if registered.is_err() {
                // The client sees the connection close; the slot is given back.
                self.inbox.load.fetch_sub(1, Ordering::Relaxed);
                self.free.push(token);
                continue;
            }
            let conn = Conn::new(
                stream,
                self.service.clone(),
                Rc::clone(&self.scratch),
                waker,
                slot,
            );
            match self.conns.get_mut(token) {
                Some(entry) => *entry = Some(conn),
                None => {
                    self.conns.push(Some(conn));
                    self.polled.push(0);
                }
            }
            ready.push(token);
        }
    }

    /// Polls the connections in `ready`, then those their polling (or a timer) woke, for at
    /// most [`MAX_ROUNDS`] rounds, then sends the output. Connections left to poll (woken in
    /// the last round, or waiting for output that has now gone) are in `woken` or `ready` for
    /// the next turn, after the poller has been looked at.
    fn serve(&mut self, ready: &mut Vec<usize>) {
        for _ in 0..MAX_ROUNDS {
            ready.append(&mut lock(&self.inbox.woken));
            if ready.is_empty() {
                break;
            }
            // Connections are polled in the order they became ready, which keeps the service
            // fair; one both ready and woken is polled only once.
            self.round += 1;
            for token in ready.drain(..) {
                let Some(polled) = self.polled.get_mut(token) else {
                    continue;
                };
                if *polled != self.round {
                    *polled = self.round;
                    self.poll_conn(token);
                }
            }
        }
        // Everything ready has been answered: now the answers go out.
        self.flush(ready);
    }

    /// Notes that the poller reported the connection ready; `true` when it should be polled.
    fn note_ready(&mut self, token: usize) -> bool {
        self.conns
            .get_mut(token)
            .and_then(Option::as_mut)
            .is_some_and(Conn::ready)
    }

    fn poll_conn(&mut self, token: usize) {
        // A stale token (a connection closed since it was woken) finds nothing or a new
        // connection, which one extra poll does no harm.
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        // A bug that panics while serving one connection ends that connection only, as it did
        // when each connection had a thread of its own; the worker goes on with the others.
        let next =
            std::panic::catch_unwind(AssertUnwindSafe(|| conn.poll())).unwrap_or(Next::Close);
        if next == Next::Close {
            self.close(token);
            return;
        }
        if conn.socket().has_output() {
            self.unsent.push(token);
        }
        self.update_interest(token);
    }

    /// Sends the output of the connections polled since the last flush, queueing in `ready`
    /// those that waited for it and whose output is all out. One whose socket is full goes on
    /// waiting, for the socket to become writable (see [`Worker::update_interest`]): polling
    /// it before then would only find the socket full again.
    fn flush(&mut self, ready: &mut Vec<usize>) {
        let unsent = std::mem::take(&mut self.unsent);
        for &token in &unsent {
            let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
                continue;
            };
            match conn.socket().flush() {
                Ok(all_sent) => {
                    if all_sent && conn.socket().stalled() {
                        ready.push(token);
                    }
                    self.update_interest(token);
                }
                // The client is gone; hyper would have ended the connection on this error.
                Err(_) => self.close(token),
            }
        }
        self.unsent = unsent;
        self.unsent.clear();
    }

    /// Registers for writability too while an answer waits for room, and only then.
    fn update_interest(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        let wanted = conn.wanted_interest();
        if wanted != conn.interest() {
            let fd = conn.socket().stream.as_raw_fd();
            match self
                .poll
                .registry()
                .reregister(&mut SourceFd(&fd), Token(token), wanted)
            {
                Ok(()) => conn.set_interest(wanted),
                Err(_) => self.close(token),
            }
        }
    }

    fn close(&mut self, token: usize) {
        let Some(conn) = self.conns.get_mut(token).and_then(Option::take) else {
            return;
        };
        let fd = conn.socket().stream.as_raw_fd();
        // Closing the socket would remove it from the poller anyway; saying so first keeps
        // the poller's view exact. Failure leaves nothing to undo.
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        drop(conn);
        self.free.push(token);
        self.inbox.load.fetch_sub(1, Ordering::Relaxed);
    }

    /// Closes the connections whose deadline has passed.
    fn expire(&mut self, now: Instant) {
        let timeout = self.shared.limits.request_timeout;
        for token in 0..self.conns.len() {
            let due = self
                .conns
                .get(token)
                .and_then(Option::as_ref)
                .and_then(|c| c.deadline(timeout))
                .is_some_and(|d| d <= now);
            if due {
                self.close(token);
            }
        }
    }

    /// How long the poller may block: until the earliest connection deadline, or until woken
    /// when there is none (timers wake the worker themselves).
    fn timeout(&self, now: Instant) -> Option<Duration> {
        let timeout = self.shared.limits.request_timeout;
        self.conns
            .iter()
            .flatten()
            .filter_map(|c| c.deadline(timeout))
            .min()
            .map(|d| d.saturating_duration_since(now))
    }

    /// Passes the server's stop on to every connection, closing those that should end now.
    fn stop(&mut self) {
        for token in 0..self.conns.len() {
            let close = self
                .conns
                .get_mut(token)
                .and_then(Option::as_mut)
                .is_some_and(|c| c.stop() == Next::Close);
            if close {
                self.close(token);
            }
        }
    }
}
