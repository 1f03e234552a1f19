#!/usr/bin/env bats
# Crashes and re-runs never pay twice.  Tokens come from each environment's
# own basis (docs/idempotency.md), so one environment's instances becoming
# visible never moves another's tokens, and an apply killed with SIGKILL at
# any point, then run again, ends with exactly the desired instances and
# nothing released.  TRIALS sets the number of random kill trials per mode
# (4 in make check; make soak runs 30).

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 300 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

trials() {
	if [ -n "${TRIALS:-}" ]; then
		echo "$TRIALS"
	elif [ -n "${SOAK:-}" ]; then
		echo 30
	else
		echo 4
	fi
}

@test "crash: one environment's tags becoming visible never relaunches another" {
	sim_ctl faults --tag-lag-ms 10000 >/dev/null
	# web launches first, jobs 5 s later; neither is visible by tag yet
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait --env web "$FX/two.yaml"
	[ "$status" -eq 0 ]
	sim_clock_advance 5000
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait --env jobs "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" -eq 7 ]
	# between the two: web's tags show, jobs' do not
	sim_clock_advance 6000
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[[ "$output" == *"4 to launch"* ]]
	# the re-run plans jobs again, with the same tokens: nothing new
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" -eq 7 ]
	[ "$(sim_stat terminated)" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
}

# One trial: apply in the background, SIGKILL it after a random pause,
# apply again to the end; print how many instances were launched beyond
# desired (7) and how many were released.
kill_trial() {
	local pid pause
	fx_reset
	sim_ctl faults "$@" >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml" \
		>/dev/null 2>&1 3>&- &
	pid=$!
	# a random point: before, during or after the launches, or while waiting
	pause=$((RANDOM % 900))
	sleep "$(printf '0.%03d' "$pause")"
	kill_gone "$pid"
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml" >/dev/null 2>&1 3>&-
	echo "$(($(sim_stat launched) - 7)) $(sim_stat terminated) $(live_count web) $(live_count jobs)"
}

run_trials() {
	local n extra=0 released=0 t out
	n=$(trials)
	for ((t = 1; t <= n; t++)); do
		out=$(kill_trial "$@")
		read -r x r w j <<<"$out"
		extra=$((extra + x))
		released=$((released + r))
		if [ "$w" -ne 3 ] || [ "$j" -ne 4 ]; then
			echo "trial $t: web $w, jobs $j" >&2
			return 1
		fi
	done
	echo "# $n kill -9 trials ($*): $extra launched beyond desired, $released released" >&3
	[ "$extra" -eq 0 ]
	[ "$released" -eq 0 ]
}

@test "crash: kill -9 at random points, then a re-run: nothing beyond desired" {
	run_trials --tag-lag-ms 0
}

@test "crash: kill -9 at random points with tag lag, then a re-run: nothing beyond desired" {
	run_trials --tag-lag-ms 1500
}
