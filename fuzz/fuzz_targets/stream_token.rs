//! Stream tokens (the proof a media stream carries in its `start` or URL):
//! any text redeemed as a token must be refused without a panic, and a token
//! issued for any call id, caller and called number (taken from the input)
//! must redeem to exactly those claims, once.
#![no_main]

use fluxion::telephony::stream_token::StreamTokens;
use fluxion::telephony::Provider;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tokens = StreamTokens::new(b"fuzzing secret, sixteen bytes or more", 120_000);
    let text = String::from_utf8_lossy(data);
    let _ = tokens.redeem(Some(&text), Provider::Twilio, "");
    let mut fields = text.splitn(3, '\u{0}');
    let (sid, caller, called) = (fields.next().unwrap_or_default(), fields.next(), fields.next());
    let token = tokens.issue(Provider::Plivo, sid, caller, called);
    let claims = tokens.redeem(Some(&token), Provider::Plivo, sid).expect("a token just issued redeems");
    assert_eq!(claims.call_sid, sid);
    assert_eq!(claims.caller.as_deref(), caller.filter(|c| !c.is_empty()));
    assert_eq!(claims.called.as_deref(), called.filter(|c| !c.is_empty()));
    assert!(tokens.redeem(Some(&token), Provider::Plivo, sid).is_err(), "a token opens one stream");
});
