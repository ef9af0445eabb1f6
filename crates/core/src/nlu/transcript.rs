//! Tidies a turn as speech recognition (Whisper) or a hurried typist writes
//! it, before any NLU layer sees it, so L0–L3 and the date resolver get the
//! same input whichever written form came out.
//!
//! What changes (case is kept, the caller's name may depend on it):
//! - typographic quotes and apostrophes (`’ ‘ ´ \``) become `'`, `“ ” « »`
//!   become `"`, `…` becomes `.`, non-breaking and other spaces become ` `;
//! - an apostrophe used as an accent on a final vowel becomes the accented
//!   letter: "E'" → "È", "perche'" → "perché", "piu'" → "più" (not "po'");
//! - clock times written with a space, comma or `h` between hours and
//!   minutes become `HH:MM` ("alle 15 30", "alle 15,30", "15h30" →
//!   "15:30"; "16h" → "16");
//! - hesitation fillers are removed anywhere ("ehm", "uhm", "mmh", "eh"),
//!   discourse fillers only at the start of a clause ("allora", "senta",
//!   "cioè", "dunque", "ecco", "guardi", "beh", "diciamo"), so a "cioè"
//!   between two times still reads as a correction;
//! - Whisper's known hallucinated tails ("Sottotitoli a cura di QTSS",
//!   "… Amara.org", "Grazie per la visione") are dropped.
//!
//! Pure, allocation-light, never panics; the output of an already tidy turn
//! is the turn itself.

use std::sync::OnceLock;

use regex::Regex;

use crate::text::fold;

/// Hesitations dropped wherever they occur ("eh", "ehm", "uhm", "mmh"),
/// matched on the folded, lowercase word.
pub fn is_hesitation(w: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(?:e+h+|e+h*m+h*|u+h*m+h*|uh+|m{2,}h*|mh+|h+m+|ah+m+|mhm)$").expect("hesitation regex")).is_match(w)
}

/// Discourse fillers dropped at the start of a clause (folded, lowercase).
const CLAUSE_FILLERS: &[&str] = &[
    "allora",
    "senta",
    "senti",
    "sentite",
    "dunque",
    "ecco",
    "guardi",
    "guarda",
    "beh",
    "be",
    "mah",
    "diciamo",
    "praticamente",
    "insomma",
    "ah",
    "oh",
];

/// Fillers dropped only at the very start of the turn: inside it "cioè"
/// marks a correction ("alle 15, cioè alle 16").
const TURN_FILLERS: &[&str] = &["cioe"];

/// Whether the folded, lowercase word is a discourse filler ("allora",
/// "senta", "diciamo", "cioe"): words a caller says before the request.
pub fn is_discourse_filler(w: &str) -> bool {
    CLAUSE_FILLERS.contains(&w) || TURN_FILLERS.contains(&w)
}

fn time_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\b(alle|ore|le|dalle|delle|entro le|per le|verso le|prima delle|dopo le|fino alle|h)\s+(\d{1,2})(?:\s+|\s*,\s*|\s*h\s*)(\d{2})\b")
            .expect("time regex")
    })
}

fn h_time_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b(\d{1,2})\s?[hH](\d{2})?\b").expect("h time regex"))
}

fn hallucination_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)\bsottotitoli\b[^!?]*|\bamara\.org\b|\bgrazie (a tutti )?per la visione[.!?]*|\biscriviti al canale[.!?]*")
            .expect("hallucination regex")
    })
}

