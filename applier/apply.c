/*
 * apply.c - observe the cloud, dry-run launches, and carry out a plan.
 *
 * Why this shape: apply spends money and deletes machines, so every step
 * is driven by the plan (never by a re-computation here), launches carry
 * the plan's deterministic ClientTokens (a retry, a re-run after a crash,
 * or two identical applies get the original instances back instead of new
 * ones), and only instances listed in the plan are ever terminated.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "../util/retry.h"
#include "../planner/token.h"
#include "apply_int.h"

#include <cjson/cJSON.h>

#define TAG_KEY_FILTER APPLY_TAG_KEY_FILTER
/*
 * The applier's retry policies (util/retry.h).
 *
 * A launch or release call that still fails in a way that passes after the
 * provider's own retries (throttling, InternalError, the network) is made
 * again up to 4 times in all, 1 s apart: the API's rate limits count per
 * second, and a launch repeats its ClientToken, so it never pays twice.
 */
static const struct retry apply_call_retry = { 4, 1000, 0, false, 0 };
/*
 * A capacity error is an answer, not a failure: the remainder moves to the
 * next usable pool at once, one try per pool (at most the 20 pools a spec
 * may list), never twice to the same pool.
 */
static const struct retry apply_fallback_retry = { 20, 0, 0, false, 0 };
/*
 * Waiting polls every poll interval; 5 failed polls in a row (each after
 * the provider's retries) mean the API is gone, and waiting stops.
 */
static const struct retry apply_poll_retry = { 5, 0, 0, false, 0 };
/*
 * Relaunching for tokens that returned long-gone instances: as many steps
 * of the token chain as it takes (a returning basis must never strand an
 * environment), each after the wait of the previous one, until the wait's
 * deadline (--wait-timeout from the start of waiting).
 */
static const struct retry apply_relaunch_retry = { 0, 0, 0, false, 0 };

/* ------------------------------------------------------------------ */
/* Execution state */

/* One RunInstances to make (the plan's launch, or a fallback of it). */
struct task {
	size_t env; /* index into plan envs / result envs */
	int pool;   /* pool index (spec order) */
	int count;
	bool replace;
	int hop;   /* 0 = as planned, n = n-th fallback */
	int tries; /* calls made for this task (throttled, transient) */
	char token[TC_MAX_CLIENT_TOKEN + 1];
	char stale[TC_MAX_CLIENT_TOKEN + 1];  /* relaunch: the token it replaces */
	char origin[TC_MAX_CLIENT_TOKEN + 1]; /* the token its chain started from */
	char base[TC_MAX_CLIENT_TOKEN + 1];   /* its token when it reached this pool */
	int rest;	 /* more to place in this pool after this call (partial stock) */
	int step;	 /* smaller tries made in this pool so far */
	const char *bid; /* SpotOptions.MaxPrice as the plan shows it (borrowed) */
	struct tc_tag *tags; /* owned */
	size_t ntags;
};

struct launched {
	char *id;
	size_t env;
	int pool;			      /* pool index it was launched in */
	char token[TC_MAX_CLIENT_TOKEN + 1];  /* the ClientToken that returned it */
	char origin[TC_MAX_CLIENT_TOKEN + 1]; /* the token its chain started from */
	const char *bid; /* the bid it was launched with (borrowed from the plan) */
	bool replace;
	char *state; /* last seen; "GONE" once it vanished */
	bool tagged; /* seen through the tag filter */
	bool seen;   /* seen by a describe at least once */
	int missing; /* polls in a row that did not return it */
};

struct run {
	const struct plan *p;
	const struct apply_cloud *cloud;
	const struct apply_opts *o;
	struct apply_result *res;
	struct apply_progress_env *prog;
	bool *stopped; /* per env: a non-capacity error stopped it */
	bool **gone;   /* per env, per release: terminated by this run */
	int **tried;   /* per env: pools already tried (by index) */
	size_t *ntried;
	struct launched *l;
	size_t nl, lalloc;
	int64_t start;
	int64_t wait_deadline;	 /* set by the first wait */
	const char **quota_full; /* zones whose spot quota is used up (borrowed) */
	size_t nquota_full, quota_full_alloc;
};

static int64_t now_ms(const struct run *run)
{
	return run->cloud->ops->now_ms(run->cloud->ctx);
}

static void sleep_ms(const struct run *run, int64_t ms)
{
	run->cloud->ops->sleep_ms(run->cloud->ctx, ms);
}

/*
 * Errors that outlasted the provider's retries but may well pass a moment
 * later (throttling, InternalError, the network): a status poll asks again
 * next time, and a launch or release is tried again after a pause (a
 * launch with its ClientToken, so never twice).
 */
static bool poll_error_passes(const struct err *e)
{
	return e->cls == ERR_CLASS_THROTTLED || e->cls == ERR_CLASS_TRANSIENT ||
	       e->code == ERR_NET;
}

static void report(struct run *run, const char *phase)
{
	struct apply_progress pr;

	if (!run->o || !run->o->progress)
		return;
	pr.phase = phase;
	pr.elapsed_ms = now_ms(run) - run->start;
	pr.envs = run->prog;
	pr.nenvs = run->p->nenvs;
	run->o->progress(run->o->progress_ctx, &pr);
}

/* What became of one id sent to TerminateInstances. */
enum term_status {
	TERM_PENDING = 0, /* not settled yet */
	TERM_RELEASED,	  /* the API accepted it */
	TERM_GONE,	  /* already terminating or gone: nothing to do */
	TERM_REFUSED,	  /* the API refused it (protected, wrong state, ...) */
};

