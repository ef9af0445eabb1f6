//! Ranges of days and open bounds on days: "dal 3 al 5 maggio", "tra il 10
//! e il 12", "10-12 giugno", "da domani a venerdì"; "entro il 20", "prima
//! di venerdì", "a partire dal 9", "dal 15 in poi", "dopo giovedì"; and days
//! anchored on another ("il giorno dopo il 20").
//!
//! A range of days is [`DatePart::Days`] with an exclusive end. An open
//! bound keeps the said end and fills the other one in: a deadline starts
//! today, a beginning runs for one month ([`FROM_MONTHS`]).

use super::*;

/// How long a range open at its end lasts ("a partire dal 9"), in months.
const FROM_MONTHS: i64 = 1;

/// Words that may stand between a cue and its date ("entro il 20", "a
/// partire da lunedì", "prima di venerdì").
const LINKS: &[&str] =
    &["il", "l", "lo", "la", "i", "le", "di", "del", "della", "dell", "da", "dal", "dalla", "dall", "al", "alla", "all", "a", "d"];

/// Verbs of moving an appointment: with one, "da giovedì a sabato" is a
/// move (see "Several expressions"), not a range.
const MOVE_STEMS: &[&str] = &["spost", "anticip", "posticip", "rimand", "cambi"];

/// One end of a range as said.
#[derive(Debug, Clone, Copy)]
enum End {
    /// A day number without a month ("dal 3 al 5 maggio": the 3).
    Bare(i64),
    /// A full date.
    Day(Date),
    /// A weekday, resolved against the other end.
    Weekday(Weekday),
}

/// The date matchers a bound or a range end may use.
const DATE_MATCHERS: [Matcher; 9] = [
    match_ordinal_weekday,
    match_numeric_date,
    match_day_month,
    match_day_of_month,
    match_holiday,
    match_period_part,
    match_day_word,
    match_weekday,
    match_month,
];

/// The first date part the date matchers find at `i` (or after one link
/// word), and the words used from `i`.
fn date_at(words: &[&str], i: usize, today: Date) -> Option<(DatePart, usize)> {
    let found = |at: usize| {
        DATE_MATCHERS.iter().find_map(|m| m(words, at, today)).and_then(|(parts, used)| {
            parts.iter().find_map(|p| if let Part::Date(d) = p { Some(*d) } else { None }).map(|d| (d, at - i + used))
        })
    };
    found(i).or_else(|| if LINKS.contains(&word(words, i)) { found(i + 1) } else { None })
}

/// The days `[start, end)` a date part covers.
fn span_of(part: DatePart, today: Date) -> Option<(Date, Date)> {
    let next = |d: Date| d.tomorrow().ok();
    match part {
        DatePart::Day(d) => Some((d, next(d)?)),
        DatePart::Days(s, e, _) => Some((s, e)),
        DatePart::Weekday(wd, mode) => {
            let d = weekday_date(today, wd, mode, false)?;
            Some((d, next(d)?))
        }
        DatePart::ThisWeek => Some((today, next_monday(today)?)),
        DatePart::NextWeek => {
            let monday = next_monday(today)?;
            Some((monday, monday.checked_add(Span::new().days(7)).ok()?))
        }
    }
}

fn days(start: Date, end: Date, open: Option<OpenEnd>) -> Part {
    if end > start {
        Part::Date(DatePart::Days(start, end, open))
    } else {
        Part::Invalid
    }
}

fn months_after(d: Date, n: i64) -> Option<Date> {
    d.checked_add(Span::new().months(n)).ok()
}

