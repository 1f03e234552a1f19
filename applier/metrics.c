/*
 * metrics.c - figures about an apply that are worth a gauge, computed from
 * the plan and the outcome alone (pure: no I/O, no clock).
 *
 * Why here: what counts as active after an apply is the applier's
 * knowledge (which releases took active instances, what a launch adds
 * when apply did or did not wait), not the command layer's.
 */
#include "../util/setup.h"
#include "apply.h"

int apply_active_after(const struct plan_env *env, const struct apply_env_result *er,
		       bool waited)
{
	int failed = 0, released, active;

	/* failed instances were never active: releasing them takes nothing away */
	for (size_t k = 0; k < env->nreleases; k++)
		if (env->releases[k].reason == PLAN_REASON_FAILED)
			failed++;
	released = er->released > failed ? er->released - failed : 0;
	active = env->active + (waited ? er->running : er->launched) - released;
	return active > 0 ? active : 0;
}
