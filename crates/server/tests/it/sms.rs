//! Incoming SMS through the providers' signed messaging webhooks: a client
//! answers a reminder "ANNULLA" and the appointment is cancelled through the
//! dialogue's rules (read back, confirmed); unsigned messages are refused.

use fluxion::telephony::Provider;
use fluxion_core::booking::{Channel, NewAppointment, Repository};

use crate::telephony::PhoneApp;

const CLIENT: &str = "+393491234567";

/// The text of the `<Message>` of an answer ("" when there is none).
fn message(xml: &str) -> String {
    let Some(start) = xml.find("<Message") else { return String::new() };
    let body = &xml[start..];
    let open = body.find('>').map_or(0, |i| i + 1);
    let close = body.find("</Message>").unwrap_or(body.len());
    body[open..close].replace("&apos;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

#[tokio::test]
async fn annulla_by_sms_cancels_after_the_read_back_and_unsigned_messages_are_refused() {
    let Some(app) = PhoneApp::spawn(&[]).await else { return };
    let business = app.store.tenants().await.expect("tenants")[0].id;
    let tenant = app.store.tenant(business);
    let client = tenant.upsert_client("Sara Neri", CLIENT, None).await.expect("client");
    let service = tenant.services().await.expect("services")[0].clone();
    let operator = tenant.operators().await.expect("operators")[0].id;
    let start: jiff::Timestamp = "2027-03-11T14:00:00Z".parse().expect("instant");
    let end = start + jiff::SignedDuration::from_mins(i64::from(service.duration_min));
    let new = NewAppointment { client_id: client.id, operator_id: operator, service_id: service.id, start, end, channel: Channel::Staff };
    let a = tenant.book(new, 0).await.expect("booked");
    let booked = format!("SELECT COUNT(*) FROM appointments WHERE id = {} AND status = 'booked'", a.id);

    let refused =
        app.post_signed("/twilio/sms", &[("From", CLIENT), ("To", "+390612345678"), ("Body", "ANNULLA")], Provider::Twilio, false).await;
    assert_eq!(refused.status(), 403, "a message with a wrong signature is refused");
    assert_eq!(crate::count(&app.store, &booked).await, 1);

    let sms = |sid: &'static str, body: &'static str| {
        [("From", CLIENT), ("To", "+390612345678"), ("Body", body), ("MessageSid", sid), ("AccountSid", "ACtest")]
    };
    let r = app.post_signed("/twilio/sms", &sms("SM1", "ANNULLA"), Provider::Twilio, true).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("xml")));
    let reply = message(&r.text().await.expect("body"));
    eprintln!("> ANNULLA\n< {reply}");
    assert!(reply.to_lowercase().contains("conferm"), "the appointment is read back for confirmation: {reply}");
    assert_eq!(crate::count(&app.store, &booked).await, 1, "not before the confirmation");

    let r = app.post_signed("/webhooks/twilio/sms", &sms("SM2", "sì"), Provider::Twilio, true).await;
    let reply = message(&r.text().await.expect("body"));
    eprintln!("> sì\n< {reply}");
    assert!(["disdett", "annullat", "cancellat"].iter().any(|w| reply.to_lowercase().contains(w)), "{reply}");
    assert_eq!(
        crate::count(&app.store, &format!("SELECT COUNT(*) FROM appointments WHERE id = {} AND status = 'cancelled'", a.id)).await,
        1
    );

    // Plivo's message URL: the reply goes from the business's number to the client.
    let r = app
        .post_signed(
            "/plivo/sms",
            &[("From", "393491234567"), ("To", "390612345678"), ("Text", "che orari fate il sabato?"), ("MessageUUID", "u-1")],
            Provider::Plivo,
            true,
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert!(body.contains(r#"src="390612345678" dst="393491234567" type="sms""#), "{body}");
    assert!(!message(&body).is_empty(), "{body}");
}
