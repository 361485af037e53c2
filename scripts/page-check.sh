#!/usr/bin/env bash
# Loads the page of `primetime compare -html` in headless Chromium, as a person would open it:
# it fails if the page's scripts throw or the charts are not drawn, and it saves a screenshot.
# Usage: bash scripts/page-check.sh [SCREENSHOT.png]   (default: a temporary file)
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "no chromium: install it (apt-get install chromium) to check the page in a browser"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shot=${1:-$work/page.png}

go build -o "$work/primetime" ./cmd/primetime
"$work/primetime" compare -strategies perconn,loop,loop+goroutines:2 -gil 5ms -duration 3s -after 1s -long 5000 \
  -interval 100ms -html "$work/page.html" >/dev/null

run() {
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0 \
    --window-size=1400,1900 "$@" "file://$work/page.html" 2>"$work/console.log"
}
run --dump-dom >"$work/dom.html"
errors=$(grep -E 'CONSOLE|Uncaught' "$work/console.log" || true)
if [ -n "$errors" ]; then
  echo "the page logged errors:"; echo "$errors"; exit 1
fi
charts=$(grep -o 'class="uplot' "$work/dom.html" | wc -l)
if [ "$charts" -ne 2 ]; then
  echo "the page drew $charts charts, want 2"; exit 1
fi
run --screenshot="$shot" >/dev/null
echo "ok   the page drew its 2 charts with no console error; screenshot: $shot"
