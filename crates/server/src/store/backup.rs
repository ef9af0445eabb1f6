//! Backups of the SQLite database (seed 000): a consistent copy taken while
//! the server writes (`VACUUM INTO` reads one snapshot in WAL mode), named
//! by date (`fluxion-YYYY-MM-DD.db`, one a day, the day's latest wins) in a
//! folder with mode 700, each file mode 600 and checked with
//! `PRAGMA integrity_check` before it takes its final name; the last
//! [`KEEP_DAILY`] are kept. [`restore`] checks a backup the same way and
//! replaces the database file atomically (a rename in its folder), keeping
//! the replaced file as `<db>.pre-restore`.
//!
//! PostgreSQL is backed up with its own tools (`pg_dump`/`pg_restore`, see
//! the README); [`backup`] refuses it with that advice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::Date;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{store_error, DatabaseUrl, Store};
use crate::clock::Clock;

/// Daily backups kept in the folder (older ones are deleted).
pub const KEEP_DAILY: usize = 7;

/// How often `fluxion serve` backs up (the first run is at start).
pub const BACKUP_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is not an SQLite file.
    #[error("{0}")]
    Unsupported(String),
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a sound Fluxion database.
    #[error("{path} is not a sound Fluxion database: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the check found.
        detail: String,
    },
    /// The live database failed while being copied.
    #[error("copying the database: {0}")]
    Database(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// The file name of the backup of `date`: `fluxion-YYYY-MM-DD.db`.
pub fn backup_name(date: Date) -> String {
    format!("fluxion-{}.db", date.strftime("%Y-%m-%d"))
}

/// Whether `name` is a daily backup's file name.
fn is_backup_name(name: &str) -> bool {
    name.strip_prefix("fluxion-").and_then(|r| r.strip_suffix(".db")).is_some_and(|d| d.parse::<Date>().is_ok())
}

/// The folder next to the database where backups go by default:
/// `<folder of the database>/backups`.
pub fn default_dir(db: &Path) -> PathBuf {
    db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("backups")
}

/// Checks the SQLite file at `path` with `PRAGMA integrity_check`, opened
/// read-only and immutable (its `-wal` is ignored), and that it holds
/// Fluxion's tables; returns the number of
/// appointments in it.
///
/// # Errors
/// [`BackupError::Corrupt`] for a file that is not an SQLite database, fails
/// the check, or is not Fluxion's; [`BackupError::Io`] when it is missing.
pub async fn integrity_check(path: &Path) -> Result<i64, BackupError> {
    std::fs::metadata(path).map_err(io(path))?;
    let corrupt = |detail: String| BackupError::Corrupt { path: path.to_path_buf(), detail };
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        // Only the main file is read (no lock, no WAL index): what is checked is what gets copied.
        .immutable(true)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(|e| corrupt(e.to_string()))?;
    let checked = async {
        let report: Vec<String> =
            sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut conn).await.map_err(|e| corrupt(e.to_string()))?;
        if report != ["ok"] {
            return Err(corrupt(report.into_iter().take(5).collect::<Vec<_>>().join("; ")));
        }
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM appointments")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| corrupt(format!("no appointments table ({e})")))
    }
    .await;
    let _ = conn.close().await;
    checked
}

/// Flushes `path` (a file or a folder) to disk.
fn sync(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(io(path))
}

