#!/usr/bin/env bash
# Installs what otpd's build and tests need on Debian 12, then the test SMSC's npm packages.
# Idempotent and quick when everything is already there: apt runs only for missing packages.
# Run as root (or with sudo available).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libssl-dev libyaml-cpp-dev libsqlite3-dev
  libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format ca-certificates
  libespeak-ng-dev espeak-ng-data
  baresip-core kamailio sox sip-tester
  dpkg-dev man-db sqlite3
  postgresql-15 libpq-dev
  gdb
  clang-14 libclang-rt-14-dev llvm-14
)
# A node already on PATH (e.g. a newer one from another source) must not be replaced by
# Debian's nodejs.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: run as root" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: Debian packages already installed"
fi

# The test SMSC (node-smpp), exactly as locked. Skipped when node_modules already matches
# package-lock.json.
smsc_dir="$repo_root/tests/peers/smsc"
stamp="$smsc_dir/node_modules/.otpd-lock.sha256"
lock_sum="$(sha256sum "$smsc_dir/package-lock.json" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$lock_sum" && -d "$smsc_dir/node_modules/smpp" ]]; then
  echo "install-deps: tests/peers/smsc/node_modules up to date"
else
  echo "install-deps: npm ci in tests/peers/smsc"
  (cd "$smsc_dir" && npm ci --no-audit --no-fund)
  echo "$lock_sum" >"$stamp"
fi