/// "il giorno dopo il 20", "il giorno prima del 20", "l'indomani del 3
/// maggio": the day next to a date said; "la settimana dopo Pasqua", "la
/// settimana prima di Natale": the seven days after (before) it. Without a
/// date ("il giorno dopo", "la settimana dopo") nothing is found here: the
/// day it is next to was said in an earlier turn, and "la settimana dopo"
/// alone is next week.
pub(super) fn match_anchored(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let week = [(&["la", "settimana", "dopo"][..], 1), (&["settimana", "dopo"][..], 1), (&["la", "settimana", "prima"][..], -1)]
        .iter()
        .filter(|(s, _)| starts_with(words, i, s))
        .max_by_key(|(s, _)| s.len())
        .map(|&(s, d)| (s.len(), d));
    if let Some((n, side)) = week {
        let of = usize::from(matches!(word(words, i + n), "di" | "del" | "della"));
        let (part, used) = date_at(words, i + n + of, today)?;
        let (start, _) = span_of(part, today)?;
        let (from, to) = if side > 0 { (1, 8) } else { (-7, 0) };
        let span = start.checked_add(Span::new().days(from)).ok().zip(start.checked_add(Span::new().days(to)).ok());
        return one(span.map_or(Part::Invalid, |(s, e)| days(s, e, None)), n + of + used);
    }
    let (n, delta) = [
        (&["il", "giorno", "dopo"][..], 1),
        (&["giorno", "dopo"][..], 1),
        (&["il", "giorno", "seguente"][..], 1),
        (&["il", "giorno", "successivo"][..], 1),
        (&["l", "indomani"][..], 1),
        (&["indomani"][..], 1),
        (&["il", "giorno", "prima"][..], -1),
        (&["giorno", "prima"][..], -1),
        (&["il", "giorno", "precedente"][..], -1),
    ]
    .iter()
    .filter(|(s, _)| starts_with(words, i, s))
    .max_by_key(|(s, _)| s.len())
    .map(|&(s, d)| (s.len(), d))?;
    let (part, used) = date_at(words, i + n, today)?;
    let (start, _) = span_of(part, today)?;
    let d = start.checked_add(Span::new().days(delta)).ok();
    one(d.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), n + used)
}

/// One end of a range at `i`: an optional article, then a bare day number
/// (when no month follows and `bare` allows it), or a date.
fn range_end(words: &[&str], i: usize, today: Date, bare: bool) -> Option<(End, usize)> {
    let article = usize::from(matches!(word(words, i), "il" | "l" | "lo"));
    let j = i + article;
    let w = word(words, j);
    let number = if w == "uno" { Some(1) } else { day_number(w) };
    if let Some(d) = number.filter(|_| (bare || article == 1) && !followed_by_month(words, j + 1)) {
        let next = word(words, j + 1);
        if QUANTITY_NOUNS.contains(&next) || matches!(next, "persone" | "ore" | "minuti") || next.contains([':', '.']) {
            return None;
        }
        return Some((End::Bare(d), article + 1));
    }
    let (part, used) = date_at(words, j, today)?;
    let end = match part {
        DatePart::Day(d) => End::Day(d),
        DatePart::Weekday(wd, _) => End::Weekday(wd),
        _ => return None,
    };
    Some((end, article + used))
}

