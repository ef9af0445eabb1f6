//! Demo data for each vertical (`crates/server/seed/*.json`, compiled in):
//! a business with opening hours and closures, services, operators, FAQs
//! and a few clients. `fluxion db seed --vertical V` loads one.

use jiff::civil::{Date, Time};
use serde::Deserialize;

use fluxion_core::booking::{weekday_serde, Closure, TimeRange, Vertical, WeeklyHours};
use fluxion_core::booking::{BookingRules, Operator, Service};
use fluxion_core::faq::Faq;
use fluxion_core::text::fold;

use crate::store::sqlite::SqliteStore;
use crate::store::{store_error, ts_text};

/// The JSON of one vertical.
pub fn json(vertical: Vertical) -> &'static str {
    match vertical {
        Vertical::Salone => include_str!("../seed/salone.json"),
        Vertical::Wellness => include_str!("../seed/wellness.json"),
        Vertical::Medical => include_str!("../seed/medical.json"),
        Vertical::Auto => include_str!("../seed/auto.json"),
    }
}

#[derive(Debug, Deserialize)]
struct HoursJson {
    weekday: String,
    start: Time,
    end: Time,
}

#[derive(Debug, Deserialize)]
struct ClosureJson {
    from: Date,
    to: Date,
    #[serde(default)]
    start: Option<Time>,
    #[serde(default)]
    end: Option<Time>,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
struct RulesJson {
    #[serde(default)]
    buffer_min: Option<u32>,
    #[serde(default)]
    min_notice_min: Option<u32>,
    #[serde(default)]
    horizon_days: Option<u32>,
    #[serde(default)]
    slot_step_min: Option<u32>,
    #[serde(default)]
    closed_on_public_holidays: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct BusinessJson {
    name: String,
    vertical: Vertical,
    #[serde(default = "default_tz")]
    timezone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    hours: Vec<HoursJson>,
    #[serde(default)]
    closures: Vec<ClosureJson>,
    rules: Option<RulesJson>,
}

fn default_tz() -> String {
    "Europe/Rome".to_string()
}

#[derive(Debug, Deserialize)]
struct ServiceJson {
    name: String,
    #[serde(default)]
    synonyms: Vec<String>,
    duration_min: u32,
    price_cents: i64,
}

#[derive(Debug, Deserialize)]
struct OperatorJson {
    name: String,
    services: Vec<String>,
    #[serde(default)]
    hours: Vec<HoursJson>,
    #[serde(default)]
    absences: Vec<ClosureJson>,
}

#[derive(Debug, Deserialize)]
struct FaqJson {
    category: String,
    questions: Vec<String>,
    answer: String,
}

#[derive(Debug, Deserialize)]
struct ClientJson {
    name: String,
    phone: String,
    #[serde(default)]
    email: Option<String>,
}

/// A parsed seed file.
#[derive(Debug, Deserialize)]
pub struct SeedData {
    business: BusinessJson,
    services: Vec<ServiceJson>,
    operators: Vec<OperatorJson>,
    faqs: Vec<FaqJson>,
    #[serde(default)]
    clients: Vec<ClientJson>,
}

/// A seed file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Bad JSON or a bad value in it.
    #[error("seed data: {0}")]
    Invalid(String),
    /// The database refused it.
    #[error(transparent)]
    Store(#[from] fluxion_core::booking::StoreError),
    /// The database already holds appointments and `force` was not given.
    #[error("the database already holds {0} appointments: refusing to replace its data (use --force)")]
    HasData(i64),
}

fn hours(list: &[HoursJson]) -> Result<Vec<WeeklyHours>, SeedError> {
    list.iter()
        .map(|h| {
            let weekday = weekday_serde::parse(&h.weekday).ok_or_else(|| SeedError::Invalid(format!("unknown weekday '{}'", h.weekday)))?;
            if h.end <= h.start {
                return Err(SeedError::Invalid(format!("opening interval {}–{} ends before it starts", h.start, h.end)));
            }
            Ok(WeeklyHours { weekday, range: TimeRange { start: h.start, end: h.end } })
        })
        .collect()
}

fn closures(list: &[ClosureJson]) -> Vec<Closure> {
    list.iter()
        .map(|c| Closure {
            from: c.from,
            to: c.to,
            range: c.start.zip(c.end).map(|(start, end)| TimeRange { start, end }),
            reason: c.reason.clone(),
        })
        .collect()
}

impl SeedData {
    /// Parses and validates a seed file.
    ///
    /// # Errors
    /// Malformed JSON, unknown weekdays, operators naming unknown services.
    pub fn parse(json: &str) -> Result<Self, SeedError> {
        let data: SeedData = serde_json::from_str(json).map_err(|e| SeedError::Invalid(e.to_string()))?;
        hours(&data.business.hours)?;
        for o in &data.operators {
            hours(&o.hours)?;
            if let Some(s) = o.services.iter().find(|s| !data.services.iter().any(|x| &x.name == *s)) {
                return Err(SeedError::Invalid(format!("operator {} performs unknown service '{s}'", o.name)));
            }
        }
        Ok(data)
    }

