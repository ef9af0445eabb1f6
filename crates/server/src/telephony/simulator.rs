//! A caller simulator: sets the call up through the webhook as the provider
//! does ([`super::dial`]: signed request, stream token, signed upgrade), then
//! plays a recording into the media-stream WebSocket exactly as the provider
//! would (its message format, 20 ms frames at real
//! time, or faster with `speed`), plays the agent's audio back on its own
//! clock (echoing marks when the audio before them has played, dropping
//! queued audio on a clear), and records what the agent said.
//!
//! With `turn_taking`, the recording is cut at its pauses into lines, and
//! each line waits until the agent has finished answering the previous one,
//! as a polite caller does; without it, the recording plays straight
//! through and talking over the agent is a barge-in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use fluxion_core::audio::g711;

use super::dial::{self, CallFacts};
use super::{Provider, TelephonyConfig};

/// How to play the call.
#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    /// The provider whose format to speak.
    pub provider: Provider,
    /// The server's base URL (`http://127.0.0.1:3002`): the webhook is
    /// called there and the stream opened there.
    pub server: String,
    /// The provider settings to sign with (auth tokens, Exotel credentials,
    /// the server's `PUBLIC_URL`).
    pub telephony: TelephonyConfig,
    /// Caller ID the provider announces in the webhook.
    pub caller: Option<String>,
    /// Called number the provider announces in the webhook.
    pub called: Option<String>,
    /// Playback speed: 1.0 is real time (one 20 ms frame every 20 ms).
    pub speed: f64,
    /// Wait for the agent between the recording's lines.
    pub turn_taking: bool,
    /// Keypad digits to press after the recording, each as its own turn.
    pub dtmf: Vec<char>,
    /// The call's SID.
    pub call_sid: String,
    /// Longest wait for the agent at one turn, ms of call time.
    pub max_wait_ms: u64,
}

impl SimulatorOptions {
    /// Real-time, turn-taking defaults for `provider` on the server at
    /// `server`, signing with `telephony`'s credentials.
    pub fn new(provider: Provider, server: impl Into<String>, telephony: TelephonyConfig) -> Self {
        SimulatorOptions {
            provider,
            server: server.into(),
            telephony,
            caller: None,
            called: None,
            speed: 1.0,
            turn_taking: true,
            dtmf: Vec::new(),
            call_sid: format!("SIM{:x}", jiff::Timestamp::now().as_nanosecond()),
            max_wait_ms: 20_000,
        }
    }
}

/// What the simulated caller got.
#[derive(Debug, Default)]
pub struct SimulatedCall {
    /// The agent's audio as heard, 16-bit PCM at 8000 Hz on the call's clock.
    pub agent_audio: Vec<i16>,
    /// What the agent said (from its marks), with the call time it started playing, ms.
    pub said: Vec<(u64, String)>,
    /// Outbound media messages received.
    pub media_messages: usize,
    /// Marks received.
    pub marks: usize,
    /// Clear messages received (barge-in).
    pub clears: usize,
    /// Whether the agent closed the stream (hung up).
    pub agent_hung_up: bool,
    /// Wall-clock time from sending `start` to the first agent audio, ms.
    pub first_audio_wall_ms: Option<u64>,
    /// Call time when the simulation ended, ms.
    pub duration_ms: u64,
}

enum Queued {
    Audio(Vec<i16>),
    Mark(String),
}

/// The provider side of one stream.
struct Peer {
    provider: Provider,
    stream_sid: String,
    call_sid: String,
    sequence: u64,
}

