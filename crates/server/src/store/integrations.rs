//! A business's own integrations, set by its owner in the console
//! (Impostazioni → Integrazioni): the phone provider, WhatsApp Cloud API,
//! SMTP e-mail and the language model. A field left unset follows the
//! server's configuration (`TWILIO_*`/`PLIVO_*`, `META_*`, `SMTP_*`,
//! `LLM_*`/`GROQ_API_KEY`/`OPENAI_API_KEY`).
//!
//! Secrets (auth tokens, access tokens, app secrets, passwords, API keys)
//! are [`Secret`]s here: they never print, and the only shape that leaves
//! the server is [`IntegrationsView`], which says of each secret whether it
//! is set and nothing else. They are stored as written, not encrypted: the
//! key would have to live on the same machine as the database (whose file
//! has mode 600); see README "Integrations".

use std::collections::BTreeMap;

use fluxion_core::booking::StoreError;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{store_error, ts_text, Store, Tenant};
use crate::secret::Secret;

/// Longest secret accepted, characters.
pub const SECRET_MAX_CHARS: usize = 1024;

/// The phone provider a business's calls come through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PhoneProvider {
    /// Twilio (account SID, auth token).
    Twilio,
    /// Plivo (auth id, auth token).
    Plivo,
    /// Exotel (account SID, API token).
    Exotel,
    /// A SIP trunk (user name, password).
    Sip,
}

impl PhoneProvider {
    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneProvider::Twilio => "twilio",
            PhoneProvider::Plivo => "plivo",
            PhoneProvider::Exotel => "exotel",
            PhoneProvider::Sip => "sip",
        }
    }

    /// Parses the spelling (any case, trimmed).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "twilio" => Some(PhoneProvider::Twilio),
            "plivo" => Some(PhoneProvider::Plivo),
            "exotel" => Some(PhoneProvider::Exotel),
            "sip" => Some(PhoneProvider::Sip),
            _ => None,
        }
    }
}

/// The language-model vendor of L4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// Groq's OpenAI-compatible API.
    Groq,
    /// OpenAI.
    Openai,
}

impl LlmProvider {
    /// Database and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::Groq => "groq",
            LlmProvider::Openai => "openai",
        }
    }

    /// Parses the spelling (any case, trimmed).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "groq" => Some(LlmProvider::Groq),
            "openai" => Some(LlmProvider::Openai),
            _ => None,
        }
    }
}

/// The phone provider's account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneIntegration {
    /// Which provider.
    pub provider: Option<PhoneProvider>,
    /// Twilio account SID, Plivo auth id, Exotel SID or SIP user.
    pub account_id: Option<String>,
    /// The auth token that signs the provider's webhooks (Twilio, Plivo),
    /// the Exotel API token or the SIP password.
    pub auth_token: Option<Secret>,
}

/// WhatsApp Business through Meta's Cloud API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatsappIntegration {
    /// The business's phone-number id (Meta's `phone_number_id`).
    pub phone_number_id: Option<String>,
    /// Graph API bearer token.
    pub access_token: Option<Secret>,
    /// The app secret that signs webhook deliveries.
    pub app_secret: Option<Secret>,
    /// The token Meta echoes when verifying the webhook.
    pub verify_token: Option<Secret>,
}

/// SMTP e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailIntegration {
    /// SMTP server host name.
    pub host: Option<String>,
    /// SMTP port (1–65535).
    pub port: Option<u16>,
    /// Login user.
    pub user: Option<String>,
    /// Login password.
    pub password: Option<Secret>,
    /// Sender (`"Salone Giulia <info@salone.it>"` or an address).
    pub from: Option<String>,
}

/// The language model of L4.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LlmIntegration {
    /// Which vendor.
    pub provider: Option<LlmProvider>,
    /// Model name (`llama-3.1-8b-instant`); none: the vendor's default.
    pub model: Option<String>,
    /// API key.
    pub api_key: Option<Secret>,
}

/// A business's integrations as stored; `None` everywhere: the server's
/// configuration. `Debug` never shows a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Integrations {
    /// Phone provider.
    pub phone: PhoneIntegration,
    /// WhatsApp.
    pub whatsapp: WhatsappIntegration,
    /// E-mail.
    pub email: EmailIntegration,
    /// Language model.
    pub llm: LlmIntegration,
}

/// What the API says of a secret: whether one is stored, never its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct SecretState {
    /// A value is stored for this business.
    pub set: bool,
}

