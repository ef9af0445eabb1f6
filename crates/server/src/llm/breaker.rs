//! A circuit breaker for the LLM provider: after a run of failed calls it
//! refuses calls for a cooldown, then lets a single trial call through.
//!
//! The clock is a parameter (`now`), so the states are tested without
//! sleeping; the client passes `tokio::time::Instant::now()`.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Calls flow; `failures` consecutive calls have failed.
    Closed { failures: u32 },
    /// Calls are refused until `until`; after it the next call is the trial.
    Open { until: Instant },
    /// The trial call is in flight; others are refused.
    HalfOpen,
}

/// Consecutive-failure circuit breaker, shared by all calls of a client.
#[derive(Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

/// Permission for one call. Report its outcome with [`Permit::success`],
/// [`Permit::failure`] or [`Permit::neutral`]; dropping it unreported (the
/// caller cancelled the call) counts as neutral, so a cancelled trial call
/// never leaves the breaker stuck half-open.
#[must_use]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    trial: bool,
    reported: bool,
}

impl Breaker {
    /// A closed breaker opening after `threshold` consecutive failures (0 is
    /// treated as 1) for `cooldown`.
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker { threshold: threshold.max(1), cooldown, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave `State` half-written: take it anyway.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks to make a call at `now`: `None` while open (or while a trial call
    /// is in flight).
    pub(crate) fn try_acquire(&self, now: Instant) -> Option<Permit<'_>> {
        let mut state = self.lock();
        let trial = match *state {
            State::Closed { .. } => false,
            State::Open { until } if now >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => return None,
        };
        Some(Permit { breaker: self, trial, reported: false })
    }

    /// True when calls are currently refused at `now`.
    #[cfg(test)]
    pub(crate) fn is_open(&self, now: Instant) -> bool {
        match *self.lock() {
            State::Closed { .. } => false,
            State::Open { until } => now < until,
            State::HalfOpen => true,
        }
    }
}

impl Permit<'_> {
    /// The call succeeded: close the breaker and reset the failure count.
    pub(crate) fn success(mut self) {
        self.reported = true;
        *self.breaker.lock() = State::Closed { failures: 0 };
    }

    /// The call failed in a way that counts (timeout, 5xx, transport,
    /// malformed) at `now`: a failed trial reopens the breaker; otherwise the
    /// count grows and reaching the threshold opens it.
    pub(crate) fn failure(mut self, now: Instant) {
        self.reported = true;
        let b = self.breaker;
        let mut state = b.lock();
        let open = State::Open { until: now + b.cooldown };
        *state = match *state {
            State::Closed { failures } if failures + 1 < b.threshold => State::Closed { failures: failures + 1 },
            State::Closed { .. } => open,
            // A trial failed, or a call admitted before the breaker opened
            // failed late: (re)open from now.
            State::HalfOpen | State::Open { .. } => open,
        };
    }

    /// The call ended in a way that says nothing about the provider's health
    /// (rate limited, 4xx, cancelled): no change, except that a trial slot is
    /// given back so the next call becomes the trial.
    pub(crate) fn neutral(mut self) {
        self.reported = true;
        self.release_trial();
    }

    fn release_trial(&self) {
        if self.trial {
            let mut state = self.breaker.lock();
            if *state == State::HalfOpen {
                *state = State::Open { until: Instant::now() };
            }
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.release_trial();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOL: Duration = Duration::from_secs(30);

    #[test]
    fn opens_after_threshold_and_half_opens_after_cooldown() {
        let b = Breaker::new(3, COOL);
        let t0 = Instant::now();
        for _ in 0..2 {
            b.try_acquire(t0).expect("closed").failure(t0);
        }
        assert!(!b.is_open(t0), "two failures keep it closed");
        b.try_acquire(t0).expect("closed").failure(t0);
        assert!(b.try_acquire(t0 + Duration::from_secs(29)).is_none(), "open during cooldown");

        let trial = b.try_acquire(t0 + COOL).expect("trial after cooldown");
        assert!(b.try_acquire(t0 + COOL).is_none(), "only one trial at a time");
        trial.success();
        assert!(b.try_acquire(t0 + COOL).is_some(), "closed again");
    }

    #[test]
    fn failed_trial_reopens_and_success_resets_count() {
        let b = Breaker::new(2, COOL);
        let t0 = Instant::now();
        b.try_acquire(t0).expect("closed").failure(t0);
        b.try_acquire(t0).expect("closed").success();
        b.try_acquire(t0).expect("closed").failure(t0);
        assert!(!b.is_open(t0), "success in between reset the count");
        b.try_acquire(t0).expect("closed").failure(t0);
        assert!(b.is_open(t0));

        let t1 = t0 + COOL;
        b.try_acquire(t1).expect("trial").failure(t1);
        assert!(b.try_acquire(t1 + Duration::from_secs(1)).is_none(), "reopened for a new cooldown");
        assert!(b.try_acquire(t1 + COOL).is_some());
    }

    #[test]
    fn dropped_trial_gives_the_slot_back() {
        let b = Breaker::new(1, Duration::ZERO);
        let t0 = Instant::now();
        b.try_acquire(t0).expect("closed").failure(t0);
        let trial = b.try_acquire(Instant::now()).expect("trial");
        drop(trial);
        assert!(b.try_acquire(Instant::now()).is_some(), "next call is the trial");
    }
}
