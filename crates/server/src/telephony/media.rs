//! The media-stream WebSocket handler, shared by every provider: the
//! provider's codec turns its JSON into [`StreamEvent`]s; the handler feeds
//! the voice session and sends the session's audio, marks and clears back
//! in the provider's format.
//!
//! Before anything reaches the receptionist a stream must prove its call:
//! the upgrade request carries the provider's signature where the provider
//! signs it (Twilio `X-Twilio-Signature` over the `wss://` URL, always;
//! Plivo `X-Plivo-Signature-V3` when present), and the `start` message (or,
//! for Exotel, the URL's `?token=`) carries the stream token the webhook
//! answer issued ([`super::stream_token`]). The caller's and called numbers
//! come from that token, never from the stream. A stream without a valid
//! proof is closed at once (policy-violation close), with a log line and
//! `fluxion_streams_refused_total{provider,reason}`; nothing is spoken or stored.
//!
//! Limits ([`super::limits`]): connections in total and per remote address
//! (503 beyond them), calls in progress, `start` within a deadline, no media
//! for `STREAM_IDLE_TIMEOUT_MS` of wall time ends the call (abandoned), the
//! maximum call length plus a grace on wall time ends it regardless, binary
//! and malformed messages beyond `MAX_BAD_FRAMES` close the stream, and the
//! caller's audio queue is bounded (frames beyond it are dropped and counted
//! in `fluxion_stream_frames_dropped_total`). A dropped socket ends the call,
//! which is recorded either way.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::watch;
use tokio::time::Instant;

use fluxion_core::nlu::l2_slots::normalize_phone;

use super::limits::Permit;
use super::outcome::outcome;
use super::signature::{verify_plivo_v3, verify_twilio};
use super::{Codec, Provider, StreamEvent, StreamStart, Telephony};
use crate::observability::mask_phone;
use crate::store::PhoneProvider;
use crate::store::{CallDirection, CallEnd};
use crate::voice::{start_call, CallEvent, CallInput, EngineAgent, HangupReason, VoiceDeps};

/// Largest WebSocket message accepted, bytes (a 20 ms media frame is ~250).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// WebSocket read buffer, bytes (tungstenite's default is 128 KiB).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// WebSocket close code for a stream refused for lack of proof (RFC 6455 "policy violation").
pub const CLOSE_POLICY: u16 = 1008;
/// WebSocket close code for a stream refused because the lines are busy (RFC 6455 "try again later").
pub const CLOSE_BUSY: u16 = 1013;

/// The peer's address when the server records it (`ConnectInfo<SocketAddr>`);
/// `None` otherwise (only the total connection cap then applies).
pub struct RemoteAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for RemoteAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RemoteAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)))
    }
}

/// Counts and logs a refused stream (`reason` is a short label).
fn refused(provider: Provider, reason: &'static str) {
    tracing::warn!(provider = provider.as_str(), reason, "media stream refused");
    metrics::counter!("fluxion_streams_refused_total", "provider" => provider.as_str(), "reason" => reason).increment(1);
}

/// `GET /{provider}/media`: upgrades to the provider's media stream once
/// the upgrade's signature (where the provider signs it) and the
/// connection caps allow it.
pub async fn media(
    ws: WebSocketUpgrade,
    Path(provider): Path<String>,
    State(t): State<Arc<Telephony>>,
    RemoteAddr(remote): RemoteAddr,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let Ok(provider) = provider.parse::<Provider>() else {
        return (StatusCode::NOT_FOUND, "unknown provider").into_response();
    };
    if let Err(reason) = &t.speech {
        tracing::error!(%reason, "media stream refused: speech engines unavailable");
        return (StatusCode::SERVICE_UNAVAILABLE, "speech engines unavailable").into_response();
    }
    if let Err(reason) = check_upgrade(&t, provider, &uri, &headers).await {
        refused(provider, reason);
        return (StatusCode::FORBIDDEN, "invalid signature").into_response();
    }
    let permit = match t.gate.admit(remote.map(|a| a.ip()), &t.config.limits) {
        Ok(p) => p,
        Err(r) => {
            refused(provider, r.as_str());
            return (StatusCode::SERVICE_UNAVAILABLE, "too many media streams").into_response();
        }
    };
    let query_token =
        uri.0.query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token")).map(|(_, v)| v.into_owned());
    // Media messages are a few hundred bytes: a small read buffer avoids
    // zeroing tungstenite's default 128 KiB on every read.
    ws.max_message_size(MAX_MESSAGE_BYTES).read_buffer_size(READ_BUFFER_BYTES).on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, provider, t, permit, query_token).await {
            tracing::warn!(provider = provider.as_str(), error = %e, "media stream ended with an error");
        }
    })
}

