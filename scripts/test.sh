#!/usr/bin/env bash
# Runs every test of the workspace. Needs the Rust toolchain plus Debian
# packages, installed here when missing: cmake (to build whisper.cpp),
# espeak-ng (the offline voice, which also speaks the callers in the voice
# tests), chromium and chromium-driver (the web console's browser test, which
# fails without them on CI and skips elsewhere), poppler-utils (pdftotext reads
# the receipt PDFs back in the loyalty tests; same rule). Points FLUXION_MODELS_DIR at
# ../shared/models when present. With python3 (and PyPI reachable once) the
# MCP server is also tested with the official Python MCP client.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
# The console's browser test drives headless Chromium through chromedriver.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing ${missing[*]} (Debian packages)" >&2
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi
# The voice tests speak with espeak-ng; fail rather than skip when it is absent.
export FLUXION_REQUIRE_ESPEAK=1
if [ -z "${FLUXION_MODELS_DIR:-}" ] && [ -d ../shared/models ]; then
  export FLUXION_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
# The official Python MCP SDK drives `fluxion mcp` in a test; it is installed
# into target/mcp-venv when python3 is available (the test skips otherwise).
if [ -z "${FLUXION_TEST_PYTHON:-}" ] && command -v python3 >/dev/null 2>&1; then
  venv=target/mcp-venv
  if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } &&
     { "$venv/bin/python" -c 'import mcp' 2>/dev/null || "$venv/bin/pip" install --quiet 'mcp>=1.2'; }; then
    export FLUXION_TEST_PYTHON="$(pwd)/$venv/bin/python"
  else
    echo "warning: could not install the Python mcp package; the MCP client test will skip" >&2
  fi
fi
# The store tests also run on PostgreSQL (127.0.0.1:5432, trust auth: present
# on the development machines and CI), each in a throw-away database; they
# print "PostgreSQL absent: skipped" without one, except on CI, where a
# missing server is a failure.
if [ "${CI:-}" = true ]; then
  export FLUXION_REQUIRE_PG=1
fi
# `silero` builds the pure-Rust ONNX engine for Silero VAD (tests skip cleanly
# when the models are absent).
cargo test --workspace --locked --features fluxion/silero "$@"
