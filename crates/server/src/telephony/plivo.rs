//! Plivo Audio Streaming: the bidirectional `<Stream>` WebSocket protocol and
//! the answer XML that starts it.
//!
//! Follows Plivo's "Stream Event Protocol"
//! (<https://www.plivo.com/docs/voice/audio-streaming/audio-streaming>) and
//! "The Stream element" (<https://www.plivo.com/docs/voice/xml/audiostream>).
//! Plivo sends `start`, `media`, `dtmf`, `playedStream` (a checkpoint was
//! reached) and `clearedAudio`; the agent sends `playAudio`, `checkpoint` and
//! `clearAudio`. The end of the stream is told through the `statusCallbackUrl`
//! and the socket closing; a `stop` event, should one come, is understood.
//!
//! Formats: `audio/x-mulaw` at 8000 Hz (what [`answer_xml`] asks for) and
//! `audio/x-l16` (16-bit little-endian PCM) at 8000 Hz. `audio/x-l16` at
//! 16000 Hz is refused at `start`: Plivo wants `playAudio` in the stream's
//! own format, and the agent speaks at 8000 Hz.

use fluxion_core::audio::g711::{mulaw_to_pcm, pcm_to_mulaw};
use serde_json::{json, Value};

use super::wire::{
    decode_base64, dtmf_digit, encode_base64, first_str, malformed, number, opt_str, parse, pcm16le_to_samples, req_str,
    samples_to_pcm16le, xml_escape, XML_DECLARATION,
};
use super::{CodecError, StreamEvent, StreamStart};

const PROVIDER: &str = "plivo";

/// The audio format of a Plivo stream, from `start.mediaFormat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `audio/x-mulaw`, 8000 Hz (G.711 PCMU bytes).
    #[default]
    Mulaw8k,
    /// `audio/x-l16`, 8000 Hz (16-bit little-endian PCM).
    L16At8k,
}

impl Format {
    /// The `contentType` for `playAudio`.
    fn content_type(self) -> &'static str {
        match self {
            Format::Mulaw8k => "audio/x-mulaw",
            Format::L16At8k => "audio/x-l16",
        }
    }
}

/// Plivo Audio Streaming codec for one stream: remembers the `streamId` and
/// the audio format from `start`.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    stream_sid: String,
    format: Format,
}

impl Codec {
    /// The `streamId` learnt from `start` (empty before it).
    pub fn stream_sid(&self) -> &str {
        &self.stream_sid
    }

    /// The audio format learnt from `start` (μ-law 8000 Hz before it).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Decodes one inbound text message.
    ///
    /// - `start` → [`StreamEvent::Start`]: `start.callId`, `start.streamId`; the
    ///   top-level `extra_headers` (`k=v` pairs separated by `,` or `;`, as set in
    ///   the Stream element's `extraHeaders`) become the custom parameters, and
    ///   the caller and called numbers come from `From`/`caller` and `To`/`to` there.
    ///   `start.mediaFormat` must be `audio/x-mulaw` or `audio/x-l16` at 8000 Hz.
    /// - `media` → [`StreamEvent::Media`]: `media.payload` (base64) as PCM at 8000 Hz;
    ///   an `outbound` track is [`StreamEvent::Ignored`].
    /// - `dtmf` → [`StreamEvent::Dtmf`] (`dtmf.digit`); `playedStream` (also
    ///   `played`) → [`StreamEvent::Mark`] (`name`); `clearedAudio` →
    ///   [`StreamEvent::Cleared`]; `stop` → [`StreamEvent::Stop`]; any other
    ///   event is [`StreamEvent::Ignored`].
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for text that is not a JSON object, lacks a
    /// required field or announces an unsupported format;
    /// [`CodecError::BadAudio`] for a payload that is not base64 or, in
    /// `audio/x-l16`, not whole 16-bit samples.
    pub fn decode(&mut self, text: &str) -> Result<StreamEvent, CodecError> {
        let msg = parse(PROVIDER, text)?;
        let event = req_str(PROVIDER, &msg, &["event"])?;
        match event {
            "start" => {
                let (start, format) = decode_start(&msg)?;
                self.stream_sid = start.stream_sid.clone();
                self.format = format;
                Ok(StreamEvent::Start(start))
            }
            "media" => {
                if opt_str(&msg, &["media", "track"]).is_some_and(|t| t != "inbound") {
                    return Ok(StreamEvent::Ignored("media".into()));
                }
                let bytes = decode_base64(PROVIDER, req_str(PROVIDER, &msg, &["media", "payload"])?)?;
                match self.format {
                    Format::Mulaw8k => Ok(StreamEvent::Media(mulaw_to_pcm(&bytes))),
                    Format::L16At8k => Ok(StreamEvent::Media(pcm16le_to_samples(PROVIDER, &bytes)?)),
                }
            }
            "dtmf" => Ok(StreamEvent::Dtmf(dtmf_digit(PROVIDER, req_str(PROVIDER, &msg, &["dtmf", "digit"])?)?)),
            "playedStream" | "played" => Ok(StreamEvent::Mark(req_str(PROVIDER, &msg, &["name"])?.to_owned())),
            "clearedAudio" => Ok(StreamEvent::Cleared),
            "stop" => Ok(StreamEvent::Stop),
            other => Ok(StreamEvent::Ignored(other.to_owned())),
        }
    }

