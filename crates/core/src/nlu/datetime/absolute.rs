//! Absolute dates: "15 marzo", "il 15", "15/03/2027", "il primo del
//! mese", with the guards that keep prices, counts and addresses out.

use super::*;

/// Month names and abbreviations, 1-based.
pub(super) fn month(w: &str) -> Option<i8> {
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
pub(super) const DATE_LEADS: &[&str] = &[
    "il",
    "l",
    "lo",
    "per",
    "x",
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
pub(super) fn day_number(w: &str) -> Option<i64> {
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
pub(super) fn year_number(w: &str) -> Option<i64> {
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

/// A year said in full: four digits (1900..=2199) or in words
/// ("duemilaventotto").
pub(super) fn full_year(w: &str) -> Option<i64> {
    if w.bytes().all(|b| b.is_ascii_digit()) {
        return year_number(w).filter(|_| w.len() == 4);
    }
    parse_number(w).map(i64::from).filter(|y| (1900..=2199).contains(y))
}

/// A date from numbers, `Invalid` if it does not exist.
pub(super) fn date_part(y: i64, m: i64, d: i64) -> Part {
    match ymd(y, m, d) {
        Some(date) => Part::Date(DatePart::Day(date)),
        None => Part::Invalid,
    }
}

pub(super) fn ymd(y: i64, m: i64, d: i64) -> Option<Date> {
    Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// The next valid occurrence of day/month at or after today, this year or
/// next.
pub(super) fn next_day_month(today: Date, m: i64, d: i64) -> Part {
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
pub(super) fn bare_day_month(words: &[&str], i: usize, d: i64, m: i64, today: Date) -> bool {
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
pub(super) fn match_numeric_date(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
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
pub(super) fn match_day_month(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
    let day_word = word(words, i);
    // "l'uno di giugno": "uno" is the 1st only after the article.
    let d = match day_word {
        "uno" if i > 0 && word(words, i - 1) == "l" => 1,
        _ => day_number(day_word)?,
    };
    let mut k = i + 1;
    if matches!(word(words, k), "di" | "del" | "d") {
        k += 1;
    }
    let month_word = word(words, k);
    let m = i64::from(month(month_word)?);
    // Abbreviations ("set", "mar", "ago") are common words: only after digits.
    if month_word.len() <= 4 && !day_word.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k += 1;
    // "15 marzo 2028", "15 marzo del 2028".
    let year_at = if matches!(word(words, k), "del" | "nel") { k + 1 } else { k };
    if let Some(y) = full_year(word(words, year_at)) {
        return one(date_part(y, m, d), year_at + 1 - i);
    }
    one(next_day_month(today, m, d), k - i)
}

/// Words before "del"/"dal"/"al" + number that make it not a day
/// ("sconto del 20", "il numero del 12", "l'autobus del 14").
pub(super) const NOT_A_DAY_BEFORE: &[&str] = &[
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
pub(super) fn match_day_of_month(words: &[&str], i: usize, today: Date) -> Option<(Vec<Part>, usize)> {
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
    // "il giorno prima" is the day before something, not the 1st.
    if word(words, j.saturating_sub(1)) == "giorno" && matches!(w, "prima" | "primo") {
        return None;
    }
    let d = day_number(w)?;
    let k = j + 1;
    // "lunedì primo pomeriggio", "il primo mattino": a part of day.
    if !w.bytes().all(|b| b.is_ascii_digit()) && parse_number(w).is_none() && match_pod(words, j, today).is_some() {
        return None;
    }
    let led_by_weekday = weekday(word(words, i));
    // "sabato 9 del mattino": the 9th, or 9 in the morning? Say nothing.
    if led_by_weekday.is_some() && matches!(word(words, k), "di" | "del" | "della") && pod_word(word(words, k + 1)).is_some() {
        return one(Part::Invalid, 2);
    }
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
                | "perfetto"
                | "x"
                | "magari"
                | "possibilmente"
                | "meglio"
                | "pure"
                | "mattino"
                | "mattinata"
                | "serata"
                | "pom"
                | "pome"
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
    if let (Some(wd), None, None) = (led_by_weekday, next_month, this_month) {
        // "venerdì 13": the next Friday the 13th, not the 13th of this month.
        return one(weekday_day(today, wd, d).map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), used);
    }
    let found = candidates
        .into_iter()
        .filter_map(|first| ymd(i64::from(first.year()), i64::from(first.month()), d))
        .find(|date| *date >= today || next_month.is_some());
    one(found.map_or(Part::Invalid, |d| Part::Date(DatePart::Day(d))), used)
}

/// The first date at or after `today` that is day `d` of its month and
/// falls on `wd`, within 28 months (every pair occurs by then); `None` for
/// a day that never exists.
pub(super) fn weekday_day(today: Date, wd: Weekday, d: i64) -> Option<Date> {
    let first = today.first_of_month();
    (0..28)
        .filter_map(|n| first.checked_add(Span::new().months(n)).ok())
        .filter_map(|m| ymd(i64::from(m.year()), i64::from(m.month()), d))
        .find(|date| *date >= today && date.weekday() == wd)
}