/// Maps typographic characters to plain ones and an apostrophe-accent on a
/// final vowel to the accented vowel.
fn plain_chars(raw: &str) -> String {
    let chars: Vec<char> = raw
        .chars()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{00b4}' | '`' | '\u{02bc}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{00ab}' | '\u{00bb}' => '"',
            '\u{2026}' => '.',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let mut out = String::with_capacity(raw.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '\'' && i > 0 {
            let next_is_letter = chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            let prev = chars[i - 1];
            if !next_is_letter && matches!(prev.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u') && !is_po(&chars, i) {
                out.pop();
                out.push(accented(prev, &chars[..i - 1]));
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Whether the apostrophe at `i` closes "po'" ("un po'").
fn is_po(chars: &[char], i: usize) -> bool {
    i >= 2
        && chars[i - 2].eq_ignore_ascii_case(&'p')
        && chars[i - 1].eq_ignore_ascii_case(&'o')
        && (i == 2 || !chars[i - 3].is_alphabetic())
}

/// The accented form of a final vowel: grave except "perché"-style words
/// (closed é after "ch"), "né", "sé".
fn accented(v: char, before: &[char]) -> char {
    let upper = v.is_uppercase();
    let word: String = before.iter().rev().take_while(|c| c.is_alphabetic()).collect::<Vec<_>>().into_iter().rev().collect();
    let lw = word.to_lowercase();
    let acute = matches!(v.to_ascii_lowercase(), 'e') && (lw.ends_with("ch") || lw == "n" || lw == "s" || lw.ends_with("tr"));
    let c = match (v.to_ascii_lowercase(), acute) {
        ('a', _) => 'à',
        ('e', true) => 'é',
        ('e', false) => 'è',
        ('i', _) => 'ì',
        ('o', _) => 'ò',
        _ => 'ù',
    };
    if upper {
        c.to_uppercase().next().unwrap_or(c)
    } else {
        c
    }
}

/// Removes fillers: hesitations anywhere, discourse fillers at the start of
/// a clause (turn start or after `, . ; : ! ?`).
fn drop_fillers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut clause_start = true;
    for tok in s.split(' ').filter(|t| !t.is_empty()) {
        let core = tok.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let folded = fold(core);
        let ends_clause = tok.ends_with([',', '.', ';', ':', '!', '?']);
        let filler = is_hesitation(&folded)
            || (clause_start && CLAUSE_FILLERS.contains(&folded.as_str()))
            || (out.is_empty() && TURN_FILLERS.contains(&folded.as_str()));
        if filler && !core.is_empty() {
            // Keep a sentence end ("ehm." closes the sentence) but not a comma.
            if tok.ends_with(['.', '!', '?']) && !out.is_empty() {
                out.push_str(&tok[tok.len() - 1..]);
            }
            clause_start = clause_start || ends_clause;
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
        clause_start = ends_clause || core.is_empty();
    }
    out
}

/// Writes minutes attached to an hour as `HH:MM` when both are in range.
fn clock_times(s: &str) -> String {
    let valid = |h: &str, m: &str| h.parse::<u32>().is_ok_and(|h| h <= 24) && m.parse::<u32>().is_ok_and(|m| m < 60);
    let s = time_regex().replace_all(
        s,
        |c: &regex::Captures| {
            if valid(&c[2], &c[3]) {
                format!("{} {}:{}", &c[1], &c[2], &c[3])
            } else {
                c[0].to_string()
            }
        },
    );
    h_time_regex()
        .replace_all(&s, |c: &regex::Captures| match c.get(2) {
            Some(m) if valid(&c[1], m.as_str()) => format!("{}:{}", &c[1], m.as_str()),
            None if valid(&c[1], "0") => c[1].to_string(),
            _ => c[0].to_string(),
        })
        .into_owned()
}

/// Tidies one recognised or typed turn (see the module docs). Case is kept.
pub fn tidy(raw: &str) -> String {
    let plain = plain_chars(raw);
    let plain = hallucination_regex().replace_all(&plain, " ");
    let timed = clock_times(&plain);
    drop_fillers(&timed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apostrophes_become_accents() {
        assert_eq!(tidy("E' giusto"), "È giusto");
        assert_eq!(tidy("e' possibile?"), "è possibile?");
        assert_eq!(tidy("perche' no, piu' tardi"), "perché no, più tardi");
        assert_eq!(tidy("un po' prima"), "un po' prima");
        assert_eq!(tidy("dell’appuntamento, c’è posto?"), "dell'appuntamento, c'è posto?");
        assert_eq!(tidy("va bene cosi'"), "va bene così");
    }

    #[test]
    fn clock_times_are_written_one_way() {
        assert_eq!(tidy("alle 15 30"), "alle 15:30");
        assert_eq!(tidy("alle 15,30 va bene"), "alle 15:30 va bene");
        assert_eq!(tidy("domani 15h30"), "domani 15:30");
        assert_eq!(tidy("verso le 9 15"), "verso le 9:15");
        assert_eq!(tidy("alle 16h"), "alle 16");
        // Not a time: left alone.
        assert_eq!(tidy("alle 15 99"), "alle 15 99");
        assert_eq!(tidy("il 15 30 persone"), "il 15 30 persone");
    }

    #[test]
    fn fillers_go_corrections_stay() {
        assert_eq!(tidy("ehm vorrei ehm prenotare"), "vorrei prenotare");
        assert_eq!(tidy("Allora, senta, vorrei un taglio"), "vorrei un taglio");
        assert_eq!(tidy("eh sì"), "sì");
        assert_eq!(tidy("alle 15, cioè alle 16"), "alle 15, cioè alle 16");
        assert_eq!(tidy("cioè, vorrei spostarlo"), "vorrei spostarlo");
        assert_eq!(tidy("alle 15 cioè alle 16"), "alle 15 cioè alle 16");
        assert_eq!(tidy("va bene allora"), "va bene allora");
        assert_eq!(tidy("e poi una piega"), "e poi una piega");
    }

    #[test]
    fn whisper_hallucinations_are_dropped() {
        assert_eq!(tidy("Vorrei un taglio. Sottotitoli a cura di QTSS"), "Vorrei un taglio.");
        assert_eq!(tidy("Sì. Sottotitoli creati dalla comunità Amara.org"), "Sì.");
        assert_eq!(tidy("Grazie per la visione!"), "");
    }

    #[test]
    fn tidy_is_idempotent_and_total() {
        for s in ["", " ", "'", "E'", "h", "alle 9 30", "ehm", "…", "po'", "a'b", "é'"] {
            let once = tidy(s);
            assert_eq!(tidy(&once), once, "{s:?}");
        }
    }
}
