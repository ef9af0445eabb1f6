//! Corrections inside one turn: the latest value the caller wants wins and a
//! value the caller rejects never does. "no, facciamo alle 17, alle 16 non
//! riesco" keeps 17:00; "un taglio, anzi no, una piega" keeps the piega;
//! "no, alle nove porto i bambini a scuola, facciamo alle dieci e mezza"
//! keeps 10:30.
//!
//! The date resolver already picks the corrected expression of a sentence
//! ("non alle 15 ma alle 17", "giovedì, anzi venerdì"). On top of it the
//! turn is cut into segments — at punctuation when the text is written, and
//! before each date or time word ("alle", "venerdì", "domani"…) so that
//! unpunctuated speech is cut too — and:
//! - a segment that rejects ("alle 16 non riesco", "venerdì non posso")
//!   is dropped and the date/time is resolved on what is left, so a
//!   rejected value never wins; when nothing is left, the turn carries no
//!   date/time at all;
//! - a turn that opens with "no" (a correction of what was read back) or
//!   says "anzi" and names several expressions keeps the last one, with
//!   the date said before it ("sabato alle 11, anzi alle 12" → Saturday
//!   12:00);
//! - after "anzi" / "o meglio" only the last part names the service.

use super::*;
use crate::nlu::ServiceMention;

/// Words that make a segment a rejection of what it names.
const REJECTIONS: &[&str] = &[
    "non riesco",
    "non posso",
    "non va bene",
    "non mi va",
    "non mi e possibile",
    "non ce la faccio",
    "non mi torna",
    "impossibile",
    "non sono libero",
    "non sono libera",
    "non ci sono",
    "non ci sto",
];

/// Markers after which the caller replaces what came before.
const REPLACEMENTS: &[&str] = &[" anzi ", " o meglio ", " cioe ", " pensandoci meglio ", " invece "];

/// Words that open a date or time expression: a segment starts before each.
const STARTERS: &[&str] = &[
    "alle",
    "all",
    "alla",
    "verso",
    "lunedi",
    "martedi",
    "mercoledi",
    "giovedi",
    "venerdi",
    "sabato",
    "domenica",
    "oggi",
    "domani",
    "dopodomani",
    "stasera",
    "stamattina",
];

/// Words after which "alle" closes a range ("dalle 10 alle 12") rather
/// than opening a new expression.
const RANGE_OPENERS: &[&str] = &["dalle", "dall", "da", "tra", "fra"];

impl Dialogue {
    /// The NLU result with date/time and service taken from what the caller
    /// still wants, when the turn corrects or rejects part of itself.
    pub(super) fn corrected(&self, text: &str, nlu: &NluResult) -> NluResult {
        let mut fixed = nlu.clone();
        let norm = format!(" {} ", normalize(text));
        let tail = REPLACEMENTS.iter().filter_map(|m| norm.rfind(m).map(|i| i + m.len())).max().map(|i| &norm[i..]);
        if let Some(t) = tail {
            let kept = kept_text(&segments(t));
            if let Some(s) = self.service_in(&kept) {
                fixed.slots.service = Some(s);
            }
            // Only the services named after "anzi" still count.
            let padded = format!(" {} ", kept.trim());
            fixed.slots.services.retain(|m| match m {
                ServiceMention::Named { service } => {
                    self.service_in(&kept).as_deref() == Some(service.as_str()) || self.names_service(&padded, service)
                }
                ServiceMention::Vague { said, .. } => padded.contains(&format!(" {said} ")),
            });
        }
        if nlu.slots.datetime.is_none() {
            return fixed;
        }
        let now = self.info.local(self.now);
        let segs = segments(text);
        if segs.iter().any(|s| rejects(s)) {
            let kept = crate::nlu::datetime::resolve(&kept_text(&segs), now);
            fixed.slots.datetime = kept.map(|k| k.slot);
            fixed.slots.date_given = kept.is_some_and(|k| k.date_given);
            fixed.slots.time_given = kept.is_some_and(|k| k.time_given);
            return fixed;
        }
        if words(&norm).next() == Some("no") || tail.is_some() {
            let all = crate::nlu::datetime::resolve_all(text, now);
            if let (true, Some(last)) = (all.len() > 1, all.last()) {
                fixed.slots.datetime = Some(last.slot);
                fixed.slots.date_given = all.iter().any(|r| r.date_given);
                fixed.slots.time_given = last.time_given;
            }
        }
        fixed
    }

