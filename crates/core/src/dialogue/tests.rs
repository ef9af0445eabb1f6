//! Table-style tests of the pure state machine: inputs in, actions out, no
//! fakes, no runtime.

use std::sync::Arc;

use jiff::civil::{datetime, time, Weekday};
use jiff::Timestamp;

use super::*;
use crate::booking::{BookingRules, Business, Client, Operator, Service, TimeRange, Vertical, WeeklyHours};
use crate::nlu::{Pipeline, PipelineConfig};

pub(super) struct Harness {
    pub(super) pipeline: Pipeline,
    pub(super) info: Arc<BusinessInfo>,
    pub(super) dialogue: Dialogue,
    pub(super) now: Timestamp,
}

fn hours(days: &[Weekday]) -> Vec<WeeklyHours> {
    days.iter()
        .flat_map(|d| {
            [(9, 13), (14, 19)]
                .map(|(a, b)| WeeklyHours { weekday: *d, range: TimeRange { start: time(a, 0, 0, 0), end: time(b, 0, 0, 0) } })
        })
        .collect()
}

/// A service for test catalogues (30 minutes, 20 euro unless changed).
pub(super) fn service(id: Id, name: &str, synonyms: &[&str]) -> Service {
    Service {
        id,
        name: name.into(),
        synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
        duration_min: 30,
        price_cents: 2000,
        gender: None,
        category: None,
    }
}

pub(super) fn harness() -> Harness {
    let services = vec![
        Service {
            id: 1,
            name: "Taglio".into(),
            synonyms: vec!["taglio capelli".into()],
            duration_min: 45,
            price_cents: 3000,
            gender: None,
            category: None,
        },
        Service {
            id: 2,
            name: "Piega".into(),
            synonyms: vec!["messa in piega".into()],
            duration_min: 30,
            price_cents: 2000,
            gender: None,
            category: None,
        },
    ];
    let operators = vec![
        Operator { id: 1, name: "Giulia".into(), service_ids: vec![1, 2], hours: vec![], absences: vec![] },
        Operator { id: 2, name: "Marco".into(), service_ids: vec![1], hours: vec![], absences: vec![] },
    ];
    harness_with(services, operators)
}

/// The test salon (open Tuesday to Saturday, 9–13 and 14–19) with these
/// services and operators; now is Wednesday 10 March 2027, 10:00.
pub(super) fn harness_with(services: Vec<Service>, operators: Vec<Operator>) -> Harness {
    use Weekday::*;
    let business = Business {
        id: 1,
        name: "Salone Prova".into(),
        vertical: Vertical::Salone,
        timezone: "Europe/Rome".into(),
        address: "Via Roma 1, Milano".into(),
        phone: "+39021234567".into(),
        hours: hours(&[Tuesday, Wednesday, Thursday, Friday, Saturday]),
        closures: vec![],
        rules: BookingRules::default(),
    };
    let pipeline = Pipeline::new(Vertical::Salone, &services, &operators, &[], PipelineConfig::default()).expect("pipeline");
    let info = Arc::new(BusinessInfo::new(business, services, operators).expect("info"));
    let now = info.tz.to_timestamp(datetime(2027, 3, 10, 10, 0, 0, 0)).expect("now");
    Harness { pipeline, dialogue: Dialogue::new(info.clone()), info, now }
}

impl Harness {
    pub(super) fn say(&mut self, text: &str) -> Vec<Action> {
        let nlu = self.pipeline.parse(text, self.info.local(self.now));
        one_question_last(self.dialogue.handle(Input::Turn { text: text.into(), nlu: Box::new(nlu) }, self.now))
    }
    pub(super) fn feed(&mut self, o: Outcome) -> Vec<Action> {
        one_question_last(self.dialogue.handle(Input::Outcome(o), self.now))
    }
    pub(super) fn slot(&self, local: jiff::civil::DateTime, operator_id: Id, minutes: i64) -> Slot {
        let start = self.info.tz.to_timestamp(local).expect("ts");
        Slot { operator_id, start, end: start + jiff::SignedDuration::from_mins(minutes) }
    }
}

/// Every turn of every dialogue test: the receptionist asks at most one
/// question, and it is the last thing said (the caller knows it is their
/// turn to speak).
fn one_question_last(actions: Vec<Action>) -> Vec<Action> {
    let all = said(&actions);
    let questions = all.matches('?').count();
    assert!(questions <= 1, "more than one question in one turn: {all:?}");
    if questions == 1 {
        assert!(all.trim_end().ends_with('?'), "the question is not the last thing said: {all:?}");
    }
    actions
}

