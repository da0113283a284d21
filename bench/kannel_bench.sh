#!/usr/bin/env bash
# otpd against Kannel on the same SMSC: messages per second from an HTTP request to submit_sm
# at the SMSC, HTTP latency, and CPU per message, for each system and their ratio, measured in
# one run on this machine. docs/PERFORMANCE.md "Against Kannel" explains the runs and shows a
# result.
#
#   bench/kannel_bench.sh
#
# Both systems get the same: the node-smpp SMSC stand-in (one account each), one transceiver
# bind with a window of 100, the same load generator (bench/otpd_load: HTTP/1.1 keep-alive, the
# same destinations) at the same concurrency, and a durable store (otpd: SQLite, synchronous
# commit before the answer; Kannel: bearerbox's file store). otpd answers POST /v1/verifications
# (code, MAC, store, SMS); Kannel answers GET /cgi-bin/sendsms with the text of such an SMS. The
# systems take turns, ROUNDS times each, so that the machine's drift touches both.
#
# Environment (defaults in brackets):
#   BUILD_DIR     build directory [build/bench], configured RelWithDebInfo if new
#   CONNECTIONS   closed-loop connections [64]
#   COUNT         closed-loop requests per run [20000]       RUN_SECONDS  its time bound [15]
#   ROUNDS        turns of each system [2]
#   RATE          open-loop requests per second [1000]       OPEN_SECONDS  its duration [10]
#   RECEIPTS      0: none; 1: the SMSC sends a receipt for each message (otpd records it on
#                 the verification, Kannel calls a dlr-url on a local HTTP sink) [0]
#   KEEP          1: keep the temp dir (configs, logs) and print its path
#
# CPU per message: otpd's process, or bearerbox and smsbox together (the sink that takes
# Kannel's dlr-url calls is not counted; it is a separate process, as the business's server
# would be).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
build=${BUILD_DIR:-$root/build/bench}
connections=${CONNECTIONS:-64}
count=${COUNT:-20000}
seconds=${RUN_SECONDS:-15}
rounds=${ROUNDS:-2}
rate=${RATE:-1000}
open_seconds=${OPEN_SECONDS:-10}
receipts=${RECEIPTS:-0}
[[ $receipts == 0 || $receipts == 1 ]] || { echo "RECEIPTS: 0 or 1"; exit 2; }
command -v bearerbox >/dev/null || { echo "Kannel is not installed (apt-get install kannel)"; exit 2; }

if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j2 otpd otpd_load >/dev/null

