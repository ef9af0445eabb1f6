//! L3: FAQ retrieval over the business's FAQ entries.
//!
//! Every question variant is a document of an in-memory [tantivy] index
//! analysed for Italian (lowercase, accent folding, Italian stop words,
//! Snowball Italian stemming). A turn is ranked with BM25; the best few
//! candidates are then given a normalised score in `[0, 1]`: how much of the
//! turn's (IDF-weighted) content the variant covers, blended with how much of
//! the variant the turn covers. Below the threshold (default 0.7, seed 000)
//! the turn goes to the fallback layer.

use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, Term};

use crate::faq::Faq;

/// Default minimum normalised score for an FAQ answer (seed 000).
pub const DEFAULT_THRESHOLD: f32 = 0.7;
/// Weight of the turn's coverage in the normalised score; the rest is the
/// variant's coverage.
const RECALL_WEIGHT: f32 = 0.75;
/// BM25 candidates rescored per turn.
const CANDIDATES: usize = 8;

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

/// The searchable FAQ set of one business.
pub struct FaqIndex {
    reader: IndexReader,
    field: tantivy::schema::Field,
    analyzer: TextAnalyzer,
    /// Analysed terms per document (question variant).
    doc_terms: Vec<HashSet<String>>,
    /// Entry index per document.
    doc_entry: Vec<usize>,
    /// Inverse document frequency per term.
    idf: HashMap<String, f32>,
    entries: Vec<(i64, String)>,
}

impl FaqIndex {
    /// Indexes every question variant of `faqs`.
    ///
    /// # Errors
    /// tantivy failed to build the in-memory index.
    pub fn build(faqs: &[Faq]) -> Result<Self, FaqIndexError> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default().set_tokenizer("it").set_index_option(IndexRecordOption::WithFreqs);
        let field = schema.add_text_field("question", TextOptions::default().set_indexing_options(indexing));
        let doc_field = schema.add_u64_field("doc", FAST);
        let index = Index::create_in_ram(schema.build());
        let mut analyzer = super::analyzer::italian();
        index.tokenizers().register("it", analyzer.clone());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let mut doc_terms = Vec::new();
        let mut doc_entry = Vec::new();
        for (entry, faq) in faqs.iter().enumerate() {
            for q in &faq.questions {
                writer.add_document(doc!(field => q.as_str(), doc_field => doc_terms.len() as u64))?;
                doc_terms.push(analyze(&mut analyzer, q));
                doc_entry.push(entry);
            }
        }
        writer.commit()?;
        let mut df: HashMap<String, usize> = HashMap::new();
        for terms in &doc_terms {
            for t in terms {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        let n = doc_terms.len().max(1) as f32;
        let idf = df.into_iter().map(|(t, d)| (t, (1.0 + n / d as f32).ln())).collect();
        let reader = index.reader()?;
        Ok(FaqIndex {
            reader,
            field,
            analyzer,
            doc_terms,
            doc_entry,
            idf,
            entries: faqs.iter().map(|f| (f.id, f.answer.clone())).collect(),
        })
    }

    /// Number of FAQ entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The best-matching entry for a turn (raw or normalised text), whatever
    /// its score; `None` when nothing shares a term with the turn.
    pub fn search(&self, text: &str) -> Option<FaqHit> {
        let mut analyzer = self.analyzer.clone();
        let query_terms = analyze(&mut analyzer, text);
        if query_terms.is_empty() {
            return None;
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = query_terms
            .iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(Term::from_field_text(self.field, t), IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(CANDIDATES)).ok()?;
        let weight =
            |terms: &mut dyn Iterator<Item = &String>| -> f32 { terms.map(|t| self.idf.get(t).copied().unwrap_or(self.max_idf())).sum() };
        let query_weight = weight(&mut query_terms.iter());
        let mut best: Option<(f32, usize)> = None;
        for (_, addr) in top {
            let Some(doc) = searcher.segment_reader(addr.segment_ord).fast_fields().u64("doc").ok().and_then(|c| c.first(addr.doc_id))
            else {
                continue;
            };
            let Some(doc_terms) = self.doc_terms.get(doc as usize) else { continue };
            let shared = weight(&mut query_terms.intersection(doc_terms));
            let recall = shared / query_weight.max(f32::EPSILON);
            let precision = shared / weight(&mut doc_terms.iter()).max(f32::EPSILON);
            let score = (RECALL_WEIGHT * recall + (1.0 - RECALL_WEIGHT) * precision).clamp(0.0, 1.0);
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, doc as usize));
            }
        }
        let (score, doc) = best?;
        let entry = *self.doc_entry.get(doc)?;
        let (faq_id, answer) = self.entries.get(entry)?.clone();
        Some(FaqHit { entry, faq_id, answer, score })
    }

    fn max_idf(&self) -> f32 {
        (1.0 + self.doc_terms.len().max(1) as f32).ln()
    }
}

fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> HashSet<String> {
    super::analyzer::stems(analyzer, text).into_iter().collect()
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
    fn unrelated_turns_score_low() {
        let idx = FaqIndex::build(&faqs()).expect("index");
        assert!(idx.search("chi ha vinto la partita ieri sera").is_none_or(|h| h.score < DEFAULT_THRESHOLD));
        assert!(idx.search("").is_none());
        let empty = FaqIndex::build(&[]).expect("empty index");
        assert!(empty.search("parcheggio").is_none());
    }
}
