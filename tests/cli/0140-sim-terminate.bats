#!/usr/bin/env bats
# spotenv sim: TerminateInstances, the TERMINATING state and stock returned.

load sim_helpers

setup() {
	# TERMINATING for a minute of the emulator's clock (moved on by the
	# tests, never waited for)
	sim_start --pending-ms 0 --terminating-ms 60000 --no-rate-limits
}

teardown() {
	sim_stop
}

launch() { # count -> ids as a JSON array
	sim_api RunInstances "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"ap-shanghai-4\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":$1,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}}}" --region ap-shanghai |
		json_get InstanceIdSet
}

stock() {
	sim_ctl pool | python3 -c 'import json,sys; print([p["stock"] for p in json.load(sys.stdin) if p["zone"]=="ap-shanghai-4" and p["instanceType"]=="S5.MEDIUM4"][0])'
}

@test "terminated instances pass through TERMINATING, vanish, and give their stock back" {
	ids=$(launch 3)
	[ "$(stock)" = 197 ]
	run sim_api TerminateInstances "{\"InstanceIds\":$ids}" --region ap-shanghai
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" = "['RequestId']" ]
	run sim_api DescribeInstances "{\"InstanceIds\":$ids}" --region ap-shanghai
	[ "$(echo "$output" | json_get TotalCount)" = 3 ]
	[ "$(echo "$output" | json_get InstanceSet.0.InstanceState)" = TERMINATING ]
	# still there (and the stock still taken) until terminatingMs is over
	[ "$(stock)" = 197 ]
	sim_clock_advance 60000
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":$ids}" --region ap-shanghai | json_get TotalCount)" = 0 ]
	[ "$(stock)" = 200 ]
	run sim_ctl stats
	[ "$(echo "$output" | json_get terminated)" = 3 ]
	[ "$(echo "$output" | json_get instances)" = 0 ]
}

@test "unknown ids get InvalidInstanceId.NotFound and nothing is terminated" {
	ids=$(launch 2)
	both=$(echo "$ids" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin) + ["ins-zzzzzzzz"]))')
	run sim_api TerminateInstances "{\"InstanceIds\":$both}" --region ap-shanghai
	[ "$status" -eq 1 ]
	[[ "$output" == *"InvalidInstanceId.NotFound"* ]]
	[[ "$output" == *"ins-zzzzzzzz"* ]]
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"instance-state","Values":["RUNNING"]}]}' --region ap-shanghai | json_get TotalCount)" = 2 ]
	# ids of another region are unknown there
	run sim_api TerminateInstances "{\"InstanceIds\":$ids}" --region ap-guangzhou
	[[ "$output" == *"InvalidInstanceId.NotFound"* ]]
}

@test "at most 100 ids; malformed ids and a missing list are rejected" {
	ids=$(python3 -c 'import json; print(json.dumps(["ins-%08d" % i for i in range(101)]))')
	run sim_api TerminateInstances "{\"InstanceIds\":$ids}"
	[[ "$output" == *"InvalidParameterValue.LimitExceeded"* ]]
	run sim_api TerminateInstances '{"InstanceIds":["i-abc"]}'
	[[ "$output" == *"InvalidInstanceId.Malformed"* ]]
	run sim_api TerminateInstances '{}'
	[[ "$output" == *"MissingParameter"* ]]
}
