//! Criterion benchmark of a whole L0–L3 turn (`Pipeline::parse`) in each
//! seeded business (`crates/server/seed/*.json`), over the spoken held-out
//! sentences; before the criterion groups it prints the per-turn p50, p99
//! and maximum over every sentence of every business, the figure the goal
//! "a whole turn under 1 ms p99" is about. `cargo bench -p fluxion-core
//! --bench turn`. (The server's `benches/nlu.rs` measures the same turn with
//! 500 FAQ entries loaded.)

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use fluxion_core::nlu::l1_intent::{parse_examples, SPOKEN_HELDOUT_DATA};

#[path = "../tests/common/mod.rs"]
mod common;

fn turns(c: &mut Criterion) {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let texts: Vec<String> = parse_examples(SPOKEN_HELDOUT_DATA).expect("held-out parses").into_iter().map(|e| e.text).collect();
    let pipelines: Vec<(&str, fluxion_core::nlu::Pipeline)> = common::SEEDS
        .iter()
        .map(|(name, kind, seed)| {
            let seed: serde_json::Value = serde_json::from_str(seed).expect("seed json");
            (*name, common::pipeline(*kind, &seed))
        })
        .collect();
    // Per-turn latency: every sentence in every business, three rounds.
    let mut us: Vec<f64> = Vec::new();
    for _ in 0..3 {
        for (_, p) in &pipelines {
            for t in &texts {
                let start = Instant::now();
                black_box(p.parse(black_box(t), now));
                us.push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    us.sort_by(f64::total_cmp);
    let at = |q: f64| us[((us.len() as f64 * q) as usize).min(us.len() - 1)];
    eprintln!(
        "whole L0-L3 turn over {} turns: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        us.len(),
        at(0.5),
        at(0.99),
        us.last().copied().unwrap_or(0.0)
    );
    for (name, p) in &pipelines {
        c.bench_function(&format!("L0-L3 whole turn, {name} ({} turns)", texts.len()), |b| {
            b.iter(|| texts.iter().map(|t| p.parse(black_box(t), now).confidence).sum::<f32>())
        });
    }
}

criterion_group!(benches, turns);
criterion_main!(benches);
