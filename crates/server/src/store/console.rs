//! Queries the owner's console needs beyond the receptionist's: closures
//! and absences one by one (with their ids), which operators perform a
//! service, appointments over a span of days, and the figures of the
//! statistics page. Every query binds the business id.

use fluxion_core::booking::{Appointment, Closure, Id, StoreError};

use super::rows::{self, AppointmentRow, ClosureRow, APPOINTMENT_COLS};
use super::{store_error, time_text, Tenant};

/// Figures of a span of days (`GET /api/stats`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// `(local date, calls)` per day with calls.
    pub calls_per_day: Vec<(String, i64)>,
    /// `(local date, appointments booked)` per day, by the day they were made for.
    pub bookings_per_day: Vec<(String, i64)>,
    /// Calls that ended with a booking.
    pub calls_booked: i64,
    /// All calls.
    pub calls: i64,
    /// `(layer, turns)`: the layer that answered each caller turn (stored on
    /// the caller's turn).
    pub turns_per_layer: Vec<(String, i64)>,
    /// Reply latencies of the span, µs, ascending (for percentiles).
    pub latencies_us: Vec<i64>,
    /// `(local hour as stored UTC hour, calls)`.
    pub calls_per_hour_utc: Vec<(String, i64)>,
}

impl Tenant {
    /// The business's closures with their ids, by first day.
    ///
    /// # Errors
    /// Database errors.
    pub async fn closures_with_ids(&self) -> Result<Vec<(Id, Closure)>, StoreError> {
        let rows: Vec<ClosureRow> = sqlx::query_as(
            "SELECT id AS owner, from_date, to_date, start_time, end_time, reason FROM closures WHERE business_id = $1 ORDER BY from_date, id",
        )
        .bind(self.id())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(|r| Ok((r.owner, Closure::try_from(r)?))).collect()
    }

