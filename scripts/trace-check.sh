#!/usr/bin/env bash
# Checks the traces of `primetime compare -trace` with a reader of the Trace Event Format that
# primetime did not write (@tracerbench/trace-model, from the npm registry, pinned): it fails
# unless every event of every file is read, on a named thread of a named process.
# Usage: bash scripts/trace-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-reader.sh
npm_reader trace-check @tracerbench/trace-model 8.0.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/primetime" ./cmd/primetime
cpython=""
if command -v python3 >/dev/null; then cpython=-cpython; fi
"$work/primetime" compare -strategies perconn,loop,loop+goroutines:2,procpool:2,loop+nats:2 -gil 5ms $cpython \
  -duration 1s -long 3000 -trace "$work/traces" >/dev/null
node scripts/trace-check.js "$work"/traces/*.json
