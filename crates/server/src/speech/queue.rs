//! The recognition queue: local speech recognition shares the machine's
//! cores between calls.
//!
//! At most [`RecognitionQueue::max_parallel`] decodes run at once
//! (`STT_MAX_PARALLEL`; by default one per two cores, so each decode gets
//! two threads). Decodes that find every slot taken wait; a freed slot goes
//! to the next *call* in turn, not the next decode: the calls with waiting
//! decodes are served round-robin, each call's own decodes in order. A call
//! with two decodes queued (a speculation and its turn) therefore never
//! holds back another call's only one.
//!
//! The queue also measures how long decodes wait for a slot. When that wait
//! passes `STT_BUSY_WAIT_MS` (default 500 ms) the machine is at its
//! recognition capacity: [`RecognitionQueue::saturated`] tells the
//! telephony webhooks to give new calls the busy answer, so the calls in
//! progress keep their reply time instead of everyone getting slow.
//!
//! Waits only show once calls collide, so admission also counts calls:
//! [`RecognitionQueue::max_calls`] (`STT_MAX_CALLS`, by default one call per
//! decoding slot) is how many calls are let in at once. Measured with the
//! real base model on 2 cores (`load_calls --real-speech`, a turn every
//! ~10 s): one call alone answered at p95 1.3 s, two sharing one slot at
//! p95 4.4 s, when their turns ended together and one waited for the
//! other's decode and its retry on the full window. Since loops are cut
//! without that retry (see `whisper`), the same machine held 4 calls at p95
//! 1.4 s; the default stays one call per slot because a slower machine of
//! the same kind was not measured again (README, capacity).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Environment variable: most decodes running at once.
pub const MAX_PARALLEL_ENV: &str = "STT_MAX_PARALLEL";

/// Environment variable: the wait for a decode slot, in ms, above which new
/// calls are turned away.
pub const BUSY_WAIT_ENV: &str = "STT_BUSY_WAIT_MS";

/// Environment variable: most calls in progress with local recognition.
pub const MAX_CALLS_ENV: &str = "STT_MAX_CALLS";

/// Default of [`BUSY_WAIT_ENV`], in ms: a reply p95 of 1.5 s leaves about
/// this much for waiting once the decode, the endpointing silence and the
/// first synthesised audio are paid.
pub const DEFAULT_BUSY_WAIT_MS: u64 = 500;

/// Weight of a new wait in the running average.
const NEW_WEIGHT: f64 = 0.2;

/// A running average older than this no longer describes the load, in ms.
const STALE_AFTER_MS: u128 = 15_000;

/// Which call a decode belongs to, for fairness.
pub type CallKey = u64;

/// Keys handed to decodes that name no call (each is a call of its own).
/// Starts high so they never meet keys the voice sessions number from 1.
static ANONYMOUS: AtomicU64 = AtomicU64::new(1 << 62);

/// A key for a decode that belongs to no call.
pub fn anonymous_key() -> CallKey {
    ANONYMOUS.fetch_add(1, Ordering::Relaxed)
}

/// Bounded, fair access to the decoding slots; cheap to clone (one queue).
#[derive(Clone)]
pub struct RecognitionQueue {
    inner: Arc<Inner>,
}

struct Inner {
    max_parallel: usize,
    max_calls: usize,
    busy_wait_ms: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    running: usize,
    /// Calls with waiting decodes, in the order they are served.
    ring: VecDeque<CallKey>,
    /// Each call's waiting decodes, oldest first.
    waiters: HashMap<CallKey, VecDeque<Waiter>>,
    /// Running average of the wait for a slot, in ms.
    wait_ms: f64,
    /// When the last wait was recorded.
    last_wait: Option<Instant>,
}

struct Waiter {
    grant: oneshot::Sender<Ticket>,
    since: Instant,
}

/// A decoding slot; dropping it hands the slot to the next call in turn.
pub struct Ticket {
    inner: Option<Arc<Inner>>,
    /// How long the decode waited for it.
    pub waited: Duration,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("waited", &self.waited).finish_non_exhaustive()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.release();
        }
    }
}

