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

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};

use whisper_rs::whisper_rs_sys::{whisper_context, whisper_state, whisper_token_data, whisper_token_to_str};

use crate::speech::decode_check::LOOP_REPEATS;

/// Times a run of tokens is repeated back to back before the decode is
/// stopped: one more than a loop needs in words ([`LOOP_REPEATS`]), so a
/// caller's own "no, no" or a phone number's "tre, tre, tre" decodes on.
pub const STOP_REPEATS: usize = LOOP_REPEATS + 1;

/// Times a run of only digits and punctuation is repeated before the decode
/// is stopped: a phone number may say the same digit several times
/// ("3-4-7-1-1-1-1" for "tre quattro sette, uno uno uno"), no number eight.
pub const DIGIT_STOP_REPEATS: usize = 8;

/// Longest repeated run looked for, in tokens (a phrase of a few words).
pub const MAX_UNIT_TOKENS: usize = 16;

/// Most recent tokens the loop check reads: the longest run at the most repeats.
const WINDOW_TOKENS: usize = MAX_UNIT_TOKENS * DIGIT_STOP_REPEATS;

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
/// repeated [`STOP_REPEATS`] times back to back ([`DIGIT_STOP_REPEATS`]
/// when `is_digits` says every token of the run is digits or punctuation).
pub fn ends_in_loop(tokens: &[i32], is_digits: impl Fn(i32) -> bool) -> bool {
    (1..=MAX_UNIT_TOKENS).any(|n| {
        let repeats_at_end = |times: usize| {
            let span = n * times;
            span <= tokens.len() && {
                let tail = &tokens[tokens.len() - span..];
                tail.chunks_exact(n).all(|chunk| chunk == &tail[..n])
            }
        };
        repeats_at_end(STOP_REPEATS) && (!tokens[tokens.len() - n..].iter().all(|&t| is_digits(t)) || repeats_at_end(DIGIT_STOP_REPEATS))
    })
}

/// Whether `text` (a token's text) holds only digits, punctuation and spaces.
pub fn is_digit_text(text: &[u8]) -> bool {
    text.iter().all(|b| b.is_ascii_digit() || b.is_ascii_punctuation() || b.is_ascii_whitespace())
}

/// Masks every logit but end-of-text when the tokens so far (`ids`, the
/// last ones at least) end in a loop ([`ends_in_loop`]), and marks `stop`.
/// `logits` is one step's, `n_vocab` long.
pub fn mask_if_looping(stop: &LoopStop, ids: &[i32], logits: &mut [f32], is_digits: impl Fn(i32) -> bool) {
    let Some(eot) = usize::try_from(stop.eot).ok().filter(|&eot| eot < logits.len()) else { return };
    if !ends_in_loop(ids, is_digits) {
        return;
    }
    for (i, logit) in logits.iter_mut().enumerate() {
        if i != eot {
            *logit = f32::NEG_INFINITY;
        }
    }
    stop.stopped.store(true, Ordering::Relaxed);
}

