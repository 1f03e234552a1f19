#!/usr/bin/env bats
# A plan is bound to where it was made (issue 12, item 2): plan -o records
# the endpoint and the account (AppId from DescribeAccountQuota), and apply
# PLANFILE refuses it against another endpoint or account, or unbound.  An
# empty world has the same basis everywhere, so without the binding a plan
# made against the emulator would be accepted by any endpoint.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup() {
	fx_setup
	sim_start --pending-ms 100 --terminating-ms 100
}

teardown() {
	sim_stop
	if [ -n "${OTHER_PID:-}" ]; then
		kill -TERM "$OTHER_PID" 2>/dev/null || true
		wait "$OTHER_PID" 2>/dev/null || true
	fi
}

# start a second emulator (ARGS...) on --listen ADDR; sets OTHER_URL
other_sim() {
	local addr=$1
	shift
	rm -f "$BATS_TEST_TMPDIR/other.port"
	"$SPOTENV" sim --listen "$addr" --port-file "$BATS_TEST_TMPDIR/other.port" "$@" \
		>"$BATS_TEST_TMPDIR/other.out" 2>&1 3>&- </dev/null &
	OTHER_PID=$!
	wait_until 20 test -s "$BATS_TEST_TMPDIR/other.port"
	OTHER_URL="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/other.port")"
}

member() { # FILE KEY: a top-level member of a plan document
	python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])).get(sys.argv[2], "ABSENT")))' "$1" "$2"
}

@test "binding: plan -o records the endpoint and the account" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	[ "$(member "$BATS_TEST_TMPDIR/p.json" endpoint)" = "\"$SIM_URL/\"" ]
	[ "$(member "$BATS_TEST_TMPDIR/p.json" account)" = '"1250000000"' ]
	# a document on stdout is for reading: not bound, so apply refuses it
	"$SPOTENV" plan "$FX/web.yaml" --format json >"$BATS_TEST_TMPDIR/j.json"
	[ "$(member "$BATS_TEST_TMPDIR/j.json" endpoint)" = '"ABSENT"' ]
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/j.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"it does not say where it was made"* ]]
	# only -o asked for the account
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$(sim_stat requests.DescribeAccountQuota)" -eq 1 ]
	# and applies where it was made
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
}

@test "binding: a plan made against one empty world is refused by another endpoint" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	other_sim 127.0.0.1:0
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json" --endpoint "$OTHER_URL"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan was made against $SIM_URL/ (account 1250000000), not $OTHER_URL/; nothing was done"* ]]
	[ "$("$SPOTENV" sim ctl --endpoint "$OTHER_URL" stats | json_get launched)" -eq 0 ]
	[ "$("$SPOTENV" sim ctl --endpoint "$OTHER_URL" stats | json_get requests.RunInstances 2>/dev/null || echo 0)" -eq 0 ]
}

@test "binding: a plan made against another account at the same endpoint is refused" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	port=$SIM_PORT
	sim_stop
	printf 'account:\n  appId: 1300000000\n' >"$BATS_TEST_TMPDIR/acct.yaml"
	other_sim "127.0.0.1:$port" --config "$BATS_TEST_TMPDIR/acct.yaml"
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan was made against $SIM_URL/ (account 1250000000), not $SIM_URL/ (account 1300000000); nothing was done"* ]]
	[ "$("$SPOTENV" sim ctl --endpoint "$OTHER_URL" stats | json_get launched)" -eq 0 ]
}

@test "binding: an unbound plan (an older file, or edited) is refused" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
del p["endpoint"], p["account"]
json.dump(p, open(sys.argv[1], "w"), indent=2)
' "$BATS_TEST_TMPDIR/p.json"
	"$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" >/dev/null
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refusing the saved plan: it does not say where it was made (no 'endpoint'"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

@test "binding: an account that cannot be learned is said; the plan is bound to the endpoint alone" {
	sim_ctl faults --account-quota-unsupported on >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"the account could not be learned ("*"); the plan is bound to the endpoint '$SIM_URL/' alone"* ]]
	[ "$(member "$BATS_TEST_TMPDIR/p.json" account)" = null ]
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
}

@test "binding: a plan that names an account is refused when apply cannot learn one" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	sim_ctl faults --account-quota-unsupported on >/dev/null
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot tell which account these credentials belong to, so the plan made against $SIM_URL/ (account 1250000000) is not applied"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

@test "binding: an offline plan (--observed) is bound to the configured endpoint alone" {
	"$SPOTENV" observe -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	run --separate-stderr env -u TENCENTCLOUD_SECRET_KEY "$SPOTENV" plan "$FX/web.yaml" \
		--observed "$BATS_TEST_TMPDIR/snap.json" -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"a plan made from a snapshot does not know the account; it is bound to the endpoint '$SIM_URL/' alone"* ]]
	[ "$(member "$BATS_TEST_TMPDIR/p.json" endpoint)" = "\"$SIM_URL/\"" ]
	[ "$(member "$BATS_TEST_TMPDIR/p.json" account)" = null ]
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json" --endpoint "http://localhost:$SIM_PORT"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan was made against $SIM_URL/ (account unknown), not http://localhost:$SIM_PORT/"* ]]
}
