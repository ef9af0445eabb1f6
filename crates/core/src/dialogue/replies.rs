//! The Italian the receptionist speaks: fixed phrases and replies built from
//! the business's data. Short sentences that read well on the phone, numbers
//! in words.

use jiff::civil::{Date, Weekday};

use super::BusinessInfo;
use crate::booking::{holidays, Gender, Service, TimeRange, Vertical};
use crate::history::RequestKind;
use crate::speak;
use crate::text::capitalize;

pub const EMERGENCY: &str = "Se si tratta di un'emergenza, chiami subito il 118 o si rechi al pronto soccorso più vicino.";
pub const AFTER_EMERGENCY: &str = "Se invece non è urgente e vuole fissare una visita, me lo dica pure.";
pub const GOODBYE: &str = "Grazie a lei e buona giornata!";
pub const HUMAN: &str = "Certo, la passo a un collega. Se non risponde nessuno, la richiamiamo appena possibile.";
pub const HUMAN_NOT_RECORDED: &str = "Certo, la passo a un collega. Se non risponde nessuno, la prego di richiamare più tardi.";
pub const NOT_RECORDED: &str =
    "Mi scusi, per un problema tecnico non sono riuscita a registrare la richiesta. La prego di richiamare più tardi.";
pub const ASK_COMPLAINT_REASON: &str = "Mi dispiace. Mi dice in breve che cosa è successo?";
pub const ASK_NAME_FOR_REQUEST: &str = "Mi dice il suo nome e cognome, per favore?";
pub const ASK_PHONE_FOR_REQUEST: &str = "A quale numero di telefono la possiamo richiamare?";
pub const REQUEST_DROPPED: &str = "Va bene, non registro nulla. Posso aiutarla in qualcos'altro?";
pub const PHONE_WAY_OUT: &str =
    "Mi scusi, non riesco a capire il numero. Se preferisce, dica «operatore» e la passo a un collega; altrimenti, me lo può dire una cifra alla volta?";
pub const PHONE_GIVE_UP: &str = "Mi scusi, non riesco proprio a capire il numero. La passo a un collega.";
pub const ANYTHING_ELSE: &str = "Posso aiutarla in qualcos'altro?";
pub const HOW_CAN_I_HELP: &str =
    "Posso prenotare, spostare o cancellare un appuntamento, oppure rispondere alle sue domande. Come posso aiutarla?";
pub const ASK_WHEN: &str = "Per quale giorno e a che ora preferisce?";
pub const ASK_WHEN_AGAIN: &str =
    "Se preferisce, le trovo il primo orario libero; altrimenti, per quale giorno le cerco posto, per esempio domani o giovedì pomeriggio?";
pub const ASK_OTHER_WHEN: &str = "Nessun problema. Quale altro giorno o orario preferisce?";
pub const ASK_NAME: &str = "Mi dice il suo nome e cognome, per favore?";
pub const ASK_NAME_AGAIN: &str = "Scusi, non ho capito il nome. Può ripetere nome e cognome?";
pub const ASK_PHONE: &str = "Mi lascia un numero di telefono?";
pub const ASK_PHONE_AGAIN: &str = "Non ho capito. Può ripetere il numero, cifra per cifra?";
pub const ASK_NAME_ON_BOOKING: &str = "Per sicurezza, mi dice il nome e cognome a cui è intestata la prenotazione?";
pub const NAME_DOES_NOT_MATCH: &str =
    "Mi dispiace, il nome non corrisponde a quello della prenotazione, quindi non posso darle informazioni. Posso aiutarla in altro modo?";
pub const ASK_PHONE_FOR_LOOKUP: &str = "Mi dice il numero di telefono con cui ha prenotato?";
pub const CHOOSE_AGAIN: &str = "Mi scusi, quale orario preferisce tra quelli che le ho detto, per esempio la prima?";
pub const CHOOSE_APPOINTMENT_AGAIN: &str = "Mi scusi, quale appuntamento intende, per esempio il primo?";
pub const KEPT: &str = "Va bene, l'appuntamento resta confermato. Posso aiutarla in qualcos'altro?";
pub const WHAT_TO_CHANGE: &str = "D'accordo. Quale giorno o orario preferisce?";
pub const CONFIRM_AGAIN: &str = "Scusi, non ho capito: mi conferma, sì o no?";
pub const GUIDED_BOOK: &str = "Proviamo così: desidera prenotare un appuntamento, sì o no?";
pub const GUIDED_MENU: &str =
    "Posso spostare o cancellare un appuntamento, dirle orari e prezzi, o farla richiamare da un collega. Cosa preferisce?";
