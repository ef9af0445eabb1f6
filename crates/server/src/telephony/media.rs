//! The media-stream WebSocket handler, shared by every provider: the
//! provider's codec turns its JSON into [`StreamEvent`]s; the handler feeds
//! the voice session and sends the session's audio, marks and clears back
//! in the provider's format. Bad messages are logged and skipped, never
//! fatal; a dropped socket ends the call, which is recorded either way.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::watch;

use fluxion_core::nlu::l2_slots::normalize_phone;

use super::outcome::outcome;
use super::{Codec, Provider, StreamEvent, StreamStart, Telephony};
use crate::observability::mask_phone;
use crate::store::{CallDirection, CallEnd};
use crate::voice::{start_call, CallEvent, CallInput, EngineAgent, HangupReason, VoiceDeps};

/// Largest WebSocket message accepted, bytes (a 20 ms media frame is ~250).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// WebSocket read buffer, bytes (tungstenite's default is 128 KiB).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// How long a stream may stay open without a `start`, ms.
pub const START_TIMEOUT_MS: u64 = 10_000;
/// Malformed messages tolerated per call before the stream is dropped.
pub const MAX_BAD_MESSAGES: u32 = 200;

/// `GET /{provider}/media`: upgrades to the provider's media stream.
pub async fn media(ws: WebSocketUpgrade, Path(provider): Path<String>, State(t): State<Arc<Telephony>>) -> Response {
    let Ok(provider) = provider.parse::<Provider>() else {
        return (StatusCode::NOT_FOUND, "unknown provider").into_response();
    };
    if let Err(reason) = &t.speech {
        tracing::error!(%reason, "media stream refused: speech engines unavailable");
        return (StatusCode::SERVICE_UNAVAILABLE, "speech engines unavailable").into_response();
    }
    // Media messages are a few hundred bytes: a small read buffer avoids
    // zeroing tungstenite's default 128 KiB on every read.
    ws.max_message_size(MAX_MESSAGE_BYTES).read_buffer_size(READ_BUFFER_BYTES).on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, provider, t).await {
            tracing::warn!(provider = provider.as_str(), error = %e, "media stream ended with an error");
        }
    })
}

