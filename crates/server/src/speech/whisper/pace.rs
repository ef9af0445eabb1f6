//! How fast this machine runs the loaded Whisper model, measured: at load
//! (one short-window and one retry-window pass on quiet noise) and after
//! every decode, so the voice session's recognition deadline and filler
//! follow the engine and the machine's load instead of a constant that only
//! a fast machine meets. Also sizes each decode's threads by how many
//! decodes share the cores.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use fluxion_core::speech::stt::FinishEstimate;

/// Weight of a new measurement in the running averages.
const NEW_WEIGHT: f64 = 0.3;

/// Wall-clock allowance on top of the measured decode, in ms: thread
/// start-up, resampling, the blocking-pool hand-off.
const OVERHEAD_MS: u64 = 60;

/// Measured decoding speed shared by every call on one loaded model.
#[derive(Debug)]
pub struct Pace {
    /// Wall-clock µs per encoder position of a short-window pass (running average).
    short_us_per_position: AtomicU64,
    /// Wall-clock µs per encoder position of a retry's wider-window pass
    /// (running average; attention makes a position cost more in a wider window).
    retry_us_per_position: AtomicU64,
    /// Decodes running now.
    active: AtomicUsize,
    /// Threads the machine offers to decoding.
    cores: usize,
    /// Most threads one decode uses.
    max_threads: usize,
}

/// One decode in progress; dropping it frees its share of the cores.
#[derive(Debug)]
pub struct Slot<'a> {
    pace: &'a Pace,
    /// Threads this decode should use.
    pub threads: usize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.pace.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pace {
    /// No measurement yet, `cores` threads to share, at most `max_threads` per decode.
    pub fn new(cores: usize, max_threads: usize) -> Self {
        Pace {
            short_us_per_position: AtomicU64::new(0),
            retry_us_per_position: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            cores: cores.max(1),
            max_threads: max_threads.max(1),
        }
    }

    /// Starts a decode: its threads are the cores divided among the decodes
    /// running (this one included), between 1 and the per-decode maximum.
    pub fn begin(&self) -> Slot<'_> {
        let running = self.active.fetch_add(1, Ordering::Relaxed) + 1;
        Slot { pace: self, threads: (self.cores / running).clamp(1, self.max_threads) }
    }

    /// Records a short-window pass over `positions` encoder positions that took `elapsed`.
    pub fn record_short(&self, positions: i32, elapsed: Duration) {
        let per = elapsed.as_micros() as f64 / f64::from(positions.max(1));
        blend(&self.short_us_per_position, per);
    }

    /// Records a retry pass over `positions` encoder positions that took `elapsed`.
    pub fn record_retry(&self, positions: i32, elapsed: Duration) {
        let per = elapsed.as_micros() as f64 / f64::from(positions.max(1));
        blend(&self.retry_us_per_position, per);
    }

    /// Expected time to finish a short-window decode over `positions`
    /// encoder positions, and with a retry over `retry_positions`; `None`
    /// before the first measurement of the short window. Before a retry
    /// was measured, a retry position is counted as a short one.
    pub fn estimate(&self, positions: i32, retry_positions: i32) -> Option<FinishEstimate> {
        let per = self.short_us_per_position.load(Ordering::Relaxed);
        if per == 0 {
            return None;
        }
        let retry_per = match self.retry_us_per_position.load(Ordering::Relaxed) {
            0 => per,
            measured => measured,
        };
        let count = |n: i32| u64::try_from(n.max(1)).unwrap_or(1);
        let typical_ms = per.saturating_mul(count(positions)) / 1000 + OVERHEAD_MS;
        let retry_ms = retry_per.saturating_mul(count(retry_positions)) / 1000;
        Some(FinishEstimate { typical_ms, worst_ms: typical_ms + retry_ms })
    }
}

/// `slot` ← a running average with `sample` (the sample itself when empty).
fn blend(slot: &AtomicU64, sample: f64) {
    let _ = slot.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        let next = if old == 0 { sample } else { old as f64 * (1.0 - NEW_WEIGHT) + sample * NEW_WEIGHT };
        Some(next.round().max(1.0) as u64)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_follow_measurements() {
        let pace = Pace::new(2, 4);
        assert_eq!(pace.estimate(200, 600), None);
        pace.record_short(200, Duration::from_millis(400));
        // No retry measured yet: its positions cost what short ones do.
        assert_eq!(pace.estimate(400, 600).unwrap().worst_ms, 800 + OVERHEAD_MS + 1_200);
        pace.record_retry(600, Duration::from_millis(1_500));
        assert_eq!(pace.estimate(400, 1_200), Some(FinishEstimate { typical_ms: 800 + OVERHEAD_MS, worst_ms: 3_800 + OVERHEAD_MS }));
        // A slower decode (a loaded machine) moves the average towards it.
        pace.record_short(200, Duration::from_millis(800));
        let slower = pace.estimate(400, 1_200).unwrap();
        assert_eq!(slower.typical_ms, 1_040 + OVERHEAD_MS);
    }

    #[test]
    fn threads_are_shared_between_running_decodes() {
        let pace = Pace::new(4, 4);
        let first = pace.begin();
        assert_eq!(first.threads, 4);
        let second = pace.begin();
        assert_eq!(second.threads, 2);
        let (third, fourth, fifth) = (pace.begin(), pace.begin(), pace.begin());
        assert_eq!((third.threads, fourth.threads, fifth.threads), (1, 1, 1));
        drop((first, second, third, fourth, fifth));
        assert_eq!(pace.begin().threads, 4);
    }
}
