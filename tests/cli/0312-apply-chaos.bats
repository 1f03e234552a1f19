#!/usr/bin/env bats
# A chaos run in the strict world: the real spot quota (50 vCPU a zone),
# partial stock, state-gated TerminateInstances, random InternalError,
# operations in progress, failed launches and spot reclaims, while apply
# runs again and again as cron would.  It must converge, and no
# TerminateInstances may be refused for a state spotenv could have seen.
# TRIALS sets the number of runs (2 in make check; make soak runs 10);
# the figures go to fd 3 (docs/benchmarks.md has them).

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 300 --terminating-ms 200 --seed 7
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
	spec=$BATS_TEST_TMPDIR/chaos.yaml
	cat >"$spec" <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata: {name: chaos}
spec:
  region: ap-guangzhou
  capacity: 60
  maxPrice: "0.50"
  image: img-aaaaaaaa
  allocation: priority
  pools:
    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}
    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4}
    - {zone: ap-guangzhou-6, instanceType: S5.MEDIUM4}
  update: {maxSurge: 2, maxUnavailable: 1}
YAML
}

trials() {
	if [ -n "${TRIALS:-}" ]; then
		echo "$TRIALS"
	elif [ -n "${SOAK:-}" ]; then
		echo 10
	else
		echo 2
	fi
}

# Applies until one exits 0 (at most 15); prints how many it took.
converge() {
	local n st
	for ((n = 1; n <= 15; n++)); do
		st=0
		"$SPOTENV" apply --auto-approve -q --poll-interval 100ms --wait-timeout 60s "$spec" \
			>"$BATS_TEST_TMPDIR/apply-$n.out" 2>&1 3>&- || st=$?
		if [ "$st" -eq 0 ]; then
			echo "$n"
			return 0
		fi
		if [ "$st" -ne 3 ] && [ "$st" -ne 1 ]; then
			echo "apply $n exited $st:" >&2
			cat "$BATS_TEST_TMPDIR/apply-$n.out" >&2
			return 1
		fi
	done
	echo "no convergence after 15 applies; the last:" >&2
	cat "$BATS_TEST_TMPDIR/apply-15.out" >&2
	return 1
}

@test "chaos: the strict world with every fault converges, never terminating a refused state" {
	local total=0 t applies
	for ((t = 1; t <= $(trials); t++)); do
		fx_reset
		# the first zone short of stock (it takes what it has), the quota of
		# the second (it takes 25), the rest in the third
		sim_ctl pool --region ap-guangzhou --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 40 >/dev/null
		sim_ctl faults --internal-error-rate 0.1 --launch-fail-rate 0.1 \
			--operation-in-progress-rate 0.1 --reclaim-per-minute 20 >/dev/null
		applies=$(converge)
		total=$((total + applies))
		# every instance the API refused to terminate was in a state the
		# plan could not have seen (none: spotenv only asks for RUNNING)
		for code in InstanceStatePending InstanceStateLaunchFailed InstanceStateStarting \
			InstanceStateStopping InstanceStateRebooting; do
			[ "$(sim_stat "errors.UnsupportedOperation.$code")" -eq 0 ]
		done
		echo "# trial $t: converged after $applies applies; launched $(sim_stat launched), reclaimed $(sim_stat reclaimed), quota refusals $(sim_stat errors.LimitExceeded.SpotQuota), internal errors $(sim_stat errors.InternalError)/$(sim_stat errors.InternalServerError)" >&3
	done
	echo "# $(trials) chaos trials: $total applies in all" >&3
}
