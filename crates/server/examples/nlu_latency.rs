//! Per-turn latency percentiles of the NLU pipeline (L0–L3, 500 FAQs),
//! measured on the real code path one turn at a time:
//! `cargo run --release -p fluxion --example nlu_latency [ROUNDS]`.
//! Prints p50/p99/max per layer and for the whole turn, in µs.

use std::time::Instant;

use fluxion::bench_data::{self, TURNS};

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let t = Instant::now();
    let pipeline = bench_data::pipeline();
    println!("pipeline built in {:.1} ms (L1 training + 500-FAQ index)", t.elapsed().as_secs_f64() * 1000.0);
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let mut whole = Vec::new();
    let mut layers: [Vec<f64>; 4] = Default::default();
    for _ in 0..rounds {
        for turn in TURNS {
            let t = Instant::now();
            let r = pipeline.parse(turn, now);
            whole.push(t.elapsed().as_secs_f64() * 1e6);
            let tm = r.timings;
            for (v, us) in layers.iter_mut().zip([tm.l0_us, tm.l1_us, tm.l2_us, tm.l3_us]) {
                if us > 0 {
                    v.push(us as f64);
                }
            }
        }
    }
    println!("{} turns ({} rounds of {} sentences)", whole.len(), rounds, TURNS.len());
    let names = ["L0 patterns", "L1 intent", "L2 slots", "L3 FAQ (500)"];
    for (name, v) in names.iter().zip(layers.iter_mut()) {
        v.sort_by(f64::total_cmp);
        println!(
            "{name:<14} runs {:>6}  p50 {:>7.1} µs  p99 {:>7.1} µs  max {:>7.1} µs (µs resolution)",
            v.len(),
            pct(v, 0.5),
            pct(v, 0.99),
            v.last().copied().unwrap_or(0.0)
        );
    }
    whole.sort_by(f64::total_cmp);
    println!(
        "{:<14} runs {:>6}  p50 {:>7.1} µs  p99 {:>7.1} µs  max {:>7.1} µs",
        "L0-L3 turn",
        whole.len(),
        pct(&whole, 0.5),
        pct(&whole, 0.99),
        whole.last().copied().unwrap_or(0.0)
    );
}
