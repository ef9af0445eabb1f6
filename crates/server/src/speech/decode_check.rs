//! Checks on one Whisper decode of a caller's turn: whether the text is a
//! hallucination loop or a guess, and the last-resort clean-up when even the
//! retry is suspect.
//!
//! The guards follow upstream Whisper decoders (OpenAI's `transcribe`,
//! whisper.cpp's `whisper_full`, faster-whisper): a log-probability threshold
//! (-1.0), a no-speech threshold (0.6) that only drops text when the model is
//! also unsure of it, and a repetition check. Upstream measures repetition by
//! the gzip compression ratio of a 30 s window (above 2.4 is a loop); a phone
//! turn is a few seconds, where gzip's own overhead hides short loops, so here
//! a loop is a run of the same word n-gram repeated back to back
//! ([`tandem_repeat`]). A turn can also not hold more words than anyone says
//! in its duration ([`words_allowed`]).

/// Mean token log-probability below which a decode is a guess (upstream: -1.0).
pub const LOGPROB_THRESHOLD: f32 = -1.0;

/// Probability of the no-speech token above which a decode that is also a
/// guess is dropped as silence (upstream: 0.6).
pub const NO_SPEECH_THRESHOLD: f32 = 0.6;

/// The same n-gram this many times in a row is a loop (a caller may say
/// "no, no" but the model, not the caller, says it five times).
pub const LOOP_REPEATS: usize = 3;

/// Longest n-gram, in words, looked for by [`tandem_repeat`].
const MAX_NGRAM: usize = 12;

/// Most words a second of speech holds: fast Italian is about 4 words a
/// second, so more than this is text the model made up.
pub const MAX_WORDS_PER_SECOND: f64 = 4.5;

/// Words allowed on top of the per-second allowance (short answers).
const WORDS_BASE: usize = 3;

/// Fewest words of the initial prompt, in a row, that make a transcript an
/// echo of the prompt rather than speech (Whisper repeats its prompt on
/// silence and noise; a caller's "sì" or "Giulia" is not an echo).
pub const ECHO_WORDS: usize = 3;

/// RMS level (of 32768) below which audio is treated as silence and not
/// decoded at all: about -55 dBFS, far below any speech on a phone line.
pub const QUIET_RMS: f64 = 60.0;

/// What one decoding pass produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attempt {
    /// The recognised text, non-speech annotations removed.
    pub text: String,
    /// Text tokens decoded (no special tokens).
    pub tokens: usize,
    /// Mean natural-log probability of the text tokens (0 when there are none).
    pub avg_logprob: f32,
    /// Probability of the no-speech token at the first step, in `[0, 1]`.
    pub no_speech_prob: f32,
    /// Whether decoding stopped at the token cap rather than at end of text.
    pub hit_cap: bool,
    /// Whether decoding was stopped because its tokens repeated themselves
    /// (`whisper::loop_stop`).
    pub looped: bool,
}

/// Why a decode is not trusted as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Suspicion {
    /// An n-gram of `words` words repeated `times` times in a row.
    Repetition {
        /// Length of the repeated n-gram, in words.
        words: usize,
        /// How many times in a row it occurs.
        times: usize,
    },
    /// Decoding ran into the token cap.
    TokenCap,
    /// Decoding was stopped because its tokens repeated themselves.
    LoopStopped,
    /// More words than the audio can hold.
    TooManyWords {
        /// Words recognised.
        words: usize,
        /// Words the duration allows ([`words_allowed`]).
        allowed: usize,
    },
    /// The mean token log-probability is below [`LOGPROB_THRESHOLD`].
    LowLogprob(f32),
    /// The text is a piece of the initial prompt ([`echoes_prompt`]).
    PromptEcho,
}

impl std::fmt::Display for Suspicion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Suspicion::Repetition { words, times } => write!(f, "a {words}-word phrase repeated {times} times"),
            Suspicion::TokenCap => write!(f, "the token cap was reached"),
            Suspicion::LoopStopped => write!(f, "decoding was stopped in a loop"),
            Suspicion::TooManyWords { words, allowed } => write!(f, "{words} words where at most {allowed} fit"),
            Suspicion::LowLogprob(lp) => write!(f, "mean log-probability {lp:.2}"),
            Suspicion::PromptEcho => write!(f, "the text repeats the prompt"),
        }
    }
}

impl Attempt {
    /// Whether the model marked this audio as no speech: the no-speech token
    /// is likely and the text is a guess (upstream's rule).
    pub fn is_no_speech(&self) -> bool {
        self.no_speech_prob > NO_SPEECH_THRESHOLD && self.avg_logprob < LOGPROB_THRESHOLD
    }