pub(super) fn said(actions: &[Action]) -> String {
    actions.iter().filter_map(|a| if let Action::Say(s) = a { Some(s.to_lowercase()) } else { None }).collect::<Vec<_>>().join(" ")
}

#[test]
fn booking_flow_asks_for_what_is_missing_then_books() {
    let mut h = harness();
    let a = h.say("vorrei un taglio domani alle 15");
    assert_eq!(
        a,
        vec![Action::FindSlots { service_id: 1, operator_id: None, wanted: Wanted::At(datetime(2027, 3, 11, 15, 0, 0, 0)), limit: 3 }]
    );
    let slot = h.slot(datetime(2027, 3, 11, 15, 0, 0, 0), 1, 45);
    let a = h.feed(Outcome::Slots { slots: vec![slot], exact: true, reason: None });
    assert!(said(&a).contains("nome"), "{a:?}");
    let a = h.say("Mario Rossi");
    assert!(said(&a).contains("telefono"), "{a:?}");
    let a = h.say("333 123 4567");
    assert!(said(&a).contains("ricapitolo: il taglio domani alle quindici con giulia, a nome di mario rossi"), "{a:?}");
    let a = h.say("sì");
    let client = ClientDetails { id: None, name: Some("Mario Rossi".into()), phone: Some("+393331234567".into()), email: None };
    assert_eq!(a, vec![Action::Book { client, service_id: 1, slot }]);
}

#[test]
fn a_taken_slot_at_confirmation_searches_again() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("una piega venerdì alle 10");
    let slot = h.slot(datetime(2027, 3, 12, 10, 0, 0, 0), 1, 30);
    let a = h.feed(Outcome::Slots { slots: vec![slot], exact: true, reason: None });
    assert!(said(&a).contains("confermo"), "{a:?}");
    let a = h.say("sì");
    assert!(matches!(a.as_slice(), [Action::Book { .. }]), "{a:?}");
    let a = h.feed(Outcome::Booked(Err(WriteFailure::SlotTaken)));
    assert!(said(&a).contains("occupato"), "{a:?}");
    assert!(a.iter().any(|x| matches!(x, Action::FindSlots { service_id: 2, .. })), "{a:?}");
}

pub(super) fn client() -> Client {
    Client {
        id: 7,
        name: "Mario Rossi".into(),
        phone: "+393331234567".into(),
        email: None,
        consent_marketing: false,
        consent_recording: false,
        loyalty_points: 3,
    }
}

#[test]
fn nothing_free_offers_the_waitlist() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("vorrei un taglio sabato");
    let a = h.feed(Outcome::Slots { slots: vec![], exact: false, reason: None });
    assert!(said(&a).contains("lista d'attesa"), "{a:?}");
    let a = h.say("sì grazie");
    assert!(
        a.iter().any(|x| matches!(x, Action::Waitlist { client_id: Some(7), service_id: 1, preference, .. } if preference == "2027-03-13")),
        "{a:?}"
    );
}

#[test]
fn il_solito_repeats_the_last_service_and_operator() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei il solito domani alle 10");
    assert_eq!(a.last(), Some(&Action::ListHistory { client_id: 7 }));
    let past = Appointment {
        id: 1,
        client_id: 7,
        operator_id: 2,
        service_id: 1,
        start: h.now - jiff::SignedDuration::from_hours(24 * 30),
        end: h.now - jiff::SignedDuration::from_hours(24 * 30 - 1),
        status: crate::booking::AppointmentStatus::Completed,
        channel: crate::booking::Channel::Voice,
    };
    let a = h.feed(Outcome::History(vec![past]));
    assert!(said(&a).contains("come al solito: il taglio con marco"), "{a:?}");
    assert!(
        a.contains(&Action::FindSlots {
            service_id: 1,
            operator_id: Some(2),
            wanted: Wanted::At(datetime(2027, 3, 11, 10, 0, 0, 0)),
            limit: 3
        }),
        "{a:?}"
    );
}

