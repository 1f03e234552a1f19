#!/usr/bin/env bats
# spotenv sim: start-up, flags, loopback only, shutdown, world and state files.

load sim_helpers

teardown() {
	sim_stop
}

@test "sim prints its address and the test credential, and writes the port file" {
	sim_start
	[ "$SIM_PORT" -gt 0 ]
	run cat "$SIM_DIR/sim.out"
	[ "${lines[0]}" = "listening on http://127.0.0.1:$SIM_PORT" ]
	[ "${lines[1]}" = "SecretId: AKIDSPOTENVSIM0000000000000000000000  SecretKey: spotenv-sim-not-a-secret" ]
	run sim_api DescribeInstances '{}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get TotalCount)" = 0 ]
}

@test "sim -v logs one line per request on stderr, without secrets" {
	sim_start -v
	sim_api DescribeInstances '{}' >/dev/null
	TENCENTCLOUD_SECRET_KEY=wrong sim_api DescribeInstances '{}' >/dev/null 2>&1 || true
	sim_ctl stats >/dev/null
	run cat "$SIM_DIR/sim.err"
	[[ "$output" == *"sim: DescribeInstances ap-guangzhou -> ok (0 instances)"* ]]
	[[ "$output" == *"sim: DescribeInstances ap-guangzhou -> AuthFailure.SignatureFailure"* ]]
	[[ "$output" == *"sim: control GET /_sim/stats -> 200"* ]]
	[[ "$output" != *"not-a-secret"* ]]
	[[ "$output" != *"Signature="* ]]
}

@test "sim stops cleanly on SIGTERM and on SIGINT" {
	sim_start
	pid=$SIM_PID
	kill -TERM "$pid"
	wait_until 10 pid_gone "$pid"
	wait "$pid" || { echo "exit status $?"; false; }
	SIM_PID=
	sim_start
	pid=$SIM_PID
	kill -INT "$pid"
	wait_until 10 pid_gone "$pid"
	wait "$pid" || { echo "exit status $?"; false; }
	SIM_PID=
}

@test "sim refuses to listen on a non-loopback address" {
	run "$SPOTENV" sim --listen 0.0.0.0:0
	[ "$status" -eq 1 ]
	[[ "$output" == *"only loopback addresses are allowed"* ]]
	run "$SPOTENV" sim --listen 10.1.2.3:8787
	[ "$status" -eq 1 ]
	[[ "$output" == *"loopback"* ]]
	run "$SPOTENV" sim --listen 127.0.0.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs a port"* ]]
}

@test "sim usage errors exit 64" {
	run "$SPOTENV" sim --bogus
	[ "$status" -eq 64 ]
	run "$SPOTENV" sim --internal-error-rate 2
	[ "$status" -eq 64 ]
	[[ "$output" == *"from 0 to 1"* ]]
	run "$SPOTENV" sim --pending-ms -5
	[ "$status" -eq 64 ]
	run "$SPOTENV" sim extra
	[ "$status" -eq 64 ]
	run "$SPOTENV" sim --seed abc
	[ "$status" -eq 64 ]
	run env -u SPOTENV_ENDPOINT "$SPOTENV" sim ctl stats
	[ "$status" -eq 64 ]
	[[ "$output" == *"SPOTENV_ENDPOINT"* ]]
	run "$SPOTENV" sim ctl --endpoint http://127.0.0.1:1 frobnicate
	[ "$status" -eq 64 ]
}

@test "sim --help lists the flags" {
	run "$SPOTENV" sim --help
	[ "$status" -eq 0 ]
	for f in --listen --port-file --config --state --seed --latency-ms --pending-ms \
		--tag-lag-ms --internal-error-rate --drop-after-commit-rate --reclaim-per-minute \
		--launch-fail-rate --launch-failed-ttl-ms --spot-quota-vcpu --no-rate-limits; do
		[[ "$output" == *"$f"* ]] || { echo "missing $f"; false; }
	done
	run "$SPOTENV" help sim
	[ "$status" -eq 0 ]
}

@test "sim reports a broken world file with file:line:column" {
	cfg=$BATS_TEST_TMPDIR/world.yaml
	printf 'regions:\n  - name: ap-x\n    zones:\n      - name: ap-x-1\n        pools:\n          - {instanceType: S5.MEDIUM4, stock: many, price: "0.1"}\n' >"$cfg"
	run "$SPOTENV" sim --listen 127.0.0.1:0 --config "$cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$cfg:6:"*"'stock' must be a whole number"* ]]
	run "$SPOTENV" sim --listen 127.0.0.1:0 --config "$BATS_TEST_TMPDIR/missing.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open world file"* ]]
}

@test "sim serves the world of a config file, with its extra credential" {
	sim_start --config "$BATS_TEST_DIRNAME/../sim_data/world-small.yaml"
	run sim_api DescribeZoneInstanceConfigInfos '{"Filters":[{"Name":"instance-charge-type","Values":["SPOTPAID"]}]}' --region eu-test
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.InstanceType)" = "T1.MEDIUM4" ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.0.Price.UnitPriceDiscount)" = "0.0375" ]
	[ "$(echo "$output" | json_get InstanceTypeQuotaSet.1.Status)" = "SOLD_OUT" ]
	# the built-in regions are not there
	run sim_api DescribeInstances '{}' --region ap-guangzhou
	[ "$status" -eq 1 ]
	[[ "$output" == *UnsupportedRegion* ]]
	# the credential added by the file works
	TENCENTCLOUD_SECRET_ID=AKIDWORLDSMALL00000000000000000000000 TENCENTCLOUD_SECRET_KEY=small-world-key \
		run sim_api DescribeInstances '{}' --region eu-test
	[ "$status" -eq 0 ]
	# its rate limit applies: TerminateInstances at 1 a second
	[ "$(sim_ctl faults | json_get rates.TerminateInstances)" = 1 ]
	[ "$(sim_ctl faults | json_get pendingMs)" = 100 ]
}

@test "sim --state keeps the world across a restart" {
	state=$BATS_TEST_TMPDIR/world.json
	sim_start --state "$state" --pending-ms 0
	run sim_api RunInstances '{"InstanceChargeType":"SPOTPAID","Placement":{"Zone":"ap-beijing-6"},"ImageId":"img-abcdefgh","InstanceType":"SA2.LARGE8","InstanceCount":4,"InstanceMarketOptions":{"MarketType":"spot","SpotOptions":{"MaxPrice":"1.00"}}}' --region ap-beijing
	[ "$status" -eq 0 ]
	ids=$(echo "$output" | json_get InstanceIdSet)
	sim_ctl pool --zone ap-beijing-5 --type S5.MEDIUM4 --stock 7 --price 0.099 >/dev/null
	sim_stop
	[ -s "$state" ]
	sim_start --state "$state"
	run sim_api DescribeInstances '{"Filters":[{"Name":"zone","Values":["ap-beijing-6"]}]}' --region ap-beijing
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get TotalCount)" = 4 ]
	[ "$(echo "$output" | json_get InstanceSet.0.InstanceState)" = RUNNING ]
	[[ "$ids" == *"$(echo "$output" | json_get InstanceSet.0.InstanceId)"* ]]
	run sim_ctl pool
	[[ "$output" == *'"zone":"ap-beijing-5","instanceType":"S5.MEDIUM4","stock":7,"price":"0.099"'* ]]
}
