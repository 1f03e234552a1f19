/*
 * outcome.c - what apply did to one environment, and whether it is
 * converged: a pure function of the plan and of what apply_run saw.
 */
#include "../util/setup.h"
#include "apply_int.h"

void apply_outcome(struct apply_env_result *er, const struct plan_env *env,
		   const struct apply_env_facts *f)
{
	int planned_drift = 0, released_drift = 0, excess = 0;

	er->running = f->running;
	er->launch_failed = f->failed;
	er->launch_gone = f->gone;
	if (f->waited) {
		int pending = f->pending;

		if (er->launch_gone) {
			er->short_by += er->launch_gone;
			apply_env_reason(
				er, "%d launched instance%s reclaimed before running",
				er->launch_gone,
				er->launch_gone == 1 ? " was" : "s were");
		}
		if (er->launch_failed) {
			er->short_by += er->launch_failed;
			apply_env_reason(er, "%d launched instance%s ended LAUNCH_FAILED",
					 er->launch_failed,
					 er->launch_failed == 1 ? "" : "s");
		}
		if (pending) {
			er->short_by += pending;
			apply_env_reason(
				er, "%d instance%s still pending when the wait timed out",
				pending, pending == 1 ? "" : "s");
		}
	}
	for (size_t k = 0; k < env->nreleases; k++) {
		if (env->releases[k].reason == PLAN_REASON_DRIFT) {
			planned_drift++;
			released_drift += f->released && f->released[k];
		}
		if (env->releases[k].reason == PLAN_REASON_EXCESS)
			excess++;
	}
	/*
	 * Drifted instances the plan leaves for later applies (excess
	 * releases take drifted instances first): the environment is
	 * not at its desired shape yet.
	 */
	if (!f->destroy && !env->orphan && env->status != PLAN_STATUS_ERROR)
		er->drift_left = env->drifted - planned_drift - excess;
	if (er->drift_left < 0)
		er->drift_left = 0;
	/*
	 * Over capacity after the planned releases: excess instances the API
	 * could not terminate yet (PENDING, STARTING); a later apply does.
	 */
	if (!f->destroy && !env->orphan && env->status != PLAN_STATUS_ERROR)
		er->excess_left = env->active - excess - planned_drift - env->desired;
	if (er->excess_left < 0 || er->drift_left)
		er->excess_left = 0;
	/*
	 * Short at plan time: capacity the pools could not take (the
	 * plan's warnings say why).  A plan short only of drift that no
	 * pool can replace is reported with drift_left below.
	 */
	if (env->status == PLAN_STATUS_SHORT && !er->short_by &&
	    env->desired - env->active - env->to_launch > 0) {
		er->short_by = env->desired - env->active - env->to_launch;
		er->capacity_short = true;
		for (size_t k = 0; k < env->nwarnings; k++)
			apply_env_reason(er, "%s", env->warnings[k]);
	}
	/*
	 * A destroy or prune that had to leave instances the API cannot
	 * terminate yet (PENDING, ...): the plan's warnings say so.
	 */
	if ((f->destroy || env->orphan) && env->status == PLAN_STATUS_SHORT &&
	    !er->error) {
		er->release_left = true;
		for (size_t k = 0; k < env->nwarnings; k++)
			apply_env_reason(er, "%s", env->warnings[k]);
	}
	er->converged = !f->run_failed && !er->error && !f->stopped && !er->excess_left &&
			!er->release_left && !er->refused && er->short_by == 0 &&
			released_drift >= planned_drift && !er->drift_left;
	if (er->excess_left && !er->error && !f->destroy && !env->orphan)
		apply_env_reason(
			er,
			"%d excess instance%s not released yet (not running: the API "
			"cannot terminate %s now)",
			er->excess_left, er->excess_left == 1 ? "" : "s",
			er->excess_left == 1 ? "it" : "them");
	if (planned_drift > released_drift && !er->error)
		apply_env_reason(er, "%d drifted instance%s kept until replacements run",
				 planned_drift - released_drift,
				 planned_drift - released_drift == 1 ? "" : "s");
	if (er->drift_left && !er->error && planned_drift) {
		apply_env_reason(er,
				 "%d drifted instance%s left for later applies "
				 "(maxSurge %d + maxUnavailable %d at a time)",
				 er->drift_left, er->drift_left == 1 ? "" : "s",
				 env->max_surge, env->max_unavailable);
	} else if (er->drift_left && !er->error) {
		/*
		 * nothing could be replaced: the plan's warnings say
		 * why ("N drifted instances not replaced: ...")
		 */
		for (size_t k = 0; k < env->nwarnings; k++)
			apply_env_reason(er, "%s", env->warnings[k]);
	}
}
