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
        self.merge_services(nlu);
        self.merge_operator(nlu);
        self.merge_when(nlu);
    }

    /// Takes the operator asked for; a word of the caller's own name is not
    /// one unless asked for as such ("mi chiamo De Luca Maria").
    pub(super) fn merge_operator(&mut self, nlu: &NluResult) {
        let norm = normalize(&self.pending_text);
        let own_name = |op: &str| {
            let op = normalize(op);
            let in_name = |n: &str| words(&normalize(n)).any(|w| w == op);
            nlu.slots.name.as_deref().is_some_and(in_name) || self.client.name.as_deref().is_some_and(in_name)
        };
        let operator = nlu.slots.operator.as_deref().filter(|o| !own_name(o) || crate::nlu::l2_slots::operator_asked(&norm, o));
        if let Some(o) = operator.and_then(|n| self.info.operator_named(n)) {
            if self.draft.operator_id != Some(o.id) {
                self.draft.operator_id = Some(o.id);
                self.draft.chosen = None;
            }
        } else if nlu.slots.operator.is_none() {
            self.draft.unknown_operator = unknown_doctor(&norm, &self.info);
        }
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
        if self.draft.choice.is_some() {
            self.ask_choice(out);
            return;
        }
        if let Some(who) = self.draft.unknown_operator.take() {
            self.say(out, format!("Mi dispiace, {who} non lavora da noi."));
        }
        let Some(service_id) = self.draft.service_id else {
            self.expect = Expect::Service;
            self.say(out, replies::ask_service(&self.info));
            return;
        };
        let package = self.package();
        if let Some(op) = self.draft.operator_id {
            let performs = |id: Id| self.info.operator(op).is_some_and(|o| o.service_ids.contains(&id));
            if !package.iter().any(|id| performs(*id)) {
                let who = replies::operator_list(&self.info, service_id);
                let verb = if who.contains(" e ") { "fanno" } else { "fa" };
                let s = format!("{} non si occupa {}, che {verb} {who}.", self.op_name(op), self.svc_of(service_id));
                self.draft.operator_id = None;
                self.say(out, s);
            }
        }
        if self.draft.chosen.is_none() {
            if !self.has_when() {
                self.expect = Expect::When;
                self.say(out, replies::ASK_WHEN);
                return;
            }
            let wanted = self.wanted();
            let operator_id = self.draft.operator_id;
            if package.len() > 1 {
                out.push(Action::FindPackages { service_ids: package, operator_id, wanted, limit: 3 });
            } else {
                out.push(Action::FindSlots { service_id, operator_id, wanted, limit: 3 });
            }
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
        let name = self.known.as_ref().map(|c| c.name.clone()).or_else(|| self.client.name.clone());
        self.expect = Expect::ConfirmBooking;
        let items: Vec<(Id, Slot)> =
            self.package().into_iter().zip(std::iter::once(slot).chain(self.draft.chosen_rest.iter().copied())).collect();
        let mut s = format!("Ricapitolo: {}", self.describe_package(&items));
        if let Some(n) = name {
            s.push_str(&format!(", a nome di {n}"));
        }
        s.push_str(". Confermo la prenotazione?");
        self.say(out, s);
    }

    /// "la piega domani alle dieci con Giulia"; several services: "il colore
    /// e la piega venerdì alle quindici con Francesca", or with their own
    /// operators "il tagliando venerdì alle nove con Roberto e a seguire il
    /// cambio gomme con Matteo".
    pub(super) fn describe_package(&self, items: &[(Id, Slot)]) -> String {
        let Some((first_svc, first)) = items.first() else { return String::new() };
        let when = self.when(first.start);
        let same_op = items.iter().all(|(_, s)| s.operator_id == first.operator_id);
        if same_op {
            let names: Vec<String> = items.iter().map(|(id, _)| self.svc_the(*id)).collect();
            return format!("{} {when} con {}", replies::and_list(&names), self.op_name(first.operator_id));
        }
        let mut s = format!("{} {when} con {}", self.svc_the(*first_svc), self.op_name(first.operator_id));
        for (id, slot) in &items[1..] {
            s.push_str(&format!(" e a seguire {} con {}", self.svc_the(*id), self.op_name(slot.operator_id)));
        }
        s
    }

    pub(super) fn when(&self, t: Timestamp) -> String {
        let local = self.info.local(t);
        format!("{} {}", crate::speak::date(local.date(), self.today()), crate::speak::at_time(local.time()))
    }

    /// The service's name with its article: "la piega".
    pub(super) fn svc_the(&self, id: Id) -> String {
        self.info.service(id).map(replies::with_article).unwrap_or_default()
    }

    /// "del colore", "della piega", "dell'ecografia".
    pub(super) fn svc_of(&self, id: Id) -> String {
        self.info.service(id).map(|s| replies::with_preposition("di", s)).unwrap_or_default()
    }

    pub(super) fn op_name(&self, id: Id) -> String {
        self.info.operator(id).map(|o| o.name.clone()).unwrap_or_default()
    }
}

/// "la dottoressa Bianchi", "il dottor Verdi" in the normalised turn when no
/// operator has that name.
fn unknown_doctor(norm: &str, info: &BusinessInfo) -> Option<String> {
    let ws: Vec<&str> = words(norm).collect();
    let i = ws.iter().position(|w| matches!(*w, "dottor" | "dottore" | "dottoressa" | "dott" | "dssa" | "dr"))?;
    let name = ws.get(i + 1).filter(|w| w.len() > 2 && w.chars().all(char::is_alphabetic))?;
    const NOT_NAMES: &[&str] = &["per", "che", "con", "del", "della", "dei", "alle", "domani", "oggi", "possibile", "disponibile"];
    if NOT_NAMES.contains(name) || info.operators.iter().any(|o| normalize(&o.name) == *name) {
        return None;
    }
    let title = if ws[i] == "dottoressa" || ws[i] == "dssa" { "la dottoressa" } else { "il dottor" };
    Some(format!("{title} {}", capitalize(name)))
}
