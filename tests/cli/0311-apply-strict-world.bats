#!/usr/bin/env bats
# spotenv in the strict world (the emulator with the real spot quota of 50
# vCPU per zone, state-gated TerminateInstances and termination
# protection): it uses what quota a zone has left and goes on elsewhere,
# never asks the API to terminate what it refuses, and counts as released
# only what the API accepted.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 150 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

@test "quota: 30 x 2 vCPU over two zones of 50 vCPU end as 25 and 5" {
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$(fx_web_capacity 30)"
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[ "$(live_pools web)" = "ap-guangzhou-3/S5.MEDIUM4 25
ap-guangzhou-4/S5.MEDIUM4 5" ]
	[ "$(sim_stat launched)" -eq 30 ]
	[ "$(sim_stat errors.LimitExceeded.SpotQuota)" -ge 1 ]
}

@test "quota: every zone full exits 3, names the zone's quota and how to raise it" {
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$(fx_web_capacity 60)"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged (10 short of 60)"* ]]
	[[ "$output" == *"spot quota of zone ap-guangzhou-3 reached"*"raise the spot quota"* ]]
	[[ "$output" == *"spot quota of zone ap-guangzhou-4 reached"* ]]
	[ "$(sim_stat launched)" -eq 50 ]
}

@test "terminate: a batch refused for one protected instance releases the others and says so" {
	spec=$(fx_web_capacity 3)
	fx_apply "$spec"
	ids=$(live_ids web)
	victim=$(echo "$ids" | head -n 1)
	sim_ctl protect "$victim" >/dev/null 2>&1 ||
		curl -sf -X POST -d "{\"instanceIds\":[\"$victim\"],\"protected\":true}" "$SIM_URL/_sim/protect" >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$(fx_web_capacity 0)"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$victim: not released: UnsupportedOperation.InstancesProtected"* ]]
	[ "${lines[-1]}" = "Apply finished: 0 launched, 2 released. 0/1 environments converged." ]
	[ "$(live_ids web)" = "$victim" ]
}

@test "terminate: excess PENDING instances are never sent to TerminateInstances" {
	sim_ctl faults --pending-ms 200000 >/dev/null
	fx_apply --no-wait "$(fx_web_capacity 3)"
	run --separate-stderr "$SPOTENV" plan "$(fx_web_capacity 1)"
	[[ "$output" == *"2 excess instances not released yet: not running"* ]]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --no-wait "$(fx_web_capacity 1)"
	[ "$status" -eq 3 ]
	[[ "$output" == *"2 excess instances not released yet"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	# once they run, the next apply releases them
	sim_clock_advance 200000
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$(fx_web_capacity 1)"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 2 released. 1/1 environments converged." ]
	[ "$(sim_stat errors.UnsupportedOperation.InstanceStatePending)" -eq 0 ]
}

@test "quota: status shows each pool zone's spot quota before any launch; unknown is a warning" {
	fx_apply "$(fx_web_capacity 3)"
	run --separate-stderr "$SPOTENV" status "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SPOT QUOTA (vCPU) / ZONE"* ]]
	[[ "$output" == *"  ap-guangzhou-3 "*" 6 "*" 44 "*" 50"* ]]
	[[ "$output" == *"  ap-guangzhou-4 "*" 0 "*" 50 "*" 50"* ]]
	[ "$(json_get spot_quota.0.remaining_vcpu < <("$SPOTENV" status --format json "$(fx_web_capacity 3)"))" -eq 44 ]
	# an account that may not ask: a warning, the table still shown, exit 0
	sim_ctl faults --account-quota-unsupported on >/dev/null
	run --separate-stderr "$SPOTENV" status "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: the spot quota is unknown"* ]]
	[[ "$output" != *"SPOT QUOTA"* ]]
	[[ "$output" == *"web "*"converged"* ]]
}
