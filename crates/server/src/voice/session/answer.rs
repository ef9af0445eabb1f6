//! Transcripts to replies: the held (unfinished) sentence, barge-in that
//! turned out real, the dialogue's answer spoken sentence by sentence, the
//! turn's timings, the filler, DTMF, fixed phrases and the end of the call.

use std::time::Instant;

use fluxion_core::speech::backchannel;
use fluxion_core::speech::stt::{SttError, Transcript};
use tokio_util::sync::CancellationToken;

use super::work::{speak, PendingTurn, Work};
use super::{CallEvent, HangupReason, Session, TurnTiming};
use crate::voice::agent::AgentReply;
use crate::voice::phrases;
use crate::voice::speculation::{self, Held};

impl Session {
    pub(super) async fn on_transcript(&mut self, result: Result<Transcript, SttError>) {
        self.stt_deadline = None;
        let now_ms = self.ms(self.samples_in);
        let carried = self.carried.take();
        let Some(pending) = self.pending.as_mut() else { return };
        pending.audio = Vec::new();
        let elapsed = pending.ended_at.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
        let during_playback = pending.during_playback;
        let heard = match result {
            Ok(transcript) => transcript.text.trim().to_string(),
            // Words carried from before the pause are answered anyway.
            Err(error) if carried.is_some() => {
                tracing::warn!(%error, "speech recognition failed after a pause; answering the words before it");
                self.summary.failed_recognitions += 1;
                String::new()
            }
            Err(error) => {
                tracing::warn!(%error, "speech recognition failed");
                self.summary.failed_recognitions += 1;
                self.pending = None;
                self.filler_deadline = None;
                if during_playback && self.playback.is_paused() {
                    self.resume_after_false_interruption().await;
                } else {
                    self.not_understood().await;
                }
                return;
            }
        };
        let ignorable = backchannel::is_filler(&heard) || (during_playback && backchannel::is_backchannel(&heard));
        if ignorable && carried.is_none() {
            tracing::debug!(transcript = %heard, "backchannel: not a turn");
            self.pending = None;
            self.filler_deadline = None;
            if self.playback.is_paused() {
                self.resume_after_false_interruption().await;
            }
            return;
        }
        let text = speculation::joined(carried, if ignorable { "" } else { heard.as_str() });
        pending.transcript = Some(text.clone());
        pending.transcript_ms = elapsed;
        let index = pending.index;
        if !during_playback {
            if let Some(until_ms) = speculation::hold_until(&text, pending.speech_end_ms, now_ms, &self.config) {
                tracing::debug!(transcript = %text, until_ms, "unfinished sentence: waiting for the rest");
                self.held = Some(Held { turn: index, until_ms });
                self.filler_deadline = None;
                return;
            }
        }
        self.failures_in_row = 0;
        self.reprompts = 0;
        if during_playback {
            self.interrupt().await;
        }
        self.answer(index, text);
    }

    /// Answers a held turn once its wait is over with no new speech.
    pub(super) fn release_held(&mut self) {
        let Some(held) = self.held else { return };
        if self.ms(self.samples_in) < held.until_ms || !self.endpointer.is_idle() {
            return;
        }
        self.held = None;
        let Some(text) = self.pending.as_ref().filter(|p| p.index == held.turn).and_then(|p| p.transcript.clone()) else { return };
        self.failures_in_row = 0;
        self.reprompts = 0;
        self.answer(held.turn, text);
    }

    /// A real interruption: the rest of the current reply is dropped.
    pub(super) async fn interrupt(&mut self) {
        if let Some((turn, cancel)) = self.speaking.take() {
            cancel.cancel();
            tracing::debug!(turn, "reply interrupted by the caller");
        }
        if self.playback.has_audio() {
            if !self.playback.is_paused() {
                self.emit(CallEvent::Clear).await;
            }
            self.playback.clear();
        }
        self.summary.barge_ins += 1;
    }

    pub(super) async fn resume_after_false_interruption(&mut self) {
        self.playback.resume();
        self.barge_speech = 0;
        self.summary.false_interruptions += 1;
        tracing::debug!("false interruption: the reply resumes");
    }

    /// Runs the dialogue on `text` and speaks the reply, sentence by sentence.
    pub(super) fn answer(&mut self, turn: u32, text: String) {
        let cancel = CancellationToken::new();
        if let Some((_, old)) = self.speaking.replace((turn, cancel.clone())) {
            old.cancel();
        }
        let (agent, speaker, tx, rate) = (self.agent.clone(), self.deps.speaker.clone(), self.work_tx.clone(), self.config.sample_rate_hz);
        tokio::spawn(async move {
            // The dialogue turn always completes (it may write a booking);
            // only the speaking is cancelled.
            let reply = agent.lock().await.reply(&text).await;
            let spoken = reply.as_ref().map(|r| r.text.clone()).unwrap_or_else(|_| phrases::REPEAT.to_string());
            let _ = tx.send(Work::Reply { turn, reply });
            speak(&speaker, &spoken, rate, turn, &tx, &cancel).await;
            let _ = tx.send(Work::Done { turn });
        });
    }

