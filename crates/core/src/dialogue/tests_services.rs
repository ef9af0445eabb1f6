//! Services, operators and the Italian of the replies: several services in
//! one request, vague mentions and the caller's choice, unknown services,
//! price of one variant, operators asked for, relative days, offers in
//! order, articles.

use jiff::civil::datetime;

use super::tests::{client, harness_with, said, service, Harness};
use super::*;
use crate::booking::{Operator, Service};

fn salon() -> Harness {
    let mut bambino = service(3, "Taglio bambino", &["taglio bimbo"]);
    bambino.price_cents = 1500;
    let mut donna = service(1, "Taglio donna", &["taglio"]);
    donna.price_cents = 3500;
    let mut colore = service(5, "Colore", &["tinta"]);
    colore.duration_min = 90;
    let services = vec![
        donna,
        service(2, "Taglio uomo", &["taglio da uomo", "taglio maschile"]),
        bambino,
        service(4, "Piega", &["messa in piega"]),
        colore,
        service(6, "Barba", &[]),
    ];
    let op = |id, name: &str, s: &[Id]| Operator { id, name: name.into(), service_ids: s.to_vec(), hours: vec![], absences: vec![] };
    let operators = vec![op(1, "Giulia", &[1, 3, 4, 5]), op(2, "Luca", &[2, 3, 6]), op(3, "Francesca", &[4, 5])];
    harness_with(services, operators)
}

fn finds(a: &[Action]) -> Option<(Vec<Id>, Option<Id>, Wanted)> {
    a.iter().find_map(|x| match x {
        Action::FindSlots { service_id, operator_id, wanted, .. } => Some((vec![*service_id], *operator_id, *wanted)),
        Action::FindPackages { service_ids, operator_id, wanted, .. } => Some((service_ids.clone(), *operator_id, *wanted)),
        _ => None,
    })
}

#[test]
fn two_services_are_searched_read_back_and_booked_together() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei fare tinta e piega sabato alle 15");
    assert_eq!(finds(&a), Some((vec![5, 4], None, Wanted::At(datetime(2027, 3, 13, 15, 0, 0, 0)))), "{a:?}");
    let colore = h.slot(datetime(2027, 3, 13, 15, 0, 0, 0), 3, 90);
    let piega = h.slot(datetime(2027, 3, 13, 16, 30, 0, 0), 3, 30);
    let a = h.feed(Outcome::Packages { packages: vec![vec![colore, piega]], exact: true, reason: None });
    assert!(said(&a).contains("il colore e la piega sabato tredici marzo alle quindici con francesca"), "{a:?}");
    let a = h.say("sì");
    assert!(matches!(a.as_slice(), [Action::Book { service_id: 5, .. }]), "{a:?}");
    let appointment = |id, service_id, s: Slot| Appointment {
        id,
        client_id: 7,
        operator_id: s.operator_id,
        service_id,
        start: s.start,
        end: s.end,
        status: crate::booking::AppointmentStatus::Booked,
        channel: crate::booking::Channel::Voice,
    };
    let a = h.feed(Outcome::Booked(Ok((appointment(1, 5, colore), client()))));
    assert!(matches!(a.as_slice(), [Action::Book { service_id: 4, slot, .. }] if *slot == piega), "{a:?}");
    let a = h.feed(Outcome::Booked(Ok((appointment(2, 4, piega), client()))));
    assert!(said(&a).contains("ho prenotato il colore e la piega"), "{a:?}");
}

#[test]
fn a_vague_service_gets_a_choice_and_the_answer_is_understood() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei un taglio domani alle 10");
    assert!(said(&a).contains("il taglio donna, uomo o bambino: quale desidera?"), "{a:?}");
    assert_eq!(finds(&a), None);
    let a = h.say("quello da uomo");
    assert_eq!(finds(&a), Some((vec![2], None, Wanted::At(datetime(2027, 3, 11, 10, 0, 0, 0)))), "{a:?}");

    let mut h = salon();
    h.say("un taglio e la barba domani alle 10");
    let a = h.say("il secondo");
    assert_eq!(finds(&a).map(|f| f.0), Some(vec![2, 6]), "{a:?}");

    let mut h = salon();
    h.say("vorrei prenotare un taglio");
    let a = h.say("per il bimbo");
    assert!(said(&a).contains("giorno"), "{a:?}");
}

#[test]
fn price_of_one_variant_and_of_a_vague_service() {
    let mut h = salon();
    let a = said(&h.say("quanto costa il taglio bambino?"));
    assert!(a.contains("il taglio bambino costa quindici euro"), "{a}");
    assert!(!a.contains("trentacinque"), "{a}");
    let a = said(&h.say("quanto costa un taglio?"));
    assert!(a.contains("il taglio donna costa trentacinque euro") && a.contains("il taglio bambino quindici euro"), "{a}");
    let a = said(&h.say("quanto dura il colore?"));
    assert!(a.contains("il colore dura un'ora e mezza"), "{a}");
}

