//! Intent accuracy of the whole pipeline (L0–L3, as `fluxion nlu parse`
//! reports it) on the spoken held-out sentences
//! (`data/intents_heldout_spoken.tsv`), in each seeded business: a business
//! question answered from the business's FAQ counts as `faq`. The L0+L1
//! figure of the same file is printed by the unit tests of `l1_intent`.

mod common;

use common::{pipeline, SEEDS};
use fluxion_core::nlu::l1_intent::{parse_examples, HELDOUT_DATA, SPOKEN_HELDOUT_DATA};

/// The honest floor: just under what the pipeline measures today (0.952
/// after the conv session's training classes and greeting/FAQ rules, read
/// from the development split; 0.938 before them, 0.902 before the nlu
/// session's changes).
const FLOOR: f64 = 0.95;

/// The development floor: the first held-out file
/// (`data/intents_heldout.tsv`) has been read while the training file grew
/// (see `l1_intent`), so it is the development split of the pipeline: its
/// errors are the ones to look at; the spoken file is only measured.
/// (0.958 today; 0.924 before the conv session.)
const DEV_FLOOR: f64 = 0.95;

/// Runs every line of `data` through each seeded business's pipeline;
/// prints the pass counts, the turn latency and the errors; returns the
/// accuracy over all businesses.
fn measure(name: &str, data: &str) -> f64 {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let held = parse_examples(data).expect("held-out parses");
    let (mut total, mut correct) = (0, 0);
    let mut errors = Vec::new();
    let mut turn_us = Vec::new();
    for (vertical, kind, seed) in SEEDS {
        let seed: serde_json::Value = serde_json::from_str(seed).expect("seed json");
        let p = pipeline(kind, &seed);
        let mut ok = 0;
        for e in &held {
            let t = std::time::Instant::now();
            let r = p.parse(&e.text, now);
            turn_us.push(t.elapsed().as_micros());
            if r.intent == e.intent {
                ok += 1;
            } else {
                errors.push(format!(
                    "  {vertical:<8} {:<16} -> {:<16} {} {}",
                    e.intent.as_str(),
                    r.intent.as_str(),
                    r.layer.as_str(),
                    e.text
                ));
            }
        }
        eprintln!("pipeline intents, {name}, {vertical}: {ok}/{}", held.len());
        total += held.len();
        correct += ok;
    }
    turn_us.sort_unstable();
    let pct = |q: f64| turn_us.get(((turn_us.len() as f64 * q) as usize).min(turn_us.len().saturating_sub(1))).copied().unwrap_or(0);
    // Indicative only: the criterion benchmark (crates/server/benches/nlu.rs)
    // is the reference; `--release` gives the optimised figure here.
    let profile = if cfg!(debug_assertions) { "debug" } else { "optimised" };
    eprintln!("whole L0-L3 turn ({profile} build): p50 {} µs, p99 {} µs over {} turns", pct(0.5), pct(0.99), turn_us.len());
    let acc = correct as f64 / total.max(1) as f64;
    eprintln!("pipeline intents, {name}, all businesses: {correct}/{total} ({acc:.3})");
    for e in &errors {
        eprintln!("{e}");
    }
    acc
}

#[test]
fn spoken_held_out_through_the_pipeline() {
    let acc = measure("spoken held-out", SPOKEN_HELDOUT_DATA);
    assert!(acc >= FLOOR, "pipeline intent accuracy {acc:.3} under {FLOOR}");
}

#[test]
fn development_split_through_the_pipeline() {
    let acc = measure("development split", HELDOUT_DATA);
    assert!(acc >= DEV_FLOOR, "pipeline intent accuracy {acc:.3} under {DEV_FLOOR}");
}

/// A sentence as Whisper tends to write it: capitalised, "si" with its
/// accent, "e'" for "è", an English-style final stop.
fn whisper_style(s: &str) -> String {
    let words: Vec<String> = s
        .split(' ')
        .map(|w| match w {
            "si" => "sì".to_string(),
            "è" => "e'".to_string(),
            _ => w.to_string(),
        })
        .collect();
    let mut out = fluxion_core::text::capitalize(&words.join(" "));
    if !out.ends_with(['?', '.', '!']) {
        out.push('.');
    }
    out
}

#[test]
fn whisper_forms_get_the_same_intent() {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let held = parse_examples(SPOKEN_HELDOUT_DATA).expect("held-out parses");
    let (_, kind, seed) = SEEDS[0];
    let seed: serde_json::Value = serde_json::from_str(seed).expect("seed json");
    let p = pipeline(kind, &seed);
    let mut differ = Vec::new();
    for e in &held {
        let styled = whisper_style(&e.text);
        let (a, b) = (p.parse(&e.text, now), p.parse(&styled, now));
        if a.intent != b.intent {
            differ.push(format!("{:?} -> {} / {:?} -> {}", e.text, a.intent.as_str(), styled, b.intent.as_str()));
        }
    }
    eprintln!("Whisper-style forms with the same intent: {}/{}", held.len() - differ.len(), held.len());
    assert!(differ.is_empty(), "{differ:#?}");
}
