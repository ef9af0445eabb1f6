//! Services in a request: several at once ("tinta e piega", booked one
//! after the other), vague mentions the caller narrows down ("una visita":
//! which one?), services the business does not offer ("fate la laminazione
//! ciglia?"), and price or duration questions about one variant ("quanto
//! costa il taglio bambino").

use super::*;
use crate::booking::Service;
use crate::nlu::ServiceMention;

/// A vague mention waiting for the caller's choice.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Choice {
    /// The candidates, in catalogue order (at least one).
    pub(super) among: Vec<Id>,
    /// Where the chosen service goes in the package (0: first).
    pub(super) at: usize,
}

/// Words that never tell candidates apart.
const FILLER: &[&str] = &[
    "quello",
    "quella",
    "quelli",
    "quelle",
    "per",
    "con",
    "del",
    "della",
    "dei",
    "delle",
    "il",
    "la",
    "lo",
    "le",
    "gli",
    "un",
    "una",
    "uno",
    "da",
    "di",
    "al",
    "alla",
    "vorrei",
    "preferisco",
    "meglio",
    "grazie",
    "si",
    "no",
];

fn light(w: &str) -> String {
    let w = if w.len() > 4 && w.ends_with(['a', 'e', 'i', 'o', 'u']) { &w[..w.len() - 1] } else { w };
    w.trim_end_matches('i').to_string()
}

impl Dialogue {
    /// The services to book, in order.
    pub(super) fn package(&self) -> Vec<Id> {
        self.draft.service_id.into_iter().chain(self.draft.extra.iter().copied()).collect()
    }

    pub(super) fn set_package(&mut self, ids: Vec<Id>) {
        self.draft.service_id = ids.first().copied();
        self.draft.extra = ids.into_iter().skip(1).collect();
        self.draft.chosen = None;
        self.draft.chosen_rest.clear();
        self.draft.offered.clear();
        self.draft.offered_rest.clear();
    }

