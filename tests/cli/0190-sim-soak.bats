#!/usr/bin/env bats
# spotenv sim soak: instances launched (RunInstances of 100) and described
# through the server with faults on (InternalError, dropped launches,
# latency, tag lag, rate limits); the server keeps answering, launches
# nothing twice, and its memory stays bounded.
# How many: 2,000 (20 RunInstances) in `make check`, 10,000 (100) with
# SOAK=1 (`make soak`); SIM_SOAK_BATCHES sets the number of RunInstances.
# With --seed 11 the faults are reproducible: the throttled requests, the
# only ones that depend on timing, draw no random numbers.
# SIM_SOAK_RSS_MAX_KB caps the emulator's RSS (default 256 MB, roomy
# enough for a sanitizer build; a normal build needs about 20 MB).

load sim_helpers

if [ -n "${SOAK:-}" ]; then
	BATCHES=${SIM_SOAK_BATCHES:-100}
else
	BATCHES=${SIM_SOAK_BATCHES:-20}
fi
N=$((BATCHES * 100))

setup_file() {
	# under AddressSanitizer, freed memory sits in a 256 MB quarantine and
	# would look like growth: keep it small (no effect on a normal build)
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
	sim_start --config "$BATS_TEST_DIRNAME/../sim_data/world-soak.yaml" --seed 11
}

teardown_file() {
	sim_stop
}

body() { # zone token
	echo "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"$1\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":100,\"ClientToken\":\"$2\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"0.50\"}},\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"soak\"},{\"Key\":\"spotenv:scope\",\"Value\":\"default\"}]}]}"
}

# Every page of the tag-filtered listing; appends the ids to $BATS_FILE_TMPDIR/ids
# and prints TotalCount.  (grep, not a JSON parser: this loop must be fast.)
describe_all() {
	local off total=0 out
	for ((off = 0; ; off += 100)); do
		out=$(sim_api DescribeInstances "{\"Filters\":[{\"Name\":\"tag:spotenv:env\",\"Values\":[\"soak\"]}],\"Offset\":$off,\"Limit\":100}") || return 1
		echo "$out" | grep -o '"InstanceId":[[:space:]]*"ins-[a-z0-9]*"' | grep -o 'ins-[a-z0-9]*' >>"$BATS_FILE_TMPDIR/ids"
		total=$(echo "$out" | grep -o '"TotalCount":[[:space:]]*[0-9]*' | grep -o '[0-9]*$')
		[ $((off + 100)) -lt "$total" ] || break
	done
	echo "$total"
}

@test "soak: thousands of instances launched and described with faults on" {
	rss0=$(sim_rss_kb)
	for i in $(seq 0 $((BATCHES - 1))); do
		zone=ap-guangzhou-$((3 + i % 2))
		sim_api RunInstances "$(body "$zone" "soak-$i")" >/dev/null ||
			sim_api RunInstances "$(body "$zone" "soak-$i")" >/dev/null # a second try, same token
	done
	run sim_ctl stats
	echo "$output"
	[ "$(echo "$output" | json_get launched)" = "$N" ]
	[ "$(echo "$output" | json_get instances)" = "$N" ]
	[ "$(echo "$output" | json_get dropped)" -ge 1 ]
	[ "$(echo "$output" | json_get errors InternalError)" -ge 1 ]
	sim_clock_advance 1000 # past the tag lag (100 ms)
	: >"$BATS_FILE_TMPDIR/ids"
	total=$(describe_all)
	[ "$total" = "$N" ]
	[ "$(sort -u "$BATS_FILE_TMPDIR/ids" | wc -l)" = "$N" ]
	rss1=$(sim_rss_kb)
	echo "rss: start $rss0 kB, after launch and describe $rss1 kB"
	[ "$rss1" -lt "${SIM_SOAK_RSS_MAX_KB:-262144}" ]
	echo "$rss1" >"$BATS_FILE_TMPDIR/rss1"
}

@test "soak: a second round of describes and a full terminate do not grow memory" {
	: >"$BATS_FILE_TMPDIR/ids"
	[ "$(describe_all)" = "$N" ]
	sort -u "$BATS_FILE_TMPDIR/ids" >"$BATS_FILE_TMPDIR/all"
	split -l 100 "$BATS_FILE_TMPDIR/all" "$BATS_FILE_TMPDIR/chunk."
	for f in "$BATS_FILE_TMPDIR"/chunk.*; do
		ids=$(awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), $1 } END { printf "]" }' "$f")
		sim_api TerminateInstances "{\"InstanceIds\":$ids}" >/dev/null ||
			sim_api TerminateInstances "{\"InstanceIds\":$ids}" >/dev/null
	done
	sim_clock_advance 1000 # past terminatingMs (300 ms)
	[ "$(sim_api DescribeInstances '{}' | json_get TotalCount)" = 0 ]
	run sim_ctl stats
	[ "$(echo "$output" | json_get instances)" = 0 ]
	[ "$(echo "$output" | json_get terminated)" = "$N" ]
	[ "$(echo "$output" | json_get clientTokens)" = "$BATCHES" ]
	rss1=$(cat "$BATS_FILE_TMPDIR/rss1")
	rss2=$(sim_rss_kb)
	echo "rss after launch $rss1 kB, after describe + terminate $rss2 kB"
	# the describes and terminates added at most a few MB (allocator slack)
	[ "$rss2" -lt $((rss1 + 16384)) ]
	# still answering
	kill -0 "$SIM_PID"
	run sim_api DescribeZoneInstanceConfigInfos '{}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin)["InstanceTypeQuotaSet"] if r["InstanceChargeType"] == "SPOTPAID" and r["Status"] == "SELL"))')" = 2 ]
}
