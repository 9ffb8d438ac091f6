//! Timers for answers that take time on purpose (an injected delay, the fleet's service time).
//!
//! A worker serves many connections on one thread, so such an answer must not sleep: it awaits
//! a [`Sleep`], which files its deadline with the emulator's clock thread, and that thread wakes
//! the connection when the deadline has passed. Meanwhile the worker goes on serving its other
//! connections, which is how a slow answer holds up only its own connection. The clock waits
//! with the precision of a sleeping thread (microseconds), where the worker's poller counts
//! whole milliseconds: late timers would stretch every simulated service time.

use std::cell::Cell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A deadline and the future to wake at it.
struct Entry {
    at: Instant,
    /// Filing order, which keeps entries with the same deadline distinct.
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The deadlines filed, earliest first.
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

/// The clock thread's queue, shared by every emulator in the process: a deadline is all it
/// holds, so one thread serves them all.
static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    heap: BinaryHeap::new(),
    seq: 0,
});

/// Signalled when a deadline earlier than every other is filed.
static FILED: Condvar = Condvar::new();

/// Whether the clock thread is running; started with the first timer.
static CLOCK: OnceLock<bool> = OnceLock::new();

fn queue() -> MutexGuard<'static, Queue> {
    crate::lock(&QUEUE)
}

/// The clock thread: wakes each filed future at its deadline, for as long as the process runs.
fn clock() {
    loop {
        let mut due = Vec::new();
        let mut q = queue();
        loop {
            let now = Instant::now();
            while q.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(e)) = q.heap.pop() {
                    due.push(e.waker);
                }
            }
            if !due.is_empty() {
                break;
            }
            q = match q
                .heap
                .peek()
                .map(|Reverse(e)| e.at.saturating_duration_since(now))
            {
                Some(left) => FILED
                    .wait_timeout(q, left)
                    .map_or_else(|e| e.into_inner().0, |r| r.0),
                None => FILED.wait(q).unwrap_or_else(|e| e.into_inner()),
            };
        }
        drop(q);
        // Woken outside the lock: a wake queues the connection with its worker.
        for waker in due {
            waker.wake();
        }
    }
}

/// Files `waker` to be woken at `at`; `false` when there is no clock thread to do it.
fn file(at: Instant, waker: Waker) -> bool {
    let running = *CLOCK.get_or_init(|| {
        std::thread::Builder::new()
            .name("rkvstore-emulator-clock".into())
            .spawn(clock)
            .is_ok()
    });
    if !running {
        return false;
    }
    let mut q = queue();
    q.seq += 1;
    let seq = q.seq;
    let earliest = q.heap.peek().is_none_or(|Reverse(e)| at < e.at);
    q.heap.push(Reverse(Entry { at, seq, waker }));
    drop(q);
    if earliest {
        FILED.notify_one();
    }
    true
}

thread_local! {
    /// Whether this thread is a worker, which must not block in a [`Sleep`].
    static WORKER: Cell<bool> = const { Cell::new(false) };
    /// Set when a [`Sleep`] is left pending, so that the worker knows the connection it just
    /// polled is waiting on a timer rather than on its client.
    static ASLEEP: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as a worker's: from now on [`Sleep`]s polled on it wait for the clock.
pub(super) fn install() {
    WORKER.with(|w| w.set(true));
}

/// Whether a [`Sleep`] was left pending since the last call, clearing the mark.
pub(super) fn take_asleep() -> bool {
    ASLEEP.with(|a| a.replace(false))
}

/// A future that is ready `d` from now; never, if `d` is too long to be added to the clock.
pub(super) fn sleep(d: Duration) -> Sleep {
    Sleep {
        until: Instant::now().checked_add(d),
        filed: false,
    }
}

/// See [`sleep`].
pub(super) struct Sleep {
    /// `None`: never.
    until: Option<Instant>,
    /// Whether the deadline has been filed with the clock; once is enough, since a
    /// connection's futures are always polled with the same waker.
    filed: bool,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(until) = self.until else {
            // Nothing will wake it, and nothing needs to: it stays pending, asleep.
            ASLEEP.with(|a| a.set(true));
            return Poll::Pending;
        };
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Poll::Ready(());
        }
        if !self.filed {
            self.filed = WORKER.with(Cell::get) && file(until, cx.waker().clone());
            if !self.filed {
                // Off a worker, or with no clock thread, the wait happens here.
                std::thread::sleep(left);
                return Poll::Ready(());
            }
        }
        ASLEEP.with(|a| a.set(true));
        Poll::Pending
    }
}
