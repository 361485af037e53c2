#!/usr/bin/env bash
# Checks the HdrHistogram interval logs of `primetime compare -hlog` with a reader primetime did
# not write (hdr-histogram-js, from the npm registry, pinned): every run's intervals, each with
# the latencies of its answers. Usage: bash scripts/hlog-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "no node and npm: install Node.js to check the logs with an independent reader"; exit 1
fi
reader=${XDG_CACHE_HOME:-$HOME/.cache}/primetime-hlog-check
if [ ! -d "$reader/node_modules/hdr-histogram-js" ]; then
  mkdir -p "$reader"
  npm install --silent --no-audit --no-fund --prefix "$reader" hdr-histogram-js@3.0.0 >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/primetime" ./cmd/primetime
"$work/primetime" compare -strategies perconn,loop -count 2 -duration 1s -hlog "$work/hlog" -json "$work/cmp.json" >/dev/null
NODE_PATH="$reader/node_modules" node scripts/hlog-check.js "$work/hlog" "$work/cmp.json"
