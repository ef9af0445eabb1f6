//! Twilio Media Streams: the bidirectional `<Connect><Stream>` WebSocket
//! protocol, plus the TwiML documents that start a stream, speak and hang
//! up, or transfer a call.
//!
//! Follows "Media Streams - WebSocket Messages"
//! (<https://www.twilio.com/docs/voice/media-streams/websocket-messages>) and
//! "TwiML Voice: `<Stream>`" (<https://www.twilio.com/docs/voice/twiml/stream>).
//! Twilio sends `connected`, `start`, `media`, `dtmf`, `mark` and `stop`;
//! the agent sends `media`, `mark` and `clear`. Audio is base64 μ-law
//! (G.711 PCMU), 8000 Hz, mono, without headers, in both directions.

use fluxion_core::audio::g711::{mulaw_to_pcm, pcm_to_mulaw};
use serde_json::{json, Value};

use super::wire::{
    custom_params, decode_base64, dtmf_digit, encode_base64, first_str, malformed, number, opt_str, parse, req_str, xml_escape,
    XML_DECLARATION,
};
use super::{CodecError, StreamEvent, StreamStart};

const PROVIDER: &str = "twilio";

/// Twilio Media Streams codec for one stream: remembers the `streamSid`
/// from `start` and echoes it in every outbound message.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    stream_sid: String,
}

impl Codec {
    /// The `streamSid` learnt from `start` (empty before it).
    pub fn stream_sid(&self) -> &str {
        &self.stream_sid
    }

    /// Decodes one inbound text message.
    ///
    /// - `connected` → [`StreamEvent::Connected`]
    /// - `start` → [`StreamEvent::Start`] with `start.callSid`, `start.streamSid`,
    ///   `start.customParameters`; the caller comes from the custom parameter
    ///   `caller` or `From`, the called number from `to` or `To`.
    ///   `start.mediaFormat` must be `audio/x-mulaw`, 8000 Hz, 1 channel.
    /// - `media` → [`StreamEvent::Media`]: `media.payload` (base64 μ-law) as PCM at 8000 Hz;
    ///   a track other than `inbound` is [`StreamEvent::Ignored`].
    /// - `dtmf` → [`StreamEvent::Dtmf`] (`dtmf.digit`), `mark` → [`StreamEvent::Mark`]
    ///   (`mark.name`), `stop` → [`StreamEvent::Stop`]; any other event is
    ///   [`StreamEvent::Ignored`].
    ///
    /// # Errors
    /// [`CodecError::Malformed`] for text that is not a JSON object, lacks a
    /// required field or announces another audio format;
    /// [`CodecError::BadAudio`] for a payload that is not valid base64.
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
                let track = opt_str(&msg, &["media", "track"]);
                if track.is_some_and(|t| t != "inbound" && t != "inbound_track") {
                    return Ok(StreamEvent::Ignored("media".into()));
                }
                let bytes = decode_base64(PROVIDER, req_str(PROVIDER, &msg, &["media", "payload"])?)?;
                Ok(StreamEvent::Media(mulaw_to_pcm(&bytes)))
            }
            "dtmf" => Ok(StreamEvent::Dtmf(dtmf_digit(PROVIDER, req_str(PROVIDER, &msg, &["dtmf", "digit"])?)?)),
            "mark" => Ok(StreamEvent::Mark(req_str(PROVIDER, &msg, &["mark", "name"])?.to_owned())),
            "stop" => Ok(StreamEvent::Stop),
            other => Ok(StreamEvent::Ignored(other.to_owned())),
        }
    }

    /// The outbound `media` message playing `pcm` (16-bit PCM at 8000 Hz):
    /// `{"event":"media","streamSid":…,"media":{"payload":<base64 μ-law>}}`.
    pub fn encode_media(&self, pcm: &[i16]) -> String {
        let payload = encode_base64(&pcm_to_mulaw(pcm));
        json!({"event": "media", "streamSid": self.stream_sid, "media": {"payload": payload}}).to_string()
    }

    /// The outbound `mark` message: `{"event":"mark","streamSid":…,"mark":{"name":…}}`.
    /// Twilio answers with a `mark` of the same name once the audio sent
    /// before it has played (or has been dropped by a `clear`).
    pub fn encode_mark(&self, name: &str) -> String {
        json!({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}).to_string()
    }

    /// The outbound `clear` message dropping audio not yet played:
    /// `{"event":"clear","streamSid":…}`.
    pub fn encode_clear(&self) -> String {
        json!({"event": "clear", "streamSid": self.stream_sid}).to_string()
    }
}

