#!/usr/bin/env bats
# spotenv destroy: releases every instance of the named environments and
# nothing else; usage and confirmation rules.

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

@test "destroy: releases every instance of the named environment only" {
	fx_apply "$FX/two.yaml"
	jobs=$(live_ids jobs)
	run --separate-stderr "$SPOTENV" destroy "$FX/two.yaml" --env web --auto-approve
	[ "$status" -eq 0 ]
	[ "$(grep -c -- '- release ins-' <<<"$output")" -eq 3 ]
	[[ "$output" == *"destroy"* ]]
	[ "${lines[-1]}" = "Destroy complete: 0 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 0 ]
	[ "$(live_ids jobs)" = "$jobs" ]
	[ "$(sim_stat terminated)" -eq 3 ]
	[ "$(sim_stat requests.RunInstances)" -eq 3 ]
	# the spec still wants it: plan says so
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
}

@test "destroy: several --env; pending instances wait until they run" {
	# PENDING until the clock moves on (by less than the 5 minutes a
	# signature stays valid)
	sim_ctl faults --pending-ms 200000 >/dev/null
	fx_apply --no-wait "$FX/two.yaml"
	[ "$(live_count)" -eq 7 ]
	[ "$(sim_api DescribeInstances '{"Filters":[{"Name":"instance-state","Values":["PENDING"]}]}' | json_get TotalCount)" -eq 3 ]
	# TerminateInstances refuses PENDING instances: destroy does not ask,
	# says why and exits 3
	run --separate-stderr "$SPOTENV" destroy -q "$FX/two.yaml" --env web --env jobs --auto-approve
	[ "$status" -eq 3 ]
	[[ "$output" == *"not released yet: not running or stopped"* ]]
	[ "${lines[-1]}" = "Destroy finished: 0 launched, 0 released. 0/2 environments converged." ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count)" -eq 7 ]
	# once they run, destroy releases them all
	sim_clock_advance 200000
	run --separate-stderr "$SPOTENV" destroy -q "$FX/two.yaml" --env web --env jobs --auto-approve
	[ "$status" -eq 0 ]
	[ "$output" = "Destroy complete: 0 launched, 7 released. 2/2 environments converged." ]
	[ "$(live_count)" -eq 0 ]
}

@test "destroy: nothing to destroy is a no-op" {
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web </dev/null
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Destroy complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
}

@test "destroy: untagged instances and another scope's environment of the same name survive" {
	unowned_launch 1 >/dev/null
	fx_apply "$FX/other-scope.yaml"
	fx_apply "$FX/web.yaml"
	untagged=$(live_ids -)
	other=$(live_ids web other-team)
	[ "$(live_count web)" -eq 5 ]
	run --separate-stderr "$SPOTENV" destroy -q "$FX/web.yaml" --env web --auto-approve
	[ "$status" -eq 0 ]
	[ "$output" = "Destroy complete: 0 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_ids -)" = "$untagged" ]
	[ "$(live_ids web other-team)" = "$other" ]
	[ "$(live_count web default)" -eq 0 ]
}

@test "destroy: --metrics-file reports the releases" {
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" destroy -q "$FX/web.yaml" --env web --auto-approve \
		--metrics-file "$BATS_TEST_TMPDIR/m.prom"
	[ "$status" -eq 0 ]
	grep -qx 'spotenv_released_instances{env="web",scope="default"} 3' "$BATS_TEST_TMPDIR/m.prom"
	grep -qx 'spotenv_active_instances{env="web",scope="default"} 0' "$BATS_TEST_TMPDIR/m.prom"
}

@test "destroy: usage errors exit 64, unknown environments 1" {
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"name the environments to destroy with --env NAME"* ]]
	run --separate-stderr "$SPOTENV" destroy --env web
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no specs given"* ]]
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web --prune
	[ "$status" -eq 64 ]
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env nope --auto-approve
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no environment named 'nope' in the specs"* ]]
	run --separate-stderr "$SPOTENV" destroy "$FX/invalid.yaml" --env broken --auto-approve
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"capcity"* ]]
	[ "$(sim_stat totalRequests)" -eq 0 ]
	run --separate-stderr "$SPOTENV" destroy --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spotenv destroy PATH... --env NAME"* ]]
}
