#!/usr/bin/env bats
# spotenv schema: the JSON Schema of spec documents, generated from the
# loader's rule tables.  The committed docs/spotenv.schema.json is its
# output; every example and valid test spec passes it; every spec with a
# structural error (unknown key, wrong type, missing key, bad enum value or
# bound) fails both it and `spotenv validate`.  Checked with python3's
# jsonschema (Draft 2020-12) through schema_check.py, as an editor would.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	CHECK=$BATS_TEST_DIRNAME/schema_check.py
	SCHEMA=$ROOT/docs/spotenv.schema.json
	PY=""
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import jsonschema, yaml' 2>/dev/null; then
			PY=$p
			break
		fi
	done
	[ -n "$PY" ] || {
		echo "python3 with jsonschema and yaml is needed (make deps-test)" >&2
		return 1
	}
	cd "$BATS_TEST_TMPDIR" || return 1
}

# The valid environment of tests/cli/0002; spec keys are indented 2.
base() {
	cat <<'YAML'
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

schema_check() {
	"$PY" "$CHECK" "$SCHEMA" "$@"
}

# both_reject FILE MESSAGE: validate fails with MESSAGE, and so does the schema.
both_reject() {
	run --separate-stderr "$SPOTENV" validate "$1"
	[ "$status" -eq 1 ] || {
		echo "validate accepted $1" >&2
		return 1
	}
	[[ "$stderr" == *"$2"* ]] || {
		echo "validate of $1 did not say: $2; it said: $stderr" >&2
		return 1
	}
	run schema_check "$1"
	[ "$status" -eq 1 ] || {
		echo "the schema accepted $1 (status $status): $output" >&2
		return 1
	}
}

# both_accept FILE: validate and the schema both accept it.
both_accept() {
	run --separate-stderr "$SPOTENV" validate -q "$1"
	[ "$status" -eq 0 ] || {
		echo "validate refused $1: $stderr" >&2
		return 1
	}
	run schema_check "$1"
	[ "$status" -eq 0 ] || {
		echo "the schema refused $1: $output" >&2
		return 1
	}
}

@test "schema: docs/spotenv.schema.json is what 'spotenv schema' prints (make schema)" {
	run --separate-stderr "$SPOTENV" schema
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	printf '%s\n' "$output" >printed.json
	run diff -u "$SCHEMA" printed.json
	[ "$status" -eq 0 ] || {
		echo "docs/spotenv.schema.json is stale; run 'make schema'" >&2
		echo "$output" >&2
		return 1
	}
}

@test "schema: -o FILE writes the same document; arguments are refused" {
	run --separate-stderr "$SPOTENV" schema -o out.json
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	cmp "$SCHEMA" out.json
	run --separate-stderr "$SPOTENV" schema extra
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"too many arguments"* ]]
	run "$SPOTENV" help
	[[ "$output" == *"schema"*"JSON Schema"* ]]
	run --separate-stderr "$SPOTENV" schema --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spotenv schema"* ]]
}

@test "schema: a Draft 2020-12 schema with id, enums and bounds from the loader's tables" {
	run "$PY" - "$SCHEMA" <<'PY'
import json, sys
import jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
assert s["$id"].startswith("https://")
assert [b["$ref"] for b in s["oneOf"]] == ["#/$defs/SpotEnvironment", "#/$defs/SpotEnvironmentList"]
d = s["$defs"]
spec = d["spec"]
assert spec["additionalProperties"] is False
assert spec["required"] == ["region", "capacity", "maxPrice", "image", "pools"]
p = spec["properties"]
assert p["allocation"]["enum"] == ["priority", "spread", "lowest-price", "capacity-optimized", None]
assert p["capacity"]["minimum"] == 0 and p["capacity"]["maximum"] == 10000
assert p["pools"]["minItems"] == 1 and p["pools"]["maxItems"] == 20
assert "CLOUD_PREMIUM" in d["systemDisk"]["properties"]["type"]["enum"]
assert d["systemDisk"]["properties"]["sizeGb"]["minimum"] == 20
assert d["SpotEnvironmentList"]["properties"]["kind"]["const"] == "SpotEnvironmentList"
assert "^x-" in d["SpotEnvironment"]["patternProperties"]
assert "patternProperties" not in d["spec"]
for name, m in d.items():
    assert m["additionalProperties"] is False, name
    for k, v in m["properties"].items():
        assert v.get("description"), (name, k)
print("ok")
PY
	[ "$status" -eq 0 ]
	[ "$output" = "ok" ]
}