/* Refusals that name instances already on their way out. */
static bool term_code_gone(const char *code)
{
	return code && (!strcmp(code, "InvalidInstanceId.NotFound") ||
			!strcmp(code, "UnsupportedOperation.InstanceStateTerminating") ||
			!strcmp(code, "UnsupportedOperation.InstanceStateTerminated") ||
			!strcmp(code, "InvalidInstanceState.Terminating"));
}

/* Refusals about particular ids of a batch (the rest of it may be fine). */
static bool term_code_per_id(const char *code)
{
	return term_code_gone(code) ||
	       (code &&
		(!strncmp(code, "UnsupportedOperation.InstanceState", 34) ||
		 !strcmp(code, "UnsupportedOperation.InstancesProtected") ||
		 !strcmp(code, "UnsupportedOperation.InstanceMixedPricingModel")));
}

struct term_batch {
	const char **ids;
	enum term_status *st;
	char **why; /* TERM_REFUSED: "CODE (RequestId R)" */
};

static void term_settle(struct term_batch *b, size_t i, const struct err *ce)
{
	if (term_code_gone(ce->api_code)) {
		b->st[i] = TERM_GONE;
		return;
	}
	b->st[i] = TERM_REFUSED;
	free(b->why[i]);
	b->why[i] = xasprintf(
		"%s%s%s%s", ce->api_code ? ce->api_code : (ce->msg ? ce->msg : "refused"),
		ce->request_id ? " (RequestId " : "",
		ce->request_id ? ce->request_id : "", ce->request_id ? ")" : "");
}

/*
 * Terminate ids[lo..hi) of the batch.  A call refused because of some of
 * its ids (a state the API will not terminate, protection, gone) is not
 * lost: the ids the message names are settled and the others sent again;
 * when the message names none of them, the batch is halved until each
 * refused id stands alone.  Only ids the API accepted count as released.
 * Errors about the call itself (throttling, the network, auth) return.
 */
static int terminate_split(struct run *run, const char *region, struct term_batch *b,
			   size_t lo, size_t hi, struct err *e)
{
	const char **ids = xcalloc(hi - lo + 1, sizeof(*ids));
	size_t n = 0, named = 0;
	struct err te = ERR_INIT;
	int error;

	for (size_t i = lo; i < hi; i++)
		if (b->st[i] == TERM_PENDING)
			ids[n++] = b->ids[i];
	if (!n) {
		free(ids);
		return 0;
	}
	error = run->cloud->ops->terminate(run->cloud->ctx, region, ids, n, &te);
	free(ids);
	if (!error) {
		for (size_t i = lo; i < hi; i++)
			if (b->st[i] == TERM_PENDING)
				b->st[i] = TERM_RELEASED;
		return 0;
	}
	if (!term_code_per_id(te.api_code)) {
		err_move(e, &te);
		return error;
	}
	/* the ids the API names (the message quotes them) */
	for (size_t i = lo; i < hi; i++)
		if (b->st[i] == TERM_PENDING && te.api_message &&
		    strstr(te.api_message, b->ids[i])) {
			term_settle(b, i, &te);
			named++;
		}
	if (!named && hi - lo == 1) {
		term_settle(b, lo, &te);
		named++;
	}
	error = 0;
	if (named) {
		error = terminate_split(run, region, b, lo, hi, e);
	} else {
		size_t mid = lo + (hi - lo) / 2;

		error = terminate_split(run, region, b, lo, mid, e);
		if (!error)
			error = terminate_split(run, region, b, mid, hi, e);
	}
	err_clear(&te);
	return error;
}

/*
 * Release the listed instances of the plan whose reason matches want
 * (bitmask of 1 << reason) and that this run has not released yet, at
 * most limit[env] per environment (-1 = no limit; NULL = none).
 */
static int release_phase(struct run *run, unsigned want, const int *limit, struct err *e)
{
	const struct plan *p = run->p;
	int error = 0;
	char **regions = NULL;
	size_t nregions = 0, ralloc = 0;

	for (size_t i = 0; i < p->nenvs; i++)
		for (size_t j = 0; j < p->envs[i].nreleases; j++)
			apply_strlist_add_unique(&regions, &nregions, &ralloc,
						 p->envs[i].releases[j].region);

	for (size_t r = 0; r < nregions && !error; r++) {
		const char **ids = NULL;
		size_t *owner = NULL, *which = NULL;
		size_t n = 0, alloc = 0, oalloc = 0, walloc = 0;
		int64_t pause = 0;
		struct term_batch b;

		for (size_t i = 0; i < p->nenvs; i++) {
			const struct plan_env *env = &p->envs[i];
			int taken = 0;

			if (run->stopped[i])
				continue;
			for (size_t j = 0; j < env->nreleases; j++) {
				const struct plan_release *rel = &env->releases[j];

				if (!(want & (1u << rel->reason)) || run->gone[i][j] ||
				    strcmp(rel->region, regions[r]))
					continue;
				if (limit && limit[i] >= 0 && taken >= limit[i])
					continue;
				taken++;
				ALLOC_GROW(ids, n + 1, alloc);
				ALLOC_GROW(owner, n + 1, oalloc);
				ALLOC_GROW(which, n + 1, walloc);
				ids[n] = rel->id;
				which[n] = j;
				owner[n++] = i;
			}
		}
		b.ids = ids;
		b.st = xcalloc(n + 1, sizeof(*b.st));
		b.why = xcalloc(n + 1, sizeof(*b.why));
		for (size_t off = 0; off < n && !error; off += TC_MAX_PAGE) {
			size_t end = n - off < TC_MAX_PAGE ? n : off + TC_MAX_PAGE;

			error = terminate_split(run, regions[r], &b, off, end, e);
			for (int t = 1;
			     error && poll_error_passes(e) &&
			     retry_again(&apply_call_retry, t, now_ms(run), &pause, NULL);
			     t++) {
				err_clear(e);
				sleep_ms(run, pause);
				error = terminate_split(run, regions[r], &b, off, end, e);
			}
		}
		for (size_t k = 0; k < n; k++) {
			struct apply_env_result *er = &run->res->envs[owner[k]];

			switch (b.st[k]) {
			case TERM_RELEASED:
				run->gone[owner[k]][which[k]] = true;
				er->released++;
				run->prog[owner[k]].released++;
				run->res->released++;
				break;
			case TERM_GONE:
				run->gone[owner[k]][which[k]] = true;
				break;
			case TERM_REFUSED:
				er->refused++;
				apply_env_reason(er, "%s: not released: %s", ids[k],
						 b.why[k]);
				break;
			case TERM_PENDING:
				break;
			}
			free(b.why[k]);
		}
		free(b.st);
		free(b.why);
		free(ids);
		free(owner);
		free(which);
	}
	apply_strlist_free(regions, nregions);
	return error;
}

