//! Requests mixed with questions in one turn: a price question is not a
//! booking, opening hours asked with a request keep the request, a thing
//! the business does not offer gets the list of services, and "il giorno
//! dopo" in a reschedule request counts from the appointment moved.

use jiff::civil::datetime;

use super::tests::{client, harness_with, said, service, Harness};
use super::*;
use crate::booking::{AppointmentStatus, Channel, Operator};

fn salon() -> Harness {
    let mut colore = service(5, "Colore", &["tinta"]);
    colore.duration_min = 90;
    colore.price_cents = 4500;
    let services = vec![
        service(1, "Taglio donna", &["taglio"]),
        service(4, "Piega", &["messa in piega"]),
        colore,
        service(7, "Pulizia viso", &["pulizia del viso"]),
        service(8, "Trattamento viso antietà", &["trattamento viso", "antirughe"]),
    ];
    let op = |id, name: &str, s: &[Id]| Operator { id, name: name.into(), service_ids: s.to_vec(), hours: vec![], absences: vec![] };
    harness_with(services, vec![op(1, "Giulia", &[1, 4, 5, 7, 8])])
}

fn finds(a: &[Action]) -> Option<(Id, Wanted)> {
    a.iter().find_map(|x| match x {
        Action::FindSlots { service_id, wanted, .. } => Some((*service_id, *wanted)),
        _ => None,
    })
}

#[test]
fn a_price_question_with_a_request_word_is_not_a_booking() {
    let mut h = salon();
    let a = h.say("vorrei avere un'idea della spesa per il colore");
    assert!(said(&a).contains("il colore costa quarantacinque euro"), "{a:?}");
    assert_eq!(finds(&a), None, "{a:?}");
    let a = h.say("e quanto ci vuole per una piega?");
    assert!(said(&a).contains("la piega dura"), "{a:?}");
    assert_eq!(finds(&a), None, "{a:?}");
}

#[test]
fn a_price_question_inside_a_booking_request_is_answered_and_the_booking_goes_on() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei prenotare un colore per venerdì alle 15, quanto costa?");
    assert!(said(&a).contains("quarantacinque euro"), "{a:?}");
    assert_eq!(finds(&a), Some((5, Wanted::At(datetime(2027, 3, 12, 15, 0, 0, 0)))), "{a:?}");
}

#[test]
fn opening_hours_asked_with_a_request_keep_the_request() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("Buongiorno, sabato mattina siete aperti? Vorrei fare una piega");
    assert!(said(&a).contains("siamo aperti"), "{a:?}");
    assert!(matches!(finds(&a), Some((4, Wanted::Range(..)))), "{a:?}");
}

#[test]
fn a_thing_not_offered_gets_the_list_of_services() {
    for turn in ["vorrei ordinare una pizza margherita", "buongiorno, fate pizze da asporto?", "vendete biciclette elettriche?"] {
        let mut h = salon();
        let a = h.say(turn);
        assert!(said(&a).contains("non lo facciamo"), "{turn}: {a:?}");
        assert!(said(&a).contains("piega"), "{turn}: {a:?}");
    }
    let mut h = salon();
    let a = h.say("vorrei prenotare per mia figlia");
    assert!(!said(&a).contains("non lo facciamo"), "{a:?}");
}

#[test]
fn a_face_treatment_gets_a_choice() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei fare un trattamento per il viso venerdì pomeriggio");
    assert!(said(&a).contains("pulizia viso"), "{a:?}");
    assert!(said(&a).contains("antietà"), "{a:?}");
    assert_eq!(finds(&a), None, "{a:?}");
    let a = h.say("una pulizia del viso");
    assert!(matches!(finds(&a), Some((7, Wanted::Range(..)))), "{a:?}");
}

#[test]
fn the_day_after_in_a_reschedule_request_counts_from_the_appointment() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("devo spostare il colore di domani al giorno dopo, stessa ora");
    assert!(a.iter().any(|x| matches!(x, Action::ListUpcoming { .. })), "{a:?}");
    let slot = h.slot(datetime(2027, 3, 11, 10, 0, 0, 0), 1, 90);
    let appointment = |id, service_id, s: Slot| Appointment {
        id,
        client_id: 7,
        operator_id: s.operator_id,
        service_id,
        start: s.start,
        end: s.end,
        status: AppointmentStatus::Booked,
        channel: Channel::Voice,
    };
    let other = h.slot(datetime(2027, 3, 13, 9, 0, 0, 0), 1, 30);
    let a = h.feed(Outcome::Upcoming(vec![appointment(1, 5, slot), appointment(2, 4, other)]));
    assert_eq!(finds(&a), Some((5, Wanted::At(datetime(2027, 3, 12, 10, 0, 0, 0)))), "{a:?}");
}
