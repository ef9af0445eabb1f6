//! The layered NLU pipeline: L0 patterns → L1 intent → L2 slots → L3 FAQ,
//! with a seam for L4 (a language model) behind [`Fallback`].
//!
//! Each layer is a file of its own; [`Pipeline::parse`] runs them in order on
//! one user turn and records which layer decided and how long each took.

pub mod analyzer;
pub mod asks;
pub mod datetime;
pub mod faq_terms;
pub mod l0_patterns;
pub mod l1_intent;
mod l2_names;
pub mod l2_services;
pub mod l2_slots;
pub mod l3_faq;
pub mod lexicon;
pub mod numbers;
pub mod phone;
mod pipeline;
pub mod transcript;

pub use pipeline::{LayerTimings, NluResult, Pipeline, PipelineConfig, PipelineError};

use serde::{Deserialize, Serialize};

/// What the caller wants, as a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Book an appointment ("vorrei prenotare un taglio").
    Book,
    /// Move an existing appointment.
    Reschedule,
    /// Cancel an existing appointment.
    Cancel,
    /// Ask whether there is room ("avete posto giovedì?").
    Availability,
    /// A question about the business (parking, payments, what to bring…).
    Faq,
    /// Opening hours.
    OpeningHours,
    /// Price of a service.
    Price,
    /// Wants to talk to a person.
    Human,
    /// Hello.
    Greeting,
    /// Yes / confirm.
    Confirm,
    /// No / deny.
    Deny,
    /// Goodbye / thanks, that's all.
    Goodbye,
    /// The caller asks about their own appointments ("a che ora è il mio
    /// appuntamento?", "quando devo venire?").
    MyAppointments,
    /// A complaint about a past visit or the service ("voglio fare un reclamo").
    Complaint,
    /// A data-protection request: erase my data, withdraw consent (GDPR).
    Privacy,
    /// Anything else.
    Other,
}

impl Intent {
    /// All intents in a fixed order (the classifier's label order).
    pub const ALL: [Intent; 16] = [
        Intent::Book,
        Intent::Reschedule,
        Intent::Cancel,
        Intent::Availability,
        Intent::Faq,
        Intent::OpeningHours,
        Intent::Price,
        Intent::Human,
        Intent::Greeting,
        Intent::Confirm,
        Intent::Deny,
        Intent::Goodbye,
        Intent::MyAppointments,
        Intent::Complaint,
        Intent::Privacy,
        Intent::Other,
    ];

    /// The snake_case label used in the training file and the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Book => "book",
            Intent::Reschedule => "reschedule",
            Intent::Cancel => "cancel",
            Intent::Availability => "availability",
            Intent::Faq => "faq",
            Intent::OpeningHours => "opening_hours",
            Intent::Price => "price",
            Intent::Human => "human",
            Intent::Greeting => "greeting",
            Intent::Confirm => "confirm",
            Intent::Deny => "deny",
            Intent::Goodbye => "goodbye",
            Intent::MyAppointments => "my_appointments",
            Intent::Complaint => "complaint",
            Intent::Privacy => "privacy",
            Intent::Other => "other",
        }
    }

    /// Parses a label; `None` for unknown labels.
    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// Which layer produced the answer of a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layer {
    /// Compiled patterns for short frequent turns.
    L0,
    /// Intent classifier.
    L1,
    /// Slot filling (a turn that only carried slots, e.g. "alle 16").
    L2,
    /// FAQ retrieval.
    L3,
    /// Language-model fallback.
    L4,
}

impl Layer {
    /// "L0" … "L4".
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::L0 => "L0",
            Layer::L1 => "L1",
            Layer::L2 => "L2",
            Layer::L3 => "L3",
            Layer::L4 => "L4",
        }
    }
    /// Parses "L0" … "L4".
    pub fn parse(s: &str) -> Option<Layer> {
        [Layer::L0, Layer::L1, Layer::L2, Layer::L3, Layer::L4].into_iter().find(|l| l.as_str() == s)
    }
}

/// A fact the business can state directly, recognised by L0 patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// "Dove siete?"
    Address,
    /// "Che orari fate?"
    OpeningHours,
    /// "Quanto costa?"
    Price,
}