    /// The first reason not to trust this decode of `seconds` of audio, or
    /// `None` when it looks like speech recognised.
    pub fn suspicion(&self, seconds: f64) -> Option<Suspicion> {
        let words = normalised_words(&self.text);
        let (n, times) = tandem_repeat(&words);
        if times >= LOOP_REPEATS {
            return Some(Suspicion::Repetition { words: n, times });
        }
        if self.looped {
            return Some(Suspicion::LoopStopped);
        }
        if self.hit_cap {
            return Some(Suspicion::TokenCap);
        }
        let allowed = words_allowed(seconds);
        if words.len() > allowed {
            return Some(Suspicion::TooManyWords { words: words.len(), allowed });
        }
        (self.tokens > 0 && self.avg_logprob < LOGPROB_THRESHOLD).then_some(Suspicion::LowLogprob(self.avg_logprob))
    }
}

/// Whether all of `text` is a run of at least [`ECHO_WORDS`] words found,
/// in the same order and back to back, in `prompt` (normalised words).
pub fn echoes_prompt(text: &str, prompt: &[String]) -> bool {
    let words = normalised_words(text);
    words.len() >= ECHO_WORDS && prompt.windows(words.len()).any(|w| w == words.as_slice())
}

/// Whether `pcm` is too quiet to hold speech (RMS below [`QUIET_RMS`]).
pub fn is_quiet(pcm: &[i16]) -> bool {
    if pcm.is_empty() {
        return true;
    }
    let energy: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (energy / pcm.len() as f64).sqrt() < QUIET_RMS
}

/// Most words `seconds` of audio can hold: [`MAX_WORDS_PER_SECOND`] a
/// second plus a few for very short answers.
pub fn words_allowed(seconds: f64) -> usize {
    (seconds.max(0.0) * MAX_WORDS_PER_SECOND).ceil() as usize + WORDS_BASE
}

/// `text`'s words lower-cased, without punctuation, for comparisons.
pub fn normalised_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The most repeated back-to-back n-gram of `words`: `(n, times)`, preferring
/// the shorter n-gram on ties; `(0, 0)` for no words, `(1, 1)` when nothing repeats.
pub fn tandem_repeat(words: &[String]) -> (usize, usize) {
    let mut best = if words.is_empty() { (0, 0) } else { (1, 1) };
    for n in 1..=MAX_NGRAM.min(words.len() / 2) {
        for start in 0..words.len() {
            let mut times = 1;
            while start + (times + 1) * n <= words.len() && words[start..start + n] == words[start + times * n..start + (times + 1) * n] {
                times += 1;
            }
            if times > best.1 {
                best = (n, times);
            }
        }
    }
    best
}

/// When all of `text` is one phrase said over and over from its first word,
/// [`LOOP_REPEATS`] times or more (the last time possibly cut short, even
/// mid-word), the phrase's length in words: the model heard that phrase and
/// did not stop. `None` otherwise. Whisper's loop on real speech often has
/// this shape (issue 14: a clip recognised correctly, then repeated to the
/// token cap), and on a turn of a word or two a decode on a wider window
/// returns that same phrase once ("C C C …" → "C", "Ma Belle. Ma Belle. …"
/// → "Ma Belle." on espeak-ng's "sì", "va bene"; see `whisper::run`).
pub fn looped_phrase_words(text: &str) -> Option<usize> {
    let words = normalised_words(text);
    // Twice in full and begun a third time: a token cap may stop it mid-word.
    let (last, whole) = words.split_last()?;
    let longest = MAX_NGRAM.min(whole.len() / (LOOP_REPEATS - 1));
    (1..=longest).find(|&n| words[whole.len() % n].starts_with(last.as_str()) && whole.iter().enumerate().all(|(i, w)| *w == words[i % n]))
}

/// Fewest words a second a looped phrase must hold to stand for the whole
/// turn ([`looped_phrase_words`]): below it the caller said more than the
/// phrase, and the turn is decoded again.
pub const MIN_PHRASE_WORDS_PER_SECOND: f64 = 1.0;