/// The provider's signature on the upgrade request: Twilio's is required
/// (HMAC-SHA1 over the `wss://` URL requested, as for webhooks); Plivo's V3
/// is checked when present (over the URL requested, method GET). The upgrade
/// does not say which business the call is for (the stream token in the
/// `start` message does), so the signature may be made with the server's
/// auth token or with any business's own token for this provider (stored in
/// the console). `Err` is the refusal's label.
async fn check_upgrade(t: &Telephony, provider: Provider, uri: &OriginalUri, headers: &HeaderMap) -> Result<(), &'static str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let url = || t.config.public_ws(&uri.0.to_string()).ok_or("public_url_unset");
    let (server, which) = match provider {
        Provider::Twilio => (t.config.twilio_auth_token.clone(), PhoneProvider::Twilio),
        Provider::Plivo => (t.config.plivo_auth_token.clone(), PhoneProvider::Plivo),
        Provider::Exotel => return Ok(()),
    };
    if provider == Provider::Plivo && header("x-plivo-signature-v3").is_none() {
        return Ok(());
    }
    let mut tokens: Vec<String> = server.into_iter().collect();
    match t.app.store.phone_auth_tokens(which).await {
        Ok(own) => tokens.extend(own.iter().map(|s| s.expose().to_string())),
        Err(e) => tracing::error!(error = %e, "businesses' auth tokens not readable: checking with the server's"),
    }
    if tokens.is_empty() {
        return Err(if provider == Provider::Twilio { "twilio_auth_token_unset" } else { "plivo_auth_token_unset" });
    }
    let url = url()?;
    let valid = tokens.iter().any(|token| match provider {
        Provider::Twilio => verify_twilio(token, &url, &[], header("x-twilio-signature")),
        _ => verify_plivo_v3(token, &url, header("x-plivo-signature-v3-nonce"), &[], "GET", header("x-plivo-signature-v3")),
    });
    valid.then_some(()).ok_or("bad_signature")
}

/// Closes a refused stream with `code` and a short reason.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
}

/// Waits for the stream's `start`, skipping anything else; binary and
/// malformed messages count towards `max_bad`.
async fn wait_for_start(socket: &mut WebSocket, codec: &mut Codec, timeout_ms: u64, max_bad: u32) -> Option<StreamStart> {
    let provider = codec.provider().as_str();
    let deadline = tokio::time::sleep(Duration::from_millis(timeout_ms));
    tokio::pin!(deadline);
    let mut bad = 0u32;
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
                Err(e) => {
                    bad += 1;
                    tracing::warn!(provider, error = %e, "bad message before start");
                }
            },
            Some(Ok(Message::Binary(_))) => bad += 1,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
        if bad > max_bad {
            tracing::warn!(provider, bad, "too many bad messages before start; closing the stream");
            return None;
        }
    }
}