/// Granularity of a resolved date/time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// A whole day ("domani").
    Day,
    /// An hour ("alle 15", "nel pomeriggio").
    Hour,
    /// A minute ("alle 10 e mezza", "alle 9:30").
    Minute,
}

/// A resolved date/time in the business's local time (no offset), as in the
/// `fluxion nlu parse` JSON contract: either one instant
/// `{"value": "2027-03-15T15:00:00", "grain": "hour"}` or a range
/// `{"start": …, "end": …, "grain": …}` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum DateTimeSlot {
    /// One point in time.
    Instant {
        /// Local date-time.
        #[schema(schema_with = crate::booking::schema::local_datetime)]
        value: jiff::civil::DateTime,
        /// Precision.
        grain: Grain,
    },
    /// A span ("nel pomeriggio", "stasera", "dal 3 al 5 maggio", "dopo le
    /// 17").
    Range {
        /// Inclusive start (local).
        #[schema(schema_with = crate::booking::schema::local_datetime)]
        start: jiff::civil::DateTime,
        /// Exclusive end (local).
        #[schema(schema_with = crate::booking::schema::local_datetime)]
        end: jiff::civil::DateTime,
        /// Precision of the bounds.
        grain: Grain,
        /// Which end the caller left open, if any ("prima delle 10" gives
        /// `start`, "dopo le 17" gives `end`); that end is then a default,
        /// not something said. Serialised as `"open": "start" | "end"`,
        /// omitted when both ends were said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        open: Option<OpenEnd>,
    },
}

/// The end of a [`DateTimeSlot::Range`] the caller did not say.
///
/// - `Start`: only a deadline was said ("prima delle 10", "entro le 13",
///   "entro il 20", "entro tre settimane"); `start` is the start of that day
///   (or today for a deadline that is a date). The end is exclusive: a
///   booking never starts at the deadline itself.
/// - `End`: only a beginning was said ("dopo le 17", "a partire dalle 15",
///   "dal 9 in poi"); `end` is the end of that day for a time, one month
///   after the start for a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpenEnd {
    /// The start was not said.
    Start,
    /// The end was not said.
    End,
}

/// Everything L2 found in one turn. Serialises to the `slots` object of the
/// JSON contract (absent slots are omitted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Slots {
    /// Date/time, resolved against "now" in the business's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datetime: Option<DateTimeSlot>,
    /// Service name as the business lists it (the catalogue's best single
    /// guess; see `services` for everything the turn names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Every service the turn names, in the order said ("tinta e piega"
    /// gives two), each either one named service or a vague mention the
    /// caller must narrow down ("una visita").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceMention>,
    /// Operator name as the business lists it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Caller's name ("Mario Rossi").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Caller's phone, E.164.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Caller's email, lowercased.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the date part was said (false for "alle 16" alone).
    #[serde(skip)]
    pub date_given: bool,
    /// Whether the time part was said (false for "domani" alone).
    #[serde(skip)]
    pub time_given: bool,
}

/// One service mention of a turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceMention {
    /// One service, named by its name or a synonym ("la tinta" → "Colore").
    Named {
        /// Service name as the business lists it.
        service: String,
    },
    /// Words that several services share ("una visita", "un massaggio", "un
    /// taglio" when there are taglio donna, uomo and bambino), or only part
    /// of one service's name ("un trattamento" for "Trattamento viso
    /// antietà"): the caller has to choose.
    Vague {
        /// What the caller said (normalised), e.g. "massaggio".
        said: String,
        /// The services it may mean, in catalogue order (at least one).
        among: Vec<String>,
    },
}

impl ServiceMention {
    /// The service, when exactly one is named.
    pub fn named(&self) -> Option<&str> {
        match self {
            ServiceMention::Named { service } => Some(service),
            ServiceMention::Vague { .. } => None,
        }
    }
}

impl Slots {
    /// True when no slot was found.
    pub fn is_empty(&self) -> bool {
        self.datetime.is_none()
            && self.service.is_none()
            && self.services.is_empty()
            && self.operator.is_none()
            && self.name.is_none()
            && self.phone.is_none()
            && self.email.is_none()
    }
}