/// `text` with every loop (an n-gram repeated [`LOOP_REPEATS`] times or more
/// in a row) cut to one occurrence, and at most `max_words` words. The
/// original words (case, punctuation) are kept.
pub fn clean_up(text: &str, max_words: usize) -> String {
    let original: Vec<&str> = text.split_whitespace().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(original.len());
    let key = |w: &str| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let keys: Vec<String> = original.iter().map(|w| key(w)).collect();
    let mut i = 0;
    while i < original.len() {
        let mut skipped = false;
        for n in 1..=MAX_NGRAM {
            if i + LOOP_REPEATS * n > original.len() {
                continue;
            }
            let times =
                (1..).take_while(|t| i + (t + 1) * n <= keys.len() && keys[i..i + n] == keys[i + t * n..i + (t + 1) * n]).count() + 1;
            if times >= LOOP_REPEATS {
                kept.extend_from_slice(&original[i..i + n]);
                i += times * n;
                skipped = true;
                break;
            }
        }
        if !skipped {
            kept.push(original[i]);
            i += 1;
        }
    }
    kept.truncate(max_words);
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(text: &str, avg_logprob: f32) -> Attempt {
        Attempt {
            text: text.to_string(),
            tokens: text.split_whitespace().count() * 2,
            avg_logprob,
            no_speech_prob: 0.01,
            hit_cap: false,
            looped: false,
        }
    }

    #[test]
    fn a_sentence_repeated_is_a_loop() {
        let looped = "Un taglio per giovedì. Un taglio per giovedì. Un taglio per giovedì. Un taglio per giovedì.";
        assert_eq!(attempt(looped, -0.2).suspicion(3.0), Some(Suspicion::Repetition { words: 4, times: 4 }));
        assert_eq!(clean_up(looped, 100), "Un taglio per giovedì.");
        assert_eq!(attempt("sì sì sì sì sì sì", -0.1).suspicion(2.0), Some(Suspicion::Repetition { words: 1, times: 6 }));
        assert_eq!(clean_up("Va bene, sì sì sì sì sì sì grazie", 100), "Va bene, sì grazie");
    }

    #[test]
    fn natural_repetition_and_normal_sentences_pass() {
        assert_eq!(attempt("No, no, vorrei spostarlo a venerdì.", -0.3).suspicion(2.5), None);
        assert_eq!(attempt("Buongiorno, vorrei prenotare un taglio per domani alle 15:30 con Giulia.", -0.4).suspicion(4.0), None);
        assert_eq!(clean_up("No, no, va bene", 100), "No, no, va bene");
    }

    #[test]
    fn too_many_words_for_the_audio_or_a_guess_is_suspect() {
        assert_eq!(words_allowed(2.0), 12);
        let long = "uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici";
        assert_eq!(attempt(long, -0.2).suspicion(2.0), Some(Suspicion::TooManyWords { words: 13, allowed: 12 }));
        assert_eq!(clean_up(long, 12).split_whitespace().count(), 12);
        assert_eq!(attempt("Sottotitoli a cura di", -1.6).suspicion(2.0), Some(Suspicion::LowLogprob(-1.6)));
        let capped = Attempt { hit_cap: true, ..attempt("vorrei", -0.1) };
        assert_eq!(capped.suspicion(1.0), Some(Suspicion::TokenCap));
        let stopped = Attempt { looped: true, hit_cap: true, ..attempt("vorrei", -0.1) };
        assert_eq!(stopped.suspicion(1.0), Some(Suspicion::LoopStopped));
    }

    #[test]
    fn no_speech_needs_both_the_token_and_a_guess() {
        let silence = Attempt { no_speech_prob: 0.9, ..attempt("Grazie.", -1.4) };
        assert!(silence.is_no_speech());
        let confident = Attempt { no_speech_prob: 0.9, ..attempt("Grazie.", -0.2) };
        assert!(!confident.is_no_speech());
        assert!(!attempt("Grazie.", -1.4).is_no_speech());
    }

    #[test]
    fn prompt_echoes_and_quiet_audio() {
        let prompt = normalised_words("Salone Giulia. Taglio donna, Piega. Vorrei prenotare un appuntamento per domani.");
        assert!(echoes_prompt("Vorrei prenotare un appuntamento.", &prompt));
        assert!(echoes_prompt("taglio donna piega", &prompt));
        assert!(!echoes_prompt("Piega.", &prompt));
        assert!(!echoes_prompt("Vorrei prenotare una piega", &prompt));
        assert!(!echoes_prompt("Vorrei prenotare un appuntamento", &[]));
        assert!(is_quiet(&[]) && is_quiet(&[30, -30, 10, 0]));
        assert!(!is_quiet(&[3_000, -2_000, 500, -4_000]));
    }

    #[test]
    fn a_phrase_looped_from_the_start_is_one_phrase() {
        let cases = [
            ("C C C C", Some(1)),
            ("Ma Belle. Ma Belle. Ma Belle. Ma", Some(2)),
            ("Per esempio. Per esempio. Per esempio.", Some(2)),
            ("Siete aperti sabato? Siete aperti sabato? Siete aperti sabato? Siete", Some(3)),
            // Stopped by the token cap inside the third time, inside a word.
            ("Siete a partil, sanato, pomerizo. Siete a partil, sanato, pomerizo. Siete a partil, san", Some(5)),
            ("Sì, sì, s", Some(1)),
            ("Siete aperti. Siete aperti. Siete chiusi", None),
            // Twice is not a loop; words before the loop are more than one phrase.
            ("No, no.", None),
            ("Va bene, sì sì sì sì", None),
            ("Mi chiamo Mario Bianchi", None),
            ("", None),
        ];
        for (text, phrase) in cases {
            assert_eq!(looped_phrase_words(text), phrase, "{text:?}");
        }
    }

    #[test]
    fn tandem_repeat_edges() {
        let words = |s: &str| normalised_words(s);
        assert_eq!(tandem_repeat(&[]), (0, 0));
        assert_eq!(tandem_repeat(&words("ciao")), (1, 1));
        assert_eq!(tandem_repeat(&words("a b a b a b c")), (2, 3));
        assert_eq!(normalised_words("È, Giulia!"), vec!["è", "giulia"]);
    }
}
