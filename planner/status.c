/*
 * status.c - what `spotenv status` shows: the observed instances of each
 * environment and pool by state, and one word for where the environment
 * stands.
 *
 * Why in the planner: status answers "are we at capacity?" with the same
 * classes the planner plans with (plan_state_class), so the two can never
 * disagree about what counts as active, failed or leaving.  Pure: no I/O.
 */
#include "../util/setup.h"
#include "plan.h"
#include "plan_internal.h"

/* Whether in is one of env's instances (and in pool, when given). */
static bool plan_status_owns(const struct tc_instance *in, const struct plan_env *env,
			     const struct plan_pool *pool)
{
	const char *name = tc_instance_tag(in, PLAN_TAG_ENV);
	const char *scope = tc_instance_tag(in, PLAN_TAG_SCOPE);

	if (!name || plan_strcmp0(name, env->name) || !scope ||
	    plan_strcmp0(scope, env->scope))
		return false;
	if (!pool)
		return true;
	return in->zone && !plan_strcmp0(in->zone, pool->zone) && in->type &&
	       !plan_strcmp0(in->type, pool->type);
}

void plan_status_counts(struct plan_status_counts *out, const struct plan_observed *obs,
			const struct plan_env *env, const struct plan_pool *pool)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < obs->instances.n; i++) {
		const struct tc_instance *in = &obs->instances.v[i];

		if (!plan_status_owns(in, env, pool))
			continue;
		switch (plan_state_class(in->state, NULL)) {
		case PLAN_STATE_ACTIVE:
			if (in->state && !strcmp(in->state, "RUNNING"))
				out->running++;
			else
				out->pending++; /* PENDING, STARTING, REBOOTING, unusual
						 */
			break;
		case PLAN_STATE_FAILED:
			out->failed++;
			break;
		case PLAN_STATE_LEAVING:
			out->leaving++;
			break;
		}
	}
}

const char *plan_env_state(const struct plan_env *env)
{
	if (env->status == PLAN_STATUS_CONVERGED)
		return "converged";
	if (env->status == PLAN_STATUS_ERROR)
		return "error";
	if (env->active < env->desired)
		return "short";
	if (env->active > env->desired)
		return "over";
	return "drifted";
}
