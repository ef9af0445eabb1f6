#!/usr/bin/env bash
# Runs every test of the workspace. Needs only the Rust toolchain (SQLite is
# compiled in); points FLUXION_MODELS_DIR at ../shared/models when present.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${FLUXION_MODELS_DIR:-}" ] && [ -d ../shared/models ]; then
  export FLUXION_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
cargo test --workspace --locked "$@"
