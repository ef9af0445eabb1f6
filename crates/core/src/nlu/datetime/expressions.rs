//! Several expressions in one turn: grouping the parts into expressions
//! and picking the target of a correction or a move.

use super::*;

/// One date/time expression: its parts (with the date it took from the
/// expression before, if it had none) and the words `start..end` it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    pub(super) parts: Vec<Part>,
    start: usize,
    end: usize,
    /// It said a date itself (not inherited).
    own_date: bool,
    has_clock: bool,
    has_pod: bool,
    /// The last date part it said and the word after it.
    last_date: Option<(DatePart, usize)>,
}

/// Splits the parts into expressions. A new expression starts at a date
/// part when the current one already has a date (unless the two qualify
/// each other: "giovedì 15 aprile", "lunedì della settimana prossima"), at
/// a clock time when it already has one, at a part of day when it already
/// has one. Then an expression without a date takes the previous one's.
pub(super) fn group(found: &[Found], words: &[&str]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for f in found {
        let new = match groups.last() {
            None => true,
            Some(g) => match f.part {
                Part::Invalid => false,
                Part::Offset(_) | Part::Within(_) => g.own_date || g.has_clock,
                Part::Date(d) => match g.last_date {
                    Some((prev, end)) => !(qualifies(prev, d) && adjacent(words, end, f.start)),
                    None => g.own_date,
                },
                Part::Clock(_) | Part::ClockRange(..) | Part::ClockBound(..) => g.has_clock,
                Part::Pod(_) => g.has_pod,
            },
        };
        if new {
            groups.push(Group {
                parts: Vec::new(),
                start: f.start,
                end: f.end,
                own_date: false,
                has_clock: false,
                has_pod: false,
                last_date: None,
            });
        }
        let Some(g) = groups.last_mut() else { continue };
        g.parts.push(f.part);
        g.start = g.start.min(f.start);
        g.end = g.end.max(f.end);
        match f.part {
            Part::Date(d) => {
                g.own_date = true;
                g.last_date = Some((d, f.end));
            }
            Part::Offset(_) | Part::Within(_) => {
                g.own_date = true;
                g.has_clock = true;
            }
            Part::Clock(_) | Part::ClockRange(..) | Part::ClockBound(..) => g.has_clock = true,
            Part::Pod(_) => g.has_pod = true,
            Part::Invalid => {}
        }
    }
    // Inherit the date of the previous expression.
    let mut inherited: Vec<Part> = Vec::new();
    for g in &mut groups {
        if g.own_date {
            inherited = g.parts.iter().copied().filter(|p| matches!(p, Part::Date(_))).collect();
        } else if !inherited.is_empty() {
            g.parts.splice(0..0, inherited.iter().copied());
        }
    }
    groups
}

/// Two date parts that together say one date: a weekday with a day
/// ("giovedì 15 aprile") or with a week ("lunedì della settimana prossima").
pub(super) fn qualifies(a: DatePart, b: DatePart) -> bool {
    use DatePart::{Day, NextWeek, ThisWeek, Weekday as Wd};
    matches!((a, b), (Wd(..), Day(_) | NextWeek | ThisWeek) | (Day(_) | NextWeek | ThisWeek, Wd(..)))
}

/// The word at `next` follows the one ending at `end` directly or after
/// "di"/"del"/"della".
pub(super) fn adjacent(words: &[&str], end: usize, next: usize) -> bool {
    next == end || (next == end + 1 && matches!(word(words, end), "di" | "del" | "della" | "dell"))
}

/// Words that may stand between "non" and the expression it negates
/// ("non posso venire giovedì").
pub(super) const NEGATION_FILLERS: &[&str] = &[
    "posso",
    "possiamo",
    "riesco",
    "riusciamo",
    "va",
    "vanno",
    "bene",
    "mi",
    "ci",
    "piu",
    "venire",
    "vengo",
    "scusi",
    "scusa",
    "sono",
    "libero",
    "libera",
];

/// Words that keep "non" attached to the expression right after it ("non
/// il 15", "non di giovedì").
pub(super) const NEGATION_LINKS: &[&str] = &["il", "la", "lo", "l", "di", "per", "a", "e"];

