//! Alternatives when the wanted day gives nothing: a closed day (Sunday,
//! Christmas, a closure) gets times on both sides of it, the nearest day
//! before and the nearest day after; a requested operator who is away, off
//! or busy is named with the reason, and the same time with another
//! operator is offered too.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::{Timestamp, ToSpan};

use super::{FrontDesk, Wanted};
use crate::booking::availability::{self, Query};
use crate::booking::{holidays, Appointment, Id, Repository, Service, Slot};
use crate::speak;

/// Days searched on each side of a day before giving up.
const SPAN_DAYS: i64 = 14;

/// The day and time of day a search is about, when it is about one day.
pub(super) fn one_day(wanted: Wanted) -> Option<(Date, Option<Time>)> {
    match wanted {
        Wanted::At(dt) => Some((dt.date(), Some(dt.time()))),
        Wanted::Day(d) => Some((d, None)),
        Wanted::Range(s, e) if e.date() == s.date() || (e.date() == s.date().tomorrow().unwrap_or(s.date()) && e.hour() == 0) => {
            Some((s.date(), Some(s.time())))
        }
        _ => None,
    }
}

/// From the nearest earlier day, the item nearest the wanted time of day
/// (the day's last without one); from the nearest later day, the nearest
/// `limit - 1` (the first ones without a time). Chronological.
pub(super) fn both_sides<T: Clone>(before: Vec<T>, after: Vec<T>, at: impl Fn(&T) -> DateTime, want: Option<Time>, limit: usize) -> Vec<T> {
    let secs = |t: Time| i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60;
    let near = |mut v: Vec<T>, n: usize, last: bool| -> Vec<T> {
        match want {
            Some(w) => v.sort_by_key(|x| ((secs(at(x).time()) - secs(w)).abs(), at(x))),
            None if last => v.reverse(),
            None => {}
        }
        v.truncate(n);
        v
    };
    let after_n = if before.is_empty() { limit } else { limit.saturating_sub(1).max(1) };
    let mut out = near(before, 1, true);
    out.extend(near(after, after_n, false));
    out.sort_by_key(|x| at(x));
    out
}

fn weekday_the(w: Weekday) -> &'static str {
    if w == Weekday::Sunday {
        "la"
    } else {
        "il"
    }
}

impl<R: Repository> FrontDesk<R> {
    /// Why the business is closed all day on `day`, in words: "la domenica
    /// siamo chiusi", "è Natale, siamo chiusi", "siamo chiusi: ferie".
    pub(super) fn closed_reason(&self, day: Date) -> Option<String> {
        let b = &self.info.business;
        if b.rules.closed_on_public_holidays {
            if let Some(h) = holidays::italian_public_holiday(day) {
                return Some(format!("è {}, siamo chiusi", holidays::said(h)));
            }
        }
        if let Some(c) = b.closures.iter().find(|c| c.from <= day && day <= c.to && c.range.is_none()) {
            return Some(format!("siamo chiusi: {}", c.reason.to_lowercase()));
        }
        if !b.hours.iter().any(|h| h.weekday == day.weekday()) {
            return Some(format!("{} {} siamo chiusi", weekday_the(day.weekday()), speak::weekday(day.weekday())));
        }
        None
    }

    /// The nearest day before `anchor` (not before `today`) and the nearest
    /// after it (not after `horizon`) where `items` finds something, within
    /// two weeks on each side.
    pub(super) fn around<T>(&self, anchor: Date, today: Date, horizon: Date, items: impl Fn(Date) -> Vec<T>) -> (Vec<T>, Vec<T>) {
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for k in 1..=SPAN_DAYS {
            if before.is_empty() {
                if let Ok(d) = anchor.checked_sub(k.days()) {
                    if d >= today {
                        before = items(d);
                    }
                }
            }
            if after.is_empty() {
                if let Ok(d) = anchor.checked_add(k.days()) {
                    if d <= horizon {
                        after = items(d);
                    }
                }
            }
            if !before.is_empty() && !after.is_empty() {
                break;
            }
        }
        (before, after)
    }

    /// The free start times of `service` on local day `d` (one per start
    /// unless an operator is given).
    pub(super) fn day_slots(&self, booked: &[Appointment], service: &Service, operator: Option<Id>, d: Date, now: Timestamp) -> Vec<Slot> {
        let q = Query { service, operator, from: d, to: d, now };
        let all = availability::free_slots(&self.info.business, &self.info.operators, booked, &q).unwrap_or_default();
        if operator.is_none() {
            availability::distinct_starts(&all)
        } else {
            all
        }
    }

    /// Why operator `op` has nothing on `day`: "Giulia è in ferie",
    /// "Martina il lunedì non lavora", "Francesca quel giorno è al completo".
    pub(super) fn operator_day_reason(&self, op: Id, day: Date) -> Option<String> {
        let o = self.info.operator(op)?;
        if let Some(a) = o.absences.iter().find(|a| a.from <= day && day <= a.to && a.range.is_none()) {
            return Some(format!("{} {}", o.name, absent_words(&a.reason)));
        }
        if !o.hours.is_empty() && !o.hours.iter().any(|h| h.weekday == day.weekday()) {
            return Some(format!("{} {} {} non lavora", o.name, weekday_the(day.weekday()), speak::weekday(day.weekday())));
        }
        Some(format!("{} quel giorno è al completo", o.name))
    }
}

/// "è in ferie", "è assente per congresso".
pub(super) fn absent_words(reason: &str) -> String {
    let r = reason.trim().to_lowercase();
    if r.is_empty() {
        "è assente".to_string()
    } else if r.contains("ferie") || r.contains("vacanza") {
        "è in ferie".to_string()
    } else {
        format!("è assente per {r}")
    }
}
