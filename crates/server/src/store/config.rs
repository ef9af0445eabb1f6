//! A business's configuration, read and written: details and booking rules,
//! opening hours, closures, services, operators (with their hours, absences
//! and services) and FAQ. Reading is the [`Repository`] port
//! (`business()`, `services()`, `operators()`, `faqs()`); writing is here,
//! each change one transaction. [`Store::create_tenant`] and
//! [`Tenant::replace_config`] write a whole [`BusinessConfig`] (seeding,
//! `fluxion tenant add`).
//!
//! After a change, the app rebuilds the business's conversation engine
//! (`app::Engines::reload`) so the next turn sees it.
//!
//! [`Repository`]: fluxion_core::booking::Repository

use std::collections::HashMap;

use fluxion_core::booking::{Business, Client, Closure, Id, Operator, Service, StoreError, WeeklyHours};
use fluxion_core::faq::Faq;
use fluxion_core::text::fold;
use jiff::Timestamp;
use sqlx::AnyConnection;

use super::rows::to_json;
use super::{store_error, time_text, ts_text, Store, Tenant};

/// Everything that describes a business, as one value. Ids inside are keys
/// local to the value: `operators[i].service_ids` name `services[j].id`;
/// the database assigns the stored ids.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessConfig {
    /// Details, rules, hours and closures (`id` ignored).
    pub business: Business,
    /// The price list.
    pub services: Vec<Service>,
    /// The staff.
    pub operators: Vec<Operator>,
    /// Questions and answers (`id` ignored).
    pub faqs: Vec<Faq>,
    /// Known clients (`id` and loyalty points ignored).
    pub clients: Vec<Client>,
}

/// A service to add or the new state of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    /// Name on the price list.
    pub name: String,
    /// Other names callers use.
    pub synonyms: Vec<String>,
    /// Minutes.
    pub duration_min: u32,
    /// Euro cents.
    pub price_cents: i64,
}

impl From<&Service> for NewService {
    fn from(s: &Service) -> Self {
        NewService { name: s.name.clone(), synonyms: s.synonyms.clone(), duration_min: s.duration_min, price_cents: s.price_cents }
    }
}

/// An operator to add or the new state of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOperator {
    /// First name as callers say it.
    pub name: String,
    /// Services performed (stored ids of this business's services; others
    /// are ignored).
    pub service_ids: Vec<Id>,
    /// Working hours (empty: the business's).
    pub hours: Vec<WeeklyHours>,
    /// Absences.
    pub absences: Vec<Closure>,
}

impl Store {
    /// Creates a business from `config`, in one transaction, and returns its
    /// handle.
    ///
    /// # Errors
    /// A database error (nothing is written then).
    pub async fn create_tenant(&self, config: &BusinessConfig) -> Result<Tenant, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO business (name, vertical, timezone, address, phone, buffer_min, min_notice_min, horizon_days, slot_step_min, \
             closed_on_public_holidays) VALUES ($1, $2, '', '', '', 0, 0, 0, 1, 0) RETURNING id",
        )
        .bind(&config.business.name)
        .bind(config.business.vertical.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        write_config(&mut tx, id, config).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(self.tenant(id))
    }
}

impl Tenant {
    /// Number of appointments in any state.
    ///
    /// # Errors
    /// Database errors.
    pub async fn appointment_count(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM appointments WHERE business_id = $1")
            .bind(self.id())
            .fetch_one(self.pool())
            .await
            .map_err(store_error)
    }

    /// Replaces everything of this business (configuration, clients,
    /// appointments, history) with `config`, in one transaction. The
    /// business keeps its id and its numbers.
    ///
    /// # Errors
    /// A database error (nothing changes then).
    pub async fn replace_config(&self, config: &BusinessConfig) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        for table in [
            "chat_history",
            "waitlist",
            "callback_requests",
            "appointments",
            "clients",
            "faq_entries",
            "operators",
            "services",
            "closures",
            "opening_hours",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE business_id = $1"))
                .bind(self.id())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        sqlx::query("UPDATE business SET vertical = $2 WHERE id = $1")
            .bind(self.id())
            .bind(config.business.vertical.as_str())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        write_config(&mut tx, self.id(), config).await?;
        tx.commit().await.map_err(store_error)
    }

