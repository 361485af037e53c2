#!/usr/bin/env bash
# Measures the NATS executor over a real interface: the NATS server on the root end of a veth
# pair, the workers in one network namespace and the primetime servers (and the load generator)
# in another, so that both hops of every task cross a veth. Only addresses this script makes
# (10.213.0.0/30, 10.213.1.0/30) are used; everything it made is removed on exit.
# Needs root and Debian's nats-server. Usage: sudo bash scripts/nats-veth.sh [compare flags]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nats-server >/dev/null || { echo "needs nats-server (apt-get install nats-server)" >&2; exit 1; }
work=$(mktemp -d)
go build -o "$work/primetime" ./cmd/primetime
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del pt-work 2>/dev/null || true
  ip netns del pt-serve 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# One namespace per side, each joined to the root namespace by a veth pair; the NATS server
# listens on the root end of the first, which the second reaches through its own pair.
pair() { # ns, host-side address, ns-side address, subnet of the other pair
  local ns=$1 host=$2 peer=$3 other=$4
  ip netns add "$ns"
  ip link add "$ns-h" type veth peer name "$ns-n"
  ip link set "$ns-n" netns "$ns"
  ip addr add "$host/30" dev "$ns-h"
  ip link set "$ns-h" up
  ip netns exec "$ns" ip addr add "$peer/30" dev "$ns-n"
  ip netns exec "$ns" ip link set "$ns-n" up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip route add "$other" via "$host"
}
pair pt-work 10.213.0.1 10.213.0.2 10.213.1.0/30
pair pt-serve 10.213.1.1 10.213.1.2 10.213.0.0/30
url=nats://10.213.0.1:4222
nats-server -a 10.213.0.1 -p 4222 >"$work/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do ip netns exec pt-serve bash -c "echo > /dev/tcp/10.213.0.1/4222" 2>/dev/null && break; sleep 0.1; done
ip netns exec pt-work "$work/primetime" worker -nats "$url" -n 2 2>"$work/worker.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "msg=serving" "$work/worker.log" && break; sleep 0.1; done
ip netns exec pt-serve "$work/primetime" compare -nats "$url" \
  -strategies procpool:2,loop+procs:2,loop+nats:2,perconn+nats:2 "$@"
