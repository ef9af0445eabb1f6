//! Two L4 figures of issue 5, measured on the real code path:
//!
//! 1. The share of turns that reach L4 (the fallback) on the independent
//!    Italian sentences of `tests/data/nlu_eval.jsonl` (each the first turn of
//!    a new conversation, over a seeded SQLite database of its vertical) and
//!    on the demo conversations below (whole conversations, turn by turn).
//! 2. The time Fluxion adds around the model call: whole L4 turns against a
//!    fake OpenAI-compatible server on loopback that answers at once, so the
//!    turn time is Fluxion's own work plus one loopback HTTP exchange (an
//!    upper bound of the overhead).
//!
//! `cargo run --release -p fluxion --example l4_measure`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fluxion::app::build_engine_with;
use fluxion::llm::fake::{FakeLlm, FakeReply};
use fluxion::llm::LlmConfig;
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store, Tenant};
use fluxion_core::booking::{Channel, Repository, Vertical};
use fluxion_core::dialogue::session::Engine;
use fluxion_core::dialogue::BusinessInfo;
use fluxion_core::fallback::{Fallback, FallbackReply, FallbackRequest};
use fluxion_core::nlu::{Pipeline, PipelineConfig};

/// Counts the turns that reach L4 and answers nothing.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl Fallback for Counter {
    async fn answer(&self, _r: FallbackRequest<'_>) -> Option<FallbackReply> {
        self.0.fetch_add(1, Ordering::Relaxed);
        None
    }
}

const CONVERSATIONS: &[&[&str]] = &[
    &[
        "Buongiorno",
        "vorrei prenotare un taglio donna per domani alle 15",
        "mi chiamo Paolo Verdi",
        "il mio numero è 347 111 2233",
        "sì, confermo",
        "grazie, arrivederci",
    ],
    &["vorrei una piega giovedì alle 11, sono Sara Neri, 349 555 6677", "no, alle 16", "sì", "no grazie"],
    &["buongiorno, devo spostare il mio appuntamento", "347 111 2233", "venerdì alle 15", "sì grazie", "a posto così"],
    &["vorrei cancellare l'appuntamento", "347 111 2233", "sì", "grazie mille"],
    &[
        "accettate le carte di credito?",
        "a che ora aprite?",
        "dove vi trovate?",
        "quanto costa la piega?",
        "c'è parcheggio?",
        "grazie, arrivederci",
    ],
    &["avete posto giovedì pomeriggio per un colore?", "sì", "la prima", "Anna Bianchi", "333 765 4321", "sì", "arrivederci"],
];

async fn seeded(v: Vertical, dir: &std::path::Path) -> Tenant {
    let store = Store::open(&DatabaseUrl::Sqlite(dir.join(format!("{}.db", v.as_str())))).await.expect("db");
    SeedData::demo(v).expect("seed").load(&store, true).await.expect("seed load")
}

async fn counting_engine(store: Tenant, counter: Counter) -> Engine<Tenant, Counter> {
    let b = store.business().await.expect("business");
    let (services, operators, faqs) =
        (store.services().await.expect("s"), store.operators().await.expect("o"), store.faqs().await.expect("f"));
    let pipeline = Pipeline::new(b.vertical, &services, &operators, &faqs, PipelineConfig::default()).expect("pipeline");
    let info = BusinessInfo::new(b, services, operators).expect("info");
    Engine::new(store, counter, Arc::new(pipeline), Arc::new(info), Channel::Chat)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let now: jiff::Timestamp = "2027-03-10T09:00:00Z".parse().expect("now");

    // 1a. Independent sentences, each a new conversation.
    let cases: Vec<serde_json::Value> = include_str!("../tests/data/nlu_eval.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let (mut turns, mut reached, mut off_topic) = (0, 0, 0);
    for v in Vertical::ALL {
        let counter = Counter::default();
        let engine = counting_engine(seeded(v, dir.path()).await, counter.clone()).await;
        for (i, c) in cases.iter().filter(|c| c["vertical"] == v.as_str()).enumerate() {
            let mut d = engine.dialogue();
            let before = counter.0.load(Ordering::Relaxed);
            engine.turn(&mut d, &format!("eval-{i}"), c["text"].as_str().unwrap_or_default(), now).await.expect("turn");
            turns += 1;
            if counter.0.load(Ordering::Relaxed) > before && c["intent"] == "other" {
                off_topic += 1;
            }
        }
        reached += counter.0.load(Ordering::Relaxed);
    }
    println!(
        "L4 share, independent sentences (first turns): {reached}/{turns} = {:.1}% ({off_topic} of them off-topic turns that belong to L4; the rest {:.1}%)",
        100.0 * reached as f64 / turns as f64,
        100.0 * (reached - off_topic) as f64 / turns as f64
    );

    // 1b. Demo conversations, turn by turn.
    let counter = Counter::default();
    let conv_dir = dir.path().join("conversations");
    std::fs::create_dir_all(&conv_dir).expect("dir");
    let engine = counting_engine(seeded(Vertical::Salone, &conv_dir).await, counter.clone()).await;
    let mut conv_turns = 0;
    for (i, conv) in CONVERSATIONS.iter().enumerate() {
        let mut d = engine.dialogue();
        for t in conv.iter() {
            engine.turn(&mut d, &format!("demo-{i}"), t, now).await.expect("turn");
            conv_turns += 1;
        }
    }
    let r = counter.0.load(Ordering::Relaxed);
    println!("L4 share, demo conversations: {r}/{conv_turns} = {:.1}%", 100.0 * r as f64 / conv_turns as f64);

    // 2. Overhead around the model call.
    let n = 300;
    let fake = FakeLlm::start((0..n).map(|i| FakeReply::Text(format!("Risposta numero {i}."))).collect()).await.expect("fake");
    let mut cfg = LlmConfig::new(fake.url.clone(), "fake".to_string());
    cfg.requests_per_minute = 0;
    cfg.tokens_per_minute = 0;
    cfg.timeout = Duration::from_secs(5);
    let l4_dir = dir.path().join("l4");
    std::fs::create_dir_all(&l4_dir).expect("dir");
    let engine = build_engine_with(seeded(Vertical::Salone, &l4_dir).await, Channel::Chat, Some(cfg)).await.expect("engine");
    let mut lat = Vec::new();
    for i in 0..n {
        let mut d = engine.dialogue();
        // Distinct text per turn, so the response cache never answers.
        let text = format!("mi racconti qualcosa di interessante numero {i}");
        let r = engine.turn(&mut d, &format!("o-{i}"), &text, now).await.expect("turn");
        assert_eq!(r.layer.as_str(), "L4", "{text}");
        lat.push(r.latency_us as f64);
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize] / 1000.0;
    println!(
        "L4 turn with an instant model on loopback ({n} turns): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