static struct tc_tag *tags_with_template(const struct tc_tag *tags, size_t n,
					 const char *template)
{
	struct tc_tag *t = xcalloc(n ? n : 1, sizeof(*t));

	for (size_t i = 0; i < n; i++) {
		t[i].key = xstrdup(tags[i].key);
		t[i].value = xstrdup(template && !strcmp(tags[i].key, PLAN_TAG_TEMPLATE)
					     ? template
					     : tags[i].value);
	}
	return t;
}

static void tags_free(struct tc_tag *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].key);
		free(t[i].value);
	}
	free(t);
}

static bool pool_tried(const struct run *run, size_t env, int pool)
{
	for (size_t i = 0; i < run->ntried[env]; i++)
		if (run->tried[env][i] == pool)
			return true;
	return false;
}

static void mark_tried(struct run *run, size_t env, int pool)
{
	if (pool_tried(run, env, pool))
		return;
	run->tried[env] =
		xreallocarray(run->tried[env], run->ntried[env] + 1, sizeof(int));
	run->tried[env][run->ntried[env]++] = pool;
}

/* A zone whose spot quota is used up (per account: for every environment). */
static void mark_quota_full(struct run *run, const char *zone)
{
	for (size_t i = 0; i < run->nquota_full; i++)
		if (!strcmp(run->quota_full[i], zone))
			return;
	ALLOC_GROW(run->quota_full, run->nquota_full + 1, run->quota_full_alloc);
	run->quota_full[run->nquota_full++] = zone;
}

static bool quota_full(const struct run *run, const char *zone)
{
	for (size_t i = 0; i < run->nquota_full; i++)
		if (!strcmp(run->quota_full[i], zone))
			return true;
	return false;
}

/*
 * The next usable pool of env after the ones tried, skipping zones whose
 * spot quota is used up (their other pools share it); -1 when none.
 */
static int next_pool(const struct run *run, size_t envi)
{
	const struct plan_env *env = &run->p->envs[envi];

	for (size_t i = 0; i < env->nfallback; i++) {
		const struct plan_pool *pp = apply_env_pool(env, env->fallback[i]);

		if (!pool_tried(run, envi, env->fallback[i]) && pp &&
		    !quota_full(run, pp->zone))
			return env->fallback[i];
	}
	return -1;
}

/*
 * An answer to RunInstances that cannot be right: more ids than asked
 * for, or ids that are not instance ids.  Nothing in it is acted on.
 */
static bool answer_bad(const struct task *t, const cJSON *resp, const char **what)
{
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(resp, "InstanceIdSet");
	const cJSON *id;
	int n = 0;

	if (set && !cJSON_IsArray(set)) {
		*what = "InstanceIdSet is not a list";
		return true;
	}
	cJSON_ArrayForEach (id, set) {
		if (!cJSON_IsString(id) || !plan_instance_id_ok(id->valuestring)) {
			*what = "an id that is not an instance id";
			return true;
		}
		if (++n > t->count) {
			*what = "more ids than instances asked for";
			return true;
		}
	}
	return false;
}

static void record_ids(struct run *run, const struct task *t, const cJSON *resp)
{
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(resp, "InstanceIdSet");
	const cJSON *id;
	const char *what = NULL;
	int got = 0;

	if (answer_bad(t, resp, &what)) {
		struct apply_env_result *er = &run->res->envs[t->env];
		const char *rid = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(resp, "RequestId"));

		apply_env_reason(er,
				 "RunInstances answered %s (count %d, RequestId %.64s); "
				 "nothing in it was used",
				 what, t->count, rid ? rid : "-");
		er->short_by += t->count;
		er->error = true;
		run->stopped[t->env] = true;
		return;
	}
	cJSON_ArrayForEach (id, set) {
		if (!cJSON_IsString(id))
			continue;
		ALLOC_GROW(run->l, run->nl + 1, run->lalloc);
		run->l[run->nl].id = xstrdup(id->valuestring);
		run->l[run->nl].env = t->env;
		run->l[run->nl].pool = t->pool;
		snprintf(run->l[run->nl].token, sizeof(run->l[run->nl].token), "%s",
			 t->token);
		snprintf(run->l[run->nl].origin, sizeof(run->l[run->nl].origin), "%s",
			 t->origin);
		run->l[run->nl].replace = t->replace;
		run->l[run->nl].bid = t->bid;
		run->l[run->nl].state = xstrdup("PENDING");
		run->l[run->nl].tagged = false;
		run->l[run->nl].seen = false;
		run->l[run->nl].missing = 0;
		run->nl++;
		ALLOC_GROW(run->res->launched_ids, run->res->nlaunched_ids + 1,
			   run->res->launched_ids_alloc);
		run->res->launched_ids[run->res->nlaunched_ids++] =
			xstrdup(id->valuestring);
		got++;
	}
	run->res->envs[t->env].launched += got;
	run->res->launched += got;
	run->prog[t->env].launched += got;
	run->prog[t->env].pending += got;
	if (got < t->count) {
		run->res->envs[t->env].short_by += t->count - got;
		apply_env_reason(&run->res->envs[t->env],
				 "RunInstances returned %d of %d instances", got,
				 t->count);
	}
}

