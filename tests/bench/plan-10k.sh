#!/bin/sh
# Benchmark: `spotenv plan` over 10,000 managed instances (100 environments
# of 100, two regions) with 100 ms of latency on every API answer, against
# `spotenv sim` with the rate limits Tencent documents ON (per action and
# region: DescribeInstances 40/s) and a raised spot quota.
#
#   sh tests/bench/plan-10k.sh                                   (or: make bench)
#   ENVS=100 CAPACITY=500 REGIONS=2 sh tests/bench/plan-10k.sh   (50,000: plan-50k.sh)
#   LATENCY_MS=100 PARALLELISM=16 SDK_BASELINE=0 sh tests/bench/plan-10k.sh
#
# Prints: the DescribeInstances calls made against the minimum (one per
# 100 instances per region) and how many the emulator refused
# (RequestLimitExceeded); the plan's wall time against the floor the rate
# limit and the latency allow; the plan process's peak resident memory
# (/usr/bin/time -v); and, measured in the same run against the same
# emulator, the official SDK style (one page at a time, Offset += 100,
# region after region: tests/bench/sdk_pager.c) with the speed-up.
set -eu
# shellcheck source=tests/bench/_lib.sh disable=SC1091,SC2154 # $dir: bench_init
. "$(dirname "$0")/_lib.sh"
ENVS=${ENVS:-100}
CAPACITY=${CAPACITY:-100}
REGIONS=${REGIONS:-2}
LATENCY_MS=${LATENCY_MS:-100}
PARALLELISM=${PARALLELISM:-}
SDK_BASELINE=${SDK_BASELINE:-1}
bench_init
total=$((ENVS * CAPACITY))

bench_world "$dir/world.yaml" "$REGIONS" 2 S5.MEDIUM4
i=0
: >"$dir/envs.yaml"
while [ $i -lt "$ENVS" ]; do
	r=$(bench_region $((i % REGIONS)))
	cat >>"$dir/envs.yaml" <<YAML
---
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata: {name: bench-$i, scope: bench}
spec:
  region: $r
  capacity: $CAPACITY
  maxPrice: "0.50"
  image: img-bench001
  allocation: spread
  pools:
    - {zone: $r-1, instanceType: S5.MEDIUM4}
    - {zone: $r-2, instanceType: S5.MEDIUM4}
YAML
	i=$((i + 1))
done
par=
[ -n "$PARALLELISM" ] && par="--parallelism $PARALLELISM"

bench_sim_start --config "$dir/world.yaml" --pending-ms 0
bench_machine
echo "emulator: rate limits on (per action and region), spot quota raised (--spot-quota-vcpu 0)"
echo "fill: $ENVS environments x $CAPACITY instances = $total over $REGIONS regions"
t0=$(date +%s.%N)
# shellcheck disable=SC2086 # $par is empty or two words
"$SPOTENV" apply "$dir/envs.yaml" --auto-approve --no-wait -q $par >/dev/null
t1=$(date +%s.%N)
bench_stats "$dir/s0.json"
echo "fill (apply --no-wait): $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s, $(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(s["requests"]["RunInstances"], "RunInstances,", s["errors"].get("RequestLimitExceeded", 0), "refused")' "$dir/s0.json")"

# every window the fill used has passed; then the latency
sleep 1.2
"$SPOTENV" sim ctl faults "{\"latencyMs\": $LATENCY_MS}" >/dev/null
bench_stats "$dir/s1.json"
# shellcheck disable=SC2086
bench_time "$dir/plan.txt" "$SPOTENV" plan "$dir/envs.yaml" --detailed-exitcode $par
bench_stats "$dir/s2.json"
if [ "$TIME_RC" -ne 0 ]; then
	echo "bench: plan exited $TIME_RC (0 = converged, no changes expected)" >&2
	cat "$dir/cmd.err" "$dir/plan.txt" >&2
	exit 1
fi
plan_wall=$TIME_WALL
plan_rss=$TIME_RSS_KB