    /// The built-in demo data of a vertical.
    ///
    /// # Errors
    /// Only if the compiled-in file is broken (a test rules it out).
    pub fn demo(vertical: Vertical) -> Result<Self, SeedError> {
        Self::parse(json(vertical))
    }

    /// The vertical of the business.
    pub fn vertical(&self) -> Vertical {
        self.business.vertical
    }

    /// Services with ids 1.. in file order (as they are stored).
    pub fn services(&self) -> Vec<Service> {
        self.services
            .iter()
            .enumerate()
            .map(|(i, s)| Service {
                id: i as i64 + 1,
                name: s.name.clone(),
                synonyms: s.synonyms.clone(),
                duration_min: s.duration_min,
                price_cents: s.price_cents,
                gender: None,
                category: None,
            })
            .collect()
    }

    /// Operators with ids 1.. in file order.
    pub fn operators(&self) -> Vec<Operator> {
        let services = self.services();
        self.operators
            .iter()
            .enumerate()
            .map(|(i, o)| Operator {
                id: i as i64 + 1,
                name: o.name.clone(),
                service_ids: services.iter().filter(|s| o.services.contains(&s.name)).map(|s| s.id).collect(),
                hours: hours(&o.hours).unwrap_or_default(),
                absences: closures(&o.absences),
            })
            .collect()
    }

    /// FAQs with ids 1.. in file order.
    pub fn faqs(&self) -> Vec<Faq> {
        self.faqs
            .iter()
            .enumerate()
            .map(|(i, f)| Faq { id: i as i64 + 1, category: f.category.clone(), questions: f.questions.clone(), answer: f.answer.clone() })
            .collect()
    }

    fn rules(&self) -> BookingRules {
        let d = BookingRules::default();
        let r = self.business.rules.as_ref();
        BookingRules {
            buffer_min: r.and_then(|r| r.buffer_min).unwrap_or(d.buffer_min),
            min_notice_min: r.and_then(|r| r.min_notice_min).unwrap_or(d.min_notice_min),
            horizon_days: r.and_then(|r| r.horizon_days).unwrap_or(d.horizon_days),
            slot_step_min: r.and_then(|r| r.slot_step_min).unwrap_or(d.slot_step_min),
            closed_on_public_holidays: r.and_then(|r| r.closed_on_public_holidays).unwrap_or(d.closed_on_public_holidays),
        }
    }

