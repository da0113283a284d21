#!/bin/sh
# Builds otpd's Debian package from a build tree and checks it (registered by CMakeLists.txt
# here as packaging_deb):
#
#   check_deb.sh CPACK BUILD_DIR SOURCE_DIR VERSION
#
# cpack writes into a scratch directory of its own (-B), so that two build trees (release and
# asan) can run this at the same time; nothing is written to the build tree or installed on the
# host. Then: dpkg-deb --info (control fields, maintainer scripts, conffiles), --contents (the
# file list, owners, modes), dpkg -x into a scratch root, the packaged otpd --version and
# otpd-smpp --help, systemd-analyze verify on the packaged unit (ExecStart= pointed at the
# packaged binary), systemd-sysusers --dry-run on the sysusers file, and groff -ww on each man
# page.
#
# Exit 0: pass, 1: fail, 77: a tool is missing (ctest reports the test as skipped).
set -u

cpack=$1
build=$2
src=$3
version=$4

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 is not installed"; exit 77; }
}
need dpkg-deb
need dpkg-shlibdeps   # cpack's CPACK_DEBIAN_PACKAGE_SHLIBDEPS
need groff
need man               # systemd-analyze verify --man=yes
need gzip
need systemd-analyze
need systemd-sysusers
need timeout

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otpd-packaging.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# --- Build ---------------------------------------------------------------------------------
for f in "$build/daemon/otpd" "$build/tools/otpd-smpp" "$build/tools/otpctl" "$build/CPackConfig.cmake"; do
  if [ ! -e "$f" ]; then
    echo "FAIL: $f is missing: build the default target first"
    exit 1
  fi
done
if ! timeout 240 "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" \
  >"$tmp/cpack.log" 2>&1; then
  echo "FAIL: cpack -G DEB:"
  cat "$tmp/cpack.log"
  exit 1
fi
deb="$tmp/out/otpd_${version}_amd64.deb"
if [ ! -f "$deb" ]; then
  echo "FAIL: no $(basename "$deb"); cpack made:"
  ls -l "$tmp/out"
  cat "$tmp/cpack.log"
  exit 1
fi
echo "OK: built $(basename "$deb") ($(wc -c <"$deb") bytes)"

# --- Control -------------------------------------------------------------------------------
info=$(dpkg-deb --info "$deb") || { echo "FAIL: dpkg-deb --info"; exit 1; }
field() {
  dpkg-deb --field "$deb" "$1"
}
[ "$(field Package)" = otpd ] || fail "Package: '$(field Package)', expected otpd"
[ "$(field Version)" = "$version" ] || fail "Version: '$(field Version)', expected $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: '$(field Architecture)'"
[ "$(field Section)" = net ] || fail "Section: '$(field Section)', expected net"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
description=$(field Description)
[ "$(printf '%s\n' "$description" | wc -l)" -ge 3 ] || fail "no long Description: $description"
depends=$(field Depends)
# dpkg-shlibdeps ran: the C library and the libraries otpd links are there with versions.
for lib in libc6 libstdc++6 libsqlite3-0 libssl3 libyaml-cpp0.7 libutf8proc2 libespeak-ng1 \
  libboost-json1.81.0; do
  printf '%s\n' "$depends" | tr ',' '\n' | sed 's/^ *//' |
    awk -v want="$lib (>= " 'index($0, want) == 1 { found = 1 } END { exit !found }' ||
    fail "Depends lacks a versioned $lib: $depends"
done
printf '%s\n' "$depends" | grep -q 'systemd' || fail "Depends lacks systemd (sysusers): $depends"
# Maintainer scripts, executable ("*" in --info's member list), and the conffile.
for script in postinst prerm postrm; do
  printf '%s\n' "$info" | grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\* +$script +#!/bin/sh" ||
    fail "no executable $script in the control archive"
done
mkdir "$tmp/control"
dpkg-deb --control "$deb" "$tmp/control" || fail "dpkg-deb --control"
[ "$(cat "$tmp/control/conffiles" 2>/dev/null)" = /etc/otpd/otpd.yaml.example ] ||
  fail "conffiles should list /etc/otpd/otpd.yaml.example only"
