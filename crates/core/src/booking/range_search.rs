//! Slot search inside a wanted local range: "giovedì pomeriggio", "dal 3
//! al 5 maggio", "prima delle 10", "dopo le 17", "a partire dal 9".
//!
//! The range comes from the date resolver ([`crate::nlu::DateTimeSlot::Range`])
//! with its linguistic bounds (pomeriggio 12–19, "prima delle 10" from
//! midnight); opening hours, closures, notice and horizon clip it here,
//! through the same checks as every other search in [`super::availability`].
//! The end is exclusive and applies to the slot's start: after "prima delle
//! 10" nothing starting at 10:00 is offered, after "dopo le 17" 17:00 is.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use super::availability::{self, AvailabilityError, Query};
use super::{Appointment, Business, Id, Operator, Service, Slot};

/// The most days [`free_in_window_later`] looks ahead.
pub const MAX_WINDOW_DAYS: i64 = 31;

/// Free slots of `service` whose local start (business time zone) lies in
/// `[start, end)`, sorted by start then operator id, one entry per free
/// (start, operator) pair as in [`availability::free_slots`].
///
/// # Errors
/// [`AvailabilityError`] for an unknown time zone, operator or a service
/// nobody performs.
#[allow(clippy::too_many_arguments)]
pub fn free_in_range(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    start: DateTime,
    end: DateTime,
    now: Timestamp,
) -> Result<Vec<Slot>, AvailabilityError> {
    if end <= start {
        return Ok(Vec::new());
    }
    let tz = TimeZone::get(&business.timezone).map_err(|_| AvailabilityError::TimeZone(business.timezone.clone()))?;
    // The last day that can hold a start before `end`.
    let last = if end.time() == jiff::civil::Time::midnight() { end.date().yesterday().unwrap_or(end.date()) } else { end.date() };
    let q = Query { service, operator, from: start.date(), to: last.max(start.date()), now };
    let mut slots = availability::free_slots(business, operators, booked, &q)?;
    slots.retain(|s| {
        let local = tz.to_datetime(s.start);
        local >= start && local < end
    });
    Ok(slots)
}

