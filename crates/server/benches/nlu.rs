//! Criterion benchmarks of each NLU layer and of a whole L0–L3 turn with
//! 500 FAQ entries loaded. `cargo bench -p fluxion --bench nlu`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

use fluxion::bench_data::{self, TURNS};
use fluxion_core::nlu::datetime;
use fluxion_core::nlu::l0_patterns::Patterns;
use fluxion_core::nlu::l1_intent::Classifier;
use fluxion_core::nlu::l2_slots::{self, Catalog};
use fluxion_core::nlu::l3_faq::FaqIndex;
use fluxion_core::text::normalize;

fn layers(c: &mut Criterion) {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let normalized: Vec<String> = TURNS.iter().map(|t| normalize(t)).collect();
    let patterns = Patterns::new();
    let classifier = Classifier::builtin().expect("classifier");
    let seed = fluxion::seed::SeedData::demo(fluxion_core::booking::Vertical::Salone).expect("seed");
    let catalog = Catalog::new(&seed.services(), &seed.operators());
    let faqs = FaqIndex::build(&bench_data::faqs()).expect("faq index");
    let pipeline = bench_data::pipeline();

    c.bench_function("L0 patterns (12 turns)", |b| {
        b.iter(|| normalized.iter().map(|n| patterns.matches(black_box(n)).is_some() as u32).sum::<u32>())
    });
    c.bench_function("L1 classify (12 turns)", |b| b.iter(|| normalized.iter().map(|n| classifier.classify(black_box(n)).1).sum::<f32>()));
    c.bench_function("L2 slots (12 turns)", |b| {
        b.iter(|| {
            TURNS.iter().zip(&normalized).map(|(t, n)| l2_slots::extract(black_box(t), n, &catalog, now).is_empty() as u32).sum::<u32>()
        })
    });
    c.bench_function("L2 datetime resolve (12 turns)", |b| {
        b.iter(|| TURNS.iter().filter_map(|t| datetime::resolve(black_box(t), now)).count())
    });
    c.bench_function("L3 FAQ search, 500 entries (12 turns)", |b| {
        b.iter(|| TURNS.iter().filter_map(|t| faqs.search(black_box(t))).count())
    });
    c.bench_function("L0-L3 whole turn, 500 FAQs (12 turns)", |b| {
        b.iter(|| TURNS.iter().map(|t| pipeline.parse(black_box(t), now).confidence).sum::<f32>())
    });
}

criterion_group!(benches, layers);
criterion_main!(benches);
