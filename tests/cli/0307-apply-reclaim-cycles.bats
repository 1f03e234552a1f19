#!/usr/bin/env bats
# A capacity-1 environment reclaimed again and again: every apply must
# restore it.  Each time its instance is reclaimed and vanishes, the
# environment's basis returns to the empty one of its first launch, and the
# plan's ClientToken is one the API remembers; apply follows the token
# chain (docs/idempotency.md) with no hop limit.  With the memo it starts
# where the last run ended (one RunInstances per cycle); without it (a
# runner on another machine) it walks the chain and still gets there.
# CYCLES sets the number of cycles (make soak runs 50).

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
# shellcheck disable=SC2030,SC2031 # each @test runs in a process of its own: its exports are its own
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
	spec=$BATS_TEST_TMPDIR/solo.yaml
	sed -e 's/name: web/name: solo/' -e 's/capacity: 3/capacity: 1/' "$FX/web.yaml" >"$spec"
}

# One cycle: apply must exit 0 with the environment at 1, then reclaim it
# and wait until it has vanished.
cycle() {
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	if [ "$status" -ne 0 ] || [ "$(live_count solo)" -ne 1 ]; then
		echo "cycle $1: apply exited $status with $(live_count solo) live: $output $stderr" >&2
		return 1
	fi
	sim_ctl reclaim --count 1 --env solo >/dev/null
	sim_settle
	[ "$(live_count solo)" -eq 0 ]
}

@test "reclaim cycles: capacity 1 restored after every reclaim (with the memo)" {
	n=${CYCLES:-10}
	for ((cyc = 1; cyc <= n; cyc++)); do
		before=$(sim_stat requests.RunInstances)
		cycle "$cyc"
		calls=$(($(sim_stat requests.RunInstances) - before))
		# from the second cycle on: the memo's step, nothing more
		if [ "$cyc" -gt 1 ] && [ "$calls" -ne 1 ]; then
			echo "cycle $cyc made $calls RunInstances calls" >&2
			return 1
		fi
	done
	[ "$(sim_stat launched)" -eq "$n" ]
	echo "# $n cycles, $(sim_stat requests.RunInstances) RunInstances calls" >&3
}

@test "reclaim cycles: without the memo (another machine) the chain is walked to the end" {
	n=${CYCLES:-10}
	m=$((n < 6 ? n : 6))
	for ((cyc = 1; cyc <= m; cyc++)); do
		# a fresh state directory every time: no memo to start from
		export SPOTENV_STATE_DIR=$BATS_TEST_TMPDIR/state-$cyc
		cycle "$cyc"
	done
	# every cycle launched exactly one instance: no duplicates, never stuck
	[ "$(sim_stat launched)" -eq "$m" ]
}

@test "reclaim cycles: a memo that does not parse is ignored and rewritten" {
	mkdir -p "$SPOTENV_STATE_DIR"
	printf '{"format_version":"1","entries":[{"origin":"x y","token":"\033]0;t\007"}]}' \
		>"$SPOTENV_STATE_DIR/tokens.json"
	cycle 1
	cycle 2
	[ "$(sim_stat launched)" -eq 2 ]
	run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["entries"]))' \
		"$SPOTENV_STATE_DIR/tokens.json"
	[ "$status" -eq 0 ]
	[ "$output" -eq 1 ]
	run stat -c %a "$SPOTENV_STATE_DIR/tokens.json"
	[ "$output" = "600" ]
}
