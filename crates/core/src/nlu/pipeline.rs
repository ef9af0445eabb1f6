//! Runs the layers on one turn and records who decided and how long each
//! layer took.

use std::sync::OnceLock;
use std::time::Instant;

use regex::Regex;
use serde::Serialize;

use super::asks;
use super::l0_patterns::Patterns;
use super::l1_intent::{Classifier, Example, TrainingDataError};
use super::l2_slots::{self, Catalog};
use super::l3_faq::{FaqHit, FaqIndex, FaqIndexError, DEFAULT_THRESHOLD};
use super::{Intent, Layer, Slots, Topic};
use crate::booking::{Operator, Service, Vertical};
use crate::faq::Faq;
use crate::text::normalize;

/// How much lower the L3 threshold is when L1 classified the turn as an FAQ
/// question: the classifier already says it is a question about the
/// business, retrieval only has to say which one.
const FAQ_INTENT_RELIEF: f32 = 0.15;
/// L1 probability under which an FAQ match at the threshold may overrule
/// the classifier's intent (a business question the classifier took for a
/// price, a person or a booking request: "il preventivo si paga?",
/// "qualcuno parla inglese?", "per prenotare devo lasciare un acconto?").
const FAQ_OVERRULES_BELOW: f32 = 0.6;
/// How much higher the L3 threshold is when the turn asks for or about a
/// thing that neither the services nor any FAQ mention.
const UNKNOWN_OBJECT_MARGIN: f32 = 0.2;

/// Thresholds of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PipelineConfig {
    /// Minimum L3 score to answer from the FAQ a turn L1 did not classify as
    /// an FAQ question (default [`DEFAULT_THRESHOLD`]); for a turn L1 did
    /// classify as one, the minimum is 0.15 lower.
    pub faq_threshold: f32,
    /// Minimum L1 probability to trust the classifier's intent (default 0.4).
    pub intent_threshold: f32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig { faq_threshold: DEFAULT_THRESHOLD, intent_threshold: 0.4 }
    }
}

/// Time spent in each layer on one turn, in µs (0 when the layer did not run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LayerTimings {
    /// L0 patterns.
    pub l0_us: u64,
    /// L1 classifier.
    pub l1_us: u64,
    /// L2 slot filling.
    pub l2_us: u64,
    /// L3 FAQ retrieval.
    pub l3_us: u64,
}

impl LayerTimings {
    /// Sum of all layers, µs.
    pub fn total_us(&self) -> u64 {
        self.l0_us + self.l1_us + self.l2_us + self.l3_us
    }
}

/// What the pipeline understood of one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NluResult {
    /// The intent.
    pub intent: Intent,
    /// Confidence in `[0, 1]` (1 for L0 patterns, the L1 probability, or the L3 score).
    pub confidence: f32,
    /// The layer that decided.
    pub layer: Layer,
    /// A fact asked about (L0 questions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<Topic>,
    /// Slots found by L2.
    pub slots: Slots,
    /// The best FAQ, when L3 ran and found one (whatever its score).
    #[serde(skip)]
    pub faq: Option<FaqHit>,
    /// A request that belongs to another vertical ("tagliando" to a salon).
    #[serde(skip)]
    pub foreign_vertical: Option<Vertical>,
    /// The intent the caller explicitly negated ("non voglio cancellare").
    #[serde(skip)]
    pub negated: Option<Intent>,
    /// What the caller asks for or asks whether the business does, when
    /// neither the services nor the FAQs know it ("fate pizze da
    /// asporto?" → "pizze asporto"): the caller should hear what is
    /// offered, not a near-miss FAQ answer.
    #[serde(skip)]
    pub unknown_request: Option<String>,
    /// Whether the turn carries words of urgency (medical vertical: 118 advice).
    #[serde(skip)]
    pub urgent: bool,
    /// Per-layer timings.
    #[serde(skip)]
    pub timings: LayerTimings,
}

impl NluResult {
    /// Whether any layer understood the turn: an intent other than `Other`
    /// with enough confidence, an FAQ answer, or at least one slot.
    pub fn understood(&self) -> bool {
        self.intent != Intent::Other || !self.slots.is_empty()
    }
}

/// L0–L3 for one business, built once and shared by every session.
pub struct Pipeline {
    patterns: Patterns,
    classifier: Classifier,
    catalog: Catalog,
    faqs: FaqIndex,
    vertical: Vertical,
    config: PipelineConfig,
}

