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

/*
 * The JSON document: {"environments": [...]} with the pools of each, and
 * "spot_quota" (the pools' zones) when it is known.
 */
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

			if (!cmd_quota_zone_used(p, q->v[i].row.zone))
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
	/* the zones' spot quota before any launch; unknown is a warning */
	if (client)
		have_quota = cmd_spot_quota(&quota, client, p);
	if (!strcmp(format, "json")) {
		status_json(&out, p, &obs, have_quota ? &quota : NULL);
	} else {
		status_text(&out, p, &obs);
		cmd_quota_text(&out, p, have_quota ? &quota : NULL, "\n");
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
	return ret;
}
