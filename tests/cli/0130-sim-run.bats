#!/usr/bin/env bats
# spotenv sim: RunInstances shapes, limits, capacity, price, ClientToken and
# DryRun, the spot quota, the account's balance and types not sold as spot.

load sim_helpers

# run_body ZONE TYPE COUNT PRICE [EXTRA JSON MEMBERS]
run_body() {
	echo "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"$1\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"$2\",\"InstanceCount\":$3,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"$4\",\"SpotInstanceType\":\"one-time\"}}${5:+,$5}}"
}

setup() {
	# PENDING for a minute of the emulator's clock: tests move the clock on
	# (sim_clock_advance) rather than sleep, so a slow machine cannot
	# see an instance RUNNING early
	sim_start --pending-ms 60000 --no-rate-limits
}

teardown() {
	sim_stop
}

@test "a spot launch returns ids; instances are PENDING, then RUNNING, and use up stock" {
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 3 0.50)"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get InstanceIdSet | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ]
	id=$(echo "$output" | json_get InstanceIdSet.0)
	[[ "$id" =~ ^ins-[a-z0-9]{8}$ ]]
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}" | json_get InstanceSet.0.InstanceState)" = PENDING ]
	sim_clock_advance 60000
	[ "$(sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}" | json_get InstanceSet.0.InstanceState)" = RUNNING ]
	[ "$(sim_ctl pool | python3 -c 'import json,sys; print([p["stock"] for p in json.load(sys.stdin) if p["zone"]=="ap-guangzhou-3" and p["instanceType"]=="S5.MEDIUM4"][0])')" = 197 ]
	[ "$(sim_stat launched)" = 3 ]
}

@test "the same ClientToken twice creates the instances once" {
	body=$(run_body ap-guangzhou-4 S2.MEDIUM4 4 0.50 '"ClientToken":"apply-abc-0"')
	first=$(sim_api RunInstances "$body" | json_get InstanceIdSet)
	second=$(sim_api RunInstances "$body" | json_get InstanceIdSet)
	[ -n "$first" ]
	[ "$first" = "$second" ]
	[ "$(sim_stat launched)" = 4 ]
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 4 ]
	# a different token launches again
	sim_api RunInstances "$(run_body ap-guangzhou-4 S2.MEDIUM4 4 0.50 '"ClientToken":"apply-abc-1"')" >/dev/null
	[ "$(sim_stat launched)" = 8 ]
}

@test "a bid below the spot price gets InvalidParameterValue.InsufficientPrice" {
	sim_ctl pool --zone ap-guangzhou-6 --type S5.LARGE8 --price 0.2600 >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S5.LARGE8 1 0.2599)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"InvalidParameterValue.InsufficientPrice"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S5.LARGE8 1 0.26)"
	[ "$status" -eq 0 ]
}

@test "not enough stock gets ResourceInsufficient, none at all ResourcesSoldOut" {
	sim_ctl pool --zone ap-guangzhou-7 --type SA2.LARGE8 --stock 2 >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-7 SA2.LARGE8 3 1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ResourceInsufficient.SpecifiedInstanceType"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-7 SA2.LARGE8 2 1)"
	[ "$status" -eq 0 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-7 SA2.LARGE8 1 1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ResourcesSoldOut.SpecifiedInstanceType"* ]]
	[ "$(sim_stat launched)" = 2 ]
}

@test "DryRun checks everything, launches nothing and answers just a RequestId" {
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 2 1 '"DryRun":true')"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" = "['RequestId']" ]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 2 0.01 '"DryRun":true')"
	[ "$status" -eq 1 ]
	[[ "$output" == *"InsufficientPrice"* ]]
	# over the quota (26 MEDIUM4 = 52 vCPU) and over the stock
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 26 1 '"DryRun":true')"
	[[ "$output" == *"(LimitExceeded.SpotQuota:"* ]]
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 1 >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 2 1 '"DryRun":true')"
	[[ "$output" == *"(ResourceInsufficient.SpecifiedInstanceType:"* ]]
	[ "$(sim_stat launched)" = 0 ]
	[ "$(sim_stat errors DryRunOperation)" = 0 ]
}

