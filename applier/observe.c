/*
 * observe.c - observing the cloud: the instances spotenv owns and the spot
 * offers of the pools, in every region at once, and dry runs of a plan's
 * launches (plan --check).
 */
#include "../util/setup.h"
#include "apply_int.h"

#include <cjson/cJSON.h>

#define TAG_KEY_FILTER APPLY_TAG_KEY_FILTER

static bool env_selected(const char *name, const char *const *envs, size_t nenvs)
{
	if (!envs || !nenvs)
		return true;
	for (size_t i = 0; i < nenvs; i++)
		if (!strcmp(envs[i], name))
			return true;
	return false;
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
 * expect[r]: the instances region r should hold (the desired capacity of
 * the environments there; the listing sends pages ahead for it).
 */
static int observe_regions(struct plan_observed *out, const struct apply_cloud *cloud,
			   char **regions, size_t nregions,
			   const struct tc_filter *filter,
			   const struct region_pools *pools, const int64_t *expect,
			   struct err *e)
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
		r[i].expect = expect[i];
		if (pools) {
			r[i].zones = pools[i].zones;
			r[i].nzones = pools[i].nzones;
			r[i].types = pools[i].types;
			r[i].ntypes = pools[i].ntypes;
			r[i].offers = &offers[i];
		}
	}
	error = cloud->ops->observe(cloud->ctx, r, nregions, e);
	for (size_t i = 0; i < nregions; i++) {
		if (!error) {
			plan_observed_add_region(out, regions[i]);
			if (r[i].inconsistent)
				plan_observed_mark_incomplete(out, regions[i]);
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

int apply_observe(struct plan_observed *out, const struct apply_cloud *cloud,
		  const struct spec_set *specs, const char *const *envs, size_t nenvs,
		  bool offers, struct err *e)
{
	char **regions = NULL;
	size_t nregions = 0, regions_alloc = 0;
	struct region_pools *pools;
	int64_t *expect;
	const char *key = PLAN_TAG_ENV;
	struct tc_filter filter = { TAG_KEY_FILTER, &key, 1 };
	int error;

	for (size_t i = 0; i < specs->nenvs; i++)
		if (env_selected(specs->envs[i].name, envs, nenvs))
			apply_strlist_add_unique(&regions, &nregions, &regions_alloc,
						 specs->envs[i].region);
	pools = xcalloc(nregions ? nregions : 1, sizeof(*pools));
	expect = xcalloc(nregions ? nregions : 1, sizeof(*expect));
	for (size_t r = 0; r < nregions; r++)
		for (size_t i = 0; i < specs->nenvs; i++) {
			const struct spec_env *env = &specs->envs[i];

			if (strcmp(env->region, regions[r]) ||
			    !env_selected(env->name, envs, nenvs))
				continue;
			expect[r] += env->capacity;
			for (size_t p = 0; p < env->npools; p++) {
				add_borrowed(&pools[r].zones, &pools[r].nzones,
					     &pools[r].zalloc, env->pools[p].zone);
				add_borrowed(&pools[r].types, &pools[r].ntypes,
					     &pools[r].talloc,
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
	error = observe_regions(out, cloud, regions, nregions, &filter,
				offers ? pools : NULL, expect, e);
	for (size_t r = 0; r < nregions; r++) {
		free(pools[r].zones);
		free(pools[r].types);
	}
	free(pools);
	free(expect);
	apply_strlist_free(regions, nregions);
	return error;
}

int apply_observe_plan(struct plan_observed *out, const struct apply_cloud *cloud,
		       const struct plan *p, struct err *e)
{
	char **regions = NULL;
	size_t nregions = 0, ralloc = 0;
	const char *key = PLAN_TAG_ENV;
	struct tc_filter filter = { TAG_KEY_FILTER, &key, 1 };
	int64_t *expect;
	int error;

	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].region)
			apply_strlist_add_unique(&regions, &nregions, &ralloc,
						 p->envs[i].region);
	expect = xcalloc(nregions ? nregions : 1, sizeof(*expect));
	for (size_t r = 0; r < nregions; r++)
		for (size_t i = 0; i < p->nenvs; i++)
			if (p->envs[i].region && !strcmp(p->envs[i].region, regions[r]) &&
			    p->envs[i].desired > 0)
				expect[r] += p->envs[i].desired;
	error = observe_regions(out, cloud, regions, nregions, &filter, NULL, expect, e);
	apply_strlist_free(regions, nregions);
	free(expect);
	return error;
}

int apply_check_launches(struct plan *p, const struct apply_cloud *cloud, struct err *e)
{
	struct tc_call *calls = NULL;
	struct plan_launch **which = NULL;
	size_t n = 0, alloc = 0, walloc = 0;
	int error = 0;

	for (size_t i = 0; i < p->nenvs; i++) {
		struct plan_env *env = &p->envs[i];

		for (size_t j = 0; j < env->nlaunches; j++) {
			struct plan_launch *l = &env->launches[j];
			const struct plan_pool *pool = apply_env_pool(env, l->pool);
			struct tc_run_request req;

			if (!pool || !env->template)
				continue;
			/*
			 * never the launch's ClientToken: whether a DryRun
			 * registers its token is not documented, and the real
			 * launch must not be answered by a dry run's memory
			 */
			apply_fill_request(&req, env, pool, l->count, NULL, l->bid,
					   l->tags, l->ntags, true);
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
		cloud->ops->run(cloud->ctx, calls, n);
	for (size_t i = 0; i < n; i++) {
		struct err *ce = &calls[i].err;

		if (!err_isset(ce) ||
		    (ce->api_code && !strcmp(ce->api_code, "DryRunOperation"))) {
			plan_launch_set_check(which[i], true, NULL, NULL);
		} else if (ce->api_code &&
			   (ce->cls == ERR_CLASS_CAPACITY || ce->cls == ERR_CLASS_QUOTA ||
			    ce->cls == ERR_CLASS_ACCOUNT ||
			    ce->cls == ERR_CLASS_INVALID || ce->cls == ERR_CLASS_OTHER)) {
			plan_launch_set_check(which[i], false, ce->api_code,
					      ce->api_message);
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
