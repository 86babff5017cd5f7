#!/usr/bin/env bash
# make demo: start the embedded local cloud (no Docker, no AWS account) and
# deploy the SPEC example (examples/shop) to it: validate → plan → apply →
# outputs. Running it again is harmless: the second apply has nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
evd=./bin/evdeploy
app=examples/shop

# Bold step headers only on a terminal, and never with NO_COLOR set
# (https://no-color.org): piped or logged output stays plain text.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\033[1m' reset=$'\033[0m'
else
  bold='' reset=''
fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }

step "evdeploy local up   (the embedded cloud on 127.0.0.1:${EVDEPLOY_LOCAL_PORT:-4566})"
$evd local up

step "evdeploy validate -C $app"
$evd validate -C "$app"

step "evdeploy plan -C $app --target local"
$evd plan -C "$app" --target local

step "evdeploy apply -C $app --target local --auto-approve"
$evd apply -C "$app" --target local --auto-approve

step "evdeploy output -C $app"
$evd output -C "$app"

# The embedded engine runs the deployed functions: an order posted to the API
# goes api (Go) → SQS → worker (Go) → DynamoDB.
url=$($evd output -C "$app" api_url)
if command -v curl >/dev/null; then
  step "curl -X POST $url/orders"
  curl -sS -m 20 -X POST "$url/orders" -H 'content-type: application/json' -d '{"item":"book","quantity":2}' || true
  echo
fi

cat <<MSG

The SPEC example is deployed to the local cloud, and its functions run there. Next:
  $evd plan -C $app --target local                 # no changes
  $evd local status                                # what runs where
  $evd invoke report -C $app --target local        # run a function, see its result
  $evd destroy -C $app --target local --auto-approve --allow-data-loss
  $evd local down                                  # stop the local cloud
MSG
