//! Word error rate: how far a transcript is from what was said, in words
//! (the measure the speech examples report: `stt_eval`, `vad_eval`,
//! `voice_e2e`).

use super::decode_check::normalised_words;

/// Word edits (substitutions, insertions, deletions) that turn `said` into
/// `heard`, and the words of `said`; both texts normalised as
/// [`normalised_words`] does (case and punctuation aside). The
/// word error rate is the first over the second.
pub fn word_errors(said: &str, heard: &str) -> (usize, usize) {
    let (a, b) = (normalised_words(said), normalised_words(heard));
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, wb) in b.iter().enumerate() {
            let sub = prev + usize::from(wa != wb);
            prev = row[j + 1];
            row[j + 1] = sub.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    (row[b.len()], a.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_insertions_and_deletions() {
        assert_eq!(word_errors("un taglio per giovedì", "Un taglio per giovedì."), (0, 4));
        assert_eq!(word_errors("un taglio per giovedì alle quindici", "un taglio per sopedire quindici"), (2, 6));
        assert_eq!(word_errors("sì", ""), (1, 1));
        assert_eq!(word_errors("", "grazie"), (1, 0));
        assert_eq!(word_errors("a b c", "a x b c d"), (2, 3));
    }
}
