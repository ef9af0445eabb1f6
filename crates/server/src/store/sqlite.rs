//! The embedded SQLite database: one file with mode 600 in a folder with
//! mode 700, WAL journal, foreign keys on, a 5 s busy timeout, migrations
//! from `migrations/sqlite` embedded in the binary. Booking writes start
//! with `BEGIN IMMEDIATE` (see [`super::Dialect`]), so concurrent attempts
//! on one slot are serialised; a partial unique index backs the overlap
//! check.

use std::path::{Path, PathBuf};

use fluxion_core::booking::StoreError;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor};

use super::store_error;

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a write waits for a busy database before failing, ms.
const BUSY_TIMEOUT_MS: u64 = 5_000;

/// Connections in the pool (one writer at a time; readers run alongside in WAL).
const MAX_CONNECTIONS: u32 = 8;

/// The platform data directory's database path: Linux
/// `~/.local/share/fluxion/fluxion.db`, macOS `~/Library/Application
/// Support/fluxion/fluxion.db`.
pub fn default_db_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "fluxion").map(|d| d.data_dir().join("fluxion.db"))
}

/// Creates the file (and its missing folders, mode 700; the platform data
/// directory is always set to 700) with mode 600 when missing, and tightens
/// the mode of an existing file.
fn prepare_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_fs::create_dir_all(dir)?;
        // Fluxion's own data directory is tightened even when it exists.
        if default_db_path().as_deref().and_then(Path::parent) == Some(dir) {
            crate::private_fs::tighten_dir(dir)?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    {
        std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    }
    Ok(())
}

/// Opens the pool over the file at `path`.
pub(super) async fn connect(path: &Path) -> Result<AnyPool, StoreError> {
    prepare_file(path).map_err(|e| StoreError::fatal(format!("cannot create database file {}: {e}", path.display())))?;
    // The Any driver takes a URL; SQLite's own options build it with the path escaped.
    let url = SqliteConnectOptions::new().filename(path).create_if_missing(true).to_url_lossy();
    let options = sqlx::any::AnyConnectOptions::from_url(&url).map_err(store_error)?;
    super::pool_options(MAX_CONNECTIONS)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    format!("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};")
                        .as_str(),
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use fluxion_core::booking::Repository;
    use sqlx::migrate::Migrator;

    use super::*;
    use crate::store::{DatabaseUrl, Store};

    /// A database written before tenancy (migrations 1–2, one business)
    /// keeps all its rows, now under that business.
    #[tokio::test]
    async fn upgrade_keeps_a_single_business_database() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let pool = connect(&path).await.expect("pool");
        let old = Migrator { migrations: Cow::Owned(MIGRATOR.iter().take(2).cloned().collect()), ..Migrator::DEFAULT };
        old.run(&pool).await.expect("migrations 1-2");
        sqlx::raw_sql(
            "INSERT INTO business (id, name, vertical) VALUES (1, 'Salone Vecchio', 'salone');
             INSERT INTO services (id, business_id, name, duration_min, price_cents) VALUES (1, 1, 'Taglio', 30, 2000);
             INSERT INTO operators (id, business_id, name) VALUES (1, 1, 'Giulia');
             INSERT INTO operator_services VALUES (1, 1);
             INSERT INTO clients (id, name, name_folded, phone, created_at, updated_at) VALUES (7, 'Ada', 'ada', '+393471110000', 'x', 'x');
             INSERT INTO appointments (id, client_id, operator_id, service_id, start_utc, end_utc, local_date, status, channel, created_at, updated_at)
                 VALUES (3, 7, 1, 1, '2027-03-11T09:00:00Z', '2027-03-11T09:30:00Z', '2027-03-11', 'booked', 'voice', 'x', 'x');
             INSERT INTO chat_history (session_id, client_id, role, text, channel, created_at) VALUES ('s', 7, 'user', 'ciao', 'chat', 'x');
             INSERT INTO waitlist (client_id, service_id, created_at) VALUES (7, 1, '2027-03-10T09:00:00Z');
             INSERT INTO callback_requests (client_id, session_id, created_at) VALUES (7, 's', '2027-03-10T09:00:00Z');
             INSERT INTO calls (provider, call_sid, started_at, hangup_reason) VALUES ('twilio', 'CA1', '2027-03-10T09:00:00Z', 'silence');",
        )
        .execute(&pool)
        .await
        .expect("old rows");
        pool.close().await;

        let store = Store::open(&DatabaseUrl::Sqlite(path)).await.expect("migrated");
        let t = store.default_tenant().await.expect("tenant").expect("a business");
        assert_eq!(t.id(), 1);
        assert_eq!(t.client_by_phone("+393471110000").await.expect("client").map(|c| c.id), Some(7));
        assert_eq!(t.appointment(3).await.expect("appointment").map(|a| a.client_id), Some(7));
        assert_eq!(t.waitlist().await.expect("waitlist").len(), 1);
        assert_eq!(t.callback_requests(true).await.expect("callbacks").len(), 1);
        let calls = t.recent_calls(5).await.expect("calls");
        assert_eq!(calls.iter().map(|c| c.hangup_reason).collect::<Vec<_>>(), vec![Some(crate::voice::HangupReason::Silence)]);
        let turns: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chat_history WHERE business_id = 1")
            .fetch_one(store.pool_for_tests())
            .await
            .expect("turns");
        assert_eq!(turns, 1);
        let fk: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(store.pool_for_tests()).await.expect("check");
        assert!(fk.is_empty(), "{fk:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("old.db")).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
