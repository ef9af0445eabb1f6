//! Table tests of the resolver (property tests: `proptests.rs`).

use super::*;
use jiff::civil::date;

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
    DateTimeSlot::Range { start, end, grain: Grain::Hour, open: None }
}
fn open(start: DateTime, end: DateTime, grain: Grain, side: OpenEnd) -> DateTimeSlot {
    DateTimeSlot::Range { start, end, grain, open: Some(side) }
}
fn days(start: Date, end: Date) -> DateTimeSlot {
    DateTimeSlot::Range { start: start.at(0, 0, 0, 0), end: end.at(0, 0, 0, 0), grain: Grain::Day, open: None }
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
        c("domani l'altro", day(2027, 3, 12)),
        c("il tre del cinque", day(2027, 5, 3)),
        c("marzo 24", day(2027, 3, 24)),
        c("la settimana dopo pasqua", days(Date::constant(2027, 3, 29), Date::constant(2027, 4, 5))),
        c("la settimana prima di ferragosto", days(Date::constant(2027, 8, 8), Date::constant(2027, 8, 15))),
        c("maggio 3 alle 10", hour(2027, 5, 3, 10)),
        c("il 3 del 5", day(2027, 5, 3)),
        c("il primo weekend di aprile", day(2027, 4, 3)),
        c("l'ultimo weekend del mese", day(2027, 3, 27)),
        c("dopo domani", day(2027, 3, 12)),
        c("ieri", day(2027, 3, 9)),
        c("l'altro ieri", day(2027, 3, 8)),
        cf("stamattina", hours(2027, 3, 10, 6, 12), true, true),
        c("stamani", hours(2027, 3, 10, 6, 12)),
        c("stamane", hours(2027, 3, 10, 6, 12)),
        cf("stasera", hours(2027, 3, 10, 18, 0), true, true),
        c("stanotte", hours(2027, 3, 10, 22, 6)),
        c("domattina", hours(2027, 3, 11, 6, 12)),
        c("domani mattina", hours(2027, 3, 11, 6, 12)),
        cf("domani pomeriggio", hours(2027, 3, 11, 12, 19), true, true),
        c("domani sera", hours(2027, 3, 11, 18, 0)),
        c("domani in mattinata", hours(2027, 3, 11, 6, 12)),
        c("oggi pomeriggio", hours(2027, 3, 10, 12, 19)),
        c("avete posto domani pomeriggio?", hours(2027, 3, 11, 12, 19)),
        c("Buongiorno, avete posto domani pomeriggio?", hours(2027, 3, 11, 12, 19)),
        // --- parts of day without a date -----------------------------
        cf("nel pomeriggio", hours(2027, 3, 10, 12, 19), false, true),
        cf("in serata", hours(2027, 3, 10, 18, 0), false, true),
        c("in mattinata", hours(2027, 3, 10, 6, 12)),
        c("di mattina", hours(2027, 3, 10, 6, 12)),
        c("a pranzo", hours(2027, 3, 10, 12, 14)),
        c("dopo pranzo", hours(2027, 3, 10, 14, 16)),
        c("di notte", hours(2027, 3, 10, 22, 6)),
        at_now(late(), "nel pomeriggio", hours(2027, 3, 11, 12, 19)),
        at_now(late(), "in serata", hours(2027, 3, 10, 18, 0)),
        at_now(late(), "stasera", hours(2027, 3, 10, 18, 0)),
        at_now(late(), "la mattina", hours(2027, 3, 11, 6, 12)),
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
        c("giovedì pomeriggio", hours(2027, 3, 11, 12, 19)),
        c("venerdì mattina", hours(2027, 3, 12, 6, 12)),
        c("sabato sera", hours(2027, 3, 13, 18, 0)),
        c("Mi andrebbe bene sabato mattina", hours(2027, 3, 13, 6, 12)),
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
        c("entro le 19", open(date(2027, 3, 10).at(0, 0, 0, 0), date(2027, 3, 10).at(19, 0, 0, 0), Grain::Hour, OpenEnd::Start)),
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
        c("18/3 di mattina", hours(2027, 3, 18, 6, 12)),
        c("18/03 va bene?", day(2027, 3, 18)),
        c("18/3 con Giulia", day(2027, 3, 18)),
        c("18/3 nel pomeriggio", hours(2027, 3, 18, 12, 19)),
        c("18/3 giovedì", day(2027, 3, 18)),
        c("Prenotazione 5/3, grazie", day(2028, 3, 5)),
        c("va bene 29/02?", day(2028, 2, 29)),
        c("controllo 31/12 pomeriggio", hours(2027, 12, 31, 12, 19)),
        c("spostarlo all'8 marzo", day(2028, 3, 8)),
        c("all'11 aprile alle 10", hour(2027, 4, 11, 10)),
        // --- day of month after del/dal/al ---------------------------
        cf("vorrei disdire la visita del 22", day(2027, 3, 22), true, false),
        c("la visita del 5", day(2027, 4, 5)),
        c("la visita del 10", day(2027, 3, 10)),
        c("la visita del ventidue", day(2027, 3, 22)),
        c("la visita del 22 alle 10", hour(2027, 3, 22, 10)),
        c("per il 22", day(2027, 3, 22)),
        c("entro il 22", open(date(2027, 3, 10).at(0, 0, 0, 0), date(2027, 3, 23).at(0, 0, 0, 0), Grain::Day, OpenEnd::Start)),
        c("a partire dal 22", open(date(2027, 3, 22).at(0, 0, 0, 0), date(2027, 4, 22).at(0, 0, 0, 0), Grain::Day, OpenEnd::End)),
        c("fino al 22", open(date(2027, 3, 10).at(0, 0, 0, 0), date(2027, 3, 23).at(0, 0, 0, 0), Grain::Day, OpenEnd::Start)),
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
        c("dal 20 al 22", days(date(2027, 3, 20), date(2027, 3, 23))),
        c("il 2-3 marzo", days(date(2028, 3, 2), date(2028, 3, 4))),
        c("vorrei spostare a venerdì, giovedì non posso", day(2027, 3, 12)),
        // ... and without a cue, the first date and time as before.
        c("giovedì o venerdì", day(2027, 3, 11)),
        c("giovedì alle 10 o alle 11", hour(2027, 3, 11, 10)),
        c("non so se giovedì o venerdì", day(2027, 3, 11)),
        c("alle 15 domani", hour(2027, 3, 11, 15)),
        // --- chat and recogniser forms --------------------------------
        c("domani 17,30", minute(2027, 3, 11, 17, 30)),
        c("gio 11 ore 16,45", minute(2027, 3, 11, 16, 45)),
        c("ore 9.15 di sabato", minute(2027, 3, 13, 9, 15)),
        c("domani 16.00", hour(2027, 3, 11, 16)),
        c("giovedì 18.30", minute(2027, 3, 11, 18, 30)),
        c("domani 15 e 30", minute(2027, 3, 11, 15, 30)),
        c("x le 5", hour(2027, 3, 10, 17)),
        c("un quarto alle cinque", minute(2027, 3, 10, 16, 45)),
        c("le 3 meno un quarto", minute(2027, 3, 10, 14, 45)),
        c("facciamo 3 e mezza", minute(2027, 3, 10, 15, 30)),
        c("mart pome", hours(2027, 3, 16, 12, 19)),
        c("lun prox", day(2027, 3, 15)),
        c("tra un'oretta", hour(2027, 3, 10, 11)),
        c("tra un mesetto", day(2027, 4, 10)),
        c("tra una decina di giorni", day(2027, 3, 20)),
        c("fra un paio d'ore", hour(2027, 3, 10, 12)),
        c("in pausa pranzo", hours(2027, 3, 10, 12, 14)),
        c("il 3 gennaio duemilaventotto", day(2028, 1, 3)),
        c("entro la settimana", open(date(2027, 3, 10).at(0, 0, 0, 0), date(2027, 3, 15).at(0, 0, 0, 0), Grain::Day, OpenEnd::Start)),
        // --- holidays and parts of periods ----------------------------
        c("a Natale", day(2027, 12, 25)),
        c("la vigilia di Natale", day(2027, 12, 24)),
        c("a Pasqua", day(2027, 3, 28)),
        c("a Pasquetta", day(2027, 3, 29)),
        at_now(date(2027, 3, 30).at(10, 0, 0, 0), "a Pasqua", day(2028, 4, 16)),
        c("il giorno dopo Natale", day(2027, 12, 26)),
        at_now(dec30(), "a Capodanno", day(2028, 1, 1)),
        c("a inizio mese", day(2027, 4, 1)),
        c("a metà mese", day(2027, 3, 15)),
        c("fine aprile", day(2027, 4, 30)),
        c("inizio maggio", day(2027, 5, 1)),
        c("a inizio settimana", day(2027, 3, 15)),
        c("metà settimana prossima", day(2027, 3, 17)),
        c("all'inizio del mese prossimo", day(2027, 4, 1)),
        c("il 2º lunedì di novembre", day(2027, 11, 8)),
        c("l'ultimo del mese", day(2027, 3, 31)),
        c("a maggio", days(date(2027, 5, 1), date(2027, 6, 1))),
        c("nel mese di marzo", days(date(2027, 3, 10), date(2027, 4, 1))),
        c("a febbraio", days(date(2028, 2, 1), date(2028, 3, 1))),
        c("da qui a venerdì", days(date(2027, 3, 10), date(2027, 3, 13))),
        c("facciamo le 5?", hour(2027, 3, 10, 17)),
        c("va bene 9.30?", minute(2027, 3, 11, 9, 30)),
        c("lunedì primo pomeriggio", hours(2027, 3, 15, 12, 15)),
        c("facciamo dieci - dodici giugno?", days(date(2027, 6, 10), date(2027, 6, 13))),
        c("Giovedì alle 15:30h", minute(2027, 3, 11, 15, 30)),
        c("stasera tardi", hours(2027, 3, 10, 21, 0)),
        c("stamattina presto", hours(2027, 3, 10, 6, 9)),
        c("domani dp le 17", open(date(2027, 3, 11).at(17, 0, 0, 0), date(2027, 3, 12).at(0, 0, 0, 0), Grain::Hour, OpenEnd::End)),
        c("la settimana dopo la prossima", days(date(2027, 3, 22), date(2027, 3, 29))),
        c("entro il mese", open(date(2027, 3, 10).at(0, 0, 0, 0), date(2027, 4, 1).at(0, 0, 0, 0), Grain::Day, OpenEnd::Start)),
        // --- typos of day words ------------------------------------
        cf("per domai pomeriggio", hours(2027, 3, 11, 12, 19), true, true),
        c("domai", day(2027, 3, 11)),
        c("doamni alle 10", hour(2027, 3, 11, 10)),
        c("domanii", day(2027, 3, 11)),
        c("dopodomai", day(2027, 3, 12)),
        c("dopodmani sera", hours(2027, 3, 12, 18, 0)),
        c("oggu pomeriggio", hours(2027, 3, 10, 12, 19)),
        c(
            "dalle 9 e mezza alle 11",
            DateTimeSlot::Range {
                start: date(2027, 3, 11).at(9, 30, 0, 0),
                end: date(2027, 3, 11).at(11, 0, 0, 0),
                grain: Grain::Minute,
                open: None,
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
        "alle 13 e 70",
        "domani alle 9 e 75",
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
        // "del/dal/al" + number that is not a day.
        "sconto del 20",
        "c'è il 10 per cento di sconto",
        "al 3° piano",
        "va bene al 50%",
        "del 45",
        // Holiday names that are people's names; "la vigilia" alone.
        "mi chiamo Natale",
        "sono Natale Rossi",
        "la vigilia",
        // Durations with a half are not times.
        "dura un'ora e mezza",
        "ci vogliono due ore e mezza",
        // Chat abbreviations of parts of day are names when alone.
        "mi chiamo Matt",
        "sono Matt Rossi",
        // Prices with a separator and phone numbers in words.
        "costa 15.00",
        "sono 15,30 euro",
        "tre tre tre - uno due tre",
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
        ("giovedì pomeriggio o venerdì mattina", vec![hours(2027, 3, 11, 12, 19), hours(2027, 3, 12, 6, 12)]),
        ("sabato e domenica", vec![day(2027, 3, 13), day(2027, 3, 14)]),
        ("dal 20 al 22 marzo", vec![days(date(2027, 3, 20), date(2027, 3, 23))]),
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
