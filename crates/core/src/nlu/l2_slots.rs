//! L2: slot filling. Finds in one turn the service (fuzzy match against the
//! business's services and synonyms), the operator's name, the caller's name,
//! an Italian phone number (normalised to E.164), an email address, and the
//! date/time (delegated to [`super::datetime`]).

use std::sync::OnceLock;

use regex::Regex;
use std::collections::HashSet;

use strsim::normalized_damerau_levenshtein as similarity;
use tantivy::tokenizer::TextAnalyzer;

pub use super::l2_names::find_name;
pub use super::phone::{find_phone, normalize_phone};
use super::{analyzer, datetime, phone, Slots};
use crate::booking::{Operator, Service, Vertical};
use crate::text::{fold, normalize, words};

/// The business's vocabulary, analysed once.
#[derive(Clone)]
pub struct Catalog {
    pub(super) services: Vec<ServiceTerms>,
    operators: Vec<(String, String)>,
    pub(super) analyzer: TextAnalyzer,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("services", &self.services.len()).field("operators", &self.operators.len()).finish()
    }
}

#[derive(Debug, Clone)]
pub(super) struct ServiceTerms {
    pub(super) name: String,
    /// Stems of the name alone.
    pub(super) name_stems: Vec<String>,
    /// Stems of each variant (name and synonyms), in order.
    pub(super) variants: Vec<Vec<String>>,
    /// Every stem of every variant, to break ties between services.
    pub(super) bag: HashSet<String>,
}

/// Minimum normalised Damerau-Levenshtein similarity for a stem to match a
/// catalogue stem it is not equal to (typos, STT slips: "massagio" ~
/// "massaggio", but not "tagliando" ~ "taglio").
pub(super) const FUZZY: f64 = 0.8;
/// Catalogue stems shorter than this only match exactly ("press", from
/// "presso", must not match "prest" from "presto"; "assett", from
/// "assetto", must not match "aspett" from "aspetti").
const FUZZY_MIN_LEN: usize = 7;

impl Catalog {
    /// Builds the catalogue from the business's services and operators.
    pub fn new(services: &[Service], operators: &[Operator]) -> Self {
        let mut analyzer = analyzer::italian_words();
        let services = services
            .iter()
            .map(|s| {
                let variants: Vec<Vec<String>> = std::iter::once(&s.name)
                    .chain(s.synonyms.iter())
                    .map(|v| light_stems(&mut analyzer, v))
                    .filter(|v| !v.is_empty())
                    .collect();
                let bag = variants.iter().flatten().cloned().collect();
                let name_stems = light_stems(&mut analyzer, &s.name);
                ServiceTerms { name: s.name.clone(), name_stems, variants, bag }
            })
            .collect();
        let operators = operators.iter().map(|o| (normalize(&o.name), o.name.clone())).collect();
        Catalog { services, operators, analyzer }
    }

    /// Whether every stem of `word` is a word of some service's name or
    /// synonyms ("ricci" in "permanente ricci").
    pub fn knows(&self, word: &str) -> bool {
        let stems = light_stems(&mut self.analyzer.clone(), word);
        !stems.is_empty() && stems.iter().all(|w| self.services.iter().any(|s| s.bag.contains(w)))
    }

