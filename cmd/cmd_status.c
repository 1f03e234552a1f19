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

static const char usage[] = "status PATH... [--format text|json] [--env NAME] [--observed FILE]";
static const char about[] =
	"Show, per environment and pool, the desired capacity and the active,\n"
	"pending, failed and leaving instances observed now.";

struct counts {
	int pending, running, failed, leaving;
};

static bool is_state(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

static void count_instance(struct counts *c, const char *state)
{
	static const char *const failed[] = { "LAUNCH_FAILED", "STOPPED", "STOPPING" };
	static const char *const leaving[] = { "SHUTDOWN", "TERMINATING" };

	if (!strcmp(state, "RUNNING"))
		c->running++;
	else if (is_state(state, failed, ARRAY_SIZE(failed)))
		c->failed++;
	else if (is_state(state, leaving, ARRAY_SIZE(leaving)))
		c->leaving++;
	else
		c->pending++; /* PENDING, STARTING, REBOOTING, unusual */
}

/* Counts for env (and zone/type when given) from the observation. */
static struct counts count_env(const struct plan_observed *obs, const struct plan_env *env,
			       const char *zone, const char *type)
{
	struct counts c = { 0, 0, 0, 0 };

	for (size_t i = 0; i < obs->instances.n; i++) {
		const struct tc_instance *in = &obs->instances.v[i];
		const char *e = tc_instance_tag(in, PLAN_TAG_ENV);
		const char *s = tc_instance_tag(in, PLAN_TAG_SCOPE);

		if (!e || strcmp(e, env->name) || !s || strcmp(s, env->scope))
			continue;
		if (zone && (!in->zone || strcmp(in->zone, zone) || !in->type ||
			     strcmp(in->type, type)))
			continue;
		count_instance(&c, in->state ? in->state : "");
	}
	return c;
}

static const char *env_state(const struct plan_env *env)
{
	if (env->status == PLAN_STATUS_CONVERGED)
		return "converged";
	if (env->status == PLAN_STATUS_ERROR)
		return "error";
	if (env->active < env->desired)
		return "short";
	if (env->active > env->desired)
		return "over";
	return "drifted";
}

int cmd_status(int argc, char **argv)
{
	struct cmd_common c = CMD_COMMON_INIT;
	const char *format = "text";
	const struct cmd_opt opts[] = {
		{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default) or json", 0, 0 },
		{ CMD_OPT_STR, "observed", 0, &c.observed, "FILE", "use a snapshot from 'spotenv observe'", 0, 0 },
		CMD_COMMON_API_OPTS(c),
		{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
	};
	struct cmd_strlist args = { NULL, 0, 0 };
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct tc_client *client = NULL;
	struct buf out = BUF_INIT;
	cJSON *root = NULL;
	int ret;

	ret = cmd_parse("status", usage, about, opts, argc, argv, &args);
	if (ret < 0) {
		ret = cmd_finish_stdout(CMD_EXIT_OK);
		goto done;
	}
	if (ret)
		goto done;
	if (strcmp(format, "text") && strcmp(format, "json")) {
		ret = cmd_usagef("status", "unknown format '%s' (expected text or json)", format);
		goto done;
	}
	if ((ret = cmd_load_specs(&set, "status", &args, &c, false)) != 0)
		goto done;
	if (!c.observed && (ret = cmd_open_client(&client, &c)) != 0)
		goto done;
	if ((ret = cmd_observe_and_plan(&p, &obs, client, &set, &c, false, -1)) != 0)
		goto done;

	if (!strcmp(format, "json")) {
		cJSON *envs;
		char *text;

		root = cJSON_CreateObject();
		envs = cJSON_AddArrayToObject(root, "environments");
		for (size_t i = 0; i < p->nenvs; i++) {
			const struct plan_env *env = &p->envs[i];
			struct counts k;
			cJSON *o, *pools;

			if (env->orphan)
				continue;
			k = count_env(&obs, env, NULL, NULL);
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
			cJSON_AddStringToObject(o, "status", env_state(env));
			pools = cJSON_AddArrayToObject(o, "pools");
			for (size_t j = 0; j < env->npools; j++) {
				const struct plan_pool *pl = &env->pools[j];
				struct counts pk = count_env(&obs, env, pl->zone, pl->type);
				cJSON *po = cJSON_CreateObject();

				cJSON_AddStringToObject(po, "zone", pl->zone);
				cJSON_AddStringToObject(po, "instance_type", pl->type);
				cJSON_AddNumberToObject(po, "active", pl->active);
				cJSON_AddNumberToObject(po, "running", pk.running);
				cJSON_AddNumberToObject(po, "pending", pk.pending);
				cJSON_AddNumberToObject(po, "failed", pk.failed);
				/* a decimal string, as in plan documents (never a float) */
				if (pl->price)
					cJSON_AddStringToObject(po, "price", pl->price);
				else
					cJSON_AddNullToObject(po, "price");
				cJSON_AddStringToObject(po, "offer_status",
							pl->offer_status ? pl->offer_status : "unknown");
				cJSON_AddItemToArray(pools, po);
			}
			cJSON_AddItemToArray(envs, o);
		}
		text = cJSON_Print(root);
		buf_puts(&out, text);
		buf_putc(&out, '\n');
		free(text);
	} else {
		buf_printf(&out, "%-28s %7s %6s %7s %7s %6s %7s  %s\n", "ENVIRONMENT / POOL",
			   "DESIRED", "ACTIVE", "RUNNING", "PENDING", "FAILED", "LEAVING", "STATUS");
		for (size_t i = 0; i < p->nenvs; i++) {
			const struct plan_env *env = &p->envs[i];
			struct counts k;

			if (env->orphan)
				continue;
			k = count_env(&obs, env, NULL, NULL);
			buf_printf(&out, "%-28s %7d %6d %7d %7d %6d %7d  %s\n", env->name, env->desired,
				   env->active, k.running, k.pending, k.failed, k.leaving,
				   env_state(env));
			for (size_t j = 0; j < env->npools; j++) {
				const struct plan_pool *pl = &env->pools[j];
				struct counts pk = count_env(&obs, env, pl->zone, pl->type);
				char name[64];

				snprintf(name, sizeof(name), "  %s/%s", pl->zone, pl->type);
				buf_printf(&out, "%-28s %7s %6d %7d %7d %6d %7d  %s%s%s\n", name, "",
					   pl->active, pk.running, pk.pending, pk.failed, pk.leaving,
					   pl->offer_status ? pl->offer_status : "no offer",
					   pl->price ? " at " : "", pl->price ? pl->price : "");
			}
		}
	}
	ret = cmd_finish_stdout(cmd_put_stdout(&out));
done:
	cJSON_Delete(root);
	plan_free(p);
	plan_observed_clear(&obs);
	spec_set_free(&set);
	tc_client_free(client);
	buf_free(&out);
	cmd_strlist_free(&args);
	cmd_common_free(&c);
	return ret;
}
