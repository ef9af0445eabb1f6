//! Phone calls end to end over real WebSockets: each provider's simulator
//! speaks espeak-ng Italian (as 8 kHz μ-law, or 16-bit PCM for Exotel) into
//! the server's media endpoint and books; signatures, barge-in, DTMF and
//! broken streams. Every call is set up through the signed webhook first,
//! as a provider does (the stream's proof is tested in `stream_auth`).
//! Recognition here uses the SCRIPTED recogniser; VAD, endpointing, codecs,
//! dialogue, booking and speech synthesis are real. The same server with
//! the real Whisper recogniser is in `whisper_real`.

use std::net::SocketAddr;
use std::sync::Arc;

use fluxion::app::{self, AppState, Engines};
use fluxion::speech::espeak::EspeakTts;
use fluxion::speech::scripted::ScriptedStt;
use fluxion::speech::speaker::Speaker;
use fluxion::store::Store;
use fluxion::telephony::dial::{self, CallFacts, Ticket};
use fluxion::telephony::signature::{plivo_v3_signature, twilio_signature};
use fluxion::telephony::simulator::{simulate_call, SimulatorOptions};
use fluxion::telephony::{Provider, SpeechKit, Telephony, TelephonyConfig};
use fluxion::voice::VoiceConfig;
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::booking::Vertical;
use fluxion_core::speech::stt::{SpeechToText, SttError, SttRequest, SttStream};
use fluxion_core::speech::tts::synthesize_all;
use fluxion_core::speech::BoxFuture;
use futures::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

pub(crate) const TWILIO_TOKEN: &str = "twilio-test-token";
pub(crate) const PLIVO_TOKEN: &str = "plivo-test-token";
/// The stream-token key of the test servers (tests mint expired tokens with it).
pub(crate) const STREAM_SECRET: &str = "stream-token-secret-for-tests";
pub(crate) const EXOTEL_USER: &str = "exotel";
pub(crate) const EXOTEL_PASSWORD: &str = "exotel-test-password";

pub(crate) struct PhoneApp {
    pub(crate) addr: SocketAddr,
    pub(crate) store: Store,
    pub(crate) client: reqwest::Client,
    /// The server's telephony settings (the provider signs with the same credentials).
    pub(crate) config: TelephonyConfig,
    _dir: tempfile::TempDir,
}

impl PhoneApp {
    /// A server whose recogniser hears `lines`, one per caller turn.
    pub(crate) async fn spawn(lines: &[&str]) -> Option<Self> {
        Self::spawn_with(lines, &[]).await
    }

    /// The same, with more telephony settings (`TRANSFER_NUMBER`, …; they
    /// override the test defaults).
    pub(crate) async fn spawn_with(lines: &[&str], settings: &[(&str, String)]) -> Option<Self> {
        Self::spawn_full(Arc::new(ScriptedStt::new(lines.iter().map(|l| l.to_string()))), settings, VoiceConfig::default()).await
    }

