#!/bin/sh
# Benchmark: `spotenv plan` over 50,000 managed instances (100 environments
# of 500, two regions: 250 pages a region), 100 ms of latency, the
# emulator's rate limits on; everything else as tests/bench/plan-10k.sh,
# which this runs.
#
#   sh tests/bench/plan-50k.sh                     (or: make bench)
#   REGIONS=5 sh tests/bench/plan-50k.sh           (the same over five regions)
ENVS=${ENVS:-100} CAPACITY=${CAPACITY:-500} REGIONS=${REGIONS:-2} \
	exec sh "$(dirname "$0")/plan-10k.sh"
