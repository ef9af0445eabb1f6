//! Resolution: combines the parts of one expression (date, clock time or
//! bound, part of day) into a [`DateTimeSlot`] against "now".

use super::*;

/// The time said in an expression, as one thing to place on a day.
#[derive(Debug, Clone, Copy)]
enum When {
    At(Clock),
    Between(Clock, Clock),
    Bound(Clock, Bound),
}

/// Combines the first date part, the first clock (clock range or clock
/// bound) and the first part of day into one slot.
pub(super) fn combine(parts: &[Part], now: DateTime) -> Option<Resolved> {
    let today = now.date();
    if parts.contains(&Part::Invalid) {
        return None;
    }
    let base = now.with().second(0).subsec_nanosecond(0).build().ok()?;
    if let Some(minutes) = parts.iter().find_map(|p| if let Part::Offset(m) = p { Some(*m) } else { None }) {
        let value = base.checked_add(Span::new().try_minutes(minutes).ok()?).ok()?;
        return Some(Resolved {
            slot: DateTimeSlot::Instant { value, grain: clock_grain(value.minute()) },
            date_given: true,
            time_given: true,
        });
    }
    if let Some(minutes) = parts.iter().find_map(|p| if let Part::Within(m) = p { Some(*m) } else { None }) {
        let end = base.checked_add(Span::new().try_minutes(minutes).ok()?).ok()?;
        let grain = if base.minute() == 0 && end.minute() == 0 { Grain::Hour } else { Grain::Minute };
        return Some(Resolved {
            slot: DateTimeSlot::Range { start: base, end, grain, open: Some(OpenEnd::Start) },
            date_given: true,
            time_given: true,
        });
    }
    let next_week = parts.contains(&Part::Date(DatePart::NextWeek));
    let this_week = parts.contains(&Part::Date(DatePart::ThisWeek));
    let dates: Vec<DatePart> = parts.iter().filter_map(|p| if let Part::Date(d) = p { Some(*d) } else { None }).collect();
    // Explicit days beat weekdays ("giovedì 15 marzo"), weekdays beat the
    // bare "settimana prossima"/"questa settimana" (which then only qualify
    // them).
    let date = dates
        .iter()
        .find(|d| matches!(d, DatePart::Day(_) | DatePart::Days(..)))
        .or_else(|| dates.iter().find(|d| matches!(d, DatePart::Weekday(..))))
        .or_else(|| dates.first())
        .copied();
    let pod = parts.iter().find_map(|p| if let Part::Pod(p) = p { Some(*p) } else { None });
    let when = parts.iter().find_map(|p| match p {
        Part::Clock(c) => Some(When::At(*c)),
        Part::ClockRange(a, b) => Some(When::Between(*a, *b)),
        Part::ClockBound(c, b) => Some(When::Bound(*c, *b)),
        _ => None,
    });

    // The date, as days: one day, or a span of days (end exclusive).
    let days: Option<(Date, Option<(Date, Option<OpenEnd>)>)> = match date {
        None => None,
        Some(DatePart::Day(d)) => Some((d, None)),
        Some(DatePart::Days(s, e, open)) => Some((s, Some((e, open)))),
        Some(DatePart::Weekday(wd, mode)) => {
            let mode = if this_week { WeekdayMode::This } else { mode };
            Some((weekday_date(today, wd, mode, next_week)?, None))
        }
        Some(DatePart::ThisWeek) => Some((today, Some((next_monday(today)?, None)))),
        Some(DatePart::NextWeek) => {
            let monday = next_monday(today)?;
            Some((monday, Some((monday.checked_add(Span::new().days(7)).ok()?, None))))
        }
    };
    let date_given = days.is_some();
    let time_given = when.is_some() || pod.is_some();

    let slot = match (days, when, pod) {
        (None, None, None) => return None,
        // Spans of days ignore times: "la settimana prossima".
        (Some((start, Some((end, open)))), _, _) => {
            DateTimeSlot::Range { start: midnight(start), end: midnight(end), grain: Grain::Day, open }
        }
        (Some((day, None)), None, None) => DateTimeSlot::Instant { value: midnight(day), grain: Grain::Day },
        (day, Some(when), pod) => {
            let on = |d: Date| place(when, pod, d);
            match day {
                Some((d, _)) => on(d)?,
                None => {
                    let today_slot = on(today)?;
                    if key_instant(&today_slot) > now {
                        today_slot
                    } else {
                        on(today.tomorrow().ok()?)?
                    }
                }
            }
        }
        (day, None, Some(pod)) => {
            let d = match day {
                Some((d, _)) => d,
                None => {
                    let (_, end) = pod.range_on(today)?;
                    if now < end {
                        today
                    } else {
                        today.tomorrow().ok()?
                    }
                }
            };
            let (start, end) = pod.range_on(d)?;
            DateTimeSlot::Range { start, end, grain: Grain::Hour, open: None }
        }
    };
    Some(Resolved { slot, date_given, time_given })
}

/// The slot of a clock time, clock range or clock bound on day `d`.
fn place(when: When, pod: Option<PartOfDay>, d: Date) -> Option<DateTimeSlot> {
    let range = |s: DateTime, e: DateTime, open: Option<OpenEnd>| {
        let grain = if s.minute() == 0 && e.minute() == 0 { Grain::Hour } else { Grain::Minute };
        DateTimeSlot::Range { start: s, end: e, grain, open }
    };
    Some(match when {
        When::At(c) => {
            let (h, m) = c.resolve(pod);
            let s = at(d, h, m)?;
            DateTimeSlot::Instant { value: s, grain: clock_grain(m) }
        }
        When::Between(a, b) => {
            let (sh, sm) = a.resolve(pod);
            let (eh, em) = b.resolve(pod);
            let s = at(d, sh, sm)?;
            let mut e = at(d, eh, em)?;
            if e <= s {
                e = e.checked_add(Span::new().days(1)).ok()?;
            }
            range(s, e, None)
        }
        When::Bound(c, Bound::Before) => {
            let (h, m) = c.resolve(pod);
            let e = if (h, m) == (0, 0) { midnight(d.tomorrow().ok()?) } else { at(d, h, m)? };
            range(midnight(d), e, Some(OpenEnd::Start))
        }
        When::Bound(c, Bound::After) => {
            let (h, m) = c.resolve(pod);
            range(at(d, h, m)?, midnight(d.tomorrow().ok()?), Some(OpenEnd::End))
        }
    })
}

/// The instant that decides whether a time without a date is still ahead
/// today: the deadline of a range open at its start, else the start.
fn key_instant(slot: &DateTimeSlot) -> DateTime {
    match *slot {
        DateTimeSlot::Range { end, open: Some(OpenEnd::Start), .. } => end,
        _ => slot_start(slot),
    }
}

pub(super) fn slot_start(slot: &DateTimeSlot) -> DateTime {
    match *slot {
        DateTimeSlot::Instant { value, .. } => value,
        DateTimeSlot::Range { start, .. } => start,
    }
}

pub(super) fn clock_grain(minute: i8) -> Grain {
    if minute == 0 {
        Grain::Hour
    } else {
        Grain::Minute
    }
}

pub(super) fn midnight(d: Date) -> DateTime {
    d.to_datetime(Time::midnight())
}

/// `d` at `h:m`, `None` if out of range.
pub(super) fn at(d: Date, h: i8, m: i8) -> Option<DateTime> {
    Some(d.to_datetime(Time::new(h, m, 0, 0).ok()?))
}
