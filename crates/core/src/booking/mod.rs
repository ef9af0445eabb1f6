//! The booking domain: businesses, services, operators, clients and appointments,
//! the rules that decide which slots are free, and the repository port the
//! storage backends implement.
//!
//! Instants are stored as UTC ([`jiff::Timestamp`]); wall-clock reasoning
//! (opening hours, "domani alle 15") happens in the business's time zone
//! ([`jiff::civil`] types plus [`Business::timezone`]). Money is in euro cents,
//! durations in minutes.

pub mod availability;
pub mod desk;
pub mod holidays;
pub mod range_search;
mod repository;

pub use repository::{BookingError, NewAppointment, Repository, StoreError};

use jiff::civil::{Date, Time, Weekday};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Row identifier used by every table.
pub type Id = i64;

/// The kind of business; it selects the FAQ category, the prompts and what is
/// "outside the vertical" (a car service asked of a hair salon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vertical {
    /// Hair and beauty salon.
    Salone,
    /// Spa, massage, wellness centre.
    Wellness,
    /// Medical or dental practice.
    Medical,
    /// Car workshop.
    Auto,
}

impl Vertical {
    /// All verticals, in a fixed order.
    pub const ALL: [Vertical; 4] = [Vertical::Salone, Vertical::Wellness, Vertical::Medical, Vertical::Auto];

    /// The lowercase name used in config, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Vertical::Salone => "salone",
            Vertical::Wellness => "wellness",
            Vertical::Medical => "medical",
            Vertical::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Vertical {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "salone" => Ok(Vertical::Salone),
            "wellness" => Ok(Vertical::Wellness),
            "medical" => Ok(Vertical::Medical),
            "auto" => Ok(Vertical::Auto),
            other => Err(format!("unknown vertical '{other}': expected salone, wellness, medical or auto")),
        }
    }
}

/// A time-of-day interval `[start, end)` in the business's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimeRange {
    /// Inclusive start, local time `HH:MM` or `HH:MM:SS`.
    #[schema(schema_with = schema::time)]
    pub start: Time,
    /// Exclusive end, local time `HH:MM` or `HH:MM:SS`; must be after `start`.
    #[schema(schema_with = schema::time)]
    pub end: Time,
}

/// One opening interval on a weekday. A day with a lunch break has two
/// intervals (for example 09:00–13:00 and 14:00–19:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyHours {
    /// Day of the week (serialised as "monday" … "sunday").
    #[serde(with = "weekday_serde")]
    #[schema(schema_with = schema::weekday)]
    pub weekday: Weekday,
    /// Local-time interval.
    pub range: TimeRange,
}

/// A day or a span of days when the business is closed (holidays, ferie).
/// When `range` is set only that part of each day is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Closure {
    /// First closed day (inclusive), ISO 8601 `YYYY-MM-DD`.
    pub from: Date,
    /// Last closed day (inclusive), ISO 8601 `YYYY-MM-DD`.
    pub to: Date,
    /// Part of the day closed; `None` means the whole day.
    pub range: Option<TimeRange>,
    /// Why ("Ferie estive").
    pub reason: String,
}

/// The business Fluxion answers for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Business {
    /// Row id.
    pub id: Id,
    /// Public name ("Salone Bellezza Giulia").
    pub name: String,
    /// Kind of business.
    pub vertical: Vertical,
    /// IANA time zone name, default `Europe/Rome`.
    pub timezone: String,
    /// Street address as spoken to callers.
    pub address: String,
    /// Business phone in E.164.
    pub phone: String,
    /// Opening intervals per weekday; a weekday with no entry is closed.
    pub hours: Vec<WeeklyHours>,
    /// Closures (holidays, ferie, one-off closed afternoons).
    pub closures: Vec<Closure>,
    /// Booking rules.
    pub rules: BookingRules,
}

/// Tunable booking policy of a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BookingRules {
    /// Minutes kept free after each appointment of an operator.
    pub buffer_min: u32,
    /// Minimum notice before a bookable start, in minutes (default 120).
    pub min_notice_min: u32,
    /// How far ahead bookings are accepted, in days (default 60).
    pub horizon_days: u32,
    /// Granularity of offered start times, in minutes (default 15).
    pub slot_step_min: u32,
    /// Whether Italian public holidays close the business (default true).
    pub closed_on_public_holidays: bool,
}

impl Default for BookingRules {
    fn default() -> Self {
        BookingRules { buffer_min: 0, min_notice_min: 120, horizon_days: 60, slot_step_min: 15, closed_on_public_holidays: true }
    }
}

/// A bookable service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Row id.
    pub id: Id,
    /// Name as on the price list ("Taglio donna").
    pub name: String,
    /// Other ways callers name it ("taglio", "sforbiciata").
    pub synonyms: Vec<String>,
    /// Duration in minutes.
    pub duration_min: u32,
    /// Price in euro cents.
    pub price_cents: i64,
    /// Grammatical gender of the name, for articles ("la piega", "il
    /// taglio", "l'ecografia"); `None`: guessed from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Group on the price list ("Capelli", "Unghie", "Visite"), used to list
    /// what is offered briefly; `None`: ungrouped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Grammatical gender of an Italian noun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// "il taglio", "lo shampoo", "l'olio".
    Masculine,
    /// "la piega", "l'ecografia".
    Feminine,
}

