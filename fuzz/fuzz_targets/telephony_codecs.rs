//! The provider codecs (Twilio, Plivo, Exotel media-stream JSON): the input
//! is split into lines, each line one WebSocket text message to the same
//! codec (so `start` followed by `media` is reached), the first byte picks
//! the provider. Decoding must never panic; decoded audio is re-encoded.
#![no_main]

use fluxion::telephony::{Codec, Provider, StreamEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let provider = match pick % 3 {
        0 => Provider::Twilio,
        1 => Provider::Plivo,
        _ => Provider::Exotel,
    };
    let mut codec = Codec::new(provider);
    let text = String::from_utf8_lossy(rest);
    for message in text.split('\n') {
        if let Ok(StreamEvent::Media(pcm)) = codec.decode(message) {
            let _ = codec.encode_media(&pcm);
        }
    }
    let _ = codec.encode_mark("m1");
    let _ = codec.encode_clear();
});
