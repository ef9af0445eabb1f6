#!/usr/bin/env bash
# Vendors the console's third-party front-end files from the npm registry
# into crates/server/src/web/static/vendor/, each with its licence. The files
# are committed and embedded in the binary, so building and running Fluxion
# never needs Node.js; this script (which needs `npm`) is only run to change
# a version. Pinned versions:
#   fullcalendar 6.1.22 (MIT) — calendar widget (day/week/list views)
#   @fullcalendar/core 6.1.22 (MIT) — its Italian locale
#   chart.js 4.6.2 (MIT) — charts on /statistiche
set -euo pipefail
cd "$(dirname "$0")/.."
dest=crates/server/src/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { # package version → unpacked directory
  (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null)
  local tgz
  tgz=$(ls "$tmp"/*.tgz)
  mkdir -p "$tmp/$1"
  tar xzf "$tgz" -C "$tmp/$1"
  rm "$tgz"
}
fetch fullcalendar 6.1.22
fetch @fullcalendar/core 6.1.22
fetch chart.js 4.6.2
rm -rf "$dest"
mkdir -p "$dest/fullcalendar-6.1.22" "$dest/chart.js-4.6.2"
cp "$tmp/fullcalendar/package/index.global.min.js" "$tmp/fullcalendar/package/LICENSE.md" "$dest/fullcalendar-6.1.22/"
cp "$tmp/@fullcalendar/core/package/locales/it.global.min.js" "$dest/fullcalendar-6.1.22/"
cp "$tmp/chart.js/package/dist/chart.umd.min.js" "$tmp/chart.js/package/LICENSE.md" "$dest/chart.js-4.6.2/"
( cd "$dest" && sha256sum */* > SHA256SUMS )
echo "vendored into $dest"
