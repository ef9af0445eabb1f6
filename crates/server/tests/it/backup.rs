//! Backups and restore. SQLite: `fluxion backup` while 1,000 bookings are
//! being written, then `fluxion restore` of that copy: the copy passes the
//! integrity check, holds every booking acknowledged before the backup
//! started and none that never was; a later backup holds all 1,000; a
//! corrupt file is refused and leaves the database as it was; 7 daily
//! backups are kept; modes 600/700. PostgreSQL: the README's `pg_dump` and
//! `pg_restore` commands, run on a throw-away database.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store};
use fluxion_core::booking::{Channel, NewAppointment, Repository, Vertical};
use jiff::{SignedDuration, Timestamp};

use crate::{pg, TestApp};

/// Runs the binary on the SQLite file `db`.
fn fluxion(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fluxion"))
        .args(args)
        .env("FLUXION_DB", db)
        .env_remove("DATABASE_URL")
        .env_remove("BACKUP_DIR")
        .env_remove("FLUXION_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run fluxion")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The appointment ids in the SQLite file at `db`.
async fn ids_in(db: &Path) -> BTreeSet<i64> {
    let store = Store::open(&DatabaseUrl::Sqlite(db.to_path_buf())).await.expect("open");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM appointments").fetch_all(store.pool_for_tests()).await.expect("ids");
    store.close().await;
    ids.into_iter().collect()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// The backup file `fluxion backup` named on its first line.
fn written(stdout: &str) -> PathBuf {
    let line = stdout.lines().next().expect("output");
    let path = line.strip_prefix("backup written: ").and_then(|r| r.split(" (").next()).unwrap_or_else(|| panic!("{stdout}"));
    PathBuf::from(path)
}

const BOOKINGS: usize = 1_000;
const WRITERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_during_1000_bookings_restores_every_acknowledged_one() {
    let app = TestApp::spawn().await;
    let db = app.db_file();
    let client = app.tenant.upsert_client("Cliente Backup", "+393330000001", None).await.expect("client").id;
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let base: Timestamp = "2028-01-03T08:00:00Z".parse().expect("ts");
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (tenant, acked) = (app.tenant.clone(), acked.clone());
            tokio::spawn(async move {
                for j in 0..BOOKINGS / WRITERS {
                    let k = (j * WRITERS + w) as i64;
                    let start = base + SignedDuration::from_mins(45 * k);
                    let new = NewAppointment {
                        client_id: client,
                        operator_id: 1,
                        service_id: 1,
                        start,
                        end: start + SignedDuration::from_mins(30),
                        channel: Channel::Chat,
                    };
                    let booked = tenant.book(new, 0).await.expect("booked");
                    acked.lock().expect("acked").push(booked.id);
                }
            })
        })
        .collect();
    while acked.lock().expect("acked").len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let backups = dir.path().join("backups");
    let before: BTreeSet<i64> = acked.lock().expect("acked").iter().copied().collect();
    let out_dir = backups.display().to_string();
    let db_for_backup = db.clone();
    let out = tokio::task::spawn_blocking(move || fluxion(&["backup", "--out", &out_dir], &db_for_backup)).await.expect("backup");
    let during = acked.lock().expect("acked").len();
    let stdout = ok(&out, "fluxion backup");
    let copy = written(&stdout);
    for w in writers {
        w.await.expect("writer");
    }
    let all: BTreeSet<i64> = acked.lock().expect("acked").iter().copied().collect();
    assert_eq!(all.len(), BOOKINGS);
    assert!(before.len() < BOOKINGS, "the backup started while bookings were being written");
    assert_eq!((mode(&backups), mode(&copy)), (0o700, 0o600));

    let restored = dir.path().join("restored").join("fluxion.db");
    let said = ok(&fluxion(&["restore", &copy.display().to_string()], &restored), "fluxion restore");
    assert!(said.contains("integrity ok"), "{said}");
    let ids = ids_in(&restored).await;
    eprintln!(
        "acknowledged before the backup: {}, when it ended: {during}, in the backup: {}, in all: {}",
        before.len(),
        ids.len(),
        all.len()
    );
    assert!(before.is_subset(&ids), "every booking acknowledged before the backup is in it");
    assert!(ids.is_subset(&all), "nothing in the backup that was not acknowledged");
    assert_eq!(mode(&restored), 0o600);

    // Nine older daily backups: after the next backup seven remain, today's the newest.
    for day in 1..=9 {
        std::fs::write(backups.join(format!("fluxion-2020-01-0{day}.db")), b"old").expect("old backup");
    }
    let copy = written(&ok(&fluxion(&["backup", "--out", &backups.display().to_string()], &db), "second backup"));
    let mut kept: Vec<String> =
        std::fs::read_dir(&backups).expect("dir").map(|e| e.expect("entry").file_name().into_string().expect("utf-8")).collect();
    kept.sort();
    assert_eq!(kept.len(), 7, "{kept:?}");
    assert_eq!(kept.last(), copy.file_name().and_then(|n| n.to_str()).map(str::to_string).as_ref());
    assert_eq!(kept.first().map(String::as_str), Some("fluxion-2020-01-04.db"));

    let said = ok(&fluxion(&["restore", &copy.display().to_string()], &restored), "second restore");
    assert!(said.contains("pre-restore"), "{said}");
    assert_eq!(ids_in(&restored).await, all, "a backup after the writes holds all of them");
    let previous = dir.path().join("restored").join("fluxion.db.pre-restore");
    assert_eq!(ids_in(&previous).await, ids, "the replaced database is kept");

    // A damaged copy and a file that is no database are refused; the database is untouched.
    let mut bytes = std::fs::read(&copy).expect("read");
    let page = 4096;
    let pages = bytes.len() / page;
    for p in (pages / 4..pages * 3 / 4).step_by(2) {
        bytes[p * page..(p + 1) * page].fill(0xAB);
    }
    let bad = dir.path().join("damaged.db");
    std::fs::write(&bad, &bytes).expect("write");
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "non è un database").expect("write");
    for file in [&bad, &text] {
        let out = fluxion(&["restore", &file.display().to_string()], &restored);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{} refused", file.display());
        assert!(stderr.contains("not a sound Fluxion database"), "{stderr}");
    }
    assert_eq!(ids_in(&restored).await, all, "a refused restore leaves the database as it was");
}

