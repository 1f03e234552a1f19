#!/usr/bin/env bats
# The distributed lock (--lock etcd://...) against a real etcd on loopback:
# a second runner is refused naming the holder, --lock-timeout waits for
# it, a holder killed with SIGKILL frees the lock when its lease expires,
# and three runners started at once (each with its own local lock file, as
# on three machines) launch nothing beyond desired even with tag lag.  The
# same race without --lock reports its duplicates as a figure.  TRIALS sets
# the number of race trials (3 in make check; make soak runs 10).
#
# Each test locks under its own prefix (etcd://.../tN), so a test that
# fails leaves nothing for the next.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load etcd_helpers
load fixtures/helpers

setup_file() {
	etcd_start
	sim_start --pending-ms 150 --terminating-ms 100
}

teardown_file() {
	sim_stop
	etcd_stop
}

setup() {
	fx_setup
	fx_reset
	P=/t$BATS_TEST_NUMBER
	LOCK=$ETCD_URL$P
	KEY=$P/lock/default
}

trials() {
	if [ -n "${TRIALS:-}" ]; then
		echo "$TRIALS"
	elif [ -n "${SOAK:-}" ]; then
		echo 10
	else
		echo 3
	fi
}

# hold ARGS...: an apply that takes the lock and then waits (its launches
# stay PENDING until the clock moves on) in the background, as $holder
# with its own local lock file; returns once etcd holds its key
hold() {
	sim_ctl faults --pending-ms 120000 >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --lock "$LOCK" \
		--lock-file "$BATS_TEST_TMPDIR/holder.lock" "$@" "$FX/web.yaml" \
		>"$BATS_TEST_TMPDIR/holder.out" 2>&1 3>&- &
	holder=$!
	wait_until 30 etcd_has_key "$KEY"
}

txns_ge() {
	[ "$(etcd_txns)" -ge "$1" ]
}

@test "etcd lock: a second apply, or a destroy, is refused naming the holder" {
	hold
	[[ "$(etcd_value "$KEY")" == "$(hostname) pid $holder since "*"Z (apply)" ]]
	# another local lock file: only etcd stands in the way
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"scope 'default' is locked by $(hostname) pid $holder since "*"Z (apply); wait for it, or pass --lock-timeout"* ]]
	run --separate-stderr env SPOTENV_LOCK="$LOCK" "$SPOTENV" destroy --auto-approve -q \
		--env web "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"locked by $(hostname) pid $holder since "* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(sim_stat launched)" -eq 3 ]
	sim_clock_advance 120000
	wait "$holder"
	grep -q 'Apply complete: 3 launched' "$BATS_TEST_TMPDIR/holder.out"
	# released with the run (the lease revoked), not a TTL later
	etcd_no_key "$KEY"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
}

@test "etcd lock: --lock-timeout waits for the holder, then applies" {
	hold
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --lock "$LOCK" --lock-timeout 60s \
		"$FX/web.yaml" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	# it tries, is refused and tries again: it waits
	before=$(etcd_txns)
	wait_until 30 txns_ge $((before + 2))
	kill -0 "$pid"
	[ "$(sim_stat launched)" -eq 3 ]
	sim_clock_advance 120000
	wait "$holder"
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat launched)" -eq 3 ]
	etcd_no_key "$KEY"
}

@test "etcd lock: a too short --lock-timeout gives up while the lock is held" {
	hold
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" --lock-timeout 700ms \
		"$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"locked by $(hostname) pid $holder"* ]]
	kill -0 "$holder"
	sim_clock_advance 120000
	wait "$holder"
}

@test "etcd lock: a holder killed with kill -9 frees the lock when its lease expires" {
	hold --lock-ttl 5s
	kill_gone "$holder"
	# the lock outlives the process (the lease has seconds left) ...
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"locked by $(hostname) pid $holder"* ]]
	# ... until etcd expires the lease: the key goes, the next run proceeds
	wait_until 20 etcd_no_key "$KEY"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait --lock "$LOCK" "$FX/web.yaml"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" -eq 3 ]
}

