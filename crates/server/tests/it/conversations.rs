//! Complete Italian conversations over HTTP, checked against the database.

use crate::TestApp;

fn reply(v: &serde_json::Value) -> String {
    v["reply"].as_str().unwrap_or_default().to_lowercase()
}

#[tokio::test]
async fn books_an_appointment_for_a_new_caller() {
    let app = TestApp::spawn().await;
    let s = "book-1";
    let v = app.say(s, None, "Buongiorno").await;
    assert_eq!(v["intent"], "greeting");
    let v = app.say(s, None, "vorrei prenotare un taglio donna per domani alle 15").await;
    assert_eq!(v["intent"], "book");
    assert_eq!(v["slots"]["service"], "Taglio donna");
    assert_eq!(v["slots"]["datetime"]["value"], "2027-03-11T15:00:00");
    assert!(reply(&v).contains("nome"), "asks the name");
    let v = app.say(s, None, "mi chiamo Paolo Verdi").await;
    assert!(reply(&v).contains("telefono"), "asks the phone");
    let v = app.say(s, None, "il mio numero è 347 111 2233").await;
    assert!(reply(&v).contains("domani alle quindici"), "reads back in words");
    assert!(v["booking"].is_null());
    let v = app.say(s, None, "sì, confermo").await;
    assert_eq!(v["booking"]["start"], "2027-03-11T15:00:00");
    assert_eq!(v["booking"]["service"], "Taglio donna");

    let (phone, start, status): (String, String, String) =
        sqlx::query_as("SELECT c.phone, a.start_utc, a.status FROM appointments a JOIN clients c ON c.id = a.client_id")
            .fetch_one(app.store.pool_for_tests())
            .await
            .expect("one appointment");
    assert_eq!((phone.as_str(), start.as_str(), status.as_str()), ("+393471112233", "2027-03-11T14:00:00Z", "booked"));
    assert_eq!(app.count("SELECT COUNT(*) FROM clients WHERE name = 'Paolo Verdi'").await, 1);
    assert!(app.count("SELECT COUNT(*) FROM chat_history WHERE session_id = 'book-1' AND layer IS NOT NULL AND json_extract(layer_timings, '$.l2_us') IS NOT NULL").await >= 5);
    assert_eq!(app.count("SELECT COUNT(*) FROM chat_history WHERE session_id = 'book-1' AND role = 'assistant'").await, 5);
}

#[tokio::test]
async fn a_correction_changes_the_time_before_booking() {
    let app = TestApp::spawn().await;
    let s = "book-2";
    let v = app.say(s, Some("+39 349 555 6677"), "vorrei una piega giovedì alle 11, sono Sara Neri").await;
    assert_eq!(v["slots"]["name"], "Sara Neri");
    assert!(reply(&v).contains("alle undici"), "{}", reply(&v));
    let v = app.say(s, None, "no, alle 16").await;
    assert!(reply(&v).contains("alle sedici"), "{}", reply(&v));
    let v = app.say(s, None, "sì").await;
    assert_eq!(v["booking"]["start"], "2027-03-11T16:00:00");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE start_utc = '2027-03-11T15:00:00Z' AND status = 'booked'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 1);
}

async fn book_for(app: &TestApp, session: &str, phone: &str, text: &str) {
    app.say(session, Some(phone), text).await;
    let v = app.say(session, None, "sì").await;
    assert!(v["booking"].is_object(), "booked: {}", v["reply"]);
}

#[tokio::test]
async fn a_known_caller_reschedules() {
    let app = TestApp::spawn().await;
    let anna = "+393401122334";
    book_for(&app, "r-0", anna, "vorrei prenotare un colore per giovedì alle 10").await;
    let s = "r-1";
    let v = app.say(s, Some(anna), "buongiorno, devo spostare il mio appuntamento").await;
    assert_eq!(v["intent"], "reschedule");
    assert!(reply(&v).contains("buongiorno anna"), "greets a known caller by name: {}", reply(&v));
    assert!(reply(&v).contains("quando"), "{}", reply(&v));
    let v = app.say(s, None, "venerdì alle 15").await;
    assert!(reply(&v).contains("confermo"), "{}", reply(&v));
    let v = app.say(s, None, "sì grazie").await;
    assert_eq!(v["booking"]["start"], "2027-03-12T15:00:00");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE start_utc = '2027-03-12T14:00:00Z' AND status = 'booked'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 1);
}

