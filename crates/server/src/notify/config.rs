//! Notification settings from the environment: the channels and their order
//! of preference (`NOTIFY_CHANNELS`, default `whatsapp,sms,email`), the
//! worker's limits (`NOTIFY_MAX_ATTEMPTS`, `NOTIFY_LEASE_SECS`,
//! `NOTIFY_POLL_MS`), reminders (`REMINDER_HOURS_BEFORE`, default 24) and
//! quiet hours (`NOTIFY_QUIET_HOURS`, default `21:00-08:00`, in the
//! business's time zone), the WhatsApp template names
//! (`WHATSAPP_TEMPLATE_CONFIRMED`, `…_CHANGED`, `…_CANCELLED`,
//! `…_REMINDER`, `…_CALLBACK`; language `WHATSAPP_TEMPLATE_LANGUAGE`,
//! default `it`), SMS (`TWILIO_*`, or `PLIVO_*` when `CALL_PROVIDER=plivo`)
//! and SMTP (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USER`, `SMTP_PASSWORD`,
//! `SMTP_FROM`, `SMTP_TLS` = `starttls` | `tls` | `none`), and where notices
//! to the business go (`NOTIFY_OWNER_EMAIL`, `NOTIFY_OWNER_PHONE`), and the
//! automation webhooks (`WEBHOOK_URL`, `WEBHOOK_SECRET`; more endpoints
//! as `WEBHOOK_URL_2`, `WEBHOOK_SECRET_2` … `_5`, each with its own secret).

use std::collections::HashMap;
use std::time::Duration;

use jiff::civil::Time;

use crate::secret::Secret;
use crate::store::{NoticeKind, NotifyChannel};

/// Default attempts before a notification is given up.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Default lease of a claimed row, seconds: a row a crashed worker held is
/// sent again after this long.
pub const DEFAULT_LEASE_SECS: u64 = 120;
/// Default pause between two looks at the outbox, ms.
pub const DEFAULT_POLL_MS: u64 = 1_000;
/// Default reminder lead, hours (seed 000: 24 h before).
pub const DEFAULT_REMINDER_HOURS: u64 = 24;
/// Most automation endpoints (`WEBHOOK_URL`, `WEBHOOK_URL_2` … `WEBHOOK_URL_5`).
pub const MAX_WEBHOOKS: usize = 5;

/// The night, in the business's time zone, when clients get no reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Quiet from (local time).
    pub start: Time,
    /// Until (local time; before `start`: the window crosses midnight).
    pub end: Time,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours { start: Time::constant(21, 0, 0, 0), end: Time::constant(8, 0, 0, 0) }
    }
}

/// How SMS are sent.
#[derive(Debug, Clone)]
pub enum SmsConfig {
    /// Twilio Messaging API.
    Twilio {
        /// `TWILIO_API_BASE` (default `https://api.twilio.com`).
        base: String,
        /// `TWILIO_ACCOUNT_SID`.
        sid: String,
        /// `TWILIO_AUTH_TOKEN`.
        token: Secret,
        /// Sender: `TWILIO_SMS_FROM`, else `TWILIO_FROM_NUMBER`, else `TWILIO_PHONE_NUMBER`.
        from: String,
    },
    /// Plivo Message API.
    Plivo {
        /// `PLIVO_API_BASE` (default `https://api.plivo.com`).
        base: String,
        /// `PLIVO_AUTH_ID`.
        auth_id: String,
        /// `PLIVO_AUTH_TOKEN`.
        token: Secret,
        /// Sender: `PLIVO_SMS_FROM`, else `PLIVO_PHONE_NUMBER`.
        from: String,
    },
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS (a local relay; tests).
    None,
}

/// SMTP settings.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT` (default 587; 465 with `SMTP_TLS=tls`).
    pub port: u16,
    /// `SMTP_USER` and `SMTP_PASSWORD`, when the server wants a login.
    pub credentials: Option<(String, Secret)>,
    /// `SMTP_FROM` (default `SMTP_USER`).
    pub from: String,
    /// `SMTP_TLS`.
    pub security: SmtpSecurity,
}

/// Everything the notifications need.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Client channels in order of preference.
    pub order: Vec<NotifyChannel>,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Lease of a claimed row.
    pub lease: Duration,
    /// Pause between two looks at the outbox.
    pub poll: Duration,
    /// How long before an appointment its reminder goes.
    pub reminder_lead: Duration,
    /// No reminders in these hours.
    pub quiet: QuietHours,
    /// WhatsApp template names by notice.
    pub templates: HashMap<NoticeKind, String>,
    /// WhatsApp template language.
    pub template_language: String,
    /// SMS provider, when configured.
    pub sms: Option<SmsConfig>,
    /// SMTP server, when configured.
    pub smtp: Option<SmtpConfig>,
    /// Where notices to the business go, by e-mail.
    pub owner_email: Option<String>,
    /// Where notices to the business go, by SMS / WhatsApp.
    pub owner_phone: Option<String>,
    /// The automation endpoints and their signing secrets (`WEBHOOK_URL`,
    /// `WEBHOOK_SECRET`, then `WEBHOOK_URL_2`, `WEBHOOK_SECRET_2` … up to
    /// [`MAX_WEBHOOKS`]).
    pub webhooks: Vec<(String, Secret)>,
}

