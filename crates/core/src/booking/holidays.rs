//! Italian national public holidays (*festività nazionali*).
//!
//! Pure calendar arithmetic, no I/O and no time zones: every function works on
//! civil (local) dates. Easter is computed with the anonymous Gregorian
//! algorithm (Meeus/Jones/Butcher), valid for every proleptic Gregorian year.
//!
//! The set follows Italian law: the fixed holidays of L. 260/1949 and later
//! amendments, Easter Monday (*Lunedì dell'Angelo*) and, from 2026 onwards,
//! San Francesco d'Assisi on 4 October (restored by L. 151/2025). Local patron
//! saints' days are not national holidays and are not included; businesses add
//! them as [`Closure`](super::Closure)s.

use jiff::civil::{Date, Weekday};

/// Easter Sunday (Gregorian calendar) of `year`.
///
/// Uses the anonymous Gregorian algorithm. Years outside jiff's supported range
/// (`-9999..=9999`) are clamped to it, so the function never panics.
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year.clamp(-9999, 9999));
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = n.div_euclid(31); // 3 = March, 4 = April
    let day = n.rem_euclid(31) + 1;
    // month is always 3 or 4 and day 1..=31 with a valid March/April date,
    // so this cannot fail for a year in range; fall back defensively anyway.
    Date::new(y as i16, month as i8, day as i8).unwrap_or_else(|_| Date::new(y as i16, 4, 1).unwrap_or(Date::MIN))
}

/// A holiday's name as a receptionist says it after "è" or "per": "la
/// Festa del Lavoro", "l'Immacolata", "Pasquetta", "Natale".
pub fn said(name: &str) -> String {
    match name {
        "Epifania" | "Immacolata" => format!("l'{name}"),
        "Lunedì dell'Angelo" => "Pasquetta".to_string(),
        "San Francesco d'Assisi" => "San Francesco".to_string(),
        n if n.starts_with("Festa ") => format!("la {n}"),
        n => n.to_string(),
    }
}

/// The Italian name of the national public holiday falling on `date`, or
/// `None` for an ordinary day.
///
/// Sundays are not reported as holidays in themselves (whether a business
/// opens on Sunday is decided by its weekly hours), except Easter Sunday
/// (`"Pasqua"`).
pub fn italian_public_holiday(date: Date) -> Option<&'static str> {
    let fixed = match (date.month(), date.day()) {
        (1, 1) => Some("Capodanno"),
        (1, 6) => Some("Epifania"),
        (4, 25) => Some("Festa della Liberazione"),
        (5, 1) => Some("Festa del Lavoro"),
        (6, 2) => Some("Festa della Repubblica"),
        (8, 15) => Some("Ferragosto"),
        (10, 4) if date.year() >= 2026 => Some("San Francesco d'Assisi"),
        (11, 1) => Some("Ognissanti"),
        (12, 8) => Some("Immacolata"),
        (12, 25) => Some("Natale"),
        (12, 26) => Some("Santo Stefano"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    // Easter falls between 22 March and 25 April, Easter Monday one day later.
    if !matches!(date.month(), 3 | 4) {
        return None;
    }
    let easter = easter_sunday(date.year());
    if date == easter {
        return Some("Pasqua");
    }
    if date.weekday() == Weekday::Monday && easter.tomorrow().ok() == Some(date) {
        return Some("Lunedì dell'Angelo");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn easter_dates() {
        for (y, m, d) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
            (2000, 4, 23),
            (1818, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), date(y, m, d), "Easter {y}");
            assert_eq!(easter_sunday(y).weekday(), Weekday::Sunday);
        }
    }

    #[test]
    fn easter_never_panics() {
        for y in [i16::MIN, -10000, -9999, -1, 0, 1, 9999, 10000, i16::MAX] {
            let e = easter_sunday(y);
            let _ = italian_public_holiday(e);
        }
    }

    #[test]
    fn holidays_are_said_with_their_article() {
        assert_eq!(said("Festa del Lavoro"), "la Festa del Lavoro");
        assert_eq!(said("Immacolata"), "l'Immacolata");
        assert_eq!(said("Lunedì dell'Angelo"), "Pasquetta");
        assert_eq!(said("Natale"), "Natale");
    }

    #[test]
    fn easter_sunday_and_monday() {
        assert_eq!(italian_public_holiday(date(2027, 3, 28)), Some("Pasqua"));
        assert_eq!(italian_public_holiday(date(2027, 3, 29)), Some("Lunedì dell'Angelo"));
        assert_eq!(italian_public_holiday(date(2025, 4, 21)), Some("Lunedì dell'Angelo"));
        assert_eq!(italian_public_holiday(date(2026, 4, 6)), Some("Lunedì dell'Angelo"));
        // The day after Easter Monday is an ordinary day.
        assert_eq!(italian_public_holiday(date(2027, 3, 30)), None);
    }

    #[test]
    fn liberation_day_can_coincide_with_easter() {
        // 2038: Easter Sunday is 25 April; the fixed holiday name wins, Monday still a holiday.
        assert_eq!(italian_public_holiday(date(2038, 4, 25)), Some("Festa della Liberazione"));
        assert_eq!(italian_public_holiday(date(2038, 4, 26)), Some("Lunedì dell'Angelo"));
    }

    #[test]
    fn fixed_holidays() {
        let y = 2027;
        for (m, d, name) in [
            (1, 1, "Capodanno"),
            (1, 6, "Epifania"),
            (4, 25, "Festa della Liberazione"),
            (5, 1, "Festa del Lavoro"),
            (6, 2, "Festa della Repubblica"),
            (8, 15, "Ferragosto"),
            (10, 4, "San Francesco d'Assisi"),
            (11, 1, "Ognissanti"),
            (12, 8, "Immacolata"),
            (12, 25, "Natale"),
            (12, 26, "Santo Stefano"),
        ] {
            assert_eq!(italian_public_holiday(date(y, m, d)), Some(name));
        }
    }

    #[test]
    fn san_francesco_only_from_2026() {
        assert_eq!(italian_public_holiday(date(2025, 10, 4)), None);
        assert_eq!(italian_public_holiday(date(2026, 10, 4)), Some("San Francesco d'Assisi"));
    }

    #[test]
    fn ordinary_days() {
        assert_eq!(italian_public_holiday(date(2027, 3, 16)), None);
        assert_eq!(italian_public_holiday(date(2027, 7, 14)), None);
        // A plain Sunday is not a public holiday.
        assert_eq!(italian_public_holiday(date(2027, 3, 21)), None);
        // 19 March (San Giuseppe) and 29 June are not national holidays.
        assert_eq!(italian_public_holiday(date(2027, 3, 19)), None);
        assert_eq!(italian_public_holiday(date(2027, 6, 29)), None);
    }
}
