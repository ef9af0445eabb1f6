//! Dates relative to today: offsets ("tra due giorni", "fra un'ora") and
//! day words ("oggi", "domani", "stasera", "settimana prossima"), with
//! one-edit typos of the commonest ones.

use super::*;

/// An amount of time: minutes, or calendar units added to a date.
enum Amount {
    Minutes(i64),
    Calendar(Span),
}

/// "mezz'ora", "un quarto d'ora", "un'ora e mezza", "20 minuti", "due
/// giorni", "un paio di settimane", "tre mesi" at `j`, and the words used.
fn parse_amount(words: &[&str], j: usize) -> Option<(Amount, usize)> {
    // "mezz'ora", "mezzora", "mezz ora".
    if let Some(n) = longest(words, j, &[&["mezz", "ora"], &["mezza", "ora"], &["mezzora"]]) {
        return Some((Amount::Minutes(30), n));
    }
    if let Some(n) = longest(words, j, &[&["un", "quarto", "d", "ora"], &["un", "quarto", "ora"]]) {
        return Some((Amount::Minutes(15), n));
    }
    if let Some(n) = longest(words, j, &[&["tre", "quarti", "d", "ora"], &["tre", "quarti", "ora"]]) {
        return Some((Amount::Minutes(45), n));
    }
    // Approximate counts ("una decina di giorni") are read as the round
    // number: the dialogue reads the date back.
    let approx: &[(&[&str], i64)] = &[
        (&["un", "paio", "di"], 2),
        (&["un", "paio", "d"], 2),
        (&["una", "decina", "di"], 10),
        (&["una", "quindicina", "di"], 15),
        (&["una", "ventina", "di"], 20),
        (&["una", "trentina", "di"], 30),
    ];
    let approx = approx.iter().filter(|(s, _)| starts_with(words, j, s)).max_by_key(|(s, _)| s.len());
    let (count, used) = match word(words, j) {
        _ if approx.is_some() => approx.map(|&(s, n)| (n, s.len()))?,
        "un" | "una" | "uno" => (1, 1),
        w => (i64::from(parse_number(w)?), 1),
    };
    let k = j + used;
    let span = match word(words, k) {
        "giorno" | "giorni" | "gg" | "giornata" | "giornate" => Span::new().try_days(count).ok()?,
        "settimana" | "settimane" | "settimanella" => Span::new().try_weeks(count).ok()?,
        "mese" | "mesi" | "mesetto" | "mesetti" => Span::new().try_months(count).ok()?,
        "anno" | "anni" => Span::new().try_years(count).ok()?,
        "ora" | "ore" | "oretta" | "orette" | "h" => {
            let half = longest(words, k + 1, &[&["e", "mezza"], &["e", "mezzo"]]);
            let minutes = count.checked_mul(60)? + if half.is_some() { 30 } else { 0 };
            return Some((Amount::Minutes(minutes), used + 1 + half.unwrap_or(0)));
        }
        "minuto" | "minuti" | "min" => return Some((Amount::Minutes(count), used + 1)),
        _ => return None,
    };
    Some((Amount::Calendar(span), used + 1))
}

/// Today plus `span`, plus `extra` days; `Invalid` out of range.
fn days_after(today: Date, span: Span, extra: i64) -> Option<Date> {
    today.checked_add(span).ok()?.checked_add(Span::new().days(extra)).ok()
}

