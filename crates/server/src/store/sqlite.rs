//! The embedded SQLite backend: one file, WAL mode, mode 600, migrations
//! embedded in the binary. Booking writes run in `BEGIN IMMEDIATE`
//! transactions so concurrent attempts on one slot are serialised, and a
//! partial unique index backs the overlap check.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use jiff::civil::Weekday;
use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use fluxion_core::booking::{
    Appointment, AppointmentStatus, BookingError, BookingRules, Business, Channel, Client, Closure, Id, NewAppointment, Operator,
    Repository, Service, StoreError, TimeRange, Vertical, WeeklyHours,
};
use fluxion_core::faq::Faq;
use fluxion_core::history::{CallbackRequest, ChatTurn, WaitlistEntry};
use fluxion_core::text::fold;

use super::{parse_date, parse_time, parse_ts, store_error, time_text, ts_text};

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a write waits for a busy database before failing, ms.
const BUSY_TIMEOUT_MS: u64 = 5_000;

/// The SQLite store. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

/// The platform data directory's database path: Linux
/// `~/.local/share/fluxion/fluxion.db`, macOS `~/Library/Application
/// Support/fluxion/fluxion.db`.
pub fn default_db_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "fluxion").map(|d| d.data_dir().join("fluxion.db"))
}

/// Creates the file (and its directory) with mode 600 when missing, and
/// tightens the mode of an existing one.
fn prepare_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    }
    Ok(())
}

fn weekday_num(w: Weekday) -> i64 {
    i64::from(w.to_monday_one_offset())
}

fn weekday_from(n: i64) -> Result<Weekday, StoreError> {
    Weekday::from_monday_one_offset(n as i8).map_err(|e| StoreError::fatal(format!("bad weekday {n}: {e}")))
}

fn range_from(start: Option<String>, end: Option<String>) -> Result<Option<TimeRange>, StoreError> {
    match (start, end) {
        (Some(s), Some(e)) => Ok(Some(TimeRange { start: parse_time(&s)?, end: parse_time(&e)? })),
        _ => Ok(None),
    }
}

fn appointment_from(r: &SqliteRow) -> Result<Appointment, StoreError> {
    let status: String = r.get("status");
    let channel: String = r.get("channel");
    Ok(Appointment {
        id: r.get("id"),
        client_id: r.get("client_id"),
        operator_id: r.get("operator_id"),
        service_id: r.get("service_id"),
        start: parse_ts(r.get("start_utc"))?,
        end: parse_ts(r.get("end_utc"))?,
        status: AppointmentStatus::parse(&status).ok_or_else(|| StoreError::fatal(format!("bad status {status}")))?,
        channel: Channel::parse(&channel).ok_or_else(|| StoreError::fatal(format!("bad channel {channel}")))?,
    })
}

fn client_from(r: &SqliteRow) -> Client {
    Client {
        id: r.get("id"),
        name: r.get("name"),
        phone: r.get("phone"),
        email: r.get("email"),
        consent_marketing: r.get::<i64, _>("consent_marketing") != 0,
        consent_recording: r.get::<i64, _>("consent_recording") != 0,
        loyalty_points: r.get("loyalty_points"),
    }
}

/// Reads a JSON text column ("synonyms", "questions") into a value.
fn json_column<T: serde::de::DeserializeOwned>(r: &SqliteRow, column: &str) -> Result<T, StoreError> {
    let text: String = r.get(column);
    serde_json::from_str(&text).map_err(|e| StoreError::fatal(format!("bad JSON in column {column}: {e}")))
}

