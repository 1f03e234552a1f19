/*
 * converge.c - the --until-converged loop: plan, apply, and try again while
 * what is left is worth another round.
 *
 * Why here and not in cmd/: which outcomes are worth another round, and
 * how long to wait before it, are decisions about the cloud (capacity comes
 * back, a rollout goes on in steps), not about the terminal.  The command
 * supplies the plan of each round and the approval; this file decides.
 */
#include "../util/setup.h"
#include "../util/retry.h"
#include "apply_int.h"

/*
 * Between rounds that were short of capacity: 2 s, doubling to 30 s, no
 * jitter (one runner per scope holds the lock), until the deadline the
 * user gave; a round never starts when its pause would end past it.
 */
static const struct retry apply_converge_retry = { 0, 2000, 30000, false, 0 };

bool apply_result_retryable(const struct apply_result *r)
{
	for (size_t i = 0; i < r->nenvs; i++)
		if (!r->envs[i].converged && r->envs[i].error)
			return false;
	return true;
}

bool apply_result_rollout_only(const struct apply_result *r)
{
	for (size_t i = 0; i < r->nenvs; i++)
		if (!r->envs[i].converged &&
		    (r->envs[i].short_by || !r->envs[i].drift_left ||
		     !r->envs[i].released))
			return false;
	return true;
}

enum apply_next apply_next_round(const struct apply_result *r, bool until, int backoffs,
				 int64_t now_ms, int64_t deadline_ms, int64_t *pause_ms)
{
	struct retry policy = apply_converge_retry;

	*pause_ms = 0;
	if ((size_t)r->converged == r->nenvs || !until || !apply_result_retryable(r))
		return APPLY_NEXT_STOP;
	if (apply_result_rollout_only(r))
		return now_ms > deadline_ms ? APPLY_NEXT_STOP : APPLY_NEXT_ROLLOUT;
	policy.deadline_ms = deadline_ms;
	if (!retry_again(&policy, backoffs + 1, now_ms, pause_ms, NULL))
		return APPLY_NEXT_STOP;
	return APPLY_NEXT_BACKOFF;
}

static struct apply_total *apply_total_for(struct apply_converge_result *cv,
					   const char *env)
{
	for (size_t i = 0; i < cv->ntotals; i++)
		if (!strcmp(cv->totals[i].env, env))
			return &cv->totals[i];
	ALLOC_GROW(cv->totals, cv->ntotals + 1, cv->totals_alloc);
	memset(&cv->totals[cv->ntotals], 0, sizeof(cv->totals[cv->ntotals]));
	cv->totals[cv->ntotals].env = xstrdup(env);
	return &cv->totals[cv->ntotals++];
}

const struct apply_total *apply_converge_total(const struct apply_converge_result *cv,
					       const char *env)
{
	for (size_t i = 0; i < cv->ntotals; i++)
		if (!strcmp(cv->totals[i].env, env))
			return &cv->totals[i];
	return NULL;
}

static void apply_add_totals(struct apply_converge_result *cv,
			     const struct apply_result *r)
{
	for (size_t i = 0; i < r->nenvs; i++) {
		struct apply_total *t = apply_total_for(cv, r->envs[i].env);

		t->launched += r->envs[i].launched;
		t->released += r->envs[i].released;
		cv->launched += r->envs[i].launched;
		cv->released += r->envs[i].released;
	}
}

int apply_converge(struct apply_converge_result *cv, const struct apply_cloud *cloud,
		   const struct apply_converge_opts *o, struct err *e)
{
	int64_t start = cloud->ops->now_ms(cloud->ctx);
	int64_t deadline = o->until_ms ? start + o->until_ms : 0;
	int backoffs = 0, ret = 0;

	for (;;) {
		enum apply_next next;
		int64_t pause = 0;

		cv->rounds++;
		plan_free(cv->plan);
		cv->plan = NULL;
		if ((ret = o->plan(o->ctx, cv->rounds, &cv->plan)) != 0)
			break;
		if (o->approve && (ret = o->approve(o->ctx, cv->rounds, cv->plan)) != 0)
			break;
		apply_result_clear(&cv->res);
		cv->have_result = true;
		ret = apply_run(&cv->res, cloud, cv->plan, &o->apply, e);
		apply_add_totals(cv, &cv->res);
		if (ret)
			break;
		next = apply_next_round(&cv->res, o->until_ms > 0, backoffs,
					cloud->ops->now_ms(cloud->ctx), deadline, &pause);
		if (next == APPLY_NEXT_STOP)
			break;
		if (o->between)
			o->between(o->ctx, next, &cv->res, pause);
		if (next == APPLY_NEXT_BACKOFF) {
			backoffs++;
			cloud->ops->sleep_ms(cloud->ctx, pause);
		}
	}
	return ret;
}

void apply_converge_result_clear(struct apply_converge_result *cv)
{
	if (!cv)
		return;
	plan_free(cv->plan);
	apply_result_clear(&cv->res);
	for (size_t i = 0; i < cv->ntotals; i++)
		free(cv->totals[i].env);
	free(cv->totals);
	memset(cv, 0, sizeof(*cv));
}
