#!/usr/bin/env bash
# The one test command: installs dependencies, builds the release and asan presets, runs both
# test suites (ctest -j2; per-test timeouts are set in tests/CMakeLists.txt) and exits non-zero
# when any step fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/install-deps.sh

jobs=2
failed=()
summaries=()
total_passed=0
total_failed=0

for preset in release asan; do
  echo "=== $preset: configure and build"
  if ! cmake --preset "$preset" || ! cmake --build --preset "$preset" -j "$jobs"; then
    failed+=("$preset build")
    continue
  fi
  echo "=== $preset: test"
  log="build/$preset/run-tests.log"
  status=0
  ctest --preset "$preset" -j "$jobs" --no-tests=error 2>&1 | tee "$log" || status=$?
  if ((status != 0)); then
    failed+=("$preset tests")
  fi
  # "100% tests passed, 0 tests failed out of 42"
  if line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)"; then
    summaries+=("$preset: $line")
    failed_n="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total_n="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    total_failed=$((total_failed + failed_n))
    total_passed=$((total_passed + total_n - failed_n))
  else
    summaries+=("$preset: no ctest summary")
  fi
done

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
