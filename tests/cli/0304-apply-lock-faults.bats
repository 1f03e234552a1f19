#!/usr/bin/env bats
# spotenv apply under faults (throttling, random InternalError) still
# converges; the local lock keeps two applies apart and names its holder;
# progress and the -v call log.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 150 --terminating-ms 100 --seed 7
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# hold_lock FILE: flock(1) holds FILE (in the background, $holder) until
# release_lock; returns once it holds it
hold_lock() {
	: >"$BATS_TEST_TMPDIR/hold"
	# shellcheck disable=SC2016 # the script is expanded by sh -c, with $1 its argument
	flock -n "$1" sh -c ': >"$1.held"; while [ -e "$1" ]; do sleep 0.05; done' sh \
		"$BATS_TEST_TMPDIR/hold" 3>&- &
	holder=$!
	wait_until 30 test -e "$BATS_TEST_TMPDIR/hold.held"
}

release_lock() {
	rm -f "$BATS_TEST_TMPDIR/hold"
	wait "$holder"
}

@test "faults: random InternalError (20%) is retried and apply converges" {
	sim_ctl faults --internal-error-rate 0.2 >/dev/null
	for i in 1 2; do
		run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
		[ "$status" -eq 0 ]
		[ "$output" = "Apply complete: 7 launched, 0 released. 2/2 environments converged." ] || \
			[ "$i" -eq 2 ]
		sim_ctl reclaim --count 3 >/dev/null
	done
	[ "$(sim_stat errors.InternalError)" -gt 0 ]
	[ "$(sim_stat launched)" -eq 10 ]
	sim_ctl faults --internal-error-rate 0 >/dev/null
	sim_settle
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(sim_stat launched)" -eq 13 ]
}

@test "faults: throttling (RequestLimitExceeded) with InternalError still converges" {
	# far below the real limits (40/s and 10/s, counted per region), so
	# that polling every 100 ms and an InternalError's retry run into
	# RequestLimitExceeded although the client keeps to the real rates
	sim_ctl faults '{"rates":{"DescribeInstances":1,"RunInstances":1},"internalErrorRate":0.2}' >/dev/null
	sim_ctl faults | grep -q '"DescribeInstances":1,"RunInstances":1'
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 7 launched, 0 released. 2/2 environments converged." ]
	[ "$(sim_stat errors.RequestLimitExceeded)" -gt 0 ]
	[ "$(sim_stat launched)" -eq 7 ]
	[ "$(live_count)" -eq 7 ]
}

@test "faults: launches ending LAUNCH_FAILED exit 3; the next apply replaces them, never terminates them" {
	sim_ctl faults --launch-fail-rate 1 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		--metrics-file "$BATS_TEST_TMPDIR/m.prom"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged (3 short of 3)"* ]]
	[[ "$output" == *"3 launched instances ended LAUNCH_FAILED"* ]]
	[ "${lines[-1]}" = "Apply finished: 3 launched, 0 released. 0/1 environments converged." ]
	grep -qx 'spotenv_failed_instances{env="web",scope="default"} 3' "$BATS_TEST_TMPDIR/m.prom"
	grep -qx 'spotenv_active_instances{env="web",scope="default"} 0' "$BATS_TEST_TMPDIR/m.prom"
	sim_ctl faults --launch-fail-rate 0 >/dev/null
	# TerminateInstances refuses LAUNCH_FAILED instances: the plan says so
	# instead of releasing them (the cloud removes them by itself)
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[[ "$output" == *"3 desired, 0 active, 3 failed"* ]]
	[[ "$output" == *"warning: 3 failed instances (LAUNCH_FAILED or STOPPING) not counted and not released"* ]]
	run grep -c -- "- release" <<<"$output"
	[ "$output" = 0 ]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(sim_stat errors.UnsupportedOperation.InstanceStateLaunchFailed)" -eq 0 ]
}

@test "faults: --until-converged replaces failed launches in later rounds" {
	# the first round's launches fail, and stay PENDING until the clock
	# moves on, after the failures are switched off: only they fail
	sim_ctl faults --launch-fail-rate 1 --pending-ms 120000 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" --until-converged 30s \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_until 30 stat_ge launched 3
	sim_ctl faults --launch-fail-rate 0 --pending-ms 150 >/dev/null
	sim_clock_advance 120000
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Apply complete: 6 launched, 0 released. 1/1 environments converged." ]
	# 3 running; the 3 LAUNCH_FAILED ones were never sent to TerminateInstances
	[ "$(sim_ctl state | python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin)["instances"] if i["state"] == "RUNNING"))')" -eq 3 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(sim_stat launched)" -eq 6 ]
}

@test "faults: --no-wait returns at once and a later apply sees the instances" {
	# PENDING until the clock moves on (it does not in this test)
	sim_ctl faults --pending-ms 600000 >/dev/null
	SECONDS=0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$SECONDS" -lt 4 ]
	run --separate-stderr "$SPOTENV" status "$FX/web.yaml" --format json
	[ "$(json_get environments.0.pending <<<"$output")" = "3" ]
	[ "$(json_get environments.0.active <<<"$output")" = "3" ]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait "$FX/web.yaml"
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
}

@test "faults: --wait-timeout ends a wait that does not finish with exit 3" {
	sim_ctl faults --pending-ms 60000 >/dev/null
	SECONDS=0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms \
		--wait-timeout 1s "$FX/web.yaml"
	[ "$status" -eq 3 ]
	[ "$SECONDS" -lt 10 ]
	[[ "$output" == *"3 instances still pending when the wait timed out"* ]]
	[ "$(live_count web)" -eq 3 ]
}

@test "faults: an instance reclaimed while apply waits for it ends the wait, short" {
	# PENDING (and, once reclaimed, SHUTDOWN) until the clock moves on
	sim_ctl faults --pending-ms 60000 --terminating-ms 120000 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --wait-timeout 60s "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	wait_until 30 stat_ge launched 3
	sim_ctl reclaim --count 1 --env web >/dev/null
	# the other two run
	sim_clock_advance 60000
	SECONDS=0
	wait "$pid" && status=0 || status=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 3 ]
	# done when the others run, not at the 60 s timeout
	[ "$SECONDS" -lt 15 ]
	grep -q 'web: not converged (1 short of 3)' "$BATS_TEST_TMPDIR/out"
	grep -q '1 launched instance was reclaimed before running' "$BATS_TEST_TMPDIR/out"
	sim_ctl faults --pending-ms 150 >/dev/null
	# the reclaimed one goes
	sim_clock_advance 120000
	sim_settle
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 1 launched, 0 released. 1/1 environments converged." ]
}

