# sim_helpers.bash - start and stop `spotenv sim` on a free loopback port.
#
# Load it from a bats file:
#
#	load sim_helpers
#	setup_file() { sim_start --pending-ms 100; }     # or in setup()
#	teardown_file() { sim_stop; }
#
# sim_start [FLAGS...]
#	Starts "$SPOTENV sim --listen 127.0.0.1:0 --port-file F FLAGS..." in the
#	background and waits (up to SIM_START_TIMEOUT seconds, default 20) for
#	the port file.  Exports:
#	  SIM_URL, SPOTENV_ENDPOINT   http://127.0.0.1:PORT
#	  SIM_PORT, SIM_PID, SIM_DIR  (SIM_DIR holds sim.out, sim.err, port)
#	  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY   the test credential
#	and unsets the token variables and TENCENTCLOUD_PROFILE so nothing else
#	is picked up.  Fails (printing the emulator's stderr) if it exits early.
# sim_stop
#	SIGTERM, then waits for the process (SIGKILL after 10 s).  Safe to call
#	twice or when nothing was started.  Fails when the emulator did not stop
#	or reported sanitizer errors (AddressSanitizer, leaks, UBSan) on stderr.
# sim_ctl VERB [ARGS...]     spotenv sim ctl against the running emulator
# sim_api ACTION [JSON] [--region R]   spotenv api (region ap-guangzhou by default)
# json_get PATH              read JSON on stdin, print the value at PATH
#                            (dot-separated keys and list indices: a.b.0.c);
#                            strings print bare, other values as JSON
# json_get KEY KEY...        the same with one key per argument (for keys
#                            with dots: json_get errors AuthFailure.SignatureFailure)
# sim_stat PATH|KEY...       one value of the emulator's counters (GET /_sim/stats),
#                            e.g. sim_stat launched, sim_stat requests.RunInstances,
#                            sim_stat errors RequestLimitExceeded (0 when absent)
# sim_rss_kb                 VmRSS of the emulator in kB
# sim_clock_advance MS       move the emulator's clock MS milliseconds on
#                            (POST /_sim/clock with the offset so far + MS):
#                            PENDING, TERMINATING, tag lag and reclaim rates
#                            move with it.  Use it instead of sleeping for
#                            the emulator's sake: a sleep proves nothing on a
#                            slow machine and wastes time on a fast one.
#                            Keep a test's total offset under 5 minutes
#                            while a client runs: requests are signed with
#                            the real clock, and the emulator refuses
#                            signatures more than 5 minutes from its own
#                            (AuthFailure.SignatureExpire).
# sim_clock_offset           the clock's offset so far (ms)
# wait_until SECONDS CMD [ARGS...]   run CMD every 0.1 s until it
#                            succeeds; fails (naming CMD) after SECONDS.
#                            CMD is a command or a function, such as:
# stat_ge NAME N             sim_stat NAME is at least N
# stat_eq NAME N             sim_stat NAME is N
# pid_gone PID               process PID has ended
# has_open PID FILE          process PID has FILE open
#	wait_until 30 stat_ge launched 3
#	wait_until 30 test -s "$file"
#	wait_until 30 grep -q "trying again" "$err"
# kill_gone PID              SIGKILL PID if it still runs (a process that
#                            ended already is no error), then reap it

: "${SPOTENV:=$BATS_TEST_DIRNAME/../../spotenv}"
export SPOTENV
# a test never asks the real metadata host (no credentials found falls
# through to the CVM role): loopback port 1 refuses at once
: "${SPOTENV_METADATA_ENDPOINT:=http://127.0.0.1:1}"
export SPOTENV_METADATA_ENDPOINT

SIM_TEST_SECRET_ID=AKIDSPOTENVSIM0000000000000000000000
SIM_TEST_SECRET_KEY=spotenv-sim-not-a-secret