fn state(s: &Option<Secret>) -> SecretState {
    SecretState { set: s.is_some() }
}

/// `GET /api/integrations`, phone section.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhoneView {
    /// Which provider; `null`: `CALL_PROVIDER`.
    pub provider: Option<PhoneProvider>,
    /// Account SID / auth id / SIP user.
    pub account_id: Option<String>,
    /// Whether the auth token is stored.
    pub auth_token: SecretState,
}

/// `GET /api/integrations`, WhatsApp section.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhatsappView {
    /// Meta's phone-number id.
    pub phone_number_id: Option<String>,
    /// Whether the Graph API token is stored.
    pub access_token: SecretState,
    /// Whether the app secret is stored.
    pub app_secret: SecretState,
    /// Whether the verify token is stored.
    pub verify_token: SecretState,
}

/// `GET /api/integrations`, e-mail section.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailView {
    /// SMTP host.
    pub host: Option<String>,
    /// SMTP port.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: Option<u16>,
    /// Login user.
    pub user: Option<String>,
    /// Whether the password is stored.
    pub password: SecretState,
    /// Sender.
    pub from: Option<String>,
}

/// `GET /api/integrations`, language-model section.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LlmView {
    /// Vendor.
    pub provider: Option<LlmProvider>,
    /// Model name.
    pub model: Option<String>,
    /// Whether the API key is stored.
    pub api_key: SecretState,
}

/// What `GET /api/integrations` answers: every non-secret field, and for
/// each secret only whether it is set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntegrationsView {
    /// Phone provider.
    pub phone: PhoneView,
    /// WhatsApp Cloud API.
    pub whatsapp: WhatsappView,
    /// SMTP e-mail.
    pub email: EmailView,
    /// Language model.
    pub llm: LlmView,
}

impl Integrations {
    /// The view the API may show.
    pub fn view(&self) -> IntegrationsView {
        IntegrationsView {
            phone: PhoneView {
                provider: self.phone.provider,
                account_id: self.phone.account_id.clone(),
                auth_token: state(&self.phone.auth_token),
            },
            whatsapp: WhatsappView {
                phone_number_id: self.whatsapp.phone_number_id.clone(),
                access_token: state(&self.whatsapp.access_token),
                app_secret: state(&self.whatsapp.app_secret),
                verify_token: state(&self.whatsapp.verify_token),
            },
            email: EmailView {
                host: self.email.host.clone(),
                port: self.email.port,
                user: self.email.user.clone(),
                password: state(&self.email.password),
                from: self.email.from.clone(),
            },
            llm: LlmView { provider: self.llm.provider, model: self.llm.model.clone(), api_key: state(&self.llm.api_key) },
        }
    }

    /// The phone auth token when the stored provider is `provider`.
    pub fn phone_token_for(&self, provider: PhoneProvider) -> Option<&Secret> {
        (self.phone.provider == Some(provider)).then_some(self.phone.auth_token.as_ref()).flatten()
    }
}

/// A secret that `PUT /api/integrations` can remove (`"clear": [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretField {
    /// `phone.auth_token`.
    PhoneAuthToken,
    /// `whatsapp.access_token`.
    WhatsappAccessToken,
    /// `whatsapp.app_secret`.
    WhatsappAppSecret,
    /// `whatsapp.verify_token`.
    WhatsappVerifyToken,
    /// `email.password`.
    EmailPassword,
    /// `llm.api_key`.
    LlmApiKey,
}

/// `PUT /api/integrations`, phone section: non-secret fields replace the
/// stored ones (absent or empty: unset); the auth token absent or empty
/// keeps the stored one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneUpdate {
    /// `twilio`, `plivo`, `exotel` or `sip` (422 otherwise).
    #[schema(value_type = Option<PhoneProvider>)]
    pub provider: Option<String>,
    /// Twilio account SID (`AC…`), Plivo auth id, Exotel SID or SIP user.
    #[schema(max_length = 64)]
    pub account_id: Option<String>,
    /// New auth token (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub auth_token: Option<Secret>,
}

/// `PUT /api/integrations`, WhatsApp section (same rules as [`PhoneUpdate`]).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsappUpdate {
    /// Meta's phone-number id (digits).
    #[schema(pattern = "^[0-9]{1,32}$")]
    pub phone_number_id: Option<String>,
    /// New Graph API token (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub access_token: Option<Secret>,
    /// New app secret (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub app_secret: Option<Secret>,
    /// New verify token (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub verify_token: Option<Secret>,
}

