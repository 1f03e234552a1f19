#!/usr/bin/env bats
# spotenv plan --observed (offline against an `observe` snapshot), --check
# (dry runs) and -v (the API call log, without secrets).

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 100 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# plan JSON without the one field that legitimately differs between two
# observations of the same world: when it was made
strip_time() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
d.pop("observed_at", None)
print(json.dumps(d, indent=1, sort_keys=True))
'
}

@test "plan --observed: the snapshot gives the same plan as live observation" {
	fx_apply "$FX/two.yaml"
	# change the world so the plan has every kind of action: a reclaim
	# (launch), and capacity lowered in a copy (release)
	sim_ctl reclaim --count 1 --env jobs >/dev/null
	sim_settle
	spec=$(fx_spec two.yaml)
	sed -i '0,/capacity: 3/s//capacity: 2/' "$spec"
	run --separate-stderr "$SPOTENV" observe "$spec" -o "$BATS_TEST_TMPDIR/snap.json"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"wrote '$BATS_TEST_TMPDIR/snap.json'"* ]]
	[ "$(json_get format_version <"$BATS_TEST_TMPDIR/snap.json")" = "1" ]

	"$SPOTENV" plan "$spec" --format json >"$BATS_TEST_TMPDIR/live.json"
	before=$(sim_stat totalRequests)
	# offline: no endpoint, no credentials
	env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY SPOTENV_ENDPOINT=http://127.0.0.1:1 \
		"$SPOTENV" plan "$spec" --format json --observed "$BATS_TEST_TMPDIR/snap.json" \
		>"$BATS_TEST_TMPDIR/offline.json"
	[ "$(sim_stat totalRequests)" -eq "$before" ]
	[ "$(json_get summary.to_launch <"$BATS_TEST_TMPDIR/live.json")" = "1" ]
	[ "$(json_get summary.to_release <"$BATS_TEST_TMPDIR/live.json")" = "1" ]
	diff <(strip_time <"$BATS_TEST_TMPDIR/live.json") <(strip_time <"$BATS_TEST_TMPDIR/offline.json")
	# the basis (what apply checks) is the same
	[ "$(json_get basis <"$BATS_TEST_TMPDIR/live.json")" = \
	  "$(json_get basis <"$BATS_TEST_TMPDIR/offline.json")" ]
	# and the text is identical
	diff <("$SPOTENV" plan "$spec") <("$SPOTENV" plan "$spec" --observed "$BATS_TEST_TMPDIR/snap.json")
}

@test "plan --observed: the snapshot on stdout is the same document" {
	fx_apply "$FX/web.yaml"
	"$SPOTENV" observe "$FX/web.yaml" >"$BATS_TEST_TMPDIR/a.json"
	"$SPOTENV" observe "$FX/web.yaml" -q -o "$BATS_TEST_TMPDIR/b.json"
	diff <(sed '/"observed_at"/d' "$BATS_TEST_TMPDIR/a.json") \
		<(sed '/"observed_at"/d' "$BATS_TEST_TMPDIR/b.json")
	[ "$(json_get instances <"$BATS_TEST_TMPDIR/a.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 3 ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --observed "$BATS_TEST_TMPDIR/a.json"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
}

@test "plan --observed: a bad snapshot is an error naming the file" {
	echo '{"format_version": "9"}' >"$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --observed "$BATS_TEST_TMPDIR/bad.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"bad.json"* ]]
	[ -z "$output" ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --observed "$BATS_TEST_TMPDIR/none.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"none.json"* ]]
}

@test "plan --check: a sold-out pool is skipped and the launch that remains is dry-run ok" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --check
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: pool 1 (ap-guangzhou-3 S5.MEDIUM4) is sold out; skipped"* ]]
	[[ "$output" == *"+ launch 3 x S5.MEDIUM4 in ap-guangzhou-4 (pool 2), bid 0.50, spot 0.13 [dry run ok]"* ]]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	# one dry run, nothing launched
	[ "$(sim_stat requests.RunInstances)" -eq 1 ]
	[ "$(sim_stat launched)" -eq 0 ]
	[ "$(live_count)" -eq 0 ]
}

@test "plan --check: a pool short of stock is reported on its launch, exit 3" {
	# the offer still says SELL (1 left), only the dry run finds out
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 1 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" != *"dry run"* ]]
	# a refused dry run is not success: exit 3
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --check
	[ "$status" -eq 3 ]
	[[ "$output" == *"+ launch 3 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"*"[dry run failed: ResourceInsufficient.SpecifiedInstanceType"* ]]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --check --format json
	[ "$status" -eq 3 ]
	[ "$(json_get environments.0.launches.0.check <<<"$output")" = "ResourceInsufficient.SpecifiedInstanceType" ]
	[[ "$(json_get environments.0.launches.0.check_message <<<"$output")" == *"S5.MEDIUM4"* ]]
	# and the JSON of a plain plan leaves check empty
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --format json
	[ "$(json_get environments.0.launches.0.check <<<"$output")" = "null" ]
	[ "$(sim_stat launched)" -eq 0 ]
}

