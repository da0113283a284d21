#!/usr/bin/env bash
# Gateway end to end: verifications per second (HTTP create -> submit_sm at the SMSC) and the
# latency otpd adds at a fixed rate, against the node-smpp SMSC stand-in, on this machine.
# docs/PERFORMANCE.md "Gateway end to end" explains the runs and shows a result.
#
#   bench/gateway_bench.sh
#
# Environment (defaults in brackets):
#   BUILD_DIR      build directory [build/bench], configured RelWithDebInfo if new
#   CONNECTIONS    closed-loop connection counts, space-separated ["16 64 256"]
#   COUNT          closed-loop requests per run [60000]      RUN_SECONDS  its time bound [15]
#   RATE           open-loop requests per second [1000]       OPEN_SECONDS  its duration [10]
#   BINDS          transceiver binds to the stand-in [2]      WINDOW  per bind [100]
#   RECEIPTS       request_receipts: false or true [false]
#   DB_DIR         where otpd's SQLite files go [the temp dir] (e.g. /dev/shm to take the disk out)
#   STORE          sqlite or postgres [sqlite]; postgres: a throw-away PostgreSQL 15 cluster is
#                  made in a temp dir (initdb; fsync and synchronous_commit on; as user postgres
#                  when run as root) unless PG_URL names a database to use
#   PG_POOL        store.postgres.pool_size of each node [2]
#   NODES          otpd nodes on the one store [1]; more than 1 needs STORE=postgres: the binds
#                  are spread over the nodes by their leases, the load goes round the nodes
#   CAPTURE        1: one more open-loop run under tcpdump -i lo, timed on the wire by
#                  bench/wire_latency.py [1 when tcpdump is installed]
#   PERF           1: one more closed-loop run (the first connection count) with otpd profiled
#                  (perf, DWARF call graphs), broken down by bench/perf_components.py
#   PREFILL        STORE=sqlite: finished verifications (one delivered SMS attempt each) written
#                  to the database before the runs, created evenly over the last PREFILL_DAYS
#                  days [8]: with 8, an eighth of them are past the default 7-day retention and
#                  purge deletes them while the runs go on; with 6, none is [0]
#   KEEP           1: keep the temp dir (config, logs, stand-in events) and print its path
#
# Starts the stand-in and otpd (generated config, SQLite in a temp dir), runs: closed loop on
# /healthz (the HTTP server alone) and /v1/verifications; open loop at RATE on a direct SMPP
# bind (baseline), /healthz and /v1/verifications; prints the table; stops both by PID.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
build=${BUILD_DIR:-$root/build/bench}
connections=${CONNECTIONS:-16 64 256}
count=${COUNT:-60000}
seconds=${RUN_SECONDS:-15}
rate=${RATE:-1000}
open_seconds=${OPEN_SECONDS:-10}
binds=${BINDS:-2}
window=${WINDOW:-100}
receipts=${RECEIPTS:-false}
capture=${CAPTURE:-$(command -v tcpdump >/dev/null && echo 1 || echo 0)}
store=${STORE:-sqlite}
nodes=${NODES:-1}
pg_pool=${PG_POOL:-2}
[[ $store == sqlite || $store == postgres ]] || { echo "STORE: sqlite or postgres"; exit 2; }
((nodes >= 1 && nodes <= 4)) || { echo "NODES: 1 to 4"; exit 2; }
((nodes == 1)) || [[ $store == postgres ]] || { echo "NODES > 1 needs STORE=postgres"; exit 2; }

if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j2 otpd otpd_load >/dev/null

