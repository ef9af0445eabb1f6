//! Regression gate over 287 Italian turns written independently of the
//! training file (`tests/data/nlu_eval.jsonl`, four verticals): intents and
//! slots as `fluxion nlu parse` reports them, now = Wed 2027-03-10 10:00.

use std::collections::HashMap;

use fluxion::seed::SeedData;
use fluxion_core::booking::Vertical;
use fluxion_core::nlu::{DateTimeSlot, Pipeline, PipelineConfig};
use serde_json::Value;

fn slot_start(d: &DateTimeSlot) -> String {
    match d {
        DateTimeSlot::Instant { value, .. } => value.to_string(),
        DateTimeSlot::Range { start, .. } => start.to_string(),
    }
}

#[test]
fn intents_and_slots_on_independent_sentences() {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let pipelines: HashMap<Vertical, Pipeline> = Vertical::ALL
        .iter()
        .map(|v| {
            let d = SeedData::demo(*v).expect("seed");
            (*v, Pipeline::new(*v, &d.services(), &d.operators(), &d.faqs(), PipelineConfig::default()).expect("pipeline"))
        })
        .collect();
    let cases: Vec<Value> = include_str!("../data/nlu_eval.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("case"))
        .collect();
    let (mut intents_ok, mut slot_total, mut slot_ok) = (0, 0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        let v: Vertical = c["vertical"].as_str().and_then(|s| s.parse().ok()).expect("vertical");
        let text = c["text"].as_str().expect("text");
        let r = pipelines[&v].parse(text, now);
        let mut allowed = vec![c["intent"].as_str().unwrap_or_default().to_string()];
        allowed.extend(c["intent_alt"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)));
        if allowed.iter().any(|a| a == r.intent.as_str()) {
            intents_ok += 1;
        } else {
            failures.push(format!("intent {text:?}: want {allowed:?}, got {}", r.intent.as_str()));
        }
        let Some(slots) = c["slots"].as_object() else { continue };
        for (key, want) in slots {
            slot_total += 1;
            let got = match key.as_str() {
                "datetime" => r.slots.datetime.as_ref().map(slot_start),
                "service" => r.slots.service.clone(),
                "operator" => r.slots.operator.clone(),
                "name" => r.slots.name.clone(),
                "phone" => r.slots.phone.clone(),
                "email" => r.slots.email.clone(),
                _ => None,
            };
            let want =
                if key == "datetime" { want.get("value").or_else(|| want.get("start")).and_then(Value::as_str) } else { want.as_str() };
            if got.as_deref() == want {
                slot_ok += 1;
            } else {
                failures.push(format!("{key} {text:?}: want {want:?}, got {got:?}"));
            }
        }
    }
    let intent_acc = intents_ok as f64 / cases.len() as f64;
    let slot_acc = slot_ok as f64 / slot_total.max(1) as f64;
    eprintln!("nlu eval: intents {intents_ok}/{} ({intent_acc:.3}), slots {slot_ok}/{slot_total} ({slot_acc:.3})", cases.len());
    for f in &failures {
        eprintln!("  {f}");
    }
    assert!(intent_acc >= 0.93, "intent accuracy {intent_acc:.3}");
    assert!(slot_acc >= 0.95, "slot accuracy {slot_acc:.3}");
}
