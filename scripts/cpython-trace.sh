#!/bin/bash
# Traces the lecture's server under CPython while primetime's load generator
# runs the experiment against it, and says where the small requests waited
# for the lock during the long one. Usage: scripts/cpython-trace.sh [threads|asyncio-threads] [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
shape=${1:-asyncio-threads}
size=${2:-4}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/primetime" ./cmd/primetime
mkfifo "$dir/stdin"
python3 scripts/cpython-trace.py "$dir/trace" "$shape" "$size" < "$dir/stdin" > "$dir/addr" &
server=$!
exec 3> "$dir/stdin"
until [ -s "$dir/addr" ]; do sleep 0.1; done
addr=$(awk '{print $2}' "$dir/addr")
# n=2600 takes CPython about as long as n=10000 takes Go.
"$dir/primetime" load -addr "$addr" -duration 5s -after 1500ms -long 2600 -interval 250ms | tail -3
exec 3>&-
wait $server
python3 scripts/cpython-trace.py --analyze "$dir/trace"
