#!/usr/bin/env bash
# Builds and starts Fluxion on a fresh Debian machine with only the Rust
# toolchain: installs the Debian packages the build and the offline voice
# need when they are missing (cmake and g++ build whisper.cpp, espeak-ng
# speaks), finds a Whisper model (FLUXION_MODELS_DIR, else ../shared/models
# or ./models), then runs `fluxion serve` with the arguments given, e.g.
#   ./scripts/run.sh                      # http://127.0.0.1:3002, set-up mode on an empty database
#   ./scripts/run.sh --vertical medical --port 8080   # a demo medical practice
# Without a model the server still starts (chat, HTTP, WhatsApp) and says in
# one line how to get one; phone calls need it.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${missing[*]} (Debian packages)" >&2
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
    { echo "could not install ${missing[*]}: install them with apt-get (or your package manager) and run again" >&2; exit 1; }
fi
if [ -z "${FLUXION_MODELS_DIR:-}" ]; then
  for dir in ../shared/models models; do
    if ls "$dir"/ggml-*.bin >/dev/null 2>&1; then
      FLUXION_MODELS_DIR="$(cd "$dir" && pwd)"
      export FLUXION_MODELS_DIR
      break
    fi
  done
fi
exec cargo run --release -p fluxion -- serve "$@"
