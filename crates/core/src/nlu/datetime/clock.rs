//! Clock times: "alle 15", "alle dieci e mezza", "verso le 5", "9:30",
//! "16h45", and ranges of clock times ("dalle 15 alle 17").

use super::*;

/// A clock time as said: the stated hour, a signed minute offset from it
/// ("e un quarto" = +15, "meno un quarto" = -15) and whether the hour is
/// literal (leading zero, ≥ 13, midnight/noon words) or still ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Clock {
    pub(super) hour: i8,
    pub(super) offset: i16,
    pub(super) literal: bool,
}

impl Clock {
    /// The resolved (hour, minute), disambiguated by the part of day.
    pub(super) fn resolve(self, pod: Option<PartOfDay>) -> (i8, i8) {
        let stated = if self.hour == 24 { 0 } else { self.hour };
        let hour = match (self.literal || stated > 12, pod) {
            (true, _) => stated,
            (false, Some(pod)) => pod.adjust(stated),
            (false, None) if (1..=7).contains(&stated) => stated + 12,
            (false, None) => stated,
        };
        let total = (i16::from(hour) * 60 + self.offset).rem_euclid(24 * 60);
        // Both fit an i8: total < 1440.
        ((total / 60) as i8, (total % 60) as i8)
    }
}

// ---------------------------------------------------------------------------
// Matchers: clock times ("alle 15", "alle dieci e mezza", "verso le 5")
// ---------------------------------------------------------------------------

/// What a clock cue says about the time after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cue {
    /// At that time ("alle 15", "verso le 5").
    At,
    /// A deadline ("prima delle 10", "entro le 13"): strictly before it.
    Before,
    /// A beginning ("dopo le 17", "a partire dalle 15"): at or after it.
    After,
}

/// Word sequences that announce a clock time, and what they say about it.
pub(super) const CLOCK_CUES: &[(&[&str], Cue)] = &[
    (&["alle", "ore"], Cue::At),
    (&["alle"], Cue::At),
    (&["all"], Cue::At),
    (&["ore"], Cue::At),
    (&["h"], Cue::At),
    (&["verso", "le"], Cue::At),
    (&["verso", "l"], Cue::At),
    (&["verso", "le", "ore"], Cue::At),
    (&["per", "le"], Cue::At),
    (&["per", "l"], Cue::At),
    (&["per", "le", "ore"], Cue::At),
    (&["x", "le"], Cue::At),
    (&["x", "l"], Cue::At),
    (&["x", "le", "ore"], Cue::At),
    (&["circa", "alle"], Cue::At),
    (&["tipo", "le"], Cue::At),
    (&["facciamo", "le"], Cue::At),
    (&["facciamo", "per", "le"], Cue::At),
    (&["tipo", "alle"], Cue::At),
    (&["sulle"], Cue::At),
    (&["sull"], Cue::At),
    (&["dalle", "ore"], Cue::At),
    (&["dalle"], Cue::At),
    (&["dall"], Cue::At),
    (&["intorno", "alle"], Cue::At),
    (&["attorno", "alle"], Cue::At),
    (&["entro", "le"], Cue::Before),
    (&["entro", "l"], Cue::Before),
    (&["entro", "le", "ore"], Cue::Before),
    (&["prima", "delle"], Cue::Before),
    (&["prima", "dell"], Cue::Before),
    (&["non", "oltre", "le"], Cue::Before),
    (&["non", "dopo", "le"], Cue::Before),
    (&["fino", "alle"], Cue::Before),
    (&["fino", "all"], Cue::Before),
    (&["dopo", "le"], Cue::After),
    (&["dopo", "l"], Cue::After),
    (&["dopo", "le", "ore"], Cue::After),
    (&["a", "partire", "dalle"], Cue::After),
    (&["a", "partire", "dall"], Cue::After),
    (&["non", "prima", "delle"], Cue::After),
    (&["non", "prima", "dell"], Cue::After),
    (&["oltre", "le"], Cue::After),
];

/// Cues that announce "mezzogiorno"/"mezzanotte" without an article
/// ("entro mezzogiorno", "prima di mezzogiorno", "dopo mezzanotte").
const NOON_CUES: &[(&[&str], Cue)] = &[
    (&["a"], Cue::At),
    (&["verso"], Cue::At),
    (&["entro"], Cue::Before),
    (&["prima", "di"], Cue::Before),
    (&["dopo"], Cue::After),
    (&["non", "prima", "di"], Cue::After),
];

