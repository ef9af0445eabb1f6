//! "Il giorno dopo", "quello dopo", "il giorno prima": a day relative to the
//! day being discussed in the dialogue (the slot read back, the day offered,
//! the day asked for, the appointment being moved), not to today. The time
//! already chosen is kept ("no, il giorno dopo" moves the same time).

use super::*;
use crate::nlu::Grain;

/// Phrases for the day after the one discussed.
const NEXT: &[&str] = &[
    "il giorno dopo",
    "giorno dopo",
    "quello dopo",
    "il giorno successivo",
    "giorno successivo",
    "quello successivo",
    "il giorno seguente",
    "giorno seguente",
    "l indomani",
    "il giorno appresso",
];
/// Phrases for the day before the one discussed.
const PREV: &[&str] =
    &["il giorno prima", "giorno prima", "quello prima", "il giorno precedente", "giorno precedente", "quello precedente"];

/// +1, -1 or `None`, from the normalised turn.
pub(super) fn shift(norm: &str) -> Option<i64> {
    let padded = format!(" {norm} ");
    let has = |ps: &[&str]| ps.iter().any(|p| padded.contains(&format!(" {p} ")));
    match (has(NEXT), has(PREV)) {
        (true, false) => Some(1),
        (false, true) => Some(-1),
        _ => None,
    }
}

impl Dialogue {
    /// The day the conversation is about, if any.
    pub(super) fn discussed_day(&self) -> Option<Date> {
        if let Some(s) = self.draft.chosen {
            return Some(self.info.local(s.start).date());
        }
        let offered: Vec<Date> = self.draft.offered.iter().map(|s| self.info.local(s.start).date()).collect();
        if let Some(d) = self.draft.date {
            return Some(d);
        }
        if let Some(first) = offered.first().filter(|d| offered.iter().all(|x| x == *d)) {
            return Some(*first);
        }
        self.target.as_ref().map(|a| self.info.local(a.start).date())
    }

    /// Applies a pending "il giorno dopo" of a reschedule request to the
    /// appointment now identified: the new day is the appointment's day
    /// shifted; the time is the appointment's when the caller said "stessa
    /// ora", a time said for the new day otherwise, or none.
    pub(super) fn shift_target_day(&mut self) {
        let Some(n) = self.draft.shift_from_target else { return };
        let Some(target) = &self.target else { return };
        self.draft.shift_from_target = None;
        let old = self.info.local(target.start);
        let Ok(day) = old.date().checked_add(jiff::Span::new().days(n)) else { return };
        let norm = normalize(&self.pending_text);
        let same_time = ["stessa ora", "stesso orario", "stesso ora", "alla stessa"].iter().any(|p| norm.contains(p));
        self.draft.date = Some(day);
        self.draft.range = None;
        self.draft.earliest = false;
        if same_time || self.draft.time == Some(old.time()) {
            self.draft.time = Some(old.time());
        }
    }

    /// The turn with "il giorno dopo / prima" resolved against the day
    /// discussed; unchanged when there is none or the turn has no such words.
    pub(super) fn with_relative_day(&self, text: &str, mut nlu: NluResult) -> NluResult {
        let Some(n) = shift(&normalize(text)) else { return nlu };
        let Some(anchor) = self.discussed_day() else { return nlu };
        let Some(day) = anchor.checked_add(jiff::Span::new().days(n)).ok() else { return nlu };
        let kept_time = self.draft.chosen.map(|s| self.info.local(s.start).time()).or(self.draft.time);
        let slot = match nlu.slots.datetime {
            Some(DateTimeSlot::Instant { value, grain }) if nlu.slots.time_given => {
                DateTimeSlot::Instant { value: day.to_datetime(value.time()), grain }
            }
            Some(DateTimeSlot::Range { start, end, grain, open }) if nlu.slots.time_given || start.date() == end.date() => {
                let days = start.date().until(day).map(|s| s.get_days()).unwrap_or(0);
                let move_by = |d: DateTime| d.checked_add(jiff::Span::new().days(days)).unwrap_or(d);
                DateTimeSlot::Range { start: move_by(start), end: move_by(end), grain, open }
            }
            _ => match kept_time {
                Some(t) => {
                    nlu.slots.time_given = true;
                    DateTimeSlot::Instant { value: day.to_datetime(t), grain: Grain::Minute }
                }
                None => {
                    nlu.slots.time_given = false;
                    DateTimeSlot::Instant { value: day.to_datetime(Time::MIN), grain: Grain::Day }
                }
            },
        };
        nlu.slots.datetime = Some(slot);
        nlu.slots.date_given = true;
        nlu
    }
}

#[cfg(test)]
mod tests {
    use super::shift;

    #[test]
    fn relative_day_words() {
        assert_eq!(shift("no il giorno dopo"), Some(1));
        assert_eq!(shift("e quello dopo"), Some(1));
        assert_eq!(shift("meglio il giorno prima alle 10"), Some(-1));
        assert_eq!(shift("dopodomani"), None);
        assert_eq!(shift("prima possibile"), None);
    }
}
