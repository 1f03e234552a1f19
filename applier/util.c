/*
 * util.c - small helpers shared by the applier's files (apply_int.h).
 */
#include "../util/setup.h"
#include "apply_int.h"

void apply_strlist_add_unique(char ***v, size_t *n, size_t *alloc, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[(*n)++] = xstrdup(s);
}

void apply_strlist_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

const struct plan_pool *apply_env_pool(const struct plan_env *env, int index)
{
	for (size_t i = 0; i < env->npools; i++)
		if (env->pools[i].index == index)
			return &env->pools[i];
	return NULL;
}

void apply_fill_request(struct tc_run_request *req, const struct plan_env *env,
			const struct plan_pool *pool, int count, const char *token,
			const char *bid, const struct tc_tag *tags, size_t ntags,
			bool dry_run)
{
	const struct plan_template *t = env->template;

	memset(req, 0, sizeof(*req));
	req->region = env->region;
	req->zone = pool->zone;
	req->instance_type = pool->type;
	req->image = t->image;
	req->count = count;
	req->max_price = bid;
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

void apply_env_reason(struct apply_env_result *r, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(r->reasons, r->nreasons + 1, r->reasons_alloc);
	va_start(ap, fmt);
	r->reasons[r->nreasons++] = xvasprintf(fmt, ap);
	va_end(ap);
}

bool apply_quota_error(const struct err *e)
{
	return e->cls == ERR_CLASS_QUOTA;
}

bool apply_capacity_splits(const struct err *e)
{
	const char *c = e->api_code;

	/* sold out (ResourcesSoldOut.*) takes nothing: no smaller try */
	return apply_quota_error(e) || (c && !strncmp(c, "ResourceInsufficient.", 21));
}