/// The longest cue of `cues` at `i`: its length and what it says.
fn cue_at(words: &[&str], i: usize, cues: &[(&[&str], Cue)]) -> Option<(usize, Cue)> {
    cues.iter().filter(|(s, _)| starts_with(words, i, s)).max_by_key(|(s, _)| s.len()).map(|&(s, c)| (s.len(), c))
}

/// The part for a clock said after `cue`, consuming `used` words; a clock
/// followed by "in poi"/"in avanti" ("dalle 17 in poi") is a beginning.
fn cued(words: &[&str], clock: Clock, cue: Cue, i: usize, used: usize) -> Option<(Vec<Part>, usize)> {
    let later = longest(words, i + used, &[&["in", "poi"], &["in", "avanti"]]);
    match (cue, later) {
        (_, Some(n)) => one(Part::ClockBound(clock, Bound::After), used + n),
        (Cue::At, None) => one(Part::Clock(clock), used),
        (Cue::Before, None) => one(Part::ClockBound(clock, Bound::Before), used),
        (Cue::After, None) => one(Part::ClockBound(clock, Bound::After), used),
    }
}

/// Words after a number that mean it is a quantity, not a clock/day.
pub(super) const QUANTITY_NOUNS: &[&str] = &[
    "euro",
    "eur",
    "persone",
    "persona",
    "minuti",
    "minuto",
    "min",
    "anni",
    "anno",
    "volte",
    "percento",
    "ore",
    "giorni",
    "settimane",
    "mesi",
    "posti",
    "pezzi",
    "cm",
    "kg",
    "km",
    "metri",
];

pub(super) fn match_clock(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let w = word(words, i);
    // "8:30/10:00" (from "8:30 - 10:00"): a range of clock times.
    if let Some((a, b)) = w.split_once('/').filter(|(a, b)| a.contains([':', 'h']) || b.contains([':', 'h'])) {
        return match (clock_token(a), clock_token(b)) {
            (Some(a), Some(b)) => one(Part::ClockRange(a, b), 1),
            _ => one(Part::Invalid, 1),
        };
    }
    // Bare "9:30" (a colon is unambiguous); "h16", "16h45", "17h".
    if w.contains(':') || is_h_clock(w) {
        return match parse_clock(words, i) {
            Some((clock, used)) => cued(words, clock, Cue::At, i, used),
            None => one(Part::Invalid, 1),
        };
    }
    if let Some(digits) = w.strip_prefix('h').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
        return one(clock_from_digits(digits).map_or(Part::Invalid, Part::Clock), 1);
    }
    if let Some(found) = bare_time(words, i) {
        return Some(found);
    }
    // "un quarto alle cinque": a quarter to five.
    if let Some(n) = longest(words, i, &[&["un", "quarto", "alle"], &["un", "quarto", "all"]]) {
        let (mut clock, used) = parse_clock(words, i + n).filter(|&(_, used)| used == 1)?;
        clock.offset = -15;
        return one(Part::Clock(clock), n + used);
    }
    // "le tre meno un quarto", "le 4 e mezza": an hour with its minutes
    // after "le" is a time even without "alle".
    if matches!(w, "le" | "l") && !word(words, i + 1).contains([':', '.', ',']) {
        if let Some((clock, used)) = parse_clock(words, i + 1) {
            if used >= 3 && clock.offset != 0 && !QUANTITY_NOUNS.contains(&word(words, i + 1 + used)) {
                return one(Part::Clock(clock), 1 + used);
            }
        }
    }
    // "3 e mezza", "tre meno un quarto": an hour with a half or a quarter
    // is a time even without a cue (not a duration: "tra", "in", "dura").
    if let Some((clock, used)) =
        parse_clock(words, i).filter(|&(_, used)| used >= 3 && matches!(word(words, i + used - 1), "mezza" | "mezzo" | "quarto" | "quarti"))
    {
        let prev = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
        let after_count = matches!(prev, "tra" | "fra" | "in" | "entro" | "dura" | "durata" | "circa" | "di" | "da" | "per");
        if !after_count && !w.contains([':', '.', ',']) && !QUANTITY_NOUNS.contains(&word(words, i + used)) {
            return one(Part::Clock(clock), used);
        }
    }
    if let Some((n, cue)) = cue_at(words, i, NOON_CUES).filter(|(n, _)| matches!(word(words, i + n), "mezzogiorno" | "mezzanotte")) {
        let (clock, used) = parse_clock(words, i + n)?;
        return cued(words, clock, cue, i, n + used);
    }
    if matches!(w, "mezzogiorno" | "mezzanotte") {
        let (clock, used) = parse_clock(words, i)?;
        return one(Part::Clock(clock), used);
    }
    let (cue_len, cue) = cue_at(words, i, CLOCK_CUES)?;
    let j = i + cue_len;
    let next = word(words, j);
    // "ore 18/03" is not a time; "ore 9.15" and "ore 16,45" are.
    if w == "ore" && (next.contains('/') || (next.contains(['.', ',']) && clock_token(next).is_none())) {
        return None;
    }
    if QUANTITY_NOUNS.contains(&word(words, j + 1)) && next.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "all'8 marzo", "all'11 aprile": a day of a month, not a time.
    if followed_by_month(words, j + 1) && day_number(next).is_some() {
        return None;
    }
    // "dalle 10-12", "alle 10/11": a range of hours.
    if let Some((a, b)) = hour_pair(next) {
        return one(Part::ClockRange(a, b), cue_len + 1);
    }
    match parse_clock(words, j) {
        Some((clock, used)) => cued(words, clock, cue, i, cue_len + used),
        // A cue followed by digits that are not a valid time ("alle 25").
        None if !next.is_empty() && next.bytes().all(|b| b.is_ascii_digit()) => one(Part::Invalid, cue_len + 1),
        None => None,
    }
}

