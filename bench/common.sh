# Sourced by the benchmark scripts: stopping what they started, and the SMSC stand-in.

# stop PID: SIGTERM, then SIGKILL if it is still there after 10 s. Empty: nothing.
stop() {
  local pid=$1
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

# start_standin DIR ACCOUNT...: the node-smpp stand-in (tests/peers/smsc) with these accounts
# (id:password) and no per-submit events; commands through the FIFO DIR/smsc.in (held open on
# fd 3), events into DIR/smsc.out. Sets smsc_pid and smsc_port.
start_standin() {
  local dir=$1
  shift
  local accounts=()
  for a in "$@"; do accounts+=(--account "$a"); done
  mkfifo "$dir/smsc.in"
  node "$root/tests/peers/smsc/smsc.js" "${accounts[@]}" --no-submit-events \
    <"$dir/smsc.in" >"$dir/smsc.out" 2>"$dir/smsc.err" &
  smsc_pid=$!
  exec 3>"$dir/smsc.in"
  smsc_port=
  for _ in $(seq 100); do
    smsc_port=$(head -n1 "$dir/smsc.out" 2>/dev/null | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
    [[ -n $smsc_port ]] && break
    sleep 0.1
  done
  [[ -n $smsc_port ]] || { echo "stand-in did not start:"; cat "$dir/smsc.err"; exit 1; }
}

# otpd_config_head KEY RECEIPTS: the start of a benchmark's otpd configuration on stdout:
# listeners on free ports, API key KEY, no rate limit, and the stand-in's carrier (every
# number from 84) with request_receipts RECEIPTS (true or false), up to its "binds:" line.
otpd_config_head() {
  local key_sha
  key_sha=$(printf %s "$1" | sha256sum | cut -d' ' -f1)
  cat <<YAML
listeners:
  - {address: 127.0.0.1, port: 0}
ops: {address: 127.0.0.1, port: 0}   # /readyz (and /metrics) are served there
api_keys:
  - {name: bench, sha256: $key_sha}
rate_limits: {per_number: [], per_api_key: [], per_client_ip: [], per_prefix: []}
routing:
  carriers:
    - name: standin
      prefixes: ["84"]
      sender: {addr: OTPD, ton: 5, npi: 0}
      request_receipts: $2
      binds:
YAML
}

# start_otpd CONFIG LOG: $build's otpd with CONFIG, its log in LOG (a new file each time: the
# ports are read from it). Sets started_pid, started_port (the API) and started_ops (/readyz,
# /metrics) once it listens, and exits the script when it does not; then returns 1 when
# /readyz has not answered 200 within 10 s.
start_otpd() {
  local config=$1 log=$2
  "$build/daemon/otpd" --config "$config" 2>"$log" &
  started_pid=$!
  started_port=
  started_ops=
  for _ in $(seq 150); do
    started_port=$(sed -n 's/.*[^_]listening.*port=\([0-9]*\).*/\1/p' "$log" | head -n1)
    started_ops=$(sed -n 's/.*ops_listening.*port=\([0-9]*\).*/\1/p' "$log" | head -n1)
    [[ -n $started_port && -n $started_ops ]] && break
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n $started_port && -n $started_ops ]] || { echo "otpd did not start:"; cat "$log"; exit 1; }
  for _ in $(seq 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$started_ops/readyz") == 200 ]] &&
      return 0
    sleep 0.1
  done
  return 1
}