/// `PUT /api/integrations`, e-mail section (same rules as [`PhoneUpdate`]).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailUpdate {
    /// SMTP host name.
    #[schema(max_length = 253)]
    pub host: Option<String>,
    /// SMTP port, 1–65535 (422 otherwise).
    pub port: Option<u32>,
    /// Login user.
    #[schema(max_length = 254)]
    pub user: Option<String>,
    /// New password (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub password: Option<Secret>,
    /// Sender address, optionally with a name.
    pub from: Option<String>,
}

/// `PUT /api/integrations`, language-model section (same rules as
/// [`PhoneUpdate`]).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmUpdate {
    /// `groq` or `openai` (422 otherwise).
    #[schema(value_type = Option<LlmProvider>)]
    pub provider: Option<String>,
    /// Model name; none: the vendor's default.
    #[schema(max_length = 100)]
    pub model: Option<String>,
    /// New API key (write-only).
    #[schema(value_type = Option<String>, format = Password, write_only, max_length = 1024)]
    pub api_key: Option<Secret>,
}

/// `PUT /api/integrations` body. A section left out is unchanged; in a
/// section given, non-secret fields replace the stored ones and a secret
/// absent, `null` or empty keeps the stored one; `clear` removes secrets.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationsUpdate {
    /// Phone provider.
    pub phone: Option<PhoneUpdate>,
    /// WhatsApp.
    pub whatsapp: Option<WhatsappUpdate>,
    /// E-mail.
    pub email: Option<EmailUpdate>,
    /// Language model.
    pub llm: Option<LlmUpdate>,
    /// Secrets to remove.
    #[serde(default)]
    pub clear: Vec<SecretField>,
}

/// Refused fields: `"phone.account_id"` → Italian message.
pub type FieldErrors = BTreeMap<String, String>;

