#!/usr/bin/env bats
# The rate limits as Tencent counts them (per action, per region), on in
# the emulator: 6,000 managed instances, 4,500 in Guangzhou (45 pages,
# more than the 40 DescribeInstances a second allow at once) and 1,500 in
# Shanghai (15 pages).  Filling them (60 RunInstances at 10 a second per
# region) and planning over them make no call the emulator refuses, and
# the plan makes the minimum of DescribeInstances calls: one per 100
# instances per region, the regions side by side.
# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	local world=$BATS_FILE_TMPDIR/world.yaml
	cat >"$world" <<'YAML'
regions:
  - name: ap-guangzhou
    zones:
      - name: ap-guangzhou-3
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.11"}]
  - name: ap-shanghai
    zones:
      - name: ap-shanghai-2
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.13"}]
YAML
	# thousands of MEDIUM4 in a zone: an account with a raised spot
	# quota; the rate limits stay on (the emulator's default)
	sim_start --config "$world" --pending-ms 0 --spot-quota-vcpu 0 --latency-ms 20
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
}

# REGION requests|errors KEY: one counter of a region (byRegion), 0 when absent.
region_stat() {
	sim_ctl stats | python3 -c '
import json, sys
d = json.load(sys.stdin)["byRegion"][sys.argv[1]][sys.argv[2]]
print(d.get(sys.argv[3], 0))
' "$@"
}

# NAME REGION ZONE: an environment of 500 in one pool.
env_doc() {
	cat <<YAML
---
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata: {name: $1, scope: rates}
spec:
  region: $2
  capacity: 500
  maxPrice: "0.50"
  image: img-aaaaaaaa
  pools:
    - {zone: $3, instanceType: S5.MEDIUM4}
YAML
}

@test "plan over 6,000 instances in two regions: no refused call, the minimum of calls" {
	local spec=$BATS_TEST_TMPDIR/rates.yaml i d0 d1 gz0 gz1 sh0 sh1
	: >"$spec"
	for ((i = 0; i < 9; i++)); do
		env_doc "gz-$i" ap-guangzhou ap-guangzhou-3 >>"$spec"
	done
	for ((i = 0; i < 3; i++)); do
		env_doc "sh-$i" ap-shanghai ap-shanghai-2 >>"$spec"
	done
	[ "$(sim_ctl faults | json_get rateLimits)" = true ]

	run --separate-stderr fx_apply --no-wait "$spec"
	[ "$status" -eq 0 ]
	[ "$(sim_stat instances)" -eq 6000 ]
	# 5 calls of 100 per environment, 45 of them in one region
	[ "$(sim_stat requests.RunInstances)" -eq 60 ]
	[ "$(sim_stat errors.RequestLimitExceeded)" -eq 0 ]

	d0=$(sim_stat requests.DescribeInstances)
	gz0=$(region_stat ap-guangzhou requests DescribeInstances)
	sh0=$(region_stat ap-shanghai requests DescribeInstances)
	run --separate-stderr "$SPOTENV" plan "$spec" --detailed-exitcode
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ] # converged: no changes
	d1=$(sim_stat requests.DescribeInstances)
	gz1=$(region_stat ap-guangzhou requests DescribeInstances)
	sh1=$(region_stat ap-shanghai requests DescribeInstances)
	# the minimum: 45 + 15 pages
	[ $((d1 - d0)) -eq 60 ]
	[ $((gz1 - gz0)) -eq 45 ]
	[ $((sh1 - sh0)) -eq 15 ]
	# nothing refused, in total or in either region
	[ "$(sim_stat errors.RequestLimitExceeded)" -eq 0 ]
	[ "$(region_stat ap-guangzhou errors RequestLimitExceeded)" -eq 0 ]
	[ "$(region_stat ap-shanghai errors RequestLimitExceeded)" -eq 0 ]
}
