#!/usr/bin/env python3
"""Prints the stretches that the goroutine which ran longest in a Go
execution trace ran for: how many, their median and largest, and how each
ended. Usage: go-slices.py trace.out (reads `go tool trace -d=parsed`)."""
import collections
import re
import statistics
import subprocess
import sys

out = subprocess.run(["go", "tool", "trace", "-d=parsed", sys.argv[1]],
                     capture_output=True, text=True, check=False).stdout
start, runs = {}, collections.defaultdict(list)
ends = collections.defaultdict(collections.Counter)
for line in out.splitlines():
    if "StateTransition" not in line or "GoID=" not in line:
        continue
    t = int(re.search(r"Time=(\d+)", line).group(1))
    g = re.search(r"GoID=(\d+)", line).group(1)
    was, now = re.search(r"(\w+)->(\w+)", line).groups()
    why = re.search(r'Reason="([^"]*)"', line).group(1)
    if now == "Running":
        start[g] = t
    elif was == "Running" and g in start:
        runs[g].append(t - start.pop(g))
        ends[g][now + (" (" + why + ")" if why else "")] += 1
if not runs:
    sys.exit("go-slices: no goroutine ran in " + sys.argv[1])
g = max(runs, key=lambda k: sum(runs[k]))
d = sorted(runs[g])
print("goroutine %s ran %.3f s in %d stretches: median %.2f ms, largest %.2f ms"
      % (g, sum(d) / 1e9, len(d), statistics.median(d) / 1e6, d[-1] / 1e6))
for how, n in ends[g].most_common():
    print("  %4d ended Running->%s" % (n, how))
