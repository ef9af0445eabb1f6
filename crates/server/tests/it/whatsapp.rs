//! WhatsApp over the real webhook: Meta's verification handshake, signed
//! deliveries (unsigned and wrongly signed ones refused), a whole booking
//! conversation whose replies reach a fake Graph API, deduplication of
//! retried deliveries, delivery receipts, media answered politely, a chat
//! whose messages alternate between two instances, and a voice note
//! (espeak-ng speech in Ogg/Opus, downloaded from the fake Graph API with
//! the bearer token, heard by the real Whisper model) that books.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use fluxion::app::{self, AppState, Engines};
use fluxion::channels::whatsapp::{self, WhatsApp, WhatsappConfig};
use fluxion::store::Store;
use fluxion_core::booking::{Channel, Vertical};

use crate::{count, seeded_sqlite, test_clock};

const SECRET: &str = "meta-app-secret";
const VERIFY: &str = "verify-me";
const CLIENT: &str = "393491234567";
const NUMBER_ID: &str = "106540352242922";

/// What the fake Graph API received, and how many requests to fail first.
#[derive(Default)]
struct Graph {
    sent: Mutex<Vec<(String, Value)>>,
    fail_first: Mutex<u32>,
    /// Media by id (`GET /{media-id}`, then `GET /media/{media-id}`).
    media: Mutex<std::collections::HashMap<String, Vec<u8>>>,
    /// Where the fake itself listens (for the media URLs it hands out).
    base: Mutex<String>,
}

fn bearer_ok(headers: &axum::http::HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer graph-token")
}

/// `GET /v21.0/{media-id}`: the media's URL and type (Cloud API "Retrieve Media URL").
async fn graph_media_url(State(g): State<Arc<Graph>>, Path(id): Path<String>, headers: axum::http::HeaderMap) -> (StatusCode, Json<Value>) {
    if !bearer_ok(&headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"message": "no token"}})));
    }
    let size = g.media.lock().expect("lock").get(&id).map(Vec::len);
    match size {
        Some(n) => {
            let base = g.base.lock().expect("lock").clone();
            (
                StatusCode::OK,
                Json(json!({"messaging_product": "whatsapp", "url": format!("{base}/media/{id}"),
                "mime_type": "audio/ogg; codecs=opus", "sha256": "x", "file_size": n, "id": id})),
            )
        }
        None => (StatusCode::NOT_FOUND, Json(json!({"error": {"message": "unknown media"}}))),
    }
}

/// `GET /media/{media-id}`: the bytes (the "Download Media" URL).
async fn graph_media_bytes(State(g): State<Arc<Graph>>, Path(id): Path<String>, headers: axum::http::HeaderMap) -> (StatusCode, Vec<u8>) {
    if !bearer_ok(&headers) {
        return (StatusCode::UNAUTHORIZED, Vec::new());
    }
    match g.media.lock().expect("lock").get(&id) {
        Some(b) => (StatusCode::OK, b.clone()),
        None => (StatusCode::NOT_FOUND, Vec::new()),
    }
}

async fn graph_messages(State(g): State<Arc<Graph>>, Path(id): Path<String>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    {
        let mut fail = g.fail_first.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": {"message": "try later"}})));
        }
    }
    let mut sent = g.sent.lock().expect("lock");
    sent.push((id, body));
    (StatusCode::OK, Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.out-{}", sent.len())}]})))
}