fn parse_hhmm(v: &str) -> Option<Time> {
    let (h, m) = v.trim().split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

impl NotifyConfig {
    /// Reads the settings through `get` (the environment in production),
    /// listing every problem at once.
    ///
    /// # Errors
    /// The problems, one per line.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let val = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let mut number = |k: &str, default: u64| match val(k) {
            None => default,
            Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).unwrap_or_else(|| {
                problems.push(format!("{k}: expected a whole number greater than 0, got '{v}'"));
                default
            }),
        };
        let max_attempts = u32::try_from(number("NOTIFY_MAX_ATTEMPTS", u64::from(DEFAULT_MAX_ATTEMPTS))).unwrap_or(DEFAULT_MAX_ATTEMPTS);
        let lease = Duration::from_secs(number("NOTIFY_LEASE_SECS", DEFAULT_LEASE_SECS));
        let poll = Duration::from_millis(number("NOTIFY_POLL_MS", DEFAULT_POLL_MS));
        let reminder_lead = Duration::from_secs(3600 * number("REMINDER_HOURS_BEFORE", DEFAULT_REMINDER_HOURS));
        let order = match val("NOTIFY_CHANNELS") {
            None => vec![NotifyChannel::Whatsapp, NotifyChannel::Sms, NotifyChannel::Email],
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .filter_map(|c| match NotifyChannel::parse(&c.to_lowercase()).filter(|c| *c != NotifyChannel::Webhook) {
                    Some(c) => Some(c),
                    None => {
                        problems.push(format!("NOTIFY_CHANNELS: unknown channel '{c}' (whatsapp, sms, email)"));
                        None
                    }
                })
                .collect(),
        };
        let quiet = match val("NOTIFY_QUIET_HOURS") {
            None => QuietHours::default(),
            Some(v) => match v.split_once('-').and_then(|(a, b)| Some(QuietHours { start: parse_hhmm(a)?, end: parse_hhmm(b)? })) {
                Some(q) => q,
                None => {
                    problems.push(format!("NOTIFY_QUIET_HOURS: expected HH:MM-HH:MM, got '{v}'"));
                    QuietHours::default()
                }
            },
        };
        let mut templates = HashMap::new();
        for (kind, var, default) in [
            (NoticeKind::BookingConfirmed, "WHATSAPP_TEMPLATE_CONFIRMED", "conferma_appuntamento"),
            (NoticeKind::BookingChanged, "WHATSAPP_TEMPLATE_CHANGED", "modifica_appuntamento"),
            (NoticeKind::BookingCancelled, "WHATSAPP_TEMPLATE_CANCELLED", "disdetta_appuntamento"),
            (NoticeKind::Reminder, "WHATSAPP_TEMPLATE_REMINDER", "promemoria_appuntamento"),
            (NoticeKind::CallbackRequested, "WHATSAPP_TEMPLATE_CALLBACK", "richiesta_richiamata"),
            (NoticeKind::LoyaltyReward, "WHATSAPP_TEMPLATE_LOYALTY", "premio_fedelta"),
            (NoticeKind::Message, "WHATSAPP_TEMPLATE_MESSAGE", "messaggio_cliente"),
        ] {
            templates.insert(kind, val(var).unwrap_or_else(|| default.to_string()));
        }
        let plivo = val("CALL_PROVIDER").is_some_and(|p| p.eq_ignore_ascii_case("plivo"));
        let sms = if plivo {
            match (val("PLIVO_AUTH_ID"), val("PLIVO_AUTH_TOKEN"), val("PLIVO_SMS_FROM").or_else(|| val("PLIVO_PHONE_NUMBER"))) {
                (Some(auth_id), Some(token), Some(from)) => Some(SmsConfig::Plivo {
                    base: val("PLIVO_API_BASE").unwrap_or_else(|| "https://api.plivo.com".into()).trim_end_matches('/').to_string(),
                    auth_id,
                    token: Secret::new(token),
                    from,
                }),
                _ => None,
            }
        } else {
            let from = val("TWILIO_SMS_FROM").or_else(|| val("TWILIO_FROM_NUMBER")).or_else(|| val("TWILIO_PHONE_NUMBER"));
            match (val("TWILIO_ACCOUNT_SID"), val("TWILIO_AUTH_TOKEN"), from) {
                (Some(sid), Some(token), Some(from)) => Some(SmsConfig::Twilio {
                    base: val("TWILIO_API_BASE").unwrap_or_else(|| "https://api.twilio.com".into()).trim_end_matches('/').to_string(),
                    sid,
                    token: Secret::new(token),
                    from,
                }),
                _ => None,
            }
        };
        let smtp = match val("SMTP_HOST") {
            None => None,
            Some(host) => {
                let security = match val("SMTP_TLS").map(|v| v.to_lowercase()).as_deref() {
                    None | Some("starttls") => SmtpSecurity::StartTls,
                    Some("tls") => SmtpSecurity::Tls,
                    Some("none") => SmtpSecurity::None,
                    Some(other) => {
                        problems.push(format!("SMTP_TLS: expected starttls, tls or none, got '{other}'"));
                        SmtpSecurity::StartTls
                    }
                };
                let default_port = if security == SmtpSecurity::Tls { 465 } else { 587 };
                let port = match val("SMTP_PORT") {
                    None => default_port,
                    Some(p) => p.parse().unwrap_or_else(|_| {
                        problems.push(format!("SMTP_PORT: expected a port number, got '{p}'"));
                        default_port
                    }),
                };
                let user = val("SMTP_USER");
                let credentials = user.clone().zip(val("SMTP_PASSWORD").map(Secret::new));
                match val("SMTP_FROM").or(user) {
                    Some(from) => Some(SmtpConfig { host, port, credentials, from, security }),
                    None => {
                        problems.push("SMTP_FROM: the sender address is needed when SMTP_HOST is set".to_string());
                        None
                    }
                }
            }
        };
        let mut webhooks = Vec::new();
        for suffix in std::iter::once(String::new()).chain((2..=MAX_WEBHOOKS).map(|i| format!("_{i}"))) {
            let (url_key, secret_key) = (format!("WEBHOOK_URL{suffix}"), format!("WEBHOOK_SECRET{suffix}"));
            match (val(&url_key), val(&secret_key)) {
                (None, None) => {}
                (Some(url), Some(secret)) => match url::Url::parse(&url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => {
                        if webhooks.iter().any(|(u, _): &(String, Secret)| *u == url) {
                            problems.push(format!("{url_key}: '{url}' is already an endpoint"));
                        } else {
                            webhooks.push((url, Secret::new(secret)));
                        }
                    }
                    _ => problems.push(format!("{url_key}: '{url}' is not an http(s) URL")),
                },
                _ => problems.push(format!("{url_key} and {secret_key} go together (deliveries are signed)")),
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        Ok(NotifyConfig {
            order,
            max_attempts,
            lease,
            poll,
            reminder_lead,
            quiet,
            templates,
            template_language: val("WHATSAPP_TEMPLATE_LANGUAGE").unwrap_or_else(|| "it".into()),
            sms,
            smtp,
            owner_email: val("NOTIFY_OWNER_EMAIL"),
            owner_phone: val("NOTIFY_OWNER_PHONE"),
            webhooks,
        })
    }

    /// From the process environment.
    ///
    /// # Errors
    /// As [`NotifyConfig::from_lookup`].
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_problem_at_once() {
        let c = NotifyConfig::from_lookup(|_| None).expect("defaults");
        assert_eq!(c.order, vec![NotifyChannel::Whatsapp, NotifyChannel::Sms, NotifyChannel::Email]);
        assert_eq!(c.reminder_lead, Duration::from_secs(24 * 3600));
        assert_eq!(c.quiet, QuietHours::default());
        assert!(c.sms.is_none() && c.smtp.is_none());
        let bad = NotifyConfig::from_lookup(|k| {
            match k {
                "NOTIFY_CHANNELS" => Some("email,fax"),
                "NOTIFY_QUIET_HOURS" => Some("22"),
                "SMTP_HOST" => Some("mail.example.it"),
                _ => None,
            }
            .map(str::to_string)
        })
        .expect_err("three problems");
        assert_eq!(bad.lines().count(), 3, "{bad}");
        let plivo = NotifyConfig::from_lookup(|k| {
            match k {
                "CALL_PROVIDER" => Some("plivo"),
                "PLIVO_AUTH_ID" => Some("MA1"),
                "PLIVO_AUTH_TOKEN" => Some("tok"),
                "PLIVO_PHONE_NUMBER" => Some("+390200000000"),
                _ => None,
            }
            .map(str::to_string)
        })
        .expect("plivo");
        assert!(matches!(plivo.sms, Some(SmsConfig::Plivo { .. })));
        assert!(!format!("{plivo:?}").contains("tok\""), "secrets never print");
    }
}