sim_start() {
	local dir i
	if [ -n "${SIM_PID:-}" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		echo "sim_start: an emulator is already running (pid $SIM_PID)" >&2
		return 1
	fi
	dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/sim.XXXXXX")
	rm -f "$dir/port"
	# fd 3 is bats' own: the background process must not hold it
	"$SPOTENV" sim --listen 127.0.0.1:0 --port-file "$dir/port" "$@" \
		>"$dir/sim.out" 2>"$dir/sim.err" 3>&- </dev/null &
	SIM_PID=$!
	SIM_DIR=$dir
	export SIM_PID SIM_DIR
	for ((i = 0; i < ${SIM_START_TIMEOUT:-20} * 20; i++)); do
		if [ -s "$dir/port" ]; then
			break
		fi
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "sim_start: spotenv sim exited early:" >&2
			cat "$dir/sim.err" >&2
			SIM_PID=
			return 1
		fi
		sleep 0.05
	done
	if [ ! -s "$dir/port" ]; then
		echo "sim_start: no port file after ${SIM_START_TIMEOUT:-20}s" >&2
		cat "$dir/sim.err" >&2
		sim_stop
		return 1
	fi
	SIM_PORT=$(cat "$dir/port")
	SIM_URL="http://127.0.0.1:$SIM_PORT"
	SPOTENV_ENDPOINT=$SIM_URL
	TENCENTCLOUD_SECRET_ID=$SIM_TEST_SECRET_ID
	TENCENTCLOUD_SECRET_KEY=$SIM_TEST_SECRET_KEY
	export SIM_PORT SIM_URL SPOTENV_ENDPOINT TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY
	unset TENCENTCLOUD_SESSION_TOKEN TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_TOKEN \
		TENCENTCLOUD_PROFILE
}

sim_stop() {
	local pid=${SIM_PID:-} i
	[ -n "$pid" ] || return 0
	SIM_PID=
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true # (it may have ended meanwhile)
		wait "$pid" 2>/dev/null || true
		echo "sim_stop: spotenv sim did not stop within 10 s of SIGTERM" >&2
		return 1
	fi
	wait "$pid" 2>/dev/null || true
	# a sanitizer build reports leaks and undefined behaviour on exit
	if [ -n "${SIM_DIR:-}" ] && grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
		"$SIM_DIR/sim.err" 2>/dev/null; then
		echo "sim_stop: the emulator reported errors:" >&2
		cat "$SIM_DIR/sim.err" >&2
		return 1
	fi
	return 0
}

sim_ctl() {
	"$SPOTENV" sim ctl --endpoint "$SIM_URL" "$@"
}

sim_api() {
	local action=$1
	shift
	"$SPOTENV" api --region "${SIM_REGION:-ap-guangzhou}" "$action" "$@"
}

json_get() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
keys = sys.argv[1:] if len(sys.argv) > 2 else [p for p in sys.argv[1].split(".") if p]
for k in keys:
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d if isinstance(d, str) else json.dumps(d))
' "$@"
}

sim_stat() {
	local out
	out=$(sim_ctl stats) || return 1
	# an error code that never happened is absent from "errors": report 0
	echo "$out" | json_get "$@" 2>/dev/null || echo 0
}

sim_rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/${1:-$SIM_PID}/status"
}

sim_clock_offset() {
	sim_ctl clock | json_get offsetMs
}

sim_clock_advance() {
	local off
	off=$(sim_clock_offset) || return 1
	sim_ctl clock "{\"offsetMs\":$((off + $1))}" >/dev/null
}

# now in ms (bash's EPOCHREALTIME, without its decimal point)
_now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((10#$t / 1000))
}

wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$(($(_now_ms) + timeout * 1000))
	while :; do
		"$@" && return 0
		if [ "$(_now_ms)" -ge "$deadline" ]; then
			echo "wait_until: still false after ${timeout}s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

stat_ge() {
	[ "$(sim_stat "$1")" -ge "$2" ]
}

stat_eq() {
	[ "$(sim_stat "$1")" -eq "$2" ]
}

pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

has_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

kill_gone() {
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
