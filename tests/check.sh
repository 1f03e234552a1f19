#!/bin/sh
# make check: lint, build and test normally, then under ASan+UBSan, then
# fuzz briefly.  Ends with one line "N passed, N failed" over all of it
# (lint counts as one).  JOBS: parallel make jobs (default 2); BATS_JOBS:
# bats files at once (default 3, below).
set -u
# developer warnings (-Werror and more) for every build below
DEVELOPER=1
export DEVELOPER
JOBS=${JOBS:-2}
# bats files at once: the CLI tests mostly wait (on the emulator's answers,
# its clock, sockets), so three files keep two cores busy; measured on 2
# cores, the normal pass's CLI tests took 4m52s at 3 against about 6m at 2
BATS_JOBS=${BATS_JOBS:-3}
export BATS_JOBS
totals=$(mktemp)
status=0
export TEST_TOTALS="$totals"

start=$(date +%s)
# each step says when it starts, in seconds since make check began
step() { printf '\n== %s (at %ss) ==\n' "$*" "$(($(date +%s) - start))"; }

step "lint"
if make -s lint; then
	echo "ok   lint"
	echo "1 0" >>"$totals"
else
	echo "FAIL lint"
	echo "0 1" >>"$totals"
	status=1
fi

step "build (DEVELOPER=1: -Wall -Wextra -Werror and more)"
if make -s -j"$JOBS" all tests-build; then
	step "tests"
	make -s test || status=1
else
	echo "0 1" >>"$totals"
	status=1
fi

step "build with SANITIZE=address,undefined"
if make -s -j"$JOBS" B=build-san BIN=build-san/spotenv SANITIZE=address,undefined "OPT=-O1 -g" all tests-build; then
	step "tests under sanitizers"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -s B=build-san BIN=build-san/spotenv SANITIZE=address,undefined "OPT=-O1 -g" test || status=1
else
	echo "0 1" >>"$totals"
	status=1
fi

step "fuzzing (up to ${FUZZ_SECONDS:-20}s per target)"
if command -v clang >/dev/null 2>&1 && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
	if make -s -j"$JOBS" fuzz; then
		make -s fuzz-run || status=1
	else
		echo "0 1" >>"$totals"
		status=1
	fi
fi

p=0
f=0
while read -r a b; do
	p=$((p + a))
	f=$((f + b))
done <"$totals"
rm -f "$totals"
[ "$f" -ne 0 ] && status=1
echo
echo "make check took $(($(date +%s) - start))s"
echo "$p passed, $f failed"
exit $status
