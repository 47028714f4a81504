#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS]: build the libFuzzer drivers with clang
# (ASan + UBSan) in a scratch copy of the tree and run each for SECONDS
# (default 20) over its seed corpus. Prints "fuzz NAME: ok" or the crash,
# and exits non-zero when any driver finds a crash.
set -euo pipefail
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cw-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A copy: the source tree may hold an in-tree build, and configure
# refuses out-of-tree builds then.
tar -C "$top" --exclude=./.git --exclude=./tests/out --exclude=node_modules \
    -cf - . | tar -C "$work" -xf -
cd "$work"
[ -f Makefile ] && make -s distclean >/dev/null 2>&1 || true
autoreconf -fi >/dev/null 2>&1
CC=clang ./configure -q --enable-fuzzing >/dev/null
make -s -j2 tests/fuzz/fuzz_json tests/fuzz/fuzz_conf tests/fuzz/fuzz_http \
    tests/fuzz/fuzz_ocsp tests/fuzz/fuzz_csr >/dev/null
rc=0
mkdir -p "$top/tests/out/fuzz"
for name in json conf http ocsp csr; do
    corpus=$(mktemp -d "$work/corpus-$name.XXXX")
    cp "$top/tests/fuzz/corpus/$name"/* "$corpus/"
    log="$top/tests/out/fuzz/fuzz_$name.log"
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
       "./tests/fuzz/fuzz_$name" -max_total_time="$secs" -max_len=8192 \
       -rss_limit_mb=1024 -artifact_prefix="$top/tests/out/fuzz/$name-" \
       "$corpus" >"$log" 2>&1; then
        echo "fuzz $name: ok ($(grep -c '^#' "$log" || true) status lines)"
    else
        echo "fuzz $name: FAILED (see $log)"
        tail -n 30 "$log"
        rc=1
    fi
done
exit $rc
