#!/usr/bin/env bash
# Render `incident report --format html` of a repository and take a
# screenshot of it in headless Chromium, to look at what a browser shows.
#
# Usage: scripts/report-screenshot.sh [REPO] [OUT.png] [-- REPORT ARGS...]
#   REPO defaults to a fresh demo repository (cargo run --example demo),
#   OUT.png to target/report-screenshot.png; report arguments default to
#   `--last 4w --by severity`.
# Needs chromium (apt-get install -y chromium). Not a test: open the PNG.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="${1:-}"
out="${2:-$here/target/report-screenshot.png}"
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--last 4w --by severity)

(cd "$here" && cargo build --release --quiet --bin incident --example demo)
if [ -z "$repo" ]; then
  repo="$(mktemp -d)/demo"
  "$here/target/release/examples/demo" "$repo" > /dev/null
fi
html="$(mktemp -d)/report.html"
"$here/target/release/incident" -C "$repo" --format html report "${args[@]}" --output "$html"
profile="$(mktemp -d)"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --screenshot="$out" \
  --window-size=1280,4000 "file://$html" 2> /dev/null
rm -rf "$profile"
echo "report: $html"
echo "screenshot: $out"
