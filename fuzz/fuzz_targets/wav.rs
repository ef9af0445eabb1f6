//! WAV parsing (the recordings `fluxion stt` and `fluxion call` read):
//! any bytes; an error is fine, a panic or an unbounded allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = fluxion_core::audio::wav::read_wav_bytes(data);
});
