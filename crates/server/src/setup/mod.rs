//! Creating the owner's own business, instead of a demo: the answers of the
//! set-up wizard (`POST /api/setup`) or of `fluxion setup` become a
//! [`BusinessConfig`] that starts from the vertical's templates (services,
//! operators, FAQ) where the owner gave nothing, plus the numbers that route
//! to it and the owner's console account. [`http`] serves set-up mode: what
//! `fluxion serve` answers while the database holds no business.

pub mod http;
pub mod spec;

use fluxion_core::booking::{Closure, Operator, Service, Vertical, WeeklyHours};
use fluxion_core::nlu::l2_slots::normalize_phone;
use serde::Deserialize;

use crate::auth::secret;
use crate::seed::SeedData;
use crate::store::{BusinessConfig, NumberKind, Role, Store, Tenant};

/// A service as the owner describes it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SetupService {
    /// Name on the price list.
    pub name: String,
    /// Other names callers use.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Minutes.
    pub duration_min: u32,
    /// Euro cents.
    pub price_cents: i64,
}

/// An operator as the owner describes it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SetupOperator {
    /// First name as callers say it.
    pub name: String,
    /// Names of the services performed (empty: all).
    #[serde(default)]
    pub services: Vec<String>,
    /// Working hours (empty: the business's).
    #[serde(default)]
    pub hours: Vec<WeeklyHours>,
}

/// The owner's console account.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
pub struct Owner {
    /// Login name.
    pub username: String,
    /// Password (at least 8 characters).
    #[schema(format = Password, write_only)]
    pub password: String,
}

impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owner").field("username", &self.username).field("password", &"***").finish()
    }
}

fn default_timezone() -> String {
    "Europe/Rome".to_string()
}

fn yes() -> bool {
    true
}

/// Everything the set-up asks. Absent lists take the vertical's templates.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SetupRequest {
    /// Public name.
    pub name: String,
    /// Kind of business.
    pub vertical: Vertical,
    /// Street address as spoken to callers.
    #[serde(default)]
    pub address: String,
    /// Numbers callers dial (E.164 or Italian national format); the first
    /// is the business's phone; each routes calls to it.
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    /// IANA time zone.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Opening hours, several intervals a day for breaks (absent: the
    /// template's).
    #[serde(default)]
    pub hours: Option<Vec<WeeklyHours>>,
    /// Closures (holidays, one-off closures).
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// The price list (absent: the template's).
    #[serde(default)]
    pub services: Option<Vec<SetupService>>,
    /// The staff (absent: the template's).
    #[serde(default)]
    pub operators: Option<Vec<SetupOperator>>,
    /// Start the FAQ from the vertical's templates.
    #[serde(default = "yes")]
    pub faq_templates: bool,
    /// The owner's account.
    pub owner: Owner,
}

/// Why a set-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A business exists already.
    #[error("the business is already set up")]
    AlreadySetUp,
    /// A bad answer (the message says which, in Italian for the owner).
    #[error("{0}")]
    Invalid(String),
    /// The database or the template failed.
    #[error("{0}")]
    Failed(String),
}

impl From<fluxion_core::booking::StoreError> for SetupError {
    fn from(e: fluxion_core::booking::StoreError) -> Self {
        SetupError::Failed(e.message)
    }
}

impl From<crate::seed::SeedError> for SetupError {
    fn from(e: crate::seed::SeedError) -> Self {
        SetupError::Failed(e.to_string())
    }
}

fn invalid(m: impl Into<String>) -> SetupError {
    SetupError::Invalid(m.into())
}

