//! Inputs shared by the NLU benchmark and the latency tool: a pipeline over
//! the salon's services and operators with 500 FAQ entries (the demo FAQs
//! of all four verticals, repeated with a branch tag to reach 500), and a
//! mix of realistic Italian turns.

use fluxion_core::booking::Vertical;
use fluxion_core::faq::Faq;
use fluxion_core::nlu::{Pipeline, PipelineConfig};

use crate::seed::SeedData;

/// FAQ entries loaded in the benchmarks.
pub const FAQ_COUNT: usize = 500;

/// Turns of the benchmark mix: short L0 turns, bookings with slots, FAQs,
/// availability questions, off-topic text.
pub const TURNS: &[&str] = &[
    "buongiorno",
    "sì grazie",
    "vorrei prenotare un taglio donna per domani alle 15, sono Mario Rossi",
    "avete posto giovedì pomeriggio per una piega?",
    "accettate le carte di credito?",
    "c'è parcheggio vicino al salone?",
    "devo spostare l'appuntamento di venerdì a lunedì prossimo alle 10 e mezza",
    "non voglio cancellare, voglio solo cambiare orario",
    "il mio numero è 347 555 1234",
    "quanto costa il colore?",
    "che tempo fa domani a Milano?",
    "a che ora aprite sabato?",
];

/// 500 FAQ entries built from the four verticals' demo FAQs.
pub fn faqs() -> Vec<Faq> {
    let all: Vec<Faq> = Vertical::ALL.iter().flat_map(|v| SeedData::demo(*v).map(|d| d.faqs()).unwrap_or_default()).collect();
    (0..FAQ_COUNT)
        .filter_map(|i| {
            let base = all.get(i % all.len().max(1))?;
            let round = i / all.len().max(1);
            let tag = |q: &String| if round == 0 { q.clone() } else { format!("{q} sede {round}") };
            Some(Faq { id: i as i64 + 1, questions: base.questions.iter().map(tag).collect(), ..base.clone() })
        })
        .collect()
}

/// The salon's pipeline with [`faqs`] loaded.
///
/// # Panics
/// If the compiled-in demo data is broken (unit tests rule it out).
pub fn pipeline() -> Pipeline {
    let seed = SeedData::demo(Vertical::Salone).expect("salone demo data");
    Pipeline::new(Vertical::Salone, &seed.services(), &seed.operators(), &faqs(), PipelineConfig::default()).expect("pipeline")
}