/// A member of staff who performs services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Operator {
    /// Row id.
    pub id: Id,
    /// First name as callers say it ("Marco").
    pub name: String,
    /// Ids of the services this operator performs.
    pub service_ids: Vec<Id>,
    /// Working intervals per weekday (local time). Empty means "the business's hours".
    pub hours: Vec<WeeklyHours>,
    /// Absences (holiday, sick leave), same shape as business closures.
    pub absences: Vec<Closure>,
}

/// A known caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Client {
    /// Row id.
    pub id: Id,
    /// Full name.
    pub name: String,
    /// Phone number in E.164 (`+393331234567`), unique.
    pub phone: String,
    /// Email, when given.
    pub email: Option<String>,
    /// Consent to be contacted with reminders and marketing.
    pub consent_marketing: bool,
    /// Consent to call recording.
    pub consent_recording: bool,
    /// Loyalty points.
    pub loyalty_points: i64,
}

/// Lifecycle of an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Confirmed and upcoming (or in progress).
    Booked,
    /// Cancelled by the caller or the business.
    Cancelled,
    /// Took place.
    Completed,
    /// The client did not show up.
    NoShow,
}

impl AppointmentStatus {
    /// Database / API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::NoShow => "no_show",
        }
    }
    /// Parses the database spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "booked" => AppointmentStatus::Booked,
            "cancelled" => AppointmentStatus::Cancelled,
            "completed" => AppointmentStatus::Completed,
            "no_show" => AppointmentStatus::NoShow,
            _ => return None,
        })
    }
}

/// Where a booking came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Phone call through the voice pipeline.
    Voice,
    /// Text chat (`fluxion chat`, HTTP).
    Chat,
    /// WhatsApp message.
    Whatsapp,
    /// Entered by staff.
    Staff,
}

impl Channel {
    /// Database / API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Whatsapp => "whatsapp",
            Channel::Staff => "staff",
        }
    }
    /// Parses the database spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "voice" => Channel::Voice,
            "chat" => Channel::Chat,
            "whatsapp" => Channel::Whatsapp,
            "staff" => Channel::Staff,
            _ => return None,
        })
    }
}

/// A booked (or past) appointment. `start`/`end` are UTC instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Row id.
    pub id: Id,
    /// Client.
    pub client_id: Id,
    /// Operator performing it.
    pub operator_id: Id,
    /// Service.
    pub service_id: Id,
    /// Start instant (UTC).
    pub start: Timestamp,
    /// End instant (UTC), `start + duration`.
    pub end: Timestamp,
    /// Lifecycle state.
    pub status: AppointmentStatus,
    /// Where it was booked.
    pub channel: Channel,
}

/// A free slot that can be offered to a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// Operator who would perform it.
    pub operator_id: Id,
    /// Start instant (UTC).
    pub start: Timestamp,
    /// End instant (UTC).
    pub end: Timestamp,
}

/// JSON schemas of the `jiff` types the API exchanges in their own
/// spelling (for `#[schema(schema_with = …)]`).
pub mod schema {
    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

    /// A local time of day: `HH:MM` or `HH:MM:SS` (answers use `HH:MM:SS`).
    pub fn time() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Local time of day, `HH:MM` or `HH:MM:SS`."))
            .pattern(Some(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?$"))
            .examples(["09:00:00"])
            .build()
    }

    /// A weekday, lower-case English: `monday` … `sunday`.
    pub fn weekday() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Day of the week, lower-case English."))
            .enum_values(Some(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]))
            .build()
    }

    /// A local date-time without offset, ISO 8601 `YYYY-MM-DDTHH:MM:SS`.
    pub fn local_datetime() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Local date-time without offset, ISO 8601 `YYYY-MM-DDTHH:MM:SS`."))
            .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?$"))
            .examples(["2027-03-15T15:00:00"])
            .build()
    }
}

/// Weekdays as lowercase English names in JSON and config.
pub mod weekday_serde {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    const NAMES: [(&str, Weekday); 7] = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];

    /// "monday" … "sunday".
    pub fn name(w: Weekday) -> &'static str {
        NAMES.iter().find(|(_, d)| *d == w).map(|(n, _)| *n).unwrap_or("monday")
    }

    /// Parses "monday" … "sunday" (case-insensitive).
    pub fn parse(s: &str) -> Option<Weekday> {
        NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s.trim())).map(|(_, d)| *d)
    }

    /// Serde serializer.
    pub fn serialize<S: Serializer>(w: &Weekday, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(name(*w))
    }

    /// Serde deserializer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Weekday, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown weekday '{s}'")))
    }
}
