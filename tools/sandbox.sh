#!/usr/bin/env bash
# The "run" command of the README: otpd on its embedded defaults, on a fresh Debian 12 machine.
#
# Installs the dependencies, builds otpd (release preset), starts a local SMSC stand-in
# (node-smpp, tests/peers/smsc) that prints every SMS it receives and a local phone (baresip)
# that answers calls to +84 912 345 678 and saves what it hears under ./state/calls, then otpd
# with config/sandbox.yaml (SQLite under ./state, HTTP on 127.0.0.1:8080, one carrier bound to
# the SMSC stand-in, one SIP trunk to the phone). It runs one verification end to end (the SMS,
# then "get the code again" by phone) so that you see the whole flow, then keeps otpd running
# and prints the curl lines to try, until Ctrl-C. Nothing leaves this machine.
#
# Usage: bash tools/sandbox.sh            (as root, for apt-get)
#        OTPD_SANDBOX_DEMO_ONLY=1 bash tools/sandbox.sh   (run the demo, then stop)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [[ -t 1 ]]; then
  bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
else
  bold='' dim='' green='' red='' reset=''
fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
note() { printf '%s    %s%s\n' "$dim" "$*" "$reset"; }
fail() {
  printf '%ssandbox: %s%s\n' "$red" "$*" "$reset" >&2
  exit 1
}

smsc_pid=''
otpd_pid=''
tail_pid=''
phone_pid=''
work_dir="$(mktemp -d /tmp/otpd-sandbox.XXXXXX)"
cleanup() {
  local status=$?
  for pid in "$otpd_pid" "$smsc_pid" "$phone_pid" "$tail_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%sotpd sandbox%s: an OTP gateway talking SMPP to a local SMSC stand-in.\n' "$bold" "$reset"

step "1/5 Installing dependencies (tools/install-deps.sh)"
bash tools/install-deps.sh

step "2/5 Building otpd (cmake preset 'release' -> build/release)"
cmake --preset release >"$work_dir/configure.log" 2>&1 ||
  { cat "$work_dir/configure.log" >&2; fail "cmake configure failed (log above)"; }
cmake --build --preset release --target otpd -j 2
otpd="$repo_root/build/release/daemon/otpd"
[[ -x "$otpd" ]] || fail "the build did not produce $otpd"

step "3/5 Starting the SMSC stand-in on 127.0.0.1 (it prints each SMS it receives)"
export OTPD_SANDBOX_SMSC_PASSWORD="sbx$((RANDOM % 10000))"
export OTPD_SANDBOX_CODE_MAC_KEY="$(openssl rand -hex 32)"
node tests/peers/smsc/smsc.js --host 127.0.0.1 --port 0 --no-stdin --print-sms \
  --account "otpd:$OTPD_SANDBOX_SMSC_PASSWORD" --system-id sandbox-smsc \
  >"$work_dir/smsc.jsonl" 2>"$work_dir/smsc.err" &
smsc_pid=$!
# What the stand-in prints (each SMS it receives), shown as it comes.
tail -n +1 -F "$work_dir/smsc.err" 2>/dev/null > >(sed -u "s/^/${green}[smsc] /; s/\$/${reset}/") &
tail_pid=$!
for _ in $(seq 1 200); do
  [[ -s "$work_dir/smsc.jsonl" ]] && break
  kill -0 "$smsc_pid" 2>/dev/null || fail "the SMSC stand-in exited"
  sleep 0.1
done
port="$(head -n 1 "$work_dir/smsc.jsonl" | sed -nE 's/.*"port":([0-9]+).*/\1/p')"
[[ -n "$port" ]] || fail "the SMSC stand-in did not announce its port"
export OTPD_SANDBOX_SMSC_PORT="$port"
note "SMSC stand-in: 127.0.0.1:$port (pid $smsc_pid)"

step "4/5 Starting the phone stand-in (baresip) on 127.0.0.1: it answers +84 912 345 678"
mkdir -p state/calls "$work_dir/baresip"
calls_dir="$repo_root/state/calls"
sip_port=''
for _ in 1 2 3 4 5; do
  # A free port for UDP and TCP (baresip listens on both, and cannot take port 0).
  candidate="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  cat >"$work_dir/baresip/config" <<CONF
poll_method	epoll
sip_listen	127.0.0.1:$candidate
# media on loopback too: otpd sends RTP only where the trunk's next hop (127.0.0.1) is
net_interface	127.0.0.1
audio_player	aubridge,nil
audio_source	aubridge,nil
audio_alert	aubridge,nil
rtcp_mux	no
jitter_buffer_delay	5-10
module_path	/usr/lib/baresip/modules
module	g711.so
module	sndfile.so
module	aubridge.so
module_tmp	account.so
module_app	menu.so
snd_path	$calls_dir
CONF
  printf '<sip:84912345678@127.0.0.1:%s>;answermode=auto;audio_codecs=PCMU,PCMA;regint=0\n' \
    "$candidate" >"$work_dir/baresip/accounts"
  baresip -f "$work_dir/baresip" </dev/null >"$work_dir/baresip.log" 2>&1 &
  phone_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'baresip is ready' "$work_dir/baresip.log" 2>/dev/null && break
    kill -0 "$phone_pid" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q 'baresip is ready' "$work_dir/baresip.log"; then
    sip_port="$candidate"
    break
  fi
  kill -TERM "$phone_pid" 2>/dev/null || true
  wait "$phone_pid" 2>/dev/null || true
  phone_pid=''
done
[[ -n "$sip_port" ]] || { cat "$work_dir/baresip.log" >&2; fail "the phone stand-in did not start"; }
export OTPD_SANDBOX_SIP_URI="sip:127.0.0.1:$sip_port"
note "phone stand-in: $OTPD_SANDBOX_SIP_URI (pid $phone_pid), recordings in state/calls/"

step "5/5 Starting otpd --config config/sandbox.yaml"
mkdir -p state
"$otpd" --check-config config/sandbox.yaml >/dev/null || "$otpd" --check-config config/sandbox.yaml
"$otpd" --config config/sandbox.yaml 2> >(sed -u "s/^/${dim}[otpd] /; s/\$/${reset}/" >&2) &
otpd_pid=$!
api="http://127.0.0.1:8080"
ops="http://127.0.0.1:8081"  # /readyz and /metrics (config/sandbox.yaml, ops)
key="sandbox-key"
for _ in $(seq 1 100); do
  curl -fsS "$ops/readyz" >/dev/null 2>&1 && break
  kill -0 "$otpd_pid" 2>/dev/null || fail "otpd exited (its log is above)"
  sleep 0.1
done
curl -fsS "$ops/readyz" >/dev/null || fail "otpd did not become ready"

step "The flow: create a verification, read the SMS, check the code"
post() { curl -sS -X POST "$api$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$2"; }
note "POST /v1/verifications {\"to\":\"0912 345 678\",\"locale\":\"en\"}"
created="$(post /v1/verifications '{"to":"0912 345 678","locale":"en"}')"
echo "$created"
id="$(sed -nE 's/.*"id":"([a-z0-9]+)".*/\1/p' <<<"$created")"
[[ -n "$id" ]] || fail "no verification was created"
code=''
for _ in $(seq 1 50); do
  hex="$(grep '"event":"submit"' "$work_dir/smsc.jsonl" | tail -n 1 | sed -nE 's/.*"short_message":"([0-9a-f]*)".*/\1/p')"
  code="$(printf '%s' "$hex" | xxd -r -p 2>/dev/null | grep -oE '[0-9]{4,10}' | head -n 1 || true)"
  [[ -n "$code" ]] && break
  sleep 0.1
done
[[ -n "$code" ]] || fail "the SMSC stand-in received no SMS"
note "the code, as the phone would show it: $code"
note "POST /v1/verifications/$id/check {\"code\":\"$code\"}"
post "/v1/verifications/$id/check" "{\"code\":\"$code\"}"
echo
printf '%sThe verification is approved.%s\n' "$green" "$reset"

step "Get the code again by phone: otpd calls +84 912 345 678 and reads the code"
created="$(post /v1/verifications '{"to":"0912 345 678","locale":"en"}')"
id="$(sed -nE 's/.*"id":"([a-z0-9]+)".*/\1/p' <<<"$created")"
[[ -n "$id" ]] || fail "no verification was created"
note "a new verification $id; its SMS is above. The app's countdown (10 s in the sandbox)..."
resent=''
for _ in $(seq 1 150); do
  resent="$(post "/v1/verifications/$id/resend" '{"channel":"voice"}')"
  grep -q '"channel":"voice"' <<<"$resent" && break
  sleep 0.1
done
grep -q '"channel":"voice"' <<<"$resent" || fail "the voice resend was refused: $resent"
note "POST /v1/verifications/$id/resend {\"channel\":\"voice\"} -> 202"
status=''
for _ in $(seq 1 120); do
  view="$(curl -sS "$api/v1/verifications/$id" -H "Authorization: Bearer $key")"
  status="$(sed -nE 's/.*"channel":"voice","status":"([a-z_]+)".*/\1/p' <<<"$view")"
  case "$status" in completed | failed | busy | no_answer | rejected) break ;; esac
  sleep 0.5