/// Which expressions the sentence negates: "non" inside one ("domani non
/// alle 15"); "non" just before one, possibly after "posso"/"va bene"/…
/// ("non giovedì", "non posso giovedì"); "non …" or "no" right after one
/// when more words follow before the next ("giovedì non posso, venerdì",
/// "giovedì no, venerdì"); "no"/"non" after the last one.
pub(super) fn negations(groups: &[Group], words: &[&str]) -> Vec<bool> {
    let n = groups.len();
    let mut neg = vec![false; n];
    for (k, g) in groups.iter().enumerate() {
        if words.get(g.start..g.end).is_some_and(|ws| ws.contains(&"non")) {
            neg[k] = true;
        }
        let lo = if k == 0 { 0 } else { groups[k - 1].end.min(g.start) };
        let gap = words.get(lo..g.start).unwrap_or(&[]);
        if let Some(p) = gap.iter().rposition(|w| *w == "non") {
            let between = &gap[p + 1..];
            if between.iter().all(|w| NEGATION_LINKS.contains(w)) {
                neg[k] = true;
            } else if k > 0 && p == 0 {
                neg[k - 1] = true;
            } else if between.len() <= 3 && between.iter().all(|w| NEGATION_FILLERS.contains(w) || NEGATION_LINKS.contains(w)) {
                neg[k] = true;
            }
        }
        if k > 0 && gap.first() == Some(&"no") {
            neg[k - 1] = true;
        }
    }
    if let Some(last) = groups.last() {
        if matches!(word(words, last.end), "no" | "non") {
            neg[n - 1] = true;
        }
    }
    neg
}

/// Past participles and past-tense verbs that place the date after them in
/// the past ("è scaduta a febbraio", "l'ho fatto a gennaio").
fn is_past_cue(w: &str) -> bool {
    ["scadut", "fatt", "stat", "venut", "andat", "passat", "ritirat", "riparat", "cambiat", "sostituit", "comprat"]
        .iter()
        .any(|p| w.starts_with(p) && w.len() <= p.len() + 2)
        || matches!(w, "era" | "ero" | "eravamo" | "avevo" | "avevamo")
}

/// Which expression [`resolve`] returns when a sentence has several, if a
/// cue says so (see "Several expressions" in the module docs).
pub(super) fn pick_target(groups: &[Group], words: &[&str]) -> Option<usize> {
    let n = groups.len();
    if n < 2 {
        return None;
    }
    // Words between expression k-1 (or the start) and expression k.
    let gap = |k: usize| -> &[&str] {
        let lo = if k == 0 { 0 } else { groups[k - 1].end.min(groups[k].start) };
        words.get(lo..groups[k].start).unwrap_or(&[])
    };
    // The word introducing expression k: a preposition the matcher consumed
    // ("dal 20", "al 22"), else the word before it.
    let intro = |k: usize| -> &str {
        let first = word(words, groups[k].start);
        if matches!(first, "dal" | "al" | "del") {
            first
        } else {
            gap(k).last().copied().unwrap_or("")
        }
    };
    let from = |k: usize| matches!(intro(k), "da" | "dal" | "dalla" | "dallo" | "dall");
    let to = |k: usize| matches!(intro(k), "a" | "al" | "alla" | "allo" | "all" | "ad");
    let neg = negations(groups, words);
    let mut target = None;
    for k in 1..n {
        if neg[k] {
            continue;
        }
        let correction = neg[k - 1] || gap(k).iter().any(|w| matches!(*w, "anzi" | "cioe" | "piuttosto"));
        let moved = to(k) && (0..k).any(|j| groups[j].own_date || from(j));
        if correction || moved {
            target = Some(k);
        }
    }
    if target.is_none() && neg[n - 1] {
        target = (0..n).rev().find(|&k| !neg[k]);
    }
    if target.is_none() {
        // "la revisione è scaduta a febbraio, avete posto la settimana
        // prossima?": a date said of something past is not the one wanted.
        let past = |k: usize| gap(k).iter().any(|w| is_past_cue(w));
        if (0..n).any(past) {
            target = (0..n).rev().find(|&k| !past(k) && !neg[k]);
        }
    }
    if target.is_none() {
        // "devo spostare la visita di lunedì, posso venire mercoledì?": the
        // last date said after a verb of moving, not "di/del <date>".
        let verb = words.iter().position(|w| ["spost", "anticip", "posticip", "rimand", "cambi"].iter().any(|p| w.starts_with(p)))?;
        target = (1..n).rev().find(|&k| {
            groups[k].own_date
                && !neg[k]
                && groups[k].start > verb
                && !matches!(intro(k), "di" | "del" | "della" | "dell")
                && (0..k).any(|j| groups[j].own_date)
        });
    }
    target
}
