#!/bin/sh
# Benchmark: the planner alone (no API, no emulator) over 100,000 observed
# instances in 1,000 environments: CPU time and peak memory of plan_make
# and of rendering the plan, from tests/bench/planner_bench.c (built by
# make bench into $(B)/bench/planner_bench), run under /usr/bin/time -v.
#
#   sh tests/bench/planner-100k.sh               (or: make bench)
#   INSTANCES=100000 ENVS=1000 sh tests/bench/planner-100k.sh
set -eu
# shellcheck source=tests/bench/_lib.sh disable=SC1091,SC2154 # $dir: bench_init
. "$(dirname "$0")/_lib.sh"
INSTANCES=${INSTANCES:-100000}
ENVS=${ENVS:-1000}
bench_init
if [ ! -x "$BENCH_BIN/planner_bench" ]; then
	echo "bench: $BENCH_BIN/planner_bench is missing: run make bench" >&2
	exit 1
fi
bench_machine
bench_time "$dir/out.txt" "$BENCH_BIN/planner_bench" "$INSTANCES" "$ENVS"
cat "$dir/out.txt"
if [ "$TIME_RC" -ne 0 ]; then
	cat "$dir/cmd.err" >&2
	exit 1
fi
echo "whole process (/usr/bin/time -v): $TIME_WALL s wall, peak RSS $((TIME_RSS_KB / 1024)) MiB"
echo "reproduce: make bench, or INSTANCES=$INSTANCES ENVS=$ENVS sh tests/bench/planner-100k.sh"
