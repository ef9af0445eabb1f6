//! Tenancy: a tenant is a business, and a [`Tenant`] is the store seen by
//! one business. It implements the core's [`Repository`] port, and every
//! query it runs binds its business id, so a handle never reads or changes
//! another business's rows: isolation holds by construction, and the schema
//! backs it (appointments, waitlist entries and chat turns reference their
//! client, operator and service through `(business_id, id)` pairs).
//!
//! Tenants are found by the number a caller dialled, by a WhatsApp
//! phone-number id ([`Store::tenant_by_number`]), or taken as the default
//! (the first business: single-business deployments never name one).

use fluxion_core::booking::{
    Appointment, BookingError, Business, Client, Closure, Id, NewAppointment, Operator, Repository, Service, StoreError, Vertical,
    WeeklyHours,
};
use fluxion_core::faq::Faq;
use fluxion_core::history::{CallbackRequest, ChatTurn, MessageQueued, MessageRequest, WaitlistEntry};
use fluxion_core::text::fold;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::AnyConnection;

use super::outbox::NoticeKind;
use super::rows::{self, AppointmentRow, BusinessRow, ClientRow, ClosureRow, FaqRow, HoursRow, ServiceRow};
use super::rows::{APPOINTMENT_COLS, BUSINESS_COLS, CLIENT_COLS};
use super::{booking_write_error, store_error, ts_text, Store};
use crate::events::{Action, Kind};

/// The store seen by one business. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tenant {
    store: Store,
    id: Id,
}

/// What kind of number routes to a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NumberKind {
    /// A phone number callers dial (E.164, the telephony `To`).
    Phone,
    /// A WhatsApp Business phone-number id (Meta's `phone_number_id`).
    Whatsapp,
}

impl NumberKind {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberKind::Phone => "phone",
            NumberKind::Whatsapp => "whatsapp",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "phone" => Some(NumberKind::Phone),
            "whatsapp" => Some(NumberKind::Whatsapp),
            _ => None,
        }
    }
}

/// A business as `fluxion tenant list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantInfo {
    /// The business id (the tenant id).
    pub id: Id,
    /// Public name.
    pub name: String,
    /// Kind of business.
    pub vertical: Vertical,
    /// Numbers routed to it.
    pub numbers: Vec<(NumberKind, String)>,
}

impl Store {
    /// The handle of business `id`. It is not checked here: a handle of a
    /// business that does not exist finds nothing.
    pub fn tenant(&self, id: Id) -> Tenant {
        Tenant { store: self.clone(), id }
    }

    /// The default tenant: the first business, `None` before any is seeded.
    ///
    /// # Errors
    /// Database errors.
    pub async fn default_tenant(&self) -> Result<Option<Tenant>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MIN(id) FROM business").fetch_one(&self.pool).await.map_err(store_error)?;
        Ok(id.map(|id| self.tenant(id)))
    }

    /// Whether any business exists.
    ///
    /// # Errors
    /// Database errors.
    pub async fn is_seeded(&self) -> Result<bool, StoreError> {
        Ok(self.default_tenant().await?.is_some())
    }

    /// Every business, by id, with its numbers.
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenants(&self) -> Result<Vec<TenantInfo>, StoreError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, name, vertical FROM business ORDER BY id").fetch_all(&self.pool).await.map_err(store_error)?;
        let numbers: Vec<(i64, String, String)> = sqlx::query_as("SELECT business_id, kind, value FROM business_numbers ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(id, name, vertical)| {
                Ok(TenantInfo {
                    id,
                    name,
                    vertical: vertical.parse().map_err(StoreError::fatal)?,
                    numbers: numbers
                        .iter()
                        .filter(|(b, _, _)| *b == id)
                        .filter_map(|(_, k, v)| NumberKind::parse(k).map(|k| (k, v.clone())))
                        .collect(),
                })
            })
            .collect()
    }

    /// The business reached on `value` (a dialled E.164 number or a
    /// WhatsApp phone-number id).
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenant_by_number(&self, kind: NumberKind, value: &str) -> Result<Option<Tenant>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT business_id FROM business_numbers WHERE kind = $1 AND value = $2")
            .bind(kind.as_str())
            .bind(value.trim())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(id.map(|id| self.tenant(id)))
    }
}

