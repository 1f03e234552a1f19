#!/usr/bin/env bats
# Credentials through the emulator (docs/provider.md "Credentials",
# docs/sim.md "Credentials"): the CVM role of the metadata service, STS
# AssumeRole chained from environment keys, web identity from a token file
# (generic and TKE variables), the tccli cvm-role profile, the order of
# the chain, renewal across expiry during one apply --until-converged,
# a renewal that fails while the keys are still valid (the emulator's
# injected STS fault, `sim ctl sts`), temporary keys without (or with a
# wrong, or an expired) token refused, no secret or token in any output
# under -v, and a fall-through in under 1 s when the metadata service
# refuses, does not answer the connection, or accepts it and stays silent.
# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
# shellcheck disable=SC2030,SC2031 # each @test runs in a process of its own: its exports are its own

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	# instances stay PENDING long enough for credentials to expire during
	# one apply (the renewal test sets a 2 s life)
	sim_start --pending-ms 3000
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
	sts '{"roleName":"spotenv-sim-role","durationSeconds":0,"webIdentityToken":null}' >/dev/null
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME/.tccli" "$HOME/.tencentcloud"
	# keys for the tests that want them; the others unset them
	BASE_ID=$TENCENTCLOUD_SECRET_ID
	BASE_KEY=$TENCENTCLOUD_SECRET_KEY
	unset TENCENTCLOUD_ROLE_ARN TENCENTCLOUD_ROLE_SESSION_NAME TENCENTCLOUD_PROVIDER_ID \
		TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE TKE_PROVIDER_ID TKE_WEB_IDENTITY_TOKEN_FILE \
		TKE_ROLE_ARN TKE_REGION TENCENTCLOUD_CREDENTIALS_FILE
	export SPOTENV_METADATA_ENDPOINT=$SIM_URL SPOTENV_STS_ENDPOINT=$SIM_URL
	OUT=$BATS_TEST_TMPDIR/all-output
	: >"$OUT"
}

teardown() {
	if [ -n "${SILENT_PID:-}" ]; then
		kill_gone "$SILENT_PID"
	fi
}

# sts [JSON]: the emulator's metadata and STS settings, fault and counters
# (spotenv sim ctl sts: GET /_sim/sts, or POST JSON to it)
sts() {
	sim_ctl sts "$@"
}

sts_stat() {
	sts | json_get "$1"
}

no_keys() {
	unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY
}

# api_v: spotenv api -v DescribeInstances, output kept for the secrets check
api_v() {
	run --separate-stderr "$SPOTENV" api -v --region ap-guangzhou DescribeInstances '{}'
	printf '%s\n%s\n' "$output" "$stderr" >>"$OUT"
}

# no temporary key (40 hex), token (96 hex), base key or web token in $OUT
assert_no_secrets() {
	run grep -E '[0-9a-f]{40}' "$OUT"
	[ "$status" -eq 1 ]
	run grep -F -e "$SIM_TEST_SECRET_KEY" -e "web-token-for-tests" "$OUT"
	[ "$status" -eq 1 ]
}

@test "credentials: the CVM role of the metadata service, when nothing else is set" {
	no_keys
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from the CVM role of the metadata service '$SIM_URL'"* ]]
	[[ "$stderr" == *"credentials metadata GET cam/security-credentials/ status=200"* ]]
	[[ "$stderr" == *"credentials metadata GET cam/security-credentials/spotenv-sim-role status=200"* ]]
	[[ "$stderr" == *"call DescribeInstances region=ap-guangzhou attempt=1 status=200"* ]]
	[ "$(sts_stat metadata)" -eq 2 ]
	[ "$(sts_stat issued)" -eq 1 ]
	assert_no_secrets
}

@test "credentials: no role bound (404) names every place looked at" {
	no_keys
	sts '{"roleName":""}' >/dev/null
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no Tencent Cloud credentials found; looked at environment"* ]]
	[[ "$stderr" == *"web identity"* ]]
	[[ "$stderr" == *"$HOME/.tencentcloud/credentials' [default]"* ]]
	[[ "$stderr" == *"$HOME/.tccli/default.credential'"* ]]
	[[ "$stderr" == *"the CVM role at '$SIM_URL' (HTTP status 404)"* ]]
}

