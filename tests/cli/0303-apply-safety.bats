#!/usr/bin/env bats
# spotenv apply never touches what it does not own: untagged instances and
# another scope's survive apply, --prune and destroy; --max-release stops an
# oversized release before any call; a stale saved plan is refused; apply
# without --auto-approve needs a terminal and a literal "yes".

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

# a world with: 2 untagged instances, 2 of web in scope other-team, 2 of
# old-web (an orphan of web.yaml's scope) and web itself
mixed_world() {
	unowned_launch 2 >"$BATS_TEST_TMPDIR/unowned"
	fx_apply "$FX/other-scope.yaml" "$FX/orphan.yaml" >/dev/null
	fx_apply "$FX/web.yaml" >/dev/null
	live_ids other-team >/dev/null
	[ "$(live_count -)" -eq 2 ]
	[ "$(live_count web other-team)" -eq 2 ]
	[ "$(live_count old-web)" -eq 2 ]
	[ "$(live_count web default)" -eq 3 ]
	live_ids - >"$BATS_TEST_TMPDIR/untagged"
	live_ids web other-team >"$BATS_TEST_TMPDIR/other"
}

@test "safety: untagged and other-scope instances survive apply and apply --prune" {
	mixed_world
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[[ "$output" == *"environment 'old-web' (scope default) is not in the specs: 2 instances left running; use --prune to release them"* ]]
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
	run --separate-stderr "$SPOTENV" apply --auto-approve --prune --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"- release "*"orphan: environment 'old-web' is not in the specs"* ]]
	[ "${lines[-1]}" = "Apply complete: 0 launched, 2 released. 1/1 environments converged." ]
	[ "$(live_count old-web)" -eq 0 ]
	[ "$(live_ids -)" = "$(cat "$BATS_TEST_TMPDIR/untagged")" ]
	[ "$(live_ids web other-team)" = "$(cat "$BATS_TEST_TMPDIR/other")" ]
	[ "$(live_count web default)" -eq 3 ]
	[ "$(sim_stat terminated)" -eq 2 ]
}

@test "safety: without --prune orphans are left alone" {
	mixed_world
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$FX/web.yaml"
	[ "$status" -eq 0 ]
	# orphans are not environments of the specs: not counted
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_count old-web)" -eq 2 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
}

@test "safety: destroy releases only the named environment of the spec's scope" {
	mixed_world
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web --auto-approve
	[ "$status" -eq 0 ]
	[[ "$output" == *"Plan: 0 to launch, 3 to release, 0 to replace."* ]]
	[ "${lines[-1]}" = "Destroy complete: 0 launched, 3 released. 1/1 environments converged." ]
	[ "$(live_count web default)" -eq 0 ]
	[ "$(live_ids web other-team)" = "$(cat "$BATS_TEST_TMPDIR/other")" ]
	[ "$(live_ids -)" = "$(cat "$BATS_TEST_TMPDIR/untagged")" ]
	[ "$(live_count old-web)" -eq 2 ]
	[ "$(sim_stat terminated)" -eq 3 ]
}

@test "safety: --max-release stops an oversized release before any call" {
	spec=$(fx_spec web.yaml)
	sed -i 's/capacity: 3/capacity: 5/' "$spec"
	fx_apply "$spec"
	sed -i 's/capacity: 5/capacity: 1/' "$spec"
	terms=$(sim_stat requests.TerminateInstances)
	# the environment is skipped (exit 3): nothing of it is released
	run --separate-stderr "$SPOTENV" apply --auto-approve --max-release 2 "$spec"
	[ "$status" -eq 3 ]
	[[ "$output" == *"error: would release 4 instances, more than the limit of 2 (--max-release)"* ]]
	[[ "$stderr" == *"environment 'web' has errors in its plan and is skipped"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq "$terms" ]
	[ "$(live_count web)" -eq 5 ]
	# --strict: nothing at all, exit 1
	run --separate-stderr "$SPOTENV" apply --auto-approve --strict --max-release 2 "$spec"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"the plan has errors; nothing was done (--strict)"* ]]
	# the spec's own limit works the same way
	printf '  limits:\n    maxReleasePerApply: 3\n' >>"$spec"
	run --separate-stderr "$SPOTENV" apply --auto-approve "$spec"
	[ "$status" -eq 3 ]
	[[ "$output" == *"error: would release 4 instances, more than the limit of 3 (limits.maxReleasePerApply)"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq "$terms" ]
	[ "$(live_count web)" -eq 5 ]
	# within the limit it goes through
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --max-release 4 "$spec"
	[ "$status" -eq 0 ]
	[ "$(live_count web)" -eq 1 ]
}