/// The configuration and routed numbers of `req`, validated.
///
/// # Errors
/// [`SetupError::Invalid`] naming the first bad answer.
pub fn config(req: &SetupRequest) -> Result<(BusinessConfig, Vec<String>), SetupError> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("nome dell'attività: obbligatorio (al massimo 200 caratteri)"));
    }
    jiff::tz::TimeZone::get(req.timezone.trim()).map_err(|_| invalid(format!("fuso orario sconosciuto: '{}'", req.timezone)))?;
    let numbers = req
        .phone_numbers
        .iter()
        .map(|p| normalize_phone(p).ok_or_else(|| invalid(format!("numero di telefono non valido: '{p}'"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = SeedData::demo(req.vertical)?.config()?;
    config.clients.clear();
    let b = &mut config.business;
    b.name = name.to_string();
    b.address = req.address.trim().to_string();
    b.timezone = req.timezone.trim().to_string();
    b.phone = numbers.first().cloned().unwrap_or_default();
    b.closures = req.closures.clone();
    if let Some(hours) = &req.hours {
        b.hours = hours.clone();
    }
    if let Some(h) = b.hours.iter().find(|h| h.range.end <= h.range.start) {
        return Err(invalid(format!("orario {}–{}: la fine deve seguire l'inizio", h.range.start, h.range.end)));
    }
    if let Some(c) = b.closures.iter().find(|c| c.to < c.from) {
        return Err(invalid(format!("chiusura dal {} al {}: la fine precede l'inizio", c.from, c.to)));
    }
    if let Some(services) = &req.services {
        config.services = services_of(services)?;
        if req.operators.is_none() {
            // The template's staff perform the template's services: replace them with one operator doing all.
            config.operators = vec![Operator {
                id: 1,
                name: "Titolare".into(),
                service_ids: config.services.iter().map(|s| s.id).collect(),
                hours: Vec::new(),
                absences: Vec::new(),
            }];
        }
    }
    if let Some(operators) = &req.operators {
        config.operators = operators_of(operators, &config.services)?;
    }
    if !req.faq_templates {
        config.faqs.clear();
    }
    Ok((config, numbers))
}

fn services_of(list: &[SetupService]) -> Result<Vec<Service>, SetupError> {
    let mut out: Vec<Service> = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let name = s.name.trim();
        if name.is_empty() {
            return Err(invalid(format!("servizio {}: il nome è obbligatorio", i + 1)));
        }
        if out.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
            return Err(invalid(format!("servizio '{name}' ripetuto")));
        }
        if !(5..=600).contains(&s.duration_min) {
            return Err(invalid(format!("servizio '{name}': durata fra 5 e 600 minuti")));
        }
        if s.price_cents < 0 {
            return Err(invalid(format!("servizio '{name}': il prezzo non può essere negativo")));
        }
        out.push(Service {
            id: i as i64 + 1,
            name: name.to_string(),
            synonyms: s.synonyms.iter().map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
            duration_min: s.duration_min,
            price_cents: s.price_cents,
            gender: None,
            category: None,
        });
    }
    Ok(out)
}

fn operators_of(list: &[SetupOperator], services: &[Service]) -> Result<Vec<Operator>, SetupError> {
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            let name = o.name.trim();
            if name.is_empty() {
                return Err(invalid(format!("operatore {}: il nome è obbligatorio", i + 1)));
            }
            let service_ids = if o.services.is_empty() {
                services.iter().map(|s| s.id).collect()
            } else {
                o.services
                    .iter()
                    .map(|n| {
                        services
                            .iter()
                            .find(|s| s.name.eq_ignore_ascii_case(n.trim()))
                            .map(|s| s.id)
                            .ok_or_else(|| invalid(format!("operatore '{name}': servizio sconosciuto '{n}'")))
                    })
                    .collect::<Result<_, _>>()?
            };
            Ok(Operator { id: i as i64 + 1, name: name.to_string(), service_ids, hours: o.hours.clone(), absences: Vec::new() })
        })
        .collect()
}

/// Creates the business of `req` with its numbers and owner account, on a
/// database that holds no business yet; returns it and the owner's id.
///
/// # Errors
/// [`SetupError::AlreadySetUp`], a bad answer (nothing is written then), or
/// a database failure.
pub async fn create(store: &Store, req: &SetupRequest) -> Result<(Tenant, fluxion_core::booking::Id), SetupError> {
    if store.is_seeded().await? {
        return Err(SetupError::AlreadySetUp);
    }
    let (config, numbers) = config(req)?;
    let username = req.owner.username.trim().to_string();
    if username.is_empty() {
        return Err(invalid("nome utente del titolare: obbligatorio"));
    }
    let password = req.owner.password.clone();
    let hash = tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| SetupError::Failed(e.to_string()))?
        .map_err(|e| match e {
            secret::SecretError::TooShort => invalid(format!("la password deve avere almeno {} caratteri", secret::MIN_PASSWORD_CHARS)),
            other => SetupError::Failed(other.to_string()),
        })?;
    let tenant = store.create_tenant(&config).await?;
    for n in &numbers {
        tenant.add_number(NumberKind::Phone, n).await?;
    }
    let owner = tenant.add_user(&username, &hash, Role::Owner).await?;
    tracing::info!(tenant = tenant.id(), vertical = req.vertical.as_str(), "business set up");
    Ok((tenant, owner))
}
