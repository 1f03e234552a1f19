/*
 * apply.h - the applier: observing the cloud and carrying out a plan.
 *
 * The third stage after specs/ (parse) and planner/ (pure diff): these
 * functions talk to the CVM API through the seam in cloud.h (tc_client in
 * production, the emulator's in-process handler in unit tests).  They never
 * print: progress goes through a callback, outcomes into struct
 * apply_result.
 *
 *	struct plan_observed obs = PLAN_OBSERVED_INIT;
 *	const struct apply_cloud *cloud = APPLY_CLOUD_TC(client);
 *	apply_observe(&obs, cloud, &specs, envs, nenvs, true, &e);
 *	plan_make(&plan, &in, &e);
 *	apply_run(&res, cloud, plan, &opts, &e);
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
#include "cloud.h"

/*
 * Observe the regions of the selected environments (envs NULL/0 = all):
 * one paginated DescribeInstances per region for instances carrying
 * spotenv:env (pages fetched concurrently by the provider), and when
 * offers is true the SPOTPAID offers of every pool's zone and type.
 * Appends to out (regions recorded, observed_at set).
 */
int apply_observe(struct plan_observed *out, const struct apply_cloud *cloud,
		  const struct spec_set *specs, const char *const *envs, size_t nenvs,
		  bool offers, struct err *e);

/*
 * Observe what a saved plan was made from: the regions of its
 * environments, instances only (no offers), for the stale check.
 */
int apply_observe_plan(struct plan_observed *out, const struct apply_cloud *cloud,
		       const struct plan *p, struct err *e);

/*
 * Dry-run every launch of p with RunInstances DryRun=true and record the
 * outcome on each launch (plan_launch_set_check).  Fails only on errors
 * that are not about the launch itself (auth, network).
 */
int apply_check_launches(struct plan *p, const struct apply_cloud *cloud, struct err *e);

/*
 * Hold a saved plan's releases to the live world obs (observed just now):
 * each must be an instance carrying the spotenv:env and spotenv:scope tags
 * of the environment that releases it, in a scope of the plan and in the
 * release's region.  Returns 0, or ERR_INVALID with one line per violation
 * in why (quoting names from the file: escape before printing).  Together
 * with plan_check() this is what makes applying an edited plan safe.
 */
int apply_verify_plan(const struct plan *p, const struct plan_observed *obs,
		      struct buf *why);

/* The spot quota of zones, by region (quota.c). */
struct apply_quota {
	struct apply_quota_row {
		char *region;
		struct tc_spot_quota
			row; /* zone, used, remaining, total (vCPU; -1 unknown) */
	} * v;
	size_t n, alloc;
	char *app_id; /* the account's AppId, or NULL */
};

/*
 * Ask each region for its spot quota per zone (DescribeAccountQuota),
 * appending to out.  A failure is for the caller to show as a warning.
 * Clear out with apply_quota_clear either way.
 */
int apply_spot_quota(struct apply_quota *out, const struct apply_cloud *cloud,
		     const char *const *regions, size_t nregions, struct err *e);
/*
 * The same for the regions of p's environments that have pools (each
 * region asked once): what status and plan --check show.
 */
int apply_spot_quota_plan(struct apply_quota *out, const struct apply_cloud *cloud,
			  const struct plan *p, struct err *e);
void apply_quota_clear(struct apply_quota *q);

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
	int to_launch;	/* instances the plan launches (replacements included) */
	int to_release; /* instances the plan releases */
};

struct apply_progress {
	/*
	 * "releasing", "launching", "waiting" (for RUNNING), "waiting for
	 * tags" (every launch runs; DescribeInstances lists the tags of new
	 * instances late, and spotenv waits until it does, so the next run
	 * sees them as its own), "done"
	 */
	const char *phase;
	int64_t elapsed_ms;
	const struct apply_progress_env *envs;
	size_t nenvs;
};

struct apply_memo;