    /// The outbound `playAudio` message playing `pcm` (16-bit PCM at 8000 Hz)
    /// in the stream's format:
    /// `{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":<base64>}}`.
    pub fn encode_media(&self, pcm: &[i16]) -> String {
        let bytes = match self.format {
            Format::Mulaw8k => pcm_to_mulaw(pcm),
            Format::L16At8k => samples_to_pcm16le(pcm),
        };
        json!({
            "event": "playAudio",
            "media": {"contentType": self.format.content_type(), "sampleRate": 8000, "payload": encode_base64(&bytes)}
        })
        .to_string()
    }

    /// The outbound `checkpoint` message: `{"event":"checkpoint","streamId":…,"name":…}`.
    /// Plivo answers with `playedStream` carrying the same name once the audio
    /// sent before it has played.
    pub fn encode_mark(&self, name: &str) -> String {
        json!({"event": "checkpoint", "streamId": self.stream_sid, "name": name}).to_string()
    }

    /// The outbound `clearAudio` message dropping audio not yet played:
    /// `{"event":"clearAudio","streamId":…}`. Plivo answers with `clearedAudio`.
    pub fn encode_clear(&self) -> String {
        json!({"event": "clearAudio", "streamId": self.stream_sid}).to_string()
    }
}

fn decode_start(msg: &Value) -> Result<(StreamStart, Format), CodecError> {
    let call_sid = first_str(msg, &[&["start", "callId"], &["start", "callUUID"]])
        .ok_or_else(|| malformed(PROVIDER, "start.callId is missing or not a string"))?
        .to_owned();
    let stream_sid = first_str(msg, &[&["start", "streamId"], &["streamId"]])
        .ok_or_else(|| malformed(PROVIDER, "start.streamId is missing or not a string"))?
        .to_owned();
    let format = match msg.get("start").and_then(|s| s.get("mediaFormat")) {
        None => Format::Mulaw8k,
        Some(mf) => {
            let encoding = mf.get("encoding").and_then(Value::as_str).unwrap_or("");
            let rate = mf.get("sampleRate").and_then(number);
            match (encoding, rate) {
                ("audio/x-mulaw", Some(8000) | None) => Format::Mulaw8k,
                ("audio/x-l16", Some(8000)) => Format::L16At8k,
                _ => {
                    return Err(malformed(
                        PROVIDER,
                        format!(
                            "unsupported mediaFormat {encoding:?} at {rate:?} Hz (use contentType \"audio/x-mulaw;rate=8000\" or \"audio/x-l16;rate=8000\")"
                        ),
                    ))
                }
            }
        }
    };
    let custom = match msg.get("extra_headers") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::String(s)) => parse_extra_headers(s),
        Some(_) => return Err(malformed(PROVIDER, "extra_headers is not a string")),
    };
    let pick = |keys: &[&str]| keys.iter().find_map(|k| custom.get(*k)).filter(|v| !v.is_empty()).cloned();
    let start = StreamStart { call_sid, stream_sid, from: pick(&["From", "caller", "from"]), to: pick(&["To", "to"]), custom };
    Ok((start, format))
}

