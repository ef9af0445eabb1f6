//! Stops a greedy decode as soon as it loops, instead of at the token cap.
//!
//! Whisper's hallucination loop repeats a phrase until the decoder is
//! stopped ("C C C C …" for a short "sì"; "Mi chiamo … Mi chiamo …"). Every
//! repeated token is a decoder step (3–35 ms on 2 cores), and the text is
//! cut to one occurrence afterwards anyway ([`super::decode_check::clean_up`]).
//! whisper.cpp hands each step's logits to `logits_filter_callback` with the
//! tokens decoded so far (`whisper_process_logits`, whisper.cpp 1.8): once
//! those end with the same run of tokens [`STOP_REPEATS`] times back to
//! back, every token but end-of-text is masked, so the next step ends the
//! text, and the pass is marked as stopped for a loop.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use whisper_rs::whisper_rs_sys::{whisper_context, whisper_state, whisper_token_data};

use crate::speech::decode_check::LOOP_REPEATS;

/// Times a run of tokens is repeated back to back before the decode is
/// stopped: one more than a loop needs in words ([`LOOP_REPEATS`]), so a
/// caller's own "no, no" or a phone number's "tre, tre, tre" decodes on.
pub const STOP_REPEATS: usize = LOOP_REPEATS + 1;

/// Longest repeated run looked for, in tokens (a phrase of a few words).
pub const MAX_UNIT_TOKENS: usize = 16;

/// What the callback needs, kept alive by the pass while whisper.cpp runs.
#[derive(Debug)]
pub struct LoopStop {
    /// The end-of-text token of the model.
    eot: i32,
    /// Vocabulary size: the length of the logits array.
    n_vocab: usize,
    /// Set when the decode was stopped for a loop.
    stopped: AtomicBool,
}

impl LoopStop {
    /// For a model whose end-of-text token is `eot`, with `n_vocab` logits a step.
    pub fn new(eot: i32, n_vocab: usize) -> Self {
        LoopStop { eot, n_vocab, stopped: AtomicBool::new(false) }
    }

    /// Whether the pass was stopped for a loop.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

/// Whether `tokens` ends with a run of 1 to [`MAX_UNIT_TOKENS`] tokens
/// repeated [`STOP_REPEATS`] times back to back.
pub fn ends_in_loop(tokens: &[i32]) -> bool {
    (1..=MAX_UNIT_TOKENS).any(|n| {
        let span = n * STOP_REPEATS;
        span <= tokens.len() && {
            let tail = &tokens[tokens.len() - span..];
            tail.chunks_exact(n).all(|chunk| chunk == &tail[..n])
        }
    })
}

/// `whisper_logits_filter_callback`: masks every token but end-of-text once
/// the tokens so far end in a loop ([`ends_in_loop`]).
///
/// # Safety
/// whisper.cpp calls it with `tokens` pointing at `n_tokens` token data,
/// `logits` at the model's `n_vocab` logits, and `user_data` at the
/// [`LoopStop`] the pass keeps alive until `whisper_full` returns (or null).
pub unsafe extern "C" fn stop_loops(
    _ctx: *mut whisper_context,
    _state: *mut whisper_state,
    tokens: *const whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    // SAFETY: `user_data` is null or the pass's live `LoopStop`.
    let Some(stop) = (unsafe { user_data.cast::<LoopStop>().as_ref() }) else { return };
    let n_tokens = usize::try_from(n_tokens).unwrap_or(0);
    if tokens.is_null() || logits.is_null() || n_tokens < STOP_REPEATS {
        return;
    }
    // SAFETY: whisper.cpp passes `n_tokens` initialised token data.
    let data = unsafe { std::slice::from_raw_parts(tokens, n_tokens) };
    let window = &data[n_tokens.saturating_sub(MAX_UNIT_TOKENS * STOP_REPEATS)..];
    let ids: Vec<i32> = window.iter().map(|t| t.id).collect();
    if !ends_in_loop(&ids) {
        return;
    }
    let Ok(eot) = usize::try_from(stop.eot) else { return };
    if eot >= stop.n_vocab {
        return;
    }
    // SAFETY: `logits` holds the model's `n_vocab` floats for this step.
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, stop.n_vocab) };
    for (i, logit) in logits.iter_mut().enumerate() {
        if i != eot {
            *logit = f32::NEG_INFINITY;
        }
    }
    stop.stopped.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_repeated_enough_times_is_a_loop() {
        assert!(ends_in_loop(&[7, 7, 7, 7]));
        assert!(ends_in_loop(&[1, 2, 5, 6, 5, 6, 5, 6, 5, 6]));
        assert!(!ends_in_loop(&[7, 7, 7]));
        assert!(!ends_in_loop(&[5, 6, 5, 6, 5, 6, 9]));
        assert!(!ends_in_loop(&[]));
        // A 16-token phrase four times is caught; a 17-token one is left to the cap.
        let phrase: Vec<i32> = (100..116).collect();
        assert!(ends_in_loop(&phrase.repeat(4)));
        let longer: Vec<i32> = (100..117).collect();
        assert!(!ends_in_loop(&longer.repeat(4)));
    }

    #[test]
    fn the_callback_leaves_only_end_of_text_once_a_loop_is_decoded() {
        let token = |id| whisper_token_data { id, tid: 0, p: 0.9, plog: -0.1, pt: 0.0, ptsum: 0.0, t0: 0, t1: 0, t_dtw: 0, vlen: 0.0 };
        let stop = LoopStop::new(3, 6);
        let user_data = std::ptr::from_ref(&stop).cast_mut().cast::<c_void>();
        let mut logits = [1.0f32; 6];
        let calm: Vec<whisper_token_data> = [1, 2, 4, 5].into_iter().map(token).collect();
        // SAFETY: the pointers are to live slices of the stated lengths.
        unsafe { stop_loops(std::ptr::null_mut(), std::ptr::null_mut(), calm.as_ptr(), 4, logits.as_mut_ptr(), user_data) };
        assert_eq!(logits, [1.0; 6]);
        assert!(!stop.stopped());
        let looping: Vec<whisper_token_data> = [2, 2, 2, 2].into_iter().map(token).collect();
        // SAFETY: as above.
        unsafe { stop_loops(std::ptr::null_mut(), std::ptr::null_mut(), looping.as_ptr(), 4, logits.as_mut_ptr(), user_data) };
        assert_eq!(logits[3], 1.0);
        assert!(logits.iter().enumerate().all(|(i, &l)| i == 3 || l == f32::NEG_INFINITY));
        assert!(stop.stopped());
    }
}