/// Offsets and durations from now:
/// - "tra/fra" + amount: that instant ("tra un'ora") or that day ("tra due
///   giorni"); "in" + minutes or hours ("in 20 minuti") likewise;
/// - "entro" + amount: from now to then, open at the start ("entro un'ora",
///   "entro tre settimane": today to three weeks later, inclusive);
/// - "nei prossimi"/"nelle prossime" + amount: today to then, inclusive
///   ("nei prossimi 4 giorni").
pub(super) fn match_offset(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let lead = longest(
        words,
        i,
        &[
            &["tra"],
            &["fra"],
            &["in"],
            &["entro"],
            &["nei", "prossimi"],
            &["nelle", "prossime"],
            &["entro", "i", "prossimi"],
            &["entro", "le", "prossime"],
        ],
    )?;
    let (amount, used) = parse_amount(words, i + lead)?;
    let total = lead + used;
    let part = match (word(words, i), word(words, i + 1), amount) {
        ("tra" | "fra" | "in", _, Amount::Minutes(m)) => Part::Offset(m),
        ("tra" | "fra", _, Amount::Calendar(span)) => days_after(today, span, 0).map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))),
        ("in", _, Amount::Calendar(_)) => return None,
        ("entro", "i" | "le", Amount::Calendar(span)) | ("nei" | "nelle", _, Amount::Calendar(span)) => {
            days_after(today, span, 1).map_or(Part::Invalid, |end| Part::Date(DatePart::Days(today, end, None)))
        }
        ("entro", _, Amount::Minutes(m)) => Part::Within(m),
        ("entro", _, Amount::Calendar(span)) => {
            days_after(today, span, 1).map_or(Part::Invalid, |end| Part::Date(DatePart::Days(today, end, Some(OpenEnd::Start))))
        }
        _ => return None,
    };
    one(part, total)
}

