//! Corrections inside one turn: the latest value the caller wants wins and a
//! value the caller rejects never does. "no, facciamo alle 17, alle 16 non
//! riesco" keeps 17:00; "un taglio, anzi no, una piega" keeps the piega.
//! The turn is cut into clauses; clauses that reject ("non riesco", "non
//! posso", "non va bene") are dropped, and after "anzi" / "o meglio" only
//! the last part counts. Dates are re-resolved on what is left with the
//! same resolver the NLU uses.

use super::*;
use crate::nlu::ServiceMention;

/// Words that make a clause a rejection of what it names.
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
];

/// Markers after which the caller replaces what came before.
const REPLACEMENTS: &[&str] = &[" anzi ", " o meglio ", " cioe ", " pensandoci meglio ", " invece "];

impl Dialogue {
    /// The NLU result with date/time and service taken from what the caller
    /// still wants, when the turn corrects or rejects part of itself.
    pub(super) fn corrected(&self, text: &str, nlu: &NluResult) -> NluResult {
        let norm = format!(" {} ", clauses_of(text).iter().map(|c| normalize(c)).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(" , "));
        let tail = REPLACEMENTS.iter().filter_map(|m| norm.rfind(m).map(|i| i + m.len())).max().map(|i| &norm[i..]);
        let clauses: Vec<&str> = norm.split([',', ';']).flat_map(|c| c.split(" ma ")).collect();
        let rejected = clauses.iter().any(|c| REJECTIONS.iter().any(|r| c.contains(r)));
        if tail.is_none() && !rejected {
            return nlu.clone();
        }
        let base = tail.unwrap_or(&norm);
        let kept: Vec<&str> =
            base.split([',', ';']).flat_map(|c| c.split(" ma ")).filter(|c| !REJECTIONS.iter().any(|r| c.contains(r))).collect();
        let mut kept = kept.join(", ");
        let now = self.info.local(self.now);
        // "no facciamo alle 17 alle 16 non riesco" (one clause, spoken): only
        // the time named with the rejection goes.
        if rejected && nlu.slots.datetime.is_some() && crate::nlu::datetime::resolve(&kept, now).is_none() {
            kept = base
                .split([',', ';'])
                .flat_map(|c| c.split(" ma "))
                .map(|c| if REJECTIONS.iter().any(|r| c.contains(r)) { drop_rejected_times(c) } else { c.to_string() })
                .filter(|c| !c.trim().is_empty())
                .collect::<Vec<_>>()
                .join(", ");
        }
        let mut fixed = nlu.clone();
        if nlu.slots.datetime.is_some() {
            match crate::nlu::datetime::resolve(&kept, now) {
                Some(r) => {
                    fixed.slots.datetime = Some(r.slot);
                    fixed.slots.date_given = r.date_given;
                    fixed.slots.time_given = r.time_given;
                }
                None if rejected && tail.is_none() => {
                    fixed.slots.datetime = None;
                    fixed.slots.date_given = false;
                    fixed.slots.time_given = false;
                }
                None => {}
            }
        }
        if tail.is_some() {
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
    /// the longest mention wins.
    pub(super) fn service_in(&self, norm: &str) -> Option<String> {
        let padded = format!(" {} ", norm.trim());
        self.info
            .services
            .iter()
            .flat_map(|s| std::iter::once(&s.name).chain(s.synonyms.iter()).map(move |v| (s, normalize(v))))
            .filter(|(_, v)| !v.is_empty() && padded.contains(&format!(" {v} ")))
            .max_by_key(|(_, v)| v.len())
            .map(|(s, _)| s.name.clone())
    }
}

/// Words that open a time expression ("alle 16", "per le cinque").
const TIME_MARKERS: &[&str] = &[" alle ", " all ", " per le ", " verso le ", " dalle ", " a mezzogiorno"];

/// A clause without the time expression that carries the rejection: "no
/// facciamo alle 17 alle 16 non riesco" → "no facciamo alle 17".
fn drop_rejected_times(clause: &str) -> String {
    let padded = format!(" {} ", clause.trim());
    let mut cuts: Vec<usize> = TIME_MARKERS.iter().flat_map(|m| padded.match_indices(m).map(|(i, _)| i)).collect();
    cuts.push(0);
    cuts.push(padded.len());
    cuts.sort_unstable();
    cuts.dedup();
    let pieces: Vec<&str> = cuts.windows(2).map(|w| &padded[w[0]..w[1]]).collect();
    pieces.into_iter().filter(|p| !REJECTIONS.iter().any(|r| p.contains(r))).collect::<Vec<_>>().join("").trim().to_string()
}

/// The raw text cut at commas and semicolons, except a comma between digits
/// ("15,30").
fn clauses_of(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![String::new()];
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if (c == ';' || c == ',') && !between_digits {
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
    fn only_the_rejected_time_goes() {
        assert_eq!(drop_rejected_times("no facciamo alle diciassette alle sedici non riesco"), "no facciamo alle diciassette");
        assert_eq!(clauses_of("no, facciamo alle 17, alle 15,30 non riesco"), ["no", " facciamo alle 17", " alle 15,30 non riesco"]);
    }
}
