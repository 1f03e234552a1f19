#!/usr/bin/env bats
# spotenv api: help, usage errors, credential errors (no network needed).

bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY TENCENTCLOUD_SESSION_TOKEN \
		TENCENTCLOUD_SECURITY_TOKEN TENCENTCLOUD_TOKEN TENCENTCLOUD_PROFILE \
		TENCENTCLOUD_CREDENTIALS_FILE SPOTENV_ENDPOINT TENCENTCLOUD_ROLE_ARN \
		TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE TKE_PROVIDER_ID TKE_WEB_IDENTITY_TOKEN_FILE \
		TKE_ROLE_ARN
	# the CVM role, the chain's last resort: loopback, never the real host
	export SPOTENV_METADATA_ENDPOINT=http://127.0.0.1:1
}

@test "api: --help shows usage and options" {
	run --separate-stderr "$SPOTENV" api --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: spotenv api ACTION [JSON]"* ]]
	[[ "$output" == *"--endpoint URL"* ]]
	[[ "$output" == *"--profile NAME"* ]]
	[ -z "$stderr" ]
}

@test "api: no action is a usage error" {
	run --separate-stderr "$SPOTENV" api
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no action given"* ]]
}

@test "api: a body that is not a JSON object is a usage error" {
	run --separate-stderr "$SPOTENV" api DescribeInstances '[1, 2]'
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"not a JSON object"* ]]
	run --separate-stderr "$SPOTENV" api DescribeInstances '{"Limit":'
	[ "$status" -eq 64 ]
}

@test "api: too many arguments" {
	run --separate-stderr "$SPOTENV" api DescribeInstances '{}' extra
	[ "$status" -eq 64 ]
}

@test "api: no credentials names every place looked at" {
	run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"no Tencent Cloud credentials found"* ]]
	[[ "$stderr" == *"TENCENTCLOUD_SECRET_ID"* ]]
	[[ "$stderr" == *"$HOME/.tencentcloud/credentials' [default]"* ]]
	[[ "$stderr" == *"$HOME/.tccli/default.credential'"* ]]
	[[ "$stderr" == *"the CVM role at 'http://127.0.0.1:1'"* ]]
}

@test "api: a regional action without --region is a usage error before any call" {
	# an endpoint nobody listens on: a network attempt would be a different error
	SPOTENV_ENDPOINT=http://127.0.0.1:1 run --separate-stderr "$SPOTENV" api DescribeInstances
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"'DescribeInstances' needs --region, e.g. --region ap-guangzhou"* ]]
}

@test "api: --profile selects the INI section and is named in errors" {
	run --separate-stderr "$SPOTENV" api DescribeInstances --profile prod --region ap-guangzhou
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"credentials' [prod]"* ]]
	[[ "$stderr" == *".tccli/prod.credential'"* ]]
}

@test "api: one credential variable without the other is an error" {
	TENCENTCLOUD_SECRET_ID=AKIDx run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'TENCENTCLOUD_SECRET_ID' is set but 'TENCENTCLOUD_SECRET_KEY' is not"* ]]
}

@test "api: plain http is refused for a non-loopback endpoint" {
	# shellcheck disable=SC2030 # each @test runs in a process of its own: meant for this test only
	export TENCENTCLOUD_SECRET_ID=AKIDx TENCENTCLOUD_SECRET_KEY=sk-not-shown
	run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou --endpoint http://cvm.tencentcloudapi.com
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"only allowed for loopback"* ]]
	SPOTENV_ENDPOINT=http://10.1.2.3 run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'http://10.1.2.3'"* ]]
}

@test "api: connection refused is retried, logged with -v, and never shows secrets" {
	# shellcheck disable=SC2031 # each @test runs in a process of its own: this export is its own
	export TENCENTCLOUD_SECRET_ID=AKIDx TENCENTCLOUD_SECRET_KEY=sk-must-not-appear
	export TENCENTCLOUD_TOKEN=token-must-not-appear
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run --separate-stderr "$SPOTENV" api DescribeInstances --region ap-guangzhou \
		--endpoint "http://127.0.0.1:$port" -v
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"attempt=1"* ]]
	[[ "$stderr" == *"attempt=5"* ]]
	[[ "$stderr" == *"'DescribeInstances' in 'ap-guangzhou' failed"* ]]
	[[ "$stderr" == *"(after 5 attempts)"* ]]
	[[ "$stderr" != *"must-not-appear"* ]]
	[[ "$stderr" != *"Signature="* ]]
}
