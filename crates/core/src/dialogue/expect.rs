//! Answers to the question just asked (a time, a choice among offered
//! slots, a name, a phone number, a yes/no) are served before anything else.

use super::*;

impl Dialogue {
    /// Whether the turn carries what the last question asked for.
    pub(super) fn answers_expectation(&self, norm: &str, nlu: &NluResult) -> bool {
        match self.expect {
            Expect::Nothing => false,
            Expect::Name | Expect::Reason | Expect::ChooseService => true,
            Expect::Service => nlu.slots.service.is_some() || !nlu.slots.services.is_empty(),
            Expect::When => nlu.slots.datetime.is_some() || self.pending_text_says_earliest(),
            Expect::Phone => nlu.slots.phone.is_some(),
            Expect::ChooseSlot | Expect::ChooseAppointment => {
                nlu.slots.datetime.is_some() || pick_index(norm, self.draft.offered.len().max(self.upcoming.len())).is_some()
            }
            Expect::ConfirmBooking
            | Expect::ConfirmCancel
            | Expect::ConfirmReschedule
            | Expect::ConfirmRequest
            | Expect::GuidedBook
            | Expect::OfferBooking
            | Expect::OfferWaitlist => leading_yes_no(norm).is_some() || nlu.slots.datetime.is_some(),
        }
    }