impl Peer {
    fn connected(&self) -> Option<Value> {
        match self.provider {
            Provider::Twilio => Some(json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})),
            Provider::Exotel => Some(json!({"event": "connected"})),
            Provider::Plivo => None,
        }
    }

    /// The `start` message; `params` are the answer's stream parameters,
    /// echoed as the provider echoes them.
    fn start(&mut self, caller: Option<&str>, called: Option<&str>, params: &[(String, String)]) -> Value {
        self.sequence += 1;
        let caller = caller.unwrap_or("");
        let called = called.unwrap_or("");
        let custom: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let extra: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match self.provider {
            Provider::Twilio => json!({
                "event": "start", "sequenceNumber": self.sequence.to_string(), "streamSid": self.stream_sid,
                "start": {
                    "accountSid": "ACsimulator", "streamSid": self.stream_sid, "callSid": self.call_sid, "tracks": ["inbound"],
                    "customParameters": custom,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
                }
            }),
            Provider::Plivo => json!({
                "event": "start", "sequenceNumber": self.sequence,
                "start": {
                    "callId": self.call_sid, "streamId": self.stream_sid, "accountId": "MAsimulator", "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}
                },
                "extra_headers": extra.join(",")
            }),
            Provider::Exotel => json!({
                "event": "start", "sequence_number": self.sequence, "stream_sid": self.stream_sid,
                "start": {
                    "stream_sid": self.stream_sid, "call_sid": self.call_sid, "account_sid": "simulator", "from": caller, "to": called,
                    "custom_parameters": custom, "media_format": {"encoding": "base64", "sample_rate": "8000", "bit_rate": "128kbps"}
                }
            }),
        }
    }

    fn media(&mut self, pcm: &[i16], at_ms: u64) -> Value {
        self.sequence += 1;
        let chunk = self.sequence;
        match self.provider {
            Provider::Twilio => json!({
                "event": "media", "sequenceNumber": self.sequence.to_string(), "streamSid": self.stream_sid,
                "media": {"track": "inbound", "chunk": chunk.to_string(), "timestamp": at_ms.to_string(), "payload": B64.encode(g711::pcm_to_mulaw(pcm))}
            }),
            Provider::Plivo => json!({
                "event": "media", "sequenceNumber": self.sequence, "streamId": self.stream_sid,
                "media": {"track": "inbound", "timestamp": at_ms.to_string(), "chunk": chunk, "payload": B64.encode(g711::pcm_to_mulaw(pcm))}
            }),
            Provider::Exotel => {
                let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
                json!({
                    "event": "media", "sequence_number": self.sequence, "stream_sid": self.stream_sid,
                    "media": {"chunk": chunk, "timestamp": at_ms.to_string(), "payload": B64.encode(bytes)}
                })
            }
        }
    }

    fn dtmf(&mut self, digit: char) -> Value {
        self.sequence += 1;
        match self.provider {
            Provider::Twilio => {
                json!({"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": self.sequence.to_string(), "dtmf": {"track": "inbound_track", "digit": digit.to_string()}})
            }
            Provider::Plivo => json!({"event": "dtmf", "streamId": self.stream_sid, "dtmf": {"digit": digit.to_string()}}),
            Provider::Exotel => {
                json!({"event": "dtmf", "stream_sid": self.stream_sid, "sequence_number": self.sequence, "dtmf": {"digit": digit.to_string(), "duration": "250"}})
            }
        }
    }

    /// The provider's answer when playback reaches a mark.
    fn mark_played(&mut self, name: &str) -> Value {
        self.sequence += 1;
        match self.provider {
            Provider::Twilio => {
                json!({"event": "mark", "streamSid": self.stream_sid, "sequenceNumber": self.sequence.to_string(), "mark": {"name": name}})
            }
            Provider::Plivo => json!({"event": "playedStream", "streamId": self.stream_sid, "name": name}),
            Provider::Exotel => {
                json!({"event": "mark", "stream_sid": self.stream_sid, "sequence_number": self.sequence, "mark": {"name": name}})
            }
        }
    }

    fn cleared(&self) -> Option<Value> {
        (self.provider == Provider::Plivo).then(|| json!({"event": "clearedAudio", "streamId": self.stream_sid}))
    }

    fn stop(&mut self) -> Value {
        self.sequence += 1;
        match self.provider {
            Provider::Twilio => {
                json!({"event": "stop", "streamSid": self.stream_sid, "sequenceNumber": self.sequence.to_string(), "stop": {"accountSid": "ACsimulator", "callSid": self.call_sid}})
            }
            Provider::Plivo => json!({"event": "stop", "streamId": self.stream_sid}),
            Provider::Exotel => {
                json!({"event": "stop", "stream_sid": self.stream_sid, "sequence_number": self.sequence, "stop": {"call_sid": self.call_sid, "reason": "callended"}})
            }
        }
    }

    /// Reads an agent message: what to queue, or a clear.
    fn read(&self, text: &str) -> Option<Outbound> {
        let v: Value = serde_json::from_str(text).ok()?;
        let event = v.get("event")?.as_str()?;
        match (self.provider, event) {
            (Provider::Twilio, "media") | (Provider::Exotel, "media") | (Provider::Plivo, "playAudio") => {
                let payload = v.pointer("/media/payload")?.as_str()?;
                let bytes = B64.decode(payload).ok()?;
                let pcm = match self.provider {
                    Provider::Exotel => bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect(),
                    _ => g711::mulaw_to_pcm(&bytes),
                };
                Some(Outbound::Audio(pcm))
            }
            (Provider::Twilio, "mark") | (Provider::Exotel, "mark") => Some(Outbound::Mark(v.pointer("/mark/name")?.as_str()?.to_string())),
            (Provider::Plivo, "checkpoint") => Some(Outbound::Mark(v.get("name")?.as_str()?.to_string())),
            (Provider::Twilio, "clear") | (Provider::Exotel, "clear") | (Provider::Plivo, "clearAudio") => Some(Outbound::Clear),
            _ => None,
        }
    }
}

