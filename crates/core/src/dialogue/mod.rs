//! The dialogue manager: a pure, synchronous state machine per conversation.
//!
//! [`Dialogue::handle`] takes one [`Input`] (a user turn understood by the
//! NLU pipeline, or the [`Outcome`] of an action the session carried out)
//! and returns the [`Action`]s to perform: replies to say, and queries or
//! writes for the booking domain whose results come back as inputs. No
//! runtime, no I/O: the [`session`] module drives it against a
//! [`crate::booking::Repository`].

mod replies;
pub use replies::business_facts;
pub mod session;

use std::sync::Arc;

use jiff::civil::{Date, DateTime, Time};
use jiff::Timestamp;

pub use crate::booking::desk::{BusinessInfo, ClientDetails, Wanted, WriteFailure};
use crate::booking::{Appointment, Client, Id, Slot, Vertical};
use crate::nlu::{DateTimeSlot, Intent, Layer, NluResult, Topic};
use crate::text::{capitalize, normalize, words};

use crate::fallback::FAQ_HINT_MIN_SCORE as CACHED_FAQ_MIN_SCORE;

/// Something the session must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Speak / write this Italian text.
    Say(String),
    /// Look the caller up by phone → [`Outcome::Client`].
    LookupClient {
        /// E.164.
        phone: String,
    },
    /// Search free slots → [`Outcome::Slots`].
    FindSlots {
        /// Service.
        service_id: Id,
        /// Wanted operator, `None` for anyone.
        operator_id: Option<Id>,
        /// When.
        wanted: Wanted,
        /// How many to return at most.
        limit: usize,
    },
    /// Create the appointment (creating/updating the client) → [`Outcome::Booked`].
    Book {
        /// The caller.
        client: ClientDetails,
        /// Service.
        service_id: Id,
        /// The slot chosen (operator, UTC interval).
        slot: Slot,
    },
    /// The client's upcoming appointments → [`Outcome::Upcoming`].
    ListUpcoming {
        /// Client.
        client_id: Id,
    },
    /// The client's last appointments, for "il solito" → [`Outcome::History`].
    ListHistory {
        /// Client.
        client_id: Id,
    },
    /// Cancel → [`Outcome::Cancelled`].
    Cancel {
        /// Appointment.
        appointment_id: Id,
    },
    /// Move → [`Outcome::Rescheduled`].
    Reschedule {
        /// Appointment.
        appointment_id: Id,
        /// New slot.
        slot: Slot,
    },
    /// Put the caller on the waitlist (no outcome).
    Waitlist {
        /// Client, when known.
        client_id: Option<Id>,
        /// Service wanted.
        service_id: Id,
        /// Operator wanted.
        operator_id: Option<Id>,
        /// Free-text preference (local day).
        preference: String,
    },
    /// Record that the caller wants a person to call back (no outcome).
    RequestCallback {
        /// Client, when known.
        client_id: Option<Id>,
        /// Number to call back.
        phone: Option<String>,
        /// The caller's words.
        reason: String,
    },
    /// Ask the L4 fallback → [`Outcome::Fallback`].
    Fallback {
        /// The caller's words.
        text: String,
    },
    /// Hand the call to a person (voice channels).
    Transfer,
    /// End the conversation.
    Hangup,
}

/// The result of an action, fed back as input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Result of [`Action::LookupClient`].
    Client(Option<Client>),
    /// Result of [`Action::FindSlots`]: free slots (UTC), nearest first, and
    /// whether the exact wanted time is among them.
    Slots {
        /// Up to `limit` slots.
        slots: Vec<Slot>,
        /// The `Wanted::At` time itself is free (always false otherwise).
        exact: bool,
        /// Why the wanted time is not possible, when known ("Pasqua", "chiuso").
        reason: Option<String>,
    },
    /// Result of [`Action::Book`].
    Booked(Result<(Appointment, Client), WriteFailure>),
    /// Result of [`Action::ListUpcoming`].
    Upcoming(Vec<Appointment>),
    /// Result of [`Action::ListHistory`].
    History(Vec<Appointment>),
    /// Result of [`Action::Cancel`].
    Cancelled(Result<Appointment, WriteFailure>),
    /// Result of [`Action::Reschedule`].
    Rescheduled(Result<Appointment, WriteFailure>),
    /// Result of [`Action::Fallback`]: the model's reply, if any.
    Fallback(Option<crate::fallback::FallbackReply>),
}

