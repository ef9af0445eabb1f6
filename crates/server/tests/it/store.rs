//! The store on both databases: every operation of the interface (the same
//! function runs on SQLite and on a throw-away PostgreSQL database), tenant
//! isolation on every read and write path, the PostgreSQL double-booking
//! guard under 100 concurrent writers on three pools, the engine registry's
//! reload, routing by number, and the tenant commands.

use std::sync::Arc;

use fluxion::seed::SeedData;
use fluxion::store::{CallDirection, CallEnd, CallOutcome, ClientUpdate, NewOperator, NewService, NumberKind, Store, Tenant};
use fluxion::telephony::Provider;
use fluxion::voice::HangupReason;
use fluxion_core::booking::{Appointment, AppointmentStatus, BookingError, Channel, Id, NewAppointment, Repository, Vertical};
use fluxion_core::faq::Faq;
use fluxion_core::history::{CallbackRequest, ChatTurn, Role, WaitlistEntry};
use jiff::{SignedDuration, Timestamp};

use crate::{pg, TestApp};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

/// An operator of `t` and a service it performs.
async fn operator_and_service(t: &Tenant) -> (Id, Id, u32) {
    let ops = t.operators().await.expect("operators");
    let services = t.services().await.expect("services");
    let o = ops.iter().find(|o| !o.service_ids.is_empty()).expect("an operator with services");
    let s = services.iter().find(|s| s.id == o.service_ids[0]).expect("its service");
    (o.id, s.id, s.duration_min)
}

fn booking(client_id: Id, (operator_id, service_id, minutes): (Id, Id, u32), start: Timestamp) -> NewAppointment {
    NewAppointment {
        client_id,
        operator_id,
        service_id,
        start,
        end: start + SignedDuration::from_mins(i64::from(minutes)),
        channel: Channel::Chat,
    }
}

fn turn(session: &str, client_id: Option<Id>) -> ChatTurn {
    ChatTurn {
        session_id: session.into(),
        client_id,
        role: Role::User,
        text: "vorrei un taglio".into(),
        intent: None,
        layer: None,
        latency_us: 120,
        timings: None,
        model_use: None,
        at: ts("2027-03-10T09:00:00Z"),
        channel: Channel::Chat,
    }
}

