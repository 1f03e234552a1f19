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
#include "../util/duration.h"
#include "../planner/token.h"
#include "apply.h"

#include <cjson/cJSON.h>

#define TAG_KEY_FILTER "tag-key"
/* Rounds of relaunching for tokens that returned gone instances. */
#define APPLY_STALE_HOPS 3

/* ------------------------------------------------------------------ */
/* Observation */

static bool env_selected(const char *name, const char *const *envs, size_t nenvs)
{
	if (!envs || !nenvs)
		return true;
	for (size_t i = 0; i < nenvs; i++)
		if (!strcmp(envs[i], name))
			return true;
	return false;
}

static void strlist_add_unique(char ***v, size_t *n, size_t *alloc, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[(*n)++] = xstrdup(s);
}

static void strlist_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		out[0] = '\0';
}

/* Zones and types of one region's pools (strings borrowed from specs). */
struct region_pools {
	const char **zones, **types;
	size_t nzones, ntypes, zalloc, talloc;
};

static void add_borrowed(const char ***v, size_t *n, size_t *alloc, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[(*n)++] = s;
}

/*
 * Describe regions all at once (tc_observe_regions) with one filter, and
 * the offers of pools[r] when pools is not NULL; move the results into out.
 */
static int observe_regions(struct plan_observed *out, struct tc_client *c, char **regions,
			   size_t nregions, const struct tc_filter *filter,
			   const struct region_pools *pools, struct err *e)
{
	struct tc_region_obs *r = xcalloc(nregions ? nregions : 1, sizeof(*r));
	struct tc_instance_list *inst = xcalloc(nregions ? nregions : 1, sizeof(*inst));
	struct tc_offer_list *offers = xcalloc(nregions ? nregions : 1, sizeof(*offers));
	char ts[32];
	int error;

	for (size_t i = 0; i < nregions; i++) {
		r[i].region = regions[i];
		r[i].filters = filter;
		r[i].nfilters = 1;
		r[i].instances = &inst[i];
		if (pools) {
			r[i].zones = pools[i].zones;
			r[i].nzones = pools[i].nzones;
			r[i].types = pools[i].types;
			r[i].ntypes = pools[i].ntypes;
			r[i].offers = &offers[i];
		}
	}
	error = tc_observe_regions(c, r, nregions, e);
	for (size_t i = 0; i < nregions; i++) {
		if (!error) {
			plan_observed_add_region(out, regions[i]);
			plan_observed_add_instances(out, &inst[i]);
			if (pools)
				plan_observed_add_offers(out, regions[i], &offers[i]);
		}
		tc_instance_list_clear(&inst[i]);
		tc_offer_list_clear(&offers[i]);
	}
	if (!error) {
		now_rfc3339(ts);
		plan_observed_set_time(out, ts);
	}
	free(r);
	free(inst);
	free(offers);
	return error;
}

int apply_observe(struct plan_observed *out, struct tc_client *c,
		  const struct spec_set *specs, const char *const *envs, size_t nenvs,
		  bool offers, struct err *e)
{
	char **regions = NULL;
	size_t nregions = 0, regions_alloc = 0;
	struct region_pools *pools;
	const char *key = PLAN_TAG_ENV;
	struct tc_filter filter = { TAG_KEY_FILTER, &key, 1 };
	int error;

	for (size_t i = 0; i < specs->nenvs; i++)
		if (env_selected(specs->envs[i].name, envs, nenvs))
			strlist_add_unique(&regions, &nregions, &regions_alloc,
					   specs->envs[i].region);
	pools = xcalloc(nregions ? nregions : 1, sizeof(*pools));
	for (size_t r = 0; r < nregions; r++)
		for (size_t i = 0; i < specs->nenvs; i++) {
			const struct spec_env *env = &specs->envs[i];

			if (strcmp(env->region, regions[r]) || !env_selected(env->name, envs, nenvs))
				continue;
			for (size_t p = 0; p < env->npools; p++) {
				add_borrowed(&pools[r].zones, &pools[r].nzones, &pools[r].zalloc,
					     env->pools[p].zone);
				add_borrowed(&pools[r].types, &pools[r].ntypes, &pools[r].talloc,
					     env->pools[p].instance_type);
			}
		}
	/*
	 * With a short --env list the API does the filtering
	 * (tag:spotenv:env = names, at most 5 values a filter); otherwise
	 * every instance carrying spotenv:env.
	 */
	if (envs && nenvs && nenvs <= 5) {
		filter.name = "tag:" PLAN_TAG_ENV;
		filter.values = envs;
		filter.nvalues = nenvs;
	}
	error = observe_regions(out, c, regions, nregions, &filter, offers ? pools : NULL, e);
	for (size_t r = 0; r < nregions; r++) {
		free(pools[r].zones);
		free(pools[r].types);
	}
	free(pools);
	strlist_free(regions, nregions);
	return error;
}

