//! Media-stream proof and limits over real WebSockets: for every provider,
//! streams without a valid token (missing, forged, expired, replayed) or
//! with a bad upgrade signature are refused before anything is spoken or
//! stored; an upgrade signed with Twilio's official algorithm (vectors from
//! twilio-python, `scripts/twilio_signature_vectors.py`) is accepted; the
//! caller's number comes from the signed webhook, not the stream; a stream
//! that goes quiet is closed after the idle timeout; the caps hold.

use std::time::Duration;

use fluxion::telephony::dial::{self, Stream, Ticket};
use fluxion::telephony::signature::{plivo_v3_signature, twilio_signature};
use fluxion::telephony::stream_token::StreamTokens;
use fluxion::telephony::Provider;
use fluxion_core::speech::stt::{SpeechToText, SttError, SttRequest, SttStream};
use fluxion_core::speech::BoxFuture;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::telephony::{PhoneApp, EXOTEL_PASSWORD, EXOTEL_USER, STREAM_SECRET, TWILIO_TOKEN};

const CALLER: &str = "+393401234567";
const OTHER: &str = "+393479999999";

/// The provider's `start` message for `call_sid` with the answer's `params`;
/// `claimed` is a caller number the stream itself asserts.
fn start(provider: Provider, call_sid: &str, params: &[(String, String)], claimed: Option<&str>) -> String {
    let mut custom: serde_json::Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if let Some(c) = claimed {
        custom.insert("caller".into(), json!(c));
        custom.insert("From".into(), json!(c));
    }
    let format = json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1});
    match provider {
        Provider::Twilio => json!({"event": "start", "streamSid": "MZ1", "start": {
            "streamSid": "MZ1", "callSid": call_sid, "customParameters": custom, "mediaFormat": format}}),
        Provider::Plivo => {
            let extra: Vec<String> = custom.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
            json!({"event": "start", "start": {"callId": call_sid, "streamId": "S1", "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}},
                "extra_headers": extra.join(",")})
        }
        Provider::Exotel => json!({"event": "start", "stream_sid": "X1", "start": {
            "stream_sid": "X1", "call_sid": call_sid, "from": claimed.unwrap_or(CALLER), "to": "", "custom_parameters": custom}}),
    }
    .to_string()
}

/// A ticket carrying `token` where `provider` carries it, with a correctly
/// signed upgrade (so only the token decides).
fn with_token(app: &PhoneApp, provider: Provider, token: Option<&str>) -> Ticket {
    let mut url = format!("ws://{}/{}/media", app.addr, provider.as_str());
    let mut params = Vec::new();
    match (provider, token) {
        (Provider::Exotel, Some(t)) => url = format!("{url}?token={t}"),
        (_, Some(t)) => params.push(("token".to_string(), t.to_string())),
        (_, None) => {}
    }
    let headers = match provider {
        Provider::Twilio => vec![("X-Twilio-Signature".to_string(), twilio_signature(TWILIO_TOKEN, &url, &[]))],
        _ => Vec::new(),
    };
    Ticket { url, headers, params }
}

/// The HTTP status of the upgrade (101 when accepted).
async fn upgrade_status(ticket: &Ticket) -> u16 {
    match dial::connect(ticket).await {
        Ok(_) => 101,
        Err(e) => match e.downcast_ref::<tokio_tungstenite::tungstenite::Error>() {
            Some(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
            _ => panic!("upgrade failed without an HTTP status: {e:#}"),
        },
    }
}

/// Reads until the server closes: (close code, text messages received).
async fn until_closed(ws: &mut Stream) -> (Option<u16>, usize) {
    let mut texts = 0;
    let read = async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Text(_)) => texts += 1,
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    };
    // A guard against a hung test, not a timing assertion.
    let code = tokio::time::timeout(Duration::from_secs(60), read).await.expect("the server closes the stream");
    (code, texts)
}

/// Opens the stream, sends `start`, and returns how the server ended it.
async fn refused(ticket: &Ticket, provider: Provider, call_sid: &str) -> (Option<u16>, usize) {
    let mut ws = dial::connect(ticket).await.expect("upgrade accepted");
    ws.send(Message::Text(start(provider, call_sid, &ticket.params, None).into())).await.unwrap();
    until_closed(&mut ws).await
}

/// Opens an accepted call: `start`, then waits for the agent's first message.
async fn open_call(ticket: &Ticket, provider: Provider, call_sid: &str, claimed: Option<&str>) -> Stream {
    let mut ws = dial::connect(ticket).await.expect("upgrade accepted");
    ws.send(Message::Text(start(provider, call_sid, &ticket.params, claimed).into())).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(60), ws.next()).await.expect("the agent answers");
    assert!(matches!(first, Some(Ok(Message::Text(_)))), "{provider:?}: the call was accepted: {first:?}");
    ws
}

