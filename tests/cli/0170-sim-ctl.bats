#!/usr/bin/env bats
# spotenv sim ctl and the control API: stats that add up, faults, pools,
# state dump and reset.

load sim_helpers

setup() {
	sim_start --no-rate-limits --pending-ms 0 --terminating-ms 200
}

teardown() {
	sim_stop
}

run_body() { # zone count
	echo "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"$1\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":$2,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}},\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"c\"}]}]}"
}

@test "counters add up" {
	ids=$(sim_api RunInstances "$(run_body ap-guangzhou-3 6)" | json_get InstanceIdSet)
	sim_api RunInstances "$(run_body ap-guangzhou-4 4)" >/dev/null
	sim_api RunInstances "$(run_body ap-guangzhou-4 0)" >/dev/null 2>&1 || true
	first2=$(echo "$ids" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[:2]))')
	sim_api TerminateInstances "{\"InstanceIds\":$first2}" >/dev/null
	sim_api TerminateInstances '{"InstanceIds":["ins-zzzzzzzz"]}' >/dev/null 2>&1 || true
	for _ in 1 2 3; do sim_api DescribeInstances '{}' >/dev/null; done
	sim_api DescribeZoneInstanceConfigInfos '{}' >/dev/null
	sim_ctl reclaim --count 3 --env c >/dev/null
	# past terminatingMs (200) on the emulator's clock: the 5 leaving are gone
	sim_clock_advance 1000
	sim_api DescribeInstances '{}' >/dev/null
	run sim_ctl stats
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(echo "$output" | json_get requests.RunInstances)" = 3 ]
	[ "$(echo "$output" | json_get requests.TerminateInstances)" = 2 ]
	[ "$(echo "$output" | json_get requests.DescribeInstances)" = 4 ]
	[ "$(echo "$output" | json_get requests.DescribeZoneInstanceConfigInfos)" = 1 ]
	[ "$(echo "$output" | json_get totalRequests)" = 10 ]
	[ "$(echo "$output" | json_get errors InvalidParameterValue)" = 1 ]
	[ "$(echo "$output" | json_get errors InvalidInstanceId.NotFound)" = 1 ]
	[ "$(echo "$output" | json_get totalErrors)" = 2 ]
	[ "$(echo "$output" | json_get launched)" = 10 ]
	[ "$(echo "$output" | json_get terminated)" = 2 ]
	[ "$(echo "$output" | json_get reclaimed)" = 3 ]
	[ "$(echo "$output" | json_get instances)" = 5 ]
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 5 ]
}

@test "faults: read, change, reject bad values" {
	run sim_ctl faults
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get pendingMs)" = 0 ]
	[ "$(echo "$output" | json_get latencyMs)" = 0 ]
	run sim_ctl faults --latency-ms 5 --tag-lag-ms 10 --pending-ms 20 --reclaim-per-minute 1.5
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get latencyMs)" = 5 ]
	[ "$(echo "$output" | json_get tagLagMs)" = 10 ]
	[ "$(echo "$output" | json_get pendingMs)" = 20 ]
	[ "$(echo "$output" | json_get reclaimPerMinute)" = 1.5 ]
	run sim_ctl faults '{"internalErrorRate":1.5}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"internalErrorRate"* ]]
	run sim_ctl faults '{"colour":1}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown fault 'colour'"* ]]
	run sim_ctl faults '{not json'
	[ "$status" -eq 1 ]
	[ "$(sim_ctl faults | json_get latencyMs)" = 5 ]
}

