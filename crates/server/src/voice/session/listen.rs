//! Caller audio: the VAD frame by frame, barge-in, paced playback, the
//! silence re-prompt, the endpointer's turns and speculative decoding in
//! the caller's pauses (see [`speculation`]).

use std::time::{Duration, Instant};

use fluxion_core::audio::endpoint::EndpointEvent;
use fluxion_core::speech::stt::{transcribe, SttError, Transcript};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::work::{recognise, PendingTurn, Work};
use super::{CallEvent, HangupReason, Session, FRAMES_LATE_TOTAL, FRAME_SECONDS};
use crate::voice::phrases;
use crate::voice::speculation::{self, Speculation};

impl Session {
    pub(super) async fn on_audio(&mut self, pcm: &[i16]) {
        self.received += pcm.len() as u64;
        // How far behind real time the call's audio is being handled.
        let clock_start = *self.clock_start.get_or_insert_with(Instant::now);
        let lag_ms = clock_start.elapsed().as_millis() as i64 - self.ms(self.received - pcm.len() as u64) as i64;
        if lag_ms > 20 {
            metrics::counter!(FRAMES_LATE_TOTAL).increment(1);
        }
        self.framer.push(pcm);
        while let Some(frame) = self.framer.next_frame().map(<[i16]>::to_vec) {
            let started = Instant::now();
            self.on_frame(&frame).await;
            metrics::histogram!(FRAME_SECONDS).record(started.elapsed().as_secs_f64());
            if self.hangup_after.is_some() && self.finished().is_some() {
                return;
            }
        }
    }

    pub(super) async fn on_frame(&mut self, frame: &[i16]) {
        self.samples_in += frame.len() as u64;
        let probability = self.deps.vad.speech_probability(frame).unwrap_or(0.0);
        let speech = probability >= self.config.endpoint.threshold;
        let event = self.endpointer.push(frame, probability);

        // Barge-in: enough caller speech while the agent is audible.
        if speech && self.playback.has_audio() && !self.playback.is_paused() && self.hangup_after.is_none() {
            self.barge_speech += frame.len();
            if self.ms(self.barge_speech as u64) >= u64::from(self.config.barge_in_ms) {
                self.playback.pause();
                self.emit(CallEvent::Clear).await;
                tracing::debug!(at_ms = self.ms(self.samples_in), "barge-in: playback paused");
            }
        } else if !speech {
            self.barge_speech = 0;
        }

        if let Some(tx) = &self.utterance_tx {
            let _ = tx.send(frame.to_vec());
        }
        match event {
            Some(EndpointEvent::SpeechStarted { at_ms }) => self.on_speech_started(at_ms),
            Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) => self.on_speech_ended(start_ms, end_ms, audio).await,
            None => self.maybe_speculate(),
        }
        self.release_held();

        // A pause that came to nothing (a cough, a blip): the reply resumes.
        if self.playback.is_paused() && self.endpointer.is_idle() && self.pending.as_ref().is_none_or(|p| !p.during_playback) {
            self.resume_after_false_interruption().await;
        }