struct apply_opts {
	bool wait; /* wait for RUNNING and tags (default true) */
	/*
	 * Where token chains ended on this machine (memo.c), read and updated
	 * by apply_run; NULL = none (chains are walked from their start).
	 */
	struct apply_memo *memo;
	int64_t wait_timeout_ms; /* 0 = 10 minutes */
	int64_t poll_ms;	 /* 0 = 2000 */
	/* Called after every phase and every poll; may be NULL. */
	void (*progress)(void *ctx, const struct apply_progress *p);
	void *progress_ctx;
};

/* What happened to one environment. */
struct apply_env_result {
	char *env;
	int desired;
	int launched;	   /* instances RunInstances returned */
	int running;	   /* of those, RUNNING when apply stopped waiting */
	int launch_failed; /* of those, LAUNCH_FAILED */
	int launch_gone;   /* of those, reclaimed or terminated before RUNNING */
	int released;	   /* instances the API accepted to terminate */
	int refused;	   /* releases the API refused (protected, state): see reasons */
	int short_by;	   /* instances still missing (capacity, failures) */
	bool converged;
	bool error; /* stopped by a non-capacity error */
	/* Why it is short or stopped: one line per cause, e.g.
	 * "ap-guangzhou-3/S5.MEDIUM4: ResourceInsufficient.SpecifiedInstanceType
	 * (RequestId r-1)" */
	char **reasons;
	size_t nreasons, reasons_alloc;
	bool capacity_short; /* short only because of capacity (retryable) */
	int drift_left;	     /* drifted instances the plan left for later applies */
	int excess_left;     /* excess instances not terminable yet (PENDING, ...) */
	bool release_left;   /* destroy/prune: instances left until they can be terminated
			      */
};

struct apply_result {
	struct apply_env_result *envs; /* in plan order */
	size_t nenvs;
	int launched, released;
	int converged;	     /* environments converged */
	int chain_steps;     /* relaunch rounds for tokens that returned gone instances */
	int relaunched;	     /* instances launched again in those rounds */
	int memo_jumps;	     /* launches that started where the memo said */
	char **launched_ids; /* every id launched, for callers and tests */
	size_t nlaunched_ids, launched_ids_alloc;
};

/*
 * Carry out p.  Returns 0 when every call went through (environments may
 * still be short: see res), or a negative code when apply had to stop
 * (auth failure, network failure after retries); res is filled as far as
 * apply got either way and must be cleared.
 */
int apply_run(struct apply_result *res, const struct apply_cloud *cloud,
	      const struct plan *p, const struct apply_opts *opts, struct err *e);
void apply_result_clear(struct apply_result *res);

/* What apply_run saw of one environment when it stopped (apply_outcome). */
struct apply_env_facts {
	int running, pending, failed, gone; /* launched instances by last state */
	bool waited;			    /* apply waited for its launches */
	bool stopped;	 /* a non-capacity error stopped the environment */
	bool run_failed; /* apply as a whole stopped with an error */
	bool destroy;	 /* the plan is a destroy plan */
	const bool
		*released; /* per release of env: terminated by this run; NULL = none */
};

/*
 * Fill in er's outcome from env (its plan) and f: the launch counts, why it
 * is short (launches reclaimed before running, LAUNCH_FAILED, still pending
 * at the wait timeout, capacity the plan could not place), drifted
 * instances kept or left for later applies, and er->converged.  Pure: no
 * I/O; er->short_by, error and reasons may already hold what the launch
 * phase found, and are added to.
 */
void apply_outcome(struct apply_env_result *er, const struct plan_env *env,
		   const struct apply_env_facts *f);

/* ---------------------------------------------------------------------
 * The token-chain memo (memo.c, docs/idempotency.md): a cache of where each
 * launch token's chain ended, so that a basis that keeps returning costs
 * one step, not one per past return.  Losing it costs time, never money.
 */
struct apply_memo_entry {
	char origin[TC_MAX_CLIENT_TOKEN + 1]; /* the plan's (or fallback) token */
	char token[TC_MAX_CLIENT_TOKEN + 1];  /* the chain's last token */
	char **ids;			      /* what that token returned, sorted */
	size_t nids;
	int64_t at; /* Unix seconds when recorded */
};

/*
 * Read the memo at path (a missing file is an empty memo; entries that do
 * not check out, or are older than a week, are dropped).  *out is set
 * even on error; free it with apply_memo_free.
 */
