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
//!   exclusive) with its linguistic bounds: mattina 06–12, pranzo 12–14,
//!   pomeriggio 12–19, sera 18–24, notte 22–06 (next day); sub-parts
//!   "mattina presto" 06–09, "metà mattina" 09–11, "tarda mattinata" 10–12,
//!   "primo pomeriggio" 12–15, "dopo pranzo" 14–16, "metà pomeriggio"
//!   15–17, "tardo pomeriggio" 17–19, "prima serata" 18–21, "tarda serata"
//!   21–24. Slot search clips them to the opening hours.
//! - "tra le 15 e le 17" / "dalle 15 alle 17" / "8:30 - 10:00" → `Range`
//!   15:00–17:00 (grain `Hour`, or `Minute` if a bound has minutes).
//! - Open bounds are ranges with `open` set: "prima delle 10", "entro le
//!   13" → that day 00:00–10:00, `open: start` (a slot never starts at the
//!   deadline); "dopo le 17", "a partire dalle 15", "dalle 17 in poi", "non
//!   prima delle 11" → 17:00–24:00, `open: end`. On days: "entro il 20",
//!   "entro venerdì", "entro fine mese" → today..the day after (inclusive),
//!   "prima del 20" → today..the 20th, both `open: start`; "a partire dal 9",
//!   "dal 15 in poi", "non prima del 20" → that day..one month later,
//!   "dopo il 20", "dopo giovedì" → the day after..one month later, `open:
//!   end`. "entro tre settimane", "entro 10 giorni" → today..then
//!   (inclusive), `open: start`; "entro un'ora" → now..now+1h.
//! - Ranges of days (grain `Day`, end exclusive, both ends said): "dal 3 al
//!   5 maggio", "dal 28 marzo al 2 aprile", "tra il 10 e il 12", "10-12
//!   giugno", "da domani a venerdì", "tra lunedì e mercoledì"; "nei
//!   prossimi 4 giorni" → today..today+4 inclusive. With a verb of moving
//!   ("spostare da giovedì a sabato") "da … a …" is a move (see below).
//! - "settimana prossima" (also "la settimana dopo/successiva/seguente") →
//!   `Range` Monday..next Monday (grain `Day`); "questa settimana" →
//!   today..next Monday; "il mese prossimo" → the first..first of the month
//!   after.
//! - "il secondo lunedì di novembre", "l'ultimo venerdì del mese", "il
//!   primo sabato del mese prossimo", "l'ultimo giorno del mese" → that day
//!   (a month without a year: the next one where the day is not past; "del
//!   mese": this month, or the next when past).
//! - Holidays ("a Natale", "la vigilia di Natale", "Santo Stefano",
//!   "Capodanno", "Pasqua", "Pasquetta", "Ferragosto", …) → their next
//!   occurrence; "la vigilia" alone gives nothing. "inizio/metà/fine" of a
//!   month → its 1st/15th/last day ("a inizio mese", "metà giugno", "fine
//!   aprile"); "a inizio settimana" → the next Monday, "metà settimana" →
//!   Wednesday. A month alone ("a maggio", "nel mese di giugno") → its days
//!   (from today for the current month).
//! - "il giorno dopo il 20", "il giorno prima del 20" → the 21st, the
//!   19th; "il giorno dopo", "l'indomani", "il giorno prima" alone give
//!   nothing (the day they refer to was said in another turn).
//!
//! # Rules chosen
//! - **Weekday and day**: "venerdì 13" is the next Friday the 13th (not
//!   the 13th of this month, whatever its weekday); "venerdì 15 aprile"
//!   when 15 April is not a Friday gives nothing (one of the two is wrong);
//!   "sabato 9 del mattino" (the 9th, or 9 am?) gives nothing. Chat
//!   abbreviations "lun", "mart", "mer", "gio", "ven", "sab", "dom" are
//!   weekdays ("mar" is March); "prox" is "prossimo", "pom"/"pome" is
//!   "pomeriggio".
//! - **Clock formats**: "15:30", "15.30"/"15,30" after a cue or right
//!   after a day ("domani 17,30", "giovedì 16.00", "domani 15 e 30"), a
//!   bare "9.30"/"16,00" with quarter minutes (not a price), "16h45", "17h",
//!   "3 e mezza"/"tre meno un quarto" without a cue, "le 3 meno un quarto",
//!   "un quarto alle cinque" (16:45), chat cues "x le 5", "h 17",
//!   "alle 4 e 10", "alle 4 10" (minutes right after the hour), "le quattro
//!   del pomeriggio", "9 di sera", "6 del mattino" (an hour followed by a
//!   part of day needs no "alle").
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
//!   "tra un'ora", "tra mezz'ora", "tra 20 minuti", "in 20 minuti" give `now` + duration
//!   (seconds dropped), grain `Hour` if the minutes are 0, else `Minute`.
//!   Diminutives and approximate counts read as the plain amount: "tra
//!   un'oretta" (1 h), "tra un mesetto", "tra una decina di giorni" (10),
//!   "fra un paio d'ore" (2 h). "entro la settimana" → today..next Monday,
//!   open at the start; "da qui a venerdì" → today..Friday.
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
//!   date, or after one introduced by "da"/"dal" when a verb of moving makes
//!   "da … a …" a move rather than a range ("spostare da giovedì a sabato",
//!   "spostarlo a domenica").
//! - Failing those, after a verb of moving ("spostare", "anticipare",
//!   "posticipare", "rimandare", "cambiare"), the last date said after the
//!   verb and not introduced by "di"/"del" ("devo spostare la visita di
//!   lunedì, posso venire mercoledì?" → Wednesday).
//!
//! Without such a cue ("sabato e domenica", "giovedì o venerdì",
//! "giovedì alle 10 o alle 11") the result is as for one expression.

