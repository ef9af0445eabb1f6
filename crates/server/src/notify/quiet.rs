//! Quiet hours: no reminder reaches a client at night. The window is local
//! time in the business's time zone (DST handled by jiff); a window whose
//! end is before its start crosses midnight (the default 21:00–08:00).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::config::QuietHours;

fn at(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(date.to_datetime(time)).compatible().ok()
}

/// The quiet window containing `t` as (start, end) instants, if `t` is quiet.
fn window(t: Timestamp, tz: &TimeZone, q: QuietHours) -> Option<(Timestamp, Timestamp)> {
    if q.start == q.end {
        return None;
    }
    let z = t.to_zoned(tz.clone());
    let (date, lt) = (z.date(), z.time());
    let (start_day, end_day) = if q.start < q.end {
        if lt < q.start || lt >= q.end {
            return None;
        }
        (date, date)
    } else if lt >= q.start {
        (date, date.checked_add(1.day()).ok()?)
    } else if lt < q.end {
        (date.checked_sub(1.day()).ok()?, date)
    } else {
        return None;
    };
    Some((at(start_day, q.start, tz)?, at(end_day, q.end, tz)?))
}

/// Whether `t` falls in the quiet hours.
pub fn is_quiet(t: Timestamp, tz: &TimeZone, q: QuietHours) -> bool {
    window(t, tz, q).is_some()
}

/// When a message due at `t` may go out before `deadline`: `t` itself
/// outside quiet hours; otherwise the end of the quiet window when that is
/// before `deadline`; `None` when it is not.
pub fn next_allowed_before(t: Timestamp, deadline: Timestamp, tz: &TimeZone, q: QuietHours) -> Option<Timestamp> {
    match window(t, tz, q) {
        None => Some(t),
        Some((_, end)) if end < deadline => Some(end),
        Some(_) => None,
    }
}

/// When a reminder due at `due` for an appointment at `start` goes out:
/// `due` outside quiet hours; else the end of the quiet window when that is
/// still before the appointment; else the last minute before the window
/// began (the evening before).
pub fn schedule(due: Timestamp, start: Timestamp, tz: &TimeZone, q: QuietHours) -> Timestamp {
    match window(due, tz, q) {
        None => due,
        Some((_, end)) if end < start => end,
        Some((quiet_start, _)) => quiet_start.checked_sub(1.minute()).unwrap_or(quiet_start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rome(s: &str) -> Timestamp {
        let tz = TimeZone::get("Europe/Rome").expect("tz");
        tz.to_ambiguous_timestamp(s.parse().expect("datetime")).compatible().expect("instant")
    }

    #[test]
    fn nights_in_rome() {
        let tz = TimeZone::get("Europe/Rome").expect("tz");
        let q = QuietHours::default();
        assert!(is_quiet(rome("2027-03-10T23:30"), &tz, q));
        assert!(is_quiet(rome("2027-03-11T07:59"), &tz, q));
        assert!(!is_quiet(rome("2027-03-11T08:00"), &tz, q));
        assert!(!is_quiet(rome("2027-03-10T20:59"), &tz, q));
        // Due 07:30 for an appointment at 07:30 the next day: moved to 08:00.
        assert_eq!(schedule(rome("2027-03-10T07:30"), rome("2027-03-11T07:30"), &tz, q), rome("2027-03-10T08:00"));
        // Due 06:00 for an appointment at 08:00 the same day (2 h lead): the evening before.
        assert_eq!(schedule(rome("2027-03-11T06:00"), rome("2027-03-11T08:00"), &tz, q), rome("2027-03-10T20:59"));
        assert_eq!(schedule(rome("2027-03-10T15:00"), rome("2027-03-11T15:00"), &tz, q), rome("2027-03-10T15:00"));
        assert_eq!(next_allowed_before(rome("2027-03-10T22:00"), rome("2027-03-11T07:00"), &tz, q), None);
        // Across the spring DST change (28 March 2027), 08:00 is still 08:00 local.
        assert_eq!(schedule(rome("2027-03-28T01:00"), rome("2027-03-29T01:00"), &tz, q), rome("2027-03-28T08:00"));
    }
}
