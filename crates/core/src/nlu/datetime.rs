//! Deterministic resolver for Italian date/time expressions.
//!
//! [`resolve`] finds the date/time expression in a user turn and resolves
//! it against "now" (the business's local wall-clock time) into a
//! [`DateTimeSlot`]; [`resolve_all`] returns every separate expression of
//! the turn. The pipeline is:
//!
//! 1. **Tokenise**: "€"/"%" become "euro"/"percento", a "-" between digits
//!    becomes "/", then [`normalize`] the text (lowercase, accents folded,
//!    punctuation to spaces, `:` `/` `.` kept between digits) and split it
//!    into words.
//! 2. **Match**: walk the words left to right; at each position the matchers
//!    for each expression family (relative offsets, time ranges, clock times,
//!    parts of day, day words, weekdays, week/month words, absolute dates)
//!    are tried in turn and the first hit consumes its words.
//! 3. **Group**: the parts are split into expressions (a date with the
//!    times and parts of day that follow it; see "Several expressions").
//! 4. **Combine**: the first date part, the first clock time (or time range)
//!    and the first part of day are combined into one slot — of the whole
//!    sentence, or of the target expression when there is one.
//!
//! # Output
//! - Date only → `Instant { <date>T00:00, Day }`.
//! - A clock time → `Instant` with grain `Hour` when the minutes are 0,
//!   `Minute` otherwise; combined with the date if one was given.
//! - A part of day without a clock time → `Range` (grain `Hour`, end
//!   exclusive): mattina 08–12, pranzo 12–14, pomeriggio 14–19, sera 18–22,
//!   notte 22–06 (next day).
//! - "tra le 15 e le 17" / "dalle 15 alle 17" → `Range` 15:00–17:00 (grain
//!   `Hour`, or `Minute` if a bound has minutes).
//! - "settimana prossima" → `Range` Monday..next Monday (grain `Day`);
//!   "questa settimana" → today..next Monday; "il mese prossimo" → the
//!   first..first of the month after.
//!
//! # Rules chosen
//! - **Weekdays**: a bare weekday ("giovedì", "il giovedì", "di giovedì")
//!   and "giovedì prossimo"/"il prossimo giovedì" both mean the next
//!   occurrence at or after tomorrow (on a Wednesday, "mercoledì" is a week
//!   away, "giovedì" is tomorrow). "Prossimo" deliberately does NOT skip a
//!   week: callers saying it almost always mean the coming one, and the
//!   dialogue confirms the date anyway. "questo venerdì"/"venerdì questo" is
//!   the day of the current (Mon–Sun) week if not past (today included),
//!   else the next occurrence. "lunedì della settimana prossima" is the
//!   Monday of next week. "il weekend"/"fine settimana" is the Saturday at
//!   or after today (so "sabato e domenica" and "il weekend" agree).
//! - **Dates without a year** ("15 marzo", "29 febbraio") are the next valid
//!   occurrence at or after today, this year or next; otherwise `None`.
//!   "il 15" is the 15th of this month if not past (today included), else
//!   of the first following month that has that day. "del 22", "dal 22",
//!   "al 22" ("la visita del 22", "a partire dal 22", "fino al 22") are read
//!   the same way, but only before a harmless word or the end ("sconto del
//!   20", "al 3° piano", "il 10 per cento" are not days) and an impossible
//!   day after them is ignored rather than failing closed.
//! - **Numeric dates** are day-first (Italian): "3/4" is 3 April. After an
//!   article/preposition ("il 3/4", "per il 3/4") a "d/m" (or "d-m") is
//!   always a date (invalid → fail closed). Anywhere else ("visita 18/03 ore
//!   10", "18-03") it is read only when the day exists in that month, it is
//!   not next to other digits or part of a longer number (phones
//!   "333/1234567"), not followed by a month ("il 2-3 marzo"), a count or
//!   price word ("persone", "volte", "euro", "€", "%", "ore" not followed by
//!   a time) or "di"/"del"/"d'" (fractions "3/4 d'ora", "3/4 del totale";
//!   "18/3 di mattina" is fine), not after a clock cue ("dalle 10-12" is a
//!   range of hours), a count context ("siamo", "in", "circa", "tra") or in
//!   an address ("via Roma 12/3"); otherwise it is silently skipped. "d.m"
//!   needs one of "il"/"l"/"giorno" (else "15.30" could be a time or a
//!   price). Full dates "15/03/2027", "15.03.2027", "15-03-2027",
//!   "2027-03-15" and two-digit years ("15/03/27" → 2027) are always read.
//!   "all'8 marzo" is a date, not 8:00.
//! - **Typos**: a word one edit (insertion, deletion, substitution, adjacent
//!   swap) away from "oggi"/"domani"/"dopodomani", with the same first
//!   letter and not a real word ("ogni", "domini", "romani"), is read as
//!   that word: "per domai pomeriggio" is tomorrow afternoon, not today's.
//! - **Ambiguous hours**: without a part of day, 1–7 are afternoon (+12:
//!   "alle 3" → 15:00, businesses are closed at 3 am), 8–11 morning, 12
//!   noon, 0/24 midnight. "di pomeriggio"/"di sera" move 1–11 to the
//!   afternoon/evening, "di notte" moves 7–11 to 19–23, "a pranzo" moves
//!   1–3 to 13–15, "di mattina" keeps the hour. An hour written with a
//!   leading zero ("alle 03", "07:30") or ≥ 13 is taken literally.
//! - **Time without a date**: today if still in the future (strictly after
//!   `now`), else tomorrow. A part of day (or time range) without a date is
//!   today's if it has not ended (started, for ranges of clock times), else
//!   tomorrow's. Ranges are not clipped to `now`.
//! - **Offsets** "tra N giorni/settimane/mesi/anni" add calendar units to
//!   today (months clamp to the end of month: 31 Jan + 1 mese = 28/29 Feb).
//!   "tra un'ora", "tra mezz'ora", "tra 20 minuti" give `now` + duration
//!   (seconds dropped), grain `Hour` if the minutes are 0, else `Minute`.
//! - **Fail closed**: an expression that is clearly a date or time but is
//!   invalid ("31 febbraio", "il 32", "alle 25", "31/02/2027") makes the
//!   whole result `None`, even if other parts were valid.
//! - **No misfires**: numbers are read as times or dates only after a cue
//!   ("alle", "ore", "h", "verso le", "per le", "dalle", "il", a month
//!   name, …) or in an unambiguous shape ("9:30", "15/03/2027"). Phone
//!   numbers, prices, durations ("dura 45 minuti") and counts ("siamo in 2")
//!   give nothing; "buona sera"/"buon pomeriggio" are greetings, not times.
//!   "il prima possibile"/"la prima disponibile" give `None` (the booking
//!   engine looks for the first free slot).
//! - Past expressions ("ieri") resolve normally; the caller decides.
//!
//! # Several expressions
//! The parts are grouped into expressions left to right: a date part
//! starts a new expression when the current one already has a date (except
//! a weekday next to a day or week that qualifies it: "giovedì 15 aprile",
//! "lunedì della settimana prossima"), a clock time when it already has a
//! time, a part of day when it already has one. So a time or part of day
//! belongs to the date before it ("da giovedì alle 10 a sabato alle 11" →
//! Thu 10:00, Sat 11:00), or to the date after it if it came first and had
//! none ("alle 15 domani"). An expression with no date of its own takes the
//! previous one's ("domani non alle 15 ma alle 17" → tomorrow 15:00,
//! tomorrow 17:00). [`resolve_all`] returns them all, in order.
//!
//! [`resolve`] combines the first date, time and part of day of the whole
//! sentence (as with a single expression), except when a cue names a
//! target; then it returns the target expression, the latest one named by:
//! - **Correction**: the expression after a negated one ("non alle 15 ma
//!   alle 17", "no scusi non alle 15, alle 17", "non giovedì ma venerdì",
//!   "giovedì non posso, venerdì va bene") or after "anzi"/"cioè"/
//!   "piuttosto" ("giovedì, anzi venerdì"). An expression is negated by
//!   "non" just before it (possibly with "posso", "va bene", … between), by
//!   "non" or "no" right after it when more words follow before the next
//!   one, or by "non" inside it. If the last expression is negated
//!   ("venerdì, non il 15") the latest one not negated is the target.
//! - **Move**: an expression introduced by "a"/"al"/"alla" after another
//!   date, or after one introduced by "da"/"dal" ("da giovedì a sabato",
//!   "dal 20 al 22", "spostarlo a domenica").
//! - Failing those, after a verb of moving ("spostare", "anticipare",
//!   "posticipare", "rimandare", "cambiare"), the last date said after the
//!   verb and not introduced by "di"/"del" ("devo spostare la visita di
//!   lunedì, posso venire mercoledì?" → Wednesday).
//!
//! Without such a cue ("sabato e domenica", "giovedì o venerdì",
//! "giovedì alle 10 o alle 11") the result is as for one expression.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::Span;

use super::{DateTimeSlot, Grain};
use crate::text::normalize;

use super::numbers::{parse_number, parse_ordinal};

/// A date/time found in a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The resolved slot, in local wall-clock time.
    pub slot: DateTimeSlot,
    /// The sentence said a date ("domani", "giovedì", "15 marzo", "stasera",
    /// "tra un'ora"); false for "alle 16" or "nel pomeriggio" alone.
    pub date_given: bool,
    /// The sentence said a time or a part of day ("alle 16", "stasera",
    /// "nel pomeriggio"); false for "domani" alone.
    pub time_given: bool,
}

/// Resolves the date/time expression of `text` (raw user text; it is
/// normalised here) against `now`, the current local wall-clock time in the
/// business's time zone. Deterministic; never panics on any input. Returns
/// `None` when the text has no date/time, or when it has an invalid one
/// ("31 febbraio"). See the module docs for the rules.
///
/// With one expression, or several and no target cue, the first date part,
/// the first clock time and the first part of day are combined ("alle 15
/// domani" is tomorrow at 15). When the sentence moves or corrects a date
/// ("da giovedì a sabato", "spostarlo a domenica", "non alle 15 ma alle
/// 17"), the target expression is returned instead: see "Several
/// expressions" in the module docs.
pub fn resolve(text: &str, now: DateTime) -> Option<Resolved> {
    let prepared = prepare(text);
    let words: Vec<&str> = prepared.split(' ').filter(|w| !w.is_empty()).collect();
    let found = scan(&words, now.date());
    if found.iter().any(|f| f.part == Part::Invalid) {
        return None;
    }
    if found.len() > 1 {
        let groups = group(&found, &words);
        if let Some(t) = pick_target(&groups, &words) {
            return combine(&groups[t].parts, now);
        }
    }
    let parts: Vec<Part> = found.iter().map(|f| f.part).collect();
    combine(&parts, now)
}

