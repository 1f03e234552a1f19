#!/usr/bin/env bats
# spotenv plan against the emulator: from empty, converged, the three
# formats, -o then show, --detailed-exitcode, usage errors.

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
}

@test "plan: from empty lists every launch and closes with the counts" {
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"+ launch 3 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1), bid 0.50, spot 0.12"* ]]
	# spread: 4 over two pools is 2 + 2
	[[ "$output" == *"+ launch 2 x S5.MEDIUM4 in ap-shanghai-2 (pool 1)"* ]]
	[[ "$output" == *"+ launch 2 x SA2.MEDIUM4 in ap-shanghai-4 (pool 2)"* ]]
	[ "${lines[-1]}" = "Plan: 7 to launch, 0 to release, 0 to replace." ]
	[ -z "$stderr" ]
	# plan changes nothing
	[ "$(sim_stat requests.RunInstances)" -eq 0 ]
	[ "$(sim_stat requests.TerminateInstances)" -eq 0 ]
	[ "$(live_count)" -eq 0 ]
}

@test "plan: after apply there is nothing to do" {
	fx_apply "$FX/two.yaml"
	[ "$(live_count)" -eq 7 ]
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "No changes. 2 environments converged." ]
	[[ "$output" != *"+ launch"* ]]
	[[ "$output" != *"- release"* ]]
}

@test "plan: after a reclaim the replacement is planned" {
	fx_apply "$FX/web.yaml"
	id=$(live_ids web | head -n 1)
	sim_ctl reclaim "$id" >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"+ launch 1 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"* ]]
	[ "${lines[-1]}" = "Plan: 1 to launch, 0 to release, 0 to replace." ]
}

@test "plan: --format json is a versioned document with the same counts" {
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml" --format json
	[ "$status" -eq 0 ]
	[ "$(json_get format_version <<<"$output")" = "1" ]
	[ "$(json_get kind <<<"$output")" = "plan" ]
	[ "$(json_get summary.to_launch <<<"$output")" = "7" ]
	[ "$(json_get summary.to_release <<<"$output")" = "0" ]
	[ "$(json_get summary.changes <<<"$output")" = "true" ]
	# environments sorted by name
	[ "$(json_get environments.0.name <<<"$output")" = "jobs" ]
	[ "$(json_get environments.1.name <<<"$output")" = "web" ]
	[ "$(json_get environments.1.launches.0.count <<<"$output")" = "3" ]
	token=$(json_get environments.1.launches.0.client_token <<<"$output")
	[ -n "$token" ]
	[ "${#token}" -le 64 ]
	[[ "$token" =~ ^[[:print:]]+$ ]]
	# the same inputs give the same document (observed_at aside)
	a=$(sed '/"observed_at"/d' <<<"$output")
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml" --format json
	[ "$status" -eq 0 ]
	[ "$(sed '/"observed_at"/d' <<<"$output")" = "$a" ]
}

@test "plan: --format markdown has the summary table and folded details" {
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml" --format markdown
	[ "$status" -eq 0 ]
	[[ "$output" == *"**Plan: 7 to launch, 0 to release, 0 to replace.**"* ]]
	[[ "$output" == *"| Environment |"* ]]
	[[ "$output" == *"|---|"* ]]
	# shellcheck disable=SC2016 # Markdown code spans, not a command substitution
	[[ "$output" == *'| `web` | default | ap-guangzhou | 3 | 0 |'* ]]
	[[ "$output" == *"<details>"* ]]
	[[ "$output" == *"</details>"* ]]
	[ "$(grep -c '<details>' <<<"$output")" -eq 2 ]
}

@test "plan: a sold-out pool is a warning at the top of the markdown" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 0 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --format markdown
	[ "$status" -eq 0 ]
	warn=$(grep -n 'sold out' <<<"$output" | head -n 1 | cut -d: -f1)
	table=$(grep -n '| Environment |' <<<"$output" | head -n 1 | cut -d: -f1)
	[ -n "$warn" ]
	[ -n "$table" ]
	[ "$warn" -lt "$table" ]
}

@test "plan: -o saves the JSON document and show renders the same text" {
	run --separate-stderr "$SPOTENV" plan "$FX/two.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	text=$output
	[[ "$stderr" == *"saved the plan to '$BATS_TEST_TMPDIR/p.json'"* ]]
	[ -s "$BATS_TEST_TMPDIR/p.json" ]
	[ "$(json_get format_version <"$BATS_TEST_TMPDIR/p.json")" = "1" ]
	run --separate-stderr "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[ "$output" = "$text" ]
	[ -z "$stderr" ]
	# show --format json gives the saved document back, byte for byte
	"$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" --format json >"$BATS_TEST_TMPDIR/again.json"
	cmp "$BATS_TEST_TMPDIR/p.json" "$BATS_TEST_TMPDIR/again.json"
	# and -q saves without the note
	run --separate-stderr "$SPOTENV" plan -q "$FX/two.yaml" --out "$BATS_TEST_TMPDIR/q.json"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ -s "$BATS_TEST_TMPDIR/q.json" ]
}

@test "plan: show needs no credentials or network and renders markdown" {
	"$SPOTENV" plan -q "$FX/web.yaml" -o "$BATS_TEST_TMPDIR/p.json"
	run --separate-stderr env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY \
		SPOTENV_ENDPOINT=http://127.0.0.1:1 "$SPOTENV" show "$BATS_TEST_TMPDIR/p.json" \
		--format markdown
	[ "$status" -eq 0 ]
	[[ "$output" == *"**Plan: 3 to launch, 0 to release, 0 to replace.**"* ]]
}