enum Outbound {
    Audio(Vec<i16>),
    Mark(String),
    Clear,
}

/// The recording cut at pauses of at least 600 ms into lines (start, end) in samples.
fn lines(pcm: &[i16]) -> Vec<(usize, usize)> {
    let frame = 160;
    let loud: Vec<bool> = pcm.chunks(frame).map(|f| f.iter().map(|s| i64::from(*s).abs()).max().unwrap_or(0) > 800).collect();
    let mut out = Vec::new();
    let mut start = None;
    let mut quiet = 0;
    for (i, &l) in loud.iter().enumerate() {
        match (l, start) {
            (true, None) => {
                start = Some(i);
                quiet = 0;
            }
            (true, Some(_)) => quiet = 0,
            (false, Some(s)) => {
                quiet += 1;
                if quiet >= 30 {
                    out.push((s * frame, (i + 1 - quiet + 1) * frame));
                    start = None;
                }
            }
            (false, None) => {}
        }
    }
    if let Some(s) = start {
        out.push((s * frame, pcm.len()));
    }
    out.into_iter().map(|(a, b)| (a.min(pcm.len()), b.min(pcm.len()))).collect()
}

/// Sets the call up through the webhook on `options.server`, then plays
/// `caller` (16-bit PCM at 8000 Hz) into the stream the answer named.
///
/// # Errors
/// The webhook refused the call or answered without a stream, or the
/// WebSocket cannot be opened.
pub async fn simulate_call(options: &SimulatorOptions, caller: &[i16]) -> anyhow::Result<SimulatedCall> {
    let facts = CallFacts { call_sid: options.call_sid.clone(), caller: options.caller.clone(), called: options.called.clone() };
    let ticket = dial::answer(&reqwest::Client::new(), &options.server, &options.telephony, options.provider, &facts).await?;
    simulate_stream(options, &ticket, caller).await
}

