#!/usr/bin/env bash
# make demo: what works today. Grows into validate → plan → apply against the
# embedded local cloud as the engine lands.
set -euo pipefail
cd "$(dirname "$0")/.."
./bin/evdeploy version
