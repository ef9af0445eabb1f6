//! Italian phone numbers in a turn, written or spoken, as E.164 (`+39…`).
//!
//! Written: "347 555 1234", "+39 347.555.1234", "0039 02 1234567",
//! "02-12345678". Spoken, in any grouping, as Whisper writes it:
//! digit by digit ("tre quattro sette cinque…"), in pairs or triples
//! ("trentaquattro settantacinque", "trecentoquarantasette"), split tens
//! ("trenta sette" = 37), "zero sei…", "doppio cinque", mixed with digits
//! ("347 cinque cinque cinque 12 34"), with "più trentanove" or "zero zero
//! trentanove" for the country code.
//!
//! The result is a valid Italian number or nothing: mobiles start with 3 and
//! have 9–10 national digits, landlines start with 0 and have 6–11.

use std::sync::OnceLock;

use regex::Regex;

use super::numbers;
use crate::text::words;

fn phone_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:\+|\b00)?\d[\d .\-/]{4,18}\d").expect("phone regex"))
}

/// `raw` in E.164: an Italian number as [`normalize_phone`] reads it, or an
/// international one written with `+` and 8–15 digits (spaces, dashes,
/// dots, slashes and brackets allowed between them). Anything else is `None`.
pub fn e164(raw: &str) -> Option<String> {
    if let Some(p) = normalize_phone(raw) {
        return Some(p);
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let plus = raw.trim_start().starts_with('+');
    let only_phone_chars = raw.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c));
    (plus && only_phone_chars && (8..=15).contains(&digits.len()) && !digits.starts_with('0')).then(|| format!("+{digits}"))
}

/// Normalises an Italian phone number to E.164 (`+39…`). Accepts an optional
/// `+39`/`0039` prefix, and spaces, dots, dashes or slashes between digits.
/// Mobiles start with 3 and have 9–10 digits; landlines start with 0 and have
/// 6–11 digits. Anything else is `None`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let plus = s.trim_start().starts_with('+');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let national = if plus {
        digits.strip_prefix("39")?
    } else if let Some(rest) = digits.strip_prefix("0039") {
        rest
    } else if (11..=12).contains(&digits.len()) && digits.starts_with("393") {
        &digits[2..]
    } else {
        &digits
    };
    let ok = match national.as_bytes().first() {
        Some(b'3') => (9..=10).contains(&national.len()),
        Some(b'0') => (6..=11).contains(&national.len()),
        _ => false,
    };
    ok.then(|| format!("+39{national}"))
}

/// Replaces written digit groups that look like a phone number by spaces, so
/// the date resolver does not read them as a date or a time.
pub fn mask_digits(raw: &str) -> String {
    phone_regex().replace_all(raw, " ").into_owned()
}

/// A normalised turn without its runs of number words and digits that
/// spell at least six digits (a phone number, spoken or written), so the
/// date resolver does not read "tre quattro sette…" as a date or a time.
pub fn mask_numbers(normalized: &str) -> String {
    let ws: Vec<&str> = words(normalized).collect();
    let mut keep = vec![true; ws.len()];
    let joins = |i: usize| matches!(ws[i], "e" | "doppio" | "doppia" | "piu") && ws.get(i + 1).is_some_and(|n| group(n).is_some());
    let mut i = 0;
    while i < ws.len() {
        if group(ws[i]).is_none() && !joins(i) {
            i += 1;
            continue;
        }
        let (start, mut digits) = (i, 0);
        while i < ws.len() && (group(ws[i]).is_some() || joins(i)) {
            digits += group(ws[i]).map_or(0, |g| if g.word { g.value.to_string().len() } else { ws[i].len() });
            i += 1;
        }
        if digits >= 6 {
            keep[start..i].iter_mut().for_each(|k| *k = false);
        }
    }
    ws.iter().zip(keep).filter(|(_, k)| *k).map(|(w, _)| *w).collect::<Vec<_>>().join(" ")
}

/// One spoken or written number of a run, before it is spelled as digits.
#[derive(Debug, Clone, Copy)]
struct Group {
    value: u32,
    /// Said as a word ("trenta"), so it may combine with the next word.
    word: bool,
}