/// Words after which a number with its minutes is a time even without a
/// cue ("domani 17,30", "stasera 20.30").
const DAY_WORDS: &[&str] = &["oggi", "domani", "dopodomani", "stasera", "stamattina", "domattina", "stanotte"];

/// A time said without a cue right after a day, a weekday, a month or a
/// part of day: "domani 17,30", "giovedì 16.00", "18 marzo 10.30", "domani
/// 15 e 30" (an hour 13–23 and its minutes). After a weekday a "d.m" that
/// could be a date ("giovedì 18.03") is left to the date matchers.
fn bare_time(words: &[&str], i: usize) -> Option<(Vec<Part>, usize)> {
    let w = word(words, i);
    let prev = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    let day_word = DAY_WORDS.contains(&prev) || pod_word(prev).is_some();
    let weekday_prev = weekday(prev).is_some();
    if !(day_word || weekday_prev || month(prev).is_some()) {
        return quarter_time(words, i, w, prev);
    }
    let next_is_quantity = |used: usize| QUANTITY_NOUNS.contains(&word(words, i + used));
    if w.contains(['.', ',']) {
        let (clock, used) = parse_clock(words, i)?;
        if weekday_prev && (1..=12).contains(&clock.offset) {
            return None;
        }
        if next_is_quantity(used) {
            return None;
        }
        return cued(words, clock, Cue::At, i, used);
    }
    let hour = clock_from_digits(w).filter(|c| (13..=23).contains(&c.hour))?;
    if !day_word || word(words, i + 1) != "e" {
        return None;
    }
    let (clock, used) = parse_clock(words, i).filter(|&(c, used)| used >= 3 && c.hour == hour.hour)?;
    if next_is_quantity(used) {
        return None;
    }
    cued(words, clock, Cue::At, i, used)
}

/// Words before a number that make it a price or a count, not a time.
const PRICE_WORDS: &[&str] = &[
    "costa", "costano", "prezzo", "paga", "pago", "pagare", "spesa", "totale", "sono", "viene", "vengono", "il", "l", "giorno", "da", "di",
    "tra", "fra", "circa", "euro",
];

/// "va bene 9.30?", "16,00": a time written with a separator and whole
/// quarter minutes (00, 15, 30, 45, which no month has) is a time even
/// without a cue, unless it is a price ("costa 15.00", "15,30 euro").
fn quarter_time(words: &[&str], i: usize, w: &str, prev: &str) -> Option<(Vec<Part>, usize)> {
    let (h, m) = w.split_once(['.', ','])?;
    if !matches!(m, "00" | "15" | "30" | "45") || h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if PRICE_WORDS.contains(&prev) || QUANTITY_NOUNS.contains(&word(words, i + 1)) || matches!(word(words, i + 1), "eur" | "euri") {
        return None;
    }
    let (clock, used) = parse_clock(words, i).filter(|(c, _)| c.hour <= 23)?;
    cued(words, clock, Cue::At, i, used)
}