    /// Service names, in catalogue order.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.name.as_str())
    }

    /// The service mentioned in a turn: the variant matching the most
    /// consecutive stems wins (articles and prepositions are stop words, so
    /// "ricarica del clima" matches "ricarica clima"); ties go to the service
    /// sharing more stems with the turn ("piega con la piastra" → "Piega con
    /// ferro"), then to exact over fuzzy matches. `None` when nothing matches.
    pub fn find_service(&self, text: &str) -> Option<&str> {
        let turn = light_stems(&mut self.analyzer.clone(), text);
        if turn.is_empty() {
            return None;
        }
        let mut best: Option<((usize, usize, u32), &str)> = None;
        for s in &self.services {
            let matched = s
                .variants
                .iter()
                .filter_map(|v| match_phrase(&turn, v).map(|sim| (v.len(), sim)))
                .max_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            let Some((len, sim)) = matched else { continue };
            let overlap = turn.iter().filter(|t| s.bag.contains(*t)).collect::<HashSet<_>>().len();
            let key = (len, overlap, (sim * 1000.0) as u32);
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, &s.name));
            }
        }
        best.map(|(_, name)| name)
    }

    /// The operator named in the normalised words (exact, accent-insensitive
    /// match), unless the name is the caller's own ("sono Giulia").
    pub fn find_operator(&self, ws: &[&str]) -> Option<&str> {
        self.find_operator_for(ws, None)
    }

    /// Like [`Catalog::find_operator`], knowing the caller's own name as
    /// found in the turn: a word of it is an operator only when asked for
    /// as one ("con Luca"), so "mi chiamo De Luca Maria" names no operator.
    /// A name asked for ("con Francesca", "mi fa Marco?", "dalla dottoressa
    /// Paola") wins over one merely mentioned.
    pub fn find_operator_for(&self, ws: &[&str], own_name: Option<&str>) -> Option<&str> {
        let own: Vec<String> = own_name.map(|n| words(&normalize(n)).map(str::to_string).collect()).unwrap_or_default();
        let mut mentioned = None;
        for (i, w) in ws.iter().enumerate() {
            let introduced = i > 0 && matches!(ws[i - 1], "sono" | "chiamo" | "chiama");
            // Exact only: first names are short and close to each other
            // ("Mario" ~ "Marco"), so fuzzy matching would misfire.
            let Some((_, name)) = self.operators.iter().find(|(norm, _)| w == norm) else { continue };
            let asked = i > 0 && is_operator_marker(ws[i - 1]);
            if asked {
                return Some(name);
            }
            if introduced || own.iter().any(|o| o == w) {
                continue;
            }
            mentioned = mentioned.or(Some(name.as_str()));
        }
        mentioned
    }
}

/// Words right before a name that ask for that person as operator: "con
/// Marco", "da Giulia", "mi fa Marco?", "la dottoressa Paola".
fn is_operator_marker(w: &str) -> bool {
    matches!(
        w,
        "con"
            | "da"
            | "dal"
            | "dalla"
            | "fa"
            | "faccia"
            | "fare"
            | "dottor"
            | "dottore"
            | "dottoressa"
            | "dott"
            | "dr"
            | "dssa"
            | "preferibilmente"
    )
}

/// Whether the normalised turn asks for `operator` as the operator ("con
/// Luca", "dal dottor Andrea"), not merely mentions the name.
pub fn operator_asked(normalized: &str, operator: &str) -> bool {
    let op = normalize(operator);
    let ws: Vec<&str> = words(normalized).collect();
    ws.windows(2).any(|p| p[1] == op && is_operator_marker(p[0]))
}

/// Stop-word-free, lightly stemmed words of a text.
fn light_stems(a: &mut TextAnalyzer, text: &str) -> Vec<String> {
    analyzer::stems(a, text).iter().map(|w| analyzer::light_stem(w).to_string()).collect()
}

/// Similarity of a turn stem to a catalogue stem, 0 when it cannot reach
/// [`FUZZY`]: the catalogue stem must be long enough, the first letter must
/// agree and the lengths may differ by at most 2 (this also keeps the
/// edit-distance work off the hot path for almost every pair).
pub(super) fn fuzzy_similarity(w: &str, t: &str) -> f64 {
    if t.len() < FUZZY_MIN_LEN || w.len().abs_diff(t.len()) > 2 || w.as_bytes().first() != t.as_bytes().first() {
        return 0.0;
    }
    similarity(w, t)
}

/// Finds the phrase `v` as consecutive items of `ws`; returns the mean
/// similarity (1.0 for exact).
fn match_phrase<S: AsRef<str>>(ws: &[S], v: &[String]) -> Option<f64> {
    if v.is_empty() || ws.len() < v.len() {
        return None;
    }
    let mut best: Option<f64> = None;
    for start in 0..=ws.len() - v.len() {
        let mut total = 0.0;
        let mut ok = true;
        for (w, t) in ws[start..start + v.len()].iter().zip(v) {
            let w = w.as_ref();
            let sim = if w == t { 1.0 } else { fuzzy_similarity(w, t) };
            if sim < FUZZY {
                ok = false;
                break;
            }
            total += sim;
        }
        if ok {
            let score = total / v.len() as f64;
            best = Some(best.map_or(score, |b: f64| b.max(score)));
        }
    }
    best
}