pub const WAITLISTED: &str = "Fatto: è in lista d'attesa, la contatteremo appena si libera un posto.";
pub const NO_CLIENT: &str = "Non trovo clienti con questo numero. Può verificare il numero, oppure posso prenotare un nuovo appuntamento.";
pub const NO_APPOINTMENTS: &str = "Non trovo appuntamenti in programma a suo nome. Posso aiutarla in altro modo?";
pub const NO_HISTORY: &str = "Non trovo appuntamenti passati a suo nome.";
pub const NOT_UNDERSTOOD: &str = "Mi scusi, non ho capito. Può ripetere con altre parole?";
pub const NOT_UNDERSTOOD_IN_FLOW: &str = "Mi scusi, non ho capito. Può ripetere?";
pub const SLOT_JUST_TAKEN: &str = "Mi dispiace, quell'orario è appena stato occupato.";
pub const TECHNICAL_PROBLEM: &str = "Mi scusi, ho avuto un problema tecnico e non sono riuscita a registrare. Vuole che riprovi?";
pub const NOTHING_FREE: &str = "Mi dispiace, non trovo posti liberi in quel periodo. Vuole che la metta in lista d'attesa?";

/// "Buongiorno Mario, …" for a known caller; otherwise the owner's greeting
/// ([`BusinessInfo::greeting`]) or the plain business greeting.
pub fn greeting(info: &BusinessInfo, first_name: Option<&str>) -> String {
    match (first_name, &info.greeting) {
        (Some(n), _) => format!("Buongiorno {n}, che piacere risentirla! Qui {}, come posso aiutarla?", info.business.name),
        (None, Some(custom)) => custom.clone(),
        (None, None) => format!("Buongiorno, {}. Come posso aiutarla?", info.business.name),
    }
}

/// "a, b o c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} o {last}", init.join(", ")),
    }
}

/// "a, b e c".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} e {last}", init.join(", ")),
    }
}

/// "Facciamo taglio donna, piega, colore…. Per quale servizio desidera l'appuntamento?"
pub fn ask_service(info: &BusinessInfo) -> String {
    format!("Facciamo {}. Per quale servizio desidera l'appuntamento?", services_list(info))
}

/// What to say when the service asked for is not offered.
pub fn unknown_service(info: &BusinessInfo) -> String {
    format!("Mi dispiace, questo servizio non lo facciamo. Da noi può prenotare {}: quale servizio desidera?", services_list(info))
}

/// What is offered, short: services sharing their first word said once
/// ("taglio donna, uomo o bambino"), at most six groups.
fn services_list(info: &BusinessInfo) -> String {
    let mut groups: Vec<(String, Vec<&Service>)> = Vec::new();
    for s in &info.services {
        let head = crate::text::fold(s.name.split_whitespace().next().unwrap_or(""));
        match groups.iter_mut().find(|g| g.0 == head) {
            Some(g) => g.1.push(s),
            None => groups.push((head, vec![s])),
        }
    }
    let shown: Vec<String> = groups.iter().take(6).map(|(_, g)| group_names(g, false)).collect();
    let sep = if shown.iter().any(|g| g.contains(',') || g.contains(" o ")) { "; " } else { ", " };
    let more = if groups.len() > 6 { " e altro ancora" } else { "" };
    format!("{}{more}", shown.join(sep))
}

/// Names of services sharing their first word, said once: "taglio donna,
/// uomo o bambino"; with `article`, "il taglio donna, uomo o bambino".
/// Services with other first words are listed in full.
fn group_names(group: &[&Service], article: bool) -> String {
    let name = |s: &Service| if article { with_article(s) } else { s.name.to_lowercase() };
    let Some(first) = group.first() else { return String::new() };
    let head = first.name.split_whitespace().next().unwrap_or("").to_lowercase();
    let tails: Option<Vec<String>> = group
        .iter()
        .map(|s| {
            let lower = s.name.to_lowercase();
            lower.strip_prefix(&head).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
        })
        .collect();
    match tails {
        Some(t) if group.len() > 1 => {
            let full = name(*first);
            let lead = full.strip_suffix(t[0].as_str()).unwrap_or(&full).trim_end().to_string();
            format!("{lead} {}", list(&t))
        }
        _ => list(&group.iter().map(|s| name(*s)).collect::<Vec<_>>()),
    }
}

