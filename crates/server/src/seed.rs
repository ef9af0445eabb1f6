//! Demo data for each vertical (`crates/server/seed/*.json`, compiled in):
//! a business with opening hours and closures, services, operators, FAQs
//! and a few clients. `fluxion db seed --vertical V` loads one into the
//! default business, `fluxion tenant add --vertical V` adds one as a new
//! business; both write through the store's configuration interface.

use jiff::civil::{Date, Time};
use serde::Deserialize;

use fluxion_core::booking::{weekday_serde, Closure, TimeRange, Vertical, WeeklyHours};
use fluxion_core::booking::{BookingRules, Business, Client, Operator, Service};
use fluxion_core::faq::Faq;

use crate::store::{BusinessConfig, Store, Tenant};

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
    /// The business already holds appointments and `force` was not given.
    #[error("the business already holds {0} appointments: refusing to replace its data (use --force)")]
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

    /// The seed as a business configuration, for the store.
    ///
    /// # Errors
    /// An opening interval that ends before it starts.
    pub fn config(&self) -> Result<BusinessConfig, SeedError> {
        let b = &self.business;
        Ok(BusinessConfig {
            business: Business {
                id: 0,
                name: b.name.clone(),
                vertical: b.vertical,
                timezone: b.timezone.clone(),
                address: b.address.clone(),
                phone: b.phone.clone(),
                hours: hours(&b.hours)?,
                closures: closures(&b.closures),
                rules: self.rules(),
            },
            services: self.services(),
            operators: self.operators(),
            faqs: self.faqs(),
            clients: self
                .clients
                .iter()
                .map(|c| Client {
                    id: 0,
                    name: c.name.clone(),
                    phone: c.phone.clone(),
                    email: c.email.clone(),
                    consent_marketing: false,
                    consent_recording: false,
                    loyalty_points: 0,
                })
                .collect(),
        })
    }

    /// Replaces the default business's data with this seed (creating the
    /// business in an empty database), in one transaction. Refuses when that
    /// business has appointments unless `force`. Returns its handle.
    ///
    /// # Errors
    /// [`SeedError::HasData`] or a database failure (nothing is written then).
    pub async fn load(&self, store: &Store, force: bool) -> Result<Tenant, SeedError> {
        let config = self.config()?;
        match store.default_tenant().await? {
            None => Ok(store.create_tenant(&config).await?),
            Some(tenant) => {
                let n = tenant.appointment_count().await?;
                if n > 0 && !force {
                    return Err(SeedError::HasData(n));
                }
                tenant.replace_config(&config).await?;
                Ok(tenant)
            }
        }
    }

    /// Adds this seed as a new business (`fluxion tenant add`).
    ///
    /// # Errors
    /// A database failure (nothing is written then).
    pub async fn add_tenant(&self, store: &Store) -> Result<Tenant, SeedError> {
        Ok(store.create_tenant(&self.config()?).await?)
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
