//! Webhook form bodies (`application/x-www-form-urlencoded`, as axum's
//! `Form` decodes them) and the signature checks run over them (Twilio
//! `X-Twilio-Signature`, Plivo `X-Plivo-Signature-V3`): the input is the
//! body; the last form field, when present, is also used as the header.
#![no_main]

use fluxion::telephony::signature::{verify_plivo_v3, verify_twilio};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else { return };
    let header = params.last().map(|(_, v)| v.as_str());
    let url = "https://fluxion.example.it/twilio/voice?x=1";
    let _ = verify_twilio("token", url, &params, header);
    let _ = verify_plivo_v3("token", url, params.first().map(|(_, v)| v.as_str()), &params, "POST", header);
});
