# shellcheck shell=sh
# _lib.sh - helpers shared by the benchmarks (sourced, not run: make bench
# runs tests/bench/[a-z]*.sh only).
#
#	. "$(dirname "$0")/_lib.sh"
#	bench_init                   temp dir, cleanup trap, SPOTENV, BENCH_BIN
#	bench_machine                one line: cores, CPU model, memory, load
#	bench_world FILE REGIONS ZONES TYPES   a world file: REGIONS regions of ZONES
#	                             zones, each zone one pool per type in TYPES
#	                             (space separated), stock for everything
#	bench_sim_start FLAGS...     spotenv sim with its rate limits ON (refuses
#	                             --no-rate-limits), exports SPOTENV_ENDPOINT and
#	                             the test credential
#	bench_stats FILE             GET /_sim/stats into FILE
#	bench_time OUT CMD...        run CMD under /usr/bin/time -v (stderr of
#	                             CMD into $dir/cmd.err); sets TIME_WALL (s),
#	                             TIME_RSS_KB and TIME_RC
#
# Every benchmark runs the emulator with the rate limits Tencent documents
# (per action and region: RunInstances 10/s, DescribeInstances 40/s, ...)
# and a raised spot quota (--spot-quota-vcpu 0), as an account with a
# raised quota would: thousands of instances do not fit 50 vCPU a zone.

bench_init() {
	SPOTENV=${SPOTENV:-./spotenv}
	BENCH_BIN=${BENCH_BIN:-build/bench}
	dir=$(mktemp -d "${TMPDIR:-/tmp}/spotenv-bench.XXXXXX")
	sim_pid=
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

bench_cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null
		wait "$sim_pid" 2>/dev/null
	fi
	rm -rf "$dir"
}

bench_machine() {
	echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
		"$(free -g | awk '/^Mem:/{print $2}') GiB; $(uname -sr);" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg) (shared with other jobs)"
}

# The regions benchmarks use, in order.
BENCH_REGIONS="ap-guangzhou ap-shanghai ap-beijing ap-chengdu ap-nanjing"

# bench_region I: the I-th region (0-based).
bench_region() {
	echo "$BENCH_REGIONS" | tr ' ' '\n' | sed -n "$(($1 + 1))p"
}

bench_world() {
	file=$1 nreg=$2 nzones=$3 types=$4
	echo "regions:" >"$file"
	r=0
	while [ $r -lt "$nreg" ]; do
		region=$(bench_region $r)
		printf '  - name: %s\n    zones:\n' "$region" >>"$file"
		z=1
		while [ $z -le "$nzones" ]; do
			printf '      - name: %s-%d\n        pools:\n' "$region" "$z" >>"$file"
			for t in $types; do
				printf '          - {instanceType: %s, stock: 1000000, price: "0.1%d"}\n' \
					"$t" "$z" >>"$file"
			done
			z=$((z + 1))
		done
		r=$((r + 1))
	done
}

bench_sim_start() {
	for a in "$@"; do
		if [ "$a" = --no-rate-limits ]; then
			echo "bench: benchmarks run with the emulator's rate limits on" >&2
			exit 1
		fi
	done
	"$SPOTENV" sim --listen 127.0.0.1:0 --port-file "$dir/port" --spot-quota-vcpu 0 "$@" \
		>"$dir/sim.out" 2>"$dir/sim.err" &
	sim_pid=$!
	n=0
	while [ ! -s "$dir/port" ]; do
		n=$((n + 1))
		if [ $n -gt 200 ]; then
			cat "$dir/sim.err" >&2
			exit 1
		fi
		sleep 0.05
	done
	SPOTENV_ENDPOINT=http://127.0.0.1:$(cat "$dir/port")
	TENCENTCLOUD_SECRET_ID=AKIDSPOTENVSIM0000000000000000000000
	TENCENTCLOUD_SECRET_KEY=spotenv-sim-not-a-secret
	SPOTENV_LOCK_FILE=$dir/lock
	# a token-chain memo of its own: one left by another run (another
	# emulator's world) would send every launch through a memo check
	SPOTENV_STATE_DIR=$dir/state
	export SPOTENV_ENDPOINT TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY SPOTENV_LOCK_FILE \
		SPOTENV_STATE_DIR
	unset TENCENTCLOUD_SESSION_TOKEN TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_TOKEN \
		TENCENTCLOUD_PROFILE
	if [ "$("$SPOTENV" sim ctl faults | python3 -c 'import json,sys; print(json.load(sys.stdin)["rateLimits"])')" != True ]; then
		echo "bench: the emulator's rate limits are off" >&2
		exit 1
	fi
}

bench_stats() {
	"$SPOTENV" sim ctl stats >"$1"
}

# shellcheck disable=SC2034 # TIME_* are for the scripts that source this
bench_time() {
	out=$1
	shift
	TIME_RC=0
	/usr/bin/time -v -o "$dir/time" "$@" >"$out" 2>"$dir/cmd.err" || TIME_RC=$?
	TIME_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$dir/time")
	TIME_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time")
}