/// A number token of a normalised turn: digits (dots allowed between them)
/// or an Italian number word below 10000. "un"/"una" are articles here.
fn group(w: &str) -> Option<Group> {
    let digits: String = w.chars().filter(|c| *c != '.').collect();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // The value only matters for spoken compounds, which digits never
        // form; the digits themselves are kept as written ("007").
        return Some(Group { value: digits.parse().unwrap_or(u32::MAX), word: false });
    }
    if matches!(w, "un" | "una") {
        return None;
    }
    let n = numbers::parse_number(w).filter(|n| *n < 10_000)?;
    Some(Group { value: n, word: true })
}

/// A run of number tokens in a turn, as digits, with whether it was
/// introduced by "più" (a `+` country code).
#[derive(Debug, Default)]
struct Run {
    plus: bool,
    /// Digit strings of the groups, in order.
    parts: Vec<String>,
    /// The word right before the run.
    before: String,
}

impl Run {
    fn digits(&self, skip: usize) -> String {
        self.parts[skip.min(self.parts.len())..].concat()
    }
}

/// Words that introduce a date or a time: a number right after them is not
/// part of a phone number ("alle 15 347 555 1234").
const TIME_WORDS: &[&str] = &["alle", "ore", "le", "il", "del", "dal", "al", "h", "entro", "verso"];

/// Splits a normalised turn into runs of number tokens, merging spoken
/// compounds ("trecento quaranta sette" → "347").
fn runs(normalized: &str) -> Vec<Run> {
    let ws: Vec<&str> = words(normalized).collect();
    let mut out = Vec::new();
    let mut cur = Run::default();
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i];
        if let Some(mut g) = group(w) {
            if cur.parts.is_empty() && cur.before.is_empty() && i > 0 {
                cur.before = ws[i - 1].to_string();
            }
            if g.word {
                // Hundreds + tens/units, then tens + units: "trecento quaranta sette".
                if g.value >= 100 && g.value % 100 == 0 {
                    if let Some(n) = ws.get(i + 1).and_then(|w| group(w)).filter(|n| n.word && n.value < 100) {
                        g.value += n.value;
                        i += 1;
                    }
                }
                let tens = g.value % 100;
                if tens >= 20 && tens % 10 == 0 {
                    if let Some(n) = ws.get(i + 1).and_then(|w| group(w)).filter(|n| n.word && (1..=9).contains(&n.value)) {
                        g.value += n.value;
                        i += 1;
                    }
                }
            }
            cur.parts.push(if g.word { g.value.to_string() } else { w.chars().filter(|c| *c != '.').collect() });
        } else if w == "doppio" || w == "doppia" {
            if let Some(g) = ws.get(i + 1).and_then(|w| group(w)).filter(|g| g.value < 10) {
                if cur.parts.is_empty() && i > 0 {
                    cur.before = ws[i - 1].to_string();
                }
                cur.parts.push(format!("{0}{0}", g.value));
                i += 1;
            } else {
                flush(&mut cur, &mut out);
            }
        } else if w == "e" && !cur.parts.is_empty() && ws.get(i + 1).is_some_and(|n| group(n).is_some()) {
            // "trentaquattro e cinquantacinque": a pause word inside the run.
        } else if w == "piu" && ws.get(i + 1).is_some_and(|n| group(n).is_some()) {
            flush(&mut cur, &mut out);
            cur.plus = true;
        } else {
            flush(&mut cur, &mut out);
        }
        i += 1;
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut Run, out: &mut Vec<Run>) {
    let run = std::mem::take(cur);
    if !run.parts.is_empty() {
        out.push(run);
    }
}

/// The phone number read from one run, if it makes a valid one: the whole
/// run, or the run without a leading time ("alle 15 347…").
fn from_run(run: &Run) -> Option<String> {
    let read = |skip| {
        let d = run.digits(skip);
        if run.plus {
            normalize_phone(&format!("+{d}"))
        } else {
            normalize_phone(&d)
        }
    };
    read(0).or_else(|| (TIME_WORDS.contains(&run.before.as_str()) && run.parts.len() > 1).then(|| read(1)).flatten())
}

