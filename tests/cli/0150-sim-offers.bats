#!/usr/bin/env bats
# spotenv sim: DescribeZoneInstanceConfigInfos rows, filters, prices, stock
# levels (StatusCategory) and types not sold as spot.

load sim_helpers

setup_file() {
	sim_start --no-rate-limits
}

teardown_file() {
	sim_stop
}

rows() {
	python3 -c 'import json,sys; print(len(json.load(sys.stdin)["InstanceTypeQuotaSet"]))'
}

@test "SPOTPAID rows for every zone and type of the region" {
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | rows)" = 20 ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.InstanceChargeType)" = SPOTPAID ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.Status)" = SELL ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.Price.ChargeUnit)" = HOUR ]
	# without a charge type filter, pay-as-you-go rows come too
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{}' | rows)" = 40 ]
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{}' --region ap-beijing | rows)" = 30 ]
}

@test "zone, instance-type and instance-family filters" {
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-3","ap-guangzhou-7"]},{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' | rows)" = 10 ]
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-type","Values":["S5.LARGE8"]},{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' | rows)" = 4 ]
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-family","Values":["SA2"]},{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' | rows)" = 8 ]
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"zone","Values":["ap-shanghai-2"]}]}'
	[[ "$output" == *"InvalidZone.MismatchRegion"* ]]
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"colour","Values":["x"]}]}'
	[[ "$output" == *"InvalidFilter"* ]]
}

@test "prices are exact decimals and follow the control API; stock 0 is SOLD_OUT" {
	sim_ctl pool --zone ap-guangzhou-4 --type SA2.MEDIUM4 --price 0.0871 --stock 0 >/dev/null
	# the raw response text carries the number exactly as configured
	run sim_api DescribeZoneInstanceConfigInfos \
		'{"Filters":[{"Name":"zone","Values":["ap-guangzhou-4"]},{"Name":"instance-type","Values":["SA2.MEDIUM4"]},{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}'
	[ "$status" -eq 0 ]
	[[ "$output" == *'"UnitPriceDiscount":'*'0.0871'* ]]
	[[ "$output" == *'"UnitPrice":'*'0.4355'* ]]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.Status)" = SOLD_OUT ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.StatusCategory)" = WithoutStock ]
	sim_ctl pool --zone ap-guangzhou-4 --type SA2.MEDIUM4 --stock 5 >/dev/null
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-4"]},{"Name":"instance-type","Values":["SA2.MEDIUM4"]},{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}'
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.Status)" = SELL ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.StatusCategory)" = UnderStock ]
}

@test "spot prices in the built-in world are between 0.05 and 0.40 and differ by zone" {
	for r in ap-guangzhou ap-shanghai ap-beijing; do
		sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' --region $r
	done | python3 -c '
import json, sys, decimal
text = sys.stdin.read()
dec = json.JSONDecoder(parse_float=decimal.Decimal)
i, rows = 0, []
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    doc, i = dec.raw_decode(text, i)
    rows += doc["InstanceTypeQuotaSet"]
assert len(rows) == 50, len(rows)
for r in rows:
    p = r["Price"]["UnitPriceDiscount"]
    assert decimal.Decimal("0.05") <= p <= decimal.Decimal("0.40"), p
s5 = {r["Zone"]: r["Price"]["UnitPriceDiscount"] for r in rows if r["InstanceType"] == "S5.MEDIUM4"}
assert len(set(s5.values())) == len(s5) == 10, s5
'
}

category() { # zone type stock -> StatusCategory of its SPOTPAID row
	sim_ctl pool --zone "$1" --type "$2" --stock "$3" >/dev/null
	sim_api DescribeZoneInstanceConfigInfos "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"$1\"]},{\"Name\":\"instance-type\",\"Values\":[\"$2\"]},{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]}]}" |
		json_get InstanceTypeQuotaSet.0.StatusCategory
}

@test "StatusCategory follows the stock: 0, 1..9, 10..49, 50 and more" {
	[ "$(category ap-guangzhou-6 S5.LARGE8 0)" = WithoutStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 1)" = UnderStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 9)" = UnderStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 10)" = NormalStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 49)" = NormalStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 50)" = EnoughStock ]
	[ "$(category ap-guangzhou-6 S5.LARGE8 200)" = EnoughStock ]
	# every row carries it, next to Status
	sim_api DescribeZoneInstanceConfigInfos '{}' | python3 -c '
import json, sys
rows = json.load(sys.stdin)["InstanceTypeQuotaSet"]
assert rows and all(r["StatusCategory"] in ("EnoughStock", "NormalStock", "UnderStock", "WithoutStock") and r["Status"] in ("SELL", "SOLD_OUT") for r in rows), rows
'
}

@test "a type not sold as spot has no SPOTPAID row" {
	sim_ctl pool --zone ap-guangzhou-7 --type SA2.LARGE8 --spot off >/dev/null
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"zone","Values":["ap-guangzhou-7"]},{"Name":"instance-type","Values":["SA2.LARGE8"]}]}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | rows)" = 1 ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.InstanceChargeType)" = POSTPAID_BY_HOUR ]
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' | rows)" = 19 ]
	sim_ctl pool --zone ap-guangzhou-7 --type SA2.LARGE8 --spot on >/dev/null
	[ "$(sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' | rows)" = 20 ]
}
