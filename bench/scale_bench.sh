#!/usr/bin/env bash
# Several nodes: verifications per second and latency with one node on SQLite, one node on
# PostgreSQL and two nodes on one PostgreSQL, one after the other in one run, through
# bench/gateway_bench.sh (same stand-in, same load generator, same settings). docs/PERFORMANCE.md
# "Several nodes" shows a result.
#
#   bench/scale_bench.sh
#
# Environment: CONNECTIONS [64], COUNT [30000], RUN_SECONDS [15], RATE [1000], OPEN_SECONDS [10],
# and whatever gateway_bench.sh reads (BUILD_DIR, BINDS, RECEIPTS, ...). PostgreSQL is a
# throw-away cluster made for each setup (fsync and synchronous_commit on).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
export CONNECTIONS=${CONNECTIONS:-64}
export COUNT=${COUNT:-30000}
export CAPTURE=0
out=$(mktemp /tmp/otpd-scale-bench.XXXXXX)
trap 'rm -f "$out"' EXIT

status=0
for setup in "sqlite 1" "postgres 1" "postgres 2"; do
  read -r store nodes <<<"$setup"
  echo "=== $store, $nodes node(s)"
  STORE=$store NODES=$nodes bash "$root/bench/gateway_bench.sh" >"$out.run" 2>&1 || status=1
  # gateway_bench.sh prints each result twice (as it runs, then in its table): once here.
  grep -E '^\| (closed|open) create' "$out.run" | awk '!seen[$0]++' |
    sed "s/^| /| $store × $nodes: /" >>"$out" || true
  grep -E '^(machine|otpd pid)' "$out.run" || true
  if ((status != 0)); then cat "$out.run"; fi
  rm -f "$out.run"
done
echo
echo "| run | conns | requests | s | 2xx/s | non-2xx | submit_sm/s at SMSC | HTTP p50 ms | HTTP p99 ms | send->submit_sm p50 ms | p99 ms | otpd CPU µs/req | SMSC CPU µs/req | load gen CPU µs/req |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
cat "$out"
exit $status
