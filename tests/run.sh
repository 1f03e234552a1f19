#!/bin/sh
# Run every test against one build: cmocka unit tests, then the bats CLI
# tests.  Environment: B (object dir, default build), SPOTENV (binary),
# TESTS_FILTER (optional substring to pick test files), BATS_JOBS or JOBS
# (bats files run at once, default the number of CPUs but at least 2; they
# need GNU parallel, else they run one at a time).
# Prints each suite's outcome and ends with "N passed, N failed".
# Appends "passed failed" to $TEST_TOTALS when set.
set -u
B=${B:-build}
SPOTENV=${SPOTENV:-$(pwd)/spotenv}
export SPOTENV
# no test may ask the real metadata host: the credential chain's last
# resort (the CVM role) gets a loopback port that refuses at once
SPOTENV_METADATA_ENDPOINT=${SPOTENV_METADATA_ENDPOINT:-http://127.0.0.1:1}
export SPOTENV_METADATA_ENDPOINT
filter=${TESTS_FILTER:-}
JOBS=${BATS_JOBS:-${JOBS:-$(nproc 2>/dev/null || echo 2)}}
case $JOBS in '' | *[!0-9]*) JOBS=2 ;; esac
[ "$JOBS" -lt 2 ] && JOBS=2
passed=0
failed=0
failed_names=""
out=tests/out/$(basename "$B")
mkdir -p "$out"

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	name=$(basename "$t")
	[ -n "$filter" ] && case "$name" in *"$filter"*) ;; *) continue ;; esac
	log="$out/$name.log"
	"$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or failed outside a test case
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1 # a suite that ran nothing is a failure
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL unit $name ($p passed, $f failed; see $log)"
		grep -a 'FAILED\|ERROR\|Assertion\|runtime error' "$log" | head -n 20
		failed_names="$failed_names $name"
	else
		echo "ok   unit $name ($p passed)"
	fi
done

bats_files=$(ls tests/cli/*.bats 2>/dev/null)
if [ -n "$filter" ]; then
	bats_files=$(echo "$bats_files" | grep -- "$filter")
fi
if [ -n "$bats_files" ]; then
	log=$out/bats.tap
	# Files in parallel, the tests of a file in order: each file has its
	# own emulator (port 0), temporary directories and lock files.
	par=""
	if parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
		par="--jobs $JOBS --no-parallelize-within-files"
	else
		echo "note: no GNU parallel (make deps-test installs it): bats files run one at a time"
	fi
	# shellcheck disable=SC2086 # word lists: options and file names without spaces
	bats --tap $par $bats_files >"$log" 2>&1
	p=$(grep -a -c '^ok ' "$log")
	f=$(grep -a -c '^not ok ' "$log")
	total=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)
	if [ -n "$total" ] && [ $((p + f)) -lt "$total" ]; then
		f=$((total - p)) # bats stopped early
	fi
	[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL cli bats ($p passed, $f failed; see $log)"
		grep -a -A 15 '^not ok ' "$log" | head -n 80
		failed_names="$failed_names bats"
	else
		echo "ok   cli bats ($p passed)"
	fi
fi

[ -n "${TEST_TOTALS:-}" ] && echo "$passed $failed" >>"$TEST_TOTALS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
