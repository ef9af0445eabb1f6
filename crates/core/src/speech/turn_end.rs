//! Italian semantic end of turn: whether what the caller has said so far
//! sounds finished. A turn that stops on a preposition, an article, a
//! conjunction or a filler ("vorrei prenotare per…", "con il", "ehm") is
//! waiting for more words, so the endpointer should wait longer; a complete
//! sentence can be answered sooner. Pure text work, no audio.

/// What a (partial) transcript says about the end of the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// The caller stopped mid-sentence: wait longer for the rest.
    Unfinished,
    /// A complete sentence: the turn may end sooner.
    Complete,
    /// Nothing to judge by (no words).
    Unknown,
}

/// Words after which an Italian sentence cannot end: prepositions (simple and
/// articulated), articles, conjunctions, and verbs that need an object.
const OPEN_WORDS: &[&str] = &[
    "di",
    "a",
    "da",
    "in",
    "con",
    "su",
    "per",
    "tra",
    "fra",
    "del",
    "dello",
    "della",
    "dei",
    "degli",
    "delle",
    "al",
    "allo",
    "alla",
    "ai",
    "agli",
    "alle",
    "dal",
    "dallo",
    "dalla",
    "dai",
    "dagli",
    "dalle",
    "nel",
    "nello",
    "nella",
    "nei",
    "negli",
    "nelle",
    "sul",
    "sullo",
    "sulla",
    "sui",
    "sugli",
    "sulle",
    "il",
    "lo",
    "la",
    "i",
    "gli",
    "le",
    "un",
    "uno",
    "una",
    "l",
    "e",
    "ed",
    "o",
    "od",
    "oppure",
    "ma",
    "però",
    "che",
    "se",
    "perché",
    "quindi",
    "anche",
    "come",
    "quando",
    "mentre",
    "vorrei",
    "volevo",
    "prenotare",
    "sono",
    "chiamo",
    "è",
    "mio",
    "mia",
    "numero",
    "verso",
];

/// Sounds a caller makes while thinking.
const FILLERS: &[&str] =
    &["ehm", "eh", "ehh", "uhm", "um", "mmm", "mm", "allora", "dunque", "cioè", "tipo", "diciamo", "insomma", "praticamente"];

/// Judges `text`, a transcript of the turn so far.
pub fn assess(text: &str) -> TurnEnd {
    let trimmed = text.trim();
    if trimmed.ends_with("...") || trimmed.ends_with('…') {
        return TurnEnd::Unfinished;
    }
    let Some(last) = trimmed.split(|c: char| c.is_whitespace() || c == '\'' || c == '’').rev().find_map(word) else {
        return TurnEnd::Unknown;
    };
    if OPEN_WORDS.contains(&last.as_str()) || FILLERS.contains(&last.as_str()) {
        TurnEnd::Unfinished
    } else {
        TurnEnd::Complete
    }
}

/// `raw` lower-cased without punctuation, or `None` when nothing is left.
fn word(raw: &str) -> Option<String> {
    let w: String = raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    (!w.is_empty()).then_some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_endings_wait_for_more() {
        for text in [
            "Vorrei prenotare per",
            "Vorrei prenotare per…",
            "un taglio con la",
            "Buongiorno, vorrei",
            "Sì, ehm",
            "Mi chiamo Mario e",
            "Vorrei spostare l'",
            "domani alle",
            "Allora...",
        ] {
            assert_eq!(assess(text), TurnEnd::Unfinished, "{text:?}");
        }
    }

    #[test]
    fn complete_sentences_can_end() {
        for text in ["Vorrei prenotare un taglio per domani.", "Sì.", "Mi chiamo Mario Bianchi", "alle 15:30", "No, grazie!"] {
            assert_eq!(assess(text), TurnEnd::Complete, "{text:?}");
        }
        assert_eq!(assess("  "), TurnEnd::Unknown);
        assert_eq!(assess("…"), TurnEnd::Unfinished);
    }
}
