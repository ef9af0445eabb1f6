//! A finished call's outcome for the calls table, from the voice session's summary.

use fluxion_core::booking::AppointmentStatus;

use crate::store::calls::CallOutcome;
use crate::voice::{CallSummary, HangupReason};

/// Intents that answer a question without booking.
const QUESTION_INTENTS: &[&str] = &["faq", "opening_hours", "price", "availability"];

/// The outcome: transferred, then the last booking's kind (cancelled,
/// rescheduled when a move was asked for, booked), then failed (repeated
/// recognition failures), answered FAQ, a normal goodbye (completed), and
/// abandoned for everything else (the caller left first).
pub fn outcome(summary: &CallSummary) -> CallOutcome {
    if summary.transfer_requested {
        return CallOutcome::Transferred;
    }
    if let Some(last) = summary.bookings.last() {
        if last.status == AppointmentStatus::Cancelled {
            return CallOutcome::Cancelled;
        }
        let asked_to_move = summary.turns.iter().any(|t| t.intent == "reschedule");
        return if asked_to_move { CallOutcome::Rescheduled } else { CallOutcome::Booked };
    }
    if summary.reason == HangupReason::NotUnderstood {
        return CallOutcome::Failed;
    }
    if summary.turns.iter().any(|t| QUESTION_INTENTS.contains(&t.intent.as_str())) {
        return CallOutcome::AnsweredFaq;
    }
    if summary.reason == HangupReason::Completed {
        return CallOutcome::Completed;
    }
    CallOutcome::Abandoned
}
