#!/bin/sh
# make soak: the long versions of the trial runs, which `make check` (and
# so CI) runs short.  A bats file whose comments mention `make soak` reads
# SOAK=1 (or CYCLES, its count of cycles) and raises its counts; this runs
# those files, in parallel (JOBS, default one per CPU but at least 2).
# Environment: SPOTENV (binary), CYCLES (default 50), TESTS_FILTER.
# Ends with "N passed, N failed"; appends "passed failed" to $TEST_TOTALS.
set -u
SPOTENV=${SPOTENV:-$(pwd)/spotenv}
SOAK=1
CYCLES=${CYCLES:-50}
export SPOTENV SOAK CYCLES
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
case $JOBS in '' | *[!0-9]*) JOBS=2 ;; esac
[ "$JOBS" -lt 2 ] && JOBS=2
out=tests/out/soak
mkdir -p "$out"
log=$out/bats.tap

files=$(grep -l 'make soak' tests/cli/*.bats)
if [ -n "${TESTS_FILTER:-}" ]; then
	files=$(echo "$files" | grep -- "$TESTS_FILTER")
fi
if [ -z "$files" ]; then
	echo "soak: no bats file mentions 'make soak'"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "soak: SOAK=1 CYCLES=$CYCLES:" "$(echo "$files" | tr '\n' ' ')"
par=""
if parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
	par="--jobs $JOBS --no-parallelize-within-files"
fi
# shellcheck disable=SC2086 # word lists: options and file names without spaces
bats --tap --timing $par $files >"$log" 2>&1
p=$(grep -a -c '^ok ' "$log")
f=$(grep -a -c '^not ok ' "$log")
total=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
if [ -n "$total" ] && [ $((p + f)) -lt "$total" ]; then
	f=$((total - p)) # bats stopped early
fi
[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
grep -a '^ok \|^not ok ' "$log"
if [ "$f" -ne 0 ]; then
	grep -a -A 15 '^not ok ' "$log" | head -n 80
fi
[ -n "${TEST_TOTALS:-}" ] && echo "$p $f" >>"$TEST_TOTALS"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
