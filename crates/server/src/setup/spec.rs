//! The short text forms `fluxion setup` takes on its command line (and asks
//! for interactively): opening hours `"lun-ven 09:00-13:00 14:00-19:00; sab
//! 09:00-13:00"` (Italian or English day names, ranges and lists, several
//! intervals a day for breaks), services `"Taglio donna|45|35,00"` (name,
//! minutes, euro; optional fourth part: synonyms separated by commas) and
//! operators `"Giulia:Taglio donna,Piega"` (no services: all).

use jiff::civil::{Time, Weekday};

use fluxion_core::booking::{TimeRange, WeeklyHours};

use super::{SetupOperator, SetupService};

const DAYS: [(Weekday, [&str; 3]); 7] = [
    (Weekday::Monday, ["lun", "lunedi", "mon"]),
    (Weekday::Tuesday, ["mar", "martedi", "tue"]),
    (Weekday::Wednesday, ["mer", "mercoledi", "wed"]),
    (Weekday::Thursday, ["gio", "giovedi", "thu"]),
    (Weekday::Friday, ["ven", "venerdi", "fri"]),
    (Weekday::Saturday, ["sab", "sabato", "sat"]),
    (Weekday::Sunday, ["dom", "domenica", "sun"]),
];

fn day(s: &str) -> Result<Weekday, String> {
    let folded = fluxion_core::text::fold(s.trim());
    DAYS.iter()
        .find(|(_, names)| names.iter().any(|n| *n == folded) || (folded.len() > 3 && names[1].starts_with(&folded)))
        .map(|(d, _)| *d)
        .ok_or_else(|| format!("giorno sconosciuto: '{s}' (lun, mar, mer, gio, ven, sab, dom)"))
}

fn days(s: &str) -> Result<Vec<Weekday>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    out.push(d);
                    if d == b {
                        break;
                    }
                    d = d.next();
                }
            }
            None => out.push(day(part)?),
        }
    }
    Ok(out)
}

fn time(s: &str) -> Result<Time, String> {
    let bad = || format!("orario non valido: '{s}' (HH:MM)");
    let t = s.trim().replace('.', ":");
    let (h, m) = t.split_once(':').unwrap_or((&t, "0"));
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// Parses opening hours: `;`-separated groups of days followed by
/// `HH:MM-HH:MM` intervals.
///
/// # Errors
/// An unknown day, a bad time, an interval that ends before it starts.
pub fn hours(spec: &str) -> Result<Vec<WeeklyHours>, String> {
    let mut out = Vec::new();
    for group in spec.split(';').map(str::trim).filter(|g| !g.is_empty()) {
        let mut parts = group.split_whitespace();
        let weekdays = days(parts.next().unwrap_or_default())?;
        let mut ranges = Vec::new();
        for r in parts {
            let (a, b) = r.split_once('-').ok_or_else(|| format!("intervallo non valido: '{r}' (HH:MM-HH:MM)"))?;
            let range = TimeRange { start: time(a)?, end: time(b)? };
            if range.end <= range.start {
                return Err(format!("intervallo {r}: la fine deve seguire l'inizio"));
            }
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err(format!("'{group}': mancano gli orari (es. lun-ven 09:00-13:00 14:00-19:00)"));
        }
        for weekday in weekdays {
            out.extend(ranges.iter().map(|&range| WeeklyHours { weekday, range }));
        }
    }
    Ok(out)
}

/// Parses an amount in euro (`35`, `35,50`, `35.50`, `€ 35`) into cents.
///
/// # Errors
/// Not an amount.
pub fn euro_cents(s: &str) -> Result<i64, String> {
    let t = s.trim().trim_start_matches('€').trim().replace(',', ".");
    let (units, cents) = t.split_once('.').unwrap_or((&t, "0"));
    let bad = || format!("prezzo non valido: '{s}' (es. 35,50)");
    let units: i64 = units.parse().map_err(|_| bad())?;
    let cents = match cents.len() {
        1 => cents.parse::<i64>().map_err(|_| bad())? * 10,
        2 => cents.parse::<i64>().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if units < 0 {
        return Err(bad());
    }
    Ok(units * 100 + cents)
}

/// Parses `name|minutes|euro[|synonym, synonym]`.
///
/// # Errors
/// A missing part, a bad number.
pub fn service(spec: &str) -> Result<SetupService, String> {
    let parts: Vec<&str> = spec.split('|').map(str::trim).collect();
    let [name, minutes, price, rest @ ..] = parts.as_slice() else {
        return Err(format!("servizio '{spec}': atteso nome|minuti|prezzo"));
    };
    Ok(SetupService {
        name: name.to_string(),
        synonyms: rest.first().map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()).unwrap_or_default(),
        duration_min: minutes.parse().map_err(|_| format!("servizio '{name}': durata non valida '{minutes}'"))?,
        price_cents: euro_cents(price)?,
    })
}

/// Parses `name[:service, service]`.
pub fn operator(spec: &str) -> SetupOperator {
    let (name, services) = spec.split_once(':').unwrap_or((spec, ""));
    SetupOperator {
        name: name.trim().to_string(),
        services: services.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        hours: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_with_breaks_ranges_and_italian_days() {
        let h = hours("lun-ven 09:00-13:00 14:30-19:00; sabato 9-13").expect("hours");
        assert_eq!(h.len(), 11);
        assert_eq!(h.iter().filter(|x| x.weekday == Weekday::Wednesday).count(), 2);
        let sat: Vec<_> = h.iter().filter(|x| x.weekday == Weekday::Saturday).collect();
        assert_eq!((sat.len(), sat[0].range.start.hour(), sat[0].range.end.hour()), (1, 9, 13));
        assert!(hours("lun 13:00-09:00").is_err());
        assert!(hours("lunedì").is_err());
        assert!(hours("xyz 09:00-10:00").is_err());
        assert_eq!(hours("ven-lun 10-11").expect("wraps").len(), 4);
    }

    #[test]
    fn services_prices_and_operators() {
        let s = service("Taglio donna | 45 | 35,50 | taglio, sforbiciata").expect("service");
        assert_eq!((s.name.as_str(), s.duration_min, s.price_cents), ("Taglio donna", 45, 3550));
        assert_eq!(s.synonyms, vec!["taglio", "sforbiciata"]);
        assert_eq!(euro_cents("€ 20").expect("price"), 2000);
        assert_eq!(euro_cents("7.5").expect("price"), 750);
        assert!(euro_cents("abc").is_err() && euro_cents("-3").is_err() && euro_cents("1.234").is_err());
        assert!(service("Piega|30").is_err());
        let o = operator("Giulia: Taglio donna, Piega");
        assert_eq!((o.name.as_str(), o.services.len()), ("Giulia", 2));
        assert!(operator("Marco").services.is_empty());
    }
}
