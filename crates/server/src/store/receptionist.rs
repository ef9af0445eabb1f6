//! The receptionist's settings of one business, chosen by its owner: the
//! greeting spoken to callers it does not know, the number a caller who asks
//! for a person is transferred to, whether calls are recorded, how long
//! before an appointment the client is reminded, and where the business is
//! told of callback requests. A setting left unset follows the server's
//! configuration (`TRANSFER_NUMBER`, `RECORD_CALLS`, `REMINDER_HOURS_BEFORE`,
//! `NOTIFY_OWNER_EMAIL`, `NOTIFY_OWNER_PHONE`), so a single-business install
//! can keep using the environment.

use fluxion_core::booking::StoreError;
use fluxion_core::nlu::phone::e164;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{store_error, ts_text, Tenant};

/// Longest greeting accepted, in characters (about 20 s of speech).
pub const GREETING_MAX_CHARS: usize = 300;
/// Longest reminder lead accepted, in hours (a week).
pub const REMINDER_MAX_HOURS: u32 = 168;

/// The receptionist's settings; `None` everywhere: the server's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceptionistSettings {
    /// What the receptionist says first to a caller it does not know
    /// ("Salone Giulia, buongiorno! Come posso aiutarla?"). A known caller is
    /// still greeted by name. `None`: "Buongiorno, <business>. Come posso
    /// aiutarla?".
    pub greeting: Option<String>,
    /// Where a caller who asks for a person is transferred (E.164). `None`:
    /// `TRANSFER_NUMBER`, and without it a callback request is recorded.
    pub transfer_number: Option<String>,
    /// Record calls (the caller hears a notice first). `None`:
    /// `RECORD_CALLS`.
    pub record_calls: Option<bool>,
    /// Hours before an appointment its reminder goes, 0 to
    /// [`REMINDER_MAX_HOURS`]; 0: no reminders. `None`:
    /// `REMINDER_HOURS_BEFORE`.
    #[serde(default)]
    pub reminder_hours: Option<u32>,
    /// E-mail address told of callback requests. `None` (and no
    /// `notify_phone`): `NOTIFY_OWNER_EMAIL` / `NOTIFY_OWNER_PHONE`.
    #[serde(default)]
    pub notify_email: Option<String>,
    /// Phone number (E.164) told of callback requests by WhatsApp or SMS.
    #[serde(default)]
    pub notify_phone: Option<String>,
}

/// Why settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The greeting is longer than [`GREETING_MAX_CHARS`].
    #[error("il saluto è troppo lungo (al massimo {GREETING_MAX_CHARS} caratteri)")]
    GreetingTooLong,
    /// The transfer number is not a phone number.
    #[error("il numero per il trasferimento non è un numero di telefono valido")]
    BadTransferNumber,
    /// The reminder lead is over [`REMINDER_MAX_HOURS`].
    #[error("il promemoria può partire al massimo {REMINDER_MAX_HOURS} ore prima")]
    ReminderTooEarly,
    /// The address for callback notices is not an e-mail address.
    #[error("l'indirizzo per gli avvisi non è un indirizzo e-mail valido")]
    BadNotifyEmail,
    /// The number for callback notices is not a phone number.
    #[error("il numero per gli avvisi non è un numero di telefono valido")]
    BadNotifyPhone,
}

impl ReceptionistSettings {
    /// The settings with blank texts as unset, the greeting trimmed, phone
    /// numbers in E.164 (an Italian number is normalised, an international
    /// one must start with `+` and have 8–15 digits) and the e-mail address
    /// checked (RFC 5322 address, as the SMTP sender parses it).
    ///
    /// # Errors
    /// [`SettingsError`] for a greeting over [`GREETING_MAX_CHARS`], a
    /// reminder lead over [`REMINDER_MAX_HOURS`], or a number or address
    /// that is not one.
    pub fn normalized(self) -> Result<Self, SettingsError> {
        let greeting = self.greeting.map(|g| g.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|g| !g.is_empty());
        if greeting.as_ref().is_some_and(|g| g.chars().count() > GREETING_MAX_CHARS) {
            return Err(SettingsError::GreetingTooLong);
        }
        if self.reminder_hours.is_some_and(|h| h > REMINDER_MAX_HOURS) {
            return Err(SettingsError::ReminderTooEarly);
        }
        let notify_email = match filled(self.notify_email.as_deref()) {
            None => None,
            Some(a) => Some(a.parse::<lettre::Address>().map_err(|_| SettingsError::BadNotifyEmail)?.to_string()),
        };
        Ok(ReceptionistSettings {
            greeting,
            transfer_number: phone(self.transfer_number.as_deref(), SettingsError::BadTransferNumber)?,
            record_calls: self.record_calls,
            reminder_hours: self.reminder_hours,
            notify_email,
            notify_phone: phone(self.notify_phone.as_deref(), SettingsError::BadNotifyPhone)?,
        })
    }
}