static int run_tasks(struct run *run, struct task *tasks, size_t ntasks, struct err *e);

static int memo_cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether any of ids is among listed (n ids, sorted by memo_cmp_id). */
static bool memo_listed(const char **listed, size_t n, char *const *ids, size_t nids)
{
	for (size_t k = 0; k < nids; k++)
		if (bsearch(&ids[k], listed, n, sizeof(*listed), memo_cmp_id))
			return true;
	return false;
}

/*
 * Start each launch where its token chain ended on the last run here (the
 * memo), instead of walking the chain from the plan's token: when the ids
 * that step returned are all gone (a describe by id lists none of them),
 * take the next step of the chain at once, as relaunch_stale would after
 * its polls; when some are listed, replay that step's token.  One
 * DescribeInstances by id per region covers every hit of that region (100
 * ids a call, the calls side by side).  Without a memo, or when the
 * describe fails, tasks keep the plan's tokens (slower, never wrong).
 */
static void memo_jump(struct run *run, struct task *tasks, size_t ntasks)
{
	const struct apply_memo *m = run->o ? run->o->memo : NULL;
	const struct apply_memo_entry **hit;
	bool *done;
	bool any = false;

	if (!m || !ntasks)
		return;
	hit = xcalloc(ntasks, sizeof(*hit));
	done = xcalloc(ntasks, sizeof(*done));
	for (size_t k = 0; k < ntasks; k++)
		any |= (hit[k] = apply_memo_find(m, tasks[k].token)) != NULL;
	for (size_t k = 0; any && k < ntasks; k++) {
		const char *region = run->p->envs[tasks[k].env].region;
		struct tc_instance_list got = { 0 };
		struct err de = ERR_INIT;
		const char **ids = NULL;
		size_t nids = 0, alloc = 0;
		bool ok;

		if (!hit[k] || done[k])
			continue;
		/* every hit of this region, in one describe */
		for (size_t j = k; j < ntasks; j++)
			if (hit[j] && !done[j] &&
			    !strcmp(run->p->envs[tasks[j].env].region, region))
				for (size_t i = 0; i < hit[j]->nids; i++) {
					ALLOC_GROW(ids, nids + 1, alloc);
					ids[nids++] = hit[j]->ids[i];
				}
		ok = run->cloud->ops->describe(run->cloud->ctx, region, NULL, 0, ids,
					       nids, &got, &de) == 0;
		err_clear(&de);
		/* the ids listed, sorted: each hit looks its own up */
		nids = 0;
		for (size_t i = 0; i < got.n; i++)
			if (got.v[i].id) {
				ALLOC_GROW(ids, nids + 1, alloc);
				ids[nids++] = got.v[i].id;
			}
		qsort(ids, nids, sizeof(*ids), memo_cmp_id);
		for (size_t j = k; j < ntasks; j++) {
			if (!hit[j] || done[j] ||
			    strcmp(run->p->envs[tasks[j].env].region, region))
				continue;
			done[j] = true;
			if (!ok)
				continue; /* walk the chain instead */
			snprintf(tasks[j].token, sizeof(tasks[j].token), "%s",
				 hit[j]->token);
			if (!memo_listed(ids, nids, hit[j]->ids, hit[j]->nids)) {
				/* every id of that step is gone: the chain's next step */
				for (size_t i = 0; i < hit[j]->nids; i++)
					plan_token_relaunch(tasks[j].token,
							    tasks[j].token,
							    hit[j]->ids[i]);
			}
			run->res->memo_jumps++;
		}
		free(ids);
		tc_instance_list_clear(&got);
	}
	free(done);
	free(hit);
}

/*
 * Remember where each chain ended: the token of every launch whose
 * instances were all seen alive, under the token its chain started from.
 */
static int memo_cmp_token(const void *a, const void *b)
{
	const struct launched *x = *(const struct launched *const *)a;
	const struct launched *y = *(const struct launched *const *)b;

	return strcmp(x->token, y->token);
}

static void memo_record(struct run *run)
{
	struct apply_memo *m = run->o ? run->o->memo : NULL;
	int64_t now_s = (int64_t)time(NULL);
	const struct launched **v;
	const char **ids;

	if (!m || !run->nl)
		return;
	v = xcalloc(run->nl, sizeof(*v));
	ids = xcalloc(run->nl, sizeof(*ids));
	for (size_t i = 0; i < run->nl; i++)
		v[i] = &run->l[i];
	qsort(v, run->nl, sizeof(*v), memo_cmp_token);
	for (size_t i = 0, j; i < run->nl; i = j) {
		bool all_seen = true;
		size_t n = 0;

		for (j = i; j < run->nl && !strcmp(v[j]->token, v[i]->token); j++) {
			ids[n++] = v[j]->id;
			all_seen &= v[j]->seen;
		}
		if (all_seen)
			apply_memo_put(m, v[i]->origin, v[i]->token, ids, n, now_s);
	}
	free(ids);
	free(v);
}

