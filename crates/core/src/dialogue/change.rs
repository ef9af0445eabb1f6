//! Changing an existing appointment: identify the caller, pick the
//! appointment, find a new time (reschedule) and confirm.

use super::*;

impl Dialogue {
    pub(super) fn advance_change(&mut self, out: &mut Vec<Action>) {
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
            let s = format!("Sto per cancellare {}: confermo la cancellazione?", self.describe(&target));
            self.say(out, s);
            return;
        }
        // Reschedule: same service (and operator unless another is asked).
        self.draft.service_id = Some(target.service_id);
        self.shift_target_day();
        if self.draft.chosen.is_none() {
            if !self.has_when() {
                self.expect = Expect::When;
                let s = format!("Ho trovato {}. A quando vuole spostare l'appuntamento?", self.describe(&target));
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

    pub(super) fn describe(&self, a: &Appointment) -> String {
        format!("{} di {}", self.svc_the(a.service_id), self.when(a.start))
    }

    /// Handles a turn that answers the last question. Returns true when it did.

    pub(super) fn match_appointment(&self, nlu: &NluResult) -> Option<usize> {
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

    /// A number the caller said unlocks its appointments only with the
    /// name on the booking (one word of it, such as the surname, is enough).
    pub(super) fn check_name_on_booking(&mut self, c: Client, said: Option<String>, out: &mut Vec<Action>) {
        let stored: Vec<String> = words(&normalize(&c.name)).filter(|w| w.len() > 2).map(str::to_string).collect();
        let said_text = said.unwrap_or_else(|| self.pending_text.clone());
        let matches = words(&normalize(&said_text)).any(|w| stored.iter().any(|s| s == w));
        if matches {
            self.client.id = Some(c.id);
            self.client.name = Some(c.name.clone());
            self.known = Some(c);
            self.continue_flow(out);
        } else {
            self.reset_flow();
            self.say(out, replies::NAME_DOES_NOT_MATCH);
        }
    }
}
