//! Italian number words: cardinals ("tre", "ventuno", "trentacinque",
//! "centoventi", "duemila") and day ordinals ("primo", "quindicesimo").
//!
//! Both functions take one *normalised* word (lowercase, accents folded, as
//! produced by [`crate::text::normalize`]), so "ventitré" arrives as
//! "ventitre". They are pure and never panic.
//!
//! Rules:
//! - Digits are accepted as well ("15" → 15) for any value that fits a `u32`.
//! - Words are compositional: units and teens, tens with the usual elision
//!   before "uno"/"otto" ("ventuno", "trentotto", also the non-elided
//!   "ventiuno"), hundreds ("cento", "duecento", "centotto") and thousands
//!   ("mille", "duemilacinquecento"), so every value in 0..=9999 can be
//!   written out.
//! - "un", "una" and "uno" all mean 1. Callers decide whether a lone "un"
//!   is a number in their context ("un taglio" is an article, not a count).
//! - "mezzo"/"mezza" is not a number (it is a half; callers handle it).

/// 0..=19 as words, index = value.
pub(crate) const UNITS: [&str; 20] = [
    "zero",
    "uno",
    "due",
    "tre",
    "quattro",
    "cinque",
    "sei",
    "sette",
    "otto",
    "nove",
    "dieci",
    "undici",
    "dodici",
    "tredici",
    "quattordici",
    "quindici",
    "sedici",
    "diciassette",
    "diciotto",
    "diciannove",
];

/// Tens: full form, elided stem (used before "uno"/"otto"), value.
const TENS: [(&str, &str, u32); 8] = [
    ("venti", "vent", 20),
    ("trenta", "trent", 30),
    ("quaranta", "quarant", 40),
    ("cinquanta", "cinquant", 50),
    ("sessanta", "sessant", 60),
    ("settanta", "settant", 70),
    ("ottanta", "ottant", 80),
    ("novanta", "novant", 90),
];

/// Parses an Italian cardinal written in digits ("15") or as one word
/// ("tre", "ventitre", "ventuno", "trentacinque", "cento", "mille",
/// "duemilaventisette"). `word` must be normalised (lowercase, no accents).
/// "un"/"una"/"uno" give 1. Returns `None` for anything else, including
/// empty input, "mezzo" and digit strings that overflow a `u32`.
pub fn parse_number(word: &str) -> Option<u32> {
    if word.is_empty() {
        return None;
    }
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    if matches!(word, "un" | "una") {
        return Some(1);
    }
    below_10000(word)
}

/// Parses a day ordinal: "primo"/"prima" → 1, "secondo" → 2, … "decimo" → 10,
/// and the regular "-esimo" forms ("undicesimo" → 11, "ventesimo" → 20,
/// "ventitreesimo" → 23, "trentunesimo" → 31). `word` must be normalised.
pub fn parse_ordinal(word: &str) -> Option<u32> {
    const IRREGULAR: [(&str, u32); 10] = [
        ("prim", 1),
        ("second", 2),
        ("terz", 3),
        ("quart", 4),
        ("quint", 5),
        ("sest", 6),
        ("settim", 7),
        ("ottav", 8),
        ("non", 9),
        ("decim", 10),
    ];
    let stem = strip_gender(word)?;
    if let Some(&(_, n)) = IRREGULAR.iter().find(|(s, _)| *s == stem) {
        return Some(n);
    }
    // Regular: base + "esim" ("undic-esim-o"); the base lost its last vowel
    // unless it ends in an accented-in-speech "tre"/"sei" ("ventitre-esimo").
    let base = stem.strip_suffix("esim")?;
    if base.is_empty() {
        return None;
    }
    if let Some(n) = below_10000(base) {
        return Some(n);
    }
    ["i", "e", "a", "o"]
        .iter()
        .find_map(|v| below_10000(&format!("{base}{v}")))
        // "trentunesimo": base "trentun" → "trentuno" handled by "o";
        // guard against tiny bases such as "un" → "uno" being read as 1st.
        .filter(|&n| n > 10)
}

/// Removes the final gender/number vowel of an ordinal ("primo" → "prim").
fn strip_gender(word: &str) -> Option<&str> {
    ["o", "a", "i", "e"].iter().find_map(|s| word.strip_suffix(s)).filter(|s| !s.is_empty())
}

/// 0..=19.
fn unit(s: &str) -> Option<u32> {
    UNITS.iter().position(|u| *u == s).and_then(|i| u32::try_from(i).ok())
}

/// 0..=99 written as one word.
fn below_100(s: &str) -> Option<u32> {
    if let Some(n) = unit(s) {
        return Some(n);
    }
    for &(full, stem, value) in &TENS {
        if let Some(rest) = s.strip_prefix(full) {
            if rest.is_empty() {
                return Some(value);
            }
            // "ventitre", "ventiuno" (non-elided, colloquial).
            if let Some(u) = unit(rest).filter(|u| (1..=9).contains(u)) {
                return Some(value + u);
            }
        }
        if let Some(rest) = s.strip_prefix(stem) {
            // Elided forms: "ventuno", "ventun", "ventotto".
            match rest {
                "uno" | "un" | "una" => return Some(value + 1),
                "otto" => return Some(value + 8),
                _ => {}
            }
        }
    }
    None
}