/// Every separate date/time expression in `text`, in sentence order, each
/// resolved like [`resolve`] resolves a single one: "posso spostare la piega
/// da giovedì alle 10 a sabato alle 11" gives [Thu 10:00, Sat 11:00]. A time
/// or part of day joins the date before it; a time with no date of its own
/// takes the previous expression's date ("domani non alle 15 ma alle 17" →
/// [tomorrow 15:00, tomorrow 17:00]). Empty when there is none, or when any
/// expression is invalid (fail closed, as in [`resolve`]).
pub fn resolve_all(text: &str, now: DateTime) -> Vec<Resolved> {
    let prepared = prepare(text);
    let words: Vec<&str> = prepared.split(' ').filter(|w| !w.is_empty()).collect();
    let found = scan(&words, now.date());
    if found.iter().any(|f| f.part == Part::Invalid) {
        return Vec::new();
    }
    group(&found, &words).iter().filter_map(|g| combine(&g.parts, now)).collect()
}

/// Normalises the text for the matchers: "€" and "%" become the words
/// "euro"/"percento" (so "10/12 €" is a price, not a date), a "-" between
/// two digits becomes "/" ("18-03" reads like "18/03", "15-03-2027" like
/// "15/03/2027"), then [`normalize`].
fn prepare(text: &str) -> String {
    let needs = text.contains(['€', '%']) || text.contains('-');
    if !needs {
        return normalize(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '€' => out.push_str(" euro "),
            '%' => out.push_str(" percento "),
            '-' if i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(char::is_ascii_digit) => out.push('/'),
            _ => out.push(c),
        }
    }
    normalize(&out)
}

// ---------------------------------------------------------------------------
// Parts found by the matchers
// ---------------------------------------------------------------------------

/// A named part of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartOfDay {
    Morning,
    Lunch,
    Afternoon,
    Evening,
    Night,
}

impl PartOfDay {
    /// Start hour and exclusive end hour (the night ends at 06 next day).
    fn hours(self) -> (i8, i8) {
        match self {
            PartOfDay::Morning => (8, 12),
            PartOfDay::Lunch => (12, 14),
            PartOfDay::Afternoon => (14, 19),
            PartOfDay::Evening => (18, 22),
            PartOfDay::Night => (22, 6),
        }
    }

    /// The range of this part of day on `date`.
    fn range_on(self, date: Date) -> Option<(DateTime, DateTime)> {
        let (start, end) = self.hours();
        let end_date = if end <= start { date.tomorrow().ok()? } else { date };
        Some((at(date, start, 0)?, at(end_date, end, 0)?))
    }

    /// Moves an ambiguous stated hour (0..=12) into this part of day.
    fn adjust(self, hour: i8) -> i8 {
        match self {
            PartOfDay::Morning => hour,
            PartOfDay::Lunch if (1..=3).contains(&hour) => hour + 12,
            PartOfDay::Afternoon | PartOfDay::Evening if (1..=11).contains(&hour) => hour + 12,
            PartOfDay::Night if (7..=11).contains(&hour) => hour + 12,
            PartOfDay::Night if hour == 12 => 0,
            _ => hour,
        }
    }
}

/// A clock time as said: the stated hour, a signed minute offset from it
/// ("e un quarto" = +15, "meno un quarto" = -15) and whether the hour is
/// literal (leading zero, ≥ 13, midnight/noon words) or still ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    hour: i8,
    offset: i16,
    literal: bool,
}

impl Clock {
    /// The resolved (hour, minute), disambiguated by the part of day.
    fn resolve(self, pod: Option<PartOfDay>) -> (i8, i8) {
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

/// How a weekday was qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeekdayMode {
    /// Bare or "prossimo": next occurrence at or after tomorrow.
    Next,
    /// "questo": this week's if not past, else the next occurrence.
    This,
}

/// A date-ish part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePart {
    Day(Date),
    /// Whole days, end exclusive.
    Days(Date, Date),
    Weekday(Weekday, WeekdayMode),
    /// "settimana prossima": a range alone, or qualifies a weekday.
    NextWeek,
    /// "questa settimana": a range alone, or qualifies a weekday.
    ThisWeek,
}

/// One thing a matcher found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Date(DatePart),
    Pod(PartOfDay),
    Clock(Clock),
    ClockRange(Clock, Clock),
    /// An offset from now in minutes ("tra un'ora"): a full date-time.
    Offset(i64),
    /// A date or time that is recognisably one but invalid: fail closed.
    Invalid,
}

// ---------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------

/// A matcher: given the words and a position, returns what it found there
/// and how many words it consumed.
type Matcher = fn(&[&str], usize, Date) -> Option<(Vec<Part>, usize)>;

const MATCHERS: [Matcher; 9] = [
    match_offset,
    match_clock_range,
    match_clock,
    match_numeric_date,
    match_day_month,
    match_day_of_month,
    match_day_word,
    match_weekday,
    match_pod,
];

/// A part and the words `start..end` it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    part: Part,
    start: usize,
    end: usize,
}

/// Walks the words left to right, collecting every part found.
fn scan(words: &[&str], today: Date) -> Vec<Found> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match MATCHERS.iter().find_map(|m| m(words, i, today)) {
            Some((parts, used)) => {
                let end = i + used.max(1);
                found.extend(parts.into_iter().map(|part| Found { part, start: i, end }));
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// The word at `i`, or "" past the end.
fn word<'a>(words: &[&'a str], i: usize) -> &'a str {
    words.get(i).copied().unwrap_or("")
}

/// True if the words starting at `i` are exactly `seq`.
fn starts_with(words: &[&str], i: usize, seq: &[&str]) -> bool {
    seq.iter().enumerate().all(|(k, s)| word(words, i + k) == *s)
}

/// The longest of `seqs` found at `i`, as its length.
fn longest(words: &[&str], i: usize, seqs: &[&[&str]]) -> Option<usize> {
    seqs.iter().filter(|s| starts_with(words, i, s)).map(|s| s.len()).max()
}

fn one(part: Part, used: usize) -> Option<(Vec<Part>, usize)> {
    Some((vec![part], used))
}

// ---------------------------------------------------------------------------
// Matchers: relative offsets ("tra due giorni", "fra un'ora")
// ---------------------------------------------------------------------------

fn match_offset(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    if !matches!(word(words, i), "tra" | "fra") {
        return None;
    }
    let j = i + 1;
    // "mezz'ora", "mezzora", "mezz ora".
    if let Some(n) = longest(words, j, &[&["mezz", "ora"], &["mezza", "ora"], &["mezzora"]]) {
        return one(Part::Offset(30), 1 + n);
    }
    if let Some(n) = longest(words, j, &[&["un", "quarto", "d", "ora"], &["un", "quarto", "ora"]]) {
        return one(Part::Offset(15), 1 + n);
    }
    let (count, used) = match word(words, j) {
        _ if starts_with(words, j, &["un", "paio", "di"]) => (2, 3),
        "un" | "una" | "uno" => (1, 1),
        w => (i64::from(parse_number(w)?), 1),
    };
    let k = j + used;
    let span = match word(words, k) {
        "giorno" | "giorni" | "gg" => Span::new().try_days(count).ok(),
        "settimana" | "settimane" => Span::new().try_weeks(count).ok(),
        "mese" | "mesi" => Span::new().try_months(count).ok(),
        "anno" | "anni" => Span::new().try_years(count).ok(),
        "ora" | "ore" => {
            let half = longest(words, k + 1, &[&["e", "mezza"], &["e", "mezzo"]]);
            let minutes = count.checked_mul(60).map(|m| m + if half.is_some() { 30 } else { 0 });
            return one(minutes.map_or(Part::Invalid, Part::Offset), 2 + used + half.unwrap_or(0));
        }
        "minuto" | "minuti" | "min" => return one(Part::Offset(count), 2 + used),
        _ => return None,
    };
    let part = match span.and_then(|s| today.checked_add(s).ok()) {
        Some(d) => Part::Date(DatePart::Day(d)),
        None => Part::Invalid,
    };
    one(part, 2 + used)
}

// ---------------------------------------------------------------------------
// Matchers: clock times ("alle 15", "alle dieci e mezza", "verso le 5")
// ---------------------------------------------------------------------------

/// Word sequences that announce a clock time.
const CLOCK_CUES: &[&[&str]] = &[
    &["alle", "ore"],
    &["alle"],
    &["all"],
    &["ore"],
    &["h"],
    &["verso", "le"],
    &["verso", "l"],
    &["verso", "le", "ore"],
    &["per", "le"],
    &["per", "l"],
    &["entro", "le"],
    &["entro", "l"],
    &["dopo", "le"],
    &["dopo", "l"],
    &["dalle", "ore"],
    &["dalle"],
    &["dall"],
    &["intorno", "alle"],
    &["attorno", "alle"],
    &["prima", "delle"],
    &["prima", "dell"],
];

/// Words after a number that mean it is a quantity, not a clock/day.
const QUANTITY_NOUNS: &[&str] = &[
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

fn match_clock(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let w = word(words, i);
    // Bare "9:30" (a colon is unambiguous); "h16".
    if w.contains(':') {
        return match parse_clock(words, i) {
            Some((clock, used)) => one(Part::Clock(clock), used),
            None => one(Part::Invalid, 1),
        };
    }
    if let Some(digits) = w.strip_prefix('h').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
        return one(clock_from_digits(digits).map_or(Part::Invalid, Part::Clock), 1);
    }
    if matches!(w, "mezzogiorno" | "mezzanotte") {
        let (clock, used) = parse_clock(words, i)?;
        return one(Part::Clock(clock), used);
    }
    let cue = longest(words, i, CLOCK_CUES)?;
    let j = i + cue;
    let next = word(words, j);
    if w == "ore" && next.contains(['/', '.']) {
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
        return one(Part::ClockRange(a, b), cue + 1);
    }
    match parse_clock(words, j) {
        Some((clock, used)) => one(Part::Clock(clock), cue + used),
        // A cue followed by digits that are not a valid time ("alle 25").
        None if !next.is_empty() && next.bytes().all(|b| b.is_ascii_digit()) => one(Part::Invalid, cue + 1),
        None => None,
    }
}

