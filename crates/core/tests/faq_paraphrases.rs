//! L3 top-1 on paraphrased questions that are not indexed
//! (`data/faq_paraphrases.tsv`), per vertical, over the seeds' own FAQs
//! (`crates/server/seed/*.json`): each vertical's index holds only that
//! business's FAQs.

use fluxion_core::faq::Faq;
use fluxion_core::nlu::l3_faq::FaqIndex;
use fluxion_core::text::normalize;

/// The honest floor: just under today's overall top-1, so a regression fails.
const FLOOR: f64 = 0.78;

const SEEDS: [(&str, &str); 4] = [
    ("salone", include_str!("../../server/seed/salone.json")),
    ("wellness", include_str!("../../server/seed/wellness.json")),
    ("medical", include_str!("../../server/seed/medical.json")),
    ("auto", include_str!("../../server/seed/auto.json")),
];

fn faqs(seed: &str) -> Vec<Faq> {
    let v: serde_json::Value = serde_json::from_str(seed).expect("seed json");
    v["faqs"]
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

#[test]
fn paraphrases_find_their_faq() {
    let data = include_str!("../data/faq_paraphrases.tsv");
    let (mut total, mut correct) = (0, 0);
    let mut report = Vec::new();
    for (vertical, seed) in SEEDS {
        let faqs = faqs(seed);
        let index = FaqIndex::build(&faqs).expect("index");
        let indexed: std::collections::HashSet<String> = faqs.iter().flat_map(|f| f.questions.iter().map(|q| normalize(q))).collect();
        let (mut n, mut ok) = (0, 0);
        for line in data.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let mut cols = line.split('\t');
            let (Some(v), Some(first), Some(text)) = (cols.next(), cols.next(), cols.next()) else { panic!("bad line {line:?}") };
            if v != vertical {
                continue;
            }
            let want = faqs.iter().position(|f| f.questions.first().is_some_and(|q| q == first));
            let want = want.unwrap_or_else(|| panic!("{vertical}: no FAQ starts with {first:?}"));
            assert!(!indexed.contains(&normalize(text)), "{text:?} is indexed, not a paraphrase");
            n += 1;
            let hit = index.search(text);
            if hit.as_ref().is_some_and(|h| h.entry == want) {
                ok += 1;
            } else {
                let got = hit.map(|h| format!("{:?} ({:.2})", faqs[h.entry].questions[0], h.score)).unwrap_or_else(|| "nothing".into());
                report.push(format!("  {vertical}: {text:?} -> {got}, want {first:?}"));
            }
        }
        eprintln!("FAQ paraphrases {vertical}: top-1 {ok}/{n} ({:.3})", ok as f64 / n.max(1) as f64);
        total += n;
        correct += ok;
    }
    let acc = correct as f64 / total.max(1) as f64;
    eprintln!("FAQ paraphrases overall: top-1 {correct}/{total} ({acc:.3})");
    for r in &report {
        eprintln!("{r}");
    }
    assert!(acc >= FLOOR, "FAQ paraphrase top-1 {acc:.3} under {FLOOR}");
}
