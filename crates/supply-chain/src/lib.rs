//! Supply-chain checks of the Fluxion workspace, run by `cargo test`: the
//! test in `tests/audit.rs` audits `Cargo.lock` and `fuzz/Cargo.lock`
//! against the RustSec advisory database vendored in
//! `supply-chain/advisory-db` (refreshed with `scripts/audit.sh --update`),
//! honouring the ignores of `.cargo/audit.toml`, each with its reason.
//! The crate has no code of its own.