/// "tra le 15 e le 17", "fra le 3 e le 5", "dalle 15 alle 17",
/// "dalle 9 fino alle 11".
fn match_clock_range(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
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
fn parse_clock(words: &[&str], i: usize) -> Option<(Clock, usize)> {
    let w = word(words, i);
    if w.contains([':', '.']) {
        let (h, m) = w.split_once([':', '.'])?;
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
        _ => return Some((clock, used)),
    };
    let m = word(words, k + 1);
    let minutes = if m.bytes().all(|b| b.is_ascii_digit()) && (1..=2).contains(&m.len()) {
        parse_number(m)
    } else if matches!(m, "un" | "una" | "uno") {
        None
    } else {
        parse_number(m)
    };
    match minutes.filter(|&n| n <= 59 && (sign > 0 || n >= 1)) {
        Some(n) => {
            clock.offset = sign * i16::try_from(n).ok()?;
            let mut total = used + 2;
            if matches!(word(words, k + 2), "minuti" | "min" | "minuto") {
                total += 1;
            }
            Some((clock, total))
        }
        None => Some((clock, used)),
    }
}

/// Just the hour at `i`: digits 0..=24, an hour word, "mezzogiorno",
/// "mezzanotte".
fn parse_bare_hour(words: &[&str], i: usize) -> Option<(Clock, usize)> {
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
fn hour_pair(w: &str) -> Option<(Clock, Clock)> {
    let (a, b) = w.split_once('/')?;
    let (a, b) = (clock_from_digits(a)?, clock_from_digits(b)?);
    (a.hour < b.hour).then_some((a, b))
}

/// A month name at `k`, or "di"/"del" and a month name.
fn followed_by_month(words: &[&str], k: usize) -> bool {
    month(word(words, k)).is_some() || (matches!(word(words, k), "di" | "del") && month(word(words, k + 1)).is_some())
}

/// An hour written in digits: 0..=24, one or two digits; a leading zero
/// makes it literal ("07" is 7 am).
fn clock_from_digits(d: &str) -> Option<Clock> {
    if d.is_empty() || d.len() > 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hour: i8 = d.parse().ok().filter(|h| *h <= 24)?;
    Some(Clock { hour, offset: 0, literal: d.len() == 2 && d.starts_with('0') || hour == 0 })
}

// ---------------------------------------------------------------------------
// Matchers: absolute dates
// ---------------------------------------------------------------------------

/// Month names and abbreviations, 1-based.
fn month(w: &str) -> Option<i8> {
    let m = match w {
        "gennaio" | "gen" => 1,
        "febbraio" | "feb" => 2,
        "marzo" | "mar" => 3,
        "aprile" | "apr" => 4,
        "maggio" | "mag" => 5,
        "giugno" | "giu" => 6,
        "luglio" | "lug" => 7,
        "agosto" | "ago" => 8,
        "settembre" | "set" | "sett" => 9,
        "ottobre" | "ott" => 10,
        "novembre" | "nov" => 11,
        "dicembre" | "dic" => 12,
        _ => return None,
    };
    Some(m)
}

/// Words that may precede a bare "d/m" numeric date.
const DATE_LEADS: &[&str] = &[
    "il",
    "l",
    "lo",
    "per",
    "dal",
    "al",
    "del",
    "giorno",
    "entro",
    "fino",
    "di",
    "da",
    "a",
    "lunedi",
    "martedi",
    "mercoledi",
    "giovedi",
    "venerdi",
    "sabato",
    "domenica",
];

/// A day-of-month number: 1–2 digits, a number word (not "un"/"una"/"uno"),
/// or an ordinal ("primo").
fn day_number(w: &str) -> Option<i64> {
    if w.bytes().all(|b| b.is_ascii_digit()) {
        return if (1..=2).contains(&w.len()) { w.parse().ok() } else { None };
    }
    // "un"/"una"/"uno" are articles ("uno set", "una mar…"); the 1st is
    // "primo".
    if matches!(w, "un" | "una" | "uno") {
        return None;
    }
    parse_number(w).or_else(|| parse_ordinal(w)).map(i64::from)
}

/// A four-digit year (1900..=2199) or a two-digit one (→ 20xx).
fn year_number(w: &str) -> Option<i64> {
    if !w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = w.parse().ok()?;
    match w.len() {
        2 => Some(2000 + y),
        4 if (1900..=2199).contains(&y) => Some(y),
        _ => None,
    }
}

/// A date from numbers, `Invalid` if it does not exist.
fn date_part(y: i64, m: i64, d: i64) -> Part {
    match ymd(y, m, d) {
        Some(date) => Part::Date(DatePart::Day(date)),
        None => Part::Invalid,
    }
}

fn ymd(y: i64, m: i64, d: i64) -> Option<Date> {
    Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// The next valid occurrence of day/month at or after today, this year or
/// next.
fn next_day_month(today: Date, m: i64, d: i64) -> Part {
    let y = i64::from(today.year());
    match [y, y + 1].into_iter().filter_map(|y| ymd(y, m, d)).find(|date| *date >= today) {
        Some(date) => Part::Date(DatePart::Day(date)),
        None => Part::Invalid,
    }
}

/// Whether a "d/m" at `i` with no lead word is a date: a day that exists in
/// that month (29/2 included), not next to other digits (phone numbers),
/// not after a clock cue ("alle 10/11"), a count context ("siamo 3/4", "in
/// 3/4") or in an address ("via Roma 12/3"), and followed by nothing, a
/// date/time expression ("18/03 ore 10", "18/3 di mattina", "18/3
/// giovedì") or a harmless word ("18/03 va bene?", "18/3 per un taglio") —
/// not by a noun ("3/4 persone", "2/3 domande", "1/2 ora", "10/12 euro") or
/// "di"/"d'" ("3/4 d'ora").
fn bare_day_month(words: &[&str], i: usize, d: i64, m: i64, today: Date) -> bool {
    const PREV: &[&str] = &[
        "alle", "all", "ore", "h", "le", "dalle", "dall", "verso", "siamo", "saremo", "eravamo", "in", "circa", "ogni", "tra", "fra", "su",
        "i", "gli", "n", "nr", "num", "numero", "interno", "int", "scala", "civico", "codice", "cod", "pratica", "prot", "tel", "cell",
    ];
    const FOLLOW: &[&str] = &[
        "va", "andrebbe", "ok", "grazie", "per", "con", "e", "o", "oppure", "ma", "anzi", "non", "se", "sono", "mi", "ci", "c", "ce",
        "posso", "possiamo", "puo", "vorrei", "avete", "si", "no", "allora", "quindi", "pero", "invece", "dopo", "prima", "entro", "fino",
        "al", "dal", "alla", "nel", "in", "verso", "come",
    ];
    const ADDRESS: &[&str] = &["via", "viale", "piazza", "piazzale", "corso", "vicolo", "largo", "strada", "localita"];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if ymd(2028, m, d).is_none() {
        return false;
    }
    let prev = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    let next = word(words, i + 1);
    if digits(prev) || PREV.contains(&prev) || words[i.saturating_sub(3)..i].iter().any(|w| ADDRESS.contains(w)) {
        return false;
    }
    next.is_empty()
        || (FOLLOW.contains(&next) && !(next == "in" && digits(word(words, i + 2))))
        || (matches!(next, "di" | "del") && match_pod(words, i + 2, today).is_some())
        || (!digits(next) && MATCHERS.iter().any(|m| m(words, i + 1, today).is_some_and(|(parts, _)| !parts.contains(&Part::Invalid))))
}

/// "15/03/2027", "15.03.2027", "2027-03-15" (→ "2027 03 15"),
/// "15-03-2027" (→ "15 03 2027"), "il 3/4", "15/03/27".
fn match_numeric_date(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let w = word(words, i);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if w.contains(['/', '.']) {
        let fields: Vec<&str> = w.split(['/', '.']).collect();
        if !fields.iter().all(|f| digits(f)) {
            return None;
        }
        let num = |s: &str| s.parse::<i64>().ok();
        let lead = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
        return match fields[..] {
            [y, m, d] if y.len() == 4 => one(date_part(year_number(y)?, num(m)?, num(d)?), 1),
            [d, m, y] if d.len() <= 2 && m.len() <= 2 => one(date_part(year_number(y)?, num(m)?, num(d)?), 1),
            // "il 2-3 marzo" is two days of March, not 2 March.
            [_, _] if followed_by_month(words, i + 1) => None,
            [d, m] if d.len() <= 2 && m.len() <= 2 => {
                let (d, m) = (num(d)?, num(m)?);
                let slash = w.contains('/');
                let ok_lead = if slash { DATE_LEADS.contains(&lead) } else { matches!(lead, "il" | "l" | "giorno") };
                if ok_lead {
                    return one(next_day_month(today, m, d), 1);
                }
                // Without a lead: only a valid d/m in a date-like context.
                if !slash || !bare_day_month(words, i, d, m, today) {
                    return None;
                }
                match next_day_month(today, m, d) {
                    part @ Part::Date(_) => one(part, 1),
                    _ => None,
                }
            }
            _ => None,
        };
    }
    // Three separate numbers: d m yyyy or yyyy m d.
    let (a, b, c) = (w, word(words, i + 1), word(words, i + 2));
    // Exactly one end must be a four-digit year.
    if !(digits(a) && digits(b) && digits(c)) || b.len() > 2 || (a.len() == 4) == (c.len() == 4) {
        return None;
    }
    let n = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    if d.len() > 2 {
        return None;
    }
    let y = year_number(y).filter(|_| y.len() == 4)?;
    one(date_part(y, n(m)?, n(d)?), 3)
}

/// "15 marzo", "15 di marzo", "il quindici marzo", "primo aprile",
/// "15 marzo 2027".
fn match_day_month(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let day_word = word(words, i);
    let d = day_number(day_word)?;
    let mut k = i + 1;
    if matches!(word(words, k), "di" | "del") {
        k += 1;
    }
    let month_word = word(words, k);
    let m = i64::from(month(month_word)?);
    // Abbreviations ("set", "mar", "ago") are common words: only after digits.
    if month_word.len() <= 4 && !day_word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k += 1;
    if let Some(y) = year_number(word(words, k)).filter(|_| word(words, k).len() == 4) {
        return one(date_part(y, m, d), k + 1 - i);
    }
    one(next_day_month(today, m, d), k - i)
}

/// Words before "del"/"dal"/"al" + number that make it not a day
/// ("sconto del 20", "il numero del 12", "l'autobus del 14").
const NOT_A_DAY_BEFORE: &[&str] = &[
    "sconto",
    "riduzione",
    "aumento",
    "numero",
    "n",
    "nr",
    "interno",
    "civico",
    "tavolo",
    "stanza",
    "camera",
    "pagina",
    "linea",
    "bus",
    "autobus",
    "tram",
    "taglia",
    "misura",
    "classe",
    "piano",
    "scala",
    "capitolo",
    "articolo",
    "modello",
    "versione",
    "nato",
    "nata",
    "anno",
    "anni",
];

/// "il 15", "il quindici", "il primo del mese", "il 15 del mese prossimo",
/// "il giorno 15", "sabato 20" (the date wins over the weekday).
fn match_day_of_month(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    // An article, "giorno", or a weekday ("sabato 20") may lead.
    let article = longest(words, i, &[&["il"], &["l"], &["lo"], &["il", "giorno"], &["giorno"], &["del"], &["dal"], &["al"]])
        .or_else(|| weekday(word(words, i)).map(|_| 1))
        .unwrap_or(0);
    // "del 22", "dal 20", "al 25" are also percentages, floors, bus lines:
    // read them only in a date-like context, and never fail closed on them.
    let soft = matches!(word(words, i), "del" | "dal" | "al");
    if soft && NOT_A_DAY_BEFORE.contains(&i.checked_sub(1).map(|p| word(words, p)).unwrap_or("")) {
        return None;
    }
    let j = i + article;
    let w = word(words, j);
    let d = day_number(w)?;
    let k = j + 1;
    // A following month is the day-month matcher's job.
    if followed_by_month(words, k) {
        return None;
    }
    let next_month = longest(words, k, &[&["del", "mese", "prossimo"], &["del", "prossimo", "mese"], &["del", "mese", "che", "viene"]]);
    let this_month = longest(words, k, &[&["del", "mese"], &["di", "questo", "mese"], &["del", "corrente", "mese"]]);
    let first_month = today.first_of_month();
    let (candidates, used): (Vec<Date>, usize) = if let Some(n) = next_month {
        (first_month.checked_add(Span::new().months(1)).ok().into_iter().collect(), n)
    } else {
        if article == 0 && this_month.is_none() {
            return None;
        }
        let is_digits = w.bytes().all(|b| b.is_ascii_digit());
        let next = word(words, k);
        // Digits: reject quantities ("il 3 per cento"); words and "primo":
        // only before a harmless follower ("il primo appuntamento" is not
        // the 1st).
        let harmless = matches!(
            next,
            "" | "del"
                | "di"
                | "alle"
                | "all"
                | "ore"
                | "a"
                | "in"
                | "nel"
                | "verso"
                | "per"
                | "dalle"
                | "mattina"
                | "pomeriggio"
                | "sera"
                | "o"
                | "e"
                | "va"
                | "ok"
                | "prossimo"
                | "tra"
                | "fra"
                | "entro"
                | "h"
                | "grazie"
                | "allora"
                | "se"
                | "pero"
                | "ma"
                | "si"
                | "no"
                | "dopo"
                | "prima"
                | "al"
                | "anzi"
                | "oppure"
                | "invece"
                | "fino"
                | "non"
        );
        let quantity = QUANTITY_NOUNS.contains(&next)
            || matches!(next, "percento" | "piano" | "posto")
            || (next == "per" && word(words, k + 1) == "cento");
        if (is_digits && quantity) || (!is_digits && !harmless) {
            return None;
        }
        let months = (0..3).filter_map(|n| first_month.checked_add(Span::new().months(n)).ok()).collect();
        (months, this_month.unwrap_or(0))
    };
    let used = article + 1 + used;
    if !(1..=31).contains(&d) {
        return if soft { None } else { one(Part::Invalid, used) };
    }
    let found = candidates
        .into_iter()
        .filter_map(|first| ymd(i64::from(first.year()), i64::from(first.month()), d))
        .find(|date| *date >= today || next_month.is_some());
    one(found.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), used)
}

// ---------------------------------------------------------------------------
// Matchers: day words, weekdays, weeks, months, parts of day
// ---------------------------------------------------------------------------

/// "oggi", "domani", "dopodomani", "ieri", "stasera", "domattina",
/// "fine mese", "weekend", "settimana prossima", "mese prossimo", …
fn match_day_word(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
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
    if let Some(n) = longest(words, i, &[&["fine", "settimana"], &["weekend"], &["week", "end"], &["fine", "settimana", "prossimo"]]) {
        let to_saturday = (Weekday::Saturday.to_monday_zero_offset() - today.weekday().to_monday_zero_offset()).rem_euclid(7);
        return one(day(plus(i64::from(to_saturday))), n);
    }
    if let Some(n) = longest(words, i, &[&["settimana", "prossima"], &["prossima", "settimana"]]) {
        return one(Part::Date(DatePart::NextWeek), n);
    }
    if let Some(n) = longest(words, i, &[&["questa", "settimana"], &["settimana", "corrente"]]) {
        return one(Part::Date(DatePart::ThisWeek), n);
    }
    if let Some(n) = longest(words, i, &[&["mese", "prossimo"], &["prossimo", "mese"]]) {
        let first = today.first_of_month();
        let start = first.checked_add(Span::new().months(1)).ok();
        let end = first.checked_add(Span::new().months(2)).ok();
        return one(
            match (start, end) {
                (Some(s), Some(e)) => Part::Date(DatePart::Days(s, e)),
                _ => Part::Invalid,
            },
            n,
        );
    }
    match word(words, i) {
        "oggi" => one(day(Some(today)), 1),
        "domani" => one(day(plus(1)), 1),
        "ieri" => one(day(plus(-1)), 1),
        "stamattina" | "stamani" | "stamane" | "stamattinata" => with_pod(Some(today), PartOfDay::Morning, 1),
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
fn typo_day_word(w: &str) -> Option<&'static str> {
    const REAL: &[&str] = &["ogni", "domini", "demani", "domati", "domandi", "domina"];
    if w.len() < 3 || REAL.contains(&w) {
        return None;
    }
    ["oggi", "domani", "dopodomani"].into_iter().find(|t| t.as_bytes()[0] == w.as_bytes()[0] && one_edit(w.as_bytes(), t.as_bytes()))
}

/// `a` and `b` differ by exactly one edit (insertion, deletion,
/// substitution or transposition of two adjacent bytes).
fn one_edit(a: &[u8], b: &[u8]) -> bool {
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

fn weekday(w: &str) -> Option<Weekday> {
    Some(match w {
        "lunedi" => Weekday::Monday,
        "martedi" => Weekday::Tuesday,
        "mercoledi" => Weekday::Wednesday,
        "giovedi" => Weekday::Thursday,
        "venerdi" => Weekday::Friday,
        "sabato" => Weekday::Saturday,
        "domenica" => Weekday::Sunday,
        _ => return None,
    })
}

/// "giovedì", "questo venerdì", "venerdì questo", "lunedì prossimo",
/// "il prossimo lunedì".
fn match_weekday(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    // Optional qualifier before the weekday.
    let (before, mut mode) = match word(words, i) {
        "questo" | "questa" => (1, WeekdayMode::This),
        "prossimo" | "prossima" => (1, WeekdayMode::Next),
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
        "prossimo" | "prossima" if word(words, k + 1) != "settimana" => used += 1,
        _ => {}
    }
    one(Part::Date(DatePart::Weekday(wd, mode)), used)
}

/// "mattina", "in mattinata", "nel pomeriggio", "di sera", "in serata",
/// "notte", "a pranzo", "dopo pranzo" — but not "buona sera".
fn match_pod(words: &[&str], i: usize, _today: Date) -> Option<(Vec<Part>, usize)> {
    let prev = i.checked_sub(1).map(|p| word(words, p)).unwrap_or("");
    if matches!(prev, "buona" | "buon") {
        return None;
    }
    if starts_with(words, i, &["dopo", "pranzo"]) {
        return one(Part::Pod(PartOfDay::Afternoon), 2);
    }
    let pod = match word(words, i) {
        "mattina" | "mattino" | "mattinata" => PartOfDay::Morning,
        "pranzo" => PartOfDay::Lunch,
        "pomeriggio" => PartOfDay::Afternoon,
        "sera" | "serata" => PartOfDay::Evening,
        "notte" | "nottata" => PartOfDay::Night,
        _ => return None,
    };
    one(Part::Pod(pod), 1)
}

// ---------------------------------------------------------------------------
// Combiner
// ---------------------------------------------------------------------------

/// Combines the first date part, the first clock (or clock range) and the
/// first part of day into one slot.
fn combine(parts: &[Part], now: DateTime) -> Option<Resolved> {
    let today = now.date();
    if parts.contains(&Part::Invalid) {
        return None;
    }
    if let Some(minutes) = parts.iter().find_map(|p| if let Part::Offset(m) = p { Some(*m) } else { None }) {
        let base = now.with().second(0).subsec_nanosecond(0).build().ok()?;
        let value = base.checked_add(Span::new().try_minutes(minutes).ok()?).ok()?;
        return Some(Resolved {
            slot: DateTimeSlot::Instant { value, grain: clock_grain(value.minute()) },
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
    let clock = parts.iter().find_map(|p| match p {
        Part::Clock(c) => Some((*c, None)),
        Part::ClockRange(a, b) => Some((*a, Some(*b))),
        _ => None,
    });

    // The date, as days (a single day or a span of days).
    let days: Option<(Date, Option<Date>)> = match date {
        None => None,
        Some(DatePart::Day(d)) => Some((d, None)),
        Some(DatePart::Days(s, e)) => Some((s, Some(e))),
        Some(DatePart::Weekday(wd, mode)) => {
            let mode = if this_week { WeekdayMode::This } else { mode };
            Some((weekday_date(today, wd, mode, next_week)?, None))
        }
        Some(DatePart::ThisWeek) => Some((today, Some(next_monday(today)?))),
        Some(DatePart::NextWeek) => {
            let monday = next_monday(today)?;
            Some((monday, Some(monday.checked_add(Span::new().days(7)).ok()?)))
        }
    };
    let date_given = days.is_some();
    let time_given = clock.is_some() || pod.is_some();

    let slot = match (days, clock, pod) {
        (None, None, None) => return None,
        // Spans of days ignore times: "la settimana prossima".
        (Some((start, Some(end))), _, _) => DateTimeSlot::Range { start: midnight(start), end: midnight(end), grain: Grain::Day },
        (Some((day, None)), None, None) => DateTimeSlot::Instant { value: midnight(day), grain: Grain::Day },
        (day, Some((start, end)), pod) => {
            let (sh, sm) = start.resolve(pod);
            let end = end.map(|e| e.resolve(pod));
            let on = |d: Date| -> Option<DateTimeSlot> {
                let s = at(d, sh, sm)?;
                Some(match end {
                    None => DateTimeSlot::Instant { value: s, grain: clock_grain(s.minute()) },
                    Some((eh, em)) => {
                        let mut e = at(d, eh, em)?;
                        if e <= s {
                            e = e.checked_add(Span::new().days(1)).ok()?;
                        }
                        let grain = if sm == 0 && em == 0 { Grain::Hour } else { Grain::Minute };
                        DateTimeSlot::Range { start: s, end: e, grain }
                    }
                })
            };
            match day {
                Some((d, _)) => on(d)?,
                None => {
                    let today_slot = on(today)?;
                    if slot_start(&today_slot) > now {
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
            DateTimeSlot::Range { start, end, grain: Grain::Hour }
        }
    };
    Some(Resolved { slot, date_given, time_given })
}

// ---------------------------------------------------------------------------
// Several expressions: grouping and the target
// ---------------------------------------------------------------------------

/// One date/time expression: its parts (with the date it took from the
/// expression before, if it had none) and the words `start..end` it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    parts: Vec<Part>,
    start: usize,
    end: usize,
    /// It said a date itself (not inherited).
    own_date: bool,
    has_clock: bool,
    has_pod: bool,
    /// The last date part it said and the word after it.
    last_date: Option<(DatePart, usize)>,
}

/// Splits the parts into expressions. A new expression starts at a date
/// part when the current one already has a date (unless the two qualify
/// each other: "giovedì 15 aprile", "lunedì della settimana prossima"), at
/// a clock time when it already has one, at a part of day when it already
/// has one. Then an expression without a date takes the previous one's.
fn group(found: &[Found], words: &[&str]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for f in found {
        let new = match groups.last() {
            None => true,
            Some(g) => match f.part {
                Part::Invalid => false,
                Part::Offset(_) => g.own_date || g.has_clock,
                Part::Date(d) => match g.last_date {
                    Some((prev, end)) => !(qualifies(prev, d) && adjacent(words, end, f.start)),
                    None => g.own_date,
                },
                Part::Clock(_) | Part::ClockRange(..) => g.has_clock,
                Part::Pod(_) => g.has_pod,
            },
        };
        if new {
            groups.push(Group {
                parts: Vec::new(),
                start: f.start,
                end: f.end,
                own_date: false,
                has_clock: false,
                has_pod: false,
                last_date: None,
            });
        }
        let Some(g) = groups.last_mut() else { continue };
        g.parts.push(f.part);
        g.start = g.start.min(f.start);
        g.end = g.end.max(f.end);
        match f.part {
            Part::Date(d) => {
                g.own_date = true;
                g.last_date = Some((d, f.end));
            }
            Part::Offset(_) => {
                g.own_date = true;
                g.has_clock = true;
            }
            Part::Clock(_) | Part::ClockRange(..) => g.has_clock = true,
            Part::Pod(_) => g.has_pod = true,
            Part::Invalid => {}
        }
    }
    // Inherit the date of the previous expression.
    let mut inherited: Vec<Part> = Vec::new();
    for g in &mut groups {
        if g.own_date {
            inherited = g.parts.iter().copied().filter(|p| matches!(p, Part::Date(_))).collect();
        } else if !inherited.is_empty() {
            g.parts.splice(0..0, inherited.iter().copied());
        }
    }
    groups
}

/// Two date parts that together say one date: a weekday with a day
/// ("giovedì 15 aprile") or with a week ("lunedì della settimana prossima").
fn qualifies(a: DatePart, b: DatePart) -> bool {
    use DatePart::{Day, NextWeek, ThisWeek, Weekday as Wd};
    matches!((a, b), (Wd(..), Day(_) | NextWeek | ThisWeek) | (Day(_) | NextWeek | ThisWeek, Wd(..)))
}

/// The word at `next` follows the one ending at `end` directly or after
/// "di"/"del"/"della".
fn adjacent(words: &[&str], end: usize, next: usize) -> bool {
    next == end || (next == end + 1 && matches!(word(words, end), "di" | "del" | "della" | "dell"))
}

/// Words that may stand between "non" and the expression it negates
/// ("non posso venire giovedì").
const NEGATION_FILLERS: &[&str] = &[
    "posso",
    "possiamo",
    "riesco",
    "riusciamo",
    "va",
    "vanno",
    "bene",
    "mi",
    "ci",
    "piu",
    "venire",
    "vengo",
    "scusi",
    "scusa",
    "sono",
    "libero",
    "libera",
];

/// Words that keep "non" attached to the expression right after it ("non
/// il 15", "non di giovedì").
const NEGATION_LINKS: &[&str] = &["il", "la", "lo", "l", "di", "per", "a", "e"];

/// Which expressions the sentence negates: "non" inside one ("domani non
/// alle 15"); "non" just before one, possibly after "posso"/"va bene"/…
/// ("non giovedì", "non posso giovedì"); "non …" or "no" right after one
/// when more words follow before the next ("giovedì non posso, venerdì",
/// "giovedì no, venerdì"); "no"/"non" after the last one.
fn negations(groups: &[Group], words: &[&str]) -> Vec<bool> {
    let n = groups.len();
    let mut neg = vec![false; n];
    for (k, g) in groups.iter().enumerate() {
        if words.get(g.start..g.end).is_some_and(|ws| ws.contains(&"non")) {
            neg[k] = true;
        }
        let lo = if k == 0 { 0 } else { groups[k - 1].end.min(g.start) };
        let gap = words.get(lo..g.start).unwrap_or(&[]);
        if let Some(p) = gap.iter().rposition(|w| *w == "non") {
            let between = &gap[p + 1..];
            if between.iter().all(|w| NEGATION_LINKS.contains(w)) {
                neg[k] = true;
            } else if k > 0 && p == 0 {
                neg[k - 1] = true;
            } else if between.len() <= 3 && between.iter().all(|w| NEGATION_FILLERS.contains(w) || NEGATION_LINKS.contains(w)) {
                neg[k] = true;
            }
        }
        if k > 0 && gap.first() == Some(&"no") {
            neg[k - 1] = true;
        }
    }
    if let Some(last) = groups.last() {
        if matches!(word(words, last.end), "no" | "non") {
            neg[n - 1] = true;
        }
    }
    neg
}

/// Which expression [`resolve`] returns when a sentence has several, if a
/// cue says so (see "Several expressions" in the module docs).
fn pick_target(groups: &[Group], words: &[&str]) -> Option<usize> {
    let n = groups.len();
    if n < 2 {
        return None;
    }
    // Words between expression k-1 (or the start) and expression k.
    let gap = |k: usize| -> &[&str] {
        let lo = if k == 0 { 0 } else { groups[k - 1].end.min(groups[k].start) };
        words.get(lo..groups[k].start).unwrap_or(&[])
    };
    // The word introducing expression k: a preposition the matcher consumed
    // ("dal 20", "al 22"), else the word before it.
    let intro = |k: usize| -> &str {
        let first = word(words, groups[k].start);
        if matches!(first, "dal" | "al" | "del") {
            first
        } else {
            gap(k).last().copied().unwrap_or("")
        }
    };
    let from = |k: usize| matches!(intro(k), "da" | "dal" | "dalla" | "dallo" | "dall");
    let to = |k: usize| matches!(intro(k), "a" | "al" | "alla" | "allo" | "all" | "ad");
    let neg = negations(groups, words);
    let mut target = None;
    for k in 1..n {
        if neg[k] {
            continue;
        }
        let correction = neg[k - 1] || gap(k).iter().any(|w| matches!(*w, "anzi" | "cioe" | "piuttosto"));
        let moved = to(k) && (0..k).any(|j| groups[j].own_date || from(j));
        if correction || moved {
            target = Some(k);
        }
    }
    if target.is_none() && neg[n - 1] {
        target = (0..n).rev().find(|&k| !neg[k]);
    }
    if target.is_none() {
        // "devo spostare la visita di lunedì, posso venire mercoledì?": the
        // last date said after a verb of moving, not "di/del <date>".
        let verb = words.iter().position(|w| ["spost", "anticip", "posticip", "rimand", "cambi"].iter().any(|p| w.starts_with(p)))?;
        target = (1..n).rev().find(|&k| {
            groups[k].own_date
                && !neg[k]
                && groups[k].start > verb
                && !matches!(intro(k), "di" | "del" | "della" | "dell")
                && (0..k).any(|j| groups[j].own_date)
        });
    }
    target
}

/// The date a weekday expression means (see the module docs).
fn weekday_date(today: Date, wd: Weekday, mode: WeekdayMode, next_week: bool) -> Option<Date> {
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

fn next_monday(today: Date) -> Option<Date> {
    let days = 7 - i64::from(today.weekday().to_monday_zero_offset());
    today.checked_add(Span::new().days(days)).ok()
}

fn slot_start(slot: &DateTimeSlot) -> DateTime {
    match *slot {
        DateTimeSlot::Instant { value, .. } => value,
        DateTimeSlot::Range { start, .. } => start,
    }
}

fn clock_grain(minute: i8) -> Grain {
    if minute == 0 {
        Grain::Hour
    } else {
        Grain::Minute
    }
}

fn midnight(d: Date) -> DateTime {
    d.to_datetime(Time::midnight())
}

/// `d` at `h:m`, `None` if out of range.
fn at(d: Date, h: i8, m: i8) -> Option<DateTime> {
    Some(d.to_datetime(Time::new(h, m, 0, 0).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    /// Wednesday 2027-03-10 10:00, the default "now".
    fn now() -> DateTime {
        date(2027, 3, 10).at(10, 0, 0, 0)
    }
    /// Same Wednesday, late evening.
    fn late() -> DateTime {
        date(2027, 3, 10).at(21, 30, 0, 0)
    }
    /// Sunday 2027-03-14 10:00.
    fn sunday() -> DateTime {
        date(2027, 3, 14).at(10, 0, 0, 0)
    }
    /// Thursday 2027-12-30 10:00 (year rollover).
    fn dec30() -> DateTime {
        date(2027, 12, 30).at(10, 0, 0, 0)
    }
    /// Thursday 2028-02-10 10:00 (leap year).
    fn leap() -> DateTime {
        date(2028, 2, 10).at(10, 0, 0, 0)
    }
    /// Sunday 2027-01-31 10:00 (month clamping).
    fn jan31() -> DateTime {
        date(2027, 1, 31).at(10, 0, 0, 0)
    }

    fn day(y: i16, m: i8, d: i8) -> DateTimeSlot {
        DateTimeSlot::Instant { value: date(y, m, d).at(0, 0, 0, 0), grain: Grain::Day }
    }
    fn hour(y: i16, m: i8, d: i8, h: i8) -> DateTimeSlot {
        DateTimeSlot::Instant { value: date(y, m, d).at(h, 0, 0, 0), grain: Grain::Hour }
    }
    fn minute(y: i16, m: i8, d: i8, h: i8, mi: i8) -> DateTimeSlot {
        DateTimeSlot::Instant { value: date(y, m, d).at(h, mi, 0, 0), grain: Grain::Minute }
    }
    /// A range of hours on one day (or across midnight if `eh <= sh`).
    fn hours(y: i16, m: i8, d: i8, sh: i8, eh: i8) -> DateTimeSlot {
        let start = date(y, m, d).at(sh, 0, 0, 0);
        let mut end = date(y, m, d).at(eh, 0, 0, 0);
        if end <= start {
            end = end.checked_add(Span::new().days(1)).unwrap();
        }
        DateTimeSlot::Range { start, end, grain: Grain::Hour }
    }
    fn days(start: Date, end: Date) -> DateTimeSlot {
        DateTimeSlot::Range { start: start.at(0, 0, 0, 0), end: end.at(0, 0, 0, 0), grain: Grain::Day }
    }

    /// One expectation: text, now, slot, optional (date_given, time_given).
    struct Case {
        text: &'static str,
        now: DateTime,
        want: DateTimeSlot,
        flags: Option<(bool, bool)>,
    }
    fn c(text: &'static str, want: DateTimeSlot) -> Case {
        Case { text, now: now(), want, flags: None }
    }
    fn cf(text: &'static str, want: DateTimeSlot, date_given: bool, time_given: bool) -> Case {
        Case { text, now: now(), want, flags: Some((date_given, time_given)) }
    }
    fn at_now(now: DateTime, text: &'static str, want: DateTimeSlot) -> Case {
        Case { text, now, want, flags: None }
    }

    fn table() -> Vec<Case> {
        vec![
            // --- day words -------------------------------------------------
            cf("oggi", day(2027, 3, 10), true, false),
            cf("domani", day(2027, 3, 11), true, false),
            c("Domani va bene", day(2027, 3, 11)),
            c("DOMANI", day(2027, 3, 11)),
            c("dopodomani", day(2027, 3, 12)),
            c("dopo domani", day(2027, 3, 12)),
            c("ieri", day(2027, 3, 9)),
            c("l'altro ieri", day(2027, 3, 8)),
            cf("stamattina", hours(2027, 3, 10, 8, 12), true, true),
            c("stamani", hours(2027, 3, 10, 8, 12)),
            c("stamane", hours(2027, 3, 10, 8, 12)),
            cf("stasera", hours(2027, 3, 10, 18, 22), true, true),
            c("stanotte", hours(2027, 3, 10, 22, 6)),
            c("domattina", hours(2027, 3, 11, 8, 12)),
            c("domani mattina", hours(2027, 3, 11, 8, 12)),
            cf("domani pomeriggio", hours(2027, 3, 11, 14, 19), true, true),
            c("domani sera", hours(2027, 3, 11, 18, 22)),
            c("domani in mattinata", hours(2027, 3, 11, 8, 12)),
            c("oggi pomeriggio", hours(2027, 3, 10, 14, 19)),
            c("avete posto domani pomeriggio?", hours(2027, 3, 11, 14, 19)),
            c("Buongiorno, avete posto domani pomeriggio?", hours(2027, 3, 11, 14, 19)),
            // --- parts of day without a date -----------------------------
            cf("nel pomeriggio", hours(2027, 3, 10, 14, 19), false, true),
            cf("in serata", hours(2027, 3, 10, 18, 22), false, true),
            c("in mattinata", hours(2027, 3, 10, 8, 12)),
            c("di mattina", hours(2027, 3, 10, 8, 12)),
            c("a pranzo", hours(2027, 3, 10, 12, 14)),
            c("dopo pranzo", hours(2027, 3, 10, 14, 19)),
            c("di notte", hours(2027, 3, 10, 22, 6)),
            at_now(late(), "nel pomeriggio", hours(2027, 3, 11, 14, 19)),
            at_now(late(), "in serata", hours(2027, 3, 10, 18, 22)),
            at_now(late(), "stasera", hours(2027, 3, 10, 18, 22)),
            at_now(late(), "la mattina", hours(2027, 3, 11, 8, 12)),
            // --- weekdays (now: Wednesday 10 March) ------------------------
            cf("lunedì", day(2027, 3, 15), true, false),
            c("lunedi", day(2027, 3, 15)),
            c("Lunedì", day(2027, 3, 15)),
            c("di lunedì", day(2027, 3, 15)),
            c("il lunedì", day(2027, 3, 15)),
            c("martedì", day(2027, 3, 16)),
            c("mercoledì", day(2027, 3, 17)),
            c("mercoledí", day(2027, 3, 17)),
            c("giovedì", day(2027, 3, 11)),
            c("Giovedi'", day(2027, 3, 11)),
            c("venerdì", day(2027, 3, 12)),
            c("sabato", day(2027, 3, 13)),
            c("domenica", day(2027, 3, 14)),
            c("questo venerdì", day(2027, 3, 12)),
            c("venerdì questo", day(2027, 3, 12)),
            c("questo lunedì", day(2027, 3, 15)),
            c("questo mercoledì", day(2027, 3, 10)),
            c("lunedì prossimo", day(2027, 3, 15)),
            c("il prossimo lunedì", day(2027, 3, 15)),
            c("mercoledì prossimo", day(2027, 3, 17)),
            c("domenica prossima", day(2027, 3, 14)),
            cf("la settimana prossima", days(date(2027, 3, 15), date(2027, 3, 22)), true, false),
            c("settimana prossima", days(date(2027, 3, 15), date(2027, 3, 22))),
            c("la prossima settimana", days(date(2027, 3, 15), date(2027, 3, 22))),
            c("questa settimana", days(date(2027, 3, 10), date(2027, 3, 15))),
            c("lunedì della settimana prossima", day(2027, 3, 15)),
            c("venerdì della settimana prossima", day(2027, 3, 19)),
            c("giovedì della prossima settimana", day(2027, 3, 18)),
            c("lunedì prossima settimana", day(2027, 3, 15)),
            c("giovedì di questa settimana", day(2027, 3, 11)),
            c("il weekend", day(2027, 3, 13)),
            c("nel fine settimana", day(2027, 3, 13)),
            c("sabato e domenica", day(2027, 3, 13)),
            c("giovedì pomeriggio", hours(2027, 3, 11, 14, 19)),
            c("venerdì mattina", hours(2027, 3, 12, 8, 12)),
            c("sabato sera", hours(2027, 3, 13, 18, 22)),
            c("Mi andrebbe bene sabato mattina", hours(2027, 3, 13, 8, 12)),
            at_now(sunday(), "lunedì", day(2027, 3, 15)),
            at_now(sunday(), "domenica", day(2027, 3, 21)),
            at_now(sunday(), "questo sabato", day(2027, 3, 20)),
            at_now(sunday(), "questa domenica", day(2027, 3, 14)),
            at_now(sunday(), "il weekend", day(2027, 3, 20)),
            at_now(sunday(), "la settimana prossima", days(date(2027, 3, 15), date(2027, 3, 22))),
            at_now(sunday(), "domani", day(2027, 3, 15)),
            // --- relative offsets ----------------------------------------
            cf("tra due giorni", day(2027, 3, 12), true, false),
            c("fra 3 giorni", day(2027, 3, 13)),
            c("tra un giorno", day(2027, 3, 11)),
            c("tra un paio di giorni", day(2027, 3, 12)),
            c("tra quindici giorni", day(2027, 3, 25)),
            c("tra una settimana", day(2027, 3, 17)),
            c("fra una settimana", day(2027, 3, 17)),
            c("tra due settimane", day(2027, 3, 24)),
            c("tra un mese", day(2027, 4, 10)),
            c("tra 2 mesi", day(2027, 5, 10)),
            c("tra un anno", day(2028, 3, 10)),
            cf("fra un'ora", hour(2027, 3, 10, 11), true, true),
            c("tra un ora", hour(2027, 3, 10, 11)),
            c("tra mezz'ora", minute(2027, 3, 10, 10, 30)),
            c("tra mezzora", minute(2027, 3, 10, 10, 30)),
            c("tra 20 minuti", minute(2027, 3, 10, 10, 20)),
            c("tra due ore", hour(2027, 3, 10, 12)),
            c("tra un'ora e mezza", minute(2027, 3, 10, 11, 30)),
            c("tra un quarto d'ora", minute(2027, 3, 10, 10, 15)),
            c("tra due giorni alle 15", hour(2027, 3, 12, 15)),
            c("avete qualcosa tra due giorni?", day(2027, 3, 12)),
            at_now(late(), "tra un'ora", minute(2027, 3, 10, 22, 30)),
            at_now(late(), "tra tre ore", minute(2027, 3, 11, 0, 30)),
            at_now(jan31(), "tra un mese", day(2027, 2, 28)),
            // --- absolute dates ------------------------------------------
            cf("15 marzo", day(2027, 3, 15), true, false),
            c("il 15 marzo", day(2027, 3, 15)),
            c("15 marzo 2027", day(2027, 3, 15)),
            c("il 15 marzo 2028", day(2028, 3, 15)),
            c("15 di marzo", day(2027, 3, 15)),
            c("10 marzo", day(2027, 3, 10)),
            c("5 febbraio", day(2028, 2, 5)),
            c("l'8 marzo", day(2028, 3, 8)),
            c("il 3/4", day(2027, 4, 3)),
            c("3/4/2027", day(2027, 4, 3)),
            c("15/03/2027", day(2027, 3, 15)),
            c("15-03-2027", day(2027, 3, 15)),
            c("15.03.2027", day(2027, 3, 15)),
            c("2027-03-15", day(2027, 3, 15)),
            c("15/03/27", day(2027, 3, 15)),
            c("il primo aprile", day(2027, 4, 1)),
            c("primo aprile", day(2027, 4, 1)),
            c("1 aprile", day(2027, 4, 1)),
            c("il quindici marzo", day(2027, 3, 15)),
            c("il ventuno marzo", day(2027, 3, 21)),
            c("il trentuno dicembre", day(2027, 12, 31)),
            c("il 15", day(2027, 3, 15)),
            c("il 5", day(2027, 4, 5)),
            c("il 10", day(2027, 3, 10)),
            c("il giorno 20", day(2027, 3, 20)),
            c("il 15 del mese prossimo", day(2027, 4, 15)),
            c("il 5 del prossimo mese", day(2027, 4, 5)),
            c("il primo del mese", day(2027, 4, 1)),
            c("20 mar", day(2027, 3, 20)),
            c("8 mar", day(2028, 3, 8)),
            c("3 apr", day(2027, 4, 3)),
            c("12 mag", day(2027, 5, 12)),
            c("2 giu", day(2027, 6, 2)),
            c("4 lug", day(2027, 7, 4)),
            c("15 ago", day(2027, 8, 15)),
            c("1 set", day(2027, 9, 1)),
            c("10 sett", day(2027, 9, 10)),
            c("31 ott", day(2027, 10, 31)),
            c("11 nov", day(2027, 11, 11)),
            c("8 dic", day(2027, 12, 8)),
            c("6 gen", day(2028, 1, 6)),
            c("14 feb", day(2028, 2, 14)),
            c("giovedì 15 aprile", day(2027, 4, 15)),
            c("sabato 20", day(2027, 3, 20)),
            c("sabato, 2 persone", day(2027, 3, 13)),
            c("prenoto per sabato 13 alle 10", hour(2027, 3, 13, 10)),
            c("il 1° aprile", day(2027, 4, 1)),
            c("martedì 16/3 alle 9", hour(2027, 3, 16, 9)),
            c("ci vediamo il 4 alle 3", hour(2027, 4, 4, 15)),
            c("29 febbraio", day(2028, 2, 29)),
            c("fine mese", day(2027, 3, 31)),
            c("a fine mese", day(2027, 3, 31)),
            c("il mese prossimo", days(date(2027, 4, 1), date(2027, 5, 1))),
            c("Un taglio per il 20 marzo, grazie", day(2027, 3, 20)),
            at_now(leap(), "29 febbraio", day(2028, 2, 29)),
            at_now(leap(), "tra venti giorni", day(2028, 3, 1)),
            at_now(leap(), "fine mese", day(2028, 2, 29)),
            at_now(leap(), "il 30", day(2028, 3, 30)),
            at_now(leap(), "tra un mese", day(2028, 3, 10)),
            at_now(dec30(), "domani", day(2027, 12, 31)),
            at_now(dec30(), "dopodomani", day(2028, 1, 1)),
            at_now(dec30(), "5 gennaio", day(2028, 1, 5)),
            at_now(dec30(), "il 2", day(2028, 1, 2)),
            at_now(dec30(), "tra una settimana", day(2028, 1, 6)),
            at_now(dec30(), "lunedì", day(2028, 1, 3)),
            at_now(dec30(), "venerdì", day(2027, 12, 31)),
            at_now(dec30(), "la settimana prossima", days(date(2028, 1, 3), date(2028, 1, 10))),
            at_now(dec30(), "il 31 dicembre alle 18", hour(2027, 12, 31, 18)),
            // --- clock times (now 10:00) ---------------------------------
            cf("alle 15", hour(2027, 3, 10, 15), false, true),
            c("alle ore 15", hour(2027, 3, 10, 15)),
            c("alle 15:00", hour(2027, 3, 10, 15)),
            c("ore 16", hour(2027, 3, 10, 16)),
            c("h 16", hour(2027, 3, 10, 16)),
            c("h16", hour(2027, 3, 10, 16)),
            c("alle 3", hour(2027, 3, 10, 15)),
            c("alle 9", hour(2027, 3, 11, 9)),
            c("alle 11", hour(2027, 3, 10, 11)),
            c("alle 12", hour(2027, 3, 10, 12)),
            c("alle tre del pomeriggio", hour(2027, 3, 10, 15)),
            c("alle 10 di mattina", hour(2027, 3, 11, 10)),
            c("alle 10 del mattino", hour(2027, 3, 11, 10)),
            c("alle 8 di sera", hour(2027, 3, 10, 20)),
            c("alle 11 di sera", hour(2027, 3, 10, 23)),
            c("alle 10 di notte", hour(2027, 3, 10, 22)),
            c("alle 2 di notte", hour(2027, 3, 11, 2)),
            c("alle 5 di mattina", hour(2027, 3, 11, 5)),
            c("all'una a pranzo", hour(2027, 3, 10, 13)),
            c("alle 10 e mezza", minute(2027, 3, 10, 10, 30)),
            c("alle 10 e trenta", minute(2027, 3, 10, 10, 30)),
            c("alle 9 e un quarto", minute(2027, 3, 11, 9, 15)),
            c("alle 9 e 15", minute(2027, 3, 11, 9, 15)),
            c("alle 11 meno un quarto", minute(2027, 3, 10, 10, 45)),
            c("alle 10 meno un quarto", minute(2027, 3, 11, 9, 45)),
            c("alle 4 e tre quarti", minute(2027, 3, 10, 16, 45)),
            c("alle 3 meno 10", minute(2027, 3, 10, 14, 50)),
            c("alle 9:30", minute(2027, 3, 11, 9, 30)),
            c("alle 15.30", minute(2027, 3, 10, 15, 30)),
            c("alle 07:30", minute(2027, 3, 11, 7, 30)),
            c("9:30", minute(2027, 3, 11, 9, 30)),
            c("verso le 5", hour(2027, 3, 10, 17)),
            c("Posso venire verso le cinque?", hour(2027, 3, 10, 17)),
            c("per le 17", hour(2027, 3, 10, 17)),
            c("dalle 15", hour(2027, 3, 10, 15)),
            c("intorno alle 18", hour(2027, 3, 10, 18)),
            c("entro le 19", hour(2027, 3, 10, 19)),
            c("alle 15 in punto", hour(2027, 3, 10, 15)),
            c("a mezzogiorno", hour(2027, 3, 10, 12)),
            c("mezzogiorno e mezza", minute(2027, 3, 10, 12, 30)),
            c("a mezzanotte", hour(2027, 3, 11, 0)),
            c("all'una", hour(2027, 3, 10, 13)),
            c("all una", hour(2027, 3, 10, 13)),
            c("alle diciassette e trenta", minute(2027, 3, 10, 17, 30)),
            c("alle quindici e trenta", minute(2027, 3, 10, 15, 30)),
            c("alle diciassette", hour(2027, 3, 10, 17)),
            c("alle tre", hour(2027, 3, 10, 15)),
            c("va bene alle dieci e mezza", minute(2027, 3, 10, 10, 30)),
            cf("no, alle 16", hour(2027, 3, 10, 16), false, true),
            at_now(late(), "alle 15", hour(2027, 3, 11, 15)),
            at_now(late(), "alle 22", hour(2027, 3, 10, 22)),
            at_now(late(), "alle 21:30", minute(2027, 3, 11, 21, 30)),
            at_now(late(), "alle 21:45", minute(2027, 3, 10, 21, 45)),
            at_now(late(), "a mezzanotte", hour(2027, 3, 11, 0)),
            // --- date + time ---------------------------------------------
            cf("domani alle 15", hour(2027, 3, 11, 15), true, true),
            c("Domani? Alle 15!", hour(2027, 3, 11, 15)),
            c("DOMANI ALLE 15", hour(2027, 3, 11, 15)),
            c("domani alle 9", hour(2027, 3, 11, 9)),
            c("giovedì alle 15", hour(2027, 3, 11, 15)),
            c("giovedì,alle 15", hour(2027, 3, 11, 15)),
            cf("vorrei prenotare un taglio per giovedì alle 15, sono Mario Rossi", hour(2027, 3, 11, 15), true, true),
            c("venerdì alle 10 e mezza", minute(2027, 3, 12, 10, 30)),
            c("il 15 marzo alle 9:30", minute(2027, 3, 15, 9, 30)),
            c("15/03/2027 ore 16", hour(2027, 3, 15, 16)),
            c("domani pomeriggio alle 3", hour(2027, 3, 11, 15)),
            c("stasera alle 8", hour(2027, 3, 10, 20)),
            c("oggi alle 9", hour(2027, 3, 10, 9)),
            c("lunedì mattina alle 11", hour(2027, 3, 15, 11)),
            c("sabato alle 10 del mattino", hour(2027, 3, 13, 10)),
            c("dopodomani verso le 4", hour(2027, 3, 12, 16)),
            c("il primo aprile all'una", hour(2027, 4, 1, 13)),
            c("Ciao! Vorrei spostare l'appuntamento a lunedì prossimo alle 10.", hour(2027, 3, 15, 10)),
            c("Si può fare venerdì 12 marzo alle 17:30?", minute(2027, 3, 12, 17, 30)),
            c("vorrei disdire l'appuntamento di domani", day(2027, 3, 11)),
            c("Sono Mario Rossi, il mio numero è 333 1234567, vorrei venire domani alle 11", hour(2027, 3, 11, 11)),
            c("Perfetto, allora ci vediamo giovedì!", day(2027, 3, 11)),
            c("Il 3/4 alle 15 si può?", hour(2027, 4, 3, 15)),
            // --- clock ranges --------------------------------------------
            cf("tra le 15 e le 17", hours(2027, 3, 10, 15, 17), false, true),
            c("dalle 15 alle 17", hours(2027, 3, 10, 15, 17)),
            c("tra le 15 e 17", hours(2027, 3, 10, 15, 17)),
            c("fra le due e le quattro", hours(2027, 3, 10, 14, 16)),
            c("dalle 8 alle 10 di sera", hours(2027, 3, 10, 20, 22)),
            c("dalle 11 all'una", hours(2027, 3, 10, 11, 13)),
            c("domani tra le 3 e le 5", hours(2027, 3, 11, 15, 17)),
            c("giovedì dalle 9 alle 11", hours(2027, 3, 11, 9, 11)),
            c("dalle 10-12", hours(2027, 3, 11, 10, 12)),
            c("alle 10/11", hours(2027, 3, 11, 10, 11)),
            // --- bare d/m dates (no lead word) ---------------------------
            cf("visita ortopedica 18/03 ore 10", hour(2027, 3, 18, 10), true, true),
            c("18/03", day(2027, 3, 18)),
            c("18/3", day(2027, 3, 18)),
            c("18-03", day(2027, 3, 18)),
            c("visita 18-03 alle 9", hour(2027, 3, 18, 9)),
            c("18/3 di mattina", hours(2027, 3, 18, 8, 12)),
            c("18/03 va bene?", day(2027, 3, 18)),
            c("18/3 con Giulia", day(2027, 3, 18)),
            c("18/3 nel pomeriggio", hours(2027, 3, 18, 14, 19)),
            c("18/3 giovedì", day(2027, 3, 18)),
            c("Prenotazione 5/3, grazie", day(2028, 3, 5)),
            c("va bene 29/02?", day(2028, 2, 29)),
            c("controllo 31/12 pomeriggio", hours(2027, 12, 31, 14, 19)),
            c("spostarlo all'8 marzo", day(2028, 3, 8)),
            c("all'11 aprile alle 10", hour(2027, 4, 11, 10)),
            // --- day of month after del/dal/al ---------------------------
            cf("vorrei disdire la visita del 22", day(2027, 3, 22), true, false),
            c("la visita del 5", day(2027, 4, 5)),
            c("la visita del 10", day(2027, 3, 10)),
            c("la visita del ventidue", day(2027, 3, 22)),
            c("la visita del 22 alle 10", hour(2027, 3, 22, 10)),
            c("per il 22", day(2027, 3, 22)),
            c("entro il 22", day(2027, 3, 22)),
            c("a partire dal 22", day(2027, 3, 22)),
            c("fino al 22", day(2027, 3, 22)),
            at_now(leap(), "la visita del 30", day(2028, 3, 30)),
            // --- corrections: the expression after the negated one wins --
            cf("non alle 15 ma alle 17", hour(2027, 3, 10, 17), false, true),
            c("no scusi non alle 15, alle 17", hour(2027, 3, 10, 17)),
            c("non giovedì ma venerdì", day(2027, 3, 12)),
            c("non giovedì ma venerdì alle 10", hour(2027, 3, 12, 10)),
            cf("domani non alle 15 ma alle 17", hour(2027, 3, 11, 17), true, true),
            c("giovedì, anzi venerdì", day(2027, 3, 12)),
            c("giovedì non posso, venerdì va bene", day(2027, 3, 12)),
            c("non posso giovedì, venerdì va bene", day(2027, 3, 12)),
            c("giovedì non va bene, meglio venerdì", day(2027, 3, 12)),
            c("venerdì, non il 15", day(2027, 3, 12)),
            c("venerdì? no, giovedì", day(2027, 3, 11)),
            // --- several dates: the target wins ------------------------
            c("posso spostare la piega da giovedì a sabato", day(2027, 3, 13)),
            c("da giovedì alle 10 a sabato alle 11", hour(2027, 3, 13, 11)),
            c("devo spostare la visita di lunedì, posso venire mercoledì?", day(2027, 3, 17)),
            c("ho il massaggio sabato ma vorrei spostarlo a domenica", day(2027, 3, 14)),
            c("devo spostare l'appuntamento di venerdì a lunedì prossimo alle 10 e mezza", minute(2027, 3, 15, 10, 30)),
            c("vorrei spostare l'appuntamento del 22 al 25", day(2027, 3, 25)),
            c("dal 20 al 22", day(2027, 3, 22)),
            c("vorrei spostare a venerdì, giovedì non posso", day(2027, 3, 12)),
            // ... and without a cue, the first date and time as before.
            c("giovedì o venerdì", day(2027, 3, 11)),
            c("giovedì alle 10 o alle 11", hour(2027, 3, 11, 10)),
            c("non so se giovedì o venerdì", day(2027, 3, 11)),
            c("alle 15 domani", hour(2027, 3, 11, 15)),
            // --- typos of day words ------------------------------------
            cf("per domai pomeriggio", hours(2027, 3, 11, 14, 19), true, true),
            c("domai", day(2027, 3, 11)),
            c("doamni alle 10", hour(2027, 3, 11, 10)),
            c("domanii", day(2027, 3, 11)),
            c("dopodomai", day(2027, 3, 12)),
            c("dopodmani sera", hours(2027, 3, 12, 18, 22)),
            c("oggu pomeriggio", hours(2027, 3, 10, 14, 19)),
            c(
                "dalle 9 e mezza alle 11",
                DateTimeSlot::Range {
                    start: date(2027, 3, 11).at(9, 30, 0, 0),
                    end: date(2027, 3, 11).at(11, 0, 0, 0),
                    grain: Grain::Minute,
                },
            ),
        ]
    }

    #[test]
    fn datetime_table() {
        let table = table();
        let mut failures = Vec::new();
        for case in &table {
            let got = resolve(case.text, case.now);
            let ok = match got {
                Some(r) => r.slot == case.want && case.flags.filter(|f| *f != (r.date_given, r.time_given)).is_none(),
                None => false,
            };
            if !ok {
                failures.push(format!("{:?} @ {}: want {:?} {:?}, got {:?}", case.text, case.now, case.want, case.flags, got));
            }
        }
        let passed = table.len() - failures.len();
        eprintln!("datetime table: {passed}/{} expressions passed", table.len());
        assert!(table.len() >= 300, "table too small: {}", table.len());
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn negative_table() {
        let table = [
            "",
            "   ",
            "?!",
            "vorrei prenotare un taglio",
            "vorrei un colore e una piega",
            "il prima possibile",
            "la prima disponibile",
            "il primo appuntamento disponibile",
            "il mio numero è 333 1234567",
            "costa 35 euro?",
            "quanto costa? 35 euro",
            "il taglio costa 20 euro",
            "dura 45 minuti",
            "dura un'ora",
            "dura 2 ore",
            "siamo in 2",
            "siamo 3/4 persone",
            "mi chiamo Luca, siamo 3 persone",
            "buonasera",
            "buona sera",
            "buon pomeriggio",
            "buongiorno",
            "grazie mille",
            "ho 30 anni",
            "uno set di spazzole",
            "tre set di asciugamani",
            "sono Mario Rossi",
            "dove siete?",
            "che orari fate?",
            "avete parcheggio?",
            "31 febbraio",
            "31 aprile",
            "il 32",
            "31/02/2027",
            "il 31 febbraio 2027",
            "13/13/2027",
            "alle 25",
            "domani alle 25",
            "alle 10:75",
            // Bare d/m that are not dates.
            "333/1234567",
            "il mio numero è 333-1234567",
            "siamo 3/4",
            "saremo 3-4 persone",
            "3/4 d'ora",
            "tra 3/4 giorni",
            "10/12 €",
            "costa 10-12 euro",
            "abito in via Roma 12/3",
            "dura 2-3 ore",
            "31/02",
            "30/02",
            "3/4 del totale",
            "1/2 ora",
            "ho 2/3 domande",
            "taglio più colore 50-60 euro?",
            "il 2-3 marzo",
            // "del/dal/al" + number that is not a day.
            "sconto del 20",
            "c'è il 10 per cento di sconto",
            "al 3° piano",
            "va bene al 50%",
            "del 45",
            // Real words one edit from a day word.
            "ogni volta",
            "i domini",
        ];
        let mut failures = Vec::new();
        for text in table {
            if let Some(r) = resolve(text, now()) {
                failures.push(format!("{text:?} gave {r:?}"));
            }
        }
        eprintln!("negative table: {}/{} sentences gave None", table.len() - failures.len(), table.len());
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn hour_disambiguation() {
        for (h, want) in [(1, 13), (3, 15), (7, 19), (8, 8), (11, 11), (12, 12), (13, 13), (23, 23), (0, 0), (24, 0)] {
            let r = resolve(&format!("domani alle {h}"), now()).unwrap();
            assert_eq!(r.slot, hour(2027, 3, 11, want), "alle {h}");
        }
    }

    #[test]
    fn resolve_all_table() {
        let cases: Vec<(&str, Vec<DateTimeSlot>)> = vec![
            ("posso spostare la piega da giovedì a sabato", vec![day(2027, 3, 11), day(2027, 3, 13)]),
            ("da giovedì alle 10 a sabato alle 11", vec![hour(2027, 3, 11, 10), hour(2027, 3, 13, 11)]),
            ("devo spostare la visita di lunedì, posso venire mercoledì?", vec![day(2027, 3, 15), day(2027, 3, 17)]),
            ("ho il massaggio sabato ma vorrei spostarlo a domenica", vec![day(2027, 3, 13), day(2027, 3, 14)]),
            ("domani non alle 15 ma alle 17", vec![hour(2027, 3, 11, 15), hour(2027, 3, 11, 17)]),
            ("no scusi non alle 15, alle 17", vec![hour(2027, 3, 10, 15), hour(2027, 3, 10, 17)]),
            ("giovedì alle 10, venerdì alle 11 o sabato", vec![hour(2027, 3, 11, 10), hour(2027, 3, 12, 11), day(2027, 3, 13)]),
            ("giovedì pomeriggio o venerdì mattina", vec![hours(2027, 3, 11, 14, 19), hours(2027, 3, 12, 8, 12)]),
            ("sabato e domenica", vec![day(2027, 3, 13), day(2027, 3, 14)]),
            ("dal 20 al 22 marzo", vec![day(2027, 3, 20), day(2027, 3, 22)]),
            ("visita 18/03 ore 10, oppure il 19 alle 11", vec![hour(2027, 3, 18, 10), hour(2027, 3, 19, 11)]),
            // One expression each.
            ("giovedì 15 aprile alle 10", vec![hour(2027, 4, 15, 10)]),
            ("lunedì della settimana prossima alle 9", vec![hour(2027, 3, 15, 9)]),
            ("domani pomeriggio alle 3", vec![hour(2027, 3, 11, 15)]),
            ("alle 15 domani", vec![hour(2027, 3, 11, 15)]),
            ("stasera alle 8", vec![hour(2027, 3, 10, 20)]),
            ("tra due giorni alle 15", vec![hour(2027, 3, 12, 15)]),
            ("vorrei un taglio", vec![]),
            // Fail closed.
            ("domani o il 31 febbraio", vec![]),
        ];
        let mut failures = Vec::new();
        for (text, want) in &cases {
            let got: Vec<DateTimeSlot> = resolve_all(text, now()).into_iter().map(|r| r.slot).collect();
            if &got != want {
                failures.push(format!("{text:?}: want {want:?}, got {got:?}"));
            }
        }
        eprintln!("resolve_all table: {}/{} sentences passed", cases.len() - failures.len(), cases.len());
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn typo_detection() {
        for w in ["domai", "doamni", "domanii", "dmani", "domano", "domain", "oggu", "ogi", "dopodomai", "dopodoamni"] {
            assert!(typo_day_word(w).is_some(), "{w}");
        }
        for w in ["domani", "oggi", "ogni", "romani", "domini", "demani", "domandi", "domanda", "do", "ok", "moggi", "poggi", "ecco"] {
            assert_eq!(typo_day_word(w), None, "{w}");
        }
    }

    /// Any civil date-time in a sane range.
    fn any_now() -> impl Strategy<Value = DateTime> {
        (1950i16..2150, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60).prop_map(|(y, m, d, h, mi)| date(y, m, d).at(h, mi, 0, 0))
    }

    /// Words that exercise the matchers, for random sentences.
    const VOCAB: &[&str] = &[
        "domani",
        "oggi",
        "il",
        "l'",
        "15",
        "3",
        "31",
        "32",
        "0",
        "24",
        "25",
        "marzo",
        "feb",
        "alle",
        "all'",
        "ore",
        "h",
        "e",
        "mezza",
        "meno",
        "un",
        "quarto",
        "tre",
        "quarti",
        "una",
        "tra",
        "fra",
        "le",
        "dalle",
        "giorni",
        "mesi",
        "ore",
        "minuti",
        "settimana",
        "prossima",
        "prossimo",
        "questo",
        "lunedì",
        "sabato",
        "pomeriggio",
        "sera",
        "notte",
        "mattina",
        "mezzogiorno",
        "mezzanotte",
        "9:30",
        "99:99",
        "15/03/2027",
        "3/4",
        "2027",
        "99999999999",
        "primo",
        "del",
        "mese",
        "fine",
        "weekend",
        "buona",
        "verso",
        "per",
        "di",
        ",",
        "?",
        "ventuno",
        "cento",
        "non",
        "ma",
        "anzi",
        "a",
        "al",
        "da",
        "dal",
        "18/03",
        "18-3",
        "domai",
        "spostare",
    ];

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,60}", now in any_now()) {
            let _ = resolve(&text, now);
        }

        #[test]
        fn never_panics_on_random_phrases(
            picks in proptest::collection::vec(0..VOCAB.len(), 0..10),
            now in any_now(),
        ) {
            let text: Vec<&str> = picks.iter().map(|&i| VOCAB[i]).collect();
            let text = text.join(" ");
            let all = resolve_all(&text, now);
            prop_assert_eq!(resolve(&text, now).is_some(), !all.is_empty(), "{}", text);
            if let Some(r) = resolve(&text, now) {
                // A date-only result is always at midnight, day grain.
                if r.date_given && !r.time_given {
                    match r.slot {
                        DateTimeSlot::Instant { value, grain } => {
                            prop_assert_eq!(value.time(), Time::midnight(), "{}", text);
                            prop_assert_eq!(grain, Grain::Day);
                        }
                        DateTimeSlot::Range { start, end, grain } => {
                            prop_assert_eq!(start.time(), Time::midnight(), "{}", text);
                            prop_assert_eq!(end.time(), Time::midnight(), "{}", text);
                            prop_assert_eq!(grain, Grain::Day);
                        }
                    }
                }
            }
        }

        #[test]
        fn tra_n_giorni_adds_n_days(now in any_now(), n in 0i64..365, fra in any::<bool>()) {
            let text = format!("{} {n} giorni", if fra { "fra" } else { "tra" });
            let r = resolve(&text, now).unwrap();
            let want = now.date().checked_add(Span::new().days(n)).unwrap();
            prop_assert_eq!(r.slot, DateTimeSlot::Instant { value: want.at(0, 0, 0, 0), grain: Grain::Day });
            prop_assert!(r.date_given && !r.time_given);
        }

        #[test]
        fn alle_hh_mm_gives_that_time(now in any_now(), h in 0i8..24, m in 0i8..60, with_minutes in any::<bool>()) {
            // A two-digit (zero-padded) hour is literal; unpadded hours
            // 0 and 8..=23 are too (1..=7 are read as the afternoon).
            let m = if with_minutes { m } else { 0 };
            let mut texts = vec![if with_minutes { format!("alle {h:02}:{m:02}") } else { format!("alle {h:02}") }];
            if h == 0 || h >= 8 {
                texts.push(if with_minutes { format!("alle {h}:{m:02}") } else { format!("alle {h}") });
            }
            for text in texts {
                let r = resolve(&text, now).unwrap();
                let DateTimeSlot::Instant { value, grain } = r.slot else {
                    return Err(TestCaseError::fail(format!("{text}: not an instant")));
                };
                prop_assert_eq!((value.hour(), value.minute()), (h, m), "{}", text);
                prop_assert_eq!(grain, if m == 0 { Grain::Hour } else { Grain::Minute });
                prop_assert!(value > now);
                prop_assert!(value.date() == now.date() || Some(value.date()) == now.date().tomorrow().ok());
                prop_assert!(!r.date_given && r.time_given);
            }
        }

        #[test]
        fn date_only_is_midnight(now in any_now(), d in 1i8..=28, m in 1i8..=12) {
            let text = format!("il {d}/{m}");
            let r = resolve(&text, now).unwrap();
            let DateTimeSlot::Instant { value, grain } = r.slot else {
                return Err(TestCaseError::fail("not an instant"));
            };
            prop_assert_eq!(value.time(), Time::midnight());
            prop_assert_eq!(grain, Grain::Day);
            prop_assert!(value.date() >= now.date());
        }
    }
}