int apply_observe_plan(struct plan_observed *out, struct tc_client *c, const struct plan *p,
		       struct err *e)
{
	char **regions = NULL;
	size_t nregions = 0, ralloc = 0;
	const char *key = PLAN_TAG_ENV;
	struct tc_filter filter = { TAG_KEY_FILTER, &key, 1 };
	int error;

	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].region)
			strlist_add_unique(&regions, &nregions, &ralloc, p->envs[i].region);
	error = observe_regions(out, c, regions, nregions, &filter, NULL, e);
	strlist_free(regions, nregions);
	return error;
}

/* ------------------------------------------------------------------ */
/* Launch requests */

static const struct plan_pool *env_pool(const struct plan_env *env, int index)
{
	for (size_t i = 0; i < env->npools; i++)
		if (env->pools[i].index == index)
			return &env->pools[i];
	return NULL;
}

/* Fill req from the environment's template and a pool; tags borrowed. */
static void fill_request(struct tc_run_request *req, const struct plan_env *env,
			 const struct plan_pool *pool, int count, const char *token,
			 const struct tc_tag *tags, size_t ntags, bool dry_run)
{
	const struct plan_template *t = env->template;

	memset(req, 0, sizeof(*req));
	req->region = env->region;
	req->zone = pool->zone;
	req->instance_type = pool->type;
	req->image = t->image;
	req->count = count;
	req->max_price = pool->bid;
	req->client_token = token;
	req->instance_name = t->instance_name;
	req->tags = tags;
	req->ntags = ntags;
	req->vpc_id = t->vpc_id;
	req->subnet_id = pool->subnet_id;
	req->security_group_ids = (const char *const *)t->security_group_ids;
	req->nsecurity_groups = t->nsecurity_groups;
	req->public_ip_bandwidth_mbps = t->public_ip_bandwidth_mbps;
	req->key_ids = (const char *const *)t->key_ids;
	req->nkey_ids = t->nkey_ids;
	req->keep_image_login = t->keep_image_login;
	req->system_disk_type = t->system_disk_type;
	req->system_disk_size_gb = t->system_disk_size_gb;
	req->user_data_b64 = t->user_data_b64;
	req->dry_run = dry_run;
}