/// The pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The intent training file is malformed.
    #[error(transparent)]
    Training(#[from] TrainingDataError),
    /// The FAQ index failed.
    #[error(transparent)]
    Faq(#[from] FaqIndexError),
}

fn negation_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\bnon (?:lo |la |li |le |l |ci |mi )?(?:voglio |vorrei |devo |intendo |ho intenzione di |e necessario |serve |bisogna )?(?:piu )?(?:lo |la |li |le |l )?(cancell|disdi|annull|elimin|spost|cambi|rimand|anticip|prenot|fiss)\w*",
        )
        .expect("negation regex")
    })
}

fn urgency_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(urgente|urgenza|emergenza|dolore (forte |fortissimo |atroce |lancinante )?al petto|dolore (forte|fortissimo|atroce|lancinante)|forte dolore|dolore toracico|non respir\w*|respir\w* male|(fatica|difficolta) a respirare|manca il respiro|labbra viola|svenut\w*|sviene|perd\w* (molto )?sangue|sanguin\w*|emorragia|infarto|ictus|incidente|sto male|molto male|febbre alta|convulsion\w*|paralisi|non riesc\w* a muover\w*)\b",
        )
        .expect("urgency regex")
    })
}

/// Asking for the soonest time (normalised text): "la prima disponibile",
/// "il primo posto libero", "il prima possibile", "appena possibile", "al
/// più presto". A request on its own, and one that outweighs an FAQ.
const SOONEST: &str =
    r"prima disponibil\w*|primo (posto|buco) (libero|disponibile)|(il|quanto) prima possibile|appena possibile|al piu presto";

/// Words that ask for a service rather than about it.
fn request_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"\b(vorrei|volevo|vorremmo|mi serve|mi servirebbe|ci serve|avrei bisogno|ho bisogno|devo fare|dovrei fare|prenot\w*|fissa\w*|{SOONEST})\b"
        ))
        .expect("request regex")
    })
}

/// [`SOONEST`] alone.
fn soonest_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!(r"\b({SOONEST})\b")).expect("soonest regex"))
}

/// Words that ask for a booking in so many words ("prenotare", "fissare",
/// "un appuntamento", "avete posto"), whatever else the turn asks.
fn books_explicitly(normalized: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(prenot\w*|fissa\w*|fissi|appuntament\w*|dispon\w*|posto|liber[oia]|prima disponibil\w*)\b")
            .expect("booking words regex")
    })
    .is_match(normalized)
}

/// A question about the caller's own appointment: "a che ora ho la
/// pedicure?", "quando è il mio appuntamento?", "a che ora è il cambio olio
/// di venerdì?" — not about free times or opening hours.
fn asks_own_appointment(normalized: &str) -> bool {
    static OWN: OnceLock<Regex> = OnceLock::new();
    static NOT: OnceLock<Regex> = OnceLock::new();
    let own = OWN.get_or_init(|| {
        Regex::new(r"\b(a che ora|a che ore|che ora|quando|che giorno|per che ora|per quando) (ho|avevo|e|era|sarebbe) (il mio|la mia|l|il|la|lo)\b")
            .expect("own appointment regex")
    });
    let not = NOT.get_or_init(|| {
        Regex::new(r"\b(dispon\w*|liber\w*|posto|apert\w*|apre|aprite|chiud\w*|chiusura|prima|primo|prossima disponibilita)\b")
            .expect("not own appointment regex")
    });
    static AGENDA: OnceLock<Regex> = OnceLock::new();
    static REMIND: OnceLock<Regex> = OnceLock::new();
    let agenda = AGENDA.get_or_init(|| {
        Regex::new(r"\b((che|cosa|che cosa) ho in agenda|che appuntament\w* ho|quali appuntament\w* ho|quando ho (l|il|la|lo) )")
            .expect("agenda regex")
    });
    let remind = REMIND.get_or_init(|| {
        Regex::new(r"\b(mi|me lo|me la|ce lo) (ricorda|ricordi|ricordate|ridice|ridici|ripete|ripeti)\b.*\b(ora|orario|giorno|appuntament\w*)\b|\b(ora|orario|giorno|appuntament\w*)\b.*\b(me lo|me la) (ricorda|ricordi|ridice|ridici|ripete|ripeti|dice|dici)\b")
            .expect("remind regex")
    });
    (own.is_match(normalized) || agenda.is_match(normalized) || remind.is_match(normalized)) && !not.is_match(normalized)
}

