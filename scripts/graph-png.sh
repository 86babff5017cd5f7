#!/usr/bin/env bash
# Renders examples/shop's event-flow SVG (evdeploy graph) to docs/shop-flow.png
# with headless Chromium (Debian: apt-get install chromium), as shown in the
# README. Run after a change to the graph drawing: make graph-png.
set -euo pipefail
cd "$(dirname "$0")/.."
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
  echo "graph-png: needs Chromium (Debian/Ubuntu: apt-get install chromium)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./cmd/evdeploy graph -C examples/shop --out "$tmp/shop.svg"
w=$(grep -o 'width="[0-9]*"' "$tmp/shop.svg" | head -1 | tr -dc 0-9)
h=$(grep -o 'height="[0-9]*"' "$tmp/shop.svg" | head -1 | tr -dc 0-9)
"$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/profile" --hide-scrollbars --force-device-scale-factor=2 \
  --window-size="$w,$h" --screenshot="$PWD/docs/shop-flow.png" "file://$tmp/shop.svg" 2>/dev/null
echo "wrote docs/shop-flow.png (${w}x${h} at 2x)"
