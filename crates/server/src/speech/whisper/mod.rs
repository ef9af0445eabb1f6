//! Local speech-to-text with whisper.cpp (through `whisper-rs`).
//!
//! [`WhisperStt`] loads one ggml model (see [`super::models`]) and shares it
//! between calls; each utterance gets its own whisper.cpp state. Whisper is
//! a batch recogniser: a stream buffers the caller's PCM, resampled to
//! 16 kHz, and [`SttStream::finish`] decodes it on a blocking thread.
//!
//! Decoding is tuned for short phone turns and guarded against Whisper's
//! hallucinations (see [`super::decode_check`]):
//! - greedy, one candidate, temperature 0, each turn on its own (no
//!   conditioning on earlier text), blank and non-speech tokens suppressed,
//!   the business's words as initial prompt, flash attention off;
//! - the encoder first sees only as many positions as the utterance needs
//!   (50 per second plus a margin) instead of the fixed 30 s window;
//! - decoded tokens are capped in proportion to the duration, and a pass
//!   whose tokens start repeating is stopped there ([`loop_stop`]);
//! - a turn that loops on one phrase from its first word keeps that phrase
//!   once, without a retry, when the turn is a word or two or the phrase
//!   holds at least [`decode_check::MIN_PHRASE_WORDS_PER_SECOND`] (the retry
//!   returned the same phrase on every such espeak-ng short answer measured,
//!   370–395 ms later; a longer turn's retry on the full window costs 1.5–2 s);
//! - a pass that loops, hits the cap or holds more words than the audio can
//!   is decoded once more on a wider window ([`retry_ctx`]): the full 30 s
//!   window, except for a turn short enough to sit in the smallest short
//!   window (a word or two), retried on 384 positions (7.68 s), about a
//!   quarter of the full window's cost; one with a mean log-probability
//!   below -1 (a guess) once more at temperature 0.4 on the same window;
//!   the better of the two is kept (loops cut, words capped);
//! - a text that only repeats the initial prompt is decoded again without
//!   it, on the wider window;
//! - audio quieter than -55 dBFS is not decoded; audio the model marks as no speech (no-speech probability above 0.6
//!   with a guessed text) gives an empty transcript;
//! - non-speech annotations (`[Musica]`, `(applausi)`, `[BLANK_AUDIO]`) are
//!   dropped from the text.
//!
//! Decodes wait for a slot in the shared [`RecognitionQueue`] (at most
//! `STT_MAX_PARALLEL` at once, calls served in turn); while decodes wait
//! longer than `STT_BUSY_WAIT_MS`, the engine reports itself saturated and
//! new calls get the busy answer; so do calls past `STT_MAX_CALLS` (one
//! per decoding slot by default, measured).
//!
//! Dropping the future returned by `finish` (barge-in, hang-up) aborts the
//! decode at the next graph evaluation. whisper.cpp's own log lines go to
//! `tracing` at debug level under the `whisper_cpp` target.

use std::ffi::{c_char, c_void, CStr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};

use fluxion_core::audio::resample::Resampler;
use fluxion_core::speech::stt::duration_ms;
use fluxion_core::speech::stt::FinishEstimate;
use fluxion_core::speech::{BoxFuture, SpeechToText, SttError, SttRequest, SttStream, Transcript};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState, WhisperTokenId};

use super::decode_check::{self, Attempt, Suspicion};
use super::models;
use super::queue::{self, CallKey, RecognitionQueue, Ticket};

pub mod loop_stop;
pub mod pace;
pub mod states;
use loop_stop::LoopStop;
use pace::Pace;
use states::StatePool;

/// The rate whisper.cpp takes PCM at, in Hz.
pub const WHISPER_RATE_HZ: u32 = 16_000;

/// Encoder positions per second of audio: 1500 for Whisper's 30 s window.
const POSITIONS_PER_SECOND: f64 = 50.0;

/// Encoder positions added to the utterance's own, so the last words are
/// not at the very edge of what the encoder sees.
const AUDIO_CTX_MARGIN: i32 = 64;

/// Fewest encoder positions used: below about 100 whisper.cpp's published
/// models start to repeat themselves or stop early (whisper.cpp issues
/// #1951, #1117), so short turns get at least this many (2.56 s).
const MIN_AUDIO_CTX: i32 = 128;

/// Encoder positions of a one- or two-word turn's retry (7.68 s): a
/// quarter of the full window's cost (about 0.6 s instead of 2.5 s on 2
/// cores). Longer turns are retried on the full window: on the espeak-ng
/// test set (`--example stt_eval`) a 3.5 s sentence retried on three times
/// its positions came back as two wrong words, and right on the full window.
const SHORT_RETRY_CTX: i32 = 384;

