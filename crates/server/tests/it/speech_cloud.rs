//! The cloud speech engines against fake providers on 127.0.0.1:0 that speak
//! each provider's documented wire format: Deepgram live streaming over a
//! WebSocket and Aura over REST, OpenAI-compatible transcription (multipart)
//! and speech, ElevenLabs streamed μ-law. The fakes also check what the
//! engines send: auth headers, query parameters, multipart fields, JSON bodies.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use fluxion::speech::deepgram::{AuraTts, DeepgramConfig, DeepgramStt};
use fluxion::speech::elevenlabs::{ElevenLabsConfig, ElevenLabsTts, OutputFormat};
use fluxion::speech::openai::{OpenAiStt, OpenAiSttConfig, OpenAiTts, OpenAiTtsConfig};
use fluxion_core::audio::{g711, wav};
use fluxion_core::speech::stt::transcribe;
use fluxion_core::speech::tts::synthesize_all;
use fluxion_core::speech::{SpeechToText, SttError, SttRequest, TextToSpeech, TtsError};
use futures::StreamExt;
use serde_json::{json, Value};

/// Serves `app` on a free port; returns `http://127.0.0.1:<port>`.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A 440 Hz tone of `len` samples at `rate_hz`.
fn tone(rate_hz: u32, len: usize) -> Vec<i16> {
    (0..len).map(|n| (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / f64::from(rate_hz)).sin()) as i16).collect()
}

fn le_bytes(pcm: &[i16]) -> Vec<u8> {
    pcm.iter().flat_map(|s| s.to_le_bytes()).collect()
}

// ---------------------------------------------------------------------------
// A fake HTTP provider
// ---------------------------------------------------------------------------

/// One request as the fake saw it.
#[derive(Debug, Clone)]
struct Captured {
    /// Path and query.
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// What the fake answers.
#[derive(Clone)]
enum Reply {
    /// `status` with `headers`, the body sent as `chunks` with `gap` between them.
    Chunks { status: u16, headers: Vec<(&'static str, String)>, chunks: Vec<Vec<u8>>, gap: Duration },
    /// Nothing until `0` has passed.
    Stall(Duration),
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Reply::Chunks {
            status,
            headers: vec![("content-type", "application/json".to_string())],
            chunks: vec![body.to_string().into_bytes()],
            gap: Duration::ZERO,
        }
    }

    fn audio(chunks: Vec<Vec<u8>>) -> Self {
        Reply::Chunks {
            status: 200,
            headers: vec![("content-type", "application/octet-stream".to_string())],
            chunks,
            gap: Duration::from_millis(30),
        }
    }
}

type Seen = Arc<Mutex<Vec<Captured>>>;

/// A fake HTTP server answering every request with `reply`; returns its base URL and the requests it saw.
async fn fake_http(reply: Reply) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new().fallback(move |req: Request| {
        let reply = reply.clone();
        let record = Arc::clone(&record);
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.map(|b| b.to_vec()).unwrap_or_default();
            let uri = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
            record.lock().expect("lock").push(Captured { uri, headers: parts.headers, body });
            match reply {
                Reply::Stall(wait) => {
                    tokio::time::sleep(wait).await;
                    StatusCode::GATEWAY_TIMEOUT.into_response()
                }
                Reply::Chunks { status, headers, mut chunks, gap } => {
                    // One chunk goes out with a Content-Length, several with chunked transfer encoding.
                    let body = if chunks.len() == 1 {
                        Body::from(chunks.remove(0))
                    } else {
                        Body::from_stream(futures::stream::iter(chunks.into_iter().enumerate()).then(move |(i, chunk)| async move {
                            if i > 0 {
                                tokio::time::sleep(gap).await;
                            }
                            Ok::<_, std::convert::Infallible>(chunk)
                        }))
                    };
                    let mut resp = Response::new(body);
                    *resp.status_mut() = StatusCode::from_u16(status).expect("status");
                    for (name, value) in headers {
                        resp.headers_mut().insert(name, value.parse().expect("header value"));
                    }
                    resp
                }
            }
        }
    });
    (serve(app).await, seen)
}

fn only(seen: &Seen) -> Captured {
    let all = seen.lock().expect("lock");
    assert_eq!(all.len(), 1, "exactly one request (no retry inside the engine)");
    all[0].clone()
}