/// One input to the state machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The conversation starts; `phone` is the caller ID when known.
    Start {
        /// E.164 caller ID.
        phone: Option<String>,
    },
    /// The caller said something.
    Turn {
        /// The raw text.
        text: String,
        /// What the NLU understood.
        nlu: Box<NluResult>,
    },
    /// The result of an earlier action.
    Outcome(Outcome),
}

/// The conversation's goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Flow {
    #[default]
    Idle,
    Booking,
    Availability,
    Reschedule,
    Cancel,
}

/// What the last question asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    #[default]
    Nothing,
    Service,
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
}

/// The booking being put together.
#[derive(Debug, Clone, Default, PartialEq)]
struct Draft {
    service_id: Option<Id>,
    operator_id: Option<Id>,
    date: Option<Date>,
    time: Option<Time>,
    range: Option<(DateTime, DateTime)>,
    earliest: bool,
    offered: Vec<Slot>,
    chosen: Option<Slot>,
}

/// Per-conversation state.
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
    /// Whether `client.phone` is the caller's verified identity (telephony
    /// caller ID, a trusted API client) rather than a number the caller
    /// said (see [`Dialogue::set_said_phone`]).
    caller_verified: bool,
}

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
            caller_verified: false,
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
        self.last_intent = Some(nlu.intent);
        self.last_layer = Some(nlu.layer);
        self.pending_text = text.to_string();
        self.cached_faq = nlu.faq.as_ref().filter(|h| h.score >= CACHED_FAQ_MIN_SCORE).map(|h| h.answer.clone());
        let norm = normalize(text);

        if nlu.urgent && self.info.business.vertical == Vertical::Medical {
            self.say(out, replies::EMERGENCY);
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

        // Answers to the question just asked come first.
        if self.answer_expected(&norm, nlu, out) {
            self.misunderstood = 0;
            return;
        }

        let intent = nlu.intent;
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
            Intent::Human => {
                self.say(out, replies::HUMAN);
                out.push(Action::RequestCallback { client_id: self.client.id, phone: self.client.phone.clone(), reason: text.to_string() });
                out.push(Action::Transfer);
                self.reset_flow();
            }
            Intent::OpeningHours => {
                let day = nlu.slots.datetime.filter(|_| nlu.slots.date_given).map(|d| slot_date(&d));
                self.say(out, replies::opening_hours(&self.info, day, self.today()));
            }
            Intent::Price => {
                let svc = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n));
                self.say(out, replies::price(&self.info, svc));
            }
            Intent::Faq if nlu.topic == Some(Topic::Address) => {
                self.say(out, replies::address(&self.info));
            }
            Intent::Faq if nlu.layer == Layer::L3 => {
                if let Some(hit) = &nlu.faq {
                    self.say(out, hit.answer.clone());
                    self.follow_up(out);
                }
            }
            Intent::Book | Intent::Availability if self.redirect_foreign(nlu, out) => {}
            Intent::Book => {
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
            Intent::Reschedule | Intent::Cancel => {
                self.flow = if intent == Intent::Cancel { Flow::Cancel } else { Flow::Reschedule };
                self.target = None;
                self.draft = Draft::default();
                self.merge_when(nlu);
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

    fn has_when(&self) -> bool {
        self.draft.date.is_some() || self.draft.range.is_some() || self.draft.earliest
    }

    /// Takes date/time slots into the draft; a time alone keeps the day
    /// already chosen ("no, alle 16").
    fn merge_when(&mut self, nlu: &NluResult) {
        let norm_earliest = nlu.slots.datetime.is_none()
            && matches!(
                nlu.intent,
                Intent::Book | Intent::Availability | Intent::Reschedule | Intent::Other | Intent::Confirm | Intent::Deny
            )
            && self.pending_text_says_earliest();
        if norm_earliest {
            self.draft.earliest = true;
            self.draft.date = None;
            self.draft.time = None;
            self.draft.range = None;
            return;
        }
        let Some(dt) = nlu.slots.datetime else { return };
        self.draft.earliest = false;
        self.draft.chosen = None;
        match dt {
            DateTimeSlot::Instant { value, grain } => {
                let time_given = nlu.slots.time_given || grain != crate::nlu::Grain::Day;
                if nlu.slots.date_given || self.draft.date.is_none() {
                    self.draft.date = Some(value.date());
                }
                self.draft.range = None;
                self.draft.time = if time_given {
                    Some(value.time())
                } else if nlu.slots.date_given {
                    None
                } else {
                    self.draft.time
                };
            }
            DateTimeSlot::Range { start, end, .. } => {
                let date =
                    if nlu.slots.date_given || self.draft.date.is_none() { start.date() } else { self.draft.date.unwrap_or(start.date()) };
                let shift = |d: DateTime| -> DateTime {
                    let days = start.date().until(date).map(|s| s.get_days()).unwrap_or(0);
                    d.checked_add(jiff::Span::new().days(days)).unwrap_or(d)
                };
                self.draft.date = Some(date);
                self.draft.time = None;
                self.draft.range = Some((shift(start), shift(end)));
            }
        }
    }

    fn pending_text_says_earliest(&self) -> bool {
        let n = normalize(&self.pending_text);
        [
            "prima disponibil",
            "primo disponibil",
            "prima possibil",
            "appena possibile",
            "prima data",
            "primo posto",
            "quanto prima",
            "al piu presto",
            "primo buco",
            "prima libera",
            "primo libero",
        ]
        .iter()
        .any(|p| n.contains(p))
    }

    fn merge_booking_slots(&mut self, nlu: &NluResult) {
        if let Some(s) = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n)) {
            if self.draft.service_id != Some(s.id) {
                self.draft.service_id = Some(s.id);
                self.draft.chosen = None;
            }
        }
        if let Some(o) = nlu.slots.operator.as_deref().and_then(|n| self.info.operator_named(n)) {
            self.draft.operator_id = Some(o.id);
            self.draft.chosen = None;
        }
        self.merge_when(nlu);
    }

    fn continue_flow(&mut self, out: &mut Vec<Action>) {
        match self.flow {
            Flow::Booking | Flow::Availability => self.advance_booking(out),
            Flow::Reschedule | Flow::Cancel => self.advance_change(out),
            Flow::Idle => self.say(out, replies::HOW_CAN_I_HELP),
        }
    }

    /// The booking flow: service → when → slot → name/phone → read-back.
    fn advance_booking(&mut self, out: &mut Vec<Action>) {
        let Some(service_id) = self.draft.service_id else {
            self.expect = Expect::Service;
            self.say(out, replies::ask_service(&self.info));
            return;
        };
        if let Some(op) = self.draft.operator_id {
            if !self.info.operator(op).is_some_and(|o| o.service_ids.contains(&service_id)) {
                let (op_name, svc_name) = (self.op_name(op), self.svc_name(service_id));
                self.draft.operator_id = None;
                self.say(out, format!("{op_name} non esegue {svc_name}, le propongo un altro operatore."));
            }
        }
        if self.draft.chosen.is_none() {
            if !self.has_when() {
                self.expect = Expect::When;
                self.say(out, replies::ASK_WHEN);
                return;
            }
            let wanted = self.wanted();
            out.push(Action::FindSlots { service_id, operator_id: self.draft.operator_id, wanted, limit: 3 });
            return;
        }
        if self.flow == Flow::Availability {
            self.flow = Flow::Booking;
        }
        if self.client.id.is_none() && self.client.name.is_none() {
            self.expect = Expect::Name;
            self.say(out, replies::ASK_NAME);
            return;
        }
        if self.client.id.is_none() && self.client.phone.is_none() {
            self.expect = Expect::Phone;
            self.say(out, replies::ASK_PHONE);
            return;
        }
        self.read_back(out);
    }

    fn wanted(&self) -> Wanted {
        if self.draft.earliest {
            return Wanted::Earliest;
        }
        match (self.draft.date, self.draft.time, self.draft.range) {
            (_, _, Some((s, e))) => Wanted::Range(s, e),
            (Some(d), Some(t), None) => Wanted::At(d.to_datetime(t)),
            (Some(d), None, None) => Wanted::Day(d),
            (None, Some(t), None) => Wanted::At(self.today().to_datetime(t)),
            (None, None, None) => Wanted::Earliest,
        }
    }

    fn read_back(&mut self, out: &mut Vec<Action>) {
        let Some(slot) = self.draft.chosen else { return };
        let svc = self.draft.service_id.map(|s| self.svc_name(s)).unwrap_or_default();
        let name = self.known.as_ref().map(|c| c.name.clone()).or_else(|| self.client.name.clone());
        self.expect = Expect::ConfirmBooking;
        let when = self.when(slot.start);
        let op = self.op_name(slot.operator_id);
        let mut s = format!("Ricapitolo: {svc} {when} con {op}");
        if let Some(n) = name {
            s.push_str(&format!(", a nome di {n}"));
        }
        s.push_str(". Confermo la prenotazione?");
        self.say(out, s);
    }

    fn when(&self, t: Timestamp) -> String {
        let local = self.info.local(t);
        format!("{} {}", crate::speak::date(local.date(), self.today()), crate::speak::at_time(local.time()))
    }

    fn svc_name(&self, id: Id) -> String {
        self.info.service(id).map(|s| s.name.to_lowercase()).unwrap_or_default()
    }

    fn op_name(&self, id: Id) -> String {
        self.info.operator(id).map(|o| o.name.clone()).unwrap_or_default()
    }

    /// The reschedule / cancel flow: identify → pick the appointment → (new
    /// time) → confirm.
    fn advance_change(&mut self, out: &mut Vec<Action>) {
        let Some(client_id) = self.client.id else {
            if self.client.phone.is_some() && self.known.is_none() {
                let phone = self.client.phone.clone().unwrap_or_default();
                out.push(Action::LookupClient { phone });
            } else {
                self.expect = Expect::Phone;
                self.say(out, replies::ASK_PHONE_FOR_LOOKUP);
            }
            return;
        };
        let Some(target) = self.target.clone() else {
            out.push(Action::ListUpcoming { client_id });
            return;
        };
        if self.flow == Flow::Cancel {
            self.expect = Expect::ConfirmCancel;
            let s = format!("Vuole cancellare {}? Confermo la cancellazione?", self.describe(&target));
            self.say(out, s);
            return;
        }
        // Reschedule: same service (and operator unless another is asked).
        self.draft.service_id = Some(target.service_id);
        if self.draft.chosen.is_none() {
            if !self.has_when() {
                self.expect = Expect::When;
                let s = format!("Ho trovato {}. A quando vuole spostarlo?", self.describe(&target));
                self.say(out, s);
                return;
            }
            out.push(Action::FindSlots {
                service_id: target.service_id,
                operator_id: self.draft.operator_id,
                wanted: self.wanted(),
                limit: 3,
            });
            return;
        }
        if let Some(slot) = self.draft.chosen {
            self.expect = Expect::ConfirmReschedule;
            let s =
                format!("Sposto {} a {} con {}. Confermo?", self.describe(&target), self.when(slot.start), self.op_name(slot.operator_id));
            self.say(out, s);
        }
    }

    fn describe(&self, a: &Appointment) -> String {
        format!("il {} di {}", self.svc_name(a.service_id), self.when(a.start))
    }

    /// Handles a turn that answers the last question. Returns true when it did.
    fn answer_expected(&mut self, norm: &str, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        let intent = nlu.intent;
        // A new, clearly different request always wins over the expectation.
        let switching = matches!(intent, Intent::Cancel | Intent::Reschedule | Intent::Human | Intent::Goodbye)
            && nlu.confidence >= 0.6
            && !matches!(self.expect, Expect::ConfirmCancel | Expect::ConfirmReschedule)
            && nlu.negated.is_none();
        if switching || (intent == Intent::Faq && nlu.layer == Layer::L3 && self.expect != Expect::Name) {
            return false;
        }
        match self.expect {
            Expect::Nothing => false,
            Expect::Service => {
                self.merge_booking_slots(nlu);
                if self.draft.service_id.is_some() {
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
                let name = nlu.slots.name.clone().or_else(|| if short_turn { None } else { bare_name(norm) });
                match name {
                    Some(n) => {
                        self.client.name = Some(n);
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
                        if matches!(self.flow, Flow::Reschedule | Flow::Cancel) {
                            self.known = None;
                            self.client.id = None;
                        }
                        self.continue_flow(out);
                    }
                    None => self.say(out, replies::ASK_PHONE_AGAIN),
                }
                true
            }
            Expect::ChooseSlot => {
                if let Some(slot) = self.pick_offered(norm, nlu) {
                    self.draft.chosen = Some(slot);
                    self.draft.offered.clear();
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
                let has_change = nlu.slots.datetime.is_some() || nlu.slots.service.is_some() || nlu.slots.operator.is_some();
                if intent == Intent::Confirm && !has_change {
                    self.expect = Expect::Nothing;
                    match (self.flow, self.draft.chosen, self.target.clone()) {
                        (Flow::Cancel, _, Some(t)) => out.push(Action::Cancel { appointment_id: t.id }),
                        (Flow::Reschedule, Some(slot), Some(t)) => out.push(Action::Reschedule { appointment_id: t.id, slot }),
                        (_, Some(slot), _) => out.push(Action::Book {
                            client: self.client.clone(),
                            service_id: self.draft.service_id.unwrap_or_default(),
                            slot,
                        }),
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
                        self.draft.chosen = None;
                        self.draft.date = None;
                        self.draft.time = None;
                        self.draft.range = None;
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
                        self.draft.chosen = self.draft.offered.first().copied();
                    } else if let Some(slot) = self.pick_offered(norm, nlu) {
                        self.draft.chosen = Some(slot);
                    }
                    self.draft.offered.clear();
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
                    if let Some(service_id) = self.draft.service_id {
                        out.push(Action::Waitlist {
                            client_id: self.client.id,
                            service_id,
                            operator_id: self.draft.operator_id,
                            preference: self.draft.date.map(|d| d.to_string()).unwrap_or_else(|| "prima disponibile".into()),
                        });
                    }
                    self.reset_flow();
                    self.say(out, replies::WAITLISTED);
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

    /// The offered slot the caller picked: "la prima", "la seconda", "alle
    /// 10 e mezza", or "sì" when only one was offered.
    fn pick_offered(&self, norm: &str, nlu: &NluResult) -> Option<Slot> {
        let offered = &self.draft.offered;
        if offered.is_empty() {
            return None;
        }
        if let Some(i) = pick_index(norm, offered.len()) {
            return offered.get(i).copied();
        }
        if let Some(dt) = nlu.slots.datetime {
            let wanted = match dt {
                DateTimeSlot::Instant { value, .. } => value,
                DateTimeSlot::Range { start, .. } => start,
            };
            let hit = offered.iter().find(|s| {
                let l = self.info.local(s.start);
                l.time() == wanted.time() && (!nlu.slots.date_given || l.date() == wanted.date())
            });
            if hit.is_some() {
                return hit.copied();
            }
            // "alle 10" for an offered 10:30: the only slot in that hour.
            let same_hour: Vec<&Slot> =
                offered.iter().filter(|s| self.info.local(s.start).hour() == wanted.hour() && nlu.slots.time_given).collect();
            if same_hour.len() == 1 {
                return Some(*same_hour[0]);
            }
            return None;
        }
        if nlu.intent == Intent::Confirm && offered.len() == 1 {
            return offered.first().copied();
        }
        None
    }

    fn match_appointment(&self, nlu: &NluResult) -> Option<usize> {
        let want_date = nlu.slots.datetime.map(|d| slot_date(&d));
        let svc = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n)).map(|s| s.id);
        let hits: Vec<usize> = self
            .upcoming
            .iter()
            .enumerate()
            .filter(|(_, a)| want_date.is_none_or(|d| self.info.local(a.start).date() == d))
            .filter(|(_, a)| svc.is_none_or(|s| a.service_id == s))
            .map(|(i, _)| i)
            .collect();
        (hits.len() == 1 && (want_date.is_some() || svc.is_some())).then(|| hits[0])
    }

    fn outcome(&mut self, o: Outcome, out: &mut Vec<Action>) {
        match o {
            Outcome::Client(c) => {
                let first_turn = self.greeted && self.last_intent.is_none();
                match c {
                    Some(c) => {
                        self.client.id = Some(c.id);
                        self.client.name = Some(c.name.clone());
                        self.client.phone = Some(c.phone.clone());
                        self.known = Some(c);
                    }
                    None if !first_turn && matches!(self.flow, Flow::Reschedule | Flow::Cancel) => {
                        self.say(out, replies::NO_CLIENT);
                        self.reset_flow();
                        return;
                    }
                    None => {}
                }
                if first_turn {
                    let name = self.known.as_ref().map(|c| first_name(&c.name));
                    self.say(out, replies::greeting(&self.info, name.as_deref()));
                } else {
                    self.continue_flow(out);
                }
            }
            Outcome::Slots { slots, exact, reason } => self.on_slots(slots, exact, reason, out),
            Outcome::Booked(r) => match r {
                Ok((a, c)) => {
                    self.client.id = Some(c.id);
                    self.client.name = Some(c.name.clone());
                    self.known = Some(c);
                    let s = format!(
                        "Perfetto, ho prenotato {} {} con {}. La aspettiamo!",
                        self.svc_name(a.service_id),
                        self.when(a.start),
                        self.op_name(a.operator_id)
                    );
                    self.last_booking = Some(a);
                    self.reset_flow();
                    self.say(out, s);
                    self.say(out, replies::ANYTHING_ELSE);
                }
                Err(f) => self.write_failed(f, out),
            },
            Outcome::Upcoming(list) => {
                self.upcoming = list;
                match self.upcoming.len() {
                    0 => {
                        self.say(out, replies::NO_APPOINTMENTS);
                        self.reset_flow();
                    }
                    1 => {
                        self.target = self.upcoming.first().cloned();
                        self.continue_flow(out);
                    }
                    _ => {
                        self.expect = Expect::ChooseAppointment;
                        let items: Vec<String> = self.upcoming.iter().take(3).map(|a| self.describe(a)).collect();
                        let verb = if self.flow == Flow::Cancel { "cancellare" } else { "spostare" };
                        self.say(
                            out,
                            format!(
                                "Ho trovato {} appuntamenti: {}. Quale vuole {verb}?",
                                crate::speak::number(self.upcoming.len() as i64),
                                replies::list(&items)
                            ),
                        );
                    }
                }
            }
            Outcome::History(list) => {
                match list.first() {
                    Some(last) => {
                        self.draft.service_id = Some(last.service_id);
                        self.draft.operator_id = Some(last.operator_id);
                        let s = format!("Il solito: {} con {}.", self.svc_name(last.service_id), self.op_name(last.operator_id));
                        self.say(out, s);
                    }
                    None => self.say(out, replies::NO_HISTORY),
                }
                self.advance_booking(out);
            }
            Outcome::Cancelled(r) => match r {
                Ok(a) => {
                    let s = format!("Fatto: ho cancellato {}.", self.describe(&a));
                    self.last_booking = Some(a);
                    self.reset_flow();
                    self.say(out, s);
                    self.say(out, replies::ANYTHING_ELSE);
                }
                Err(f) => self.write_failed(f, out),
            },
            Outcome::Rescheduled(r) => match r {
                Ok(a) => {
                    let s = format!("Fatto: l'appuntamento è spostato a {} con {}.", self.when(a.start), self.op_name(a.operator_id));
                    self.last_booking = Some(a);
                    self.reset_flow();
                    self.say(out, s);
                    self.say(out, replies::ANYTHING_ELSE);
                }
                Err(f) => self.write_failed(f, out),
            },
            Outcome::Fallback(reply) => match reply {
                Some(r) => {
                    self.last_layer = Some(if r.from_model { Layer::L4 } else { Layer::L3 });
                    self.misunderstood = 0;
                    self.l4_active = r.from_model;
                    if let Some(a) = r.booking {
                        self.last_booking = Some(a);
                    }
                    if r.transfer {
                        out.push(Action::Transfer);
                    }
                    self.say(out, r.text);
                }
                None => match self.cached_faq.take() {
                    Some(answer) => {
                        self.last_layer = Some(Layer::L3);
                        self.last_intent = Some(Intent::Faq);
                        self.misunderstood = 0;
                        self.say(out, answer);
                    }
                    None => self.not_understood(out),
                },
            },
        }
    }

    fn not_understood(&mut self, out: &mut Vec<Action>) {
        self.misunderstood += 1;
        if self.misunderstood >= 2 || self.guided {
            self.guided = true;
            self.reset_flow();
            self.expect = Expect::GuidedBook;
            self.say(out, replies::GUIDED_BOOK);
        } else if self.flow != Flow::Idle {
            self.say(out, replies::NOT_UNDERSTOOD_IN_FLOW);
        } else {
            self.say(out, replies::NOT_UNDERSTOOD);
        }
    }

    fn write_failed(&mut self, f: WriteFailure, out: &mut Vec<Action>) {
        match f {
            WriteFailure::SlotTaken | WriteFailure::NotBookable => {
                self.say(out, replies::SLOT_JUST_TAKEN);
                self.draft.chosen = None;
                self.continue_flow(out);
            }
            WriteFailure::NotFound => {
                self.say(out, replies::NO_APPOINTMENTS);
                self.reset_flow();
            }
            WriteFailure::Unavailable => {
                self.say(out, replies::TECHNICAL_PROBLEM);
                self.expect = match self.flow {
                    Flow::Cancel => Expect::ConfirmCancel,
                    Flow::Reschedule => Expect::ConfirmReschedule,
                    _ => Expect::ConfirmBooking,
                };
            }
        }
    }

    fn on_slots(&mut self, slots: Vec<Slot>, exact: bool, reason: Option<String>, out: &mut Vec<Action>) {
        if exact && self.flow != Flow::Availability {
            self.draft.chosen = slots.first().copied();
            self.continue_flow(out);
            return;
        }
        if slots.is_empty() {
            self.expect = Expect::OfferWaitlist;
            self.say(out, replies::NOTHING_FREE);
            return;
        }
        self.draft.offered = slots.clone();
        let today = self.today();
        let mut prefix = String::new();
        if let Wanted::At(dt) = self.wanted() {
            if !exact {
                let when = format!("{} {}", crate::speak::date(dt.date(), today), crate::speak::at_time(dt.time()));
                prefix = match reason {
                    Some(r) => format!("{} non è possibile ({r}). ", capitalize(&when)),
                    None => format!("{} non è disponibile. ", capitalize(&when)),
                };
            }
        }
        let items: Vec<String> = slots.iter().map(|s| self.when(s.start)).collect();
        let items = replies::compact_when_list(&items);
        if self.flow == Flow::Availability {
            self.expect = Expect::OfferBooking;
            self.say(out, format!("{prefix}Ho disponibilità {}. Vuole prenotare?", items));
        } else if slots.len() == 1 {
            self.expect = Expect::OfferBooking;
            self.say(out, format!("{prefix}Posso proporle {}. Le va bene?", items));
        } else {
            self.expect = Expect::ChooseSlot;
            self.say(out, format!("{prefix}Posso proporle {}. Quale preferisce?", items));
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

/// "la prima", "il secondo", "l'ultimo", "numero 2" → 0-based index.
fn pick_index(norm: &str, len: usize) -> Option<usize> {
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
fn bare_name(norm: &str) -> Option<String> {
    let ws: Vec<&str> = words(norm).collect();
    let stop = ["mi", "chiamo", "sono", "il", "mio", "nome", "e", "io", "a", "di"];
    let name_ws: Vec<&str> = ws.iter().copied().filter(|w| !stop.contains(w)).collect();
    if name_ws.is_empty() || name_ws.len() > 3 || name_ws.iter().any(|w| w.chars().any(|c| !c.is_alphabetic())) {
        return None;
    }
    Some(name_ws.iter().map(|w| capitalize(w)).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests;
