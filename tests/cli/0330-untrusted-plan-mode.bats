#!/usr/bin/env bats
# Plan files that carry user data (often bootstrap secrets) are written
# 0600 (issue 12, item 8); others keep 0644 less the umask.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 100 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
	D=$BATS_TEST_TMPDIR
	cp "$FX/web.yaml" "$D/plain.yaml"
	{
		cat "$FX/web.yaml"
		printf '  userData: |\n    #!/bin/sh\n    export TOKEN=not-for-everyone\n'
	} >"$D/secret.yaml"
}

mode() {
	stat -c %a "$1"
}

@test "plan mode: a plan with user data is written 0600, others 0644 less the umask" {
	umask 022
	"$SPOTENV" plan -q "$D/secret.yaml" -o "$D/secret.json" >/dev/null
	[ "$(json_get environments.0.template.user_data_b64 <"$D/secret.json")" != null ]
	[ "$(mode "$D/secret.json")" = 600 ]
	"$SPOTENV" plan -q "$D/plain.yaml" -o "$D/plain.json" >/dev/null
	[ "$(mode "$D/plain.json")" = 644 ]
	umask 027
	"$SPOTENV" plan -q "$D/plain.yaml" -o "$D/plain2.json" >/dev/null
	[ "$(mode "$D/plain2.json")" = 640 ]
	"$SPOTENV" plan -q "$D/secret.yaml" -o "$D/secret2.json" >/dev/null
	[ "$(mode "$D/secret2.json")" = 600 ]
}

@test "plan mode: replacing a readable plan file with one that has user data makes it 0600" {
	umask 022
	"$SPOTENV" plan -q "$D/plain.yaml" -o "$D/p.json" >/dev/null
	chmod 0644 "$D/p.json"
	"$SPOTENV" plan -q "$D/secret.yaml" -o "$D/p.json" >/dev/null
	[ "$(mode "$D/p.json")" = 600 ]
	# and applying it still works
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$D/p.json"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
}