struct Wa {
    /// The instance deliveries go to.
    base: String,
    graph_url: String,
    store: Store,
    tenant: fluxion::store::Tenant,
    graph: Arc<Graph>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn spawn() -> Wa {
    spawn_hearing(None).await
}

/// [`spawn`] with voice notes heard by `stt`.
async fn spawn_hearing(stt: Option<Arc<dyn fluxion_core::speech::SpeechToText>>) -> Wa {
    let graph = Arc::new(Graph::default());
    let fake = Router::new()
        .route("/v21.0/{id}/messages", post(graph_messages))
        .route("/v21.0/{id}", axum::routing::get(graph_media_url))
        .route("/media/{id}", axum::routing::get(graph_media_bytes))
        .with_state(graph.clone());
    let graph_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let graph_root = format!("http://{}", graph_listener.local_addr().expect("addr"));
    *graph.base.lock().expect("lock") = graph_root.clone();
    let graph_url = format!("{graph_root}/v21.0");
    tokio::spawn(async move { axum::serve(graph_listener, fake).await });

    let (dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let base = serve_on(store.clone(), &graph_url, stt).await;
    Wa { base, graph_url, store, tenant, graph, client: reqwest::Client::new(), _dir: dir }
}

/// An instance with the WhatsApp webhook over `store`, replying through the
/// Graph API at `graph_url` and hearing voice notes with `stt`; returns
/// its base URL.
async fn serve_on(store: Store, graph_url: &str, stt: Option<Arc<dyn fluxion_core::speech::SpeechToText>>) -> String {
    let engines = Engines::with_llm(store, Channel::Chat, None).await.expect("engines");
    let state: Arc<AppState> = AppState::with_engines(engines, test_clock());
    let config = WhatsappConfig::from_lookup(|k| {
        match k {
            "META_APP_SECRET" => Some(SECRET),
            "META_VERIFY_TOKEN" => Some(VERIFY),
            "META_ACCESS_TOKEN" => Some("graph-token"),
            "META_GRAPH_URL" => Some(graph_url),
            _ => None,
        }
        .map(str::to_string)
    })
    .expect("config");
    let routes = whatsapp::router(WhatsApp::with_speech(state, config, stt));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(app::serve_router(listener, routes, std::future::pending()));
    base
}

fn text_delivery(id: &str, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390612345678", "phone_number_id": NUMBER_ID},
        "contacts": [{"profile": {"name": "Sara"}, "wa_id": CLIENT}],
        "messages": [{"from": CLIENT, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": body}}]
    }}]}]})
}