/// The parts of a `multipart/form-data` body, as `(name, bytes)`.
fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary").trim_matches('"');
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(at) = find(rest, &delimiter) {
        let after = &rest[at + delimiter.len()..];
        if after.starts_with(b"--") {
            break;
        }
        let after = after.strip_prefix(b"\r\n").expect("CRLF after boundary");
        let end = find(after, &delimiter).expect("next boundary");
        let part = after[..end].strip_suffix(b"\r\n").expect("CRLF before boundary");
        let split = find(part, b"\r\n\r\n").expect("blank line after headers");
        let head = String::from_utf8_lossy(&part[..split]).into_owned();
        let name = head.split("name=\"").nth(1).and_then(|s| s.split('"').next()).expect("part name").to_string();
        parts.push((name, part[split + 4..].to_vec()));
        rest = &after[end..];
    }
    parts
}

/// The `key=value` pairs of a query string, percent-decoded.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://fake/?{query}")).expect("query");
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------
// Deepgram live streaming
// ---------------------------------------------------------------------------

/// How the fake Deepgram behaves on one socket.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Script {
    /// Interim and final results while audio arrives, the last final on
    /// `Finalize`, `Metadata` and a normal close on `CloseStream`.
    Utterance,
    /// Nothing recognised: an empty final on `Finalize`, then close.
    Silence,
    /// The connection drops (no close frame) after the first audio frame.
    DropAfterAudio,
    /// Never answers `CloseStream`.
    NeverClose,
}

/// What the fake Deepgram received.
#[derive(Debug, Default)]
struct DeepgramSeen {
    query: String,
    authorization: Option<String>,
    audio: Vec<u8>,
    controls: Vec<String>,
}

fn results(transcript: &str, is_final: bool, speech_final: bool, from_finalize: bool) -> Message {
    let v = json!({
        "type": "Results",
        "channel_index": [0, 1],
        "duration": 1.2,
        "start": 0.0,
        "is_final": is_final,
        "speech_final": speech_final,
        "from_finalize": from_finalize,
        "channel": { "alternatives": [{ "transcript": transcript, "confidence": 0.92, "words": [] }] },
        "metadata": { "request_id": "fake", "model_info": { "name": "2-general-nova", "version": "x", "arch": "nova-2" }, "model_uuid": "u" }
    });
    Message::Text(v.to_string().into())
}

fn metadata() -> Message {
    Message::Text(json!({ "type": "Metadata", "request_id": "fake", "duration": 0.5, "channels": 1 }).to_string().into())
}

async fn deepgram_socket(mut socket: WebSocket, script: Script, seen: Arc<Mutex<DeepgramSeen>>) {
    let mut first_audio = true;
    while let Some(Ok(msg)) = socket.recv().await {
        match msg {
            Message::Binary(bytes) => {
                seen.lock().expect("lock").audio.extend_from_slice(&bytes);
                if first_audio {
                    first_audio = false;
                    match script {
                        Script::Utterance => {
                            for m in [
                                results("vorrei", false, false, false),
                                results("Vorrei prenotare", true, false, false),
                                results("un ta", false, false, false),
                            ] {
                                let _ = socket.send(m).await;
                            }
                        }
                        Script::DropAfterAudio => return,
                        Script::Silence | Script::NeverClose => {}
                    }
                }
            }
            Message::Text(text) => {
                let kind = serde_json::from_str::<Value>(text.as_str())
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                seen.lock().expect("lock").controls.push(kind.clone());
                match (kind.as_str(), script) {
                    ("Finalize", Script::Utterance) => {
                        let _ = socket.send(results("un taglio domani.", true, true, true)).await;
                    }
                    ("Finalize", Script::Silence) => {
                        let _ = socket.send(results("", true, true, true)).await;
                    }
                    ("CloseStream", Script::Utterance | Script::Silence) => {
                        let _ = socket.send(metadata()).await;
                        let _ = socket.send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() }))).await;
                    }
                    _ => {}
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
}

