#!/usr/bin/env bash
# Runs one libFuzzer target for longer than the smoke run (ctest --preset fuzz):
#
#   tools/fuzz.sh TARGET [SECONDS]      e.g. tools/fuzz.sh sip_message 600
#   tools/fuzz.sh --list
#
# TARGET is a name under tests/fuzz/corpus/ (smpp_pdu, sip_message, config, ...). Builds the
# `fuzz` preset's fuzz_TARGET (clang-14, ASan+UBSan), then fuzzes on a working corpus in
# build/fuzz/work/TARGET seeded from tests/fuzz/corpus/TARGET (the source tree is not written;
# the working corpus grows from run to run). A crash is saved under build/fuzz/artifacts/ and
# the script exits non-zero. Extra libFuzzer flags may follow after `--`
# (e.g. -- -jobs=2 -workers=2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${1:-}" == --list || $# -lt 1 ]]; then
  ls tests/fuzz/corpus
  [[ $# -ge 1 ]] && exit 0
  echo "usage: tools/fuzz.sh TARGET [SECONDS] [-- libFuzzer flags]" >&2
  exit 2
fi
target="$1"
shift
seconds=600
if [[ $# -gt 0 && "$1" != -- ]]; then
  seconds="$1"
  shift
fi
[[ "${1:-}" == -- ]] && shift
if [[ ! -d "tests/fuzz/corpus/$target" ]]; then
  echo "fuzz.sh: no target '$target' (tools/fuzz.sh --list)" >&2
  exit 2
fi

if ! command -v clang++-14 >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang-14 (Debian)" >&2
  sudo=()
  [[ "$(id -u)" -ne 0 ]] && sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    clang-14 libclang-rt-14-dev llvm-14
fi
[[ -f build/fuzz/CMakeCache.txt ]] || cmake --preset fuzz
cmake --build build/fuzz -j "${JOBS:-2}" --target "fuzz_$target"

work="build/fuzz/work/$target"
artifacts="build/fuzz/artifacts"
mkdir -p "$work" "$artifacts"
cp -R "tests/fuzz/corpus/$target/." "$work/"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "fuzz.sh: $target for ${seconds}s, corpus $work"
exec "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$@" "$work"
