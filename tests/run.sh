#!/usr/bin/env bash
# tests/run.sh: install what is missing, build, run every test layer and end
# with exactly one line "N passed, N failed" (", N skipped" when any were).
#
#   layers: unit   make check (C unit tests, the check library), one count per check test
#           integration   pytest over tests/integration (real MariaDB, certward, web servers)
#           fuzz          each libFuzzer driver run briefly (clang, ASan+UBSan), one test each
#           distcheck     make distcheck, counted as one test
#           frontend      the web app: npm ci, typecheck, build and size budget (one test
#                         each), every vitest test, every browser test (Chromium against
#                         the real stack, frontend/e2e/)
#
# Logs go to tests/out/. Exit status is non-zero when anything failed.
# Environment: PYTHON (default /usr/bin/python3, which has pytest),
# CERTWARD_TEST_TIMEOUT (seconds per integration test, default 300).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=tests/out
rm -rf "$out"
mkdir -p "$out"
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1

passed=0
failed=0
skipped=0
add() {
    passed=$((passed + $1))
    failed=$((failed + $2))
    skipped=$((skipped + $3))
}
finish() {
    local line="$passed passed, $failed failed"
    if [ "$skipped" -gt 0 ]; then line="$line, $skipped skipped"; fi
    echo "$line"
    if [ "$failed" -gt 0 ]; then exit 1; fi
    exit 0
}

# ---- packages ---------------------------------------------------------------
packages=(build-essential autoconf automake libtool pkg-config libfcgi-dev
    libmariadb-dev mariadb-server mariadb-client libjansson-dev libjwt-dev
    libsodium-dev libargon2-dev libssl-dev libcurl4-openssl-dev nginx lighttpd
    lighttpd-mod-openssl apache2 libapache2-mod-fcgid spawn-fcgi check wrk
    python3-pytest python3-requests python3-cryptography python3-yaml gnutls-bin
    valgrind clang libclang-rt-14-dev chromium)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "[packages] installing: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
    if ! { $sudo apt-get update -q &&
           DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
               --no-install-recommends "${missing[@]}"; } >"$out/apt.log" 2>&1; then
        echo "[packages] apt-get failed (log: $out/apt.log)"
    fi
fi

# ---- build ------------------------------------------------------------------
echo "[build] autoreconf, configure --enable-werror, make"
if ! { autoreconf -fi && ./configure --enable-werror && make -j2; } >"$out/build.log" 2>&1; then
    echo "[build] FAILED (log: $out/build.log)"
    tail -n 20 "$out/build.log" | sed 's/^/    /'
    add 0 1 0
    finish
fi

# ---- (a) unit tests -----------------------------------------------------------
# Count every check test from the "Checks: N, Failures: F, Errors: E" lines of
# each test's log; a test program without that line (it crashed, or is not a
# check program) counts once by its automake result.
echo "[unit] make check"
find . -path ./tests/out -prune -o -path './certward-*' -prune -o \
    \( -name '*.trs' -o -name 'test-suite.log' \) -print0 | xargs -0 rm -f
unit_rc=0
make -j2 check >"$out/unit.log" 2>&1 || unit_rc=$?
read -r up uf us < <("$PYTHON" - "$unit_rc" <<'EOF'
import pathlib, re, sys

unit_rc = int(sys.argv[1])
p = f = s = 0
names = []
trs_files = [t for t in pathlib.Path(".").rglob("*.trs")
             if not t.parts[0].startswith("certward-") and t.parts[:2] != ("tests", "out")]
for trs in sorted(trs_files):
    results = re.findall(r"^:test-result: (\S+)", trs.read_text(errors="replace"), re.M)
    result = results[0] if results else "ERROR"
    log = trs.with_suffix(".log")
    text = log.read_text(errors="replace") if log.exists() else ""
    checks = re.findall(r"Checks: (\d+), Failures: (\d+), Errors: (\d+)", text)
    if checks:
        n = sum(int(c[0]) for c in checks)
        bad = sum(int(c[1]) + int(c[2]) for c in checks)
        p += n - bad
        f += bad
        if bad == 0 and result in ("FAIL", "ERROR", "XPASS"):
            f += 1   # all checks passed but the program failed (crash at exit, leak checker)
            names.append(str(log))
        elif bad:
            names.append(str(log))
    elif result in ("PASS", "XFAIL"):
        p += 1
    elif result == "SKIP":
        s += 1
    else:
        f += 1
        names.append(str(log))
if not trs_files and unit_rc != 0:
    f += 1   # the unit tests did not even build
elif unit_rc != 0 and f == 0:
    f += 1   # make check failed for a reason none of the results shows
for n in names:
    print(f"    failed: {n}", file=sys.stderr)
print(p, f, s)
EOF
)
up=${up:-0} uf=${uf:-1} us=${us:-0}
echo "[unit] passed=$up failed=$uf skipped=$us (log: $out/unit.log)"
add "$up" "$uf" "$us"

# ---- (b) integration tests ------------------------------------------------------
echo "[integration] pytest tests/integration"
CERTWARD_BIN="$repo/certward" timeout 5400 "$PYTHON" -m pytest -p no:cacheprovider -q -rfE \
    --junitxml="$out/integration.xml" tests/integration >"$out/integration.log" 2>&1 || true
read -r i_pass i_fail i_skip < <("$PYTHON" - "$out/integration.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 1, 0)   # pytest did not get as far as writing its report
    sys.exit(0)
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failures = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skips = sum(int(s.get("skipped", 0)) for s in suites)
if tests == 0:
    failures = 1     # nothing collected is a failure, not a pass
print(max(tests - failures - skips, 0), failures, skips)
EOF
)
grep -E '^(FAILED|ERROR) ' "$out/integration.log" | sed 's/^/    /' | cut -c1-200 || true
i_pass=${i_pass:-0} i_fail=${i_fail:-1} i_skip=${i_skip:-0}
echo "[integration] passed=$i_pass failed=$i_fail skipped=$i_skip (log: $out/integration.log)"
add "$i_pass" "$i_fail" "$i_skip"

