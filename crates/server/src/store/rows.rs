//! Rows as the queries select them (`sqlx::FromRow`, decoded the same way on
//! SQLite and PostgreSQL) and their conversion into domain values. A row
//! that breaks the schema's promises (an unknown status, bad JSON) is a
//! [`StoreError`], never a panic.

use std::str::FromStr;

use fluxion_core::booking::{
    Appointment, AppointmentStatus, BookingRules, Business, Channel, Client, Closure, Id, Service, StoreError, TimeRange, Vertical,
    WeeklyHours,
};
use fluxion_core::faq::Faq;
use jiff::civil::Weekday;

use super::{parse_date, parse_time, parse_ts};

/// Columns of [`AppointmentRow`], for `SELECT`s and `RETURNING`.
pub(super) const APPOINTMENT_COLS: &str = "id, client_id, operator_id, service_id, start_utc, end_utc, status, channel";
/// Columns of [`ClientRow`].
pub(super) const CLIENT_COLS: &str = "id, name, phone, email, consent_marketing, consent_recording, loyalty_points";
/// Columns of [`BusinessRow`].
pub(super) const BUSINESS_COLS: &str =
    "id, name, vertical, timezone, address, phone, buffer_min, min_notice_min, horizon_days, slot_step_min, closed_on_public_holidays";

#[derive(sqlx::FromRow)]
pub(super) struct AppointmentRow {
    id: i64,
    client_id: i64,
    operator_id: i64,
    service_id: i64,
    start_utc: String,
    end_utc: String,
    status: String,
    channel: String,
}

impl TryFrom<AppointmentRow> for Appointment {
    type Error = StoreError;

    fn try_from(r: AppointmentRow) -> Result<Self, StoreError> {
        Ok(Appointment {
            id: r.id,
            client_id: r.client_id,
            operator_id: r.operator_id,
            service_id: r.service_id,
            start: parse_ts(&r.start_utc)?,
            end: parse_ts(&r.end_utc)?,
            status: AppointmentStatus::parse(&r.status).ok_or_else(|| StoreError::fatal(format!("bad status {}", r.status)))?,
            channel: Channel::parse(&r.channel).ok_or_else(|| StoreError::fatal(format!("bad channel {}", r.channel)))?,
        })
    }
}

/// Converts a list of rows.
pub(super) fn appointments(rows: Vec<AppointmentRow>) -> Result<Vec<Appointment>, StoreError> {
    rows.into_iter().map(Appointment::try_from).collect()
}

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    id: i64,
    name: String,
    phone: String,
    email: Option<String>,
    consent_marketing: i64,
    consent_recording: i64,
    loyalty_points: i64,
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        Client {
            id: r.id,
            name: r.name,
            phone: r.phone,
            email: r.email,
            consent_marketing: r.consent_marketing != 0,
            consent_recording: r.consent_recording != 0,
            loyalty_points: r.loyalty_points,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BusinessRow {
    pub(super) id: i64,
    name: String,
    vertical: String,
    timezone: String,
    address: String,
    phone: String,
    buffer_min: i64,
    min_notice_min: i64,
    horizon_days: i64,
    slot_step_min: i64,
    closed_on_public_holidays: i64,
}

impl BusinessRow {
    /// The business with its hours and closures.
    pub(super) fn into_business(self, hours: Vec<WeeklyHours>, closures: Vec<Closure>) -> Result<Business, StoreError> {
        Ok(Business {
            id: self.id,
            name: self.name,
            vertical: Vertical::from_str(&self.vertical).map_err(StoreError::fatal)?,
            timezone: self.timezone,
            address: self.address,
            phone: self.phone,
            hours,
            closures,
            rules: BookingRules {
                buffer_min: self.buffer_min.clamp(0, 24 * 60) as u32,
                min_notice_min: self.min_notice_min.clamp(0, 365 * 24 * 60) as u32,
                horizon_days: self.horizon_days.clamp(0, 3650) as u32,
                slot_step_min: self.slot_step_min.clamp(1, 24 * 60) as u32,
                closed_on_public_holidays: self.closed_on_public_holidays != 0,
            },
        })
    }
}

/// Weekly hours of a business or an operator (`owner` is the operator id
/// or the business id).
#[derive(sqlx::FromRow)]
pub(super) struct HoursRow {
    pub(super) owner: i64,
    weekday: i64,
    start_time: String,
    end_time: String,
}

impl TryFrom<HoursRow> for WeeklyHours {
    type Error = StoreError;

    fn try_from(r: HoursRow) -> Result<Self, StoreError> {
        let weekday = i8::try_from(r.weekday)
            .ok()
            .and_then(|n| Weekday::from_monday_one_offset(n).ok())
            .ok_or_else(|| StoreError::fatal(format!("bad weekday {}", r.weekday)))?;
        Ok(WeeklyHours { weekday, range: TimeRange { start: parse_time(&r.start_time)?, end: parse_time(&r.end_time)? } })
    }
}

/// A closure of a business or an absence of an operator.
#[derive(sqlx::FromRow)]
pub(super) struct ClosureRow {
    pub(super) owner: i64,
    from_date: String,
    to_date: String,
    start_time: Option<String>,
    end_time: Option<String>,
    reason: String,
}

impl TryFrom<ClosureRow> for Closure {
    type Error = StoreError;

    fn try_from(r: ClosureRow) -> Result<Self, StoreError> {
        let range = match (r.start_time, r.end_time) {
            (Some(s), Some(e)) => Some(TimeRange { start: parse_time(&s)?, end: parse_time(&e)? }),
            _ => None,
        };
        Ok(Closure { from: parse_date(&r.from_date)?, to: parse_date(&r.to_date)?, range, reason: r.reason })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ServiceRow {
    id: i64,
    name: String,
    synonyms: String,
    duration_min: i64,
    price_cents: i64,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StoreError;

    fn try_from(r: ServiceRow) -> Result<Self, StoreError> {
        Ok(Service {
            id: r.id,
            name: r.name,
            synonyms: json(&r.synonyms, "synonyms")?,
            duration_min: r.duration_min.clamp(0, 24 * 60) as u32,
            price_cents: r.price_cents,
            gender: None,
            category: None,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FaqRow {
    id: i64,
    category: String,
    questions: String,
    answer: String,
}

impl TryFrom<FaqRow> for Faq {
    type Error = StoreError;

    fn try_from(r: FaqRow) -> Result<Self, StoreError> {
        Ok(Faq { id: r.id, category: r.category, questions: json(&r.questions, "questions")?, answer: r.answer })
    }
}

/// Reads a JSON text column.
fn json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::fatal(format!("bad JSON in column {column}: {e}")))
}

/// Writes a JSON text column.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::fatal(format!("cannot encode JSON: {e}")))
}

/// Groups `(owner, value)` pairs by owner, keeping order.
pub(super) fn by_owner<R, T>(
    rows: Vec<R>,
    owner: impl Fn(&R) -> Id,
    convert: impl Fn(R) -> Result<T, StoreError>,
) -> Result<std::collections::HashMap<Id, Vec<T>>, StoreError> {
    let mut out: std::collections::HashMap<Id, Vec<T>> = std::collections::HashMap::new();
    for r in rows {
        let o = owner(&r);
        out.entry(o).or_default().push(convert(r)?);
    }
    Ok(out)
}