/// Shortest audio handed to whisper.cpp, in samples at 16 kHz (1 s): shorter
/// input is padded with silence.
const MIN_SAMPLES: usize = WHISPER_RATE_HZ as usize;

/// Decoded tokens allowed per second of audio. Fast Italian speech is about
/// 4 words and 6–8 tokens a second.
const TOKENS_PER_SECOND: f64 = 10.0;

/// Tokens allowed on top of the per-second allowance: the language and
/// punctuation tokens and a margin. A turn that loops runs to the cap, so
/// every token here costs looping turns one decoder step (about 35 ms on
/// the 2-core test machine: "sì" decoded as "C" 27 times took 1014 ms with
/// 16 here).
const TOKENS_BASE: i32 = 8;

/// Most threads one decode uses.
const MAX_THREADS: usize = 4;

/// Sampling temperature of the retry of a decode that is only a guess
/// (upstream's first fallback step is 0.2; 0.4 moves further from the
/// greedy path that just failed).
const FALLBACK_TEMPERATURE: f32 = 0.4;

/// Local Whisper speech-to-text: one loaded model shared by every stream.
#[derive(Clone)]
pub struct WhisperStt {
    context: Arc<WhisperContext>,
    path: PathBuf,
    threads: usize,
    pace: Arc<Pace>,
    queue: RecognitionQueue,
    states: Arc<StatePool>,
}

impl std::fmt::Debug for WhisperStt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperStt").field("path", &self.path).field("threads", &self.threads).finish_non_exhaustive()
    }
}

impl WhisperStt {
    /// Loads the ggml model at `path`. Blocks while the file is read (about
    /// a second for base-q5_1); call it at start-up or on a blocking thread.
    ///
    /// # Errors
    /// [`SttError::Unavailable`] when the file is missing (the message gives
    /// the `fluxion models download <name>` command, see
    /// [`models::missing_model_message`]) or whisper.cpp cannot load it.
    pub fn load(path: &Path) -> Result<Self, SttError> {
        install_log_hooks();
        if !path.is_file() {
            return Err(SttError::Unavailable(models::missing_model_message(path)));
        }
        let mut params = WhisperContextParameters::default();
        // With flash attention the short window loops on a third of real clips (issue 14).
        params.flash_attn = false;
        let context = WhisperContext::new_with_params(path, params).map_err(|e| {
            SttError::Unavailable(format!("whisper.cpp could not load {} ({e:?}); is it a ggml Whisper model?", path.display()))
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.min(MAX_THREADS);
        let queue = RecognitionQueue::from_env(cores);
        let context = Arc::new(context);
        // One idle state per decode slot, and one for a speculation's overlap.
        let states = Arc::new(StatePool::new(Arc::clone(&context), queue.max_parallel() + 1));
        let stt = WhisperStt { states, context, path: path.to_path_buf(), threads, pace: Arc::new(Pace::new(cores, MAX_THREADS)), queue };
        stt.calibrate();
        Ok(stt)
    }

    /// Measures this machine's speed with the model: one short-window and
    /// one retry-window pass over 2 s of quiet noise (the first also warms
    /// the caches up). Logs the result; a failed pass leaves no measurement.
    fn calibrate(&self) {
        let noise: Vec<i16> = (0..2 * WHISPER_RATE_HZ as usize).map(|i| ((i * 7_919) % 61) as i16 - 30).collect();
        let job = Decode {
            context: Arc::clone(&self.context),
            pace: Arc::clone(&self.pace),
            states: Arc::clone(&self.states),
            language: "it".to_string(),
            prompt: Vec::new(),
            prompt_words: Vec::new(),
            pcm: noise,
        };
        let samples = job.samples();
        let abort = Arc::new(AtomicBool::new(false));
        let measured = job.states.take().map_err(|e| provider_error("create a decoding state", e)).and_then(|mut state| {
            job.pass(&mut state, &samples, Window::Utterance, false, 0.0, self.threads, &abort)?;
            let wide = job.pass(&mut state, &samples, Window::Retry, false, 0.0, self.threads, &abort)?;
            job.states.give_back(state);
            Ok(wide)
        });
        let estimate = self.finish_estimate(8_000);
        match measured {
            Ok(_) => tracing::info!(
                path = %self.path.display(),
                threads = self.threads,
                max_parallel = self.queue.max_parallel(),
                max_calls = self.queue.max_calls(),
                turn_8s_ms = estimate.map(|e| e.typical_ms),
                turn_8s_with_retry_ms = estimate.map(|e| e.worst_ms),
                "Whisper model loaded and measured."
            ),
            Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "Whisper model loaded; measuring its speed failed."),
        }
    }

    /// Loads the model `model` names in `dir`, or the best one present when
    /// `model` is `None` (see [`models::whisper_model_path`]).
    ///
    /// # Errors
    /// As [`WhisperStt::load`].
    pub fn from_models_dir(dir: &Path, model: Option<&str>) -> Result<Self, SttError> {
        Self::load(&models::whisper_model_path(dir, model))
    }

    /// Loads the model `WHISPER_MODEL` names from `FLUXION_MODELS_DIR`
    /// (see [`super::models_dir`]).
    ///
    /// # Errors
    /// As [`WhisperStt::load`].
    pub fn from_env() -> Result<Self, SttError> {
        let model = std::env::var(models::WHISPER_MODEL_ENV).ok();
        Self::from_models_dir(&super::models_dir(), model.as_deref())
    }

    /// The model file loaded.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// Most threads one decode uses: the machine's cores, at most 4; fewer
    /// when several decodes run at once (the cores are shared).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The queue the decodes wait in.
    pub fn queue(&self) -> &RecognitionQueue {
        &self.queue
    }
}

impl SpeechToText for WhisperStt {
    fn name(&self) -> &str {
        "whisper"
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        let stream = WhisperStream::new(self, request).map(|s| Box::new(s) as Box<dyn SttStream>);
        Box::pin(std::future::ready(stream))
    }

