//! Drives a [`Dialogue`] against the storage port: runs the NLU pipeline on
//! a user turn, carries out the actions the dialogue asks for (slot search,
//! booking writes, look-ups, the L4 fallback) and feeds their outcomes back
//! until only replies remain, then records both turns in the chat history.

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;

use super::{Action, BusinessInfo, Dialogue, Input, Outcome, WriteFailure};
use crate::booking::desk::FrontDesk;
use crate::booking::{Appointment, Channel, Repository, StoreError};
use crate::fallback::{Fallback, FallbackRequest, FAQ_HINT_MIN_SCORE};
use crate::history::{CallbackRequest, ChatTurn, ModelUse, Role, WaitlistEntry};
use crate::nlu::{Intent, Layer, NluResult, Pipeline, Slots};

/// Upper bound of action/outcome rounds per turn, so a dialogue bug can
/// never loop forever.
const MAX_ROUNDS: usize = 16;

/// What the actions of one turn may need to know.
struct TurnContext<'a> {
    history: &'a [(Role, String)],
    caller_phone: Option<String>,
    nlu: Option<&'a NluResult>,
    /// Filled when the fallback's model answered.
    model_use: std::sync::Mutex<Option<ModelUse>>,
}

/// What one user turn produced.
#[derive(Debug, Clone)]
pub struct TurnReport {
    /// The reply, all sentences joined.
    pub reply: String,
    /// The intent finally decided.
    pub intent: Intent,
    /// The layer that answered.
    pub layer: Layer,
    /// L1/L3 confidence in `[0, 1]`.
    pub confidence: f32,
    /// Slots found in the turn.
    pub slots: Slots,
    /// Appointment created, moved or cancelled by this turn.
    pub booking: Option<Appointment>,
    /// Whether the conversation ended (goodbye).
    pub ended: bool,
    /// Whether a transfer to a person was asked for.
    pub transfer: bool,
    /// The NLU result, with per-layer timings.
    pub nlu: NluResult,
    /// Whole-turn processing time in µs.
    pub latency_us: u64,
    /// The language model used, when L4 answered.
    pub model_use: Option<ModelUse>,
}

/// Shared, per-business machinery for running conversations.
pub struct Engine<R, F> {
    desk: FrontDesk<R>,
    fallback: F,
    pipeline: Arc<Pipeline>,
    info: Arc<BusinessInfo>,
    channel: Channel,
}

impl<R: Repository, F: Fallback> Engine<R, F> {
    /// An engine over a repository, a fallback (L4 seam) and the pipeline
    /// built for the business.
    pub fn new(repo: R, fallback: F, pipeline: Arc<Pipeline>, info: Arc<BusinessInfo>, channel: Channel) -> Self {
        Engine { desk: FrontDesk::new(repo, info.clone(), channel), fallback, pipeline, info, channel }
    }

    /// The business facts.
    pub fn info(&self) -> &Arc<BusinessInfo> {
        &self.info
    }

    /// The repository.
    pub fn repo(&self) -> &R {
        self.desk.repo()
    }

    /// The booking operations.
    pub fn desk(&self) -> &FrontDesk<R> {
        &self.desk
    }

    /// The tool registry (L4 and MCP) over this engine's desk and pipeline.
    pub fn tools(&self) -> crate::tools::Tools<'_, R> {
        crate::tools::Tools::new(&self.desk, &self.pipeline)
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// A new dialogue for this business.
    pub fn dialogue(&self) -> Dialogue {
        Dialogue::new(self.info.clone())
    }

    /// A new dialogue with the caller ID set and the caller looked up (a
    /// failed look-up just leaves the caller unknown).
    pub async fn dialogue_for(&self, phone: Option<&str>) -> Dialogue {
        let mut d = self.dialogue();
        if let Some(p) = phone {
            let client = self.desk.repo().client_by_phone(p).await.ok().flatten();
            d.set_caller(p.to_string(), client);
        }
        d
    }

    /// A new dialogue for a caller whose number is `phone`: with `verified`
    /// the number is the caller's identity and the client is looked up (as
    /// [`Engine::dialogue_for`]); otherwise it is a number the caller said
    /// ([`Dialogue::set_said_phone`]).
    pub async fn dialogue_for_caller(&self, phone: Option<&str>, verified: bool) -> Dialogue {
        match phone {
            Some(p) if !verified => {
                let mut d = self.dialogue();
                d.set_said_phone(p.to_string());
                d
            }
            _ => self.dialogue_for(phone).await,
        }
    }

    /// Starts a conversation: looks the caller up by phone and returns the
    /// greeting.
    pub async fn start(&self, dialogue: &mut Dialogue, session_id: &str, phone: Option<String>, now: Timestamp) -> String {
        let mut said = Vec::new();
        let mut transfer = false;
        self.run(dialogue, Input::Start { phone }, session_id, now, None, &mut said, &mut transfer).await;
        said.join(" ")
    }

