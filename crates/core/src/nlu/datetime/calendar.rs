//! Named days and parts of a period: holidays ("a Natale", "la vigilia di
//! Natale", "Pasquetta", "Ferragosto") and the start, middle or end of a
//! month or week ("a inizio mese", "metà giugno", "fine aprile", "a inizio
//! settimana").
//!
//! A holiday is its next occurrence at or after today (Easter by the
//! Gregorian computus). "inizio"/"metà"/"fine" of a month are its 1st, 15th
//! and last day: a month named without a year is the next one where that
//! day is not past; "mese" alone is this month, or the next when the day is
//! past. "inizio settimana" is the Monday at or after today, "metà
//! settimana" the Wednesday; with "prossima" the one of next week.

use super::*;

/// A fixed-date holiday: words, month, day.
const FIXED: &[(&[&str], i8, i8)] = &[
    (&["vigilia", "di", "natale"], 12, 24),
    (&["notte", "di", "natale"], 12, 24),
    (&["natale"], 12, 25),
    (&["santo", "stefano"], 12, 26),
    (&["san", "silvestro"], 12, 31),
    (&["vigilia", "di", "capodanno"], 12, 31),
    (&["capodanno"], 1, 1),
    (&["primo", "dell", "anno"], 1, 1),
    (&["epifania"], 1, 6),
    (&["befana"], 1, 6),
    (&["san", "valentino"], 2, 14),
    (&["festa", "della", "liberazione"], 4, 25),
    (&["festa", "dei", "lavoratori"], 5, 1),
    (&["festa", "del", "lavoro"], 5, 1),
    (&["festa", "della", "repubblica"], 6, 2),
    (&["ferragosto"], 8, 15),
    (&["ognissanti"], 11, 1),
    (&["tutti", "i", "santi"], 11, 1),
    (&["immacolata"], 12, 8),
];

/// Holidays that follow Easter: words, days after Easter Sunday.
const MOVABLE: &[(&[&str], i64)] = &[
    (&["pasqua"], 0),
    (&["pasquetta"], 1),
    (&["lunedi", "dell", "angelo"], 1),
    (&["lunedi", "di", "pasqua"], 1),
    (&["lunedi", "di", "pasquetta"], 1),
];

/// Words before a holiday name that make it a person's name ("mi chiamo
/// Natale", "il signor Natale").
const NAME_CUES: &[&str] = &["chiamo", "chiama", "sono", "signor", "signore", "sig", "con", "nome", "cognome", "dottor", "dott"];

/// Easter Sunday of year `y` (anonymous Gregorian algorithm).
fn easter(y: i64) -> Option<Date> {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(y, month, day)
}

/// "Natale", "a Natale", "il giorno di Natale", "la vigilia di Natale",
/// "Pasqua", "il lunedì di Pasquetta", "Ferragosto": the next occurrence
/// at or after today. "la vigilia" alone is not a holiday.
pub(super) fn match_holiday(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let lead =
        longest(words, i, &[&["il", "giorno", "di"], &["giorno", "di"], &["il", "giorno", "della"], &["la", "festa", "di"]]).unwrap_or(0);
    let j = i + lead;
    let prev = j.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    if NAME_CUES.contains(&prev) {
        return None;
    }
    let y = i64::from(today.year());
    let fixed = FIXED.iter().filter(|(s, _, _)| starts_with(words, j, s)).max_by_key(|(s, _, _)| s.len());
    let movable = MOVABLE.iter().filter(|(s, _)| starts_with(words, j, s)).max_by_key(|(s, _)| s.len());
    let (len, found) = match (fixed, movable) {
        (Some(&(s, m, d)), _) => (s.len(), [y, y + 1].into_iter().filter_map(|y| ymd(y, i64::from(m), i64::from(d))).find(|x| *x >= today)),
        (None, Some(&(s, after))) => {
            let on = |y: i64| easter(y).and_then(|e| e.checked_add(Span::new().days(after)).ok());
            (s.len(), [y, y + 1].into_iter().filter_map(on).find(|x| *x >= today))
        }
        (None, None) => return None,
    };
    one(found.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), lead + len)
}

/// Which part of a period was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Middle,
    End,
}

