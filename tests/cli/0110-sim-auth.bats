#!/usr/bin/env bats
# spotenv sim: authentication and the common error codes, with requests
# signed by spotenv's own signer (spotenv api) and raw ones sent by curl.

load sim_helpers

setup_file() {
	sim_start --pending-ms 50
}

teardown_file() {
	sim_stop
}

teardown() {
	sim_ctl clock '{"offsetMs":0}' >/dev/null 2>&1 || true
}

# POST a captured request file (tests/sim_data/requests) to the emulator.
replay() {
	local file=$BATS_TEST_DIRNAME/../sim_data/requests/$1 args=() line
	while IFS= read -r line; do
		case "$line" in
		'#'* | POST*) continue ;;
		'') break ;;
		'Host: 127.0.0.1') ;; # signed without the port; curl sends 127.0.0.1:PORT
		*) args+=(-H "$line") ;;
		esac
	done <"$file"
	sed '1,/^$/d' "$file" | curl -sS -X POST "${args[@]}" -H 'Expect:' --data-binary @- "$SIM_URL/"
}

@test "requests signed by spotenv are accepted" {
	run sim_api DescribeInstances '{"Limit":1}'
	[ "$status" -eq 0 ]
	[[ "$output" == *'"TotalCount"'* ]]
	[[ "$output" == *'"RequestId"'* ]]
}

@test "a wrong SecretKey gets AuthFailure.SignatureFailure" {
	TENCENTCLOUD_SECRET_KEY=not-the-key run sim_api DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"AuthFailure.SignatureFailure"* ]]
	[[ "$output" == *"RequestId"* ]]
	[[ "$output" != *"not-the-key"* ]]
}

@test "an unknown SecretId gets AuthFailure.SecretIdNotFound" {
	TENCENTCLOUD_SECRET_ID=AKIDNOBODY000000000000000000000000000 run sim_api DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"AuthFailure.SecretIdNotFound"* ]]
}

@test "a captured request replayed later gets AuthFailure.SignatureExpire" {
	run replay sdk-go-describe.http
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get Response.Error.Code)" = "AuthFailure.SignatureExpire" ]
	[ -n "$(echo "$output" | json_get Response.RequestId)" ]
}

@test "a tampered captured request is rejected (the time window is checked first)" {
	run replay tampered-body.http
	[ "$(echo "$output" | json_get Response.Error.Code)" = "AuthFailure.SignatureExpire" ]
}

@test "captured SDK-style requests verify at their time; tampered ones and a wrong secret do not" {
	# move the emulator's clock to 20 s after the captures were signed
	run sim_ctl clock '{"now":1764000020000}'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get now)" -ge 1764000020000 ]
	for f in sdk-go-describe sdk-python-run doc-style-offers; do
		run replay $f.http
		[ -z "$(echo "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Response"].get("Error", ""))')" ] ||
			{ echo "$f: $output"; false; }
	done
	[ "$(replay tampered-body.http | json_get Response.Error.Code)" = AuthFailure.SignatureFailure ]
	[ "$(replay tampered-signed-action.http | json_get Response.Error.Code)" = AuthFailure.SignatureFailure ]
	[ "$(replay wrong-secret.http | json_get Response.Error.Code)" = AuthFailure.SignatureFailure ]
	[ "$(replay unknown-secretid.http | json_get Response.Error.Code)" = AuthFailure.SecretIdNotFound ]
	# 301 s after signing the window has closed
	sim_ctl clock '{"now":1764000301000}' >/dev/null
	[ "$(replay sdk-go-describe.http | json_get Response.Error.Code)" = AuthFailure.SignatureExpire ]
	run sim_ctl clock '{"offsetMs":0}'
	[ "$(echo "$output" | json_get offsetMs)" = 0 ]
	run sim_api DescribeInstances '{}'
	[ "$status" -eq 0 ]
}

@test "missing headers, wrong version and non-POST requests get the real codes" {
	run curl -sS -X POST -H 'Content-Type: application/json' -d '{}' "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "MissingParameter" ]
	run curl -sS -X POST -H 'Content-Type: application/json' -H 'X-TC-Action: DescribeInstances' -d '{}' "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "MissingParameter" ]
	run curl -sS -X POST -H 'Content-Type: application/json' -H 'X-TC-Action: DescribeInstances' \
		-H 'X-TC-Version: 2020-01-01' -d '{}' "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "NoSuchVersion" ]
	run curl -sS -X POST -H 'Content-Type: application/json' -H 'X-TC-Action: DescribeInstances' \
		-H 'X-TC-Version: 2017-03-12' -d '{}' "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "MissingParameter" ]
	run curl -sS -X POST -H 'Content-Type: application/json' -H 'X-TC-Action: DescribeInstances' \
		-H 'X-TC-Version: 2017-03-12' -H "X-TC-Timestamp: $(date +%s)" \
		-H 'Authorization: TC3-HMAC-SHA256 garbage' -d '{}' "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "AuthFailure.InvalidAuthorization" ]
	run curl -sS "$SIM_URL/"
	[ "$(echo "$output" | json_get Response.Error.Code)" = "UnsupportedProtocol" ]
	# API errors arrive with HTTP 200, like the real service
	run curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$SIM_URL/"
	[ "$output" = 200 ]
}

@test "an unknown action gets InvalidAction and an unknown region UnsupportedRegion" {
	run sim_api DescribeInstance '{}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"InvalidAction"* ]]
	run sim_api DescribeInstances '{}' --region mars-north-1
	[ "$status" -eq 1 ]
	[[ "$output" == *"UnsupportedRegion"* ]]
}

@test "the counters count authentication failures per code" {
	run sim_ctl stats
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | json_get errors AuthFailure.SignatureFailure)" -ge 1 ]
	[ "$(echo "$output" | json_get errors AuthFailure.SecretIdNotFound)" -ge 1 ]
	se=$(echo "$output" | json_get errors AuthFailure.SignatureExpire)
	[ "$se" -ge 2 ]
}
