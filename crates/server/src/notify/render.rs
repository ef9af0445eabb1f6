//! What a queued notification says: Italian text (SMS, WhatsApp inside the
//! 24-hour window), a subject, simple HTML and an `.ics` event (e-mail), the
//! receipt's PDF (e-mail), and the WhatsApp template with its parameters
//! (outside the window), all made from the row's payload — the facts as
//! they were when it was queued.

use fluxion_core::speak;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::Value;

use crate::receipt::{euro, Receipt};
use crate::store::NoticeKind;

/// A message ready for a channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// E.164 number, e-mail address or URL.
    pub recipient: String,
    /// Plain text (SMS, WhatsApp, the e-mail's text part).
    pub text: String,
    /// E-mail subject.
    pub subject: String,
    /// The e-mail's HTML part.
    pub html: String,
    /// An iCalendar event (`.ics`) for booking e-mails.
    pub ics: Option<String>,
    /// A PDF attached to the e-mail, `(file name, bytes)`: the receipt.
    pub pdf: Option<(String, Vec<u8>)>,
    /// The WhatsApp template sent outside the 24-hour window.
    pub template: Template,
    /// The idempotency key (e-mail Message-ID, webhook delivery id).
    pub key: String,
    /// For a webhook: `{event, data}`.
    pub event: Option<Value>,
}

/// A WhatsApp message template (approved by Meta beforehand): its kind and
/// body parameters; the name comes from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Which notice.
    pub kind: NoticeKind,
    /// Body parameters `{{1}}`, `{{2}}`, … in order.
    pub params: Vec<String>,
}

/// The appointment facts of a booking payload.
struct Facts<'a> {
    client: &'a str,
    service: &'a str,
    operator: &'a str,
    business: &'a str,
    address: &'a str,
    business_phone: &'a str,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    tz: TimeZone,
}

impl<'a> Facts<'a> {
    fn of(p: &'a Value) -> Self {
        let s = |k: &str| p[k].as_str().unwrap_or("");
        Facts {
            client: p["client_name"].as_str().unwrap_or(""),
            service: p["service"].as_str().unwrap_or(""),
            operator: p["operator"].as_str().unwrap_or(""),
            business: p["business"].as_str().unwrap_or(""),
            address: p["address"].as_str().unwrap_or(""),
            business_phone: p["business_phone"].as_str().unwrap_or(""),
            start: s("start_utc").parse().ok(),
            end: s("end_utc").parse().ok(),
            tz: TimeZone::get(s("timezone")).unwrap_or_else(|_| TimeZone::get("Europe/Rome").unwrap_or(TimeZone::UTC)),
        }
    }

    /// "giovedì 11 marzo", "15:00".
    fn when(&self) -> (String, String) {
        match self.start {
            Some(t) => {
                let z = t.to_zoned(self.tz.clone());
                (format!("{} {} {}", speak::weekday(z.weekday()), z.day(), speak::month(z.month())), z.strftime("%H:%M").to_string())
            }
            None => (String::new(), String::new()),
        }
    }

    fn greeting(&self) -> String {
        let first = self.client.split_whitespace().next().unwrap_or("");
        if first.is_empty() || first == "Cliente" {
            "Gentile cliente".to_string()
        } else {
            format!("Gentile {first}")
        }
    }
}

