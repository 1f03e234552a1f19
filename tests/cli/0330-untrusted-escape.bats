#!/usr/bin/env bats
# Everything printed that came from outside (the API's codes, messages and
# RequestIds, names of files) is escaped and cut (issue 12, item 5): control
# characters are shown as '?', one string is printed to 512 bytes and "...".
# The emulator answers only what the documents say, so a scripted loopback
# responder plays the hostile API.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers # (wait_until)

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	command -v python3 >/dev/null || { echo "python3 is needed for the responder" >&2; return 1; }
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset TENCENTCLOUD_SESSION_TOKEN TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_TOKEN \
		TENCENTCLOUD_PROFILE TENCENTCLOUD_CREDENTIALS_FILE SPOTENV_ENDPOINT NO_COLOR
	export TENCENTCLOUD_SECRET_ID=AKIDbats000000000000000000000000000
	export TENCENTCLOUD_SECRET_KEY=bats-secret-key
	export SPOTENV_LOCK_FILE=$BATS_TEST_TMPDIR/spotenv.lock
	export SPOTENV_STATE_DIR=$BATS_TEST_TMPDIR/state
	D=$BATS_TEST_TMPDIR
	cat >"$D/responder.py" <<'PY'
import http.server, json, sys, os
d = sys.argv[1]
reply = open(os.path.join(d, "reply.json"), "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        try:
            self.wfile.write(reply)
        except OSError:
            pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(os.path.join(d, "port.tmp"), "w").write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
PY
	cp "$BATS_TEST_DIRNAME/fixtures/web.yaml" "$D/web.yaml"
}

teardown() {
	if [ -n "${RPID:-}" ]; then
		kill "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
}

# answer every request with an API error: CODE MESSAGE REQUESTID (JSON-escaped by python)
start_error_responder() {
	python3 -c '
import json, sys
code, msg, rid = sys.argv[1:4]
msg = msg.replace("BIG", "m" * 200000)
r = {"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": rid}}
open(sys.argv[4], "w").write(json.dumps(r))
' "$1" "$2" "$3" "$D/reply.json"
	python3 "$D/responder.py" "$D" 3>&- &
	RPID=$!
	wait_until 30 test -s "$D/port"
	URL="http://127.0.0.1:$(cat "$D/port")"
}

@test "escape: an API error with an OSC title and a clear-screen is printed escaped" {
	start_error_responder $'InvalidParameter\e[31m' \
		$'\e]0;pwned\a\e[2J\e[Hthe world is gone\r\nspotenv: fake line' $'req-\e[1m1'
	run --separate-stderr "$SPOTENV" plan "$D/web.yaml" --endpoint "$URL"
	[ "$status" -eq 1 ]
	[[ "$stderr" != *$'\e'* ]]
	[[ "$stderr" != *$'\a'* ]]
	[[ "$stderr" != *$'\r'* ]]
	# one line, the forged one included in it
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"InvalidParameter?[31m: ?]0;pwned??[2J?[Hthe world is gone??spotenv: fake line"* ]]
	[[ "$stderr" == *"RequestId req-?[1m1)"* ]]
}

@test "escape: a 200 KB API message is cut to 512 bytes and '...'" {
	start_error_responder InvalidParameter "BIG" req-2
	run --separate-stderr "$SPOTENV" plan "$D/web.yaml" --endpoint "$URL"
	[ "$status" -eq 1 ]
	[ "${#stderr}" -lt 1200 ]
	m512=$(printf 'm%.0s' $(seq 512))
	[[ "$stderr" == *"InvalidParameter: $m512..., RequestId req-2)"* ]]
	[[ "$stderr" != *"${m512}m"* ]]
}

@test "escape: a file name with control characters is printed escaped" {
	mkdir "$D/specs"
	printf 'a: [\n' >"$D/specs/"$'x\e]0;t\a.yaml'
	run --separate-stderr "$SPOTENV" validate "$D/specs"
	[ "$status" -eq 1 ]
	[[ "$stderr" != *$'\e'* ]]
	[[ "$stderr" != *$'\a'* ]]
	[[ "$stderr" == *"/specs/x?]0;t?.yaml:"*"error: invalid YAML"* ]]
	# a plan file's name too
	printf 'not json' >"$D/"$'p\e[2J.json'
	run --separate-stderr "$SPOTENV" show "$D/"$'p\e[2J.json'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"p?[2J.json' is not a spotenv plan"* ]]
}
