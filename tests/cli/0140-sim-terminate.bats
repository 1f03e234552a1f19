#!/usr/bin/env bats
# spotenv sim: TerminateInstances, the TERMINATING state and stock returned;
# the state rules, termination protection, all-or-nothing batches and the
# removal of LAUNCH_FAILED instances.

load sim_helpers

setup() {
	# TERMINATING for a minute of the emulator's clock (moved on by the
	# tests, never waited for)
	sim_start --pending-ms 0 --terminating-ms 60000 --no-rate-limits
}

teardown() {
	sim_stop
}

launch() { # count [extra JSON members] -> ids as a JSON array
	sim_api RunInstances "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"ap-shanghai-4\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":$1,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}}${2:+,$2}}" --region ap-shanghai |
		json_get InstanceIdSet
}

terminate() { # JSON array of ids
	sim_api TerminateInstances "{\"InstanceIds\":$1}" --region ap-shanghai
}

state_of() { # id
	sim_api DescribeInstances "{\"InstanceIds\":[\"$1\"]}" --region ap-shanghai | json_get InstanceSet.0.InstanceState
}

running() {
	sim_api DescribeInstances '{"Filters":[{"Name":"instance-state","Values":["RUNNING"]}]}' --region ap-shanghai | json_get TotalCount
}

join() { # JSON arrays -> one JSON array
	python3 -c 'import json,sys; print(json.dumps(sum((json.loads(a) for a in sys.argv[1:]), [])))' "$@"
}

nth() { # JSON array, index
	echo "$1" | json_get "$2"
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

@test "PENDING instances cannot be terminated, and one refused id fails the whole call" {
	ok=$(launch 2)
	sim_ctl faults --pending-ms 60000 >/dev/null
	pending=$(launch 2)
	run terminate "$(join "$ok" "$pending")"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.InstanceStatePending:"* ]]
	# the message names the refused ids, and only those
	[[ "$output" == *"$(nth "$pending" 0)"* ]]
	[[ "$output" == *"$(nth "$pending" 1)"* ]]
	[[ "$output" != *"$(nth "$ok" 0)"* ]]
	# nothing was terminated
	[ "$(running)" = 2 ]
	[ "$(sim_stat terminated)" = 0 ]
	# without them the rest goes
	run terminate "$ok"
	[ "$status" -eq 0 ]
	[ "$(sim_stat terminated)" = 2 ]
	# once RUNNING, the others go too
	sim_clock_advance 60000
	run terminate "$pending"
	[ "$status" -eq 0 ]
}

@test "TERMINATING and SHUTDOWN instances are refused with InstanceStateTerminating" {
	ids=$(launch 3)
	run terminate "[\"$(nth "$ids" 0)\"]"
	[ "$status" -eq 0 ]
	run terminate "$ids"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.InstanceStateTerminating:"* ]]
	[[ "$output" == *"$(nth "$ids" 0)"* ]]
	[ "$(running)" = 2 ]
	sim_ctl reclaim "$(nth "$ids" 1)" >/dev/null
	[ "$(state_of "$(nth "$ids" 1)")" = SHUTDOWN ]
	run terminate "[\"$(nth "$ids" 1)\"]"
	[[ "$output" == *"(UnsupportedOperation.InstanceStateTerminating:"* ]]
	# gone: not found
	sim_clock_advance 60000
	run terminate "[\"$(nth "$ids" 0)\"]"
	[[ "$output" == *"(InvalidInstanceId.NotFound:"* ]]
	run terminate "[\"$(nth "$ids" 2)\"]"
	[ "$status" -eq 0 ]
}

@test "REBOOTING, STOPPING and STARTING instances are refused; STOPPED ones can be terminated" {
	ids=$(launch 3)
	a=$(nth "$ids" 0) b=$(nth "$ids" 1) c=$(nth "$ids" 2)
	run sim_ctl operate reboot "$a" --ms 30000
	[ "$status" -eq 0 ]
	run sim_ctl operate stop "$b" --ms 30000
	[ "$status" -eq 0 ]
	[ "$(state_of "$a")" = REBOOTING ]
	[ "$(state_of "$b")" = STOPPING ]
	run terminate "[\"$a\"]"
	[[ "$output" == *"(UnsupportedOperation.InstanceStateRebooting:"* ]]
	run terminate "[\"$c\",\"$b\"]"
	[[ "$output" == *"(UnsupportedOperation.InstanceStateStopping:"* ]]
	[ "$(state_of "$c")" = RUNNING ]
	# an operation needs the right state
	run sim_ctl operate start "$c"
	[ "$status" -eq 1 ]
	[[ "$output" == *"is RUNNING"* ]]
	sim_clock_advance 30000
	[ "$(state_of "$a")" = RUNNING ]
	[ "$(state_of "$b")" = STOPPED ]
	run sim_ctl operate start "$b" --ms 30000
	[ "$status" -eq 0 ]
	run terminate "[\"$b\"]"
	[[ "$output" == *"(UnsupportedOperation.InstanceStateStarting:"* ]]
	sim_clock_advance 30000
	sim_ctl operate stop "$b" --ms 0 >/dev/null
	[ "$(state_of "$b")" = STOPPED ]
	run terminate "$ids"
	[ "$status" -eq 0 ]
}

@test "termination protection: InstancesProtected, from the launch or from sim ctl protect" {
	guarded=$(launch 1 '"DisableApiTermination":true')
	plain=$(launch 2)
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":$guarded}" --region ap-shanghai | json_get InstanceSet.0.DisableApiTermination)" = true ]
	run terminate "$(join "$plain" "$guarded")"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.InstancesProtected:"* ]]
	[[ "$output" == *"$(nth "$guarded" 0)"* ]]
	[[ "$output" != *"$(nth "$plain" 0)"* ]]
	[ "$(running)" = 3 ]
	run sim_ctl protect "$(nth "$plain" 0)"
	[ "$status" -eq 0 ]
	run terminate "[\"$(nth "$plain" 0)\"]"
	[[ "$output" == *"(UnsupportedOperation.InstancesProtected:"* ]]
	run sim_ctl protect --protected off "$(nth "$plain" 0)" "$(nth "$guarded" 0)"
	[ "$status" -eq 0 ]
	run sim_ctl protect ins-00000000
	[ "$status" -eq 1 ]
	[[ "$output" == *"not found"* ]]
	run terminate "$(join "$plain" "$guarded")"
	[ "$status" -eq 0 ]
}

