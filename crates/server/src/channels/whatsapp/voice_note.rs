//! A client's voice note, heard: downloaded through the Graph API, decoded
//! from Ogg/Opus ([`super::ogg_opus`]) and recognised by the deployment's
//! speech-to-text engine (the same one phone calls use), so that the text
//! runs through the same dialogue as a written message.

use std::sync::Arc;

use fluxion_core::speech::stt::transcribe;
use fluxion_core::speech::{SpeechToText, SttRequest};

use super::graph::GraphError;
use super::ogg_opus::{self, OggOpusError, RATE_HZ};
use super::payload::Media;
use super::WhatsApp;

/// Largest voice note downloaded, in bytes (WhatsApp's own limit for audio is 16 MB).
pub const MAX_VOICE_NOTE_BYTES: usize = 16 * 1024 * 1024;

/// Longest voice note heard, in ms; a longer one is answered with
/// [`TOO_LONG_REPLY`].
pub const MAX_VOICE_NOTE_MS: u64 = 120_000;

/// Longest piece handed to the recogniser at once, in ms (within Whisper's
/// 30 s window).
const PIECE_MS: usize = 25_000;

/// Answer when no speech-to-text engine can run on this deployment.
pub const NO_SPEECH_REPLY: &str =
    "Mi scusi, per ora non riesco ad ascoltare i messaggi vocali. Può scrivermi la sua richiesta? Ad esempio: \"vorrei un appuntamento domani pomeriggio\".";
/// Answer when the note was heard but no words came out of it.
pub const UNHEARD_REPLY: &str = "Mi scusi, non sono riuscita a capire il messaggio vocale. Può ripeterlo o scrivermi la sua richiesta?";
/// Answer to a note longer than [`MAX_VOICE_NOTE_MS`].
pub const TOO_LONG_REPLY: &str = "Mi scusi, il messaggio vocale è troppo lungo per me. Può dirmi in breve cosa desidera, o scriverlo?";
/// Answer to audio that cannot be downloaded or decoded.
pub const BROKEN_REPLY: &str = "Mi scusi, non riesco ad aprire questo file audio. Può inviare un messaggio vocale o scrivermi?";

/// Why a voice note was not heard: each has its reply to the client.
#[derive(Debug, thiserror::Error)]
pub enum VoiceNoteError {
    /// No speech-to-text engine on this deployment.
    #[error("no speech-to-text engine")]
    NoEngine,
    /// The Graph API did not give the file.
    #[error("download: {0}")]
    Download(#[from] GraphError),
    /// The file is not Ogg/Opus audio, or is broken.
    #[error("decode: {0}")]
    Decode(OggOpusError),
    /// Longer than [`MAX_VOICE_NOTE_MS`].
    #[error("too long")]
    TooLong,
    /// The recogniser failed.
    #[error("speech-to-text: {0}")]
    Recognition(String),
}

impl VoiceNoteError {
    /// What the client is told.
    pub fn reply(&self) -> &'static str {
        match self {
            VoiceNoteError::NoEngine | VoiceNoteError::Recognition(_) => NO_SPEECH_REPLY,
            VoiceNoteError::TooLong => TOO_LONG_REPLY,
            VoiceNoteError::Download(GraphError::Status { status: 413, .. }) => TOO_LONG_REPLY,
            VoiceNoteError::Download(_) | VoiceNoteError::Decode(_) => BROKEN_REPLY,
        }
    }
}

/// The speech-to-text engine voice notes go through, with the business's
/// words as recognition prompt.
#[derive(Clone)]
pub struct VoiceNotes {
    /// The engine.
    pub stt: Arc<dyn SpeechToText>,
}

/// The words of `media`: downloaded, decoded to 16 kHz mono, recognised in
/// pieces of at most 25 s. An empty string when no words came out.
///
/// # Errors
/// [`VoiceNoteError`], each with the reply the client gets.
pub async fn hear(wa: &WhatsApp, media: &Media, prompt: &str) -> Result<String, VoiceNoteError> {
    let Some(notes) = wa.voice_notes.as_ref() else { return Err(VoiceNoteError::NoEngine) };
    let (bytes, mime) = wa.graph.download_media(&media.id, MAX_VOICE_NOTE_BYTES).await?;
    let pcm = tokio::task::spawn_blocking(move || ogg_opus::decode(&bytes, MAX_VOICE_NOTE_MS))
        .await
        .map_err(|e| VoiceNoteError::Recognition(format!("decoder task: {e}")))?
        .map_err(|e| match e {
            OggOpusError::TooLong { .. } => VoiceNoteError::TooLong,
            other => {
                tracing::warn!(mime = %mime, error = %other, "WhatsApp audio is not Ogg/Opus or is broken");
                VoiceNoteError::Decode(other)
            }
        })?;
    let request = SttRequest::italian(RATE_HZ).with_prompt(prompt);
    let piece = RATE_HZ as usize * PIECE_MS / 1000;
    let mut words = Vec::new();
    for part in pcm.chunks(piece) {
        let t = transcribe(notes.stt.as_ref(), &request, part).await.map_err(|e| VoiceNoteError::Recognition(e.to_string()))?;
        let text = t.text.trim();
        if !text.is_empty() {
            words.push(text.to_string());
        }
    }
    Ok(words.join(" "))
}
