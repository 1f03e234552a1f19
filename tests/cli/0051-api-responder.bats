#!/usr/bin/env bats
# spotenv api against a scripted loopback responder: exact request headers,
# the Response printed with numbers as received, API errors with code and
# RequestId, retries of throttling.

bats_require_minimum_version 1.5.0

load sim_helpers # (wait_until)

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	command -v python3 >/dev/null || { echo "python3 is needed for the responder (make deps installs it)" >&2; return 1; }
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset TENCENTCLOUD_SESSION_TOKEN TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_PROFILE \
		TENCENTCLOUD_CREDENTIALS_FILE SPOTENV_ENDPOINT
	export TENCENTCLOUD_SECRET_ID=AKIDbats000000000000000000000000000
	export TENCENTCLOUD_SECRET_KEY=bats-secret-key-must-not-appear
	export TENCENTCLOUD_TOKEN=bats-token-must-not-appear
	D=$BATS_TEST_TMPDIR
	cat >"$D/responder.py" <<'PY'
import http.server, json, sys, os
d = sys.argv[1]
replies = json.load(open(os.path.join(d, "replies.json")))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(os.path.join(d, "requests.jsonl"), "a") as f:
            f.write(json.dumps({"headers": [[k, v] for k, v in self.headers.items()],
                                "body": body.decode()}) + "\n")
        r = replies[min(H.n, len(replies) - 1)]
        H.n += 1
        out = r["body"].encode()
        self.send_response(r.get("status", 200))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(os.path.join(d, "port.tmp"), "w").write(str(s.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
s.serve_forever()
PY
}

teardown() {
	if [ -n "${RPID:-}" ]; then
		kill "$RPID" 2>/dev/null || true
		wait "$RPID" 2>/dev/null || true
	fi
}

start_responder() {
	python3 "$D/responder.py" "$D" 3>&- &
	RPID=$!
	wait_until 30 test -s "$D/port"
	URL="http://127.0.0.1:$(cat "$D/port")"
}

@test "api: prints the Response with numbers exactly as received" {
	cat >"$D/replies.json" <<'J'
[{"body": "{\"Response\": {\"TotalCount\": 1, \"Price\": 0.10000000000000001, \"Big\": 12345678901234567890, \"S\": \"x\", \"InstanceSet\": [], \"RequestId\": \"req-1\"}}"}]
J
	start_responder
	run --separate-stderr "$SPOTENV" api DescribeInstances '{"Limit": 1}' \
		--region ap-guangzhou --endpoint "$URL"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Price":	0.10000000000000001'* ]]
	[[ "$output" == *'"Big":	12345678901234567890'* ]]
	[[ "$output" == *'"RequestId":	"req-1"'* ]]
	[ -z "$stderr" ]
	# the request: exact body and the documented headers only
	run python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print(r["body"])
print(";".join(k.lower() for k, v in r["headers"]))
h = dict((k.lower(), v) for k, v in r["headers"])
print(h["content-type"], h["x-tc-version"], h["x-tc-action"], h["x-tc-region"], h["x-tc-requestclient"])
print(h["authorization"].split(", ")[1])
' "$D/requests.jsonl"
	[ "${lines[0]}" = '{"Limit": 1}' ]
	[ "${lines[1]}" = "host;authorization;content-type;x-tc-action;x-tc-version;x-tc-region;x-tc-timestamp;x-tc-token;x-tc-language;x-tc-requestclient;content-length" ]
	[[ "${lines[2]}" == "application/json 2017-03-12 DescribeInstances ap-guangzhou spotenv/"* ]]
	[ "${lines[3]}" = "SignedHeaders=content-type;host;x-tc-action" ]
}

@test "api: an API error shows code, message and RequestId and exits 1" {
	cat >"$D/replies.json" <<'J'
[{"body": "{\"Response\": {\"Error\": {\"Code\": \"InvalidZone.MismatchRegion\", \"Message\": \"zone does not exist\"}, \"RequestId\": \"req-err-7\"}}"}]
J
	start_responder
	run --separate-stderr "$SPOTENV" api RunInstances '{"Placement":{"Zone":"x"}}' \
		--region ap-guangzhou --endpoint "$URL"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "spotenv: error: 'RunInstances' in 'ap-guangzhou' failed (InvalidZone.MismatchRegion: zone does not exist, RequestId req-err-7)" ]
}

@test "api: throttling is retried with the same body; -v logs each attempt without secrets" {
	cat >"$D/replies.json" <<'J'
[{"body": "{\"Response\": {\"Error\": {\"Code\": \"RequestLimitExceeded\", \"Message\": \"slow down\"}, \"RequestId\": \"req-a\"}}"},
 {"status": 502, "body": "bad gateway"},
 {"body": "{\"Response\": {\"InstanceIdSet\": [\"ins-1\"], \"RequestId\": \"req-c\"}}"}]
J
	start_responder
	run --separate-stderr "$SPOTENV" api RunInstances '{"ClientToken":"tok-1","InstanceCount":1}' \
		--region ap-guangzhou --endpoint "$URL" -v
	[ "$status" -eq 0 ]
	[[ "$output" == *'"ins-1"'* ]]
	[[ "$stderr" == *"attempt=1 status=200"*"request_id=req-a error=RequestLimitExceeded"* ]]
	[[ "$stderr" == *"attempt=2 status=502"* ]]
	[[ "$stderr" == *"attempt=3 status=200"*"request_id=req-c error=-"* ]]
	[[ "$stderr" != *"must-not-appear"* ]]
	[[ "$stderr" != *"Signature"* ]]
	run python3 -c '
import json, sys
bodies = [json.loads(l)["body"] for l in open(sys.argv[1])]
print(len(bodies), len(set(bodies)))
' "$D/requests.jsonl"
	[ "$output" = "3 1" ]
}

@test "api: a malformed response is an error, not retried" {
	cat >"$D/replies.json" <<'J'
[{"body": "{\"Response\": {\"TotalCount\": 1, "}]
J
	start_responder
	run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou --endpoint "$URL"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unexpected API response: malformed JSON"* ]]
	[ "$(wc -l <"$D/requests.jsonl")" -eq 1 ]
}

@test "api: the body can come from stdin" {
	cat >"$D/replies.json" <<'J'
[{"body": "{\"Response\": {\"RequestId\": \"req-s\"}}"}]
J
	start_responder
	run --separate-stderr "$SPOTENV" api TerminateInstances - --region ap-guangzhou \
		--endpoint "$URL" <<<'{"InstanceIds": ["ins-1"]}'
	[ "$status" -eq 0 ]
	[[ "$(head -n 1 "$D/requests.jsonl")" == *'"body": "{\"InstanceIds\": [\"ins-1\"]}\n"'* ]]
}