@test "plan --check: every pool sold out leaves nothing to launch and says why" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --check --format json
	[ "$(json_get summary.to_launch <<<"$output")" = "0" ]
	[ "$(json_get environments.0.pools.0.offer_status <<<"$output")" = "SOLD_OUT" ]
	[ "$(json_get environments.0.pools.1.offer_status <<<"$output")" = "SOLD_OUT" ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --check
	[[ "$output" == *"pool 1 (ap-guangzhou-3 S5.MEDIUM4) is sold out"* ]]
	[[ "$output" == *"pool 2 (ap-guangzhou-4 S5.MEDIUM4) is sold out"* ]]
	[ "$(sim_stat launched)" -eq 0 ]
}

@test "plan -v: logs API calls on stderr without the secret or signatures" {
	run --separate-stderr "$SPOTENV" plan -v "$FX/two.yaml" --check
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"DescribeInstances"*"region=ap-guangzhou"* ]]
	[[ "$stderr" == *"DescribeInstances"*"region=ap-shanghai"* ]]
	[[ "$stderr" == *"DescribeZoneInstanceConfigInfos"* ]]
	[[ "$stderr" == *"RunInstances"* ]]
	[[ "$stderr" != *"$TENCENTCLOUD_SECRET_KEY"* ]]
	[[ "$stderr" != *"Signature="* ]]
	[[ "$stderr" != *"$TENCENTCLOUD_SECRET_ID"* ]] || [[ "$stderr" != *"Credential="* ]]
	[[ "$output" != *"$TENCENTCLOUD_SECRET_KEY"* ]]
	# the plan is still on stdout, the log does not leak into it
	[[ "$output" != *"spotenv: api:"* ]]
	[ "${lines[-1]}" = "Plan: 7 to launch, 0 to release, 0 to replace." ]
	# without -v, nothing on stderr
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[ -z "$stderr" ]
}

@test "plan: saved plans and snapshots carry no secret" {
	"$SPOTENV" plan -q "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	"$SPOTENV" observe -q "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/s.json"
	[ -s "$BATS_TEST_TMPDIR/p.json" ]
	[ -s "$BATS_TEST_TMPDIR/s.json" ]
	# grep exits 1 for "read both, found nothing" (2 would be an error)
	run grep -q -- "$TENCENTCLOUD_SECRET_KEY" "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/s.json"
	[ "$status" -eq 1 ]
	run grep -q -- "$TENCENTCLOUD_SECRET_ID" "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/s.json"
	[ "$status" -eq 1 ]
}

@test "plan --observed: a failed instance in a snapshot is released and replaced" {
	# the emulator has no failed states; edit a real snapshot instead
	fx_apply "$FX/web.yaml"
	"$SPOTENV" observe -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	victim=$(json_get instances.0.id <"$BATS_TEST_TMPDIR/snap.json")
	python3 - "$BATS_TEST_TMPDIR/snap.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["instances"][0]["state"] = "STOPPED"
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --observed "$BATS_TEST_TMPDIR/snap.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 desired, 2 active, 1 failed"* ]]
	[[ "$output" == *"- release $victim "*"failed"* ]]
	[[ "$output" == *"+ launch 1 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"* ]]
	[ "${lines[-1]}" = "Plan: 1 to launch, 1 to release, 0 to replace." ]
}

@test "plan --observed: an offline plan applies while the world is as observed" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 4/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/four.yaml"
	"$SPOTENV" observe -q "$BATS_TEST_TMPDIR/four.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	env -u TENCENTCLOUD_SECRET_KEY "$SPOTENV" plan -q "$BATS_TEST_TMPDIR/four.yaml" \
		--observed "$BATS_TEST_TMPDIR/snap.json" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 1 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 4 ]
	# the world moved on since the snapshot: the same kind of plan is stale
	env -u TENCENTCLOUD_SECRET_KEY "$SPOTENV" plan -q "$BATS_TEST_TMPDIR/four.yaml" \
		--observed "$BATS_TEST_TMPDIR/snap.json" -o "$BATS_TEST_TMPDIR/old.json" >/dev/null
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/old.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan is stale"* ]]
	[[ "$stderr" == *": new (RUNNING)"* ]]
	[ "$(live_count web)" -eq 4 ]
}