/// "oggi", "domani", "dopodomani", "ieri", "stasera", "domattina",
/// "fine mese", "weekend", "settimana prossima", "mese prossimo", …
pub(super) fn match_day_word(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let plus = |n: i64| today.checked_add(Span::new().days(n)).ok();
    let day = |d: Option<Date>| d.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d)));
    let with_pod = |d: Option<Date>, pod: PartOfDay, used: usize| Some((vec![day(d), Part::Pod(pod)], used));

    if let Some(n) = longest(words, i, &[&["dopo", "domani"], &["dopodomani"]]) {
        return one(day(plus(2)), n);
    }
    if let Some(n) = longest(words, i, &[&["l", "altro", "ieri"], &["altro", "ieri"], &["altroieri"]]) {
        return one(day(plus(-2)), n);
    }
    if let Some(n) =
        longest(words, i, &[&["fine", "mese"], &["fine", "del", "mese"], &["fine", "di", "questo", "mese"], &["fine", "di", "mese"]])
    {
        return one(Part::Date(DatePart::Day(today.last_of_month())), n);
    }
    if let Some(n) = longest(
        words,
        i,
        &[
            &["fine", "settimana"],
            &["weekend"],
            &["week", "end"],
            &["fine", "settimana", "prossimo"],
            &["fine", "della", "settimana"],
            &["fine", "di", "questa", "settimana"],
        ],
    ) {
        let to_saturday = (Weekday::Saturday.to_monday_zero_offset() - today.weekday().to_monday_zero_offset()).rem_euclid(7);
        return one(day(plus(i64::from(to_saturday))), n);
    }
    // "la settimana dopo la prossima": the week after next.
    if let Some(n) = longest(words, i, &[&["settimana", "dopo", "la", "prossima"], &["settimana", "successiva", "alla", "prossima"]]) {
        let start = next_monday(today).and_then(|m| m.checked_add(Span::new().days(7)).ok());
        let end = start.and_then(|s| s.checked_add(Span::new().days(7)).ok());
        return one(
            match (start, end) {
                (Some(s), Some(e)) => Part::Date(DatePart::Days(s, e, None)),
                _ => Part::Invalid,
            },
            n,
        );
    }
    if let Some(n) = longest(
        words,
        i,
        &[
            &["settimana", "prossima"],
            &["prossima", "settimana"],
            &["settimana", "dopo"],
            &["settimana", "successiva"],
            &["settimana", "seguente"],
            &["settimana", "prox"],
            &["prox", "settimana"],
            &["settimana", "che", "viene"],
            &["settimana", "ventura"],
        ],
    ) {
        return one(Part::Date(DatePart::NextWeek), n);
    }
    if let Some(n) = longest(words, i, &[&["questa", "settimana"], &["settimana", "corrente"], &["in", "settimana"]]) {
        return one(Part::Date(DatePart::ThisWeek), n);
    }
    // "questo mese", "in questo mese": from today to the end of the month.
    if let Some(n) = longest(words, i, &[&["questo", "mese"], &["in", "questo", "mese"], &["mese", "corrente"]]) {
        let end = today.first_of_month().checked_add(Span::new().months(1)).ok();
        return one(end.map_or(Part::Invalid, |e| Part::Date(DatePart::Days(today, e, None))), n);
    }
    if let Some(n) = longest(words, i, &[&["mese", "prossimo"], &["prossimo", "mese"], &["mese", "prox"], &["mese", "che", "viene"]]) {
        let first = today.first_of_month();
        let start = first.checked_add(Span::new().months(1)).ok();
        let end = first.checked_add(Span::new().months(2)).ok();
        return one(
            match (start, end) {
                (Some(s), Some(e)) => Part::Date(DatePart::Days(s, e, None)),
                _ => Part::Invalid,
            },
            n,
        );
    }
    if let Some(n) = longest(words, i, &[&["in", "giornata"]]) {
        return one(day(Some(today)), n);
    }
    match word(words, i) {
        "oggi" => one(day(Some(today)), 1),
        "domani" => one(day(plus(1)), 1),
        "ieri" => one(day(plus(-1)), 1),
        "stamattina" | "stamani" if word(words, i + 1) == "presto" => with_pod(Some(today), PartOfDay::EarlyMorning, 2),
        "stamattina" | "stamani" if word(words, i + 1) == "tardi" => with_pod(Some(today), PartOfDay::LateMorning, 2),
        "stamattina" | "stamani" | "stamane" | "stamattinata" => with_pod(Some(today), PartOfDay::Morning, 1),
        "stasera" if word(words, i + 1) == "tardi" => with_pod(Some(today), PartOfDay::LateEvening, 2),
        "stasera" if word(words, i + 1) == "presto" => with_pod(Some(today), PartOfDay::EarlyEvening, 2),
        "domattina" if word(words, i + 1) == "presto" => with_pod(plus(1), PartOfDay::EarlyMorning, 2),
        "domattina" if word(words, i + 1) == "tardi" => with_pod(plus(1), PartOfDay::LateMorning, 2),
        "stasera" => with_pod(Some(today), PartOfDay::Evening, 1),
        "stanotte" => with_pod(Some(today), PartOfDay::Night, 1),
        "stamezzogiorno" => with_pod(Some(today), PartOfDay::Lunch, 1),
        "domattina" => with_pod(plus(1), PartOfDay::Morning, 1),
        w => match typo_day_word(w)? {
            "oggi" => one(day(Some(today)), 1),
            "domani" => one(day(plus(1)), 1),
            _ => one(day(plus(2)), 1),
        },
    }
}

/// The day word `w` is a one-edit typo of ("domai", "doamni" → "domani",
/// "oggu" → "oggi"): same first letter, one letter inserted, deleted,
/// replaced or two adjacent letters swapped, and not a real word ("ogni",
/// "domini", "romani").
pub(super) fn typo_day_word(w: &str) -> Option<&'static str> {
    const REAL: &[&str] = &["ogni", "domini", "demani", "domati", "domandi", "domina"];
    if w.len() < 3 || REAL.contains(&w) {
        return None;
    }
    ["oggi", "domani", "dopodomani"].into_iter().find(|t| t.as_bytes()[0] == w.as_bytes()[0] && one_edit(w.as_bytes(), t.as_bytes()))
}

/// `a` and `b` differ by exactly one edit (insertion, deletion,
/// substitution or transposition of two adjacent bytes).
pub(super) fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return false;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&k| a[k] != b[k]).collect();
            match diff[..] {
                [_] => true,
                [x, y] => y == x + 1 && a[x] == b[y] && a[y] == b[x],
                _ => false,
            }
        }
        1 => {
            let k = (0..short.len()).find(|&k| short[k] != long[k]).unwrap_or(short.len());
            short[k..] == long[k + 1..]
        }
        _ => false,
    }
}