/// A snapshot of the queue, for logs, metrics and the load tool.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueStats {
    /// Decodes running.
    pub running: usize,
    /// Decodes waiting for a slot.
    pub waiting: usize,
    /// Running average of the wait for a slot, in ms.
    pub mean_wait_ms: f64,
}

impl RecognitionQueue {
    /// A queue of `max_parallel` slots (at least 1) that reports saturation
    /// past `busy_wait_ms` of waiting and admits one call per slot.
    pub fn new(max_parallel: usize, busy_wait_ms: u64) -> Self {
        Self::with_limits(max_parallel, max_parallel, busy_wait_ms)
    }

    /// A queue of `max_parallel` slots admitting `max_calls` calls (each at least 1).
    fn with_limits(max_parallel: usize, max_calls: usize, busy_wait_ms: u64) -> Self {
        let inner =
            Inner { max_parallel: max_parallel.max(1), max_calls: max_calls.max(1), busy_wait_ms, state: Mutex::new(State::default()) };
        RecognitionQueue { inner: Arc::new(inner) }
    }

    /// One slot per two cores (at least one), or `STT_MAX_PARALLEL`; one
    /// call per slot, or `STT_MAX_CALLS`; the busy wait from
    /// `STT_BUSY_WAIT_MS`. Unparsable values are ignored with a warning.
    pub fn from_env(cores: usize) -> Self {
        Self::from_lookup(cores, |name| std::env::var(name).ok())
    }

    /// As [`RecognitionQueue::from_env`], reading variables through `get`.
    pub fn from_lookup(cores: usize, get: impl Fn(&str) -> Option<String>) -> Self {
        fn read(get: &impl Fn(&str) -> Option<String>, name: &str, default: u64) -> u64 {
            match get(name).map(|raw| (raw.trim().parse::<u64>(), raw)) {
                Some((Ok(v), _)) if v > 0 => v,
                Some((_, raw)) => {
                    tracing::warn!(variable = name, value = %raw, "ignoring a setting that is not a positive whole number");
                    default
                }
                None => default,
            }
        }
        let parallel = read(&get, MAX_PARALLEL_ENV, (cores / 2).max(1) as u64);
        let busy = read(&get, BUSY_WAIT_ENV, DEFAULT_BUSY_WAIT_MS);
        let calls = read(&get, MAX_CALLS_ENV, parallel);
        Self::with_limits(usize::try_from(parallel).unwrap_or(1), usize::try_from(calls).unwrap_or(1), busy)
    }

    /// Most decodes running at once.
    pub fn max_parallel(&self) -> usize {
        self.inner.max_parallel
    }

    /// Most calls let in at once (see the module documentation).
    pub fn max_calls(&self) -> usize {
        self.inner.max_calls
    }

    /// Waits for a decoding slot for `call`'s decode. Dropping the future
    /// while it waits gives up its place (and any slot granted meanwhile).
    pub async fn acquire(&self, call: CallKey) -> Ticket {
        let since = Instant::now();
        let rx = {
            let mut state = self.inner.lock();
            if state.running < self.inner.max_parallel && state.ring.is_empty() {
                state.running += 1;
                state.record_wait(Duration::ZERO);
                return Ticket { inner: Some(Arc::clone(&self.inner)), waited: Duration::ZERO };
            }
            let (grant, rx) = oneshot::channel();
            let waiting = state.waiters.entry(call).or_default();
            let first = waiting.is_empty();
            waiting.push_back(Waiter { grant, since });
            if first {
                state.ring.push_back(call);
            }
            rx
        };
        match rx.await {
            Ok(ticket) => ticket,
            // Unreachable while the queue lives (a waiter is only dropped
            // when its receiver is gone); run unqueued rather than never.
            Err(_) => {
                self.inner.lock().running += 1;
                Ticket { inner: Some(Arc::clone(&self.inner)), waited: since.elapsed() }
            }
        }
    }