/// "le quattro del pomeriggio", "9 di sera", "6 del mattino", "le 11 di
/// mattina": an hour (1–12, digits or a word, optionally after "le"/"l")
/// directly followed by "di"/"del"/"della" and a part of day, without
/// "alle". Gives the clock and the part of day.
pub(super) fn match_hour_of_pod(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let article = usize::from(matches!(word(words, i), "le" | "l"));
    let j = i + article;
    let (clock, used) = parse_clock(words, j)?;
    if !(1..=12).contains(&clock.hour) {
        return None;
    }
    let k = j + used;
    if !matches!(word(words, k), "di" | "del" | "della" | "dello" | "d") {
        return None;
    }
    let pod = pod_word(word(words, k + 1))?;
    Some((vec![Part::Clock(clock), Part::Pod(pod)], article + used + 2))
}

/// "16h45", "17h", "9h30": an hour, "h", and optional minutes.
fn is_h_clock(w: &str) -> bool {
    w.split_once('h').is_some_and(|(h, m)| {
        (1..=2).contains(&h.len())
            && h.bytes().all(|b| b.is_ascii_digit())
            && (m.is_empty() || (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit())))
    })
}

/// One clock written as a single token: "8:30", "10.00", "16h45", "17h", "9".
fn clock_token(t: &str) -> Option<Clock> {
    parse_clock(&[t], 0).filter(|&(_, used)| used == 1).map(|(c, _)| c)
}

/// "tra le 15 e le 17", "fra le 3 e le 5", "dalle 15 alle 17",
/// "dalle 9 fino alle 11".
pub(super) fn match_clock_range(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let opener = longest(words, i, &[&["tra", "le"], &["fra", "le"], &["dalle"], &["dalle", "ore"], &["dall"]])?;
    let j = i + opener;
    let is_between = matches!(word(words, i), "tra" | "fra");
    let connectors: &[&[&str]] = if is_between {
        &[&["e", "le"], &["e", "l"], &["e"]]
    } else {
        &[&["alle"], &["all"], &["fino", "alle"], &["fino", "all"], &["a"], &["alle", "ore"]]
    };
    // Try the full start first ("dalle 9 e mezza alle 11"), then a bare hour
    // so that "tra le 15 e 17" is a range, not 15:17.
    if let Some((a, b)) = hour_pair(word(words, j)) {
        return one(Part::ClockRange(a, b), opener + 1);
    }
    let starts = [parse_clock(words, j), parse_bare_hour(words, j)];
    for (start, used) in starts.into_iter().flatten() {
        let k = j + used;
        let Some(conn) = longest(words, k, connectors) else {
            continue;
        };
        if let Some((end, used_end)) = parse_clock(words, k + conn) {
            return one(Part::ClockRange(start, end), opener + used + conn + used_end);
        }
    }
    None
}

