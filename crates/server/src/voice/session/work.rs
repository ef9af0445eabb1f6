//! The call loop's worker tasks (recognition, speaking) and the messages
//! they send back, and the state of the caller turn they work on.

use std::sync::Arc;
use std::time::Instant;

use fluxion_core::speech::sentences;
use fluxion_core::speech::stt::{SpeechToText, SttError, SttRequest, Transcript};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::speech::speaker::Speaker;
use crate::voice::agent::AgentReply;

/// Messages from worker tasks to the call loop; `turn` tells stale ones apart.
pub(super) enum Work {
    Transcript {
        turn: u32,
        result: Result<Transcript, SttError>,
    },
    /// A decode of the turn so far, started in a pause at `speech_end` (samples).
    Speculated {
        turn: u32,
        speech_end: u64,
        result: Result<Transcript, SttError>,
    },
    Reply {
        turn: u32,
        reply: Result<AgentReply, String>,
    },
    /// Agent audio for the playback queue (a cached phrase's own buffer, shared).
    Audio {
        turn: u32,
        pcm: Arc<Vec<i16>>,
    },
    Sentence {
        turn: u32,
        text: String,
        engine: Result<String, String>,
    },
    Done {
        turn: u32,
    },
}

/// The caller turn being recognised or answered.
pub(super) struct PendingTurn {
    pub(super) index: u32,
    pub(super) speech_start_ms: u64,
    pub(super) speech_end_ms: u64,
    /// Silence waited after the last word before the turn ended, ms.
    pub(super) endpoint_ms: u64,
    pub(super) ended_at: Option<Instant>,
    pub(super) transcript: Option<String>,
    pub(super) transcript_ms: u64,
    pub(super) reply: Option<AgentReply>,
    pub(super) reply_ms: u64,
    pub(super) first_audio_ms: Option<u64>,
    pub(super) filler: bool,
    pub(super) tts_engine: String,
    /// The caller spoke while the agent was talking; decided once transcribed.
    pub(super) during_playback: bool,
    pub(super) early_result: Option<Result<Transcript, SttError>>,
    /// The turn's audio once it has ended (pre-roll included), kept until
    /// its transcript comes: if the caller goes on first, it opens the next turn.
    pub(super) audio: Vec<i16>,
}

impl PendingTurn {
    /// A turn numbered `index` whose speech started at `at_ms` (call clock).
    pub(super) fn new(index: u32, at_ms: u64) -> Self {
        PendingTurn {
            index,
            speech_start_ms: at_ms,
            speech_end_ms: at_ms,
            endpoint_ms: 0,
            ended_at: None,
            transcript: None,
            transcript_ms: 0,
            reply: None,
            reply_ms: 0,
            first_audio_ms: None,
            filler: false,
            tts_engine: String::new(),
            during_playback: false,
            early_result: None,
            audio: Vec::new(),
        }
    }
}

impl Session {
    pub(super) async fn on_work(&mut self, work: Work) {
        match work {
            Work::Speculated { turn, speech_end, result } => self.on_speculated(turn, speech_end, result).await,
            Work::Transcript { turn, result } => {
                let Some(pending) = self.pending.as_mut().filter(|p| p.index == turn && p.transcript.is_none()) else { return };
                if pending.ended_at.is_none() {
                    // A streaming engine failed mid-utterance: answer at the end of the turn.
                    pending.early_result = Some(result);
                    return;
                }
                self.on_transcript(result).await;
            }
            Work::Reply { turn, reply } => self.on_reply(turn, reply).await,
            Work::Audio { turn, pcm } => {
                if self.speaking.as_ref().is_none_or(|(t, _)| *t != turn) {
                    return;
                }
                if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
                    if p.first_audio_ms.is_none() {
                        p.first_audio_ms = p.ended_at.map(|t| t.elapsed().as_millis() as u64);
                    }
                }
                self.filler_deadline = None;
                self.playback.push(pcm);
            }
            Work::Sentence { turn, text, engine } => {
                if self.speaking.as_ref().is_none_or(|(t, _)| *t != turn) {
                    return;
                }
                self.playback.seal();
                match engine {
                    Ok(engine) => {
                        if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
                            p.tts_engine = engine;
                        }
                    }
                    Err(error) => tracing::error!(%error, sentence = %text, "no engine could speak a sentence"),
                }
            }
            Work::Done { turn } => {
                if self.speaking.as_ref().is_some_and(|(t, _)| *t == turn) {
                    self.speaking = None;
                    self.playback.seal();
                    self.finish_turn(turn).await;
                }
            }
        }
    }
}

/// Speaks `text` sentence by sentence through the speaker, sending audio to
/// the call loop as it is produced; stops at the next sentence when cancelled.
pub(super) async fn speak(
    speaker: &Speaker,
    text: &str,
    rate_hz: u32,
    turn: u32,
    tx: &mpsc::UnboundedSender<Work>,
    cancel: &CancellationToken,
) {
    for sentence in sentences::split(text) {
        if cancel.is_cancelled() {
            return;
        }
        let mut sink = |pcm: Vec<i16>| {
            let _ = tx.send(Work::Audio { turn, pcm: Arc::new(pcm) });
        };
        let engine = tokio::select! {
            _ = cancel.cancelled() => return,
            result = speaker.say(&sentence, rate_hz, &mut sink) => result.map_err(|e| e.to_string()),
        };
        let _ = tx.send(Work::Sentence { turn, text: sentence, engine });
    }
}

/// Runs one utterance through the recogniser: opens the stream, pushes
/// frames until the call loop closes the channel (end of turn), finishes.
/// Cancelled (a speculation stands in for it), it stops without a result.
pub(super) async fn recognise(
    stt: Arc<dyn SpeechToText>,
    request: SttRequest,
    mut frames: mpsc::UnboundedReceiver<Vec<i16>>,
    tx: mpsc::UnboundedSender<Work>,
    turn: u32,
    cancel: CancellationToken,
) {
    let stream = async {
        let mut stream = stt.start(&request).await?;
        while let Some(frame) = frames.recv().await {
            stream.push(&frame).await?;
        }
        Ok::<_, SttError>(stream)
    }
    .await;
    let result = match stream {
        Ok(_) if cancel.is_cancelled() => return,
        Ok(stream) => tokio::select! {
            _ = cancel.cancelled() => return,
            result = stream.finish() => result,
        },
        Err(e) => Err(e),
    };
    let _ = tx.send(Work::Transcript { turn, result });
}

pub(super) async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