/// Waits for the stream's `start`, skipping anything else.
async fn wait_for_start(socket: &mut WebSocket, codec: &mut Codec) -> Option<StreamStart> {
    let provider = codec.provider().as_str();
    let deadline = tokio::time::sleep(Duration::from_millis(START_TIMEOUT_MS));
    tokio::pin!(deadline);
    loop {
        let message = tokio::select! {
            _ = &mut deadline => {
                tracing::warn!(provider, "no start message; closing the stream");
                return None;
            }
            m = socket.recv() => m,
        };
        match message {
            Some(Ok(Message::Text(text))) => match codec.decode(&text) {
                Ok(StreamEvent::Start(start)) => return Some(start),
                Ok(StreamEvent::Stop) => return None,
                Ok(_) => {}
                Err(e) => tracing::warn!(provider, error = %e, "bad message before start"),
            },
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn run(mut socket: WebSocket, provider: Provider, t: Arc<Telephony>) -> anyhow::Result<()> {
    let mut codec = Codec::new(provider);
    let Some(start) = wait_for_start(&mut socket, &mut codec).await else { return Ok(()) };
    let kit = t.speech.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    let caller = start
        .from
        .clone()
        .or_else(|| ["caller", "From", "from"].iter().find_map(|k| start.custom.get(*k).cloned()))
        .and_then(|p| normalize_phone(&p).or_else(|| (!p.trim().is_empty()).then(|| p.trim().to_string())));
    let called = start.to.clone().or_else(|| ["called", "To", "to"].iter().find_map(|k| start.custom.get(*k).cloned()));
    let call_sid = if start.call_sid.is_empty() { start.stream_sid.clone() } else { start.call_sid.clone() };
    let span = tracing::info_span!("call", provider = provider.as_str(), call_sid = %call_sid);
    let Some(tenant) = t.app.tenant_for_called(called.as_deref()).await? else {
        tracing::warn!(parent: &span, called = called.as_deref().map(mask_phone).unwrap_or_default(), "no business answers on the called number; closing the stream");
        return Ok(());
    };
    let started = t.app.clock.now();
    let row = tenant.start_call(provider, &call_sid, CallDirection::Inbound, caller.as_deref(), called.as_deref(), started).await?;
    tracing::info!(parent: &span, caller = caller.as_deref().map(mask_phone).unwrap_or_default(), "call started");
    metrics::counter!("fluxion_calls_total", "provider" => provider.as_str()).increment(1);

    let agent = EngineAgent::for_tenant(t.app.clone(), tenant.id(), &call_sid, caller.clone()).await?;
    let agent = super::recording::announce(Box::new(agent), t.config.record_calls);
    let deps = VoiceDeps {
        stt: kit.stt.clone(),
        speaker: kit.speaker.clone(),
        vad: crate::speech::vad_for(kit.vad, t.voice.sample_rate_hz)?,
        stt_prompt: kit.stt_prompt.clone(),
    };
    let handle = start_call(deps, agent, t.voice.clone())?;
    let (input, mut events, task) = (handle.input, handle.events, handle.task);
    let recorder = super::recording::Recorder::start(&t.config, provider, &call_sid, t.voice.sample_rate_hz);
    let (mut ws_tx, mut ws_rx) = socket.split();
    let out_codec = codec.clone();
    let (hangup_mark_tx, mut hangup_mark_rx) = watch::channel(false);
    let (transfer_tx, mut transfer_rx) = tokio::sync::mpsc::unbounded_channel::<()>();

    // Session → provider.
    let writer = {
        let span = span.clone();
        let recorder = recorder.clone();
        async move {
            let mut said = 0u32;
            while let Some(event) = events.recv().await {
                let message = match event {
                    CallEvent::Audio { pcm, at_ms } => {
                        if let Some(r) = &recorder {
                            r.agent(at_ms, &pcm);
                        }
                        Some(out_codec.encode_media(&pcm))
                    }
                    CallEvent::Clear => Some(out_codec.encode_clear()),
                    CallEvent::Say(text) => {
                        said += 1;
                        let name: String = format!("say-{said}: {text}").chars().take(200).collect();
                        Some(out_codec.encode_mark(&name))
                    }
                    CallEvent::Transfer => {
                        let _ = transfer_tx.send(());
                        None
                    }
                    CallEvent::Turn(_) => None,
                    CallEvent::Hangup(reason) => {
                        tracing::info!(parent: &span, reason = reason.as_str(), "agent hangs up");
                        let _ = ws_tx.send(Message::Text(out_codec.encode_mark("hangup").into())).await;
                        // Let the goodbye play out: the provider echoes the mark.
                        let _ = tokio::time::timeout(Duration::from_secs(5), hangup_mark_rx.wait_for(|m| *m)).await;
                        break;
                    }
                };
                if let Some(text) = message {
                    if ws_tx.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
            }
            let _ = ws_tx.send(Message::Close(None)).await;
            let _ = ws_tx.close().await;
        }
    };
    let writer = tokio::spawn(writer);

    // Provider → session.
    let mut bad = 0u32;
    let mut stop_reason = "stream closed";
    loop {
        let message = tokio::select! {
            m = ws_rx.next() => m,
            Some(()) = transfer_rx.recv() => {
                super::provider_api::transfer(&t, &tenant, provider, &call_sid, caller.as_deref()).await;
                continue;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                bad += 1;
                continue;
            }
            Some(Ok(Message::Close(_))) | None => break,
            Some(Err(e)) => {
                tracing::warn!(parent: &span, error = %e, "media stream broke");
                stop_reason = "stream error";
                break;
            }
            Some(Ok(_)) => continue,
        };
        match codec.decode(&text) {
            Ok(StreamEvent::Media(pcm)) => {
                if let Some(r) = &recorder {
                    r.caller(&pcm);
                }
                if input.send(CallInput::Audio(pcm)).await.is_err() {
                    break;
                }
            }
            Ok(StreamEvent::Dtmf(digit)) => {
                let _ = input.send(CallInput::Dtmf(digit)).await;
            }
            Ok(StreamEvent::Mark(name)) => {
                if name == "hangup" {
                    hangup_mark_tx.send_replace(true);
                }
            }
            Ok(StreamEvent::Stop) => {
                stop_reason = "stop";
                break;
            }
            Ok(StreamEvent::Start(_) | StreamEvent::Connected | StreamEvent::Cleared | StreamEvent::Ignored(_)) => {}
            Err(e) => {
                bad += 1;
                tracing::warn!(parent: &span, error = %e, bad, "skipping a malformed media message");
                if bad > MAX_BAD_MESSAGES {
                    stop_reason = "too many malformed messages";
                    break;
                }
            }
        }
        if writer.is_finished() {
            break;
        }
    }
    let _ = input.send(CallInput::Hangup).await;
    drop(input);
    let summary = task.await;
    writer.abort();
    let ended_at = t.app.clock.now();
    let (end, reason) = match &summary {
        Ok(s) => (
            CallEnd {
                ended_at,
                duration_ms: s.duration_ms,
                outcome: outcome(s),
                hangup_reason: s.reason,
                turns: s.turns.len() as u32,
                recording_path: None,
            },
            s.reason.as_str(),
        ),
        Err(e) => {
            tracing::error!(parent: &span, error = %e, "voice session failed");
            (
                CallEnd {
                    ended_at,
                    duration_ms: 0,
                    outcome: crate::store::CallOutcome::Failed,
                    hangup_reason: HangupReason::SessionFailed,
                    turns: 0,
                    recording_path: None,
                },
                "session_failed",
            )
        }
    };
    if summary.as_ref().is_ok_and(|s| s.reason == HangupReason::NotUnderstood) {
        // The goodbye promised the caller a call back.
        super::provider_api::record_callback(&t, &tenant, &call_sid, caller.as_deref(), "la linea era disturbata: richiamare il cliente")
            .await;
    }
    let end = CallEnd { recording_path: recorder.and_then(|r| r.finish()), ..end };
    tenant.end_call(row, &end).await?;
    tracing::info!(parent: &span, outcome = end.outcome.as_str(), reason, stop = stop_reason, duration_ms = end.duration_ms, bad, "call recorded");
    Ok(())
}
