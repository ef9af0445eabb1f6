//! Results of the actions the session carried out (look-ups, slot searches,
//! writes, the L4 fallback), turned into replies and the next step.

use super::*;

impl Dialogue {
    pub(super) fn outcome(&mut self, o: Outcome, out: &mut Vec<Action>) {
        match o {
            Outcome::Client(c) => {
                let first_turn = self.greeted && self.last_intent.is_none();
                match c {
                    Some(c) if !self.caller_verified && matches!(self.flow, Flow::Reschedule | Flow::Cancel | Flow::MyAppointments) => {
                        self.candidate = Some(c);
                        self.expect = Expect::Name;
                        self.say(out, replies::ASK_NAME_ON_BOOKING);
                        return;
                    }
                    Some(c) => {
                        self.client.id = Some(c.id);
                        self.client.name = Some(c.name.clone());
                        self.client.phone = Some(c.phone.clone());
                        self.known = Some(c);
                    }
                    None if !first_turn && matches!(self.flow, Flow::Reschedule | Flow::Cancel | Flow::MyAppointments) => {
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
            Outcome::Packages { packages, exact, reason } => self.on_packages(packages, exact, reason, out),
            Outcome::Booked(r) => match r {
                Ok((a, c)) => {
                    self.client.id = Some(c.id);
                    self.client.name = Some(c.name.clone());
                    self.known = Some(c);
                    self.last_booking = Some(a.clone());
                    self.done.push(a);
                    if !self.queue.is_empty() {
                        self.book_next(out);
                        return;
                    }
                    let items: Vec<(Id, Slot)> = std::mem::take(&mut self.done)
                        .iter()
                        .map(|a| (a.service_id, Slot { operator_id: a.operator_id, start: a.start, end: a.end }))
                        .collect();
                    let s = format!("Perfetto, ho prenotato {}. La aspettiamo!", self.describe_package(&items));
                    self.reset_flow();
                    self.say(out, s);
                    self.say(out, replies::ANYTHING_ELSE);
                }
                Err(f) if !self.done.is_empty() => self.package_broken(f, out),
                Err(f) => {
                    self.queue.clear();
                    self.write_failed(f, out)
                }
            },
            Outcome::Upcoming(list) if self.flow == Flow::MyAppointments => {
                let items: Vec<String> = list
                    .iter()
                    .take(3)
                    .map(|a| {
                        let slot = Slot { operator_id: a.operator_id, start: a.start, end: a.end };
                        self.describe_package(&[(a.service_id, slot)])
                    })
                    .collect();
                self.reset_flow();
                match items.as_slice() {
                    [] => self.say(out, replies::NO_APPOINTMENTS),
                    [one] => {
                        self.say(out, format!("Ha appuntamento per {one}."));
                        self.say(out, replies::ANYTHING_ELSE);
                    }
                    _ => {
                        self.say(out, format!("Ha questi appuntamenti: {}.", replies::and_list(&items)));
                        self.say(out, replies::ANYTHING_ELSE);
                    }
                }
            }
            Outcome::Upcoming(list) => {
                self.upcoming = list;
                // "Il colore di giovedì al giorno dopo": the day named is
                // the appointment's; one appointment that day is the one.
                if self.draft.shift_from_target.is_some() && self.upcoming.len() > 1 {
                    let on_day: Vec<&Appointment> =
                        self.upcoming.iter().filter(|a| Some(self.info.local(a.start).date()) == self.draft.date).collect();
                    if let [one] = on_day.as_slice() {
                        self.target = Some((*one).clone());
                        self.continue_flow(out);
                        return;
                    }
                }
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
                                replies::and_list(&items)
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
                        let s = format!("Come al solito: {} con {}.", self.svc_the(last.service_id), self.op_name(last.operator_id));
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
                    let s = format!("Fatto: ho spostato l'appuntamento a {} con {}.", self.when(a.start), self.op_name(a.operator_id));
                    self.last_booking = Some(a);
                    self.reset_flow();
                    self.say(out, s);
                    self.say(out, replies::ANYTHING_ELSE);
                }
                Err(f) => self.write_failed(f, out),
            },
            Outcome::Recorded(r) => self.recorded(r, out),
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

    /// Writes the next booking of a confirmed package.
    pub(super) fn book_next(&mut self, out: &mut Vec<Action>) {
        if self.queue.is_empty() {
            return;
        }
        let (service_id, slot) = self.queue.remove(0);
        out.push(Action::Book { client: self.client.clone(), service_id, slot });
    }

    /// A package written only in part: say what was booked and what was
    /// not, then look for the rest after the last booked service.
    fn package_broken(&mut self, f: WriteFailure, out: &mut Vec<Action>) {
        let failed: Vec<Id> = self.draft_failed_services();
        let done: Vec<(Id, Slot)> = std::mem::take(&mut self.done)
            .iter()
            .map(|a| (a.service_id, Slot { operator_id: a.operator_id, start: a.start, end: a.end }))
            .collect();
        self.queue.clear();
        let missing: Vec<String> = failed.iter().map(|id| self.svc_the(*id)).collect();
        let booked = self.describe_package(&done);
        self.say(out, format!("Ho prenotato {booked}, ma per {} a seguire l'orario non è più libero.", replies::and_list(&missing)));
        if f == WriteFailure::Unavailable || failed.is_empty() {
            self.reset_flow();
            self.say(out, replies::ANYTHING_ELSE);
            return;
        }
        let after = done.last().map(|(_, s)| self.info.local(s.end));
        self.draft = Draft::default();
        self.set_package(failed);
        if let Some(t) = after {
            self.draft.date = Some(t.date());
            self.draft.time = Some(t.time());
        }
        self.flow = Flow::Booking;
        self.continue_flow(out);
    }

    /// The services of the package not written yet (the one that failed
    /// and those queued after it).
    fn draft_failed_services(&self) -> Vec<Id> {
        let booked: Vec<Id> = self.done.iter().map(|a| a.service_id).collect();
        self.package().into_iter().filter(|id| !booked.contains(id)).collect()
    }

    pub(super) fn not_understood(&mut self, out: &mut Vec<Action>) {
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

    pub(super) fn write_failed(&mut self, f: WriteFailure, out: &mut Vec<Action>) {
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
}
