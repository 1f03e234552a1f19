#!/usr/bin/env bats
# `spotenv api RunInstances` without a ClientToken adds one, so that the
# client's retry of a call whose answer was lost cannot launch twice.
# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

RUN='{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-dddddddd","InstanceType":"S5.MEDIUM4","InstanceCount":2,"InstanceChargeType":"SPOTPAID","InstanceMarketOptions":{"MarketType":"spot","SpotOptions":{"MaxPrice":"0.50","SpotInstanceType":"one-time"}}}'

@test "api: RunInstances without a ClientToken gets one; dropped answers launch once" {
	# every answer of a committed launch is lost: the client retries
	sim_ctl faults --drop-after-commit-rate 1 >/dev/null
	run --separate-stderr sim_api RunInstances "$RUN" -v
	[[ "$stderr" == *"RunInstances without a ClientToken: added ClientToken api-"* ]]
	# however many attempts were made, one launch of 2
	[ "$(sim_stat requests.RunInstances)" -ge 2 ]
	[ "$(sim_stat launched)" -eq 2 ]
}

@test "api: a ClientToken given is kept, and a DryRun gets none" {
	run --separate-stderr sim_api RunInstances "${RUN%\}},\"ClientToken\":\"mine-1\"}" -v
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"added ClientToken"* ]]
	run --separate-stderr sim_api RunInstances "${RUN%\}},\"ClientToken\":\"mine-1\"}"
	[ "$status" -eq 0 ]
	[ "$(sim_stat launched)" -eq 2 ]
	run --separate-stderr sim_api RunInstances "${RUN%\}},\"DryRun\":true}" -v
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"added ClientToken"* ]]
	[ "$(sim_stat launched)" -eq 2 ]
}
