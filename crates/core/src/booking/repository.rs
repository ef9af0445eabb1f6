//! The storage port: what the booking domain and the dialogue need from a
//! database. SQLite (embedded default) and PostgreSQL implement it in the
//! server crate; the testkit has an in-memory one.

use std::future::Future;

use jiff::Timestamp;

use super::{Appointment, Business, Channel, Client, Id, Operator, Service};
use crate::faq::Faq;
use crate::history::{CallbackRequest, ChatTurn, MessageQueued, MessageRequest, WaitlistEntry};

/// A failure of the storage backend itself (I/O, locked database, broken SQL).
#[derive(Debug, Clone, thiserror::Error)]
#[error("storage error: {message}")]
pub struct StoreError {
    /// Human-readable cause, safe to log (never contains secrets).
    pub message: String,
    /// Whether retrying the same operation may succeed (busy/locked database,
    /// dropped connection).
    pub retryable: bool,
    /// The write would break a unique key (a second service with the same
    /// name): the input clashes with stored data, the storage is fine.
    pub unique_violation: bool,
}

impl StoreError {
    /// A non-retryable error with the given message.
    pub fn fatal(message: impl Into<String>) -> Self {
        StoreError { message: message.into(), retryable: false, unique_violation: false }
    }
}

/// Why a booking operation was refused. These are values the dialogue speaks
/// about, not crashes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BookingError {
    /// Another appointment of the same operator overlaps the requested interval
    /// (buffer included). Nothing was written.
    #[error("the slot is already taken")]
    SlotTaken,
    /// The requested interval breaks a rule (closed, outside hours, too soon,
    /// too far ahead, operator does not perform the service).
    #[error("the slot cannot be booked: {0}")]
    NotBookable(String),
    /// No appointment, client, service or operator with that id.
    #[error("not found: {0}")]
    NotFound(String),
    /// The appointment is not in the `booked` state (already cancelled…).
    #[error("appointment {0} is not active")]
    NotActive(Id),
    /// The backend failed; see [`StoreError::retryable`].
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What is needed to create an appointment. `start`/`end` are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAppointment {
    /// Existing client.
    pub client_id: Id,
    /// Operator who performs it.
    pub operator_id: Id,
    /// Service booked.
    pub service_id: Id,
    /// Start instant (UTC).
    pub start: Timestamp,
    /// End instant (UTC).
    pub end: Timestamp,
    /// Where the booking came from.
    pub channel: Channel,
}

/// The storage port. Every method is one atomic operation.
///
/// Implementations must make [`Repository::book`] and
/// [`Repository::reschedule`] check for overlaps (with `buffer_min` minutes of
/// margin on each side) and write in one serialised transaction, so that
/// concurrent attempts on the same slot see exactly one success and the rest
/// [`BookingError::SlotTaken`].
pub trait Repository: Send + Sync {
    /// The business this database serves. `NotFound` when the database has
    /// not been seeded.
    fn business(&self) -> impl Future<Output = Result<Business, BookingError>> + Send;
    /// All active services.
    fn services(&self) -> impl Future<Output = Result<Vec<Service>, StoreError>> + Send;
    /// All active operators with their hours, absences and services.
    fn operators(&self) -> impl Future<Output = Result<Vec<Operator>, StoreError>> + Send;
    /// Appointments in state `booked` that overlap `[from, to)`.
    fn booked_between(&self, from: Timestamp, to: Timestamp) -> impl Future<Output = Result<Vec<Appointment>, StoreError>> + Send;
    /// One appointment by id, any state.
    fn appointment(&self, id: Id) -> impl Future<Output = Result<Option<Appointment>, StoreError>> + Send;
    /// The client's `booked` appointments that start at or after `now`, soonest first.
    fn upcoming_for_client(&self, client_id: Id, now: Timestamp) -> impl Future<Output = Result<Vec<Appointment>, StoreError>> + Send;
    /// The client's past appointments, most recent first (for "il solito").
    fn history_for_client(&self, client_id: Id, limit: u32) -> impl Future<Output = Result<Vec<Appointment>, StoreError>> + Send;
    /// Client by E.164 phone.
    fn client_by_phone(&self, phone: &str) -> impl Future<Output = Result<Option<Client>, StoreError>> + Send;
    /// Client by id.
    fn client(&self, id: Id) -> impl Future<Output = Result<Option<Client>, StoreError>> + Send;
    /// Clients whose name matches (case- and accent-insensitive substring).
    fn clients_by_name(&self, name: &str) -> impl Future<Output = Result<Vec<Client>, StoreError>> + Send;
    /// All clients, by name.
    fn clients(&self) -> impl Future<Output = Result<Vec<Client>, StoreError>> + Send;
    /// Finds the client by phone or creates it; updates name/email when given.
    fn upsert_client(&self, name: &str, phone: &str, email: Option<&str>) -> impl Future<Output = Result<Client, StoreError>> + Send;
    /// Creates an appointment atomically (see the trait docs). `buffer_min` is
    /// the business's buffer between appointments, in minutes.
    fn book(&self, new: NewAppointment, buffer_min: u32) -> impl Future<Output = Result<Appointment, BookingError>> + Send;
    /// Cancels a `booked` appointment.
    fn cancel(&self, id: Id) -> impl Future<Output = Result<Appointment, BookingError>> + Send;
    /// Moves a `booked` appointment to a new interval/operator atomically,
    /// ignoring its own current interval in the overlap check.
    fn reschedule(
        &self,
        id: Id,
        operator_id: Id,
        start: Timestamp,
        end: Timestamp,
        buffer_min: u32,
    ) -> impl Future<Output = Result<Appointment, BookingError>> + Send;
    /// FAQ entries of the business.
    fn faqs(&self) -> impl Future<Output = Result<Vec<Faq>, StoreError>> + Send;
    /// Appends one turn to the chat history.
    fn record_turn(&self, turn: &ChatTurn) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a waitlist request when nothing fits.
    fn add_waitlist(&self, entry: &WaitlistEntry) -> impl Future<Output = Result<Id, StoreError>> + Send;
    /// Records a request to be called back by a person.
    fn add_callback_request(&self, request: &CallbackRequest) -> impl Future<Output = Result<Id, StoreError>> + Send;
    /// Queues a written message to a client in the notification outbox,
    /// under the consent rules ([`MessageRequest::requested_by_recipient`]).
    fn queue_message(&self, request: &MessageRequest) -> impl Future<Output = Result<MessageQueued, StoreError>> + Send;
}