/// Renders `kind` with `payload` for `recipient`. `reply_cancel`: the
/// channel can take the answer "ANNULLA" (WhatsApp, SMS).
pub fn render(kind: NoticeKind, payload: &Value, recipient: &str, key: &str, reply_cancel: bool) -> Outgoing {
    let f = Facts::of(payload);
    let receipt = (kind == NoticeKind::Receipt).then(|| serde_json::from_value::<Receipt>(payload.clone()).ok()).flatten();
    let (day, time) = f.when();
    let with = if f.operator.is_empty() { String::new() } else { format!(" con {}", f.operator) };
    let (subject, body) = match kind {
        NoticeKind::BookingConfirmed => (
            format!("Prenotazione confermata: {} {day} alle {time}", f.service),
            format!("{}, confermiamo il suo appuntamento per {}{with} {day} alle {time}.", f.greeting(), f.service),
        ),
        NoticeKind::BookingChanged => (
            format!("Appuntamento spostato: {day} alle {time}"),
            format!("{}, il suo appuntamento per {}{with} è stato spostato a {day} alle {time}.", f.greeting(), f.service),
        ),
        NoticeKind::BookingCancelled => (
            format!("Appuntamento disdetto: {day} alle {time}"),
            format!("{}, il suo appuntamento per {} di {day} alle {time} è stato disdetto.", f.greeting(), f.service),
        ),
        NoticeKind::Reminder => {
            let tail = if reply_cancel { " Se non può venire, risponda ANNULLA per disdire." } else { "" };
            (
                format!("Promemoria: {} {day} alle {time}", f.service),
                format!("{}, le ricordiamo l'appuntamento per {}{with} {day} alle {time}.{tail}", f.greeting(), f.service),
            )
        }
        NoticeKind::CallbackRequested => {
            let who = payload["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("Un cliente");
            let phone = payload["phone"].as_str().unwrap_or("numero non disponibile");
            let reason = payload["reason"].as_str().filter(|r| !r.is_empty()).map(|r| format!(" Motivo: {r}.")).unwrap_or_default();
            (format!("Richiesta di richiamata: {who}"), format!("{who} chiede di essere richiamato al {phone}.{reason}"))
        }
        NoticeKind::Event => {
            let event = payload["event"].as_str().unwrap_or("event");
            (format!("Fluxion: {event}"), payload.to_string())
        }
        NoticeKind::LoyaltyReward => {
            let reward = payload["reward_text"].as_str().unwrap_or("un premio");
            let points = payload["points"].as_i64().unwrap_or(0);
            (
                format!("Premio fedeltà: {reward}"),
                format!("{}, grazie della visita! Ha raggiunto {points} punti fedeltà e ha diritto a: {reward}.", f.greeting()),
            )
        }
        NoticeKind::Receipt => {
            let (title, services, total) = match &receipt {
                Some(r) => (
                    format!("{} n. {}", r.kind.title(), r.appointment_id),
                    r.lines.iter().map(|l| l.description.as_str()).collect::<Vec<_>>().join(", "),
                    euro(r.total_cents()),
                ),
                None => ("Ricevuta".to_string(), String::new(), String::new()),
            };
            (
                format!("{title}{}", if f.business.is_empty() { String::new() } else { format!(" - {}", f.business) }),
                format!(
                    "{}, in allegato la {} del lavoro svolto ({services}): totale {total}, IVA inclusa. Documento non fiscale.",
                    f.greeting(),
                    title.to_lowercase()
                ),
            )
        }
        NoticeKind::Message => {
            let subject = payload["subject"].as_str().filter(|s| !s.trim().is_empty()).map(str::to_string);
            let subject = subject.unwrap_or_else(|| match f.business {
                "" => "Messaggio".to_string(),
                b => format!("Messaggio da {b}"),
            });
            (subject, payload["text"].as_str().unwrap_or("").to_string())
        }
    };
    let signature = if f.business.is_empty() { String::new() } else { format!("\n{}", f.business) };
    let contact = [f.address, f.business_phone].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" · ");
    let text = if kind.to_client() { format!("{body}{signature}") } else { body.clone() };
    let html = format!(
        "<!doctype html><html lang=\"it\"><body><p>{}</p>{}{}</body></html>",
        escape(&body),
        if f.business.is_empty() { String::new() } else { format!("<p><strong>{}</strong></p>", escape(f.business)) },
        if contact.is_empty() { String::new() } else { format!("<p>{}</p>", escape(&contact)) },
    );
    let ics = match kind {
        NoticeKind::BookingConfirmed | NoticeKind::BookingChanged | NoticeKind::BookingCancelled | NoticeKind::Reminder => {
            ics(&f, payload["appointment_id"].as_i64().unwrap_or(0), kind == NoticeKind::BookingCancelled)
        }
        _ => None,
    };
    let params = match kind {
        NoticeKind::CallbackRequested | NoticeKind::Event | NoticeKind::Receipt | NoticeKind::Message => vec![body],
        NoticeKind::LoyaltyReward => vec![
            f.greeting().trim_start_matches("Gentile ").to_string(),
            payload["reward_text"].as_str().unwrap_or_default().to_string(),
            payload["points"].as_i64().unwrap_or(0).to_string(),
        ],
        _ => vec![f.greeting().trim_start_matches("Gentile ").to_string(), f.service.to_string(), day, time],
    };
    Outgoing {
        recipient: recipient.to_string(),
        text,
        subject,
        html,
        ics,
        pdf: receipt.map(|r| (r.file_name(), r.pdf())),
        template: Template { kind, params },
        key: key.to_string(),
        event: (kind == NoticeKind::Event).then(|| payload.clone()),
    }
}