@test "plan: --detailed-exitcode is 2 with changes, 0 without, 1 on errors" {
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 2 ]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	# without the flag changes still exit 0
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	fx_apply "$FX/web.yaml"
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
	# an invalid spec
	run --separate-stderr "$SPOTENV" plan "$FX/invalid.yaml" --detailed-exitcode
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"unknown key 'capcity' (did you mean 'capacity'?)"* ]]
	[ -z "$output" ]
}

@test "plan: a guardrail error skips its environment (exit 3); --strict exits 1 and saves nothing" {
	spec=$(fx_spec web.yaml)
	printf '  limits:\n    maxHourlyCost: "0.10"\n' >>"$spec"
	run --separate-stderr "$SPOTENV" plan "$spec" --strict -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: estimated hourly cost 0.36 exceeds limits.maxHourlyCost 0.10"* ]]
	[[ "$stderr" == *"the plan has errors (--strict); plan not saved"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/p.json" ]
	# without --strict the environment is skipped: said, saved as an error
	run --separate-stderr "$SPOTENV" plan "$spec" --detailed-exitcode -o "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"environment 'web' has errors in its plan and is skipped"* ]]
	[ "$(json_get environments.0.status <"$BATS_TEST_TMPDIR/p.json")" = "error" ]
}

@test "plan: a bid below one pool's price skips it; below every pool is an error" {
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --price 0.90 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 2 ]
	[[ "$output" == *"+ launch 3 x S5.MEDIUM4 in ap-guangzhou-4 (pool 2), bid 0.50, spot 0.13"* ]]
	[[ "$output" == *"warning: pool 1 (ap-guangzhou-3 S5.MEDIUM4): bid 0.50 is below the market price 0.90; skipped"* ]]
	sim_ctl pool --zone ap-guangzhou-4 --type S5.MEDIUM4 --price 0.95 >/dev/null
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --detailed-exitcode
	[ "$status" -eq 3 ]
	[[ "$output" == *"error: cannot launch 3 instances: no pool is usable and the bid is below the market price"* ]]
	[[ "$output" != *"+ launch"* ]]
	[[ "$stderr" == *"environment 'web' has errors in its plan and is skipped"* ]]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --format json
	[ "$status" -eq 3 ]
	[ "$(json_get environments.0.status <<<"$output")" = "error" ]
	[ "$(json_get environments.0.pools.0.usable <<<"$output")" = "false" ]
	[ "$(json_get environments.0.pools.1.usable <<<"$output")" = "false" ]
	[ "$(json_get summary.to_launch <<<"$output")" = "0" ]
}

@test "plan: output is plain without a terminal, NO_COLOR or --no-color" {
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e['* ]]
	run --separate-stderr env NO_COLOR=1 "$SPOTENV" plan "$FX/web.yaml" --no-color
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e['* ]]
}

@test "plan: colour on a terminal, never with NO_COLOR or --no-color" {
	command -v script >/dev/null || skip "script(1) is not installed"
	run bash -c 'script -qec "$0 plan $1" /dev/null </dev/null' "$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\e[32m+'* ]]
	run bash -c 'NO_COLOR=1 script -qec "$0 plan $1" /dev/null </dev/null' "$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"+ launch 3 x"* ]]
	[[ "$output" != *$'\e['* ]]
	run bash -c 'script -qec "$0 plan --no-color $1" /dev/null </dev/null' "$SPOTENV" "$FX/web.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e['* ]]
}

@test "plan: usage errors exit 64" {
	run --separate-stderr "$SPOTENV" plan
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no specs given"*"'spotenv plan specs/'"* ]]
	[[ "$stderr" == *"Try 'spotenv help plan'"* ]]
	[ -z "$output" ]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --bogus
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown option '--bogus'"* ]]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --format yaml
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"unknown format 'yaml'"* ]]
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --max-release -1
	[ "$status" -eq 64 ]
	run --separate-stderr "$SPOTENV" show
	[ "$status" -eq 64 ]
	[[ "$stderr" == *"no plan file given"* ]]
	run --separate-stderr "$SPOTENV" show a b
	[ "$status" -eq 64 ]
	run --separate-stderr "$SPOTENV" show "$FX/web.yaml" --format yaml
	[ "$status" -eq 64 ]
	# nothing reached the API
	[ "$(sim_stat totalRequests)" -eq 0 ]
}

@test "plan: other errors exit 1 with a clear message" {
	run --separate-stderr "$SPOTENV" plan "$FX/web.yaml" --env nope
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'nope'"* ]]
	run --separate-stderr "$SPOTENV" plan "$BATS_TEST_TMPDIR/missing.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"missing.yaml"* ]]
	run --separate-stderr "$SPOTENV" show "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not a spotenv plan"* ]]
	# the emulator down: an API error, not a crash
	run --separate-stderr env SPOTENV_ENDPOINT=http://127.0.0.1:1 "$SPOTENV" plan "$FX/web.yaml"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"error"* ]]
}

@test "plan: help describes the command" {
	run --separate-stderr "$SPOTENV" plan --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: spotenv plan PATH..."* ]]
	[[ "$output" == *"--detailed-exitcode"* ]]
}