tmp=$(mktemp -d /tmp/otpd-gateway-bench.XXXXXX)
db_dir=${DB_DIR:-$tmp}
db_dir=$(mktemp -d "$db_dir/otpd-db.XXXXXX")
smsc_pid=
otpd_pid=
more_pids=()
pg_dir=
perf_pid=
perf_all_pid=
tcpdump_pid=
cleanup() {
  stop "$tcpdump_pid"
  stop "$perf_pid"
  stop "$perf_all_pid"
  stop "$otpd_pid"
  for p in "${more_pids[@]}"; do stop "$p"; done
  exec 3>&-
  stop "$smsc_pid"
  if [[ -n $pg_dir ]]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept: $tmp $db_dir"; else rm -rf "$tmp" "$db_dir"; fi
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: its commands run as user postgres then.
pg_bin=/usr/lib/postgresql/15/bin
as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_url=${PG_URL:-}
if [[ $store == postgres && -z $pg_url ]]; then
  pg_dir=$(mktemp -d /tmp/otpd-bench-pg.XXXXXX)
  if [[ $(id -u) == 0 ]]; then chown postgres: "$pg_dir"; fi
  as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U otpd >/dev/null
  pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
  pg_url="postgresql://otpd@127.0.0.1:$pg_port/postgres"
fi

start_standin "$tmp" otpd:secret bench:secret

key=bench-key-0123456789
# Shared by the nodes: a code made on one is checked on another, and handed over sealed.
mac_key=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
seal_key=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
{
  otpd_config_head "$key" "$receipts"
  for i in $(seq "$binds"); do
    cat <<EOF
        - {name: standin-trx-$i, host: 127.0.0.1, port: $smsc_port, bind: transceiver,
           system_id: otpd, password: secret, window: $window, tps: 0}
EOF
  done
  if [[ $store == postgres ]]; then
    # sqlite_path: the nodes' state folder (their SMS send journals), not a database.
    echo "store: {kind: postgres, sqlite_path: $db_dir/otpd.db, postgres: {url: \"$pg_url\", pool_size: $pg_pool}}"
  else
    echo "store: {kind: sqlite, sqlite_path: $db_dir/otpd.db}"
  fi
  cat <<EOF
secrets: {code_mac_key: $mac_key, code_seal_key: $seal_key}
logging: {level: notice}   # "listening" / "ops_listening" are notices; per-request lines are info
EOF
} >"$tmp/otpd.yaml"

# start_node N: otpd node N (1-based) with the config above and its own cluster.node; sets
# node_pid and node_port once it listens and is ready.
start_node() {
  local n=$1
  { cat "$tmp/otpd.yaml"; echo "cluster: {node: bench-$n}"; } >"$tmp/otpd-$n.yaml"
  # Not ready within 10 s (a bind slow to come up): measured as it is.
  start_otpd "$tmp/otpd-$n.yaml" "$tmp/otpd-$n.err" || true
  node_pid=$started_pid
  node_port=$started_port
}

prefill=${PREFILL:-0}
if ((prefill > 0)); then
  [[ $store == sqlite ]] || { echo "PREFILL needs STORE=sqlite"; exit 2; }
  # otpd creates the schema; the rows go in with it stopped, in one transaction.
  start_node 1
  stop "$node_pid"
  mv "$tmp/otpd-1.err" "$tmp/otpd-prefill.err"
  now_ms=$(date +%s%3N)
  prefill_days=${PREFILL_DAYS:-8}
  span_ms=$((prefill_days * 86400 * 1000))
  step_ms=$((span_ms / prefill))
  echo "prefill: $prefill verifications over the last $prefill_days days..."
  start_s=$(date +%s)
  sqlite3 "$db_dir/otpd.db" >/dev/null <<SQL
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $prefill - 1),
  t(i, at) AS (SELECT i, $now_ms - $span_ms + i * $step_ms FROM n)
INSERT INTO verifications (id, to_number, locale, api_key, client_ip, status, created_at,
  expires_at, completed_at, code_length, code_mac, code_sealed, checks, max_checks, sends,
  next_resend_at, idempotency_key, request_hash, version)
SELECT printf('0%025d', i), printf('+8498%07d', i % 10000000), 'vi', 'bench', '127.0.0.1',
  'approved', at, at + 300000, at + 20000, 6, randomblob(32), x'', 1, 5, 1, at + 30000, '', '', 3
FROM t;
INSERT INTO attempts (verification_id, number, channel, status, created_at, submitted_at,
  completed_at, carrier, bind, message_ids, smpp_status, outcome_unknown, dlr_stat, dlr_err,
  sip_code, sip_reason, error, played_ms, node)
SELECT id, 1, 'sms', 'delivered', created_at, created_at + 5, created_at + 3000, 'standin',
  'standin-trx-1', '["' || substr(id, 14) || '"]', 0, 0, 'DELIVRD', '000', NULL, '', '', NULL,
  'bench-1'
FROM verifications WHERE id < '1';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  echo "prefill: done in $(($(date +%s) - start_s)) s; database $(du -h "$db_dir/otpd.db" | cut -f1)"
fi

start_node 1
otpd_pid=$node_pid
port=$node_port
ln -sf otpd-1.err "$tmp/otpd.err"
also=()
for n in $(seq 2 "$nodes"); do
  start_node "$n"
  more_pids+=("$node_pid")
  also+=(--also-port "$node_port" --also-pid "$node_pid")
done

load() {
  "$build/bench/otpd_load" "$@" --port "$port" --smsc-port "$smsc_port" --key "$key" \
    --smsc-in "$tmp/smsc.in" --smsc-out "$tmp/smsc.out" --otpd-pid "$otpd_pid" \
    --smsc-pid "$smsc_pid" "${also[@]}" | tee -a "$tmp/results.txt"
}