/// The same local window moved to the following days: the free slots of the
/// first of the next `days` days (at most [`MAX_WINDOW_DAYS`]) that has any,
/// or none. Used to offer alternatives that still honour a time of day or a
/// bound ("prima delle 10" on a full Thursday gives Friday before 10).
///
/// # Errors
/// As [`free_in_range`].
#[allow(clippy::too_many_arguments)]
pub fn free_in_window_later(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    start: DateTime,
    end: DateTime,
    days: i64,
    now: Timestamp,
) -> Result<Vec<Slot>, AvailabilityError> {
    for k in 1..=days.min(MAX_WINDOW_DAYS) {
        let shift = |d: DateTime| d.checked_add(Span::new().days(k)).ok();
        let (Some(s), Some(e)) = (shift(start), shift(end)) else { break };
        let found = free_in_range(business, operators, booked, service, operator, s, e, now)?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{AppointmentStatus, BookingRules, Channel, TimeRange, Vertical, WeeklyHours};
    use jiff::civil::{date, time, Weekday};

    const ROME: &str = "Europe/Rome";

    /// Mon–Sat 09:00–13:00 and 14:00–19:00, no notice, no buffer.
    fn business() -> Business {
        let mut hours = Vec::new();
        for wd in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday] {
            hours.push(WeeklyHours { weekday: wd, range: TimeRange { start: time(9, 0, 0, 0), end: time(13, 0, 0, 0) } });
            hours.push(WeeklyHours { weekday: wd, range: TimeRange { start: time(14, 0, 0, 0), end: time(19, 0, 0, 0) } });
        }
        Business {
            id: 1,
            name: "Salone Test".into(),
            vertical: Vertical::Salone,
            timezone: ROME.into(),
            address: "Via Roma 1".into(),
            phone: "+390000000".into(),
            hours,
            closures: Vec::new(),
            rules: BookingRules { buffer_min: 0, min_notice_min: 0, horizon_days: 60, slot_step_min: 15, closed_on_public_holidays: true },
        }
    }

    fn service() -> Service {
        Service { id: 1, name: "Taglio".into(), synonyms: Vec::new(), duration_min: 30, price_cents: 2500, gender: None, category: None }
    }

    fn op(id: Id) -> Operator {
        Operator { id, name: format!("Op{id}"), service_ids: vec![1], hours: Vec::new(), absences: Vec::new() }
    }

    fn rome(d: jiff::civil::Date, h: i8, mi: i8) -> Timestamp {
        d.at(h, mi, 0, 0).in_tz(ROME).unwrap().timestamp()
    }

    fn hhmm(slots: &[Slot]) -> Vec<String> {
        let tz = TimeZone::get(ROME).unwrap();
        slots.iter().map(|s| tz.to_datetime(s.start).strftime("%d %H:%M").to_string()).collect()
    }

    /// Monday 2027-03-01 07:00.
    fn now() -> Timestamp {
        rome(date(2027, 3, 1), 7, 0)
    }

    #[test]
    fn before_a_deadline_never_starts_at_it() {
        let (b, svc, ops) = (business(), service(), [op(1)]);
        let day = date(2027, 3, 2);
        // "prima delle 10": from midnight (clipped to opening at 9) to 10.
        let got = free_in_range(&b, &ops, &[], &svc, None, day.at(0, 0, 0, 0), day.at(10, 0, 0, 0), now()).unwrap();
        assert_eq!(hhmm(&got), ["02 09:00", "02 09:15", "02 09:30", "02 09:45"]);
    }

    #[test]
    fn after_a_time_runs_to_closing() {
        let (b, svc, ops) = (business(), service(), [op(1)]);
        let day = date(2027, 3, 2);
        // "dopo le 18": 18:00 is offered, the last start is 18:30 (30 min).
        let got = free_in_range(&b, &ops, &[], &svc, None, day.at(18, 0, 0, 0), date(2027, 3, 3).at(0, 0, 0, 0), now()).unwrap();
        assert_eq!(hhmm(&got), ["02 18:00", "02 18:15", "02 18:30"]);
    }

    #[test]
    fn a_range_of_days_spans_every_day_and_skips_closed_ones() {
        let (b, svc, ops) = (business(), service(), [op(1)]);
        // Sat 6 .. Mon 8 March, end exclusive: Sunday is closed.
        let got =
            free_in_range(&b, &ops, &[], &svc, None, date(2027, 3, 6).at(0, 0, 0, 0), date(2027, 3, 9).at(0, 0, 0, 0), now()).unwrap();
        let days: Vec<String> =
            hhmm(&got).iter().map(|s| s[..2].to_string()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        assert_eq!(days, ["06", "08"]);
    }

    #[test]
    fn a_full_window_moves_to_the_next_day_with_room() {
        let (b, svc, ops) = (business(), service(), [op(1)]);
        let day = date(2027, 3, 2);
        // 09:00–10:00 on Tuesday is booked: "prima delle 10" has nothing.
        let busy = Appointment {
            id: 1,
            client_id: 1,
            operator_id: 1,
            service_id: 1,
            start: rome(day, 9, 0),
            end: rome(day, 10, 0),
            status: AppointmentStatus::Booked,
            channel: Channel::Voice,
        };
        let (s, e) = (day.at(0, 0, 0, 0), day.at(10, 0, 0, 0));
        assert!(free_in_range(&b, &ops, &[busy.clone()], &svc, None, s, e, now()).unwrap().is_empty());
        let later = free_in_window_later(&b, &ops, &[busy], &svc, None, s, e, 7, now()).unwrap();
        assert_eq!(hhmm(&later), ["03 09:00", "03 09:15", "03 09:30", "03 09:45"]);
    }

    #[test]
    fn an_empty_or_inverted_range_has_no_slots() {
        let (b, svc, ops) = (business(), service(), [op(1)]);
        let t = date(2027, 3, 2).at(10, 0, 0, 0);
        assert!(free_in_range(&b, &ops, &[], &svc, None, t, t, now()).unwrap().is_empty());
    }
}
