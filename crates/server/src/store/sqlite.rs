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

/// Creates the file (and its folder, mode 700) with mode 600 when missing,
/// and tightens the mode of an existing file.
fn prepare_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
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
