//! `cargo audit` as a test: every package of `Cargo.lock` (and
//! `fuzz/Cargo.lock`) from crates.io is looked up in the vendored RustSec
//! advisories (`supply-chain/advisory-db`); any vulnerability that
//! `.cargo/audit.toml` does not ignore fails the test with its advisory,
//! version and fix. Every ignore carries a reason (a comment on its line)
//! and must still match a package of a lock file.

use std::path::{Path, PathBuf};

use rustsec::advisory::Id;
use rustsec::report::{Report, Settings};
use rustsec::{Database, Lockfile, Version};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn database() -> Database {
    let path = root().join("supply-chain/advisory-db");
    let db = Database::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(db.iter().count() > 0, "the vendored advisory database is empty");
    db
}

/// The lock files of the repository.
fn lock_files() -> Vec<(PathBuf, Lockfile)> {
    ["Cargo.lock", "fuzz/Cargo.lock"]
        .iter()
        .map(|name| root().join(name))
        .filter(|path| path.exists())
        .map(|path| {
            let lock = Lockfile::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, lock)
        })
        .collect()
}

/// The ignores of `.cargo/audit.toml` (`[advisories] ignore = [...]`), each
/// with the reason written after it on its line.
fn ignores() -> Vec<(Id, String)> {
    let path = root().join(".cargo/audit.toml");
    let Ok(text) = std::fs::read_to_string(&path) else { return Vec::new() };
    let config: toml::Table = text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let listed = config.get("advisories").and_then(|a| a.get("ignore")).and_then(|i| i.as_array()).cloned().unwrap_or_default();
    listed
        .iter()
        .map(|id| {
            let id = id.as_str().unwrap_or_else(|| panic!("{}: ignore entries are advisory ids", path.display()));
            let line = text.lines().find(|l| l.contains(&format!("\"{id}\""))).unwrap_or_default();
            let reason = line.split_once('#').map(|(_, r)| r.trim().to_string()).unwrap_or_default();
            assert!(reason.len() >= 10, "{}: {id} is ignored without a reason (a comment on its line)", path.display());
            (id.parse().unwrap_or_else(|e| panic!("{id}: {e}")), reason)
        })
        .collect()
}

fn settings(ignore: Vec<Id>) -> Settings {
    Settings { ignore, ..Settings::default() }
}

#[test]
fn the_lock_files_have_no_known_vulnerability() {
    let db = database();
    let ignored = ignores();
    let settings = settings(ignored.iter().map(|(id, _)| id.clone()).collect());
    let mut found = Vec::new();
    let mut matched_ignores = Vec::new();
    for (path, lock) in lock_files() {
        let report = Report::generate(&db, &lock, &settings);
        for v in &report.vulnerabilities.list {
            found.push(format!(
                "{}: {} {} {} — {} (fixed in: {})",
                path.display(),
                v.advisory.id,
                v.package.name,
                v.package.version,
                v.advisory.title,
                v.versions.patched().iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            ));
        }
        let all = Report::generate(&db, &lock, &Settings::default());
        matched_ignores.extend(all.vulnerabilities.list.iter().map(|v| v.advisory.id.clone()));
        eprintln!("{}: {} packages audited", path.display(), lock.packages.len());
    }
    assert!(found.is_empty(), "known vulnerabilities (upgrade, or ignore in .cargo/audit.toml with a reason):\n{}", found.join("\n"));
    for (id, reason) in &ignored {
        assert!(matched_ignores.contains(id), "{id} is ignored ({reason}) but no longer matches: drop it from .cargo/audit.toml");
    }
}

/// The audit can fail: a lock file holding a version an advisory of the
/// vendored database names as vulnerable is reported.
#[test]
fn a_vulnerable_version_is_reported() {
    let db = database();
    let candidates = ["0.1.0", "0.2.0", "0.3.0", "0.5.0", "1.0.0", "1.5.0", "2.0.0"];
    let (advisory, version) = db
        .iter()
        .filter(|a| a.metadata.withdrawn.is_none() && a.metadata.informational.is_none() && a.affected.is_none())
        .find_map(|a| {
            candidates.iter().map(|v| Version::parse(v).expect("version")).find(|v| a.versions.is_vulnerable(v)).map(|v| (a.clone(), v))
        })
        .expect("an advisory with a vulnerable version among the candidates");
    let lock: Lockfile = format!(
        "version = 3\n\n[[package]]\nname = \"{}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        advisory.metadata.package
    )
    .parse()
    .expect("lock file");
    let report = Report::generate(&db, &lock, &settings(Vec::new()));
    assert!(
        report.vulnerabilities.list.iter().any(|v| v.advisory.id == advisory.metadata.id),
        "{} {version}: {:?}",
        advisory.metadata.package,
        advisory.metadata.id
    );
    let ignoring = Report::generate(&db, &lock, &settings(vec![advisory.metadata.id.clone()]));
    assert!(ignoring.vulnerabilities.list.iter().all(|v| v.advisory.id != advisory.metadata.id), "an ignore silences it");
}