/// `k1=v1,k2=v2` (or `;`-separated) as a map; pairs without `=` are skipped.
fn parse_extra_headers(text: &str) -> std::collections::HashMap<String, String> {
    text.split([',', ';'])
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Plivo XML saying `text_it` in Italian and hanging up:
/// `<Response><Speak language="it-IT">…</Speak><Hangup/></Response>` (text
/// XML-escaped). Source: "The Speak element", "The Hangup element".
pub fn speak_hangup_xml(text_it: &str) -> String {
    format!(r#"{XML_DECLARATION}<Response><Speak language="it-IT">{}</Speak><Hangup/></Response>"#, xml_escape(text_it))
}

/// Plivo answer XML starting a bidirectional μ-law 8000 Hz stream to
/// `stream_url` (`wss://…`) that keeps the call up for as long as the
/// stream lasts:
/// `<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000" extraHeaders="…">wss://…</Stream></Response>`.
///
/// `extra_headers` is Plivo's `extraHeaders` attribute, `k1=v1,k2=v2`
/// (Plivo allows only letters and digits in keys and values, 512 bytes at
/// most); it comes back in `start` as `extra_headers`. Empty leaves the
/// attribute out. Every value is XML-escaped. Source: "The Stream element".
pub fn answer_xml(stream_url: &str, extra_headers: &str) -> String {
    let extra = if extra_headers.is_empty() { String::new() } else { format!(r#" extraHeaders="{}""#, xml_escape(extra_headers)) };
    format!(
        r#"{XML_DECLARATION}<Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000"{extra}>{}</Stream></Response>"#,
        xml_escape(stream_url)
    )
}

/// Plivo XML dialling `number` (a transferred call's new instructions).
pub fn dial_xml(number: &str) -> String {
    format!(r#"{XML_DECLARATION}<Response><Dial><Number>{}</Number></Dial></Response>"#, xml_escape(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented `start` example (Plivo "Stream Event Protocol").
    const START: &str = r#"{
        "event": "start",
        "sequenceNumber": 1,
        "start": {
            "callId": "12345678-1234-1234-1234-123456789abc",
            "streamId": "87654321-4321-4321-4321-cba987654321",
            "accountId": "MAXXXXXXXXXXXXXXXXXX",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}
        },
        "extra_headers": "userId=12345;sessionId=abc-xyz"
    }"#;
    const STREAM_ID: &str = "87654321-4321-4321-4321-cba987654321";

    fn started(start: &str) -> Codec {
        let mut codec = Codec::default();
        codec.decode(start).expect("start decodes");
        codec
    }

    #[test]
    fn start_is_decoded() {
        let mut codec = Codec::default();
        let Ok(StreamEvent::Start(start)) = codec.decode(START) else { panic!("start expected") };
        assert_eq!(start.call_sid, "12345678-1234-1234-1234-123456789abc");
        assert_eq!(start.stream_sid, STREAM_ID);
        assert_eq!(start.custom.get("userId").map(String::as_str), Some("12345"));
        assert_eq!(start.custom.get("sessionId").map(String::as_str), Some("abc-xyz"));
        assert_eq!(start.from, None);
        assert_eq!(codec.format(), Format::Mulaw8k);
        assert_eq!(codec.stream_sid(), STREAM_ID);
        let with_caller = START.replace("userId=12345;sessionId=abc-xyz", "From=393331234567,To=390612345678");
        let Ok(StreamEvent::Start(start)) = Codec::default().decode(&with_caller) else { panic!("start expected") };
        assert_eq!(start.from.as_deref(), Some("393331234567"));
        assert_eq!(start.to.as_deref(), Some("390612345678"));
    }

    #[test]
    fn formats() {
        let l16 = START.replace("audio/x-mulaw", "audio/x-l16");
        assert_eq!(started(&l16).format(), Format::L16At8k);
        let wide = l16.replace(r#""sampleRate": 8000"#, r#""sampleRate": 16000"#);
        assert!(matches!(Codec::default().decode(&wide), Err(CodecError::Malformed { provider: "plivo", .. })));
        let alaw = START.replace("audio/x-mulaw", "audio/x-alaw");
        assert!(matches!(Codec::default().decode(&alaw), Err(CodecError::Malformed { .. })));
    }

    #[test]
    fn mulaw_media_sample_by_sample() {
        let codes = [0xFFu8, 0x00, 0x80, 0xF0, 0x70, 0x7F];
        let msg = format!(
            r#"{{"event": "media", "sequenceNumber": 2, "streamId": "{STREAM_ID}", "media": {{"track": "inbound", "timestamp": "1700000000000", "chunk": 1, "payload": "{}"}}, "extra_headers": "userId=12345"}}"#,
            encode_base64(&codes)
        );
        let Ok(StreamEvent::Media(pcm)) = started(START).decode(&msg) else { panic!("media expected") };
        assert_eq!(pcm, vec![0, -32124, 32124, 120, -120, 0]);
    }

    #[test]
    fn l16_media_sample_by_sample() {
        let mut codec = started(&START.replace("audio/x-mulaw", "audio/x-l16"));
        let bytes = [0x00u8, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x80];
        let msg = format!(r#"{{"event": "media", "media": {{"payload": "{}"}}}}"#, encode_base64(&bytes));
        assert_eq!(codec.decode(&msg), Ok(StreamEvent::Media(vec![0, 1, -1, i16::MAX, i16::MIN])));
        let odd = format!(r#"{{"event": "media", "media": {{"payload": "{}"}}}}"#, encode_base64(&bytes[..3]));
        assert!(matches!(codec.decode(&odd), Err(CodecError::BadAudio { provider: "plivo", .. })));
        let out: Value = serde_json::from_str(&codec.encode_media(&[1, -1])).expect("json");
        assert_eq!(out["media"]["contentType"], "audio/x-l16");
        assert_eq!(out["media"]["payload"], encode_base64(&[1, 0, 0xFF, 0xFF]));
    }

    #[test]
    fn outbound_messages() {
        let codec = started(START);
        let pcm = [0i16, 1000, -1000, 32000, -32000];
        let out: Value = serde_json::from_str(&codec.encode_media(&pcm)).expect("json");
        assert_eq!(
            out,
            json!({"event": "playAudio", "media": {"contentType": "audio/x-mulaw", "sampleRate": 8000, "payload": encode_base64(&pcm_to_mulaw(&pcm))}})
        );
        let mark: Value = serde_json::from_str(&codec.encode_mark("turn-1")).expect("json");
        assert_eq!(mark, json!({"event": "checkpoint", "streamId": STREAM_ID, "name": "turn-1"}));
        let clear: Value = serde_json::from_str(&codec.encode_clear()).expect("json");
        assert_eq!(clear, json!({"event": "clearAudio", "streamId": STREAM_ID}));
    }

    #[test]
    fn media_round_trip() {
        let codec = started(START);
        let pcm: Vec<i16> = (0..160).map(|i| ((i as f32 * 0.2).sin() * 12000.0) as i16).collect();
        let out: Value = serde_json::from_str(&codec.encode_media(&pcm)).expect("json");
        let payload = out["media"]["payload"].as_str().expect("payload");
        let inbound = format!(r#"{{"event": "media", "media": {{"track": "inbound", "payload": "{payload}"}}}}"#);
        let Ok(StreamEvent::Media(back)) = started(START).decode(&inbound) else { panic!("media expected") };
        assert_eq!(back, mulaw_to_pcm(&pcm_to_mulaw(&pcm)));
    }

    #[test]
    fn dtmf_played_cleared_stop() {
        let mut codec = started(START);
        let dtmf = format!(
            r#"{{"event": "dtmf", "sequenceNumber": 7, "streamId": "{STREAM_ID}", "dtmf": {{"track": "inbound", "digit": "5", "timestamp": "1700000000000"}}}}"#
        );
        assert_eq!(codec.decode(&dtmf), Ok(StreamEvent::Dtmf('5')));
        let played = format!(r#"{{"event": "playedStream", "sequenceNumber": 9, "streamId": "{STREAM_ID}", "name": "turn-1"}}"#);
        assert_eq!(codec.decode(&played), Ok(StreamEvent::Mark("turn-1".into())));
        let played_old = format!(r#"{{"event": "played", "streamId": "{STREAM_ID}", "name": "customer greeting audio"}}"#);
        assert_eq!(codec.decode(&played_old), Ok(StreamEvent::Mark("customer greeting audio".into())));
        let cleared = format!(r#"{{"event": "clearedAudio", "sequenceNumber": 10, "streamId": "{STREAM_ID}"}}"#);
        assert_eq!(codec.decode(&cleared), Ok(StreamEvent::Cleared));
        assert_eq!(codec.decode(r#"{"event": "stop"}"#), Ok(StreamEvent::Stop));
        let outbound = r#"{"event": "media", "media": {"track": "outbound", "payload": "AA=="}}"#;
        assert_eq!(codec.decode(outbound), Ok(StreamEvent::Ignored("media".into())));
    }

    #[test]
    fn malformed_messages_are_errors() {
        let mut codec = started(START);
        for text in ["", "{", "42", r#"{"event": null}"#, r#"{"event": "start", "start": {"callId": "c"}}"#, r#"{"event": "playedStream"}"#]
        {
            assert!(matches!(codec.decode(text), Err(CodecError::Malformed { provider: "plivo", .. })), "{text}");
        }
        let truncated = r#"{"event": "media", "media": {"payload": "AAE"}}"#;
        assert!(matches!(codec.decode(truncated), Err(CodecError::BadAudio { .. })));
        let bad_digit = r#"{"event": "dtmf", "dtmf": {"digit": ""}}"#;
        assert!(matches!(codec.decode(bad_digit), Err(CodecError::Malformed { .. })));
        assert_eq!(codec.decode(r#"{"event": "somethingNew"}"#), Ok(StreamEvent::Ignored("somethingNew".into())));
    }

    #[test]
    fn answer_document() {
        assert_eq!(
            answer_xml("wss://fluxion.example/media/plivo?x=1&y=2", "business=salone,lang=it"),
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Stream bidirectional="true" keepCallAlive="true" "#,
                r#"contentType="audio/x-mulaw;rate=8000" extraHeaders="business=salone,lang=it">"#,
                "wss://fluxion.example/media/plivo?x=1&amp;y=2</Stream></Response>"
            )
        );
        assert!(!answer_xml("wss://a/b", "").contains("extraHeaders"));
    }
}