/// Words that show a service belongs to another vertical than the business's
/// ("vorrei fare il tagliando" to a hair salon).
const VERTICAL_WORDS: [(Vertical, &[&str]); 4] = [
    (
        Vertical::Salone,
        &["taglio", "piega", "tinta", "colore", "meches", "balayage", "shampoo", "barba", "permanente", "capelli", "parrucchiere"],
    ),
    (
        Vertical::Wellness,
        &["massaggio", "massaggi", "sauna", "spa", "manicure", "pedicure", "ceretta", "epilazione", "trattamento viso", "idromassaggio"],
    ),
    (
        Vertical::Medical,
        &[
            "visita",
            "ecografia",
            "analisi",
            "prelievo",
            "dentista",
            "denti",
            "otturazione",
            "elettrocardiogramma",
            "ecg",
            "medico",
            "dottore",
            "ricetta",
        ],
    ),
    (
        Vertical::Auto,
        &[
            "tagliando",
            "gomme",
            "pneumatici",
            "revisione",
            "freni",
            "carrozzeria",
            "olio motore",
            "cambio olio",
            "meccanico",
            "frizione",
            "batteria",
            "marmitta",
        ],
    ),
];

/// The other vertical a request clearly belongs to, if any: a word of another
/// vertical's vocabulary and none of the business's own services matched.
pub fn foreign_vertical(normalized: &str, own: Vertical) -> Option<Vertical> {
    let ws: Vec<&str> = words(normalized).collect();
    VERTICAL_WORDS.iter().filter(|(v, _)| *v != own).find_map(|(v, terms)| {
        terms
            .iter()
            .any(|t| {
                let tw: Vec<String> = t.split(' ').map(str::to_string).collect();
                match_phrase(&ws, &tw).is_some_and(|s| s >= 1.0)
            })
            .then_some(*v)
    })
}

fn email_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b").expect("email regex"))
}

/// Finds an email address (also spoken: "mario punto rossi chiocciola gmail
/// punto com"), lowercased.
pub fn find_email(raw: &str) -> Option<String> {
    if let Some(m) = email_regex().find(raw) {
        return Some(m.as_str().to_lowercase());
    }
    let lower = fold(raw);
    if !lower.contains("chiocciola") {
        return None;
    }
    let spoken = lower.replace(" chiocciola ", "@").replace(" punto ", ".").replace(" trattino ", "-").replace(" underscore ", "_");
    email_regex().find(&spoken).map(|m| m.as_str().to_lowercase())
}

