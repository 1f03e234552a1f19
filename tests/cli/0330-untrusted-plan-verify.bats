#!/usr/bin/env bats
# apply PLANFILE verifies a saved plan before it does anything (issue 12,
# item 1): plan_check holds the plan to its own declarations right after
# parsing, apply_verify_plan holds its releases to the world just observed.
# Any violation refuses the whole plan, naming each offending entry.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
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

# launch N instances through the API carrying the tags given as KEY=VALUE...
tagged_launch() {
	local n=$1 tags="" kv
	shift
	for kv in "$@"; do
		tags="$tags${tags:+,}{\"Key\":\"${kv%%=*}\",\"Value\":\"${kv#*=}\"}"
	done
	sim_api RunInstances "{\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-dddddddd\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":$n,\"InstanceChargeType\":\"SPOTPAID\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"0.50\",\"SpotInstanceType\":\"one-time\"}},\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[$tags]}]}" |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("Response", d)
for x in d["InstanceIdSet"]:
    print(x)
'
}

# edit a plan file in place with a python statement on p (the document) and e
# (its environment 'web')
edit_plan() {
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
e = [x for x in p["environments"] if x["name"] == "web"][0]
exec(sys.argv[2])
json.dump(p, open(sys.argv[1], "w"), indent=2)
' "$@"
}

# add releases of the ids to the environment 'web', its counts kept consistent
# (as a careful editor would)
add_releases() {
	local plan=$1
	shift
	edit_plan "$plan" '
for i in sys.argv[3:]:
    e["releases"].append({"id": i, "env": e["name"], "region": e["region"], "zone": None,
        "instance_type": None, "state": None, "reason": "excess", "detail": None})
    e["to_release"] += 1
e["status"] = "changes"
' "$@"
}

@test "verify: releases of untagged, other-scope and env-only instances are refused, nothing done" {
	fx_apply "$FX/web.yaml"
	untagged=$(unowned_launch 1)
	other=$(tagged_launch 1 spotenv:env=web spotenv:scope=other spotenv:template=22deb4af2cca)
	envonly=$(tagged_launch 1 spotenv:env=web)
	sim_settle
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	add_releases "$BATS_TEST_TMPDIR/p.json" "$untagged" "$other" "$envonly"
	"$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" >/dev/null
	launched=$(sim_stat launched)
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refusing the saved plan: it releases instances that are not its environments' own; nothing was done"* ]]
	[[ "$stderr" == *"release of '$untagged' is not an instance spotenv owns"* ]]
	[[ "$stderr" == *"release of '$other' does not carry this environment's spotenv:env and spotenv:scope tags"* ]]
	[[ "$stderr" == *"release of '$envonly' does not carry this environment's"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(sim_stat requests.RunInstances)" -eq 4 ]
	[ "$(sim_stat launched)" -eq "$launched" ]
	[ "$(live_count web)" -eq 5 ]
	[ "$(live_count -)" -eq 1 ]
}

@test "verify: a release of another environment's instance is refused" {
	fx_apply "$FX/two.yaml"
	sed 's/capacity: 3/capacity: 2/' "$FX/two.yaml" >"$BATS_TEST_TMPDIR/two.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/two.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	job=$(live_ids jobs | sed -n 1p)
	add_releases "$BATS_TEST_TMPDIR/p.json" "$job"
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"environment 'web' release of '$job' does not carry this environment's spotenv:env and spotenv:scope tags"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
}

@test "verify: plans that do not hold to their own declarations are refused before the lock" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 5/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/five.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/five.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	check() { # NAME PYTHON-EDIT EXPECTED-LINE
		cp "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/$1.json"
		edit_plan "$BATS_TEST_TMPDIR/$1.json" "$2"
		# the lock is held by someone else: the refusal comes first
		run --separate-stderr "$SPOTENV" apply -q --lock-file "$BATS_TEST_TMPDIR/held.lock" \
			"$BATS_TEST_TMPDIR/$1.json"
		[ "$status" -eq 1 ] || { echo "$1: exit $status: $stderr"; return 1; }
		[[ "$stderr" == *"refusing the saved plan '$BATS_TEST_TMPDIR/$1.json'"* ]] ||
			{ echo "$1: $stderr"; return 1; }
		[[ "$stderr" == *"$3"* ]] || { echo "$1: want '$3' in: $stderr"; return 1; }
	}
	exec 9>"$BATS_TEST_TMPDIR/held.lock"
	flock -n 9
	check template-null 'e["template"] = None' "launches without a launch template"
	check status-error 'e["status"] = "error"' "status error without errors"
	check bid 'e["launches"][0]["bid"] = "99999.99"' "the bid is not pool 1's bid"
	check zone 'e["launches"][0]["zone"] = "ap-guangzhou-7"' "zone, type or subnet differ from pool 1"
	check copies 'e["launches"] = e["launches"] * 200' "appears more than once"
	check untagged 'e["launches"][0]["tags"] = []' "tag 'spotenv:env' must be 'web' once"
	check image 'e["template"]["image"] = "img-evil0000"' "its template hash is not that of the environment's launch template"
	check scope 'e["launches"][0]["tags"][1]["value"] = "other"' "tag 'spotenv:scope' must be 'default' once"
	exec 9>&-
	[ "$(sim_stat requests.RunInstances)" -eq 1 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	# show renders every one of them without crashing
	for f in template-null status-error bid copies untagged image; do
		"$SPOTENV" show "$BATS_TEST_TMPDIR/$f.json" >/dev/null
		"$SPOTENV" show --format markdown "$BATS_TEST_TMPDIR/$f.json" >/dev/null
		"$SPOTENV" show --format json "$BATS_TEST_TMPDIR/$f.json" >/dev/null
	done
}

@test "verify: a release with a null region is refused, not a crash" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 2/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/two.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/two.yaml" -o "$BATS_TEST_TMPDIR/p.json" >/dev/null
	edit_plan "$BATS_TEST_TMPDIR/p.json" 'e["releases"][0]["region"] = None'
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'environments[0].releases[0].region': expected a string"* ]]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
}