/// A program on PATH, or `None`.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

#[tokio::test]
async fn postgres_backs_up_with_pg_dump_and_restores_with_pg_restore() {
    let (Some(pg_dump), Some(pg_restore)) = (on_path("pg_dump"), on_path("pg_restore")) else {
        assert!(std::env::var_os("FLUXION_REQUIRE_PG").is_none(), "pg_dump and pg_restore are required with FLUXION_REQUIRE_PG");
        eprintln!("pg_dump/pg_restore absent: skipped");
        return;
    };
    let Some(source) = pg::fresh("dump").await else { return };
    let Some(target) = pg::empty("restore").await else { return };
    let tenant = SeedData::demo(Vertical::Salone).expect("seed").load(&source.store, false).await.expect("load");
    let client = tenant.upsert_client("Cliente Dump", "+393330000002", None).await.expect("client").id;
    let base: Timestamp = "2028-01-03T08:00:00Z".parse().expect("ts");
    for k in 0..20 {
        let start = base + SignedDuration::from_hours(k);
        let new = NewAppointment {
            client_id: client,
            operator_id: 1,
            service_id: 1,
            start,
            end: start + SignedDuration::from_mins(30),
            channel: Channel::Chat,
        };
        tenant.book(new, 0).await.expect("booked");
    }
    let DatabaseUrl::Postgres(source_url) = source.store.url() else { unreachable!("postgres") };
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("fluxion.dump");
    // The README's commands.
    let out = Command::new(pg_dump)
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(source_url.connect_url().as_str())
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(pg_restore)
        .args(["--no-owner", "--exit-on-error", "--dbname", target.url.connect_url().as_str()])
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));

    let restored = Store::open(&DatabaseUrl::Postgres(target.url.clone())).await.expect("open the restored database");
    let count = |store: &Store| {
        let pool = store.pool_for_tests().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").fetch_one(&pool).await.expect("count")
        }
    };
    assert_eq!(count(&restored).await, 20);
    assert_eq!(count(&restored).await, count(&source.store).await);
    let exclusion: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'x'")
        .fetch_one(restored.pool_for_tests())
        .await
        .expect("constraints");
    assert!(exclusion >= 1, "the double-booking exclusion constraint came back");
    let again = restored.default_tenant().await.expect("tenant").expect("the business");
    let start = base + SignedDuration::from_mins(10);
    let overlap = NewAppointment {
        client_id: client,
        operator_id: 1,
        service_id: 1,
        start,
        end: start + SignedDuration::from_mins(30),
        channel: Channel::Chat,
    };
    assert!(again.book(overlap, 0).await.is_err(), "the restored database still refuses a double booking");
    restored.close().await;
}