/// Every operation of the interface, on one database.
async fn contract(store: &Store) {
    let t = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(store).await.expect("tenant");
    assert_eq!(store.default_tenant().await.expect("default").map(|d| d.id()), Some(t.id()));

    // Configuration, read.
    let b = t.business().await.expect("business");
    assert_eq!((b.id, b.vertical), (t.id(), Vertical::Salone));
    assert!(!b.hours.is_empty() && b.rules.slot_step_min > 0);
    assert!(t.services().await.expect("services").len() >= 8);
    assert!(t.faqs().await.expect("faqs").len() >= 40);
    let slot = operator_and_service(&t).await;

    // Clients.
    let ada = t.upsert_client("Ada Neri", "+393471110000", Some("ada@example.it")).await.expect("client");
    let again = t.upsert_client("Cliente", "+393471110000", None).await.expect("same client");
    assert_eq!((again.id, again.name.as_str(), again.email.as_deref()), (ada.id, "Ada Neri", Some("ada@example.it")));
    assert_eq!(t.client_by_phone("+393471110000").await.expect("by phone").map(|c| c.id), Some(ada.id));
    assert_eq!(t.client(ada.id).await.expect("by id").map(|c| c.phone), Some("+393471110000".to_string()));
    assert!(t.clients_by_name("NÉRI").await.expect("by name").iter().any(|c| c.id == ada.id));
    assert!(t.search_clients("347111", 10).await.expect("search").iter().any(|c| c.id == ada.id));
    let update = ClientUpdate { consent_marketing: Some(true), email: Some(None), ..ClientUpdate::default() };
    let updated = t.update_client(ada.id, &update).await.expect("update").expect("found");
    assert!(updated.consent_marketing && updated.email.is_none() && updated.name == "Ada Neri");

    // Bookings: overlap (buffer included) refused, move, cancel.
    let start = ts("2027-03-11T09:00:00Z");
    let a = t.book(booking(ada.id, slot, start), 10).await.expect("book");
    assert_eq!((a.status, a.client_id), (AppointmentStatus::Booked, ada.id));
    assert_eq!(t.client(ada.id).await.expect("client").map(|c| c.loyalty_points), Some(0), "points come with completion, by the rule");
    let just_after = a.end + SignedDuration::from_mins(5);
    assert!(matches!(t.book(booking(ada.id, slot, just_after), 10).await, Err(BookingError::SlotTaken)));
    assert_eq!(t.appointment(a.id).await.expect("get"), Some(a.clone()));
    assert_eq!(t.upcoming_for_client(ada.id, ts("2027-03-10T00:00:00Z")).await.expect("upcoming"), vec![a.clone()]);
    assert_eq!(t.history_for_client(ada.id, 5).await.expect("history"), vec![a.clone()]);
    assert_eq!(t.booked_between(start, start + SignedDuration::from_hours(1)).await.expect("between"), vec![a.clone()]);
    assert_eq!(t.appointments_on("2027-03-11", Some(slot.0)).await.expect("on date"), vec![a.clone()]);
    let b2 = t.book(booking(ada.id, slot, start + SignedDuration::from_hours(3)), 10).await.expect("second");
    assert!(matches!(t.reschedule(b2.id, slot.0, start, start + SignedDuration::from_mins(30), 0).await, Err(BookingError::SlotTaken)));
    let later = start + SignedDuration::from_hours(5);
    let moved = t.reschedule(b2.id, slot.0, later, later + SignedDuration::from_mins(30), 0).await.expect("move");
    assert_eq!((moved.id, moved.start), (b2.id, later));
    let cancelled = t.cancel(b2.id).await.expect("cancel");
    assert_eq!(cancelled.status, AppointmentStatus::Cancelled);
    assert!(matches!(t.cancel(b2.id).await, Err(BookingError::NotActive(_))));
    assert!(matches!(t.cancel(9_999_999).await, Err(BookingError::NotFound(_))));
    // The cancelled slot is free again.
    t.book(booking(ada.id, slot, later), 0).await.expect("rebook a cancelled slot");

    // What conversations leave behind.
    t.record_turn(&turn("s1", Some(ada.id))).await.expect("turn");
    let w =
        WaitlistEntry { client_id: Some(ada.id), service_id: slot.1, operator_id: None, preference: "sabato".into(), created_at: start };
    let wid = t.add_waitlist(&w).await.expect("waitlist");
    assert_eq!(t.waitlist().await.expect("list"), vec![(wid, w)]);
    let r = CallbackRequest {
        kind: fluxion_core::history::RequestKind::Callback,
        name: None,
        client_id: None,
        phone: Some("+393471110000".into()),
        session_id: "CA1".into(),
        reason: "persona".into(),
        created_at: start,
    };
    let rid = t.add_callback_request(&r).await.expect("callback");
    assert_eq!(t.callback_requests(true).await.expect("open"), vec![(rid, r, true)]);
    assert!(t.close_callback_request(rid).await.expect("close"));
    assert!(t.callback_requests(true).await.expect("open").is_empty());

    // The call log, typed.
    let call = t
        .start_call(Provider::Twilio, "CA1", CallDirection::Inbound, Some("+393471110000"), Some("+390200000001"), start)
        .await
        .expect("call");
    assert_eq!(t.start_call(Provider::Twilio, "CA1", CallDirection::Inbound, None, None, start).await.expect("again"), call);
    let end = CallEnd {
        ended_at: start + SignedDuration::from_secs(95),
        duration_ms: 95_000,
        outcome: CallOutcome::Booked,
        hangup_reason: HangupReason::Completed,
        turns: 4,
        recording_path: None,
    };
    t.end_call(call, &end).await.expect("end");
    t.call_status(Provider::Twilio, "CA1", "completed", end.ended_at).await.expect("status");
    t.call_status(Provider::Plivo, "busy-1", "busy", end.ended_at).await.expect("status without stream");
    let calls = t.recent_calls(10).await.expect("calls");
    let c = calls.iter().find(|c| c.call_sid == "CA1").expect("CA1");
    assert_eq!(
        (c.provider, c.direction, c.outcome, c.hangup_reason),
        (Provider::Twilio, CallDirection::Inbound, Some(CallOutcome::Booked), Some(HangupReason::Completed))
    );
    assert_eq!((c.ended_at, c.turns, c.provider_status.as_deref()), (Some(end.ended_at), 4, Some("completed")));
    assert!(calls.iter().any(|c| c.call_sid == "busy-1" && c.provider == Provider::Plivo && c.outcome.is_none()));

    // Configuration, written.
    let new = NewService { name: "Laminazione ciglia".into(), synonyms: vec!["laminazione".into()], duration_min: 90, price_cents: 8_000 };
    let sid = t.add_service(&new).await.expect("add service");
    assert!(t.services().await.expect("services").iter().any(|s| s.id == sid && s.synonyms == ["laminazione"]));
    assert!(t.update_service(sid, &NewService { price_cents: 8_500, ..new.clone() }).await.expect("update"));
    assert!(t.services().await.expect("services").iter().any(|s| s.id == sid && s.price_cents == 8_500));
    let op = NewOperator { name: "Bianca".into(), service_ids: vec![sid], hours: b.hours.clone(), absences: vec![] };
    let oid = t.add_operator(&op).await.expect("add operator");
    let bianca = t.operators().await.expect("ops").into_iter().find(|o| o.id == oid).expect("bianca");
    assert_eq!((bianca.service_ids, bianca.hours.len()), (vec![sid], b.hours.len()));
    assert!(t.update_operator(oid, &NewOperator { name: "Bianca R.".into(), hours: vec![], ..op }).await.expect("update op"));
    assert!(t.operators().await.expect("ops").iter().any(|o| o.id == oid && o.name == "Bianca R." && o.hours.is_empty()));
    assert!(t.set_service_active(sid, false).await.expect("withdraw"));
    assert!(!t.services().await.expect("services").iter().any(|s| s.id == sid));
    assert!(t.set_operator_active(oid, false).await.expect("off rota"));
    assert!(!t.operators().await.expect("ops").iter().any(|o| o.id == oid));
    let faq = Faq { id: 0, category: "parcheggio".into(), questions: vec!["dove parcheggio?".into()], answer: "In via Roma.".into() };
    let fid = t.add_faq(&faq).await.expect("faq");
    assert!(t.update_faq(fid, &Faq { answer: "In piazza.".into(), ..faq }).await.expect("update faq"));
    assert!(t.faqs().await.expect("faqs").iter().any(|f| f.id == fid && f.answer == "In piazza."));
    assert!(t.delete_faq(fid).await.expect("delete faq"));
    t.set_opening_hours(&b.hours[..1]).await.expect("hours");
    t.set_closures(&[]).await.expect("closures");
    t.update_business(&fluxion_core::booking::Business { name: "Salone Nuovo".into(), ..b.clone() }).await.expect("details");
    let b3 = t.business().await.expect("business");
    assert_eq!((b3.name.as_str(), b3.hours.len(), b3.closures.len()), ("Salone Nuovo", 1, 0));

    // Numbers.
    t.add_number(NumberKind::Phone, "+390200000001").await.expect("number");
    assert!(t.add_number(NumberKind::Phone, "+390200000001").await.is_err(), "a number routes to one business");
    assert_eq!(store.tenant_by_number(NumberKind::Phone, "+390200000001").await.expect("route").map(|x| x.id()), Some(t.id()));
    assert!(store.tenant_by_number(NumberKind::Whatsapp, "+390200000001").await.expect("route").is_none());
    let listed = store.tenants().await.expect("tenants");
    assert_eq!(listed[0].numbers, vec![(NumberKind::Phone, "+390200000001".to_string())]);

    // Erasure: the client and everything naming them.
    assert!(t.erase_client(ada.id, Timestamp::now()).await.expect("erase").is_some());
    assert!(t.client(ada.id).await.expect("client").is_none());
    assert!(t.upcoming_for_client(ada.id, ts("2027-01-01T00:00:00Z")).await.expect("upcoming").is_empty());
    assert!(t.waitlist().await.expect("waitlist").is_empty());
    assert!(t.recent_calls(10).await.expect("calls").iter().all(|c| c.caller.as_deref() != Some("+393471110000")));
    assert!(t.erase_client(ada.id, Timestamp::now()).await.expect("erase again").is_none());

    // Reseeding the default business: refused while it has appointments, then forced.
    t.book(booking(t.upsert_client("Bea", "+393470000001", None).await.expect("bea").id, slot, start), 0).await.expect("book");
    let seed = SeedData::demo(Vertical::Auto).expect("seed");
    assert!(seed.load(store, false).await.is_err());
    let reseeded = seed.load(store, true).await.expect("forced");
    assert_eq!(reseeded.id(), t.id());
    assert_eq!(t.business().await.expect("business").vertical, Vertical::Auto);
    assert_eq!(t.appointment_count().await.expect("count"), 0);
}

