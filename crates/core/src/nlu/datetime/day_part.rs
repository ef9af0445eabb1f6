//! Parts of the day ("mattina", "nel tardo pomeriggio", "a metà mattina")
//! and their linguistic bounds.
//!
//! The bounds are those of the language, not of a business: mattina 06–12,
//! pranzo 12–14, pomeriggio 12–19, sera 18–24, notte 22–06. Sub-parts split
//! their part: mattina presto 06–09, metà mattina 09–11, tarda mattinata
//! 10–12, primo pomeriggio 12–15, dopo pranzo 14–16, metà pomeriggio 15–17,
//! tardo pomeriggio 17–19, prima serata 18–21, tarda serata 21–24. Slot
//! search clips them to the opening hours.

use super::*;

/// A named part of the day, or a sub-part of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PartOfDay {
    Morning,
    EarlyMorning,
    MidMorning,
    LateMorning,
    Lunch,
    AfterLunch,
    Afternoon,
    EarlyAfternoon,
    MidAfternoon,
    LateAfternoon,
    Evening,
    EarlyEvening,
    LateEvening,
    Night,
}

impl PartOfDay {
    /// Start hour and exclusive end hour; 24 is the next midnight, and an
    /// end before the start is on the next day (the night ends at 06).
    fn hours(self) -> (i8, i8) {
        match self {
            PartOfDay::Morning => (6, 12),
            PartOfDay::EarlyMorning => (6, 9),
            PartOfDay::MidMorning => (9, 11),
            PartOfDay::LateMorning => (10, 12),
            PartOfDay::Lunch => (12, 14),
            PartOfDay::AfterLunch => (14, 16),
            PartOfDay::Afternoon => (12, 19),
            PartOfDay::EarlyAfternoon => (12, 15),
            PartOfDay::MidAfternoon => (15, 17),
            PartOfDay::LateAfternoon => (17, 19),
            PartOfDay::Evening => (18, 24),
            PartOfDay::EarlyEvening => (18, 21),
            PartOfDay::LateEvening => (21, 24),
            PartOfDay::Night => (22, 6),
        }
    }

    /// The part a sub-part belongs to (itself for a main part).
    fn family(self) -> PartOfDay {
        match self {
            PartOfDay::EarlyMorning | PartOfDay::MidMorning | PartOfDay::LateMorning => PartOfDay::Morning,
            PartOfDay::AfterLunch | PartOfDay::EarlyAfternoon | PartOfDay::MidAfternoon | PartOfDay::LateAfternoon => PartOfDay::Afternoon,
            PartOfDay::EarlyEvening | PartOfDay::LateEvening => PartOfDay::Evening,
            other => other,
        }
    }

    /// The range of this part of day on `date`.
    pub(super) fn range_on(self, date: Date) -> Option<(DateTime, DateTime)> {
        let (start, end) = self.hours();
        let end_at = if end == 24 {
            midnight(date.tomorrow().ok()?)
        } else if end <= start {
            at(date.tomorrow().ok()?, end, 0)?
        } else {
            at(date, end, 0)?
        };
        Some((at(date, start, 0)?, end_at))
    }

    /// Moves an ambiguous stated hour (0..=12) into this part of day.
    pub(super) fn adjust(self, hour: i8) -> i8 {
        match self.family() {
            PartOfDay::Lunch if (1..=3).contains(&hour) => hour + 12,
            PartOfDay::Afternoon | PartOfDay::Evening if (1..=11).contains(&hour) => hour + 12,
            PartOfDay::Night if (7..=11).contains(&hour) => hour + 12,
            PartOfDay::Night if hour == 12 => 0,
            _ => hour,
        }
    }
}

