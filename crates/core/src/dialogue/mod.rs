//! The dialogue manager: a pure, synchronous state machine per conversation.
//!
//! [`Dialogue::handle`] takes one [`Input`] (a user turn understood by the
//! NLU pipeline, or the [`Outcome`] of an action the session carried out)
//! and returns the [`Action`]s to perform: replies to say, and queries or
//! writes for the booking domain whose results come back as inputs. No
//! runtime, no I/O: the [`session`] module drives it against a
//! [`crate::booking::Repository`].

mod actions;
mod replies;
pub use actions::{Action, Input, Outcome};
pub use replies::business_facts;
pub mod session;
mod state;
pub use state::{DialogueState, StateError, STATE_VERSION};

use std::sync::Arc;

use jiff::civil::{Date, DateTime, Time};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crate::booking::desk::{BusinessInfo, ClientDetails, Wanted, WriteFailure};
use crate::booking::{Appointment, Client, Id, Slot, Vertical};
use crate::history::RequestKind;
use crate::nlu::{DateTimeSlot, Intent, Layer, NluResult, Topic};
use crate::text::{capitalize, normalize, words};

use crate::fallback::FAQ_HINT_MIN_SCORE as CACHED_FAQ_MIN_SCORE;

/// The conversation's goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum Flow {
    #[default]
    Idle,
    Booking,
    Availability,
    Reschedule,
    Cancel,
    /// A request for the owner: callback, complaint, privacy.
    Request,
    /// "A che ora è il mio appuntamento?"
    MyAppointments,
}

/// What the last question asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum Expect {
    #[default]
    Nothing,
    Service,
    /// A choice among the services a vague mention may mean ("una visita").
    ChooseService,
    When,
    Name,
    Phone,
    ChooseSlot,
    ChooseAppointment,
    ConfirmBooking,
    ConfirmCancel,
    ConfirmReschedule,
    /// A guided yes/no: "Desidera prenotare un appuntamento?"
    GuidedBook,
    /// After an availability answer: "Vuole prenotare?"
    OfferBooking,
    /// Nothing fits: "Vuole essere messo in lista d'attesa?"
    OfferWaitlist,
    /// "Mi dice in breve il motivo?" (a complaint).
    Reason,
    /// The read-back of a request for the owner.
    ConfirmRequest,
}

/// The booking being put together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Draft {
    /// The (first) service.
    service_id: Option<Id>,
    /// Services booked right after the first, in order ("tinta e piega").
    extra: Vec<Id>,
    /// A vague mention waiting for the caller's choice ("una visita").
    choice: Option<services::Choice>,
    operator_id: Option<Id>,
    /// A doctor asked for who does not work here ("la dottoressa Bianchi").
    unknown_operator: Option<String>,
    date: Option<Date>,
    time: Option<Time>,
    range: Option<(DateTime, DateTime)>,
    earliest: bool,
    offered: Vec<Slot>,
    /// For each offered slot, the slots of `extra` that follow it.
    offered_rest: Vec<Vec<Slot>>,
    chosen: Option<Slot>,
    /// The slots of `extra` following `chosen`.
    chosen_rest: Vec<Slot>,
    /// "Sposto il colore di giovedì al giorno dopo": days from the
    /// appointment being moved to the new day, applied once it is known
    /// (the day the turn names is the appointment's, not the new one).
    shift_from_target: Option<i64>,
}

/// Per-conversation state: the business facts plus everything the
/// conversation needs between turns ([`Dialogue::state`] takes the latter
/// out as a serialisable [`DialogueState`]; [`Dialogue::resume`] puts it back).
#[derive(Debug, Clone)]
pub struct Dialogue {
    info: Arc<BusinessInfo>,
    flow: Flow,
    expect: Expect,
    draft: Draft,
    client: ClientDetails,
    known: Option<Client>,
    upcoming: Vec<Appointment>,
    target: Option<Appointment>,
    misunderstood: u32,
    guided: bool,
    greeted: bool,
    ended: bool,
    last_intent: Option<Intent>,
    last_layer: Option<Layer>,
    last_booking: Option<Appointment>,
    now: Timestamp,
    pending_text: String,
    /// The best FAQ answer of the last turn, said when L4 cannot answer
    /// (seed 000: "return cached FAQ").
    cached_faq: Option<String>,
    /// The model answered the last turn: short replies ("sì", "no") go back
    /// to it, since it asked the question.
    l4_active: bool,
    /// The conversation so far, for the model (last [`HISTORY_TURNS`] lines).
    history: Vec<(crate::history::Role, String)>,
    /// Failed attempts at understanding the phone number in a row.
    phone_failures: u32,
    /// The client a number the caller *said* belongs to, until the caller
    /// gives the name on the booking.
    candidate: Option<Client>,
    /// The request for the owner being put together.
    request: requests::Request,
    /// What the last write without a domain result was, to speak about its outcome.
    recording: Option<requests::Recording>,
    /// Whether `client.phone` is the caller's verified identity (telephony
    /// caller ID, a trusted API client) rather than a number the caller
    /// said (see [`Dialogue::set_said_phone`]).
    caller_verified: bool,
    /// Bookings confirmed but not yet written (the rest of a package).
    queue: Vec<(Id, Slot)>,
    /// Appointments of the package written so far.
    done: Vec<Appointment>,
}

