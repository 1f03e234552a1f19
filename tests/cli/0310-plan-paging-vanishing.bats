#!/usr/bin/env bats
# Offset paging skips instances when earlier ones vanish while the listing
# is read.  250 instances, the 20 oldest terminated just before a plan,
# 400 ms of latency so they vanish between the first page and the others:
# the listing notices (TotalCount moved, pages short) and is read again, so
# apply launches exactly the 20 replacements, never more.  TRIALS sets the
# number of trials (2 in make check; make soak runs 10).

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	# 250 MEDIUM4 in one zone: an account with a raised spot quota
	sim_start --pending-ms 100 --terminating-ms 100 --spot-quota-vcpu 0
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
	spec=$BATS_TEST_TMPDIR/big.yaml
	sed -e 's/name: web/name: big/' -e 's/capacity: 3/capacity: 250/' "$FX/web.yaml" >"$spec"
}

trials() {
	if [ -n "${TRIALS:-}" ]; then
		echo "$TRIALS"
	elif [ -n "${SOAK:-}" ]; then
		echo 10
	else
		echo 2
	fi
}

# The 20 oldest instances of big, as a JSON array.
oldest20() {
	sim_ctl state | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = [i for i in d["instances"] if (i.get("tags") or {}).get("spotenv:env") == "big"
     and i["state"] not in ("TERMINATING", "SHUTDOWN")]
v.sort(key=lambda i: (i.get("createdMs", 0), i["id"]))
print(json.dumps([i["id"] for i in v[:20]]))'
}

@test "paging: instances vanishing mid-listing never cause over-launch" {
	n=$(trials)
	over=0
	for ((t = 1; t <= n; t++)); do
		fx_reset
		run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
		[ "$status" -eq 0 ]
		[ "$(live_count big)" -eq 250 ]
		sim_ctl faults --latency-ms 400 --terminating-ms 600 >/dev/null
		sim_api TerminateInstances "{\"InstanceIds\":$(oldest20)}" >/dev/null
		run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
		echo "trial $t: $output"
		[ "$status" -eq 0 ]
		sim_ctl faults --latency-ms 0 >/dev/null
		sim_settle
		launched=$(sim_stat launched)
		over=$((over + launched - 270))
		[ "$(live_count big)" -eq 250 ]
		[ "$launched" -eq 270 ]
	done
	echo "# $n trials: $over launched beyond the 20 replacements" >&3
}
