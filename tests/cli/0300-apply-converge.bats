#!/usr/bin/env bats
# spotenv apply against the emulator: converge from empty, re-apply is a
# no-op, reclaims are replaced, scale down releases the right instances,
# drift is replaced within maxSurge/maxUnavailable, the metrics file.

bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	# released instances stay TERMINATING (visible in the state) for the
	# rest of a test, however slow the machine, so that peak_live and
	# low_live see its whole history (fx_reset clears them between tests)
	sim_start --pending-ms 150 --terminating-ms 3600000
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# images of ENV's live instances, one "IMAGE COUNT" line each
live_images() {
	sim_ctl state | python3 -c '
import json, sys, collections
c = collections.Counter()
for i in json.load(sys.stdin)["instances"]:
    if i.get("leaveMs") or (i.get("tags") or {}).get("spotenv:env") != sys.argv[1]:
        continue
    c[i["image"]] += 1
for k in sorted(c):
    print(k, c[k])
' "$1"
}

# the most instances of ENV alive at once (created, not yet released)
# over the emulator's history
peak_live() {
	sim_ctl state | python3 -c '
import json, sys
ev = []
for i in json.load(sys.stdin)["instances"]:
    if (i.get("tags") or {}).get("spotenv:env") != sys.argv[1]:
        continue
    ev.append((i["createdMs"], 1))
    if i.get("leaveMs"):
        ev.append((i["leaveMs"], -1))
n = peak = 0
for t, d in sorted(ev):   # a release before a launch of the same ms
    n += d
    peak = max(peak, n)
print(peak)
' "$1"
}

# the fewest instances of ENV alive at once from AFTER_MS on
low_live() {
	sim_ctl state | python3 -c '
import json, sys
ev = []
for i in json.load(sys.stdin)["instances"]:
    if (i.get("tags") or {}).get("spotenv:env") != sys.argv[1]:
        continue
    ev.append((i["createdMs"], 1))
    if i.get("leaveMs"):
        ev.append((i["leaveMs"], -1))
ev.sort()   # a release before a launch of the same ms (the worse case here)
n = 0
low = None
start = int(sys.argv[2])
for t, d in ev:
    n += d
    if t >= start:
        low = n if low is None else min(low, n)
print(low)
' "$1" "$2"
}

# the emulator clock (ms)
sim_now() {
	sim_ctl state | json_get now
}

# the local clock (whole seconds) is past SECONDS
later_than() {
	[ "$(date +%s)" -gt "$1" ]
}

# ids of ENV's live instances in ZONE
live_ids_in() {
	sim_ctl state | python3 -c '
import json, sys
out = [i["id"] for i in json.load(sys.stdin)["instances"]
       if not i.get("leaveMs") and i["zone"] == sys.argv[2]
       and (i.get("tags") or {}).get("spotenv:env") == sys.argv[1]]
print("\n".join(sorted(out)))
' "$1" "$2"
}

@test "apply: converges two environments in two regions from empty" {
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 7 launched, 0 released. 2/2 environments converged." ]
	# the plan is shown first
	[[ "$output" == *"Plan: 7 to launch, 0 to release, 0 to replace."* ]]
	# plain progress lines on stderr (no terminal)
	[[ "$stderr" == *"spotenv: web: "*"running"* ]]
	[[ "$stderr" != *$'\e['* ]]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count)" -eq 7 ]
	[ "$(sim_stat launched)" -eq 7 ]
	[ "$(live_pools web)" = "ap-guangzhou-3/S5.MEDIUM4 3" ]
	[ "$(live_pools jobs)" = "$(printf 'ap-shanghai-2/S5.MEDIUM4 2\nap-shanghai-4/SA2.MEDIUM4 2')" ]
	# every instance is RUNNING and carries the ownership tags
	sim_ctl state | python3 -c '
import json, sys
for i in json.load(sys.stdin)["instances"]:
    assert i["state"] == "RUNNING", i
    t = i["tags"]
    assert t["spotenv:env"] in ("web", "jobs"), t
    assert t["spotenv:scope"] == "default", t
    assert len(t["spotenv:template"]) == 12, t
    assert i["chargeType"] == "SPOTPAID", i
'
	# status agrees
	run --separate-stderr "$SPOTENV" status "$FX/two.yaml" --format json
	[ "$status" -eq 0 ]
	[ "$(json_get environments.1.name <<<"$output")" = "web" ]
	[ "$(json_get environments.1.running <<<"$output")" = "3" ]
	[ "$(json_get environments.1.status <<<"$output")" = "converged" ]
}

@test "apply: --env converges only the named environment" {
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms --env jobs \
		"$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 4 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count web)" -eq 0 ]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --env nope "$FX/two.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no environment named 'nope' in the specs"* ]]
}