/// "a inizio mese", "metà giugno", "fine aprile", "all'inizio del mese
/// prossimo", "a inizio settimana", "metà settimana prossima" (see the
/// module docs). "fine mese" and "fine settimana" alone are day words
/// ([`match_day_word`]).
pub(super) fn match_period_part(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let lead = longest(
        words,
        i,
        &[
            &["all"],
            &["a"],
            &["ad"],
            &["verso"],
            &["per"],
            &["nella"],
            &["alla"],
            &["la"],
            &["verso", "la"],
            &["ai"],
            &["nei"],
            &["verso", "i"],
        ],
    )
    .unwrap_or(0);
    let j = i + lead;
    let phase = match word(words, j) {
        "inizio" | "primi" => Phase::Start,
        "meta" => Phase::Middle,
        "fine" => Phase::End,
        _ => return None,
    };
    let mut k = j + 1;
    if matches!(word(words, k), "di" | "del" | "della" | "dello" | "d" | "dell") {
        k += 1;
    }
    let next_unit = |at: usize| matches!(word(words, at), "prossimo" | "prossima" | "prox" | "dopo" | "successivo" | "successiva");
    // "inizio della prossima settimana", "inizio del prossimo mese".
    let ahead_before = matches!(word(words, k), "prossimo" | "prossima") && matches!(word(words, k + 1), "mese" | "settimana");
    if ahead_before {
        k += 1;
    }
    let next_unit = |at: usize| ahead_before || next_unit(at);
    let unit_used = |at: usize| usize::from(!ahead_before && next_unit(at));
    let pick = |first: Date| -> Option<Date> {
        match phase {
            Phase::Start => Some(first),
            Phase::Middle => ymd(i64::from(first.year()), i64::from(first.month()), 15),
            Phase::End => Some(first.last_of_month()),
        }
    };
    let this_first = today.first_of_month();
    let (found, used) = match word(words, k) {
        "mese" => {
            let ahead = next_unit(k + 1);
            if phase == Phase::End && !ahead {
                return None;
            }
            let months: Vec<Date> = if ahead {
                this_first.checked_add(Span::new().months(1)).ok().into_iter().collect()
            } else {
                (0..2).filter_map(|n| this_first.checked_add(Span::new().months(n)).ok()).collect()
            };
            (months.into_iter().filter_map(pick).find(|d| *d >= today || ahead), k + 1 + unit_used(k + 1))
        }
        "settimana" => {
            let ahead = next_unit(k + 1);
            if phase == Phase::End {
                return None;
            }
            let wd = if phase == Phase::Start { Weekday::Monday } else { Weekday::Wednesday };
            let offset = i64::from(wd.to_monday_zero_offset()) - i64::from(today.weekday().to_monday_zero_offset());
            let days = if ahead { offset.rem_euclid(7) + if offset >= 0 { 7 } else { 0 } } else { offset.rem_euclid(7) };
            (today.checked_add(Span::new().days(days)).ok(), k + 1 + unit_used(k + 1))
        }
        w => {
            let m = i64::from(month(w)?);
            if w.len() <= 4 {
                return None;
            }
            let year = full_year(word(words, k + 1));
            let years: Vec<i64> = match year {
                Some(y) => vec![y],
                None => vec![i64::from(today.year()), i64::from(today.year()) + 1],
            };
            let found = years.into_iter().filter_map(|y| ymd(y, m, 1)).filter_map(pick).find(|d| *d >= today || year.is_some());
            (found, k + 1 + usize::from(year.is_some()))
        }
    };
    one(found.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), used - i)
}

/// A month named alone ("a maggio", "ad aprile", "nel mese di giugno",
/// "maggio 2028"): its days, end exclusive; the current month from today.
/// A month without a year is the next one that has not ended. Only full
/// month names ("mar", "set" are words too).
pub(super) fn match_month(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let lead = longest(words, i, &[&["a"], &["ad"], &["in"], &["nel", "mese", "di"], &["il", "mese", "di"], &["mese", "di"], &["per"]])
        .unwrap_or(0);
    let j = i + lead;
    let w = word(words, j);
    let m = i64::from(month(w).filter(|_| w.len() > 4)?);
    let prev = j.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    if day_number(prev).is_some() || prev.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = full_year(word(words, j + 1));
    // "marzo 24", "maggio 3": the day after the month, as written in chats
    // (not "marzo 3 persone").
    if year.is_none() {
        let d = day_number(word(words, j + 1)).filter(|d| (1..=31).contains(d));
        if let Some(d) = d.filter(|_| !QUANTITY_NOUNS.contains(&word(words, j + 2))) {
            return one(next_day_month(today, m, d), lead + 2);
        }
    }
    let years: Vec<i64> = match year {
        Some(y) => vec![y],
        None => vec![i64::from(today.year()), i64::from(today.year()) + 1],
    };
    let used = lead + 1 + usize::from(year.is_some());
    let span = years.into_iter().filter_map(|y| ymd(y, m, 1)).find_map(|first| {
        let next = first.checked_add(Span::new().months(1)).ok()?;
        if next <= today && year.is_none() {
            return None;
        }
        Some((first.max(today).min(next), next))
    });
    one(span.map_or(Part::Invalid, |(s, e)| if s < e { Part::Date(DatePart::Days(s, e, None)) } else { Part::Invalid }), used)
}
