#!/usr/bin/env bats
# --log-format json: every line spotenv writes on stderr is one JSON object
# (time, level, event, msg, and the fields a line knows: environment,
# action, region, request_id, duration_ms), for log pipelines.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# check_lines [PYTHON-EXPR]: stderr on stdin; every non-empty line is a JSON
# object with time (RFC 3339 UTC, milliseconds), a known level, an event and
# a string msg; then PYTHON-EXPR over `objs` (the objects) must be true.
check_lines() {
	python3 -c '
import json, re, sys
objs = []
for n, line in enumerate(sys.stdin.read().split("\n"), 1):
    if not line:
        continue
    try:
        o = json.loads(line)
    except ValueError:
        sys.exit("line %d is not JSON: %r" % (n, line))
    assert isinstance(o, dict), line
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), line
    assert o["level"] in ("error", "warn", "info", "debug"), line
    assert isinstance(o["event"], str) and o["event"], line
    assert isinstance(o["msg"], str), line
    objs.append(o)
expr = sys.argv[1] if len(sys.argv) > 1 else "True"
if not eval(expr):
    sys.exit("check failed: %s\n%s" % (expr, "\n".join(map(json.dumps, objs))))
' "$@"
}

@test "log-format json: spec errors carry their file, line and column" {
	run --separate-stderr "$SPOTENV" validate --log-format json "$FX/invalid.yaml"
	[ "$status" -eq 1 ]
	check_lines 'any(o["level"] == "error" and o["event"] == "spec_error" and o["file"].endswith("invalid.yaml") and o["line"] > 0 for o in objs)' <<<"$stderr"
}

@test "log-format json: usage errors, before the command too" {
	run --separate-stderr "$SPOTENV" --log-format json plan --bogus "$FX/web.yaml"
	[ "$status" -eq 64 ]
	check_lines 'objs[0]["level"] == "error" and objs[0]["event"] == "usage" and "--bogus" in objs[0]["msg"]' <<<"$stderr"
	# an unknown format is a usage error, said in text
	run --separate-stderr "$SPOTENV" plan --log-format yaml "$FX/web.yaml"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown log format 'yaml' (expected text or json)"* ]]
}

@test "log-format json: the -v call log has action, region, request id and duration" {
	run --separate-stderr "$SPOTENV" plan -v --log-format json "$FX/web.yaml"
	[ "$status" -eq 0 ]
	check_lines '
any(o["event"] == "api_call" and o["level"] == "debug" and o["action"] == "DescribeInstances"
    and o["region"].startswith("ap-") and o["request_id"] and o["duration_ms"] >= 0 for o in objs)' <<<"$stderr"
}

@test "log-format json: spotenv api -v logs its calls with their fields" {
	run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou -v --log-format json
	[ "$status" -eq 0 ]
	check_lines '
any(o["event"] == "api_call" and o["action"] == "DescribeInstances" and o["region"] == "ap-guangzhou"
    and o["request_id"] and "duration_ms" in o for o in objs)' <<<"$stderr"
}

@test "log-format json: SPOTENV_LOG_FORMAT, and JSON-escaped values" {
	# a quote, a backslash and a tab from the command line, in the message
	SPOTENV_LOG_FORMAT=json run --separate-stderr "$SPOTENV" validate "$FX/web.yaml" \
		--bad"\"x\\y"$'\t'
	[ "$status" -eq 64 ]
	check_lines 'objs[0]["event"] == "usage" and "--bad\"x\\y" in objs[0]["msg"]' <<<"$stderr"
}

@test "log-format json: apply's progress and notes, per environment" {
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms \
		--log-format json "$FX/web.yaml"
	[ "$status" -eq 0 ]
	check_lines '
any(o["event"] == "progress" and o["environment"] == "web" and o["action"] and "running" in o["msg"] for o in objs)' <<<"$stderr"
}

@test "log-format json: an environment skipped for plan errors is named in its own field" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --price 0.90 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --price 0.95 >/dev/null
	run --separate-stderr "$SPOTENV" plan --log-format json "$FX/web.yaml"
	[ "$status" -eq 3 ]
	check_lines '
any(o["level"] == "warn" and o.get("environment") == "web" and "skipped" in o["msg"] for o in objs)' <<<"$stderr"
	# the same warning in text, as before
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[[ "$stderr" == *"spotenv: warning: environment 'web' has errors in its plan and is skipped"* ]]
}

@test "log-format text: stderr as before" {
	run --separate-stderr "$SPOTENV" validate --log-format text "$FX/invalid.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"invalid.yaml:"*": error: "* ]]
	[[ "$stderr" != *'{"time"'* ]]
}
