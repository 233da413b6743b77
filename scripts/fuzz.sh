#!/usr/bin/env bash
# Builds the libFuzzer target for the OCPP-J frame parser and validator with clang
# (ASan + UBSan, its own build directory holding only that target) and runs it for a
# bounded time from the seed corpus in tests/fuzz/corpus. Exit status non-zero when
# the fuzzer finds a crash, a leak or undefined behaviour (the reproducer is written to
# the work directory it prints).
#
#   scripts/fuzz.sh [SECONDS]     default 60 (CI); run longer with e.g. scripts/fuzz.sh 3600
#
# Environment: GENX_FUZZ_BUILD_DIR (default build-fuzz). For parallel fuzzing run the
# binary by hand: build-fuzz/tests/ocpp_frame_fuzz -jobs=N -workers=N DIR tests/fuzz/corpus. New interesting inputs go to a temporary directory,
# not to the seed corpus; copy the ones worth keeping into tests/fuzz/corpus, and add
# any crash as a unit test in tests/unit/ocpp_frame_test.cpp.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$GENX_ROOT"

seconds="${1:-60}"
build_dir="$(realpath -m "${GENX_FUZZ_BUILD_DIR:-build-fuzz}")"
command -v clang++ >/dev/null || die "clang++ not found (scripts/install-deps.sh --test installs clang)"

if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGENX_FUZZ=ON >&2
fi
cmake --build "$build_dir" -j"${GENX_BUILD_JOBS:-2}" --target ocpp_frame_fuzz >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/genx-fuzz-XXXXXX")"
log "fuzzing ocpp_frame_fuzz for $seconds s (work dir $work)"
cd "$work"
"$build_dir/tests/ocpp_frame_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=8192 -print_final_stats=1 \
  "$work" "$GENX_ROOT/tests/fuzz/corpus"
log "no crash in $seconds s"
rm -rf "$work"