    /// Changes the business's details and booking rules (not its hours or
    /// closures, not its vertical).
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_business(&self, business: &Business) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        update_details(&mut tx, self.id(), business).await?;
        tx.commit().await.map_err(store_error)
    }

    /// Replaces the opening hours.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_opening_hours(&self, hours: &[WeeklyHours]) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        delete_where(&mut tx, "opening_hours", "business_id", self.id()).await?;
        insert_hours(&mut tx, "opening_hours", "business_id", self.id(), hours).await?;
        tx.commit().await.map_err(store_error)
    }

    /// Replaces the closures.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_closures(&self, closures: &[Closure]) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        delete_where(&mut tx, "closures", "business_id", self.id()).await?;
        insert_closures(&mut tx, "closures", "business_id", self.id(), closures).await?;
        tx.commit().await.map_err(store_error)
    }

    /// Adds a service; returns its id.
    ///
    /// # Errors
    /// A service of that name exists, or a database error.
    pub async fn add_service(&self, service: &NewService) -> Result<Id, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let id = insert_service(&mut tx, self.id(), service).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(id)
    }

    /// Changes a service; `false` when the business has no such service.
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_service(&self, id: Id, service: &NewService) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE services SET name = $3, synonyms = $4, duration_min = $5, price_cents = $6 WHERE id = $1 AND business_id = $2",
        )
        .bind(id)
        .bind(self.id())
        .bind(&service.name)
        .bind(to_json(&service.synonyms)?)
        .bind(i64::from(service.duration_min))
        .bind(service.price_cents)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    /// Offers or withdraws a service (withdrawn services keep their
    /// appointments); `false` when the business has no such service.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_service_active(&self, id: Id, active: bool) -> Result<bool, StoreError> {
        self.set_active("services", id, active).await
    }

    /// Adds an operator; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_operator(&self, operator: &NewOperator) -> Result<Id, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let id: i64 = sqlx::query_scalar("INSERT INTO operators (business_id, name) VALUES ($1, $2) RETURNING id")
            .bind(self.id())
            .bind(&operator.name)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        write_operator_details(&mut tx, self.id(), id, operator).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(id)
    }

    /// Replaces an operator's name, services, hours and absences; `false`
    /// when the business has no such operator.
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_operator(&self, id: Id, operator: &NewOperator) -> Result<bool, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let done = sqlx::query("UPDATE operators SET name = $3 WHERE id = $1 AND business_id = $2")
            .bind(id)
            .bind(self.id())
            .bind(&operator.name)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for table in ["operator_services", "operator_hours", "operator_absences"] {
            delete_where(&mut tx, table, "operator_id", id).await?;
        }
        write_operator_details(&mut tx, self.id(), id, operator).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(true)
    }

    /// Puts an operator on or off the rota; `false` when the business has no
    /// such operator.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_operator_active(&self, id: Id, active: bool) -> Result<bool, StoreError> {
        self.set_active("operators", id, active).await
    }

    /// Adds an FAQ entry; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_faq(&self, faq: &Faq) -> Result<Id, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let id = insert_faq(&mut tx, self.id(), faq).await?;
        tx.commit().await.map_err(store_error)?;
        Ok(id)
    }

    /// Changes an FAQ entry; `false` when the business has no such entry.
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_faq(&self, id: Id, faq: &Faq) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE faq_entries SET category = $3, questions = $4, answer = $5 WHERE id = $1 AND business_id = $2")
            .bind(id)
            .bind(self.id())
            .bind(&faq.category)
            .bind(to_json(&faq.questions)?)
            .bind(&faq.answer)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes an FAQ entry; `false` when the business has no such entry.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_faq(&self, id: Id) -> Result<bool, StoreError> {
        self.change_row("DELETE FROM faq_entries WHERE id = $1 AND business_id = $2", id).await
    }

    async fn set_active(&self, table: &str, id: Id, active: bool) -> Result<bool, StoreError> {
        let state = i64::from(active);
        self.change_row(&format!("UPDATE {table} SET active = {state} WHERE id = $1 AND business_id = $2"), id).await
    }
}