/// The question for a vague mention: "Abbiamo il taglio donna, uomo o
/// bambino: quale desidera?"; for a single candidate "Intende il
/// trattamento viso antietà, o un altro servizio?".
pub fn choose_service(among: &[&Service]) -> String {
    match among {
        [] => "Per quale servizio?".to_string(),
        [one] => format!("Intende {}, o un altro servizio?", with_article(one)),
        _ => {
            let head = |s: &Service| crate::text::fold(s.name.split_whitespace().next().unwrap_or(""));
            let same_head = among.iter().all(|s| head(*s) == head(among[0]));
            let text = if same_head { group_names(among, true) } else { list(&among.iter().map(|s| with_article(s)).collect::<Vec<_>>()) };
            format!("Abbiamo {text}: quale desidera?")
        }
    }
}

/// Who performs a service: "Giulia, Francesca e Davide".
pub fn operator_list(info: &BusinessInfo, service_id: crate::booking::Id) -> String {
    let names: Vec<String> = info.operators.iter().filter(|o| o.service_ids.contains(&service_id)).map(|o| o.name.clone()).collect();
    and_list(&names)
}

/// Price and/or duration of services: "Il taglio bambino costa quindici
/// euro e dura mezz'ora."; several: "Il taglio donna costa trentacinque
/// euro, il taglio uomo ventidue euro e il taglio bambino quindici euro."
pub fn service_facts(services: &[&Service], price: bool, duration: bool) -> String {
    let one = services.len() == 1;
    let parts: Vec<String> = services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let verb = |v: &str| if i == 0 || one { format!(" {v} ") } else { " ".to_string() };
            match (price, duration) {
                (true, true) | (false, false) => {
                    format!(
                        "{}{}{} e dura {}",
                        with_article(s),
                        verb("costa"),
                        speak::price(s.price_cents),
                        speak::duration(s.duration_min)
                    )
                }
                (true, false) => format!("{}{}{}", with_article(s), verb("costa"), speak::price(s.price_cents)),
                (false, true) => format!("{}{}{}", with_article(s), verb("dura"), speak::duration(s.duration_min)),
            }
        })
        .collect();
    format!("{}.", capitalize(&and_list(&parts)))
}

/// A request that belongs to another kind of business.
pub fn foreign_vertical(info: &BusinessInfo, v: Vertical) -> String {
    let what = match v {
        Vertical::Salone => "un parrucchiere",
        Vertical::Wellness => "un centro benessere",
        Vertical::Medical => "uno studio medico",
        Vertical::Auto => "un'officina",
    };
    format!(
        "Mi dispiace, {} non se ne occupa: per questo deve rivolgersi a {what}. Da noi può prenotare {}.",
        info.business.name,
        services_list(info)
    )
}

/// The address.
pub fn address(info: &BusinessInfo) -> String {
    format!("Ci trova in {}.", info.business.address)
}

/// A price, or a short price list when no service was named.
pub fn price(info: &BusinessInfo, service: Option<&Service>) -> String {
    match service {
        Some(s) => service_facts(&[s], true, true),
        None => {
            let items: Vec<String> =
                info.services.iter().take(4).map(|s| format!("{} {}", s.name.to_lowercase(), speak::price(s.price_cents))).collect();
            format!("Qualche prezzo: {}. Per quale servizio le interessa il prezzo?", items.join(", "))
        }
    }
}

fn ranges_text(ranges: &[TimeRange]) -> String {
    let parts: Vec<String> = ranges.iter().map(|r| format!("dalle {} alle {}", speak::time(r.start), speak::time(r.end))).collect();
    parts.join(" e ")
}

fn day_ranges(info: &BusinessInfo, w: Weekday) -> Vec<TimeRange> {
    let mut r: Vec<TimeRange> = info.business.hours.iter().filter(|h| h.weekday == w).map(|h| h.range).collect();
    r.sort_by_key(|x| x.start);
    r
}