@test "lock: a second apply exits 1 naming the holder" {
	# the first apply waits (holding the lock) until the clock moves on
	sim_ctl faults --pending-ms 120000 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/first.out" 2>&1 3>&- &
	first=$!
	wait_until 30 test -s "$SPOTENV_LOCK_FILE"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"another spotenv apply holds the lock '$SPOTENV_LOCK_FILE' (pid $first on $(hostname) since "*"Z (apply)); wait for it, or pass --lock-timeout"* ]]
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web --auto-approve
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"holds the lock"*"pid $first"* ]]
	sim_clock_advance 120000
	wait "$first"
	grep -q 'Apply complete: 3 launched' "$BATS_TEST_TMPDIR/first.out"
	[ "$(sim_stat launched)" -eq 3 ]
	# released with the process: the next apply runs
	run --separate-stderr "$SPOTENV" apply --auto-approve -q "$FX/web.yaml"
	[ "$status" -eq 0 ]
}

@test "lock: held by flock(1), --lock-timeout waits for it" {
	command -v flock >/dev/null || skip "flock(1) is not installed"
	lock=$BATS_TEST_TMPDIR/other.lock
	echo "pid 4242 on buildhost since 2026-01-01T00:00:00Z (apply)" >"$lock"
	hold_lock "$lock"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock-file "$lock" "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'$lock' (pid 4242 on buildhost since 2026-01-01T00:00:00Z (apply))"* ]]
	[ "$(sim_stat totalRequests)" -eq 0 ]
	SECONDS=0
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --lock-file "$lock" \
		--lock-timeout 20s "$FX/web.yaml" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	# it has the lock file open, and waits: the holder keeps it a second
	# more, and the apply is still there, without a request made
	wait_until 30 has_open "$pid" "$lock"
	sleep 1
	kill -0 "$pid"
	[ "$(sim_stat totalRequests)" -eq 0 ]
	release_lock
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$SECONDS" -ge 1 ]
	# the lock file names nobody once released
	[ ! -s "$lock" ]
}

@test "lock: a too short --lock-timeout gives up" {
	lock=$BATS_TEST_TMPDIR/other.lock
	: >"$lock"
	hold_lock "$lock"
	SECONDS=0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock-file "$lock" \
		--lock-timeout 500ms "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"holds the lock"*"(unknown holder)"* ]]
	[ "$SECONDS" -lt 3 ]
	# it gave up while the lock was still held
	kill -0 "$holder"
	release_lock
}

@test "apply -v: logs RunInstances without the secret; progress on a terminal redraws" {
	run --separate-stderr "$SPOTENV" apply -v --auto-approve --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"RunInstances"* ]]
	[[ "$stderr" == *"DescribeInstances"* ]]
	[[ "$stderr" != *"$TENCENTCLOUD_SECRET_KEY"* ]]
	[[ "$stderr" != *"Signature="* ]]
	command -v script >/dev/null || skip "script(1) is not installed"
	sim_ctl reclaim --count 2 >/dev/null
	run bash -c 'script -qec "$0 apply --auto-approve --poll-interval 100ms $1" /dev/null </dev/null' \
		"$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	# a live line per environment, redrawn in place
	[[ "$output" == *$'\e[2K  web'*"running"* ]]
	[[ "$output" == *"Apply complete: 2 launched, 0 released. 1/1 environments converged."* ]]
	# NO_COLOR: plain lines even on a terminal
	sim_ctl reclaim --count 1 >/dev/null
	run bash -c 'NO_COLOR=1 script -qec "$0 apply --auto-approve --poll-interval 100ms $1" /dev/null </dev/null' \
		"$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e['* ]]
	[[ "$output" == *"spotenv: web: "*"running"* ]]
}

@test "lock: a symlink or hard link planted as the lock file is refused, not truncated" {
	echo "precious" >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/sym.lock"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock-file "$BATS_TEST_TMPDIR/sym.lock" \
		"$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"lock file '$BATS_TEST_TMPDIR/sym.lock' is a symbolic link; refusing to follow it"* ]]
	ln "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/hard.lock"
	run --separate-stderr env SPOTENV_LOCK_FILE="$BATS_TEST_TMPDIR/hard.lock" \
		"$SPOTENV" destroy --auto-approve -q "$FX/web.yaml" --env web
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a plain file"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/victim")" = "precious" ]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}
