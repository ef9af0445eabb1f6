#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (the targets in fuzz/fuzz_targets:
# provider codecs, webhook form bodies and signatures, WhatsApp webhook
# JSON, media-stream tokens, the NLU text path, WAV, configuration) for
# FUZZ_SECS seconds each (default 60) with cargo-fuzz (libFuzzer,
# AddressSanitizer) on nightly Rust; installs cargo-fuzz when missing. Not part of the test command: a benchmark-like
# run. Prints the executions per target; fails on the first crash (the
# crashing input is kept in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${FUZZ_SECS:-60}
toolchain=${FUZZ_TOOLCHAIN:-nightly}
if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
  echo "cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz (cargo install --locked cargo-fuzz)" >&2
  cargo install --locked cargo-fuzz
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi
start=$(date +%s)
cargo "+$toolchain" fuzz build
echo "fuzz targets built in $(( $(date +%s) - start )) s"
mkdir -p logs
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="logs/$t.log"
  if ! cargo "+$toolchain" fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "$t: CRASH (see fuzz/$log and fuzz/artifacts/$t/)" >&2
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  summary+=("$t: ${execs:-?} executions in ${secs} s, 0 crashes")
  echo "${summary[-1]}"
done
echo "--- summary"
printf '%s\n' "${summary[@]}"