#[tokio::test]
async fn contract_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("f.db"))).await.expect("open");
    contract(&store).await;
}

#[tokio::test]
async fn contract_postgres() {
    let Some(db) = pg::fresh("contract").await else { return };
    contract(&db.store).await;
}

/// Business B's handle, given every id and number of business A, finds and
/// changes nothing of A's.
async fn isolation(store: &Store) {
    let a = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(store).await.expect("a");
    let b = SeedData::demo(Vertical::Medical).expect("seed").add_tenant(store).await.expect("b");
    let slot = operator_and_service(&a).await;
    let ada = a.upsert_client("Ada Neri", "+393471110000", None).await.expect("client");
    let appt: Appointment = a.book(booking(ada.id, slot, ts("2027-03-11T09:00:00Z")), 0).await.expect("book");
    a.record_turn(&turn("a-1", Some(ada.id))).await.expect("turn");
    let w = WaitlistEntry {
        client_id: Some(ada.id),
        service_id: slot.1,
        operator_id: Some(slot.0),
        preference: String::new(),
        created_at: appt.start,
    };
    a.add_waitlist(&w).await.expect("waitlist");
    let r = CallbackRequest {
        kind: fluxion_core::history::RequestKind::Callback,
        name: None,
        client_id: Some(ada.id),
        phone: Some(ada.phone.clone()),
        session_id: "CA-A".into(),
        reason: String::new(),
        created_at: appt.start,
    };
    let rid = a.add_callback_request(&r).await.expect("callback");
    let call = a.start_call(Provider::Twilio, "CA-A", CallDirection::Inbound, Some(&ada.phone), None, appt.start).await.expect("call");
    a.add_number(NumberKind::Phone, "+390200000001").await.expect("number");
    let a_services: Vec<Id> = a.services().await.expect("services").iter().map(|s| s.id).collect();
    let a_faq = a.faqs().await.expect("faqs")[0].id;

    // Reads.
    assert_eq!(b.business().await.expect("business").id, b.id());
    assert!(b.client(ada.id).await.expect("client").is_none());
    assert!(b.client_by_phone(&ada.phone).await.expect("by phone").is_none());
    assert!(b.clients().await.expect("clients").iter().all(|c| c.id != ada.id && c.phone != ada.phone));
    assert!(b.clients_by_name("Neri").await.expect("by name").is_empty());
    assert!(b.search_clients("Ada", 50).await.expect("search").is_empty());
    assert!(b.appointment(appt.id).await.expect("appointment").is_none());
    assert!(b.upcoming_for_client(ada.id, ts("2027-01-01T00:00:00Z")).await.expect("upcoming").is_empty());
    assert!(b.history_for_client(ada.id, 50).await.expect("history").is_empty());
    assert!(b.booked_between(ts("2027-01-01T00:00:00Z"), ts("2028-01-01T00:00:00Z")).await.expect("between").is_empty());
    assert!(b.appointments_on("2027-03-11", None).await.expect("on date").is_empty());
    assert!(b.services().await.expect("services").iter().all(|s| !a_services.contains(&s.id)));
    assert!(b
        .operators()
        .await
        .expect("operators")
        .iter()
        .all(|o| o.id != slot.0 && o.service_ids.iter().all(|s| !a_services.contains(s))));
    assert!(b.faqs().await.expect("faqs").iter().all(|f| f.id != a_faq));
    assert!(b.waitlist().await.expect("waitlist").is_empty());
    assert!(b.callback_requests(false).await.expect("callbacks").is_empty());
    assert!(b.recent_calls(50).await.expect("calls").is_empty());
    assert_eq!(store.tenant_by_number(NumberKind::Phone, "+390200000001").await.expect("route").map(|t| t.id()), Some(a.id()));

    // Writes with A's ids.
    assert!(matches!(b.cancel(appt.id).await, Err(BookingError::NotFound(_))));
    assert!(matches!(b.reschedule(appt.id, slot.0, appt.start, appt.end, 0).await, Err(BookingError::NotFound(_))));
    assert!(matches!(b.book(booking(ada.id, slot, ts("2027-03-12T09:00:00Z")), 0).await, Err(BookingError::NotFound(_))));
    let bea = b.upsert_client("Bea", "+393470000002", None).await.expect("b client");
    let b_slot = operator_and_service(&b).await;
    assert!(matches!(b.book(booking(bea.id, (slot.0, b_slot.1, 30), ts("2027-03-12T09:00:00Z")), 0).await, Err(BookingError::NotFound(_))));
    assert!(matches!(b.book(booking(bea.id, (b_slot.0, slot.1, 30), ts("2027-03-12T09:00:00Z")), 0).await, Err(BookingError::NotFound(_))));
    assert!(b.update_client(ada.id, &ClientUpdate { name: Some("X".into()), ..ClientUpdate::default() }).await.expect("update").is_none());
    assert!(b.erase_client(ada.id, Timestamp::now()).await.expect("delete").is_none());
    let svc = NewService { name: "X".into(), synonyms: vec![], duration_min: 10, price_cents: 0 };
    assert!(!b.update_service(slot.1, &svc).await.expect("update service"));
    assert!(!b.set_service_active(slot.1, false).await.expect("withdraw"));
    assert!(!b.set_operator_active(slot.0, false).await.expect("off rota"));
    let op = NewOperator { name: "X".into(), service_ids: a_services.clone(), hours: vec![], absences: vec![] };
    assert!(!b.update_operator(slot.0, &op).await.expect("update operator"));
    let b_op = b.add_operator(&op).await.expect("b operator with A's service ids");
    assert!(b.operators().await.expect("ops").iter().any(|o| o.id == b_op && o.service_ids.is_empty()), "A's services are not linked");
    assert!(!b.update_faq(a_faq, &Faq { id: 0, category: "x".into(), questions: vec![], answer: "x".into() }).await.expect("faq"));
    assert!(!b.delete_faq(a_faq).await.expect("delete faq"));
    assert!(!b.close_callback_request(rid).await.expect("close"));
    b.end_call(
        call,
        &CallEnd {
            ended_at: appt.start,
            duration_ms: 1,
            outcome: CallOutcome::Failed,
            hangup_reason: HangupReason::Silence,
            turns: 0,
            recording_path: None,
        },
    )
    .await
    .expect("end");
    assert!(b.start_call(Provider::Twilio, "CA-A", CallDirection::Inbound, None, None, appt.start).await.is_err());

    // A still has everything, untouched.
    assert_eq!(a.appointment(appt.id).await.expect("appointment").map(|x| x.status), Some(AppointmentStatus::Booked));
    assert_eq!(a.client(ada.id).await.expect("client").map(|c| c.name), Some("Ada Neri".to_string()));
    assert_eq!(a.callback_requests(true).await.expect("callbacks").len(), 1);
    assert_eq!(a.recent_calls(5).await.expect("calls")[0].outcome, None);
    assert_eq!(a.services().await.expect("services").len(), a_services.len());
    assert!(a.faqs().await.expect("faqs").iter().any(|f| f.id == a_faq));
}