    /// From the measured speed ([`pace`]): the short-window pass over
    /// `audio_ms` of audio, and with the wider window's retry; both after the
    /// queue's average wait, and the worst case after the decodes queued
    /// now have run too.
    fn finish_estimate(&self, audio_ms: u64) -> Option<FinishEstimate> {
        let seconds = (audio_ms as f64 / 1000.0).max(MIN_SAMPLES as f64 / f64::from(WHISPER_RATE_HZ));
        let n_audio_ctx = self.context.model_n_audio_ctx();
        let retry_share = f64::from(retry_ctx(seconds, n_audio_ctx)) / f64::from(n_audio_ctx.max(1));
        let decode = self.pace.estimate(audio_ctx(seconds, n_audio_ctx), retry_share)?;
        let stats = self.queue.stats();
        let wait_ms = stats.mean_wait_ms.round() as u64;
        let backlog_ms = decode.typical_ms.saturating_mul(stats.waiting as u64) / self.queue.max_parallel() as u64;
        Some(FinishEstimate { typical_ms: decode.typical_ms + wait_ms, worst_ms: decode.worst_ms + wait_ms.max(backlog_ms) })
    }

    fn saturated(&self) -> bool {
        self.queue.saturated()
    }

    fn max_calls(&self) -> Option<usize> {
        Some(self.queue.max_calls())
    }
}

/// One utterance: PCM at 16 kHz waiting for `finish`.
struct WhisperStream {
    context: Arc<WhisperContext>,
    pace: Arc<Pace>,
    states: Arc<StatePool>,
    queue: RecognitionQueue,
    /// The call it belongs to, for the queue's turns.
    call: CallKey,
    language: String,
    /// The request's vocabulary hint as Whisper tokens (its initial prompt).
    prompt: Vec<WhisperTokenId>,
    /// The same hint as normalised words, to recognise an echo of it.
    prompt_words: Vec<String>,
    rate_hz: u32,
    resampler: Resampler,
    /// Samples received at the request's rate.
    received: usize,
    /// Resampled PCM at 16 kHz.
    pcm: Vec<i16>,
}

impl WhisperStream {
    fn new(stt: &WhisperStt, request: &SttRequest) -> Result<Self, SttError> {
        let resampler = Resampler::new(request.sample_rate_hz, WHISPER_RATE_HZ).map_err(|e| SttError::Audio(e.to_string()))?;
        let language = request.language.trim().to_ascii_lowercase();
        let language = if language.is_empty() { "auto".to_string() } else { language };
        if language != "auto" && (!language.chars().all(|c| c.is_ascii_alphabetic()) || whisper_rs::get_lang_id(&language).is_none()) {
            return Err(SttError::Unavailable(format!("Whisper does not know the language {:?}", request.language)));
        }
        Ok(WhisperStream {
            context: Arc::clone(&stt.context),
            pace: Arc::clone(&stt.pace),
            states: Arc::clone(&stt.states),
            queue: stt.queue.clone(),
            call: request.call.unwrap_or_else(queue::anonymous_key),
            language,
            prompt: prompt_tokens(&stt.context, &request.prompt),
            prompt_words: decode_check::normalised_words(&request.prompt),
            rate_hz: request.sample_rate_hz,
            resampler,
            received: 0,
            pcm: Vec::new(),
        })
    }
}

impl SttStream for WhisperStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.received += pcm.len();
        let result = self.resampler.process(pcm, &mut self.pcm).map_err(|e| SttError::Audio(e.to_string()));
        Box::pin(std::future::ready(result))
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        let mut this = *self;
        Box::pin(async move {
            this.resampler.flush(&mut this.pcm).map_err(|e| SttError::Audio(e.to_string()))?;
            let audio_ms = duration_ms(this.received, this.rate_hz);
            if this.pcm.is_empty() {
                return Ok(Transcript { text: String::new(), confidence: None, audio_ms });
            }
            // Quiet audio is not decoded: no need to wait for a slot.
            let ticket = if decode_check::is_quiet(&this.pcm) { None } else { Some(this.queue.acquire(this.call).await) };
            let abort = AbortOnDrop::default();
            let flag = Arc::clone(&abort.0);
            let waited_ms = ticket.as_ref().map_or(0, |t| t.waited.as_millis() as u64);
            let job = Decode {
                context: this.context,
                pace: this.pace,
                states: this.states,
                language: this.language,
                prompt: this.prompt,
                prompt_words: this.prompt_words,
                pcm: this.pcm,
            };
            let decoded = tokio::task::spawn_blocking(move || {
                let decoded = job.run(flag, waited_ms);
                drop::<Option<Ticket>>(ticket);
                decoded
            })
            .await
            .map_err(|e| SttError::Provider {
                status: None,
                message: format!("whisper decode task failed: {e}"),
                retryable: false,
            })??;
            drop(abort);
            Ok(Transcript { text: decoded.text, confidence: decoded.confidence, audio_ms })
        })
    }
}

