//! Weekdays ("giovedì", "lunedì prossimo", "questo venerdì") and the
//! date each one means.

use super::*;

pub(super) fn weekday(w: &str) -> Option<Weekday> {
    Some(match w {
        "lunedi" => Weekday::Monday,
        "martedi" => Weekday::Tuesday,
        "mercoledi" => Weekday::Wednesday,
        "giovedi" => Weekday::Thursday,
        "venerdi" => Weekday::Friday,
        "sabato" => Weekday::Saturday,
        "domenica" => Weekday::Sunday,
        // Abbreviations as written in chats ("lun", "gio."); "mar" is March.
        "lun" => Weekday::Monday,
        "mart" => Weekday::Tuesday,
        "mer" | "merc" => Weekday::Wednesday,
        "gio" | "giov" => Weekday::Thursday,
        "ven" | "vene" => Weekday::Friday,
        "sab" => Weekday::Saturday,
        "dom" => Weekday::Sunday,
        _ => return None,
    })
}

/// "giovedì", "questo venerdì", "venerdì questo", "lunedì prossimo",
/// "il prossimo lunedì".
pub(super) fn match_weekday(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    // Optional qualifier before the weekday.
    let (before, mut mode) = match word(words, i) {
        "questo" | "questa" => (1, WeekdayMode::This),
        "prossimo" | "prossima" | "prox" => (1, WeekdayMode::Next),
        _ => (0, WeekdayMode::Next),
    };
    let wd = weekday(word(words, i + before))?;
    let k = i + before + 1;
    let mut used = before + 1;
    // Optional qualifier after it; "prossima settimana" belongs to the week
    // matcher ("lunedì prossima settimana").
    match word(words, k) {
        "questo" | "questa" => {
            mode = WeekdayMode::This;
            used += 1;
        }
        "prossimo" | "prossima" | "prox" if word(words, k + 1) != "settimana" => used += 1,
        _ => {}
    }
    one(Part::Date(DatePart::Weekday(wd, mode)), used)
}

/// The date a weekday expression means (see the module docs).
pub(super) fn weekday_date(today: Date, wd: Weekday, mode: WeekdayMode, next_week: bool) -> Option<Date> {
    let offset = i64::from(wd.to_monday_zero_offset());
    let today_offset = i64::from(today.weekday().to_monday_zero_offset());
    let days = if next_week {
        7 - today_offset + offset
    } else {
        match mode {
            WeekdayMode::This if offset >= today_offset => offset - today_offset,
            _ => {
                let ahead = (offset - today_offset).rem_euclid(7);
                if ahead == 0 {
                    7
                } else {
                    ahead
                }
            }
        }
    };
    today.checked_add(Span::new().days(days)).ok()
}

pub(super) fn next_monday(today: Date) -> Option<Date> {
    let days = 7 - i64::from(today.weekday().to_monday_zero_offset());
    today.checked_add(Span::new().days(days)).ok()
}

/// "il secondo lunedì di novembre", "l'ultimo venerdì del mese", "il primo
/// sabato del mese prossimo", "l'ultimo giorno del mese": the n-th (or
/// last, penultimate) weekday or day of a month. A month without a year is
/// the next one in which that day is not past; "del mese" is this month, or
/// the next when the day is past. Without a month nothing is found.
pub(super) fn match_ordinal_weekday(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let article = usize::from(matches!(word(words, i), "il" | "l" | "la"));
    let j = i + article;
    let nth: i64 = match word(words, j) {
        "ultimo" | "ultima" => -1,
        "penultimo" | "penultima" => -2,
        // "il 2º lunedì" (the sign is dropped when lexing).
        w if w.len() == 1 && weekday(word(words, j + 1)).is_some() => i64::from(w.parse::<u8>().ok().filter(|n| (1..=5).contains(n))?),
        w => i64::from(parse_ordinal(w).filter(|n| (1..=5).contains(n))?),
    };
    let target = word(words, j + 1);
    // "l'ultimo del mese": its last day.
    let bare_last = nth < 0 && matches!(target, "di" | "del");
    let wd = if target == "giorno" || bare_last { None } else { Some(weekday(target)?) };
    let k = if bare_last { j + 1 } else { j + 2 };
    if !matches!(word(words, k), "di" | "del" | "d" | "dello") {
        return None;
    }
    let first = today.first_of_month();
    let next_first = first.checked_add(Span::new().months(1)).ok()?;
    let k = k + 1;
    // (candidate first days of months, words used after the connector)
    let (months, used): (Vec<Date>, usize) =
        if let Some(n) = longest(words, k, &[&["mese", "prossimo"], &["prossimo", "mese"], &["mese", "che", "viene"]]) {
            (vec![next_first], n)
        } else if let Some(n) = longest(words, k, &[&["mese"], &["questo", "mese"], &["mese", "corrente"]]) {
            (vec![first, next_first], n)
        } else {
            let m = i64::from(month(word(words, k))?);
            let year = full_year(word(words, k + 1));
            let y = i64::from(today.year());
            let years: Vec<i64> = match year {
                Some(y) => vec![y],
                None => vec![y, y + 1],
            };
            (years.into_iter().filter_map(|y| ymd(y, m, 1)).collect(), 1 + usize::from(year.is_some()))
        };
    let used = k - i + used;
    let explicit_year = months.len() == 1;
    let found = months.into_iter().filter_map(|m| nth_in_month(m, wd, nth)).find(|d| explicit_year || *d >= today);
    one(found.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), used)
}

/// The `nth` (1-based; -1 last, -2 penultimate) `wd` of the month starting
/// at `first`, or its `nth` day when `wd` is `None`; `None` if the month has
/// no such day.
fn nth_in_month(first: Date, wd: Option<Weekday>, nth: i64) -> Option<Date> {
    let last = first.last_of_month();
    let d = match (wd, nth > 0) {
        (None, true) => first.checked_add(Span::new().days(nth - 1)).ok()?,
        (None, false) => last.checked_sub(Span::new().days(-nth - 1)).ok()?,
        (Some(wd), true) => {
            let ahead = (i64::from(wd.to_monday_zero_offset()) - i64::from(first.weekday().to_monday_zero_offset())).rem_euclid(7);
            first.checked_add(Span::new().days(ahead + 7 * (nth - 1))).ok()?
        }
        (Some(wd), false) => {
            let back = (i64::from(last.weekday().to_monday_zero_offset()) - i64::from(wd.to_monday_zero_offset())).rem_euclid(7);
            last.checked_sub(Span::new().days(back + 7 * (-nth - 1))).ok()?
        }
    };
    (d.year() == first.year() && d.month() == first.month()).then_some(d)
}
