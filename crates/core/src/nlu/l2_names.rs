//! L2: the caller's own name, from "mi chiamo …", "sono …", "a nome di
//! …" or a written message's signature.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::text::{capitalize, normalize};

/// Words that follow "sono" but are not a name ("sono disponibile").
const NOT_NAMES: &[&str] = &[
    "io",
    "qui",
    "qua",
    "la",
    "il",
    "lo",
    "un",
    "una",
    "uno",
    "di",
    "da",
    "a",
    "al",
    "in",
    "e",
    "ed",
    "che",
    "non",
    "gia",
    "ancora",
    "stato",
    "stata",
    "stati",
    "disponibile",
    "libero",
    "libera",
    "liberi",
    "interessato",
    "interessata",
    "cliente",
    "nuovo",
    "nuova",
    "sicuro",
    "sicura",
    "d",
    "accordo",
    "daccordo",
    "occupato",
    "occupata",
    "arrivato",
    "arrivata",
    "in",
    "ritardo",
    "appena",
    "sempre",
    "solo",
    "sola",
    "proprio",
    "molto",
    "tanto",
    "contento",
    "contenta",
    "felice",
    "pronto",
    "pronta",
    "bene",
    "le",
    "li",
    "ci",
    "mi",
    "ti",
    "si",
    "lei",
    "lui",
    "noi",
    "voi",
    "loro",
    "quello",
    "quella",
    "per",
    "con",
    "su",
    "tra",
    "fra",
    "gli",
    "del",
    "della",
    "ore",
    "alle",
    "venuto",
    "venuta",
    "passato",
    "passata",
    "chiamato",
    "chiamata",
    "vorrei",
    "volevo",
    "voglio",
    "devo",
    "dovrei",
    "posso",
    "potrei",
    "prenotare",
    "disdire",
    "cancellare",
    "spostare",
    "signore",
    "signora",
    "signor",
    "dottore",
    "dottoressa",
    "sig",
    "dott",
    "grazie",
    "ok",
    "si",
    "no",
    "buongiorno",
    "buonasera",
    "ciao",
    "salve",
    "anche",
    "tutto",
    "tutti",
    "domani",
    "oggi",
];

/// Honorifics dropped before a name ("sono la signora Bianchi" → "Bianchi").
const HONORIFICS: &[&str] = &["il", "la", "signor", "signore", "signora", "sig", "dott", "dottor", "dottore", "dottoressa", "ing", "avv"];

/// Words that end a name ("mi chiamo Mario Rossi e vorrei…").
fn ends_name(w: &str) -> bool {
    matches!(
        w,
        "e" | "ed"
            | "vorrei"
            | "volevo"
            | "voglio"
            | "per"
            | "devo"
            | "ho"
            | "il"
            | "la"
            | "mio"
            | "mia"
            | "numero"
            | "telefono"
            | "cellulare"
            | "chiamo"
            | "sono"
            | "a"
            | "di"
            | "da"
            | "con"
            | "che"
            | "al"
            | "alle"
            | "del"
            | "della"
            | "domani"
            | "oggi"
            | "grazie"
            | "prenotare"
            | "non"
            | "mi"
            | "ti"
            | "si"
            | "cosa"
            | "quando"
            | "come"
            | "perche"
            | "ma"
            | "pero"
            | "anche"
            | "tel"
            | "email"
            | "mail"
            | "cell"
            | "in"
            | "su"
            | "tra"
            | "fra"
            | "ok"
    ) || w.chars().any(|c| c.is_ascii_digit())
}

/// Common Italian first names (folded), from `data/first_names.txt`.
fn first_names() -> &'static HashSet<&'static str> {
    static NAMES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("../../data/first_names.txt").lines().filter(|l| !l.starts_with('#')).flat_map(str::split_whitespace).collect()
    })
}

/// Words before "sono" that make it "there are"/"they are", not "I am"
/// ("ci sono posti?", "quando sono pronti?").
const NOT_FIRST_PERSON: &[&str] = &[
    "ci", "quando", "se", "non", "che", "dove", "come", "cosa", "ne", "li", "vi", "gli", "le", "ce", "quali", "quanti", "quante", "chi",
    "mi", "ti", "si",
];

/// The caller's own name, from "mi chiamo …", "si chiama …", "il mio nome
/// è …", "a nome (di) …", "sono …". After "sono" (and not "ci sono"), the
/// first word must be a known Italian first name or capitalised in the raw
/// text and not a common word, so "sono stanca" is not a name. Returns up to
/// three capitalised words.
pub fn find_name(raw: &str) -> Option<String> {
    let raw_words: Vec<&str> = raw.split(|c: char| c.is_whitespace() || ",.;!?:\"()".contains(c)).filter(|w| !w.is_empty()).collect();
    let norm: Vec<String> = raw_words.iter().map(|w| normalize(w)).collect();
    let at = |i: usize| norm.get(i).map(String::as_str).unwrap_or("");
    for i in 0..norm.len() {
        let prev = if i > 0 { at(i - 1) } else { "" };
        let (start, strict) = match at(i) {
            "chiamo" | "chiama" if matches!(prev, "mi" | "si") => (i + 1, false),
            "nome" if matches!(prev, "mio" | "il") && at(i + 1) == "e" => (i + 2, false),
            "nome" if prev == "a" => (if at(i + 1) == "di" { i + 2 } else { i + 1 }, false),
            "sono" if !NOT_FIRST_PERSON.contains(&prev) => (i + 1, true),
            _ => continue,
        };
        let mut j = start;
        while j < norm.len() && HONORIFICS.contains(&at(j)) {
            j += 1;
        }
        let honorific = j > start;
        let mut parts: Vec<&str> = Vec::new();
        while j < norm.len() && parts.len() < 3 {
            let w = at(j);
            if w.is_empty() || ends_name(w) || w.contains(' ') {
                break;
            }
            let capitalised = raw_words[j].chars().next().is_some_and(char::is_uppercase);
            let known = first_names().contains(w);
            let common = NOT_NAMES.contains(&w);
            let accept = if parts.is_empty() && strict {
                known || (capitalised && !common) || (honorific && !common)
            } else {
                known || capitalised || !common
            };
            if !accept {
                break;
            }
            parts.push(raw_words[j]);
            j += 1;
        }
        if !parts.is_empty() {
            return Some(parts.iter().map(|p| capitalize(&p.to_lowercase())).collect::<Vec<_>>().join(" "));
        }
    }
    signed_name(&raw_words, &norm)
}

/// A written message's signature: "… Cordiali saluti, Anna Verdi", "…
/// Grazie, Luigi Colombo". The last two or three words, capitalised, after a
/// sign-off word, starting with a known first name.
fn signed_name(raw_words: &[&str], norm: &[String]) -> Option<String> {
    const SIGN_OFFS: &[&str] = &["saluti", "cordialmente", "grazie", "distinti", "saluto", "giornata", "serata", "firmato"];
    for len in [2, 3] {
        let start = norm.len().checked_sub(len)?;
        let before = start.checked_sub(1).map(|i| norm[i].as_str())?;
        let words = &raw_words[start..];
        let all_caps = words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase));
        if SIGN_OFFS.contains(&before) && all_caps && first_names().contains(norm[start].as_str()) {
            return Some(words.iter().map(|w| capitalize(&w.to_lowercase())).collect::<Vec<_>>().join(" "));
        }
    }
    None
}
