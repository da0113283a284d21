#!/usr/bin/env bash
# The one test command: installs dependencies, then four steps, each a CMake configure, build and
# ctest -j2 (per-test timeouts are set in the CMakeLists.txt files):
#   asan         every test, everything built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   release-e2e  what ships, optimised: otpd, otpctl and otpd-smpp driven end to end (the e2e
#                tests), the Debian package, the docs and systemd checks; the benchmarks are
#                built, not run;
#   tsan-store   the store's tests (the only code of otpd that runs threads besides the I/O
#                thread) under ThreadSanitizer;
#   fuzz         every libFuzzer target, OTPD_FUZZ_SMOKE_SECONDS each (clang-14, ASan + UBSan).
# Exits non-zero when any step fails; the summary at the end has one line per step, with its
# build and test times.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/install-deps.sh

jobs=2
failed=()
summaries=()
total_passed=0
total_failed=0

# step CONFIGURE_PRESET BUILD_AND_TEST_PRESET: configure, build and test with those presets.
step() {
  local configure="$1" preset="$2"
  local started=$SECONDS
  echo "=== $preset: configure and build"
  if ! cmake --preset "$configure" || ! cmake --build --preset "$preset" -j "$jobs"; then
    failed+=("$preset build")
    summaries+=("$preset: build failed")
    return
  fi
  local built=$((SECONDS - started))
  echo "=== $preset: test"
  local log="build/$configure/run-tests-$preset.log" status=0
  ctest --preset "$preset" -j "$jobs" --no-tests=error 2>&1 | tee "$log" || status=$?
  if ((status != 0)); then
    failed+=("$preset tests")
  fi
  local times="build $((built / 60))m$((built % 60))s, tests $(((SECONDS - started - built) / 60))m$(((SECONDS - started - built) % 60))s"
  # "100% tests passed, 0 tests failed out of 42"
  local line failed_n total_n
  if line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)"; then
    summaries+=("$preset: $line ($times)")
    failed_n="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total_n="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    total_failed=$((total_failed + failed_n))
    total_passed=$((total_passed + total_n - failed_n))
  else
    summaries+=("$preset: no ctest summary ($times)")
  fi
}

step asan asan
step release release-e2e
step tsan tsan-store
step fuzz fuzz

echo
echo "=== summary"
for s in "${summaries[@]}"; do
  echo "$s"
done
if ((${#failed[@]} > 0)); then
  echo "FAILED: ${failed[*]}"
fi
echo "tests: $total_passed passed, $total_failed failed"
((${#failed[@]} == 0))
