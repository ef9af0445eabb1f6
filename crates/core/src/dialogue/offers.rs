//! Offering times: the slots found (or packages of consecutive services)
//! said in chronological order and grouped by day ("venerdì alle nove, alle
//! nove e un quarto o alle dieci"), after why the wanted time is not
//! possible; when an operator was asked for, their times come first and the
//! others are named with their operator.

use super::*;
use crate::speak;

impl Dialogue {
    pub(super) fn on_slots(&mut self, slots: Vec<Slot>, exact: bool, reason: Option<String>, out: &mut Vec<Action>) {
        let rest = vec![Vec::new(); slots.len()];
        self.on_offers(slots, rest, exact, reason, out);
    }

    pub(super) fn on_packages(&mut self, packages: Vec<Vec<Slot>>, exact: bool, reason: Option<String>, out: &mut Vec<Action>) {
        let (slots, rest): (Vec<Slot>, Vec<Vec<Slot>>) = packages
            .into_iter()
            .filter_map(|p| {
                let mut it = p.into_iter();
                let first = it.next()?;
                Some((first, it.collect()))
            })
            .unzip();
        self.on_offers(slots, rest, exact, reason, out);
    }

    fn on_offers(&mut self, slots: Vec<Slot>, rest: Vec<Vec<Slot>>, exact: bool, reason: Option<String>, out: &mut Vec<Action>) {
        if exact && self.flow != Flow::Availability {
            self.draft.chosen = slots.first().copied();
            self.draft.chosen_rest = rest.into_iter().next().unwrap_or_default();
            self.continue_flow(out);
            return;
        }
        if slots.is_empty() {
            self.expect = Expect::OfferWaitlist;
            self.say(out, replies::NOTHING_FREE);
            return;
        }
        let mut pairs: Vec<(Slot, Vec<Slot>)> = slots.into_iter().zip(rest.into_iter().chain(std::iter::repeat(Vec::new()))).collect();
        pairs.sort_by_key(|(s, _)| (s.start, s.operator_id));
        pairs.dedup_by_key(|(s, _)| (s.start, s.operator_id));
        // The operator asked for first, then the others by first appearance.
        if let Some(op) = self.draft.operator_id {
            let order: Vec<Id> = pairs.iter().map(|p| p.0.operator_id).fold(Vec::new(), |mut v, o| {
                if !v.contains(&o) {
                    v.push(o);
                }
                v
            });
            let rank = |o: Id| if o == op { 0 } else { 1 + order.iter().position(|x| *x == o).unwrap_or(0) };
            pairs.sort_by_key(|(s, _)| (rank(s.operator_id), s.start));
        }
        self.draft.offered = pairs.iter().map(|p| p.0).collect();
        self.draft.offered_rest = pairs.into_iter().map(|p| p.1).collect();
        let prefix = self.unavailable_prefix(reason);
        let offered = self.draft.offered.clone();
        let items = self.offer_text(&offered);
        if self.flow == Flow::Availability {
            self.expect = Expect::OfferBooking;
            self.say(out, format!("{prefix}Ho disponibilità {items}. Vuole prenotare?"));
        } else if offered.len() == 1 {
            self.expect = Expect::OfferBooking;
            self.say(out, format!("{prefix}Posso proporle {items}. Le va bene?"));
        } else {
            self.expect = Expect::ChooseSlot;
            self.say(out, format!("{prefix}Posso proporle {items}. Quale preferisce?"));
        }
    }

    /// Why what was wanted is not among the offers: "Domenica alle dieci
    /// non è possibile: la domenica siamo chiusi. ".
    fn unavailable_prefix(&self, reason: Option<String>) -> String {
        let today = self.today();
        let day = |d: Date| capitalize(&speak::date(d, today));
        let on_day = |d: Date| self.draft.offered.iter().any(|s| self.info.local(s.start).date() == d);
        match (self.wanted(), reason) {
            (Wanted::At(dt), Some(r)) => format!("{} {} non è possibile: {r}. ", day(dt.date()), speak::at_time(dt.time())),
            (Wanted::At(dt), None) => format!("{} {} non è disponibile. ", day(dt.date()), speak::at_time(dt.time())),
            (Wanted::Day(d), Some(r)) => format!("{} non è possibile: {r}. ", day(d)),
            (Wanted::Range(s, _), Some(r)) => format!("{} non è possibile: {r}. ", day(s.date())),
            (Wanted::Day(d), None) if !on_day(d) => format!("{} non ho posti liberi. ", day(d)),
            (Wanted::Range(s, e), None) if !on_day(s.date()) && e.date() <= s.date().tomorrow().unwrap_or(s.date()) => {
                format!("{} in quella fascia non ho posti liberi. ", day(s.date()))
            }
            _ => String::new(),
        }
    }

    /// The offers as said: by operator when one was asked for and others
    /// appear ("con Francesca venerdì alle dodici, oppure con Giulia
    /// venerdì alle undici"), otherwise one list.
    fn offer_text(&self, slots: &[Slot]) -> String {
        if !self.draft.operator_id.is_some_and(|op| slots.iter().any(|s| s.operator_id != op)) {
            return self.when_list(slots);
        }
        let mut groups: Vec<(Id, Vec<Slot>)> = Vec::new();
        for s in slots {
            match groups.iter_mut().find(|g| g.0 == s.operator_id) {
                Some(g) => g.1.push(*s),
                None => groups.push((s.operator_id, vec![*s])),
            }
        }
        let parts: Vec<String> = groups.iter().map(|(o, ss)| format!("con {} {}", self.op_name(*o), self.when_list(ss))).collect();
        parts.join(", oppure ")
    }

    /// Times grouped by day, in the order given: "domani alle nove, alle
    /// nove e mezza o venerdì dodici marzo a mezzogiorno".
    pub(super) fn when_list(&self, slots: &[Slot]) -> String {
        let today = self.today();
        let mut items = Vec::new();
        let mut last = None;
        for s in slots {
            let l = self.info.local(s.start);
            let t = speak::at_time(l.time());
            if last == Some(l.date()) {
                items.push(t);
            } else {
                items.push(format!("{} {t}", speak::date(l.date(), today)));
            }
            last = Some(l.date());
        }
        replies::list(&items)
    }
}