impl Wa {
    async fn post(&self, path: &str, body: &[u8], signature: Option<String>) -> u16 {
        let mut req = self.client.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("X-Hub-Signature-256", s);
        }
        req.send().await.expect("request").status().as_u16()
    }

    async fn deliver(&self, payload: &Value) -> u16 {
        let body = serde_json::to_vec(payload).expect("json");
        self.post("/webhooks/whatsapp", &body, Some(whatsapp::sign(SECRET, &body))).await
    }

    /// Waits until the fake Graph API has received `n` messages; returns them.
    async fn wait_sent(&self, n: usize) -> Vec<(String, Value)> {
        for _ in 0..500 {
            {
                let sent = self.graph.sent.lock().expect("lock");
                if sent.len() >= n {
                    return sent.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the Graph API did not receive {n} messages: {:?}", self.graph.sent.lock().expect("lock"));
    }

    /// Sends a text and returns the reply text that went out.
    async fn say(&self, id: &str, text: &str) -> String {
        let before = self.graph.sent.lock().expect("lock").len();
        assert_eq!(self.deliver(&text_delivery(id, text)).await, 200);
        let sent = self.wait_sent(before + 1).await;
        let (number_id, body) = &sent[before];
        assert_eq!(number_id, NUMBER_ID, "replies come from the number written to");
        assert_eq!(body["to"], CLIENT);
        let reply = body["text"]["body"].as_str().or(body["interactive"]["body"]["text"].as_str()).unwrap_or_default().to_string();
        eprintln!("> {text}\n< {reply}");
        reply
    }
}

#[tokio::test]
async fn meta_verification_handshake() {
    let wa = spawn().await;
    for path in ["/webhooks/whatsapp", "/webhook"] {
        let ok = wa
            .client
            .get(format!("{}{path}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444", wa.base))
            .send()
            .await
            .expect("get");
        assert_eq!(ok.status(), 200);
        assert!(ok.headers()["content-type"].to_str().expect("ct").starts_with("text/plain"));
        assert_eq!(ok.text().await.expect("body"), "1158201444");
    }
    for query in
        ["hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", "hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", ""]
    {
        let r = wa.client.get(format!("{}/webhooks/whatsapp?{query}", wa.base)).send().await.expect("get");
        assert_eq!(r.status(), 403, "{query}");
    }
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_deliveries_are_refused_and_nothing_is_processed() {
    let wa = spawn().await;
    let body = serde_json::to_vec(&text_delivery("wamid.x1", "vorrei prenotare")).expect("json");
    assert_eq!(wa.post("/webhooks/whatsapp", &body, None).await, 401);
    assert_eq!(wa.post("/webhooks/whatsapp", &body, Some(whatsapp::sign("another secret", &body))).await, 403);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(wa.post("/webhooks/whatsapp", &tampered, Some(whatsapp::sign(SECRET, &body))).await, 403);
    assert_eq!(wa.post("/webhook", b"{not json", Some(whatsapp::sign(SECRET, b"{not json"))).await, 400);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(wa.graph.sent.lock().expect("lock").is_empty(), "nothing answered");
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages").await, 0);
}

#[tokio::test]
async fn a_client_books_over_whatsapp_and_retries_are_not_handled_twice() {
    let wa = spawn().await;
    *wa.graph.fail_first.lock().expect("lock") = 1; // the first reply meets a 503 and is retried
    let reply = wa.say("wamid.in-1", "buongiorno, vorrei una piega giovedì alle 11, sono Sara Neri").await;
    assert!(reply.to_lowercase().contains("alle undici"), "{reply}");
    // Meta retries the same delivery: not handled again.
    assert_eq!(wa.deliver(&text_delivery("wamid.in-1", "buongiorno, vorrei una piega giovedì alle 11, sono Sara Neri")).await, 200);
    let reply = wa.say("wamid.in-2", "sì").await;
    assert!(!reply.is_empty());
    let sent = wa.wait_sent(2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(wa.graph.sent.lock().expect("lock").len(), 2, "one reply per message: {sent:?}");
    assert_eq!(
        count(&wa.store, "SELECT COUNT(*) FROM appointments a JOIN clients c ON c.id = a.client_id WHERE a.status = 'booked' AND a.channel = 'whatsapp' AND c.phone = '+393491234567' AND a.start_utc = '2027-03-11T10:00:00Z'").await,
        1
    );
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'inbound'").await, 2);
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'outbound' AND status = 'sent'").await, 2);
    assert_eq!(
        count(&wa.store, "SELECT COUNT(*) FROM chat_history WHERE session_id = 'wa:393491234567' AND channel = 'whatsapp'").await,
        4
    );
}

/// Issue 12: a WhatsApp conversation whose messages reach two instances
/// over one database, alternately, still books.
#[tokio::test]
async fn a_chat_whose_messages_alternate_between_two_instances_books() {
    let mut wa = spawn().await;
    let first = wa.base.clone();
    let other = Store::open(wa.store.url()).await.expect("second pool on the same file");
    let second = serve_on(other, &wa.graph_url, None).await;
    let reply = wa.say("wamid.alt-1", "buongiorno, vorrei una piega giovedì, sono Sara Neri").await;
    assert!(!reply.to_lowercase().contains("alle undici"), "{reply}");
    wa.base = second;
    let reply = wa.say("wamid.alt-2", "alle 11").await;
    assert!(reply.to_lowercase().contains("alle undici"), "the second instance continues the chat: {reply}");
    wa.base = first;
    let reply = wa.say("wamid.alt-3", "sì").await;
    assert!(!reply.is_empty());
    assert_eq!(
        count(&wa.store, "SELECT COUNT(*) FROM appointments a JOIN clients c ON c.id = a.client_id WHERE a.status = 'booked' AND a.channel = 'whatsapp' AND c.phone = '+393491234567' AND a.start_utc = '2027-03-11T10:00:00Z'").await,
        1,
        "{reply}"
    );
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM appointments").await, 1);
    assert_eq!(count(&wa.store, "SELECT revision FROM dialogue_sessions WHERE session_key = 'wa:393491234567'").await, 3);
}

#[tokio::test]
async fn delivery_receipts_update_sent_messages_and_media_gets_a_polite_text() {
    let wa = spawn().await;
    wa.say("wamid.in-9", "che orari fate il sabato?").await;
    // The reply's id is stored once the Graph API has answered. The first
    // turn builds the business's engine: under a loaded CI machine that can
    // take seconds, and a receipt for a message not yet stored is ignored.
    let mut stored = 0;
    for _ in 0..1500 {
        stored = count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages WHERE wa_message_id = 'wamid.out-1'").await;
        if stored == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stored, 1, "the reply was never stored");
    let status = |id: &str, s: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID},
            "statuses": [{"id": id, "status": s, "timestamp": "1750263773", "recipient_id": CLIENT}]
        }}]}]})
    };
    assert_eq!(wa.deliver(&status("wamid.out-1", "read")).await, 200);
    assert_eq!(wa.deliver(&status("wamid.out-1", "delivered")).await, 200); // late: never moves back
    assert_eq!(wa.deliver(&status("wamid.unknown", "delivered")).await, 200);
    let mut read = 0;
    for _ in 0..200 {
        read = count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages WHERE wa_message_id = 'wamid.out-1' AND status = 'read'").await;
        if read == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(read, 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM whatsapp_messages WHERE wa_message_id = 'wamid.out-1' AND status = 'read'").await, 1);
    assert_eq!(wa.graph.sent.lock().expect("lock").len(), 1, "statuses are never answered");

    let media = |id: &str, kind: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID},
            "messages": [{"from": CLIENT, "id": id, "timestamp": "1", "type": kind, kind: {"id": "55", "mime_type": "image/jpeg"}}]
        }}]}]})
    };
    assert_eq!(wa.deliver(&media("wamid.img", "image")).await, 200);
    let sent = wa.wait_sent(2).await;
    assert!(sent[1].1["text"]["body"].as_str().unwrap_or_default().contains("solo messaggi di testo"), "{sent:?}");
    assert_eq!(wa.deliver(&media("wamid.voice", "audio")).await, 200);
    let sent = wa.wait_sent(3).await;
    assert!(sent[2].1["text"]["body"].as_str().unwrap_or_default().contains("messaggi vocali"), "{sent:?}");
}