    /// A server with this recogniser, settings and voice configuration.
    pub(crate) async fn spawn_full(stt: Arc<dyn SpeechToText>, settings: &[(&str, String)], voice: VoiceConfig) -> Option<Self> {
        let tts = match EspeakTts::new("it", 165) {
            Ok(t) => t,
            Err(e) if std::env::var_os("FLUXION_REQUIRE_ESPEAK").is_none() => {
                eprintln!("SKIP: {e}");
                return None;
            }
            Err(e) => panic!("{e}"),
        };
        let (dir, store, _tenant) = crate::seeded_sqlite(Vertical::Salone).await;
        let engines = Engines::with_llm(store.clone(), fluxion_core::booking::Channel::Voice, None).await.unwrap();
        let state = AppState::with_engines(engines, crate::test_clock());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let public = format!("http://{addr}");
        let config = TelephonyConfig::from_lookup(|k| {
            settings.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone()).or_else(|| match k {
                "PUBLIC_URL" => Some(public.clone()),
                "TWILIO_AUTH_TOKEN" => Some(TWILIO_TOKEN.to_string()),
                "TWILIO_ACCOUNT_SID" => Some("ACtest".to_string()),
                "PLIVO_AUTH_ID" => Some("MAtest".to_string()),
                "PLIVO_AUTH_TOKEN" => Some(PLIVO_TOKEN.to_string()),
                "STREAM_TOKEN_SECRET" => Some(STREAM_SECRET.to_string()),
                "EXOTEL_WEBHOOK_USER" => Some(EXOTEL_USER.to_string()),
                "EXOTEL_WEBHOOK_PASSWORD" => Some(EXOTEL_PASSWORD.to_string()),
                _ => None,
            })
        })
        .unwrap();
        let speech = SpeechKit {
            stt,
            speaker: Arc::new(Speaker::new(Arc::new(tts), None, None).with_timeout_ms(30_000)),
            vad: VadEngine::Webrtc,
            stt_prompt: fluxion::voice::agent::stt_prompt(state.engine().info()),
        };
        let telephony = Telephony::new(state.clone(), config.clone(), voice, Ok(speech)).unwrap();
        let routes = app::router(state).merge(fluxion::telephony::router(telephony));
        tokio::spawn(app::serve_router(listener, routes, std::future::pending()));
        Some(PhoneApp { addr, store, client: reqwest::Client::new(), config, _dir: dir })
    }

    /// The server's base URL.
    pub(crate) fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Simulator defaults for a call through `provider` to this server.
    pub(crate) fn options(&self, provider: Provider) -> SimulatorOptions {
        SimulatorOptions::new(provider, self.http(), self.config.clone())
    }

    /// The webhook answer for a call, as the provider gets it.
    pub(crate) async fn ticket(&self, provider: Provider, call_sid: &str, caller: Option<&str>) -> Ticket {
        let facts = CallFacts { call_sid: call_sid.to_string(), caller: caller.map(str::to_string), called: None };
        dial::answer(&self.client, &self.http(), &self.config, provider, &facts).await.unwrap()
    }

    pub(crate) async fn post_signed(&self, path: &str, params: &[(&str, &str)], provider: Provider, good: bool) -> reqwest::Response {
        let url = format!("http://{}{path}", self.addr);
        let owned: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut request = self.client.post(&url).form(params);
        match provider {
            Provider::Twilio => {
                let sig = twilio_signature(if good { TWILIO_TOKEN } else { "wrong" }, &url, &owned);
                request = request.header("X-Twilio-Signature", sig);
            }
            _ => {
                let nonce = "12345678901234567890";
                let sig = plivo_v3_signature(if good { PLIVO_TOKEN } else { "wrong" }, &url, nonce, &owned, "POST");
                request = request.header("X-Plivo-Signature-V3", sig).header("X-Plivo-Signature-V3-Nonce", nonce);
            }
        }
        request.send().await.unwrap()
    }

    pub(crate) async fn calls(&self) -> Vec<(String, String, Option<String>, Option<String>)> {
        sqlx::query_as("SELECT provider, call_sid, outcome, ended_at FROM calls ORDER BY id")
            .fetch_all(self.store.pool_for_tests())
            .await
            .unwrap()
    }

    /// Waits (up to 10 s) for the call to be recorded as ended.
    pub(crate) async fn ended_call(&self, call_sid: &str) -> (String, Option<String>) {
        for _ in 0..200 {
            let row: Option<(Option<String>, Option<String>, String)> =
                sqlx::query_as("SELECT outcome, ended_at, provider FROM calls WHERE call_sid = ?")
                    .bind(call_sid)
                    .fetch_optional(self.store.pool_for_tests())
                    .await
                    .unwrap();
            if let Some((outcome, Some(_), provider)) = row {
                return (provider, outcome);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("call {call_sid} was not recorded as ended");
    }
}

const LINES: [&str; 3] = ["Buongiorno, vorrei prenotare un taglio donna per giovedì alle quindici", "Mi chiamo Mario Bianchi", "sì"];

/// The caller's side: the lines spoken by espeak-ng at 8 kHz, 1.2 s apart.
pub(crate) async fn caller_audio(lines: &[&str]) -> Vec<i16> {
    let tts = EspeakTts::new("it", 165).unwrap();
    let mut pcm = vec![0i16; 4_000];
    for line in lines {
        let speech = synthesize_all(&tts, line).await.unwrap();
        pcm.extend(fluxion::cli::voice::convert_rate(&speech, 22_050, 8_000).unwrap());
        pcm.extend(vec![0i16; 9_600]);
    }
    pcm
}

async fn books_through(provider: Provider) {
    let Some(app) = PhoneApp::spawn(&LINES).await else { return };
    let caller = caller_audio(&LINES).await;
    let options = SimulatorOptions { caller: Some("+393401234567".to_string()), speed: 5.0, ..app.options(provider) };
    let call = simulate_call(&options, &caller).await.unwrap();
    for (at, text) in &call.said {
        eprintln!("[{at} ms] {text}");
    }
    assert!(call.media_messages > 100, "{provider:?}: agent audio in the provider's format ({} messages)", call.media_messages);
    let first = call.first_audio_wall_ms.expect("the greeting was heard");
    assert!(first < 1_000, "{provider:?}: greeting {first} ms after the stream started");
    assert!(call.marks >= 4, "{provider:?}: marks for greeting and replies ({})", call.marks);
    assert!(call.said.iter().any(|(_, t)| t.starts_with("Perfetto, ho prenotato")), "{provider:?}: {:?}", call.said);
    let loud = call.agent_audio.iter().filter(|s| s.unsigned_abs() > 2_000).count();
    assert!(loud > 8_000, "{provider:?}: the agent's voice came back ({loud} loud samples)");

    let (start, name): (String, String) =
        sqlx::query_as("SELECT a.start_utc, c.name FROM appointments a JOIN clients c ON c.id = a.client_id")
            .fetch_one(app.store.pool_for_tests())
            .await
            .expect("booked");
    assert_eq!((start.as_str(), name.as_str()), ("2027-03-11T14:00:00Z", "Mario Bianchi"));
    let (stored_provider, outcome) = app.ended_call(&options.call_sid).await;
    assert_eq!((stored_provider.as_str(), outcome.as_deref()), (provider.as_str(), Some("booked")));
    let turns: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_history WHERE session_id = ?")
        .bind(&options.call_sid)
        .fetch_one(app.store.pool_for_tests())
        .await
        .unwrap();
    assert!(turns >= 3, "transcript turns linked to the call ({turns})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_call_books_an_appointment() {
    books_through(Provider::Twilio).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plivo_call_books_an_appointment() {
    books_through(Provider::Plivo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exotel_call_books_an_appointment() {
    books_through(Provider::Exotel).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_answer_with_a_stream_and_bad_signatures_get_403() {
    let Some(app) = PhoneApp::spawn(&[]).await else { return };
    let params = [("CallSid", "CA123"), ("From", "+393401234567"), ("To", "+390212345678"), ("CallStatus", "ringing")];
    let r = app.post_signed("/twilio/voice", &params, Provider::Twilio, true).await;
    assert_eq!(r.status(), 200);
    let twiml = r.text().await.unwrap();
    assert!(twiml.contains("<Connect>") && twiml.contains(&format!("ws://{}/twilio/media", app.addr)), "{twiml}");
    assert!(twiml.contains(r#"<Parameter name="token" value=""#), "the stream token travels as a stream parameter: {twiml}");
    assert!(!twiml.contains("+393401234567"), "the caller travels only inside the token: {twiml}");

    let r = app
        .post_signed("/plivo/answer", &[("CallUUID", "uuid-1"), ("From", "393401234567"), ("To", "390212345678")], Provider::Plivo, true)
        .await;
    assert_eq!(r.status(), 200);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<Stream") && xml.contains(&format!("ws://{}/plivo/media", app.addr)), "{xml}");
    assert!(xml.contains(r#"extraHeaders="token="#), "{xml}");

    // The seeds' paths answer the same, signed over the URL requested.
    let r = app.post_signed("/webhooks/twilio/voice", &params, Provider::Twilio, true).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<Stream"));
    let r = app.post_signed("/webhooks/plivo/answer", &[("CallUUID", "uuid-2"), ("From", "393401234567")], Provider::Plivo, true).await;
    assert_eq!(r.status(), 200);
    // A signature made for /twilio/voice does not open /webhooks/twilio/voice.
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let sig = twilio_signature(TWILIO_TOKEN, &format!("http://{}/twilio/voice", app.addr), &owned);
    let r = app
        .client
        .post(format!("http://{}/webhooks/twilio/voice", app.addr))
        .form(&params)
        .header("X-Twilio-Signature", sig)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    for (path, provider) in [
        ("/twilio/voice", Provider::Twilio),
        ("/twilio/status", Provider::Twilio),
        ("/webhooks/twilio/voice", Provider::Twilio),
        ("/webhooks/twilio/status", Provider::Twilio),
        ("/plivo/answer", Provider::Plivo),
        ("/plivo/hangup", Provider::Plivo),
    ] {
        let r = app.post_signed(path, &[("CallSid", "CA999"), ("CallUUID", "uuid-9"), ("CallStatus", "completed")], provider, false).await;
        assert_eq!(r.status(), 403, "{path}");
        let unsigned = app.client.post(format!("http://{}{path}", app.addr)).form(&[("CallSid", "CA999")]).send().await.unwrap();
        assert_eq!(unsigned.status(), 403, "{path} without a signature");
    }
    assert!(app.calls().await.is_empty(), "nothing stored from rejected webhooks");

    let r = app.post_signed("/twilio/status", &[("CallSid", "CA123"), ("CallStatus", "completed")], Provider::Twilio, true).await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.calls().await.len(), 1);
    // The seeds' name for the same webhook, signed over its own URL.
    let r = app.post_signed("/webhooks/twilio/status", &[("CallSid", "CA124"), ("CallStatus", "completed")], Provider::Twilio, true).await;
    assert_eq!(r.status(), 204);
    assert_eq!(app.calls().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talking_over_the_greeting_sends_clear() {
    let Some(app) = PhoneApp::spawn(&["vorrei prenotare un taglio"]).await else { return };
    let mut caller = vec![0i16; 2_400];
    caller.extend(caller_audio(&["vorrei prenotare un taglio"]).await);
    let options = SimulatorOptions { turn_taking: false, speed: 4.0, ..app.options(Provider::Twilio) };
    let call = simulate_call(&options, &caller).await.unwrap();
    assert!(call.clears >= 1, "barge-in sent clear ({} clears)", call.clears);
    assert!(call.said.len() >= 2, "the agent answered the interruption: {:?}", call.said);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pressing_1_confirms_the_booking() {
    let Some(app) = PhoneApp::spawn(&LINES[..2]).await else { return };
    let caller = caller_audio(&LINES[..2]).await;
    let options =
        SimulatorOptions { caller: Some("+393401234567".to_string()), speed: 5.0, dtmf: vec!['1'], ..app.options(Provider::Twilio) };
    let call = simulate_call(&options, &caller).await.unwrap();
    assert!(call.said.iter().any(|(_, t)| t.starts_with("Perfetto, ho prenotato")), "{:?}", call.said);
    let (_, outcome) = app.ended_call(&options.call_sid).await;
    assert_eq!(outcome.as_deref(), Some("booked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_streams_leave_the_server_up_and_the_call_abandoned() {
    let Some(app) = PhoneApp::spawn(&["vorrei prenotare"]).await else { return };
    let ticket = app.ticket(Provider::Twilio, "CAbroken", Some("+393401234567")).await;
    let mut ws = dial::connect(&ticket).await.unwrap();
    let send = |v: String| Message::Text(v.into());
    ws.send(send(json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string())).await.unwrap();
    let custom: serde_json::Map<String, serde_json::Value> = ticket.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let start = json!({"event": "start", "sequenceNumber": "1", "streamSid": "MZbroken", "start": {
        "accountSid": "AC1", "streamSid": "MZbroken", "callSid": "CAbroken", "tracks": ["inbound"], "customParameters": custom,
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}});
    ws.send(send(start.to_string())).await.unwrap();
    ws.send(send("this is not json".to_string())).await.unwrap();
    ws.send(send(json!({"event": "somethingNew", "streamSid": "MZbroken"}).to_string())).await.unwrap();
    ws.send(send(json!({"event": "media", "streamSid": "MZbroken", "media": {"payload": "abc"}}).to_string())).await.unwrap();
    ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    // Half a second of a loud buzz (an utterance in progress), then the line drops.
    use base64::Engine as _;
    let buzz: Vec<i16> = (0..160).map(|i| if (i / 20) % 2 == 0 { 9000 } else { -9000 }).collect();
    let payload = base64::engine::general_purpose::STANDARD.encode(fluxion_core::audio::g711::pcm_to_mulaw(&buzz));
    for n in 0..25 {
        let media = json!({"event": "media", "sequenceNumber": (n + 2).to_string(), "streamSid": "MZbroken", "media": {"track": "inbound", "chunk": n.to_string(), "timestamp": (n * 20).to_string(), "payload": payload}});
        ws.send(send(media.to_string())).await.unwrap();
    }
    drop(ws);
    let (_, outcome) = app.ended_call("CAbroken").await;
    assert_eq!(outcome.as_deref(), Some("abandoned"));
    let health = app.client.get(format!("http://{}/health", app.addr)).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server keeps running");
}

/// Requests a fake API received: (path and query, body).
type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A fake Twilio REST API that records the requests it gets.
async fn fake_twilio_api() -> (String, Seen) {
    use axum::extract::{OriginalUri, State};
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .fallback(|State(seen): State<Seen>, uri: OriginalUri, body: String| async move {
            seen.lock().unwrap().push((uri.0.to_string(), body));
            axum::Json(json!({"sid": "CAnew"}))
        })
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_a_person_transfers_through_the_twilio_api_or_records_a_callback() {
    let line = ["vorrei parlare con un operatore"];
    let (api, seen) = fake_twilio_api().await;
    let settings = [("TRANSFER_NUMBER", "+390212345678".to_string()), ("TWILIO_API_BASE", api)];
    let Some(app) = PhoneApp::spawn_with(&line, &settings).await else { return };
    let caller = caller_audio(&line).await;
    let options = SimulatorOptions { caller: Some("+393401234567".to_string()), speed: 5.0, ..app.options(Provider::Twilio) };
    simulate_call(&options, &caller).await.unwrap();
    let (_, outcome) = app.ended_call(&options.call_sid).await;
    assert_eq!(outcome.as_deref(), Some("transferred"));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].0, format!("/2010-04-01/Accounts/ACtest/Calls/{}.json", options.call_sid));
    assert!(requests[0].1.contains("Dial") && requests[0].1.contains("390212345678"), "{}", requests[0].1);

    // Without a transfer number: a callback request for the caller.
    let Some(app) = PhoneApp::spawn(&line).await else { return };
    let options = SimulatorOptions { caller: Some("+393401234567".to_string()), speed: 5.0, ..app.options(Provider::Twilio) };
    simulate_call(&options, &caller).await.unwrap();
    app.ended_call(&options.call_sid).await;
    let phones: Vec<Option<String>> =
        sqlx::query_scalar("SELECT phone FROM callback_requests").fetch_all(app.store.pool_for_tests()).await.unwrap();
    assert!(phones.contains(&Some("+393401234567".to_string())), "{phones:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_tells_the_caller_and_keeps_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let settings = [("RECORD_CALLS", "1".to_string()), ("RECORDINGS_DIR", dir.path().display().to_string())];
    let Some(app) = PhoneApp::spawn_with(&["vorrei prenotare"], &settings).await else { return };
    let caller = caller_audio(&["vorrei prenotare"]).await;
    let options = SimulatorOptions { speed: 5.0, ..app.options(Provider::Twilio) };
    let call = simulate_call(&options, &caller).await.unwrap();
    assert!(call.said.first().is_some_and(|(_, t)| t.starts_with(fluxion::telephony::recording::NOTICE)), "{:?}", call.said);
    app.ended_call(&options.call_sid).await;
    let path: Option<String> = sqlx::query_scalar("SELECT recording_path FROM calls").fetch_one(app.store.pool_for_tests()).await.unwrap();
    let path = std::path::PathBuf::from(path.expect("recording path stored"));
    let agent = path.to_string_lossy().replace("-caller.wav", "-agent.wav");
    for file in [path.clone(), agent.into()] {
        let (pcm, rate) = fluxion_core::audio::wav::read_wav(std::fs::File::open(&file).unwrap()).unwrap();
        assert_eq!(rate, 8_000);
        assert!(pcm.iter().any(|s| s.unsigned_abs() > 2_000), "{} is audible", file.display());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

/// A recogniser whose every utterance fails (a broken engine).
struct BrokenStt;

impl SpeechToText for BrokenStt {
    fn name(&self) -> &str {
        "broken"
    }
    fn start<'a>(&'a self, _: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async { Err(SttError::Provider { status: Some(503), message: "down".into(), retryable: true }) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_recognition_failures_end_politely_with_a_callback_request() {
    let voice = VoiceConfig { max_failed_turns: 2, ..VoiceConfig::default() };
    let Some(app) = PhoneApp::spawn_full(Arc::new(BrokenStt), &[], voice).await else { return };
    let caller = caller_audio(&["vorrei prenotare", "vorrei prenotare", "vorrei prenotare"]).await;
    let options = SimulatorOptions { caller: Some("+393401234567".to_string()), speed: 5.0, ..app.options(Provider::Twilio) };
    let call = simulate_call(&options, &caller).await.unwrap();
    assert!(call.agent_hung_up, "the agent ends the call");
    assert!(call.said.iter().any(|(_, t)| t == fluxion::voice::phrases::GOODBYE_NOT_UNDERSTOOD), "{:?}", call.said);
    let (_, outcome) = app.ended_call(&options.call_sid).await;
    assert_eq!(outcome.as_deref(), Some("failed"));
    let phones: Vec<Option<String>> =
        sqlx::query_scalar("SELECT phone FROM callback_requests").fetch_all(app.store.pool_for_tests()).await.unwrap();
    assert_eq!(phones, [Some("+393401234567".to_string())]);
}

/// A recogniser that says whether it is at capacity as told (a local
/// Whisper whose decodes queue for the cores).
struct LoadedStt(Arc<std::sync::atomic::AtomicBool>);

impl SpeechToText for LoadedStt {
    fn name(&self) -> &str {
        "loaded"
    }
    fn start<'a>(&'a self, _: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async { Err(SttError::Unavailable("not used".into())) })
    }
    fn saturated(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_calls_hear_busy_while_recognition_is_at_capacity() {
    let saturated = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let Some(app) = PhoneApp::spawn_full(Arc::new(LoadedStt(saturated.clone())), &[], VoiceConfig::default()).await else { return };
    let params = [("CallSid", "CAfull"), ("From", "+393401234567")];
    let twiml = app.post_signed("/twilio/voice", &params, Provider::Twilio, true).await.text().await.unwrap();
    assert!(twiml.contains("<Say") && twiml.contains("<Hangup/>") && !twiml.contains("<Stream"), "{twiml}");
    assert!(twiml.contains("linee sono occupate"), "{twiml}");
    // Capacity back: the next call is answered with a stream.
    saturated.store(false, std::sync::atomic::Ordering::Relaxed);
    let twiml = app.post_signed("/twilio/voice", &[("CallSid", "CAnext"), ("From", "+393401234567")], Provider::Twilio, true).await;
    let twiml = twiml.text().await.unwrap();
    assert!(twiml.contains("<Stream"), "{twiml}");
}
