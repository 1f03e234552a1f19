#!/usr/bin/env bats
# sim ctl talks only to loopback (issue 12, item 6): the control API resets
# and reshapes worlds, so an endpoint off this machine, given with
# --endpoint or in SPOTENV_ENDPOINT, is refused (exit 1, the same rule and
# code as the API client's plain-http rule) before anything is sent, and
# proxies are never used.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers

setup_file() {
	sim_start
}

teardown_file() {
	sim_stop
}

teardown() {
	if [ -n "${LPID:-}" ]; then
		kill "$LPID" 2>/dev/null || true
		wait "$LPID" 2>/dev/null || true
	fi
}

# A listener on every address that counts the connections it gets (in
# $BATS_TEST_TMPDIR/hits); sets OFF_URL to it at this machine's first
# non-loopback address, or skips when there is none.
start_listener() {
	local ip
	ip=$(python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("192.0.2.1", 9))   # no packet is sent: this only picks a source address
    print(s.getsockname()[0])
except OSError:
    pass
')
	case "$ip" in "" | 127.*) skip "no non-loopback address on this machine" ;; esac
	: >"$BATS_TEST_TMPDIR/hits"
	python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 0))
s.listen(16)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    open(sys.argv[1], "a").write("hit\n")
    c.close()
' "$BATS_TEST_TMPDIR/hits" 3>&- &
	LPID=$!
	wait_until 20 test -s "$BATS_TEST_TMPDIR/hits.port"
	OFF_URL="http://$ip:$(cat "$BATS_TEST_TMPDIR/hits.port")"
}

@test "sim ctl: an endpoint off loopback is refused before anything is sent" {
	start_listener
	run --separate-stderr "$SPOTENV" sim ctl --endpoint "$OFF_URL" stats
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"emulator endpoint '$OFF_URL' is not on loopback; 'sim ctl' only talks to an emulator on this machine"* ]]
	run --separate-stderr env SPOTENV_ENDPOINT="$OFF_URL" "$SPOTENV" sim ctl reset
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not on loopback"*"(from SPOTENV_ENDPOINT)"* ]]
	# a loopback name in the user part is still the other host
	run --separate-stderr "$SPOTENV" sim ctl --endpoint "http://127.0.0.1@${OFF_URL#http://}" reset
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not on loopback"* ]]
	run --separate-stderr "$SPOTENV" sim ctl --endpoint "https://cvm.tencentcloudapi.com" stats
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not on loopback"* ]]
	run --separate-stderr "$SPOTENV" sim ctl --endpoint "ftp://127.0.0.1:$SIM_PORT" stats
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not an http:// URL"* ]]
	sleep 0.2
	[ ! -s "$BATS_TEST_TMPDIR/hits" ]
}

@test "sim ctl: loopback endpoints work, and never through a proxy" {
	start_listener
	run --separate-stderr "$SPOTENV" sim ctl --endpoint "http://localhost:$SIM_PORT" stats
	[ "$status" -eq 0 ]
	[[ "$output" == *'"requests"'* ]]
	run --separate-stderr env SPOTENV_ENDPOINT="$SIM_URL" http_proxy="$OFF_URL" \
		HTTP_PROXY="$OFF_URL" ALL_PROXY="$OFF_URL" NO_PROXY= no_proxy= "$SPOTENV" sim ctl stats
	[ "$status" -eq 0 ]
	[[ "$output" == *'"requests"'* ]]
	sleep 0.2
	[ ! -s "$BATS_TEST_TMPDIR/hits" ]
}
