#!/usr/bin/env bash
# Loads the page of `primetime compare -html -trace` in headless Chromium, as a person would open
# it: it fails if the page's scripts throw, the charts are not drawn or a row's lanes are empty,
# and it saves a screenshot of the page and one of the three perconn rows' lanes.
# Usage: bash scripts/page-check.sh [SCREENSHOT.png [LANES.png]]   (default: temporary files)
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "no chromium: install it (apt-get install chromium) to check the page in a browser"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shot=${1:-$work/page.png}
lanes=${2:-$work/lanes.png}

go build -o "$work/primetime" ./cmd/primetime
"$work/primetime" compare -strategies perconn,loop,loop+goroutines:2 -gil 5ms -cpython -duration 2s -after 700ms -long 5000 \
  -interval 100ms -trace "$work/traces" -html "$work/page.html" >/dev/null

run() {
  local page=$1; shift
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0 \
    --window-size=1400,1900 "$@" "file://$work/$page" 2>"$work/console.log"
}
run page.html --dump-dom >"$work/dom.html"
errors=$(grep -E 'CONSOLE|Uncaught' "$work/console.log" || true)
if [ -n "$errors" ]; then
  echo "the page logged errors:"; echo "$errors"; exit 1
fi
charts=$(grep -o 'class="uplot' "$work/dom.html" | wc -l)
if [ "$charts" -ne 2 ]; then
  echo "the page drew $charts charts, want 2"; exit 1
fi
rows=$(grep -o 'class="lane-row"' "$work/dom.html" | wc -l)
drawn=$(grep -oE 'class="lane-row" data-drawn="[1-9][0-9]*"' "$work/dom.html" | wc -l)
if [ "$rows" -ne 9 ] || [ "$drawn" -ne "$rows" ]; then
  echo "the page drew lanes for $drawn of $rows rows, want 9 of 9"; exit 1
fi
# A sweep's page draws its curves: answers, p50 and p99 against the swept value.
"$work/primetime" compare -strategies perconn,loop -sweep clients=1,4 -duration 1s -after 300ms -long 2000 \
  -html "$work/sweep.html" >/dev/null
run sweep.html --dump-dom >"$work/sweep-dom.html"
if grep -qE 'CONSOLE|Uncaught' "$work/console.log"; then
  echo "the sweep's page logged errors:"; grep -E 'CONSOLE|Uncaught' "$work/console.log"; exit 1
fi
curves=$(grep -oE 'id="sweeps" data-charts="[0-9]+"' "$work/sweep-dom.html" | grep -oE '[0-9]+' || echo 0)
if [ "$curves" -lt 4 ]; then
  echo "the sweep's page drew $curves curves, want 4 (answers, p50, p99, kept)"; exit 1
fi
run page.html --screenshot="$shot" >/dev/null
# The three perconn rows' lanes alone: Go, Python mode, CPython.
sed 's|</head>|<style>body>*:not(#lanes){display:none} .lane-row:nth-child(n+4){display:none}</style></head>|' \
  "$work/page.html" >"$work/lanes.html"
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,470 \
  --screenshot="$lanes" "file://$work/lanes.html" >/dev/null 2>&1
echo "ok   the page drew its 2 charts and the lanes of its 9 rows, a sweep's page its $curves curves, with no console error; screenshots: $shot, $lanes"