/// Sets the shared flag when dropped, so a decode whose caller went away stops.
#[derive(Default)]
struct AbortOnDrop(Arc<AtomicBool>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Everything one decode needs, moved onto the blocking thread.
struct Decode {
    context: Arc<WhisperContext>,
    pace: Arc<Pace>,
    states: Arc<StatePool>,
    language: String,
    prompt: Vec<WhisperTokenId>,
    prompt_words: Vec<String>,
    pcm: Vec<i16>,
}

/// How much of Whisper's 30 s window the encoder sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Window {
    /// The utterance plus a margin ([`audio_ctx`]): about 4× faster on a phone turn.
    Utterance,
    /// The retry's wider window ([`retry_ctx`]), towards the 30 s one the model was trained on.
    Retry,
}

/// A decode's result: the text and the mean token probability.
#[derive(Debug, Clone, PartialEq, Default)]
struct Decoded {
    text: String,
    confidence: Option<f32>,
}

impl Decoded {
    fn from_attempt(attempt: &Attempt, text: String) -> Self {
        let confidence = (attempt.tokens > 0).then(|| attempt.avg_logprob.exp().clamp(0.0, 1.0));
        Decoded { text, confidence }
    }
}

impl Decode {
    /// Decodes the utterance on the short window; when that pass looks like
    /// a loop, a guess or an echo ([`Attempt::suspicion`]) decodes once more
    /// (see the module documentation) and keeps the better of the two, loops cut and the words
    /// capped to what the duration holds. Audio the model marks as no speech
    /// gives an empty text.
    fn run(self, abort: Arc<AtomicBool>, waited_ms: u64) -> Result<Decoded, SttError> {
        if decode_check::is_quiet(&self.pcm) {
            return Ok(Decoded::default());
        }
        let started = std::time::Instant::now();
        let samples = self.samples();
        let seconds = samples.len() as f64 / f64::from(WHISPER_RATE_HZ);
        let slot = self.pace.begin();
        let threads = slot.threads;
        let mut state = self.states.take().map_err(|e| provider_error("create a decoding state", e))?;
        let state_ms = started.elapsed().as_millis() as u64;
        let first = self.pass(&mut state, &samples, Window::Utterance, true, 0.0, threads, &abort)?;
        let first_ms = started.elapsed().as_millis() as u64;
        let echo = decode_check::echoes_prompt(&first.text, &self.prompt_words);
        let why = if echo { Some(Suspicion::PromptEcho) } else { first.suspicion(seconds) };
        // One phrase looped from the first word: the phrase, once, is the
        // turn when it is a word or two, or holds the words its duration calls for.
        let short = audio_ctx(seconds, self.context.model_n_audio_ctx()) <= MIN_AUDIO_CTX;
        let phrase_loop = matches!(why, Some(Suspicion::Repetition { .. } | Suspicion::LoopStopped | Suspicion::TokenCap))
            && decode_check::looped_phrase_words(&first.text)
                .is_some_and(|words| short || words as f64 >= seconds * decode_check::MIN_PHRASE_WORDS_PER_SECOND);
        let Some(why) = why.filter(|_| !first.is_no_speech() && !phrase_loop) else {
            self.states.give_back(state);
            tracing::debug!(
                audio_ms = (seconds * 1000.0) as u64,
                waited_ms,
                state_ms,
                first_ms,
                threads,
                tokens = first.tokens,
                phrase_loop,
                "Whisper decode"
            );
            return Ok(settle(&first, seconds));
        };
        tracing::debug!(reason = %why, text = %first.text, "Whisper decode suspect; decoding once more");
        let second = match why {
            // A guess: sample once more on the same window (temperature fallback).
            Suspicion::LowLogprob(_) => self.pass(&mut state, &samples, Window::Utterance, true, FALLBACK_TEMPERATURE, threads, &abort)?,
            // An echo of the prompt: the wider window without the prompt.
            Suspicion::PromptEcho => self.pass(&mut state, &samples, Window::Retry, false, 0.0, threads, &abort)?,
            // A loop or an overflow: a wider window, closer to the 30 s the model was trained on.
            _ => self.pass(&mut state, &samples, Window::Retry, true, 0.0, threads, &abort)?,
        };
        let chosen = match (second.suspicion(seconds), &why) {
            (None, _) => &second,
            // A loop, an overflow or an echo is worse than a guess.
            (Some(_), Suspicion::PromptEcho) => &second,
            (
                Some(Suspicion::LowLogprob(_)),
                Suspicion::Repetition { .. } | Suspicion::TokenCap | Suspicion::LoopStopped | Suspicion::TooManyWords { .. },
            ) => &second,
            (Some(_), _) if second.avg_logprob > first.avg_logprob => &second,
            (Some(_), _) => &first,
        };
        tracing::debug!(
            audio_ms = (seconds * 1000.0) as u64,
            waited_ms,
            state_ms,
            first_ms,
            total_ms = started.elapsed().as_millis() as u64,
            threads,
            reason = %why,
            "Whisper decode, decoded twice"
        );
        let decoded = settle(chosen, seconds);
        self.states.give_back(state);
        drop((abort, slot));
        Ok(decoded)
    }

