#!/usr/bin/env bash
# The "run" command of the README: a first look at otpd on a fresh Debian 12 machine.
#
# Installs the dependencies, builds the otpd-smpp tool (release preset), starts a local SMSC
# stand-in (node-smpp, tests/peers/smsc) on 127.0.0.1 with a port the OS picks, and sends two
# sample OTP messages through it with otpd-smpp, which prints every SMPP PDU exchanged and the
# delivery receipt. The SMSC is stopped on exit, whatever happens. Nothing leaves this machine:
# the SMSC is a stand-in that "delivers" every message at once.
#
# Usage: bash tools/sandbox.sh        (as root, or with sudo, for apt-get)
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

# --- cleanup: the SMSC and temporary files go away on any exit ---------------------------
smsc_pid=''
drain_pid=''
work_dir="$(mktemp -d /tmp/otpd-sandbox.XXXXXX)"
cleanup() {
  local status=$?
  if [[ -n "$smsc_pid" ]] && kill -0 "$smsc_pid" 2>/dev/null; then
    kill -TERM "$smsc_pid" 2>/dev/null || true
    wait "$smsc_pid" 2>/dev/null || true
  fi
  if [[ -n "$drain_pid" ]]; then
    wait "$drain_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

printf '%sotpd sandbox%s: build the SMPP tool and send a test OTP to a local SMSC stand-in.\n' \
  "$bold" "$reset"
if [[ ! -r /etc/debian_version ]] || [[ "$(cut -d. -f1 /etc/debian_version)" != 12 ]]; then
  note "This script is made for Debian 12; carrying on anyway."
fi

# --- 1. dependencies ---------------------------------------------------------------------
step "1/4 Installing dependencies (tools/install-deps.sh)"
note "Debian packages for the build, and node-smpp for the SMSC stand-in; quick when present."
bash tools/install-deps.sh

# --- 2. build ----------------------------------------------------------------------------
step "2/4 Building otpd-smpp (cmake preset 'release' -> build/release)"
cmake --preset release >"$work_dir/configure.log" 2>&1 ||
  { cat "$work_dir/configure.log" >&2; fail "cmake configure failed (log above)"; }
cmake --build --preset release --target otpd-smpp -j 2
tool="$repo_root/build/release/tools/otpd-smpp"
[[ -x "$tool" ]] || fail "the build did not produce $tool"
note "built $tool"

# --- 3. the SMSC stand-in ----------------------------------------------------------------
step "3/4 Starting the SMSC stand-in (node tests/peers/smsc/smsc.js) on 127.0.0.1"
# A throw-away account for this run. The tool reads the password from a file (or
# OTPD_SMPP_PASSWORD), never from its command line, where every user could read it.
password="sbx$RANDOM"
password_file="$work_dir/smpp-password"
(umask 077 && printf '%s\n' "$password" >"$password_file")
# Port 0: the OS picks a free port; the SMSC announces it on its first stdout line,
# {"event":"listening","port":N,...}. --no-stdin: it runs in the background without a driver.
exec {smsc_out}< <(exec node tests/peers/smsc/smsc.js --host 127.0.0.1 --port 0 --no-stdin \
  --account "otpd:$password" --system-id sandbox-smsc 2>&1)
smsc_pid=$!
first_line=''
IFS= read -r -t 20 -u "$smsc_out" first_line ||
  fail "the SMSC stand-in did not start within 20 s"
port="$(sed -nE 's/^\{"event":"listening","port":([0-9]+).*/\1/p' <<<"$first_line")"
[[ -n "$port" ]] || fail "unexpected first line from the SMSC stand-in: $first_line"
# Keep reading its event log so that it never blocks on a full pipe; shown only on failure.
cat <&"$smsc_out" >"$work_dir/smsc.log" &
drain_pid=$!
exec {smsc_out}<&-
note "SMSC stand-in listening on 127.0.0.1:$port (pid $smsc_pid); account otpd / password in a file"

common=(--host 127.0.0.1 --port "$port" --system-id otpd --password-file "$password_file"
  --from OTPD --to +84912345678 --timeout 20s)
otp_text='Mã xác thực của bạn là 482917'

# --- 4. two sample OTPs ------------------------------------------------------------------
step "4/4 Sending two sample OTPs to +84912345678 with otpd-smpp"
cat <<EOF
    Reading the output:
      --> a PDU otpd sent          <-- a PDU the SMSC sent
      bind_transceiver / _resp     log in (the password is always shown as ***)
      submit_sm / _resp            the message, and the SMSC's message_id for it
      deliver_sm (esm_class=0x04)  the delivery receipt: stat:DELIVRD means delivered
                                   (its text: field echoes the start of the message)
      unbind / _resp               log out
EOF

results=()
run_tool() {
  local title=$1
  shift
  printf '\n%s--- %s%s\n' "$bold" "$title" "$reset"
  local shown=() a
  for a in "$@"; do
    # Quote only what a shell would need quoted, so that the line can be copied.
    if [[ "$a" =~ ^[A-Za-z0-9_./:+=@-]+$ ]]; then shown+=("$a"); else shown+=("'$a'"); fi
  done
  printf '%s$ otpd-smpp %s%s\n' "$dim" "${shown[*]}" "$reset"
  local status=0
  "$tool" "$@" || status=$?
  results+=("$title: exit $status")
  return "$status"
}

status=0
run_tool "OTP 1: Vietnamese text transliterated to GSM 7-bit (1 SMS, 160 characters max)" \
  "${common[@]}" --text "$otp_text" --transliterate || status=$?
run_tool "OTP 2: the same text kept as written, in UCS2 (1 SMS, 70 characters max)" \
  "${common[@]}" --text "$otp_text" --coding ucs2 || status=$?

printf '\n%s==> Summary%s\n' "$bold" "$reset"
for r in "${results[@]}"; do
  printf '    %s\n' "$r"
done
if ((status == 0)); then
  printf '%s    Both OTPs were accepted and delivered (exit code 0).%s\n' "$green" "$reset"
  cat <<EOF

Next steps:
  - build/release/tools/otpd-smpp --help   every option, and the exit codes
  - docs/smpp-tool.md                      checking a real carrier bind (TLS, receipts, ids)
  - bash tools/run-tests.sh                build and run the whole test suite
EOF
else
  printf '%s    Something failed (exit codes: 1 refused/undelivered, 2 usage, 3 bind or timeout).%s\n' \
    "$red" "$reset"
  printf '    SMSC stand-in log:\n'
  sed 's/^/      /' "$work_dir/smsc.log" || true
fi
exit "$status"