# silent_listener MODE: a loopback listener that never answers, its port in
# $BATS_TEST_TMPDIR/silent.port.  MODE "accept": it accepts connections and
# holds them without a word; "full": its backlog is full, so new
# connections never complete (what a host that does not route looks like)
silent_listener() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0 if sys.argv[1] == "full" else 8)
port = s.getsockname()[1]
held = []
if sys.argv[1] == "full":
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(c)
print(port, flush=True)
if sys.argv[1] == "accept":
    s.settimeout(60)
    while True:
        held.append(s.accept()[0])
time.sleep(60)
' "$1" >"$BATS_TEST_TMPDIR/silent.port" 3>&- &
	SILENT_PID=$!
	wait_until 10 test -s "$BATS_TEST_TMPDIR/silent.port"
	SPOTENV_METADATA_ENDPOINT=http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/silent.port")
	export SPOTENV_METADATA_ENDPOINT
}

# fall_through WHAT: with no credentials anywhere, a command that needs them
# fails with the chain's error naming every place looked at, the CVM role
# at $SPOTENV_METADATA_ENDPOINT last, within 1 s (measured around it)
fall_through() {
	local t0 t1 ms
	no_keys
	t0=$(date +%s%N)
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	echo "# fall-through ($1) took $ms ms" >&3
	echo "$stderr"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no Tencent Cloud credentials found; looked at environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY), web identity (TKE_WEB_IDENTITY_TOKEN_FILE, TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE), '$HOME/.tencentcloud/credentials' [default], '$HOME/.tccli/default.credential', the CVM role at '$SPOTENV_METADATA_ENDPOINT' (no answer: "* ]]
	[ "$ms" -le 1000 ]
}

@test "credentials: off a CVM (connection refused) the chain falls through in under 1 s" {
	# nothing listens on loopback port 1
	export SPOTENV_METADATA_ENDPOINT=http://127.0.0.1:1
	fall_through "connection refused"
}

@test "credentials: off a CVM (no connection) the chain falls through in under 1 s" {
	silent_listener full
	fall_through "connect timeout"
}

@test "credentials: a metadata service that accepts and never answers: under 1 s too" {
	silent_listener accept
	fall_through "silent service"
}

@test "credentials: plain http to a metadata host other than loopback is refused" {
	no_keys
	SPOTENV_METADATA_ENDPOINT=http://metadata.example.invalid \
		run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"uses plain http, which is only allowed for loopback addresses and metadata.tencentyun.com"* ]]
}

@test "credentials: STS AssumeRole chained from the environment's keys" {
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/100000000001:roleName/spotenv-ci
	export TENCENTCLOUD_ROLE_SESSION_NAME=bats
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from AssumeRole 'qcs::cam::uin/100000000001:roleName/spotenv-ci' with the keys of environment"* ]]
	[[ "$stderr" == *"credentials AssumeRole status=200"* ]]
	[ "$(sts_stat assumeRole)" -eq 1 ]
	[ "$(sts_stat metadata)" -eq 0 ]
	assert_no_secrets
}

@test "credentials: AssumeRole with keys the emulator does not know fails, naming the role" {
	export TENCENTCLOUD_SECRET_ID=AKIDunknown0000000000000000000000000
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/1:roleName/r
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'AssumeRole' at '$SIM_URL' for role 'qcs::cam::uin/1:roleName/r' failed: AuthFailure.SecretIdNotFound"* ]]
}

@test "credentials: the INI file's role_arn and the tccli file's role-arn" {
	no_keys
	printf '[default]\nsecret_id = %s\nsecret_key = %s\nrole_arn = qcs::cam::uin/1:roleName/ini\n' \
		"$BASE_ID" "$BASE_KEY" >"$HOME/.tencentcloud/credentials"
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"AssumeRole 'qcs::cam::uin/1:roleName/ini' with the keys of '$HOME/.tencentcloud/credentials' [default]"* ]]
	rm "$HOME/.tencentcloud/credentials"
	printf '{"secretId": "%s", "secretKey": "%s", "role-arn": "qcs::cam::uin/1:roleName/tccli"}\n' \
		"$BASE_ID" "$BASE_KEY" >"$HOME/.tccli/default.credential"
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"AssumeRole 'qcs::cam::uin/1:roleName/tccli' with the keys of '$HOME/.tccli/default.credential'"* ]]
	[ "$(sts_stat assumeRole)" -eq 2 ]
	assert_no_secrets
}

