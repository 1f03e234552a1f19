#!/usr/bin/env bats
# A spec directory can hold anything, and -o can name anything (issue 12,
# item 7): spec discovery reads only regular files (a FIFO, socket or
# device named x.yaml is an error naming it, never a hang), -o replaces
# only a regular file, and an unknown YAML tag is an error with its line
# and column.

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
	mkdir "$D/specs"
	cp "$FX/web.yaml" "$D/specs/web.yaml"
}

@test "files: a FIFO named x.yaml in a spec directory is an error naming it, not a hang" {
	mkfifo "$D/specs/x.yaml"
	# validate fails; plan and apply skip the file that does not load and
	# go on with the others (issue 14: environments are independent), exit 3
	for verb in validate plan; do
		run --separate-stderr timeout 20 "$SPOTENV" "$verb" "$D/specs"
		want=1
		[ "$verb" = plan ] && want=3
		[ "$status" -eq "$want" ] || { echo "$verb: exit $status" >&2; return 1; }
		[[ "$stderr" == *"$D/specs/x.yaml: error: is a FIFO, not a regular file; specs are read from regular files only"* ]]
	done
	run --separate-stderr timeout 20 "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$D/specs"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"x.yaml: error: is a FIFO"* ]]
	[ "$(live_count web)" -eq 3 ]
	# all or nothing with --strict
	run --separate-stderr timeout 20 "$SPOTENV" plan --strict "$D/specs"
	[ "$status" -eq 1 ]
	# given directly too
	run --separate-stderr timeout 20 "$SPOTENV" validate "$D/specs/x.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is a FIFO, not a regular file"* ]]
}

@test "files: a socket or a device given as a spec is an error naming it" {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$D/specs/s.yaml"
	run --separate-stderr timeout 20 "$SPOTENV" validate "$D/specs"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"$D/specs/s.yaml: error: is a socket, not a regular file"* ]]
	run --separate-stderr timeout 20 "$SPOTENV" validate /dev/zero
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"/dev/zero: error: is a device, not a regular file"* ]]
}

@test "files: plan -o replaces only a regular file" {
	mkfifo "$D/fifo"
	run --separate-stderr timeout 20 "$SPOTENV" plan -q "$D/specs" -o "$D/fifo"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"cannot write '$D/fifo': it exists and is not a regular file"* ]]
	[ -p "$D/fifo" ]
	# a symlink to a device: neither the link nor the device is replaced
	ln -s /dev/null "$D/null-link"
	run --separate-stderr "$SPOTENV" plan -q "$D/specs" -o "$D/null-link"
	[ "$status" -eq 1 ]
	[ -L "$D/null-link" ]
	[ -c /dev/null ]
	mkdir "$D/dir"
	run --separate-stderr "$SPOTENV" plan -q "$D/specs" -o "$D/dir"
	[ "$status" -eq 1 ]
	[ -d "$D/dir" ]
	if [ "$(id -u)" -eq 0 ]; then
		# root may create device nodes: one like /dev/full, made here
		mknod "$D/full" c 1 7
		run --separate-stderr "$SPOTENV" plan -q "$D/specs" -o "$D/full"
		[ "$status" -eq 1 ]
		[ -c "$D/full" ]
		[ -z "$(find "$D" -maxdepth 1 -name 'full.tmp.*')" ]
	fi
	# a regular file is replaced as before
	echo old >"$D/p.json"
	"$SPOTENV" plan -q "$D/specs" -o "$D/p.json" >/dev/null
	[ "$(json_get format_version <"$D/p.json")" = 1 ]
}

@test "files: an unknown YAML tag is an error with file, line and column" {
	sed 's/capacity: 3/capacity: !foo 3/' "$FX/web.yaml" >"$D/specs/web.yaml"
	run --separate-stderr "$SPOTENV" validate "$D/specs"
	[ "$status" -eq 1 ]
	line=$(grep -n 'capacity' "$D/specs/web.yaml" | cut -d: -f1)
	[[ "$stderr" == *"$D/specs/web.yaml:$line:13: error: unknown YAML tag '!foo'"* ]]
	sed 's/capacity: 3/capacity: !!int 3/; s/image: /image: !!str /' "$FX/web.yaml" >"$D/specs/web.yaml"
	run --separate-stderr "$SPOTENV" validate "$D/specs"
	[ "$status" -eq 0 ]
}