    /// The PCM as whisper.cpp takes it: f32 in [-1, 1], at least [`MIN_SAMPLES`].
    fn samples(&self) -> Vec<f32> {
        let mut samples: Vec<f32> = self.pcm.iter().map(|&s| f32::from(s) / 32768.0).collect();
        if samples.len() < MIN_SAMPLES {
            samples.resize(MIN_SAMPLES, 0.0);
        }
        samples
    }

    /// One greedy pass over `samples` with the encoder seeing `window`.
    /// Records its duration in [`Pace`].
    fn pass(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        window: Window,
        with_prompt: bool,
        temperature: f32,
        threads: usize,
        abort: &Arc<AtomicBool>,
    ) -> Result<Attempt, SttError> {
        let started = std::time::Instant::now();
        let seconds = samples.len() as f64 / f64::from(WHISPER_RATE_HZ);
        let cap = max_tokens(seconds);
        let n_audio_ctx = self.context.model_n_audio_ctx();
        let positions = match window {
            Window::Utterance => audio_ctx(seconds, n_audio_ctx),
            Window::Retry => retry_ctx(seconds, n_audio_ctx),
        };
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(i32::try_from(threads).unwrap_or(1));
        params.set_language(Some(&self.language));
        if with_prompt && !self.prompt.is_empty() {
            params.set_tokens(&self.prompt);
        }
        params.set_translate(false);
        params.set_no_timestamps(true);
        params.set_single_segment(true);
        // Each turn stands alone: no conditioning on earlier text.
        params.set_no_context(true);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        // One pass per window, bounded time: the retry is ours, not whisper.cpp's ladder.
        params.set_temperature(temperature);
        params.set_temperature_inc(0.0);
        params.set_logprob_thold(decode_check::LOGPROB_THRESHOLD);
        params.set_no_speech_thold(decode_check::NO_SPEECH_THRESHOLD);
        // 0 is whisper.cpp's "the model's own" (the full window).
        params.set_audio_ctx(if positions >= n_audio_ctx { 0 } else { positions });
        params.set_max_tokens(cap);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        // whisper-rs's `set_abort_callback_safe` casts its boxed closure back to
        // the wrong type (0.16.0), so the flag is polled through the raw hook.
        let loop_stop = LoopStop::new(self.context.token_eot(), usize::try_from(self.context.n_vocab()).unwrap_or(0));
        // SAFETY: `abort_requested` matches `ggml_abort_callback`; the pointer is
        // to the `AtomicBool` that `abort` keeps alive until after `full` returns.
        // `stop_loops` matches `whisper_logits_filter_callback`; `loop_stop`
        // lives on this frame until after `full` returns.
        unsafe {
            params.set_abort_callback(Some(abort_requested));
            params.set_abort_callback_user_data(Arc::as_ptr(abort).cast_mut().cast());
            params.set_filter_logits_callback(Some(loop_stop::stop_loops));
            params.set_filter_logits_callback_user_data(std::ptr::from_ref(&loop_stop).cast_mut().cast());
        }
        state.full(params, samples).map_err(|e| match abort.load(Ordering::Relaxed) {
            true => {
                SttError::Provider { status: None, message: "whisper decode aborted: the utterance was abandoned".into(), retryable: false }
            }
            false => provider_error("decode", e),
        })?;
        let eot = self.context.token_eot();
        let mut text = String::new();
        let (mut tokens, mut logprob, mut no_speech_prob) = (0usize, 0f64, 0f32);
        for segment in state.as_iter() {
            let part = segment.to_str_lossy().map_err(|e| provider_error("read a segment", e))?;
            text.push_str(&part);
            text.push(' ');
            no_speech_prob = no_speech_prob.max(segment.no_speech_probability());
            for data in (0..segment.n_tokens()).filter_map(|i| segment.get_token(i)).map(|t| t.token_data()) {
                if data.id < eot {
                    tokens += 1;
                    logprob += f64::from(data.plog);
                }
            }
        }
        let avg_logprob = if tokens == 0 { 0.0 } else { (logprob / tokens as f64) as f32 };
        match window {
            Window::Utterance => self.pace.record_short(positions, started.elapsed()),
            Window::Retry if positions >= n_audio_ctx => self.pace.record_full(started.elapsed()),
            Window::Retry => {}
        }
        let hit_cap = tokens + 1 >= usize::try_from(cap).unwrap_or(0);
        Ok(Attempt { text: clean_text(&text), tokens, avg_logprob, no_speech_prob, hit_cap, looped: loop_stop.stopped() })
    }
}