@test "a DryRun never registers its ClientToken: the real launch with it launches" {
	token='"ClientToken":"check-then-apply-1"'
	run sim_api RunInstances "$(run_body ap-guangzhou-4 S5.MEDIUM4 2 1 "$token,\"DryRun\":true")"
	[ "$status" -eq 0 ]
	[ "$(sim_stat clientTokens)" = 0 ]
	first=$(sim_api RunInstances "$(run_body ap-guangzhou-4 S5.MEDIUM4 2 1 "$token")" | json_get InstanceIdSet)
	[ "$(echo "$first" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ]
	[ "$(sim_stat launched)" = 2 ]
	# and from then on the token replays
	second=$(sim_api RunInstances "$(run_body ap-guangzhou-4 S5.MEDIUM4 2 1 "$token")" | json_get InstanceIdSet)
	[ "$first" = "$second" ]
	[ "$(sim_stat launched)" = 2 ]
}

@test "the spot quota: 25 MEDIUM4 fill a zone, and a launch over it fails whole" {
	# 50 vCPU per zone, the documented default: 20 + 6 MEDIUM4 = 52
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 20 1)"
	[ "$status" -eq 0 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 SA2.MEDIUM4 6 1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(LimitExceeded.SpotQuota:"* ]]
	[[ "$output" == *"ap-guangzhou-3"*"10 remaining"* ]]
	[ "$(sim_stat launched)" = 20 ]
	# a LARGE8 is 4 vCPU: 3 do not fit, 2 do
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.LARGE8 3 1)"
	[[ "$output" == *"(LimitExceeded.SpotQuota:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.LARGE8 2 1)"
	[ "$status" -eq 0 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S2.MEDIUM4 1 1)"
	[ "$status" -eq 0 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S2.MEDIUM4 1 1)"
	[[ "$output" == *"(LimitExceeded.SpotQuota:"* ]]
	# the next zone has a quota of its own; pay-as-you-go does not count
	run sim_api RunInstances "$(run_body ap-guangzhou-4 S5.MEDIUM4 25 1)"
	[ "$status" -eq 0 ]
	run sim_api RunInstances '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4","InstanceCount":2}'
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" = 50 ]
	# an account whose quota was raised
	sim_ctl faults --spot-quota-vcpu 0 >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 30 1)"
	[ "$status" -eq 0 ]
}

@test "an account without balance launches nothing: InvalidAccount.InsufficientBalance" {
	sim_ctl faults --insufficient-balance on >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S5.MEDIUM4 1 1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(InvalidAccount.InsufficientBalance:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S5.MEDIUM4 1 1 '"DryRun":true')"
	[[ "$output" == *"(InvalidAccount.InsufficientBalance:"* ]]
	[ "$(sim_stat launched)" = 0 ]
	[ "$(sim_ctl faults | json_get insufficientBalance)" = true ]
	sim_ctl faults --insufficient-balance off >/dev/null
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S5.MEDIUM4 1 1)"
	[ "$status" -eq 0 ]
}

@test "a type not sold as spot: UnsupportedOperation.NoInstanceTypeSupportSpot" {
	run sim_ctl pool --zone ap-guangzhou-7 --type S2.MEDIUM4 --spot off
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get spot)" = false ]
	run sim_api RunInstances "$(run_body ap-guangzhou-7 S2.MEDIUM4 1 1)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation.NoInstanceTypeSupportSpot:"* ]]
	# pay-as-you-go launches, and other zones still sell it as spot
	run sim_api RunInstances '{"Placement":{"Zone":"ap-guangzhou-7"},"ImageId":"img-pmqg1cw7","InstanceType":"S2.MEDIUM4"}'
	[ "$status" -eq 0 ]
	run sim_api RunInstances "$(run_body ap-guangzhou-6 S2.MEDIUM4 1 1)"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" = 2 ]
}