/// "dal 3 al 5 maggio", "dal 28 marzo al 2 aprile", "tra il 10 e il 12",
/// "da domani a venerdì", "tra lunedì e mercoledì", "10-12 giugno" (read
/// as "10/12 giugno"): whole days, both ends included. A bare first day
/// takes the month of the second ("dal 28 al 2 aprile" starts in March); a
/// bare second day or a weekday is the first one at or after the start.
/// Not with a verb of moving ("spostare da giovedì a sabato").
pub(super) fn match_date_range(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let w = word(words, i);
    if let Some((a, b)) = w.split_once('/') {
        return day_pair_of_month(words, i, a, b, today);
    }
    let between = match w {
        "dal" | "dall" => false,
        "da" | "dalla" => false,
        "tra" | "fra" => true,
        _ => return None,
    };
    if words.iter().any(|w| MOVE_STEMS.iter().any(|s| w.starts_with(s))) {
        return None;
    }
    // Bare day numbers only after "dal"/"dall" ("dal 3 al 5"), or after an
    // article ("tra il 10 e il 12"): "da 3 a 5 persone" is a count.
    let bare = matches!(w, "dal" | "dall");
    // "da qui a venerdì", "da adesso a fine mese": from today.
    let now_word = usize::from(!between && matches!(word(words, i + 1), "qui" | "adesso" | "ora" | "subito"));
    let (first, used1) = if now_word == 1 { (End::Day(today), 1) } else { range_end(words, i + 1, today, bare)? };
    let k = i + 1 + used1;
    let connectors: &[&[&str]] = if between {
        &[&["e"]]
    } else {
        &[&["al"], &["all"], &["a"], &["alla"], &["fino", "al"], &["fino", "a"], &["fino", "alla"], &["fino", "all"]]
    };
    let conn = longest(words, k, connectors)?;
    let to_bare = matches!(word(words, k + conn - 1), "al" | "all");
    let (second, used2) = range_end(words, k + conn, today, to_bare || bare)?;
    let used = 1 + used1 + conn + used2;
    let (start, last) = match (first, second) {
        (End::Bare(a), End::Day(b)) => {
            let same = ymd(i64::from(b.year()), i64::from(b.month()), a);
            let start = match same.filter(|s| *s <= b) {
                Some(s) => Some(s),
                None => months_after(b.first_of_month(), -1).and_then(|p| ymd(i64::from(p.year()), i64::from(p.month()), a)),
            };
            (start, Some(b))
        }
        (End::Bare(a), End::Bare(b)) => {
            let start = day_of_month_from(today, a);
            (start, start.and_then(|s| day_of_month_from(s, b)))
        }
        (End::Day(a), End::Bare(b)) => (Some(a), day_of_month_from(a, b)),
        (End::Day(a), End::Day(b)) => (Some(a), Some(b)),
        (End::Day(a), End::Weekday(wd)) => (Some(a), weekday_from(a, wd)),
        (End::Weekday(wa), second) => {
            let a = weekday_date(today, wa, WeekdayMode::Next, false);
            let b = match (a, second) {
                (Some(a), End::Weekday(wb)) => weekday_from(a, wb),
                (Some(a), End::Bare(b)) => day_of_month_from(a, b),
                (_, End::Day(b)) => Some(b),
                (None, _) => None,
            };
            (a, b)
        }
        (End::Bare(a), End::Weekday(wd)) => {
            let start = day_of_month_from(today, a);
            (start, start.and_then(|s| weekday_from(s, wd)))
        }
    };
    let part = match (start, last.and_then(|l| l.tomorrow().ok())) {
        (Some(s), Some(e)) => days(s, e, None),
        _ => Part::Invalid,
    };
    one(part, used)
}

/// "10/12 giugno" (from "10-12 giugno"), "10/12 giugno 2028": two days of
/// one month, both included.
fn day_pair_of_month(words: &[&str], i: usize, a: &str, b: &str, today: Date) -> Option<(Vec<Part>, usize)> {
    let short = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
    if !short(a) || !short(b) || !followed_by_month(words, i + 1) {
        return None;
    }
    let k = i + 1 + usize::from(matches!(word(words, i + 1), "di" | "del" | "d"));
    let m = i64::from(month(word(words, k))?);
    let (a, b) = (a.parse::<i64>().ok()?, b.parse::<i64>().ok()?);
    let year = full_year(word(words, k + 1));
    let used = k + 1 - i + usize::from(year.is_some());
    let last = match year {
        Some(y) => date_part(y, m, b),
        None => next_day_month(today, m, b),
    };
    let Part::Date(DatePart::Day(last)) = last else { return one(Part::Invalid, used) };
    let part = match (ymd(i64::from(last.year()), m, a), last.tomorrow().ok()) {
        (Some(s), Some(e)) => days(s, e, None),
        _ => Part::Invalid,
    };
    one(part, used)
}

/// The first day numbered `d` at or after `from` (this month or a later one).
fn day_of_month_from(from: Date, d: i64) -> Option<Date> {
    let first = from.first_of_month();
    (0..3).filter_map(|n| months_after(first, n)).filter_map(|m| ymd(i64::from(m.year()), i64::from(m.month()), d)).find(|x| *x >= from)
}