/// Runs every L2 extractor on one turn. `now` is the local wall-clock time in
/// the business's time zone.
pub fn extract(raw: &str, normalized: &str, catalog: &Catalog, now: jiff::civil::DateTime) -> Slots {
    let ws: Vec<&str> = words(normalized).collect();
    let email = find_email(raw);
    let phone = find_phone(raw, normalized);
    let resolved = if phone.is_some() {
        // Digits of a phone number are not a date: resolve on the text
        // without them.
        datetime::resolve(&phone::mask_numbers(&normalize(&phone::mask_digits(raw))), now)
    } else {
        datetime::resolve(raw, now)
    };
    let name = find_name(raw);
    Slots {
        datetime: resolved.map(|r| r.slot),
        date_given: resolved.is_some_and(|r| r.date_given),
        time_given: resolved.is_some_and(|r| r.time_given),
        service: catalog.find_service(normalized).map(str::to_string),
        services: catalog.find_services(raw),
        operator: catalog.find_operator_for(&ws, name.as_deref()).map(str::to_string),
        name,
        phone,
        email,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let svc = |id, name: &str, syn: &[&str]| Service {
            id,
            name: name.into(),
            synonyms: syn.iter().map(|s| s.to_string()).collect(),
            duration_min: 30,
            price_cents: 2000,
            gender: None,
            category: None,
        };
        let op = |id, name: &str| Operator { id, name: name.into(), service_ids: vec![1, 2], hours: vec![], absences: vec![] };
        Catalog::new(
            &[
                svc(1, "Taglio donna", &["taglio", "taglio capelli"]),
                svc(2, "Piega", &["messa in piega"]),
                svc(3, "Colore", &["tinta", "colorazione"]),
                svc(4, "Piega con ferro", &["piastra"]),
                svc(5, "Pressoterapia", &["presso"]),
            ],
            &[op(1, "Giulia"), op(2, "Marco")],
        )
    }

    #[test]
    fn services_exact_synonym_and_fuzzy() {
        let c = catalog();
        let find = |s: &str| c.find_service(&normalize(s)).map(str::to_string);
        assert_eq!(find("vorrei un taglio domani").as_deref(), Some("Taglio donna"));
        assert_eq!(find("una messa in piega").as_deref(), Some("Piega"));
        assert_eq!(find("vorrei fare la tinta").as_deref(), Some("Colore"));
        assert_eq!(find("vorrei il tagliando"), None);
        assert_eq!(find("una piega con la piastra").as_deref(), Some("Piega con ferro"));
        assert_eq!(find("vorrei fare una colorazzione").as_deref(), Some("Colore"));
        assert_eq!(find("ci vediamo presto"), None);
    }

    #[test]
    fn operators_and_names() {
        let c = catalog();
        let ws = |s: &str| normalize(s);
        assert_eq!(c.find_operator(&words(&ws("con Giulia se possibile")).collect::<Vec<_>>()), Some("Giulia"));
        assert_eq!(c.find_operator(&words(&ws("sono Giulia")).collect::<Vec<_>>()), None);
        assert_eq!(find_name("mi chiamo Mario Rossi e vorrei un taglio").as_deref(), Some("Mario Rossi"));
        assert_eq!(find_name("buongiorno sono giulia bianchi").as_deref(), Some("Giulia Bianchi"));
        assert_eq!(find_name("sono disponibile domani").as_deref(), None);
        assert_eq!(find_name("il mio nome è Luca").as_deref(), Some("Luca"));
        assert_eq!(find_name("a nome di Anna Verdi").as_deref(), Some("Anna Verdi"));
        assert_eq!(find_name("domani alle 15, sono Mario Rossi").as_deref(), Some("Mario Rossi"));
        assert_eq!(find_name("sono la signora Bianchi").as_deref(), Some("Bianchi"));
        assert_eq!(find_name("si chiama Franco Marino").as_deref(), Some("Franco Marino"));
        assert_eq!(find_name("Vorrei una visita giovedì. Cordiali saluti, Anna Verdi").as_deref(), Some("Anna Verdi"));
        assert_eq!(find_name("Buongiorno, una piega per sabato. Grazie, Luigi Colombo").as_deref(), Some("Luigi Colombo"));
        assert_eq!(find_name("Grazie, Buona Giornata"), None);
        for not_a_name in [
            "ci sono posti liberi domani?",
            "quando sono pronti i referti",
            "i ricambi sono originali?",
            "sono stanca",
            "se sono incinta posso venire?",
        ] {
            assert_eq!(find_name(not_a_name), None, "{not_a_name}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(find_email("scrivete a Mario.Rossi@Example.it grazie").as_deref(), Some("mario.rossi@example.it"));
        assert_eq!(find_email("mario punto rossi chiocciola gmail punto com").as_deref(), Some("mario.rossi@gmail.com"));
        assert_eq!(find_email("nessuna mail"), None);
    }

    #[test]
    fn foreign_vertical_requests() {
        assert_eq!(foreign_vertical(&normalize("vorrei fare il tagliando"), Vertical::Salone), Some(Vertical::Auto));
        assert_eq!(foreign_vertical(&normalize("vorrei un taglio"), Vertical::Salone), None);
    }
}