const APPOINTMENT_COLS: &str = "id, client_id, operator_id, service_id, start_utc, end_utc, status, channel";
const CLIENT_COLS: &str = "id, name, phone, email, consent_marketing, consent_recording, loyalty_points";

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode with
    /// foreign keys on, and runs the embedded migrations.
    ///
    /// # Errors
    /// The file cannot be created, opened or migrated.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        prepare_file(path).map_err(|e| StoreError::fatal(format!("cannot create database file {}: {e}", path.display())))?;
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(store_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await.map_err(store_error)?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::fatal(format!("migration failed: {e}")))?;
        Ok(SqliteStore { pool, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pool, for the seeder and the read API.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Round-trip check for `/health` and `/ready`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(store_error)
    }

    /// Whether a business row exists.
    pub async fn is_seeded(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM business").fetch_one(&self.pool).await.map_err(store_error)?;
        Ok(n > 0)
    }

    /// Appointments in any state starting on a local date (seed 000's indexed
    /// query), optionally for one operator.
    pub async fn appointments_on(&self, local_date: &str, operator_id: Option<Id>) -> Result<Vec<Appointment>, StoreError> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE local_date = $1 AND ($2 IS NULL OR operator_id = $2) ORDER BY start_utc"
        );
        self.fetch_appointments(sqlx::query(&sql).bind(local_date).bind(operator_id)).await
    }

    /// Runs a query selecting [`APPOINTMENT_COLS`] and maps the rows.
    async fn fetch_appointments<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let rows = query.fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(appointment_from).collect()
    }

    async fn overlaps(
        tx: &mut sqlx::SqliteConnection,
        operator_id: Id,
        start: Timestamp,
        end: Timestamp,
        buffer_min: u32,
        ignore: Option<Id>,
    ) -> Result<bool, StoreError> {
        let buffer = jiff::SignedDuration::from_mins(i64::from(buffer_min));
        let lo = start.checked_sub(buffer).unwrap_or(start);
        let hi = end.checked_add(buffer).unwrap_or(end);
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments WHERE operator_id = $1 AND status = 'booked' \
             AND start_utc < $2 AND end_utc > $3 AND ($4 IS NULL OR id <> $4)",
        )
        .bind(operator_id)
        .bind(ts_text(hi))
        .bind(ts_text(lo))
        .bind(ignore)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        Ok(n > 0)
    }

    async fn local_date(&self, t: Timestamp) -> Result<String, StoreError> {
        let tz: String = sqlx::query_scalar("SELECT timezone FROM business LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .unwrap_or_else(|| "Europe/Rome".to_string());
        let tz = jiff::tz::TimeZone::get(&tz).map_err(|e| StoreError::fatal(e.to_string()))?;
        Ok(t.to_zoned(tz).date().to_string())
    }

    async fn hours_of(&self, table: &str, key: &str, id: Id) -> Result<Vec<WeeklyHours>, StoreError> {
        let rows = sqlx::query(&format!("SELECT weekday, start_time, end_time FROM {table} WHERE {key} = $1 ORDER BY weekday, start_time"))
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(WeeklyHours {
                    weekday: weekday_from(r.get("weekday"))?,
                    range: TimeRange { start: parse_time(r.get("start_time"))?, end: parse_time(r.get("end_time"))? },
                })
            })
            .collect()
    }

    async fn closures_of(&self, table: &str, key: &str, id: Id) -> Result<Vec<Closure>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT from_date, to_date, start_time, end_time, reason FROM {table} WHERE {key} = $1 ORDER BY from_date"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Closure {
                    from: parse_date(r.get("from_date"))?,
                    to: parse_date(r.get("to_date"))?,
                    range: range_from(r.get("start_time"), r.get("end_time"))?,
                    reason: r.get("reason"),
                })
            })
            .collect()
    }

    /// Writes weekly hours rows (seeding).
    pub async fn insert_hours(
        tx: &mut sqlx::SqliteConnection,
        table: &str,
        key: &str,
        id: Id,
        hours: &[WeeklyHours],
    ) -> Result<(), StoreError> {
        for h in hours {
            sqlx::query(&format!("INSERT INTO {table} ({key}, weekday, start_time, end_time) VALUES ($1, $2, $3, $4)"))
                .bind(id)
                .bind(weekday_num(h.weekday))
                .bind(time_text(h.range.start))
                .bind(time_text(h.range.end))
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        Ok(())
    }

    /// Writes closure/absence rows (seeding).
    pub async fn insert_closures(
        tx: &mut sqlx::SqliteConnection,
        table: &str,
        key: &str,
        id: Id,
        closures: &[Closure],
    ) -> Result<(), StoreError> {
        for c in closures {
            sqlx::query(&format!(
                "INSERT INTO {table} ({key}, from_date, to_date, start_time, end_time, reason) VALUES ($1, $2, $3, $4, $5, $6)"
            ))
            .bind(id)
            .bind(c.from.to_string())
            .bind(c.to.to_string())
            .bind(c.range.map(|r| time_text(r.start)))
            .bind(c.range.map(|r| time_text(r.end)))
            .bind(&c.reason)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        Ok(())
    }
}

impl Repository for SqliteStore {
    async fn business(&self) -> Result<Business, BookingError> {
        let r = sqlx::query("SELECT * FROM business ORDER BY id LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
            .ok_or_else(|| BookingError::NotFound("business: the database is not seeded (run `fluxion db seed`)".into()))?;
        let id: Id = r.get("id");
        let vertical: String = r.get("vertical");
        Ok(Business {
            id,
            name: r.get("name"),
            vertical: Vertical::from_str(&vertical).map_err(StoreError::fatal)?,
            timezone: r.get("timezone"),
            address: r.get("address"),
            phone: r.get("phone"),
            hours: self.hours_of("opening_hours", "business_id", id).await?,
            closures: self.closures_of("closures", "business_id", id).await?,
            rules: BookingRules {
                buffer_min: r.get::<i64, _>("buffer_min").clamp(0, 24 * 60) as u32,
                min_notice_min: r.get::<i64, _>("min_notice_min").clamp(0, 365 * 24 * 60) as u32,
                horizon_days: r.get::<i64, _>("horizon_days").clamp(0, 3650) as u32,
                slot_step_min: r.get::<i64, _>("slot_step_min").clamp(1, 24 * 60) as u32,
                closed_on_public_holidays: r.get::<i64, _>("closed_on_public_holidays") != 0,
            },
        })
    }

    async fn services(&self) -> Result<Vec<Service>, StoreError> {
        let rows = sqlx::query("SELECT id, name, synonyms, duration_min, price_cents FROM services WHERE active = 1 ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Service {
                    id: r.get("id"),
                    name: r.get("name"),
                    synonyms: json_column(r, "synonyms")?,
                    duration_min: r.get::<i64, _>("duration_min").clamp(0, 24 * 60) as u32,
                    price_cents: r.get("price_cents"),
                    gender: None,
                    category: None,
                })
            })
            .collect()
    }

    async fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name FROM operators WHERE active = 1 ORDER BY id").fetch_all(&self.pool).await.map_err(store_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: Id = r.get("id");
            let service_ids: Vec<Id> =
                sqlx::query_scalar("SELECT service_id FROM operator_services WHERE operator_id = $1 ORDER BY service_id")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(store_error)?;
            out.push(Operator {
                id,
                name: r.get("name"),
                service_ids,
                hours: self.hours_of("operator_hours", "operator_id", id).await?,
                absences: self.closures_of("operator_absences", "operator_id", id).await?,
            });
        }
        Ok(out)
    }

    async fn booked_between(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Appointment>, StoreError> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE status = 'booked' AND start_utc < $1 AND end_utc > $2 ORDER BY start_utc"
        );
        self.fetch_appointments(sqlx::query(&sql).bind(ts_text(to)).bind(ts_text(from))).await
    }

    async fn appointment(&self, id: Id) -> Result<Option<Appointment>, StoreError> {
        let row = sqlx::query(&format!("SELECT {APPOINTMENT_COLS} FROM appointments WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(appointment_from).transpose()
    }

    async fn upcoming_for_client(&self, client_id: Id, now: Timestamp) -> Result<Vec<Appointment>, StoreError> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE client_id = $1 AND status = 'booked' AND start_utc >= $2 ORDER BY start_utc"
        );
        self.fetch_appointments(sqlx::query(&sql).bind(client_id).bind(ts_text(now))).await
    }

    async fn history_for_client(&self, client_id: Id, limit: u32) -> Result<Vec<Appointment>, StoreError> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE client_id = $1 AND status IN ('booked', 'completed') ORDER BY start_utc DESC LIMIT $2"
        );
        self.fetch_appointments(sqlx::query(&sql).bind(client_id).bind(i64::from(limit))).await
    }

    async fn client_by_phone(&self, phone: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE phone = $1"))
            .bind(phone)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(row.as_ref().map(client_from))
    }

    async fn client(&self, id: Id) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(row.as_ref().map(client_from))
    }

    async fn clients_by_name(&self, name: &str) -> Result<Vec<Client>, StoreError> {
        let pattern = format!("%{}%", fold(name.trim()).replace(['%', '_'], ""));
        let rows = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE name_folded LIKE $1 ORDER BY name, id LIMIT 50"))
            .bind(pattern)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(rows.iter().map(client_from).collect())
    }

    async fn clients(&self) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients ORDER BY name, id"))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(rows.iter().map(client_from).collect())
    }

    async fn upsert_client(&self, name: &str, phone: &str, email: Option<&str>) -> Result<Client, StoreError> {
        let now = ts_text(Timestamp::now());
        let row = sqlx::query(&format!(
            "INSERT INTO clients (name, name_folded, phone, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (phone) DO UPDATE SET \
               name = CASE WHEN excluded.name = 'Cliente' THEN clients.name ELSE excluded.name END, \
               name_folded = CASE WHEN excluded.name = 'Cliente' THEN clients.name_folded ELSE excluded.name_folded END, \
               email = COALESCE(excluded.email, clients.email), updated_at = excluded.updated_at \
             RETURNING {CLIENT_COLS}"
        ))
        .bind(name)
        .bind(fold(name))
        .bind(phone)
        .bind(email)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(client_from(&row))
    }

    async fn book(&self, new: NewAppointment, buffer_min: u32) -> Result<Appointment, BookingError> {
        if new.end <= new.start {
            return Err(BookingError::NotBookable("end before start".into()));
        }
        let local_date = self.local_date(new.start).await?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        if Self::overlaps(&mut tx, new.operator_id, new.start, new.end, buffer_min, None).await? {
            return Err(BookingError::SlotTaken);
        }
        let now = ts_text(Timestamp::now());
        let row = sqlx::query(&format!(
            "INSERT INTO appointments (client_id, operator_id, service_id, start_utc, end_utc, local_date, status, channel, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'booked', $7, $8, $8) RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(new.client_id)
        .bind(new.operator_id)
        .bind(new.service_id)
        .bind(ts_text(new.start))
        .bind(ts_text(new.end))
        .bind(local_date)
        .bind(new.channel.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => BookingError::SlotTaken,
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => BookingError::NotFound("client, operator or service".into()),
            _ => BookingError::Store(store_error(e)),
        })?;
        let appointment = appointment_from(&row)?;
        sqlx::query("UPDATE clients SET loyalty_points = loyalty_points + 1 WHERE id = $1")
            .bind(new.client_id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(appointment)
    }

    async fn cancel(&self, id: Id) -> Result<Appointment, BookingError> {
        let now = ts_text(Timestamp::now());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        let row = sqlx::query(&format!(
            "UPDATE appointments SET status = 'cancelled', updated_at = $2 WHERE id = $1 AND status = 'booked' RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM appointments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            return Err(if exists.is_some() { BookingError::NotActive(id) } else { BookingError::NotFound(format!("appointment {id}")) });
        };
        let a = appointment_from(&row)?;
        tx.commit().await.map_err(store_error)?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        match status.as_deref() {
            None => return Err(BookingError::NotFound(format!("appointment {id}"))),
            Some("booked") => {}
            Some(_) => return Err(BookingError::NotActive(id)),
        }
        if Self::overlaps(&mut tx, operator_id, start, end, buffer_min, Some(id)).await? {
            return Err(BookingError::SlotTaken);
        }
        let row = sqlx::query(&format!(
            "UPDATE appointments SET operator_id = $2, start_utc = $3, end_utc = $4, local_date = $5, updated_at = $6 \
             WHERE id = $1 RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(id)
        .bind(operator_id)
        .bind(ts_text(start))
        .bind(ts_text(end))
        .bind(local_date)
        .bind(ts_text(Timestamp::now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => BookingError::SlotTaken,
            _ => BookingError::Store(store_error(e)),
        })?;
        let a = appointment_from(&row)?;
        tx.commit().await.map_err(store_error)?;
        Ok(a)
    }

    async fn faqs(&self) -> Result<Vec<Faq>, StoreError> {
        let rows = sqlx::query("SELECT id, category, questions, answer FROM faq_entries ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                Ok(Faq { id: r.get("id"), category: r.get("category"), questions: json_column(r, "questions")?, answer: r.get("answer") })
            })
            .collect()
    }

    async fn record_turn(&self, turn: &ChatTurn) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO chat_history (session_id, client_id, role, text, intent, layer, latency_us, layer_timings, model, tokens, tool_calls, channel, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&turn.session_id)
        .bind(turn.client_id)
        .bind(turn.role.as_str())
        .bind(&turn.text)
        .bind(turn.intent.map(|i| i.as_str()))
        .bind(turn.layer.map(|l| l.as_str()))
        .bind(i64::try_from(turn.latency_us).unwrap_or(i64::MAX))
        .bind(turn.timings.and_then(|t| serde_json::to_string(&t).ok()))
        .bind(turn.model_use.as_ref().map(|m| m.model.clone()))
        .bind(turn.model_use.as_ref().and_then(|m| m.tokens).map(i64::from))
        .bind(turn.model_use.as_ref().and_then(|m| serde_json::to_string(&m.tool_calls).ok()))
        .bind(turn.channel.as_str())
        .bind(ts_text(turn.at))
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(store_error)
    }

    async fn add_waitlist(&self, e: &WaitlistEntry) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO waitlist (client_id, service_id, operator_id, preference, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(e.client_id)
        .bind(e.service_id)
        .bind(e.operator_id)
        .bind(&e.preference)
        .bind(ts_text(e.created_at))
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }

    async fn add_callback_request(&self, r: &CallbackRequest) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO callback_requests (client_id, phone, session_id, reason, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(r.client_id)
        .bind(&r.phone)
        .bind(&r.session_id)
        .bind(&r.reason)
        .bind(ts_text(r.created_at))
        .fetch_one(&self.pool)
        .await
        .map_err(store_error)
    }
}
