#!/usr/bin/env bats
# spotenv sim: DescribeInstances filters, ids, paging, limits and errors.

load sim_helpers

RUN='{"InstanceChargeType":"SPOTPAID","Placement":{"Zone":"ZONE"},"ImageId":"img-pmqg1cw7","InstanceType":"TYPE","InstanceCount":COUNT,"InstanceName":"web","InstanceMarketOptions":{"MarketType":"spot","SpotOptions":{"MaxPrice":"0.90"}},"TagSpecification":[{"ResourceType":"instance","Tags":[{"Key":"spotenv:env","Value":"ENV"},{"Key":"team","Value":"TEAM"}]}]}'

launch() { # zone type count env team
	local b=${RUN/ZONE/$1}
	b=${b/TYPE/$2}
	b=${b/COUNT/$3}
	b=${b/ENV/$4}
	b=${b/TEAM/$5}
	sim_api RunInstances "$b"
}

setup_file() {
	# 30 MEDIUM4 in one zone: an account with a raised spot quota
	sim_start --pending-ms 0 --no-rate-limits --spot-quota-vcpu 0
	launch ap-guangzhou-3 S5.MEDIUM4 30 web blue >/dev/null
	launch ap-guangzhou-4 S5.LARGE8 12 batch red >/dev/null
	launch ap-guangzhou-4 SA2.MEDIUM4 5 batch blue >/dev/null
	SIM_REGION=ap-shanghai launch ap-shanghai-2 S5.MEDIUM4 9 web blue >/dev/null
}

teardown_file() {
	sim_stop
}

count() {
	sim_api DescribeInstances "$1" | json_get TotalCount
}

@test "tag filters: tag-key, tag:KEY and tag-value" {
	[ "$(count '{"Filters":[{"Name":"tag-key","Values":["spotenv:env"]}]}')" = 47 ]
	[ "$(count '{"Filters":[{"Name":"tag:spotenv:env","Values":["batch"]}]}')" = 17 ]
	[ "$(count '{"Filters":[{"Name":"tag:spotenv:env","Values":["batch","web"]}]}')" = 47 ]
	[ "$(count '{"Filters":[{"Name":"tag-value","Values":["blue"]}]}')" = 35 ]
	[ "$(count '{"Filters":[{"Name":"tag:team","Values":["blue"]},{"Name":"tag:spotenv:env","Values":["batch"]}]}')" = 5 ]
	[ "$(count '{"Filters":[{"Name":"tag-key","Values":["nope"]}]}')" = 0 ]
}

@test "zone, instance-state, instance-charge-type and instance-type filters" {
	[ "$(count '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-4"]}]}')" = 17 ]
	[ "$(count '{"Filters":[{"Name":"instance-state","Values":["RUNNING"]}]}')" = 47 ]
	[ "$(count '{"Filters":[{"Name":"instance-state","Values":["PENDING"]}]}')" = 0 ]
	[ "$(count '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}')" = 47 ]
	[ "$(count '{"Filters":[{"Name":"instance-charge-type","Values":["PREPAID"]}]}')" = 0 ]
	[ "$(count '{"Filters":[{"Name":"instance-type","Values":["S5.LARGE8"]}]}')" = 12 ]
}

@test "the other region's instances are not seen" {
	[ "$(count '{}')" = 47 ]
	[ "$(SIM_REGION=ap-shanghai count '{}')" = 9 ]
}

