//! Drives a [`Dialogue`] against the storage port: runs the NLU pipeline on
//! a user turn, carries out the actions the dialogue asks for (slot search,
//! booking writes, look-ups, the L4 fallback) and feeds their outcomes back
//! until only replies remain, then records both turns in the chat history.

use std::sync::Arc;
use std::time::Instant;

use jiff::civil::DateTime;
use jiff::{Timestamp, ToSpan};

use super::{Action, BusinessInfo, Dialogue, Input, Outcome, Wanted, WriteFailure};
use crate::booking::availability::{self, Query, Unavailable};
use crate::booking::{Appointment, BookingError, Channel, NewAppointment, Repository, Slot, StoreError};
use crate::history::{CallbackRequest, ChatTurn, Role, WaitlistEntry};
use crate::nlu::{Fallback, Intent, Layer, NluResult, Pipeline, Slots};

/// Upper bound of action/outcome rounds per turn, so a dialogue bug can
/// never loop forever.
const MAX_ROUNDS: usize = 16;

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
}

/// Shared, per-business machinery for running conversations.
pub struct Engine<R, F> {
    repo: R,
    fallback: F,
    pipeline: Arc<Pipeline>,
    info: Arc<BusinessInfo>,
    channel: Channel,
}

impl<R: Repository, F: Fallback> Engine<R, F> {
    /// An engine over a repository, a fallback (L4 seam) and the pipeline
    /// built for the business.
    pub fn new(repo: R, fallback: F, pipeline: Arc<Pipeline>, info: Arc<BusinessInfo>, channel: Channel) -> Self {
        Engine { repo, fallback, pipeline, info, channel }
    }

    /// The business facts.
    pub fn info(&self) -> &Arc<BusinessInfo> {
        &self.info
    }