/// The first `wd` at or after `from`.
fn weekday_from(from: Date, wd: Weekday) -> Option<Date> {
    let ahead = (i64::from(wd.to_monday_zero_offset()) - i64::from(from.weekday().to_monday_zero_offset())).rem_euclid(7);
    from.checked_add(Span::new().days(ahead)).ok()
}

/// What an open bound on days keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayBound {
    /// Up to the date, included ("entro il 20", "entro venerdì").
    UntilIncluded,
    /// Up to the date, excluded ("prima del 20").
    UntilExcluded,
    /// From the date on ("a partire dal 9", "non prima del 20").
    From,
    /// From the day after ("dopo il 20", "dopo giovedì").
    After,
}

/// "entro il 20", "fino al 20", "prima di venerdì", "a partire dal 9",
/// "non prima del 20", "dopo giovedì", "dal 15 in poi", "da lunedì in
/// avanti": a range of days open at one end (see the module docs).
pub(super) fn match_date_bound(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    const CUES: &[(&[&str], DayBound)] = &[
        (&["entro"], DayBound::UntilIncluded),
        (&["fino"], DayBound::UntilIncluded),
        (&["non", "oltre"], DayBound::UntilIncluded),
        (&["prima"], DayBound::UntilExcluded),
        (&["a", "partire"], DayBound::From),
        (&["non", "prima"], DayBound::From),
        (&["dopo"], DayBound::After),
    ];
    let cue = CUES.iter().filter(|(s, _)| starts_with(words, i, s)).max_by_key(|(s, _)| s.len()).map(|&(s, b)| (s.len(), b));
    // "entro la settimana", "entro questa settimana": up to Sunday.
    if cue.is_some_and(|(n, b)| n == 1 && b == DayBound::UntilIncluded) {
        if let Some(n) = longest(words, i + 1, &[&["il", "mese"], &["questo", "mese"]]) {
            if !matches!(word(words, i + 1 + n), "prossimo" | "prox" | "dopo" | "successivo" | "che" | "di") {
                let end = months_after(today.first_of_month(), 1).map_or(Part::Invalid, |e| days(today, e, Some(OpenEnd::Start)));
                return one(end, 1 + n);
            }
        }
        if let Some(n) = longest(words, i + 1, &[&["la", "settimana"], &["questa", "settimana"], &["fine", "settimana"]]) {
            if !matches!(word(words, i + 1 + n), "prossima" | "prox" | "dopo" | "successiva" | "seguente" | "che" | "ventura") {
                let end = next_monday(today).map_or(Part::Invalid, |e| days(today, e, Some(OpenEnd::Start)));
                return one(end, 1 + n);
            }
        }
    }
    let (lead, bound, used) = match cue {
        // "dopo domani" is "dopodomani".
        Some((_, DayBound::After)) if word(words, i + 1) == "domani" => return None,
        Some((n, bound)) => {
            let (part, used) = date_at(words, i + n, today)?;
            (part, bound, n + used)
        }
        None if matches!(word(words, i), "da" | "dal" | "dalla" | "dall") => {
            let (part, used) = date_at(words, i, today)?;
            let later = longest(words, i + used, &[&["in", "poi"], &["in", "avanti"]])?;
            (part, DayBound::From, used + later)
        }
        None => return None,
    };
    let Some((start, end)) = span_of(lead, today) else { return one(Part::Invalid, used) };
    let part = match bound {
        DayBound::UntilIncluded => days(today, end, Some(OpenEnd::Start)),
        DayBound::UntilExcluded => days(today, start, Some(OpenEnd::Start)),
        DayBound::From => months_after(start, FROM_MONTHS).map_or(Part::Invalid, |e| days(start, e, Some(OpenEnd::End))),
        DayBound::After => months_after(end, FROM_MONTHS).map_or(Part::Invalid, |e| days(end, e, Some(OpenEnd::End))),
    };
    one(part, used)
}