tmp=$(mktemp -d /tmp/otpd-kannel-bench.XXXXXX)
smsc_pid=
otpd_pid=
bearerbox_pid=
smsbox_pid=
sink_pid=
stop_kannel() {
  stop "$smsbox_pid"; smsbox_pid=
  stop "$bearerbox_pid"; bearerbox_pid=
}
cleanup() {
  stop "$otpd_pid"
  stop_kannel
  stop "$sink_pid"
  exec 3>&-
  stop "$smsc_pid"
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_http URL: until it answers at all (any status), for up to 15 s.
wait_http() {
  for _ in $(seq 150); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") != 000 ]] && return 0
    sleep 0.1
  done
  return 1
}

start_standin "$tmp" otpd:secret kannel:secret

# ---- otpd ------------------------------------------------------------------------------------
key=bench-key-0123456789
mac_key=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
request_receipts=$([[ $receipts == 1 ]] && echo true || echo false)
{
  otpd_config_head "$key" "$request_receipts"
  cat <<EOF
        - {name: standin-trx, host: 127.0.0.1, port: $smsc_port, bind: transceiver,
           system_id: otpd, password: secret, window: 100, tps: 0}
store: {kind: sqlite, sqlite_path: $tmp/otpd.db}
secrets: {code_mac_key: $mac_key}
logging: {level: notice}
EOF
} >"$tmp/otpd.yaml"
otpd_port=
otpd_starts=0
# start_system_otpd: on the same database each time, with a log of its own (otpd-N.err).
start_system_otpd() {
  otpd_starts=$((otpd_starts + 1))
  local log=$tmp/otpd-$otpd_starts.err
  start_otpd "$tmp/otpd.yaml" "$log" || { echo "otpd not ready:"; cat "$log"; exit 1; }
  otpd_pid=$started_pid
  otpd_port=$started_port
}

# ---- Kannel ----------------------------------------------------------------------------------
admin_port=$(free_port)
box_port=$(free_port)
sendsms_port=$(free_port)
dlr_flags=()
if [[ $receipts == 1 ]]; then
  # Where Kannel reports each receipt: a local sink that answers 200 to everything.
  sink_port=$(free_port)
  node -e '
    require("http").createServer((q, r) => { q.resume(); q.on("end", () => r.end("ok")); })
      .listen(+process.argv[1], "127.0.0.1");' "$sink_port" &
  sink_pid=$!
  wait_http "http://127.0.0.1:$sink_port/" || { echo "dlr sink did not start"; exit 1; }
  dlr_flags=(--dlr-url "http%3A%2F%2F127.0.0.1%3A$sink_port%2Fdlr%3Fstatus%3D%25d%26id%3D%25i")
fi
cat >"$tmp/kannel.conf" <<EOF
group = core
admin-port = $admin_port
admin-password = bench
admin-interface = 127.0.0.1
admin-allow-ip = 127.0.0.1
smsbox-port = $box_port
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "$tmp/bearerbox.log"
log-level = 2
store-type = file
store-location = "$tmp/kannel.store"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = standin
host = 127.0.0.1
port = $smsc_port
transceiver-mode = true
smsc-username = kannel
smsc-password = secret
system-type = "VMA"
max-pending-submits = 100
msg-id-type = 0x01

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box_port
sendsms-port = $sendsms_port
sendsms-interface = 127.0.0.1
log-file = "$tmp/smsbox.log"
log-level = 2

group = sendsms-user
username = bench
password = bench
max-messages = 1

group = sms-service
keyword = default
text = "ok"
EOF
start_kannel() {
  bearerbox "$tmp/kannel.conf" >"$tmp/bearerbox.out" 2>&1 &
  bearerbox_pid=$!
  wait_http "http://127.0.0.1:$admin_port/status" || { echo "bearerbox did not start"; tail "$tmp/bearerbox.out"; exit 1; }
  smsbox "$tmp/kannel.conf" >"$tmp/smsbox.out" 2>&1 &
  smsbox_pid=$!
  wait_http "http://127.0.0.1:$sendsms_port/" || { echo "smsbox did not start"; tail "$tmp/smsbox.out"; exit 1; }
  # Until the SMPP bind is up (the admin status names the SMSC "online").
  for _ in $(seq 150); do
    curl -s "http://127.0.0.1:$admin_port/status.txt?password=bench" | grep -q 'online' && return
    sleep 0.1
  done
  echo "Kannel did not bind:"; tail "$tmp/bearerbox.log"; exit 1
}

# ---- the runs --------------------------------------------------------------------------------
load_otpd() {
  "$build/bench/otpd_load" "$@" --port "$otpd_port" --key "$key" --path /v1/verifications \
    --smsc-in "$tmp/smsc.in" --smsc-out "$tmp/smsc.out" --smsc-account otpd \
    --otpd-pid "$otpd_pid" --smsc-pid "$smsc_pid" --until-sent 1 | tee -a "$tmp/results.txt"
}
load_kannel() {
  "$build/bench/otpd_load" "$@" --port "$sendsms_port" --key bench:bench \
    --path /cgi-bin/sendsms "${dlr_flags[@]}" \
    --smsc-in "$tmp/smsc.in" --smsc-out "$tmp/smsc.out" --smsc-account kannel \
    --otpd-pid "$bearerbox_pid" --also-pid "$smsbox_pid" --smsc-pid "$smsc_pid" --until-sent 1 |
    tee -a "$tmp/results.txt"
}

echo "machine: $(nproc) CPUs, $(uname -r); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "stand-in on 127.0.0.1:$smsc_port; one transceiver bind each, window 100;" \
  "receipts $([[ $receipts == 1 ]] && echo on || echo off); $connections connections;" \
  "Kannel $(dpkg-query -W -f='${Version}' kannel 2>/dev/null || echo '(version unknown)')"
echo
status=0
run=0
# turn SYSTEM NAME ROUND: SYSTEM's closed-loop run (and its open-loop run in the last round),
# through load_SYSTEM.
turn() {
  local load=load_$1 name=$2 r=$3
  run=$((run + 1))
  "$load" closed --connections "$connections" --count "$count" --seconds "$seconds" \
    --warmup 2000 --run "$((run % 10))" --label "$name closed, round $r" || status=1
  if ((r == rounds)); then
    run=$((run + 1))
    "$load" open --rate "$rate" --seconds "$open_seconds" --run "$((run % 10))" \
      --label "$name open $rate/s" || status=1
  fi
}
# Each system runs alone: the other is stopped, so that neither takes CPU from the other.
for r in $(seq "$rounds"); do
  start_system_otpd
  turn otpd otpd "$r"
  stop "$otpd_pid"; otpd_pid=
  start_kannel
  turn kannel Kannel "$r"
  stop_kannel
done

echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | conns | requests | s | 2xx/s | non-2xx | submit_sm/s at SMSC | HTTP p50 ms | HTTP p99 ms | send->submit_sm p50 ms | p99 ms | server CPU µs/msg | SMSC CPU µs/msg | load gen CPU µs/msg |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
grep '^| ' "$tmp/results.txt"
# The ratio of the closed-loop rates at the SMSC (column 8) and of the CPU per message
# (column 13), each system's rounds averaged.
echo
grep '^| ' "$tmp/results.txt" | awk -F'|' '
  /closed, round/ {
    sys = ($2 ~ /otpd/) ? "otpd" : "kannel"
    gsub(/ /, "", $8); gsub(/ /, "", $13)
    rate[sys] += $8; cpu[sys] += $13; n[sys]++
  }
  END {
    if (n["otpd"] && n["kannel"]) {
      ro = rate["otpd"] / n["otpd"]; rk = rate["kannel"] / n["kannel"]
      co = cpu["otpd"] / n["otpd"]; ck = cpu["kannel"] / n["kannel"]
      printf "closed loop, mean of the rounds: otpd %.0f msgs/s, Kannel %.0f msgs/s: %.2fx;", ro, rk, ro / rk
      printf " CPU per message otpd %.0f µs, Kannel %.0f µs: %.2fx\n", co, ck, (ck > 0 ? co / ck : 0)
    }
  }'
# Failures only: otpd's errors (syslog levels 0-3), Kannel's panics (its ERROR lines include the
# store files missing at a first start and the signal that stops it).
if cat "$tmp"/otpd-*.err | grep -q '^<[0-3]>'; then
  echo; echo "otpd errors (first lines):"; cat "$tmp"/otpd-*.err | grep '^<[0-3]>' | head -n 10
fi
for log in bearerbox.log smsbox.log; do
  if grep -q 'PANIC' "$tmp/$log" 2>/dev/null; then
    echo; echo "$log panics (first lines):"; grep 'PANIC' "$tmp/$log" | head -n 10
  fi
done
exit $status