/// Plays `caller` (16-bit PCM at 8000 Hz) into the stream of `ticket`, the
/// webhook answer for the call `options` describes (see [`dial::answer`]).
///
/// # Errors
/// The WebSocket cannot be opened or fails.
pub async fn simulate_stream(options: &SimulatorOptions, ticket: &dial::Ticket, caller: &[i16]) -> anyhow::Result<SimulatedCall> {
    let ws = dial::connect(ticket).await?;
    let (mut tx, mut rx) = ws.split();
    let mut peer =
        Peer { provider: options.provider, stream_sid: format!("MZ{}", options.call_sid), call_sid: options.call_sid.clone(), sequence: 0 };
    if let Some(m) = peer.connected() {
        tx.send(Message::Text(m.to_string().into())).await?;
    }
    let start = peer.start(options.caller.as_deref(), options.called.as_deref(), &ticket.params);
    tx.send(Message::Text(start.to_string().into())).await?;
    let started = Instant::now();

    let tick = Duration::from_secs_f64(0.020 / options.speed.max(0.05));
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut result = SimulatedCall::default();
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut pending: VecDeque<i16> = VecDeque::new();
    let segments = if options.turn_taking { lines(caller) } else { vec![(0, caller.len())] };
    let mut plan: VecDeque<Step> = VecDeque::new();
    if options.turn_taking {
        plan.push_back(Step::AwaitAgent);
    }
    for (i, (start, end)) in segments.iter().enumerate() {
        let until = if options.turn_taking { *end } else { caller.len() };
        plan.push_back(Step::Play(*start, until));
        if options.turn_taking || i + 1 == segments.len() {
            plan.push_back(Step::AwaitAgent);
        }
    }
    for &d in &options.dtmf {
        plan.push_back(Step::Dtmf(d));
        plan.push_back(Step::AwaitAgent);
    }
    let mut now_ms: u64 = 0;
    let mut last_agent_ms: Option<u64> = None;
    // When the agent last started saying something other than the filler.
    let mut answered_ms: Option<u64> = None;
    let mut wait_started = 0u64;
    let silence = [0i16; 160];
    'call: loop {
        tokio::select! {
            _ = ticker.tick() => {}
            message = rx.next() => {
                match message {
                    Some(Ok(Message::Text(text))) => match peer.read(&text) {
                        Some(Outbound::Audio(pcm)) => {
                            result.media_messages += 1;
                            result.first_audio_wall_ms.get_or_insert(started.elapsed().as_millis() as u64);
                            queue.push_back(Queued::Audio(pcm));
                        }
                        Some(Outbound::Mark(name)) => {
                            result.marks += 1;
                            queue.push_back(Queued::Mark(name));
                        }
                        Some(Outbound::Clear) => {
                            result.clears += 1;
                            pending.clear();
                            let marks: Vec<String> = queue.drain(..).filter_map(|q| if let Queued::Mark(m) = q { Some(m) } else { None }).collect();
                            for m in marks {
                                tx.send(Message::Text(peer.mark_played(&m).to_string().into())).await?;
                            }
                            if let Some(m) = peer.cleared() {
                                tx.send(Message::Text(m.to_string().into())).await?;
                            }
                        }
                        None => {}
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        result.agent_hung_up = true;
                        break 'call;
                    }
                    Some(Ok(_)) => {}
                }
                continue;
            }
        }
        // One 20 ms tick: play the agent's next 20 ms, send the caller's.
        while pending.len() < 160 {
            match queue.pop_front() {
                Some(Queued::Audio(pcm)) => pending.extend(pcm),
                Some(Queued::Mark(name)) => {
                    if let Some(text) = name.strip_prefix("say-").and_then(|r| r.split_once(": ")).map(|(_, t)| t.to_string()) {
                        if text != crate::voice::phrases::FILLER {
                            answered_ms = Some(now_ms);
                        }
                        result.said.push((now_ms, text));
                    }
                    tx.send(Message::Text(peer.mark_played(&name).to_string().into())).await?;
                }
                None => break,
            }
        }
        if !pending.is_empty() {
            let at = (now_ms * 8) as usize;
            let n = pending.len().min(160);
            if result.agent_audio.len() < at + n {
                result.agent_audio.resize(at + n, 0);
            }
            for (i, s) in pending.drain(..n).enumerate() {
                result.agent_audio[at + i] = s;
            }
            last_agent_ms = Some(now_ms);
        }
        let frame: Vec<i16> = match plan.front_mut() {
            Some(Step::Play(start, end)) => {
                let n = (*end - *start).min(160);
                let f = caller[*start..*start + n].to_vec();
                *start += n;
                if *start >= *end {
                    plan.pop_front();
                    wait_started = now_ms;
                }
                f
            }
            Some(Step::Dtmf(d)) => {
                let d = *d;
                plan.pop_front();
                wait_started = now_ms;
                tx.send(Message::Text(peer.dtmf(d).to_string().into())).await?;
                silence.to_vec()
            }
            Some(Step::AwaitAgent) => {
                // Done once the agent has answered (not just the filler) since
                // the wait began and then been quiet for 1 s with nothing queued.
                let spoke = answered_ms.is_some_and(|t| t >= wait_started && last_agent_ms.is_some_and(|a| a >= t));
                let quiet = last_agent_ms.is_some_and(|t| now_ms >= t + 1_000) && queue.is_empty() && pending.is_empty();
                if (spoke && quiet) || now_ms >= wait_started + options.max_wait_ms {
                    plan.pop_front();
                    wait_started = now_ms;
                }
                silence.to_vec()
            }
            None => break 'call,
        };
        let mut frame = frame;
        frame.resize(160, 0);
        tx.send(Message::Text(peer.media(&frame, now_ms).to_string().into())).await?;
        now_ms += 20;
    }
    if !result.agent_hung_up {
        let _ = tx.send(Message::Text(peer.stop().to_string().into())).await;
        let _ = tx.close().await;
    }
    result.duration_ms = now_ms;
    tracing::debug!(wall_ms = started.elapsed().as_millis() as u64, call_ms = now_ms, "simulated call finished");
    Ok(result)
}

enum Step {
    /// Play samples `[start, end)` of the recording.
    Play(usize, usize),
    /// Press a key.
    Dtmf(char),
    /// Send silence until the agent has answered.
    AwaitAgent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_is_cut_at_pauses() {
        let tone = |ms: usize| (0..ms * 8).map(|i| if i % 8 < 4 { 4000 } else { -4000 }).collect::<Vec<i16>>();
        let mut pcm = vec![0; 4000];
        pcm.extend(tone(1000));
        pcm.extend(vec![0; 200 * 8]); // a short pause stays inside the line
        pcm.extend(tone(500));
        pcm.extend(vec![0; 1500 * 8]);
        pcm.extend(tone(300));
        let l = lines(&pcm);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[0].0, 4000);
        assert!(l[0].1 >= 4000 + 1700 * 8 && l[0].1 <= 4000 + 1740 * 8, "{l:?}");
        assert_eq!(l[1].1, pcm.len());
    }
}