/// The text to hand on from `attempt`: empty when it is no speech; loops
/// cut and the words capped to what `seconds` of audio hold.
fn settle(attempt: &Attempt, seconds: f64) -> Decoded {
    if attempt.is_no_speech() {
        return Decoded::default();
    }
    let text = match attempt.suspicion(seconds) {
        None | Some(Suspicion::LowLogprob(_)) => attempt.text.clone(),
        Some(_) => decode_check::clean_up(&attempt.text, decode_check::words_allowed(seconds)),
    };
    Decoded::from_attempt(attempt, text)
}

fn provider_error(what: &str, e: whisper_rs::WhisperError) -> SttError {
    SttError::Provider { status: None, message: format!("whisper.cpp failed to {what}: {e:?}"), retryable: false }
}

/// `ggml_abort_callback`: whether the caller of the decode has gone away.
unsafe extern "C" fn abort_requested(flag: *mut c_void) -> bool {
    // SAFETY: `flag` is null or the `AtomicBool` `Decode::run` keeps alive
    // while whisper.cpp runs.
    unsafe { flag.cast::<AtomicBool>().as_ref() }.is_some_and(|flag| flag.load(Ordering::Relaxed))
}

/// `prompt` as the tokens whisper.cpp would make of it as `initial_prompt`
/// (none when it is blank or cannot be tokenised). Passing tokens rather than
/// the text avoids the C string whisper-rs 0.16 leaks per `set_initial_prompt`.
fn prompt_tokens(context: &WhisperContext, prompt: &str) -> Vec<WhisperTokenId> {
    let prompt = prompt.replace('\0', " ");
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return Vec::new();
    }
    // Every token covers at least one byte, so the buffer is always large
    // enough (whisper-rs mishandles the "buffer too small" answer).
    context.tokenize(prompt, prompt.len() + 8).unwrap_or_else(|e| {
        tracing::debug!(error = ?e, "Whisper could not tokenise the prompt; decoding without it.");
        Vec::new()
    })
}

/// Encoder positions for `seconds` of audio: 50 a second, rounded up, plus
/// [`AUDIO_CTX_MARGIN`], within [[`MIN_AUDIO_CTX`], `n_audio_ctx`] (1500).
fn audio_ctx(seconds: f64, n_audio_ctx: i32) -> i32 {
    let needed = (seconds * POSITIONS_PER_SECOND).ceil().min(f64::from(n_audio_ctx)) as i32 + AUDIO_CTX_MARGIN;
    needed.clamp(MIN_AUDIO_CTX.min(n_audio_ctx), n_audio_ctx)
}

