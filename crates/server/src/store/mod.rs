//! Everything the server persists, behind one interface: [`Store`] (a
//! database, SQLite or PostgreSQL) hands out [`Tenant`] handles, one per
//! business, and every query of a handle is filtered by its business, so one
//! business never reads another's rows.
//!
//! # Design
//! - **One pool type, queries written once.** The store runs on sqlx's `Any`
//!   driver: one `AnyPool`, whichever database `DATABASE_URL` names, and
//!   every query is one SQL string with `$N` placeholders that SQLite and
//!   PostgreSQL both accept. The schemas are kept decode-compatible for that:
//!   integers and flags are `BIGINT`/`INTEGER` (i64 on both), instants UTC
//!   text `YYYY-MM-DDTHH:MM:SSZ` (PostgreSQL: `COLLATE "C"`, so byte order is
//!   time order), closed sets text with `CHECK` constraints, JSON text.
//! - **Where the dialects differ** ([`Dialect`]): how a write transaction
//!   starts (`BEGIN IMMEDIATE` takes SQLite's write lock at once; PostgreSQL
//!   `BEGIN` then `SELECT … FOR UPDATE` on the operator's row) and the
//!   database's own guard against double booking (SQLite: a partial unique
//!   index on operator and start; PostgreSQL: an exclusion constraint over
//!   operator and time range, `btree_gist`).
//! - **Migrations** under `migrations/sqlite/` and `migrations/postgres/`,
//!   the same number meaning the same change in both, embedded in the binary
//!   and run on open.
//!
//! # Adding a table
//! Add `NNNN_name.sql` to both migration folders (a `business_id` column
//! referencing `business(id)`, closed sets as `TEXT CHECK (…)`), then a file
//! `store/<concept>.rs` with an `impl Tenant { … }` block of queries that
//! bind `self.id()` (see [`calls`] for the shape) and, for a closed set, an
//! enum with `as_str`/`parse`.

pub mod auth;
pub mod backup;
pub mod calls;
pub mod clients;
pub mod config;
pub mod console;
pub mod conversations;
pub mod dialogues;
pub mod gdpr;
pub mod integrations;
mod location;
pub mod loyalty;
pub mod messages;
pub mod outbox;
pub mod postgres;
pub mod receptionist;
pub mod relay;
pub mod retention;
mod rows;
pub mod sqlite;
mod tenant;

use std::sync::Arc;

use fluxion_core::booking::{BookingError, StoreError};
use jiff::civil::{Date, Time};
use jiff::Timestamp;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

pub use auth::{Role, SessionRecord, TokenRecord, UserRecord};
pub use calls::{CallDirection, CallEnd, CallOutcome, CallRecord};
pub use clients::ClientUpdate;
pub use config::{BusinessConfig, NewOperator, NewService};
pub use console::Stats;
pub use conversations::{Conversation, TranscriptTurn};
pub use gdpr::{ClientExport, Erasure};
pub use integrations::{Integrations, IntegrationsUpdate, IntegrationsView, LlmProvider, PhoneProvider};
pub use location::{DatabaseUrl, PgUrl};
pub use loyalty::{Completion, CompletionError, LoyaltyError, LoyaltyRule};
pub use messages::{MessageDirection, MessageStatus, StoredMessage};
pub use outbox::{Event, NewNotice, NoticeKind, NoticePolicy, NotifyChannel, OutboxEntry, OutboxState};
pub use receptionist::{ReceptionistSettings, SettingsError};
pub use tenant::{NumberKind, Tenant, TenantInfo};

/// Which SQL database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default.
    Sqlite,
    /// A PostgreSQL server (several instances, many businesses).
    Postgres,
}

