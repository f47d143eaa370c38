#!/usr/bin/env bash
# Builds wtcpp and runs every check: gcc release build with all test suites,
# an ASan+UBSan build of the unit and vector suites, a clang build, and every
# libFuzzer target for a bounded time. Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
bash scripts/deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "sans-I/O check"
bash scripts/check-sans-io.sh

step "gcc release build + all suites"
[ -d build/release ] || CXX=g++ meson setup build/release -Dbuildtype=release >/dev/null
ninja -C build/release
meson test -C build/release --print-errorlogs --num-processes 2 --no-suite interop

step "interop suite: h3get/h3serve against caddy, quic-go and headless Chromium"
# Real peers from Debian (scripts/deps.sh). A peer that cannot run fails its test.
meson test -C build/release --suite interop --print-errorlogs

step "ASan+UBSan build (gcc) + unit and vectors suites"
[ -d build/asan ] || CXX=g++ meson setup build/asan -Dbuildtype=debug -Doptimization=1 \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbenchmarks=false >/dev/null
ninja -C build/asan test/unit_tests test/vector_tests
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build/asan --suite unit --suite vectors --print-errorlogs --no-rebuild

step "clang build (everything, -Werror) with libFuzzer targets"
[ -d build/fuzz ] || CXX=clang++ meson setup build/fuzz -Dbuildtype=debugoptimized \
  -Dfuzzing=true >/dev/null
ninja -C build/fuzz
mkdir -p build/fuzz/corpus
for f in build/fuzz/fuzz/fuzz_*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  name=$(basename "$f")
  mkdir -p "build/fuzz/corpus/$name"
  seeds=()
  [ -d "fuzz/corpus/${name#fuzz_}" ] && seeds+=("fuzz/corpus/${name#fuzz_}")
  echo "fuzzing $name for ${FUZZ_SECONDS}s"
  "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "build/fuzz/corpus/$name" "${seeds[@]}" \
    >"build/fuzz/$name.log" 2>&1 || { tail -40 "build/fuzz/$name.log"; echo "FUZZ FAILURE in $name"; exit 1; }
  grep -E '^(#[0-9]+\s+DONE|Done)' "build/fuzz/$name.log" | tail -1 || true
done

step "all checks passed"
# Every step above stops the script on failure, so reaching here means all passed.
release_n=$(meson test -C build/release --list 2>/dev/null | grep -c . || true)
asan_n=2
fuzz_n=$(find build/fuzz/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | wc -l)
echo "checks: $((release_n + asan_n + fuzz_n)) passed, 0 failed"
