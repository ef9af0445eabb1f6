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
            Outcome::Booked(r) => match r {
                Ok((a, c)) => {
                    self.client.id = Some(c.id);
                    self.client.name = Some(c.name.clone());
                    self.known = Some(c);
                    let s = format!(
                        "Perfetto, ho prenotato {} {} con {}. La aspettiamo!",
                        self.svc_the(a.service_id),
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
            Outcome::Upcoming(list) if self.flow == Flow::MyAppointments => {
                let items: Vec<String> = list.iter().take(3).map(|a| self.describe(a)).collect();
                self.reset_flow();
                if items.is_empty() {
                    self.say(out, replies::NO_APPOINTMENTS);
                } else {
                    self.say(out, format!("Ho trovato {}.", replies::list(&items)));
                    self.say(out, replies::ANYTHING_ELSE);
                }
            }
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
