//! Italian text normalisation shared by every NLU layer: lowercase, accents
//! folded, apostrophes split, punctuation turned into spaces (keeping the
//! characters numbers and times need: `:` `/` `.` `,` between digits).

/// Folds one lowercase character to its unaccented form (`è` → `e`).
pub fn fold_char(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        _ => c,
    }
}

/// Lowercases and folds accents, leaving everything else as it is.
pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).map(fold_char).collect()
}

/// Normalises a sentence for matching: lowercase, accents folded, apostrophes
/// and punctuation replaced by spaces (so "dell'appuntamento" gives
/// "dell appuntamento"), whitespace collapsed. `:` `/` `.` `,` survive only
/// between two digits ("9:30", "15/03", "3.5"). A trailing "'" of an accented
/// truncation ("po'") is dropped.
pub fn normalize(s: &str) -> String {
    let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).map(fold_char).collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let keep = if c.is_alphanumeric() {
            true
        } else if matches!(c, ':' | '/' | '.' | ',') {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|p| p.is_ascii_digit());
            let next = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            prev && next
        } else {
            false
        };
        if keep {
            out.push(c);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Uppercases the first character ("giovedì" → "Giovedì").
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Splits a normalised sentence into words.
pub fn words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split(' ').filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_accents_apostrophes_and_punctuation() {
        assert_eq!(normalize("Lunedì, dell'appuntamento alle 9:30!"), "lunedi dell appuntamento alle 9:30");
        assert_eq!(normalize("  PERCHÉ   no? 15/03/2027. "), "perche no 15/03/2027");
        assert_eq!(normalize("un po' di più"), "un po di piu");
        assert_eq!(normalize("ok."), "ok");
    }
}