@test "LAUNCH_FAILED instances cannot be terminated and are removed after a while" {
	sim_ctl faults --launch-fail-rate 1 >/dev/null
	failed=$(launch 2)
	sim_ctl faults --launch-fail-rate 0 >/dev/null
	[ "$(state_of "$(nth "$failed" 0)")" = LAUNCH_FAILED ]
	run terminate "$failed"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.InstanceStateLaunchFailed:"* ]]
	# they keep their stock (and quota) until removed: 60 s by default
	[ "$(stock)" = 198 ]
	# (half way on the emulator's clock, leaving the machine 30 s of its own)
	sim_clock_advance 30000
	[ "$(state_of "$(nth "$failed" 0)")" = LAUNCH_FAILED ]
	sim_clock_advance 30000
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":$failed}" --region ap-shanghai | json_get TotalCount)" = 0 ]
	[ "$(stock)" = 200 ]
	[ "$(sim_stat launchFailedRemoved)" = 2 ]
	# the time is a knob
	sim_ctl faults --launch-fail-rate 1 --launch-failed-ttl-ms 1000 >/dev/null
	failed=$(launch 1)
	sim_clock_advance 1000
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":$failed}" --region ap-shanghai | json_get TotalCount)" = 0 ]
}

@test "one call may not mix SPOTPAID and POSTPAID_BY_HOUR instances" {
	spot=$(launch 1)
	paid=$(sim_api RunInstances '{"Placement":{"Zone":"ap-shanghai-4"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4"}' --region ap-shanghai | json_get InstanceIdSet)
	run terminate "$(join "$spot" "$paid")"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.InstanceMixedPricingModel:"* ]]
	run terminate "$spot"
	[ "$status" -eq 0 ]
	run terminate "$paid"
	[ "$status" -eq 0 ]
}

@test "an operation in progress: OperationDenied.InstanceOperationInProgress, nothing terminated" {
	ids=$(launch 2)
	sim_ctl faults --operation-in-progress-rate 1 >/dev/null
	run terminate "$ids"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(OperationDenied.InstanceOperationInProgress:"* ]]
	[ "$(running)" = 2 ]
	sim_ctl faults --operation-in-progress-rate 0 >/dev/null
	run terminate "$ids"
	[ "$status" -eq 0 ]
}
