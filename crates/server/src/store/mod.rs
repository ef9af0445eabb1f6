//! Storage backends behind the core's [`fluxion_core::booking::Repository`]
//! port. SQLite is the embedded default; the format helpers here are shared
//! by every backend so stored text looks the same everywhere.

pub mod calls;
pub mod sqlite;

use fluxion_core::booking::StoreError;
use jiff::civil::{Date, Time};
use jiff::Timestamp;

pub use sqlite::SqliteStore;

/// UTC instant as stored: `YYYY-MM-DDTHH:MM:SSZ` (sorts as text).
pub fn ts_text(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a stored instant.
pub fn parse_ts(s: &str) -> Result<Timestamp, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad instant '{s}' in database: {e}")))
}

/// Local time as stored: `HH:MM`.
pub fn time_text(t: Time) -> String {
    t.strftime("%H:%M").to_string()
}

/// Parses a stored local time.
pub fn parse_time(s: &str) -> Result<Time, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad time '{s}' in database: {e}")))
}

/// Parses a stored local date.
pub fn parse_date(s: &str) -> Result<Date, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad date '{s}' in database: {e}")))
}

/// Maps a sqlx error to the port's error, marking busy/locked/pool errors as
/// retryable.
pub fn store_error(e: sqlx::Error) -> StoreError {
    let retryable = match &e {
        sqlx::Error::Database(db) => {
            let msg = db.message().to_lowercase();
            msg.contains("locked") || msg.contains("busy")
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        _ => false,
    };
    StoreError { message: e.to_string(), retryable }
}
