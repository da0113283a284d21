#!/usr/bin/env bash
# One bounded libFuzzer run for ctest: smoke.sh FUZZER CORPUS_DIR ARTIFACT_DIR SECONDS.
# The fuzzer works on a copy of the seed corpus in a temporary directory (new inputs are not
# written to the source tree); a crashing input is kept in ARTIFACT_DIR.
set -euo pipefail
fuzzer="$1" corpus="$2" artifacts="$3" seconds="$4"
work="$(mktemp -d "${TMPDIR:-/tmp}/otpd-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
if [[ -d "$corpus" ]]; then
  cp -R "$corpus/." "$work/"
fi
name="$(basename "$fuzzer")"
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$work"