async fn run(
    mut socket: WebSocket,
    provider: Provider,
    t: Arc<Telephony>,
    mut permit: Permit,
    query_token: Option<String>,
) -> anyhow::Result<()> {
    let limits = t.config.limits.clone();
    let mut codec = Codec::new(provider);
    let Some(start) = wait_for_start(&mut socket, &mut codec, limits.start_timeout_ms, limits.max_bad_frames).await else {
        refused(provider, "no_start");
        close(&mut socket, CLOSE_POLICY, "no start").await;
        return Ok(());
    };
    let token = query_token.or_else(|| start.custom.get("token").cloned());
    let claims = match t.tokens.redeem(token.as_deref(), provider, &start.call_sid) {
        Ok(claims) => claims,
        Err(e) => {
            refused(provider, e.as_str());
            close(&mut socket, CLOSE_POLICY, "stream proof required").await;
            return Ok(());
        }
    };
    if let Err(r) = permit.prove(&limits) {
        refused(provider, r.as_str());
        close(&mut socket, CLOSE_BUSY, "busy").await;
        return Ok(());
    }
    let kit = t.speech.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    // Who is calling is what the signed webhook said, bound into the token.
    let caller = claims.caller.and_then(|p| normalize_phone(&p).or_else(|| (!p.trim().is_empty()).then(|| p.trim().to_string())));
    let called = claims.called;
    let call_sid =
        [claims.call_sid, start.call_sid.clone(), start.stream_sid.clone()].into_iter().find(|s| !s.is_empty()).unwrap_or_default();
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
    let settings = t.config.for_tenant(&tenant).await;
    let agent = super::recording::announce(Box::new(agent), settings.record_calls);
    let deps = VoiceDeps {
        stt: kit.stt.clone(),
        speaker: kit.speaker.clone(),
        vad: crate::speech::vad_for(kit.vad, t.voice.sample_rate_hz)?,
        stt_prompt: kit.stt_prompt.clone(),
    };
    let handle = start_call(deps, agent, t.voice.clone())?;
    let (input, mut events, task) = (handle.input, handle.events, handle.task);
    let recorder = super::recording::Recorder::start(&t.config, settings.record_calls, provider, &call_sid, t.voice.sample_rate_hz);
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
    let mut writer = tokio::spawn(writer);

    // Provider → session.
    let mut bad = 0u32;
    let mut dropped = 0u64;
    let mut stop_reason = "stream closed";
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let hard_end = Instant::now() + Duration::from_millis(t.voice.max_call_ms.saturating_add(limits.max_call_grace_ms));
    let mut last_media = Instant::now();
    loop {
        let message = tokio::select! {
            m = ws_rx.next() => m,
            Some(()) = transfer_rx.recv() => {
                super::provider_api::transfer(&t, &tenant, provider, &call_sid, caller.as_deref()).await;
                continue;
            }
            _ = tokio::time::sleep_until(last_media + idle) => {
                stop_reason = "no media";
                metrics::counter!("fluxion_streams_closed_total", "provider" => provider.as_str(), "reason" => "idle").increment(1);
                break;
            }
            _ = tokio::time::sleep_until(hard_end) => {
                stop_reason = "maximum call length (wall time)";
                metrics::counter!("fluxion_streams_closed_total", "provider" => provider.as_str(), "reason" => "max_duration").increment(1);
                break;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                bad += 1;
                if bad > limits.max_bad_frames {
                    stop_reason = "too many bad messages";
                    break;
                }
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
                last_media = Instant::now();
                if let Some(r) = &recorder {
                    r.caller(&pcm);
                }
                match input.try_send(CallInput::Audio(pcm)) {
                    Ok(()) => {}
                    // The session is seconds behind: drop rather than queue without bound.
                    Err(TrySendError::Full(_)) => {
                        dropped += 1;
                        metrics::counter!("fluxion_stream_frames_dropped_total", "provider" => provider.as_str()).increment(1);
                    }
                    Err(TrySendError::Closed(_)) => break,
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
                if bad > limits.max_bad_frames {
                    stop_reason = "too many bad messages";
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
    // The session has ended, so the writer sends its close frame and stops.
    let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
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
    tracing::info!(parent: &span, outcome = end.outcome.as_str(), reason, stop = stop_reason, duration_ms = end.duration_ms, bad, dropped, "call recorded");
    Ok(())
}
