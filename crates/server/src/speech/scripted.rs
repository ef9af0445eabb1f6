//! A **scripted recogniser**: it does not listen. Each utterance the session
//! detects gets the next line of a script, in order. Tests (and `fluxion
//! call --script`) use it where no Whisper model is present, to check
//! segmentation, timing and the booking on real audio without pretending
//! to recognise it. `STT_ENGINE=scripted` never selects it: it must be
//! built explicitly.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use fluxion_core::speech::stt::{duration_ms, SpeechToText, SttError, SttRequest, SttStream, Transcript};
use fluxion_core::speech::BoxFuture;

/// Returns the script's lines, one per utterance; empty text once they run out.
#[derive(Debug, Clone, Default)]
pub struct ScriptedStt {
    lines: Arc<Mutex<VecDeque<String>>>,
    heard: Arc<Mutex<Vec<u64>>>,
}

impl ScriptedStt {
    /// A recogniser that will "hear" `lines` in order.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(lines: I) -> Self {
        ScriptedStt { lines: Arc::new(Mutex::new(lines.into_iter().map(Into::into).collect())), heard: Arc::default() }
    }

    /// Durations of the utterances it was given, in ms, in order.
    pub fn utterance_ms(&self) -> Vec<u64> {
        self.heard.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

struct Stream {
    owner: ScriptedStt,
    rate_hz: u32,
    samples: usize,
}

impl SpeechToText for ScriptedStt {
    fn name(&self) -> &str {
        "scripted"
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(
            async move { Ok(Box::new(Stream { owner: self.clone(), rate_hz: request.sample_rate_hz, samples: 0 }) as Box<dyn SttStream>) },
        )
    }
}

impl SttStream for Stream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.samples += pcm.len();
        Box::pin(async { Ok(()) })
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async move {
            let audio_ms = duration_ms(self.samples, self.rate_hz);
            if let Ok(mut heard) = self.owner.heard.lock() {
                heard.push(audio_ms);
            }
            let text = self.owner.lines.lock().ok().and_then(|mut l| l.pop_front()).unwrap_or_default();
            Ok(Transcript { text, confidence: None, audio_ms })
        })
    }
}
