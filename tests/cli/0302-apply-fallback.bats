#!/usr/bin/env bats
# spotenv apply when spot capacity is short: sold-out and over-bid pools are
# skipped at plan time, capacity errors at apply time move the launch to the
# next pool, all pools short exits 3 with the reasons, --until-converged
# keeps trying until stock returns.

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

gz_pool() {
	local zone=$1
	shift
	sim_ctl pool --zone "$zone" --type S5.MEDIUM4 "$@" >/dev/null
}

@test "fallback: first pool sold out at plan time, launches land in the next pool" {
	gz_pool ap-guangzhou-3 --stock 0
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: pool 1 (ap-guangzhou-3 S5.MEDIUM4) is sold out; skipped"* ]]
	[ "${lines[-1]}" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_pools web)" = "ap-guangzhou-4/S5.MEDIUM4 3" ]
	# nothing was even tried in the sold-out pool
	[ "$(sim_stat errors.ResourcesSoldOut.SpecifiedInstanceType)" -eq 0 ]
}

@test "fallback: first pool sold out at apply time, the launch moves to the next pool" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	[ "$(json_get environments.0.launches.0.zone <"$BATS_TEST_TMPDIR/p.json")" = "ap-guangzhou-3" ]
	gz_pool ap-guangzhou-3 --stock 0
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat errors.ResourcesSoldOut.SpecifiedInstanceType)" -eq 1 ]
	[ "$(live_pools web)" = "ap-guangzhou-4/S5.MEDIUM4 3" ]
	# they carry pool 2's template hash: not drifted
	tmpl=$(json_get environments.0.pools.1.template <"$BATS_TEST_TMPDIR/p.json")
	[ "$(sim_ctl state | python3 -c 'import json,sys; print(sorted({i["tags"]["spotenv:template"] for i in json.load(sys.stdin)["instances"]}))')" = "['$tmpl']" ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
}

@test "fallback: a pool with too little stock takes what it has, the rest moves on" {
	gz_pool ap-guangzhou-3 --stock 2
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	# 3 refused, then 1 and 1 more (smaller counts, derived tokens), then
	# the last one refused: it goes to pool 2
	[ "$(sim_stat errors.ResourceInsufficient.SpecifiedInstanceType)" -ge 1 ]
	[ "$(live_pools web)" = "ap-guangzhou-3/S5.MEDIUM4 2
ap-guangzhou-4/S5.MEDIUM4 1" ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
}

@test "fallback: first pool priced above the bid, launches land in the next pool" {
	gz_pool ap-guangzhou-3 --price 0.90
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: pool 1 (ap-guangzhou-3 S5.MEDIUM4): bid 0.50 is below the market price 0.90; skipped"* ]]
	[ "$(live_pools web)" = "ap-guangzhou-4/S5.MEDIUM4 3" ]
	[ "$(sim_stat errors.InvalidParameterValue.InsufficientPrice)" -eq 0 ]
}

@test "fallback: price rising above the bid after the plan moves the launch on" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	gz_pool ap-guangzhou-3 --price 0.90
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$(sim_stat errors.InvalidParameterValue.InsufficientPrice)" -eq 1 ]
	[ "$(live_pools web)" = "ap-guangzhou-4/S5.MEDIUM4 3" ]
}

@test "fallback: all pools short at apply time takes partial stock, exits 3 naming pool, code and RequestId" {
	# 1 + 1 left and 3 wanted: RunInstances is all or nothing, so apply
	# asks for fewer, takes the 2 there are, and is 1 short
	gz_pool ap-guangzhou-3 --stock 1
	gz_pool ap-guangzhou-4 --stock 1
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		--metrics-file "$BATS_TEST_TMPDIR/m.prom"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged (1 short of 3)"* ]]
	# each pool's last refusal (sold out once its one was taken)
	[[ "$output" == *"ap-guangzhou-3/S5.MEDIUM4: ResourcesSoldOut.SpecifiedInstanceType (RequestId "* ]]
	[[ "$output" == *"ap-guangzhou-4/S5.MEDIUM4: ResourcesSoldOut.SpecifiedInstanceType (RequestId "* ]]
	[ "$(sim_stat errors.ResourceInsufficient.SpecifiedInstanceType)" -ge 2 ]
	[ "${lines[-1]}" = "Apply finished: 2 launched, 0 released. 0/1 environments converged." ]
	[ "$(live_count)" -eq 2 ]
	grep -qx 'spotenv_converged{env="web",scope="default"} 0' "$BATS_TEST_TMPDIR/m.prom"
	grep -qx 'spotenv_apply_success 0' "$BATS_TEST_TMPDIR/m.prom"
}

@test "fallback: all pools sold out at plan time exits 3 with the reasons" {
	gz_pool ap-guangzhou-3 --stock 0
	gz_pool ap-guangzhou-4 --stock 0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged (3 short of 3)"* ]]
	[[ "$output" == *"pool 1 (ap-guangzhou-3 S5.MEDIUM4) is sold out"* ]]
	[[ "$output" == *"pool 2 (ap-guangzhou-4 S5.MEDIUM4) is sold out"* ]]
	[ "${lines[-1]}" = "Apply finished: 0 launched, 0 released. 0/1 environments converged." ]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

@test "fallback: one environment short, the other converges" {
	gz_pool ap-guangzhou-3 --stock 0
	gz_pool ap-guangzhou-4 --stock 0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged"* ]]
	[[ "$output" != *"jobs: not converged"* ]]
	[ "${lines[-1]}" = "Apply finished: 4 launched, 0 released. 1/2 environments converged." ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count web)" -eq 0 ]
}

@test "fallback: a partly short environment keeps what it got and says how many are missing" {
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 5/' "$spec"
	fx_apply "$spec"
	sim_ctl reclaim --count 3 --env web >/dev/null
	gz_pool ap-guangzhou-3 --stock 0
	gz_pool ap-guangzhou-4 --stock 0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged (3 short of 5)"* ]]
	[ "$(live_count web)" -eq 2 ]
}

@test "fallback: --until-converged succeeds once stock returns" {
	gz_pool ap-guangzhou-3 --stock 0
	gz_pool ap-guangzhou-4 --stock 0
	SECONDS=0
	"$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/web.yaml" --until-converged 20s \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	# the stock returns once the first round has come back short
	wait_until 15 grep -q "trying again in" "$BATS_TEST_TMPDIR/err"
	gz_pool ap-guangzhou-4 --stock 200
	wait "$pid" && st=0 || st=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$st" -eq 0 ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/out")" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	grep -q "1 of 1 environments short; trying again in 2s" "$BATS_TEST_TMPDIR/err"
	[ "$(live_pools web)" = "ap-guangzhou-4/S5.MEDIUM4 3" ]
	[ "$SECONDS" -lt 15 ]
}

@test "fallback: --until-converged gives up at the deadline with exit 3" {
	gz_pool ap-guangzhou-3 --stock 0
	gz_pool ap-guangzhou-4 --stock 0
	SECONDS=0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		--until-converged 3s
	[ "$status" -eq 3 ]
	[ "$SECONDS" -le 5 ]
	[[ "$output" == *"web: not converged (3 short of 3)"* ]]
	# rounds were made: several observations
	[ "$(sim_stat requests.DescribeInstances)" -ge 2 ]
}

@test "fallback: --until-converged needs specs, not a saved plan" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	run --separate-stderr "$SPOTENV" apply "$BATS_TEST_TMPDIR/p.json" --until-converged 10s
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--until-converged"* ]]
}