@test "isolation: one environment's plan errors never stop another's apply" {
	# web's bid is below the market in every pool: an error in its plan;
	# jobs is fine and converges; apply exits 3 for web
	# (the first maxPrice in two.yaml is web's)
	sed '0,/maxPrice: "0.50"/s//maxPrice: "0.01"/' "$FX/two.yaml" >"$BATS_TEST_TMPDIR/mixed.yaml"
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$BATS_TEST_TMPDIR/mixed.yaml"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"environment 'web' has errors in its plan and is skipped"* ]]
	[[ "$output" == *"web: not converged"* ]]
	[ "${lines[-1]}" = "Apply finished: 4 launched, 0 released. 1/2 environments converged." ]
	[ "$(live_count jobs)" -eq 4 ]
	[ "$(live_count web)" -eq 0 ]
}

@test "safety: --max-release also guards a saved plan; destroy goes in steps of it" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 0/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/zero.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/zero.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	run --separate-stderr "$SPOTENV" apply --max-release 2 "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"--max-release 2"* ]]
	# destroy: at most 1 a run, and it says how many are left (exit 3)
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web --auto-approve --max-release 1
	[ "$status" -eq 3 ]
	[[ "$output" == *"2 more instances left for later destroys"* ]]
	[ "$(live_count web)" -eq 2 ]
	# the spec's maxReleasePerApply is the step when no flag is given
	sed 's/capacity: 3/capacity: 3\n  limits: {maxReleasePerApply: 1}/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/lim.yaml"
	sim_settle
	run --separate-stderr "$SPOTENV" destroy -q "$BATS_TEST_TMPDIR/lim.yaml" --env web --auto-approve
	[ "$status" -eq 3 ]
	[ "$(live_count web)" -eq 1 ]
	sim_settle
	run --separate-stderr "$SPOTENV" destroy -q "$BATS_TEST_TMPDIR/lim.yaml" --env web --auto-approve
	[ "$status" -eq 0 ]
	[ "$output" = "Destroy complete: 0 launched, 1 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 0 ]
}

@test "safety: a stale saved plan is refused, naming what changed" {
	fx_apply "$FX/web.yaml"
	sed 's/capacity: 3/capacity: 2/' "$FX/web.yaml" >"$BATS_TEST_TMPDIR/two.yaml"
	"$SPOTENV" plan -q "$BATS_TEST_TMPDIR/two.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	victim=$(live_ids web | head -n 1)
	sim_ctl reclaim "$victim" >/dev/null
	run --separate-stderr "$SPOTENV" apply "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan is stale"* ]]
	[[ "$stderr" == *"$victim"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(sim_stat requests.RunInstances)" -eq 1 ]
	[ "$(live_count web)" -eq 2 ]
}

@test "safety: a saved plan is applied without asking when nothing changed" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	run --separate-stderr "$SPOTENV" apply -q --poll-interval 100ms "$BATS_TEST_TMPDIR/p.json" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 3 ]
	# once applied, the plan's basis is gone: applying it again is stale
	run --separate-stderr "$SPOTENV" apply -q "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"plan is stale"* ]]
	[ "$(live_count web)" -eq 3 ]
}

@test "safety: a saved plan with errors or garbage is refused" {
	echo '{"format_version": "1"}' >"$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr "$SPOTENV" apply "$BATS_TEST_TMPDIR/bad.json"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a spotenv plan"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
}

@test "safety: apply without --auto-approve and no terminal is refused" {
	run --separate-stderr "$SPOTENV" apply "$FX/web.yaml" </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"apply needs confirmation and standard input is not a terminal; pass --auto-approve"* ]]
	# the plan was shown, nothing was done
	[[ "$output" == *"Plan: 3 to launch"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	# "yes" on a pipe is not a terminal's answer
	run --separate-stderr "$SPOTENV" apply "$FX/web.yaml" <<<"yes"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"standard input is not a terminal"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	# destroy asks the same way
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env web </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"destroy needs confirmation and standard input is not a terminal; pass --auto-approve"* ]]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count web)" -eq 3 ]
}

@test "safety: a converged apply needs no confirmation" {
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" apply -q "$FX/web.yaml" </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 0 launched, 0 released. 1/1 environments converged." ]
}

@test "safety: on a terminal only a literal yes approves" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run bash -c 'printf "no\n" | script -qec "$0 apply $1" /dev/null' "$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Only 'yes' will be accepted"* ]]
	[[ "$output" == *"apply cancelled"* ]]
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	run bash -c 'printf "yes\n" | script -qec "$0 apply --poll-interval 100ms $1" /dev/null' \
		"$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Apply complete: 3 launched, 0 released. 1/1 environments converged."* ]]
	[ "$(live_count web)" -eq 3 ]
}

@test "safety: destroy needs --env and specs" {
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --auto-approve
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"--env NAME"* ]]
	run --separate-stderr "$SPOTENV" destroy --env web --auto-approve
	[ "$status" -eq 64 ]
	run --separate-stderr "$SPOTENV" destroy "$FX/web.yaml" --env nope --auto-approve
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'nope'"* ]]
	[ "$(sim_stat totalRequests)" -eq 0 ]
}