/// 0..=999 written as one word ("cento", "duecentotre", "centotto").
fn below_1000(s: &str) -> Option<u32> {
    let Some(idx) = s.find("cento") else {
        return below_100(s);
    };
    let (head, tail) = (&s[..idx], &s[idx + "cento".len()..]);
    let hundreds = if head.is_empty() { 1 } else { unit(head).filter(|h| (2..=9).contains(h))? };
    let rest = if tail.is_empty() {
        0
    } else {
        // "centotto"/"centottanta": the "o" of "otto"/"ottanta" is elided.
        below_100(tail).or_else(|| below_100(&format!("o{tail}")))?
    };
    Some(hundreds * 100 + rest)
}

/// 0..=9999 written as one word ("mille", "duemilaventisette").
fn below_10000(s: &str) -> Option<u32> {
    let (thousands, tail) = if let Some(tail) = s.strip_prefix("mille") {
        (1, tail)
    } else if let Some(idx) = s.find("mila") {
        let head = &s[..idx];
        (unit(head).filter(|h| (2..=9).contains(h))?, &s[idx + "mila".len()..])
    } else {
        return below_1000(s);
    };
    let rest = if tail.is_empty() { 0 } else { below_1000(tail)? };
    Some(thousands * 1000 + rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_teens_and_tens() {
        let table: &[(&str, u32)] = &[
            ("zero", 0),
            ("uno", 1),
            ("un", 1),
            ("una", 1),
            ("due", 2),
            ("tre", 3),
            ("quattro", 4),
            ("cinque", 5),
            ("sei", 6),
            ("sette", 7),
            ("otto", 8),
            ("nove", 9),
            ("dieci", 10),
            ("undici", 11),
            ("dodici", 12),
            ("tredici", 13),
            ("quattordici", 14),
            ("quindici", 15),
            ("sedici", 16),
            ("diciassette", 17),
            ("diciotto", 18),
            ("diciannove", 19),
            ("venti", 20),
            ("ventuno", 21),
            ("ventun", 21),
            ("ventiuno", 21),
            ("ventidue", 22),
            ("ventitre", 23),
            ("ventiquattro", 24),
            ("venticinque", 25),
            ("ventisei", 26),
            ("ventisette", 27),
            ("ventotto", 28),
            ("ventinove", 29),
            ("trenta", 30),
            ("trentuno", 31),
            ("trentadue", 32),
            ("trentacinque", 35),
            ("trentotto", 38),
            ("quaranta", 40),
            ("quarantatre", 43),
            ("quarantacinque", 45),
            ("cinquanta", 50),
            ("cinquantanove", 59),
            ("sessanta", 60),
            ("settantasette", 77),
            ("ottanta", 80),
            ("ottantotto", 88),
            ("novanta", 90),
            ("novantanove", 99),
            ("cento", 100),
            ("centouno", 101),
            ("centotto", 108),
            ("centottanta", 180),
            ("duecento", 200),
            ("trecentoventi", 320),
            ("mille", 1000),
            ("milleduecento", 1200),
            ("duemila", 2000),
            ("duemilaventisette", 2027),
            ("novemilanovecentonovantanove", 9999),
        ];
        for &(w, n) in table {
            assert_eq!(parse_number(w), Some(n), "{w}");
        }
    }

    #[test]
    fn every_value_up_to_100_round_trips_through_words() {
        fn spell(n: u32) -> String {
            match n {
                0..=19 => UNITS[n as usize].to_string(),
                100 => "cento".into(),
                _ => {
                    let (full, stem, _) = TENS[(n / 10 - 2) as usize];
                    match n % 10 {
                        0 => full.into(),
                        1 => format!("{stem}uno"),
                        8 => format!("{stem}otto"),
                        u => format!("{full}{}", UNITS[u as usize]),
                    }
                }
            }
        }
        for n in 0..=100 {
            assert_eq!(parse_number(&spell(n)), Some(n), "{}", spell(n));
        }
    }

    #[test]
    fn digits() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("15"), Some(15));
        assert_eq!(parse_number("2027"), Some(2027));
        assert_eq!(parse_number("9999"), Some(9999));
        assert_eq!(parse_number("99999999999999"), None);
    }

    #[test]
    fn rejects_non_numbers() {
        for w in ["", "mezzo", "mezza", "taglio", "ventitreno", "cent", "centomila1", "9:30", "3a", "venti tre", "tremila0"] {
            assert_eq!(parse_number(w), None, "{w}");
        }
    }

    #[test]
    fn ordinals() {
        let table: &[(&str, u32)] = &[
            ("primo", 1),
            ("prima", 1),
            ("secondo", 2),
            ("terzo", 3),
            ("quarto", 4),
            ("decimo", 10),
            ("undicesimo", 11),
            ("dodicesimo", 12),
            ("quindicesimo", 15),
            ("ventesimo", 20),
            ("ventitreesimo", 23),
            ("ventunesimo", 21),
            ("trentesimo", 30),
            ("trentunesimo", 31),
        ];
        for &(w, n) in table {
            assert_eq!(parse_ordinal(w), Some(n), "{w}");
        }
        for w in ["", "o", "tre", "prossimo", "esimo", "mezzo"] {
            assert_eq!(parse_ordinal(w), None, "{w}");
        }
    }
}
