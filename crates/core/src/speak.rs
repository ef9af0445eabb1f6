//! Dates, times, prices and numbers as spoken Italian, for replies that read
//! well on the phone ("giovedì quindici marzo alle quindici e mezza",
//! "venticinque euro e cinquanta").

use jiff::civil::{Date, Time, Weekday};

use crate::nlu::numbers::UNITS;

const TENS: [&str; 10] = ["", "", "venti", "trenta", "quaranta", "cinquanta", "sessanta", "settanta", "ottanta", "novanta"];

/// An integer in Italian words (`21` → "ventuno", `23` → "ventitré",
/// `1500` → "millecinquecento"). Negative numbers get "meno".
pub fn number(n: i64) -> String {
    if n < 0 {
        return format!("meno {}", number(n.unsigned_abs() as i64));
    }
    let n = n as u64;
    match n {
        0..=19 => UNITS[n as usize].to_string(),
        20..=99 => {
            let (t, u) = ((n / 10) as usize, (n % 10) as usize);
            let mut tens = TENS[t].to_string();
            if u == 1 || u == 8 {
                tens.pop();
            }
            match u {
                0 => tens,
                3 => format!("{tens}tré"),
                _ => format!("{tens}{}", UNITS[u]),
            }
        }
        100..=999 => {
            let (h, rest) = (n / 100, n % 100);
            let head = if h == 1 { "cento".to_string() } else { format!("{}cento", UNITS[h as usize]) };
            match rest {
                0 => head,
                // "centottanta": the o of cento elides before otto/ottanta.
                80..=89 => format!("{}{}", &head[..head.len() - 1], number(rest as i64)),
                _ => format!("{head}{}", number(rest as i64)),
            }
        }
        1000..=999_999 => {
            let (th, rest) = (n / 1000, n % 1000);
            let head = if th == 1 { "mille".to_string() } else { format!("{}mila", number(th as i64)) };
            if rest == 0 {
                head
            } else {
                format!("{head}{}", number(rest as i64))
            }
        }
        _ => n.to_string(),
    }
}

/// The weekday's Italian name ("lunedì").
pub fn weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "lunedì",
        Weekday::Tuesday => "martedì",
        Weekday::Wednesday => "mercoledì",
        Weekday::Thursday => "giovedì",
        Weekday::Friday => "venerdì",
        Weekday::Saturday => "sabato",
        Weekday::Sunday => "domenica",
    }
}

/// The month's Italian name, 1-based ("marzo" for 3).
pub fn month(m: i8) -> &'static str {
    const MONTHS: [&str; 12] =
        ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"];
    MONTHS[(m.clamp(1, 12) - 1) as usize]
}

/// A time of day after "alle"/"all'", quarters read the same way throughout:
/// "nove e un quarto", "nove e mezza", "nove e tre quarti", "una". Hours are
/// read on the 24-hour clock, as on Italian phone lines; the noon hour is
/// "mezzogiorno" with its minutes too ("mezzogiorno e mezza"), so a list of
/// times never mixes "a mezzogiorno" with "alle dodici e mezza".
pub fn time(t: Time) -> String {
    let (h, m) = (t.hour(), t.minute());
    let hour = match h {
        0 => "mezzanotte".to_string(),
        12 => "mezzogiorno".to_string(),
        1 => "una".to_string(),
        _ => number(i64::from(h)),
    };
    match m {
        0 => hour,
        15 => format!("{hour} e un quarto"),
        30 => format!("{hour} e mezza"),
        45 => format!("{hour} e tre quarti"),
        _ => format!("{hour} e {}", number(i64::from(m))),
    }
}

/// "alle quindici e mezza", "all'una", "a mezzogiorno", "a mezzogiorno e
/// mezza", "a mezzanotte".
pub fn at_time(t: Time) -> String {
    match (t.hour(), t.minute()) {
        (0 | 12, _) => format!("a {}", time(t)),
        (1, _) => format!("all'{}", time(t)),
        _ => format!("alle {}", time(t)),
    }
}