fn decode_start(msg: &Value) -> Result<StreamStart, CodecError> {
    let call_sid = req_str(PROVIDER, msg, &["start", "callSid"])?.to_owned();
    let stream_sid = first_str(msg, &[&["start", "streamSid"], &["streamSid"]])
        .ok_or_else(|| malformed(PROVIDER, "start.streamSid is missing"))?
        .to_owned();
    if let Some(format) = msg.get("start").and_then(|s| s.get("mediaFormat")) {
        let encoding = format.get("encoding").and_then(Value::as_str).unwrap_or("");
        if encoding != "audio/x-mulaw" {
            return Err(malformed(PROVIDER, format!("unsupported mediaFormat.encoding {encoding:?} (expected \"audio/x-mulaw\")")));
        }
        if let Some(rate) = format.get("sampleRate") {
            if number(rate) != Some(8000) {
                return Err(malformed(PROVIDER, format!("unsupported mediaFormat.sampleRate {rate} (expected 8000)")));
            }
        }
        if let Some(channels) = format.get("channels") {
            if number(channels) != Some(1) {
                return Err(malformed(PROVIDER, format!("unsupported mediaFormat.channels {channels} (expected 1)")));
            }
        }
    }
    let custom = custom_params(PROVIDER, msg, &["start", "customParameters"])?;
    let pick = |keys: &[&str]| keys.iter().find_map(|k| custom.get(*k)).filter(|v| !v.is_empty()).cloned();
    Ok(StreamStart { call_sid, stream_sid, from: pick(&["caller", "From"]), to: pick(&["to", "To"]), custom })
}