/// Writes `config` below business `id` (whose other rows are empty).
async fn write_config(tx: &mut AnyConnection, id: Id, config: &BusinessConfig) -> Result<(), StoreError> {
    update_details(tx, id, &config.business).await?;
    insert_hours(tx, "opening_hours", "business_id", id, &config.business.hours).await?;
    insert_closures(tx, "closures", "business_id", id, &config.business.closures).await?;
    let mut service_ids = HashMap::new();
    for s in &config.services {
        service_ids.insert(s.id, insert_service(tx, id, &NewService::from(s)).await?);
    }
    for o in &config.operators {
        let op_id: i64 = sqlx::query_scalar("INSERT INTO operators (business_id, name) VALUES ($1, $2) RETURNING id")
            .bind(id)
            .bind(&o.name)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        let operator = NewOperator {
            name: o.name.clone(),
            service_ids: o.service_ids.iter().filter_map(|s| service_ids.get(s).copied()).collect(),
            hours: o.hours.clone(),
            absences: o.absences.clone(),
        };
        write_operator_details(tx, id, op_id, &operator).await?;
    }
    for f in &config.faqs {
        insert_faq(tx, id, f).await?;
    }
    let now = ts_text(Timestamp::now());
    for c in &config.clients {
        sqlx::query(
            "INSERT INTO clients (business_id, name, name_folded, phone, email, consent_marketing, consent_recording, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(&c.name)
        .bind(fold(&c.name))
        .bind(&c.phone)
        .bind(&c.email)
        .bind(i64::from(c.consent_marketing))
        .bind(i64::from(c.consent_recording))
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

async fn update_details(tx: &mut AnyConnection, id: Id, b: &Business) -> Result<(), StoreError> {
    let r = &b.rules;
    sqlx::query(
        "UPDATE business SET name = $2, timezone = $3, address = $4, phone = $5, buffer_min = $6, min_notice_min = $7, horizon_days = $8, \
         slot_step_min = $9, closed_on_public_holidays = $10 WHERE id = $1",
    )
    .bind(id)
    .bind(&b.name)
    .bind(&b.timezone)
    .bind(&b.address)
    .bind(&b.phone)
    .bind(i64::from(r.buffer_min))
    .bind(i64::from(r.min_notice_min))
    .bind(i64::from(r.horizon_days))
    .bind(i64::from(r.slot_step_min.max(1)))
    .bind(i64::from(r.closed_on_public_holidays))
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn insert_service(tx: &mut AnyConnection, business_id: Id, s: &NewService) -> Result<Id, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO services (business_id, name, synonyms, duration_min, price_cents) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(business_id)
    .bind(&s.name)
    .bind(to_json(&s.synonyms)?)
    .bind(i64::from(s.duration_min))
    .bind(s.price_cents)
    .fetch_one(&mut *tx)
    .await
    .map_err(store_error)
}

async fn insert_faq(tx: &mut AnyConnection, business_id: Id, f: &Faq) -> Result<Id, StoreError> {
    sqlx::query_scalar(
        "INSERT INTO faq_entries (business_id, vertical, category, questions, answer) \
         SELECT $1, vertical, $2, $3, $4 FROM business WHERE id = $1 RETURNING id",
    )
    .bind(business_id)
    .bind(&f.category)
    .bind(to_json(&f.questions)?)
    .bind(&f.answer)
    .fetch_one(&mut *tx)
    .await
    .map_err(store_error)
}

/// Services (only this business's), hours and absences of a new or emptied operator.
async fn write_operator_details(tx: &mut AnyConnection, business_id: Id, op: Id, o: &NewOperator) -> Result<(), StoreError> {
    for sid in &o.service_ids {
        sqlx::query(
            "INSERT INTO operator_services (operator_id, service_id) SELECT $1, id FROM services WHERE id = $2 AND business_id = $3",
        )
        .bind(op)
        .bind(sid)
        .bind(business_id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    insert_hours(tx, "operator_hours", "operator_id", op, &o.hours).await?;
    insert_closures(tx, "operator_absences", "operator_id", op, &o.absences).await
}

async fn delete_where(tx: &mut AnyConnection, table: &str, key: &str, id: Id) -> Result<(), StoreError> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1")).bind(id).execute(&mut *tx).await.map_err(store_error)?;
    Ok(())
}

async fn insert_hours(tx: &mut AnyConnection, table: &str, key: &str, id: Id, hours: &[WeeklyHours]) -> Result<(), StoreError> {
    for h in hours {
        sqlx::query(&format!("INSERT INTO {table} ({key}, weekday, start_time, end_time) VALUES ($1, $2, $3, $4)"))
            .bind(id)
            .bind(i64::from(h.weekday.to_monday_one_offset()))
            .bind(time_text(h.range.start))
            .bind(time_text(h.range.end))
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

async fn insert_closures(tx: &mut AnyConnection, table: &str, key: &str, id: Id, closures: &[Closure]) -> Result<(), StoreError> {
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
