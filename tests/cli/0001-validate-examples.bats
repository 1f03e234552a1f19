#!/usr/bin/env bats
# spotenv validate: the shipped examples are valid, the summary line, -q,
# several files and directories.

bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	ROOT=$BATS_TEST_DIRNAME/../..
	cd "$ROOT" || return 1
}

@test "validate: examples directory is valid and summarised on one line" {
	run --separate-stderr "$SPOTENV" validate specs/examples
	[ "$status" -eq 0 ]
	[ "$output" = "4 environments in 3 files are valid" ]
	[ -z "$stderr" ]
}

@test "validate: a single file uses singular words" {
	run --separate-stderr "$SPOTENV" validate specs/examples/guangzhou-single.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "1 environment in 1 file is valid" ]
}

@test "validate: several files and a directory, each file read once" {
	run --separate-stderr "$SPOTENV" validate specs/examples/render-farm.yaml \
		specs/examples specs/examples/batch-shared.yaml
	[ "$status" -eq 0 ]
	[ "$output" = "4 environments in 3 files are valid" ]
}

@test "validate: directories are read recursively for *.yaml and *.yml only" {
	mkdir -p "$BATS_TEST_TMPDIR/specs/deep/er" "$BATS_TEST_TMPDIR/specs/.hidden"
	cp specs/examples/guangzhou-single.yaml "$BATS_TEST_TMPDIR/specs/deep/er/a.yml"
	cp specs/examples/render-farm.yaml "$BATS_TEST_TMPDIR/specs/b.yaml"
	echo "not: [yaml" >"$BATS_TEST_TMPDIR/specs/notes.txt"
	echo "broken: [" >"$BATS_TEST_TMPDIR/specs/.hidden/c.yaml"
	run --separate-stderr "$SPOTENV" validate "$BATS_TEST_TMPDIR/specs"
	[ "$status" -eq 0 ]
	[ "$output" = "2 environments in 2 files are valid" ]
}

@test "validate: -q prints nothing on success" {
	run --separate-stderr "$SPOTENV" validate -q specs/examples
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run --separate-stderr "$SPOTENV" validate --quiet specs/examples
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "validate: is listed in help and has its own help" {
	run "$SPOTENV" help
	[ "$status" -eq 0 ]
	[[ "$output" == *"validate"*"check environment specs"* ]]
	run --separate-stderr "$SPOTENV" help validate
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spotenv validate PATH..."* ]]
	[[ "$output" == *"--format"* ]]
	run --separate-stderr "$SPOTENV" validate --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spotenv validate PATH..."* ]]
}