echo "machine: $(nproc) CPUs, $(uname -r); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "otpd pid $otpd_pid on 127.0.0.1:$port; stand-in pid $smsc_pid on 127.0.0.1:$smsc_port;" \
  "$binds transceiver bind(s), window $window, request_receipts $receipts;" \
  "store $store, $nodes node(s)"
echo
status=0
run=0
for c in $connections; do
  load closed --path /healthz --connections "$c" --count "$count" --seconds "$seconds" \
    --warmup 2000 --label "closed /healthz" || status=1
done
for c in $connections; do
  run=$((run + 1))
  load closed --path /v1/verifications --connections "$c" --count "$count" --seconds "$seconds" \
    --warmup 2000 --run "$run" --label "closed create" || status=1
done
if [[ ${PERF:-0} == 1 ]]; then
  c=${connections%% *}
  run=$((run + 1))
  # The profile includes the 2,000-request warm-up (about a second of the run).
  perf record --call-graph dwarf,32768 -F 499 -p "$otpd_pid" -o "$tmp/perf.data" \
    2>"$tmp/perf.err" &
  perf_pid=$!
  # The whole machine too, without call graphs: how the CPU splits between otpd, the store's
  # server (PostgreSQL's backends), the stand-in and the load generator.
  perf record -a -F 999 -o "$tmp/perf-all.data" 2>"$tmp/perf-all.err" &
  perf_all_pid=$!
  load closed --path /v1/verifications --connections "$c" --count "$count" --seconds "$seconds" \
    --warmup 2000 --run "$run" --label "closed create (under perf)" || status=1
  kill -INT "$perf_pid" "$perf_all_pid"; wait "$perf_pid" || true; wait "$perf_all_pid" || true
  perf_pid=
  echo; echo "CPU samples by process, whole machine (perf -a, the run below):"
  perf report -i "$tmp/perf-all.data" --sort comm --stdio 2>/dev/null | grep -E '^ +[0-9]' |
    head -n 12
  perf script -i "$tmp/perf.data" -F tid,ip,sym --no-inline >"$tmp/perf.txt" 2>/dev/null || true
  per_req=$(tail -n1 "$tmp/results.txt" | awk -F'|' '{gsub(/ /, "", $13); print $13}')
  echo; echo "otpd CPU by thread and component (perf, the run above):"
  python3 "$root/bench/perf_components.py" "$tmp/perf.txt" --main-tid "$otpd_pid" \
    --per-request-us "${per_req:-0}" | tee "$tmp/profile.txt"
  echo
fi
run=$((run + 1))
load direct --rate "$rate" --seconds "$open_seconds" --run "$run" --smsc-account bench \
  --label "open direct SMPP (baseline)" || status=1
load open --path /healthz --rate "$rate" --seconds "$open_seconds" --label "open /healthz" ||
  status=1
run=$((run + 1))
load open --path /v1/verifications --rate "$rate" --seconds "$open_seconds" --run "$run" \
  --label "open create" || status=1
if [[ $capture == 1 ]]; then
  # The same again, timed by the kernel on the loopback interface: what otpd itself adds,
  # without the load generator's and the stand-in's own delays.
  tcpdump -i lo -s 0 --time-stamp-precision nano -w "$tmp/wire.pcap" \
    "tcp port $port or tcp port $smsc_port" 2>"$tmp/tcpdump.err" &
  tcpdump_pid=$!
  for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done
  run=$((run + 1))
  load open --path /v1/verifications --rate "$rate" --seconds "$open_seconds" --run "$run" \
    --label "open create (under tcpdump)" || status=1
  sleep 0.5
  kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" || true; tcpdump_pid=
  python3 "$root/bench/wire_latency.py" "$tmp/wire.pcap" --http-port "$port" \
    --smpp-port "$smsc_port" | tee "$tmp/wire.txt" || status=1
fi

echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | conns | requests | s | 2xx/s | non-2xx | submit_sm/s at SMSC | HTTP p50 ms | HTTP p99 ms | send->submit_sm p50 ms | p99 ms | otpd CPU µs/req | SMSC CPU µs/req | load gen CPU µs/req |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
grep '^| ' "$tmp/results.txt"
[[ -f $tmp/wire.txt ]] && { echo; cat "$tmp/wire.txt"; }
if grep -q . "$tmp/otpd.err"; then
  echo
  echo "otpd log (notices and above, first lines):"
  head -n 20 "$tmp/otpd.err"
fi
exit $status
