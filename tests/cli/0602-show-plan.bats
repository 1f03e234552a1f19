#!/usr/bin/env bats
# spotenv show PLANFILE: a saved plan rendered again, offline, in any format.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 150 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# a saved plan with a launch, a release and a warning
saved_plan() {
	fx_apply "$FX/two.yaml" >/dev/null
	sim_ctl reclaim --count 1 --env jobs >/dev/null
	sim_settle
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	sed 's/capacity: 3/capacity: 2/' "$FX/two.yaml" >"$BATS_TEST_TMPDIR/two.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/two.yaml" -o "$BATS_TEST_TMPDIR/p.json" \
		>"$BATS_TEST_TMPDIR/plan.txt"
	"$SPOTENV" plan "$BATS_TEST_TMPDIR/two.yaml" --format markdown >"$BATS_TEST_TMPDIR/plan.md"
}

@test "show: text, json and markdown of a saved plan match plan's own output" {
	saved_plan
	[[ "$(cat "$BATS_TEST_TMPDIR/plan.txt")" == *"- release "*"excess"* ]]
	[[ "$(cat "$BATS_TEST_TMPDIR/plan.txt")" == *"+ launch 1 x"* ]]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/plan.txt")" = "Plan: 1 to launch, 1 to release, 0 to replace." ]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/plan.txt")" ]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" --format markdown
	[ "$status" -eq 0 ]
	# the same comment, apart from when it was observed
	# shellcheck disable=SC2001 # a regular expression: ${var//x/y} has globs only
	diff <(sed 's/observed [0-9TZ:-]*/observed X/' <<<"$output") \
		<(sed 's/observed [0-9TZ:-]*/observed X/' "$BATS_TEST_TMPDIR/plan.md")
	[[ "$output" == *"sold out"* ]]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" --format json
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/p.json")" ]
}

@test "show: reads the plan from stdin with -" {
	saved_plan
	run --separate-stderr "$SPOTENV" show - <"$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/plan.txt")" ]
}

@test "show: a document from a newer spotenv or not a plan is refused" {
	saved_plan
	sed 's/"format_version": "1"/"format_version": "2"/' "$BATS_TEST_TMPDIR/p.json" >"$BATS_TEST_TMPDIR/v2.json"
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/v2.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a spotenv plan"* ]]
	[[ "$stderr" == *"format_version"* ]]
	head -c 100 "$BATS_TEST_TMPDIR/p.json" >"$BATS_TEST_TMPDIR/cut.json"
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/cut.json"
	[ "$status" -eq 1 ]
	"$SPOTENV" observe -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/snap.json"
	[ "$status" -eq 1 ]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/missing.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot open '$BATS_TEST_TMPDIR/missing.json'"* ]]
}

@test "show: the plan of a destroy-like scale to zero renders every release" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 0/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/zero.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/zero.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	for id in $(live_ids web); do
		[[ "$output" == *"- release $id"* ]]
	done
	[ "${lines[-1]}" = "Plan: 0 to launch, 3 to release, 0 to replace." ]
	# and applying it does exactly that
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 0 ]
}