/// A fake Deepgram listen endpoint following `script`.
async fn fake_deepgram(script: Script) -> (String, Arc<Mutex<DeepgramSeen>>) {
    let seen: Arc<Mutex<DeepgramSeen>> = Arc::default();
    let record = Arc::clone(&seen);
    let app = Router::new().route(
        "/v1/listen",
        get(move |ws: WebSocketUpgrade, RawQuery(query): RawQuery, headers: HeaderMap| {
            let seen = Arc::clone(&record);
            async move {
                {
                    let mut s = seen.lock().expect("lock");
                    s.query = query.unwrap_or_default();
                    s.authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
                }
                ws.on_upgrade(move |socket| deepgram_socket(socket, script, seen))
            }
        }),
    );
    (serve(app).await, seen)
}

fn deepgram_config(base_url: &str, timeout_ms: u64) -> DeepgramConfig {
    let mut cfg = DeepgramConfig::new("dg-test-key");
    cfg.base_url = base_url.to_string();
    cfg.timeout_ms = timeout_ms;
    cfg
}

#[tokio::test]
async fn deepgram_streams_audio_and_joins_final_results() {
    let (url, seen) = fake_deepgram(Script::Utterance).await;
    let stt = DeepgramStt::new(deepgram_config(&url, 1000)).expect("engine");
    assert_eq!(stt.name(), "deepgram");
    let request = SttRequest::italian(8000).with_prompt("taglio, piega, Giulia");
    let pcm = tone(8000, 4000);

    let mut stream = stt.start(&request).await.expect("socket opens");
    for chunk in pcm.chunks(160) {
        stream.push(chunk).await.expect("push");
    }
    let interim = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let Some(text) = stream.interim().filter(|t| t.ends_with("un ta")) {
                break text;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("interim results arrive");
    assert_eq!(interim, "Vorrei prenotare un ta");

    let transcript = stream.finish().await.expect("transcript");
    assert_eq!(transcript.text, "Vorrei prenotare un taglio domani.");
    assert_eq!(transcript.audio_ms, 500);
    assert!(transcript.confidence.is_some_and(|c| (c - 0.92).abs() < 1e-6), "{:?}", transcript.confidence);

    let seen = seen.lock().expect("lock");
    assert_eq!(seen.authorization.as_deref(), Some("Token dg-test-key"));
    let query: Vec<(String, String)> = query_pairs(&seen.query);
    for (k, v) in [
        ("model", "nova-2"),
        ("language", "it"),
        ("encoding", "linear16"),
        ("sample_rate", "8000"),
        ("channels", "1"),
        ("interim_results", "true"),
        ("endpointing", "300"),
        ("punctuate", "true"),
        ("smart_format", "true"),
    ] {
        assert!(query.contains(&(k.to_string(), v.to_string())), "{k}={v} in {query:?}");
    }
    let keywords: Vec<&str> = query.iter().filter(|(k, _)| k == "keywords").map(|(_, v)| v.as_str()).collect();
    assert_eq!(keywords, ["taglio", "piega", "Giulia"]);
    assert_eq!(seen.audio, le_bytes(&pcm), "every sample arrived as 16-bit little-endian");
    assert_eq!(seen.controls, ["Finalize", "CloseStream"]);
}

#[tokio::test]
async fn deepgram_empty_transcript_is_ok_and_empty() {
    let (url, _seen) = fake_deepgram(Script::Silence).await;
    let stt = DeepgramStt::new(deepgram_config(&url, 1000)).expect("engine");
    let transcript = transcribe(&stt, &SttRequest::italian(16000), &[0i16; 3200]).await.expect("silence is not an error");
    assert_eq!(transcript.text, "");
    assert_eq!(transcript.confidence, None);
    assert_eq!(transcript.audio_ms, 200);
}

#[tokio::test]
async fn deepgram_connection_dropped_mid_utterance_is_a_retryable_error() {
    let (url, seen) = fake_deepgram(Script::DropAfterAudio).await;
    let stt = DeepgramStt::new(deepgram_config(&url, 1000)).expect("engine");
    let started = Instant::now();
    let err = transcribe(&stt, &SttRequest::italian(8000), &tone(8000, 8000)).await.expect_err("dropped");
    assert!(matches!(err, SttError::Provider { retryable: true, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(900), "no wait for the deadline: {:?}", started.elapsed());
    assert!(!seen.lock().expect("lock").audio.is_empty());
}

#[tokio::test]
async fn deepgram_finish_without_close_times_out() {
    let (url, _seen) = fake_deepgram(Script::NeverClose).await;
    let stt = DeepgramStt::new(deepgram_config(&url, 300)).expect("engine");
    let started = Instant::now();
    let err = transcribe(&stt, &SttRequest::italian(8000), &tone(8000, 800)).await.expect_err("no close");
    assert_eq!(err, SttError::Timeout(300));
    assert!(err.is_retryable());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(280) && took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn deepgram_refused_handshake_is_a_provider_error_without_the_key() {
    let (url, _seen) = fake_http(Reply::json(401, json!({ "err_code": "INVALID_AUTH", "err_msg": "Invalid credentials." }))).await;
    let stt = DeepgramStt::new(deepgram_config(&url, 1000)).expect("engine");
    let err = stt.start(&SttRequest::italian(8000)).await.err().expect("refused");
    // The message is Deepgram's `err_msg` when the body came with the head, a generic one otherwise.
    assert!(
        matches!(&err, SttError::Provider { status: Some(401), retryable: false, message } if message == "Invalid credentials." || message.contains("refused")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("dg-test-key"));
}

// ---------------------------------------------------------------------------
// Deepgram Aura
// ---------------------------------------------------------------------------

#[tokio::test]
async fn aura_streams_linear16_and_sends_the_documented_request() {
    let pcm = tone(16000, 1601);
    let bytes = le_bytes(&pcm);
    let (url, seen) = fake_http(Reply::audio(vec![bytes[..3].to_vec(), bytes[3..1001].to_vec(), bytes[1001..].to_vec()])).await;
    let tts = AuraTts::new(deepgram_config(&url, 1000)).expect("engine");
    assert_eq!((tts.engine(), tts.voice(), tts.sample_rate_hz()), ("deepgram", "aura-2-livia-it", 16000));

    let mut chunks = Vec::new();
    {
        let mut sink = |chunk: Vec<i16>| chunks.push(chunk);
        tts.synthesize("Buongiorno, come posso aiutarla?", &mut sink).await.expect("speech");
    }
    assert!(chunks.len() >= 2, "audio handed over as it arrived: {} chunks", chunks.len());
    assert_eq!(chunks.concat(), pcm);

    let req = only(&seen);
    let (path, query) = req.uri.split_once('?').expect("query");
    assert_eq!(path, "/v1/speak");
    let mut query: Vec<(String, String)> = query_pairs(query);
    query.sort();
    let expected = [("container", "none"), ("encoding", "linear16"), ("model", "aura-2-livia-it"), ("sample_rate", "16000")];
    assert_eq!(query, expected.map(|(k, v)| (k.to_string(), v.to_string())));
    assert_eq!(req.header("authorization"), Some("Token dg-test-key"));
    assert_eq!(req.json(), json!({ "text": "Buongiorno, come posso aiutarla?" }));
}

// ---------------------------------------------------------------------------
// OpenAI-compatible transcription
// ---------------------------------------------------------------------------

fn openai_stt(base_url: &str, timeout_ms: u64) -> OpenAiStt {
    let mut cfg = OpenAiSttConfig::new(format!("{base_url}/v1"), Some("sk-test-key".to_string()));
    cfg.timeout_ms = timeout_ms;
    OpenAiStt::new(cfg).expect("engine")
}

#[tokio::test]
async fn openai_transcription_uploads_a_wav_form() {
    let (url, seen) = fake_http(Reply::json(200, json!({ "text": " Vorrei prenotare un taglio. " }))).await;
    let stt = openai_stt(&url, 1000);
    let pcm = tone(8000, 2400);
    let request = SttRequest::italian(8000).with_prompt("Taglio, piega, colore.");
    let transcript = transcribe(&stt, &request, &pcm).await.expect("transcript");
    assert_eq!(transcript.text, "Vorrei prenotare un taglio.");
    assert_eq!((transcript.confidence, transcript.audio_ms), (None, 300));

    let req = only(&seen);
    assert_eq!(req.uri, "/v1/audio/transcriptions");
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-key"));
    let content_type = req.header("content-type").expect("content type").to_string();
    assert!(content_type.starts_with("multipart/form-data; boundary="), "{content_type}");
    let parts = multipart_parts(&content_type, &req.body);
    let field = |name: &str| parts.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name} part"));
    assert_eq!(field("model"), b"whisper-1");
    assert_eq!(field("language"), b"it");
    assert_eq!(field("prompt"), b"Taglio, piega, colore.");
    assert_eq!(field("response_format"), b"json");
    let (samples, rate) = wav::read_wav_bytes(&field("file")).expect("a WAV file");
    assert_eq!((rate, samples), (8000, pcm));
}

#[tokio::test]
async fn openai_transcription_of_no_audio_sends_nothing() {
    let (url, seen) = fake_http(Reply::json(500, json!({}))).await;
    let transcript = transcribe(&openai_stt(&url, 1000), &SttRequest::italian(16000), &[]).await.expect("empty");
    assert_eq!(transcript.text, "");
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn openai_transcription_rate_limit_is_retryable_and_not_retried() {
    let reply = Reply::Chunks {
        status: 429,
        headers: vec![("content-type", "application/json".to_string()), ("retry-after", "2".to_string())],
        chunks: vec![json!({ "error": { "message": "Rate limit reached for whisper-1", "type": "requests" } }).to_string().into_bytes()],
        gap: Duration::ZERO,
    };
    let (url, seen) = fake_http(reply).await;
    let err = transcribe(&openai_stt(&url, 1000), &SttRequest::italian(8000), &tone(8000, 800)).await.expect_err("429");
    assert_eq!(
        err,
        SttError::Provider { status: Some(429), message: "Rate limit reached for whisper-1 (Retry-After: 2)".to_string(), retryable: true }
    );
    assert!(err.is_retryable());
    only(&seen);
}

#[tokio::test]
async fn openai_transcription_stall_times_out_at_the_deadline() {
    let (url, _seen) = fake_http(Reply::Stall(Duration::from_secs(3))).await;
    let started = Instant::now();
    let err = transcribe(&openai_stt(&url, 300), &SttRequest::italian(8000), &tone(8000, 800)).await.expect_err("stall");
    assert_eq!(err, SttError::Timeout(300));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(280) && took < Duration::from_millis(900), "{took:?}");
}

#[tokio::test]
async fn openai_transcription_bad_json_is_a_protocol_error() {
    let (url, _seen) = fake_http(Reply::json(200, json!({ "transcript": "no text field" }))).await;
    let err = transcribe(&openai_stt(&url, 1000), &SttRequest::italian(8000), &tone(8000, 800)).await.expect_err("bad json");
    assert!(matches!(err, SttError::Protocol(_)), "{err:?}");
}

// ---------------------------------------------------------------------------
// OpenAI-compatible speech
// ---------------------------------------------------------------------------

#[tokio::test]
async fn openai_speech_streams_24khz_pcm() {
    let pcm = tone(24000, 2401);
    let bytes = le_bytes(&pcm);
    let (url, seen) = fake_http(Reply::audio(vec![bytes[..1].to_vec(), bytes[1..2000].to_vec(), bytes[2000..].to_vec()])).await;
    let mut cfg = OpenAiTtsConfig::new(format!("{url}/v1"), Some("sk-test-key".to_string()));
    cfg.timeout_ms = 1000;
    let tts = OpenAiTts::new(cfg).expect("engine");
    assert_eq!((tts.engine(), tts.voice(), tts.sample_rate_hz()), ("openai", "alloy", 24000));
    assert_eq!(synthesize_all(&tts, "Arrivederci e buona giornata.").await.expect("speech"), pcm);

    let req = only(&seen);
    assert_eq!(req.uri, "/v1/audio/speech");
    assert_eq!(req.header("authorization"), Some("Bearer sk-test-key"));
    assert_eq!(
        req.json(),
        json!({ "model": "gpt-4o-mini-tts", "input": "Arrivederci e buona giornata.", "voice": "alloy", "response_format": "pcm" })
    );
}

#[tokio::test]
async fn openai_speech_stall_after_first_chunk_times_out() {
    let pcm = le_bytes(&tone(24000, 480));
    let reply = Reply::Chunks { status: 200, headers: vec![], chunks: vec![pcm.clone(), pcm], gap: Duration::from_secs(3) };
    let (url, _seen) = fake_http(reply).await;
    let mut cfg = OpenAiTtsConfig::new(format!("{url}/v1"), None);
    cfg.timeout_ms = 300;
    let tts = OpenAiTts::new(cfg).expect("engine");
    let mut received = 0usize;
    let err = {
        let mut sink = |chunk: Vec<i16>| received += chunk.len();
        tts.synthesize("Un attimo, prego.", &mut sink).await.expect_err("stalled")
    };
    assert_eq!(err, TtsError::Timeout(300));
    assert_eq!(received, 480, "the audio before the stall was delivered");
}

// ---------------------------------------------------------------------------
// ElevenLabs
// ---------------------------------------------------------------------------

fn elevenlabs(base_url: &str) -> ElevenLabsTts {
    let mut cfg = ElevenLabsConfig::new("xi-test-key");
    cfg.base_url = base_url.to_string();
    cfg.voice_id = "voice123".to_string();
    cfg.timeout_ms = 1000;
    ElevenLabsTts::new(cfg).expect("engine")
}

#[tokio::test]
async fn elevenlabs_streams_mulaw_chunks_decoded_as_they_arrive() {
    let codes = g711::pcm_to_mulaw(&tone(8000, 1600));
    let chunks: Vec<Vec<u8>> = codes.chunks(400).map(<[u8]>::to_vec).collect();
    let (url, seen) = fake_http(Reply::audio(chunks)).await;
    let tts = elevenlabs(&url);
    assert_eq!((tts.engine(), tts.voice(), tts.sample_rate_hz()), ("elevenlabs", "voice123", 8000));

    let mut received: Vec<Vec<i16>> = Vec::new();
    {
        let mut sink = |chunk: Vec<i16>| received.push(chunk);
        tts.synthesize("Perfetto, l'appuntamento è confermato.", &mut sink).await.expect("speech");
    }
    assert!(received.len() >= 3, "several chunks reached the sink: {}", received.len());
    assert_eq!(received.concat(), g711::mulaw_to_pcm(&codes));

    let req = only(&seen);
    assert_eq!(req.uri, "/v1/text-to-speech/voice123/stream?output_format=ulaw_8000");
    assert_eq!(req.header("xi-api-key"), Some("xi-test-key"));
    assert_eq!(
        req.json(),
        json!({ "text": "Perfetto, l'appuntamento è confermato.", "model_id": "eleven_flash_v2_5", "language_code": "it" })
    );
}

#[tokio::test]
async fn elevenlabs_pcm_16000_and_no_language_code_for_multilingual_v2() {
    let pcm = tone(16000, 999);
    let bytes = le_bytes(&pcm);
    let (url, seen) = fake_http(Reply::audio(vec![bytes[..999].to_vec(), bytes[999..].to_vec()])).await;
    let mut cfg = ElevenLabsConfig::new("xi-test-key");
    cfg.base_url = url;
    cfg.output_format = OutputFormat::Pcm16000;
    cfg.model_id = "eleven_multilingual_v2".to_string();
    let tts = ElevenLabsTts::new(cfg).expect("engine");
    assert_eq!(tts.sample_rate_hz(), 16000);
    assert_eq!(synthesize_all(&tts, "Ciao.").await.expect("speech"), pcm);
    let req = only(&seen);
    assert!(req.uri.ends_with("/stream?output_format=pcm_16000"), "{}", req.uri);
    assert_eq!(req.json(), json!({ "text": "Ciao.", "model_id": "eleven_multilingual_v2" }));
}

#[tokio::test]
async fn elevenlabs_bad_key_is_a_non_retryable_provider_error() {
    let body = json!({ "detail": { "status": "invalid_api_key", "message": "Invalid API key: xi-test-key" } });
    let (url, _seen) = fake_http(Reply::json(401, body)).await;
    let err = synthesize_all(&elevenlabs(&url), "Buongiorno.").await.expect_err("401");
    assert_eq!(err, TtsError::Provider { status: Some(401), message: "Invalid API key: ***".to_string(), retryable: false });
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn elevenlabs_server_error_and_refused_connection_are_retryable() {
    let (url, _seen) = fake_http(Reply::json(503, json!({ "detail": "overloaded" }))).await;
    let err = synthesize_all(&elevenlabs(&url), "Buongiorno.").await.expect_err("503");
    assert!(matches!(err, TtsError::Provider { status: Some(503), retryable: true, .. }), "{err:?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let err = synthesize_all(&elevenlabs(&format!("http://127.0.0.1:{port}")), "Buongiorno.").await.expect_err("refused");
    assert!(matches!(err, TtsError::Provider { status: None, retryable: true, .. }), "{err:?}");
}
