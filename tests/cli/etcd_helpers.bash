# etcd_helpers.bash - a private etcd v3 on free loopback ports, for the
# distributed lock's tests (docs/spotenv.1, --lock).
#
# Load it from a bats file:
#
#	load etcd_helpers
#	setup_file() { etcd_start; }
#	teardown_file() { etcd_stop; }
#
# etcd_start
#	Starts etcd (Debian's etcd-server: `util/deps.sh test` installs it)
#	in the background with a temporary data directory, on two free
#	loopback ports (client and peer), and waits (up to ETCD_START_TIMEOUT
#	seconds, default 30) until GET /health answers {"health":"true"}.
#	Picking a free port races with other processes, so a start that fails
#	is tried again on other ports (3 times).  Exports:
#	  ETCD_URL    etcd://127.0.0.1:PORT   (what --lock takes)
#	  ETCD_HTTP   http://127.0.0.1:PORT   (its JSON gateway)
#	  ETCD_PID, ETCD_DIR (ETCD_DIR holds etcd.log and the data directory)
#	Fails (printing etcd's log) when etcd does not come up; skips the
#	test when etcd is not installed.
# etcd_stop
#	SIGTERM, then waits for etcd (SIGKILL after 10 s), and removes the data
#	directory.  Safe to call twice or when nothing was started.
# etcd_value KEY       the value at KEY (decoded), empty when there is none
# etcd_has_key KEY     KEY exists
# etcd_no_key KEY      KEY does not exist
# etcd_revoke_key KEY  revoke the lease KEY hangs on (KEY goes with it)
# etcd_txns            how many Txn calls etcd has answered (its /metrics):
#                      a lock try is one, so a waiting runner shows as a
#                      count that grows

etcd_start() {
	local try port peer dir i
	if ! command -v etcd >/dev/null 2>&1; then
		skip "etcd is not installed (util/deps.sh test installs etcd-server)"
	fi
	if [ -n "${ETCD_PID:-}" ] && kill -0 "$ETCD_PID" 2>/dev/null; then
		echo "etcd_start: an etcd is already running (pid $ETCD_PID)" >&2
		return 1
	fi
	for try in 1 2 3; do
		read -r port peer < <(_etcd_free_ports) || return 1
		dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/etcd.XXXXXX")
		# etcd reads ETCD_* variables as flags: start it without ours;
		# fd 3 is bats' own: the background process must not hold it
		env -u ETCD_URL -u ETCD_HTTP -u ETCD_PID -u ETCD_DIR \
			etcd --name default --data-dir "$dir/data" \
			--listen-client-urls "http://127.0.0.1:$port" \
			--advertise-client-urls "http://127.0.0.1:$port" \
			--listen-peer-urls "http://127.0.0.1:$peer" \
			--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
			--initial-cluster "default=http://127.0.0.1:$peer" \
			>"$dir/etcd.log" 2>&1 3>&- </dev/null &
		ETCD_PID=$!
		ETCD_DIR=$dir
		ETCD_HTTP="http://127.0.0.1:$port"
		ETCD_URL="etcd://127.0.0.1:$port"
		export ETCD_PID ETCD_DIR ETCD_HTTP ETCD_URL
		for ((i = 0; i < ${ETCD_START_TIMEOUT:-30} * 10; i++)); do
			if _etcd_healthy; then
				return 0
			fi
			kill -0 "$ETCD_PID" 2>/dev/null || break
			sleep 0.1
		done
		echo "etcd_start: etcd did not come up on port $port (try $try):" >&2
		tail -n 20 "$dir/etcd.log" >&2
		etcd_stop
	done
	return 1
}

etcd_stop() {
	local pid=${ETCD_PID:-} i
	ETCD_PID=
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true # (it may have ended meanwhile)
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "${ETCD_DIR:-}" ]; then
		rm -rf "$ETCD_DIR/data"
	fi
	return 0
}

# two free loopback TCP ports (bound, then released for etcd to take)
_etcd_free_ports() {
	python3 -c '
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*[s.getsockname()[1] for s in socks])
'
}

_etcd_healthy() {
	[ "$(curl -s --max-time 2 --noproxy '*' "$ETCD_HTTP/health" 2>/dev/null)" = '{"health":"true"}' ]
}

# POST JSON to the gateway, print the answer
_etcd_post() {
	curl -s --max-time 5 --noproxy '*' -X POST -H 'Content-Type: application/json' \
		-d "$2" "$ETCD_HTTP$1"
}

etcd_value() {
	local k
	k=$(printf '%s' "$1" | base64 -w0)
	_etcd_post /v3/kv/range "{\"key\":\"$k\"}" | python3 -c '
import base64, json, sys
kvs = json.load(sys.stdin).get("kvs") or []
if kvs:
    sys.stdout.write(base64.b64decode(kvs[0].get("value", "")).decode("utf-8", "replace"))
'
}

etcd_has_key() {
	local k
	k=$(printf '%s' "$1" | base64 -w0)
	_etcd_post /v3/kv/range "{\"key\":\"$k\",\"count_only\":true}" | grep -q '"count":"[1-9]'
}

etcd_no_key() {
	! etcd_has_key "$1"
}

etcd_txns() {
	curl -s --max-time 5 --noproxy '*' "$ETCD_HTTP/metrics" |
		awk '/^grpc_server_handled_total\{.*grpc_method="Txn"/ { n += $2 } END { print n + 0 }'
}

# etcd_revoke_key KEY: revoke the lease KEY is attached to (as an operator,
# or etcd losing it, would), deleting KEY
etcd_revoke_key() {
	local k lease
	k=$(printf '%s' "$1" | base64 -w0)
	lease=$(_etcd_post /v3/kv/range "{\"key\":\"$k\"}" | python3 -c '
import json, sys
print(json.load(sys.stdin)["kvs"][0]["lease"])
') || return 1
	_etcd_post /v3/lease/revoke "{\"ID\":\"$lease\"}" >/dev/null
}
