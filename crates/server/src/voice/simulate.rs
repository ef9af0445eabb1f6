//! A whole call from a recording of the caller: the driver behind
//! `fluxion call` and the voice tests.
//!
//! Two ways to play the caller's audio:
//! - **turn-taking** (default): the caller waits for the agent. Caller audio
//!   is held while the agent thinks or speaks (silence is sent while it
//!   speaks), as a polite caller would, and frames go as fast as the session
//!   takes them. Processing latencies are still measured on the wall clock.
//! - **real time** (`realtime`): the recording plays as recorded, one 20 ms
//!   frame every 20 ms, whatever the agent does; talking over the agent is a
//!   barge-in.
//!
//! The agent's side is written on the same timeline as the caller's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::session::{CallEvent, CallHandle, CallInput, CallSummary, Phase};

/// How to play the caller's recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulateOptions {
    /// Play in real time instead of turn-taking.
    pub realtime: bool,
    /// Silence sent after the recording before hanging up, ms (the agent
    /// may still be answering the last words).
    pub tail_ms: u64,
    /// Wall-clock limit on one wait for the agent, ms; the call is hung up
    /// past it.
    pub wait_limit_ms: u64,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        SimulateOptions { realtime: false, tail_ms: 2_000, wait_limit_ms: 60_000 }
    }
}

/// What happened in a simulated call.
#[derive(Debug)]
pub struct SimulatedCall {
    /// The session's summary (turns with timings, bookings, hang-up reason).
    pub summary: CallSummary,
    /// Everything the session asked the transport to do, in order (audio
    /// events included).
    pub events: Vec<CallEvent>,
    /// The agent's voice on the caller's timeline, PCM at the call's rate.
    pub agent_audio: Vec<i16>,
}

impl SimulatedCall {
    /// What the agent said, in order (replies, greeting and fixed phrases).
    pub fn said(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::Say(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Plays `caller` (PCM at the call's rate, `rate_hz`) into the call and
/// collects what comes back.
///
/// # Errors
/// Only if the call task panicked.
pub async fn simulate(handle: CallHandle, caller: &[i16], rate_hz: u32, options: SimulateOptions) -> anyhow::Result<SimulatedCall> {
    let CallHandle { input, events, mut status, task } = handle;
    let collected = Arc::new(Mutex::new(Vec::new()));
    let collector = tokio::spawn(collect(events, collected.clone()));
    let frame_len = (rate_hz / 50).max(1) as usize;
    let silence = vec![0i16; frame_len];
    let tail_frames = (options.tail_ms / 20) as usize;
    let wait_limit = Duration::from_millis(options.wait_limit_ms);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut position, mut tail, mut sent) = (0usize, 0usize, 0u64);

    loop {
        let phase = if options.realtime {
            ticker.tick().await;
            status.borrow().phase
        } else {
            // Wait until the session has taken in what was sent and is not thinking.
            let ready = tokio::time::timeout(
                wait_limit,
                status.wait_for(|s| s.phase == Phase::Ended || (s.samples_in >= sent && s.phase != Phase::Thinking)),
            )
            .await;
            match ready {
                Ok(Ok(s)) => s.phase,
                Ok(Err(_)) => Phase::Ended,
                Err(_) => {
                    tracing::warn!(limit_ms = options.wait_limit_ms, "the agent did not answer in time; hanging up");
                    break;
                }
            }
        };
        let frame = match phase {
            Phase::Ended => break,
            Phase::Speaking | Phase::Thinking if !options.realtime => &silence[..],
            _ if position < caller.len() => {
                let end = (position + frame_len).min(caller.len());
                let frame = &caller[position..end];
                position = end;
                frame
            }
            _ => {
                tail += 1;
                if tail > tail_frames {
                    break;
                }
                &silence[..]
            }
        };
        sent += frame.len() as u64;
        if input.send(CallInput::Audio(frame.to_vec())).await.is_err() {
            break;
        }
    }
    let _ = input.send(CallInput::Hangup).await;
    drop(input);
    let summary = task.await?;
    let _ = collector.await;
    let events = std::mem::take(&mut *collected.lock().map_err(|_| anyhow::anyhow!("event collector poisoned"))?);
    let mut agent_audio = Vec::new();
    for event in &events {
        if let CallEvent::Audio { pcm, at_ms } = event {
            let at = (*at_ms * u64::from(rate_hz) / 1000) as usize;
            let end = at + pcm.len();
            if agent_audio.len() < end {
                agent_audio.resize(end, 0);
            }
            agent_audio[at..end].copy_from_slice(pcm);
        }
    }
    Ok(SimulatedCall { summary, events, agent_audio })
}

async fn collect(mut events: mpsc::Receiver<CallEvent>, into: Arc<Mutex<Vec<CallEvent>>>) {
    while let Some(event) = events.recv().await {
        if let Ok(mut v) = into.lock() {
            v.push(event);
        }
    }
}
