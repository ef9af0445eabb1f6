//! Where the database is: [`DatabaseUrl`], parsed once from `--db PATH` /
//! `FLUXION_DB` (SQLite files) and `DATABASE_URL` (`sqlite://PATH` or
//! `postgres://user:password@host:port/db`). The PostgreSQL password is a
//! [`Secret`]: printing a `DatabaseUrl` shows `***` in its place.

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::secret::Secret;

/// A database location.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (created with mode 600 when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres(PgUrl),
}

/// A `postgres://` URL with its password held apart.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// The URL without its password.
    url: Url,
    /// The password, when the URL has one.
    password: Option<Secret>,
}

impl PgUrl {
    /// The URL to connect with, password included (for the driver, or a
    /// child process's `DATABASE_URL`). Never log it.
    pub fn connect_url(&self) -> Url {
        let mut url = self.url.clone();
        if let Some(p) = &self.password {
            // Setting a password only fails on URLs without a host, which parsing rules out.
            let _ = url.set_password(Some(p.expose()));
        }
        url
    }

    /// The database name (the URL's path).
    pub fn database(&self) -> &str {
        self.url.path().trim_start_matches('/')
    }

    /// The same server with another database (tests create throw-away ones).
    pub fn with_database(&self, name: &str) -> PgUrl {
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        PgUrl { url, password: self.password.clone() }
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.url.clone();
        if self.password.is_some() {
            let _ = shown.set_password(Some("***"));
        }
        write!(f, "{shown}")
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or
    /// `postgresql://…`.
    ///
    /// # Errors
    /// Another scheme, or a PostgreSQL URL without a host or database.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() || path == ":memory:" {
                return Err("DATABASE_URL: an SQLite URL needs a file path (sqlite:///path/to/fluxion.db)".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            let mut url = Url::parse(s).map_err(|e| format!("DATABASE_URL: not a valid URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("DATABASE_URL: a PostgreSQL URL needs a host".into());
            }
            if url.path().trim_start_matches('/').is_empty() {
                return Err("DATABASE_URL: a PostgreSQL URL needs a database name (postgres://user@host/fluxion)".into());
            }
            let password = url.password().map(|p| {
                let decoded = percent_encoding_decode(p);
                Secret::new(decoded)
            });
            let _ = url.set_password(None);
            return Ok(DatabaseUrl::Postgres(PgUrl { url, password }));
        }
        let scheme = s.split(':').next().unwrap_or("");
        Err(format!("DATABASE_URL: unsupported scheme '{scheme}' (expected sqlite:// or postgres://)"))
    }

    /// The location a command uses: `--db PATH` (or `FLUXION_DB`) first, then
    /// `DATABASE_URL`, then the platform default file.
    ///
    /// # Errors
    /// A bad `DATABASE_URL`, or no home directory for the default.
    pub fn resolve(db: Option<&Path>, database_url: Option<&str>) -> Result<Self, String> {
        if let Some(p) = db {
            return Ok(DatabaseUrl::Sqlite(p.to_path_buf()));
        }
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => Self::parse(url),
            None => {
                super::sqlite::default_db_path().map(DatabaseUrl::Sqlite).ok_or_else(|| "no home directory: pass --db PATH".to_string())
            }
        }
    }

    /// [`DatabaseUrl::resolve`] with `DATABASE_URL` read from the environment.
    ///
    /// # Errors
    /// As [`DatabaseUrl::resolve`].
    pub fn from_env(db: Option<&Path>) -> Result<Self, String> {
        Self::resolve(db, std::env::var("DATABASE_URL").ok().as_deref())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "{}", p.display()),
            DatabaseUrl::Postgres(u) => write!(f, "{u}"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Decodes `%XX` escapes of a URL component (a password may contain `@`).
fn percent_encoding_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hides_the_password() {
        let u = DatabaseUrl::parse("postgres://fluxion:s%40cret@db.local:5433/fluxion").expect("url");
        assert_eq!(u.to_string(), "postgres://fluxion:***@db.local:5433/fluxion");
        assert!(!format!("{u:?}").contains("cret"));
        let DatabaseUrl::Postgres(pg) = &u else { panic!("postgres") };
        assert_eq!(pg.connect_url().password(), Some("s%40cret"));
        assert_eq!(pg.database(), "fluxion");
        assert_eq!(pg.with_database("t1").to_string(), "postgres://fluxion:***@db.local:5433/t1");
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db").expect("sqlite"), DatabaseUrl::Sqlite("/tmp/x.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:data/x.db").expect("sqlite"), DatabaseUrl::Sqlite("data/x.db".into()));
        assert!(DatabaseUrl::parse("mysql://x/y").is_err());
        assert!(DatabaseUrl::parse("postgres://host").is_err());
    }

    #[test]
    fn db_path_wins_over_database_url() {
        let u = DatabaseUrl::resolve(Some(Path::new("/tmp/a.db")), Some("postgres://h/db")).expect("resolve");
        assert_eq!(u, DatabaseUrl::Sqlite("/tmp/a.db".into()));
        let u = DatabaseUrl::resolve(None, Some("postgres://h/db")).expect("resolve");
        assert!(matches!(u, DatabaseUrl::Postgres(_)));
    }
}
