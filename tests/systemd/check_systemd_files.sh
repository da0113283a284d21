#!/bin/sh
# Checks the files of systemd/ with systemd's own tools (registered by CMakeLists.txt here).
#
#   check_systemd_files.sh verify   UNIT STAND_IN   systemd-analyze verify, no warning allowed
#   check_systemd_files.sh security UNIT MAX        overall exposure must be <= MAX
#   check_systemd_files.sh sysusers FILE            systemd-sysusers parses it, creates otpd
#   check_systemd_files.sh has UNIT LINE...         each LINE is in the unit, as written
#
# Exit 0: pass, 1: fail, 77: the tool is not installed (ctest reports the test as skipped).
set -u

mode=$1
file=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 is not installed"; exit 77; }
}

case "$mode" in
verify)
  need systemd-analyze
  stand_in=$3
  # verify checks that ExecStart= names an executable; /usr/bin/otpd exists only once the
  # package is installed, so a copy of the unit (same name: verify derives the unit's name
  # from the file's) runs STAND_IN instead. Nothing else is changed.
  sed "s#/usr/bin/otpd#${stand_in}#g" "$file" >"$tmp/otpd.service" || exit 1
  if grep -q /usr/bin/otpd "$tmp/otpd.service" || ! grep -q "^ExecStart=${stand_in} " "$tmp/otpd.service"; then
    echo "FAIL: could not point ExecStart= at ${stand_in}"
    exit 1
  fi
  # --man=no: the man pages of Documentation= come with the Debian package.
  # verify exits 0 on an unknown key or a value it cannot parse (it logs "ignoring" and goes
  # on), so any output at all is a failure.
  out=$(systemd-analyze verify --man=no "$tmp/otpd.service" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify exited $rc:"
    echo "$out"
    exit 1
  fi
  echo "OK: systemd-analyze verify reports nothing"
  ;;
security)
  need systemd-analyze
  max=$3
  out=$(systemd-analyze security --offline=true --no-pager "$file" 2>&1)
  rc=$?
  # "→ Overall exposure level for otpd.service: 1.1 OK 🙂"
  level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
  if [ -z "$level" ]; then
    echo "FAIL: no overall exposure level in the output of systemd-analyze security (exit $rc):"
    echo "$out"
    exit 1
  fi
  if awk -v l="$level" -v m="$max" 'BEGIN { exit !(l + 0 > m + 0) }'; then
    echo "FAIL: exposure $level is above $max; the items that count against it:"
    echo "$out"
    exit 1
  fi
  echo "OK: exposure $level <= $max"
  ;;
sysusers)
  need systemd-sysusers
  # --root makes it read and (not, with --dry-run) write an empty scratch root: the host's
  # users are left alone. The file must be given by absolute path.
  case "$file" in /*) ;; *) file="$PWD/$file" ;; esac
  out=$(systemd-sysusers --dry-run --root="$tmp" "$file" 2>&1)
  rc=$?
  # A line it cannot parse is logged and skipped, so check what it would do as well.
  if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -q "^Creating user 'otpd' (otpd OTP gateway)" ||
     printf '%s\n' "$out" | grep -Eqi 'ignoring|error|invalid|unknown'; then
    echo "FAIL: systemd-sysusers --dry-run exited $rc:"
    echo "$out"
    exit 1
  fi
  echo "OK: $out"
  ;;
has)
  # Directives that the exposure score does not weigh (or weighs little) but that the unit
  # must keep: each one exactly as written, on a line of its own.
  shift 2
  missing=0
  for line in "$@"; do
    if ! grep -qxF -- "$line" "$file"; then
      echo "FAIL: no line '$line' in $file"
      missing=1
    fi
  done
  [ "$missing" -eq 0 ] || exit 1
  echo "OK: $# directives present"
  ;;
*)
  echo "usage: $0 verify UNIT STAND_IN | security UNIT MAX | sysusers FILE | has UNIT LINE..."
  exit 1
  ;;
esac
