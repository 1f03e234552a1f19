/*
 * verify.c - hold a saved plan's releases to the live world.
 *
 * plan_check() (planner/check.c) holds a plan to its own declarations; this
 * holds every release to what was observed just now: the instance exists,
 * carries the ownership tags of the environment the plan releases it for
 * (spotenv:env and spotenv:scope), its scope is one of the plan's, and it
 * is in the release's region.  An untagged instance, another scope's, or
 * one that only carries spotenv:env is never released from a plan file.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "apply_int.h"

static int verify_cmp_id(const void *a, const void *b)
{
	const struct tc_instance *x = *(const struct tc_instance *const *)a;
	const struct tc_instance *y = *(const struct tc_instance *const *)b;

	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static const struct tc_instance *verify_find(const struct tc_instance **v, size_t n,
					     const char *id)
{
	struct tc_instance key;
	const struct tc_instance *kp = &key, *const * hit;

	memset(&key, 0, sizeof(key));
	key.id = (char *)id;
	hit = bsearch(&kp, v, n, sizeof(*v), verify_cmp_id);
	return hit ? *hit : NULL;
}

static bool verify_scope_ok(const struct plan *p, const char *scope)
{
	for (size_t i = 0; scope && i < p->nscopes; i++)
		if (p->scopes[i] && !strcmp(p->scopes[i], scope))
			return true;
	return false;
}

int apply_verify_plan(const struct plan *p, const struct plan_observed *obs,
		      struct buf *why)
{
	const struct tc_instance **v = xcalloc(obs->instances.n + 1, sizeof(*v));
	int bad = 0;

	for (size_t i = 0; i < obs->instances.n; i++)
		v[i] = &obs->instances.v[i];
	qsort(v, obs->instances.n, sizeof(*v), verify_cmp_id);
	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];

		for (size_t j = 0; j < pe->nreleases; j++) {
			const struct plan_release *r = &pe->releases[j];
			const struct tc_instance *in =
				r->id ? verify_find(v, obs->instances.n, r->id) : NULL;
			const char *env = in ? tc_instance_tag(in, PLAN_TAG_ENV) : NULL;
			const char *scope =
				in ? tc_instance_tag(in, PLAN_TAG_SCOPE) : NULL;
			const char *what = NULL;

			if (!in)
				what = "is not an instance spotenv owns in the observed regions";
			else if (!env || !scope || !pe->name || strcmp(env, pe->name) ||
				 !pe->scope || strcmp(scope, pe->scope))
				what = "does not carry this environment's spotenv:env and "
				       "spotenv:scope tags";
			else if (!verify_scope_ok(p, scope))
				what = "is in a scope the plan does not cover";
			else if (!in->region || !r->region ||
				 strcmp(in->region, r->region))
				what = "is not in the release's region";
			if (what && bad++ < 20 && why)
				buf_printf(why, "  environment '%s' release of '%s' %s\n",
					   pe->name ? pe->name : "?", r->id ? r->id : "?",
					   what);
		}
	}
	if (bad > 20 && why)
		buf_printf(why, "  ... and %d more\n", bad - 20);
	free(v);
	return bad ? ERR_INVALID : 0;
}