int apply_check_launches(struct plan *p, struct tc_client *c, struct err *e)
{
	struct tc_call *calls = NULL;
	struct plan_launch **which = NULL;
	size_t n = 0, alloc = 0, walloc = 0;
	int error = 0;

	for (size_t i = 0; i < p->nenvs; i++) {
		struct plan_env *env = &p->envs[i];

		for (size_t j = 0; j < env->nlaunches; j++) {
			struct plan_launch *l = &env->launches[j];
			const struct plan_pool *pool = env_pool(env, l->pool);
			struct tc_run_request req;

			if (!pool || !env->template)
				continue;
			fill_request(&req, env, pool, l->count, l->client_token, l->tags,
				     l->ntags, true);
			ALLOC_GROW(calls, n + 1, alloc);
			ALLOC_GROW(which, n + 1, walloc);
			memset(&calls[n], 0, sizeof(calls[n]));
			calls[n].action = "RunInstances";
			calls[n].region = env->region;
			calls[n].body = tc_run_request_json(&req);
			which[n++] = l;
		}
	}
	if (n)
		tc_call_many(c, calls, n);
	for (size_t i = 0; i < n; i++) {
		struct err *ce = &calls[i].err;

		if (!err_isset(ce) || (ce->api_code && !strcmp(ce->api_code, "DryRunOperation"))) {
			plan_launch_set_check(which[i], true, NULL, NULL);
		} else if (ce->api_code &&
			   (ce->cls == ERR_CLASS_CAPACITY || ce->cls == ERR_CLASS_INVALID ||
			    ce->cls == ERR_CLASS_OTHER)) {
			plan_launch_set_check(which[i], false, ce->api_code, ce->api_message);
		} else if (!error) {
			/* auth, throttling or transport: not about this launch */
			err_copy(e, ce);
			error = e->code ? e->code : ERR_GENERIC;
		}
		err_clear(ce);
		cJSON_Delete(calls[i].response);
		free(calls[i].body);
	}
	free(calls);
	free(which);
	return error;
}

/* ------------------------------------------------------------------ */
/* Execution state */

/* One RunInstances to make (the plan's launch, or a fallback of it). */
struct task {
	size_t env;       /* index into plan envs / result envs */
	int pool;         /* pool index (spec order) */
	int count;
	bool replace;
	int hop;          /* 0 = as planned, n = n-th fallback */
	int tries;        /* calls made for this task (throttled, transient) */
	char token[TC_MAX_CLIENT_TOKEN + 1];
	char stale[TC_MAX_CLIENT_TOKEN + 1]; /* relaunch: the token it replaces */
	struct tc_tag *tags; /* owned */
	size_t ntags;
};

struct launched {
	char *id;
	size_t env;
	int pool;    /* pool index it was launched in */
	char token[TC_MAX_CLIENT_TOKEN + 1]; /* the ClientToken that returned it */
	bool replace;
	char *state; /* last seen; "GONE" once it vanished */
	bool tagged; /* seen through the tag filter */
	bool seen;   /* seen by a describe at least once */
	int missing; /* polls in a row that did not return it */
};