/// `s` trimmed, `None` when blank.
fn filled(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|v| !v.is_empty())
}

/// A filled phone field in E.164, or `bad`.
fn phone(s: Option<&str>, bad: SettingsError) -> Result<Option<String>, SettingsError> {
    filled(s).map(|n| e164(n).ok_or(bad)).transpose()
}

#[derive(sqlx::FromRow)]
struct Row {
    greeting: Option<String>,
    transfer_number: Option<String>,
    record_calls: Option<i64>,
    reminder_hours: Option<i64>,
    notify_email: Option<String>,
    notify_phone: Option<String>,
}

impl Tenant {
    /// The business's receptionist settings (all unset when never saved).
    ///
    /// # Errors
    /// Database errors.
    pub async fn receptionist_settings(&self) -> Result<ReceptionistSettings, StoreError> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT greeting, transfer_number, record_calls, reminder_hours, notify_email, notify_phone \
             FROM receptionist_settings WHERE business_id = $1",
        )
        .bind(self.id())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(row.map_or_else(ReceptionistSettings::default, |r| ReceptionistSettings {
            greeting: r.greeting,
            transfer_number: r.transfer_number,
            record_calls: r.record_calls.map(|v| v != 0),
            reminder_hours: r.reminder_hours.and_then(|h| u32::try_from(h).ok()),
            notify_email: r.notify_email,
            notify_phone: r.notify_phone,
        }))
    }

    /// Replaces the business's receptionist settings (already
    /// [`ReceptionistSettings::normalized`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_receptionist_settings(&self, s: &ReceptionistSettings, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO receptionist_settings (business_id, greeting, transfer_number, record_calls, reminder_hours, \
             notify_email, notify_phone, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (business_id) \
             DO UPDATE SET greeting = $2, transfer_number = $3, record_calls = $4, reminder_hours = $5, notify_email = $6, \
             notify_phone = $7, updated_at = $8",
        )
        .bind(self.id())
        .bind(s.greeting.clone())
        .bind(s.transfer_number.clone())
        .bind(s.record_calls.map(i64::from))
        .bind(s.reminder_hours.map(i64::from))
        .bind(s.notify_email.clone())
        .bind(s.notify_phone.clone())
        .bind(ts_text(at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(greeting: &str, transfer: &str) -> ReceptionistSettings {
        ReceptionistSettings {
            greeting: Some(greeting.into()),
            transfer_number: Some(transfer.into()),
            record_calls: Some(true),
            ..ReceptionistSettings::default()
        }
    }

    #[test]
    fn blanks_are_unset_and_numbers_become_e164() {
        let n = s("  Salone   Giulia, buongiorno!  ", "340 123 4567").normalized().expect("valid");
        assert_eq!(n.greeting.as_deref(), Some("Salone Giulia, buongiorno!"));
        assert_eq!(n.transfer_number.as_deref(), Some("+393401234567"));
        let n = s(" ", "").normalized().expect("valid");
        assert_eq!((n.greeting, n.transfer_number, n.record_calls), (None, None, Some(true)));
        assert_eq!(s("", "+44 20 7946 0958").normalized().expect("valid").transfer_number.as_deref(), Some("+442079460958"));
    }

    #[test]
    fn bad_values_are_refused() {
        assert_eq!(s("", "chiamate Mario").normalized(), Err(SettingsError::BadTransferNumber));
        assert_eq!(s("", "12").normalized(), Err(SettingsError::BadTransferNumber));
        assert_eq!(s(&"a".repeat(GREETING_MAX_CHARS + 1), "").normalized(), Err(SettingsError::GreetingTooLong));
        let late = ReceptionistSettings { reminder_hours: Some(REMINDER_MAX_HOURS + 1), ..s("", "") };
        assert_eq!(late.normalized(), Err(SettingsError::ReminderTooEarly));
        let mail = ReceptionistSettings { notify_email: Some("giulia at salone".into()), ..s("", "") };
        assert_eq!(mail.normalized(), Err(SettingsError::BadNotifyEmail));
        let phone = ReceptionistSettings { notify_phone: Some("domani".into()), ..s("", "") };
        assert_eq!(phone.normalized(), Err(SettingsError::BadNotifyPhone));
    }

    #[test]
    fn notice_recipients_are_checked_and_normalised() {
        let n = ReceptionistSettings {
            reminder_hours: Some(0),
            notify_email: Some("  giulia@salone.it ".into()),
            notify_phone: Some("347 123 4567".into()),
            ..s("", "")
        }
        .normalized()
        .expect("valid");
        assert_eq!(n.reminder_hours, Some(0));
        assert_eq!(n.notify_email.as_deref(), Some("giulia@salone.it"));
        assert_eq!(n.notify_phone.as_deref(), Some("+393471234567"));
    }
}