#[test]
fn an_unknown_service_gets_the_offer() {
    let mut h = salon();
    let a = said(&h.say("fate la laminazione ciglia?"));
    assert!(a.contains("non lo facciamo") && a.contains("taglio donna, uomo o bambino"), "{a}");
    assert!(a.matches('?').count() == 1, "{a}");
}

#[test]
fn operators_asked_for_and_callers_own_names() {
    let mut h = salon();
    let a = h.say("mi chiamo De Luca Maria, vorrei un taglio donna venerdì alle 16");
    assert_eq!(finds(&a).map(|f| f.1), Some(None), "{a:?}");
    let mut h = salon();
    let a = h.say("sono Giulia Bianchi, vorrei una piega con Francesca sabato alle 9");
    assert_eq!(finds(&a).map(|f| f.1), Some(Some(3)), "{a:?}");
    let mut h = salon();
    let a = said(&h.say("vorrei una barba con Francesca sabato alle 9"));
    assert!(a.contains("francesca non si occupa della barba, che fa luca"), "{a}");
    let mut h = salon();
    let a = h.say("preferirei la dottoressa Bianchi, per una piega sabato alle 9");
    assert!(said(&a).contains("la dottoressa bianchi non lavora da noi"), "{a:?}");
    assert_eq!(finds(&a).map(|f| f.1), Some(None), "{a:?}");
}

#[test]
fn offers_are_chronological_and_name_the_other_operator() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("una piega con Francesca sabato alle 9");
    let slots = vec![
        h.slot(datetime(2027, 3, 13, 11, 0, 0, 0), 3, 30),
        h.slot(datetime(2027, 3, 13, 9, 15, 0, 0), 3, 30),
        h.slot(datetime(2027, 3, 13, 9, 30, 0, 0), 3, 30),
        h.slot(datetime(2027, 3, 13, 9, 0, 0, 0), 1, 30),
    ];
    let reason = Some("Francesca a quell'ora ha già un appuntamento".to_string());
    let a = said(&h.feed(Outcome::Slots { slots, exact: false, reason }));
    assert!(
        a.contains("sabato tredici marzo alle nove non è possibile: francesca a quell'ora ha già un appuntamento. posso proporle con francesca sabato tredici marzo alle nove e un quarto, alle nove e mezza o alle undici, oppure con giulia sabato tredici marzo alle nove. quale preferisce?"),
        "{a}"
    );
    let a = h.say("con Giulia");
    assert!(said(&a).contains("con giulia"), "{a:?}");
}

#[test]
fn the_day_after_is_the_day_after_the_one_discussed() {
    let mut h = salon();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("una piega venerdì alle 10");
    let slot = h.slot(datetime(2027, 3, 12, 10, 0, 0, 0), 1, 30);
    let a = h.feed(Outcome::Slots { slots: vec![slot], exact: true, reason: None });
    assert!(said(&a).contains("confermo"), "{a:?}");
    let a = h.say("no, il giorno dopo");
    assert_eq!(finds(&a).map(|f| f.2), Some(Wanted::At(datetime(2027, 3, 13, 10, 0, 0, 0))), "{a:?}");
}

#[test]
fn articles_and_prepositions_follow_the_noun() {
    let s = |name: &str| service(1, name, &[]);
    let the = |name: &str| replies::with_article(&s(name));
    assert_eq!(the("Piega"), "la piega");
    assert_eq!(the("Ecografia addominale"), "l'ecografia addominale");
    assert_eq!(the("Taglio uomo"), "il taglio uomo");
    assert_eq!(the("Shampoo"), "lo shampoo");
    assert_eq!(the("Occhiali da vista"), "gli occhiali da vista");
    assert_eq!(the("Meches"), "le meches");
    assert_eq!(the("Elettrocardiogramma"), "l'elettrocardiogramma");
    assert_eq!(the("Diagnosi elettronica"), "la diagnosi elettronica");
    assert_eq!(the("Manicure"), "la manicure");
    assert_eq!(replies::with_preposition("di", &s("Colore")), "del colore");
    assert_eq!(replies::with_preposition("di", &s("Piega")), "della piega");
    assert_eq!(replies::with_preposition("a", &s("Ecografia")), "all'ecografia");
    let group: Vec<Service> = ["Massaggio rilassante", "Massaggio decontratturante"].iter().map(|n| s(n)).collect();
    let refs: Vec<&Service> = group.iter().collect();
    assert_eq!(replies::choose_service(&refs), "Abbiamo il massaggio rilassante o decontratturante: quale desidera?");
}