@test "schema: every example and every valid test spec passes it" {
	cd "$ROOT" || return 1
	n=0
	valid=()
	for f in specs/examples/*.yaml tests/cli/fixtures/*.yaml tests/plan/*/spec*.yaml \
		tests/fuzz/corpus/fuzz_specs_load/*.yaml; do
		"$SPOTENV" validate -q "$f" 2>/dev/null || continue
		valid+=("$f")
		n=$((n + 1))
	done
	# the loop above must have found the examples and the golden specs
	[ "$n" -ge 70 ]
	# one validator run over all of them (it names each file that fails)
	run schema_check "${valid[@]}"
	[ "$status" -eq 0 ] || {
		echo "valid specs fail the schema: $output" >&2
		return 1
	}
}

@test "schema: the invalid test specs with structural errors fail it" {
	cd "$ROOT" || return 1
	# unknown key 'capcity', and so a missing 'capacity'
	both_reject tests/cli/fixtures/invalid.yaml "unknown key 'capcity'"
	run schema_check tests/cli/fixtures/invalid.yaml
	[[ "$output" == *"'capcity' was unexpected"* ]]
	[[ "$output" == *"'capacity' is a required property"* ]]
	# bad name, price, image, enum values, bounds, duplicate key ids
	both_reject tests/fuzz/corpus/fuzz_specs_load/errors.yaml "unknown value 'lowest_price'"
	run schema_check tests/fuzz/corpus/fuzz_specs_load/errors.yaml
	[[ "$output" == *"spec.allocation: 'lowest_price' is not one of"* ]]
	[[ "$output" == *"spec.systemDisk.type: 'CLOUD_PREMUIM' is not one of"* ]]
	[[ "$output" == *"spec.systemDisk.sizeGb: 5 is less than the minimum of 20"* ]]
	[[ "$output" == *"spec.image: 'ubuntu' does not match"* ]]
	[[ "$output" == *"metadata.name: 'Bad_Name' does not match"* ]]
	[[ "$output" == *"spec.login.keyIds: "*"non-unique"* ]]
	[[ "$output" == *"document 2: apiVersion: 'spotenv/v1' was expected"* ]]
	[[ "$output" == *"document 3: (document): "*"is not of type 'object'"* ]]
}

@test "schema: unknown keys fail it wherever the loader refuses them" {
	{ echo "extra: 1"; base; } >top.yaml
	both_reject top.yaml "unknown key 'extra'"
	{ base; echo "  capcity: 3"; } >spec.yaml
	both_reject spec.yaml "unknown key 'capcity' (did you mean 'capacity'?)"
	{ base; echo "  x-defaults: 1"; } >x-in-spec.yaml
	both_reject x-in-spec.yaml "unknown key 'x-defaults'"
	{ base; echo "      subnet: subnet-abc"; } >pool.yaml
	both_reject pool.yaml "unknown key 'subnet'"
	{ base; echo "  network: {vpcID: vpc-abc}"; } >network.yaml
	both_reject network.yaml "unknown key 'vpcID'"
	{ base; echo "  login: {keys: [skey-abc]}"; } >login.yaml
	both_reject login.yaml "unknown key 'keys'"
	{ base; echo "  update: {surge: 1}"; } >update.yaml
	both_reject update.yaml "unknown key 'surge'"
	{ base; echo "  limits: {maxRelease: 1}"; } >limits.yaml
	both_reject limits.yaml "unknown key 'maxRelease'"
	base | sed 's/^  name: web/  name: web\n  owner: me/' >metadata.yaml
	both_reject metadata.yaml "unknown key 'owner'"
}

@test "schema: wrong types fail it" {
	base | sed 's/capacity: 2/capacity: "2"/' >quoted-int.yaml
	both_reject quoted-int.yaml "got the string '2' (drop the quotes)"
	base | sed 's/capacity: 2/capacity: 2.5/' >float-int.yaml
	both_reject float-int.yaml "expected a whole number from 0 to 10000"
	base | sed '/pools:/,$d' >nopools.yaml
	{ cat nopools.yaml; echo "  pools: {zone: ap-guangzhou-3}"; } >pools-map.yaml
	both_reject pools-map.yaml "expected a list of pools"
	{ base; echo "  tags: [a, b]"; } >tags-list.yaml
	both_reject tags-list.yaml "expected a mapping of tag keys to values"
	{ base; echo '  login: {keepImageLogin: "true"}'; } >bool-string.yaml
	both_reject bool-string.yaml "expected true or false"
	{ base; echo "  network: {securityGroupIds: sg-abc}"; } >ids-scalar.yaml
	both_reject ids-scalar.yaml "expected a list of ids"
	base | sed 's/^  name: web/  - web/' >metadata-list.yaml
	both_reject metadata-list.yaml "expected a mapping"
	base | sed 's/maxPrice: "0.60"/maxPrice: [1]/' >price-list.yaml
	both_reject price-list.yaml "expected a price"
}

@test "schema: missing required keys fail it" {
	base | sed '/image:/d' >no-image.yaml
	both_reject no-image.yaml "missing required key 'image'"
	base | sed '/instanceType:/d' >no-type.yaml
	both_reject no-type.yaml "missing required key 'instanceType'"
	base | sed 's/capacity: 2/capacity:/' >null-capacity.yaml
	both_reject null-capacity.yaml "'capacity' must not be empty"
	base | sed '/^metadata:/d; /name: web/d' >no-metadata.yaml
	both_reject no-metadata.yaml "missing required key 'metadata'"
	base | sed '/^apiVersion:/d' >no-api.yaml
	both_reject no-api.yaml "missing required key 'apiVersion'"
	printf 'apiVersion: spotenv/v1\nkind: SpotEnvironmentList\n' >no-items.yaml
	both_reject no-items.yaml "missing required key 'items'"
	printf 'apiVersion: spotenv/v1\nkind: SpotEnvironmentList\nitems: []\n' >empty-items.yaml
	both_reject empty-items.yaml "expected at least one environment"
}

@test "schema: values outside an enum, a bound or a pattern fail it" {
	{ base; echo "  allocation: lowest_price"; } >alloc.yaml
	both_reject alloc.yaml "unknown value 'lowest_price' (did you mean 'lowest-price'?)"
	{ base; echo "  systemDisk: {type: CLOUD_PREMUIM}"; } >disk.yaml
	both_reject disk.yaml "unknown value 'CLOUD_PREMUIM'"
	base | sed 's/^kind: SpotEnvironment/kind: SpotEnv/' >kind.yaml
	both_reject kind.yaml "unsupported kind 'SpotEnv'"
	base | sed 's|^apiVersion: spotenv/v1|apiVersion: spotenv/v2|' >api.yaml
	both_reject api.yaml "unsupported apiVersion 'spotenv/v2'"
	{
		printf 'apiVersion: spotenv/v1\nkind: SpotEnvironmentList\nitems:\n'
		printf '  - kind: SpotEnvironmentList\n    metadata: {name: a}\n'
		printf '    spec: {region: ap-guangzhou, capacity: 1, maxPrice: "1", image: img-a,\n'
		printf '           pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]}\n'
	} >item-kind.yaml
	both_reject item-kind.yaml "in a list (expected 'SpotEnvironment')"
	base | sed 's/capacity: 2/capacity: 10001/' >capacity.yaml
	both_reject capacity.yaml "expected a whole number from 0 to 10000"
	{ base; echo "  network: {publicIpBandwidthMbps: 1001}"; } >bandwidth.yaml
	both_reject bandwidth.yaml "expected a whole number from 0 to 1000"
	{ base; echo "  update: {maxSurge: -1}"; } >surge.yaml
	both_reject surge.yaml "expected a whole number from 0 to 10000"
	base | sed 's/maxPrice: "0.60"/maxPrice: "0"/' >price-zero.yaml
	both_reject price-zero.yaml "price must be greater than 0"
	base | sed '/pools:/,$d' >nopools.yaml
	{ cat nopools.yaml; echo "  pools: []"; } >pools-empty.yaml
	both_reject pools-empty.yaml "expected from 1 to 20 pools"
	base | sed 's/name: web/name: Web_1/' >name.yaml
	both_reject name.yaml "expected a name of lowercase letters"
	base | sed 's/image: img-pmqg1cw7/image: ubuntu/' >image.yaml
	both_reject image.yaml "expected an image id"
	{ base; echo "  tags: {qcloud:team: a}"; } >tag-reserved.yaml
	both_reject tag-reserved.yaml "is reserved"
	{ base; echo "  instanceName: $(printf 'n%.0s' $(seq 61))"; } >instance-name.yaml
	both_reject instance-name.yaml "at most 60 characters"
	{ base; echo "  network: {securityGroupIds: [sg-a, sg-a]}"; } >sg-twice.yaml
	both_reject sg-twice.yaml "'sg-a' is listed twice"
}

@test "schema: what the loader accepts beyond the basics passes it" {
	# optional keys written without a value count as not given
	{
		base | sed 's/^  name: web/  name: web\n  scope:/'
		printf '  allocation:\n  network:\n  login:\n  tags: {team: null, cost: 12, spot: true}\n'
		printf '  update:\n    maxSurge: 2\n    maxUnavailable:\n  limits: {maxHourlyCost: 3}\n'
	} >nulls.yaml
	both_accept nulls.yaml
	# every key, with a number as a price, and a VPC
	cat >full.yaml <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironment
x-note: ignored
metadata: {name: full, scope: team-a}
spec:
  region: ap-guangzhou
  capacity: 0
  maxPrice: 0.6
  image: img-pmqg1cw7
  pools:
    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, subnetId: subnet-a1, maxPrice: "00.55"}
    - {zone: ap-guangzhou-6, instanceType: SA2.LARGE8, subnetId: subnet-b2, maxPrice: .7}
  allocation: capacity-optimized
  instanceName: full-env
  tags: {team: media, "cost center": "42", "é": x}
  network: {vpcId: vpc-abc, securityGroupIds: [sg-a, sg-b], publicIpBandwidthMbps: 1000}
  login: {keyIds: [skey-a], keepImageLogin: false}
  systemDisk: {type: CLOUD_HSSD, sizeGb: 1024}
  userData: |
    #!/bin/sh
    echo hello
  update: {maxSurge: 0, maxUnavailable: 1}
  limits: {maxReleasePerApply: 10, maxHourlyCost: "12.5"}
YAML
	both_accept full.yaml
	# several documents, an empty one, a list with anchors, merge keys, and
	# items with and without apiVersion and kind
	cat >list.yaml <<'YAML'
---
---
apiVersion: spotenv/v1
kind: SpotEnvironmentList
x-defaults: &defaults {region: ap-beijing, maxPrice: "0.45", image: img-pmqg1cw7}
items:
  - metadata: {name: batch-etl}
    spec:
      <<: *defaults
      capacity: 3
      pools: [{zone: ap-beijing-5, instanceType: S5.MEDIUM4}]
  - apiVersion: spotenv/v1
    kind: SpotEnvironment
    x-item: 1
    metadata: {name: batch-reports}
    spec: {<<: *defaults, capacity: 2, pools: [{zone: ap-beijing-7, instanceType: SA2.LARGE8}]}
YAML
	echo "---" >>list.yaml
	base | sed 's/name: web/name: other/' >>list.yaml
	both_accept list.yaml
}

@test "schema: what only the loader checks (values against each other) passes it" {
	# a zone outside the region, a subnet without a VPC, a pool twice
	{
		base
		echo "      subnetId: subnet-abc"
		echo "    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, subnetId: subnet-abc}"
		echo "    - {zone: ap-shanghai-2, instanceType: S5.MEDIUM4}"
		echo "  login: {keyIds: [skey-a], keepImageLogin: true}"
	} >cross.yaml
	run --separate-stderr "$SPOTENV" validate cross.yaml
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not in region 'ap-guangzhou'"* ]]
	[[ "$stderr" == *"subnetId needs network.vpcId"* ]]
	[[ "$stderr" == *"duplicate pool"* ]]
	[[ "$stderr" == *"keyIds and keepImageLogin cannot both be set"* ]]
	run schema_check cross.yaml
	[ "$status" -eq 0 ]
}
