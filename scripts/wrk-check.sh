#!/usr/bin/env bash
# Drives `primetime serve -protocol http` with tools nobody here wrote: curl checks the answers,
# wrk measures requests per second, and primetime load measures the same server the same way
# (4 connections, closed loop, GET /prime/1), alternating, twice each. It prints both figures and
# their ratio, and says whether they agree within 25%.
#
# It fails when the server answers wrongly or a tool reports errors; a disagreement in speed is
# reported, not failed, since timings on a shared 2-core machine are not pass/fail material.
# Needs curl and wrk (Debian: apt-get install wrk); without wrk it only runs the curl checks.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/primetime" ./cmd/primetime

"$work/primetime" serve -addr 127.0.0.1:0 -protocol http -strategy perconn 2>"$work/serve.log" &
pid=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's/.*msg=serving addr=\([^ ]*\).*/\1/p' "$work/serve.log")
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start:"; cat "$work/serve.log"; exit 1; }
url="http://$addr"
echo "serving on $url"

check() { # check WHAT WANT GOT
  if [ "$2" != "$3" ]; then echo "FAIL $1: want $2, got $3"; exit 1; fi
  echo "ok   $1: $3"
}
check "GET /prime/10" "29" "$(curl -s "$url/prime/10")"
check "GET /?n=10" "29" "$(curl -s "$url/?n=10")"
check "GET /prime/abc status" "400" "$(curl -s -o /dev/null -w '%{http_code}' "$url/prime/abc")"
check "GET /nowhere status" "404" "$(curl -s -o /dev/null -w '%{http_code}' "$url/nowhere")"
check "POST /prime/10 status" "405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/prime/10")"
# Each answer is followed by how many connections curl opened for it: one, then none.
check "two requests, one connection" "29[1]2[0]" "$(curl -s -w '[%{num_connects}]' "$url/prime/10" "$url/prime/1")"

if ! command -v wrk >/dev/null; then
  echo "wrk is not installed: skipping the comparison of speeds"
  exit 0
fi

wrk_rate() {
  wrk -t2 -c4 -d3s "$url/prime/1" >"$work/wrk.txt"
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk.txt"; then cat "$work/wrk.txt"; echo "FAIL wrk saw errors"; exit 1; fi
  awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt"
}
load_rate() {
  "$work/primetime" load -addr "$addr" -protocol http -clients 4 -duration 3s -interval 1s -after -1s >"$work/load.txt"
  if ! grep -q ', 0 errors' "$work/load.txt"; then cat "$work/load.txt"; echo "FAIL primetime load saw errors"; exit 1; fi
  sed -n 's/^throughput: \([0-9,]*\)\/s.*/\1/p' "$work/load.txt" | tr -d ,
}

w1=$(wrk_rate); l1=$(load_rate); w2=$(wrk_rate); l2=$(load_rate)
awk -v w1="$w1" -v w2="$w2" -v l1="$l1" -v l2="$l2" 'BEGIN {
  w = (w1 + w2) / 2; l = (l1 + l2) / 2; r = l / w
  printf "wrk:           %8.0f req/s (%.0f, %.0f)\n", w, w1, w2
  printf "primetime load: %8.0f req/s (%.0f, %.0f)\n", l, l1, l2
  printf "ratio load/wrk: %.3f: %s within 25%%\n", r, (r >= 0.75 && r <= 1.25) ? "agree" : "DO NOT agree"
}'