fn set_private(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A backup written by [`backup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The file.
    pub path: PathBuf,
    /// Its size, bytes.
    pub bytes: u64,
    /// Appointments in it (every state).
    pub appointments: i64,
    /// Older backups deleted to keep [`KEEP_DAILY`].
    pub pruned: Vec<PathBuf>,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `dest`, which
    /// must not exist (SQLite `VACUUM INTO`: one read snapshot, writers go
    /// on meanwhile).
    ///
    /// # Errors
    /// [`BackupError::Unsupported`] on PostgreSQL; [`BackupError::Database`]
    /// when SQLite fails.
    async fn vacuum_into(&self, dest: &Path) -> Result<(), BackupError> {
        if !matches!(self.url(), DatabaseUrl::Sqlite(_)) {
            return Err(BackupError::Unsupported(
                "PostgreSQL is backed up with pg_dump and restored with pg_restore (see the README)".to_string(),
            ));
        }
        let dest = dest.to_str().ok_or_else(|| BackupError::Unsupported(format!("{} is not a UTF-8 path", dest.display())))?;
        sqlx::query("VACUUM INTO $1").bind(dest).execute(&self.pool).await.map_err(|e| BackupError::Database(store_error(e).message))?;
        Ok(())
    }
}

/// Backs `store` (SQLite) up into `dir` as [`backup_name`] of `date`: the
/// copy is written under a temporary name, made mode 600, checked with
/// [`integrity_check`], flushed and renamed; `dir` is created (mode 700)
/// when missing and tightened to 700; then backups beyond the newest
/// [`KEEP_DAILY`] are deleted.
///
/// # Errors
/// See [`BackupError`]; a copy that fails its check is deleted and reported
/// as [`BackupError::Corrupt`].
pub async fn backup(store: &Store, dir: &Path, date: Date) -> Result<Backup, BackupError> {
    crate::private_fs::create_dir_all(dir).map_err(io(dir))?;
    crate::private_fs::tighten_dir(dir).map_err(io(dir))?;
    let path = dir.join(backup_name(date));
    let partial = dir.join(format!(".{}.partial", backup_name(date)));
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&partial)(e)),
        _ => {}
    }
    store.vacuum_into(&partial).await?;
    let checked = async {
        set_private(&partial)?;
        let appointments = integrity_check(&partial).await?;
        sync(&partial)?;
        Ok::<i64, BackupError>(appointments)
    }
    .await;
    let appointments = match checked {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &path).map_err(io(&path))?;
    sync(dir)?;
    let bytes = std::fs::metadata(&path).map_err(io(&path))?.len();
    let pruned = prune(dir, KEEP_DAILY)?;
    Ok(Backup { path, bytes, appointments, pruned })
}

/// Deletes the daily backups in `dir` beyond the newest `keep` (by the date
/// in their names); returns the deleted files.
///
/// # Errors
/// The folder cannot be listed or a file deleted.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_backup_name(n))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut deleted = Vec::new();
    for name in names.into_iter().skip(keep) {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(io(&path))?;
        deleted.push(path);
    }
    Ok(deleted)
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Appointments in the restored database.
    pub appointments: i64,
    /// Where the replaced database was kept, when there was one.
    pub previous: Option<PathBuf>,
}

/// Replaces the SQLite database at `target` with the backup `file`: the
/// backup is checked ([`integrity_check`]), copied next to `target` (mode
/// 600), the copy checked and flushed, the current database kept as
/// `<target>.pre-restore` (a hard link), its `-wal`/`-shm` files removed,
/// and the copy renamed onto `target`. Run it with the server stopped.
///
/// # Errors
/// [`BackupError::Corrupt`] for a backup that fails the check (`target` is
/// untouched then), [`BackupError::Io`] for file errors.
pub async fn restore(file: &Path, target: &Path) -> Result<Restored, BackupError> {
    integrity_check(file).await?;
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::private_fs::create_dir_all(dir).map_err(io(dir))?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "fluxion.db".to_string());
    let incoming = dir.join(format!(".{name}.restoring"));
    std::fs::copy(file, &incoming).map_err(io(&incoming))?;
    let checked = async {
        set_private(&incoming)?;
        let n = integrity_check(&incoming).await?;
        sync(&incoming)?;
        Ok::<i64, BackupError>(n)
    }
    .await;
    let appointments = match checked {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };
    let previous = if target.exists() {
        let kept = dir.join(format!("{name}.pre-restore"));
        let _ = std::fs::remove_file(&kept);
        std::fs::hard_link(target, &kept).map_err(io(&kept))?;
        Some(kept)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        let side = dir.join(format!("{name}{suffix}"));
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&side)(e)),
            _ => {}
        }
    }
    std::fs::rename(&incoming, target).map_err(io(target))?;
    sync(dir)?;
    Ok(Restored { appointments, previous })
}

/// Whether `serve` backs up daily: `BACKUP_DAILY` (`1`/`true`/`on` or
/// `0`/`false`/`off`), on by default.
///
/// # Errors
/// Another value, naming the variable.
pub fn daily_enabled(raw: Option<&str>) -> Result<bool, String> {
    match raw.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("1") | Some("true") | Some("on") | Some("yes") => Ok(true),
        Some("0") | Some("false") | Some("off") | Some("no") => Ok(false),
        Some(other) => Err(format!("BACKUP_DAILY must be 1 or 0 (got {other:?})")),
    }
}

/// Backs `store` up into `dir` now and every [`BACKUP_INTERVAL`] until
/// `shutdown`, dated by `clock` in the system time zone; failures are
/// logged and retried at the next run.
pub async fn run_daily(store: Store, dir: PathBuf, clock: Clock, shutdown: impl std::future::Future<Output = ()>) {
    let mut every = tokio::time::interval(BACKUP_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = &mut shutdown => return,
        }
        let date = clock.now().to_zoned(jiff::tz::TimeZone::system()).date();
        match backup(&store, &dir, date).await {
            Ok(b) => tracing::info!(
                path = %b.path.display(),
                bytes = b.bytes,
                appointments = b.appointments,
                pruned = b.pruned.len(),
                "daily backup written"
            ),
            Err(e) => tracing::error!(error = %e, dir = %dir.display(), "daily backup failed; retrying at the next run"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_settings() {
        let d: Date = "2027-03-10".parse().expect("date");
        assert_eq!(backup_name(d), "fluxion-2027-03-10.db");
        assert!(is_backup_name("fluxion-2027-03-10.db"));
        for other in ["fluxion-2027-13-10.db", "fluxion.db", ".fluxion-2027-03-10.db.partial", "fluxion-2027-03-10.db-wal"] {
            assert!(!is_backup_name(other), "{other}");
        }
        assert_eq!(default_dir(Path::new("/srv/fluxion/fluxion.db")), Path::new("/srv/fluxion/backups"));
        assert_eq!(daily_enabled(None), Ok(true));
        assert_eq!(daily_enabled(Some("0")), Ok(false));
        assert!(daily_enabled(Some("weekly")).is_err());
    }

    #[test]
    fn keeps_the_newest_seven() {
        let dir = tempfile::tempdir().expect("tempdir");
        for day in 1..=10 {
            std::fs::write(dir.path().join(format!("fluxion-2027-03-{day:02}.db")), b"x").expect("file");
        }
        std::fs::write(dir.path().join("notes.txt"), b"x").expect("file");
        let deleted = prune(dir.path(), KEEP_DAILY).expect("prune");
        assert_eq!(deleted.len(), 3);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).expect("dir").map(|e| e.expect("entry").file_name().into_string().expect("utf-8")).collect();
        left.sort();
        assert_eq!(left.first().map(String::as_str), Some("fluxion-2027-03-04.db"));
        assert_eq!(left.len(), 8, "seven backups and the unrelated file: {left:?}");
    }
}