    /// The repository.
    pub fn repo(&self) -> &R {
        &self.repo
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
            let client = self.repo.client_by_phone(p).await.ok().flatten();
            d.set_caller(p.to_string(), client);
        }
        d
    }

    /// Starts a conversation: looks the caller up by phone and returns the
    /// greeting.
    pub async fn start(&self, dialogue: &mut Dialogue, session_id: &str, phone: Option<String>, now: Timestamp) -> String {
        let mut said = Vec::new();
        let mut transfer = false;
        self.run(dialogue, Input::Start { phone }, session_id, now, &mut said, &mut transfer).await;
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
        self.run(dialogue, input, session_id, now, &mut said, &mut transfer).await;
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
        };
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
            at: now,
            channel: self.channel,
        };
        let assistant =
            ChatTurn { role: Role::Assistant, text: report.reply.clone(), intent: None, layer: None, timings: None, ..user.clone() };
        self.repo.record_turn(&user).await?;
        self.repo.record_turn(&assistant).await?;
        Ok(report)
    }

    async fn run(
        &self,
        dialogue: &mut Dialogue,
        first: Input,
        session_id: &str,
        now: Timestamp,
        said: &mut Vec<String>,
        transfer: &mut bool,
    ) {
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
                        if let Some(o) = self.execute(other, session_id, now, said).await {
                            pending.push(Input::Outcome(o));
                        }
                    }
                }
            }
        }
    }

    async fn execute(&self, action: Action, session_id: &str, now: Timestamp, said: &[String]) -> Option<Outcome> {
        match action {
            Action::LookupClient { phone } => Some(Outcome::Client(self.repo.client_by_phone(&phone).await.ok().flatten())),
            Action::FindSlots { service_id, operator_id, wanted, limit } => {
                Some(self.find_slots(service_id, operator_id, wanted, limit, now).await)
            }
            Action::Book { client, service_id, slot } => Some(Outcome::Booked(self.book(client, service_id, slot, now).await)),
            Action::ListUpcoming { client_id } => {
                Some(Outcome::Upcoming(self.repo.upcoming_for_client(client_id, now).await.unwrap_or_default()))
            }
            Action::ListHistory { client_id } => {
                let mut past = self.repo.history_for_client(client_id, 5).await.unwrap_or_default();
                past.retain(|a| a.start < now);
                Some(Outcome::History(past))
            }
            Action::Cancel { appointment_id } => Some(Outcome::Cancelled(self.repo.cancel(appointment_id).await.map_err(failure))),
            Action::Reschedule { appointment_id, slot } => Some(Outcome::Rescheduled(self.reschedule(appointment_id, slot, now).await)),
            Action::Waitlist { client_id, service_id, operator_id, preference } => {
                let entry = WaitlistEntry { client_id, service_id, operator_id, preference, created_at: now };
                let _ = self.repo.add_waitlist(&entry).await;
                None
            }
            Action::RequestCallback { client_id, phone, reason } => {
                let req = CallbackRequest { client_id, phone, session_id: session_id.to_string(), reason, created_at: now };
                let _ = self.repo.add_callback_request(&req).await;
                None
            }
            Action::Fallback { text } => {
                let history: Vec<(String, String)> = said.iter().map(|s| ("assistant".to_string(), s.clone())).collect();
                Some(Outcome::Fallback(self.fallback.answer(&text, &history).await))
            }
            Action::Say(_) | Action::Transfer | Action::Hangup => None,
        }
    }

    /// Loads the booked appointments of the window the search may look at.
    async fn booked_around(&self, from: DateTime, to: DateTime) -> Result<Vec<Appointment>, StoreError> {
        let tz = &self.info.tz;
        let start = tz.to_timestamp(from).unwrap_or(Timestamp::MIN);
        let end = tz.to_timestamp(to).unwrap_or(Timestamp::MAX);
        self.repo.booked_between(start, end).await
    }

    async fn find_slots(&self, service_id: i64, operator_id: Option<i64>, wanted: Wanted, limit: usize, now: Timestamp) -> Outcome {
        let empty = Outcome::Slots { slots: Vec::new(), exact: false, reason: None };
        let Some(service) = self.info.service(service_id).cloned() else { return empty };
        let (b, ops) = (&self.info.business, &self.info.operators);
        let today = self.info.local(now).date();
        let horizon = today.checked_add((b.rules.horizon_days as i64 + 1).days()).unwrap_or(today);
        let window = match wanted {
            Wanted::Earliest => (today, horizon),
            Wanted::Day(d) => (d, d),
            Wanted::Range(s, e) => (s.date(), e.date()),
            Wanted::At(dt) => (dt.date(), dt.date()),
        };
        // Alternatives may lie anywhere in the horizon: load all of it.
        let (from, to) = (today, horizon);
        let booked = match self.booked_around(from.to_datetime(jiff::civil::Time::MIN), to.to_datetime(jiff::civil::Time::MAX)).await {
            Ok(b) => b,
            // Fail closed: without the bookings nothing is offered.
            Err(_) => return empty,
        };
        let nearest = |at: DateTime| availability::nearest_free(b, ops, &booked, &service, operator_id, at, now, limit).unwrap_or_default();
        match wanted {
            Wanted::At(dt) => {
                let start = self.info.tz.to_timestamp(dt).ok();
                let checked = start.map(|s| availability::check_slot(b, ops, &booked, &service, operator_id, s, now));
                match checked {
                    Some(Ok(slot)) => Outcome::Slots { slots: vec![slot], exact: true, reason: None },
                    Some(Err(e)) => Outcome::Slots { slots: nearest(dt), exact: false, reason: spoken_reason(&e) },
                    None => Outcome::Slots { slots: nearest(dt), exact: false, reason: None },
                }
            }
            Wanted::Earliest => {
                let first = availability::first_free(b, ops, &booked, &service, operator_id, now).ok().flatten();
                Outcome::Slots { slots: first.into_iter().collect(), exact: false, reason: None }
            }
            Wanted::Day(_) | Wanted::Range(..) => {
                let q = Query { service: &service, operator: operator_id, from: window.0, to: window.1, now };
                let all = availability::free_slots(b, ops, &booked, &q).unwrap_or_default();
                let mut starts = availability::distinct_starts(&all);
                if let Wanted::Range(s, e) = wanted {
                    starts.retain(|sl| {
                        let l = self.info.local(sl.start);
                        l >= s && l < e
                    });
                }
                if starts.is_empty() {
                    let anchor = match wanted {
                        Wanted::Range(s, _) => s,
                        _ => window.0.to_datetime(jiff::civil::time(12, 0, 0, 0)),
                    };
                    return Outcome::Slots { slots: nearest(anchor), exact: false, reason: None };
                }
                Outcome::Slots { slots: spread(&starts, limit), exact: false, reason: None }
            }
        }
    }

    /// Re-checks the slot against the rules, then writes it (the store
    /// re-checks overlaps inside its transaction).
    async fn book(
        &self,
        client: super::ClientDetails,
        service_id: i64,
        slot: Slot,
        now: Timestamp,
    ) -> Result<(Appointment, crate::booking::Client), WriteFailure> {
        self.check(service_id, slot, now, None).await?;
        let phone = client.phone.clone().ok_or(WriteFailure::NotBookable)?;
        let name = client.name.clone().unwrap_or_else(|| "Cliente".to_string());
        let c = self.repo.upsert_client(&name, &phone, client.email.as_deref()).await.map_err(|_| WriteFailure::Unavailable)?;
        let new = NewAppointment {
            client_id: c.id,
            operator_id: slot.operator_id,
            service_id,
            start: slot.start,
            end: slot.end,
            channel: self.channel,
        };
        let a = self.repo.book(new, self.info.business.rules.buffer_min).await.map_err(failure)?;
        Ok((a, c))
    }

    async fn reschedule(&self, id: i64, slot: Slot, now: Timestamp) -> Result<Appointment, WriteFailure> {
        let current = self.repo.appointment(id).await.map_err(|_| WriteFailure::Unavailable)?.ok_or(WriteFailure::NotFound)?;
        self.check(current.service_id, slot, now, Some(id)).await?;
        self.repo.reschedule(id, slot.operator_id, slot.start, slot.end, self.info.business.rules.buffer_min).await.map_err(failure)
    }

    async fn check(&self, service_id: i64, slot: Slot, now: Timestamp, ignore: Option<i64>) -> Result<(), WriteFailure> {
        let service = self.info.service(service_id).ok_or(WriteFailure::NotBookable)?;
        let day_start = slot.start.checked_sub(24.hours()).unwrap_or(slot.start);
        let day_end = slot.end.checked_add(24.hours()).unwrap_or(slot.end);
        let mut booked = self.repo.booked_between(day_start, day_end).await.map_err(|_| WriteFailure::Unavailable)?;
        booked.retain(|a| Some(a.id) != ignore);
        availability::check_slot(&self.info.business, &self.info.operators, &booked, service, Some(slot.operator_id), slot.start, now)
            .map(|_| ())
            .map_err(|e| if e == Unavailable::Taken { WriteFailure::SlotTaken } else { WriteFailure::NotBookable })
    }
}

