#!/usr/bin/env bats
# apply --metrics-file: the on-call metrics (docs/metrics.md) from a real
# run against the emulator: hourly cost, leaving and reclaimed instances,
# the last success per environment carried over a run that is short.

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 100 --terminating-ms 3600000
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# the local clock (whole seconds) is past SECONDS
later_than() {
	[ "$(date +%s)" -gt "$1" ]
}

@test "metrics: cost, reclaims since the last run, per-environment success kept" {
	m=$BATS_TEST_TMPDIR/m.prom
	fx_apply "$FX/web.yaml" --metrics-file "$m"
	grep -qx 'spotenv_env_reclaimed_instances{env="web",scope="default"} 0' "$m"
	grep -q '^spotenv_env_hourly_cost{env="web",scope="default"} [0-9][0-9]*\.[0-9][0-9]*$' "$m"
	ts=$(sed -n 's/^spotenv_env_last_success_timestamp_seconds{env="web",scope="default"} //p' "$m")
	[ -n "$ts" ]
	grep -qx "# TYPE spotenv_env_hourly_cost gauge" "$m"
	grep -qx "# TYPE spotenv_api_throttled_total counter" "$m"
	# two reclaimed, and nowhere to launch: short, with the reclaims counted
	sim_ctl reclaim --count 2 --env web >/dev/null
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	wait_until 5 later_than "$ts"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		--metrics-file "$m"
	[ "$status" -eq 3 ]
	grep -qx 'spotenv_env_reclaimed_instances{env="web",scope="default"} 2' "$m"
	grep -qx 'spotenv_env_leaving_instances{env="web",scope="default"} 2' "$m"
	grep -qx "spotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"default\"} $ts" "$m"
}