/// A question about what happens if something happens ("se arrivo in
/// ritardo…", "e se non vengo?", "nel caso in cui…"): a question about the
/// business's rules, not a request.
fn asks_what_if(normalized: &str) -> bool {
    let t = normalized.trim_start();
    ["se ", "e se ", "ma se ", "nel caso ", "in caso "].iter().any(|p| t.starts_with(p)) && !t.starts_with("se possibile")
}

/// "Mi cancelli dall'archivio clienti", "togliete la mia email dai vostri
/// elenchi": erasing the caller's data, not an appointment (nor a place on
/// the waiting list).
fn asks_to_erase_data(normalized: &str) -> bool {
    static ERASE: OnceLock<Regex> = OnceLock::new();
    static DATA: OnceLock<Regex> = OnceLock::new();
    static NOT: OnceLock<Regex> = OnceLock::new();
    let erase =
        ERASE.get_or_init(|| Regex::new(r"\b(cancell\w*|elimin\w*|rimuov\w*|rimoss\w*|togl\w*|tolg\w*|lev\w*)\b").expect("erase regex"));
    let data = DATA.get_or_init(|| {
        Regex::new(r"\b(dati|archivi\w*|database|elenc\w*|rubric\w*|registr[oi]|schedari\w*|newsletter|mailing|email|mail|anagrafic\w*|contatti)\b")
            .expect("data regex")
    });
    let not = NOT
        .get_or_init(|| Regex::new(r"\b(appuntament\w*|prenotazion\w*|attesa|visita|seduta|trattamento|turno)\b").expect("not data regex"));
    erase.is_match(normalized) && data.is_match(normalized) && !not.is_match(normalized)
}

/// The turn without the greeting words it opens with.
fn without_greeting(normalized: &str) -> String {
    const GREETINGS: &[&str] = &[
        "ciao",
        "salve",
        "buongiorno",
        "buonasera",
        "buondi",
        "pronto",
        "buon",
        "buona",
        "giorno",
        "sera",
        "pomeriggio",
        "ehi",
        "senta",
        "allora",
    ];
    let ws: Vec<&str> = normalized.split_whitespace().collect();
    let skip = ws.iter().take_while(|w| GREETINGS.contains(w)).count();
    ws[skip..].join(" ")
}

/// Whether the words after a greeting only open the call: a few words with
/// no slot that the classifier does not read as a confident request ("sono
/// Anna", "chi parla", "è il parrucchiere", "ragazzi"). A question for a
/// person ("c'è la dottoressa?") or for a thing ("fate pizze?") is a
/// request.
fn only_opens_the_call(rest: &str, intent: Intent, confidence: f32, slots: &Slots) -> bool {
    const SURE: f32 = 0.7;
    rest.split_whitespace().count() <= 4
        && slots.datetime.is_none()
        && slots.service.is_none()
        && slots.services.is_empty()
        && slots.operator.is_none()
        && asks::requested_object(rest).is_none()
        && !names_another_kind_of_business(rest)
        && !matches!(intent, Intent::Human | Intent::Confirm | Intent::Deny | Intent::Goodbye)
        && (confidence < SURE || matches!(intent, Intent::Faq | Intent::Other))
}

/// "è la lavanderia?", "parlo con la pizzeria?": the caller asks for a kind
/// of business none of the verticals is (a wrong number), not a greeting.
fn names_another_kind_of_business(rest: &str) -> bool {
    const OURS: &[&str] = &[
        "parrucch",
        "salon",
        "barbier",
        "estetic",
        "benesser",
        "spa",
        "centro",
        "istitut",
        "studi",
        "ambulator",
        "poliambulator",
        "medic",
        "dottor",
        "clinic",
        "officin",
        "autofficin",
        "meccanic",
        "carrozz",
        "gommist",
        "elettrauto",
        "reception",
        "segreteri",
    ];
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(?:e|parlo con|sono da|chiamo) (?:il|la|l|lo|i|le|gli|dal|dalla|dallo) ([a-z]+)").expect("business kind regex")
    });
    re.captures(rest).and_then(|c| c.get(1)).is_some_and(|w| !OURS.iter().any(|o| w.as_str().starts_with(o)))
}

