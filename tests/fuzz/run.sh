#!/bin/sh
# Run each libFuzzer binary for FUZZ_SECONDS (or the number in
# tests/fuzz/<name>.seconds, when present) on its seed corpus
# (tests/fuzz/corpus/<name>/ plus any seed directories listed in
# tests/fuzz/<name>.seeds).  Counts one pass or failure per target.
set -u
secs=${FUZZ_SECONDS:-20}
passed=0
failed=0
mkdir -p tests/out
for bin in "$@"; do
	name=$(basename "$bin")
	work=tests/out/corpus-$name
	rm -rf "$work"
	mkdir -p "$work"
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	if [ -f "tests/fuzz/$name.seeds" ]; then
		# shellcheck disable=SC2013 # words, not lines: the file lists directories, space or newline apart
		for d in $(cat "tests/fuzz/$name.seeds"); do
			[ -e "$d" ] && seeds="$seeds $d"
		done
	fi
	t=$secs
	if [ -z "${FUZZ_SECONDS_ALL:-}" ] && [ -f "tests/fuzz/$name.seconds" ]; then
		t=$(cat "tests/fuzz/$name.seconds")
	fi
	log=tests/out/$name.log
	# shellcheck disable=SC2086
	if ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$t" -rss_limit_mb=2048 \
		-max_len=65536 -timeout=10 -artifact_prefix=tests/out/ "$work" $seeds >"$log" 2>&1; then
		runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1)
		echo "ok   fuzz $name (${runs:-ran})"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz $name (see $log)"
		grep -A 20 'ERROR:' "$log" | head -n 40
		failed=$((failed + 1))
	fi
done
[ -n "${TEST_TOTALS:-}" ] && echo "$passed $failed" >>"$TEST_TOTALS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