    /// Handles one user turn at instant `now`.
    ///
    /// # Errors
    /// Only when the chat history cannot be written; booking failures are
    /// spoken about, not returned.
    pub async fn turn(&self, dialogue: &mut Dialogue, session_id: &str, text: &str, now: Timestamp) -> Result<TurnReport, StoreError> {
        let started = Instant::now();
        let local_now = self.info.local(now);
        let nlu = self.pipeline.parse(text, local_now);
        let mut said = Vec::new();
        let mut transfer = false;
        let input = Input::Turn { text: text.to_string(), nlu: Box::new(nlu.clone()) };
        let model_use = self.run(dialogue, input, session_id, now, Some(&nlu), &mut said, &mut transfer).await;
        let (intent, layer) = dialogue.last_understanding();
        let latency_us = started.elapsed().as_micros() as u64;
        let reply = said.join(" ");
        let report = TurnReport {
            reply,
            intent: intent.unwrap_or(nlu.intent),
            layer: layer.unwrap_or(nlu.layer),
            confidence: nlu.confidence,
            slots: nlu.slots.clone(),
            booking: dialogue.take_last_booking(),
            ended: dialogue.ended(),
            transfer,
            nlu,
            latency_us,
            model_use: model_use.clone(),
        };
        dialogue.remember(Role::User, text);
        dialogue.remember(Role::Assistant, &report.reply);
        let client_id = dialogue.client().map(|c| c.id);
        let user = ChatTurn {
            session_id: session_id.to_string(),
            client_id,
            role: Role::User,
            text: text.to_string(),
            intent: Some(report.intent),
            layer: Some(report.layer),
            latency_us,
            timings: Some(report.nlu.timings),
            model_use: model_use.clone(),
            at: now,
            channel: self.channel,
        };
        let assistant = ChatTurn {
            role: Role::Assistant,
            text: report.reply.clone(),
            intent: None,
            layer: None,
            timings: None,
            model_use: None,
            ..user.clone()
        };
        self.desk.repo().record_turn(&user).await?;
        self.desk.repo().record_turn(&assistant).await?;
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        dialogue: &mut Dialogue,
        first: Input,
        session_id: &str,
        now: Timestamp,
        nlu: Option<&NluResult>,
        said: &mut Vec<String>,
        transfer: &mut bool,
    ) -> Option<ModelUse> {
        let history = dialogue.history().to_vec();
        let ctx = TurnContext {
            history: &history,
            caller_phone: dialogue.caller_phone().map(str::to_string),
            nlu,
            model_use: Default::default(),
        };
        let mut pending = vec![first];
        let mut rounds = 0;
        while let Some(input) = pending.pop() {
            rounds += 1;
            if rounds > MAX_ROUNDS {
                said.push("Mi scusi, può ripetere?".to_string());
                break;
            }
            for action in dialogue.handle(input, now) {
                match action {
                    Action::Say(s) => said.push(s),
                    Action::Transfer => *transfer = true,
                    Action::Hangup => {}
                    other => {
                        if let Some(o) = self.execute(other, session_id, now, &ctx).await {
                            pending.push(Input::Outcome(o));
                        }
                    }
                }
            }
        }
        ctx.model_use.into_inner().ok().flatten()
    }

    async fn execute(&self, action: Action, session_id: &str, now: Timestamp, ctx: &TurnContext<'_>) -> Option<Outcome> {
        match action {
            Action::LookupClient { phone } => Some(Outcome::Client(self.desk.repo().client_by_phone(&phone).await.ok().flatten())),
            Action::FindSlots { service_id, operator_id, wanted, limit } => {
                let found = self.desk.find_slots(service_id, operator_id, wanted, limit, now).await;
                Some(Outcome::Slots { slots: found.slots, exact: found.exact, reason: found.reason })
            }
            Action::FindPackages { service_ids, operator_id, wanted, limit } => {
                let found = self.desk.find_packages(&service_ids, operator_id, wanted, limit, now).await;
                Some(Outcome::Packages { packages: found.packages, exact: found.exact, reason: found.reason })
            }
            Action::Book { client, service_id, slot } => Some(Outcome::Booked(self.desk.book(client, service_id, slot, now).await)),
            Action::ListUpcoming { client_id } => {
                Some(Outcome::Upcoming(self.desk.repo().upcoming_for_client(client_id, now).await.unwrap_or_default()))
            }
            Action::ListHistory { client_id } => {
                let mut past = self.desk.repo().history_for_client(client_id, 5).await.unwrap_or_default();
                past.retain(|a| a.start < now);
                Some(Outcome::History(past))
            }
            Action::Cancel { appointment_id } => Some(Outcome::Cancelled(self.desk.cancel(appointment_id).await)),
            Action::Reschedule { appointment_id, slot } => {
                Some(Outcome::Rescheduled(self.desk.reschedule(appointment_id, slot, now).await))
            }
            Action::Waitlist { client_id, service_id, operator_id, preference } => {
                let entry = WaitlistEntry { client_id, service_id, operator_id, preference, created_at: now };
                Some(Outcome::Recorded(self.desk.repo().add_waitlist(&entry).await.map(|_| ()).map_err(|_| WriteFailure::Unavailable)))
            }
            Action::RequestCallback { kind, client_id, name, phone, reason } => {
                let req = CallbackRequest { kind, client_id, name, phone, session_id: session_id.to_string(), reason, created_at: now };
                let written = self.desk.repo().add_callback_request(&req).await;
                Some(Outcome::Recorded(written.map(|_| ()).map_err(|_| WriteFailure::Unavailable)))
            }
            Action::Fallback { text } => {
                let request = FallbackRequest {
                    text: &text,
                    history: ctx.history,
                    session_id,
                    caller_phone: ctx.caller_phone.as_deref(),
                    confirmed: ctx.nlu.is_some_and(|n| n.intent == Intent::Confirm),
                    faq_hint: ctx.nlu.and_then(|n| n.faq.as_ref()).filter(|h| h.score >= FAQ_HINT_MIN_SCORE).map(|h| h.answer.as_str()),
                    now,
                };
                let reply = self.fallback.answer(request).await;
                if let (Some(r), Ok(mut slot)) = (&reply, ctx.model_use.lock()) {
                    *slot = r.model.clone().map(|model| ModelUse { model, tokens: r.tokens, tool_calls: r.tool_calls.clone() });
                }
                Some(Outcome::Fallback(reply))
            }
            Action::Say(_) | Action::Transfer | Action::Hangup => None,
        }
    }
}
