#!/usr/bin/env bats
# spotenv apply never launches twice: a RunInstances retried after the
# connection dropped (committed), a second apply right after a killed one,
# and a second apply while new instances are not yet visible by tag all
# reuse the plan's deterministic ClientTokens.

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

@test "idempotency: dropped connections after a committed launch create nothing extra" {
	sim_ctl faults --drop-after-commit-rate 1 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 7 launched, 0 released. 2/2 environments converged." ]
	# every first attempt was dropped after it launched, the retries got the
	# same instances back
	[ "$(sim_stat dropped)" -ge 3 ]
	[ "$(sim_stat launched)" -eq 7 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(sim_stat requests.RunInstances)" -gt 3 ]
}

@test "idempotency: a high drop rate over several applies never exceeds capacity" {
	sim_ctl faults --drop-after-commit-rate 0.7 >/dev/null
	for _ in 1 2 3; do
		"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml" >/dev/null
		[ "$(live_count web)" -eq 3 ]
		[ "$(live_count jobs)" -eq 4 ]
		sim_ctl reclaim --count 2 >/dev/null
	done
	# 7, then 2 replaced twice
	[ "$(sim_stat launched)" -eq 11 ]
}

@test "idempotency: a second apply right after a killed one ends at capacity" {
	# new instances stay PENDING and invisible by tag until the test moves
	# the emulator's clock on: the first apply is still waiting when it is
	# killed, and the second apply's observation misses what it launched
	sim_ctl faults --pending-ms 120000 --tag-lag-ms 120000 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --wait-timeout 10m "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/first.out" 2>&1 3>&- &
	pid=$!
	wait_until 30 stat_ge launched 3
	[ "$(sim_stat launched)" -eq 3 ]
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/first.out"
	# killed while it waited (SIGKILL: 128 + 9), never finished
	[ "$st" -eq 137 ]
	run grep -c 'Apply complete' "$BATS_TEST_TMPDIR/first.out"
	[ "$output" = 0 ]
	# the second apply: its RunInstances (the same ClientToken) gives the
	# killed run's instances back; once it waits for them, the clock moves
	# past pendingMs and the tag lag
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --wait-timeout 10m "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/second.out" 2>"$BATS_TEST_TMPDIR/second.err" 3>&- &
	pid=$!
	wait_until 30 stat_ge requests.RunInstances 2
	sim_clock_advance 120000
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/second.out" "$BATS_TEST_TMPDIR/second.err"
	[ "$st" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/second.out")" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat launched)" -eq 3 ]
	[ "$(live_count web)" -eq 3 ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
}

@test "idempotency: with tag lag, a second --no-wait apply launches nothing extra" {
	# invisible by tag until the clock moves on (it does not in this test)
	sim_ctl faults --tag-lag-ms 600000 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	# the tag filter does not show them yet, so this plan wants 3 again ...
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	# ... and the same ClientToken gets the same three back
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" -eq 3 ]
	[ "$(live_count web)" -eq 3 ]
}

@test "idempotency: with tag lag, apply waits for tags so the next apply sees its instances" {
	sim_ctl faults --tag-lag-ms 1000 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	runs=$(sim_stat requests.RunInstances)
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat requests.RunInstances)" -eq "$runs" ]
	[ "$(sim_stat launched)" -eq 3 ]
}

@test "idempotency: two applies at once (different lock files) launch once" {
	sim_ctl faults --tag-lag-ms 1500 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --lock-file "$BATS_TEST_TMPDIR/a.lock" \
		"$FX/two.yaml" >"$BATS_TEST_TMPDIR/a.out" 2>&1 3>&- &
	a=$!
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --lock-file "$BATS_TEST_TMPDIR/b.lock" \
		"$FX/two.yaml" >"$BATS_TEST_TMPDIR/b.out" 2>&1 3>&- &
	b=$!
	wait "$a"
	wait "$b"
	[ "$(sim_stat launched)" -eq 7 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
}
