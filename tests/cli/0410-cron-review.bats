#!/usr/bin/env bats
# Cron and review (issue 14): one bad environment or spec file never
# blocks the others, exit codes tell the truth, review output fits where it
# goes, and the small things: global options before the command, -o -,
# "did you mean" for --env, no empty progress lines, the tags phase said.

# shellcheck disable=SC2154 # $stderr and $stderr_lines come from bats (run --separate-stderr)
bats_require_minimum_version 1.5.0

load sim_helpers
load fixtures/helpers

setup_file() {
	sim_start --pending-ms 150 --terminating-ms 100
}

teardown_file() {
	sim_stop
}

setup() {
	fx_setup
	fx_reset
}

# A spec directory with two.yaml (web, jobs) and a file that does not load.
specs_with_invalid() {
	mkdir -p "$BATS_TEST_TMPDIR/specs"
	cp "$FX/two.yaml" "$FX/invalid.yaml" "$BATS_TEST_TMPDIR/specs/"
	echo "$BATS_TEST_TMPDIR/specs"
}

@test "isolation: a spec file that does not load skips only its environments; exit 3" {
	dir=$(specs_with_invalid)
	run --separate-stderr "$SPOTENV" plan "$dir" --env web
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"invalid.yaml:8:3: error: spec: unknown key 'capcity'"* ]]
	[[ "$stderr" == *"2 errors in specs: the environments they affect are skipped; the 2 that loaded go on"* ]]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	# apply converges what loaded, says what was skipped, exits 3
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$dir"
	[ "$status" -eq 3 ]
	[ "$output" = "Apply complete: 7 launched, 0 released. 2/2 environments converged." ]
	[[ "$stderr" == *"2 errors in specs: the environments they affect were skipped"* ]]
	[ "$(live_count web)" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
	# status --detailed-exitcode: not everything is known to be converged
	run --separate-stderr "$SPOTENV" status "$dir" --detailed-exitcode
	[ "$status" -eq 3 ]
}

@test "isolation: with an invalid spec file --prune is refused and --strict does nothing" {
	dir=$(specs_with_invalid)
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --prune "$dir"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--prune is refused while 2 errors in specs"* ]]
	run --separate-stderr "$SPOTENV" plan --prune "$dir"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--prune is refused"* ]]
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --strict "$dir"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"2 errors in specs; nothing was done"* ]]
	run --separate-stderr "$SPOTENV" plan --strict "$dir"
	[ "$status" -eq 1 ]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	[ "$(sim_stat requests.DescribeInstances)" -eq 0 ]
	[ "$(live_count)" -eq 0 ]
	# nothing loaded at all: nothing could be attempted, exit 1
	run --separate-stderr "$SPOTENV" plan "$FX/invalid.yaml"
	[ "$status" -eq 1 ]
}

@test "isolation: a bid below the market in one environment; the other is applied, exit 3" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --price 0.90 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --price 0.95 >/dev/null
	# the saved plan keeps the environment in error; apply skips it
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 3 ]
	[[ "$output" == *"Error: 1 environment with errors will be skipped by apply."* ]]
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 3 ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count web)" -eq 0 ]
}

@test "plan --detailed-exitcode: 3 when short and no change would help, 2 changes, 0 converged" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --stock 0 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 3 ]
	[[ "$output" == *"sold out"* ]]
	# without the flag a plan that was made exits 0
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	fx_reset
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 2 ]
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 0 ]
}

@test "plan -o - writes the plan document to stdout and the plan shown to stderr" {
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" -o -
	[ "$status" -eq 0 ]
	[ "$(json_get kind <<<"$output")" = "plan" ]
	[ "$(json_get summary.to_launch <<<"$output")" = "3" ]
	[[ "$stderr" == *"Plan: 3 to launch, 0 to release, 0 to replace."* ]]
	[ ! -e ./- ]
	[ ! -e "$BATS_TEST_TMPDIR/-" ]
	# and the document applies
	"$SPOTENV" plan -q "$FX/web.yaml" -o - >"$BATS_TEST_TMPDIR/p.json"
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
	# observe -o - is the snapshot on stdout
	run --separate-stderr "$SPOTENV" observe "$FX/web.yaml" -o -
	[ "$status" -eq 0 ]
	[ "$(json_get format_version <<<"$output")" = "1" ]
	[ "$(json_get instances 0 tags spotenv:env <<<"$output")" = "web" ]
}

