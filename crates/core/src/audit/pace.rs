//! How many requests an audit keeps in flight: additive increase, multiplicative decrease on
//! throttling, and a pause for as long as the service asks (`x-acs-retry-after`).
//!
//! The service throttles per account, so an audit that keeps sending at full speed after a
//! `Throttling.*` answer only collects more of them, and a fixed backoff per request leaves
//! the others to collide. The pace halves the number in flight at once when throttled, holds
//! every new request back until the pause is over, and then grows by about one request per
//! round of answers, back up to the limit the caller chose.
//!
//! Time is an input (a `Duration` since any fixed origin), so the rules are deterministic:
//!
//! ```
//! use std::time::Duration;
//! use rkvstore_core::audit::{Admit, Outcome, Pace};
//!
//! let ms = Duration::from_millis;
//! let mut pace = Pace::new(8);
//! let tickets: Vec<_> = (0..8)
//!     .map(|_| match pace.admit(ms(0)) { Admit::Go(t) => t, other => panic!("{other:?}") })
//!     .collect();
//! assert_eq!(pace.admit(ms(0)), Admit::WaitForSlot);
//! // Two answers say "throttled, retry after 300 ms": the limit halves once, not twice,
//! // since both requests were sent before the first answer.
//! let mut t = tickets.into_iter();
//! pace.done(t.next().unwrap(), ms(10), Outcome::Throttled { retry_after: Some(ms(300)) });
//! pace.done(t.next().unwrap(), ms(11), Outcome::Throttled { retry_after: Some(ms(300)) });
//! assert_eq!(pace.limit(), 4);
//! assert_eq!(pace.admit(ms(20)), Admit::WaitUntil(ms(311)));
//! for ticket in t {
//!     pace.done(ticket, ms(30), Outcome::Success);
//! }
//! assert!(matches!(pace.admit(ms(311)), Admit::Go(_)));
//! assert_eq!(pace.throttled(), 2);
//! ```

use std::time::Duration;

/// The pause after a throttling answer that names none.
pub const DEFAULT_PAUSE: Duration = Duration::from_millis(500);

/// The longest pause honoured, whatever the service asks for.
pub const MAX_PAUSE: Duration = Duration::from_secs(20);

/// Whether a request may start now.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    /// Send it; hand the ticket back to [`Pace::done`] with the outcome.
    Go(Ticket),
    /// Everything is paused until this time (the same origin as `now`).
    WaitUntil(Duration),
    /// As many are in flight as allowed: wait for one to finish.
    WaitForSlot,
}

/// A request in flight, from [`Pace::admit`] to [`Pace::done`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "hand the ticket back to Pace::done, or the slot stays taken"]
pub struct Ticket {
    epoch: u64,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was answered (with success or with any error other than throttling).
    Success,
    /// It was throttled, with the service's `x-acs-retry-after`, if any.
    Throttled {
        /// How long the service asked to wait.
        retry_after: Option<Duration>,
    },
    /// It failed without an answer (a network error): no sign of the service's load.
    Failed,
}

/// The state: the limit, what is in flight, and any pause.
#[derive(Clone, Debug)]
pub struct Pace {
    max: u32,
    limit: f64,
    in_flight: u32,
    peak: u32,
    resume_at: Duration,
    /// Counts decreases; a throttled request sent before the latest decrease does not cause
    /// another, since its answer says nothing about the new, lower rate.
    epoch: u64,
    throttled: u64,
}

impl Pace {
    /// At most `max` in flight (at least 1), starting there.
    pub fn new(max: u32) -> Self {
        let max = max.max(1);
        Pace {
            max,
            limit: f64::from(max),
            in_flight: 0,
            peak: 0,
            resume_at: Duration::ZERO,
            epoch: 0,
            throttled: 0,
        }
    }

    /// Whether a request may start at `now`.
    pub fn admit(&mut self, now: Duration) -> Admit {
        if now < self.resume_at {
            return Admit::WaitUntil(self.resume_at);
        }
        if self.in_flight >= self.limit() {
            return Admit::WaitForSlot;
        }
        self.in_flight += 1;
        self.peak = self.peak.max(self.in_flight);
        Admit::Go(Ticket { epoch: self.epoch })
    }

    /// A request admitted earlier ended at `now` with `outcome`.
    pub fn done(&mut self, ticket: Ticket, now: Duration, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Success => {
                // About one more in flight per round of answers at the current limit.
                self.limit = (self.limit + 1.0 / self.limit).min(f64::from(self.max));
            }
            Outcome::Throttled { retry_after } => {
                self.throttled = self.throttled.saturating_add(1);
                let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
                self.resume_at = self.resume_at.max(now.saturating_add(pause));
                if ticket.epoch == self.epoch {
                    self.limit = (self.limit / 2.0).max(1.0);
                    self.epoch += 1;
                }
            }
            Outcome::Failed => {}
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> u32 {
        // The limit is kept between 1 and `max`, so the conversion is exact enough.
        (self.limit.floor() as u32).clamp(1, self.max)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The most that were ever in flight at once.
    pub fn peak(&self) -> u32 {
        self.peak
    }

    /// Throttled answers so far.
    pub fn throttled(&self) -> u64 {
        self.throttled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(pace: &mut Pace, now: Duration) -> Ticket {
        match pace.admit(now) {
            Admit::Go(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recovers_to_the_maximum_after_throttling() {
        let mut pace = Pace::new(8);
        let t = go(&mut pace, Duration::ZERO);
        pace.done(t, Duration::ZERO, Outcome::Throttled { retry_after: None });
        assert_eq!(pace.limit(), 4);
        assert_eq!(pace.admit(Duration::ZERO), Admit::WaitUntil(DEFAULT_PAUSE));
        let mut now = DEFAULT_PAUSE;
        for _ in 0..100 {
            let t = go(&mut pace, now);
            now += Duration::from_millis(1);
            pace.done(t, now, Outcome::Success);
        }
        assert_eq!(pace.limit(), 8);
        assert_eq!(pace.peak(), 1);
    }

    #[test]
    fn never_below_one_and_pauses_are_capped() {
        let mut pace = Pace::new(0);
        assert_eq!(pace.limit(), 1);
        for i in 0..10 {
            let now = Duration::from_secs(100 * i);
            let t = go(&mut pace, now);
            pace.done(
                t,
                now,
                Outcome::Throttled {
                    retry_after: Some(Duration::from_secs(3600)),
                },
            );
            assert_eq!(pace.admit(now), Admit::WaitUntil(now + MAX_PAUSE));
        }
        assert_eq!(pace.limit(), 1);
        // A network failure changes neither the limit nor the pause.
        let now = Duration::from_secs(5000);
        let t = go(&mut pace, now);
        pace.done(t, now, Outcome::Failed);
        assert_eq!(pace.in_flight(), 0);
        assert!(matches!(pace.admit(now), Admit::Go(_)));
    }
}
