/*
 * quota.c - the spot quota of the zones an environment's pools are in,
 * before any launch (status, plan --check).
 *
 * Informational: a DescribeAccountQuota that fails (not permitted, not
 * offered) is a warning the caller shows, never a stopped run.
 */
#include "../util/setup.h"
#include "apply_int.h"

void apply_quota_clear(struct apply_quota *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++) {
		free(q->v[i].region);
		tc_spot_quota_clear(&q->v[i].row);
	}
	free(q->v);
	free(q->app_id);
	memset(q, 0, sizeof(*q));
}

int apply_spot_quota(struct apply_quota *out, const struct apply_cloud *cloud,
		     const char *const *regions, size_t nregions, struct err *e)
{
	int error = 0;

	if (!cloud->ops->quota)
		return err_set(e, ERR_GENERIC, "the spot quota cannot be asked for here");
	for (size_t r = 0; r < nregions && !error; r++) {
		struct tc_spot_quota_list l = { NULL, 0, 0 };
		char *app = NULL;

		error = cloud->ops->quota(cloud->ctx, regions[r], &l, &app, e);
		for (size_t i = 0; !error && i < l.n; i++) {
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			out->v[out->n].region = xstrdup(regions[r]);
			out->v[out->n].row = l.v[i];
			memset(&l.v[i], 0, sizeof(l.v[i]));
			out->n++;
		}
		if (!error && app && !out->app_id) {
			out->app_id = app;
			app = NULL;
		}
		free(app);
		tc_spot_quota_list_clear(&l);
	}
	return error;
}

int apply_spot_quota_plan(struct apply_quota *out, const struct apply_cloud *cloud,
			  const struct plan *p, struct err *e)
{
	const char **regions = xcalloc(p->nenvs + 1, sizeof(*regions));
	size_t nregions = 0;
	int error;

	for (size_t i = 0; i < p->nenvs; i++) {
		const char *region = p->envs[i].region;
		bool seen = false;

		if (!region || !p->envs[i].npools)
			continue; /* orphans have no pools, so no zone to show */
		for (size_t k = 0; k < nregions && !seen; k++)
			seen = !strcmp(regions[k], region);
		if (!seen)
			regions[nregions++] = region;
	}
	error = apply_spot_quota(out, cloud, regions, nregions, e);
	free(regions);
	return error;
}