/// A clock at `i`: "15", "15:30", "15.30", "tre", "una", "mezzogiorno",
/// each optionally followed by "in punto", "e mezza", "e un quarto",
/// "e tre quarti", "e N (minuti)", "meno un quarto", "meno N".
pub(super) fn parse_clock(words: &[&str], i: usize) -> Option<(Clock, usize)> {
    let w = word(words, i);
    // "15:30h", "9.00h": the hour sign after a written time.
    let w = w.strip_suffix('h').filter(|s| s.contains([':', '.', ','])).unwrap_or(w);
    if w.contains([':', '.', ',']) || is_h_clock(w) {
        let (h, m) = w.split_once([':', '.', ',', 'h'])?;
        if m.is_empty() && w.ends_with('h') {
            return Some((clock_from_digits(h)?, 1));
        }
        if m.len() != 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut clock = clock_from_digits(h)?;
        let minutes: i16 = m.parse().ok()?;
        if minutes > 59 {
            return None;
        }
        clock.offset = minutes;
        return Some((clock, 1));
    }
    let (mut clock, mut used) = parse_bare_hour(words, i)?;
    if starts_with(words, i + used, &["in", "punto"]) {
        used += 2;
    }
    let k = i + used;
    let suffixes: &[(&[&str], i16)] = &[
        (&["e", "mezza"], 30),
        (&["e", "mezzo"], 30),
        (&["e", "un", "quarto"], 15),
        (&["e", "quarto"], 15),
        (&["e", "tre", "quarti"], 45),
        (&["meno", "un", "quarto"], -15),
        (&["meno", "quarto"], -15),
    ];
    if let Some(&(seq, offset)) = suffixes.iter().filter(|(s, _)| starts_with(words, k, s)).max_by_key(|(s, _)| s.len()) {
        clock.offset = offset;
        return Some((clock, used + seq.len()));
    }
    let sign = match word(words, k) {
        "e" => 1,
        "meno" => -1,
        _ => {
            // "alle 4 10", "alle quattro e dieci" said as "alle quattro dieci".
            if let Some(n) = bare_minutes(words, k) {
                clock.offset = n;
                return Some((clock, used + 1));
            }
            return Some((clock, used));
        }
    };
    let m = word(words, k + 1);
    let minutes = if m.bytes().all(|b| b.is_ascii_digit()) && (1..=2).contains(&m.len()) {
        parse_number(m)
    } else if matches!(m, "un" | "una" | "uno") {
        None
    } else {
        parse_number(m)
    };
    match minutes {
        Some(n) if n <= 59 && (sign > 0 || n >= 1) => {
            clock.offset = sign * i16::try_from(n).ok()?;
            let mut total = used + 2;
            if matches!(word(words, k + 2), "minuti" | "min" | "minuto") {
                total += 1;
            }
            Some((clock, total))
        }
        // "alle 13 e 70": minutes no clock has. Not a time at all (as
        // "13:70"), never the bare hour.
        Some(_) => None,
        None => Some((clock, used)),
    }
}

/// Minutes said right after the hour without "e" ("alle 4 10"): two digits
/// 00–59 or a number word 10–59, not followed by a month, a quantity noun or
/// more digits.
fn bare_minutes(words: &[&str], k: usize) -> Option<i16> {
    let m = word(words, k);
    let is_digits = m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit());
    let n = if is_digits { parse_number(m)? } else { parse_number(m).filter(|n| *n >= 10 && !m.bytes().any(|b| b.is_ascii_digit()))? };
    let next = word(words, k + 1);
    if n > 59
        || followed_by_month(words, k + 1)
        || QUANTITY_NOUNS.contains(&next)
        || next.bytes().next().is_some_and(|b| b.is_ascii_digit())
    {
        return None;
    }
    i16::try_from(n).ok()
}

/// Just the hour at `i`: digits 0..=24, an hour word, "mezzogiorno",
/// "mezzanotte".
pub(super) fn parse_bare_hour(words: &[&str], i: usize) -> Option<(Clock, usize)> {
    let w = word(words, i);
    let clock = match w {
        "mezzogiorno" => Clock { hour: 12, offset: 0, literal: true },
        "mezzanotte" => Clock { hour: 0, offset: 0, literal: true },
        "un" | "uno" => return None,
        _ if w.bytes().all(|b| b.is_ascii_digit()) => clock_from_digits(w)?,
        _ => {
            let h = i8::try_from(parse_number(w)?).ok().filter(|h| *h <= 24)?;
            Clock { hour: h, offset: 0, literal: h == 0 }
        }
    };
    Some((clock, 1))
}

/// "10/12" (from "10-12") after a clock cue: two hours in digits, the
/// first before the second.
pub(super) fn hour_pair(w: &str) -> Option<(Clock, Clock)> {
    let (a, b) = w.split_once('/')?;
    let (a, b) = (clock_from_digits(a)?, clock_from_digits(b)?);
    (a.hour < b.hour).then_some((a, b))
}

/// A month name at `k`, or "di"/"del" and a month name.
pub(super) fn followed_by_month(words: &[&str], k: usize) -> bool {
    month(word(words, k)).is_some() || (matches!(word(words, k), "di" | "del" | "d") && month(word(words, k + 1)).is_some())
}

/// An hour written in digits: 0..=24, one or two digits; a leading zero
/// makes it literal ("07" is 7 am).
pub(super) fn clock_from_digits(d: &str) -> Option<Clock> {
    if d.is_empty() || d.len() > 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hour: i8 = d.parse().ok().filter(|h| *h <= 24)?;
    Some(Clock { hour, offset: 0, literal: d.len() == 2 && d.starts_with('0') || hour == 0 })
}
