#!/usr/bin/env bats
# spotenv plan --check shows the spot quota (vCPU used, remaining, total)
# of the zones of the planned environments' pools before its dry-run
# results, as status does; the emulator has the real default of 50 vCPU per
# zone.  The quota is informational: a DescribeAccountQuota that fails is a
# warning and the plan goes on with its usual exit code; the saved plan
# document (and --format json/markdown) never carries it.

# shellcheck disable=SC2154 # $stderr comes from bats (run --separate-stderr)
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

QUOTA_HEAD="SPOT QUOTA (vCPU) / ZONE        USED REMAINING   TOTAL"

# the table row of ZONE with USED REMAINING TOTAL, as printed
row() {
	printf '  %-26s %7s %9s %7s' "$1" "$2" "$3" "$4"
}

@test "plan --check: each pool zone's spot quota comes first, 50 vCPU free from the start" {
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "$QUOTA_HEAD" ]
	[ "${lines[1]}" = "$(row ap-guangzhou-3 0 50 50)" ]
	[ "${lines[2]}" = "$(row ap-guangzhou-4 0 50 50)" ]
	[[ "${lines[3]}" == "env web "* ]]
	[[ "$output" == *"+ launch 3 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"*"[dry run ok]"* ]]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	[ "$(sim_stat requests.DescribeAccountQuota)" -eq 1 ]
	[ "$(sim_stat launched)" -eq 0 ]
	# a plan without --check asks nothing more and shows no quota
	run --separate-stderr "$SPOTENV" plan "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$output" != *"SPOT QUOTA"* ]]
	[ "$(sim_stat requests.DescribeAccountQuota)" -eq 1 ]
}

@test "plan --check: the zones of every environment planned, in each region" {
	run --separate-stderr "$SPOTENV" plan --check "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$QUOTA_HEAD" ]
	[[ "$output" == *"$(row ap-shanghai-2 0 50 50)"* ]]
	[[ "$output" == *"$(row ap-shanghai-4 0 50 50)"* ]]
	[[ "$output" == *"$(row ap-guangzhou-3 0 50 50)"* ]]
	[[ "$output" == *"$(row ap-guangzhou-4 0 50 50)"* ]]
	# zones the pools do not use are left out
	[[ "$output" != *"ap-guangzhou-6 "* ]]
	[[ "$output" != *"ap-shanghai-5 "* ]]
	# --env: only that environment's zones
	run --separate-stderr "$SPOTENV" plan --check --env web "$FX/two.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$(row ap-guangzhou-3 0 50 50)"* ]]
	[[ "$output" != *"ap-shanghai"* ]]
}

@test "plan --check: the numbers follow what runs, ours and others'" {
	fx_apply "$(fx_web_capacity 3)" >/dev/null # 3 x 2 vCPU in ap-guangzhou-3
	unowned_launch 5 ap-guangzhou-4 >/dev/null # 5 x 2 vCPU, not spotenv's
	# 27 more x 2 vCPU do not fit the 44 left: the table says why the dry run fails
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 30)"
	[ "$status" -eq 3 ]
	[ "${lines[0]}" = "$QUOTA_HEAD" ]
	[ "${lines[1]}" = "$(row ap-guangzhou-3 6 44 50)" ]
	[ "${lines[2]}" = "$(row ap-guangzhou-4 10 40 50)" ]
	[[ "$output" == *"+ launch 27 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"*"[dry run failed: LimitExceeded.SpotQuota"* ]]
	# 22 more (44 vCPU) fit exactly
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 25)"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "$(row ap-guangzhou-3 6 44 50)" ]
	[[ "$output" == *"+ launch 22 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1)"*"[dry run ok]"* ]]
	# dry runs take no quota; a converged environment still shows its zones
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "$(row ap-guangzhou-3 6 44 50)" ]
	[ "${lines[2]}" = "$(row ap-guangzhou-4 10 40 50)" ]
	[ "${lines[-1]}" = "No changes. 1 environment converged." ]
	[ "$(sim_stat launched)" -eq 8 ]
}

@test "plan --check: the quota goes with the plan shown, never into the plan document" {
	# JSON and Markdown are fixed formats: no quota, and nothing asked for it
	run --separate-stderr "$SPOTENV" plan --check --format json "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[ "$(json_get summary.to_launch <<<"$output")" = 3 ]
	[[ "$output" != *"quota"* ]]
	run --separate-stderr "$SPOTENV" plan --check --format markdown "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$output" != *"SPOT QUOTA"* ]]
	[ "$(sim_stat requests.DescribeAccountQuota)" -eq 0 ]
	# -o -: the document on stdout, the plan shown (quota first) on stderr
	run --separate-stderr "$SPOTENV" plan --check -o - "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[ "$(json_get summary.to_launch <<<"$output")" = 3 ]
	[[ "$output" != *"quota"* ]]
	[[ "$stderr" == "$QUOTA_HEAD"$'\n'"$(row ap-guangzhou-3 0 50 50)"* ]]
	# -o FILE: the table on stdout, the file a plan document as ever
	run --separate-stderr "$SPOTENV" plan --check -o "$BATS_TEST_TMPDIR/p.json" "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$QUOTA_HEAD" ]
	run grep -c quota "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 1 ]
	run "$SPOTENV" show --format text "$BATS_TEST_TMPDIR/p.json"
	[ "$status" -eq 0 ]
	[[ "$output" != *"SPOT QUOTA"* ]]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
}

@test "plan --check: a DescribeAccountQuota that fails is a warning; the plan goes on as usual" {
	# the emulator's account without the action answers UnsupportedOperation
	sim_ctl faults --account-quota-unsupported on >/dev/null
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: the spot quota is unknown: "*"DescribeAccountQuota"*"(UnsupportedOperation)"* ]]
	[[ "$output" != *"SPOT QUOTA"* ]]
	[[ "${lines[0]}" == "env web "* ]]
	[[ "$output" == *"[dry run ok]"* ]]
	[ "${lines[-1]}" = "Plan: 3 to launch, 0 to release, 0 to replace." ]
	[ "$(sim_stat errors.UnsupportedOperation)" -ge 1 ]
	# the usual exit codes: 2 for changes with --detailed-exitcode ...
	run --separate-stderr "$SPOTENV" plan --check --detailed-exitcode "$(fx_web_capacity 3)"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"the spot quota is unknown"* ]]
	# ... a saved plan bound to the endpoint alone ...
	run --separate-stderr "$SPOTENV" plan --check -o "$BATS_TEST_TMPDIR/p.json" "$(fx_web_capacity 3)"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"the spot quota is unknown"* ]]
	[[ "$stderr" == *"the account could not be learned"* ]]
	[ "$(json_get summary.to_launch <"$BATS_TEST_TMPDIR/p.json")" = 3 ]
	# ... and 3 when a dry run is refused
	sim_ctl pool --zone ap-guangzhou-3 --type S5.MEDIUM4 --stock 1 >/dev/null
	run --separate-stderr "$SPOTENV" plan --check "$(fx_web_capacity 3)"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"the spot quota is unknown"* ]]
	[[ "$output" == *"[dry run failed: ResourceInsufficient.SpecifiedInstanceType"* ]]
	[ "$(sim_stat launched)" -eq 0 ]
}