    pub(super) fn answer_expected(&mut self, norm: &str, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        let intent = nlu.intent;
        // A new, clearly different request always wins over the expectation.
        // Inside a booking, "no, venerdì non posso, facciamo sabato" changes
        // the booking being made, not an appointment already taken.
        let correcting = intent == Intent::Reschedule && matches!(self.flow, Flow::Booking | Flow::Availability);
        let switching =
            matches!(intent, Intent::Cancel | Intent::Reschedule | Intent::Human | Intent::Goodbye | Intent::Complaint | Intent::Privacy)
                && !correcting
                && nlu.confidence >= 0.6
                && !matches!(self.expect, Expect::ConfirmCancel | Expect::ConfirmReschedule)
                && nlu.negated.is_none();
        // An FAQ match wins only when the turn does not answer the question.
        if switching || (intent == Intent::Faq && nlu.layer == Layer::L3 && !self.answers_expectation(norm, nlu)) {
            return false;
        }
        // "sì, grazie" understood as an FAQ is still a yes.
        let yes_no = leading_yes_no(norm);
        let intent = match (intent, yes_no) {
            (Intent::Faq | Intent::Other, Some(v)) => v,
            _ => intent,
        };
        match self.expect {
            Expect::Nothing => false,
            Expect::ChooseService => {
                self.answer_choice(norm, nlu, intent, out);
                true
            }
            Expect::Service => {
                self.merge_booking_slots(nlu);
                if self.draft.service_id.is_some() || self.draft.choice.is_some() {
                    self.continue_flow(out);
                } else if self.redirect_foreign(nlu, out) {
                } else if intent == Intent::Deny {
                    self.reset_flow();
                    self.say(out, replies::HOW_CAN_I_HELP);
                } else {
                    self.say(out, replies::unknown_service(&self.info));
                }
                true
            }
            Expect::When => {
                self.merge_booking_slots(nlu);
                if self.has_when() {
                    self.continue_flow(out);
                } else if intent == Intent::Deny {
                    self.reset_flow();
                    self.say(out, replies::HOW_CAN_I_HELP);
                } else {
                    self.say(out, replies::ASK_WHEN_AGAIN);
                }
                true
            }
            Expect::Name => {
                let short_turn = nlu.layer == Layer::L0;
                // "no, il giorno dopo" while the name is asked is a change, not a name.
                let change = nlu.slots.datetime.is_some() || !nlu.slots.services.is_empty() || leading_yes_no(norm).is_some();
                let name = nlu.slots.name.clone().or_else(|| if short_turn || change { None } else { bare_name(norm) });
                if let Some(c) = self.candidate.take() {
                    self.check_name_on_booking(c, name, out);
                    return true;
                }
                match name {
                    Some(n) => {
                        self.client.name = Some(n);
                        self.merge_booking_slots(nlu);
                        self.continue_flow(out);
                    }
                    None if change && self.flow != Flow::Request && !short_turn => {
                        self.merge_booking_slots(nlu);
                        self.continue_flow(out);
                    }
                    None => self.say(out, replies::ASK_NAME_AGAIN),
                }
                true
            }
            Expect::Phone => {
                match &nlu.slots.phone {
                    Some(_) => {
                        self.phone_failures = 0;
                        if matches!(self.flow, Flow::Reschedule | Flow::Cancel | Flow::MyAppointments) {
                            self.known = None;
                            self.client.id = None;
                        }
                        self.continue_flow(out);
                    }
                    None => self.phone_not_understood(out),
                }
                true
            }
            Expect::Reason | Expect::ConfirmRequest => self.answer_request(norm, nlu, out),
            Expect::ChooseSlot => {
                if let Some(i) = self.pick_offered(norm, nlu) {
                    self.choose_offered(i);
                    self.continue_flow(out);
                } else if intent == Intent::Deny && nlu.slots.datetime.is_none() {
                    self.draft.offered.clear();
                    self.draft.date = None;
                    self.draft.time = None;
                    self.draft.range = None;
                    self.draft.earliest = false;
                    self.expect = Expect::When;
                    self.say(out, replies::ASK_OTHER_WHEN);
                } else if !nlu.slots.is_empty() {
                    self.merge_booking_slots(nlu);
                    self.draft.chosen = None;
                    self.continue_flow(out);
                } else {
                    self.say(out, replies::CHOOSE_AGAIN);
                }
                true
            }
            Expect::ChooseAppointment => {
                let pick = pick_index(norm, self.upcoming.len())
                    .or_else(|| self.match_appointment(nlu))
                    .and_then(|i| self.upcoming.get(i).cloned());
                match pick {
                    Some(a) => {
                        self.target = Some(a);
                        self.draft = Draft::default();
                        self.continue_flow(out);
                    }
                    None if intent == Intent::Deny => {
                        self.reset_flow();
                        self.say(out, replies::HOW_CAN_I_HELP);
                    }
                    None => self.say(out, replies::CHOOSE_APPOINTMENT_AGAIN),
                }
                true
            }
            Expect::ConfirmBooking | Expect::ConfirmReschedule | Expect::ConfirmCancel => {
                let has_change =
                    nlu.slots.datetime.is_some()
                        || self.services_change(nlu)
                        || nlu.slots.operator.as_deref().and_then(|o| self.info.operator_named(o)).is_some_and(|o| {
                            self.draft.chosen.is_some_and(|c| c.operator_id != o.id) && Some(o.id) != self.draft.operator_id
                        });
                if intent == Intent::Confirm && !has_change {
                    self.expect = Expect::Nothing;
                    match (self.flow, self.draft.chosen, self.target.clone()) {
                        (Flow::Cancel, _, Some(t)) => out.push(Action::Cancel { appointment_id: t.id }),
                        (Flow::Reschedule, Some(slot), Some(t)) => out.push(Action::Reschedule { appointment_id: t.id, slot }),
                        (_, Some(slot), _) => {
                            let slots = std::iter::once(slot).chain(self.draft.chosen_rest.iter().copied());
                            self.queue = self.package().into_iter().zip(slots).collect();
                            self.done.clear();
                            self.book_next(out);
                        }
                        _ => self.say(out, replies::HOW_CAN_I_HELP),
                    }
                } else if has_change && self.flow != Flow::Cancel {
                    // A correction: "no, alle 16".
                    self.merge_booking_slots(nlu);
                    self.draft.chosen = None;
                    self.continue_flow(out);
                } else if intent == Intent::Deny || nlu.negated.is_some() {
                    if self.flow == Flow::Cancel {
                        self.reset_flow();
                        self.say(out, replies::KEPT);
                    } else {
                        // The day stays: "alle 15" next moves the time only.
                        self.draft.chosen = None;
                        self.draft.time = None;
                        self.draft.range = None;
                        self.draft.earliest = false;
                        self.expect = Expect::When;
                        self.say(out, replies::WHAT_TO_CHANGE);
                    }
                } else {
                    self.say(out, replies::CONFIRM_AGAIN);
                }
                true
            }
            Expect::GuidedBook | Expect::OfferBooking => {
                let merged_before = self.draft.clone();
                if intent == Intent::Confirm || intent == Intent::Book || (!nlu.slots.is_empty() && intent != Intent::Deny) {
                    self.flow = Flow::Booking;
                    self.expect = Expect::Nothing;
                    self.merge_booking_slots(nlu);
                    if self.draft == merged_before && self.draft.offered.len() == 1 {
                        self.choose_offered(0);
                    } else if let Some(i) = self.pick_offered(norm, nlu) {
                        self.choose_offered(i);
                    }
                    self.draft.offered.clear();
                    self.draft.offered_rest.clear();
                    self.advance_booking(out);
                    true
                } else if intent == Intent::Deny {
                    let was_guided = self.expect == Expect::GuidedBook;
                    self.reset_flow();
                    self.say(out, if was_guided { replies::GUIDED_MENU } else { replies::ANYTHING_ELSE });
                    true
                } else {
                    false
                }
            }
            Expect::OfferWaitlist => {
                if intent == Intent::Confirm {
                    match self.draft.service_id {
                        Some(service_id) => {
                            out.push(Action::Waitlist {
                                client_id: self.client.id,
                                service_id,
                                operator_id: self.draft.operator_id,
                                preference: self.draft.date.map(|d| d.to_string()).unwrap_or_else(|| "prima disponibile".into()),
                            });
                            self.recording = Some(requests::Recording::Waitlist);
                            self.reset_flow();
                        }
                        None => {
                            self.reset_flow();
                            self.say(out, replies::HOW_CAN_I_HELP);
                        }
                    }
                    true
                } else if intent == Intent::Deny {
                    self.reset_flow();
                    self.say(out, replies::ANYTHING_ELSE);
                    true
                } else {
                    self.expect = Expect::Nothing;
                    false
                }
            }
        }
    }