#[tokio::test]
async fn a_negation_keeps_the_appointment_then_cancel_removes_it() {
    let app = TestApp::spawn().await;
    let laura = "+393285566778";
    book_for(&app, "c-0", laura, "una piega sabato alle 9").await;
    let s = "c-1";
    let v = app.say(s, Some(laura), "vorrei cancellare l'appuntamento").await;
    assert_eq!(v["intent"], "cancel");
    assert!(reply(&v).contains("cancellare"), "{}", reply(&v));
    let v = app.say(s, None, "no no, non voglio cancellare").await;
    assert!(reply(&v).contains("resta confermato"), "{}", reply(&v));
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").await, 1);
    let v = app.say(s, None, "anzi sì, lo voglio proprio disdire").await;
    assert_eq!(v["intent"], "cancel");
    let v = app.say(s, None, "sì").await;
    assert_eq!(v["booking"]["status"], "cancelled");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'cancelled'").await, 1);
}

#[tokio::test]
async fn answers_faqs_hours_address_and_prices() {
    let app = TestApp::spawn().await;
    let s = "faq";
    let v = app.say(s, None, "accettate le carte di credito?").await;
    assert_eq!(v["layer"], "L3");
    assert_eq!(v["intent"], "faq");
    let v = app.say(s, None, "a che ora aprite?").await;
    assert_eq!(v["layer"], "L0");
    assert!(reply(&v).contains("siamo aperti"), "{}", reply(&v));
    let v = app.say(s, None, "dove vi trovate?").await;
    assert!(reply(&v).contains("via"), "{}", reply(&v));
    let v = app.say(s, None, "quanto costa la piega?").await;
    assert_eq!(v["intent"], "price");
    assert!(reply(&v).contains("ventidue euro"), "{}", reply(&v));
    let v = app.say(s, None, "grazie, arrivederci").await;
    assert_eq!(v["ended"], true);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 0);
}

#[tokio::test]
async fn several_slots_in_one_sentence_and_first_available() {
    let app = TestApp::spawn().await;
    let v = app.say("m-1", Some("3201234567"), "vorrei un taglio uomo domani alle 15, sono Mario Rossi").await;
    assert_eq!(v["slots"]["service"], "Taglio uomo");
    assert_eq!(v["slots"]["name"], "Mario Rossi");
    assert!(reply(&v).contains("ricapitolo"), "{}", reply(&v));
    let v = app.say("m-2", None, "vorrei una barba, la prima disponibile").await;
    assert!(reply(&v).contains("posso proporle"), "{}", reply(&v));
}

#[tokio::test]
async fn redirects_requests_for_another_kind_of_business() {
    let app = TestApp::spawn().await;
    let v = app.say("x", None, "vorrei fare il tagliando alla macchina").await;
    assert!(reply(&v).contains("officina"), "{}", reply(&v));
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 0);
}

#[tokio::test]
async fn closed_days_get_alternatives() {
    let app = TestApp::spawn().await;
    // Sunday 14 March: the salon is closed on Sundays.
    let v = app.say("alt", None, "vorrei un taglio donna domenica alle 10").await;
    assert!(reply(&v).contains("la domenica siamo chiusi"), "{}", reply(&v));
    // Both sides of the closed day: the Saturday before, the Tuesday after
    // (Monday is closed too).
    assert!(reply(&v).contains("posso proporle sabato tredici marzo"), "{}", reply(&v));
    assert!(reply(&v).contains("martedì sedici marzo"), "{}", reply(&v));
}

#[tokio::test]
async fn a_public_holiday_gets_the_days_before_and_after() {
    let app = TestApp::spawn().await;
    // Saturday 1 May 2027 is Labour Day: Friday 30 April before it, Tuesday
    // 4 May after it (the salon is closed on Sundays and Mondays).
    let v = app.say("may", None, "vorrei una piega sabato primo maggio alle 10").await;
    assert!(reply(&v).contains("siamo chiusi"), "{}", reply(&v));
    assert!(reply(&v).contains("venerdì trenta aprile"), "{}", reply(&v));
    assert!(reply(&v).contains("martedì quattro maggio"), "{}", reply(&v));
}

#[tokio::test]
async fn medical_urgency_gets_emergency_advice_first() {
    let app = TestApp::spawn_with(fluxion_core::booking::Vertical::Medical).await;
    let v = app.say("med", None, "ho un forte dolore al petto, vorrei una visita urgente").await;
    assert!(reply(&v).starts_with("se si tratta di un'emergenza"), "{}", reply(&v));
    assert!(reply(&v).contains("118"));
}

#[tokio::test]
async fn two_misunderstood_turns_switch_to_guided_questions() {
    let app = TestApp::spawn().await;
    app.say("g", None, "blu verde la montagna").await;
    let v = app.say("g", None, "patata cielo fiume").await;
    assert!(reply(&v).contains("desidera prenotare un appuntamento, sì o no?"), "{}", reply(&v));
    let v = app.say("g", None, "sì").await;
    assert!(reply(&v).contains("servizio"), "{}", reply(&v));
}