    /// Adds a closure; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_closure(&self, c: &Closure) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO closures (business_id, from_date, to_date, start_time, end_time, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(self.id())
        .bind(c.from.to_string())
        .bind(c.to.to_string())
        .bind(c.range.map(|r| time_text(r.start)))
        .bind(c.range.map(|r| time_text(r.end)))
        .bind(&c.reason)
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }

    /// Deletes a closure; `false` when the business has no such closure.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_closure(&self, id: Id) -> Result<bool, StoreError> {
        self.change_row("DELETE FROM closures WHERE id = $1 AND business_id = $2", id).await
    }

    /// An operator's absences with their ids; `None` when the business has
    /// no such operator.
    ///
    /// # Errors
    /// Database errors.
    pub async fn absences(&self, operator_id: Id) -> Result<Option<Vec<(Id, Closure)>>, StoreError> {
        if !self.has_operator(operator_id).await? {
            return Ok(None);
        }
        let rows: Vec<ClosureRow> = sqlx::query_as(
            "SELECT a.id AS owner, a.from_date, a.to_date, a.start_time, a.end_time, a.reason FROM operator_absences a \
             JOIN operators o ON o.id = a.operator_id WHERE a.operator_id = $1 AND o.business_id = $2 ORDER BY a.from_date, a.id",
        )
        .bind(operator_id)
        .bind(self.id())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(|r| Ok((r.owner, Closure::try_from(r)?))).collect::<Result<Vec<_>, _>>().map(Some)
    }

    /// Adds an absence of an operator; its id, or `None` when the business
    /// has no such operator.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_absence(&self, operator_id: Id, c: &Closure) -> Result<Option<Id>, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO operator_absences (operator_id, from_date, to_date, start_time, end_time, reason) \
             SELECT id, $3, $4, $5, $6, $7 FROM operators WHERE id = $1 AND business_id = $2 RETURNING id",
        )
        .bind(operator_id)
        .bind(self.id())
        .bind(c.from.to_string())
        .bind(c.to.to_string())
        .bind(c.range.map(|r| time_text(r.start)))
        .bind(c.range.map(|r| time_text(r.end)))
        .bind(&c.reason)
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)
    }

    async fn has_operator(&self, operator_id: Id) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM operators WHERE id = $1 AND business_id = $2")
            .bind(operator_id)
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        Ok(found.is_some())
    }

    /// Sets which operators (of this business; others are ignored) perform
    /// service `service_id`; `false` when the business has no such service.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_service_operators(&self, service_id: Id, operator_ids: &[Id]) -> Result<bool, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM services WHERE id = $1 AND business_id = $2")
            .bind(service_id)
            .bind(self.id())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        if found.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM operator_services WHERE service_id = $1").bind(service_id).execute(&mut *tx).await.map_err(store_error)?;
        for op in operator_ids {
            sqlx::query(
                "INSERT INTO operator_services (operator_id, service_id) SELECT id, $2 FROM operators WHERE id = $1 AND business_id = $3",
            )
            .bind(op)
            .bind(service_id)
            .bind(self.id())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    /// Appointments in any state on the local dates `from..=to`
    /// (`YYYY-MM-DD`), optionally of one operator, by start.
    ///
    /// # Errors
    /// Database errors.
    pub async fn appointments_between(&self, from: &str, to: &str, operator_id: Option<Id>) -> Result<Vec<Appointment>, StoreError> {
        let rows: Vec<AppointmentRow> = sqlx::query_as(&format!(
            "SELECT {APPOINTMENT_COLS} FROM appointments WHERE business_id = $1 AND local_date >= $2 AND local_date <= $3 \
             AND ($4 IS NULL OR operator_id = $4) ORDER BY start_utc, id"
        ))
        .bind(self.id())
        .bind(from)
        .bind(to)
        .bind(operator_id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows::appointments(rows)
    }

    /// The figures of UTC instants `[from, to)` (stored text form).
    ///
    /// # Errors
    /// Database errors.
    pub async fn stats(&self, from: &str, to: &str, from_date: &str, to_date: &str) -> Result<Stats, StoreError> {
        let pairs = |sql: &'static str, a: String, b: String| {
            let id = self.id();
            async move { sqlx::query_as::<_, (String, i64)>(sql).bind(id).bind(a).bind(b).fetch_all(self.pool()).await.map_err(store_error) }
        };
        let calls_per_day = pairs(
            "SELECT SUBSTR(started_at, 1, 10) AS d, COUNT(*) FROM calls WHERE business_id = $1 AND started_at >= $2 AND started_at < $3 \
             GROUP BY SUBSTR(started_at, 1, 10) ORDER BY d",
            from.into(),
            to.into(),
        )
        .await?;
        let bookings_per_day = pairs(
            "SELECT local_date, COUNT(*) FROM appointments WHERE business_id = $1 AND local_date >= $2 AND local_date <= $3 \
             AND status IN ('booked', 'completed') GROUP BY local_date ORDER BY local_date",
            from_date.into(),
            to_date.into(),
        )
        .await?;
        let outcomes = pairs(
            "SELECT COALESCE(outcome, 'none') AS o, COUNT(*) FROM calls WHERE business_id = $1 AND started_at >= $2 AND started_at < $3 \
             GROUP BY COALESCE(outcome, 'none')",
            from.into(),
            to.into(),
        )
        .await?;
        let turns_per_layer = pairs(
            "SELECT layer, COUNT(*) FROM chat_history WHERE business_id = $1 AND created_at >= $2 AND created_at < $3 \
             AND role = 'user' AND layer IS NOT NULL GROUP BY layer ORDER BY layer",
            from.into(),
            to.into(),
        )
        .await?;
        let calls_per_hour_utc = pairs(
            "SELECT SUBSTR(started_at, 12, 2) AS h, COUNT(*) FROM calls WHERE business_id = $1 AND started_at >= $2 AND started_at < $3 \
             GROUP BY SUBSTR(started_at, 12, 2) ORDER BY h",
            from.into(),
            to.into(),
        )
        .await?;
        let latencies_us: Vec<i64> = sqlx::query_scalar(
            "SELECT latency_us FROM chat_history WHERE business_id = $1 AND created_at >= $2 AND created_at < $3 AND role = 'assistant' \
             ORDER BY latency_us LIMIT 100000",
        )
        .bind(self.id())
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(Stats {
            calls: outcomes.iter().map(|(_, n)| n).sum(),
            calls_booked: outcomes.iter().filter(|(o, _)| o == "booked").map(|(_, n)| n).sum(),
            calls_per_day,
            bookings_per_day,
            turns_per_layer,
            latencies_us,
            calls_per_hour_utc,
        })
    }
}
