//! Small pieces the provider codecs share: reading fields out of a JSON
//! message, base64 audio payloads, 16-bit little-endian PCM, DTMF keys and
//! XML escaping. Every function is total: bad input is a [`CodecError`].

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::CodecError;

/// Parses `text` as a JSON object.
pub(super) fn parse(provider: &'static str, text: &str) -> Result<Value, CodecError> {
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(malformed(provider, "not a JSON object")),
        Err(e) => Err(malformed(provider, format!("not JSON: {e}"))),
    }
}

/// The string at `path` (object keys from the root), if there is one.
pub(super) fn opt_str<'a>(msg: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(msg, |v, key| v.get(key)).and_then(Value::as_str)
}

/// The first string found at one of `paths`.
pub(super) fn first_str<'a>(msg: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|path| opt_str(msg, path))
}

/// The string at `path`, or [`CodecError::Malformed`] naming the field.
pub(super) fn req_str<'a>(provider: &'static str, msg: &'a Value, path: &[&str]) -> Result<&'a str, CodecError> {
    opt_str(msg, path).ok_or_else(|| malformed(provider, format!("{} is missing or not a string", path.join("."))))
}

/// A JSON number or numeric string as an unsigned integer.
pub(super) fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An object's values as strings (numbers and booleans written out, nested values as JSON).
pub(super) fn string_map(map: &Map<String, Value>) -> HashMap<String, String> {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The object at `path` as a string map; absent or `null` is empty, anything else malformed.
pub(super) fn custom_params(provider: &'static str, msg: &Value, path: &[&str]) -> Result<HashMap<String, String>, CodecError> {
    match path.iter().try_fold(msg, |v, key| v.get(key)) {
        None | Some(Value::Null) => Ok(HashMap::new()),
        Some(Value::Object(map)) => Ok(string_map(map)),
        Some(_) => Err(malformed(provider, format!("{} is not an object", path.join(".")))),
    }
}

/// One DTMF key: `0`–`9`, `*`, `#` or `A`–`D`.
pub(super) fn dtmf_digit(provider: &'static str, digit: &str) -> Result<char, CodecError> {
    let mut chars = digit.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D') => Ok(c),
        _ => Err(malformed(provider, format!("dtmf.digit {digit:?} is not one keypad key"))),
    }
}

/// Decodes a standard (padded) base64 audio payload.
pub(super) fn decode_base64(provider: &'static str, payload: &str) -> Result<Vec<u8>, CodecError> {
    BASE64.decode(payload.trim()).map_err(|e| bad_audio(provider, format!("payload is not base64: {e}")))
}

/// Standard base64 of `bytes`.
pub(super) fn encode_base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// 16-bit little-endian PCM bytes as samples; an odd byte count is [`CodecError::BadAudio`].
pub(super) fn pcm16le_to_samples(provider: &'static str, bytes: &[u8]) -> Result<Vec<i16>, CodecError> {
    if bytes.len() % 2 == 1 {
        return Err(bad_audio(provider, format!("{} bytes is not a whole number of 16-bit samples", bytes.len())));
    }
    Ok(bytes.chunks_exact(2).map(|pair| i16::from_le_bytes([pair[0], pair[1]])).collect())
}

/// Samples as 16-bit little-endian PCM bytes.
pub(super) fn samples_to_pcm16le(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// [`CodecError::Malformed`] for `provider`.
pub(super) fn malformed(provider: &'static str, reason: impl Into<String>) -> CodecError {
    CodecError::Malformed { provider, reason: reason.into() }
}

/// [`CodecError::BadAudio`] for `provider`.
pub(super) fn bad_audio(provider: &'static str, reason: impl Into<String>) -> CodecError {
    CodecError::BadAudio { provider, reason: reason.into() }
}

/// Escapes text for an XML attribute or element (`&`, `<`, `>`, `"`, `'`).
pub(super) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The XML declaration opening every TwiML and Plivo XML document.
pub(super) const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16le_round_trip_and_odd_lengths() {
        let samples = [0i16, 1, -1, i16::MAX, i16::MIN, 0x1234];
        let bytes = samples_to_pcm16le(&samples);
        assert_eq!(&bytes[..6], &[0, 0, 1, 0, 0xFF, 0xFF]);
        assert_eq!(&bytes[10..], &[0x34, 0x12]);
        assert_eq!(pcm16le_to_samples("x", &bytes), Ok(samples.to_vec()));
        assert!(matches!(pcm16le_to_samples("x", &[1, 2, 3]), Err(CodecError::BadAudio { .. })));
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape(r#"a&b<c>"d"'e'"#), "a&amp;b&lt;c&gt;&quot;d&quot;&apos;e&apos;");
        assert_eq!(xml_escape("perché è così"), "perché è così");
    }

    #[test]
    fn dtmf_keys() {
        for k in ["0", "9", "*", "#", "A", "D"] {
            assert!(dtmf_digit("x", k).is_ok(), "{k}");
        }
        for k in ["", "12", "E", "a", " "] {
            assert!(dtmf_digit("x", k).is_err(), "{k:?}");
        }
    }
}

#[cfg(test)]
mod dispatch_tests {
    use super::super::{Codec, Provider, StreamEvent};
    use serde_json::Value;

    /// One documented `start` per provider, decoded and answered through the [`Codec`] enum.
    #[test]
    fn codec_enum_dispatches_to_each_provider() {
        let cases = [
            (
                Provider::Twilio,
                r#"{"event": "start", "start": {"streamSid": "MZ1", "callSid": "CA1", "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}"#,
                r#"{"event":"clear","streamSid":"MZ1"}"#,
            ),
            (
                Provider::Plivo,
                r#"{"event": "start", "start": {"streamId": "s-1", "callId": "c-1", "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}"#,
                r#"{"event":"clearAudio","streamId":"s-1"}"#,
            ),
            (
                Provider::Exotel,
                r#"{"event": "start", "stream_sid": "MZ2", "start": {"stream_sid": "MZ2", "call_sid": "CA2", "media_format": {"encoding": "raw/slin", "sample_rate": "8000"}}}"#,
                r#"{"event":"clear","stream_sid":"MZ2"}"#,
            ),
        ];
        for (provider, start, clear) in cases {
            let mut codec = Codec::new(provider);
            assert_eq!(codec.provider(), provider);
            assert!(matches!(codec.decode(start), Ok(StreamEvent::Start(_))), "{provider:?}");
            let got: Value = serde_json::from_str(&codec.encode_clear()).expect("json");
            let want: Value = serde_json::from_str(clear).expect("json");
            assert_eq!(got, want, "{provider:?}");
            let media: Value = serde_json::from_str(&codec.encode_media(&[0; 160])).expect("json");
            assert!(media["media"]["payload"].as_str().is_some_and(|p| !p.is_empty()), "{provider:?}");
        }
    }
}