@test "credentials: web identity from a token file (generic variables, then TKE's)" {
	no_keys
	echo "web-token-for-tests" >"$BATS_TEST_TMPDIR/oidc-token"
	sts '{"webIdentityToken":"web-token-for-tests"}' >/dev/null
	export TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE=$BATS_TEST_TMPDIR/oidc-token
	export TENCENTCLOUD_PROVIDER_ID=github
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/1:roleName/gha
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from web identity (TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE '$BATS_TEST_TMPDIR/oidc-token', role 'qcs::cam::uin/1:roleName/gha')"* ]]
	[[ "$stderr" == *"credentials AssumeRoleWithWebIdentity status=200"* ]]
	unset TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE TENCENTCLOUD_PROVIDER_ID TENCENTCLOUD_ROLE_ARN
	export TKE_PROVIDER_ID=tke-oidc TKE_WEB_IDENTITY_TOKEN_FILE=$BATS_TEST_TMPDIR/oidc-token
	export TKE_ROLE_ARN=qcs::cam::uin/1:roleName/tke TKE_REGION=ap-guangzhou
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from web identity (TKE_WEB_IDENTITY_TOKEN_FILE"* ]]
	[ "$(sts_stat assumeRoleWithWebIdentity)" -eq 2 ]
	# a token the provider does not accept
	echo "someone-else" >"$BATS_TEST_TMPDIR/oidc-token"
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'AssumeRoleWithWebIdentity' at '$SIM_URL' for role 'qcs::cam::uin/1:roleName/tke' failed: InvalidParameter.WebIdentityTokenError"* ]]
	[[ "$stderr" != *"someone-else"* ]]
	assert_no_secrets
}

@test "credentials: a tccli profile of type cvm-role (HOME in a temporary directory)" {
	no_keys
	echo '{"type": "cvm-role"}' >"$HOME/.tccli/ops.credential"
	run --separate-stderr "$SPOTENV" api -v --profile ops --region ap-guangzhou DescribeInstances '{}'
	printf '%s\n%s\n' "$output" "$stderr" >>"$OUT"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from the CVM role ('$HOME/.tccli/ops.credential' type cvm-role)"* ]]
	[ "$(sts_stat metadata)" -eq 2 ]
	# a named role skips the role-name page
	echo '{"type": "cvm-role", "role-name": "spotenv-sim-role"}' >"$HOME/.tccli/ops.credential"
	run --separate-stderr "$SPOTENV" api --profile ops --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 0 ]
	[ "$(sts_stat metadata)" -eq 3 ]
	# a role that is not there
	echo '{"type": "cvm-role", "role-name": "nope"}' >"$HOME/.tccli/ops.credential"
	run --separate-stderr "$SPOTENV" api --profile ops --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no CVM role at '$SIM_URL' (HTTP status 404 for role 'nope')"* ]]
	assert_no_secrets
}