fn negated_intent(normalized: &str) -> Option<(Intent, std::ops::Range<usize>)> {
    let m = negation_regex().captures(normalized)?;
    let whole = m.get(0)?;
    let intent = match m.get(1)?.as_str() {
        "cancell" | "disdi" | "annull" | "elimin" => Intent::Cancel,
        "spost" | "cambi" | "rimand" | "anticip" => Intent::Reschedule,
        _ => Intent::Book,
    };
    Some((intent, whole.range()))
}

impl Pipeline {
    /// Builds the pipeline: compiles L0, trains L1 on the built-in file and
    /// the business's FAQ questions, indexes the FAQs for L3.
    ///
    /// # Errors
    /// A malformed training file or an FAQ index failure.
    pub fn new(
        vertical: Vertical,
        services: &[Service],
        operators: &[Operator],
        faqs: &[Faq],
        config: PipelineConfig,
    ) -> Result<Self, PipelineError> {
        Ok(Pipeline {
            patterns: Patterns::new(),
            classifier: Classifier::builtin_with(
                faqs.iter().flat_map(|f| &f.questions).map(|q| Example { intent: Intent::Faq, text: q.clone() }),
            )?,
            catalog: Catalog::new(services, operators),
            faqs: FaqIndex::build(faqs)?,
            vertical,
            config,
        })
    }

    /// The FAQ index (L3).
    pub fn faqs(&self) -> &FaqIndex {
        &self.faqs
    }

    /// The business's vocabulary.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The thresholds in force.
    pub fn config(&self) -> PipelineConfig {
        self.config
    }

    /// The minimum L3 score for an FAQ answer to this turn, or `None` when
    /// the FAQ is not consulted: turns L0 recognised, short answers and
    /// greetings, cancel and reschedule requests, a booking, availability or
    /// price request that names a date or a service, and any other intent L1
    /// is sure of.
    fn faq_threshold_for(&self, layer: Layer, intent: Intent, confidence: f32, slots: &Slots, rule_question: bool) -> Option<f32> {
        if layer == Layer::L0 || self.faqs.is_empty() {
            return None;
        }
        let base = self.config.faq_threshold;
        match intent {
            Intent::Faq if layer == Layer::L1 => Some(base - FAQ_INTENT_RELIEF),
            // "se arrivo con un quarto d'ora di ritardo perdo il turno?":
            // a question about what happens if, asked of the business's rules.
            _ if rule_question && slots.datetime.is_none() => Some(base - FAQ_INTENT_RELIEF),
            Intent::Faq | Intent::Other => Some(base),
            _ if confidence < self.config.intent_threshold => Some(base),
            Intent::Greeting | Intent::Confirm | Intent::Deny | Intent::Goodbye | Intent::Cancel | Intent::Reschedule => None,
            Intent::Book | Intent::Availability if slots.datetime.is_some() => None,
            // "quanto costa il taglio bambino?" is answered from the price
            // list, not by an FAQ about the same service.
            Intent::Book | Intent::Availability | Intent::Price if slots.service.is_some() => None,
            _ if confidence < FAQ_OVERRULES_BELOW => Some(base),
            _ => None,
        }
    }