#[tokio::test]
async fn two_tenants_are_isolated_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("f.db"))).await.expect("open");
    isolation(&store).await;
}

#[tokio::test]
async fn two_tenants_are_isolated_on_postgres() {
    let Some(db) = pg::fresh("isolation").await else { return };
    isolation(&db.store).await;
}

/// 100 writers on three pools (three instances' worth) book overlapping
/// slots of three operators at once: no operator ever holds two overlapping
/// booked appointments.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_race_never_double_books() {
    let Some(db) = pg::fresh("race").await else { return };
    let t = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(&db.store).await.expect("tenant");
    let url = db.store.url().clone();
    let mut instances = vec![t.clone()];
    for _ in 0..2 {
        instances.push(Store::open(&url).await.expect("second pool").tenant(t.id()));
    }
    let ops: Vec<(Id, Id)> =
        t.operators().await.expect("ops").iter().filter(|o| !o.service_ids.is_empty()).take(3).map(|o| (o.id, o.service_ids[0])).collect();
    let mut clients = Vec::new();
    for i in 0..100 {
        clients.push(t.upsert_client(&format!("Cliente {i}"), &format!("+3934700{i:05}"), None).await.expect("client").id);
    }
    let base = ts("2027-03-11T09:00:00Z");
    let barrier = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let tasks: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, &client)| {
            let tenant = instances[i % instances.len()].clone();
            let (op, service) = ops[i % ops.len()];
            let barrier = barrier.clone();
            // Starts every 10 minutes over an hour, each 45 minutes long: most overlap.
            let start = base + SignedDuration::from_mins(10 * (i as i64 % 7));
            tokio::spawn(async move {
                barrier.wait().await;
                tenant.book(booking(client, (op, service, 45), start), 0).await
            })
        })
        .collect();
    let (mut ok, mut taken) = (0, 0);
    for r in futures::future::join_all(tasks).await {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(BookingError::SlotTaken) => taken += 1,
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    eprintln!("postgres race: {ok} booked, {taken} refused");
    assert_eq!(ok + taken, 100);
    assert!(ok >= ops.len(), "each operator gets at least one booking");
    let booked = t.booked_between(base, base + SignedDuration::from_hours(3)).await.expect("booked");
    assert_eq!(booked.len(), ok);
    for (i, x) in booked.iter().enumerate() {
        for y in &booked[i + 1..] {
            assert!(x.operator_id != y.operator_id || x.end <= y.start || y.end <= x.start, "overlap: {x:?} {y:?}");
        }
    }
}

