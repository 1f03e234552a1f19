#!/usr/bin/env bats
# spotenv validate --format json: the normalized environments for tooling.

bats_require_minimum_version 1.5.0

setup() {
	SPOTENV=${SPOTENV:-$BATS_TEST_DIRNAME/../../spotenv}
	cd "$BATS_TEST_DIRNAME/../.." || return 1
}

@test "validate --format json: parses, sorted by name, defaults filled in" {
	run --separate-stderr "$SPOTENV" validate --format json specs/examples
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	echo "$output" >"$BATS_TEST_TMPDIR/out.json"
	python3 - "$BATS_TEST_TMPDIR/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == "1", d
assert d["files"] == ["specs/examples/batch-shared.yaml",
                      "specs/examples/guangzhou-single.yaml",
                      "specs/examples/render-farm.yaml"], d["files"]
names = [e["metadata"]["name"] for e in d["environments"]]
assert names == sorted(names) == ["batch-etl", "batch-reports", "guangzhou-single",
                                  "render-farm"], names
g = d["environments"][2]
assert list(g) == ["metadata", "spec", "source"], list(g)
assert g["metadata"] == {"name": "guangzhou-single", "scope": "default"}
s = g["spec"]
assert s["maxPrice"] == "0.60" and isinstance(s["maxPrice"], str)
assert s["capacity"] == 1 and s["region"] == "ap-guangzhou"
assert s["image"] == "img-pmqg1cw7"
assert s["pools"] == [{"zone": "ap-guangzhou-3", "instanceType": "S2.MEDIUM4",
                       "subnetId": None, "maxPrice": None, "bid": "0.60"}], s["pools"]
assert s["allocation"] == "priority"
assert s["update"] == {"maxSurge": 1, "maxUnavailable": 0}
assert s["limits"] == {"maxReleasePerApply": None, "maxHourlyCost": None}
assert g["source"] == {"file": "specs/examples/guangzhou-single.yaml", "line": 3, "column": 1}
etl = d["environments"][0]["spec"]
assert etl["region"] == "ap-beijing" and etl["maxPrice"] == "0.45"   # from the merge
assert etl["update"] == {"maxSurge": 1, "maxUnavailable": 1}
r = d["environments"][1]["spec"]
assert r["maxPrice"] == "0.50" and r["tags"] == {"job": "reports", "team": "data"}
rf = d["environments"][3]["spec"]
assert rf["allocation"] == "spread"
assert [p["bid"] for p in rf["pools"]] == ["0.50", "0.50", "0.55"]
assert rf["userData"].startswith("#!/bin/sh\n")
PY
}

@test "validate --format json: YAML numbers become exact decimal strings" {
	cat >"$BATS_TEST_TMPDIR/n.yaml" <<'YAML'
apiVersion: spotenv/v1
kind: SpotEnvironment
metadata: {name: n}
spec:
  region: ap-guangzhou
  capacity: 1
  maxPrice: 0.1
  image: img-pmqg1cw7
  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, maxPrice: 0.30}]
YAML
	run --separate-stderr "$SPOTENV" validate --format=json "$BATS_TEST_TMPDIR/n.yaml"
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)["environments"][0]["spec"]
assert s["maxPrice"] == "0.1", s["maxPrice"]
assert s["pools"][0]["maxPrice"] == "0.30", s["pools"]
'
}

@test "validate --format json: no JSON on stdout when there are errors" {
	printf 'apiVersion: spotenv/v1\nkind: SpotEnvironment\n' >"$BATS_TEST_TMPDIR/bad.yaml"
	run --separate-stderr "$SPOTENV" validate --format json "$BATS_TEST_TMPDIR/bad.yaml"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == *"missing required key 'metadata'"* ]]
}
