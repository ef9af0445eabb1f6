//! Lexing for the date/time resolver: the normalisation of a turn into
//! words (prices and dashes between digits made explicit) and the small
//! word-sequence helpers every matcher uses.

use super::*;

/// Normalises the text for the matchers: "€" and "%" become the words
/// "euro"/"percento" (so "10/12 €" is a price, not a date), a "-" between
/// two digits, with or without spaces, becomes "/" ("18-03" reads like
/// "18/03", "15-03-2027" like "15/03/2027", "8:30 - 10:00" like
/// "8:30/10:00"), an ordinal sign after a digit is dropped ("1º", "1°"),
/// then [`normalize`].
pub(super) fn prepare(text: &str) -> String {
    expand_chat(prepare_symbols(text))
}

/// Chat shorthands that change how a date/time reads: "nn" (non), "dp"
/// (dopo); then the spoken forms that read as others do: "domani l'altro"
/// is "dopodomani", "il primo weekend di aprile" is "il primo sabato di
/// aprile", "il tre del cinque" is "il 3/5".
fn expand_chat(text: String) -> String {
    let mut ws: Vec<String> = text
        .split(' ')
        .map(|w| match w {
            "nn" => "non".to_string(),
            "dp" => "dopo".to_string(),
            w => w.to_string(),
        })
        .collect();
    let mut i = 0;
    while i < ws.len() {
        let at = |k: usize| ws.get(k).map(String::as_str).unwrap_or("");
        if matches!(at(i), "domani" | "doman") && at(i + 1) == "l" && at(i + 2) == "altro" {
            ws.splice(i..i + 3, ["dopodomani".to_string()]);
        } else if at(i) == "weekend"
            && i > 0
            && (matches!(at(i - 1), "ultimo" | "penultimo") || parse_ordinal(at(i - 1)).is_some())
            && matches!(at(i + 1), "di" | "del" | "dello" | "della")
        {
            ws[i] = "sabato".to_string();
        } else if at(i + 1) == "del" {
            if let (Some(d), Some(m)) = (day_number(at(i)), month_number(at(i + 2))) {
                ws.splice(i..i + 3, [format!("{d}/{m}")]);
            }
        }
        i += 1;
    }
    ws.join(" ")
}

/// A month said as its number, in digits or words ("5", "cinque").
fn month_number(w: &str) -> Option<i64> {
    parse_number(w).map(i64::from).filter(|n| (1..=12).contains(n))
}

fn prepare_symbols(text: &str) -> String {
    let needs = text.contains(['€', '%', '-', 'º', '°', 'ª']);
    if !needs {
        return normalize(text);
    }
    let spelled = spelled_dash_pairs(text);
    let text = spelled.as_deref().unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut skip_spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if skip_spaces && c == ' ' {
            continue;
        }
        skip_spaces = false;
        let prev_digit = out.trim_end_matches(' ').ends_with(|p: char| p.is_ascii_digit());
        match c {
            '€' => out.push_str(" euro "),
            '%' => out.push_str(" percento "),
            '-' if prev_digit && chars[i + 1..].iter().find(|n| **n != ' ').is_some_and(char::is_ascii_digit) => {
                out.truncate(out.trim_end_matches(' ').len());
                out.push('/');
                skip_spaces = true;
            }
            'º' | '°' | 'ª' if out.ends_with(|p: char| p.is_ascii_digit()) => {}
            _ => out.push(c),
        }
    }
    normalize(&out)
}

/// The word at `i`, or "" past the end.
pub(super) fn word<'a>(words: &[&'a str], i: usize) -> &'a str {
    words.get(i).copied().unwrap_or("")
}

/// True if the words starting at `i` are exactly `seq`.
pub(super) fn starts_with(words: &[&str], i: usize, seq: &[&str]) -> bool {
    seq.iter().enumerate().all(|(k, s)| word(words, i + k) == *s)
}

/// The longest of `seqs` found at `i`, as its length.
pub(super) fn longest(words: &[&str], i: usize, seqs: &[&[&str]]) -> Option<usize> {
    seqs.iter().filter(|s| starts_with(words, i, s)).map(|s| s.len()).max()
}

pub(super) fn one(part: Part, used: usize) -> Option<(Vec<Part>, usize)> {
    Some((vec![part], used))
}

/// "dieci - dodici giugno", "tre-cinque maggio": two numbers in words
/// joined by a dash before a month, rewritten in digits ("10-12 giugno") so
/// that they read like the digits would (not elsewhere: spoken phone
/// numbers). `None` when there is no such pair.
fn spelled_dash_pairs(text: &str) -> Option<String> {
    let spaced = text.replace('-', " - ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let number = |t: &str| {
        let w = normalize(t);
        if w.is_empty() || !w.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        parse_number(&w).filter(|n| (1..=31).contains(n))
    };
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut changed = false;
    let mut k = 0;
    while k < tokens.len() {
        let month_after = |at: usize| {
            let w = tokens.get(at).map(|t| normalize(t)).unwrap_or_default();
            let w = if matches!(w.as_str(), "di" | "del") { tokens.get(at + 1).map(|t| normalize(t)).unwrap_or_default() } else { w };
            month(&w).is_some()
        };
        if k + 2 < tokens.len() && tokens[k + 1] == "-" && month_after(k + 3) {
            if let (Some(a), Some(b)) = (number(tokens[k]), number(tokens[k + 2])) {
                out.push(format!("{a}-{b}"));
                changed = true;
                k += 3;
                continue;
            }
        }
        out.push(tokens[k].to_string());
        k += 1;
    }
    changed.then(|| out.join(" "))
}