async fn hang_up(mut ws: Stream) {
    ws.send(Message::Text(json!({"event": "stop"}).to_string().into())).await.unwrap();
    let _ = until_closed(&mut ws).await;
}

async fn refuses_unproven_streams(provider: Provider) {
    let Some(app) = PhoneApp::spawn(&[]).await else { return };
    // The upgrade's own proof, where the provider gives one.
    let url = format!("ws://{}/{}/media", app.addr, provider.as_str());
    match provider {
        Provider::Twilio => {
            let unsigned = Ticket { url: url.clone(), headers: vec![], params: vec![] };
            assert_eq!(upgrade_status(&unsigned).await, 403, "unsigned upgrade");
            let wrong = vec![("X-Twilio-Signature".to_string(), twilio_signature("wrong", &url, &[]))];
            assert_eq!(upgrade_status(&Ticket { url: url.clone(), headers: wrong, params: vec![] }).await, 403, "wrongly signed upgrade");
        }
        Provider::Plivo => {
            let nonce = "n1".to_string();
            let wrong = vec![
                ("X-Plivo-Signature-V3".to_string(), plivo_v3_signature("wrong", &url, &nonce, &[], "GET")),
                ("X-Plivo-Signature-V3-Nonce".to_string(), nonce),
            ];
            assert_eq!(upgrade_status(&Ticket { url: url.clone(), headers: wrong, params: vec![] }).await, 403, "wrongly signed upgrade");
        }
        Provider::Exotel => {
            let ask = |auth: Option<(&str, &str)>| {
                let mut r = app.client.get(format!("{}/exotel/stream", app.http())).query(&[("CallSid", "EX1"), ("CallFrom", CALLER)]);
                if let Some((user, password)) = auth {
                    r = r.basic_auth(user, Some(password));
                }
                r.send()
            };
            assert_eq!(ask(None).await.unwrap().status(), 401, "no credentials");
            assert_eq!(ask(Some((EXOTEL_USER, "wrong"))).await.unwrap().status(), 401, "wrong credentials");
            assert_eq!(ask(Some((EXOTEL_USER, EXOTEL_PASSWORD))).await.unwrap().status(), 200);
        }
    }
    // No token, a forged one, an expired one, one for another provider.
    let minted = StreamTokens::new(STREAM_SECRET.as_bytes(), 120_000);
    let expired = minted.issue_with(provider, "CAexpired", Some(CALLER), None, 1_000, [1; 16]);
    let elsewhere = if provider == Provider::Twilio { Provider::Plivo } else { Provider::Twilio };
    let foreign = minted.issue(elsewhere, "CAforeign", Some(CALLER), None);
    let forged = StreamTokens::new(b"not the server's secret at all", 120_000).issue(provider, "CAforged", Some(CALLER), None);
    for (what, token, sid) in [
        ("no token", None, "CAnone"),
        ("forged", Some(forged.as_str()), "CAforged"),
        ("expired", Some(expired.as_str()), "CAexpired"),
        ("another provider's", Some(foreign.as_str()), "CAforeign"),
        ("garbage", Some("x.y"), "CAgarbage"),
    ] {
        let (code, texts) = refused(&with_token(&app, provider, token), provider, sid).await;
        assert_eq!((code, texts), (Some(1008), 0), "{provider:?}, {what} token: closed at once, nothing said");
    }
    // A real call's ticket works once; its replay is refused.
    let ticket = app.ticket(provider, "CAonce", Some(CALLER)).await;
    hang_up(open_call(&ticket, provider, "CAonce", None).await).await;
    let (code, texts) = refused(&ticket, provider, "CAonce").await;
    assert_eq!((code, texts), (Some(1008), 0), "{provider:?}: replayed token");
    // A valid token for another call does not open this one.
    let ticket = app.ticket(provider, "CAreal", Some(CALLER)).await;
    assert_eq!(refused(&ticket, provider, "CAsomeoneelse").await, (Some(1008), 0), "{provider:?}: token of another call");
    app.ended_call("CAonce").await;
    let calls = app.calls().await;
    assert_eq!(calls.len(), 1, "{provider:?}: only the proven call is stored: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_streams_without_proof_are_refused() {
    refuses_unproven_streams(Provider::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plivo_streams_without_proof_are_refused() {
    refuses_unproven_streams(Provider::Plivo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exotel_streams_without_proof_are_refused() {
    refuses_unproven_streams(Provider::Exotel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cannot_change_the_callers_number() {
    let Some(app) = PhoneApp::spawn(&[]).await else { return };
    for provider in [Provider::Twilio, Provider::Plivo, Provider::Exotel] {
        let sid = format!("CAclaim{}", provider.as_str());
        let ticket = app.ticket(provider, &sid, Some(CALLER)).await;
        hang_up(open_call(&ticket, provider, &sid, Some(OTHER)).await).await;
        app.ended_call(&sid).await;
        let caller: Option<String> = sqlx::query_scalar("SELECT caller FROM calls WHERE call_sid = ?")
            .bind(&sid)
            .fetch_one(app.store.pool_for_tests())
            .await
            .unwrap();
        assert_eq!(caller.as_deref(), Some(CALLER), "{provider:?}: the webhook's caller, not the stream's claim");
    }
}

/// The vectors twilio-python's RequestValidator produced.
fn twilio_vectors() -> Vec<Value> {
    let fixture: Value = serde_json::from_str(include_str!("../fixtures/twilio_signatures.json")).unwrap();
    fixture["vectors"].as_array().unwrap().clone()
}

fn params_of(vector: &Value) -> Vec<(String, String)> {
    vector["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_signed_with_twilios_official_algorithm_is_accepted() {
    let vectors = twilio_vectors();
    let token = vectors[0]["auth_token"].as_str().unwrap().to_string();
    for v in &vectors {
        let sig = v["signature"].as_str().unwrap();
        assert_eq!(twilio_signature(&token, v["url"].as_str().unwrap(), &params_of(v)), sig, "{}", v["name"]);
    }
    let settings = [("PUBLIC_URL", "https://fluxion.example.it".to_string()), ("TWILIO_AUTH_TOKEN", token)];
    let Some(app) = PhoneApp::spawn_with(&[], &settings).await else { return };
    let by_name = |name: &str| vectors.iter().find(|v| v["name"] == name).unwrap().clone();
    // The webhook, signed by twilio-python, on both paths.
    let mut twiml = String::new();
    for (name, path) in [("voice webhook, seeds' path", "/webhooks/twilio/voice"), ("voice webhook", "/twilio/voice")] {
        let v = by_name(name);
        let r = app
            .client
            .post(format!("{}{path}", app.http()))
            .header("X-Twilio-Signature", v["signature"].as_str().unwrap())
            .form(&params_of(&v))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        twiml = r.text().await.unwrap();
    }
    assert!(twiml.contains(r#"<Stream url="wss://fluxion.example.it/twilio/media">"#), "{twiml}");
    let token = twiml.split(r#"<Parameter name="token" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    // The upgrade, signed by twilio-python over the wss:// URL.
    let upgrade = by_name("media-stream upgrade");
    let signed = vec![("X-Twilio-Signature".to_string(), upgrade["signature"].as_str().unwrap().to_string())];
    let url = format!("ws://{}/twilio/media", app.addr);
    let ticket = Ticket { url, headers: signed, params: vec![("token".to_string(), token)] };
    let call_sid = by_name("voice webhook")["params"]["CallSid"].as_str().unwrap().to_string();
    hang_up(open_call(&ticket, Provider::Twilio, &call_sid, None).await).await;
    app.ended_call(&call_sid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_goes_quiet_is_closed_and_abandoned() {
    // Long enough for the greeting's first audio to go out first on a
    // loaded machine (at 300 ms the call was once closed before it).
    let settings = [("STREAM_IDLE_TIMEOUT_MS", "2000".to_string())];
    let Some(app) = PhoneApp::spawn_with(&[], &settings).await else { return };
    let ticket = app.ticket(Provider::Twilio, "CAquiet", Some(CALLER)).await;
    let mut ws = open_call(&ticket, Provider::Twilio, "CAquiet", None).await;
    // `start` and then nothing: the server ends the call by itself.
    let (code, _) = until_closed(&mut ws).await;
    assert_ne!(code, Some(1008), "closed as a call, not as a refusal");
    let (_, outcome) = app.ended_call("CAquiet").await;
    assert_eq!(outcome.as_deref(), Some("abandoned"));
}

/// The maximum call length is measured on wall time: a call whose stream
/// sends no audio (so the session's own clock, which counts audio received,
/// never moves) is ended at the maximum length plus the grace, long before
/// the idle timeout (set here to ten minutes, past the test's guard).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maximum_call_length_is_measured_on_wall_time() {
    let settings = [("STREAM_IDLE_TIMEOUT_MS", "600000".to_string()), ("STREAM_MAX_CALL_GRACE_MS", "500".to_string())];
    let voice = fluxion::voice::VoiceConfig { max_call_ms: 1_000, ..fluxion::voice::VoiceConfig::default() };
    let stt = std::sync::Arc::new(fluxion::speech::scripted::ScriptedStt::new(Vec::<String>::new()));
    let Some(app) = PhoneApp::spawn_full(stt, &settings, voice).await else { return };
    let ticket = app.ticket(Provider::Twilio, "CAlong", Some(CALLER)).await;
    let mut ws = open_call(&ticket, Provider::Twilio, "CAlong", None).await;
    let (code, _) = until_closed(&mut ws).await;
    assert_ne!(code, Some(1008), "closed as a call, not as a refusal");
    let (_, outcome) = app.ended_call("CAlong").await;
    assert!(outcome.is_some(), "the call is recorded with an outcome");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_lines_and_connection_caps() {
    let settings =
        [("MAX_CONCURRENT_CALLS", "1".to_string()), ("MAX_MEDIA_STREAMS_PER_IP", "2".to_string()), ("MAX_BAD_FRAMES", "3".to_string())];
    let Some(app) = PhoneApp::spawn_with(&[], &settings).await else { return };
    let call = open_call(&app.ticket(Provider::Twilio, "CAbusy", Some(CALLER)).await, Provider::Twilio, "CAbusy", None).await;
    // A second caller hears that the lines are busy, in every provider's terms.
    let r = app.post_signed("/twilio/voice", &[("CallSid", "CA2"), ("From", OTHER)], Provider::Twilio, true).await;
    let twiml = r.text().await.unwrap();
    assert!(twiml.contains("<Say") && twiml.contains("<Hangup/>") && !twiml.contains("<Stream"), "{twiml}");
    let r = app.post_signed("/plivo/answer", &[("CallUUID", "u2"), ("From", OTHER)], Provider::Plivo, true).await;
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<Speak") && xml.contains("<Hangup/>") && !xml.contains("<Stream"), "{xml}");
    let r = app
        .client
        .get(format!("{}/exotel/stream?CallSid=E2", app.http()))
        .basic_auth(EXOTEL_USER, Some(EXOTEL_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);

    // Connections awaiting their proof: two per address, the third is refused.
    let pending = with_token(&app, Provider::Twilio, None);
    let first = dial::connect(&pending).await.unwrap();
    let second = dial::connect(&pending).await.unwrap();
    assert_eq!(upgrade_status(&pending).await, 503);
    drop((first, second));
    hang_up(call).await;

    // Binary and malformed frames beyond the cap close the stream.
    let mut ws = dial::connect(&with_token(&app, Provider::Twilio, None)).await.unwrap();
    for _ in 0..5 {
        if ws.send(Message::Binary(vec![0u8; 160].into())).await.is_err() {
            break;
        }
    }
    let (_, texts) = until_closed(&mut ws).await;
    assert_eq!(texts, 0);
    assert_eq!(app.calls().await.len(), 1, "only the first call is stored");
}

/// A recogniser that serves one call at a time, as local Whisper does on 2
/// cores (`STT_MAX_CALLS`); it hears nothing.
struct OneCallAtATime(fluxion::speech::scripted::ScriptedStt);

impl SpeechToText for OneCallAtATime {
    fn name(&self) -> &str {
        "one-call"
    }
    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        self.0.start(request)
    }
    fn max_calls(&self) -> Option<usize> {
        Some(1)
    }
}

/// Above the calls local recognition serves at once, a new call hears the
/// busy message at the webhook, and a stream answered before the line
/// filled up is closed as busy; once the call in progress ends, calls are
/// answered again. `MAX_CONCURRENT_CALLS` is left at its default (100).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_the_recognition_capacity_hear_busy() {
    let stt = std::sync::Arc::new(OneCallAtATime(fluxion::speech::scripted::ScriptedStt::new(Vec::<String>::new())));
    let Some(app) = PhoneApp::spawn_full(stt, &[], fluxion::voice::VoiceConfig::default()).await else { return };
    let early = app.ticket(Provider::Twilio, "CAearly", Some(OTHER)).await;
    let call = open_call(&app.ticket(Provider::Twilio, "CAfirst", Some(CALLER)).await, Provider::Twilio, "CAfirst", None).await;

    let r = app.post_signed("/twilio/voice", &[("CallSid", "CAsecond"), ("From", OTHER)], Provider::Twilio, true).await;
    let twiml = r.text().await.unwrap();
    assert!(twiml.contains("linee sono occupate") && twiml.contains("<Hangup/>") && !twiml.contains("<Stream"), "{twiml}");
    let (code, texts) = refused(&early, Provider::Twilio, "CAearly").await;
    assert_eq!((code, texts), (Some(fluxion::telephony::media::CLOSE_BUSY), 0), "the early stream is closed as busy, unheard");

    hang_up(call).await;
    let mut answered = String::new();
    for attempt in 0..100 {
        let sid = format!("CAafter{attempt}");
        let r = app.post_signed("/twilio/voice", &[("CallSid", sid.as_str()), ("From", OTHER)], Provider::Twilio, true).await;
        answered = r.text().await.unwrap();
        if answered.contains("<Stream") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered.contains("<Stream"), "the line is free again: {answered}");
    let calls = app.calls().await;
    assert_eq!(calls.len(), 1, "only the first call is stored: {calls:?}");
}