/// The reminder's reply path: "ANNULLA" starts a cancellation that follows
/// the dialogue's rules (the appointment read back, then confirmed).
#[tokio::test]
async fn annulla_cancels_through_the_dialogue() {
    use fluxion_core::booking::{NewAppointment, Repository};
    let wa = spawn().await;
    let client = wa.tenant.upsert_client("Sara Neri", "+393491234567", None).await.expect("client");
    let service = wa.tenant.services().await.expect("services")[0].clone();
    let operator = wa.tenant.operators().await.expect("operators")[0].id;
    let start: jiff::Timestamp = "2027-03-11T14:00:00Z".parse().expect("instant");
    let end = start + jiff::SignedDuration::from_mins(i64::from(service.duration_min));
    let new =
        NewAppointment { client_id: client.id, operator_id: operator, service_id: service.id, start, end, channel: Channel::Whatsapp };
    let a = wa.tenant.book(new, 0).await.expect("booked");
    let reply = wa.say("wamid.c-1", "ANNULLA").await;
    assert!(reply.to_lowercase().contains("conferm") || reply.to_lowercase().contains("disd"), "{reply}");
    assert_eq!(
        count(&wa.store, &format!("SELECT COUNT(*) FROM appointments WHERE id = {} AND status = 'booked'", a.id)).await,
        1,
        "not before the confirmation"
    );
    let reply = wa.say("wamid.c-2", "sì").await;
    assert!(
        reply.to_lowercase().contains("disdett") || reply.to_lowercase().contains("annullat") || reply.to_lowercase().contains("cancellat"),
        "{reply}"
    );
    assert_eq!(count(&wa.store, &format!("SELECT COUNT(*) FROM appointments WHERE id = {} AND status = 'cancelled'", a.id)).await, 1);
}