#[test]
fn offered_slots_are_picked_by_ordinal_or_time() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("un taglio giovedì");
    let slots: Vec<Slot> = [9, 12, 17].iter().map(|hr| h.slot(datetime(2027, 3, 11, *hr, 0, 0, 0), 1, 45)).collect();
    let a = h.feed(Outcome::Slots { slots: slots.clone(), exact: false, reason: None });
    assert!(said(&a).contains("giovedì") || said(&a).contains("domani"), "{a:?}");
    let a = h.say("la seconda");
    assert!(said(&a).contains("alle dodici") || said(&a).contains("a mezzogiorno"), "{a:?}");
    let a = h.say("no, meglio alle 17");
    assert!(a.iter().any(|x| matches!(x, Action::FindSlots { wanted: Wanted::At(dt), .. } if dt.hour() == 17)), "{a:?}");
}

#[test]
fn offered_times_are_said_in_order_and_read_alike() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("un taglio giovedì o venerdì");
    // Found out of order: said by day, then by time, each read the same way.
    let slots: Vec<Slot> = [(11, 12, 30), (12, 9, 30), (11, 9, 15), (11, 12, 0)]
        .iter()
        .map(|(d, hr, m)| h.slot(datetime(2027, 3, *d, *hr, *m, 0, 0), 1, 45))
        .collect();
    let a = h.feed(Outcome::Slots { slots, exact: false, reason: None });
    assert!(
        said(&a).contains("domani alle nove e un quarto, a mezzogiorno, a mezzogiorno e mezza o dopodomani alle nove e mezza"),
        "{a:?}"
    );
    // "la terza" is the third time as said, not as found.
    let a = h.say("la terza");
    assert!(said(&a).contains("domani a mezzogiorno e mezza"), "{a:?}");
}

#[test]
fn no_thanks_when_idle_ends_the_conversation() {
    let mut h = harness();
    let a = h.say("no grazie");
    assert!(a.contains(&Action::Hangup), "{a:?}");
    assert!(h.dialogue.ended());
}

#[test]
fn a_human_request_is_recorded_as_a_callback() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    let a = h.say("vorrei parlare con una persona");
    assert!(a.iter().any(|x| matches!(x, Action::RequestCallback { client_id: Some(7), .. })), "{a:?}");
    assert!(a.contains(&Action::Transfer));
}

/// The date/time the dialogue keeps from a turn, after corrections.
fn kept_time(h: &mut Harness, text: &str) -> Option<(jiff::civil::Date, i8, i8)> {
    h.dialogue.now = h.now;
    let nlu = h.pipeline.parse(text, h.info.local(h.now));
    h.dialogue.corrected(text, &nlu).slots.datetime.map(|d| match d {
        crate::nlu::DateTimeSlot::Instant { value, .. } => (value.date(), value.hour(), value.minute()),
        crate::nlu::DateTimeSlot::Range { start, .. } => (start.date(), start.hour(), start.minute()),
    })
}

#[test]
fn a_rejected_time_never_wins_written_or_spoken() {
    let mut h = harness();
    for text in ["no, facciamo alle 17, alle 16 non riesco", "no facciamo alle diciassette alle sedici non riesco"] {
        assert_eq!(kept_time(&mut h, text).map(|t| (t.1, t.2)), Some((17, 0)), "{text}");
    }
    for text in ["non riesco alle 16, facciamo alle 17", "non riesco alle sedici facciamo alle diciassette"] {
        assert_eq!(kept_time(&mut h, text).map(|t| (t.1, t.2)), Some((17, 0)), "{text}");
    }
    assert_eq!(kept_time(&mut h, "alle 16 non riesco"), None);
    let sat = jiff::civil::date(2027, 3, 13);
    for text in ["no, venerdì non posso più, facciamo sabato alle 17", "no venerdi non posso piu facciamo sabato alle diciassette"] {
        assert_eq!(kept_time(&mut h, text), Some((sat, 17, 0)), "{text}");
    }
}

#[test]
fn after_no_the_latest_time_said_wins() {
    let mut h = harness();
    for text in [
        "no, aspetti, alle nove porto i bambini a scuola, facciamo alle dieci e mezza",
        "no aspetti alle nove porto i bambini a scuola facciamo alle dieci e mezza",
    ] {
        assert_eq!(kept_time(&mut h, text).map(|t| (t.1, t.2)), Some((10, 30)), "{text}");
    }
    // A range is one expression, not two times.
    assert_eq!(kept_time(&mut h, "no, dalle 10 alle 12").map(|t| (t.1, t.2)), Some((10, 0)));
}

