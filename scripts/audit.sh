#!/usr/bin/env bash
# Supply-chain check: audits Cargo.lock (and fuzz/Cargo.lock) against the
# RustSec advisory database vendored in supply-chain/advisory-db (only the
# package registries are reachable from CI, not GitHub), with cargo-audit,
# which is installed when missing (`cargo install --locked cargo-audit`;
# kept in ~/.cargo/bin afterwards). Fails on any known vulnerability that
# .cargo/audit.toml does not ignore (each ignore there carries its reason).
#
#   scripts/audit.sh                  audit
#   scripts/audit.sh --update SOURCE  refresh the vendored advisories from a
#                                     git clone of github.com/rustsec/advisory-db
#
# The vendored copy holds the advisories of the crates in the lock files
# (plus the `rust` collection): after adding a dependency, run --update.
set -euo pipefail
cd "$(dirname "$0")/.."
db=supply-chain/advisory-db

crate_names() {
  sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.lock fuzz/Cargo.lock 2>/dev/null | sort -u
}

if [ "${1:-}" = "--update" ]; then
  src=${2:?usage: scripts/audit.sh --update PATH-TO-ADVISORY-DB-GIT}
  rm -rf "$db"
  mkdir -p "$db/crates"
  git -C "$src" archive HEAD rust LICENSE.txt support.toml | tar -x -C "$db"
  n=0
  for name in $(crate_names); do
    if git -C "$src" cat-file -e "HEAD:crates/$name" 2>/dev/null; then
      git -C "$src" archive HEAD "crates/$name" | tar -x -C "$db"
      n=$((n + 1))
    fi
  done
  git -C "$src" log -1 --format='rustsec/advisory-db %H (%cI)' > "$db/SNAPSHOT"
  echo "vendored the advisories of $n crates from $(cat "$db/SNAPSHOT") into $db"
  exit 0
fi

if ! command -v cargo-audit >/dev/null 2>&1; then
  echo "installing cargo-audit (cargo install --locked cargo-audit)" >&2
  start=$(date +%s)
  cargo install --locked cargo-audit
  echo "cargo-audit installed in $(( $(date +%s) - start )) s" >&2
fi
echo "advisories: $(cat "$db/SNAPSHOT")"
cargo audit --no-fetch --db "$db" --file Cargo.lock
if [ -f fuzz/Cargo.lock ]; then
  cargo audit --no-fetch --db "$db" --file fuzz/Cargo.lock
fi
