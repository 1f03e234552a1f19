#!/bin/sh
# make demo: the whole story against the local emulator, no cloud account.
#   start `spotenv sim`, validate, plan, apply the examples, reclaim two
#   instances, plan again (replacements), apply again (converged), destroy,
#   stop the emulator.
set -eu
SPOTENV=${SPOTENV:-./spotenv}
specs=specs/examples
dir=$(mktemp -d "${TMPDIR:-/tmp}/spotenv-demo.XXXXXX")
sim_pid=

cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

step() {
	printf '\n\033[1m== %s\033[0m\n' "$*" | { if [ -t 1 ]; then cat; else sed 's/\x1b\[[0-9;]*m//g'; fi; }
}
run() {
	echo "\$ spotenv $*"
	"$SPOTENV" "$@"
}

step "start the CVM API emulator on a free loopback port"
"$SPOTENV" sim --listen 127.0.0.1:0 --port-file "$dir/port" --pending-ms 1500 \
	--seed 42 >"$dir/sim.out" 2>"$dir/sim.err" &
sim_pid=$!
i=0
while [ ! -s "$dir/port" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
		echo "demo: the emulator did not start:" >&2
		cat "$dir/sim.err" >&2
		exit 1
	fi
	sleep 0.05
done
cat "$dir/sim.out"
SPOTENV_ENDPOINT=http://127.0.0.1:$(cat "$dir/port")
TENCENTCLOUD_SECRET_ID=AKIDSPOTENVSIM0000000000000000000000
TENCENTCLOUD_SECRET_KEY=spotenv-sim-not-a-secret
export SPOTENV_ENDPOINT TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY
unset TENCENTCLOUD_SESSION_TOKEN TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_TOKEN TENCENTCLOUD_PROFILE
export SPOTENV_LOCK_FILE="$dir/apply.lock"

step "validate the example specs"
run validate "$specs"

step "plan: nothing exists yet"
run plan "$specs"

step "apply: launch, wait until running"
run apply "$specs" --auto-approve --poll-interval 500ms

step "status"
run status "$specs"

step "the cloud reclaims two spot instances of render-farm"
echo "\$ spotenv sim ctl reclaim --count 2 --env render-farm"
"$SPOTENV" sim ctl reclaim --count 2 --env render-farm
echo

step "plan again: the replacements"
run plan "$specs"

step "apply again: converged"
run apply "$specs" --auto-approve --poll-interval 500ms

step "plan: nothing to do"
run plan "$specs" --detailed-exitcode

step "destroy every environment"
run destroy "$specs" --env batch-etl --env batch-reports --env guangzhou-single \
	--env render-farm --auto-approve

step "what the emulator saw"
echo "\$ spotenv sim ctl stats"
"$SPOTENV" sim ctl stats
echo