@test "apply: 150 instances launch in chunks of at most 100 and are all observed" {
	# 150 MEDIUM4 in one zone are 300 vCPU: an account with a raised spot
	# quota (fx_reset puts the default back for the next test)
	sim_ctl faults '{"spotQuotaVcpu":0}' >/dev/null
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 150/' "$spec"
	run --separate-stderr "$SPOTENV" plan "$spec" --format json
	[ "$(json_get environments.0.launches.0.count <<<"$output")" = "100" ]
	[ "$(json_get environments.0.launches.1.count <<<"$output")" = "50" ]
	[ "$(json_get environments.0.launches.1.chunk <<<"$output")" = "1" ]
	t0=$(json_get environments.0.launches.0.client_token <<<"$output")
	t1=$(json_get environments.0.launches.1.client_token <<<"$output")
	[ "$t0" != "$t1" ]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 150 launched, 0 released. 1/1 environments converged." ]
	[ "$(sim_stat requests.RunInstances)" -eq 2 ]
	[ "$(live_count web)" -eq 150 ]
	# more than a page (100) of instances: every one is observed
	run --separate-stderr "$SPOTENV" plan "$spec"
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
	run --separate-stderr "$SPOTENV" status "$spec" --format json
	[ "$(json_get environments.0.running <<<"$output")" = "150" ]
}

@test "apply: -q prints only the closing line" {
	run --separate-stderr "$SPOTENV" apply -q --auto-approve --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ -z "$stderr" ]
}

@test "apply: re-apply is a no-op" {
	fx_apply "$FX/two.yaml"
	ids=$(live_ids)
	runs=$(sim_stat requests.RunInstances)
	terms=$(sim_stat requests.TerminateInstances)
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 0 launched, 0 released. 2/2 environments converged." ]
	[[ "$output" == *"No changes. 2 environments converged."* ]]
	[ "$(sim_stat requests.RunInstances)" -eq "$runs" ]
	[ "$(sim_stat requests.TerminateInstances)" -eq "$terms" ]
	[ "$(live_ids)" = "$ids" ]
}

@test "apply: reclaim two, then re-apply restores capacity" {
	fx_apply "$FX/two.yaml"
	sim_ctl reclaim --count 2 --env jobs >/dev/null
	survivors=$(live_ids)
	[ "$(live_count jobs)" -eq 2 ]
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 2 launched, 0 released. 2/2 environments converged." ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(sim_stat launched)" -eq 9 ]
	# the survivors are untouched
	[ "$(sim_stat terminated)" -eq 0 ]
	[ -z "$(comm -23 <(echo "$survivors") <(live_ids))" ]
	# spread keeps the pools balanced
	[ "$(live_pools jobs)" = "$(printf 'ap-shanghai-2/S5.MEDIUM4 2\nap-shanghai-4/SA2.MEDIUM4 2')" ]
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[ "${lines[-1]}" = "No changes. 2 environments converged." ]
}

@test "apply: scale down releases the newest instances first" {
	spec=$(fx_spec web.yaml)
	fx_apply "$spec"
	old=$(live_ids web)
	# CreatedTime has whole seconds: make the second batch visibly newer
	sim_clock_advance 2000
	sed -i 's/capacity: 3/capacity: 5/' "$spec"
	fx_apply "$spec"
	[ "$(live_count web)" -eq 5 ]
	new=$(comm -13 <(echo "$old") <(live_ids web))
	[ "$(wc -l <<<"$new")" -eq 2 ]
	sed -i 's/capacity: 5/capacity: 3/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 0 launched, 2 released. 1/1 environments converged." ]
	for id in $new; do
		[[ "$output" == *"- release $id"*"excess"* ]]
	done
	[ "$(live_ids web)" = "$old" ]
}

@test "apply: scale down releases from pools over their share before the newest" {
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 2/' "$spec"
	# the first two land in pool 2 (pool 1 sold out) ...
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	fx_apply "$spec"
	older=$(live_ids_in web ap-guangzhou-4)
	[ "$(wc -l <<<"$older")" -eq 2 ]
	sim_clock_advance 2000
	# ... the next two in pool 1, once it has stock again
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 200 >/dev/null
	sed -i 's/capacity: 2/capacity: 4/' "$spec"
	fx_apply "$spec"
	newer=$(live_ids_in web ap-guangzhou-3)
	[ "$(wc -l <<<"$newer")" -eq 2 ]
	# back to 2: priority puts both in pool 1, so pool 2 is over its share
	# and its (older) instances go, not the newest
	sed -i 's/capacity: 4/capacity: 2/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 0 launched, 2 released. 1/1 environments converged." ]
	[ "$(live_ids web)" = "$newer" ]
}