/* The plan's launches, as tasks. */
static int launch_phase(struct run *run, struct err *e)
{
	const struct plan *p = run->p;
	struct task *tasks = NULL;
	size_t ntasks = 0, talloc = 0;

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *env = &p->envs[i];

		for (size_t j = 0; j < env->nlaunches; j++) {
			const struct plan_launch *l = &env->launches[j];
			struct task *t;

			ALLOC_GROW(tasks, ntasks + 1, talloc);
			t = &tasks[ntasks++];
			memset(t, 0, sizeof(*t));
			t->env = i;
			t->pool = l->pool;
			t->count = l->count;
			t->replace = l->replace;
			t->bid = l->bid; /* exactly the bid the plan shows */
			snprintf(t->token, sizeof(t->token), "%s", l->client_token);
			snprintf(t->origin, sizeof(t->origin), "%s", l->client_token);
			t->tags = tags_with_template(l->tags, l->ntags, NULL);
			t->ntags = l->ntags;
		}
	}
	memo_jump(run, tasks, ntasks);
	return run_tasks(run, tasks, ntasks, e);
}

/*
 * Make the RunInstances calls of tasks (owned; freed here), all at once
 * within the parallelism bound, moving capacity failures to the next pool
 * and trying passing failures again after a pause, until none is left.
 */
static int run_tasks(struct run *run, struct task *tasks, size_t ntasks, struct err *e)
{
	const struct plan *p = run->p;
	int error = 0;

	while (ntasks && !error) {
		struct tc_call *calls = xcalloc(ntasks, sizeof(*calls));
		struct task *next = NULL;
		size_t nnext = 0, nalloc = 0;
		int64_t pause = -1;

		for (size_t k = 0; k < ntasks; k++) {
			const struct plan_env *env = &p->envs[tasks[k].env];
			const struct plan_pool *pool = apply_env_pool(env, tasks[k].pool);
			struct tc_run_request req;

			mark_tried(run, tasks[k].env, tasks[k].pool);
			if (!tasks[k].base[0])
				snprintf(tasks[k].base, sizeof(tasks[k].base), "%s",
					 tasks[k].token);
			apply_fill_request(&req, env, pool, tasks[k].count,
					   tasks[k].token, tasks[k].bid, tasks[k].tags,
					   tasks[k].ntags, false);
			calls[k].action = "RunInstances";
			calls[k].region = env->region;
			calls[k].body = tc_run_request_json(&req);
		}
		run->cloud->ops->run(run->cloud->ctx, calls, ntasks);

		for (size_t k = 0; k < ntasks; k++) {
			struct task *t = &tasks[k];
			struct err *ce = &calls[k].err;
			const struct plan_env *env = &p->envs[t->env];
			const struct plan_pool *pool = apply_env_pool(env, t->pool);
			struct apply_env_result *er = &run->res->envs[t->env];

			if (!err_isset(ce)) {
				record_ids(run, t, calls[k].response);
				if (t->rest > 0) {
					/* partial stock: now the rest, in the same pool
					 */
					struct task *nt;

					ALLOC_GROW(next, nnext + 1, nalloc);
					nt = &next[nnext++];
					*nt = *t;
					nt->count = t->rest;
					nt->rest = 0;
					nt->step = t->step + 1;
					plan_token_partial(nt->token, t->base, nt->step,
							   nt->count);
					snprintf(nt->origin, sizeof(nt->origin), "%s",
						 nt->token);
					nt->tags = tags_with_template(t->tags, t->ntags,
								      NULL);
				}
			} else if ((ce->cls == ERR_CLASS_CAPACITY ||
				    apply_quota_error(ce)) &&
				   t->count > 1 && apply_capacity_splits(ce) &&
				   !run->stopped[t->env]) {
				/*
				 * RunInstances is all or nothing: a pool short of
				 * stock (or a zone short of quota) may still take
				 * fewer.  Try half, with a derived token; the rest
				 * follows in the same pool, then falls back.
				 */
				struct task *nt;

				ALLOC_GROW(next, nnext + 1, nalloc);
				nt = &next[nnext++];
				*nt = *t;
				nt->rest = t->rest + (t->count - t->count / 2);
				nt->count = t->count / 2;
				nt->step = t->step + 1;
				plan_token_partial(nt->token, t->base, nt->step,
						   nt->count);
				snprintf(nt->origin, sizeof(nt->origin), "%s", nt->token);
				nt->tags = tags_with_template(t->tags, t->ntags, NULL);
			} else if (ce->cls == ERR_CLASS_CAPACITY ||
				   apply_quota_error(ce)) {
				int np;

				if (apply_quota_error(ce) &&
				    !quota_full(run, pool->zone)) {
					mark_quota_full(run, pool->zone);
					apply_env_reason(
						er,
						"spot quota of zone %s reached (%s); the "
						"zone's other pools are skipped; ask Tencent "
						"Cloud to raise the spot quota (CVM console, "
						"Quotas)",
						pool->zone,
						ce->api_code ? ce->api_code : "quota");
				}
				np = next_pool(run, t->env);

				apply_env_reason(er, "%s/%s: %s%s%s%s", pool->zone,
						 pool->type,
						 ce->api_code ? ce->api_code : "capacity",
						 ce->request_id ? " (RequestId " : "",
						 ce->request_id ? ce->request_id : "",
						 ce->request_id ? ")" : "");
				if (np >= 0 && !run->stopped[t->env] &&
				    retry_again(&apply_fallback_retry, t->hop + 1, 0,
						NULL, NULL)) {
					const struct plan_pool *npool =
						apply_env_pool(env, np);
					struct task *nt;

					ALLOC_GROW(next, nnext + 1, nalloc);
					nt = &next[nnext++];
					*nt = *t;
					nt->pool = np;
					nt->hop = t->hop + 1;
					nt->count = t->count + t->rest;
					nt->rest = 0;
					nt->step = 0;
					nt->base[0] = '\0';
					/* the plan's bid for that pool (its fallback
					 * list) */
					nt->bid = npool ? npool->bid : t->bid;
					plan_token_fallback(nt->token, t->base, np,
							    nt->hop);
					snprintf(nt->origin, sizeof(nt->origin), "%s",
						 nt->token);
					nt->tags = tags_with_template(
						t->tags, t->ntags,
						npool ? npool->template : NULL);
				} else {
					er->short_by += t->count + t->rest;
					er->capacity_short = true;
				}
			} else if (poll_error_passes(ce) &&
				   retry_again(&apply_call_retry, t->tries + 1,
					       now_ms(run), &pause, NULL) &&
				   !run->stopped[t->env]) {
				/* the same call again after a pause, same ClientToken */
				struct task *nt;

				ALLOC_GROW(next, nnext + 1, nalloc);
				nt = &next[nnext++];
				*nt = *t;
				nt->tries = t->tries + 1;
				nt->tags = tags_with_template(t->tags, t->ntags, NULL);
			} else if (ce->cls == ERR_CLASS_AUTH ||
				   ce->cls == ERR_CLASS_ACCOUNT) {
				/* credentials refused, or an account that cannot pay:
				 * stop the run */
				if (!error) {
					err_copy(e, ce);
					error = e->code;
				}
				er->error = true;
				run->stopped[t->env] = true;
			} else {
				/* other errors stop the environment, with the API's words
				 */
				apply_env_reason(
					er, "%s/%s: %s%s%s%s%s%s", pool->zone, pool->type,
					ce->api_code ? ce->api_code
						     : (ce->msg ? ce->msg : "error"),
					ce->api_message ? ": " : "",
					ce->api_message ? ce->api_message : "",
					ce->request_id ? " (RequestId " : "",
					ce->request_id ? ce->request_id : "",
					ce->request_id ? ")" : "");
				er->short_by += t->count + t->rest;
				er->error = true;
				run->stopped[t->env] = true;
			}
			err_clear(ce);
			cJSON_Delete(calls[k].response);
			free(calls[k].body);
			tags_free(t->tags, t->ntags);
		}
		free(calls);
		free(tasks);
		tasks = next;
		ntasks = nnext;
		report(run, "launching");
		if (pause >= 0 && ntasks)
			sleep_ms(run, pause);
	}
	for (size_t k = 0; k < ntasks; k++)
		tags_free(tasks[k].tags, tasks[k].ntags);
	free(tasks);
	return error;
}