/// L1 probability under which a turn without slots is not acted upon.
const LOW_CONFIDENCE: f32 = 0.4;

/// Lines of conversation kept for the model.
const HISTORY_TURNS: usize = 12;

impl Dialogue {
    /// A new conversation for the business.
    pub fn new(info: Arc<BusinessInfo>) -> Self {
        Dialogue {
            info,
            flow: Flow::Idle,
            expect: Expect::Nothing,
            draft: Draft::default(),
            client: ClientDetails::default(),
            known: None,
            upcoming: Vec::new(),
            target: None,
            misunderstood: 0,
            guided: false,
            greeted: false,
            ended: false,
            last_intent: None,
            last_layer: None,
            last_booking: None,
            now: Timestamp::UNIX_EPOCH,
            pending_text: String::new(),
            cached_faq: None,
            l4_active: false,
            history: Vec::new(),
            phone_failures: 0,
            candidate: None,
            request: requests::Request::default(),
            recording: None,
            caller_verified: false,
            queue: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Sets the caller ID and the client it belongs to, when the session
    /// knows them before the first turn (HTTP `phone`, telephony caller ID).
    pub fn set_caller(&mut self, phone: String, client: Option<Client>) {
        self.caller_verified = true;
        self.client.phone = Some(phone);
        if let Some(c) = client {
            self.client.id = Some(c.id);
            self.client.name = Some(c.name.clone());
            self.known = Some(c);
        }
    }

    /// Sets a phone number the caller *said* (an untrusted API client's
    /// `phone`): it is the number to book under, not proof of who is
    /// calling, so no client is looked up by it.
    pub fn set_said_phone(&mut self, phone: String) {
        self.caller_verified = false;
        self.client.phone = Some(phone);
    }

    /// Whether the caller's phone is their verified identity (see
    /// [`Dialogue::set_said_phone`]).
    pub fn caller_verified(&self) -> bool {
        self.caller_verified
    }

    /// The caller's phone (E.164), when known.
    pub fn caller_phone(&self) -> Option<&str> {
        self.client.phone.as_deref()
    }

    /// The conversation so far (oldest first).
    pub fn history(&self) -> &[(crate::history::Role, String)] {
        &self.history
    }

    /// Appends a line to the conversation kept for the model.
    pub fn remember(&mut self, role: crate::history::Role, text: &str) {
        self.history.push((role, text.to_string()));
        if self.history.len() > HISTORY_TURNS {
            let extra = self.history.len() - HISTORY_TURNS;
            self.history.drain(..extra);
        }
    }

    /// Whether the conversation has ended (goodbye said).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The known client, once identified.
    pub fn client(&self) -> Option<&Client> {
        self.known.as_ref()
    }

    /// The appointment booked, moved or cancelled by the last turn, if any.
    pub fn take_last_booking(&mut self) -> Option<Appointment> {
        self.last_booking.take()
    }

    /// Intent and layer of the last user turn, as finally decided (L4 when the
    /// fallback answered).
    pub fn last_understanding(&self) -> (Option<Intent>, Option<Layer>) {
        (self.last_intent, self.last_layer)
    }

    /// Advances the conversation by one input at instant `now`.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Vec<Action> {
        self.now = now;
        let mut out = Vec::new();
        match input {
            Input::Start { phone } => {
                self.greeted = true;
                if let Some(p) = phone {
                    self.client.phone = Some(p.clone());
                    self.caller_verified = true;
                    out.push(Action::LookupClient { phone: p });
                } else {
                    out.push(Action::Say(replies::greeting(&self.info, None)));
                }
            }
            Input::Turn { text, nlu } => self.turn(&text, &nlu, &mut out),
            Input::Outcome(o) => self.outcome(o, &mut out),
        }
        out
    }

    fn today(&self) -> Date {
        self.info.local(self.now).date()
    }

    fn say(&self, out: &mut Vec<Action>, s: impl Into<String>) {
        out.push(Action::Say(s.into()));
    }

    fn turn(&mut self, text: &str, nlu: &NluResult, out: &mut Vec<Action>) {
        let corrected = self.corrected(text, nlu);
        let mut corrected = self.with_relative_day(text, corrected);
        if matches!(self.expect, Expect::ChooseSlot | Expect::When | Expect::OfferBooking) {
            self.bare_hour(text, &mut corrected);
        }
        let nlu = &corrected;
        self.last_intent = Some(nlu.intent);
        self.last_layer = Some(nlu.layer);
        self.pending_text = text.to_string();
        self.cached_faq = nlu.faq.as_ref().filter(|h| h.score >= CACHED_FAQ_MIN_SCORE).map(|h| h.answer.clone());
        let norm = normalize(text);

        // Words of an emergency at a clinic: the emergency number, and no
        // booking started on this turn; the caller may still ask for one.
        if nlu.urgent && self.info.business.vertical == Vertical::Medical {
            self.reset_flow();
            self.say(out, replies::EMERGENCY);
            self.say(out, replies::AFTER_EMERGENCY);
            return;
        }
        self.absorb_client_slots(nlu);
        if !self.greeted {
            self.greeted = true;
            if let (Some(c), false) = (&self.known, intent_is_greeting(nlu)) {
                let s = format!("Buongiorno {}!", first_name(&c.name));
                self.say(out, s);
            }
        }

        // The model asked the last question: short answers go back to it.
        let l4_active = std::mem::take(&mut self.l4_active);
        if l4_active && self.expect == Expect::Nothing && matches!(nlu.intent, Intent::Confirm | Intent::Deny | Intent::Other) {
            out.push(Action::Fallback { text: text.to_string() });
            return;
        }

        // A price or duration question about named services is answered
        // from the price list, whatever else is going on.
        if self.answer_service_facts(&norm, nlu, out) {
            self.misunderstood = 0;
            return;
        }

        // Answers to the question just asked come first.
        if self.answer_expected(&norm, nlu, out) {
            self.misunderstood = 0;
            return;
        }

        if self.answer_unknown_service(nlu, out) {
            self.misunderstood = 0;
            return;
        }

        // A guess of the classifier with nothing to back it never starts a flow.
        let intent =
            if nlu.layer == Layer::L1 && nlu.confidence < LOW_CONFIDENCE && nlu.slots.is_empty() { Intent::Other } else { nlu.intent };
        match intent {
            Intent::Greeting => {
                let name = self.known.as_ref().map(|c| first_name(&c.name));
                self.say(out, replies::greeting(&self.info, name.as_deref()));
            }
            Intent::Goodbye => {
                self.ended = true;
                self.say(out, replies::GOODBYE);
                out.push(Action::Hangup);
            }
            Intent::Human => self.start_request(RequestKind::Callback, text, out),
            Intent::Complaint => self.start_request(RequestKind::Complaint, text, out),
            Intent::Privacy => self.start_request(RequestKind::Privacy, text, out),
            Intent::OpeningHours => {
                let day = nlu.slots.datetime.filter(|_| nlu.slots.date_given).map(|d| slot_date(&d));
                self.say(out, replies::opening_hours(&self.info, day, self.today()));
            }
            Intent::Price => {
                let svc = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n));
                let named = svc.is_some();
                self.say(out, replies::price(&self.info, svc));
                if named {
                    self.follow_up(out);
                }
            }
            Intent::Faq if nlu.topic == Some(Topic::Address) => {
                self.say(out, replies::address(&self.info));
            }
            Intent::Faq if nlu.layer == Layer::L3 => {
                if let Some(hit) = &nlu.faq {
                    self.say(out, hit.answer.clone());
                    if !self.offer_asked_service(&norm, nlu, out) {
                        self.follow_up(out);
                    }
                }
            }
            Intent::Book | Intent::Availability if self.redirect_foreign(nlu, out) => {}
            Intent::Book => {
                // "Domenica siete aperti? Vorrei una pulizia del viso": the
                // hours of that day, then the booking.
                if nlu.topic == Some(Topic::OpeningHours) && self.flow == Flow::Idle {
                    let day = nlu.slots.datetime.filter(|_| nlu.slots.date_given).map(|d| slot_date(&d));
                    if day.is_some() {
                        self.say(out, replies::opening_hours(&self.info, day, self.today()));
                    }
                }
                self.flow = Flow::Booking;
                self.draft.offered.clear();
                if words(&norm).any(|w| w == "solito" || w == "solita") {
                    if let Some(id) = self.client.id {
                        self.merge_when(nlu);
                        out.push(Action::ListHistory { client_id: id });
                        return;
                    }
                }
                self.merge_booking_slots(nlu);
                self.advance_booking(out);
            }
            Intent::Availability => {
                self.flow = Flow::Availability;
                self.merge_booking_slots(nlu);
                if !self.has_when() {
                    self.draft.earliest = true;
                }
                self.advance_booking(out);
            }
            Intent::MyAppointments => {
                self.reset_flow();
                self.flow = Flow::MyAppointments;
                self.advance_change(out);
            }
            Intent::Reschedule | Intent::Cancel => {
                self.flow = if intent == Intent::Cancel { Flow::Cancel } else { Flow::Reschedule };
                self.target = None;
                self.draft = Draft::default();
                self.merge_when(nlu);
                if intent == Intent::Reschedule {
                    self.draft.shift_from_target = relative::shift(&norm);
                }
                self.advance_change(out);
            }
            // "No, grazie" to "Posso aiutarla in qualcos'altro?" ends the conversation.
            Intent::Deny if self.flow == Flow::Idle && nlu.slots.is_empty() => {
                self.ended = true;
                self.say(out, replies::GOODBYE);
                out.push(Action::Hangup);
            }
            Intent::Confirm | Intent::Deny if self.flow == Flow::Idle => {
                self.say(out, replies::HOW_CAN_I_HELP);
            }
            _ => {
                // Slots alone continue the current flow ("alle 16", "con Marco").
                if self.flow != Flow::Idle && !nlu.slots.is_empty() {
                    self.merge_booking_slots(nlu);
                    self.continue_flow(out);
                } else if self.flow == Flow::Idle && intent == Intent::Other && self.merge_services(nlu) {
                    // "mi serve la ricarica del clima, la prima disponibile".
                    self.flow = Flow::Booking;
                    self.merge_operator(nlu);
                    self.merge_when(nlu);
                    self.advance_booking(out);
                } else if self.redirect_foreign(nlu, out) {
                } else {
                    out.push(Action::Fallback { text: text.to_string() });
                    return;
                }
            }
        }
        self.misunderstood = 0;
    }

    fn follow_up(&self, out: &mut Vec<Action>) {
        if self.flow == Flow::Idle {
            self.say(out, replies::ANYTHING_ELSE);
        }
    }

    fn redirect_foreign(&mut self, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        match nlu.foreign_vertical {
            Some(v) if nlu.slots.service.is_none() => {
                self.say(out, replies::foreign_vertical(&self.info, v));
                self.flow = Flow::Idle;
                self.expect = Expect::Nothing;
                true
            }
            _ => false,
        }
    }

    fn reset_flow(&mut self) {
        self.flow = Flow::Idle;
        self.expect = Expect::Nothing;
        self.draft = Draft::default();
        self.target = None;
    }

    fn absorb_client_slots(&mut self, nlu: &NluResult) {
        if let Some(n) = &nlu.slots.name {
            if self.known.is_none() {
                self.client.name = Some(n.clone());
            }
        }
        if let Some(p) = &nlu.slots.phone {
            if self.client.phone.as_ref() != Some(p) {
                self.client.phone = Some(p.clone());
                if self.known.as_ref().is_some_and(|c| &c.phone != p) {
                    self.known = None;
                    self.client.id = None;
                }
            }
        }
        if let Some(e) = &nlu.slots.email {
            self.client.email = Some(e.clone());
        }
    }
}

fn intent_is_greeting(nlu: &NluResult) -> bool {
    nlu.intent == Intent::Greeting
}

fn slot_date(d: &DateTimeSlot) -> Date {
    match d {
        DateTimeSlot::Instant { value, .. } => value.date(),
        DateTimeSlot::Range { start, .. } => start.date(),
    }
}

fn first_name(full: &str) -> String {
    full.split_whitespace().next().unwrap_or(full).to_string()
}

mod booking_flow;
mod change;
mod corrections;
mod expect;
mod offers;
mod outcome;
mod relative;
mod requests;
mod services;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_requests;
#[cfg(test)]
mod tests_services;
