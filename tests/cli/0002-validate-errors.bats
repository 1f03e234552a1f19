#!/usr/bin/env bats
# spotenv validate: every error on stderr as FILE:LINE:COL: error: PATH: MSG,
# sorted, followed by a count line; exit 1.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	cd "$BATS_TEST_TMPDIR" || return 1
	cat >good.yaml <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata:
  name: web
spec:
  region: ap-guangzhou
  capacity: 2
  maxPrice: "0.60"
  image: img-pmqg1cw7
  pools:
    - zone: ap-guangzhou-3
      instanceType: S5.MEDIUM4
YAML
}

@test "validate: errors are located, sorted, all reported, exit 1" {
	cat >bad.yaml <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata:
  name: batch
spec:
  region: ap-guangzhou
  capcity: 3
  capacity: 3
  maxPrice: "0.60"
  image: img-pmqg1cw7
  pools:
    - zone: ap-guangzhou-3
      instanceType: S5.MEDIUM4
    - zone: ap-shanghai-2
      instanceType: S5.MEDIUM4
YAML
	run --separate-stderr "$SPOTENV" validate bad.yaml good.yaml
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	expected="bad.yaml:7:3: error: spec: unknown key 'capcity' (did you mean 'capacity'?)
bad.yaml:14:13: error: spec.pools[1].zone: zone 'ap-shanghai-2' is not in region 'ap-guangzhou' (expected 'ap-guangzhou-N')
spotenv: 2 errors in 1 file"
	[ "$stderr" = "$expected" ]
}

@test "validate: duplicate names across files name both places" {
	cp good.yaml again.yaml
	run --separate-stderr "$SPOTENV" validate .
	[ "$status" -eq 1 ]
	# directories are read in sorted order: again.yaml comes first
	[ "${stderr_lines[0]}" = "./good.yaml:4:9: error: metadata.name: duplicate environment 'web' (first defined at ./again.yaml:1:1)" ]
	[ "${stderr_lines[1]}" = "spotenv: 1 error in 1 file" ]
}

@test "validate: non-UTF-8, empty and syntax errors are clear" {
	printf 'apiVersion: spotenv/v1\nkind: caf\351\n' >latin1.yaml
	: >empty.yaml
	printf 'apiVersion: [\n' >broken.yaml
	run --separate-stderr "$SPOTENV" validate latin1.yaml empty.yaml broken.yaml
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "broken.yaml:2:1: error: invalid YAML: did not find expected node content (while parsing a flow node at line 2 column 1)" ]
	[[ "${stderr_lines[1]}" == "empty.yaml:1:1: error: no environments in file"* ]]
	[ "${stderr_lines[2]}" = "latin1.yaml:2:10: error: expected UTF-8 text, found the byte 0xE9" ]
	[ "${stderr_lines[3]}" = "spotenv: 3 errors in 3 files" ]
}

@test "validate: billion laughs fails fast" {
	{
		echo 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'
		for i in 1 2 3 4 5 6 7 8 9; do
			p=$((i - 1))
			echo "a$i: &a$i [*a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p, *a$p]"
		done
	} >laughs.yaml
	run --separate-stderr timeout 5 "$SPOTENV" validate laughs.yaml
	[ "$status" -eq 1 ]
	[[ "${stderr_lines[0]}" == "laughs.yaml:6:45: error: document expands to more than 1000000 nodes through aliases"* ]]
}

@test "validate: missing path and empty directory" {
	mkdir emptydir
	run --separate-stderr "$SPOTENV" validate nothere.yaml emptydir good.yaml
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "emptydir: error: no *.yaml or *.yml files in directory" ]
	[ "${stderr_lines[1]}" = "nothere.yaml: error: no such file or directory" ]
	[ "${stderr_lines[2]}" = "spotenv: 2 errors in 2 files" ]
}

@test "validate: unreadable file" {
	cp good.yaml secret.yaml
	chmod 000 secret.yaml
	if [ -r secret.yaml ]; then
		# root reads anything; /proc/self/mem opens but cannot be read
		run --separate-stderr "$SPOTENV" validate /proc/self/mem
		[ "$status" -eq 1 ]
		[[ "${stderr_lines[0]}" == "/proc/self/mem: error: cannot read file: "* ]]
	else
		run --separate-stderr "$SPOTENV" validate secret.yaml
		[ "$status" -eq 1 ]
		[ "${stderr_lines[0]}" = "secret.yaml: error: cannot open file: permission denied" ]
	fi
}

@test "validate: errors in a list name the item" {
	cat >list.yaml <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironmentList
x-defaults: &d {region: ap-beijing, maxPrice: "0.45", image: img-pmqg1cw7}
items:
  - metadata: {name: a}
    spec: {<<: *d, capacity: 1, pools: [{zone: ap-beijing-5, instanceType: S5.MEDIUM4}]}
  - metadata: {name: b}
    spec: {<<: *d, capacity: 20000, pools: [{zone: ap-beijing-6, instanceType: S5.MEDIUM4}]}
YAML
	run --separate-stderr "$SPOTENV" validate list.yaml
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "list.yaml:8:30: error: items[1].spec.capacity: expected a whole number from 0 to 10000, got '20000'" ]
}
