#!/usr/bin/env bats
# spotenv sim: faults - rate limits, internal errors, dropped launches, tag lag,
# reclaims, latency - and their reproducibility from --seed.

load sim_helpers

teardown() {
	sim_stop
}

run_body() { # zone count [extra]
	echo "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"$1\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":$2,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}},\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"web\"}]}]${3:+,$3}}"
}

@test "rate limits are on by default: a burst of RunInstances gets RequestLimitExceeded" {
	sim_start
	[ "$(sim_ctl faults | json_get rates.RunInstances)" = 10 ]
	[ "$(sim_ctl faults | json_get rates.DescribeInstances)" = 40 ]
	# (the exact default window is checked in tests/unit/test_sim_core.c; here the
	# limit is lowered so that a burst trips it even on a slow sanitizer build)
	sim_ctl faults '{"rates":{"RunInstances":2}}' >/dev/null
	# 24 clients at once, each with its own client-side bucket: the server's window trips
	pids=()
	for _ in $(seq 24); do
		sim_api RunInstances "$(run_body ap-guangzhou-3 1 '"DryRun":true')" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true # (a bare wait would wait for the emulator too)
	run sim_ctl stats
	refused=$(echo "$output" | json_get errors RequestLimitExceeded)
	[ "$refused" -ge 1 ]
	# the DryRuns let through succeeded (a DryRun answers just a RequestId)
	[ $(($(echo "$output" | json_get requests.RunInstances) - refused)) -ge 2 ]
	[ "$(echo "$output" | json_get launched)" = 0 ]
}

@test "--no-rate-limits and the faults control turn rate limits off and on" {
	sim_start --no-rate-limits
	[ "$(sim_ctl faults | json_get rateLimits)" = false ]
	run sim_ctl faults --rate-limits on
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get rateLimits)" = true ]
	run sim_ctl faults '{"rates":{"DescribeInstances":2}}'
	[ "$(echo "$output" | json_get rates.DescribeInstances)" = 2 ]
	pids=()
	for _ in $(seq 8); do
		sim_api DescribeInstances '{}' >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	[ "$(sim_ctl stats | json_get errors RequestLimitExceeded)" -ge 1 ]
}

@test "--internal-error-rate 1 answers each action's documented internal error" {
	sim_start --internal-error-rate 1 --no-rate-limits
	# DescribeInstances and TerminateInstances document InternalServerError
	run sim_api DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"(InternalServerError:"* ]]
	run sim_api TerminateInstances '{"InstanceIds":["ins-aaaaaaaa"]}'
	[[ "$output" == *"(InternalServerError:"* ]]
	# the others InternalError
	run sim_api DescribeZoneInstanceConfigInfos '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"(InternalError:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 1)"
	[[ "$output" == *"(InternalError:"* ]]
	run sim_ctl stats
	[ "$(echo "$output" | json_get errors InternalServerError)" -ge 2 ]
	[ "$(echo "$output" | json_get errors InternalError)" -ge 3 ] # spotenv retried them
	[ "$(echo "$output" | json_get launched)" = 0 ]
	sim_ctl faults --internal-error-rate 0 >/dev/null
	run sim_api DescribeInstances '{}'
	[ "$status" -eq 0 ]
}

@test "--drop-after-commit-rate: the launch happens, the answer is lost, the retry gets the same ids" {
	sim_start --drop-after-commit-rate 1 --no-rate-limits --pending-ms 0
	# spotenv api retries after the dropped connection with the same body, so the
	# same ClientToken: the retry is answered with the instances already made
	run sim_api RunInstances "$(run_body ap-guangzhou-4 3 '"ClientToken":"drop-test-1"')"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get InstanceIdSet | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ]
	run sim_ctl stats
	[ "$(echo "$output" | json_get launched)" = 3 ]
	[ "$(echo "$output" | json_get dropped)" = 1 ]
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 3 ]
	# a body without a ClientToken gets one from spotenv api, so its retry
	# is answered with the instance already made as well
	run sim_api RunInstances "$(run_body ap-guangzhou-4 1)"
	[ "$status" -eq 0 ]
	[ "$(sim_ctl stats | json_get launched)" = 4 ]
	[ "$(sim_ctl stats | json_get dropped)" = 2 ]
}

