//! The receptionist's settings of one business, chosen by its owner: the
//! greeting spoken to callers it does not know, the number a caller who asks
//! for a person is transferred to, and whether calls are recorded. A setting
//! left unset follows the server's configuration (`TRANSFER_NUMBER`,
//! `RECORD_CALLS`), so a single-business install can keep using the
//! environment.

use fluxion_core::booking::StoreError;
use fluxion_core::nlu::phone::e164;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{store_error, ts_text, Tenant};

/// Longest greeting accepted, in characters (about 20 s of speech).
pub const GREETING_MAX_CHARS: usize = 300;

/// The receptionist's settings; `None` everywhere: the server's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl ReceptionistSettings {
    /// The settings with blank texts as unset, the greeting trimmed and the
    /// transfer number in E.164 (an Italian number is normalised, an
    /// international one must start with `+` and have 8–15 digits).
    ///
    /// # Errors
    /// [`SettingsError`] for a greeting over [`GREETING_MAX_CHARS`] or a
    /// transfer number that is not a phone number.
    pub fn normalized(self) -> Result<Self, SettingsError> {
        let greeting = self.greeting.map(|g| g.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|g| !g.is_empty());
        if greeting.as_ref().is_some_and(|g| g.chars().count() > GREETING_MAX_CHARS) {
            return Err(SettingsError::GreetingTooLong);
        }
        let transfer_number = match self.transfer_number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(n) => Some(e164(n).ok_or(SettingsError::BadTransferNumber)?),
        };
        Ok(ReceptionistSettings { greeting, transfer_number, record_calls: self.record_calls })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    greeting: Option<String>,
    transfer_number: Option<String>,
    record_calls: Option<i64>,
}

impl Tenant {
    /// The business's receptionist settings (all unset when never saved).
    ///
    /// # Errors
    /// Database errors.
    pub async fn receptionist_settings(&self) -> Result<ReceptionistSettings, StoreError> {
        let row: Option<Row> =
            sqlx::query_as("SELECT greeting, transfer_number, record_calls FROM receptionist_settings WHERE business_id = $1")
                .bind(self.id())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?;
        Ok(row.map_or_else(ReceptionistSettings::default, |r| ReceptionistSettings {
            greeting: r.greeting,
            transfer_number: r.transfer_number,
            record_calls: r.record_calls.map(|v| v != 0),
        }))
    }

    /// Replaces the business's receptionist settings (already
    /// [`ReceptionistSettings::normalized`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_receptionist_settings(&self, s: &ReceptionistSettings, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO receptionist_settings (business_id, greeting, transfer_number, record_calls, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (business_id) DO UPDATE SET greeting = $2, transfer_number = $3, \
             record_calls = $4, updated_at = $5",
        )
        .bind(self.id())
        .bind(s.greeting.clone())
        .bind(s.transfer_number.clone())
        .bind(s.record_calls.map(i64::from))
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
        ReceptionistSettings { greeting: Some(greeting.into()), transfer_number: Some(transfer.into()), record_calls: Some(true) }
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
    }
}