@test "apply: drift is replaced one at a time with maxSurge 1, maxUnavailable 0" {
	spec=$(fx_spec web.yaml)
	fx_apply "$spec"
	t0=$(sim_now)
	sed -i 's/img-aaaaaaaa/img-a2a2a2a2/' "$spec"
	run --separate-stderr "$SPOTENV" plan "$spec"
	[[ "$output" == *"~ launch 1 x S5.MEDIUM4"*"replaces drifted"* ]]
	[ "${lines[-1]}" = "Plan: 0 to launch, 0 to release, 1 to replace." ]
	for n in 1 2 3; do
		run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
		echo "run $n: $output"
		[[ "${lines[-1]}" == *" 1 launched, 1 released."* ]]
		# converged only once the last one is replaced
		if [ "$n" -lt 3 ]; then
			[ "$status" -eq 3 ]
			[[ "$output" == *"$((3 - n)) drifted instance"*" left for later applies (maxSurge 1 + maxUnavailable 0 at a time)"* ]]
		else
			[ "$status" -eq 0 ]
		fi
		# never below capacity, never a second surge instance left over
		[ "$(live_count web)" -eq 3 ]
		[ "$(live_images web)" = "$(printf 'img-a2a2a2a2 %d' "$n")$([ "$n" -lt 3 ] && printf '\nimg-aaaaaaaa %d' $((3 - n)))" ]
	done
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_images web)" = "img-a2a2a2a2 3" ]
	# at most one above capacity, never below it
	[ "$(peak_live web)" -eq 4 ]
	[ "$(low_live web "$t0")" -eq 3 ]
}

@test "apply: a rollout that is left for later applies is not reported converged" {
	spec=$(fx_spec web.yaml)
	fx_apply "$spec"
	sed -i 's/img-aaaaaaaa/img-a2a2a2a2/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec" \
		--metrics-file "$BATS_TEST_TMPDIR/m.prom"
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged"* ]]
	[[ "$output" == *"2 drifted instances left for later applies"* ]]
	[ "${lines[-1]}" = "Apply finished: 1 launched, 1 released. 0/1 environments converged." ]
	grep -qx 'spotenv_converged{env="web",scope="default"} 0' "$BATS_TEST_TMPDIR/m.prom"
	# --until-converged carries the rollout through in one run
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec" \
		--until-converged 60s
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 2 launched, 2 released. 1/1 environments converged." ]
	[ "$(live_images web)" = "img-a2a2a2a2 3" ]
}

@test "apply: maxSurge 2 + maxUnavailable 1 replaces all three in one run within both" {
	spec=$(fx_spec web.yaml)
	sed -i 's/maxSurge: 1/maxSurge: 2/; s/maxUnavailable: 0/maxUnavailable: 1/' "$spec"
	fx_apply "$spec"
	t0=$(sim_now)
	sed -i 's/img-aaaaaaaa/img-a2a2a2a2/' "$spec"
	run --separate-stderr "$SPOTENV" plan "$spec"
	[ "${lines[-1]}" = "Plan: 0 to launch, 0 to release, 3 to replace." ]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 3 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_images web)" = "img-a2a2a2a2 3" ]
	# one released first (maxUnavailable 1), so three launches add two
	[ "$(peak_live web)" -le 5 ]
	[ "$(low_live web "$t0")" -ge 2 ]
}

@test "apply: maxSurge 0 releases a drifted instance before launching its replacement" {
	spec=$(fx_spec web.yaml)
	sed -i 's/maxSurge: 1/maxSurge: 0/; s/maxUnavailable: 0/maxUnavailable: 1/' "$spec"
	fx_apply "$spec"
	t0=$(sim_now)
	sed -i 's/img-aaaaaaaa/img-a2a2a2a2/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q -v --poll-interval 100ms "$spec" \
		--until-converged 60s
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Apply complete: 3 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_images web)" = "img-a2a2a2a2 3" ]
	# each release went out before its replacement's launch (the call log,
	# as the emulator's clock has whole milliseconds only)
	calls=$(grep -o 'call \(RunInstances\|TerminateInstances\) .* status=200 .*error=-' <<<"$stderr" |
		awk '{print substr($2, 1, 1)}' | tr -d '\n')
	[ "$calls" = "TRTRTR" ]
	# never above capacity (a quota-bound account), at most one below
	[ "$(peak_live web)" -eq 3 ]
	[ "$(low_live web "$t0")" -eq 2 ]
}

