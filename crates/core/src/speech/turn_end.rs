//! Italian semantic end of turn: whether what the caller has said so far
//! sounds finished. A turn that stops on a preposition, an article, a
//! conjunction or a filler ("vorrei prenotare per…", "con il", "e", "ehm")
//! is waiting for more words, so the voice session waits longer before
//! answering; a complete sentence can be answered sooner. Pure text work,
//! no audio: the word lists are the NLU's ([`crate::nlu::lexicon`] for
//! prepositions, articles and conjunctions, [`crate::nlu::transcript`] for
//! hesitations and discourse fillers), plus the few words that only ever
//! announce what comes next ("vorrei", "mi chiamo", "il mio numero è").

use crate::nlu::{lexicon, transcript};
use crate::text;

/// What a (partial) transcript says about the end of the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// The caller stopped mid-sentence: wait longer for the rest.
    Unfinished,
    /// A complete sentence: the turn may end sooner.
    Complete,
    /// Nothing to judge by: no words, or words that end on a comma (the
    /// recogniser heard the sentence go on, but its last word could end it).
    Unknown,
}

/// Words that announce what follows, beyond prepositions, articles and
/// conjunctions: verbs that need an object or a complement, possessives,
/// and "numero" / "verso" (normalised, accents folded: "è" → "e").
const ANNOUNCING: &[&str] = &["vorrei", "volevo", "voglio", "prenotare", "sono", "chiamo", "mio", "mia", "numero", "verso", "tipo"];

/// Judges `text`, a transcript of the turn so far.
pub fn assess(text: &str) -> TurnEnd {
    // Only the words count: Whisper ends many complete sentences with "…".
    let normalized = text::normalize(text);
    let Some(last) = text::words(&normalized).last() else {
        return TurnEnd::Unknown;
    };
    if is_open(last) {
        TurnEnd::Unfinished
    } else if text.trim_end().ends_with([',', ';']) {
        // Whisper writes a comma where the voice did not fall as at a sentence's end.
        TurnEnd::Unknown
    } else {
        TurnEnd::Complete
    }
}

/// Whether a sentence cannot end on the normalised word `w`.
fn is_open(w: &str) -> bool {
    lexicon::is_preposition(w)
        || lexicon::is_article(w)
        || lexicon::is_conjunction(w)
        || transcript::is_hesitation(w)
        || transcript::is_discourse_filler(w)
        || ANNOUNCING.contains(&w)
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
            "ehm",
            "Mi chiamo Mario e",
            "Vorrei spostare l'",
            "domani alle",
            "giovedì di",
            "una piega oppure",
            "Allora...",
            "Allora",
            "sì, però",
            "perché",
            "È",
            "il mio numero è",
            "un taglio dalla",
        ] {
            assert_eq!(assess(text), TurnEnd::Unfinished, "{text:?}");
        }
    }

    #[test]
    fn a_comma_at_the_end_says_neither() {
        for text in ["Buongiorno, sono Mario Bianchi,", "vorrei un taglio donna per giovedì ; ", ""] {
            assert_eq!(assess(text), TurnEnd::Unknown, "{text:?}");
        }
        assert_eq!(assess("Buongiorno, sono Mario Bianchi, vorrei prenotare per,"), TurnEnd::Unfinished);
    }

    #[test]
    fn complete_sentences_can_end() {
        for text in [
            "Vorrei prenotare un taglio per domani.",
            "Sì.",
            "sì",
            "Mi chiamo Mario Bianchi",
            "alle 15:30",
            "No, grazie!",
            "giovedì alle quindici",
            "Quanto costa un taglio donna?",
            "va bene",
        ] {
            assert_eq!(assess(text), TurnEnd::Complete, "{text:?}");
        }
        assert_eq!(assess("  "), TurnEnd::Unknown);
        assert_eq!(assess("?!"), TurnEnd::Unknown);
        assert_eq!(assess("…"), TurnEnd::Unknown);
        assert_eq!(assess("Vorrei prenotare un taglio per giovedì alle quindici..."), TurnEnd::Complete);
    }

    #[test]
    fn the_word_lists_are_the_nlu_ones() {
        // A preposition, an article, a conjunction and a filler that only the
        // shared lists name.
        for w in ["sugli", "uno", "oppure", "diciamo", "uhm"] {
            assert!(is_open(w), "{w}");
        }
    }
}
