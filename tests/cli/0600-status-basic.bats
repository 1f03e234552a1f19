#!/usr/bin/env bats
# spotenv status: desired against observed per environment and pool, as a
# table and as JSON, matching the emulator's world.

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	# reclaimed instances stay in a leaving state until the emulator's
	# clock moves on (it does not in these tests; fx_reset clears them)
	sim_start --pending-ms 150 --terminating-ms 3600000
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

@test "status: from empty every environment is short" {
	run --separate-stderr "$SPOTENV" status "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "${lines[0]}" == "ENVIRONMENT / POOL"*"DESIRED"*"ACTIVE"*"RUNNING"*"PENDING"*"FAILED"*"LEAVING"*"STATUS" ]]
	[[ "$output" == *$'\n'"jobs "*" 4 "*" 0 "*"short"* ]]
	[[ "$output" == *$'\n'"web "*" 3 "*" 0 "*"short"* ]]
	[[ "$output" == *"  ap-guangzhou-3/S5.MEDIUM4 "*"selling at 0.12"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

@test "status: table and JSON counts match the emulator" {
	fx_apply "$FX/two.yaml"
	sim_ctl reclaim --count 1 --env web >/dev/null
	sim_ctl faults --pending-ms 600000 >/dev/null
	fx_apply --no-wait "$FX/two.yaml" >/dev/null
	# web: 2 running, 1 pending replacement, 1 leaving; jobs: 4 running
	run --separate-stderr "$SPOTENV" status "$FX/two.yaml"
	[ "$status" -eq 0 ]
	line=$(grep '^web ' <<<"$output")
	read -r _ desired active running pending failed leaving st <<<"$line"
	[ "$desired $active $running $pending $failed $leaving $st" = "3 3 2 1 0 1 converged" ]
	line=$(grep '^jobs ' <<<"$output")
	read -r _ desired active running pending failed leaving st <<<"$line"
	[ "$desired $active $running $pending $failed $leaving $st" = "4 4 4 0 0 0 converged" ]

	run --separate-stderr "$SPOTENV" status "$FX/two.yaml" --format json
	[ "$status" -eq 0 ]
	json=$output
	[ "$(json_get environments.1.name <<<"$json")" = "web" ]
	[ "$(json_get environments.1.region <<<"$json")" = "ap-guangzhou" ]
	[ "$(json_get environments.1.desired <<<"$json")" = "3" ]
	[ "$(json_get environments.1.active <<<"$json")" = "3" ]
	[ "$(json_get environments.1.running <<<"$json")" = "2" ]
	[ "$(json_get environments.1.pending <<<"$json")" = "1" ]
	[ "$(json_get environments.1.leaving <<<"$json")" = "1" ]
	[ "$(json_get environments.1.status <<<"$json")" = "converged" ]
	[ "$(json_get environments.1.pools.0.zone <<<"$json")" = "ap-guangzhou-3" ]
	[ "$(json_get environments.1.pools.0.active <<<"$json")" = "3" ]
	# prices are decimal strings, as in plans
	[ "$(json_get environments.1.pools.0.price <<<"$json")" = "0.12" ]
	[[ "$json" == *'"price":'*'"0.12"'* ]]
	[ "$(json_get environments.1.pools.0.offer_status <<<"$json")" = "SELL" ]
	# per pool, the same counts as the emulator's instances
	[ "$(json_get environments.0.pools.0.active <<<"$json")" = "$(live_pools jobs | awk '$1 == "ap-shanghai-2/S5.MEDIUM4" {print $2}')" ]
	[ "$(json_get environments.0.pools.1.active <<<"$json")" = "$(live_pools jobs | awk '$1 == "ap-shanghai-4/SA2.MEDIUM4" {print $2}')" ]
	total=$(( $(json_get environments.0.active <<<"$json") + $(json_get environments.1.active <<<"$json") ))
	[ "$total" -eq "$(live_count)" ]
}

@test "status: short, over and drifted environments" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 2/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/over.yaml"
	run --separate-stderr "$SPOTENV" status "$BATS_TEST_TMPDIR/over.yaml" --format json
	[ "$(json_get environments.0.status <<<"$output")" = "over" ]
	sed 's/img-aaaaaaaa/img-zzzzzzzz/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/drift.yaml"
	run --separate-stderr "$SPOTENV" status "$BATS_TEST_TMPDIR/drift.yaml" --format json
	[ "$(json_get environments.0.status <<<"$output")" = "drifted" ]
	[ "$(json_get environments.0.drifted <<<"$output")" = "3" ]
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl reclaim --count 1 --env web >/dev/null
	run --separate-stderr "$SPOTENV" status "$FX/web.yaml"
	[[ "$(grep '^web ' <<<"$output")" == *"short" ]]
	[[ "$output" == *"  ap-guangzhou-4/S5.MEDIUM4 "*"sold out at 0.13"* ]]
}

@test "status: --detailed-exitcode says converged (0), not converged (2), short (3)" {
	run --separate-stderr "$SPOTENV" status --detailed-exitcode "$FX/web.yaml"
	[ "$status" -eq 3 ]
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" status --detailed-exitcode "$FX/web.yaml"
	[ "$status" -eq 0 ]
	sed 's/capacity: 3/capacity: 2/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/over.yaml"
	run --separate-stderr "$SPOTENV" status --detailed-exitcode "$BATS_TEST_TMPDIR/over.yaml"
	[ "$status" -eq 2 ]
	# without the flag, status is a report: 0
	run --separate-stderr "$SPOTENV" status "$BATS_TEST_TMPDIR/over.yaml"
	[ "$status" -eq 0 ]
}

@test "status: --env restricts, --observed reads a snapshot offline" {
	fx_apply "$FX/two.yaml"
	run --separate-stderr "$SPOTENV" status "$FX/two.yaml" --env jobs --format json
	[ "$status" -eq 0 ]
	[ "$(json_get environments <<<"$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 1 ]
	[ "$(json_get environments.0.name <<<"$output")" = "jobs" ]
	"$SPOTENV" observe -q "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	# the same table (the spot quota block needs the API: not offline)
	live=$("$SPOTENV" status "$FX/two.yaml" | sed '/^$/,$d')
	before=$(sim_stat totalRequests)
	run --separate-stderr env -u TENCENTCLOUD_SECRET_KEY SPOTENV_ENDPOINT=http://127.0.0.1:1 \
		"$SPOTENV" status "$FX/two.yaml" --observed "$BATS_TEST_TMPDIR/snap.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$live" ]
	[ "$(sim_stat totalRequests)" -eq "$before" ]
}

@test "status: usage errors exit 64, unknown environments 1" {
	run --separate-stderr "$SPOTENV" status
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no specs given"* ]]
	run --separate-stderr "$SPOTENV" status "$FX/web.yaml" --format markdown
	[ "$status" -eq 64 ]
	run --separate-stderr "$SPOTENV" status "$FX/web.yaml" --env nope
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no environment named 'nope' in the specs"* ]]
	[ "$(sim_stat totalRequests)" -eq 0 ]
}