@test "InstanceCount is 1..100" {
	# 100 MEDIUM4 are 200 vCPU in one zone: an account with a raised quota
	sim_stop
	sim_start --pending-ms 60000 --no-rate-limits --spot-quota-vcpu 0
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 101 1)"
	[[ "$output" == *"(InvalidParameterValue:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 0 1)"
	[[ "$output" == *"(InvalidParameterValue:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 100 1)"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" = 100 ]
}

@test "unknown zones, types and images and bad parameters get the real codes" {
	check() { # body code
		run sim_api RunInstances "$1"
		[ "$status" -eq 1 ] || { echo "status $status for $1"; return 1; }
		[[ "$output" == *"($2:"* ]] || { echo "want $2: $output"; return 1; }
	}
	check "$(run_body ap-guangzhou-9 S5.MEDIUM4 1 1)" InvalidZone.MismatchRegion
	check "$(run_body ap-shanghai-2 S5.MEDIUM4 1 1)" InvalidZone.MismatchRegion
	check "$(run_body ap-guangzhou-3 X9.MEDIUM4 1 1)" InvalidParameterValue.InstanceTypeNotFound
	check "$(run_body ap-guangzhou-3 nodot 1 1)" InvalidInstanceType.Malformed
	check '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"ami-12345678","InstanceType":"S5.MEDIUM4"}' InvalidImageId.Malformed
	check '{"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4"}' MissingParameter
	check "$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"ClientToken":"'"$(printf 'x%.0s' $(seq 65))"'"')" InvalidClientToken.TooLong
	check "$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"Colour":"red"')" UnknownParameter
	check "$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"TagSpecification":[{"ResourceType":"instance","Tags":[{"Key":"tencent:x","Value":"1"}]}]')" FailedOperation.TagKeyReserved
	check "$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"TagSpecification":[{"ResourceType":"instance","Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}]')" InvalidParameterValue.DuplicateTags
	check "$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"UserData":"%%%"')" InvalidParameterValue.InvalidUserDataFormat
	check '{"InstanceChargeType":"SPOTPAID","Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4","InstanceMarketOptions":{"MarketType":"spot","SpotOptions":{"MaxPrice":0.5}}}' InvalidParameter
	check '{"InstanceChargeType":"SPOTPAID","Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4","InstanceMarketOptions":{"MarketType":"ondemand","SpotOptions":{"MaxPrice":"1"}}}' InvalidParameterValue
	[ "$(sim_stat launched)" = 0 ]
}

@test "TagSpecification, names, network and login settings come back in DescribeInstances" {
	body=$(run_body ap-guangzhou-3 S5.MEDIUM4 1 1 '"InstanceName":"render","TagSpecification":[{"ResourceType":"instance","Tags":[{"Key":"spotenv:env","Value":"render"},{"Key":"spotenv:template","Value":"abc123"}]}],"VirtualPrivateCloud":{"VpcId":"vpc-aaaa1111","SubnetId":"subnet-bbbb2222"},"SecurityGroupIds":["sg-cccc3333"],"LoginSettings":{"KeyIds":["skey-dddd4444"]},"SystemDisk":{"DiskType":"CLOUD_SSD","DiskSize":80}')
	id=$(sim_api RunInstances "$body" | json_get InstanceIdSet.0)
	in=$(sim_api DescribeInstances "{\"InstanceIds\":[\"$id\"]}" | json_get InstanceSet.0)
	[ "$(echo "$in" | json_get InstanceName)" = render ]
	[ "$(echo "$in" | json_get Tags.1.Value)" = abc123 ]
	[ "$(echo "$in" | json_get VirtualPrivateCloud.SubnetId)" = subnet-bbbb2222 ]
	[ "$(echo "$in" | json_get SecurityGroupIds.0)" = sg-cccc3333 ]
	[ "$(echo "$in" | json_get LoginSettings.KeyIds.0)" = skey-dddd4444 ]
	[ "$(echo "$in" | json_get SystemDisk.DiskSize)" = 80 ]
}