    /// The services (and a pending choice) the turn names, `None` when it
    /// names none.
    fn mentioned(&self, nlu: &NluResult) -> Option<(Vec<Id>, Option<Choice>)> {
        let mut ids: Vec<Id> = Vec::new();
        let mut choice = None;
        for m in &nlu.slots.services {
            match m {
                ServiceMention::Named { service } => {
                    if let Some(s) = self.info.service_named(service) {
                        if !ids.contains(&s.id) {
                            ids.push(s.id);
                        }
                    }
                }
                ServiceMention::Vague { among, .. } if choice.is_none() => {
                    let among: Vec<Id> = among.iter().filter_map(|n| self.info.service_named(n)).map(|s| s.id).collect();
                    if !among.is_empty() {
                        choice = Some(Choice { among, at: ids.len() });
                    }
                }
                ServiceMention::Vague { .. } => {}
            }
        }
        if ids.is_empty() && choice.is_none() {
            let s = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n))?;
            ids.push(s.id);
        }
        Some((ids, choice))
    }

    /// Whether the turn names services other than those in the draft.
    pub(super) fn services_change(&self, nlu: &NluResult) -> bool {
        match self.mentioned(nlu) {
            None => false,
            Some((ids, None)) => ids != self.package(),
            Some((ids, Some(c))) => {
                let pkg = self.package();
                !(ids.iter().all(|i| pkg.contains(i)) && pkg.iter().any(|i| c.among.contains(i)))
            }
        }
    }

    /// Takes the services the turn names into the draft (a package of
    /// several, or a choice still to make). Returns whether it named any.
    pub(super) fn merge_services(&mut self, nlu: &NluResult) -> bool {
        let Some((ids, choice)) = self.mentioned(nlu) else { return false };
        if self.services_change(nlu) {
            self.set_package(ids);
            self.draft.choice = choice;
        }
        true
    }

    /// Asks the caller to choose among the candidates of a vague mention.
    pub(super) fn ask_choice(&mut self, out: &mut Vec<Action>) {
        let Some(c) = &self.draft.choice else { return };
        let svcs: Vec<&Service> = c.among.iter().filter_map(|id| self.info.service(*id)).collect();
        self.expect = Expect::ChooseService;
        self.say(out, replies::choose_service(&svcs));
    }

    /// The caller's answer to [`Dialogue::ask_choice`]: a service named
    /// ("il decontratturante"), an ordinal ("il secondo"), a word telling
    /// the candidates apart ("quello da uomo"), or "sì" to a single one.
    pub(super) fn answer_choice(&mut self, norm: &str, nlu: &NluResult, intent: Intent, out: &mut Vec<Action>) {
        let Some(c) = self.draft.choice.clone() else {
            self.continue_flow(out);
            return;
        };
        let named: Vec<Id> = nlu
            .slots
            .services
            .iter()
            .filter_map(|m| m.named())
            .chain(nlu.slots.service.as_deref())
            .filter_map(|n| self.info.service_named(n))
            .map(|s| s.id)
            .collect();
        let by_ordinal = super::expect::pick_index(norm, c.among.len()).map(|i| c.among[i]);
        let pick = named
            .iter()
            .copied()
            .find(|id| c.among.contains(id))
            .or(by_ordinal)
            .or_else(|| self.choice_by_words(norm, &c.among))
            .or_else(|| (c.among.len() == 1 && intent == Intent::Confirm).then(|| c.among[0]));
        match pick {
            Some(id) => {
                let mut pkg = self.package();
                pkg.insert(c.at.min(pkg.len()), id);
                self.draft.choice = None;
                self.set_package(pkg);
                self.merge_operator(nlu);
                // "il primo" is the first candidate, not the first of the month.
                if by_ordinal != Some(id) {
                    self.merge_when(nlu);
                }
                self.continue_flow(out);
            }
            None if !named.is_empty() => {
                self.draft.choice = None;
                self.merge_booking_slots(nlu);
                self.continue_flow(out);
            }
            None if intent == Intent::Deny => {
                self.draft.choice = None;
                let pkg = self.package();
                self.set_package(pkg);
                self.continue_flow(out);
            }
            None => {
                let svcs: Vec<&Service> = c.among.iter().filter_map(|id| self.info.service(*id)).collect();
                self.say(out, format!("Mi scusi, non ho capito. {}", replies::choose_service(&svcs)));
            }
        }
    }

    /// The one candidate whose own words (name and synonyms, less what all
    /// candidates share) the caller used most.
    fn choice_by_words(&self, norm: &str, among: &[Id]) -> Option<Id> {
        let said: Vec<String> = words(norm).filter(|w| w.len() > 2 && !FILLER.contains(w)).map(light).collect();
        if said.is_empty() {
            return None;
        }
        let own: Vec<(Id, Vec<String>)> = among
            .iter()
            .filter_map(|id| self.info.service(*id))
            .map(|s| {
                let text = std::iter::once(&s.name).chain(&s.synonyms).map(|v| normalize(v)).collect::<Vec<_>>().join(" ");
                (s.id, words(&text).map(light).collect())
            })
            .collect();
        let shared = |w: &String| own.len() > 1 && own.iter().all(|(_, ws)| ws.contains(w));
        let scores: Vec<(Id, usize)> =
            own.iter().map(|(id, ws)| (*id, said.iter().filter(|w| ws.contains(*w) && !shared(*w)).count())).collect();
        let best = scores.iter().map(|s| s.1).max()?;
        let winners: Vec<Id> = scores.iter().filter(|s| s.1 == best).map(|s| s.0).collect();
        (best > 0 && winners.len() == 1).then(|| winners[0])
    }

    /// Answers a price or duration question about the services the turn
    /// names (all candidates of a vague mention: "quanto costa un taglio?").
    pub(super) fn answer_service_facts(&mut self, norm: &str, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        let price = crate::nlu::asks::asks_price(norm);
        let duration = crate::nlu::asks::asks_duration(norm);
        if !(price || duration)
            || matches!(nlu.intent, Intent::Cancel | Intent::Reschedule | Intent::Complaint | Intent::Human | Intent::Privacy)
        {
            return false;
        }
        let Some((mut ids, choice)) = self.mentioned(nlu) else { return false };
        if let Some(c) = choice {
            let more: Vec<Id> = c.among.iter().copied().filter(|id| !ids.contains(id)).collect();
            ids.extend(more);
        }
        let svcs: Vec<&Service> = ids.iter().filter_map(|id| self.info.service(*id)).collect();
        if svcs.is_empty() {
            return false;
        }
        self.say(out, replies::service_facts(&svcs, price, duration));
        // "Vorrei prenotare un taglio per sabato, quanto costa?": the price,
        // then the booking goes on (the pipeline keeps `Book` only for a
        // turn that books in so many words or names a day).
        if self.flow == Flow::Idle && nlu.intent == Intent::Book {
            return false;
        }
        self.repeat_question(out);
        true
    }

    /// After an FAQ answer about one service, to a caller who asked when
    /// ("mi si è accesa la spia del motore, quando potete darci
    /// un'occhiata?"): offers to book that service. Returns whether it did.
    pub(super) fn offer_asked_service(&mut self, norm: &str, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        if self.flow != Flow::Idle || !crate::nlu::asks::asks_when(norm) {
            return false;
        }
        let Some((ids, None)) = self.mentioned(nlu) else { return false };
        let [id] = ids.as_slice() else { return false };
        self.set_package(vec![*id]);
        self.expect = Expect::OfferBooking;
        self.say(out, format!("Vuole prenotare {}?", self.svc_the(*id)));
        true
    }

    /// "Fate la laminazione ciglia?", "vorrei una pizza" when no such
    /// service exists: what is offered, grouped.
    pub(super) fn answer_unknown_service(&mut self, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        if nlu.unknown_request.is_none()
            || !nlu.slots.services.is_empty()
            || nlu.slots.service.is_some()
            || nlu.foreign_vertical.is_some()
            || nlu.slots.datetime.is_some()
            || nlu.layer == Layer::L3
            || !matches!(nlu.intent, Intent::Faq | Intent::Other | Intent::Book | Intent::Availability | Intent::Price)
        {
            return false;
        }
        self.flow = Flow::Booking;
        self.expect = Expect::Service;
        self.say(out, replies::unknown_service(&self.info));
        true
    }

    /// Asks again what the conversation is waiting for, after answering a
    /// side question.
    pub(super) fn repeat_question(&mut self, out: &mut Vec<Action>) {
        match self.expect {
            Expect::Nothing if self.flow == Flow::Idle => self.say(out, replies::ANYTHING_ELSE),
            Expect::ChooseService => self.ask_choice(out),
            Expect::ChooseSlot => self.say(out, replies::CHOOSE_AGAIN),
            Expect::ConfirmBooking | Expect::ConfirmCancel | Expect::ConfirmReschedule | Expect::ConfirmRequest => {
                self.say(out, replies::CONFIRM_AGAIN)
            }
            Expect::When => self.say(out, replies::ASK_WHEN),
            Expect::Name => self.say(out, replies::ASK_NAME),
            Expect::Phone => self.say(out, replies::ASK_PHONE),
            Expect::Service => self.say(out, replies::ask_service(&self.info)),
            _ => {}
        }
    }
}
