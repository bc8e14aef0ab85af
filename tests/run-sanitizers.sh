#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer
# included), in one command: configures a Debug build with -DAV_SANITIZE=ON in its own
# directory (default: build-asan at the top of the source tree), builds it and runs ctest
# with options that turn every sanitizer report into a failed test. Unit tests abort on the
# first report; the e2e and out-of-tree tests also fail on a report in the server's log.
#
#   tests/run-sanitizers.sh [--build-dir DIR] [-j N] [ctest arguments...]
#   e.g. tests/run-sanitizers.sh -R 'loader|e2e_c2s'
#
# Your own ASAN_OPTIONS / UBSAN_OPTIONS are appended (later entries win).
# Deliberately not run by .ci/run: it takes several times as long as the normal suite.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build-asan
JOBS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD=$2; shift 2 ;;
    -j) JOBS=$2; shift 2 ;;
    -j*) JOBS=${1#-j}; shift ;;
    *) break ;;
  esac
done

gen=()
if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
cmake -S "$SRC" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Debug -DAV_SANITIZE=ON -DAV_BUILD_TESTS=ON
cmake --build "$BUILD" -j "$JOBS"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
cd "$BUILD"
exec ctest --output-on-failure -j "$JOBS" "$@"