sdk_wall=0
if [ "$SDK_BASELINE" = 1 ]; then
	sleep 1.2
	regions=$(echo "$BENCH_REGIONS" | tr ' ' '\n' | head -n "$REGIONS" | tr '\n' ' ')
	# shellcheck disable=SC2086 # one argument per region
	bench_time "$dir/sdk.txt" "$BENCH_BIN/sdk_pager" $regions
	bench_stats "$dir/s3.json"
	if [ "$TIME_RC" -ne 0 ]; then
		cat "$dir/cmd.err" >&2
		exit 1
	fi
	sdk_wall=$TIME_WALL
fi

python3 - "$dir" "$total" "$REGIONS" "$LATENCY_MS" "$plan_wall" "$plan_rss" "$sdk_wall" \
	"${PARALLELISM:-default}" <<'PY'
import json, math, sys
d, total, nreg, lat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) / 1000
plan_wall, plan_rss, sdk_wall, par = float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), sys.argv[8]
s1, s2 = json.load(open(f"{d}/s1.json")), json.load(open(f"{d}/s2.json"))

def delta(a, b, *path):
    for k in path:
        a, b = a.get(k, {}), b.get(k, {})
    return (b or 0) - (a or 0)

per_region = [total // nreg + (1 if r < total % nreg else 0) for r in range(nreg)]
pages = [math.ceil(n / 100) for n in per_region]

def listing_floor(n, rate=40, window=1.0):
    # every page as early as the limit allows: never more than `rate` sends
    # in any one-second window (40 at 0, the next 40 at 1.0 s, ...), with
    # nothing waiting for an answer; the last answer `lat` after its send
    t = []
    for k in range(n):
        t.append(t[k - rate] + window if k >= rate else 0.0)
    return t[-1] + lat

floor = max(listing_floor(n) for n in pages)
desc = delta(s1, s2, "requests", "DescribeInstances")
offers = delta(s1, s2, "requests", "DescribeZoneInstanceConfigInfos")
refused = delta(s1, s2, "errors", "RequestLimitExceeded")
plan = open(f"{d}/plan.txt").read().strip().splitlines()
print(f"plan: {total} instances, {nreg} regions, {lat * 1000:.0f} ms latency, parallelism {par}: "
      f"{plan[-1] if plan else ''}")
print(f"DescribeInstances calls: {desc} (minimum {sum(pages)}: {' + '.join(map(str, pages))} pages); "
      f"DescribeZoneInstanceConfigInfos: {offers}; refused (RequestLimitExceeded): {refused}")
for r in sorted(s2.get("byRegion", {})):
    a, b = s1["byRegion"][r], s2["byRegion"][r]
    n = b["requests"]["DescribeInstances"] - a["requests"]["DescribeInstances"]
    if n:
        print(f"  {r}: {n} DescribeInstances, "
              f"{b['errors'].get('RequestLimitExceeded', 0) - a['errors'].get('RequestLimitExceeded', 0)} refused")
print(f"wall time: {plan_wall:.2f} s; floor {floor:.2f} s (per region {max(pages)} pages, at most 40 "
      f"sent in any one-second window, the last answer {lat * 1000:.0f} ms after its send): "
      f"{plan_wall / floor:.2f}x the floor")
print(f"peak RSS (plan process): {plan_rss / 1024:.1f} MiB")
if sdk_wall:
    s3 = json.load(open(f"{d}/s3.json"))
    sdk_calls = delta(s2, s3, "requests", "DescribeInstances")
    print(f"sdk style (one page at a time, Offset += 100, region after region): "
          f"{sdk_calls} DescribeInstances, {sdk_wall:.2f} s for the listing alone; "
          f"spotenv plan is {sdk_wall / plan_wall:.1f}x faster")
PY
echo "reproduce: make bench, or ENVS=$ENVS CAPACITY=$CAPACITY REGIONS=$REGIONS LATENCY_MS=$LATENCY_MS" \
	"sh tests/bench/$(basename "$0")"
