/*
 * cmd_status.c - `spotenv status PATH...`: desired against observed.
 *
 * Why: the question on call is "are my environments at capacity, and if
 * not, where are they short?".  One table, per environment and pool, with
 * the counts that answer it; no plan to read.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include "common.h"

static struct cmd_common c = CMD_COMMON_INIT;
static const char *format = "text";
static bool detailed;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default) or json", 0, 0,
	  cmd_values_text_json },
	{ CMD_OPT_BOOL, "detailed-exitcode", 0, &detailed, NULL,
	  "exit 2 when an environment is not converged, 3 when short", 0, 0 },
	{ CMD_OPT_STR, "observed", 0, &c.observed, "FILE",
	  "use a snapshot from 'spotenv observe'", 0, 0 },
	CMD_COMMON_API_OPTS(c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_status_syntax = {
	.usage = "status PATH... [--format text|json] [--env NAME] [--observed FILE]\n"
		 "                      [--detailed-exitcode]",
	.about =
		"Show, per environment and pool, the desired capacity and the active,\n"
		"pending, failed and leaving instances observed now, and the spot quota\n"
		"of the pools' zones.  With --detailed-exitcode: 0 every environment\n"
		"converged, 2 some not converged (over, drifted), 3 some short.",
	.opts = opts,
	.needs_args = CMD_NO_SPECS("status"),
};

/* The JSON document: {"environments": [...]} with the pools of each. */
/* Whether zone is one of the pools' zones (only those quotas are shown). */
static bool status_zone_used(const struct plan *p, const char *zone)
{
	for (size_t i = 0; i < p->nenvs; i++)
		for (size_t k = 0; k < p->envs[i].npools; k++)
			if (p->envs[i].pools[k].zone && zone &&
			    !strcmp(p->envs[i].pools[k].zone, zone))
				return true;
	return false;
}

static void status_json(struct buf *out, const struct plan *p,
			const struct plan_observed *obs, const struct apply_quota *q)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *envs;

	cJSON_AddStringToObject(root, "format_version", "1");
	envs = cJSON_AddArrayToObject(root, "environments");

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *env = &p->envs[i];
		struct plan_status_counts k;
		cJSON *o, *pools;

		if (env->orphan)
			continue;
		plan_status_counts(&k, obs, env, NULL);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", env->name);
		cJSON_AddStringToObject(o, "region", env->region);
		cJSON_AddNumberToObject(o, "desired", env->desired);
		cJSON_AddNumberToObject(o, "active", env->active);
		cJSON_AddNumberToObject(o, "running", k.running);
		cJSON_AddNumberToObject(o, "pending", k.pending);
		cJSON_AddNumberToObject(o, "failed", k.failed);
		cJSON_AddNumberToObject(o, "leaving", k.leaving);
		cJSON_AddNumberToObject(o, "drifted", env->drifted);
		cJSON_AddStringToObject(o, "status", plan_env_state(env));
		pools = cJSON_AddArrayToObject(o, "pools");
		for (size_t j = 0; j < env->npools; j++) {
			const struct plan_pool *pl = &env->pools[j];
			cJSON *po = cJSON_CreateObject();

			plan_status_counts(&k, obs, env, pl);
			cJSON_AddStringToObject(po, "zone", pl->zone);
			cJSON_AddStringToObject(po, "instance_type", pl->type);
			cJSON_AddNumberToObject(po, "active", pl->active);
			cJSON_AddNumberToObject(po, "running", k.running);
			cJSON_AddNumberToObject(po, "pending", k.pending);
			cJSON_AddNumberToObject(po, "failed", k.failed);
			/* a decimal string, as in plan documents (never a float) */
			if (pl->price)
				cJSON_AddStringToObject(po, "price", pl->price);
			else
				cJSON_AddNullToObject(po, "price");
			cJSON_AddStringToObject(po, "offer_status",
						pl->offer_status ? pl->offer_status
								 : "unknown");
			cJSON_AddItemToArray(pools, po);
		}
		cJSON_AddItemToArray(envs, o);
	}
	if (q) {
		cJSON *qa = cJSON_AddArrayToObject(root, "spot_quota");

		for (size_t i = 0; i < q->n; i++) {
			cJSON *o;

			if (!status_zone_used(p, q->v[i].row.zone))
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "region", q->v[i].region);
			cJSON_AddStringToObject(o, "zone", q->v[i].row.zone);
			cJSON_AddNumberToObject(o, "used_vcpu", (double)q->v[i].row.used);
			cJSON_AddNumberToObject(o, "remaining_vcpu",
						(double)q->v[i].row.remaining);
			cJSON_AddNumberToObject(o, "total_vcpu",
						(double)q->v[i].row.total);
			cJSON_AddItemToArray(qa, o);
		}
	}
	plan_json_write(out, root);
	cJSON_Delete(root);
}

/* The offer in plain words: "selling", "sold out", "no stock", "no offer". */
static const char *status_offer_words(const struct plan_pool *pl)
{
	if (!pl->offer_status)
		return "no offer";
	if (!strcmp(pl->offer_status, "SOLD_OUT"))
		return "sold out";
	if (pl->stock && !strcmp(pl->stock, "WithoutStock"))
		return "no stock";
	if (!strcmp(pl->offer_status, "SELL"))
		return "selling";
	return "unknown offer";
}