/// A date as spoken relative to `today`: "oggi", "domani", "dopodomani",
/// otherwise "giovedì quindici marzo" (the year is added when it differs from
/// today's).
pub fn date(d: Date, today: Date) -> String {
    match today.until(d).map(|s| s.get_days()) {
        Ok(0) => return "oggi".to_string(),
        Ok(1) => return "domani".to_string(),
        Ok(2) => return "dopodomani".to_string(),
        _ => {}
    }
    let day = if d.day() == 1 { "primo".to_string() } else { number(i64::from(d.day())) };
    let mut s = format!("{} {day} {}", weekday(d.weekday()), month(d.month()));
    if d.year() != today.year() {
        s.push(' ');
        s.push_str(&number(i64::from(d.year())));
    }
    s
}

/// A price in euro cents as words: "venticinque euro", "un euro",
/// "trentacinque euro e cinquanta", "gratuito" for 0.
pub fn price(cents: i64) -> String {
    if cents <= 0 {
        return "gratuito".to_string();
    }
    let (euro, c) = (cents / 100, cents % 100);
    let euro_words = match euro {
        0 => String::new(),
        1 => "un euro".to_string(),
        _ => format!("{} euro", number(euro)),
    };
    match (euro, c) {
        (_, 0) => euro_words,
        (0, _) => format!("{} centesimi", number(c)),
        _ => format!("{euro_words} e {}", number(c)),
    }
}

/// A duration in minutes: "quarantacinque minuti", "un'ora", "un'ora e
/// mezza", "due ore".
pub fn duration(minutes: u32) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let hours = match h {
        0 => String::new(),
        1 => "un'ora".to_string(),
        _ => format!("{} ore", number(i64::from(h))),
    };
    match (h, m) {
        (0, 30) => "mezz'ora".to_string(),
        (0, _) => format!("{} minuti", number(i64::from(m))),
        (_, 0) => hours,
        (_, 30) => format!("{hours} e mezza"),
        _ => format!("{hours} e {} minuti", number(i64::from(m))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date as d, time as t};

    #[test]
    fn numbers() {
        let cases = [
            (0, "zero"),
            (1, "uno"),
            (17, "diciassette"),
            (21, "ventuno"),
            (23, "ventitré"),
            (28, "ventotto"),
            (45, "quarantacinque"),
            (100, "cento"),
            (101, "centouno"),
            (180, "centottanta"),
            (250, "duecentocinquanta"),
            (1000, "mille"),
            (2027, "duemilaventisette"),
        ];
        for (n, w) in cases {
            assert_eq!(number(n), w);
        }
    }

    #[test]
    fn times_dates_prices() {
        assert_eq!(at_time(t(15, 30, 0, 0)), "alle quindici e mezza");
        assert_eq!(at_time(t(9, 15, 0, 0)), "alle nove e un quarto");
        assert_eq!(at_time(t(12, 0, 0, 0)), "a mezzogiorno");
        assert_eq!(at_time(t(12, 30, 0, 0)), "a mezzogiorno e mezza");
        assert_eq!(at_time(t(12, 15, 0, 0)), "a mezzogiorno e un quarto");
        assert_eq!(at_time(t(1, 30, 0, 0)), "all'una e mezza");
        assert_eq!(at_time(t(13, 0, 0, 0)), "alle tredici");
        assert_eq!(at_time(t(10, 45, 0, 0)), "alle dieci e tre quarti");
        let today = d(2027, 3, 10);
        assert_eq!(date(d(2027, 3, 10), today), "oggi");
        assert_eq!(date(d(2027, 3, 11), today), "domani");
        assert_eq!(date(d(2027, 3, 15), today), "lunedì quindici marzo");
        assert_eq!(date(d(2027, 4, 1), today), "giovedì primo aprile");
        assert_eq!(date(d(2028, 1, 3), d(2027, 12, 30)), "lunedì tre gennaio duemilaventotto");
        assert_eq!(price(2500), "venticinque euro");
        assert_eq!(price(3550), "trentacinque euro e cinquanta");
        assert_eq!(price(100), "un euro");
        assert_eq!(duration(90), "un'ora e mezza");
        assert_eq!(duration(45), "quarantacinque minuti");
    }
}
