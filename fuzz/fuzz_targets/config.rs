//! Configuration parsing: the TOML file flattened into settings, then the
//! settings read as the HTTP guard and the database location would be.
#![no_main]

use fluxion::config::ConfigFile;
use fluxion::guard::HttpGuard;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = ConfigFile::parse(text) else { return };
    let _ = file.unknown_keys();
    let _ = HttpGuard::from_lookup(|k| file.settings.get(k).cloned());
    if let Some(url) = file.settings.get("DATABASE_URL") {
        let _ = fluxion::store::DatabaseUrl::parse(url);
    }
});