done
note "the call ended: $status"
[[ "$status" == completed ]] || fail "the call did not complete: $view"
wav="$(ls -t "$calls_dir"/*-dec.wav 2>/dev/null | head -n 1 || true)"
[[ -n "$wav" ]] && note "what the phone heard: ${wav#$repo_root/} (play it with aplay or any audio player)"
printf '%sThe phone heard the code.%s\n' "$green" "$reset"

if [[ -n "${OTPD_SANDBOX_DEMO_ONLY:-}" ]]; then
  exit 0
fi

cat <<EOF

${bold}otpd is running on $api (Ctrl-C stops it and the stand-in).${reset} Try:

  curl -s -X POST $api/v1/verifications -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '{"to":"+84 912 345 678"}'
      (the SMS appears above, marked [smsc])
  curl -s -X POST $api/v1/verifications/ID/check -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '{"code":"123456"}'
  curl -s $api/v1/verifications/ID -H 'Authorization: Bearer $key'
  curl -s -X POST $api/v1/verifications/ID/resend -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '{"channel":"sms"}'     (after 30 s)
  curl -s -X POST $api/v1/verifications/ID/resend -H 'Authorization: Bearer $key' \\
       -H 'Content-Type: application/json' -d '{"channel":"voice"}'   (a call; WAV in state/calls)
  curl -s $ops/metrics

To check an SMPP bind by hand, build and run the integrator tool: docs/smpp-tool.md.
EOF
wait "$otpd_pid"