mod absolute;
mod calendar;
mod clock;
mod day_part;
mod expressions;
mod lexer;
#[cfg(test)]
mod proptests;
mod range;
mod relative;
mod resolution;
#[cfg(test)]
mod tests;
mod weekday;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::Span;

use super::numbers::{parse_number, parse_ordinal};
use super::{DateTimeSlot, Grain, OpenEnd};
use crate::text::normalize;

use absolute::{date_part, day_number, full_year, match_day_month, match_day_of_month, match_numeric_date, month, next_day_month, ymd};
use calendar::{match_holiday, match_month, match_period_part};
use clock::{followed_by_month, match_clock, match_clock_range, match_hour_of_pod, Clock, QUANTITY_NOUNS};
use day_part::{match_pod, pod_word, PartOfDay};
use expressions::{group, pick_target};
use lexer::{longest, one, prepare, starts_with, word};
use range::{match_anchored, match_date_bound, match_date_range};
#[cfg(test)]
use relative::typo_day_word;
use relative::{match_day_word, match_offset};
use resolution::{at, combine, midnight};
use weekday::{match_ordinal_weekday, match_weekday, next_monday, weekday, weekday_date};

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

/// How a weekday was qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeekdayMode {
    /// Bare or "prossimo": next occurrence at or after tomorrow.
    Next,
    /// "questo": this week's if not past, else the next occurrence.
    This,
}

/// Which side of a clock time a bound keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// Strictly before the time ("prima delle 10", "entro le 13").
    Before,
    /// At or after the time ("dopo le 17", "a partire dalle 15").
    After,
}

/// A date-ish part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePart {
    Day(Date),
    /// Whole days, end exclusive, and the end the caller left open ("dal 3
    /// al 5 maggio", "entro il 20", "dal 9 in poi").
    Days(Date, Date, Option<OpenEnd>),
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
    /// One bound of a clock range: "prima delle 10", "dopo le 17".
    ClockBound(Clock, Bound),
    /// An offset from now in minutes ("tra un'ora"): a full date-time.
    Offset(i64),
    /// From now to now + minutes ("entro un'ora").
    Within(i64),
    /// A date or time that is recognisably one but invalid: fail closed.
    Invalid,
}

// ---------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------

/// A matcher: given the words and a position, returns what it found there
/// and how many words it consumed.
type Matcher = fn(&[&str], usize, Date) -> Option<(Vec<Part>, usize)>;

const MATCHERS: [Matcher; 17] = [
    match_offset,
    match_clock_range,
    match_clock,
    match_hour_of_pod,
    match_anchored,
    match_date_range,
    match_date_bound,
    match_ordinal_weekday,
    match_numeric_date,
    match_day_month,
    match_day_of_month,
    match_holiday,
    match_period_part,
    match_day_word,
    match_weekday,
    match_month,
    match_pod,
];

/// A part and the words `start..end` it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    pub(super) part: Part,
    pub(super) start: usize,
    pub(super) end: usize,
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
    // "venerdì 15 aprile" when the 15th is a Thursday: one of the two is
    // wrong, and guessing which would silently book the wrong day.
    for k in 1..found.len() {
        let (a, b) = (found[k - 1], found[k]);
        if let (Part::Date(DatePart::Weekday(wd, _)), Part::Date(DatePart::Day(d))) = (a.part, b.part) {
            if b.start == a.end && d.weekday() != wd {
                found[k].part = Part::Invalid;
            }
        }
    }
    found
}