#[test]
fn anzi_keeps_the_service_named_last() {
    let mut h = harness();
    h.dialogue.now = h.now;
    let text = "vorrei un taglio, anzi no, una piega";
    let nlu = h.pipeline.parse(text, h.info.local(h.now));
    assert_eq!(h.dialogue.corrected(text, &nlu).slots.service.as_deref(), Some("Piega"));
}

#[test]
fn an_emergency_at_a_clinic_starts_no_booking() {
    let mut h = harness();
    let mut info = (*h.info).clone();
    info.business.vertical = Vertical::Medical;
    h.dialogue = Dialogue::new(Arc::new(info));
    let a = h.say("ho un dolore fortissimo al petto, vorrei una visita per un taglio domani alle 15");
    assert!(said(&a).contains("118"), "{a:?}");
    assert!(!a.iter().any(|x| matches!(x, Action::FindSlots { .. } | Action::Book { .. })), "{a:?}");
    let a = h.say("vorrei un taglio domani alle 15");
    assert!(a.iter().any(|x| matches!(x, Action::FindSlots { .. })), "{a:?}");
}

#[test]
fn anzi_keeps_the_day_said_before() {
    let mut h = harness();
    let sat = jiff::civil::date(2027, 3, 13);
    for text in ["per sabato alle 11, anzi no, alle 12 che prima ho un impegno", "per sabato alle undici anzi no alle dodici"] {
        assert_eq!(kept_time(&mut h, text), Some((sat, 12, 0)), "{text}");
    }
}

#[test]
fn a_time_without_its_cue_answers_the_offer() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("un taglio sabato");
    let slots: Vec<Slot> = [9, 14, 18].iter().map(|hr| h.slot(datetime(2027, 3, 13, *hr, 0, 0, 0), 1, 45)).collect();
    h.feed(Outcome::Slots { slots, exact: false, reason: None });
    let a = h.say("quella delle dieci");
    assert!(
        a.iter().any(|x| matches!(x, Action::FindSlots { wanted: Wanted::At(dt), .. } if *dt == datetime(2027, 3, 13, 10, 0, 0, 0))),
        "{a:?}"
    );
}

#[test]
fn same_time_on_another_day_keeps_the_time() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("una piega martedì alle 10");
    let slot = h.slot(datetime(2027, 3, 16, 10, 0, 0, 0), 1, 30);
    h.feed(Outcome::Slots { slots: vec![slot], exact: true, reason: None });
    let a = h.say("no, martedì non posso, meglio mercoledì alla stessa ora");
    assert!(
        a.iter().any(|x| matches!(x, Action::FindSlots { wanted: Wanted::At(dt), .. } if *dt == datetime(2027, 3, 17, 10, 0, 0, 0))),
        "{a:?}"
    );
}

#[test]
fn a_new_day_at_the_read_back_corrects_the_booking() {
    let mut h = harness();
    h.dialogue.set_caller("+393331234567".into(), Some(client()));
    h.say("una piega venerdì alle 17");
    let slot = h.slot(datetime(2027, 3, 12, 17, 0, 0, 0), 1, 30);
    h.feed(Outcome::Slots { slots: vec![slot], exact: true, reason: None });
    let a = h.say("no, venerdì non posso più, facciamo sabato alle 17");
    assert!(
        a.iter().any(|x| matches!(x, Action::FindSlots { wanted: Wanted::At(dt), .. } if *dt == datetime(2027, 3, 13, 17, 0, 0, 0))),
        "{a:?}"
    );
}

/// Issue 13 (seeds 000, 003): asking to erase one's data or withdrawing
/// consent is understood and recorded as a privacy request for the owner,
/// never answered "non ho capito".
#[test]
fn a_privacy_request_is_understood_and_recorded() {
    for text in ["voglio cancellare i miei dati", "revoco il consenso"] {
        let mut h = harness();
        h.dialogue.set_caller("+393331234567".into(), Some(client()));
        let a = h.say(text);
        assert!(!said(&a).contains("capito"), "{text}: {a:?}");
        assert!(said(&a).contains("mario rossi"), "{text}: the request is read back: {a:?}");
        let a = h.say("sì");
        assert!(
            a.iter().any(|x| matches!(x, Action::RequestCallback { kind: RequestKind::Privacy, client_id: Some(7), .. })),
            "{text}: {a:?}"
        );
        let a = h.feed(Outcome::Recorded(Ok(())));
        assert!(said(&a).contains("registrato"), "{text}: {a:?}");
    }
}
