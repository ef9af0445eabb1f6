//! L3: FAQ retrieval over the business's own FAQ entries (one index per
//! business: another business's FAQs are never searched).
//!
//! Every question variant and every answer is a document of an in-memory
//! [tantivy] index analysed for Italian (lowercase, accent folding, Italian
//! stop words, Snowball Italian stemming), after Italian synonyms are folded
//! to one word ([`super::faq_terms::canonical`]: "pos"/"bancomat" → "carta").
//! A turn is ranked with BM25; the entries of the best few documents are
//! then given a normalised score in `[0, 1]`: how much of the turn's
//! IDF-weighted content the best variant covers (a term found only in
//! another variant of the entry or in its answer counts in part), blended
//! with how much of the variant the turn covers, times an aspect factor
//! (a price question never prefers a duration answer about the same
//! subject). Below the threshold (default [`DEFAULT_THRESHOLD`]; lower when
//! L1 classified the turn as an FAQ question, see the pipeline) the turn
//! goes to the fallback layer.

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, Term};

use super::faq_terms::{aspect, canonical, canonical_stem, stem_group, Aspect};
use crate::faq::Faq;

/// Default minimum normalised score for an FAQ answer to a turn the intent
/// classifier did not call an FAQ question. Chosen on the development
/// paraphrases (`data/faq_paraphrases.tsv`) against the intent held-out
/// sentences: at 0.5 almost every right top-1 is answered while few
/// booking, price or chit-chat turns reach it.
pub const DEFAULT_THRESHOLD: f32 = 0.5;
/// Weight of the turn's coverage in the normalised score; the rest is the
/// variant's coverage.
const RECALL_WEIGHT: f32 = 0.75;
/// BM25 documents whose entries are rescored per turn.
const CANDIDATES: usize = 12;
/// Credit of a turn term found in another variant of the same entry.
const SIBLING_CREDIT: f32 = 0.6;
/// Credit of a turn term found only in the entry's answer.
const ANSWER_CREDIT: f32 = 0.4;
/// Factor when the turn and the variant ask about different aspects.
const ASPECT_MISMATCH: f32 = 0.7;
/// Factor when the turn names an aspect and the variant names none.
const ASPECT_UNSAID: f32 = 0.9;

/// An FAQ index could not be built.
#[derive(Debug, thiserror::Error)]
#[error("FAQ index: {0}")]
pub struct FaqIndexError(#[from] tantivy::TantivyError);

/// The best FAQ for a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct FaqHit {
    /// Index of the entry in the slice given to [`FaqIndex::build`].
    pub entry: usize,
    /// The entry's id.
    pub faq_id: i64,
    /// The answer to give.
    pub answer: String,
    /// Normalised score in `[0, 1]`.
    pub score: f32,
}

/// One question variant, analysed.
struct Variant {
    terms: HashSet<String>,
    aspect: Option<Aspect>,
}

/// One FAQ entry, analysed.
struct Entry {
    id: i64,
    answer: String,
    variants: Vec<Variant>,
    /// Terms of every variant.
    question_terms: HashSet<String>,
    answer_terms: HashSet<String>,
}

/// The searchable FAQ set of one business.
pub struct FaqIndex {
    reader: IndexReader,
    field: tantivy::schema::Field,
    analyzer: TextAnalyzer,
    entries: Vec<Entry>,
    /// Inverse document frequency per term, over entries.
    idf: HashMap<String, f32>,
}

