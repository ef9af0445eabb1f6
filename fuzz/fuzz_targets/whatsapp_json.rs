//! WhatsApp webhook deliveries (Meta Cloud API JSON, `POST /webhooks/whatsapp`):
//! any bytes as the body, checked against `X-Hub-Signature-256` (the first
//! line, when the input has one, as the header) and parsed as a delivery;
//! every message's text, sender digits and type and every status are read
//! as the conversation reads them. It must never panic.
#![no_main]

use fluxion::channels::whatsapp::{sign, verify, Delivery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    let _ = verify("app-secret", body, header);
    // The body signed correctly must verify.
    assert!(verify("app-secret", body, Some(&sign("app-secret", body))).is_ok());
    let Ok(delivery) = serde_json::from_slice::<Delivery>(body) else { return };
    for change in delivery.entry.iter().flat_map(|e| &e.changes) {
        let _ = change.value.metadata.as_ref().map(|m| m.phone_number_id.len());
        for message in &change.value.messages {
            let peer: String = message.from.chars().filter(char::is_ascii_digit).collect();
            let _ = (peer, message.said(), message.kind.len());
        }
        for status in &change.value.statuses {
            let _ = format!("{status:?}");
        }
    }
});