impl Tenant {
    /// The business id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn pool(&self) -> &sqlx::AnyPool {
        &self.store.pool
    }

    /// Announces a committed write to the console's live view.
    pub(super) fn announce(&self, kind: Kind, id: Id, action: Action) {
        self.store.events.send(self.id, kind, id, action);
    }

    /// Runs a one-row statement whose `$1` is the row id and `$2` this
    /// business; whether a row changed.
    pub(super) async fn change_row(&self, sql: &str, id: Id) -> Result<bool, StoreError> {
        let done = sqlx::query(sql).bind(id).bind(self.id).execute(self.pool()).await.map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    /// Routes `value` to this business.
    ///
    /// # Errors
    /// The number already routes to a business (this or another), or a
    /// database error.
    pub async fn add_number(&self, kind: NumberKind, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO business_numbers (business_id, kind, value) VALUES ($1, $2, $3)")
            .bind(self.id)
            .bind(kind.as_str())
            .bind(value.trim())
            .execute(self.pool())
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::fatal(format!("{} {} already routes to a business", kind.as_str(), value.trim()))
                }
                _ => store_error(e),
            })?;
        Ok(())
    }

    /// Appointments in any state starting on a local date (seed 000's
    /// indexed query), optionally for one operator.
    ///
    /// # Errors
    /// Database errors.
    pub async fn appointments_on(&self, local_date: &str, operator_id: Option<Id>) -> Result<Vec<Appointment>, StoreError> {
        let rows: Vec<AppointmentRow> = sqlx::query_as(&format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE business_id = $1 AND local_date = $2 AND ($3 IS NULL OR operator_id = $3) \
             ORDER BY start_utc"
        ))
        .bind(self.id)
        .bind(local_date)
        .bind(operator_id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows::appointments(rows)
    }

    /// Runs an appointment query whose only parameters are the business id
    /// and `extra`.
    async fn appointments_where(&self, condition: &str, a: impl ToBind, b: impl ToBind) -> Result<Vec<Appointment>, StoreError> {
        let sql = format!("SELECT {APPOINTMENT_COLS} FROM appointments WHERE business_id = $1 AND {condition}");
        let q = sqlx::query_as::<_, AppointmentRow>(&sql).bind(self.id);
        let q = b.bind_to(a.bind_to(q));
        rows::appointments(q.fetch_all(self.pool()).await.map_err(store_error)?)
    }

    async fn client_where(&self, condition: &str, value: impl ToBind) -> Result<Option<Client>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLS} FROM clients WHERE business_id = $1 AND {condition}");
        let q = value.bind_to(sqlx::query_as::<_, ClientRow>(&sql).bind(self.id));
        Ok(q.fetch_optional(self.pool()).await.map_err(store_error)?.map(Client::from))
    }

    /// The business's time zone (for an appointment's local date).
    async fn local_date(&self, t: Timestamp) -> Result<String, StoreError> {
        let tz: Option<String> = sqlx::query_scalar("SELECT timezone FROM business WHERE id = $1")
            .bind(self.id)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        let tz = tz.ok_or_else(|| StoreError::fatal(format!("business {} does not exist", self.id)))?;
        let tz = jiff::tz::TimeZone::get(&tz).map_err(|e| StoreError::fatal(e.to_string()))?;
        Ok(t.to_zoned(tz).date().to_string())
    }

    /// Locks operator `operator_id` of this business for the transaction
    /// (PostgreSQL: the row lock serialises bookings of one operator across
    /// instances; SQLite already holds the write lock). `NotFound` when the
    /// operator is not this business's.
    async fn lock_operator(&self, tx: &mut AnyConnection, operator_id: Id) -> Result<(), BookingError> {
        let sql = format!("SELECT id FROM operators WHERE id = $1 AND business_id = $2{}", self.store.dialect.for_update());
        let found: Option<i64> =
            sqlx::query_scalar(&sql).bind(operator_id).bind(self.id).fetch_optional(&mut *tx).await.map_err(store_error)?;
        found.map(|_| ()).ok_or_else(|| BookingError::NotFound(format!("operator {operator_id}")))
    }

    /// Whether a booked appointment of the operator overlaps `[start, end)`
    /// widened by `buffer_min` on each side.
    async fn overlaps(
        &self,
        tx: &mut AnyConnection,
        operator_id: Id,
        (start, end): (Timestamp, Timestamp),
        buffer_min: u32,
        ignore: Option<Id>,
    ) -> Result<bool, StoreError> {
        let buffer = jiff::SignedDuration::from_mins(i64::from(buffer_min));
        let lo = start.checked_sub(buffer).unwrap_or(start);
        let hi = end.checked_add(buffer).unwrap_or(end);
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments WHERE business_id = $1 AND operator_id = $2 AND status = 'booked' \
             AND start_utc < $3 AND end_utc > $4 AND ($5 IS NULL OR id <> $5)",
        )
        .bind(self.id)
        .bind(operator_id)
        .bind(ts_text(hi))
        .bind(ts_text(lo))
        .bind(ignore)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        Ok(n > 0)
    }

    async fn hours(&self, sql: &str) -> Result<Vec<HoursRow>, StoreError> {
        sqlx::query_as(sql).bind(self.id).fetch_all(self.pool()).await.map_err(store_error)
    }

    async fn closures(&self, sql: &str) -> Result<Vec<ClosureRow>, StoreError> {
        sqlx::query_as(sql).bind(self.id).fetch_all(self.pool()).await.map_err(store_error)
    }
}

