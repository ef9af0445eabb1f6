//! The conversation behind the voice: text in, reply text out. The session
//! does not care what answers; [`EngineAgent`] is the receptionist (the
//! core's dialogue, NLU and booking over the store).

use std::sync::Arc;

use fluxion_core::booking::{Appointment, Channel};
use fluxion_core::dialogue::Dialogue;
use fluxion_core::speech::BoxFuture;

use fluxion_core::booking::Id;

use crate::app::AppState;

/// What the agent answered to one caller turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReply {
    /// The reply, possibly several sentences.
    pub text: String,
    /// The conversation is over: say the reply, then hang up.
    pub ended: bool,
    /// The caller asked for a person.
    pub transfer: bool,
    /// Appointment created, moved or cancelled by this turn.
    pub booking: Option<Appointment>,
    /// The intent understood (`"book"`, `"faq"`, …).
    pub intent: String,
    /// The layer that answered (`"L0"` … `"L4"`).
    pub layer: String,
}

/// A conversation partner for one call.
pub trait Agent: Send {
    /// The opening words of the call.
    fn greet(&mut self) -> BoxFuture<'_, String>;

    /// Answers one caller turn (the transcript).
    ///
    /// # Errors
    /// A message when the turn could not be handled (the store failed); the
    /// session apologises and goes on.
    fn reply<'a>(&'a mut self, text: &'a str) -> BoxFuture<'a, Result<AgentReply, String>>;
}

/// The receptionist: one dialogue over a business's engine (each turn runs
/// on the business's current engine, so a configuration reload takes effect
/// on the next turn).
pub struct EngineAgent {
    state: Arc<AppState>,
    tenant: Id,
    dialogue: Dialogue,
    session_id: String,
    caller: Option<String>,
}

impl EngineAgent {
    /// A conversation for a call `session_id` (the call SID) from `caller`
    /// (E.164, when known: a known client is greeted by name).
    /// The call is for the default business.
    pub async fn new(state: Arc<AppState>, session_id: &str, caller: Option<String>) -> Self {
        let default = state.engine();
        let engine = state.engines.get_on(default.repo().id(), Channel::Voice).await.unwrap_or(default);
        let dialogue = engine.dialogue_for(caller.as_deref()).await;
        EngineAgent { tenant: engine.repo().id(), state, dialogue, session_id: session_id.to_string(), caller }
    }

    /// A conversation for a call to business `tenant`.
    ///
    /// # Errors
    /// The business's engine cannot be built (no such business, database down).
    pub async fn for_tenant(state: Arc<AppState>, tenant: Id, session_id: &str, caller: Option<String>) -> anyhow::Result<Self> {
        let engine = state.engines.get_on(tenant, Channel::Voice).await?;
        let dialogue = engine.dialogue_for(caller.as_deref()).await;
        Ok(EngineAgent { tenant, state, dialogue, session_id: session_id.to_string(), caller })
    }

    /// The business's current engine.
    async fn engine(&self) -> Result<Arc<crate::app::ServerEngine>, String> {
        self.state.engines.get_on(self.tenant, Channel::Voice).await.map_err(|e| e.to_string())
    }

    /// Whether the caller is a known client (the greeting is personal).
    pub fn knows_caller(&self) -> bool {
        self.dialogue.client().is_some()
    }
}

impl Agent for EngineAgent {
    fn greet(&mut self) -> BoxFuture<'_, String> {
        Box::pin(async move {
            let now = self.state.clock.now();
            let engine = match self.engine().await {
                Ok(e) => e,
                Err(e) => {
                    // Never another business's greeting: a neutral one, and the turns will apologise.
                    tracing::error!(error = %e, "no conversation engine for the call's business");
                    return "Buongiorno, come posso aiutarla?".to_string();
                }
            };
            engine.start(&mut self.dialogue, &self.session_id, self.caller.clone(), now).await
        })
    }

    fn reply<'a>(&'a mut self, text: &'a str) -> BoxFuture<'a, Result<AgentReply, String>> {
        Box::pin(async move {
            let now = self.state.clock.now();
            let engine = self.engine().await?;
            let report = engine.turn(&mut self.dialogue, &self.session_id, text, now).await.map_err(|e| e.to_string())?;
            Ok(AgentReply {
                text: report.reply,
                ended: report.ended,
                transfer: report.transfer,
                booking: report.booking,
                intent: report.intent.as_str().to_string(),
                layer: report.layer.as_str().to_string(),
            })
        })
    }
}

/// Common booking words, as a caller says them, after the business's own
/// names in [`stt_prompt`]: they steer Whisper towards the spelling and the
/// forms (times as "15:30") the NLU reads best.
pub const BOOKING_WORDS: &str =
    "Buongiorno, vorrei prenotare un appuntamento per domani alle 15:30. Posso spostare o disdire la prenotazione di lunedì mattina?";

/// Words a recogniser should expect for `info`'s business: its name, its
/// services and its operators, then [`BOOKING_WORDS`] (Whisper's initial
/// prompt, Deepgram keywords); at most about 600 characters, the business's
/// names first.
pub fn stt_prompt(info: &fluxion_core::booking::desk::BusinessInfo) -> String {
    let mut prompt = format!("{}.", info.business.name);
    let names = info.services.iter().map(|s| s.name.as_str()).chain(info.operators.iter().map(|o| o.name.as_str()));
    for name in names {
        if prompt.len() + name.len() + 2 > 600 - BOOKING_WORDS.len() {
            break;
        }
        prompt.push(' ');
        prompt.push_str(name);
        prompt.push(',');
    }
    let mut prompt = prompt.trim_end_matches([',', '.']).to_string();
    prompt.push_str(". ");
    prompt.push_str(BOOKING_WORDS);
    prompt
}
