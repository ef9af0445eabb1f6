//! How fast this machine runs the loaded Whisper model, measured: at load
//! (one short-window and one full-window pass on quiet noise) and after
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
    /// Wall-clock µs of a full-window pass (running average).
    full_us: AtomicU64,
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
            full_us: AtomicU64::new(0),
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

    /// Records a full-window pass that took `elapsed`.
    pub fn record_full(&self, elapsed: Duration) {
        blend(&self.full_us, elapsed.as_micros() as f64);
    }

    /// Expected time to finish a short-window decode over `positions`
    /// encoder positions, and with a retry over `retry_share` (0–1) of the
    /// full window; `None` before the first measurement. A partial window's
    /// retry is counted as that share of the full window's time: a position
    /// costs less in a narrower window (attention), so this never
    /// underestimates.
    pub fn estimate(&self, positions: i32, retry_share: f64) -> Option<FinishEstimate> {
        let per = self.short_us_per_position.load(Ordering::Relaxed);
        if per == 0 {
            return None;
        }
        let typical_ms = per.saturating_mul(u64::try_from(positions.max(1)).unwrap_or(1)) / 1000 + OVERHEAD_MS;
        let full_ms = self.full_us.load(Ordering::Relaxed) / 1000;
        let retry_ms = (full_ms as f64 * retry_share.clamp(0.0, 1.0)).ceil() as u64;
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
        assert_eq!(pace.estimate(200, 1.0), None);
        pace.record_short(200, Duration::from_millis(400));
        pace.record_full(Duration::from_millis(1_500));
        assert_eq!(pace.estimate(400, 1.0), Some(FinishEstimate { typical_ms: 800 + OVERHEAD_MS, worst_ms: 2_300 + OVERHEAD_MS }));
        // A retry on a fifth of the window counts a fifth of the full window's time.
        assert_eq!(pace.estimate(400, 0.2).unwrap().worst_ms, 800 + OVERHEAD_MS + 300);
        // A slower decode (a loaded machine) moves the average towards it.
        pace.record_short(200, Duration::from_millis(800));
        let slower = pace.estimate(400, 1.0).unwrap();
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