@test "InstanceIds and the instance-id filter; unknown ids are simply absent" {
	ids=$(sim_api DescribeInstances '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-4"]}],"Limit":2}' |
		python3 -c 'import json,sys; print(",".join(json.dumps(i["InstanceId"]) for i in json.load(sys.stdin)["InstanceSet"]))')
	[ "$(count "{\"InstanceIds\":[$ids,\"ins-00000000\"]}")" = 2 ]
	[ "$(count "{\"Filters\":[{\"Name\":\"instance-id\",\"Values\":[$ids]}]}")" = 2 ]
	# an id of the other region is not returned either
	sh=$(SIM_REGION=ap-shanghai sim_api DescribeInstances '{"Limit":1}' | json_get InstanceSet.0.InstanceId)
	[ "$(count "{\"InstanceIds\":[\"$sh\"]}")" = 0 ]
}

@test "Offset and Limit page through everything exactly once" {
	run sim_api DescribeInstances '{}'
	[ "$(echo "$output" | json_get TotalCount)" = 47 ]
	[ "$(echo "$output" | json_get InstanceSet | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 20 ]
	all=""
	for off in 0 10 20 30 40; do
		page=$(sim_api DescribeInstances "{\"Offset\":$off,\"Limit\":10}" |
			python3 -c 'import json,sys; print(" ".join(i["InstanceId"] for i in json.load(sys.stdin)["InstanceSet"]))')
		all="$all $page"
	done
	[ "$(wc -w <<<"$all")" = 47 ]
	[ "$(xargs -n 1 <<<"$all" | sort -u | wc -l)" = 47 ]
	[ "$(sim_api DescribeInstances '{"Offset":100}' | json_get InstanceSet)" = "[]" ]
}

@test "Instance objects look like the real ones" {
	run sim_api DescribeInstances '{"Filters":[{"Name":"tag:spotenv:env","Values":["batch"]},{"Name":"instance-type","Values":["SA2.MEDIUM4"]}],"Limit":1}'
	[ "$status" -eq 0 ]
	in=$(echo "$output" | json_get InstanceSet.0)
	[[ "$(echo "$in" | json_get InstanceId)" =~ ^ins-[a-z0-9]{8}$ ]]
	[[ "$(echo "$in" | json_get InstanceName)" =~ ^web[1-5]$ ]]
	[ "$(echo "$in" | json_get InstanceType)" = SA2.MEDIUM4 ]
	[ "$(echo "$in" | json_get InstanceState)" = RUNNING ]
	[ "$(echo "$in" | json_get InstanceChargeType)" = SPOTPAID ]
	[ "$(echo "$in" | json_get Placement.Zone)" = ap-guangzhou-4 ]
	[ "$(echo "$in" | json_get Placement.ProjectId)" = 0 ]
	[ "$(echo "$in" | json_get ImageId)" = img-pmqg1cw7 ]
	[ "$(echo "$in" | json_get CPU)" = 2 ]
	[ "$(echo "$in" | json_get Memory)" = 4 ]
	[[ "$(echo "$in" | json_get CreatedTime)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	[ "$(echo "$in" | json_get Tags)" = '[{"Key": "spotenv:env", "Value": "batch"}, {"Key": "team", "Value": "blue"}]' ]
}

@test "limits and malformed requests get the real error codes" {
	check() { # body code
		run sim_api DescribeInstances "$1"
		[ "$status" -eq 1 ] || { echo "status $status for $1"; return 1; }
		[[ "$output" == *"($2:"* ]] || { echo "want $2 for $1: $output"; return 1; }
	}
	check '{"Limit":101}' InvalidParameterValue
	check '{"Limit":-1}' InvalidParameterValue
	check '{"Offset":-3}' InvalidParameterValue
	check '{"InstanceIds":["ins-aaaaaaaa"],"Filters":[{"Name":"zone","Values":["ap-guangzhou-3"]}]}' InvalidParameter
	check '{"InstanceIds":["i-123"]}' InvalidInstanceId.Malformed
	check '{"Filters":[{"Name":"colour","Values":["red"]}]}' InvalidFilter
	check '{"Filters":[{"Name":"zone","Values":["a","b","c","d","e","f"]}]}' InvalidFilterValue.LimitExceeded
	check '{"Filters":[{"Name":"zone","Values":["ap-beijing-5"]}]}' InvalidZone.MismatchRegion
	check '{"Filters":[{"Name":"zone"}]}' MissingParameter
	check '{"Limit":10,"Colour":"red"}' UnknownParameter
	f='{"Name":"tag-key","Values":["x"]}'
	check "{\"Filters\":[$f,$f,$f,$f,$f,$f,$f,$f,$f,$f,$f]}" InvalidParameterValue.LimitExceeded
	ids=$(python3 -c 'import json; print(json.dumps(["ins-%08d" % i for i in range(101)]))')
	check "{\"InstanceIds\":$ids}" InvalidParameterValue.LimitExceeded
	# exactly at the limits is fine
	run sim_api DescribeInstances "{\"Filters\":[$f,$f,$f,$f,$f,$f,$f,$f,$f,$f],\"Limit\":100}"
	[ "$status" -eq 0 ]
}
