#!/usr/bin/env bats
# The hostile plan corpus (tests/hostile/plans/, issue 12 item 4): every
# file is applied against a prepared emulator world (environment web
# running, and instances that are not its own) and must be refused: exit 1,
# the refusal naming what it found (NAME.expect), the emulator's launched
# and terminated counters unchanged, no crash, no hang, no sanitizer
# report (make check runs this under ASan and UBSan too).  The control,
# tests/hostile/base.json, is what plan -o saves for that world and does
# launch, so the refusals are the corpus's own.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

HOSTILE=$BATS_TEST_DIRNAME/../hostile

setup_file() {
	sim_start --pending-ms 100 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# launch 1 instance through the API carrying the tags given as KEY=VALUE...
tagged_launch() {
	local tags="" kv
	for kv in "$@"; do
		tags="$tags${tags:+,}{\"Key\":\"${kv%%=*}\",\"Value\":\"${kv#*=}\"}"
	done
	sim_api RunInstances "{\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-dddddddd\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":1,\"InstanceChargeType\":\"SPOTPAID\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"0.50\",\"SpotInstanceType\":\"one-time\"}},\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[$tags]}]}" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Response", d)["InstanceIdSet"][0])'
}

# The prepared world, and the values the corpus's placeholders stand for
# (in $BATS_TEST_TMPDIR/values.json).
prepare_world() {
	fx_apply "$FX/web.yaml"
	untagged=$(unowned_launch 1)
	other=$(tagged_launch spotenv:env=web spotenv:scope=other spotenv:template=22deb4af2cca)
	envonly=$(tagged_launch spotenv:env=web)
	sim_settle
	sed 's/capacity: 3/capacity: 5/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/five.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/five.yaml" -o "$BATS_TEST_TMPDIR/real.json" >/dev/null
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
v = {"@ENDPOINT@": p["endpoint"], "@ACCOUNT@": p["account"], "@BASIS@": p["basis"],
     "@ENV_BASIS@": p["environments"][0]["basis"], "\"@OBSERVED@\"": json.dumps(p["observed"]),
     "@ID_WEB@": sys.argv[2], "@ID_UNTAGGED@": sys.argv[3], "@ID_OTHER_SCOPE@": sys.argv[4],
     "@ID_ENV_ONLY@": sys.argv[5]}
json.dump(v, open(sys.argv[6], "w"))
' "$BATS_TEST_TMPDIR/real.json" "$(live_ids web default | sed -n 1p)" "$untagged" "$other" \
		"$envonly" "$BATS_TEST_TMPDIR/values.json"
}

# fill in the placeholders of FILE into OUT, for each FILE OUT pair
fill() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for src, dst in zip(sys.argv[2::2], sys.argv[3::2]):
    d = open(src, "rb").read()
    for k, x in v.items():
        d = d.replace(k.encode(), x.encode())
    open(dst, "wb").write(d)
' "$BATS_TEST_TMPDIR/values.json" "$@"
}

# launched, terminated, RunInstances and TerminateInstances: one stats call
counters() {
	sim_ctl stats | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d.get("requests", {})
print(d.get("launched", 0), d.get("terminated", 0), r.get("RunInstances", 0),
      r.get("TerminateInstances", 0))
'
}

@test "hostile plans: every one is refused, names why, and nothing is done" {
	prepare_world
	before=$(counters)
	n=0
	failed=""
	for f in "$HOSTILE"/plans/*.json; do
		name=$(basename "$f" .json)
		fill "$f" "$BATS_TEST_TMPDIR/$name.json" "${f%.json}.expect" "$BATS_TEST_TMPDIR/$name.expect"
		want=$(cat "$BATS_TEST_TMPDIR/$name.expect")
		run --separate-stderr timeout 60 "$SPOTENV" apply -q --poll-interval 100ms \
			"$BATS_TEST_TMPDIR/$name.json" </dev/null
		n=$((n + 1))
		if [ "$status" -ne 1 ] || [[ "$stderr" != *"$want"* ]] ||
			[[ "$stderr" == *AddressSanitizer* ]] || [[ "$stderr" == *LeakSanitizer* ]] ||
			[[ "$stderr" == *"runtime error"* ]] || [[ "$stderr" == *$'\e'* ]]; then
			echo "$name: exit $status, want '$want' in:" >&2
			printf '%s\n' "$stderr" | head -c 2000 >&2
			failed="$failed $name"
		fi
		now=$(counters)
		if [ "$now" != "$before" ]; then
			echo "$name acted: launched terminated RunInstances TerminateInstances were '$before', now '$now'" >&2
			failed="$failed $name"
			before=$now
		fi
	done
	echo "# $n hostile plans applied, refused: $((n - $(wc -w <<<"$failed")))" >&3
	[ -z "$failed" ]
	[ "$n" -ge 25 ]
	[ "$(live_count web default)" -eq 3 ]
	[ "$(live_count -)" -eq 1 ]
}

@test "hostile plans: the control (base.json filled in) does launch" {
	prepare_world
	fill "$HOSTILE/base.json" "$BATS_TEST_TMPDIR/base.json"
	launched=$(sim_stat launched)
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/base.json" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 2 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat launched)" -eq $((launched + 2)) ]
	[ "$(live_count web default)" -eq 5 ]
}

@test "hostile plans: show renders or refuses every one without crashing" {
	prepare_world
	for f in "$HOSTILE"/plans/*.json "$HOSTILE/base.json"; do
		name=$(basename "$f" .json)
		fill "$f" "$BATS_TEST_TMPDIR/$name.json"
		for format in text markdown json; do
			run --separate-stderr timeout 60 "$SPOTENV" show --format "$format" "$BATS_TEST_TMPDIR/$name.json"
			if [ "$status" -gt 1 ] || [[ "$stderr" == *Sanitizer* ]] || [[ "$stderr" == *"runtime error"* ]] ||
				[[ "$output$stderr" == *$'\e'* ]]; then
				echo "show --format $format $name: exit $status: $stderr" >&2
				return 1
			fi
		done
	done
}