/// A voice note asking for an appointment: espeak-ng speech encoded to
/// Ogg/Opus, downloaded with the bearer token, heard by the real Whisper
/// model; the conversation then goes on in writing and books.
#[tokio::test]
async fn a_voice_note_is_heard_and_the_conversation_books() {
    let (Some(tts), Some(stt)) = (crate::voice::espeak(), crate::whisper_real::real_whisper()) else { return };
    let _turn = crate::whisper_real::model_turn().await;
    let wa = spawn_hearing(Some(stt)).await;
    let pcm = crate::voice::speech(&tts, "Buongiorno, vorrei prenotare un taglio per domani mattina.", 16_000).await;
    let note = whatsapp::ogg_opus::encode(&pcm).expect("Ogg/Opus");
    wa.graph.media.lock().expect("lock").insert("1003383421387256".into(), note);
    let voice = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID},
        "contacts": [{"profile": {"name": "Sara"}, "wa_id": CLIENT}],
        "messages": [{"from": CLIENT, "id": "wamid.voice-1", "timestamp": "1749416385", "type": "audio",
            "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "1003383421387256", "voice": true}}]
    }}]}]});
    assert_eq!(wa.deliver(&voice).await, 200);
    let sent = wa.wait_sent(1).await;
    let mut reply =
        sent[0].1["text"]["body"].as_str().or(sent[0].1["interactive"]["body"]["text"].as_str()).unwrap_or_default().to_string();
    eprintln!("> (voice note)\n< {reply}");
    let heard: String =
        sqlx::query_scalar("SELECT text FROM chat_history WHERE session_id = 'wa:393491234567' AND role = 'user' ORDER BY id LIMIT 1")
            .fetch_one(wa.store.pool_for_tests())
            .await
            .expect("the voice note's words are the user's turn");
    eprintln!("heard: {heard}");
    let heard_lower = heard.to_lowercase();
    assert!(heard_lower.contains("prenota") && heard_lower.contains("domani"), "{heard}");
    // The conversation goes on in writing until it books (a few turns at most).
    for i in 0..6 {
        let booked = count(&wa.store, "SELECT COUNT(*) FROM appointments a JOIN clients c ON c.id = a.client_id WHERE a.status = 'booked' AND a.channel = 'whatsapp' AND c.phone = '+393491234567' AND a.start_utc LIKE '2027-03-11%'").await;
        if booked == 1 {
            return;
        }
        let lower = reply.to_lowercase();
        let answer = if lower.contains("quale servizio") || (lower.contains("taglio donna") && lower.contains("quale")) {
            "un taglio donna"
        } else if lower.contains("quale preferisce") {
            "la prima"
        } else if lower.contains("conferm") {
            "sì"
        } else if lower.contains("nome") {
            "Sara Neri"
        } else {
            "sì"
        };
        reply = wa.say(&format!("wamid.voice-next-{i}"), answer).await;
    }
    panic!("no booking for tomorrow morning after the voice note; last reply: {reply}");
}

/// Audio that is not Ogg/Opus gets a polite text and no turn.
#[tokio::test]
async fn a_broken_voice_note_gets_a_polite_text() {
    let Some(stt) = crate::whisper_real::real_whisper() else { return };
    let wa = spawn_hearing(Some(stt)).await;
    wa.graph.media.lock().expect("lock").insert("77".into(), b"definitely not audio".to_vec());
    let voice = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID},
        "messages": [{"from": CLIENT, "id": "wamid.voice-bad", "timestamp": "1", "type": "audio",
            "audio": {"mime_type": "audio/ogg; codecs=opus", "id": "77", "voice": true}}]
    }}]}]});
    assert_eq!(wa.deliver(&voice).await, 200);
    let sent = wa.wait_sent(1).await;
    assert_eq!(sent[0].1["text"]["body"].as_str(), Some(whatsapp::voice_note::BROKEN_REPLY), "{sent:?}");
    assert_eq!(count(&wa.store, "SELECT COUNT(*) FROM chat_history").await, 0, "no turn for unheard audio");
}