        self.pace_playback(frame.len()).await;
        self.watch_silence(frame.len()).await;
        if self.ms(self.samples_in) >= self.config.max_call_ms && self.hangup_after.is_none() {
            self.end_with(phrases::GOODBYE_TIME, HangupReason::MaxDuration).await;
        }
    }

    /// Releases one 20 ms frame of agent audio per 20 ms of caller audio.
    pub(super) async fn pace_playback(&mut self, samples: usize) {
        self.play_credit += samples;
        while self.play_credit >= self.play_frame_len {
            self.play_credit -= self.play_frame_len;
            match self.playback.next_frame() {
                Some(pcm) => {
                    let at_ms = self.ms(self.samples_in);
                    self.emit(CallEvent::Audio { pcm, at_ms }).await
                }
                None => break,
            }
        }
        if !self.playback.has_audio() {
            self.play_credit = 0;
        }
    }

    pub(super) async fn watch_silence(&mut self, samples: usize) {
        let quiet = self.endpointer.is_idle()
            && self.pending.is_none()
            && self.speaking.is_none()
            && !self.playback.has_audio()
            && self.hangup_after.is_none();
        if !quiet {
            self.silence_samples = 0;
            return;
        }
        self.silence_samples += samples as u64;
        if self.ms(self.silence_samples) < self.config.silence_reprompt_ms {
            return;
        }
        self.silence_samples = 0;
        self.reprompts += 1;
        if self.reprompts > self.config.max_reprompts {
            self.end_with(phrases::GOODBYE_SILENCE, HangupReason::Silence).await;
        } else {
            self.say_phrase(phrases::STILL_THERE).await;
        }
    }

    pub(super) fn on_speech_started(&mut self, at_ms: u64) {
        // The caller goes on after words that stopped mid-sentence: they
        // open the new turn.
        if let Some(held) = self.held.take() {
            self.carried = self.pending.take().filter(|p| p.index == held.turn).and_then(|p| p.transcript);
        }
        // Or before its words were even recognised: its audio does.
        let unheard = self.pending.take_if(|p| p.ended_at.is_some() && p.transcript.is_none() && !p.during_playback);
        let at_ms = unheard.as_ref().map_or(at_ms, |p| p.speech_start_ms);
        self.resumed = unheard.map(|p| p.audio).unwrap_or_default();
        if !self.resumed.is_empty() {
            tracing::debug!(resumed_ms = self.ms(self.resumed.len() as u64), "the caller went on before the turn was recognised");
            if let Some(cancel) = self.recognition_cancel.take() {
                cancel.cancel();
            }
            self.stt_deadline = None;
            self.filler_deadline = None;
        }
        let index = self.next_turn();
        let during_playback = self.playback.has_audio() || self.speaking.is_some();
        self.pending = Some(PendingTurn { during_playback, ..PendingTurn::new(index, at_ms) });
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(self.utterance());
        self.utterance_tx = Some(tx);
        let request = self.stt_request();
        let cancel = CancellationToken::new();
        self.recognition_cancel = Some(cancel.clone());
        self.speculation = None;
        tokio::spawn(recognise(self.deps.stt.clone(), request, rx, self.work_tx.clone(), index, cancel));
    }

    /// The audio of the turn so far: a turn it resumes, then the endpointer's.
    pub(super) fn utterance(&self) -> Vec<i16> {
        [self.resumed.as_slice(), self.endpointer.utterance()].concat()
    }

    /// In a pause of a confirmed turn, with a recogniser that decodes whole
    /// utterances: decodes the turn so far (see [`speculation`]).
    pub(super) fn maybe_speculate(&mut self) {
        let Some(turn) = self.pending.as_ref().filter(|p| p.ended_at.is_none()).map(|p| p.index) else { return };
        if !self.endpointer.in_speech() || self.endpointer.silence_ms() < self.config.speculate_after_ms {
            return;
        }
        let speech_end = self.endpointer.speech_end_samples();
        if self.speculation.as_ref().is_some_and(|s| s.holds(turn, speech_end)) {
            return;
        }
        let pcm = self.utterance();
        if self.deps.stt.finish_estimate(self.ms(pcm.len() as u64)).is_none() {
            return;
        }
        let request = self.stt_request();
        let (stt, tx) = (self.deps.stt.clone(), self.work_tx.clone());
        let task = tokio::spawn(async move {
            let result = transcribe(stt.as_ref(), &request, &pcm).await;
            let _ = tx.send(Work::Speculated { turn, speech_end, result });
        });
        // Replacing a stale speculation aborts its decode.
        self.speculation = Some(Speculation { turn, speech_end, result: None, task });
    }

    /// A speculative decode finished: the turn's transcript when no speech
    /// came after it; before the end of the turn, its words set how long
    /// the endpointer waits.
    pub(super) async fn on_speculated(&mut self, turn: u32, speech_end: u64, result: Result<Transcript, SttError>) {
        if !self.speculation.as_ref().is_some_and(|s| s.holds(turn, speech_end)) {
            return;
        }
        let Some(pending) = self.pending.as_ref().filter(|p| p.index == turn) else { return };
        if pending.ended_at.is_some() {
            // The turn ended while it was decoding: it is the transcript.
            self.speculation = None;
            if pending.transcript.is_none() {
                self.on_transcript(result).await;
            }
            return;
        }
        if self.endpointer.speech_end_samples() != speech_end {
            return;
        }
        let Ok(transcript) = &result else {
            // The regular recogniser still runs; it will answer.
            self.speculation = None;
            return;
        };
        let wait = speculation::end_silence_for(transcript, &self.config);
        if let Some(s) = self.speculation.as_mut() {
            s.result = Some(result);
        }
        if let Some(wait_ms) = wait {
            if self.endpointer.silence_ms() >= u64::from(wait_ms) {
                if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) = self.endpointer.end_turn_now() {
                    self.on_speech_ended(start_ms, end_ms, audio).await;
                }
            } else {
                self.endpointer.set_turn_end_silence_ms(wait_ms);
            }
        }
    }

    pub(super) async fn on_speech_ended(&mut self, start_ms: u64, end_ms: u64, audio: Vec<i16>) {
        // A speculation with no speech after it stands for the regular decode.
        let speculated =
            self.speculation.take_if(|s| self.pending.as_ref().is_some_and(|p| s.holds(p.index, self.endpointer.speech_end_samples())));
        if speculated.is_some() {
            if let Some(cancel) = self.recognition_cancel.take() {
                cancel.cancel();
            }
        }
        self.utterance_tx = None;
        let now_ms = self.ms(self.samples_in);
        let resumed = std::mem::take(&mut self.resumed);
        let resumed_ms = self.ms(resumed.len() as u64);
        let Some(pending) = self.pending.as_mut() else { return };
        if resumed.is_empty() {
            pending.speech_start_ms = start_ms;
        }
        pending.audio = [resumed, audio].concat();
        pending.speech_end_ms = end_ms;
        pending.endpoint_ms = now_ms.saturating_sub(end_ms);
        pending.ended_at = Some(Instant::now());
        let early = pending.early_result.take();
        let now = tokio::time::Instant::now();
        // What the recogniser got: the speech, its pre-roll and the end-of-turn silence.
        let audio_ms = end_ms.saturating_sub(start_ms)
            + resumed_ms
            + u64::from(self.config.endpoint.end_silence_ms + self.config.endpoint.pre_roll_ms);
        let estimate = self.deps.stt.finish_estimate(audio_ms);
        self.stt_deadline = Some(now + Duration::from_millis(self.config.stt_deadline_ms(estimate)));
        if !pending.during_playback {
            self.filler_deadline = Some(now + Duration::from_millis(self.config.filler_after_ms_for(estimate)));
        }
        if let Some(result) = early {
            self.on_transcript(result).await;
            return;
        }
        if let Some(mut s) = speculated {
            match s.result.take() {
                Some(result) => self.on_transcript(result).await,
                // Still decoding: its result arrives as `Work::Speculated`.
                None => self.speculation = Some(s),
            }
        }
    }
}