    /// Whether the machine is at its recognition capacity: the average wait
    /// for a slot, or the wait of the oldest decode still queued, is past
    /// the busy wait.
    pub fn saturated(&self) -> bool {
        let state = self.inner.lock();
        let busy = self.inner.busy_wait_ms as f64;
        let oldest = state.waiters.values().filter_map(|q| q.front()).map(|w| w.since.elapsed().as_millis()).max().unwrap_or(0);
        state.current_wait_ms() > busy || oldest as f64 > busy
    }

    /// Decodes running and waiting, and the average wait.
    pub fn stats(&self) -> QueueStats {
        let state = self.inner.lock();
        QueueStats {
            running: state.running,
            waiting: state.waiters.values().map(VecDeque::len).sum(),
            mean_wait_ms: state.current_wait_ms(),
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot came free: it goes to the next call in turn whose decode is
    /// still waiting, or back to the pool.
    fn release(self: Arc<Self>) {
        loop {
            let next = {
                let mut state = self.lock();
                match state.next_waiter() {
                    Some(waiter) => {
                        let waited = waiter.since.elapsed();
                        state.record_wait(waited);
                        Some((waiter, waited))
                    }
                    None => {
                        state.running = state.running.saturating_sub(1);
                        None
                    }
                }
            };
            let Some((waiter, waited)) = next else { return };
            let ticket = Ticket { inner: Some(Arc::clone(&self)), waited };
            match waiter.grant.send(ticket) {
                Ok(()) => return,
                // The decode gave up waiting: the slot is still ours to
                // hand on (disarmed so it does not release twice).
                Err(mut ticket) => ticket.inner = None,
            }
        }
    }
}

impl State {
    /// The first waiting decode of the call whose turn it is; that call
    /// goes to the back of the ring if it has more.
    fn next_waiter(&mut self) -> Option<Waiter> {
        while let Some(call) = self.ring.pop_front() {
            let Some(queue) = self.waiters.get_mut(&call) else { continue };
            let waiter = queue.pop_front();
            if queue.is_empty() {
                self.waiters.remove(&call);
            } else {
                self.ring.push_back(call);
            }
            if let Some(waiter) = waiter {
                return Some(waiter);
            }
        }
        None
    }

    fn record_wait(&mut self, waited: Duration) {
        let ms = waited.as_secs_f64() * 1000.0;
        let fresh = self.last_wait.is_some_and(|at| at.elapsed().as_millis() < STALE_AFTER_MS);
        self.wait_ms = if fresh { self.wait_ms * (1.0 - NEW_WEIGHT) + ms * NEW_WEIGHT } else { ms };
        self.last_wait = Some(Instant::now());
    }

    fn current_wait_ms(&self) -> f64 {
        match self.last_wait {
            Some(at) if at.elapsed().as_millis() < STALE_AFTER_MS => self.wait_ms,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets spawned tasks run until they block.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn slots_are_bounded_and_handed_on() {
        let queue = RecognitionQueue::new(2, 500);
        let a = queue.acquire(1).await;
        let b = queue.acquire(2).await;
        assert_eq!(queue.stats().running, 2);
        let q = queue.clone();
        let third = tokio::spawn(async move { q.acquire(3).await });
        settle().await;
        assert!(!third.is_finished(), "a third decode ran past the bound");
        assert_eq!(queue.stats().waiting, 1);
        drop(a);
        let c = third.await.unwrap();
        assert_eq!(queue.stats(), QueueStats { running: 2, waiting: 0, mean_wait_ms: queue.stats().mean_wait_ms });
        drop((b, c));
        assert_eq!(queue.stats().running, 0);
    }

    #[tokio::test]
    async fn calls_are_served_in_turn_not_decodes() {
        let queue = RecognitionQueue::new(1, 500);
        let holder = queue.acquire(9).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        // Call 1 queues three decodes, then calls 2 and 3 one each.
        let mut tasks = Vec::new();
        for (call, tag) in [(1, "1a"), (1, "1b"), (1, "1c"), (2, "2a"), (3, "3a")] {
            let (q, order) = (queue.clone(), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let ticket = q.acquire(call).await;
                order.lock().unwrap().push(tag);
                settle().await;
                drop(ticket);
            }));
            settle().await;
        }
        drop(holder);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["1a", "2a", "3a", "1b", "1c"]);
        assert_eq!(queue.stats().running, 0);
    }

    #[tokio::test]
    async fn a_decode_that_gives_up_waiting_loses_its_place_not_the_slot() {
        let queue = RecognitionQueue::new(1, 500);
        let holder = queue.acquire(1).await;
        let q = queue.clone();
        let quitter = tokio::spawn(async move { q.acquire(2).await });
        settle().await;
        let q = queue.clone();
        let patient = tokio::spawn(async move { q.acquire(3).await });
        settle().await;
        quitter.abort();
        assert!(quitter.await.is_err());
        drop(holder);
        let ticket = patient.await.unwrap();
        assert_eq!(queue.stats().running, 1);
        drop(ticket);
        assert_eq!(queue.stats(), QueueStats { running: 0, waiting: 0, mean_wait_ms: queue.stats().mean_wait_ms });
    }

    #[tokio::test]
    async fn long_waits_mean_saturation() {
        let queue = RecognitionQueue::new(1, 0);
        assert!(!queue.saturated(), "an idle queue is not saturated");
        let holder = queue.acquire(1).await;
        let q = queue.clone();
        let waiting = tokio::spawn(async move { q.acquire(2).await });
        settle().await;
        std::thread::sleep(Duration::from_millis(5));
        // The oldest waiter is past a busy wait of 0 ms.
        assert!(queue.saturated());
        drop(holder);
        let ticket = waiting.await.unwrap();
        assert!(ticket.waited > Duration::ZERO);
        // Its wait now weighs in the average.
        assert!(queue.stats().mean_wait_ms > 0.0);
        assert!(queue.saturated());
        let relaxed = RecognitionQueue::new(1, 60_000);
        let _slot = relaxed.acquire(1).await;
        assert!(!relaxed.saturated());
    }

    #[test]
    fn settings_come_from_the_environment_or_the_cores() {
        let none = |_: &str| None;
        assert_eq!(RecognitionQueue::from_lookup(2, none).max_parallel(), 1);
        assert_eq!(RecognitionQueue::from_lookup(1, none).max_parallel(), 1);
        assert_eq!(RecognitionQueue::from_lookup(8, none).max_parallel(), 4);
        let set = |name: &str| (name == MAX_PARALLEL_ENV).then(|| "3".to_string());
        assert_eq!(RecognitionQueue::from_lookup(2, set).max_parallel(), 3);
        let bad = |name: &str| (name == MAX_PARALLEL_ENV).then(|| "zero".to_string());
        assert_eq!(RecognitionQueue::from_lookup(2, bad).max_parallel(), 1);
        assert_eq!(RecognitionQueue::from_lookup(2, none).inner.busy_wait_ms, DEFAULT_BUSY_WAIT_MS);
    }

    #[test]
    fn one_call_per_slot_unless_configured() {
        let none = |_: &str| None;
        assert_eq!(RecognitionQueue::from_lookup(2, none).max_calls(), 1);
        assert_eq!(RecognitionQueue::from_lookup(8, none).max_calls(), 4);
        let parallel = |name: &str| (name == MAX_PARALLEL_ENV).then(|| "3".to_string());
        assert_eq!(RecognitionQueue::from_lookup(2, parallel).max_calls(), 3);
        let calls = |name: &str| (name == MAX_CALLS_ENV).then(|| "5".to_string());
        let queue = RecognitionQueue::from_lookup(2, calls);
        assert_eq!((queue.max_parallel(), queue.max_calls()), (1, 5));
        let bad = |name: &str| (name == MAX_CALLS_ENV).then(|| "-1".to_string());
        assert_eq!(RecognitionQueue::from_lookup(2, bad).max_calls(), 1);
    }
}
