//! G.711 companding: μ-law and A-law bytes ⇄ 16-bit linear PCM.
//!
//! Written from ITU-T Recommendation G.711 (11/88), tables 1a/1b (A-law) and
//! 2a/2b (μ-law). Each code is one byte: a sign bit, a 3-bit segment
//! (exponent) and a 4-bit quantisation step inside the segment. μ-law works on
//! 14-bit magnitudes with a bias of 0x84 (33 in 14-bit units) and clips at
//! 8159; A-law works on 13-bit magnitudes and inverts the even bits (XOR 0x55).
//! Telephony streams (Twilio, Plivo, Exotel) carry μ-law or A-law at 8000 Hz.
//!
//! Decoding goes through 256-entry tables built at compile time; encoding is a
//! handful of integer operations. Every function is total: no input panics.

/// μ-law bias added to the magnitude before finding the segment, in 16-bit PCM units.
const MULAW_BIAS: i32 = 0x84;
/// Largest μ-law magnitude in 14-bit units; larger inputs clip to it.
const MULAW_CLIP: i32 = 8159;

/// Upper bound of each μ-law segment, in biased 14-bit units.
const MULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
/// Upper bound of each A-law segment, in 13-bit units.
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// Decoded value of every μ-law code, indexed by the code byte.
static MULAW_TABLE: [i16; 256] = build_table(false);
/// Decoded value of every A-law code, indexed by the code byte.
static ALAW_TABLE: [i16; 256] = build_table(true);

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw { alaw_decode_calc(i as u8) } else { mulaw_decode_calc(i as u8) };
        i += 1;
    }
    table
}

/// Index of the first segment whose upper bound is at least `value`; 8 when none is.
fn segment(value: i32, ends: &[i32; 8]) -> u8 {
    ends.iter().position(|&end| value <= end).map_or(8, |s| s as u8)
}

const fn mulaw_decode_calc(code: u8) -> i16 {
    let u = !code as i32;
    let magnitude = (((u & 0x0F) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 {
        (MULAW_BIAS - magnitude) as i16
    } else {
        (magnitude - MULAW_BIAS) as i16
    }
}

const fn alaw_decode_calc(code: u8) -> i16 {
    let a = (code ^ 0x55) as i32;
    let seg = (a & 0x70) >> 4;
    let mut magnitude = (a & 0x0F) << 4;
    magnitude = match seg {
        0 => magnitude + 8,
        1 => magnitude + 0x108,
        _ => (magnitude + 0x108) << (seg - 1),
    };
    if a & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Encodes one 16-bit PCM sample as a μ-law byte.
pub fn mulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 2;
    let mask = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    value = value.min(MULAW_CLIP) + (MULAW_BIAS >> 2);
    let seg = segment(value, &MULAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let step = ((value >> (seg + 1)) & 0x0F) as u8;
    ((seg << 4) | step) ^ mask
}

/// Decodes one μ-law byte to a 16-bit PCM sample (range −32124..=32124).
pub fn mulaw_decode(code: u8) -> i16 {
    MULAW_TABLE[usize::from(code)]
}

/// Encodes one 16-bit PCM sample as an A-law byte.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let seg = segment(value, &ALAW_SEG_END);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let step = ((value >> shift) & 0x0F) as u8;
    ((seg << 4) | step) ^ mask
}

/// Decodes one A-law byte to a 16-bit PCM sample (range −32256..=32256).
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[usize::from(code)]
}

/// Decodes μ-law bytes to PCM, one sample per byte.
pub fn mulaw_to_pcm(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| mulaw_decode(c)).collect()
}

/// Encodes PCM samples as μ-law, one byte per sample.
pub fn pcm_to_mulaw(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| mulaw_encode(s)).collect()
}

/// Decodes A-law bytes to PCM, one sample per byte.
pub fn alaw_to_pcm(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| alaw_decode(c)).collect()
}

/// Encodes PCM samples as A-law, one byte per sample.
pub fn pcm_to_alaw(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| alaw_encode(s)).collect()
}

