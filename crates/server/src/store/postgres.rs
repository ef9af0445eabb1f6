//! The PostgreSQL database (`DATABASE_URL=postgres://…`): several Fluxion
//! instances and many businesses on one server. Migrations from
//! `migrations/postgres` are embedded in the binary; sqlx takes an advisory
//! lock while running them, so instances starting together migrate once.
//! Booking writes lock the operator's row (`SELECT … FOR UPDATE`) and an
//! exclusion constraint refuses overlapping booked appointments of one
//! operator whatever the application does.

use fluxion_core::booking::StoreError;
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use super::{store_error, PgUrl};

/// Migrations compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connections per instance.
const MAX_CONNECTIONS: u32 = 16;

/// Opens the pool.
pub(super) async fn connect(url: &PgUrl) -> Result<AnyPool, StoreError> {
    let options = sqlx::any::AnyConnectOptions::from_url(&url.connect_url()).map_err(store_error)?;
    super::pool_options(MAX_CONNECTIONS).connect_with(options).await.map_err(|e| StoreError {
        message: format!("cannot connect to {url}: {}", store_error(e).message),
        retryable: true,
        unique_violation: false,
    })
}

/// Creates database `name` on the server of `admin` (a URL to an existing
/// database, e.g. `postgres`), for throw-away test databases.
///
/// # Errors
/// The server is unreachable or refuses.
pub async fn create_database(admin: &PgUrl, name: &str) -> Result<PgUrl, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = admin_connection(admin).await?;
    conn.execute(format!("CREATE DATABASE \"{}\"", quote_ident(name)).as_str()).await.map_err(store_error)?;
    let _ = conn.close().await;
    Ok(admin.with_database(name))
}

/// Drops database `name` (closing its other connections first).
///
/// # Errors
/// The server is unreachable or refuses.
pub async fn drop_database(admin: &PgUrl, name: &str) -> Result<(), StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = admin_connection(admin).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", quote_ident(name)).as_str()).await.map_err(store_error)?;
    let _ = conn.close().await;
    Ok(())
}

async fn admin_connection(admin: &PgUrl) -> Result<sqlx::AnyConnection, StoreError> {
    let options = sqlx::any::AnyConnectOptions::from_url(&admin.connect_url()).map_err(store_error)?;
    options.connect().await.map_err(store_error)
}

/// Doubles `"` inside an identifier.
fn quote_ident(name: &str) -> String {
    name.replace('"', "\"\"")
}