@test "--tag-lag-ms hides new instances from tag filters for a while" {
	# a minute of the emulator's clock, moved on below rather than waited for
	sim_start --tag-lag-ms 60000 --no-rate-limits
	id=$(sim_api RunInstances "$(run_body ap-guangzhou-6 2)" | json_get InstanceIdSet.0)
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"tag:spotenv:env","Values":["web"]}]}' | json_get TotalCount)" = 0 ]
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"tag-key","Values":["spotenv:env"]}]}' | json_get TotalCount)" = 0 ]
	run sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}"
	[ "$(echo "$output" | json_get TotalCount)" = 1 ]
	[ "$(echo "$output" | json_get InstanceSet.0.Tags)" = "[]" ]
	sim_clock_advance 60000
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"tag:spotenv:env","Values":["web"]}]}' | json_get TotalCount)" = 2 ]
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"tag-key","Values":["spotenv:env"]}]}' | json_get TotalCount)" = 2 ]
}

@test "reclaim on command: by environment and by id; reclaimed instances are SHUTDOWN, then gone" {
	sim_start --no-rate-limits --pending-ms 0 --terminating-ms 60000
	sim_api RunInstances "$(run_body ap-guangzhou-3 5)" >/dev/null
	other=$(sim_api RunInstances "$(run_body ap-guangzhou-3 2 | sed 's/"Value":"web"/"Value":"db"/')" | json_get InstanceIdSet.0)
	run sim_ctl reclaim --count 2 --env web
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get reclaimed | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]
	victim=$(echo "$output" | json_get reclaimed.0)
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":[\"$victim\"]}" | json_get InstanceSet.0.InstanceState)" = SHUTDOWN ]
	run sim_ctl reclaim "$other"
	[ "$(echo "$output" | json_get reclaimed.0)" = "$other" ]
	[ "$(sim_ctl stats | json_get reclaimed)" = 3 ]
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"instance-state","Values":["RUNNING"]}]}' | json_get TotalCount)" = 4 ]
	# SHUTDOWN until terminatingMs of the emulator's clock is over, then gone
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 7 ]
	sim_clock_advance 60000
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 4 ]
	run sim_ctl reclaim ins-00000000
	[ "$status" -eq 1 ]
	[[ "$output" == *"not found"* ]]
}

@test "--reclaim-per-minute reclaims instances over time" {
	# 6 a minute over two minutes of the emulator's clock: 12, and one more
	# for every 10 s that the machine itself takes (no more than 40 unless
	# it is slower than 4 minutes)
	# (50 MEDIUM4 in one zone: an account with a raised spot quota)
	sim_start --no-rate-limits --pending-ms 0 --reclaim-per-minute 6 --spot-quota-vcpu 0
	sim_api RunInstances "$(run_body ap-guangzhou-7 50)" >/dev/null
	sim_clock_advance 120000
	sim_api DescribeInstances '{}' >/dev/null
	n=$(sim_ctl stats | json_get reclaimed)
	[ "$n" -ge 12 ]
	[ "$n" -le 40 ]
}

@test "--launch-fail-rate turns new instances LAUNCH_FAILED after pending" {
	sim_start --launch-fail-rate 1 --pending-ms 0 --no-rate-limits
	id=$(sim_api RunInstances "$(run_body ap-guangzhou-3 1)" | json_get InstanceIdSet.0)
	run sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}"
	[ "$(echo "$output" | json_get InstanceSet.0.InstanceState)" = LAUNCH_FAILED ]
	[ "$(echo "$output" | json_get InstanceSet.0.LatestOperationState)" = FAILED ]
	sim_ctl faults --launch-fail-rate 0 >/dev/null
	id=$(sim_api RunInstances "$(run_body ap-guangzhou-3 1)" | json_get InstanceIdSet.0)
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}" | json_get InstanceSet.0.InstanceState)" = RUNNING ]
}

@test "--latency-ms delays every answer" {
	# long enough that a busy machine's own delays cannot make the control
	# call look delayed
	sim_start --latency-ms 1500 --no-rate-limits
	start=$(date +%s%N)
	sim_api DescribeInstances '{}' >/dev/null
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$elapsed" -ge 1500 ]
	# the control API is not delayed
	start=$(date +%s%N)
	sim_ctl stats >/dev/null
	[ $((($(date +%s%N) - start) / 1000000)) -lt 1500 ]
}

@test "the same --seed gives the same instance ids" {
	sim_start --seed 7 --no-rate-limits
	a=$(sim_api RunInstances "$(run_body ap-guangzhou-3 5)" | json_get InstanceIdSet)
	sim_stop
	sim_start --seed 7 --no-rate-limits
	b=$(sim_api RunInstances "$(run_body ap-guangzhou-3 5)" | json_get InstanceIdSet)
	sim_stop
	sim_start --seed 8 --no-rate-limits
	c=$(sim_api RunInstances "$(run_body ap-guangzhou-3 5)" | json_get InstanceIdSet)
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
}
