//! Exotel Voicebot applet (AgentStream): the bidirectional WebSocket stream.
//!
//! Follows Exotel's "WebSocket protocol"
//! (<https://developer.exotel.com/docs/agentstream/websocket-protocol>) and
//! "Working with the Stream and Voicebot Applet"
//! (<https://support.exotel.com/support/solutions/articles/3000108630>).
//! Exotel sends `connected`, `start`, `media`, `dtmf`, `mark` and `stop`; the
//! agent sends `media`, `mark` and `clear`. Field names are snake_case
//! (`stream_sid`, `call_sid`, `custom_parameters`, `media_format`,
//! `sample_rate`); the camelCase spellings some integrations show are read too.
//!
//! Audio is base64 of raw/slin: 16-bit little-endian linear PCM, mono, at
//! 8000 Hz by default (the applet URL's `?sample-rate=` can ask for 16000 or
//! 24000; this codec accepts 8000 only). Exotel asks for outbound chunks that
//! are a multiple of 320 bytes (20 ms at 8000 Hz), between 3.2 kB (100 ms)
//! and 100 kB; [`Codec::encode_media`] sends what it is given, so the media
//! handler should pass 160-sample multiples.

use serde_json::{json, Value};

use super::wire::{
    custom_params, decode_base64, dtmf_digit, encode_base64, first_str, malformed, number, opt_str, parse, pcm16le_to_samples, req_str,
    samples_to_pcm16le,
};
use super::{CodecError, StreamEvent, StreamStart};

const PROVIDER: &str = "exotel";

/// Outbound chunk granularity Exotel asks for, in bytes (20 ms of 16-bit PCM at 8000 Hz).
pub const CHUNK_BYTES: usize = 320;

/// Encodings Exotel uses for its 16-bit PCM in `start.media_format.encoding`.
const PCM_ENCODINGS: [&str; 6] = ["raw/slin", "audio/x-raw", "base64", "linear16", "audio/x-l16", "slin"];

/// Exotel Voicebot codec for one stream: remembers the `stream_sid` from
/// `start` and echoes it in every outbound message.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    stream_sid: String,
}

impl Codec {
    /// The `stream_sid` learnt from `start` (empty before it).
    pub fn stream_sid(&self) -> &str {
        &self.stream_sid
    }

    /// Decodes one inbound text message.
    ///
    /// - `connected` → [`StreamEvent::Connected`]
    /// - `start` → [`StreamEvent::Start`] with `start.call_sid`, `start.stream_sid`
    ///   (or the top-level `stream_sid`), `start.from`, `start.to` and
    ///   `start.custom_parameters`; `start.media_format`, when present, must be
    ///   16-bit PCM at 8000 Hz.
    /// - `media` → [`StreamEvent::Media`]: `media.payload`, base64 of 16-bit
    ///   little-endian PCM at 8000 Hz.
    /// - `dtmf` → [`StreamEvent::Dtmf`] (`dtmf.digit`), `mark` →
    ///   [`StreamEvent::Mark`] (`mark.name`), `clear` → [`StreamEvent::Cleared`],
    ///   `stop` → [`StreamEvent::Stop`]; any other event is [`StreamEvent::Ignored`].
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for text that is not a JSON object, lacks a
    /// required field or announces another format; [`CodecError::BadAudio`]
    /// for a payload that is not base64 or has an odd number of bytes.
    pub fn decode(&mut self, text: &str) -> Result<StreamEvent, CodecError> {
        let msg = parse(PROVIDER, text)?;
        let event = req_str(PROVIDER, &msg, &["event"])?;
        match event {
            "connected" => Ok(StreamEvent::Connected),
            "start" => {
                let start = decode_start(&msg)?;
                self.stream_sid = start.stream_sid.clone();
                Ok(StreamEvent::Start(start))
            }
            "media" => {
                let bytes = decode_base64(PROVIDER, req_str(PROVIDER, &msg, &["media", "payload"])?)?;
                Ok(StreamEvent::Media(pcm16le_to_samples(PROVIDER, &bytes)?))
            }
            "dtmf" => Ok(StreamEvent::Dtmf(dtmf_digit(PROVIDER, req_str(PROVIDER, &msg, &["dtmf", "digit"])?)?)),
            "mark" => Ok(StreamEvent::Mark(req_str(PROVIDER, &msg, &["mark", "name"])?.to_owned())),
            "clear" => Ok(StreamEvent::Cleared),
            "stop" => Ok(StreamEvent::Stop),
            other => Ok(StreamEvent::Ignored(other.to_owned())),
        }
    }

    /// The outbound `media` message playing `pcm` (16-bit PCM at 8000 Hz):
    /// `{"event":"media","stream_sid":…,"media":{"payload":<base64 PCM16LE>}}`.
    /// Exotel wants each payload a multiple of [`CHUNK_BYTES`] (160 samples).
    pub fn encode_media(&self, pcm: &[i16]) -> String {
        let payload = encode_base64(&samples_to_pcm16le(pcm));
        json!({"event": "media", "stream_sid": self.stream_sid, "media": {"payload": payload}}).to_string()
    }