    /// Takes the `i`-th offered slot (and the slots of the services that
    /// follow it) as the chosen one.
    pub(super) fn choose_offered(&mut self, i: usize) {
        self.draft.chosen = self.draft.offered.get(i).copied();
        self.draft.chosen_rest = self.draft.offered_rest.get(i).cloned().unwrap_or_default();
        self.draft.offered.clear();
        self.draft.offered_rest.clear();
    }

    /// The offered slot the caller picked (its index): "la prima", "la
    /// seconda", "alle 10 e mezza", "con Giulia", or "sì" when only one was
    /// offered.
    pub(super) fn pick_offered(&self, norm: &str, nlu: &NluResult) -> Option<usize> {
        let offered = &self.draft.offered;
        if offered.is_empty() {
            return None;
        }
        if let Some(i) = pick_index(norm, offered.len()) {
            return Some(i);
        }
        let by_operator: Vec<usize> = match nlu.slots.operator.as_deref().and_then(|o| self.info.operator_named(o)) {
            Some(o) => (0..offered.len()).filter(|i| offered[*i].operator_id == o.id).collect(),
            None => (0..offered.len()).collect(),
        };
        if let Some(dt) = nlu.slots.datetime {
            let wanted = match dt {
                DateTimeSlot::Instant { value, .. } => value,
                DateTimeSlot::Range { start, .. } => start,
            };
            let hit = by_operator.iter().copied().find(|i| {
                let l = self.info.local(offered[*i].start);
                l.time() == wanted.time() && (!nlu.slots.date_given || l.date() == wanted.date())
            });
            if hit.is_some() {
                return hit;
            }
            // "alle 10" for an offered 10:30: the only slot in that hour.
            let same_hour: Vec<usize> = by_operator
                .iter()
                .copied()
                .filter(|i| self.info.local(offered[*i].start).hour() == wanted.hour() && nlu.slots.time_given)
                .collect();
            return (same_hour.len() == 1).then(|| same_hour[0]);
        }
        if nlu.slots.operator.is_some() && by_operator.len() == 1 {
            return by_operator.first().copied();
        }
        if nlu.intent == Intent::Confirm && offered.len() == 1 {
            return Some(0);
        }
        None
    }
}

/// "la prima", "il secondo", "l'ultimo", "numero 2" → 0-based index.
pub(super) fn pick_index(norm: &str, len: usize) -> Option<usize> {
    let ws: Vec<&str> = words(norm).collect();
    let idx = ws.iter().find_map(|w| match *w {
        "prima" | "primo" => Some(0),
        "seconda" | "secondo" => Some(1),
        "terza" | "terzo" => Some(2),
        "ultima" | "ultimo" => len.checked_sub(1),
        _ => None,
    });
    let idx = idx.or_else(|| {
        let i = ws.iter().position(|w| *w == "numero" || *w == "opzione")?;
        crate::nlu::numbers::parse_number(ws.get(i + 1)?).and_then(|n| (n as usize).checked_sub(1))
    });
    idx.filter(|i| *i < len)
}

/// A turn that is only a name ("Mario Rossi"), as an answer to "come si chiama?".
pub(super) fn bare_name(norm: &str) -> Option<String> {
    let ws: Vec<&str> = words(norm).collect();
    let stop = ["mi", "chiamo", "sono", "il", "mio", "nome", "e", "io", "a", "di"];
    let name_ws: Vec<&str> = ws.iter().copied().filter(|w| !stop.contains(w)).collect();
    if name_ws.is_empty() || name_ws.len() > 3 || name_ws.iter().any(|w| w.chars().any(|c| !c.is_alphabetic())) {
        return None;
    }
    Some(name_ws.iter().map(|w| capitalize(w)).collect::<Vec<_>>().join(" "))
}
/// A turn that opens with yes or no ("sì, grazie", "no, preferisco…").
pub(super) fn leading_yes_no(norm: &str) -> Option<Intent> {
    match words(norm).next()? {
        "si" | "certo" | "confermo" | "esatto" | "ok" | "perfetto" | "va" | "benissimo" | "volentieri" | "giusto" => Some(Intent::Confirm),
        "no" | "nono" => Some(Intent::Deny),
        _ => None,
    }
}