/// `whisper_logits_filter_callback`: [`mask_if_looping`] on whisper.cpp's
/// step. Does nothing when a pointer is null.
///
/// # Safety
/// whisper.cpp calls it with its live context, `tokens` pointing at
/// `n_tokens` token data, `logits` at the model's `n_vocab` logits, and
/// `user_data` at the [`LoopStop`] the pass keeps alive until `whisper_full`
/// returns (or null).
pub unsafe extern "C" fn stop_loops(
    ctx: *mut whisper_context,
    _state: *mut whisper_state,
    tokens: *const whisper_token_data,
    n_tokens: c_int,
    logits: *mut f32,
    user_data: *mut c_void,
) {
    // SAFETY: `user_data` is null or the pass's live `LoopStop`.
    let Some(stop) = (unsafe { user_data.cast::<LoopStop>().as_ref() }) else { return };
    let n_tokens = usize::try_from(n_tokens).unwrap_or(0);
    if ctx.is_null() || tokens.is_null() || logits.is_null() || n_tokens < STOP_REPEATS {
        return;
    }
    // SAFETY: whisper.cpp passes `n_tokens` initialised token data.
    let data = unsafe { std::slice::from_raw_parts(tokens, n_tokens) };
    // The last tokens' ids, on the stack: this runs at every decoder step.
    let window = &data[n_tokens.saturating_sub(WINDOW_TOKENS)..];
    let mut ids = [0i32; WINDOW_TOKENS];
    for (id, token) in ids.iter_mut().zip(window) {
        *id = token.id;
    }
    let ids = &ids[..window.len()];
    let is_digits = |id: i32| {
        // SAFETY: `ctx` is the live context; the text whisper.cpp returns for
        // a token id is NUL-terminated and lives as long as the context.
        let text = unsafe { whisper_token_to_str(ctx, id) };
        !text.is_null() && is_digit_text(unsafe { CStr::from_ptr(text) }.to_bytes())
    };
    // SAFETY: `logits` holds the model's `n_vocab` floats for this step.
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, stop.n_vocab) };
    mask_if_looping(stop, ids, logits, is_digits);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_repeated_enough_times_is_a_loop() {
        let words = |_| false;
        assert!(ends_in_loop(&[7, 7, 7, 7], words));
        assert!(ends_in_loop(&[1, 2, 5, 6, 5, 6, 5, 6, 5, 6], words));
        assert!(!ends_in_loop(&[7, 7, 7], words));
        assert!(!ends_in_loop(&[5, 6, 5, 6, 5, 6, 9], words));
        assert!(!ends_in_loop(&[], words));
        // A 16-token phrase four times is caught; a 17-token one is left to the cap.
        let phrase: Vec<i32> = (100..116).collect();
        assert!(ends_in_loop(&phrase.repeat(4), words));
        let longer: Vec<i32> = (100..117).collect();
        assert!(!ends_in_loop(&longer.repeat(4), words));
        // Digits ("1-" four times in a phone number) go on to eight repeats.
        let digits = |t| t < 10;
        assert!(!ends_in_loop(&[3, 1, 2, 1, 2, 1, 2, 1, 2], digits));
        assert!(ends_in_loop(&[1, 2].repeat(8), digits));
        assert!(ends_in_loop(&[50, 2, 50, 2, 50, 2, 50, 2], digits));
        assert!(is_digit_text(b" 1,") && is_digit_text(b"-347") && !is_digit_text(b" C") && !is_digit_text(b" tre"));
    }

    #[test]
    fn only_end_of_text_is_left_once_a_loop_is_decoded() {
        let stop = LoopStop::new(3, 6);
        let mut logits = [1.0f32; 6];
        mask_if_looping(&stop, &[1, 2, 4, 5], &mut logits, |_| false);
        assert_eq!(logits, [1.0; 6]);
        assert!(!stop.stopped());
        mask_if_looping(&stop, &[2, 2, 2, 2], &mut logits, |_| true);
        assert_eq!(logits, [1.0; 6], "a digit may be said four times");
        mask_if_looping(&stop, &[2, 2, 2, 2], &mut logits, |_| false);
        assert_eq!(logits[3], 1.0);
        assert!(logits.iter().enumerate().all(|(i, &l)| i == 3 || l == f32::NEG_INFINITY));
        assert!(stop.stopped());
        // A model whose end-of-text is outside the logits is left alone.
        let odd = LoopStop::new(9, 6);
        let mut logits = [1.0f32; 6];
        mask_if_looping(&odd, &[2, 2, 2, 2], &mut logits, |_| false);
        assert!(!odd.stopped() && logits == [1.0; 6]);
    }

    #[test]
    fn the_callback_does_nothing_without_its_pointers() {
        let token = |id| whisper_token_data { id, tid: 0, p: 0.9, plog: -0.1, pt: 0.0, ptsum: 0.0, t0: 0, t1: 0, t_dtw: 0, vlen: 0.0 };
        let stop = LoopStop::new(3, 6);
        let user_data = std::ptr::from_ref(&stop).cast_mut().cast::<c_void>();
        let looping: Vec<whisper_token_data> = [2, 2, 2, 2].into_iter().map(token).collect();
        let mut logits = [1.0f32; 6];
        // SAFETY: null pointers are refused before anything is read.
        unsafe { stop_loops(std::ptr::null_mut(), std::ptr::null_mut(), looping.as_ptr(), 4, logits.as_mut_ptr(), user_data) };
        // SAFETY: as above.
        unsafe { stop_loops(std::ptr::null_mut(), std::ptr::null_mut(), looping.as_ptr(), 4, logits.as_mut_ptr(), std::ptr::null_mut()) };
        assert!(!stop.stopped() && logits == [1.0; 6]);
    }
}
