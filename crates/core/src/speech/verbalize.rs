//! Text → what a voice should say: digits, clock times, prices, percentages
//! and symbols become Italian words, so every engine (espeak-ng, Piper, cloud
//! voices) reads them the same way: "alle 15:30" → "alle quindici e mezza",
//! "25,50 €" → "venticinque euro e cinquanta", "10%" → "dieci per cento",
//! "+39 333 1234567" → digit by digit.

use std::sync::LazyLock;

use jiff::civil::Time;
use regex::{Captures, Regex};

use crate::speak;

static PRICE_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:€|EUR)\s?(\d{1,6})(?:[.,](\d{1,2}))?(?:\b|$)").expect("static regex"));
static PRICE_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,6})(?:[.,](\d{1,2}))?\s?(?:€|(?i:euro)\b|EUR\b)").expect("static regex"));
static CLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)\b").expect("static regex"));
static PERCENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{1,3})(?:[.,](\d{1,2}))?\s?%").expect("static regex"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\+?\d[\d ]{6,}\d").expect("static regex"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{1,6}),(\d{1,3})\b").expect("static regex"));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static regex"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s{2,}").expect("static regex"));

const DIGITS: [&str; 10] = ["zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"];

/// `text` with numbers and symbols written out as spoken Italian.
pub fn for_speech(text: &str) -> String {
    let s = PRICE_BEFORE.replace_all(text, |c: &Captures| speak::price(cents(c)));
    let s = PRICE_AFTER.replace_all(&s, |c: &Captures| speak::price(cents(c)));
    let s = PERCENT.replace_all(&s, |c: &Captures| match c.get(2) {
        Some(dec) => format!("{} virgola {} per cento", words(&c[1]), words(dec.as_str())),
        None => format!("{} per cento", words(&c[1])),
    });
    let s = CLOCK.replace_all(&s, |c: &Captures| {
        let (h, m) = (c[1].parse::<i8>().unwrap_or(0), c[2].parse::<i8>().unwrap_or(0));
        Time::new(h, m, 0, 0).map(speak::time).unwrap_or_else(|_| c[0].to_string())
    });
    let s = PHONE.replace_all(&s, |c: &Captures| {
        let mut out = Vec::new();
        if c[0].starts_with('+') {
            out.push("più".to_string());
        }
        out.extend(c[0].chars().filter_map(|ch| ch.to_digit(10)).map(|d| DIGITS[d as usize].to_string()));
        out.join(" ")
    });
    let s = DECIMAL.replace_all(&s, |c: &Captures| format!("{} virgola {}", words(&c[1]), words(&c[2])));
    let s = INTEGER.replace_all(&s, |c: &Captures| words(&c[0]));
    let s = s.replace('&', " e ").replace('@', " chiocciola ").replace(['*', '#', '_', '|'], " ").replace(" - ", ", ");
    SPACES.replace_all(s.trim(), " ").into_owned()
}

fn cents(c: &Captures) -> i64 {
    let euro: i64 = c[1].parse().unwrap_or(0);
    let fraction = c.get(2).map(|m| m.as_str()).unwrap_or("0");
    let fraction: i64 = if fraction.len() == 1 { fraction.parse::<i64>().unwrap_or(0) * 10 } else { fraction.parse().unwrap_or(0) };
    euro * 100 + fraction
}

/// Digits as one number ("25" → "venticinque"); a leading zero or more than
/// six digits is read digit by digit.
fn words(digits: &str) -> String {
    if digits.len() > 6 || (digits.len() > 1 && digits.starts_with('0')) {
        return digits.chars().filter_map(|ch| ch.to_digit(10)).map(|d| DIGITS[d as usize]).collect::<Vec<_>>().join(" ");
    }
    digits.parse::<i64>().map(speak::number).unwrap_or_else(|_| digits.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_times_prices_and_symbols() {
        let cases = [
            ("alle 15:30", "alle quindici e mezza"),
            ("dalle 9.00 alle 19.00", "dalle nove alle diciannove"),
            ("Costa 25 €.", "Costa venticinque euro."),
            ("Costa €25,50", "Costa venticinque euro e cinquanta"),
            ("prezzo 35 euro", "prezzo trentacinque euro"),
            ("sconto del 10%", "sconto del dieci per cento"),
            ("chiami il +39 333 1234567", "chiami il più tre nove tre tre tre uno due tre quattro cinque sei sette"),
            ("2,5 km", "due virgola cinque km"),
            ("via Roma 21", "via Roma ventuno"),
            ("Rossi & figli", "Rossi e figli"),
            ("Nessun numero qui.", "Nessun numero qui."),
        ];
        for (input, want) in cases {
            assert_eq!(for_speech(input), want, "{input}");
        }
    }
}