/// A value bound to a query (lets one helper take an id, a text or an
/// instant as its parameters).
trait ToBind: Send {
    fn bind_to<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;
}

impl ToBind for i64 {
    fn bind_to<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        q.bind(self)
    }
}

impl ToBind for String {
    fn bind_to<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        q.bind(self)
    }
}

/// No parameter.
impl ToBind for () {
    fn bind_to<'q, O>(
        self,
        q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
        q
    }
}

const BUSINESS_HOURS: &str = "SELECT business_id AS owner, weekday, start_time, end_time FROM opening_hours WHERE business_id = $1 \
     ORDER BY weekday, start_time";
const BUSINESS_CLOSURES: &str =
    "SELECT business_id AS owner, from_date, to_date, start_time, end_time, reason FROM closures WHERE business_id = $1 ORDER BY from_date";
const OPERATOR_HOURS: &str = "SELECT h.operator_id AS owner, h.weekday, h.start_time, h.end_time FROM operator_hours h \
     JOIN operators o ON o.id = h.operator_id WHERE o.business_id = $1 ORDER BY h.operator_id, h.weekday, h.start_time";
const OPERATOR_ABSENCES: &str = "SELECT a.operator_id AS owner, a.from_date, a.to_date, a.start_time, a.end_time, a.reason \
     FROM operator_absences a JOIN operators o ON o.id = a.operator_id WHERE o.business_id = $1 ORDER BY a.operator_id, a.from_date";

impl Repository for Tenant {
    async fn business(&self) -> Result<Business, BookingError> {
        let row: BusinessRow = sqlx::query_as(&format!("SELECT {BUSINESS_COLS} FROM business WHERE id = $1"))
            .bind(self.id)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?
            .ok_or_else(|| BookingError::NotFound("business: the database is not seeded (run `fluxion db seed`)".into()))?;
        let hours = self.hours(BUSINESS_HOURS).await?.into_iter().map(WeeklyHours::try_from).collect::<Result<_, _>>()?;
        let closures = self.closures(BUSINESS_CLOSURES).await?.into_iter().map(Closure::try_from).collect::<Result<_, _>>()?;
        Ok(row.into_business(hours, closures)?)
    }

    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        let rows: Vec<ServiceRow> = sqlx::query_as(
            "SELECT id, name, synonyms, duration_min, price_cents FROM services WHERE business_id = $1 AND active = 1 ORDER BY id",
        )
        .bind(self.id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(Service::try_from).collect()
    }

