//! Cutting a reply into sentences for sentence-by-sentence synthesis.
//!
//! A sentence ends at `.`, `!`, `?` or `…` followed by a space and the
//! reply goes on; decimals ("25.50"), times ("9.30"), initials and common
//! Italian abbreviations ("Dott.", "Sig.ra", "ecc.") do not end one.

const ABBREVIATIONS: &[&str] = &[
    "dott", "dr", "sig", "sigg", "sig.ra", "ra", "prof", "avv", "ing", "geom", "rag", "ecc", "es", "tel", "n", "nr", "p", "pag", "c.a",
    "via", "v", "s", "st", "ca", "min",
];

/// The sentences of `text`, trimmed, in order, none empty. Text without a
/// sentence end is one sentence.
pub fn split(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '.' | '!' | '?' | '…') {
            // Take a run of closing punctuation and quotes with it.
            let mut end = i + 1;
            while end < chars.len() && matches!(chars[end], '.' | '!' | '?' | '…' | '"' | '»' | ')' | '\'') {
                end += 1;
            }
            let followed_by_space = end < chars.len() && chars[end].is_whitespace();
            if followed_by_space && !(c == '.' && end == i + 1 && is_abbreviation(&chars[start..i])) {
                push(&mut out, &chars[start..end]);
                start = end;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    push(&mut out, &chars[start..]);
    out
}

fn push(out: &mut Vec<String>, chars: &[char]) {
    let s: String = chars.iter().collect();
    let s = s.trim();
    if !s.is_empty() {
        out.push(s.to_string());
    }
}

/// Whether the word just before a `.` is an abbreviation or an initial.
fn is_abbreviation(before: &[char]) -> bool {
    let word: String = before.iter().rev().take_while(|c| !c.is_whitespace()).collect::<Vec<_>>().into_iter().rev().collect();
    let word = word.trim_start_matches(['(', '"', '«']).to_lowercase();
    if word.chars().count() == 1 && word.chars().all(char::is_alphabetic) {
        return true;
    }
    ABBREVIATIONS.contains(&word.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_sentence_ends_only() {
        assert_eq!(
            split("Perfetto! Ho prenotato il taglio per giovedì alle quindici. Desidera altro?"),
            ["Perfetto!", "Ho prenotato il taglio per giovedì alle quindici.", "Desidera altro?"]
        );
        assert_eq!(split("Il costo è 25.50 euro. Grazie"), ["Il costo è 25.50 euro.", "Grazie"]);
        assert_eq!(
            split("La Dott. Bianchi riceve il lunedì... Vuole prenotare?"),
            ["La Dott. Bianchi riceve il lunedì...", "Vuole prenotare?"]
        );
        assert_eq!(split("Siamo in via Roma 3, ecc. ecc."), ["Siamo in via Roma 3, ecc. ecc."]);
        assert_eq!(split("  "), Vec::<String>::new());
        assert_eq!(split("Buongiorno"), ["Buongiorno"]);
    }
}