@test "faults: the strict world's knobs, with their defaults" {
	run sim_ctl faults
	[ "$(echo "$output" | json_get spotQuotaVcpu)" = 50 ]
	[ "$(echo "$output" | json_get launchFailedTtlMs)" = 60000 ]
	[ "$(echo "$output" | json_get operationInProgressRate)" = 0 ]
	[ "$(echo "$output" | json_get insufficientBalance)" = false ]
	[ "$(echo "$output" | json_get accountQuotaUnsupported)" = false ]
	[ "$(echo "$output" | json_get rates.DescribeAccountQuota)" = 20 ]
	run sim_ctl faults --spot-quota-vcpu 8 --launch-failed-ttl-ms 100 --operation-in-progress-rate 0.5 \
		--insufficient-balance on --account-quota-unsupported on
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get spotQuotaVcpu)" = 8 ]
	[ "$(echo "$output" | json_get launchFailedTtlMs)" = 100 ]
	[ "$(echo "$output" | json_get operationInProgressRate)" = 0.5 ]
	[ "$(echo "$output" | json_get insufficientBalance)" = true ]
	[ "$(echo "$output" | json_get accountQuotaUnsupported)" = true ]
	run sim_ctl faults '{"spotQuotaVcpu":-1}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"spotQuotaVcpu"* ]]
	run sim_ctl faults '{"insufficientBalance":"yes"}'
	[ "$status" -eq 1 ]
	# reset puts the start-up values back
	sim_ctl reset >/dev/null
	[ "$(sim_ctl faults | json_get spotQuotaVcpu)" = 50 ]
	[ "$(sim_ctl faults | json_get insufficientBalance)" = false ]
}

@test "pool: list, change stock and price, add a pool, reject unknown zones" {
	run sim_ctl pool
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 50 ]
	run sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 3 --price 0.5
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get stock)" = 3 ]
	[ "$(echo "$output" | json_get price)" = 0.5 ]
	run sim_ctl pool --zone ap-guangzhou-3 --type S6.LARGE16 --stock 9 --price 0.33
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get cpu)" = 4 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 1 | sed 's/S5.MEDIUM4/S6.LARGE16/')"
	[ "$status" -eq 0 ]
	run sim_ctl pool --zone ap-mars-1 --type S5.MEDIUM4 --stock 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"zone 'ap-mars-1' not found"* ]]
	run sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --price cheap
	[ "$status" -eq 1 ]
	run sim_ctl pool --region ap-beijing --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 1
	[ "$status" -eq 1 ]
	run sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --spot off
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get spot)" = false ]
	run sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 '{"zone":"ap-guangzhou-3","instanceType":"S5.MEDIUM4","spot":"no"}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"'spot' must be true or false"* ]]
}

@test "state dumps the world and reset restores the start" {
	sim_api RunInstances "$(run_body ap-guangzhou-6 2)" >/dev/null
	sim_ctl pool --zone ap-guangzhou-6 --type S5.MEDIUM4 --price 0.99 >/dev/null
	run sim_ctl state
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get version)" = 1 ]
	[ "$(echo "$output" | json_get instances.0.zone)" = ap-guangzhou-6 ]
	[ "$(echo "$output" | json_get instances 0 tags spotenv:env)" = c ]
	[ "$(echo "$output" | json_get stats.launched)" = 2 ]
	run sim_ctl reset
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get reset)" = true ]
	run sim_ctl stats
	[ "$(echo "$output" | json_get launched)" = 0 ]
	[ "$(echo "$output" | json_get instances)" = 0 ]
	[ "$(echo "$output" | json_get totalRequests)" = 0 ]
	run sim_ctl pool
	[[ "$output" == *'"zone":"ap-guangzhou-6","instanceType":"S5.MEDIUM4","stock":200,"price":"0.14"'* ]]
}

@test "the control API answers JSON errors for unknown endpoints and methods" {
	run curl -s -w ' %{http_code}' "$SIM_URL/_sim/nothing"
	[[ "$output" == *'"error"'*' 404' ]]
	run curl -s -w ' %{http_code}' -X DELETE "$SIM_URL/_sim/stats"
	[[ "$output" == *' 405' ]]
	run curl -s -w ' %{http_code}' "$SIM_URL/elsewhere"
	[[ "$output" == *' 404' ]]
	run curl -s -w ' %{http_code}' -X POST -d '[1]' "$SIM_URL/_sim/reclaim"
	[[ "$output" == *' 400' ]]
}
