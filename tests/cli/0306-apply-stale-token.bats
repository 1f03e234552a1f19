#!/usr/bin/env bats
# ClientTokens depend only on what was observed, so a world that comes back
# to an earlier basis gets an earlier token back: an environment whose every
# instance was reclaimed and has vanished has the empty basis of its first
# launch, and the API answers that launch's token with the long-gone
# instances.  apply notices (the ids are never listed) and launches again
# with a token derived from the stale one and the ids it returned.  These
# tests walk that chain from its start, as a runner on another machine
# would (no token memo: a fresh SPOTENV_STATE_DIR for every apply);
# 0307 covers the memo.

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

token_of() { # SPEC: the first launch's client token in a fresh plan
	"$SPOTENV" plan "$1" --format json | python3 -c '
import json, sys
p = json.load(sys.stdin)
print([l["client_token"] for e in p["environments"] for l in e.get("launches", [])][0])'
}

no_memo() { # a fresh state directory: this apply has no memo
	export SPOTENV_STATE_DIR=$BATS_TEST_TMPDIR/state-$RANDOM$RANDOM
}

@test "stale token: an environment reclaimed to nothing comes back, twice" {
	spec=$(fx_spec web.yaml)
	first=$(token_of "$spec")
	no_memo
	fx_apply "$spec"
	[ "$(live_count web)" -eq 3 ]
	gen1=$(live_ids web)

	# everything reclaimed and gone: the plan has the first launch's token
	sim_ctl reclaim --count 3 --env web >/dev/null
	sim_settle
	[ "$(live_count web)" -eq 0 ]
	[ "$(token_of "$spec")" = "$first" ]

	no_memo
	run --separate-stderr "$SPOTENV" apply --auto-approve -q --poll-interval 100ms "$spec"
	[ "$status" -eq 0 ]
	[ "$output" = "Apply complete: 3 launched, 0 released. 1/1 environments converged." ]
	[ "$(live_count web)" -eq 3 ]
	gen2=$(live_ids web)
	[ "$gen1" != "$gen2" ]
	# the stale call, then the relaunch with a derived token
	[ "$(sim_stat requests.RunInstances)" -eq 3 ]
	[ "$(sim_stat launched)" -eq 6 ]

	# and again: the first token returns generation 1, the derived token
	# generation 2, both gone; the chain goes one step further
	sim_ctl reclaim --count 3 --env web >/dev/null
	sim_settle
	no_memo
	fx_apply "$spec"
	[ "$(live_count web)" -eq 3 ]
	gen3=$(live_ids web)
	[ "$gen3" != "$gen1" ]
	[ "$gen3" != "$gen2" ]
	[ "$(sim_stat launched)" -eq 9 ]
}

@test "stale token: a plain re-apply with instances alive launches nothing" {
	spec=$(fx_spec web.yaml)
	fx_apply "$spec"
	fx_apply "$spec"
	[ "$(live_count web)" -eq 3 ]
	[ "$(sim_stat launched)" -eq 3 ]
	[ "$(sim_stat requests.RunInstances)" -eq 1 ]
}
