#!/usr/bin/env bats
# The command line itself: help, version, unknown commands and options with
# a "did you mean", exit code 64 for usage errors.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
}

@test "cli: no command prints the help on stderr and exits 64" {
	run --separate-stderr "$SPOTENV"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "$stderr" == *"usage: spotenv COMMAND"* ]]
	[[ "$stderr" == *"apply "* ]]
}

@test "cli: help lists every command and the exit codes" {
	run --separate-stderr "$SPOTENV" help
	[ "$status" -eq 0 ]
	for c in api apply destroy help observe plan show sim status validate version; do
		[[ "$output" == *"  $c "* ]]
	done
	[[ "$output" == *"64 usage error"* ]]
}

@test "cli: help COMMAND and COMMAND --help print the same options" {
	run --separate-stderr "$SPOTENV" help apply
	[ "$status" -eq 0 ]
	a=$output
	run --separate-stderr "$SPOTENV" apply --help
	[ "$status" -eq 0 ]
	[ "$output" = "$a" ]
	[[ "$a" == *"--auto-approve"* ]]
	[[ "$a" == *"--until-converged D"* ]]
}

@test "cli: version" {
	run --separate-stderr "$SPOTENV" version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^spotenv\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run --separate-stderr "$SPOTENV" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "spotenv "* ]]
}

@test "cli: an unknown command suggests the nearest one" {
	run --separate-stderr "$SPOTENV" aply specs/
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown command 'aply' (did you mean 'apply'?)"* ]]
	run --separate-stderr "$SPOTENV" frobnicate
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown command 'frobnicate'"* ]]
	[[ "$stderr" != *"did you mean"* ]]
	run --separate-stderr "$SPOTENV" help stauts
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"(did you mean 'status'?)"* ]]
}

@test "cli: an unknown option suggests the nearest one of that command" {
	run --separate-stderr "$SPOTENV" apply --auto-aprove specs/
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown option '--auto-aprove' (did you mean '--auto-approve'?)"* ]]
	[[ "$stderr" == *"Try 'spotenv help apply' for usage."* ]]
	run --separate-stderr "$SPOTENV" plan --detailed-exit-code specs/
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"(did you mean '--detailed-exitcode'?)"* ]]
}

@test "cli: bad option values are usage errors" {
	run --separate-stderr "$SPOTENV" apply --wait-timeout soon specs/
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"expects a duration such as 30s, 5m or 1h30m, got 'soon'"* ]]
	run --separate-stderr "$SPOTENV" plan --parallelism 0 specs/
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"expects a whole number from 1 to 256, got '0'"* ]]
	run --separate-stderr "$SPOTENV" plan --format
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"needs a value"* ]]
}

@test "cli: commands that read specs need a PATH" {
	for c in plan apply status observe destroy; do
		run --separate-stderr "$SPOTENV" "$c"
		[ "$status" -eq 64 ]
		[[ "$stderr" == *"no specs"* ]]
	done
}