/// An iCalendar (RFC 5545) event for the appointment; `METHOD:CANCEL` for a
/// cancellation. `None` without start and end.
fn ics(f: &Facts<'_>, appointment_id: i64, cancelled: bool) -> Option<String> {
    let (start, end) = (f.start?, f.end?);
    let stamp = |t: Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
    let (method, status) = if cancelled { ("CANCEL", "CANCELLED") } else { ("REQUEST", "CONFIRMED") };
    let summary = if f.business.is_empty() { f.service.to_string() } else { format!("{} - {}", f.service, f.business) };
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".to_string(),
        "PRODID:-//Fluxion//Notifiche//IT".to_string(),
        format!("METHOD:{method}"),
        "BEGIN:VEVENT".to_string(),
        format!("UID:appointment-{appointment_id}@fluxion"),
        format!("DTSTAMP:{}", stamp(Timestamp::now())),
        format!("DTSTART:{}", stamp(start)),
        format!("DTEND:{}", stamp(end)),
        format!("SUMMARY:{}", ics_text(&summary)),
        format!("LOCATION:{}", ics_text(f.address)),
        format!("STATUS:{status}"),
        "END:VEVENT".to_string(),
        "END:VCALENDAR".to_string(),
    ];
    Some(lines.join("\r\n") + "\r\n")
}

/// Escapes text for an iCalendar value.
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload() -> Value {
        json!({"appointment_id": 7, "client_name": "Sara Bianchi", "service": "Taglio donna", "operator": "Giulia",
               "start_utc": "2027-03-11T14:00:00Z", "end_utc": "2027-03-11T14:45:00Z", "business": "Salone <Bella>",
               "timezone": "Europe/Rome", "address": "Via Roma 1, Milano", "business_phone": "+390212345678"})
    }

    #[test]
    fn booking_texts_in_the_business_time_zone() {
        let o = render(NoticeKind::BookingConfirmed, &payload(), "+393471110000", "k", false);
        assert!(
            o.text.contains("Gentile Sara, confermiamo il suo appuntamento per Taglio donna con Giulia giovedì 11 marzo alle 15:00."),
            "{}",
            o.text
        );
        assert!(o.html.contains("Salone &lt;Bella&gt;"), "{}", o.html);
        let ics = o.ics.expect("ics");
        assert!(ics.contains("DTSTART:20270311T140000Z\r\n") && ics.contains("LOCATION:Via Roma 1\\, Milano"), "{ics}");
        assert_eq!(o.template.params, vec!["Sara", "Taglio donna", "giovedì 11 marzo", "15:00"]);
        let r = render(NoticeKind::Reminder, &payload(), "+393471110000", "k", true);
        assert!(r.text.contains("risponda ANNULLA"), "{}", r.text);
        let c = render(NoticeKind::BookingCancelled, &payload(), "a@b.it", "k", false);
        assert!(c.ics.expect("ics").contains("METHOD:CANCEL"));
    }

    #[test]
    fn a_reward_and_a_receipt_with_its_pdf() {
        let mut p = payload();
        p["reward_text"] = json!("una piega in omaggio");
        p["points"] = json!(10);
        let r = render(NoticeKind::LoyaltyReward, &p, "+393471110000", "loyalty:7", false);
        assert!(r.text.contains("Gentile Sara") && r.text.contains("10 punti") && r.text.contains("una piega in omaggio"), "{}", r.text);
        assert_eq!(r.template.params, vec!["Sara", "una piega in omaggio", "10"]);
        assert!(r.pdf.is_none() && r.ics.is_none());
        let receipt = json!({"kind": "receipt", "appointment_id": 7, "business": "Officina Rossi", "address": "Via Po 2",
                             "business_phone": "+390111234567", "client_name": "Sara Bianchi", "start_utc": "2027-03-11T08:00:00Z",
                             "timezone": "Europe/Rome", "lines": [{"description": "Tagliando", "price_cents": 18_000}]});
        let o = render(NoticeKind::Receipt, &receipt, "sara@example.it", "receipt:7", false);
        assert_eq!(o.subject, "Ricevuta n. 7 - Officina Rossi");
        assert!(o.text.contains("Gentile Sara, in allegato la ricevuta n. 7 del lavoro svolto (Tagliando): totale € 180,00"), "{}", o.text);
        let (name, bytes) = o.pdf.expect("pdf");
        assert_eq!(name, "ricevuta-7.pdf");
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