    pub(super) async fn on_reply(&mut self, turn: u32, reply: Result<AgentReply, String>) {
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(%error, "the dialogue could not answer");
                AgentReply { text: phrases::REPEAT.to_string(), intent: "error".to_string(), ..AgentReply::default() }
            }
        };
        self.emit(CallEvent::Say(reply.text.clone())).await;
        if let Some(booking) = &reply.booking {
            self.summary.bookings.push(booking.clone());
        }
        if reply.transfer {
            self.summary.transfer_requested = true;
            self.transfer_after = true;
        }
        if reply.ended && self.hangup_after.is_none() {
            self.hangup_after = Some(if reply.transfer { HangupReason::Transferred } else { HangupReason::Completed });
        }
        if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
            p.reply_ms = p.ended_at.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
            p.reply = Some(reply);
        }
    }

    pub(super) async fn finish_turn(&mut self, turn: u32) {
        if self.transfer_after {
            self.transfer_after = false;
            self.emit(CallEvent::Transfer).await;
        }
        let Some(p) = self.pending.take_if(|p| p.index == turn) else { return };
        let reply = p.reply.unwrap_or_default();
        let timing = TurnTiming {
            index: self.summary.turns.len() as u32 + 1,
            transcript: p.transcript.unwrap_or_default(),
            reply: reply.text,
            intent: reply.intent,
            layer: reply.layer,
            speech_start_ms: p.speech_start_ms,
            speech_end_ms: p.speech_end_ms,
            endpoint_ms: p.endpoint_ms,
            transcript_ms: p.transcript_ms,
            reply_ms: p.reply_ms,
            first_audio_ms: p.first_audio_ms,
            filler: p.filler,
            tts_engine: p.tts_engine,
            booking_id: reply.booking.map(|b| b.id),
        };
        tracing::info!(
            turn = timing.index,
            intent = %timing.intent,
            transcript_ms = timing.transcript_ms,
            reply_ms = timing.reply_ms,
            first_audio_ms = timing.first_audio_ms,
            "voice turn"
        );
        self.summary.turns.push(timing.clone());
        self.emit(CallEvent::Turn(timing)).await;
    }

    pub(super) async fn on_stt_timeout(&mut self) {
        self.stt_deadline = None;
        tracing::warn!(timeout_ms = self.config.stt_timeout_ms, "speech recognition timed out");
        self.on_transcript(Err(SttError::Timeout(self.config.stt_timeout_ms))).await;
    }

    pub(super) async fn on_filler(&mut self) {
        self.filler_deadline = None;
        let waiting = self.pending.as_ref().is_some_and(|p| p.ended_at.is_some() && p.first_audio_ms.is_none());
        if waiting && !self.playback.has_audio() {
            if let Some(p) = self.pending.as_mut() {
                p.filler = true;
            }
            self.say_phrase(phrases::FILLER).await;
        }
    }

    pub(super) fn on_dtmf(&mut self, digit: char) {
        let text = match digit {
            '1' => "sì",
            '2' => "no",
            '0' => "vorrei parlare con un operatore",
            _ => return,
        };
        if self.hangup_after.is_some() {
            return;
        }
        let index = self.next_turn();
        self.pending = Some(PendingTurn {
            ended_at: Some(Instant::now()),
            transcript: Some(format!("[DTMF {digit}] {text}")),
            ..PendingTurn::new(index, self.ms(self.samples_in))
        });
        self.utterance_tx = None;
        self.speculation = None;
        self.held = None;
        self.carried = None;
        self.resumed = Vec::new();
        self.playback.clear();
        self.answer(index, text.to_string());
    }

    pub(super) async fn not_understood(&mut self) {
        self.failures_in_row += 1;
        if self.failures_in_row >= self.config.max_failed_turns {
            self.end_with(phrases::GOODBYE_NOT_UNDERSTOOD, HangupReason::NotUnderstood).await;
        } else {
            self.say_phrase(phrases::REPEAT).await;
        }
    }

    pub(super) async fn say_phrase(&mut self, text: &'static str) {
        match self.phrases.get(text).cloned() {
            Some(pcm) => {
                self.emit(CallEvent::Say(text.to_string())).await;
                self.playback.push(pcm);
                self.playback.seal();
            }
            None => tracing::warn!(phrase = text, "fixed phrase unavailable; staying silent"),
        }
    }

    /// Drops what is queued, says a closing phrase, and hangs up once it is played.
    pub(super) async fn end_with(&mut self, text: &'static str, reason: HangupReason) {
        if let Some((_, cancel)) = self.speaking.take() {
            cancel.cancel();
        }
        if self.playback.has_audio() {
            self.emit(CallEvent::Clear).await;
            self.playback.clear();
        }
        self.pending = None;
        self.utterance_tx = None;
        self.speculation = None;
        self.held = None;
        self.carried = None;
        self.resumed = Vec::new();
        self.stt_deadline = None;
        self.filler_deadline = None;
        self.say_phrase(text).await;
        self.hangup_after = Some(reason);
    }
}