/// The exclusion constraint holds even against SQL that skips the store.
#[tokio::test]
async fn postgres_refuses_overlaps_written_behind_the_stores_back() {
    let Some(db) = pg::fresh("exclusion").await else { return };
    let t = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(&db.store).await.expect("tenant");
    let slot = operator_and_service(&t).await;
    let c = t.upsert_client("Ada", "+393471110000", None).await.expect("client");
    let a = t.book(booking(c.id, slot, ts("2027-03-11T09:00:00Z")), 0).await.expect("book");
    let raw =
        "INSERT INTO appointments (business_id, client_id, operator_id, service_id, start_utc, end_utc, local_date, status, channel, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, '2027-03-11', 'booked', 'chat', 'x', 'x')";
    let insert_overlap = || {
        sqlx::query(raw)
            .bind(t.id())
            .bind(c.id)
            .bind(slot.0)
            .bind(slot.1)
            .bind("2027-03-11T09:15:00Z")
            .bind("2027-03-11T09:45:00Z")
            .execute(db.store.pool_for_tests())
    };
    let overlapping = insert_overlap().await.expect_err("overlap refused");
    let code = overlapping.as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("23P01"), "{overlapping}");
    // Cancelled appointments do not hold their slot.
    t.cancel(a.id).await.expect("cancel");
    insert_overlap().await.expect("free after cancel");
}