@test "credentials: the order of the chain" {
	echo "web-token-for-tests" >"$BATS_TEST_TMPDIR/oidc-token"
	printf '[default]\nsecret_id = %s\nsecret_key = %s\n' "$BASE_ID" "$BASE_KEY" \
		>"$HOME/.tencentcloud/credentials"
	printf '{"secretId": "%s", "secretKey": "%s"}\n' "$BASE_ID" "$BASE_KEY" \
		>"$HOME/.tccli/default.credential"
	export TKE_PROVIDER_ID=p TKE_WEB_IDENTITY_TOKEN_FILE=$BATS_TEST_TMPDIR/oidc-token
	export TKE_ROLE_ARN=qcs::cam::uin/1:roleName/tke
	# 1. the environment's keys
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from environment"* ]]
	# 2. web identity
	no_keys
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from web identity"* ]]
	# 3. the INI file
	unset TKE_PROVIDER_ID TKE_WEB_IDENTITY_TOKEN_FILE TKE_ROLE_ARN
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from '$HOME/.tencentcloud/credentials' [default]"* ]]
	# 4. the tccli file
	rm "$HOME/.tencentcloud/credentials"
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from '$HOME/.tccli/default.credential'"* ]]
	# 5. the CVM role
	rm "$HOME/.tccli/default.credential"
	api_v
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"credentials from the CVM role"* ]]
	# off: nothing found, every place named
	SPOTENV_METADATA_ENDPOINT=off run --separate-stderr "$SPOTENV" api --region ap-guangzhou \
		DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the CVM role (SPOTENV_METADATA_ENDPOINT is 'off')"* ]]
	[ "$(sts_stat metadata)" -eq 2 ]
	assert_no_secrets
}

@test "credentials: temporary keys need their token, and expire" {
	local page id key token
	sts '{"durationSeconds":60}' >/dev/null
	page=$(curl -sS --noproxy '*' "$SIM_URL/latest/meta-data/cam/security-credentials/spotenv-sim-role")
	id=$(json_get TmpSecretId <<<"$page")
	key=$(json_get TmpSecretKey <<<"$page")
	token=$(json_get Token <<<"$page")
	export TENCENTCLOUD_SECRET_ID=$id TENCENTCLOUD_SECRET_KEY=$key
	# no token
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"AuthFailure.TokenFailure"* ]]
	# a wrong one
	TENCENTCLOUD_TOKEN=${token%?}0 run --separate-stderr "$SPOTENV" api --region ap-guangzhou \
		DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"AuthFailure.TokenFailure"* ]]
	[ "$(sts_stat tokenFailures)" -eq 2 ]
	# the right one
	TENCENTCLOUD_TOKEN=$token run --separate-stderr "$SPOTENV" api --region ap-guangzhou \
		DescribeInstances '{}'
	[ "$status" -eq 0 ]
	# long-lived keys need none
	TENCENTCLOUD_SECRET_ID=$BASE_ID TENCENTCLOUD_SECRET_KEY=$BASE_KEY \
		run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 0 ]
	# past their life on the emulator's clock
	sim_clock_advance 61000
	TENCENTCLOUD_TOKEN=$token run --separate-stderr "$SPOTENV" api --region ap-guangzhou \
		DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"AuthFailure.SignatureExpire"* ]]
	[ "$(sts_stat expired)" -eq 1 ]
	[[ "$stderr" != *"$token"* ]]
	[[ "$stderr" != *"$key"* ]]
}

@test "credentials: renewed across expiry during one apply --until-converged" {
	local spec n
	# a 2 s life: renewed at half of it, several times while instances
	# stay PENDING for 3 s
	sts '{"durationSeconds":2}' >/dev/null
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/1:roleName/apply
	spec=$(fx_spec web.yaml)
	run --separate-stderr "$SPOTENV" apply --auto-approve -v --poll-interval 200ms "$spec" \
		--until-converged 60s
	printf '%s\n%s\n' "$output" "$stderr" >>"$OUT"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	n=$(grep -c "credentials AssumeRole status=200" <<<"$stderr")
	echo "# AssumeRole calls: $n" >&3
	[ "$n" -ge 2 ]
	[ "$(sts_stat assumeRole)" -eq "$n" ]
	# never a request with an expired or missing token
	[ "$(sts_stat tokenFailures)" -eq 0 ]
	[ "$(sts_stat expired)" -eq 0 ]
	assert_no_secrets
}