@test "global options go before the command too" {
	run --separate-stderr "$SPOTENV" --no-color plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	run --separate-stderr "$SPOTENV" -v --endpoint "$SIM_URL" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"api: call DescribeInstances"* ]]
	run --separate-stderr "$SPOTENV" --endpoint="$SIM_URL" -q status "$FX/web.yaml"
	[ "$status" -eq 0 ]
	# a global option means nothing to validate, and is not an error there
	run --separate-stderr "$SPOTENV" --no-color validate "$FX/web.yaml"
	[ "$status" -eq 0 ]
	# unknown before the command, or no command after: usage errors
	before=$(sim_stat totalRequests)
	run --separate-stderr "$SPOTENV" --bogus plan "$FX/web.yaml"
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown option '--bogus' before the command"* ]]
	run --separate-stderr "$SPOTENV" --endpoint
	[ "$status" -eq 64 ]
	[ "$(sim_stat totalRequests)" -eq "$before" ]
}

@test "--env with a typo: did you mean" {
	run --separate-stderr "$SPOTENV" status "$FX/two.yaml" --env wbe
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no environment named 'wbe' in the specs (did you mean 'web'?)"* ]]
	run --separate-stderr "$SPOTENV" apply --auto-approve "$FX/two.yaml" --env jbos
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"(did you mean 'jobs'?)"* ]]
	# destroy looks for instances of environments no longer in the specs,
	# so it warns and goes on
	run --separate-stderr "$SPOTENV" destroy --auto-approve "$FX/two.yaml" --env wbe
	[[ "$stderr" == *"no environment named 'wbe' in the specs (did you mean 'web'?)"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
}

@test "apply: no empty phase lines, and the tags phase is explained" {
	sim_ctl faults --tag-lag-ms 400 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$FX/two.yaml"
	[ "$status" -eq 0 ]
	# nothing was released: no "releasing" line for anyone
	[[ "$stderr" != *"releasing:"* ]]
	[[ "$stderr" == *"spotenv: web: launching: "* ]]
	[[ "$stderr" == *"waiting until the API lists their tags"* ]]
	[[ "$stderr" != *": tags: "* ]]
	[[ "$stderr" == *"spotenv: web: waiting for tags: "* ]]
	# one environment scaled down: only it gets a releasing line
	spec=$(fx_spec two.yaml)
	sed -i '0,/capacity: 3/s//capacity: 1/' "$spec"
	sim_ctl faults --tag-lag-ms 0 >/dev/null
	run --separate-stderr "$SPOTENV" apply --auto-approve --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"spotenv: web: releasing: "* ]]
	[[ "$stderr" != *"spotenv: jobs: releasing: "* ]]
}

@test "markdown: a scale-down of 1,500 instances fits a PR comment, with marker, summary and cost" {
	sim_ctl faults --spot-quota-vcpu 0 --pending-ms 0 >/dev/null
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 2000 >/dev/null
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 1500/' "$spec"
	fx_apply --wait-timeout 2m "$spec"
	[ "$(live_count web)" -eq 1500 ]
	sed -i 's/capacity: 1500/capacity: 0/' "$spec"
	run --separate-stderr "$SPOTENV" plan "$spec" --format markdown
	[ "$status" -eq 0 ]
	chars=$(printf '%s\n' "$output" | python3 -c 'import sys; print(len(sys.stdin.read()))')
	[ "$chars" -le 60000 ]
	[ "${lines[0]}" = "<!-- spotenv-plan -->" ]
	[[ "$output" == *"**Plan: 0 to launch, 1500 to release, 0 to replace.**"* ]]
	[[ "$output" == *"Estimated cost: "*" -> 0.00/hour"* ]]
	# shellcheck disable=SC2016 # Markdown code spans, not a command substitution
	[[ "$output" == *'| `web` | default | ap-guangzhou | 0 | 1500 |'* ]]
	[[ "$output" == *"more lines not shown"* ]]
	[[ "$output" == *"_Shortened to fit 60000 characters: "* ]]
	# the text and JSON formats carry the cost before and after too
	run --separate-stderr "$SPOTENV" plan "$spec"
	[[ "$output" == *"estimated cost: "*"/hour -> 0.00/hour"* ]]
	run --separate-stderr "$SPOTENV" plan "$spec" --format json
	[ "$(json_get summary.hourly_cost <<<"$output")" = "0.00" ]
	[ "$(json_get environments.0.hourly_cost <<<"$output")" = "0.00" ]
	[ "$(json_get summary.hourly_cost_before <<<"$output")" != "0.00" ]
}

@test "apply: refusals of many calls alike are said once, with a count" {
	sim_ctl faults --spot-quota-vcpu 0 --pending-ms 0 >/dev/null
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 600/' "$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 3 ]
	[[ "${lines[0]}" == "web: not converged (200 short of 600)" ]]
	[ "$(grep -c 'ap-guangzhou-3/S5.MEDIUM4: ResourcesSoldOut' <<<"$output")" -eq 1 ]
	[ "$(grep -c 'ap-guangzhou-4/S5.MEDIUM4: ResourcesSoldOut' <<<"$output")" -eq 1 ]
	[[ "$output" == *"ap-guangzhou-3/S5.MEDIUM4: ResourcesSoldOut.SpecifiedInstanceType (RequestId "*"), and "*" more calls alike"* ]]
}