/// Word sequences naming a sub-part of the day (longest wins).
const SUB_PARTS: &[(&[&str], PartOfDay)] = &[
    (&["mattina", "presto"], PartOfDay::EarlyMorning),
    (&["mattino", "presto"], PartOfDay::EarlyMorning),
    (&["mattinata", "presto"], PartOfDay::EarlyMorning),
    (&["prima", "mattina"], PartOfDay::EarlyMorning),
    (&["prima", "mattinata"], PartOfDay::EarlyMorning),
    (&["primo", "mattino"], PartOfDay::EarlyMorning),
    (&["buon", "mattino"], PartOfDay::EarlyMorning),
    (&["meta", "mattina"], PartOfDay::MidMorning),
    (&["meta", "mattinata"], PartOfDay::MidMorning),
    (&["meta", "mattino"], PartOfDay::MidMorning),
    (&["tarda", "mattinata"], PartOfDay::LateMorning),
    (&["tarda", "mattina"], PartOfDay::LateMorning),
    (&["fine", "mattinata"], PartOfDay::LateMorning),
    (&["fine", "mattina"], PartOfDay::LateMorning),
    (&["dopo", "pranzo"], PartOfDay::AfterLunch),
    (&["dopopranzo"], PartOfDay::AfterLunch),
    (&["primo", "pomeriggio"], PartOfDay::EarlyAfternoon),
    (&["inizio", "pomeriggio"], PartOfDay::EarlyAfternoon),
    (&["meta", "pomeriggio"], PartOfDay::MidAfternoon),
    (&["tardo", "pomeriggio"], PartOfDay::LateAfternoon),
    (&["fine", "pomeriggio"], PartOfDay::LateAfternoon),
    (&["pomeriggio", "tardi"], PartOfDay::LateAfternoon),
    (&["pomeriggio", "tardo"], PartOfDay::LateAfternoon),
    (&["prima", "serata"], PartOfDay::EarlyEvening),
    (&["prima", "sera"], PartOfDay::EarlyEvening),
    (&["inizio", "serata"], PartOfDay::EarlyEvening),
    (&["tarda", "serata"], PartOfDay::LateEvening),
    (&["tarda", "sera"], PartOfDay::LateEvening),
    (&["sera", "tardi"], PartOfDay::LateEvening),
    (&["ora", "di", "pranzo"], PartOfDay::Lunch),
    (&["pausa", "pranzo"], PartOfDay::Lunch),
    (&["mattina", "sul", "presto"], PartOfDay::EarlyMorning),
    (&["sul", "presto"], PartOfDay::EarlyMorning),
    (&["pom", "tardi"], PartOfDay::LateAfternoon),
    (&["pome", "tardi"], PartOfDay::LateAfternoon),
    (&["tardo", "pom"], PartOfDay::LateAfternoon),
    (&["pausa", "di", "pranzo"], PartOfDay::Lunch),
    (&["pomeriggio", "presto"], PartOfDay::EarlyAfternoon),
    (&["sera", "presto"], PartOfDay::EarlyEvening),
    (&["mattina", "tardi"], PartOfDay::LateMorning),
    (&["mattinata", "tardi"], PartOfDay::LateMorning),
];

/// The part of day named by the single word `w` ("mattina", "serata").
pub(super) fn pod_word(w: &str) -> Option<PartOfDay> {
    Some(match w {
        "mattina" | "mattino" | "mattinata" | "matt" => PartOfDay::Morning,
        "pranzo" => PartOfDay::Lunch,
        "pomeriggio" | "pom" | "pome" => PartOfDay::Afternoon,
        "sera" | "serata" => PartOfDay::Evening,
        "notte" | "nottata" => PartOfDay::Night,
        _ => return None,
    })
}

/// "mattina", "in mattinata", "nel pomeriggio", "di sera", "in serata",
/// "notte", "a pranzo", "la mattina presto", "nel tardo pomeriggio", "a metà
/// mattina" — but not "buona sera".
pub(super) fn match_pod(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let prev = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    if matches!(prev, "buona" | "buon") {
        return None;
    }
    // Chat abbreviations ("sab matt", "ven pom") only right after a day,
    // a weekday or a day number: "Matt" alone is a name.
    let dated = |p: &str| {
        weekday(p).is_some() || matches!(p, "oggi" | "domani" | "dopodomani") || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if matches!(word(words, i), "matt" | "pom" | "pome") && !dated(prev) {
        return None;
    }
    if let Some(&(seq, pod)) = SUB_PARTS.iter().filter(|(s, _)| starts_with(words, i, s)).max_by_key(|(s, _)| s.len()) {
        return one(Part::Pod(pod), seq.len());
    }
    one(Part::Pod(pod_word(word(words, i))?), 1)
}
