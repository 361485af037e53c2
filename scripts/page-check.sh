#!/usr/bin/env bash
# Loads the page of `primetime compare -html -trace` in headless Chromium, as a person would open
# it: it fails if the page's scripts throw, a strategy has no panel of two charts, or a row's lanes
# are empty, and it saves screenshots of the page at 1280x800 and 1920x1080 and one of the three
# perconn rows' lanes. Usage: bash scripts/page-check.sh [DIR]   (default: a temporary directory;
# docs/ for the documents' pictures: compare-1280.png, compare-1920.png, lanes.png)
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "no chromium: install it (apt-get install chromium) to check the page in a browser"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dir=${1:-$work}
mkdir -p "$dir"
lanes=$dir/lanes.png

go build -o "$work/primetime" ./cmd/primetime
"$work/primetime" compare -strategies perconn,loop,loop+goroutines:2 -gil 5ms -cpython -duration 2s -after 700ms -long 5000 \
  -interval 100ms -trace "$work/traces" -html "$work/page.html" >/dev/null

# headless runs the browser with the given flags, its stdout in the file $1 and its stderr in
# console.log. Headless Chromium has, rarely, not exited after its work: a run that has not in
# 60 s is killed, the end of its log printed, and run once more.
headless() {
  local out=$1 try rc; shift
  for try in 1 2; do
    rc=0
    timeout -k 5 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars "$@" \
      >"$out" 2>"$work/console.log" || rc=$?
    [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && return "$rc"
    echo "chromium did not finish within 60 s (try $try of 2); the end of its log:"
    tail -n 5 "$work/console.log"
  done
  return 1
}
# run loads a page of $work with the flags after its name, its DOM (with --dump-dom) in $work/dom.html.
run() {
  local page=$1; shift
  headless "$work/dom.html" --enable-logging=stderr --v=0 --window-size=1400,1900 "$@" "file://$work/$page"
}
run page.html --dump-dom
errors=$(grep -E 'CONSOLE|Uncaught' "$work/console.log" || true)
if [ -n "$errors" ]; then
  echo "the page logged errors:"; echo "$errors"; exit 1
fi
# A panel per strategy (perconn, loop, loop+goroutines:2), each with its two charts.
panels=$(grep -o '<div class="panel"' "$work/dom.html" | wc -l)
charts=$(grep -o 'class="uplot' "$work/dom.html" | wc -l)
if [ "$panels" -ne 3 ] || [ "$charts" -ne 6 ]; then
  echo "the page drew $panels panels and $charts charts, want 3 and 6"; exit 1
fi
rows=$(grep -o 'class="lane-row"' "$work/dom.html" | wc -l)
drawn=$(grep -oE 'class="lane-row" data-drawn="[1-9][0-9]*"' "$work/dom.html" | wc -l)
if [ "$rows" -ne 9 ] || [ "$drawn" -ne "$rows" ]; then
  echo "the page drew lanes for $drawn of $rows rows, want 9 of 9"; exit 1
fi
# A sweep's page draws its curves: answers, p50 and p99 against the swept value.
"$work/primetime" compare -strategies perconn,loop -sweep clients=1,4 -duration 1s -after 300ms -long 2000 \
  -html "$work/sweep.html" >/dev/null
run sweep.html --dump-dom
if grep -qE 'CONSOLE|Uncaught' "$work/console.log"; then
  echo "the sweep's page logged errors:"; grep -E 'CONSOLE|Uncaught' "$work/console.log"; exit 1
fi
curves=$(grep -oE 'id="sweeps" data-charts="[0-9]+"' "$work/dom.html" | grep -oE '[0-9]+' || echo 0)
if [ "$curves" -lt 4 ]; then
  echo "the sweep's page drew $curves curves, want 4 (answers, p50, p99, kept)"; exit 1
fi
for size in 1280,800 1920,1080; do
  headless /dev/null --window-size=$size --screenshot="$dir/compare-${size%,*}.png" "file://$work/page.html"
done
# The three perconn rows' lanes alone: Go, Python mode, CPython.
sed 's|</head>|<style>body>*:not(#lanes){display:none} .lane-row:nth-child(n+4){display:none}</style></head>|' \
  "$work/page.html" >"$work/lanes.html"
headless /dev/null --window-size=1400,470 --screenshot="$lanes" "file://$work/lanes.html"
for shot in "$dir/compare-1280.png" "$dir/compare-1920.png" "$lanes"; do
  [ -s "$shot" ] || { echo "no screenshot $shot"; exit 1; }
done
echo "ok   the page drew a panel for each of its 3 strategies and the lanes of its 9 rows, a sweep's page its $curves curves, with no console error; screenshots: $dir/compare-1280.png, $dir/compare-1920.png, $lanes"