@test "etcd lock: a run whose lease is lost stops before doing more, exit 1" {
	hold --lock-ttl 3s
	wait_until 30 stat_ge launched 3
	# its lease goes (revoked here; expired after a network partition or a
	# stopped process alike): the next keep-alive finds out, and the wait
	# for RUNNING ends at its next poll
	etcd_revoke_key "$KEY"
	wait "$holder" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/holder.out"
	[ "$st" -eq 1 ]
	grep -q "error: the etcd lock on scope 'default' was lost: its lease expired or was revoked" \
		"$BATS_TEST_TMPDIR/holder.out"
	[ "$(sim_stat launched)" -eq 3 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	# the lock is free for the next run at once
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait --lock "$LOCK" "$FX/web.yaml"
	[ "$status" -eq 0 ]
}

@test "etcd lock: a foreign holder's note is shown escaped" {
	k=$(printf '%s' "$KEY" | base64 -w0)
	v=$(printf 'evil\033[2J\nhost\134' | base64 -w0)
	_etcd_post /v3/kv/put "{\"key\":\"$k\",\"value\":\"$v\"}" >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"scope 'default' is locked by evil\\x1b[2J\\x0ahost\\x5c; wait for it"* ]]
	[[ "$stderr" != *$'\e'* ]]
	[ "$(sim_stat totalRequests)" -eq 0 ]
}

@test "etcd lock: URLs that are not allowed are usage errors, nothing is called" {
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "etcd+http://192.0.2.1:2379" \
		"$FX/web.yaml"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"uses plain http, which is only allowed for loopback addresses"* ]]
	run --separate-stderr env SPOTENV_LOCK="http://127.0.0.1:2379" "$SPOTENV" destroy \
		--auto-approve -q --env web "$FX/web.yaml"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"must be etcd://HOST:PORT[/PREFIX]"* ]]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "$LOCK" --lock-ttl 500ms \
		"$FX/web.yaml"
	[ "$status" -eq 64 ]
	[ "$(sim_stat totalRequests)" -eq 0 ]
	# etcd is not there: an error naming it, exit 1
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --lock "etcd://127.0.0.1:1" \
		"$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot reach etcd at http://127.0.0.1:1"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

# One race: three applies of web.yaml at once, each with its own local lock
# file (three machines), with tag lag; ARGS go to each.  Prints the
# instances launched beyond desired (3), the live ones beyond desired at
# the end, how many runs exited other than 0, and how many runs launched
# (said they did: with the same tokens, runners at the same basis get the
# same instances back, and each reports them).
race_trial() {
	local i pid pids=() failed=0
	fx_reset
	sim_ctl faults --tag-lag-ms 2000 >/dev/null
	for i in 1 2 3; do
		"$SPOTENV" apply --auto-approve -q --poll-interval 100ms \
			--lock-file "$BATS_TEST_TMPDIR/runner$i.lock" "$@" "$FX/web.yaml" \
			>"$BATS_TEST_TMPDIR/runner$i.out" 2>&1 3>&- &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	echo "$(($(sim_stat launched) - 3)) $(($(live_count web) - 3)) $failed" \
		"$(cat "$BATS_TEST_TMPDIR"/runner*.out | grep -c '^Apply complete: [1-9]')"
}

@test "etcd lock: three runners at once with tag lag launch nothing beyond desired" {
	local n t extra=0 out x live f l
	n=$(trials)
	for ((t = 1; t <= n; t++)); do
		out=$(race_trial --lock "$LOCK/$t" --lock-timeout 60s)
		read -r x live f l <<<"$out"
		# one at a time: the first launches, the others find it done
		if [ "$x" -ne 0 ] || [ "$live" -ne 0 ] || [ "$f" -ne 0 ] || [ "$l" -ne 1 ]; then
			echo "trial $t: $x launched beyond desired, $live live beyond," \
				"$f runs failed, $l runs launched" >&2
			cat "$BATS_TEST_TMPDIR"/runner*.out >&2
			return 1
		fi
		extra=$((extra + x))
	done
	echo "# $n trials, 3 runners, tag lag 2 s, with --lock: $extra launched beyond desired," \
		"one run of three launched in each trial ($(nproc) CPUs)" >&3
}

@test "etcd lock: the same race without --lock (figure only)" {
	local n t extra=0 live_extra=0 failed=0 launchers=0 out x live f l
	n=$(trials)
	for ((t = 1; t <= n; t++)); do
		out=$(race_trial)
		read -r x live f l <<<"$out"
		extra=$((extra + x))
		live_extra=$((live_extra + live))
		failed=$((failed + f))
		launchers=$((launchers + l))
	done
	echo "# $n trials, 3 runners, tag lag 2 s, without --lock: $extra launched beyond desired," \
		"$live_extra live beyond desired at the end, $launchers of $((3 * n)) runs launched," \
		"$failed exited non-zero ($(nproc) CPUs)" >&3
}
