#!/usr/bin/env bats
# spotenv observe: the snapshot that plan --observed and status --observed
# read (docs/observed-format.md).

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

@test "observe: writes the owned instances and the pools' offers" {
	unowned_launch 2 >/dev/null
	fx_apply "$FX/two.yaml"
	run --separate-stderr "$SPOTENV" observe "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/snap.json"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = "spotenv: observed 7 instances in 2 regions; wrote '$BATS_TEST_TMPDIR/snap.json'" ]
	python3 - "$BATS_TEST_TMPDIR/snap.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == "1", d
assert sorted(d["regions"]) == ["ap-guangzhou", "ap-shanghai"], d["regions"]
ids = [i["id"] for i in d["instances"]]
assert ids == sorted(ids), ids              # stable order
assert len(ids) == 7, ids                   # the untagged two are not there
for i in d["instances"]:
    tags = {t["key"]: t["value"] for t in i["tags"]} if isinstance(i["tags"], list) else i["tags"]
    assert tags["spotenv:env"] in ("web", "jobs"), i
    assert i["state"] == "RUNNING", i
offers = {(o["zone"], o["type"]): o for o in d["offers"]}
assert offers[("ap-guangzhou-3", "S5.MEDIUM4")]["price"] == "0.12", offers
assert offers[("ap-guangzhou-3", "S5.MEDIUM4")]["status"] == "SELL", offers
assert ("ap-shanghai-4", "SA2.MEDIUM4") in offers, offers
PY
	# the same ids as the emulator has for those environments
	[ "$(json_get instances <"$BATS_TEST_TMPDIR/snap.json" | python3 -c 'import json,sys; print("\n".join(sorted(i["id"] for i in json.load(sys.stdin))))')" = \
	  "$( (live_ids web; live_ids jobs) | sort)" ]
}

@test "observe: one instance in one region, singular words; stdout without -o" {
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 1/' "$spec"
	fx_apply "$spec"
	run --separate-stderr "$SPOTENV" observe "$spec" -o "$BATS_TEST_TMPDIR/s.json"
	[ "$stderr" = "spotenv: observed 1 instance in 1 region; wrote '$BATS_TEST_TMPDIR/s.json'" ]
	run --separate-stderr "$SPOTENV" observe "$spec"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(json_get format_version <<<"$output")" = "1" ]
	[ "$(json_get regions <<<"$output")" = '["ap-guangzhou"]' ]
}

@test "observe: --env observes only that environment's region" {
	fx_apply "$FX/two.yaml"
	run --separate-stderr "$SPOTENV" observe "$FX/two.yaml" --env jobs
	[ "$status" -eq 0 ]
	[ "$(json_get regions <<<"$output")" = '["ap-shanghai"]' ]
	[[ "$output" != *"ap-guangzhou"* ]]
	[ "$(json_get instances <<<"$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 4 ]
}

@test "observe: snapshots carry leaving instances and sold-out pools as they are" {
	fx_apply "$FX/web.yaml"
	# leaving until the clock moves on (it does not in this test)
	sim_ctl faults --terminating-ms 3600000 >/dev/null
	sim_ctl reclaim --count 1 --env web >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	"$SPOTENV" observe -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/s.json"
	python3 - "$BATS_TEST_TMPDIR/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
states = sorted(i["state"] for i in d["instances"])
assert states == ["RUNNING", "RUNNING", "SHUTDOWN"] or states == ["RUNNING", "RUNNING", "TERMINATING"], states
o = [o for o in d["offers"] if o["zone"] == "ap-guangzhou-4"][0]
assert o["status"] == "SOLD_OUT", o
PY
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --observed "$BATS_TEST_TMPDIR/s.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 desired, 2 active, 1 leaving"* ]]
	[[ "$output" == *"pool 2 (ap-guangzhou-4 S5.MEDIUM4) is sold out"* ]]
	[ "${lines[-1]}" = "Plan: 1 to launch, 0 to release, 0 to replace." ]
}

@test "observe: usage errors exit 64, no credentials 1" {
	run --separate-stderr "$SPOTENV" observe
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no specs given"* ]]
	run --separate-stderr "$SPOTENV" observe "$FX/web.yaml" extra-arg-that-does-not-exist.yaml
	[ "$status" -eq 1 ]
	run --separate-stderr env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY \
		HOME="$BATS_TEST_TMPDIR" "$SPOTENV" observe "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ -n "$stderr" ]
}