/// Opening hours: of one day when `day` is given (holidays and closures
/// included), otherwise the week grouped by equal hours.
pub fn opening_hours(info: &BusinessInfo, day: Option<Date>, today: Date) -> String {
    if let Some(d) = day {
        let when = speak::date(d, today);
        if info.business.rules.closed_on_public_holidays {
            if let Some(h) = holidays::italian_public_holiday(d) {
                return format!("{} siamo chiusi per {}.", capitalize(&when), holidays::said(h));
            }
        }
        if let Some(c) = info.business.closures.iter().find(|c| c.from <= d && d <= c.to && c.range.is_none()) {
            return format!("{} siamo chiusi ({}).", capitalize(&when), c.reason.to_lowercase());
        }
        let r = day_ranges(info, d.weekday());
        return if r.is_empty() {
            format!("{} siamo chiusi.", capitalize(&when))
        } else {
            format!("{} siamo aperti {}.", capitalize(&when), ranges_text(&r))
        };
    }
    let days =
        [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday, Weekday::Sunday];
    // Group consecutive weekdays with the same hours.
    let mut groups: Vec<(Weekday, Weekday, Vec<TimeRange>)> = Vec::new();
    for w in days {
        let r = day_ranges(info, w);
        if r.is_empty() {
            continue;
        }
        match groups.last_mut() {
            Some((_, last, rr)) if *rr == r && last.next() == w => *last = w,
            _ => groups.push((w, w, r)),
        }
    }
    if groups.is_empty() {
        return "Al momento non ho orari di apertura da comunicarle.".to_string();
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(a, b, r)| {
            if a == b {
                format!("il {} {}", speak::weekday(*a), ranges_text(r))
            } else {
                format!("dal {} al {} {}", speak::weekday(*a), speak::weekday(*b), ranges_text(r))
            }
        })
        .collect();
    format!("Siamo aperti {}.", parts.join("; "))
}

/// The business's facts as plain Italian text for a language model's system
/// prompt: name, address, phone, opening hours, services (price, duration,
/// who performs them).
pub fn business_facts(info: &BusinessInfo, today: Date) -> String {
    let b = &info.business;
    let mut out = format!("Attività: {}. Indirizzo: {}. Telefono: {}.\n", b.name, b.address, b.phone);
    out.push_str(&opening_hours(info, None, today));
    out.push_str("\nServizi:\n");
    for s in &info.services {
        let ops: Vec<&str> = info.operators.iter().filter(|o| o.service_ids.contains(&s.id)).map(|o| o.name.as_str()).collect();
        out.push_str(&format!("- {}: {} euro, {} minuti, con {}\n", s.name, s.price_cents as f64 / 100.0, s.duration_min, ops.join(", ")));
    }
    out
}

/// A phone number read digit by digit in groups: "tre quattro sette, uno due tre, …".
pub fn phone(e164: &str) -> String {
    let national = e164.strip_prefix("+39").unwrap_or(e164);
    let digits: Vec<String> = national.chars().filter_map(|c| c.to_digit(10)).map(|d| speak::number(i64::from(d))).collect();
    let groups: Vec<String> = digits.chunks(3).map(|g| g.join(" ")).collect();
    groups.join(", ")
}

/// The read-back of a request for the owner, ending with a yes/no question.
pub fn request_read_back(kind: RequestKind, name: &str, phone_e164: &str) -> String {
    let number = phone(phone_e164);
    match kind {
        RequestKind::Callback => format!("La facciamo richiamare al numero {number}, a nome di {name}. Confermo la richiesta?"),
        RequestKind::Complaint => {
            format!("Registro il suo reclamo: il responsabile la richiamerà al numero {number}, a nome di {name}. Confermo la richiesta?")
        }
        RequestKind::Privacy => format!(
            "Registro la sua richiesta sui dati personali, a nome di {name}: il titolare la contatterà al numero {number}. Confermo la richiesta?"
        ),
    }
}

/// What to say once a request for the owner is recorded.
pub fn request_recorded(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Callback => "Fatto: ho registrato la richiesta, la richiameremo appena possibile.",
        RequestKind::Complaint => "Fatto: ho registrato il reclamo, il responsabile la richiamerà al più presto.",
        RequestKind::Privacy => "Fatto: ho registrato la richiesta, il titolare la contatterà per darle seguito.",
    }
}

/// The grammatical gender of a service's name: the owner's setting when
/// given, otherwise read from the first word's ending ("piega", "revisione",
/// "manicure", "diagnosi" are feminine; "taglio", "elettrocardiogramma" are
/// masculine).
pub fn gender(service: &Service) -> Gender {
    if let Some(g) = service.gender {
        return g;
    }
    let first = crate::text::fold(service.name.split_whitespace().next().unwrap_or(""));
    let feminine = (first.ends_with('a') && !first.ends_with("amma") && !first.ends_with("ema"))
        || ["zione", "sione", "ure", "osi", "ite", "ente", "ches"].iter().any(|e| first.ends_with(e));
    if feminine {
        Gender::Feminine
    } else {
        Gender::Masculine
    }
}

