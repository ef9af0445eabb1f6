//! Italian text analysis shared by L2 (service matching) and L3 (FAQ
//! retrieval): tantivy's tokenizer with lowercasing, accent folding and the
//! Italian stop-word list, then either the Snowball Italian stemmer (L3,
//! recall matters) or a light inflection stripper (L2, where Snowball would
//! make "tagliando" and "taglio" the same stem).

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};

fn base() -> tantivy::tokenizer::TextAnalyzerBuilder {
    let mut builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::Italian) {
        builder = builder.filter_dynamic(stop);
    }
    builder
}

/// Snowball-stemming Italian analyzer (cheap to clone).
pub fn italian() -> TextAnalyzer {
    base().filter_dynamic(Stemmer::new(Language::Italian)).build()
}

/// Italian analyzer without stemming: words lowercased, folded, stop words
/// removed. Pair it with [`light_stem`].
pub fn italian_words() -> TextAnalyzer {
    base().build()
}

/// Strips Italian inflection only: an infinitive ending (-are/-ere/-ire) or
/// one final vowel, so "cambiare"/"cambio" → "cambi", "gomme" → "gomm",
/// while "tagliando" → "tagliand" stays apart from "taglio" → "tagli".
pub fn light_stem(word: &str) -> &str {
    let n = word.len();
    if n > 5 && (word.ends_with("are") || word.ends_with("ere") || word.ends_with("ire")) {
        return &word[..n - 3];
    }
    if n > 3 && word.ends_with(['a', 'e', 'i', 'o', 'u']) {
        return &word[..n - 1];
    }
    word
}

/// The stems of `text`, in order (repeats kept).
pub fn stems(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(tok) = stream.next() {
        out.push(tok.text.clone());
    }
    out
}