    /// Replaces the database's business data with this seed, in one
    /// transaction. Refuses when appointments exist unless `force`.
    ///
    /// # Errors
    /// [`SeedError::HasData`] or a database failure (nothing is written then).
    pub async fn load(&self, store: &SqliteStore, force: bool) -> Result<(), SeedError> {
        let pool = store.pool();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointments").fetch_one(pool).await.map_err(store_error)?;
        if n > 0 && !force {
            return Err(SeedError::HasData(n));
        }
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        for table in [
            "chat_history",
            "waitlist",
            "callback_requests",
            "appointments",
            "clients",
            "faq_entries",
            "operator_absences",
            "operator_hours",
            "operator_services",
            "operators",
            "services",
            "closures",
            "opening_hours",
            "business",
        ] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await.map_err(store_error)?;
        }
        let b = &self.business;
        let rules = self.rules();
        sqlx::query(
            "INSERT INTO business (id, name, vertical, timezone, address, phone, buffer_min, min_notice_min, horizon_days, slot_step_min, closed_on_public_holidays) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&b.name)
        .bind(b.vertical.as_str())
        .bind(&b.timezone)
        .bind(&b.address)
        .bind(&b.phone)
        .bind(i64::from(rules.buffer_min))
        .bind(i64::from(rules.min_notice_min))
        .bind(i64::from(rules.horizon_days))
        .bind(i64::from(rules.slot_step_min))
        .bind(rules.closed_on_public_holidays)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        SqliteStore::insert_hours(&mut tx, "opening_hours", "business_id", 1, &hours(&b.hours)?).await?;
        SqliteStore::insert_closures(&mut tx, "closures", "business_id", 1, &closures(&b.closures)).await?;
        for s in self.services() {
            sqlx::query("INSERT INTO services (id, business_id, name, synonyms, duration_min, price_cents) VALUES ($1, 1, $2, $3, $4, $5)")
                .bind(s.id)
                .bind(&s.name)
                .bind(serde_json::to_string(&s.synonyms).unwrap_or_else(|_| "[]".into()))
                .bind(i64::from(s.duration_min))
                .bind(s.price_cents)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        for o in self.operators() {
            sqlx::query("INSERT INTO operators (id, business_id, name) VALUES ($1, 1, $2)")
                .bind(o.id)
                .bind(&o.name)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            for sid in &o.service_ids {
                sqlx::query("INSERT INTO operator_services (operator_id, service_id) VALUES ($1, $2)")
                    .bind(o.id)
                    .bind(sid)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
            }
            SqliteStore::insert_hours(&mut tx, "operator_hours", "operator_id", o.id, &o.hours).await?;
            SqliteStore::insert_closures(&mut tx, "operator_absences", "operator_id", o.id, &o.absences).await?;
        }
        for f in self.faqs() {
            sqlx::query("INSERT INTO faq_entries (id, business_id, vertical, category, questions, answer) VALUES ($1, 1, $2, $3, $4, $5)")
                .bind(f.id)
                .bind(b.vertical.as_str())
                .bind(&f.category)
                .bind(serde_json::to_string(&f.questions).unwrap_or_else(|_| "[]".into()))
                .bind(&f.answer)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        let now = ts_text(jiff::Timestamp::now());
        for c in &self.clients {
            sqlx::query("INSERT INTO clients (name, name_folded, phone, email, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)")
                .bind(&c.name)
                .bind(fold(&c.name))
                .bind(&c.phone)
                .bind(&c.email)
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vertical_has_rich_demo_data() {
        for v in Vertical::ALL {
            let d = SeedData::demo(v).expect("seed parses");
            assert_eq!(d.vertical(), v);
            assert!(d.services().len() >= 8, "{v:?} services");
            assert!(d.operators().len() >= 3, "{v:?} operators");
            assert!(d.faqs().len() >= 40, "{v:?} faqs");
            for s in d.services() {
                assert!(d.operators().iter().any(|o| o.service_ids.contains(&s.id)), "{v:?}: nobody performs {}", s.name);
            }
        }
    }

    #[test]
    fn rejects_bad_seed() {
        assert!(SeedData::parse("{").is_err());
        let bad = json(Vertical::Salone).replacen("\"tuesday\"", "\"martedi\"", 1);
        assert!(SeedData::parse(&bad).is_err());
    }
}