/// Encoder positions of the retry's window for `seconds` of audio:
/// [`SHORT_RETRY_CTX`] when the turn fits the smallest short window
/// ([`MIN_AUDIO_CTX`]), else `n_audio_ctx` (the full window).
fn retry_ctx(seconds: f64, n_audio_ctx: i32) -> i32 {
    match audio_ctx(seconds, n_audio_ctx) {
        short if short <= MIN_AUDIO_CTX => SHORT_RETRY_CTX.min(n_audio_ctx),
        _ => n_audio_ctx,
    }
}

/// Most tokens to decode for `seconds` of audio: [`TOKENS_BASE`] plus
/// [`TOKENS_PER_SECOND`] a second, below Whisper's 224-token half context.
fn max_tokens(seconds: f64) -> i32 {
    (TOKENS_BASE + (seconds * TOKENS_PER_SECOND).ceil() as i32).min(220)
}

/// The recognised text without Whisper's non-speech annotations (anything in
/// square brackets or parentheses, music notes), whitespace collapsed.
pub fn clean_text(raw: &str) -> String {
    let mut kept = String::with_capacity(raw.len());
    let mut closing: Option<char> = None;
    for c in raw.chars() {
        match closing {
            Some(end) if c == end => closing = None,
            Some(_) => {}
            None => match c {
                '[' => closing = Some(']'),
                '(' => closing = Some(')'),
                '♪' | '♫' | '♬' => kept.push(' '),
                _ => kept.push(c),
            },
        }
    }
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Routes whisper.cpp's and ggml's log lines to `tracing` at debug level
/// (target `whisper_cpp`) instead of stderr. Installed once per process.
fn install_log_hooks() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: `log_to_tracing` matches `ggml_log_callback`, never unwinds,
        // and ignores the user-data pointer, which is null.
        unsafe {
            whisper_rs::whisper_rs_sys::whisper_log_set(Some(log_to_tracing), std::ptr::null_mut());
            whisper_rs::whisper_rs_sys::ggml_log_set(Some(log_to_tracing), std::ptr::null_mut());
        }
    });
}