/// A configuration change takes effect on the next request after a reload,
/// without a restart.
#[tokio::test]
async fn reload_rebuilds_one_business_engine() {
    let app = TestApp::spawn().await;
    let new = NewService { name: "Laminazione ciglia".into(), synonyms: vec![], duration_min: 90, price_cents: 8_000 };
    app.tenant.add_service(&new).await.expect("add service");
    let (_, before) = app.get("/api/services").await;
    assert!(!before.to_string().contains("ciglia"), "the old engine until the reload");
    app.state.engines.reload(app.tenant.id()).await.expect("reload");
    let (_, after) = app.get("/api/services").await;
    assert!(after.to_string().contains("Laminazione ciglia"), "{after}");
    let v = app.say("reload-1", None, "quanto costa la laminazione ciglia?").await;
    let reply = v["reply"].as_str().unwrap_or_default();
    assert!(reply.to_lowercase().contains("laminazione ciglia") && reply.contains("ottanta euro"), "{reply}");
}

/// Calls route by the dialled number; with several businesses an unrouted
/// number belongs to none.
#[tokio::test]
async fn calls_route_by_the_dialled_number() {
    let app = TestApp::spawn().await;
    let only = app.state.tenant_for_called(Some("+390299999999")).await.expect("route").map(|t| t.id());
    assert_eq!(only, Some(app.tenant.id()), "a single business answers every number");
    let other = SeedData::demo(Vertical::Medical).expect("seed").add_tenant(&app.store).await.expect("second");
    other.add_number(NumberKind::Phone, "+390211111111").await.expect("number");
    let routed = app.state.tenant_for_called(Some("+390211111111")).await.expect("route").map(|t| t.id());
    assert_eq!(routed, Some(other.id()));
    assert!(app.state.tenant_for_called(Some("+390299999999")).await.expect("route").is_none());
    assert!(app.state.tenant_for_called(None).await.expect("route").is_none());
    let engine = app.state.engines.get(other.id()).await.expect("second engine");
    assert_eq!(engine.info().business.vertical, Vertical::Medical);
    assert_eq!(app.state.engine().info().business.vertical, Vertical::Salone, "the default business is unchanged");
}

