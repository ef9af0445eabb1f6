//! The webhook payload Meta posts for WhatsApp (Cloud API, "Webhooks —
//! messages" reference): `entry[].changes[].value` with `metadata`
//! (`phone_number_id`: which business number it is for), `messages[]`
//! (what clients wrote) and `statuses[]` (delivery receipts of what the
//! business sent). Unknown fields are ignored; unknown message types are
//! kept as their type name.

use serde::Deserialize;

/// A webhook delivery.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    /// `whatsapp_business_account`.
    #[serde(default)]
    pub object: String,
    /// One entry per WhatsApp Business Account.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One account's changes.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// The changes.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change; `field` is `messages` for messages and statuses.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// The subscription field.
    #[serde(default)]
    pub field: String,
    /// What changed.
    pub value: Value,
}

/// Messages and statuses of one business number.
#[derive(Debug, Deserialize)]
pub struct Value {
    /// Which business number.
    pub metadata: Option<Metadata>,
    /// Messages received.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Delivery receipts.
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// The business number a change is for.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    /// Meta's phone-number id (routes to a tenant).
    pub phone_number_id: String,
}

/// A message a client sent.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// Meta's message id (`wamid.…`), the deduplication key.
    pub id: String,
    /// The client's WhatsApp number (wa_id: country code and number, digits).
    pub from: String,
    /// `text`, `interactive`, `button`, `audio`, `image`, `sticker`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// For `text`.
    pub text: Option<Text>,
    /// For `interactive` (a reply button or list row the client tapped).
    pub interactive: Option<Interactive>,
    /// For `button` (a template's quick-reply button).
    pub button: Option<Button>,
    /// For `audio` (voice notes have `voice: true`).
    pub audio: Option<Media>,
}

/// A text body.
#[derive(Debug, Deserialize)]
pub struct Text {
    /// What the client wrote.
    pub body: String,
}

/// An interactive reply.
#[derive(Debug, Deserialize)]
pub struct Interactive {
    /// A reply button tapped.
    pub button_reply: Option<Choice>,
    /// A list row chosen.
    pub list_reply: Option<Choice>,
}

/// A tapped button or list row.
#[derive(Debug, Deserialize)]
pub struct Choice {
    /// The id Fluxion gave it.
    #[serde(default)]
    pub id: String,
    /// Its visible title.
    #[serde(default)]
    pub title: String,
}

/// A template quick-reply.
#[derive(Debug, Deserialize)]
pub struct Button {
    /// Its visible text.
    #[serde(default)]
    pub text: String,
}

/// A media attachment.
#[derive(Debug, Deserialize)]
pub struct Media {
    /// Media id, for `GET /{media-id}`.
    #[serde(default)]
    pub id: String,
    /// MIME type (`audio/ogg; codecs=opus` for voice notes).
    #[serde(default)]
    pub mime_type: String,
}

/// A delivery receipt.
#[derive(Debug, Deserialize)]
pub struct Status {
    /// The id of the message Fluxion sent.
    pub id: String,
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// Meta's errors when failed.
    #[serde(default)]
    pub errors: Vec<StatusError>,
}

/// Why a message failed.
#[derive(Debug, Deserialize)]
pub struct StatusError {
    /// Meta's error code.
    #[serde(default)]
    pub code: i64,
    /// Meta's short description.
    #[serde(default)]
    pub title: String,
}

impl Message {
    /// What the client said, for the dialogue: a text body, or the title of
    /// the button or list row tapped. `None` for media and other types.
    pub fn said(&self) -> Option<&str> {
        let said = match self.kind.as_str() {
            "text" => self.text.as_ref().map(|t| t.body.as_str()),
            "interactive" => {
                self.interactive.as_ref().and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref())).map(|c| c.title.as_str())
            }
            "button" => self.button.as_ref().map(|b| b.text.as_str()),
            _ => None,
        };
        said.map(str::trim).filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meta_examples() {
        // Shapes from Meta's webhook reference (text, button reply, audio, status).
        let d: Delivery = serde_json::from_str(
            r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
              "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
              "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
              "messages":[
                {"from":"16505551234","id":"wamid.A1","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}},
                {"from":"16505551234","id":"wamid.A2","timestamp":"1749416384","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Sì"}}},
                {"from":"16505551234","id":"wamid.A3","timestamp":"1749416385","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"1003383421387256","voice":true}},
                {"from":"16505551234","id":"wamid.A4","timestamp":"1749416386","type":"sticker","sticker":{"id":"9"}}],
              "statuses":[{"id":"wamid.B1","status":"failed","timestamp":"1750263773","recipient_id":"16505551234","errors":[{"code":131049,"title":"This message was not delivered"}]}]
            }}]}]}"#,
        )
        .expect("valid payload");
        let v = &d.entry[0].changes[0].value;
        assert_eq!(v.metadata.as_ref().map(|m| m.phone_number_id.as_str()), Some("106540352242922"));
        let said: Vec<_> = v.messages.iter().map(Message::said).collect();
        assert_eq!(said, vec![Some("Does it come in another color?"), Some("Sì"), None, None]);
        assert_eq!(v.messages[2].audio.as_ref().map(|a| a.id.as_str()), Some("1003383421387256"));
        assert_eq!(v.statuses[0].errors[0].code, 131049);
    }
}
