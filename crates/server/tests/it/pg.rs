//! PostgreSQL for the tests: a throw-away database per test on the server
//! at `FLUXION_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! trust authentication as on the development machines and CI), created on
//! start and dropped when the guard goes. When no server answers the test
//! prints "PostgreSQL absent: skipped" and passes, unless
//! `FLUXION_REQUIRE_PG` is set (CI sets it where PostgreSQL runs).

use std::sync::atomic::{AtomicUsize, Ordering};

use fluxion::store::postgres::{create_database, drop_database};
use fluxion::store::{DatabaseUrl, PgUrl, Store};

/// A throw-away database and the store over it; dropped with the guard.
pub struct PgDb {
    pub store: Store,
    admin: PgUrl,
    name: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, migrated PostgreSQL database, or `None` (with the skip message)
/// when no server answers.
pub async fn fresh(test: &str) -> Option<PgDb> {
    let empty = empty(test).await?;
    let store = Store::open(&DatabaseUrl::Postgres(empty.url.clone())).await.expect("open and migrate the test database");
    let (admin, name) = (empty.admin.clone(), empty.name.clone());
    std::mem::forget(empty);
    Some(PgDb { store, admin, name })
}

/// An empty throw-away database (no migrations), dropped with the guard.
pub struct PgEmpty {
    /// Where it is (trust authentication: no password).
    pub url: PgUrl,
    admin: PgUrl,
    name: String,
}

/// A fresh empty PostgreSQL database, or `None` (with the skip message)
/// when no server answers.
pub async fn empty(test: &str) -> Option<PgEmpty> {
    let url = std::env::var("FLUXION_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let Ok(DatabaseUrl::Postgres(admin)) = DatabaseUrl::parse(&url) else { panic!("FLUXION_TEST_PG is not a postgres:// URL: {url}") };
    let name = format!("fluxion_test_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), test);
    let url = match create_database(&admin, &name).await {
        Ok(url) => url,
        Err(e) if std::env::var_os("FLUXION_REQUIRE_PG").is_none() => {
            eprintln!("PostgreSQL absent: skipped ({admin}: {e})");
            return None;
        }
        Err(e) => panic!("PostgreSQL required (FLUXION_REQUIRE_PG) but {admin} refused: {e}"),
    };
    Some(PgEmpty { url, admin, name })
}

/// Drops database `name`. Async work in Drop: a thread with its own
/// runtime, joined so the database is gone when the test ends. `DROP
/// DATABASE … WITH (FORCE)` ends the pool's connections.
fn drop_now(admin: &PgUrl, name: &str) {
    let (admin, owned) = (admin.clone(), name.to_string());
    let dropped = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async { drop_database(&admin, &owned).await.map_err(|e| std::io::Error::other(e.message)) })
    })
    .join();
    if !matches!(dropped, Ok(Ok(()))) {
        eprintln!("could not drop test database {name}: {dropped:?}");
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        drop_now(&self.admin, &self.name);
    }
}

impl Drop for PgEmpty {
    fn drop(&mut self) {
        drop_now(&self.admin, &self.name);
    }
}