/// Finds an Italian phone number in a turn (written or spoken), as E.164.
/// `raw` is the turn as received, `normalized` its
/// [`crate::text::normalize`] form.
pub fn find_phone(raw: &str, normalized: &str) -> Option<String> {
    let spoken = runs(normalized).iter().filter_map(from_run).max_by_key(String::len);
    let written = phone_regex().find_iter(raw).filter_map(|m| normalize_phone(m.as_str())).max_by_key(String::len);
    match (spoken, written) {
        (Some(s), Some(w)) => Some(if w.len() >= s.len() { w } else { s }),
        (s, w) => s.or(w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn n(s: &str) -> Option<String> {
        find_phone(s, &normalize(s))
    }

    #[test]
    fn written_numbers_to_e164() {
        assert_eq!(normalize_phone("333 123 4567").as_deref(), Some("+393331234567"));
        assert_eq!(normalize_phone("+39 333.123.4567").as_deref(), Some("+393331234567"));
        assert_eq!(normalize_phone("0039 02 1234567").as_deref(), Some("+39021234567"));
        assert_eq!(normalize_phone("02-12345678").as_deref(), Some("+390212345678"));
        assert_eq!(normalize_phone("12345"), None);
        assert_eq!(normalize_phone("+44 20 7946 0958"), None);
        assert_eq!(n("il mio numero è 347 555 1234").as_deref(), Some("+393475551234"));
        assert_eq!(n("Il mio numero è 347-555-1234.").as_deref(), Some("+393475551234"));
        assert_eq!(n("+39 347 555 1234").as_deref(), Some("+393475551234"));
        assert_eq!(n("alle 15 del 3/4"), None);
    }

    #[test]
    fn spoken_numbers_in_any_grouping() {
        let want = Some("+393475551234".to_string());
        for s in [
            "tre quattro sette cinque cinque cinque uno due tre quattro",
            "tre quattro sette, cinque cinque cinque, uno due tre quattro",
            "Tre, quattro, sette. Cinque, cinque, cinque. Uno, due, tre, quattro.",
            "trecentoquarantasette cinquecentocinquantacinque dodici trentaquattro",
            "trecento quarantasette cinquecento cinquantacinque milleduecentotrentaquattro",
            "trentaquattro settantacinque cinquantacinque dodici trentaquattro",
            "trenta quattro sette cinque cinque cinque dodici trenta quattro",
            "347 cinque cinque cinque 12 34",
            "tre quattro sette doppio cinque cinque uno due tre quattro",
            "più trentanove tre quattro sette cinque cinque cinque uno due tre quattro",
            "piu 39 347 555 1234",
            "zero zero trentanove trecentoquarantasette cinque cinque cinque uno due tre quattro",
            "sì il numero è tre quattro sette e cinque cinque cinque e uno due tre quattro grazie",
            "allora il mio cellulare è il 347 555 12 34",
        ] {
            assert_eq!(n(s), want, "{s}");
        }
        assert_eq!(n("zero sei uno due tre quattro cinque sei sette").as_deref(), Some("+39061234567"));
        assert_eq!(n("zero due, otto nove sette sei, cinque quattro tre due").as_deref(), Some("+390289765432"));
        assert_eq!(n("più trentanove zero sei quattro quattro cinque cinque sei sei sette").as_deref(), Some("+39064455667"));
        assert_eq!(n("domani alle 15 il numero è 347 555 1234").as_deref(), Some("+393475551234"));
        assert_eq!(n("alle 15 347 555 1234").as_deref(), Some("+393475551234"));
    }

    #[test]
    fn masks_spoken_numbers_only() {
        assert_eq!(mask_numbers("il numero e tre quattro sette cinque cinque cinque uno due domani"), "il numero domani");
        assert_eq!(mask_numbers("alle 16 e 30 domani"), "alle 16 e 30 domani");
        assert_eq!(mask_numbers("347 555 1234 alle 15"), "alle 15");
    }

    #[test]
    fn not_a_valid_number_gives_nothing() {
        for s in [
            "tre quattro sette cinque cinque",
            "uno due tre quattro cinque sei sette otto nove",
            "più quarantaquattro venti settantanove quarantasei zero nove cinque otto",
            "tre quattro sette cinque cinque cinque uno due tre quattro cinque sei",
            "vorrei un taglio per tre persone alle cinque",
            "il 15 marzo alle 16 e 30",
            "",
        ] {
            assert_eq!(n(s), None, "{s}");
        }
    }
}