    async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        let ops: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM operators WHERE business_id = $1 AND active = 1 ORDER BY id")
            .bind(self.id)
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        let skills: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT os.operator_id, os.service_id FROM operator_services os JOIN services s ON s.id = os.service_id \
             JOIN operators o ON o.id = os.operator_id WHERE o.business_id = $1 AND s.business_id = $1 AND s.active = 1 \
             ORDER BY os.operator_id, os.service_id",
        )
        .bind(self.id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let mut hours = rows::by_owner(self.hours(OPERATOR_HOURS).await?, |r| r.owner, WeeklyHours::try_from)?;
        let mut absences = rows::by_owner(self.closures(OPERATOR_ABSENCES).await?, |r| r.owner, Closure::try_from)?;
        Ok(ops
            .into_iter()
            .map(|(id, name)| Operator {
                id,
                name,
                service_ids: skills.iter().filter(|(o, _)| *o == id).map(|(_, s)| *s).collect(),
                hours: hours.remove(&id).unwrap_or_default(),
                absences: absences.remove(&id).unwrap_or_default(),
            })
            .collect())
    }

    async fn booked_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Appointment>, StoreError> {
        self.appointments_where("status = 'booked' AND start_utc < $2 AND end_utc > $3 ORDER BY start_utc", ts_text(to), ts_text(from))
            .await
    }

    async fn appointment(&self, id: Id) -> Result<Option<Appointment>, StoreError> {
        Ok(self.appointments_where("id = $2", id, ()).await?.into_iter().next())
    }

    async fn upcoming_for_client(&self, client_id: Id, now: Timestamp) -> Result<Vec<Appointment>, StoreError> {
        self.appointments_where("client_id = $2 AND status = 'booked' AND start_utc >= $3 ORDER BY start_utc", client_id, ts_text(now))
            .await
    }

    async fn history_for_client(&self, client_id: Id, limit: u32) -> Result<Vec<Appointment>, StoreError> {
        self.appointments_where(
            "client_id = $2 AND status IN ('booked', 'completed') ORDER BY start_utc DESC LIMIT $3",
            client_id,
            i64::from(limit),
        )
        .await
    }

    async fn client_by_phone(&self, phone: &str) -> Result<Option<Client>, StoreError> {
        self.client_where("phone = $2", phone.to_string()).await
    }

    async fn client(&self, id: Id) -> Result<Option<Client>, StoreError> {
        self.client_where("id = $2", id).await
    }

    async fn clients_by_name(&self, name: &str) -> Result<Vec<Client>, StoreError> {
        let pattern = format!("%{}%", fold(name.trim()).replace(['%', '_'], ""));
        let rows: Vec<ClientRow> = sqlx::query_as(&format!(
            "SELECT {CLIENT_COLS} FROM clients WHERE business_id = $1 AND anonymous = 0 AND name_folded LIKE $2 ORDER BY name, id LIMIT 50"
        ))
        .bind(self.id)
        .bind(pattern)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Client::from).collect())
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows: Vec<ClientRow> =
            sqlx::query_as(&format!("SELECT {CLIENT_COLS} FROM clients WHERE business_id = $1 AND anonymous = 0 ORDER BY name, id"))
                .bind(self.id)
                .fetch_all(self.pool())
                .await
                .map_err(store_error)?;
        Ok(rows.into_iter().map(Client::from).collect())
    }

    async fn upsert_client(&self, name: &str, phone: &str, email: Option<&str>) -> Result<Client, StoreError> {
        let row: ClientRow = sqlx::query_as(&format!(
            "INSERT INTO clients (business_id, name, name_folded, phone, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (business_id, phone) DO UPDATE SET \
               name = CASE WHEN excluded.name = 'Cliente' THEN clients.name ELSE excluded.name END, \
               name_folded = CASE WHEN excluded.name = 'Cliente' THEN clients.name_folded ELSE excluded.name_folded END, \
               email = COALESCE(excluded.email, clients.email), updated_at = excluded.updated_at \
             RETURNING {CLIENT_COLS}"
        ))
        .bind(self.id)
        .bind(name)
        .bind(fold(name))
        .bind(phone)
        .bind(email)
        .bind(ts_text(Timestamp::now()))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(row.into())
    }

    async fn book(&self, new: NewAppointment, buffer_min: u32) -> Result<Appointment, BookingError> {
        if new.end <= new.start {
            return Err(BookingError::NotBookable("end before start".into()));
        }
        let local_date = self.local_date(new.start).await?;
        let mut tx = self.store.begin_write().await?;
        self.lock_operator(&mut tx, new.operator_id).await?;
        if self.overlaps(&mut tx, new.operator_id, (new.start, new.end), buffer_min, None).await? {
            return Err(BookingError::SlotTaken);
        }
        let row: AppointmentRow = sqlx::query_as(&format!(
            "INSERT INTO appointments (business_id, client_id, operator_id, service_id, start_utc, end_utc, local_date, status, channel, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8, $9, $9) RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(self.id)
        .bind(new.client_id)
        .bind(new.operator_id)
        .bind(new.service_id)
        .bind(ts_text(new.start))
        .bind(ts_text(new.end))
        .bind(local_date)
        .bind(new.channel.as_str())
        .bind(ts_text(Timestamp::now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(booking_write_error)?;
        let appointment = Appointment::try_from(row)?;
        super::outbox::booking_notice(&self.store.notice_policy, &mut tx, self.id, appointment.id, NoticeKind::BookingConfirmed).await?;
        tx.commit().await.map_err(booking_write_error)?;
        self.announce(Kind::Appointment, appointment.id, Action::Booked);
        Ok(appointment)
    }

    async fn cancel(&self, id: Id) -> Result<Appointment, BookingError> {
        let mut tx = self.store.begin_write().await?;
        let row: Option<AppointmentRow> = sqlx::query_as(&format!(
            "UPDATE appointments SET status = 'cancelled', updated_at = $3 WHERE id = $1 AND business_id = $2 AND status = 'booked' \
             RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(id)
        .bind(self.id)
        .bind(ts_text(Timestamp::now()))
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM appointments WHERE id = $1 AND business_id = $2")
                .bind(id)
                .bind(self.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            return Err(if exists.is_some() { BookingError::NotActive(id) } else { BookingError::NotFound(format!("appointment {id}")) });
        };
        let a = Appointment::try_from(row)?;
        super::outbox::booking_notice(&self.store.notice_policy, &mut tx, self.id, a.id, NoticeKind::BookingCancelled).await?;
        tx.commit().await.map_err(store_error)?;
        self.announce(Kind::Appointment, a.id, Action::Cancelled);
        Ok(a)
    }

    async fn reschedule(
        &self,
        id: Id,
        operator_id: Id,
        start: Timestamp,
        end: Timestamp,
        buffer_min: u32,
    ) -> Result<Appointment, BookingError> {
        if end <= start {
            return Err(BookingError::NotBookable("end before start".into()));
        }
        let local_date = self.local_date(start).await?;
        let mut tx = self.store.begin_write().await?;
        let current: Option<(String, i64)> =
            sqlx::query_as("SELECT status, operator_id FROM appointments WHERE id = $1 AND business_id = $2")
                .bind(id)
                .bind(self.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
        let old_operator = match current {
            None => return Err(BookingError::NotFound(format!("appointment {id}"))),
            Some((status, op)) if status == "booked" => op,
            Some(_) => return Err(BookingError::NotActive(id)),
        };
        // Lock in id order so two moves between the same operators cannot deadlock.
        for op in [old_operator.min(operator_id), old_operator.max(operator_id)] {
            self.lock_operator(&mut tx, op).await?;
        }
        if self.overlaps(&mut tx, operator_id, (start, end), buffer_min, Some(id)).await? {
            return Err(BookingError::SlotTaken);
        }
        let row: AppointmentRow = sqlx::query_as(&format!(
            "UPDATE appointments SET operator_id = $3, start_utc = $4, end_utc = $5, local_date = $6, updated_at = $7 \
             WHERE id = $1 AND business_id = $2 RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(id)
        .bind(self.id)
        .bind(operator_id)
        .bind(ts_text(start))
        .bind(ts_text(end))
        .bind(local_date)
        .bind(ts_text(Timestamp::now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(booking_write_error)?;
        let a = Appointment::try_from(row)?;
        super::outbox::booking_notice(&self.store.notice_policy, &mut tx, self.id, a.id, NoticeKind::BookingChanged).await?;
        tx.commit().await.map_err(booking_write_error)?;
        self.announce(Kind::Appointment, a.id, Action::Moved);
        Ok(a)
    }

    async fn faqs(&self) -> Result<Vec<Faq>, StoreError> {
        let rows: Vec<FaqRow> =
            sqlx::query_as("SELECT id, category, questions, answer FROM faq_entries WHERE business_id = $1 ORDER BY id")
                .bind(self.id)
                .fetch_all(self.pool())
                .await
                .map_err(store_error)?;
        rows.into_iter().map(Faq::try_from).collect()
    }

    async fn record_turn(&self, turn: &ChatTurn) -> Result<(), StoreError> {
        let model = turn.model_use.as_ref();
        sqlx::query(
            "INSERT INTO chat_history (business_id, session_id, client_id, role, text, intent, layer, latency_us, layer_timings, model, \
             tokens, tool_calls, channel, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(self.id)
        .bind(&turn.session_id)
        .bind(turn.client_id)
        .bind(turn.role.as_str())
        .bind(&turn.text)
        .bind(turn.intent.map(|i| i.as_str()))
        .bind(turn.layer.map(|l| l.as_str()))
        .bind(i64::try_from(turn.latency_us).unwrap_or(i64::MAX))
        .bind(turn.timings.map(|t| rows::to_json(&t)).transpose()?)
        .bind(model.map(|m| m.model.clone()))
        .bind(model.and_then(|m| m.tokens).map(i64::from))
        .bind(model.map(|m| rows::to_json(&m.tool_calls)).transpose()?)
        .bind(turn.channel.as_str())
        .bind(ts_text(turn.at))
        .execute(self.pool())
        .await
        .map(|_| ())
        .map_err(store_error)
    }

    async fn add_waitlist(&self, e: &WaitlistEntry) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO waitlist (business_id, client_id, service_id, operator_id, preference, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id",
        )
        .bind(self.id)
        .bind(e.client_id)
        .bind(e.service_id)
        .bind(e.operator_id)
        .bind(&e.preference)
        .bind(ts_text(e.created_at))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }

    async fn add_callback_request(&self, r: &CallbackRequest) -> Result<Id, StoreError> {
        let mut tx = self.store.begin_write().await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO callback_requests (business_id, client_id, phone, session_id, reason, created_at, kind, name) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(self.id)
        .bind(r.client_id)
        .bind(&r.phone)
        .bind(&r.session_id)
        .bind(&r.reason)
        .bind(ts_text(r.created_at))
        .bind(r.kind.as_str())
        .bind(&r.name)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        super::outbox::callback_notice(&self.store.notice_policy, &mut tx, self.id, id, r).await?;
        tx.commit().await.map_err(store_error)?;
        self.announce(Kind::Callback, id, Action::Created);
        Ok(id)
    }

    async fn queue_message(&self, r: &MessageRequest) -> Result<MessageQueued, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        let queued = super::outbox::message_notice(&self.store.notice_policy, &mut conn, self.id, r).await.inspect_err(|e| {
            tracing::error!(business = self.id, channel = r.channel.as_str(), error = %e, "message asked by a tool not queued");
        })?;
        tracing::info!(business = self.id, channel = r.channel.as_str(), outcome = ?queued, "message asked by a tool");
        Ok(queued)
    }
}
