#!/bin/sh
# Benchmark: `spotenv apply` launching 1,000 instances: 10 environments of
# 100, each spread over the same 10 pools (5 zones x 2 instance types, one
# region), so 100 RunInstances calls of 10 instances (one per environment
# and pool: the minimum for these specs), against `spotenv sim` with the
# rate limits on (RunInstances 10/s per region) and a raised spot quota.
# 100 ms of latency on every answer; instances run 50 ms after launch (the
# wait is not the point).
#
#   sh tests/bench/apply-1k.sh                   (or: make bench)
#   ENVS=10 CAPACITY=100 LATENCY_MS=100 sh tests/bench/apply-1k.sh
#
# Prints the RunInstances calls against the minimum and how many were
# refused (RequestLimitExceeded), the apply's wall time against the floor
# (one observe round, then 10 launches in any one-second window, then one
# round to see them running), the peak memory of the apply process, and
# what apply writes to its metrics file (spotenv_api_*).
set -eu
# shellcheck source=tests/bench/_lib.sh disable=SC1091,SC2154 # $dir: bench_init
. "$(dirname "$0")/_lib.sh"
ENVS=${ENVS:-10}
CAPACITY=${CAPACITY:-100}
LATENCY_MS=${LATENCY_MS:-100}
PARALLELISM=${PARALLELISM:-}
bench_init
region=ap-guangzhou
types="S5.MEDIUM4 SA2.MEDIUM4"

bench_world "$dir/world.yaml" 1 5 "$types"
i=0
: >"$dir/envs.yaml"
while [ $i -lt "$ENVS" ]; do
	cat >>"$dir/envs.yaml" <<YAML
---
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata: {name: launch-$i, scope: bench}
spec:
  region: $region
  capacity: $CAPACITY
  maxPrice: "0.50"
  image: img-bench001
  allocation: spread
  pools:
YAML
	for z in 1 2 3 4 5; do
		for t in $types; do
			echo "    - {zone: $region-$z, instanceType: $t}" >>"$dir/envs.yaml"
		done
	done
	i=$((i + 1))
done
par=
[ -n "$PARALLELISM" ] && par="--parallelism $PARALLELISM"

bench_sim_start --config "$dir/world.yaml" --pending-ms 50 --latency-ms "$LATENCY_MS"
bench_machine
echo "emulator: rate limits on (per action and region), spot quota raised (--spot-quota-vcpu 0)"
bench_stats "$dir/s1.json"
# shellcheck disable=SC2086 # $par is empty or two words
bench_time "$dir/apply.txt" "$SPOTENV" apply "$dir/envs.yaml" --auto-approve -q \
	--poll-interval 100ms --metrics-file "$dir/metrics.prom" $par
bench_stats "$dir/s2.json"
if [ "$TIME_RC" -ne 0 ]; then
	echo "bench: apply exited $TIME_RC" >&2
	cat "$dir/cmd.err" "$dir/apply.txt" >&2
	exit 1
fi
touch "$dir/metrics.prom"

python3 - "$dir" "$ENVS" "$CAPACITY" "$LATENCY_MS" "$TIME_WALL" "$TIME_RSS_KB" \
	"${PARALLELISM:-default}" <<'PY'
import json, sys
d, envs, cap, lat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) / 1000
wall, rss, par = float(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
s1, s2 = json.load(open(f"{d}/s1.json")), json.load(open(f"{d}/s2.json"))
pools = 10
per_pool = cap // pools
calls_min = envs * pools * -(-per_pool // 100)
run = s2["requests"]["RunInstances"] - s1["requests"]["RunInstances"]
refused = s2["errors"].get("RequestLimitExceeded", 0) - s1["errors"].get("RequestLimitExceeded", 0)
launched = s2["launched"] - s1["launched"]
# launches: at most 10 in any one-second window; before them one observe
# round, after them one round that sees them running
t = []
for k in range(calls_min):
    t.append(t[k - 10] + 1.0 if k >= 10 else 0.0)
floor = lat + t[-1] + lat + lat
print(f"apply: {envs} environments x {cap} instances over {pools} pools in one region, "
      f"{lat * 1000:.0f} ms latency, parallelism {par}: {launched} launched")
print(f"RunInstances calls: {run} (minimum {calls_min}: one per environment and pool); "
      f"refused (RequestLimitExceeded): {refused}; other calls: "
      + ", ".join(f"{a} {s2['requests'][a] - s1['requests'][a]}" for a in sorted(s2["requests"])
                  if a != "RunInstances" and s2["requests"][a] != s1["requests"][a]))
print(f"wall time: {wall:.2f} s; floor {floor:.2f} s ({calls_min} launches at 10 in any one-second "
      f"window: {t[-1]:.1f} s, plus one observe round, the last answer and one round to see them "
      f"run, {lat * 1000:.0f} ms each): {wall / floor:.2f}x the floor")
print(f"peak RSS (apply process): {rss / 1024:.1f} MiB")
for line in open(f"{d}/metrics.prom"):
    if line.startswith("spotenv_api_"):
        print(f"metrics file: {line.strip()}")
PY
echo "reproduce: make bench, or ENVS=$ENVS CAPACITY=$CAPACITY LATENCY_MS=$LATENCY_MS sh tests/bench/apply-1k.sh"