struct run {
	const struct plan *p;
	struct tc_client *c;
	const struct apply_opts *o;
	struct apply_result *res;
	struct apply_progress_env *prog;
	bool *stopped;         /* per env: a non-capacity error stopped it */
	bool **gone;           /* per env, per release: terminated by this run */
	int **tried;           /* per env: pools already tried (by index) */
	size_t *ntried;
	struct launched *l;
	size_t nl, lalloc;
	int64_t start;
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
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

#define APPLY_CALL_ROUNDS 4    /* tries of one launch or release call */
#define APPLY_CALL_PAUSE_MS 1000 /* between them: the API's rate window */

static void env_reason(struct apply_env_result *r, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void env_reason(struct apply_env_result *r, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(r->reasons, r->nreasons + 1, r->reasons_alloc);
	va_start(ap, fmt);
	r->reasons[r->nreasons++] = xvasprintf(fmt, ap);
	va_end(ap);
}

static void report(struct run *run, const char *phase)
{
	struct apply_progress pr;

	if (!run->o || !run->o->progress)
		return;
	pr.phase = phase;
	pr.elapsed_ms = time_now_ms() - run->start;
	pr.envs = run->prog;
	pr.nenvs = run->p->nenvs;
	run->o->progress(run->o->progress_ctx, &pr);
}

static bool benign_terminate_error(const struct err *e)
{
	static const char *const codes[] = {
		"UnsupportedOperation.InstanceStateTerminating",
		"UnsupportedOperation.InstanceStateTerminated",
		"InvalidInstanceState.Terminating",
	};

	if (!e->api_code)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (!strcmp(e->api_code, codes[i]))
			return true;
	return false;
}

/*
 * Terminate the ids of one region.  An id that vanished meanwhile
 * (reclaimed) makes the API refuse the whole call with
 * InvalidInstanceId.NotFound: look the ids up again and retry with the
 * ones that still exist.
 */
static int terminate_region(struct run *run, const char *region, const char **ids, size_t n,
			    size_t *done, struct err *e)
{
	struct err te = ERR_INIT;
	int error;

	*done = 0;
	if (!n)
		return 0;
	error = tc_terminate_instances(run->c, region, ids, n, &te);
	if (error && te.api_code && !strcmp(te.api_code, "InvalidInstanceId.NotFound")) {
		struct tc_instance_list still = { 0 };
		const char **keep = xcalloc(n, sizeof(*keep));
		size_t nkeep = 0;
		struct err de = ERR_INIT;

		err_clear(&te);
		error = 0;
		for (size_t off = 0; off < n && !error; off += TC_MAX_PAGE) {
			size_t m = n - off < TC_MAX_PAGE ? n - off : TC_MAX_PAGE;

			error = tc_describe_instances(run->c, region, NULL, 0, ids + off, m,
						      &still, &de);
		}
		for (size_t i = 0; i < still.n; i++)
			if (strcmp(still.v[i].state, "TERMINATING") &&
			    strcmp(still.v[i].state, "SHUTDOWN"))
				keep[nkeep++] = still.v[i].id;
		if (!error && nkeep)
			error = tc_terminate_instances(run->c, region, keep, nkeep, &te);
		if (error && !err_isset(&te))
			err_move(&te, &de);
		err_clear(&de);
		if (!error)
			*done = n; /* the rest were gone already */
		tc_instance_list_clear(&still);
		free(keep);
	} else if (!error || benign_terminate_error(&te)) {
		*done = n;
		error = 0;
	}
	if (error)
		err_move(e, &te);
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
			strlist_add_unique(&regions, &nregions, &ralloc,
					   p->envs[i].releases[j].region);

	for (size_t r = 0; r < nregions && !error; r++) {
		const char **ids = NULL;
		size_t *owner = NULL, *which = NULL;
		size_t n = 0, alloc = 0, oalloc = 0, walloc = 0, done = 0;

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
		error = terminate_region(run, regions[r], ids, n, &done, e);
		for (int t = 1; error && poll_error_passes(e) && t < APPLY_CALL_ROUNDS; t++) {
			err_clear(e);
			sleep_ms(APPLY_CALL_PAUSE_MS);
			error = terminate_region(run, regions[r], ids, n, &done, e);
		}
		if (!error) {
			for (size_t k = 0; k < n; k++) {
				run->gone[owner[k]][which[k]] = true;
				run->res->envs[owner[k]].released++;
				run->prog[owner[k]].released++;
			}
			run->res->released += (int)n;
		}
		free(ids);
		free(owner);
		free(which);
	}
	strlist_free(regions, nregions);
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
	run->tried[env] = xreallocarray(run->tried[env], run->ntried[env] + 1, sizeof(int));
	run->tried[env][run->ntried[env]++] = pool;
}

/* The next usable pool of env after the ones tried; -1 when none. */
static int next_pool(const struct run *run, size_t envi)
{
	const struct plan_env *env = &run->p->envs[envi];

	for (size_t i = 0; i < env->nfallback; i++)
		if (!pool_tried(run, envi, env->fallback[i]))
			return env->fallback[i];
	return -1;
}

static void record_ids(struct run *run, const struct task *t, const cJSON *resp)
{
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(resp, "InstanceIdSet");
	const cJSON *id;
	int got = 0;

	cJSON_ArrayForEach(id, set) {
		if (!cJSON_IsString(id))
			continue;
		ALLOC_GROW(run->l, run->nl + 1, run->lalloc);
		run->l[run->nl].id = xstrdup(id->valuestring);
		run->l[run->nl].env = t->env;
		run->l[run->nl].pool = t->pool;
		snprintf(run->l[run->nl].token, sizeof(run->l[run->nl].token), "%s", t->token);
		run->l[run->nl].replace = t->replace;
		run->l[run->nl].state = xstrdup("PENDING");
		run->l[run->nl].tagged = false;
		run->l[run->nl].seen = false;
		run->l[run->nl].missing = 0;
		run->nl++;
		ALLOC_GROW(run->res->launched_ids, run->res->nlaunched_ids + 1,
			   run->res->launched_ids_alloc);
		run->res->launched_ids[run->res->nlaunched_ids++] = xstrdup(id->valuestring);
		got++;
	}
	run->res->envs[t->env].launched += got;
	run->res->launched += got;
	run->prog[t->env].launched += got;
	run->prog[t->env].pending += got;
	if (got < t->count) {
		run->res->envs[t->env].short_by += t->count - got;
		env_reason(&run->res->envs[t->env], "RunInstances returned %d of %d instances",
			   got, t->count);
	}
}

static int run_tasks(struct run *run, struct task *tasks, size_t ntasks, struct err *e);

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
			snprintf(t->token, sizeof(t->token), "%s", l->client_token);
			t->tags = tags_with_template(l->tags, l->ntags, NULL);
			t->ntags = l->ntags;
		}
	}
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
		bool pause = false;

		for (size_t k = 0; k < ntasks; k++) {
			const struct plan_env *env = &p->envs[tasks[k].env];
			const struct plan_pool *pool = env_pool(env, tasks[k].pool);
			struct tc_run_request req;

			mark_tried(run, tasks[k].env, tasks[k].pool);
			fill_request(&req, env, pool, tasks[k].count, tasks[k].token,
				     tasks[k].tags, tasks[k].ntags, false);
			calls[k].action = "RunInstances";
			calls[k].region = env->region;
			calls[k].body = tc_run_request_json(&req);
		}
		tc_call_many(run->c, calls, ntasks);

		for (size_t k = 0; k < ntasks; k++) {
			struct task *t = &tasks[k];
			struct err *ce = &calls[k].err;
			const struct plan_env *env = &p->envs[t->env];
			const struct plan_pool *pool = env_pool(env, t->pool);
			struct apply_env_result *er = &run->res->envs[t->env];

			if (!err_isset(ce)) {
				record_ids(run, t, calls[k].response);
			} else if (ce->cls == ERR_CLASS_CAPACITY) {
				int np = next_pool(run, t->env);

				env_reason(er, "%s/%s: %s%s%s%s", pool->zone, pool->type,
					   ce->api_code ? ce->api_code : "capacity",
					   ce->request_id ? " (RequestId " : "",
					   ce->request_id ? ce->request_id : "",
					   ce->request_id ? ")" : "");
				if (np >= 0 && !run->stopped[t->env]) {
					const struct plan_pool *npool = env_pool(env, np);
					struct task *nt;

					ALLOC_GROW(next, nnext + 1, nalloc);
					nt = &next[nnext++];
					*nt = *t;
					nt->pool = np;
					nt->hop = t->hop + 1;
					plan_token_fallback(nt->token, t->token, np, nt->hop);
					nt->tags = tags_with_template(t->tags, t->ntags,
								      npool ? npool->template : NULL);
				} else {
					er->short_by += t->count;
					er->capacity_short = true;
				}
			} else if (poll_error_passes(ce) && t->tries + 1 < APPLY_CALL_ROUNDS &&
				   !run->stopped[t->env]) {
				/* the same call again after a pause, same ClientToken */
				struct task *nt;

				ALLOC_GROW(next, nnext + 1, nalloc);
				nt = &next[nnext++];
				*nt = *t;
				nt->tries = t->tries + 1;
				nt->tags = tags_with_template(t->tags, t->ntags, NULL);
				pause = true;
			} else if (ce->cls == ERR_CLASS_AUTH) {
				if (!error) {
					err_copy(e, ce);
					error = e->code;
				}
				er->error = true;
				run->stopped[t->env] = true;
			} else {
				/* other errors stop the environment, with the API's words */
				env_reason(er, "%s/%s: %s%s%s%s%s%s", pool->zone, pool->type,
					   ce->api_code ? ce->api_code : (ce->msg ? ce->msg : "error"),
					   ce->api_message ? ": " : "",
					   ce->api_message ? ce->api_message : "",
					   ce->request_id ? " (RequestId " : "",
					   ce->request_id ? ce->request_id : "",
					   ce->request_id ? ")" : "");
				er->short_by += t->count;
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
		if (pause && ntasks)
			sleep_ms(APPLY_CALL_PAUSE_MS);
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
	return !strcmp(l->state, "GONE") || !strcmp(l->state, "SHUTDOWN") ||
	       !strcmp(l->state, "TERMINATING");
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
	return !strcmp(l->state, "RUNNING") || !strcmp(l->state, "LAUNCH_FAILED") || gone(l);
}


/*
 * A launched id a describe by id did not return: gone once it had been
 * seen, or after a few polls (a new id can take a moment to be listed).
 */
#define WAIT_MISSING_POLLS 3
/* Failed polls in a row (each after the provider's retries) before giving up. */
#define WAIT_FAILED_POLLS 5

/* Poll launched ids until RUNNING/LAUNCH_FAILED and tagged, or timeout. */
static int wait_phase(struct run *run, struct err *e)
{
	int64_t timeout = run->o && run->o->wait_timeout_ms ? run->o->wait_timeout_ms
							     : 10 * 60 * 1000;
	int64_t poll = run->o && run->o->poll_ms ? run->o->poll_ms : 2000;
	int64_t deadline = time_now_ms() + timeout;
	const struct plan *p = run->p;
	int error = 0, failed_polls = 0;

	qsort(run->l, run->nl, sizeof(*run->l), launched_cmp);
	for (;;) {
		bool all_settled = true, all_tagged = true;
		char **regions = NULL;
		size_t nregions = 0, ralloc = 0;

		for (size_t i = 0; i < run->nl; i++) {
			if (!settled(&run->l[i]))
				all_settled = false;
			if (!run->l[i].tagged && strcmp(run->l[i].state, "LAUNCH_FAILED") &&
			    !gone(&run->l[i]))
				all_tagged = false;
		}
		if (all_settled && all_tagged)
			break;
		if (time_now_ms() >= deadline)
			break;
		sleep_ms(poll);

		for (size_t i = 0; i < run->nl; i++)
			strlist_add_unique(&regions, &nregions, &ralloc,
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
			for (size_t off = 0; off < n && !error; off += TC_MAX_PAGE) {
				size_t m = n - off < TC_MAX_PAGE ? n - off : TC_MAX_PAGE;

				error = tc_describe_instances(run->c, regions[r], NULL, 0,
							      ids + off, m, &got, e);
			}
			if (error && poll_error_passes(e) && ++failed_polls < WAIT_FAILED_POLLS) {
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
				error = tc_describe_instances(run->c, regions[r], &f, 1, NULL, 0,
							      &got, e);
				if (error && poll_error_passes(e) &&
				    ++failed_polls < WAIT_FAILED_POLLS) {
					err_clear(e);
					error = 0;
				}
				for (size_t i = 0; !error && i < got.n; i++) {
					struct launched *l = find_launched(run, got.v[i].id);

					if (l)
						l->tagged = true;
				}
				tc_instance_list_clear(&got);
			}
		}
		strlist_free(regions, nregions);
		if (error)
			break;
		recount(run);
		report(run, all_settled ? "tags" : "waiting");
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
		const struct plan_pool *pool = env_pool(env, l->pool);
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
			snprintf(t->stale, sizeof(t->stale), "%s", l->token);
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

int apply_run(struct apply_result *res, struct tc_client *c, const struct plan *p,
	      const struct apply_opts *opts, struct err *e)
{
	struct run run;
	int *drift_limit = NULL;
	bool wait = !opts || opts->wait;
	int error = 0;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	run.p = p;
	run.c = c;
	run.o = opts;
	run.res = res;
	run.start = time_now_ms();
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
		run.gone[i] = xcalloc(p->envs[i].nreleases ? p->envs[i].nreleases : 1,
				      sizeof(*run.gone[i]));
		if (p->envs[i].status == PLAN_STATUS_ERROR) {
			/* the plan said no: never act on an environment in error */
			run.stopped[i] = true;
			res->envs[i].error = true;
			for (size_t k = 0; k < p->envs[i].nerrors; k++)
				env_reason(&res->envs[i], "%s", p->envs[i].errors[k]);
		}
	}

	/* 1. failed, orphaned and destroyed instances go first */
	report(&run, "releasing");
	error = release_phase(&run, (1u << PLAN_REASON_FAILED) | (1u << PLAN_REASON_ORPHAN) |
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
	for (int hop = 0; !error && wait && hop < APPLY_STALE_HOPS; hop++) {
		size_t n = relaunch_stale(&run, e, &error);

		recount(&run);
		if (!n || error)
			break;
		if (run.nl)
			error = wait_phase(&run, e);
	}
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
		struct apply_env_result *er = &res->envs[i];
		const struct plan_env *env = &p->envs[i];
		int planned_drift = 0, released_drift = 0, excess = 0;

		er->running = run.prog[i].running;
		er->launch_failed = run.prog[i].failed;
		er->launch_gone = run.prog[i].gone;
		if (wait) {
			int pending = run.prog[i].pending;

			if (er->launch_gone) {
				er->short_by += er->launch_gone;
				env_reason(er, "%d launched instance%s reclaimed before running",
					   er->launch_gone,
					   er->launch_gone == 1 ? " was" : "s were");
			}
			if (er->launch_failed) {
				er->short_by += er->launch_failed;
				env_reason(er, "%d launched instance%s ended LAUNCH_FAILED",
					   er->launch_failed, er->launch_failed == 1 ? "" : "s");
			}
			if (pending) {
				er->short_by += pending;
				env_reason(er, "%d instance%s still pending when the wait timed out",
					   pending, pending == 1 ? "" : "s");
			}
		}
		for (size_t k = 0; k < env->nreleases; k++) {
			if (env->releases[k].reason == PLAN_REASON_DRIFT) {
				planned_drift++;
				released_drift += run.gone[i][k];
			}
			if (env->releases[k].reason == PLAN_REASON_EXCESS)
				excess++;
		}
		/*
		 * Drifted instances the plan leaves for later applies (excess
		 * releases take drifted instances first): the environment is
		 * not at its desired shape yet.
		 */
		if (!p->destroy && !env->orphan && env->status != PLAN_STATUS_ERROR)
			er->drift_left = env->drifted - planned_drift - excess;
		if (er->drift_left < 0)
			er->drift_left = 0;
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
				env_reason(er, "%s", env->warnings[k]);
		}
		er->converged = !error && !er->error && !run.stopped[i] && er->short_by == 0 &&
				released_drift >= planned_drift && !er->drift_left;
		if (planned_drift > released_drift && !er->error)
			env_reason(er, "%d drifted instance%s kept until replacements run",
				   planned_drift - released_drift,
				   planned_drift - released_drift == 1 ? "" : "s");
		if (er->drift_left && !er->error && planned_drift) {
			env_reason(er, "%d drifted instance%s left for later applies "
				       "(maxSurge %d + maxUnavailable %d at a time)",
				   er->drift_left, er->drift_left == 1 ? "" : "s", env->max_surge,
				   env->max_unavailable);
		} else if (er->drift_left && !er->error) {
			/*
			 * nothing could be replaced: the plan's warnings say
			 * why ("N drifted instances not replaced: ...")
			 */
			for (size_t k = 0; k < env->nwarnings; k++)
				env_reason(er, "%s", env->warnings[k]);
		}
		if (er->converged)
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
		strlist_free(res->envs[i].reasons, res->envs[i].nreasons);
	}
	free(res->envs);
	strlist_free(res->launched_ids, res->nlaunched_ids);
	memset(res, 0, sizeof(*res));
}
