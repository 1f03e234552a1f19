#!/bin/sh
# Benchmark: plan against 10,000 managed instances in 100 environments over
# two regions, all in `spotenv sim` on loopback.
#
#   sh tests/bench/plan-10k.sh            (or: make bench)
#   ENVS=100 CAPACITY=100 LATENCY_MS=50 PARALLELISM=8 sh tests/bench/plan-10k.sh
#
# Prints: API calls made versus the minimum (pages needed), wall time
# versus the latency floor at the configured parallelism, peak memory of
# the plan process, and the machine it ran on.
set -eu
SPOTENV=${SPOTENV:-./spotenv}
ENVS=${ENVS:-100}
CAPACITY=${CAPACITY:-100}
LATENCY_MS=${LATENCY_MS:-50}
PARALLELISM=${PARALLELISM:-8}
dir=$(mktemp -d "${TMPDIR:-/tmp}/spotenv-bench.XXXXXX")
sim_pid=

cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# A world with room for everything: two regions, two zones each.
cat >"$dir/world.yaml" <<YAML
regions:
  - name: ap-guangzhou
    zones:
      - name: ap-guangzhou-3
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.11"}]
      - name: ap-guangzhou-4
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.12"}]
  - name: ap-shanghai
    zones:
      - name: ap-shanghai-2
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.13"}]
      - name: ap-shanghai-4
        pools: [{instanceType: S5.MEDIUM4, stock: 100000, price: "0.14"}]
YAML

i=0
: >"$dir/envs.yaml"
while [ $i -lt "$ENVS" ]; do
	if [ $((i % 2)) -eq 0 ]; then r=ap-guangzhou; za=3; zb=4; else r=ap-shanghai; za=2; zb=4; fi
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
    - {zone: $r-$za, instanceType: S5.MEDIUM4}
    - {zone: $r-$zb, instanceType: S5.MEDIUM4}
YAML
	i=$((i + 1))
done
total=$((ENVS * CAPACITY))

# thousands of instances in a zone: an account with a raised spot quota
"$SPOTENV" sim --listen 127.0.0.1:0 --port-file "$dir/port" --config "$dir/world.yaml" \
	--pending-ms 0 --no-rate-limits --spot-quota-vcpu 0 >"$dir/sim.out" 2>"$dir/sim.err" &
sim_pid=$!
n=0
while [ ! -s "$dir/port" ]; do
	n=$((n + 1)); [ $n -gt 200 ] && { cat "$dir/sim.err"; exit 1; }
	sleep 0.05
done
SPOTENV_ENDPOINT=http://127.0.0.1:$(cat "$dir/port")
TENCENTCLOUD_SECRET_ID=AKIDSPOTENVSIM0000000000000000000000
TENCENTCLOUD_SECRET_KEY=spotenv-sim-not-a-secret
SPOTENV_LOCK_FILE=$dir/lock
export SPOTENV_ENDPOINT TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY SPOTENV_LOCK_FILE

stat_of() { # ACTION: requests so far
	"$SPOTENV" sim ctl stats | python3 -c "import json,sys; print(json.load(sys.stdin)['requests'].get('$1',0))"
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/{print $2}') GiB"
echo "fill: $ENVS environments x $CAPACITY instances = $total over 2 regions"
t0=$(date +%s.%N)
"$SPOTENV" apply "$dir/envs.yaml" --auto-approve --no-wait -q --parallelism "$PARALLELISM" >/dev/null
t1=$(date +%s.%N)
echo "apply (fill, --no-wait): $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s, RunInstances calls: $(stat_of RunInstances)"

"$SPOTENV" sim ctl faults "{\"latencyMs\": $LATENCY_MS}" >/dev/null
d0=$(stat_of DescribeInstances)
o0=$(stat_of DescribeZoneInstanceConfigInfos)
/usr/bin/time -f "%e %M" -o "$dir/time" "$SPOTENV" plan "$dir/envs.yaml" \
	--parallelism "$PARALLELISM" --format json >"$dir/plan.json"
d1=$(stat_of DescribeInstances)
o1=$(stat_of DescribeZoneInstanceConfigInfos)
read -r wall rss <"$dir/time"

python3 - "$dir/plan.json" "$total" "$ENVS" "$PARALLELISM" "$LATENCY_MS" "$wall" "$rss" \
	$((d1 - d0)) $((o1 - o0)) <<'PY'
import json, math, sys
plan = json.load(open(sys.argv[1]))
total, envs, par, lat = (int(x) for x in sys.argv[2:6])
wall, rss = float(sys.argv[6]), int(sys.argv[7])
desc, offers = int(sys.argv[8]), int(sys.argv[9])
per_region = [total // 2, total - total // 2]
pages = sum(math.ceil(n / 100) for n in per_region)
min_calls = pages + 2  # + one offers query per region
# every region's first page (TotalCount) and offers together, then the
# remaining pages of both regions in waves of `par`; the DescribeInstances
# rate limit (40/s, burst 40) is a second floor.
lat_floor = (math.ceil(4 / par) + math.ceil((pages - 2) / par)) * lat
rate_floor = max(0, (pages - 40) / 40) * 1000
floor = max(lat_floor, rate_floor)
launch = sum(len(e.get("launches", [])) for e in plan["environments"])
release = sum(len(e.get("releases", [])) for e in plan["environments"])
print(f"plan: {len(plan['environments'])} environments, {launch} launches, {release} releases (expect 0 and 0)")
print(f"API calls: {desc} DescribeInstances + {offers} DescribeZoneInstanceConfigInfos = {desc + offers}; minimum {min_calls} ({pages} pages + 2 offer queries)")
print(f"wall time: {wall * 1000:.0f} ms; floor {floor:.0f} ms (latency {lat} ms at parallelism {par}: {lat_floor:.0f} ms; rate limit 40/s: {rate_floor:.0f} ms)")
print(f"peak memory (plan process): {rss / 1024:.1f} MiB")
PY