# ---- (c) fuzzing ------------------------------------------------------------------
echo "[fuzz] tests/fuzz/run.sh ${CERTWARD_FUZZ_SECONDS:-20}"
f_pass=0 f_fail=0
while read -r line; do
    case "$line" in
        "fuzz "*": ok"*) f_pass=$((f_pass + 1)) ;;
        "fuzz "*": FAILED"*) f_fail=$((f_fail + 1)); echo "    $line" ;;
    esac
done < <(bash tests/fuzz/run.sh "${CERTWARD_FUZZ_SECONDS:-20}" 2>&1 | tee "$out/fuzz.log")
if [ $((f_pass + f_fail)) -eq 0 ]; then
    f_fail=1   # the drivers did not build
    echo "    fuzz drivers did not build (log: $out/fuzz.log)"
fi
echo "[fuzz] passed=$f_pass failed=$f_fail (log: $out/fuzz.log)"
add "$f_pass" "$f_fail" 0

# ---- (d) distcheck --------------------------------------------------------------
echo "[distcheck] make distcheck"
find tests -name __pycache__ -prune -exec rm -rf {} +
if make distcheck >"$out/distcheck.log" 2>&1; then
    echo "[distcheck] passed"
    add 1 0 0
else
    echo "[distcheck] FAILED (log: $out/distcheck.log)"
    add 0 1 0
fi

# ---- (e) frontend ---------------------------------------------------------------
# npm ci, typecheck, lint, build and the initial-JS budget count one test each;
# vitest counts every test from its JSON report; the browser tests count
# every test from frontend/e2e/run.mjs's "e2e: N passed, N failed" line.
# A step that fails makes the steps that need it fail too (never a skip).
echo "[frontend] npm ci, typecheck, lint, vitest, build, size, browser tests"
fe_pass=0 fe_fail=0
fe_step() {   # name log command...: one test
    local name=$1 log=$2
    shift 2
    if (cd frontend && "$@") >"$out/$log" 2>&1; then
        fe_pass=$((fe_pass + 1))
        return 0
    fi
    fe_fail=$((fe_fail + 1))
    echo "    failed: $name (log: $out/$log)"
    tail -n 15 "$out/$log" | sed 's/^/        /'
    return 1
}
if ! command -v npm >/dev/null 2>&1; then
    echo "    failed: npm is not installed"
    fe_fail=$((fe_fail + 5))   # npm ci, typecheck, lint, vitest, build
elif fe_step "npm ci" frontend-npm-ci.log npm ci --no-audit --no-fund; then
    fe_step "typecheck" frontend-typecheck.log npm run typecheck || true
    fe_step "lint" frontend-lint.log npm run lint || true
    rm -f "$out/vitest.json"
    (cd frontend && npx vitest run --reporter=default --reporter=json \
        --outputFile.json="$repo/$out/vitest.json") >"$out/frontend-vitest.log" 2>&1 || true
    read -r v_pass v_fail < <("$PYTHON" - "$out/vitest.json" <<'EOF'
import json, sys

try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0, 1)      # vitest did not get as far as writing its report
    sys.exit(0)
passed = doc.get("numPassedTests", 0)
failed = (doc.get("numFailedTests", 0) + doc.get("numPendingTests", 0)
          + doc.get("numTodoTests", 0))
failed += sum(1 for r in doc.get("testResults", []) if r.get("status") == "failed"
              and not r.get("assertionResults"))   # a file that did not load
if passed + failed == 0:
    failed = 1       # nothing ran is a failure, not a pass
print(passed, failed)
EOF
)
    v_pass=${v_pass:-0} v_fail=${v_fail:-1}
    echo "    vitest: passed=$v_pass failed=$v_fail (log: $out/frontend-vitest.log)"
    fe_pass=$((fe_pass + v_pass))
    fe_fail=$((fe_fail + v_fail))
    if fe_step "build" frontend-build.log npm run build; then
        fe_step "size budget" frontend-size.log npm run size || true
        rm -rf "$out/screenshots"
        CERTWARD_BIN="$repo/certward" E2E_OUT="$repo/$out" PYTHON="$PYTHON" \
            timeout 900 node frontend/e2e/run.mjs >"$out/e2e.log" 2>&1 || true
        e2e_line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' "$out/e2e.log" | tail -n 1 || true)
        if [ -n "$e2e_line" ]; then
            read -r e_pass e_fail < <(echo "$e2e_line" | sed -E 's/^e2e: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/')
        else
            e_pass=0 e_fail=1   # the runner died before its summary
        fi
        # the spec reporter repeats the failures at the end: list each once
        grep -E '^✖ ' "$out/e2e.log" | grep -v '^✖ failing tests:' | awk '!seen[$0]++' |
            sed 's/^/    /' | cut -c1-200 || true
        echo "    browser tests: passed=$e_pass failed=$e_fail (log: $out/e2e.log, screenshots: $out/screenshots/)"
        fe_pass=$((fe_pass + e_pass))
        fe_fail=$((fe_fail + e_fail))
    else
        fe_fail=$((fe_fail + 2))   # neither the size budget nor the browser tests can run
    fi
else
    fe_fail=$((fe_fail + 4))       # typecheck, lint, vitest and build cannot run without node_modules
fi
echo "[frontend] passed=$fe_pass failed=$fe_fail"
add "$fe_pass" "$fe_fail" 0

finish