static int launched_cmp(const void *a, const void *b)
{
	return strcmp(((const struct launched *)a)->id, ((const struct launched *)b)->id);
}

/* run->l is sorted by id while waiting (10,000 launches stay cheap). */
static struct launched *find_launched(struct run *run, const char *id)
{
	struct launched key;

	memset(&key, 0, sizeof(key));
	key.id = (char *)id;
	return bsearch(&key, run->l, run->nl, sizeof(*run->l), launched_cmp);
}

/* Reclaimed or terminated before it ran: leaving, or no longer listed. */
static bool gone(const struct launched *l)
{
	return !strcmp(l->state, "GONE") ||
	       plan_state_class(l->state, NULL) == PLAN_STATE_LEAVING;
}

static void recount(struct run *run)
{
	for (size_t i = 0; i < run->p->nenvs; i++)
		run->prog[i].running = run->prog[i].pending = run->prog[i].failed =
			run->prog[i].gone = 0;
	for (size_t i = 0; i < run->nl; i++) {
		struct apply_progress_env *pe = &run->prog[run->l[i].env];

		if (!strcmp(run->l[i].state, "RUNNING"))
			pe->running++;
		else if (!strcmp(run->l[i].state, "LAUNCH_FAILED"))
			pe->failed++;
		else if (gone(&run->l[i]))
			pe->gone++;
		else
			pe->pending++;
	}
}

static bool settled(const struct launched *l)
{
	return !strcmp(l->state, "RUNNING") || !strcmp(l->state, "LAUNCH_FAILED") ||
	       gone(l);
}

/*
 * A launched id a describe by id did not return: gone once it had been
 * seen, or after a few polls (a new id can take a moment to be listed).
 */
#define WAIT_MISSING_POLLS 3