int apply_memo_load(struct apply_memo **out, const char *path, int64_t now_s,
		    struct err *e);
const struct apply_memo_entry *apply_memo_find(const struct apply_memo *m,
					       const char *origin);
void apply_memo_put(struct apply_memo *m, const char *origin, const char *token,
		    const char *const *ids, size_t nids, int64_t now_s);
/* Write it back (0600, atomically) when it changed. */
int apply_memo_save(struct apply_memo *m, const char *path, struct err *e);
void apply_memo_free(struct apply_memo *m);

/* ---------------------------------------------------------------------
 * Converging: rounds of plan and apply (--until-converged).
 */

/* Only capacity shortness (and failed launches) is worth another round. */
bool apply_result_retryable(const struct apply_result *r);
/*
 * Every environment left is only waiting for the next step of a rollout,
 * and this round made a step (so going on at once cannot spin).
 */
bool apply_result_rollout_only(const struct apply_result *r);

enum apply_next {
	APPLY_NEXT_STOP,    /* converged, not worth another round, or out of time */
	APPLY_NEXT_ROLLOUT, /* the next rollout step, at once */
	APPLY_NEXT_BACKOFF, /* capacity short: again after *pause_ms */
};

/*
 * What follows a round that ended with r: with until false, always STOP;
 * backoffs is the number of BACKOFF pauses so far (the pause doubles from
 * 2 s to 30 s); a round never starts past deadline_ms.  Pure.
 */
enum apply_next apply_next_round(const struct apply_result *r, bool until, int backoffs,
				 int64_t now_ms, int64_t deadline_ms, int64_t *pause_ms);

/* Launched and released over every round, per environment. */
struct apply_total {
	char *env;
	int launched, released;
};

struct apply_converge_opts {
	int64_t until_ms;	 /* keep going this long; 0 = one round */
	struct apply_opts apply; /* each round's apply_run options */
	/*
	 * Make round n's plan (n from 1) into *out (owned by the loop
	 * afterwards): observe and plan, or a saved plan checked against the
	 * world.  Nonzero stops the loop and is returned as is.
	 */
	int (*plan)(void *ctx, int round, struct plan **out);
	/*
	 * Before acting on round n's plan (show it, ask for approval, refuse
	 * a plan with errors); nonzero stops the loop and is returned.  May be
	 * NULL.
	 */
	int (*approve)(void *ctx, int round, const struct plan *p);
	/* Between rounds: what comes next and its pause; may be NULL. */
	void (*between)(void *ctx, enum apply_next next, const struct apply_result *r,
			int64_t pause_ms);
	void *ctx;
};

struct apply_converge_result {
	struct plan *plan;	 /* the last round's plan, or NULL */
	struct apply_result res; /* the last round's result (when have_result) */
	bool have_result;
	int rounds;
	int launched, released; /* over every round */
	struct apply_total *totals;
	size_t ntotals, totals_alloc;
};

/*
 * Plan and apply in rounds until converged, not worth another round, or
 * past o->until_ms (one round when it is 0), sleeping on cloud's clock
 * between rounds.  Returns 0 when the last round ran (cv->res says how it
 * went), a callback's nonzero value, or apply_run's negative error (e
 * set).  Clear cv with apply_converge_result_clear either way.
 */
int apply_converge(struct apply_converge_result *cv, const struct apply_cloud *cloud,
		   const struct apply_converge_opts *o, struct err *e);
/* The totals of env over every round, or NULL. */
const struct apply_total *apply_converge_total(const struct apply_converge_result *cv,
					       const char *env);
void apply_converge_result_clear(struct apply_converge_result *cv);

/* ---------------------------------------------------------------------
 * Metrics (metrics.c): figures about an apply for gauges.  Pure.
 */

/*
 * Active instances of env once apply is done with it: the plan's active
 * count, plus the launches that are RUNNING (waited) or every launch
 * (--no-wait: waited false), less the releases other than of failed
 * instances (those were never active).  Never negative.
 */
int apply_active_after(const struct plan_env *env, const struct apply_env_result *er,
		       bool waited);

#endif