/* The table: a line per environment, then one per pool. */
static void status_quota_text(struct buf *out, const struct plan *p,
			      const struct apply_quota *q)
{
	bool head = false;

	for (size_t i = 0; q && i < q->n; i++) {
		const struct tc_spot_quota *r = &q->v[i].row;

		if (!status_zone_used(p, r->zone))
			continue;
		if (!head)
			buf_printf(out, "\n%-28s %7s %9s %7s\n",
				   "SPOT QUOTA (vCPU) / ZONE", "USED", "REMAINING",
				   "TOTAL");
		head = true;
		buf_printf(out, "  %-26s %7" PRId64 " %9" PRId64 " %7" PRId64 "\n",
			   r->zone, r->used, r->remaining, r->total);
	}
}

static void status_text(struct buf *out, const struct plan *p,
			const struct plan_observed *obs)
{
	buf_printf(out, "%-28s %7s %6s %7s %7s %6s %7s  %s\n", "ENVIRONMENT / POOL",
		   "DESIRED", "ACTIVE", "RUNNING", "PENDING", "FAILED", "LEAVING",
		   "STATUS");
	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *env = &p->envs[i];
		struct plan_status_counts k;

		if (env->orphan)
			continue;
		plan_status_counts(&k, obs, env, NULL);
		buf_printf(out, "%-28s %7d %6d %7d %7d %6d %7d  %s\n", env->name,
			   env->desired, env->active, k.running, k.pending, k.failed,
			   k.leaving, plan_env_state(env));
		for (size_t j = 0; j < env->npools; j++) {
			const struct plan_pool *pl = &env->pools[j];
			char name[64];

			plan_status_counts(&k, obs, env, pl);
			snprintf(name, sizeof(name), "  %s/%s", pl->zone, pl->type);
			buf_printf(out, "%-28s %7s %6d %7d %7d %6d %7d  %s%s%s\n", name,
				   "", pl->active, k.running, k.pending, k.failed,
				   k.leaving, status_offer_words(pl),
				   pl->price ? " at " : "", pl->price ? pl->price : "");
		}
	}
}

int cmd_status(const struct cmd_ctx *ctx)
{
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct tc_client *client = NULL;
	struct buf out = BUF_INIT;
	struct apply_quota quota;
	struct err qe = ERR_INIT;
	bool have_quota = false;
	size_t nbad = 0;
	int ret;

	memset(&quota, 0, sizeof(quota));
	if (strcmp(format, "text") && strcmp(format, "json")) {
		ret = cmd_usagef("status", "unknown format '%s' (expected text or json)",
				 format);
		goto done;
	}
	if ((ret = cmd_load_specs(&set, &ctx->args, &c, false, &nbad)) != 0)
		goto done;
	if (!c.observed && (ret = cmd_open_client(&client, &c)) != 0)
		goto done;
	if ((ret = cmd_observe_and_plan(&p, &obs, client, &set, &c, false, -1)) != 0)
		goto done;
	if (client) {
		/* the zones' spot quota before any launch; unknown is a warning */
		const char **regions = xcalloc(p->nenvs + 1, sizeof(*regions));
		size_t nregions = 0;

		for (size_t i = 0; i < p->nenvs; i++) {
			bool seen = false;

			for (size_t k = 0; k < nregions; k++)
				seen |= p->envs[i].region &&
					!strcmp(regions[k], p->envs[i].region);
			if (!seen && p->envs[i].region && p->envs[i].npools)
				regions[nregions++] = p->envs[i].region;
		}
		if (apply_spot_quota(&quota, APPLY_CLOUD_TC(client), regions, nregions,
				     &qe) < 0) {
			cmd_warnf("the spot quota is unknown: %s", qe.msg ? qe.msg : "?");
			apply_quota_clear(&quota);
		} else {
			have_quota = true;
		}
		free(regions);
	}
	if (!strcmp(format, "json")) {
		status_json(&out, p, &obs, have_quota ? &quota : NULL);
	} else {
		status_text(&out, p, &obs);
		status_quota_text(&out, p, have_quota ? &quota : NULL);
	}
	ret = cmd_put_stdout(&out);
	if (!ret && detailed && nbad)
		ret = CMD_EXIT_SHORT; /* environments that did not load are not known */
	if (!ret && detailed) {
		/* 3 short beats 2 not converged beats 0 */
		for (size_t i = 0; i < p->nenvs; i++) {
			const char *st = plan_env_state(&p->envs[i]);

			if (p->envs[i].orphan)
				continue;
			if (!strcmp(st, "short") || !strcmp(st, "error"))
				ret = CMD_EXIT_SHORT;
			else if (strcmp(st, "converged") && ret != CMD_EXIT_SHORT)
				ret = CMD_EXIT_CHANGES;
		}
	}
done:
	plan_free(p);
	plan_observed_clear(&obs);
	spec_set_release(&set);
	tc_client_free(client);
	buf_release(&out);
	apply_quota_clear(&quota);
	err_clear(&qe);
	return ret;
}
