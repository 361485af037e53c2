#!/usr/bin/env bash
# Checks the HdrHistogram interval logs of `primetime compare -hlog` with a reader primetime did
# not write (hdr-histogram-js, from the npm registry, pinned): every run's intervals, each with
# the latencies of its answers. Usage: bash scripts/hlog-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-reader.sh
npm_reader hlog-check hdr-histogram-js 3.0.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/primetime" ./cmd/primetime
"$work/primetime" compare -strategies perconn,loop -count 2 -duration 1s -hlog "$work/hlog" -json "$work/cmp.json" >/dev/null
node scripts/hlog-check.js "$work/hlog" "$work/cmp.json"