/// TwiML connecting the call to a bidirectional media stream at `stream_url`
/// (`wss://…`), passing `params` as `<Parameter name=… value=…/>` (Twilio
/// echoes them in `start.customParameters`):
/// `<Response><Connect><Stream url="…"><Parameter …/></Stream></Connect></Response>`.
/// Every value is XML-escaped. Source: "TwiML Voice: `<Stream>`".
pub fn twiml_connect_stream(stream_url: &str, params: &[(&str, &str)]) -> String {
    let mut out = format!(r#"{XML_DECLARATION}<Response><Connect><Stream url="{}">"#, xml_escape(stream_url));
    for (name, value) in params {
        out.push_str(&format!(r#"<Parameter name="{}" value="{}"/>"#, xml_escape(name), xml_escape(value)));
    }
    out.push_str("</Stream></Connect></Response>");
    out
}

/// TwiML saying `text_it` in Italian and hanging up:
/// `<Response><Say language="it-IT">…</Say><Hangup/></Response>` (text XML-escaped).
pub fn twiml_say_hangup(text_it: &str) -> String {
    format!(r#"{XML_DECLARATION}<Response><Say language="it-IT">{}</Say><Hangup/></Response>"#, xml_escape(text_it))
}

/// TwiML transferring the call to `number` (E.164):
/// `<Response><Dial>…</Dial></Response>` (number XML-escaped).
pub fn twiml_dial(number: &str) -> String {
    format!("{XML_DECLARATION}<Response><Dial>{}</Dial></Response>", xml_escape(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented `start` example (Twilio "WebSocket Messages"), with custom parameters.
    const START: &str = r#"{
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"caller": "+393331234567", "business": "salone-anna"}
        },
        "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    }"#;

    fn started() -> Codec {
        let mut codec = Codec::default();
        codec.decode(START).expect("start decodes");
        codec
    }

    #[test]
    fn connected_and_start() {
        let mut codec = Codec::default();
        let connected = r#"{"event": "connected", "protocol": "Call", "version": "1.0.0"}"#;
        assert_eq!(codec.decode(connected), Ok(StreamEvent::Connected));
        let Ok(StreamEvent::Start(start)) = codec.decode(START) else { panic!("start expected") };
        assert_eq!(start.call_sid, "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(start.stream_sid, "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(start.from.as_deref(), Some("+393331234567"));
        assert_eq!(start.to, None);
        assert_eq!(start.custom.get("business").map(String::as_str), Some("salone-anna"));
        assert_eq!(codec.stream_sid(), "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    }

    #[test]
    fn caller_from_the_from_parameter() {
        let msg = START.replace(r#""caller": "+393331234567""#, r#""From": "+390612345678", "To": "+390298765432""#);
        let Ok(StreamEvent::Start(start)) = Codec::default().decode(&msg) else { panic!("start expected") };
        assert_eq!(start.from.as_deref(), Some("+390612345678"));
        assert_eq!(start.to.as_deref(), Some("+390298765432"));
    }

    #[test]
    fn other_encodings_are_rejected() {
        let msg = START.replace("audio/x-mulaw", "audio/x-alaw");
        assert!(matches!(Codec::default().decode(&msg), Err(CodecError::Malformed { provider: "twilio", .. })));
        let msg = START.replace(r#""sampleRate": 8000"#, r#""sampleRate": 16000"#);
        assert!(matches!(Codec::default().decode(&msg), Err(CodecError::Malformed { .. })));
        let msg = START.replace(r#""channels": 1"#, r#""channels": 2"#);
        assert!(matches!(Codec::default().decode(&msg), Err(CodecError::Malformed { .. })));
    }

    #[test]
    fn media_decodes_mulaw_sample_by_sample() {
        // 0xFF and 0x7F are the two zeros, 0x00 the most negative and 0x80 the most positive code.
        let codes = [0xFFu8, 0x7F, 0x00, 0x80, 0xF0, 0x70];
        let msg = format!(
            r#"{{"event": "media", "sequenceNumber": "3", "media": {{"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "{}"}}, "streamSid": "MZ1"}}"#,
            encode_base64(&codes)
        );
        let Ok(StreamEvent::Media(pcm)) = started().decode(&msg) else { panic!("media expected") };
        assert_eq!(pcm, vec![0, 0, -32124, 32124, 120, -120]);
        assert_eq!(pcm, codes.iter().map(|&c| fluxion_core::audio::g711::mulaw_decode(c)).collect::<Vec<_>>());
    }

    #[test]
    fn outbound_track_is_ignored() {
        let msg = r#"{"event": "media", "media": {"track": "outbound", "payload": "/w=="}}"#;
        assert_eq!(started().decode(msg), Ok(StreamEvent::Ignored("media".into())));
    }

    #[test]
    fn media_round_trip() {
        let codec = started();
        let pcm: Vec<i16> = (0..160).map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16).collect();
        let out: Value = serde_json::from_str(&codec.encode_media(&pcm)).expect("json");
        assert_eq!(out["event"], "media");
        assert_eq!(out["streamSid"], "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        let payload = out["media"]["payload"].as_str().expect("payload");
        let bytes = decode_base64(PROVIDER, payload).expect("base64");
        assert_eq!(bytes, pcm_to_mulaw(&pcm));
        // Feed the outbound payload back in as caller audio: each sample comes back μ-law quantised.
        let inbound = format!(r#"{{"event": "media", "media": {{"payload": "{payload}"}}}}"#);
        let Ok(StreamEvent::Media(back)) = started().decode(&inbound) else { panic!("media expected") };
        assert_eq!(back.len(), pcm.len());
        for (a, b) in pcm.iter().zip(&back) {
            // μ-law step at 8000 is 256; the error is at most half a step.
            assert!((i32::from(*a) - i32::from(*b)).abs() <= 128, "{a} vs {b}");
        }
    }

    #[test]
    fn dtmf_mark_stop() {
        let mut codec = started();
        let dtmf = r#"{"event": "dtmf", "streamSid": "MZ1", "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "1"}}"#;
        assert_eq!(codec.decode(dtmf), Ok(StreamEvent::Dtmf('1')));
        let mark = r#"{"event": "mark", "sequenceNumber": "4", "streamSid": "MZ1", "mark": {"name": "my label"}}"#;
        assert_eq!(codec.decode(mark), Ok(StreamEvent::Mark("my label".into())));
        let stop = r#"{"event": "stop", "sequenceNumber": "5", "streamSid": "MZ1", "stop": {"accountSid": "AC1", "callSid": "CA1"}}"#;
        assert_eq!(codec.decode(stop), Ok(StreamEvent::Stop));
        let bad = r#"{"event": "dtmf", "dtmf": {"digit": "12"}}"#;
        assert!(matches!(codec.decode(bad), Err(CodecError::Malformed { .. })));
    }

    #[test]
    fn outbound_mark_and_clear() {
        let codec = started();
        let mark: Value = serde_json::from_str(&codec.encode_mark("turn-3")).expect("json");
        assert_eq!(mark, json!({"event": "mark", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "mark": {"name": "turn-3"}}));
        let clear: Value = serde_json::from_str(&codec.encode_clear()).expect("json");
        assert_eq!(clear, json!({"event": "clear", "streamSid": "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}));
    }

    #[test]
    fn malformed_messages_are_errors() {
        let mut codec = started();
        for text in ["", "not json", "[1,2]", r#"{"no_event": 1}"#, r#"{"event": 7}"#, r#"{"event": "start", "start": {}}"#] {
            assert!(matches!(codec.decode(text), Err(CodecError::Malformed { provider: "twilio", .. })), "{text}");
        }
        let no_payload = r#"{"event": "media", "media": {}}"#;
        assert!(matches!(codec.decode(no_payload), Err(CodecError::Malformed { .. })));
        let truncated = r#"{"event": "media", "media": {"payload": "//8A/w="}}"#;
        assert!(matches!(codec.decode(truncated), Err(CodecError::BadAudio { provider: "twilio", .. })));
        let not_base64 = r#"{"event": "media", "media": {"payload": "μ-law!"}}"#;
        assert!(matches!(codec.decode(not_base64), Err(CodecError::BadAudio { .. })));
    }

    #[test]
    fn unknown_events_are_ignored() {
        assert_eq!(started().decode(r#"{"event": "something-new", "x": 1}"#), Ok(StreamEvent::Ignored("something-new".into())));
    }

    #[test]
    fn twiml_documents() {
        let twiml = twiml_connect_stream("wss://fluxion.example/media/twilio?a=1&b=2", &[("caller", "+39 333"), ("note", r#"a"b<c>"#)]);
        assert_eq!(
            twiml,
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://fluxion.example/media/twilio?a=1&amp;b=2">"#,
                r#"<Parameter name="caller" value="+39 333"/><Parameter name="note" value="a&quot;b&lt;c&gt;"/>"#,
                "</Stream></Connect></Response>"
            )
        );
        assert_eq!(
            twiml_say_hangup("Grazie & arrivederci"),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say language="it-IT">Grazie &amp; arrivederci</Say><Hangup/></Response>"#
        );
        assert_eq!(twiml_dial("+390612345678"), r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+390612345678</Dial></Response>"#);
    }
}