impl FaqIndex {
    /// Indexes every question variant and every answer of `faqs`.
    ///
    /// # Errors
    /// tantivy failed to build the in-memory index.
    pub fn build(faqs: &[Faq]) -> Result<Self, FaqIndexError> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default().set_tokenizer("it").set_index_option(IndexRecordOption::WithFreqs);
        let field = schema.add_text_field("text", TextOptions::default().set_indexing_options(indexing));
        let entry_field = schema.add_u64_field("entry", FAST);
        let index = Index::create_in_ram(schema.build());
        let mut analyzer = super::analyzer::italian();
        index.tokenizers().register("it", analyzer.clone());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let mut entries = Vec::with_capacity(faqs.len());
        for (i, faq) in faqs.iter().enumerate() {
            let mut variants = Vec::with_capacity(faq.questions.len());
            for q in &faq.questions {
                let text = canonical(q);
                writer.add_document(doc!(field => text.as_str(), entry_field => i as u64))?;
                variants.push(Variant { terms: analyze(&mut analyzer, &text), aspect: aspect(q) });
            }
            let answer = canonical(&faq.answer);
            writer.add_document(doc!(field => answer.as_str(), entry_field => i as u64))?;
            let question_terms = variants.iter().flat_map(|v| v.terms.iter().cloned()).collect();
            entries.push(Entry {
                id: faq.id,
                answer: faq.answer.clone(),
                variants,
                question_terms,
                answer_terms: analyze(&mut analyzer, &answer),
            });
        }
        writer.commit()?;
        let mut df: HashMap<String, usize> = HashMap::new();
        for e in &entries {
            for t in e.question_terms.union(&e.answer_terms) {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        let n = entries.len().max(1) as f32;
        let idf = df.into_iter().map(|(t, d)| (t, (1.0 + n / d as f32).ln())).collect();
        let reader = index.reader()?;
        Ok(FaqIndex { reader, field, analyzer, entries, idf })
    }

    /// Number of FAQ entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether any FAQ question or answer uses the word (after the same
    /// analysis as a turn): a thing asked about that no entry mentions is
    /// outside what the business's FAQs can answer.
    pub fn knows(&self, word: &str) -> bool {
        let mut analyzer = self.analyzer.clone();
        let terms = analyze(&mut analyzer, &canonical(word));
        !terms.is_empty() && terms.iter().all(|t| self.idf.contains_key(t))
    }

    /// The best-matching entry for a turn (raw or normalised text), whatever
    /// its score; `None` when nothing shares a term with the turn.
    pub fn search(&self, text: &str) -> Option<FaqHit> {
        let mut analyzer = self.analyzer.clone();
        let query_terms = analyze(&mut analyzer, &canonical(text));
        if query_terms.is_empty() {
            return None;
        }
        // The index holds raw stems: ask for every stem of each term's group.
        let clauses: Vec<(Occur, Box<dyn Query>)> = query_terms
            .iter()
            .flat_map(|t| stem_group(t))
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(Term::from_field_text(self.field, t), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(CANDIDATES)).ok()?;
        let mut candidates: Vec<usize> = top
            .iter()
            .filter_map(|(_, addr)| {
                searcher.segment_reader(addr.segment_ord).fast_fields().u64("entry").ok().and_then(|c| c.first(addr.doc_id))
            })
            .map(|e| e as usize)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let query_aspect = aspect(text);
        let query_weight = self.weight(query_terms.iter());
        let mut best: Option<(f32, usize)> = None;
        for i in candidates {
            let Some(entry) = self.entries.get(i) else { continue };
            let score = self.score_entry(entry, &query_terms, query_weight, query_aspect);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        let (score, i) = best?;
        let entry = self.entries.get(i)?;
        Some(FaqHit { entry: i, faq_id: entry.id, answer: entry.answer.clone(), score })
    }

    /// The entry's score: its best variant's blend of the turn's coverage
    /// (with partial credit for sibling-variant and answer terms) and the
    /// variant's coverage, times the aspect factor.
    fn score_entry(&self, entry: &Entry, query: &HashSet<String>, query_weight: f32, query_aspect: Option<Aspect>) -> f32 {
        let mut best = 0.0f32;
        for v in &entry.variants {
            let mut covered = 0.0;
            for t in query {
                let credit = if v.terms.contains(t) {
                    1.0
                } else if entry.question_terms.contains(t) {
                    SIBLING_CREDIT
                } else if entry.answer_terms.contains(t) {
                    ANSWER_CREDIT
                } else {
                    0.0
                };
                covered += credit * self.term_weight(t);
            }
            let recall = covered / query_weight.max(f32::EPSILON);
            let shared = self.weight(query.intersection(&v.terms));
            let precision = shared / self.weight(v.terms.iter()).max(f32::EPSILON);
            let factor = match (query_aspect, v.aspect) {
                (Some(q), Some(d)) if q != d => ASPECT_MISMATCH,
                (Some(_), None) => ASPECT_UNSAID,
                _ => 1.0,
            };
            best = best.max((RECALL_WEIGHT * recall + (1.0 - RECALL_WEIGHT) * precision) * factor);
        }
        best.clamp(0.0, 1.0)
    }

    fn term_weight(&self, t: &str) -> f32 {
        self.idf.get(t).copied().unwrap_or_else(|| self.max_idf())
    }

    fn weight<'a>(&self, terms: impl Iterator<Item = &'a String>) -> f32 {
        terms.map(|t| self.term_weight(t)).sum()
    }

    fn max_idf(&self) -> f32 {
        (1.0 + self.entries.len().max(1) as f32).ln()
    }
}

/// The turn's or document's stems, each folded to its canonical stem
/// ([`canonical_stem`]).
fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> HashSet<String> {
    super::analyzer::stems(analyzer, text).into_iter().map(|s| canonical_stem(&s).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faqs() -> Vec<Faq> {
        let f = |id, q: &[&str], a: &str| Faq {
            id,
            category: "x".into(),
            questions: q.iter().map(|s| s.to_string()).collect(),
            answer: a.into(),
        };
        vec![
            f(1, &["Accettate carte di credito?", "Si può pagare con il bancomat?"], "Sì, accettiamo carte e bancomat."),
            f(2, &["Avete un parcheggio?", "Dove posso parcheggiare la macchina?"], "Sì, c'è un parcheggio gratuito."),
            f(3, &["Posso portare il mio cane?", "Accettate animali?"], "Sì, gli animali sono benvenuti."),
        ]
    }

    #[test]
    fn finds_answers_with_stemming_and_accents() {
        let idx = FaqIndex::build(&faqs()).expect("index");
        let hit = idx.search("si puo pagare col bancomat?").expect("hit");
        assert_eq!(hit.faq_id, 1);
        assert!(hit.score >= DEFAULT_THRESHOLD, "{}", hit.score);
        let hit = idx.search("c'è parcheggio?").expect("hit");
        assert_eq!(hit.faq_id, 2);
        assert!(hit.score >= DEFAULT_THRESHOLD, "{}", hit.score);
        let hit = idx.search("accettate gli animali").expect("hit");
        assert_eq!(hit.faq_id, 3);
    }

    #[test]
    fn the_aspect_and_the_service_pick_the_entry() {
        let f = |id, q: &str, a: &str| Faq { id, category: "servizi".into(), questions: vec![q.into()], answer: a.into() };
        let idx = FaqIndex::build(&[
            f(1, "quanto costa la cheratina?", "La cheratina costa 80 euro."),
            f(2, "quanto dura la cheratina?", "Dura tre mesi."),
            f(3, "cos'è la cheratina?", "È un trattamento lisciante."),
            f(4, "quanto costa il taglio donna?", "Il taglio donna costa 35 euro."),
            f(5, "quanto costa il taglio bambino?", "Il taglio bambino costa 18 euro."),
        ])
        .expect("index");
        for (turn, want) in [
            ("e la cheratina quanto tiene", 2),
            ("la cheratina quanti mesi dura", 2),
            ("che prezzo ha la cheratina", 1),
            ("in cosa consiste la cheratina", 3),
            ("quanto mi viene il taglio per un bambino", 5),
            ("a quanto fate il taglio da donna", 4),
        ] {
            assert_eq!(idx.search(turn).map(|h| h.faq_id), Some(want), "{turn}");
        }
    }

    #[test]
    fn unrelated_turns_score_low() {
        let idx = FaqIndex::build(&faqs()).expect("index");
        assert!(idx.search("chi ha vinto la partita ieri sera").is_none_or(|h| h.score < DEFAULT_THRESHOLD));
        assert!(idx.search("").is_none());
        let empty = FaqIndex::build(&[]).expect("empty index");
        assert!(empty.search("parcheggio").is_none());
    }
}