/// `s` trimmed, `None` when blank.
fn filled(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A new secret value: `None` when absent or blank (keep the stored one).
fn new_secret(s: Option<Secret>, key: &str, errors: &mut FieldErrors) -> Option<Secret> {
    let s = s.filter(|v| !v.expose().trim().is_empty())?;
    if s.expose().chars().count() > SECRET_MAX_CHARS {
        errors.insert(key.into(), format!("valore troppo lungo (al massimo {SECRET_MAX_CHARS} caratteri)"));
        return None;
    }
    if s.expose().chars().any(char::is_control) {
        errors.insert(key.into(), "il valore contiene caratteri non ammessi".into());
        return None;
    }
    Some(s)
}

/// Replaces `stored` with `new` when given, removes it when cleared.
fn merge(stored: &mut Option<Secret>, new: Option<Secret>, clear: bool, key: &str, errors: &mut FieldErrors) {
    match (new, clear) {
        (Some(_), true) => {
            errors.insert(key.into(), "indicare un nuovo valore oppure la cancellazione, non entrambi".into());
        }
        (Some(v), false) => *stored = Some(v),
        (None, true) => *stored = None,
        (None, false) => {}
    }
}

/// A plain identifier field: at most `max` characters, each allowed by `ok`.
fn ident(v: Option<String>, max: usize, ok: impl Fn(char) -> bool, key: &str, message: &str, errors: &mut FieldErrors) -> Option<String> {
    let v = filled(v)?;
    if v.chars().count() > max || !v.chars().all(ok) {
        errors.insert(key.into(), message.into());
        return None;
    }
    Some(v)
}

impl IntegrationsUpdate {
    /// `current` with this update laid over it, every field checked.
    ///
    /// # Errors
    /// Every refused field with its Italian message.
    pub fn apply(self, current: &Integrations) -> Result<Integrations, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut out = current.clone();
        let clear = |f: SecretField| self.clear.contains(&f);
        if let Some(p) = self.phone.clone() {
            let provider = filled(p.provider).and_then(|v| {
                let parsed = PhoneProvider::parse(&v);
                if parsed.is_none() {
                    errors.insert("phone.provider".into(), "fornitore sconosciuto: scegliere twilio, plivo, exotel o sip".into());
                }
                parsed
            });
            let account_id = ident(
                p.account_id,
                64,
                |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'),
                "phone.account_id",
                "l'identificativo dell'account può contenere solo lettere, cifre, '_', '-', '.' e '@' (al massimo 64)",
                &mut errors,
            );
            if provider == Some(PhoneProvider::Twilio) && account_id.as_deref().is_some_and(|a| !a.starts_with("AC")) {
                errors.insert("phone.account_id".into(), "l'Account SID di Twilio inizia con AC".into());
            }
            out.phone.provider = provider;
            out.phone.account_id = account_id;
            let token = new_secret(p.auth_token, "phone.auth_token", &mut errors);
            merge(&mut out.phone.auth_token, token, clear(SecretField::PhoneAuthToken), "phone.auth_token", &mut errors);
        } else if clear(SecretField::PhoneAuthToken) {
            out.phone.auth_token = None;
        }
        if out.phone.provider.is_none()
            && (out.phone.account_id.is_some() || out.phone.auth_token.is_some())
            && !errors.contains_key("phone.provider")
        {
            errors.insert("phone.provider".into(), "scegliere il fornitore telefonico a cui appartengono account e token".into());
        }

        if let Some(w) = self.whatsapp.clone() {
            out.whatsapp.phone_number_id = ident(
                w.phone_number_id,
                32,
                |c| c.is_ascii_digit(),
                "whatsapp.phone_number_id",
                "l'ID del numero WhatsApp è fatto di sole cifre (al massimo 32)",
                &mut errors,
            );
            for (new, stored, field, key) in [
                (w.access_token, &mut out.whatsapp.access_token, SecretField::WhatsappAccessToken, "whatsapp.access_token"),
                (w.app_secret, &mut out.whatsapp.app_secret, SecretField::WhatsappAppSecret, "whatsapp.app_secret"),
                (w.verify_token, &mut out.whatsapp.verify_token, SecretField::WhatsappVerifyToken, "whatsapp.verify_token"),
            ] {
                let new = new_secret(new, key, &mut errors);
                merge(stored, new, clear(field), key, &mut errors);
            }
        } else {
            for (stored, field) in [
                (&mut out.whatsapp.access_token, SecretField::WhatsappAccessToken),
                (&mut out.whatsapp.app_secret, SecretField::WhatsappAppSecret),
                (&mut out.whatsapp.verify_token, SecretField::WhatsappVerifyToken),
            ] {
                if clear(field) {
                    *stored = None;
                }
            }
        }

        if let Some(e) = self.email.clone() {
            out.email.host = ident(
                e.host,
                253,
                |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'),
                "email.host",
                "server SMTP non valido: scrivere un nome come smtp.esempio.it",
                &mut errors,
            );
            out.email.port = match e.port {
                None => None,
                Some(p) => match u16::try_from(p).ok().filter(|p| *p > 0) {
                    Some(p) => Some(p),
                    None => {
                        errors.insert("email.port".into(), "la porta deve essere un numero tra 1 e 65535".into());
                        None
                    }
                },
            };
            out.email.user = filled(e.user);
            if out.email.user.as_ref().is_some_and(|u| u.chars().count() > 254 || u.chars().any(char::is_control)) {
                errors.insert("email.user".into(), "nome utente non valido (al massimo 254 caratteri)".into());
            }
            out.email.from = match filled(e.from) {
                None => None,
                Some(f) => match f.parse::<lettre::message::Mailbox>() {
                    Ok(m) => Some(m.to_string()),
                    Err(_) => {
                        errors.insert(
                            "email.from".into(),
                            "mittente non valido: scrivere un indirizzo e-mail, ad esempio info@salone.it".into(),
                        );
                        None
                    }
                },
            };
            let password = e.password.filter(|v| !v.expose().is_empty());
            let password = match password {
                Some(p) if p.expose().chars().count() > SECRET_MAX_CHARS || p.expose().chars().any(char::is_control) => {
                    errors.insert(
                        "email.password".into(),
                        "password non valida (al massimo 1024 caratteri, senza caratteri di controllo)".into(),
                    );
                    None
                }
                p => p,
            };
            merge(&mut out.email.password, password, clear(SecretField::EmailPassword), "email.password", &mut errors);
        } else if clear(SecretField::EmailPassword) {
            out.email.password = None;
        }

        if let Some(l) = self.llm.clone() {
            out.llm.provider = filled(l.provider).and_then(|v| {
                let parsed = LlmProvider::parse(&v);
                if parsed.is_none() {
                    errors.insert("llm.provider".into(), "fornitore sconosciuto: scegliere groq o openai".into());
                }
                parsed
            });
            out.llm.model = ident(
                l.model,
                100,
                |c| c.is_ascii_graphic(),
                "llm.model",
                "nome del modello non valido (senza spazi, al massimo 100 caratteri)",
                &mut errors,
            );
            let key = new_secret(l.api_key, "llm.api_key", &mut errors);
            merge(&mut out.llm.api_key, key, clear(SecretField::LlmApiKey), "llm.api_key", &mut errors);
        } else if clear(SecretField::LlmApiKey) {
            out.llm.api_key = None;
        }
        if out.llm.provider.is_none() && (out.llm.api_key.is_some() || out.llm.model.is_some()) && !errors.contains_key("llm.provider") {
            errors.insert("llm.provider".into(), "scegliere il fornitore del modello linguistico (groq o openai)".into());
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    phone_provider: Option<String>,
    phone_account_id: Option<String>,
    phone_auth_token: Option<String>,
    whatsapp_phone_number_id: Option<String>,
    whatsapp_access_token: Option<String>,
    whatsapp_app_secret: Option<String>,
    whatsapp_verify_token: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<i64>,
    smtp_user: Option<String>,
    smtp_password: Option<String>,
    smtp_from: Option<String>,
    llm_provider: Option<String>,
    llm_model: Option<String>,
    llm_api_key: Option<String>,
}

const COLS: &str = "phone_provider, phone_account_id, phone_auth_token, whatsapp_phone_number_id, whatsapp_access_token, \
     whatsapp_app_secret, whatsapp_verify_token, smtp_host, smtp_port, smtp_user, smtp_password, smtp_from, llm_provider, \
     llm_model, llm_api_key";

impl From<Row> for Integrations {
    fn from(r: Row) -> Self {
        let secret = |s: Option<String>| s.map(Secret::new);
        Integrations {
            phone: PhoneIntegration {
                provider: r.phone_provider.as_deref().and_then(PhoneProvider::parse),
                account_id: r.phone_account_id,
                auth_token: secret(r.phone_auth_token),
            },
            whatsapp: WhatsappIntegration {
                phone_number_id: r.whatsapp_phone_number_id,
                access_token: secret(r.whatsapp_access_token),
                app_secret: secret(r.whatsapp_app_secret),
                verify_token: secret(r.whatsapp_verify_token),
            },
            email: EmailIntegration {
                host: r.smtp_host,
                port: r.smtp_port.and_then(|p| u16::try_from(p).ok()),
                user: r.smtp_user,
                password: secret(r.smtp_password),
                from: r.smtp_from,
            },
            llm: LlmIntegration {
                provider: r.llm_provider.as_deref().and_then(LlmProvider::parse),
                model: r.llm_model,
                api_key: secret(r.llm_api_key),
            },
        }
    }
}

impl Tenant {
    /// The business's integrations (all unset when never saved).
    ///
    /// # Errors
    /// Database errors.
    pub async fn integrations(&self) -> Result<Integrations, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLS} FROM integration_settings WHERE business_id = $1"))
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        Ok(row.map(Integrations::from).unwrap_or_default())
    }

    /// Replaces the business's integrations (already checked by
    /// [`IntegrationsUpdate::apply`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_integrations(&self, i: &Integrations, at: Timestamp) -> Result<(), StoreError> {
        let secret = |s: &Option<Secret>| s.as_ref().map(|v| v.expose().to_string());
        sqlx::query(
            "INSERT INTO integration_settings (business_id, phone_provider, phone_account_id, phone_auth_token, \
             whatsapp_phone_number_id, whatsapp_access_token, whatsapp_app_secret, whatsapp_verify_token, smtp_host, smtp_port, \
             smtp_user, smtp_password, smtp_from, llm_provider, llm_model, llm_api_key, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (business_id) DO UPDATE SET \
             phone_provider = $2, phone_account_id = $3, phone_auth_token = $4, whatsapp_phone_number_id = $5, \
             whatsapp_access_token = $6, whatsapp_app_secret = $7, whatsapp_verify_token = $8, smtp_host = $9, smtp_port = $10, \
             smtp_user = $11, smtp_password = $12, smtp_from = $13, llm_provider = $14, llm_model = $15, llm_api_key = $16, \
             updated_at = $17",
        )
        .bind(self.id())
        .bind(i.phone.provider.map(|p| p.as_str().to_string()))
        .bind(i.phone.account_id.clone())
        .bind(secret(&i.phone.auth_token))
        .bind(i.whatsapp.phone_number_id.clone())
        .bind(secret(&i.whatsapp.access_token))
        .bind(secret(&i.whatsapp.app_secret))
        .bind(secret(&i.whatsapp.verify_token))
        .bind(i.email.host.clone())
        .bind(i.email.port.map(i64::from))
        .bind(i.email.user.clone())
        .bind(secret(&i.email.password))
        .bind(i.email.from.clone())
        .bind(i.llm.provider.map(|p| p.as_str().to_string()))
        .bind(i.llm.model.clone())
        .bind(secret(&i.llm.api_key))
        .bind(ts_text(at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

impl Store {
    /// Every business's own WhatsApp verify token (Meta's subscription
    /// check does not say which business it is for).
    ///
    /// # Errors
    /// Database errors.
    pub async fn whatsapp_verify_tokens(&self) -> Result<Vec<Secret>, StoreError> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT whatsapp_verify_token FROM integration_settings WHERE whatsapp_verify_token IS NOT NULL")
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(rows.into_iter().map(Secret::new).collect())
    }

    /// Every business's own auth token for `provider` (for requests that do
    /// not say which business they are for, such as a media-stream upgrade).
    ///
    /// # Errors
    /// Database errors.
    pub async fn phone_auth_tokens(&self, provider: PhoneProvider) -> Result<Vec<Secret>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT phone_auth_token FROM integration_settings WHERE phone_provider = $1 AND phone_auth_token IS NOT NULL",
        )
        .bind(provider.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Secret::new).collect())
    }

    /// The business whose WhatsApp integration names `phone_number_id`, if
    /// any (routing for deliveries to a number not in the business's
    /// numbers).
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenant_by_whatsapp_integration(&self, phone_number_id: &str) -> Result<Option<Tenant>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT business_id FROM integration_settings WHERE whatsapp_phone_number_id = $1 ORDER BY business_id LIMIT 1",
        )
        .bind(phone_number_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        Ok(id.map(|id| self.tenant(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(v: serde_json::Value) -> IntegrationsUpdate {
        serde_json::from_value(v).expect("update")
    }

    #[test]
    fn secrets_are_kept_replaced_and_cleared() {
        let first = update(serde_json::json!({
            "phone": { "provider": "twilio", "account_id": "AC123", "auth_token": "tok-1" },
            "llm": { "provider": "groq", "api_key": "gsk-1" },
        }))
        .apply(&Integrations::default())
        .expect("valid");
        assert_eq!(first.phone.auth_token, Some(Secret::new("tok-1")));
        let kept = update(serde_json::json!({ "phone": { "provider": "twilio", "account_id": "AC123", "auth_token": "" } }))
            .apply(&first)
            .expect("valid");
        assert_eq!(kept.phone.auth_token, Some(Secret::new("tok-1")));
        assert_eq!(kept.llm.api_key, Some(Secret::new("gsk-1")), "a section left out is unchanged");
        let cleared = update(serde_json::json!({ "clear": ["llm_api_key"] })).apply(&kept).expect("valid");
        assert_eq!(cleared.llm.api_key, None);
        assert!(!format!("{first:?}").contains("tok-1"), "Debug hides secrets");
        let view = serde_json::to_string(&first.view()).expect("json");
        assert!(!view.contains("tok-1") && !view.contains("gsk-1") && view.contains("\"set\":true"), "{view}");
    }

    #[test]
    fn bad_fields_are_named_in_italian() {
        let errors = update(serde_json::json!({
            "phone": { "provider": "skype" },
            "email": { "host": "smtp server", "port": 70000, "from": "non un indirizzo" },
            "llm": { "provider": "groq", "model": "a b" },
            "whatsapp": { "phone_number_id": "12ab" },
        }))
        .apply(&Integrations::default())
        .expect_err("refused");
        let keys: Vec<_> = errors.keys().map(String::as_str).collect();
        assert_eq!(keys, ["email.from", "email.host", "email.port", "llm.model", "phone.provider", "whatsapp.phone_number_id"]);
        assert!(errors["email.port"].contains("65535"));
        let errors = update(serde_json::json!({ "phone": { "account_id": "AC1", "auth_token": "x" } }))
            .apply(&Integrations::default())
            .expect_err("no provider");
        assert!(errors.contains_key("phone.provider"));
        let errors = update(serde_json::json!({ "phone": { "provider": "twilio", "account_id": "MA1" } }))
            .apply(&Integrations::default())
            .expect_err("not a SID");
        assert!(errors["phone.account_id"].contains("AC"));
    }
}