    /// Understands one turn. `now` is the current local wall-clock time in
    /// the business's time zone, used to resolve relative dates.
    pub fn parse(&self, raw: &str, now: jiff::civil::DateTime) -> NluResult {
        let mut timings = LayerTimings::default();
        let t = Instant::now();
        // Recognised speech and typed text in one form (times, accents,
        // fillers) before any layer reads the turn.
        let tidy = super::transcript::tidy(raw);
        let raw = tidy.as_str();
        let normalized = normalize(raw);
        let l0 = self.patterns.matches(&normalized);
        timings.l0_us = t.elapsed().as_micros() as u64;

        let (mut intent, mut confidence, mut layer, topic) = match l0 {
            Some(m) => (m.intent, 1.0, Layer::L0, m.topic),
            None => {
                let t = Instant::now();
                let (i, p) = self.classifier.classify(&normalized);
                timings.l1_us = t.elapsed().as_micros() as u64;
                (i, p, Layer::L1, None)
            }
        };

        let t = Instant::now();
        let slots = l2_slots::extract(raw, &normalized, &self.catalog, now);
        let negated = negated_intent(&normalized);
        if let (Layer::L1, Some((neg, range))) = (layer, &negated) {
            if intent == *neg {
                // "non voglio cancellare, voglio spostarlo": classify what is
                // left; a bare negation is a "no".
                let mut rest = normalized.clone();
                rest.replace_range(range.clone(), " ");
                let (i, p) = self.classifier.classify(rest.trim());
                (intent, confidence) = if i != *neg && p >= self.config.intent_threshold && !rest.trim().is_empty() {
                    (i, p)
                } else {
                    (Intent::Deny, confidence)
                };
            }
        }
        // "buongiorno, vorrei una manicure…": the greeting opens the turn,
        // the request after it is what the caller wants.
        if layer == Layer::L1 && intent == Intent::Greeting {
            let rest = without_greeting(&normalized);
            if !rest.is_empty() && rest.len() < normalized.len() {
                let (i, p) = self.classifier.classify(&rest);
                // "ciao, sono Anna", "pronto, chi parla?", "buongiorno, è
                // il centro estetico?": what follows the greeting only
                // opens the call; a request after it is what the turn is for.
                if !only_opens_the_call(&rest, i, p, &slots) {
                    (intent, confidence) = (i, p);
                }
            }
            if intent == Intent::Greeting && slots.service.is_some() {
                intent = Intent::Book;
            }
        }
        if layer == Layer::L1 && matches!(intent, Intent::Cancel | Intent::Other | Intent::Faq) && asks_to_erase_data(&normalized) {
            intent = Intent::Privacy;
            confidence = confidence.max(self.config.intent_threshold);
        }
        // "a che ora ho la pedicure domani?" asks about the caller's own
        // appointment, whatever else the sentence says.
        let changes = matches!(intent, Intent::Reschedule | Intent::Cancel | Intent::Human | Intent::Complaint | Intent::Privacy);
        if layer == Layer::L1 && !changes && asks_own_appointment(&normalized) {
            intent = Intent::MyAppointments;
            confidence = confidence.max(self.config.intent_threshold);
        }
        let names_service = slots.service.is_some() || !slots.services.is_empty();
        // "vorrei avere un'idea della spesa per la frizione", "quanto ci
        // vuole per il tagliando?": a question about a service, not a
        // request for it, unless the turn also books (a day, "prenotare").
        let asks_about = names_service
            && slots.datetime.is_none()
            && !books_explicitly(&normalized)
            && (asks::asks_price(&normalized) || asks::asks_duration(&normalized));
        if layer == Layer::L1 && confidence < self.config.intent_threshold && !slots.is_empty() {
            layer = Layer::L2;
            // A telegraphic request ("permanente con Francesca martedì alle
            // dieci", "mi serve la ricarica del clima, la prima disponibile")
            // is a booking: a service plus when, with whom or a request word.
            let wanted = slots.datetime.is_some() || slots.operator.is_some() || request_regex().is_match(&normalized);
            if names_service && wanted && !asks_about && intent != Intent::Cancel {
                intent = Intent::Book;
            }
        }
        // "domenica mattina siete aperti? Vorrei fare una pulizia del viso":
        // L0 found the question anywhere in the turn, but the caller also
        // asks for a service; the booking is what the turn is for (the
        // topic is kept, so the hours are said too).
        if layer == Layer::L0
            && topic == Some(Topic::OpeningHours)
            && names_service
            && !asks_about
            && (request_regex().is_match(&normalized) || books_explicitly(&normalized) || slots.datetime.is_some())
        {
            intent = Intent::Book;
            layer = Layer::L2;
        }
        // A price question with no day and no booking words is a price
        // question, whether or not the service is one of ours ("che cifra
        // devo preparare per …").
        if layer == Layer::L1 && intent == Intent::Price && asks::asks_a_measure(&normalized) {
            intent = Intent::Other;
        }
        let price_question = slots.datetime.is_none() && !books_explicitly(&normalized) && asks::asks_price(&normalized);
        if price_question && matches!(intent, Intent::Book | Intent::Availability | Intent::Other) {
            intent = Intent::Price;
            confidence = confidence.max(self.config.intent_threshold);
        }
        timings.l2_us = t.elapsed().as_micros() as u64;

        let mut unknown_request = if names_service {
            None
        } else {
            asks::requested_object(&normalized)
                .filter(|o| o.split(' ').next().is_some_and(|head| !self.faqs.knows(head) && !self.catalog.knows(head)))
        };
        let mut faq = None;
        let rule_question = asks_what_if(&without_greeting(&normalized)) && !request_regex().is_match(&normalized);
        if let Some(threshold) = self.faq_threshold_for(layer, intent, confidence, &slots, rule_question) {
            let t = Instant::now();
            faq = self.faqs.search(raw);
            timings.l3_us = t.elapsed().as_micros() as u64;
            // A thing no FAQ and no service mentions ("vendete sigarette?"),
            // in a turn the classifier did not take for a business question,
            // is not what an FAQ sharing only the verb is about.
            let unknown = unknown_request.is_some() && intent != Intent::Faq;
            let threshold = if unknown { threshold + UNKNOWN_OBJECT_MARGIN } else { threshold };
            if let Some(hit) = faq.as_ref().filter(|h| h.score >= threshold) {
                intent = Intent::Faq;
                confidence = hit.score;
                layer = Layer::L3;
                // The rest of the turn matched an FAQ ("mi serve un foglio
                // per giustificare l'assenza dal lavoro").
                unknown_request = None;
            }
        }
        // "mi serve la ricarica dell'aria condizionata, la prima data
        // libera": the classifier guessed a question about the business, but
        // no FAQ answers it; a service with a request word is a booking.
        let foreign_vertical = if slots.service.is_none() && slots.services.is_empty() {
            l2_slots::foreign_vertical(&normalized, self.vertical)
        } else {
            None
        };
        // "il prima possibile una pulizia viso": asking for the soonest time
        // is a booking even when an FAQ shares words with the turn.
        let soonest = soonest_regex().is_match(&normalized);
        if intent == Intent::Faq
            && (layer == Layer::L1 || (layer == Layer::L3 && soonest && names_service))
            && (names_service || foreign_vertical.is_some())
            && !asks_about
            && !price_question
            && (slots.datetime.is_some() || request_regex().is_match(&normalized))
        {
            intent = Intent::Book;
            layer = Layer::L2;
        }
        NluResult {
            intent,
            confidence,
            layer,
            topic,
            urgent: urgency_regex().is_match(&normalized),
            negated: negated.map(|(i, _)| i),
            foreign_vertical,
            unknown_request,
            slots,
            faq,
            timings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    #[test]
    fn urgency_is_symptoms_not_the_word_blood() {
        for s in [
            "ho un dolore fortissimo al petto",
            "mio padre respira male",
            "mia madre è svenuta in bagno",
            "non respira bene",
            "perde molto sangue dal naso",
            "ho un forte dolore alla testa",
        ] {
            assert!(urgency_regex().is_match(&normalize(s)), "{s}");
        }
        for s in
            ["vorrei fare le analisi del sangue venerdì", "prelievo del sangue domani alle 8", "devo prenotare una visita cardiologica"]
        {
            assert!(!urgency_regex().is_match(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn own_appointment_questions() {
        for s in [
            "a che ora ho la pedicure domani?",
            "volevo solo sapere a che ora è il cambio olio di venerdì",
            "quando è il mio appuntamento?",
            "che cosa ho in agenda questa settimana?",
            "ho perso il foglietto, mi ricorda l'orario della visita?",
            "l'orario del cambio olio me lo ripete per favore?",
        ] {
            assert!(asks_own_appointment(&normalize(s)), "{s}");
        }
        for s in
            ["quando è la prima disponibilità?", "a che ora è l'apertura?", "quando avete posto per una piega?", "vorrei un taglio domani"]
        {
            assert!(!asks_own_appointment(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn erasing_data_is_not_cancelling_an_appointment() {
        for s in ["mi cancelli dall'archivio dei clienti", "togliete la mia email dai vostri elenchi", "eliminate i miei dati"] {
            assert!(asks_to_erase_data(&normalize(s)), "{s}");
        }
        for s in ["mi cancelli l'appuntamento, i miei dati li ha", "mi toglie dalla lista d'attesa", "cancelli pure"] {
            assert!(!asks_to_erase_data(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn as_soon_as_possible_is_a_request() {
        for s in [
            "il prima possibile una pulizia viso, grazie",
            "appena possibile un tagliando",
            "al più presto una visita",
            "quanto prima possibile",
        ] {
            assert!(request_regex().is_match(&normalize(s)), "{s}");
        }
        assert!(!request_regex().is_match(&normalize("prima di venire devo portare qualcosa?")));
    }

    #[test]
    fn greetings_are_taken_off_the_request() {
        assert_eq!(without_greeting("buongiorno sono elena vorrei una pressoterapia"), "sono elena vorrei una pressoterapia");
        assert_eq!(without_greeting("buon giorno"), "");
    }
}