fn failure(e: BookingError) -> WriteFailure {
    match e {
        BookingError::SlotTaken => WriteFailure::SlotTaken,
        BookingError::NotBookable(_) => WriteFailure::NotBookable,
        BookingError::NotFound(_) | BookingError::NotActive(_) => WriteFailure::NotFound,
        BookingError::Store(_) => WriteFailure::Unavailable,
    }
}

/// Why a wanted time is impossible, in words the caller understands.
fn spoken_reason(e: &Unavailable) -> Option<String> {
    match e {
        Unavailable::PublicHoliday(h) => Some(format!("è {h}, siamo chiusi")),
        Unavailable::Closed(r) => Some(format!("siamo chiusi: {}", r.to_lowercase())),
        Unavailable::OutsideHours => Some("siamo chiusi a quell'ora".to_string()),
        Unavailable::TooSoon(_) => Some("è troppo presto per prenotare".to_string()),
        Unavailable::TooFar(_) => Some("è troppo avanti nel calendario".to_string()),
        Unavailable::Taken => Some("è già occupato".to_string()),
        _ => None,
    }
}

/// Up to `limit` slots spread across the day (first, middle, last…).
fn spread(starts: &[Slot], limit: usize) -> Vec<Slot> {
    if starts.len() <= limit || limit < 2 {
        return starts.iter().take(limit.max(1)).copied().collect();
    }
    let n = starts.len() - 1;
    let mut out: Vec<Slot> = (0..limit).map(|i| starts[i * n / (limit - 1)]).collect();
    out.dedup();
    out
}
