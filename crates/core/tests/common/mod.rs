//! Shared by the integration tests: the seeds' businesses (FAQs, services,
//! operators) read from `crates/server/seed/*.json`.

#![allow(dead_code)]

use fluxion_core::booking::{Operator, Service, Vertical};
use fluxion_core::faq::Faq;
use fluxion_core::nlu::{Pipeline, PipelineConfig};

pub const SEEDS: [(&str, Vertical, &str); 4] = [
    ("salone", Vertical::Salone, include_str!("../../../server/seed/salone.json")),
    ("wellness", Vertical::Wellness, include_str!("../../../server/seed/wellness.json")),
    ("medical", Vertical::Medical, include_str!("../../../server/seed/medical.json")),
    ("auto", Vertical::Auto, include_str!("../../../server/seed/auto.json")),
];

pub fn faqs(seed: &serde_json::Value) -> Vec<Faq> {
    seed["faqs"]
        .as_array()
        .expect("faqs")
        .iter()
        .enumerate()
        .map(|(i, f)| Faq {
            id: i as i64 + 1,
            category: f["category"].as_str().unwrap_or_default().to_string(),
            questions: f["questions"].as_array().expect("questions").iter().filter_map(|q| q.as_str().map(str::to_string)).collect(),
            answer: f["answer"].as_str().expect("answer").to_string(),
        })
        .collect()
}

pub fn services(seed: &serde_json::Value) -> Vec<Service> {
    seed["services"]
        .as_array()
        .expect("services")
        .iter()
        .enumerate()
        .map(|(i, s)| Service {
            id: i as i64 + 1,
            name: s["name"].as_str().expect("name").to_string(),
            synonyms: s["synonyms"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            duration_min: s["duration_min"].as_u64().unwrap_or(30) as u32,
            price_cents: s["price_cents"].as_i64().unwrap_or(0),
            gender: None,
            category: None,
        })
        .collect()
}

pub fn operators(seed: &serde_json::Value) -> Vec<Operator> {
    seed["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .enumerate()
        .map(|(i, o)| Operator {
            id: i as i64 + 1,
            name: o["name"].as_str().expect("name").to_string(),
            service_ids: vec![],
            hours: vec![],
            absences: vec![],
        })
        .collect()
}

/// The whole pipeline of one seeded business.
pub fn pipeline(kind: Vertical, seed: &serde_json::Value) -> Pipeline {
    Pipeline::new(kind, &services(seed), &operators(seed), &faqs(seed), PipelineConfig::default()).expect("pipeline")
}
