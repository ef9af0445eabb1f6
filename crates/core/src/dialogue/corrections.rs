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
        let norm = format!(" {} ", normalize(text));
        let tail = REPLACEMENTS.iter().filter_map(|m| norm.rfind(m).map(|i| i + m.len())).max().map(|i| &norm[i..]);
        let clauses: Vec<&str> = norm.split([',', ';']).flat_map(|c| c.split(" ma ")).collect();
        let rejected = clauses.iter().any(|c| REJECTIONS.iter().any(|r| c.contains(r)));
        if tail.is_none() && !rejected {
            return nlu.clone();
        }
        let base = tail.unwrap_or(&norm);
        let kept: Vec<&str> =
            base.split([',', ';']).flat_map(|c| c.split(" ma ")).filter(|c| !REJECTIONS.iter().any(|r| c.contains(r))).collect();
        let kept = kept.join(", ");
        let mut fixed = nlu.clone();
        let now = self.info.local(self.now);
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