impl Dialect {
    /// The statement that opens a write transaction.
    fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Appended to a `SELECT` that must lock its rows until commit.
    fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Lower-case name, for logs and `fluxion doctor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// A database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    url: Arc<DatabaseUrl>,
    events: crate::events::Events,
    /// Tags this store's announcements on the relay (see [`relay`]).
    origin: u64,
    notice_policy: outbox::PolicySlot,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs its
    /// migrations. SQLite: the file gets mode 600, WAL, a 5 s busy timeout.
    ///
    /// # Errors
    /// The database cannot be reached, created or migrated.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (pool, dialect) = match url {
            DatabaseUrl::Sqlite(path) => (sqlite::connect(path).await?, Dialect::Sqlite),
            DatabaseUrl::Postgres(pg) => (postgres::connect(pg).await?, Dialect::Postgres),
        };
        let migrator = match dialect {
            Dialect::Sqlite => &sqlite::MIGRATOR,
            Dialect::Postgres => &postgres::MIGRATOR,
        };
        migrator.run(&pool).await.map_err(|e| StoreError::fatal(format!("migration failed: {e}")))?;
        // PostgreSQL may serve several instances: their announcements are relayed.
        let origin = relay::new_origin();
        let events = match dialect {
            Dialect::Sqlite => crate::events::Events::default(),
            Dialect::Postgres => relay::publishing(pool.clone(), origin),
        };
        Ok(Store { pool, dialect, url: Arc::new(url.clone()), events, origin, notice_policy: Default::default() })
    }

    /// The announcements of its writes (appointments, calls, callback
    /// requests), for the console's live view; on PostgreSQL also published
    /// to the other instances (see [`relay`] and [`Store::relay_events`]).
    pub fn events(&self) -> &crate::events::Events {
        &self.events
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Where it is (a PostgreSQL password shows as `***`).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Round-trip check for `/health` and `/ready`.
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ()).map_err(store_error)
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool for raw SQL in tests (row counts, fixtures). Production code
    /// goes through [`Tenant`].
    #[doc(hidden)]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.pool
    }

    /// Opens a write transaction: on SQLite it holds the database's write
    /// lock from the start, so check-then-write sequences are serialised.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        self.pool.begin_with(self.dialect.begin_write()).await.map_err(store_error)
    }
}

/// Pool settings shared by both dialects.
fn pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(std::time::Duration::from_secs(10))
}

/// UTC instant as stored: `YYYY-MM-DDTHH:MM:SSZ` (sorts as text).
pub fn ts_text(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a stored instant.
///
/// # Errors
/// Not an instant.
pub fn parse_ts(s: &str) -> Result<Timestamp, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad instant '{s}' in database: {e}")))
}

/// Local time as stored: `HH:MM`.
pub fn time_text(t: Time) -> String {
    t.strftime("%H:%M").to_string()
}

/// Parses a stored local time.
///
/// # Errors
/// Not a time.
pub fn parse_time(s: &str) -> Result<Time, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad time '{s}' in database: {e}")))
}

/// Parses a stored local date.
///
/// # Errors
/// Not a date.
pub fn parse_date(s: &str) -> Result<Date, StoreError> {
    s.parse().map_err(|e| StoreError::fatal(format!("bad date '{s}' in database: {e}")))
}

/// Maps a sqlx error to the port's error, marking busy/locked databases,
/// pool time-outs, dropped connections, PostgreSQL serialisation failures
/// and deadlocks as retryable, and unique-key violations as such.
pub fn store_error(e: sqlx::Error) -> StoreError {
    let retryable = match &e {
        sqlx::Error::Database(db) => {
            let msg = db.message().to_lowercase();
            let code = db.code();
            msg.contains("locked") || msg.contains("busy") || matches!(code.as_deref(), Some("40001" | "40P01"))
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        _ => false,
    };
    let unique_violation = matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation());
    StoreError { message: e.to_string(), retryable, unique_violation }
}

/// Maps a failed appointment write: the database's own double-booking guard
/// (SQLite's unique index, PostgreSQL's exclusion constraint, SQLSTATE
/// 23P01) is [`BookingError::SlotTaken`]; a client, operator or service of
/// another business (or none) is `NotFound`.
fn booking_write_error(e: sqlx::Error) -> BookingError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() || db.code().as_deref() == Some("23P01") => BookingError::SlotTaken,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => BookingError::NotFound("client, operator or service".into()),
        _ => BookingError::Store(store_error(e)),
    }
}