/* Poll launched ids until RUNNING/LAUNCH_FAILED and tagged, or timeout. */
static int wait_phase(struct run *run, struct err *e)
{
	int64_t timeout = run->o && run->o->wait_timeout_ms ? run->o->wait_timeout_ms
							    : 10 * 60 * 1000;
	int64_t poll = run->o && run->o->poll_ms ? run->o->poll_ms : 2000;
	int64_t deadline;
	const struct plan *p = run->p;
	int error = 0, failed_polls = 0;

	/* one deadline for every wait of the run, relaunches included */
	if (!run->wait_deadline)
		run->wait_deadline = now_ms(run) + timeout;
	deadline = run->wait_deadline;

	qsort(run->l, run->nl, sizeof(*run->l), launched_cmp);
	for (;;) {
		bool all_settled = true, all_tagged = true;
		char **regions = NULL;
		size_t nregions = 0, ralloc = 0;

		for (size_t i = 0; i < run->nl; i++) {
			if (!settled(&run->l[i]))
				all_settled = false;
			if (!run->l[i].tagged &&
			    strcmp(run->l[i].state, "LAUNCH_FAILED") && !gone(&run->l[i]))
				all_tagged = false;
		}
		if (all_settled && all_tagged)
			break;
		if (now_ms(run) >= deadline)
			break;
		sleep_ms(run, poll);

		for (size_t i = 0; i < run->nl; i++)
			apply_strlist_add_unique(&regions, &nregions, &ralloc,
						 p->envs[run->l[i].env].region);
		for (size_t r = 0; r < nregions && !error; r++) {
			const char **ids = NULL;
			size_t n = 0, alloc = 0;
			struct tc_instance_list got = { 0 };
			struct tc_filter f;
			const char *key = PLAN_TAG_ENV;

			for (size_t i = 0; i < run->nl; i++)
				if (!strcmp(p->envs[run->l[i].env].region, regions[r]) &&
				    !settled(&run->l[i])) {
					ALLOC_GROW(ids, n + 1, alloc);
					ids[n++] = run->l[i].id;
				}
			/* every id at once: the calls of 100 ids go side by side */
			if (n)
				error = run->cloud->ops->describe(run->cloud->ctx,
								  regions[r], NULL, 0,
								  ids, n, &got, e);
			if (error && poll_error_passes(e) &&
			    retry_again(&apply_poll_retry, ++failed_polls, 0, NULL,
					NULL)) {
				/* throttled or a blip: the next poll asks again */
				err_clear(e);
				error = 0;
				tc_instance_list_clear(&got);
				free(ids);
				continue;
			}
			if (!error)
				failed_polls = 0;
			for (size_t i = 0; !error && i < n; i++) {
				struct launched *l = find_launched(run, ids[i]);
				bool listed = false;

				for (size_t k = 0; k < got.n && !listed; k++)
					listed = !strcmp(got.v[k].id, ids[i]);
				if (!l || listed)
					continue;
				if (l->seen || ++l->missing >= WAIT_MISSING_POLLS) {
					free(l->state);
					l->state = xstrdup("GONE");
				}
			}
			for (size_t i = 0; i < got.n; i++) {
				struct launched *l = find_launched(run, got.v[i].id);

				if (l) {
					free(l->state);
					l->state = xstrdup(got.v[i].state);
					l->seen = true;
					l->missing = 0;
				}
			}
			tc_instance_list_clear(&got);
			free(ids);
			if (error)
				break;
			/*
			 * Tags attach asynchronously: a launched instance is
			 * done once the ownership filter shows it, so that the
			 * next observation counts it.  Checked once the states
			 * have settled (a listing of the region each time).
			 */
			all_settled = true;
			for (size_t i = 0; i < run->nl; i++)
				if (!settled(&run->l[i]))
					all_settled = false;
			if (!all_tagged && all_settled) {
				f.name = TAG_KEY_FILTER;
				f.values = &key;
				f.nvalues = 1;
				error = run->cloud->ops->describe(run->cloud->ctx,
								  regions[r], &f, 1, NULL,
								  0, &got, e);
				if (error && poll_error_passes(e) &&
				    retry_again(&apply_poll_retry, ++failed_polls, 0,
						NULL, NULL)) {
					err_clear(e);
					error = 0;
				}
				for (size_t i = 0; !error && i < got.n; i++) {
					struct launched *l =
						find_launched(run, got.v[i].id);

					if (l)
						l->tagged = true;
				}
				tc_instance_list_clear(&got);
			}
		}
		apply_strlist_free(regions, nregions);
		if (error)
			break;
		recount(run);
		report(run, all_settled ? "waiting for tags" : "waiting");
	}
	recount(run);
	return error;
}

/*
 * A ClientToken the API remembers from an earlier launch returns that
 * launch's instances even when they are long gone: a world can come back
 * to an earlier basis (an environment of one whose instance was reclaimed
 * and vanished has the empty basis of its first launch), and the plan's
 * token is then the first launch's token.  Such ids were never listed by
 * a describe by id.  Launch their count again with a token derived from
 * the stale token and the ids it returned: deterministic, so a crashed or
 * concurrent apply derives the same one, and different every time the
 * world comes back, because the ids differ.  Returns how many were
 * relaunched.
 */
static size_t relaunch_stale(struct run *run, struct err *e, int *error)
{
	const struct plan *p = run->p;
	struct task *tasks = NULL;
	size_t ntasks = 0, talloc = 0, total = 0, keep = 0;

	for (size_t i = 0; i < run->nl; i++) {
		struct launched *l = &run->l[i];
		const struct plan_env *env = &p->envs[l->env];
		const struct plan_pool *pool = apply_env_pool(env, l->pool);
		const struct plan_launch *pl = NULL;
		struct task *t = NULL;

		if (l->seen || strcmp(l->state, "GONE") || !pool) {
			run->l[keep++] = *l;
			continue;
		}
		for (size_t k = 0; k < ntasks && !t; k++)
			if (tasks[k].env == l->env && !strcmp(tasks[k].stale, l->token))
				t = &tasks[k];
		for (size_t k = 0; k < env->nlaunches && !pl; k++)
			pl = &env->launches[k];
		if (!t && pl) {
			ALLOC_GROW(tasks, ntasks + 1, talloc);
			t = &tasks[ntasks++];
			memset(t, 0, sizeof(*t));
			t->env = l->env;
			t->pool = l->pool;
			t->replace = l->replace;
			t->bid = l->bid;
			snprintf(t->stale, sizeof(t->stale), "%s", l->token);
			snprintf(t->origin, sizeof(t->origin), "%s", l->origin);
			snprintf(t->token, sizeof(t->token), "%s", l->token);
			t->tags = tags_with_template(pl->tags, pl->ntags, pool->template);
			t->ntags = pl->ntags;
		}
		if (t) {
			/* chain the ids (sorted: run->l is) into the new token */
			plan_token_relaunch(t->token, t->token, l->id);
			t->count++;
		}
		run->res->envs[l->env].launched--;
		run->res->launched--;
		run->prog[l->env].launched--;
		total++;
		free(l->id);
		free(l->state);
	}
	run->nl = keep;
	if (ntasks)
		*error = run_tasks(run, tasks, ntasks, e);
	else
		free(tasks);
	return total;
}