/// `fluxion tenant add|list` and `db seed` on a file and, through
/// `DATABASE_URL`, on PostgreSQL.
#[tokio::test]
async fn tenant_commands_on_both_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cli.db");
    let fluxion = |args: &[&str], database_url: Option<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_fluxion"));
        cmd.args(args).env_remove("FLUXION_DB").env_remove("DATABASE_URL").env("RUST_LOG", "warn");
        match database_url {
            Some(u) => cmd.env("DATABASE_URL", u),
            None => cmd.env("FLUXION_DB", &file),
        };
        let out = cmd.output().expect("run fluxion");
        assert!(out.status.success(), "fluxion {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let pg = pg::fresh("cli").await;
    let mut urls = vec![None];
    if let Some(db) = &pg {
        let fluxion::store::DatabaseUrl::Postgres(u) = db.store.url() else { unreachable!("postgres") };
        urls.push(Some(u.connect_url().to_string()));
    }
    for url in urls {
        fluxion(&["db", "seed", "--vertical", "salone"], url.clone());
        fluxion(&["tenant", "add", "--vertical", "medical", "--name", "Studio Rossi", "--phone", "02 1234 5678"], url.clone());
        let list: serde_json::Value = serde_json::from_str(&fluxion(&["tenant", "list", "--json"], url.clone())).expect("json");
        assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
        assert_eq!(list[1]["name"], "Studio Rossi");
        assert_eq!(list[1]["numbers"][0], serde_json::json!(["phone", "+390212345678"]));
    }
}