/// `ggml_log_callback`: one log fragment from whisper.cpp or ggml.
unsafe extern "C" fn log_to_tracing(level: whisper_rs::whisper_rs_sys::ggml_log_level, text: *const c_char, _user_data: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: whisper.cpp passes a NUL-terminated string valid for the call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim();
    if !text.is_empty() {
        tracing::debug!(target: "whisper_cpp", level, "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::ggml::{write_model, WhisperShape};
    use fluxion_core::speech::stt::transcribe;
    use std::time::{Duration, Instant};

    /// A speech-like test signal: a 150 Hz buzz with harmonics, its loudness
    /// rising and falling four times a second like syllables.
    fn voice(rate_hz: u32, seconds: f64) -> Vec<i16> {
        let n = (f64::from(rate_hz) * seconds) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate_hz);
                let envelope = (std::f64::consts::PI * 4.0 * t).sin().abs();
                let tone: f64 = (1..=5).map(|h| (2.0 * std::f64::consts::PI * 150.0 * h as f64 * t).sin() / h as f64).sum();
                (envelope * tone * 6000.0) as i16
            })
            .collect()
    }

    #[test]
    fn audio_ctx_follows_the_duration() {
        assert_eq!(audio_ctx(1.0, 1500), 128);
        assert_eq!(audio_ctx(3.0, 1500), 150 + 64);
        assert_eq!(audio_ctx(2.01, 1500), 101 + 64);
        assert_eq!(audio_ctx(29.0, 1500), 1500);
        assert_eq!(audio_ctx(60.0, 1500), 1500);
        assert_eq!(max_tokens(2.0), 28);
        assert_eq!(max_tokens(1.0), 18);
        assert_eq!(max_tokens(1000.0), 220);
    }

    #[test]
    fn short_turns_are_retried_on_a_narrower_window_than_the_full_one() {
        // A one- or two-word turn: 384 positions (7.7 s), not 1500.
        assert_eq!(retry_ctx(0.3, 1500), 384);
        assert_eq!(retry_ctx(1.28, 1500), 384);
        // Longer turns: the full window.
        assert_eq!(retry_ctx(1.3, 1500), 1500);
        assert_eq!(retry_ctx(8.0, 1500), 1500);
        // A model with a smaller window keeps to it.
        assert_eq!(retry_ctx(1.0, 300), 300);
    }

    #[test]
    fn non_speech_markers_are_dropped() {
        assert_eq!(clean_text(" [Musica] "), "");
        assert_eq!(clean_text("[BLANK_AUDIO]"), "");
        assert_eq!(clean_text(" (applausi) Buongiorno,  vorrei  prenotare ♪ "), "Buongiorno, vorrei prenotare");
        assert_eq!(clean_text("Alle 10 [risate] va bene."), "Alle 10 va bene.");
    }

    #[test]
    fn missing_model_is_unavailable_with_the_download_command() {
        let dir = tempfile::tempdir().unwrap();
        let err = WhisperStt::from_models_dir(dir.path(), None).unwrap_err();
        match &err {
            SttError::Unavailable(message) => assert!(message.contains("fluxion models download base-q5_1"), "{message}"),
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert!(!err.is_retryable());
        let err = WhisperStt::from_models_dir(dir.path(), Some("tiny-q5_1")).unwrap_err();
        assert!(err.to_string().contains("fluxion models download tiny-q5_1"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_model_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ggml-base-q5_1.bin");
        std::fs::write(&path, b"not a model").unwrap();
        assert!(matches!(WhisperStt::load(&path), Err(SttError::Unavailable(_))));
    }

    /// The real whisper.cpp path on a generated tiny model: loads, decodes
    /// 2 s at 8 kHz and at 16 kHz, and returns within the time limit. The
    /// weights are random, so the text is whatever the model makes of it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn generated_tiny_model_transcribes_within_the_time_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ggml-tiny-generated.bin");
        write_model(&path, WhisperShape::TINY, 1).unwrap();
        let stt = tokio::task::spawn_blocking(move || WhisperStt::load(&path)).await.unwrap().unwrap();
        assert_eq!(stt.name(), "whisper");
        let tokens = prompt_tokens(&stt.context, "taglio,\0 piega");
        assert!(!tokens.is_empty() && tokens.len() <= "taglio,  piega".len(), "{tokens:?}");
        assert!(prompt_tokens(&stt.context, " \n ").is_empty());
        for rate in [8_000, 16_000] {
            let request = SttRequest::italian(rate).with_prompt("taglio, piega, colore, Giulia");
            let started = Instant::now();
            let transcript = transcribe(&stt, &request, &voice(rate, 2.0)).await.unwrap();
            let elapsed = started.elapsed();
            assert!(elapsed < Duration::from_secs(60), "{rate} Hz took {elapsed:?}");
            assert_eq!(transcript.audio_ms, 2000);
            assert_eq!(transcript.text, transcript.text.trim());
            // The runaway guard: at most `max_tokens` tokens of at most 7 bytes
            // in the generated vocabulary (a random model never says end of text).
            assert!(transcript.text.len() <= max_tokens(2.0) as usize * 7, "{}", transcript.text);
            eprintln!("{rate} Hz: {elapsed:?}, text {:?}", transcript.text);
        }
        // Very short and empty utterances.
        let short = transcribe(&stt, &SttRequest::italian(16_000), &voice(16_000, 0.2)).await.unwrap();
        assert_eq!(short.audio_ms, 200);
        let empty = transcribe(&stt, &SttRequest::italian(16_000), &[]).await.unwrap();
        assert_eq!(empty, Transcript::default());
    }

    #[test]
    fn a_decode_whose_caller_left_is_aborted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ggml-tiny-generated.bin");
        write_model(&path, WhisperShape::TINY, 3).unwrap();
        let stt = WhisperStt::load(&path).unwrap();
        let job = |pcm| Decode {
            context: Arc::clone(&stt.context),
            pace: Arc::clone(&stt.pace),
            states: Arc::clone(&stt.states),
            language: "it".into(),
            prompt: Vec::new(),
            prompt_words: Vec::new(),
            pcm,
        };
        // The state the calibration used is reused and given back.
        assert_eq!(stt.states.idle(), 1);
        assert!(job(voice(16_000, 1.0)).run(Arc::new(AtomicBool::new(false)), 0).is_ok());
        assert_eq!(stt.states.idle(), 1);
        let err = job(voice(16_000, 1.0)).run(Arc::new(AtomicBool::new(true)), 0).unwrap_err();
        assert!(err.to_string().contains("aborted"), "{err}");
        // An aborted decode's state is not reused; the next decode builds one.
        assert_eq!(stt.states.idle(), 0);
        assert!(job(voice(16_000, 1.0)).run(Arc::new(AtomicBool::new(false)), 0).is_ok());
        assert_eq!(stt.states.idle(), 1);
    }

    #[tokio::test]
    async fn bad_requests_are_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ggml-tiny-generated.bin");
        write_model(&path, WhisperShape::TINY, 2).unwrap();
        let stt = WhisperStt::load(&path).unwrap();
        assert!(matches!(stt.start(&SttRequest::italian(11_025)).await, Err(SttError::Audio(_))));
        let mut klingon = SttRequest::italian(16_000);
        klingon.language = "tlh\0".to_string();
        assert!(matches!(stt.start(&klingon).await, Err(SttError::Unavailable(_))));
    }
}