/// A service's name with its definite article: "la piega", "l'ecografia
/// addominale", "il taglio donna", "lo shampoo", "le meches", "gli
/// occhiali", "i baffi".
pub fn with_article(service: &Service) -> String {
    let name = service.name.to_lowercase();
    format!("{}{name}", article(service))
}

/// The definite article of a service's name, with its trailing space or
/// apostrophe: "il ", "lo ", "l'", "la ", "i ", "gli ", "le ".
fn article(service: &Service) -> &'static str {
    let folded = crate::text::fold(&service.name);
    let first = folded.split_whitespace().next().unwrap_or("");
    let vowel = folded.starts_with(['a', 'e', 'i', 'o', 'u', 'h']);
    let impure = (folded.starts_with('s') && !folded[1..].starts_with(['a', 'e', 'i', 'o', 'u']))
        || folded.starts_with(['z', 'x', 'y'])
        || ["gn", "ps", "pn"].iter().any(|p| folded.starts_with(p));
    let gender = gender(service);
    // Masculine plurals end in -i ("occhiali"; not "analisi", "diagnosi");
    // "meches" is a feminine plural.
    let plural = match gender {
        Gender::Masculine => first.len() > 3 && first.ends_with('i') && !first.ends_with("si"),
        Gender::Feminine => first.ends_with("ches") || (first.ends_with("ie") && first.len() > 5),
    };
    match (gender, plural) {
        (Gender::Feminine, true) => "le ",
        (Gender::Feminine, false) if vowel => "l'",
        (Gender::Feminine, false) => "la ",
        (Gender::Masculine, true) if vowel || impure => "gli ",
        (Gender::Masculine, true) => "i ",
        (Gender::Masculine, false) if vowel => "l'",
        (Gender::Masculine, false) if impure => "lo ",
        (Gender::Masculine, false) => "il ",
    }
}

/// A preposition joined to the service's article: ("di", piega) → "della
/// piega", ("di", colore) → "del colore", ("a", ecografia) →
/// "all'ecografia". Prepositions other than di, a, da, in, su are put
/// before the article as they are ("con la piega").
pub fn with_preposition(prep: &str, service: &Service) -> String {
    let name = service.name.to_lowercase();
    let stem = match prep {
        "di" => "de",
        "a" => "a",
        "da" => "da",
        "in" => "ne",
        "su" => "su",
        other => return format!("{other} {}{name}", article(service)),
    };
    let joined = match article(service) {
        "il " => format!("{stem}l "),
        "lo " => format!("{stem}llo "),
        "l'" => format!("{stem}ll'"),
        "la " => format!("{stem}lla "),
        "i " => format!("{stem}i "),
        "gli " => format!("{stem}gli "),
        _ => format!("{stem}lle "),
    };
    format!("{joined}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixed reply asks at most one question, and asks it last.
    #[test]
    fn fixed_replies_ask_one_question_last() {
        for r in [
            EMERGENCY,
            AFTER_EMERGENCY,
            GOODBYE,
            HUMAN,
            HUMAN_NOT_RECORDED,
            NOT_RECORDED,
            ASK_COMPLAINT_REASON,
            ASK_NAME_FOR_REQUEST,
            ASK_PHONE_FOR_REQUEST,
            REQUEST_DROPPED,
            PHONE_WAY_OUT,
            PHONE_GIVE_UP,
            ANYTHING_ELSE,
            HOW_CAN_I_HELP,
            ASK_WHEN,
            ASK_WHEN_AGAIN,
            ASK_OTHER_WHEN,
            ASK_NAME,
            ASK_NAME_AGAIN,
            ASK_PHONE,
            ASK_PHONE_AGAIN,
            ASK_NAME_ON_BOOKING,
            NAME_DOES_NOT_MATCH,
            ASK_PHONE_FOR_LOOKUP,
            CHOOSE_AGAIN,
            CHOOSE_APPOINTMENT_AGAIN,
            KEPT,
            WHAT_TO_CHANGE,
            CONFIRM_AGAIN,
            GUIDED_BOOK,
            GUIDED_MENU,
            WAITLISTED,
            NO_CLIENT,
            NO_APPOINTMENTS,
            NO_HISTORY,
            NOT_UNDERSTOOD,
            NOT_UNDERSTOOD_IN_FLOW,
            SLOT_JUST_TAKEN,
            TECHNICAL_PROBLEM,
            NOTHING_FREE,
        ] {
            let questions = r.matches('?').count();
            assert!(questions <= 1, "{r}");
            assert!(questions == 0 || r.ends_with('?'), "{r}");
        }
    }
}