/// Decodes μ-law bytes and appends the samples to `out`, reusing its allocation.
pub fn mulaw_to_pcm_into(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| mulaw_decode(c)));
}

/// Encodes PCM samples as μ-law and appends the bytes to `out`, reusing its allocation.
pub fn pcm_to_mulaw_into(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| mulaw_encode(s)));
}

/// Decodes A-law bytes and appends the samples to `out`, reusing its allocation.
pub fn alaw_to_pcm_into(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| alaw_decode(c)));
}

/// Encodes PCM samples as A-law and appends the bytes to `out`, reusing its allocation.
pub fn pcm_to_alaw_into(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| alaw_encode(s)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_reference_values() {
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_decode(0x00), -32124);
        assert_eq!(mulaw_decode(0x80), 32124);
        // Segment 0, step 1: the smallest non-zero magnitude.
        assert_eq!(mulaw_decode(0xFE), 8);
        assert_eq!(mulaw_decode(0x7E), -8);
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
    }

    #[test]
    fn alaw_reference_values() {
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
    }

    /// Width of the quantisation interval holding a decoded value, in 16-bit PCM units.
    fn mulaw_step(decoded: i16) -> i32 {
        let seg = (!mulaw_encode(decoded) & 0x70) >> 4;
        8 << seg
    }

    fn alaw_step(decoded: i16) -> i32 {
        let seg = ((alaw_encode(decoded) ^ 0x55) & 0x70) >> 4;
        16 << seg.saturating_sub(1)
    }

    #[test]
    fn mulaw_round_trip_is_within_one_step_for_every_sample() {
        for x in i16::MIN..=i16::MAX {
            let y = mulaw_decode(mulaw_encode(x));
            let err = (i32::from(x) - i32::from(y)).abs();
            if x.unsigned_abs() > 32124 {
                assert_eq!(y, 32124 * x.signum(), "clipping of {x}");
            } else {
                assert!(err <= mulaw_step(y), "x={x} y={y} err={err}");
            }
        }
    }

    #[test]
    fn alaw_round_trip_is_within_one_step_for_every_sample() {
        for x in i16::MIN..=i16::MAX {
            let y = alaw_decode(alaw_encode(x));
            let err = (i32::from(x) - i32::from(y)).abs();
            assert!(err <= alaw_step(y), "x={x} y={y} err={err}");
        }
    }

    #[test]
    fn every_alaw_code_survives_decode_then_encode() {
        for code in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(code)), code, "code {code:#04x}");
        }
    }

    #[test]
    fn every_mulaw_code_but_negative_zero_survives_decode_then_encode() {
        for code in (0..=255u8).filter(|&c| c != 0x7F) {
            assert_eq!(mulaw_encode(mulaw_decode(code)), code, "code {code:#04x}");
        }
        assert_eq!(mulaw_encode(mulaw_decode(0x7F)), 0xFF);
    }

    #[test]
    fn slice_helpers_agree_with_sample_functions() {
        let pcm: Vec<i16> = (-40..40).map(|i| i * 800).collect();
        let mu = pcm_to_mulaw(&pcm);
        let a = pcm_to_alaw(&pcm);
        assert_eq!(mu, pcm.iter().map(|&s| mulaw_encode(s)).collect::<Vec<_>>());
        assert_eq!(a, pcm.iter().map(|&s| alaw_encode(s)).collect::<Vec<_>>());

        let mut out = vec![7i16];
        mulaw_to_pcm_into(&mu, &mut out);
        assert_eq!(out[0], 7);
        assert_eq!(&out[1..], mulaw_to_pcm(&mu).as_slice());
        out.clear();
        alaw_to_pcm_into(&a, &mut out);
        assert_eq!(out, alaw_to_pcm(&a));

        let mut bytes = Vec::new();
        pcm_to_mulaw_into(&pcm, &mut bytes);
        pcm_to_alaw_into(&pcm, &mut bytes);
        assert_eq!(bytes, [mu, a].concat());
    }
}