@test "credentials: sim ctl sts shows and sets the STS fault; a bad one changes nothing" {
	run --separate-stderr "$SPOTENV" sim ctl sts
	[ "$status" -eq 0 ]
	[ "$(json_get fail.count <<<"$output")" -eq 0 ]
	[ "$(json_get fail.code <<<"$output")" = InternalError ]
	run --separate-stderr "$SPOTENV" sim ctl sts '{"fail":{"count":1,"code":"InternalError.SystemError"}}'
	[ "$status" -eq 0 ]
	[ "$(json_get fail.count <<<"$output")" -eq 1 ]
	# an undocumented code, a fraction, an unknown key: refused, nothing changes
	run --separate-stderr "$SPOTENV" sim ctl sts '{"durationSeconds":5,"fail":{"count":1,"code":"Oops"}}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'code' must be a documented STS error code"* ]]
	run --separate-stderr "$SPOTENV" sim ctl sts '{"fail":{"count":1.5}}'
	[ "$status" -eq 1 ]
	run --separate-stderr "$SPOTENV" sim ctl sts '{"fail":{"times":1}}'
	[ "$status" -eq 1 ]
	run --separate-stderr "$SPOTENV" sim ctl sts not-json
	[ "$status" -eq 64 ]
	[ "$(sts_stat durationSeconds)" -eq 0 ]
	[ "$(sts_stat fail.code)" = InternalError.SystemError ]
	# the next STS call fails with that code, the one after it works
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/1:roleName/fault
	run --separate-stderr "$SPOTENV" api --region ap-guangzhou DescribeInstances '{}'
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'AssumeRole' at '$SIM_URL' for role 'qcs::cam::uin/1:roleName/fault' failed: InternalError.SystemError"* ]]
	api_v
	[ "$status" -eq 0 ]
	[ "$(sts_stat failed)" -eq 1 ]
	[ "$(sts_stat fail.count)" -eq 0 ]
	[ "$(sts_stat assumeRole)" -eq 2 ]
	[ "$(sim_stat errors.InternalError.SystemError)" -eq 1 ]
	# null clears a fault
	sts '{"fail":{"count":5}}' >/dev/null
	sts '{"fail":null}' >/dev/null
	[ "$(sts_stat fail.count)" -eq 0 ]
	assert_no_secrets
}

@test "credentials: a renewal that fails while the keys are valid is logged and retried; the run converges" {
	local spec
	# 8-second credentials are renewed from half their life (4 s), and a
	# failed renewal is tried again in a quarter of what is left (1 s):
	# instances PENDING for 10 s keep the run going past both failures
	sim_ctl faults --pending-ms 10000 >/dev/null
	# the run's first AssumeRole goes through; the two after it (the first
	# renewal and its retry) fail
	sts '{"durationSeconds":8,"fail":{"count":2,"code":"InternalError","after":1}}' >/dev/null
	export TENCENTCLOUD_ROLE_ARN=qcs::cam::uin/1:roleName/apply
	spec=$(fx_spec web.yaml)
	run --separate-stderr "$SPOTENV" apply --auto-approve -v --poll-interval 200ms "$spec" \
		--until-converged 60s
	printf '%s\n%s\n' "$output" "$stderr" >>"$OUT"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	[[ "$output" == *"1/1 environments converged."* ]]
	# both failures logged: the STS call, and the renewal with the time left
	[ "$(grep -cE ' credentials AssumeRole status=200 time=[0-9]+ms request_id=[0-9a-f-]+ error=InternalError$' <<<"$stderr")" -eq 2 ]
	[ "$(grep -cE " credentials renewal failed \('AssumeRole' at '$SIM_URL' for role 'qcs::cam::uin/1:roleName/apply' failed: InternalError: .*\); the current ones are valid for [0-9]+s more$" <<<"$stderr")" -eq 2 ]
	# renewed after them
	run awk '/credentials AssumeRole .* error=InternalError$/ { f = NR }
		/credentials AssumeRole .* error=-$/ { ok = NR }
		END { exit !(f && ok > f) }' <<<"$stderr"
	[ "$status" -eq 0 ]
	[ "$(sts_stat failed)" -eq 2 ]
	[ "$(sts_stat fail.count)" -eq 0 ]
	[ "$(sts_stat issued)" -ge 2 ]
	# never a request with an expired or missing token
	[ "$(sim_stat errors.AuthFailure.TokenFailure)" -eq 0 ]
	[ "$(sim_stat errors.AuthFailure.SignatureExpire)" -eq 0 ]
	[ "$(sts_stat tokenFailures)" -eq 0 ]
	[ "$(sts_stat expired)" -eq 0 ]
	assert_no_secrets
}
