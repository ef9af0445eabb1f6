//! The booking flow: service → when → slot search → name and phone →
//! read-back, and how date/time, service and operator slots merge into the
//! draft.

use super::*;

impl Dialogue {
    pub(super) fn has_when(&self) -> bool {
        self.draft.date.is_some() || self.draft.range.is_some() || self.draft.earliest
    }

    /// Takes date/time slots into the draft; a time alone keeps the day
    /// already chosen ("no, alle 16").
    pub(super) fn merge_when(&mut self, nlu: &NluResult) {
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
                // "mercoledì alla stessa ora" moves the day and keeps the time.
                let same_time = ["stessa ora", "stesso orario", "stessa orario"].iter().any(|p| normalize(&self.pending_text).contains(p));
                self.draft.time = if time_given {
                    Some(value.time())
                } else if nlu.slots.date_given && !same_time {
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

    pub(super) fn pending_text_says_earliest(&self) -> bool {
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

    pub(super) fn merge_booking_slots(&mut self, nlu: &NluResult) {
        if let Some(s) = nlu.slots.service.as_deref().and_then(|n| self.info.service_named(n)) {
            if self.draft.service_id != Some(s.id) {
                self.draft.service_id = Some(s.id);
                self.draft.chosen = None;
            }
        }
        let own_name = |op: &str| {
            let op = normalize(op);
            let in_name = |n: &str| words(&normalize(n)).any(|w| w == op);
            nlu.slots.name.as_deref().is_some_and(in_name) || self.client.name.as_deref().is_some_and(in_name)
        };
        let operator = nlu.slots.operator.as_deref().filter(|o| !own_name(o));
        if let Some(o) = operator.and_then(|n| self.info.operator_named(n)) {
            self.draft.operator_id = Some(o.id);
            self.draft.chosen = None;
        }
        self.merge_when(nlu);
    }

    pub(super) fn continue_flow(&mut self, out: &mut Vec<Action>) {
        match self.flow {
            Flow::Booking | Flow::Availability => self.advance_booking(out),
            Flow::Reschedule | Flow::Cancel => self.advance_change(out),
            Flow::Request => self.advance_request(out),
            Flow::MyAppointments => self.advance_change(out),
            Flow::Idle => self.say(out, replies::HOW_CAN_I_HELP),
        }
    }

    /// The booking flow: service → when → slot → name/phone → read-back.
    pub(super) fn advance_booking(&mut self, out: &mut Vec<Action>) {
        let Some(service_id) = self.draft.service_id else {
            self.expect = Expect::Service;
            self.say(out, replies::ask_service(&self.info));
            return;
        };
        if let Some(op) = self.draft.operator_id {
            if !self.info.operator(op).is_some_and(|o| o.service_ids.contains(&service_id)) {
                let (op_name, svc_name) = (self.op_name(op), self.svc_the(service_id));
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

    pub(super) fn wanted(&self) -> Wanted {
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

    pub(super) fn read_back(&mut self, out: &mut Vec<Action>) {
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

    pub(super) fn when(&self, t: Timestamp) -> String {
        let local = self.info.local(t);
        format!("{} {}", crate::speak::date(local.date(), self.today()), crate::speak::at_time(local.time()))
    }

    /// The service's name with its article: "la piega".
    pub(super) fn svc_the(&self, id: Id) -> String {
        self.info.service(id).map(replies::with_article).unwrap_or_default()
    }

    pub(super) fn svc_name(&self, id: Id) -> String {
        self.info.service(id).map(|s| s.name.to_lowercase()).unwrap_or_default()
    }

    pub(super) fn op_name(&self, id: Id) -> String {
        self.info.operator(id).map(|o| o.name.clone()).unwrap_or_default()
    }

    /// The reschedule / cancel flow: identify → pick the appointment → (new
    /// time) → confirm.

    pub(super) fn on_slots(&mut self, slots: Vec<Slot>, exact: bool, reason: Option<String>, out: &mut Vec<Action>) {
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
