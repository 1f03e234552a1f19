#!/usr/bin/env bats
# spotenv validate: usage errors exit 64 with a hint.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	cd "$BATS_TEST_DIRNAME/../.." || return 1
}

@test "validate: no PATH is a usage error with a hint" {
	run --separate-stderr "$SPOTENV" validate
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "${stderr_lines[0]}" == "spotenv: no specs given; name files or directories"* ]]
	[ "${stderr_lines[1]}" = "Try 'spotenv help validate' for usage." ]
}

@test "validate: unknown format is a usage error" {
	run --separate-stderr "$SPOTENV" validate --format yaml specs/examples
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown format 'yaml' (expected 'text' or 'json')"* ]]
}

@test "validate: unknown option is a usage error" {
	run --separate-stderr "$SPOTENV" validate --strict specs/examples
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown option '--strict'"* ]]
}

@test "validate: --format without a value is a usage error" {
	run --separate-stderr "$SPOTENV" validate specs/examples --format
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"option '--format' needs a value"* ]]
}

@test "validate: -- ends options, so a file may start with a dash" {
	cp specs/examples/guangzhou-single.yaml "$BATS_TEST_TMPDIR/-odd.yaml"
	cd "$BATS_TEST_TMPDIR" || return 1
	run --separate-stderr "$SPOTENV" validate -- -odd.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "1 environment in 1 file is valid" ]
}
