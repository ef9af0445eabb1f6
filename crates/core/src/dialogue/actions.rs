//! What the dialogue asks the session to do ([`Action`]), what comes back
//! ([`Outcome`]) and what goes in ([`Input`]).

use super::{Appointment, Client, ClientDetails, Id, Slot, Wanted, WriteFailure};
use crate::history::RequestKind;
use crate::nlu::NluResult;

/// Something the session must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Speak / write this Italian text.
    Say(String),
    /// Look the caller up by phone → [`Outcome::Client`].
    LookupClient {
        /// E.164.
        phone: String,
    },
    /// Search consecutive free slots for several services, one after the
    /// other ("tinta e piega") → [`Outcome::Packages`].
    FindPackages {
        /// The services, in the order they are performed.
        service_ids: Vec<Id>,
        /// Wanted operator (for the services they perform), `None` for anyone.
        operator_id: Option<Id>,
        /// When the first service should start.
        wanted: Wanted,
        /// How many packages to return at most.
        limit: usize,
    },
    /// Search free slots → [`Outcome::Slots`].
    FindSlots {
        /// Service.
        service_id: Id,
        /// Wanted operator, `None` for anyone.
        operator_id: Option<Id>,
        /// When.
        wanted: Wanted,
        /// How many to return at most.
        limit: usize,
    },
    /// Create the appointment (creating/updating the client) → [`Outcome::Booked`].
    Book {
        /// The caller.
        client: ClientDetails,
        /// Service.
        service_id: Id,
        /// The slot chosen (operator, UTC interval).
        slot: Slot,
    },
    /// The client's upcoming appointments → [`Outcome::Upcoming`].
    ListUpcoming {
        /// Client.
        client_id: Id,
    },
    /// The client's last appointments, for "il solito" → [`Outcome::History`].
    ListHistory {
        /// Client.
        client_id: Id,
    },
    /// Cancel → [`Outcome::Cancelled`].
    Cancel {
        /// Appointment.
        appointment_id: Id,
    },
    /// Move → [`Outcome::Rescheduled`].
    Reschedule {
        /// Appointment.
        appointment_id: Id,
        /// New slot.
        slot: Slot,
    },
    /// Put the caller on the waitlist → [`Outcome::Recorded`].
    Waitlist {
        /// Client, when known.
        client_id: Option<Id>,
        /// Service wanted.
        service_id: Id,
        /// Operator wanted.
        operator_id: Option<Id>,
        /// Free-text preference (local day).
        preference: String,
    },
    /// Record a request for the owner (callback, complaint, privacy) →
    /// [`Outcome::Recorded`].
    RequestCallback {
        /// What it is about.
        kind: RequestKind,
        /// Client, when known.
        client_id: Option<Id>,
        /// The caller's name as given, when not a known client.
        name: Option<String>,
        /// Number to call back.
        phone: Option<String>,
        /// The caller's words.
        reason: String,
    },
    /// Ask the L4 fallback → [`Outcome::Fallback`].
    Fallback {
        /// The caller's words.
        text: String,
    },
    /// Hand the call to a person (voice channels).
    Transfer,
    /// End the conversation.
    Hangup,
}

/// The result of an action, fed back as input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Result of [`Action::LookupClient`].
    Client(Option<Client>),
    /// Result of [`Action::FindSlots`]: free slots (UTC), nearest first, and
    /// whether the exact wanted time is among them.
    Slots {
        /// Up to `limit` slots.
        slots: Vec<Slot>,
        /// The `Wanted::At` time itself is free (always false otherwise).
        exact: bool,
        /// Why the wanted time is not possible, when known ("Pasqua", "chiuso").
        reason: Option<String>,
    },
    /// Result of [`Action::FindPackages`]: one slot per service each, the
    /// first starting nearest to what was wanted.
    Packages {
        /// Up to `limit` packages.
        packages: Vec<Vec<Slot>>,
        /// The `Wanted::At` time itself is free for the whole package.
        exact: bool,
        /// Why the wanted time is not possible, when known.
        reason: Option<String>,
    },
    /// Result of [`Action::Book`].
    Booked(Result<(Appointment, Client), WriteFailure>),
    /// Result of [`Action::ListUpcoming`].
    Upcoming(Vec<Appointment>),
    /// Result of [`Action::ListHistory`].
    History(Vec<Appointment>),
    /// Result of [`Action::Cancel`].
    Cancelled(Result<Appointment, WriteFailure>),
    /// Result of [`Action::Reschedule`].
    Rescheduled(Result<Appointment, WriteFailure>),
    /// Result of [`Action::Waitlist`] and [`Action::RequestCallback`].
    Recorded(Result<(), WriteFailure>),
    /// Result of [`Action::Fallback`]: the model's reply, if any.
    Fallback(Option<crate::fallback::FallbackReply>),
}

/// One input to the state machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The conversation starts; `phone` is the caller ID when known.
    Start {
        /// E.164 caller ID.
        phone: Option<String>,
    },
    /// The caller said something.
    Turn {
        /// The raw text.
        text: String,
        /// What the NLU understood.
        nlu: Box<NluResult>,
    },
    /// The result of an earlier action.
    Outcome(Outcome),
}