    /// The outbound `mark` message: `{"event":"mark","stream_sid":…,"mark":{"name":…}}`.
    /// Exotel answers with a `mark` of the same name once the audio sent before it has played.
    pub fn encode_mark(&self, name: &str) -> String {
        json!({"event": "mark", "stream_sid": self.stream_sid, "mark": {"name": name}}).to_string()
    }

    /// The outbound `clear` message dropping audio not yet played:
    /// `{"event":"clear","stream_sid":…}`.
    pub fn encode_clear(&self) -> String {
        json!({"event": "clear", "stream_sid": self.stream_sid}).to_string()
    }
}

fn decode_start(msg: &Value) -> Result<StreamStart, CodecError> {
    let call_sid = first_str(msg, &[&["start", "call_sid"], &["start", "callSid"]])
        .ok_or_else(|| malformed(PROVIDER, "start.call_sid is missing or not a string"))?
        .to_owned();
    let stream_sid = first_str(msg, &[&["start", "stream_sid"], &["stream_sid"], &["start", "streamSid"], &["streamSid"]])
        .ok_or_else(|| malformed(PROVIDER, "start.stream_sid is missing or not a string"))?
        .to_owned();
    if let Some(format) = msg.get("start").and_then(|s| s.get("media_format").or_else(|| s.get("mediaFormat"))) {
        if let Some(encoding) = format.get("encoding").and_then(Value::as_str) {
            if !PCM_ENCODINGS.contains(&encoding) {
                return Err(malformed(PROVIDER, format!("unsupported media_format.encoding {encoding:?} (expected raw/slin PCM)")));
            }
        }
        if let Some(rate) = format.get("sample_rate").or_else(|| format.get("sampleRate")) {
            if number(rate) != Some(8000) {
                return Err(malformed(PROVIDER, format!("unsupported media_format.sample_rate {rate} (configure sample-rate=8000)")));
            }
        }
        // Exotel documents the bit rate as "128kbps" (8 kHz × 16 bit); a bare 16 means bits per sample.
        if let Some(bits) = format.get("bit_rate") {
            let ok = number(bits) == Some(16) || bits.as_str().is_some_and(|b| b.trim().eq_ignore_ascii_case("128kbps"));
            if !ok {
                return Err(malformed(
                    PROVIDER,
                    format!("unsupported media_format.bit_rate {bits} (expected 128kbps: 16-bit PCM at 8 kHz)"),
                ));
            }
        }
    }
    let custom = match msg.get("start").and_then(|s| s.get("custom_parameters")) {
        Some(_) => custom_params(PROVIDER, msg, &["start", "custom_parameters"])?,
        None => custom_params(PROVIDER, msg, &["start", "customParameters"])?,
    };
    let number_at = |key: &str| opt_str(msg, &["start", key]).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(StreamStart { call_sid, stream_sid, from: number_at("from"), to: number_at("to"), custom })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented `start` example (Exotel "WebSocket protocol").
    const START: &str = r#"{
        "event": "start",
        "sequence_number": "1",
        "stream_sid": "MZxxxxxxxxxxxxxxxxxxxxxxxx",
        "start": {
            "stream_sid": "MZxxxxxxxxxxxxxxxxxxxxxxxx",
            "call_sid": "CAxxxxxxxxxxxxxxxxxxxxxxxx",
            "account_sid": "ACxxxxxxxxxxxxxxxxxxxxxxxx",
            "from": "+919876543210",
            "to": "+918047491899",
            "custom_parameters": {"key1": "value1"},
            "media_format": {"encoding": "audio/x-raw", "sample_rate": "8000", "bit_rate": "16"}
        }
    }"#;
    const SID: &str = "MZxxxxxxxxxxxxxxxxxxxxxxxx";

    fn started() -> Codec {
        let mut codec = Codec::default();
        codec.decode(START).expect("start decodes");
        codec
    }

    #[test]
    fn connected_and_start() {
        let mut codec = Codec::default();
        assert_eq!(codec.decode(r#"{"event": "connected"}"#), Ok(StreamEvent::Connected));
        let Ok(StreamEvent::Start(start)) = codec.decode(START) else { panic!("start expected") };
        assert_eq!(start.call_sid, "CAxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_eq!(start.stream_sid, SID);
        assert_eq!(start.from.as_deref(), Some("+919876543210"));
        assert_eq!(start.to.as_deref(), Some("+918047491899"));
        assert_eq!(start.custom.get("key1").map(String::as_str), Some("value1"));
        assert_eq!(codec.stream_sid(), SID);
    }

    #[test]
    fn start_variants() {
        // The raw/slin spelling with a numeric rate, as in the Voicebot applet guide.
        let slin = START.replace(r#""encoding": "audio/x-raw", "sample_rate": "8000""#, r#""encoding": "raw/slin", "sample_rate": 8000"#);
        assert!(matches!(Codec::default().decode(&slin), Ok(StreamEvent::Start(_))));
        let wide = START.replace(r#""sample_rate": "8000""#, r#""sample_rate": "16000""#);
        assert!(matches!(Codec::default().decode(&wide), Err(CodecError::Malformed { provider: "exotel", .. })));
        let mulaw = START.replace("audio/x-raw", "audio/x-mulaw");
        assert!(matches!(Codec::default().decode(&mulaw), Err(CodecError::Malformed { .. })));
        let no_sid = r#"{"event": "start", "start": {"call_sid": "CA1"}}"#;
        assert!(matches!(Codec::default().decode(no_sid), Err(CodecError::Malformed { .. })));
    }

    #[test]
    fn media_sample_by_sample() {
        let bytes = [0x00u8, 0x00, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0x7F, 0x00, 0x80, 0x34, 0x12];
        let msg = format!(
            r#"{{"event": "media", "sequence_number": "3", "stream_sid": "{SID}", "media": {{"chunk": "2", "timestamp": "200", "payload": "{}"}}}}"#,
            encode_base64(&bytes)
        );
        assert_eq!(started().decode(&msg), Ok(StreamEvent::Media(vec![0, 1, -1, i16::MAX, i16::MIN, 0x1234])));
        let odd = format!(r#"{{"event": "media", "media": {{"payload": "{}"}}}}"#, encode_base64(&bytes[..5]));
        assert!(matches!(started().decode(&odd), Err(CodecError::BadAudio { provider: "exotel", .. })));
    }

    #[test]
    fn media_round_trip_is_lossless() {
        let codec = started();
        let pcm: Vec<i16> = (0..160).map(|i| ((i as f32 * 0.25).sin() * 20000.0) as i16).collect();
        let out: Value = serde_json::from_str(&codec.encode_media(&pcm)).expect("json");
        assert_eq!(out["event"], "media");
        assert_eq!(out["stream_sid"], SID);
        let payload = out["media"]["payload"].as_str().expect("payload");
        assert_eq!(decode_base64(PROVIDER, payload).map(|b| b.len()), Ok(CHUNK_BYTES));
        let inbound = format!(r#"{{"event": "media", "media": {{"payload": "{payload}"}}}}"#);
        assert_eq!(started().decode(&inbound), Ok(StreamEvent::Media(pcm)));
    }

    #[test]
    fn dtmf_mark_clear_stop() {
        let mut codec = started();
        let dtmf =
            format!(r#"{{"event": "dtmf", "sequence_number": "7", "stream_sid": "{SID}", "dtmf": {{"digit": "5", "duration": "100"}}}}"#);
        assert_eq!(codec.decode(&dtmf), Ok(StreamEvent::Dtmf('5')));
        let mark =
            format!(r#"{{"event": "mark", "sequence_number": "15", "stream_sid": "{SID}", "mark": {{"name": "greeting-complete"}}}}"#);
        assert_eq!(codec.decode(&mark), Ok(StreamEvent::Mark("greeting-complete".into())));
        assert_eq!(codec.decode(&format!(r#"{{"event": "clear", "stream_sid": "{SID}"}}"#)), Ok(StreamEvent::Cleared));
        let stop = format!(
            r#"{{"event": "stop", "sequence_number": "100", "stream_sid": "{SID}", "stop": {{"call_sid": "CA1", "reason": "callended"}}}}"#
        );
        assert_eq!(codec.decode(&stop), Ok(StreamEvent::Stop));
    }

    #[test]
    fn outbound_mark_and_clear() {
        let codec = started();
        let mark: Value = serde_json::from_str(&codec.encode_mark("turn-2")).expect("json");
        assert_eq!(mark, json!({"event": "mark", "stream_sid": SID, "mark": {"name": "turn-2"}}));
        let clear: Value = serde_json::from_str(&codec.encode_clear()).expect("json");
        assert_eq!(clear, json!({"event": "clear", "stream_sid": SID}));
    }

    #[test]
    fn malformed_and_unknown() {
        let mut codec = started();
        for text in ["", "null", r#"{"event": ["media"]}"#, r#"{"event": "mark", "mark": {}}"#, r#"{"event": "media"}"#] {
            assert!(matches!(codec.decode(text), Err(CodecError::Malformed { provider: "exotel", .. })), "{text}");
        }
        let truncated = r#"{"event": "media", "media": {"payload": "AAEC="}}"#;
        assert!(matches!(codec.decode(truncated), Err(CodecError::BadAudio { .. })));
        assert_eq!(codec.decode(r#"{"event": "heartbeat"}"#), Ok(StreamEvent::Ignored("heartbeat".into())));
    }
}
