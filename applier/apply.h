/*
 * apply.h - observing the cloud and carrying out a plan.
 *
 * This is the I/O half of planner/: plan.h is pure, these functions talk
 * to the CVM API through provider/.  They never print: progress goes
 * through a callback, outcomes into struct apply_result.
 *
 *	struct plan_observed obs = PLAN_OBSERVED_INIT;
 *	apply_observe(&obs, client, &specs, envs, nenvs, true, &e);
 *	plan_make(&plan, &in, &e);
 *	apply_run(&res, client, plan, &opts, &e);
 *	... report res ...
 *	apply_result_clear(&res);
 *
 * Apply order (design section 6), per environment: release failed (and
 * orphaned/destroyed) instances; launch per pool in chunks of at most 100
 * with the plan's deterministic ClientTokens, moving the remainder to the
 * next usable pool on a capacity error; wait until launched instances are
 * RUNNING (or LAUNCH_FAILED) and their tags are visible; then release
 * drifted and excess instances, drifted ones only as far as replacements
 * are running plus maxUnavailable.  Environments proceed together: every
 * phase batches the calls of all environments through tc_call_many, which
 * keeps --parallelism requests in flight within the rate limits.
 */
#ifndef SPOTENV_APPLY_H
#define SPOTENV_APPLY_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../provider/tc.h"
#include "../specs/spec.h"
#include "../planner/plan.h"

/*
 * Observe the regions of the selected environments (envs NULL/0 = all):
 * one paginated DescribeInstances per region for instances carrying
 * spotenv:env (pages fetched concurrently by the provider), and when
 * offers is true the SPOTPAID offers of every pool's zone and type.
 * Appends to out (regions recorded, observed_at set).
 */
int apply_observe(struct plan_observed *out, struct tc_client *c,
		  const struct spec_set *specs, const char *const *envs, size_t nenvs,
		  bool offers, struct err *e);

/*
 * Observe what a saved plan was made from: the regions of its
 * environments, instances only (no offers), for the stale check.
 */
int apply_observe_plan(struct plan_observed *out, struct tc_client *c, const struct plan *p,
		       struct err *e);

/*
 * Dry-run every launch of p with RunInstances DryRun=true and record the
 * outcome on each launch (plan_launch_set_check).  Fails only on errors
 * that are not about the launch itself (auth, network).
 */
int apply_check_launches(struct plan *p, struct tc_client *c, struct err *e);

/* Live counts of one environment while apply waits. */
struct apply_progress_env {
	const char *env;
	int desired;
	int running;  /* launched and RUNNING */
	int pending;  /* launched, not yet RUNNING */
	int failed;   /* launched, LAUNCH_FAILED */
	int gone;     /* launched, then reclaimed or terminated before RUNNING */
	int launched; /* instances RunInstances returned */
	int released;
};

struct apply_progress {
	const char *phase; /* "releasing", "launching", "waiting", "tags", "done" */
	int64_t elapsed_ms;
	const struct apply_progress_env *envs;
	size_t nenvs;
};

struct apply_opts {
	bool wait;               /* wait for RUNNING and tags (default true) */
	int64_t wait_timeout_ms; /* 0 = 10 minutes */
	int64_t poll_ms;         /* 0 = 2000 */
	/* Called after every phase and every poll; may be NULL. */
	void (*progress)(void *ctx, const struct apply_progress *p);
	void *progress_ctx;
};

/* What happened to one environment. */
struct apply_env_result {
	char *env;
	int desired;
	int launched;       /* instances RunInstances returned */
	int running;        /* of those, RUNNING when apply stopped waiting */
	int launch_failed;  /* of those, LAUNCH_FAILED */
	int launch_gone;    /* of those, reclaimed or terminated before RUNNING */
	int released;
	int short_by;       /* instances still missing (capacity, failures) */
	bool converged;
	bool error;         /* stopped by a non-capacity error */
	/* Why it is short or stopped: one line per cause, e.g.
	 * "ap-guangzhou-3/S5.MEDIUM4: ResourceInsufficient.SpecifiedInstanceType (RequestId r-1)" */
	char **reasons;
	size_t nreasons, reasons_alloc;
	bool capacity_short; /* short only because of capacity (retryable) */
	int drift_left;      /* drifted instances the plan left for later applies */
};

struct apply_result {
	struct apply_env_result *envs; /* in plan order */
	size_t nenvs;
	int launched, released;
	int converged; /* environments converged */
	char **launched_ids; /* every id launched, for callers and tests */
	size_t nlaunched_ids, launched_ids_alloc;
};

/*
 * Carry out p.  Returns 0 when every call went through (environments may
 * still be short: see res), or a negative code when apply had to stop
 * (auth failure, network failure after retries); res is filled as far as
 * apply got either way and must be cleared.
 */
int apply_run(struct apply_result *res, struct tc_client *c, const struct plan *p,
	      const struct apply_opts *opts, struct err *e);
void apply_result_clear(struct apply_result *res);

#endif