@test "apply: drift that cannot be replaced (no usable pool) is not converged and says why" {
	fx_apply "$FX/web.yaml"
	sed 's/img-aaaaaaaa/img-a2a2a2a2/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/d.yaml"
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	SECONDS=0
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms \
		"$BATS_TEST_TMPDIR/d.yaml" --until-converged 3s
	[ "$status" -eq 3 ]
	[[ "$output" == *"web: not converged"* ]]
	[[ "$output" == *"3 drifted instances not replaced"* ]]
	[[ "$output" == *"pool 1 (ap-guangzhou-3 S5.MEDIUM4) is sold out"* ]]
	# kept, and retried with backoff rather than in a tight loop
	[ "$(live_count web)" -eq 3 ]
	[ "$(sim_stat requests.DescribeInstances)" -lt 10 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
}

@test "apply: maxPrice and tags changes do not replace anything" {
	spec=$(fx_spec web.yaml)
	fx_apply "$spec"
	ids=$(live_ids web)
	sed -i 's/maxPrice: "0.50"/maxPrice: "0.70"\n  tags: {team: web}/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_ids web)" = "$ids" ]
}

@test "apply --metrics-file: documented metrics with the right values, replaced atomically" {
	m=$BATS_TEST_TMPDIR/metrics/spotenv.prom
	mkdir -p "${m%/*}"
	umask 022
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml" \
		--metrics-file "$m"
	[ "$status" -eq 0 ]
	[ -s "$m" ]
	grep -qx 'spotenv_desired_instances{env="web",scope="default"} 3' "$m"
	grep -qx 'spotenv_desired_instances{env="jobs",scope="default"} 4' "$m"
	grep -qx 'spotenv_active_instances{env="web",scope="default"} 3' "$m"
	grep -qx 'spotenv_launched_instances{env="web",scope="default"} 3' "$m"
	grep -qx 'spotenv_launched_instances{env="jobs",scope="default"} 4' "$m"
	grep -qx 'spotenv_released_instances{env="web",scope="default"} 0' "$m"
	grep -qx 'spotenv_failed_instances{env="web",scope="default"} 0' "$m"
	grep -qx 'spotenv_converged{env="web",scope="default"} 1' "$m"
	grep -qx 'spotenv_converged{env="jobs",scope="default"} 1' "$m"
	grep -qx 'spotenv_apply_success 1' "$m"
	grep -q '^spotenv_apply_duration_seconds [0-9]*\.[0-9][0-9][0-9]$' "$m"
	ts=$(sed -n 's/^spotenv_apply_last_success_timestamp_seconds \([0-9]*\)$/\1/p' "$m")
	now=$(date +%s)
	[ "$ts" -le "$now" ]
	[ "$ts" -gt $((now - 60)) ]
	# every metric has HELP and TYPE
	for name in spotenv_desired_instances spotenv_active_instances spotenv_launched_instances \
		spotenv_released_instances spotenv_failed_instances spotenv_converged \
		spotenv_apply_duration_seconds spotenv_apply_success \
		spotenv_apply_last_success_timestamp_seconds; do
		grep -qx "# TYPE $name gauge" "$m"
		grep -q "^# HELP $name " "$m"
	done
	# the file is replaced (a new inode), not rewritten in place, and no
	# temporary file is left behind
	inode=$(stat -c %i "$m")
	sim_ctl reclaim --count 1 --env web >/dev/null
	"$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/two.yaml" --metrics-file "$m"
	[ "$(stat -c %i "$m")" != "$inode" ]
	[ "$(ls "${m%/*}")" = "spotenv.prom" ]
	# readable by the node exporter
	[ "$(stat -c %a "$m")" = "644" ]
	grep -qx 'spotenv_launched_instances{env="web",scope="default"} 1' "$m"
	grep -qx 'spotenv_launched_instances{env="jobs",scope="default"} 0' "$m"
	grep -qx 'spotenv_active_instances{env="web",scope="default"} 3' "$m"
}

@test "apply --metrics-file: a short apply reports it and keeps the last success time" {
	m=$BATS_TEST_TMPDIR/m.prom
	fx_apply "$FX/web.yaml" --metrics-file "$m"
	ts=$(sed -n 's/^spotenv_apply_last_success_timestamp_seconds //p' "$m")
	sim_ctl reclaim --count 1 --env web >/dev/null
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	# a new second on the local clock, so that a wrongly updated time shows
	wait_until 5 later_than "$ts"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml" \
		--metrics-file "$m"
	[ "$status" -eq 3 ]
	grep -qx 'spotenv_converged{env="web",scope="default"} 0' "$m"
	grep -qx 'spotenv_apply_success 0' "$m"
	grep -qx 'spotenv_active_instances{env="web",scope="default"} 2' "$m"
	grep -qx "spotenv_apply_last_success_timestamp_seconds $ts" "$m"
}
