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

# Each tool's rate, and the CPU it took per request (user and system time over requests), into
# $work/NAME.rate and $work/NAME.cpu: wrk, primetime load on its own protocol, and primetime load
# with the request given as a URL, as for a service of anyone's.
TIMEFORMAT='%U %S'
measure() { # measure NAME COMMAND...: runs the command, timed; its output in $work/NAME.txt
  local name=$1; shift
  { time "$@" >"$work/$name.txt"; } 2>"$work/$name.time"
}
per_request() { # per_request NAME RATE: µs of CPU per request over a 3 s run
  awk -v r="$2" '{ printf "%.2f", ($1 + $2) * 1e6 / (r * 3) }' "$work/$1.time"
}
wrk_rate() {
  measure wrk wrk -t2 -c4 -d3s "$url/prime/1"
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk.txt"; then cat "$work/wrk.txt"; echo "FAIL wrk saw errors"; exit 1; fi
  awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt"
}
load_rate() { # load_rate NAME FLAGS...
  local name=$1; shift
  measure "$name" "$work/primetime" load -clients 4 -duration 3s -interval 1s -after -1s "$@"
  if ! grep -q ', 0 errors' "$work/$name.txt"; then cat "$work/$name.txt"; echo "FAIL primetime load saw errors"; exit 1; fi
  sed -n 's/^throughput: \([0-9,]*\)\/s.*/\1/p' "$work/$name.txt" | tr -d ,
}
own() { load_rate own -addr "$addr" -protocol http; }
target() { load_rate target -request "GET $url/prime/1" -long "GET $url/prime/1"; }

w1=$(wrk_rate); wc1=$(per_request wrk "$w1"); l1=$(own); lc1=$(per_request own "$l1"); t1=$(target); tc1=$(per_request target "$t1")
w2=$(wrk_rate); wc2=$(per_request wrk "$w2"); l2=$(own); lc2=$(per_request own "$l2"); t2=$(target); tc2=$(per_request target "$t2")
awk -v w1="$w1" -v w2="$w2" -v l1="$l1" -v l2="$l2" -v t1="$t1" -v t2="$t2" \
  -v wc="$wc1, $wc2" -v lc="$lc1, $lc2" -v tc="$tc1, $tc2" 'BEGIN {
  w = (w1 + w2) / 2; l = (l1 + l2) / 2; t = (t1 + t2) / 2
  printf "wrk:                  %8.0f req/s (%.0f, %.0f); CPU per request %s µs\n", w, w1, w2, wc
  printf "primetime load:       %8.0f req/s (%.0f, %.0f); CPU per request %s µs\n", l, l1, l2, lc
  printf "primetime load, URL:  %8.0f req/s (%.0f, %.0f); CPU per request %s µs\n", t, t1, t2, tc
  r = l / w; printf "ratio load/wrk: %.3f: %s within 25%%\n", r, (r >= 0.75 && r <= 1.25) ? "agree" : "DO NOT agree"
  r = t / w; printf "ratio load with a URL/wrk: %.3f: %s\n", r, (r >= 0.9) ? "at least 0.9" : "UNDER 0.9"
}'