    /// Whether the padded normalised text names the service (name or synonym).
    fn names_service(&self, padded: &str, service: &str) -> bool {
        self.info.service_named(service).is_some_and(|s| {
            std::iter::once(&s.name)
                .chain(s.synonyms.iter())
                .map(|v| normalize(v))
                .any(|v| !v.is_empty() && padded.contains(&format!(" {v} ")))
        })
    }

    /// The service whose name or synonym appears in the (normalised) text;
    /// the longest mention wins. Failing that, the service named by a word
    /// that belongs to its names alone ("quella alla tiroide" → ecografia
    /// tiroidea).
    pub(super) fn service_in(&self, norm: &str) -> Option<String> {
        let padded = format!(" {} ", norm.trim());
        let named = self
            .info
            .services
            .iter()
            .flat_map(|s| std::iter::once(&s.name).chain(s.synonyms.iter()).map(move |v| (s, normalize(v))))
            .filter(|(_, v)| !v.is_empty() && padded.contains(&format!(" {v} ")))
            .max_by_key(|(_, v)| v.len())
            .map(|(s, _)| s.name.clone());
        named.or_else(|| {
            let owners = |w: &str| -> Vec<&str> {
                self.info
                    .services
                    .iter()
                    .filter(|s| std::iter::once(&s.name).chain(s.synonyms.iter()).any(|v| words(&normalize(v)).any(|x| x == w)))
                    .map(|s| s.name.as_str())
                    .collect()
            };
            words(norm).filter(|w| w.len() >= 5).find_map(|w| match owners(w).as_slice() {
                [one] => Some(one.to_string()),
                _ => None,
            })
        })
    }

    /// When a time is expected, "quella delle dieci" or "le dieci" is a time
    /// ("alle dieci") even without the usual cue.
    pub(super) fn bare_hour(&self, text: &str, nlu: &mut NluResult) {
        if nlu.slots.datetime.is_some() {
            return;
        }
        let norm = normalize(text);
        let cued: Vec<&str> = words(&norm).map(|w| if w == "delle" || w == "le" { "alle" } else { w }).collect();
        if cued.iter().all(|w| *w != "alle") {
            return;
        }
        if let Some(r) = crate::nlu::datetime::resolve(&cued.join(" "), self.info.local(self.now)) {
            nlu.slots.datetime = Some(r.slot);
            nlu.slots.date_given = r.date_given;
            nlu.slots.time_given = r.time_given;
        }
    }
}

/// The turn cut into normalised segments: at punctuation, and before each
/// word that opens a date or time expression.
pub(super) fn segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in clauses_of(text) {
        let norm = normalize(&piece);
        let mut current: Vec<&str> = Vec::new();
        for w in words(&norm) {
            let in_range = w == "alle" && current.iter().any(|c| RANGE_OPENERS.contains(c));
            if STARTERS.contains(&w) && !in_range && !current.is_empty() && !current.iter().all(|c| STARTERS.contains(c)) {
                out.push(current.join(" "));
                current.clear();
            }
            current.push(w);
        }
        if !current.is_empty() {
            out.push(current.join(" "));
        }
    }
    out
}

fn rejects(segment: &str) -> bool {
    let padded = format!(" {segment} ");
    REJECTIONS.iter().any(|r| padded.contains(&format!(" {r} ")))
}

/// The segments the caller does not reject, joined. A rejection with no
/// date or time of its own ("non riesco alle 16") rejects the segment
/// after it.
pub(super) fn kept_text(segs: &[String]) -> String {
    let mut kept = Vec::new();
    let mut skip_next = false;
    for s in segs {
        let opens_expression = words(s).next().is_some_and(|w| STARTERS.contains(&w));
        if std::mem::take(&mut skip_next) && opens_expression {
            continue;
        }
        if rejects(s) {
            skip_next = !opens_expression;
            continue;
        }
        kept.push(s.as_str());
    }
    kept.join(" ")
}

/// The raw text cut at commas, semicolons, "!", "?" and ". ", except a comma
/// or full stop between digits ("15,30", "15.30").
fn clauses_of(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![String::new()];
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let full_stop = c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if (matches!(c, ';' | ',' | '!' | '?') || full_stop) && !between_digits {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_keep_decimal_times() {
        assert_eq!(clauses_of("no, facciamo alle 17, alle 15,30 non riesco"), ["no", " facciamo alle 17", " alle 15,30 non riesco"]);
        assert_eq!(clauses_of("Alle 9. Anzi alle 10"), ["Alle 9", " Anzi alle 10"]);
    }
}
