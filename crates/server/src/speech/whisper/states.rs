//! Decoding states kept between decodes: one loaded model (the context) is
//! shared by every call, and each decode borrows a whisper.cpp state (its
//! KV caches and compute buffers, tens of MB) from this pool instead of
//! building one, which costs an allocation of those buffers and a
//! measurement of the compute graphs every time. Each call's turn uses
//! the state alone; nothing of one decode carries into the next (every
//! decode runs with `no_context`).

use std::sync::{Arc, Mutex, PoisonError};

use whisper_rs::{WhisperContext, WhisperState};

/// Idle states kept for reuse, at most `keep`.
pub struct StatePool {
    context: Arc<WhisperContext>,
    idle: Mutex<Vec<WhisperState>>,
    keep: usize,
}

impl StatePool {
    /// An empty pool for `context` that keeps up to `keep` idle states.
    pub fn new(context: Arc<WhisperContext>, keep: usize) -> Self {
        StatePool { context, idle: Mutex::new(Vec::new()), keep }
    }

    /// An idle state, or a new one when none is idle.
    ///
    /// # Errors
    /// whisper.cpp could not build a state (out of memory).
    pub fn take(&self) -> Result<WhisperState, whisper_rs::WhisperError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        match idle {
            Some(state) => Ok(state),
            None => self.context.create_state(),
        }
    }

    /// Returns `state` after a decode that completed (an aborted or failed
    /// one drops its state rather than risk reusing it half-way).
    pub fn give_back(&self, state: WhisperState) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(state);
        }
    }

    /// Idle states now.
    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}
