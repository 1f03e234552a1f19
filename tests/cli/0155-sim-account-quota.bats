#!/usr/bin/env bats
# spotenv sim: DescribeAccountQuota, the spot vCPU quota per zone as the
# account sees it, in the shape of the published example.

load sim_helpers

setup() {
	sim_start --pending-ms 0 --terminating-ms 60000 --no-rate-limits
}

teardown() {
	sim_stop
}

run_body() { # zone type count
	echo "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"$1\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"$2\",\"InstanceCount\":$3,\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}}}"
}

# spot ZONE FIELD [REGION]: one field of the zone's SpotPaidQuotaSet row
spot() {
	sim_api DescribeAccountQuota '{}' --region "${3:-ap-guangzhou}" | python3 -c '
import json, sys
rows = json.load(sys.stdin)["AccountQuotaOverview"]["AccountQuota"]["SpotPaidQuotaSet"]
print([r for r in rows if r["Zone"] == sys.argv[1]][0][sys.argv[2]])
' "$1" "$2"
}

@test "the published shape: AppId, Region and a SpotPaidQuotaSet row per zone of the region" {
	run sim_api DescribeAccountQuota '{}'
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert sorted(r) == ["AccountQuotaOverview", "AppId", "RequestId"], sorted(r)
assert r["AppId"] == 1250000000, r["AppId"]
ov = r["AccountQuotaOverview"]
assert ov["Region"] == "ap-guangzhou", ov
q = ov["AccountQuota"]
assert q["PostPaidQuotaSet"] == [] and q["PrePaidQuotaSet"] == [], q
rows = q["SpotPaidQuotaSet"]
assert sorted(x["Zone"] for x in rows) == ["ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7"], rows
for x in rows:
    assert sorted(x) == ["RemainingQuota", "TotalQuota", "UsedQuota", "Zone"], x
    assert (x["UsedQuota"], x["RemainingQuota"], x["TotalQuota"]) == (0, 50, 50), x
'
	[ "$(sim_api DescribeAccountQuota '{}' --region ap-beijing | json_get AccountQuotaOverview.AccountQuota.SpotPaidQuotaSet | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ]
}

@test "UsedQuota follows the spot launches, in vCPUs, until the instances are gone" {
	sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 5)" >/dev/null
	ids=$(sim_api RunInstances "$(run_body ap-guangzhou-3 S5.LARGE8 3)" | json_get InstanceIdSet)
	sim_api RunInstances '{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-pmqg1cw7","InstanceType":"S5.MEDIUM4","InstanceCount":4}' >/dev/null
	[ "$(spot ap-guangzhou-3 UsedQuota)" = 22 ]
	[ "$(spot ap-guangzhou-3 RemainingQuota)" = 28 ]
	[ "$(spot ap-guangzhou-4 UsedQuota)" = 0 ]
	# a terminating instance still counts; a gone one does not
	sim_api TerminateInstances "{\"InstanceIds\":$ids}" >/dev/null
	[ "$(spot ap-guangzhou-3 UsedQuota)" = 22 ]
	sim_clock_advance 60000
	[ "$(spot ap-guangzhou-3 UsedQuota)" = 10 ]
	[ "$(spot ap-guangzhou-3 RemainingQuota)" = 40 ]
	# what it says is what RunInstances allows: 20 MEDIUM4 fit, 21 do not
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 21)"
	[[ "$output" == *"(LimitExceeded.SpotQuota:"* ]]
	run sim_api RunInstances "$(run_body ap-guangzhou-3 S5.MEDIUM4 20)"
	[ "$status" -eq 0 ]
	[ "$(spot ap-guangzhou-3 RemainingQuota)" = 0 ]
}

@test "filters: zone and quota-type; errors as documented" {
	run sim_api DescribeAccountQuota '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-6"]},{"Name":"quota-type","Values":["SpotPaidQuotaSet"]}]}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get AccountQuotaOverview.AccountQuota | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" = "['SpotPaidQuotaSet']" ]
	[ "$(echo "$output" | json_get AccountQuotaOverview.AccountQuota.SpotPaidQuotaSet.0.Zone)" = ap-guangzhou-6 ]
	run sim_api DescribeAccountQuota '{"Filters":[{"Name":"zone","Values":["ap-shanghai-2"]}]}'
	[[ "$output" == *"(InvalidZone.MismatchRegion:"* ]]
	run sim_api DescribeAccountQuota '{"Filters":[{"Name":"colour","Values":["red"]}]}'
	[[ "$output" == *"(InvalidFilter:"* ]]
	run sim_api DescribeAccountQuota '{"Filters":[{"Name":"quota-type","Values":["Spot"]}]}'
	[[ "$output" == *"(InvalidParameterValue.Range:"* ]]
	run sim_api DescribeAccountQuota '{"Zone":"ap-guangzhou-3"}'
	[[ "$output" == *"(UnknownParameter:"* ]]
}

@test "a raised (unlimited) quota, an account without the action, and the rate limit" {
	sim_ctl faults --spot-quota-vcpu 0 >/dev/null
	sim_api RunInstances "$(run_body ap-guangzhou-4 S5.MEDIUM4 30)" >/dev/null
	[ "$(spot ap-guangzhou-4 TotalQuota)" = 1000000 ]
	[ "$(spot ap-guangzhou-4 RemainingQuota)" = 999940 ]
	sim_ctl faults --account-quota-unsupported on >/dev/null
	run sim_api DescribeAccountQuota '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"(UnsupportedOperation:"* ]]
	sim_ctl faults --account-quota-unsupported off >/dev/null
	[ "$(sim_ctl faults | json_get rates.DescribeAccountQuota)" = 20 ]
	[ "$(sim_stat requests.DescribeAccountQuota)" -ge 3 ]
}

@test "the world file sets the AppId and the quota; the flag overrides it" {
	sim_stop
	cfg=$BATS_TEST_TMPDIR/world.yaml
	printf 'account: {appId: 1300000042}\nfaults: {spotQuotaVcpu: 8}\n' >"$cfg"
	sim_start --config "$cfg" --no-rate-limits
	[ "$(sim_api DescribeAccountQuota '{}' | json_get AppId)" = 1300000042 ]
	[ "$(spot ap-guangzhou-3 TotalQuota)" = 8 ]
	sim_stop
	sim_start --config "$cfg" --no-rate-limits --spot-quota-vcpu 12
	[ "$(spot ap-guangzhou-3 TotalQuota)" = 12 ]
}
