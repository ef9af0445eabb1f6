//! No double booking, ever: concurrent attempts on one slot.

use std::sync::Arc;

use fluxion_core::booking::{BookingError, Channel, NewAppointment, Repository};
use jiff::Timestamp;

use crate::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_bookings_of_one_slot_see_exactly_one_success() {
    let app = TestApp::spawn().await;
    let store = Arc::new(app.tenant.clone());
    let mut clients = Vec::new();
    for i in 0..50 {
        let c = store.upsert_client(&format!("Cliente {i}"), &format!("+3933300000{i:02}"), None).await.expect("client");
        clients.push(c.id);
    }
    let start: Timestamp = "2027-03-11T14:00:00Z".parse().expect("ts");
    let end: Timestamp = "2027-03-11T14:45:00Z".parse().expect("ts");
    let barrier = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client_id)| {
            let store = store.clone();
            let barrier = barrier.clone();
            // Half the attempts overlap by 15 minutes instead of starting together.
            let shift = if i % 2 == 0 { 0 } else { 15 * 60 };
            tokio::spawn(async move {
                barrier.wait().await;
                let new = NewAppointment {
                    client_id,
                    operator_id: 1,
                    service_id: 1,
                    start: start + jiff::SignedDuration::from_secs(shift),
                    end: end + jiff::SignedDuration::from_secs(shift),
                    channel: Channel::Voice,
                };
                store.book(new, 10).await
            })
        })
        .collect();
    let mut ok = 0;
    let mut taken = 0;
    for t in futures::future::join_all(tasks).await {
        match t.expect("task") {
            Ok(_) => ok += 1,
            Err(BookingError::SlotTaken) => taken += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, taken), (1, 49));
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conversations_for_one_slot_book_it_once() {
    let app = Arc::new(TestApp::spawn().await);
    // Twelve callers ask for the same time with Giulia and reach the read-back.
    let n = 12;
    for i in 0..n {
        let v = app
            .say(
                &format!("race-{i}"),
                Some(&format!("+3934700000{i:02}")),
                "vorrei un taglio donna con Giulia domani alle 15, sono Ada Neri",
            )
            .await;
        assert!(v["reply"].as_str().unwrap_or_default().contains("Ricapitolo"), "{}", v["reply"]);
    }
    // All confirm at once.
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.say(&format!("race-{i}"), None, "sì").await })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let booked = results.iter().filter(|r| r.as_ref().is_ok_and(|v| v["booking"].is_object())).count();
    assert_eq!(booked, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").await, 1);
}