for script in postinst prerm postrm; do
  sh -n "$tmp/control/$script" || fail "$script: syntax error"
done
grep -q 'systemd-sysusers.* otpd.conf' "$tmp/control/postinst" || fail "postinst: no systemd-sysusers otpd.conf"
if grep -Eq 'systemctl +(enable|start|restart)|deb-systemd-invoke' "$tmp/control/postinst"; then
  fail "postinst enables or starts the service"
fi

# --- Contents ------------------------------------------------------------------------------
dpkg-deb --contents "$deb" >"$tmp/contents" || { echo "FAIL: dpkg-deb --contents"; exit 1; }
# "-rw-r--r-- root/root  7886 2026-11-26 07:55 ./usr/lib/systemd/system/otpd.service"
awk '{ print $1, $2, $6 }' "$tmp/contents" >"$tmp/list"
expect() {  # MODE PATH
  grep -Fxq -e "$1 root/root .$2" "$tmp/list" || fail "not in the package as $1 root/root: $2"
}
expect -rwxr-xr-x /usr/bin/otpd
expect -rwxr-xr-x /usr/bin/otpd-smpp
expect -rwxr-xr-x /usr/bin/otpctl
expect -rw-r--r-- /usr/lib/systemd/system/otpd.service
expect -rw-r--r-- /usr/lib/sysusers.d/otpd.conf
expect -rw-r--r-- /etc/otpd/otpd.yaml.example
expect -rw-r--r-- /usr/share/doc/otpd/README.md
expect -rw-r--r-- /usr/share/doc/otpd/copyright
expect -rw-r--r-- /usr/share/doc/otpd/openapi.yaml
for md in "$src"/docs/*.md; do
  expect -rw-r--r-- "/usr/share/doc/otpd/$(basename "$md")"
done
expect -rw-r--r-- /usr/share/man/man8/otpd.8.gz
expect -rw-r--r-- /usr/share/man/man5/otpd.yaml.5.gz
expect -rw-r--r-- /usr/share/man/man1/otpd-smpp.1.gz
expect -rw-r--r-- /usr/share/man/man1/otpctl.1.gz
# The live configuration is the operator's: the package ships the example only.
if grep -q ' \./etc/otpd/otpd\.yaml$' "$tmp/list"; then
  fail "the package ships /etc/otpd/otpd.yaml"
fi
# Nothing else: every file under one of these places, owned by root.
awk '$1 !~ /^d/ { print $3 }' "$tmp/list" |
  grep -Ev '^\./(usr/bin/(otpd|otpd-smpp|otpctl)|usr/lib/systemd/system/otpd\.service|usr/lib/sysusers\.d/otpd\.conf|etc/otpd/otpd\.yaml\.example|usr/share/doc/otpd/[^/]+|usr/share/man/man[158]/[^/]+\.[158]\.gz)$' \
    >"$tmp/unexpected"
if [ -s "$tmp/unexpected" ]; then
  fail "unexpected files in the package: $(tr '\n' ' ' <"$tmp/unexpected")"
fi
awk '$2 != "root/root"' "$tmp/list" >"$tmp/owners"
if [ -s "$tmp/owners" ]; then
  fail "not owned by root: $(cat "$tmp/owners")"
fi
echo "OK: dpkg-deb --info and --contents checked ($(grep -c '^-' "$tmp/list") files)"

# --- Unpacked ------------------------------------------------------------------------------
root="$tmp/root"
mkdir "$root"
dpkg -x "$deb" "$root" || { echo "FAIL: dpkg -x"; exit 1; }
for pair in systemd/otpd.service:usr/lib/systemd/system/otpd.service \
  systemd/otpd.sysusers:usr/lib/sysusers.d/otpd.conf \
  config/otpd.example.yaml:etc/otpd/otpd.yaml.example; do
  cmp -s "$src/${pair%%:*}" "$root/${pair#*:}" || fail "/${pair#*:} differs from ${pair%%:*}"
done

out=$(timeout 30 "$root/usr/bin/otpd" --version 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || [ "$out" != "otpd $version" ]; then
  fail "packaged otpd --version exited $rc, printed: $out"
fi
out=$(timeout 30 "$root/usr/bin/otpd-smpp" --help 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^usage: otpd-smpp'; then
  fail "packaged otpd-smpp --help exited $rc, printed: $out"
fi

# The packaged unit, ExecStart= pointed at the packaged binary (tests/systemd/ checks the
# source unit with a stand-in; this checks what the package installs, with the real binary).
# --man=yes with MANPATH at the unpacked pages: the man: pages of Documentation= must be
# among them. verify exits 0 on a key it ignores, so any output is a failure.
mkdir "$tmp/unit"
sed "s#^ExecStart=/usr/bin/otpd #ExecStart=$root/usr/bin/otpd #" \
  "$root/usr/lib/systemd/system/otpd.service" >"$tmp/unit/otpd.service"
grep -q "^ExecStart=$root/usr/bin/otpd --config /etc/otpd/otpd.yaml\$" "$tmp/unit/otpd.service" ||
  fail "could not point the packaged unit's ExecStart= at the packaged otpd"
out=$(MANPATH="$root/usr/share/man" timeout 60 systemd-analyze verify --man=yes \
  "$tmp/unit/otpd.service" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  fail "systemd-analyze verify on the packaged unit (exit $rc): $out"
fi
out=$(sh "$src/tests/systemd/check_systemd_files.sh" sysusers \
  "$root/usr/lib/sysusers.d/otpd.conf" 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "systemd-sysusers on the packaged sysusers file (exit $rc): $out"

# Maintainer scripts, run against the scratch root as dpkg --root would (DPKG_ROOT: the
# scripts leave systemctl alone and systemd-sysusers works on the root): postinst creates the
# otpd user from the packaged sysusers file; a purge keeps /var/lib/otpd unless asked.
if ! out=$(DPKG_ROOT="$root" timeout 60 sh "$tmp/control/postinst" configure 2>&1); then
  fail "postinst configure: $out"
fi
grep -q '^otpd:x:[0-9]*:[0-9]*:otpd OTP gateway:/var/lib/otpd:' "$root/etc/passwd" 2>/dev/null ||
  fail "postinst did not create the otpd user in the scratch root: $out"
mkdir -p "$root/var/lib/otpd"
touch "$root/var/lib/otpd/otpd.db"
for step in "prerm remove" "postrm remove" "postrm purge"; do
  # shellcheck disable=SC2086 # the script's name and its argument
  if ! out=$(DPKG_ROOT="$root" OTPD_PURGE_STATE='' timeout 60 sh "$tmp/control/"$step 2>&1); then
    fail "$step: $out"
  fi
done
[ -f "$root/var/lib/otpd/otpd.db" ] || fail "postrm purge deleted /var/lib/otpd without being asked"

# Man pages: gzip -n (no name, no time stamp), and groff renders them without a warning.
for gz in "$root"/usr/share/man/man*/*.gz; do
  page=${gz#"$root"}
  # Header: 1f 8b 08 FLG MTIME(4): FLG 00 (no name), MTIME 0.
  header=$(od -An -tx1 -N8 "$gz" | tr -d ' \n')
  [ "$header" = 1f8b080000000000 ] || fail "$page: not gzip -n (header $header)"
  warnings=$(gzip -dc "$gz" | timeout 30 groff -man -Tutf8 -ww -z 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$warnings" ]; then
    fail "$page: groff -ww (exit $rc): $warnings"
  fi
  # And as man shows it (its own preprocessing and line length).
  warnings=$(MANWIDTH=80 timeout 30 man --warnings -l "$gz" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$warnings" ]; then
    fail "$page: man --warnings -l (exit $rc): $warnings"
  fi
done
echo "OK: unpacked: otpd --version, otpd-smpp --help, unit, sysusers, maintainer scripts, man pages"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "OK: $(basename "$deb")"
exit 0
