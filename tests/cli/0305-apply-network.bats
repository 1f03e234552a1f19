#!/usr/bin/env bats
# spotenv apply when the API goes away in the middle of a run: it gives up
# with exit 1 after a few failed polls instead of waiting out --wait-timeout.

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup() {
	fx_setup
	sim_start --pending-ms 60000 --terminating-ms 100
}

teardown() {
	sim_stop
}

@test "network: the API gone while waiting ends apply with exit 1, not at the timeout" {
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --wait-timeout 10m "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_until 30 stat_ge launched 3
	[ "$(sim_stat launched)" -eq 3 ]
	sim_stop
	SECONDS=0
	wait "$pid" && status=0 || status=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 1 ]
	[ "$SECONDS" -lt 60 ]
	grep -q "DescribeInstances" "$BATS_TEST_TMPDIR/err"
}