int apply_run(struct apply_result *res, const struct apply_cloud *cloud,
	      const struct plan *p, const struct apply_opts *opts, struct err *e)
{
	struct run run;
	int *drift_limit = NULL;
	bool wait = !opts || opts->wait;
	int error = 0;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.p = p;
	run.cloud = cloud;
	run.o = opts;
	run.res = res;
	run.start = now_ms(&run);
	res->nenvs = p->nenvs;
	res->envs = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*res->envs));
	run.prog = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*run.prog));
	run.stopped = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*run.stopped));
	run.tried = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*run.tried));
	run.ntried = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*run.ntried));
	run.gone = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*run.gone));
	drift_limit = xcalloc(p->nenvs ? p->nenvs : 1, sizeof(*drift_limit));

	for (size_t i = 0; i < p->nenvs; i++) {
		res->envs[i].env = xstrdup(p->envs[i].name);
		res->envs[i].desired = p->envs[i].desired;
		run.prog[i].env = p->envs[i].name;
		run.prog[i].desired = p->envs[i].desired;
		run.prog[i].to_release = (int)p->envs[i].nreleases;
		for (size_t k = 0; k < p->envs[i].nlaunches; k++)
			run.prog[i].to_launch += p->envs[i].launches[k].count;
		run.gone[i] = xcalloc(p->envs[i].nreleases ? p->envs[i].nreleases : 1,
				      sizeof(*run.gone[i]));
		if (p->envs[i].status == PLAN_STATUS_ERROR || p->envs[i].nerrors) {
			/* the plan said no: never act on an environment in error */
			run.stopped[i] = true;
			res->envs[i].error = true;
			for (size_t k = 0; k < p->envs[i].nerrors; k++)
				apply_env_reason(&res->envs[i], "%s",
						 p->envs[i].errors[k]);
		}
	}

	/* 1. failed, orphaned and destroyed instances go first */
	report(&run, "releasing");
	error = release_phase(&run,
			      (1u << PLAN_REASON_FAILED) | (1u << PLAN_REASON_ORPHAN) |
				      (1u << PLAN_REASON_DESTROY),
			      NULL, e);
	/*
	 * ... and up to maxUnavailable drifted instances: the replacements
	 * launched next then add at most maxSurge above capacity (the plan
	 * replaces maxSurge + maxUnavailable at a time).
	 */
	for (size_t i = 0; i < p->nenvs; i++)
		drift_limit[i] = p->envs[i].max_unavailable;
	if (!error)
		error = release_phase(&run, 1u << PLAN_REASON_DRIFT, drift_limit, e);
	/* 2. launches, with fallback across pools */
	if (!error)
		error = launch_phase(&run, e);
	/* 3. wait for RUNNING and for tags */
	if (!error && wait && run.nl)
		error = wait_phase(&run, e);
	/* ... launching again for tokens that returned long-gone instances */
	for (int hop = 0;
	     !error && wait &&
	     retry_again(&apply_relaunch_retry, hop, now_ms(&run), NULL, NULL) &&
	     (!run.wait_deadline || now_ms(&run) < run.wait_deadline);
	     hop++) {
		size_t n = relaunch_stale(&run, e, &error);

		recount(&run);
		if (!n || error)
			break;
		res->relaunched += (int)n;
		res->chain_steps++;
		if (run.nl)
			error = wait_phase(&run, e);
	}
	if (!error && wait)
		memo_record(&run);
	/*
	 * 4. the other drifted instances, one for each replacement running,
	 * then excess instances
	 */
	if (!error) {
		for (size_t i = 0; i < p->nenvs; i++) {
			int running_repl = 0;

			for (size_t k = 0; k < run.nl; k++)
				if (run.l[k].env == i && run.l[k].replace &&
				    (!wait ? false : !strcmp(run.l[k].state, "RUNNING")))
					running_repl++;
			drift_limit[i] = running_repl;
		}
		error = release_phase(&run, 1u << PLAN_REASON_DRIFT, drift_limit, e);
	}
	if (!error)
		error = release_phase(&run, 1u << PLAN_REASON_EXCESS, NULL, e);

	/* the outcome per environment */
	for (size_t i = 0; i < p->nenvs; i++) {
		struct apply_env_facts f;

		f.running = run.prog[i].running;
		f.pending = run.prog[i].pending;
		f.failed = run.prog[i].failed;
		f.gone = run.prog[i].gone;
		f.waited = wait;
		f.stopped = run.stopped[i];
		f.run_failed = error != 0;
		f.destroy = p->destroy;
		f.released = run.gone[i];
		apply_outcome(&res->envs[i], &p->envs[i], &f);
		if (res->envs[i].converged)
			res->converged++;
	}
	report(&run, "done");

	for (size_t i = 0; i < run.nl; i++) {
		free(run.l[i].id);
		free(run.l[i].state);
	}
	free(run.l);
	for (size_t i = 0; i < p->nenvs; i++) {
		free(run.tried[i]);
		free(run.gone[i]);
	}
	free(run.tried);
	free(run.gone);
	free(run.quota_full);
	free(run.ntried);
	free(run.prog);
	free(run.stopped);
	free(drift_limit);
	return error;
}

void apply_result_clear(struct apply_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nenvs; i++) {
		free(res->envs[i].env);
		apply_strlist_free(res->envs[i].reasons, res->envs[i].nreasons);
	}
	free(res->envs);
	apply_strlist_free(res->launched_ids, res->nlaunched_ids);
	memset(res, 0, sizeof(*res));
}
