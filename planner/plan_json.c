/*
 * plan_json.c - the plan document (docs/plan-format.md): write it with a
 * stable key order, and read it back for `show` and `apply PLANFILE`.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include "plan.h"
#include "plan_internal.h"

/* ---------------------------------------------------------------------
 * Writing.
 */

static cJSON *plan_json_strv(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static cJSON *plan_template_json(const struct plan_template *t)
{
	cJSON *o, *x;

	if (!t)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	plan_json_str(o, "image", t->image);
	plan_json_str(o, "instance_name", t->instance_name);
	plan_json_str(o, "vpc_id", t->vpc_id);
	cJSON_AddItemToObject(o, "security_group_ids",
			      plan_json_strv(t->security_group_ids, t->nsecurity_groups));
	cJSON_AddNumberToObject(o, "public_ip_bandwidth_mbps",
				t->public_ip_bandwidth_mbps);
	x = cJSON_AddObjectToObject(o, "login");
	cJSON_AddItemToObject(x, "key_ids", plan_json_strv(t->key_ids, t->nkey_ids));
	cJSON_AddBoolToObject(x, "keep_image_login", t->keep_image_login);
	x = cJSON_AddObjectToObject(o, "system_disk");
	plan_json_str(x, "type", t->system_disk_type);
	cJSON_AddNumberToObject(x, "size_gb", t->system_disk_size_gb);
	plan_json_str(o, "user_data_b64", t->user_data_b64);
	return o;
}

static cJSON *plan_launch_json(const struct plan_launch *l)
{
	cJSON *o = cJSON_CreateObject(), *tags;

	plan_json_str(o, "env", l->env);
	plan_json_str(o, "region", l->region);
	cJSON_AddNumberToObject(o, "pool", l->pool);
	plan_json_str(o, "zone", l->zone);
	plan_json_str(o, "instance_type", l->type);
	plan_json_str(o, "subnet_id", l->subnet_id);
	cJSON_AddNumberToObject(o, "count", l->count);
	cJSON_AddNumberToObject(o, "chunk", l->chunk);
	cJSON_AddBoolToObject(o, "replace", l->replace);
	plan_json_str(o, "template", l->template);
	plan_json_str(o, "bid", l->bid);
	plan_json_str(o, "price", l->price);
	plan_json_str(o, "client_token", l->client_token);
	tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < l->ntags; i++) {
		cJSON *t = cJSON_CreateObject();

		plan_json_str(t, "key", l->tags[i].key);
		plan_json_str(t, "value", l->tags[i].value);
		cJSON_AddItemToArray(tags, t);
	}
	plan_json_str(o, "check", l->check);
	plan_json_str(o, "check_message", l->check_message);
	return o;
}

static cJSON *plan_release_json(const struct plan_release *r)
{
	cJSON *o = cJSON_CreateObject();

	plan_json_str(o, "id", r->id);
	plan_json_str(o, "env", r->env);
	plan_json_str(o, "region", r->region);
	plan_json_str(o, "zone", r->zone);
	plan_json_str(o, "instance_type", r->type);
	plan_json_str(o, "state", r->state);
	plan_json_str(o, "reason", plan_reason_name(r->reason));
	plan_json_str(o, "detail", r->detail);
	return o;
}

static cJSON *plan_pool_json(const struct plan_pool *pp)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "index", pp->index);
	plan_json_str(o, "zone", pp->zone);
	plan_json_str(o, "instance_type", pp->type);
	plan_json_str(o, "subnet_id", pp->subnet_id);
	plan_json_str(o, "bid", pp->bid);
	plan_json_str(o, "price", pp->price);
	plan_json_str(o, "offer_status", pp->offer_status);
	plan_json_str(o, "stock", pp->stock);
	plan_json_str(o, "template", pp->template);
	cJSON_AddBoolToObject(o, "usable", pp->usable);
	cJSON_AddNumberToObject(o, "active", pp->active);
	cJSON_AddNumberToObject(o, "launch", pp->launch);
	return o;
}

/* An environment with its pools and actions, in documented order. */
static cJSON *plan_env_json(const struct plan_env *pe)
{
	cJSON *o = cJSON_CreateObject(), *a;

	plan_json_str(o, "name", pe->name);
	plan_json_str(o, "scope", pe->scope);
	plan_json_str(o, "region", pe->region);
	plan_json_str(o, "basis", pe->basis);
	cJSON_AddBoolToObject(o, "orphan", pe->orphan);
	plan_json_str(o, "allocation", pe->allocation);
	plan_json_str(o, "status", plan_status_name(pe->status));
	cJSON_AddNumberToObject(o, "desired", pe->desired);
	cJSON_AddNumberToObject(o, "active", pe->active);
	cJSON_AddNumberToObject(o, "drifted", pe->drifted);
	cJSON_AddNumberToObject(o, "failed", pe->failed);
	cJSON_AddNumberToObject(o, "leaving", pe->leaving);
	cJSON_AddNumberToObject(o, "unusual", pe->unusual);
	cJSON_AddNumberToObject(o, "to_launch", pe->to_launch);
	cJSON_AddNumberToObject(o, "to_release", pe->to_release);
	cJSON_AddNumberToObject(o, "to_replace", pe->to_replace);
	plan_json_str(o, "hourly_cost_before", pe->hourly_cost_before);
	plan_json_str(o, "hourly_cost", pe->hourly_cost);
	plan_json_str(o, "max_hourly_cost", pe->max_hourly_cost);
	cJSON_AddNumberToObject(o, "max_release", pe->max_release);
	a = cJSON_AddObjectToObject(o, "update");
	cJSON_AddNumberToObject(a, "max_surge", pe->max_surge);
	cJSON_AddNumberToObject(a, "max_unavailable", pe->max_unavailable);
	cJSON_AddItemToObject(o, "errors", plan_json_strv(pe->errors, pe->nerrors));
	cJSON_AddItemToObject(o, "warnings", plan_json_strv(pe->warnings, pe->nwarnings));
	cJSON_AddItemToObject(o, "template", plan_template_json(pe->template));
	a = cJSON_AddArrayToObject(o, "pools");
	for (size_t i = 0; i < pe->npools; i++)
		cJSON_AddItemToArray(a, plan_pool_json(&pe->pools[i]));
	a = cJSON_AddArrayToObject(o, "fallback");
	for (size_t i = 0; i < pe->nfallback; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(pe->fallback[i]));
	a = cJSON_AddArrayToObject(o, "launches");
	for (size_t i = 0; i < pe->nlaunches; i++)
		cJSON_AddItemToArray(a, plan_launch_json(&pe->launches[i]));
	a = cJSON_AddArrayToObject(o, "releases");
	for (size_t i = 0; i < pe->nreleases; i++)
		cJSON_AddItemToArray(a, plan_release_json(&pe->releases[i]));
	return o;
}

int plan_to_json(struct buf *out, const struct plan *p)
{
	cJSON *root = cJSON_CreateObject(), *o, *a;
	struct plan_totals t;
	char before[32], after[32];
	int error;

	plan_totals(p, &t);
	cJSON_AddStringToObject(root, "format_version", PLAN_FORMAT_VERSION);
	cJSON_AddStringToObject(root, "kind", p->destroy ? "destroy" : "plan");
	plan_json_str(root, "basis", p->basis);
	plan_json_str(root, "observed_at", p->observed_at);
	if (p->endpoint) { /* bound: both members, the account possibly null */
		plan_json_str(root, "endpoint", p->endpoint);
		plan_json_str(root, "account", p->account);
	}
	o = cJSON_AddObjectToObject(root, "options");
	cJSON_AddBoolToObject(o, "prune", p->prune);
	cJSON_AddNumberToObject(o, "max_release", p->max_release);
	cJSON_AddItemToObject(o, "envs", plan_json_strv(p->env_filter, p->nenv_filter));
	cJSON_AddItemToObject(root, "scopes", plan_json_strv(p->scopes, p->nscopes));
	o = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(o, "environments", t.envs);
	cJSON_AddNumberToObject(o, "converged", t.converged);
	cJSON_AddNumberToObject(o, "to_launch", t.launch);
	cJSON_AddNumberToObject(o, "to_release", t.release);
	cJSON_AddNumberToObject(o, "to_replace", t.replace);
	cJSON_AddNumberToObject(o, "errors", t.errors);
	cJSON_AddNumberToObject(o, "warnings", t.warnings);
	cJSON_AddBoolToObject(o, "changes", plan_has_changes(p));
	plan_total_cost(p, before, after, sizeof(before));
	cJSON_AddStringToObject(o, "hourly_cost_before", before);
	cJSON_AddStringToObject(o, "hourly_cost", after);
	a = cJSON_AddArrayToObject(root, "environments");
	for (size_t i = 0; i < p->nenvs; i++)
		cJSON_AddItemToArray(a, plan_env_json(&p->envs[i]));
	a = cJSON_AddArrayToObject(root, "observed");
	/* [id, state, template]: one line per instance, plans stay small */
	for (size_t i = 0; i < p->nobserved; i++) {
		const struct plan_basis_item *b = &p->observed[i];
		cJSON *x = cJSON_CreateArray();

		cJSON_AddItemToArray(x, cJSON_CreateString(b->id));
		cJSON_AddItemToArray(x, b->state ? cJSON_CreateString(b->state)
						 : cJSON_CreateNull());
		cJSON_AddItemToArray(x, b->template ? cJSON_CreateString(b->template)
						    : cJSON_CreateNull());
		cJSON_AddItemToArray(a, x);
	}
	error = plan_json_emit(out, root);
	cJSON_Delete(root);
	return error;
}

/* ---------------------------------------------------------------------
 * Reading.  Every field is checked; errors name the JSON path.
 */

/* Limits of a plan document (docs/plan-format.md, "Reading a plan"). */
#define PLAN_MAX_DOC (64 << 20) /* bytes */
#define PLAN_MAX_DEPTH 12	/* a plan nests 7 deep */
#define PLAN_MAX_STRING 65536	/* bytes; user data is at most 16 KiB of base64 */
#define PLAN_MAX_ITEMS 1000000	/* elements of an array without a cap of its own */
#define PLAN_MAX_MEMBERS 256	/* members of one object (a plan's have at most 30) */
/*
 * Instance counts of an environment or a pool, and environments in a
 * plan: summed over every environment they stay far from INT_MAX.
 */
#define PLAN_MAX_COUNT 100000
#define PLAN_MAX_ENVS 10000

struct plan_reader {
	struct err *e;
	char path[160]; /* "environments[2].launches[0]" */
	int error;
};

/* Record the first error, named by its JSON path; later ones are dropped. */
static int plan_rd_fail(struct plan_reader *rd, const char *key, const char *what)
{
	if (!rd->error && !*rd->path && !key)
		rd->error = err_set(rd->e, ERR_INVALID, "plan file: %s", what);
	else if (!rd->error)
		rd->error =
			err_set(rd->e, ERR_INVALID, "plan file: '%s%s%s': %s", rd->path,
				*rd->path && key ? "." : "", key ? key : "", what);
	return rd->error;
}

static const cJSON *plan_rd_get(struct plan_reader *rd, const cJSON *o, const char *key)
{
	return rd->error ? NULL : cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A string or null (when nullable). */
static char *plan_rd_str(struct plan_reader *rd, const cJSON *o, const char *key,
			 bool nullable)
{
	const cJSON *v = plan_rd_get(rd, o, key);

	if (rd->error)
		return NULL;
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (nullable && (!v || cJSON_IsNull(v)))
		return NULL;
	plan_rd_fail(rd, key, v ? "expected a string" : "missing");
	return NULL;
}

static int plan_rd_int(struct plan_reader *rd, const cJSON *o, const char *key, int min,
		       int max)
{
	const cJSON *v = plan_rd_get(rd, o, key);

	if (rd->error)
		return 0;
	/* range first: converting an out-of-range double to int is undefined */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max) ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		plan_rd_fail(rd, key, v ? "expected an integer in range" : "missing");
		return 0;
	}
	return (int)v->valuedouble;
}

static bool plan_rd_bool(struct plan_reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = plan_rd_get(rd, o, key);

	if (rd->error)
		return false;
	if (!cJSON_IsBool(v)) {
		plan_rd_fail(rd, key, v ? "expected true or false" : "missing");
		return false;
	}
	return cJSON_IsTrue(v);
}

/*
 * The most elements an array member may hold.  Plans spotenv makes stay
 * far below; the caps bound what a hostile file can make apply hold or do.
 */
static int plan_rd_array_max(const char *key)
{
	static const struct {
		const char *key;
		int max;
	} caps[] = {
		{ "pools", SPEC_MAX_POOLS }, { "fallback", SPEC_MAX_POOLS },
		{ "tags", SPEC_MAX_TAGS },   { "security_group_ids", 100 },
		{ "key_ids", 100 },	     { "errors", 10000 },
		{ "warnings", 10000 },	     { "launches", 10000 },
		{ "releases", 100000 },	     { "environments", PLAN_MAX_ENVS },
	};

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (!strcmp(caps[i].key, key))
			return caps[i].max;
	return PLAN_MAX_ITEMS; /* environments, scopes, envs, observed */
}

static const cJSON *plan_rd_array(struct plan_reader *rd, const cJSON *o, const char *key)
{
	const cJSON *v = plan_rd_get(rd, o, key);

	if (rd->error)
		return NULL;
	if (!cJSON_IsArray(v)) {
		plan_rd_fail(rd, key, v ? "expected an array" : "missing");
		return NULL;
	}
	if (cJSON_GetArraySize(v) > plan_rd_array_max(key)) {
		plan_rd_fail(rd, key, "too many elements");
		return NULL;
	}
	return v;
}

static const cJSON *plan_rd_object(struct plan_reader *rd, const cJSON *o,
				   const char *key, bool nullable)
{
	const cJSON *v = plan_rd_get(rd, o, key);

	if (rd->error)
		return NULL;
	if (cJSON_IsObject(v))
		return v;
	if (nullable && (!v || cJSON_IsNull(v)))
		return NULL;
	plan_rd_fail(rd, key, v ? "expected an object" : "missing");
	return NULL;
}

static void plan_rd_strv(struct plan_reader *rd, const cJSON *o, const char *key,
			 char ***out, size_t *n)
{
	const cJSON *a = plan_rd_array(rd, o, key), *it;
	size_t i = 0;

	*out = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	*n = 0;
	cJSON_ArrayForEach (it, a) {
		if (!cJSON_IsString(it)) {
			plan_rd_fail(rd, key, "expected an array of strings");
			return;
		}
		(*out)[i++] = xstrdup(it->valuestring);
		*n = i;
	}
}

/* Push "[i]" or ".key[i]" onto the path; returns the old length to restore. */
static size_t plan_rd_push(struct plan_reader *rd, const char *key, size_t i)
{
	size_t old = strlen(rd->path);

	snprintf(rd->path + old, sizeof(rd->path) - old, "%s%s[%zu]", old ? "." : "", key,
		 i);
	return old;
}

/* A string that must be one of name(0..n-1); returns its index. */
static int plan_rd_enum(struct plan_reader *rd, const cJSON *o, const char *key,
			const char *(*name)(int), int n)
{
	char *s = plan_rd_str(rd, o, key, false);
	int r = -1;

	for (int i = 0; s && i < n; i++)
		if (!strcmp(s, name(i)))
			r = i;
	if (s && r < 0)
		plan_rd_fail(rd, key, "unknown value");
	free(s);
	return r < 0 ? 0 : r;
}

static const char *plan_reason_name_i(int i)
{
	return plan_reason_name((enum plan_reason)i);
}
static const char *plan_status_name_i(int i)
{
	return plan_status_name((enum plan_status)i);
}

static struct plan_template *plan_rd_template(struct plan_reader *rd, const cJSON *o)
{
	struct plan_template *t;
	const cJSON *x;

	if (!o)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->image = plan_rd_str(rd, o, "image", false);
	t->instance_name = plan_rd_str(rd, o, "instance_name", true);
	t->vpc_id = plan_rd_str(rd, o, "vpc_id", true);
	plan_rd_strv(rd, o, "security_group_ids", &t->security_group_ids,
		     &t->nsecurity_groups);
	t->public_ip_bandwidth_mbps =
		plan_rd_int(rd, o, "public_ip_bandwidth_mbps", 0, 65535);
	x = plan_rd_object(rd, o, "login", false);
	if (x) {
		plan_rd_strv(rd, x, "key_ids", &t->key_ids, &t->nkey_ids);
		t->keep_image_login = plan_rd_bool(rd, x, "keep_image_login");
	}
	x = plan_rd_object(rd, o, "system_disk", false);
	if (x) {
		t->system_disk_type = plan_rd_str(rd, x, "type", true);
		t->system_disk_size_gb = plan_rd_int(rd, x, "size_gb", 0, 65535);
	}
	t->user_data_b64 = plan_rd_str(rd, o, "user_data_b64", true);
	return t;
}

static void plan_rd_launch(struct plan_reader *rd, struct plan_launch *l, const cJSON *o)
{
	const cJSON *tags, *it;
	size_t i = 0;

	l->env = plan_rd_str(rd, o, "env", false);
	l->region = plan_rd_str(rd, o, "region", false);
	l->pool = plan_rd_int(rd, o, "pool", 0, SPEC_MAX_POOLS - 1);
	l->zone = plan_rd_str(rd, o, "zone", false);
	l->type = plan_rd_str(rd, o, "instance_type", false);
	l->subnet_id = plan_rd_str(rd, o, "subnet_id", true);
	l->count = plan_rd_int(rd, o, "count", 1, PLAN_CHUNK);
	l->chunk = plan_rd_int(rd, o, "chunk", 0, INT_MAX);
	l->replace = plan_rd_bool(rd, o, "replace");
	l->template = plan_rd_str(rd, o, "template", false);
	l->bid = plan_rd_str(rd, o, "bid", false);
	if (l->bid && !dec_valid(l->bid))
		plan_rd_fail(rd, "bid", "expected a decimal string");
	l->price = plan_rd_str(rd, o, "price", true);
	if (l->price && !dec_valid(l->price))
		plan_rd_fail(rd, "price", "expected a decimal string");
	l->client_token = plan_rd_str(rd, o, "client_token", false);
	if (l->client_token && strlen(l->client_token) > TC_MAX_CLIENT_TOKEN)
		plan_rd_fail(rd, "client_token", "longer than 64 characters");
	tags = plan_rd_array(rd, o, "tags");
	l->tags = xcalloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(*l->tags));
	cJSON_ArrayForEach (it, tags) {
		if (!cJSON_IsObject(it)) {
			plan_rd_fail(rd, "tags", "expected objects");
			break;
		}
		l->tags[i].key = plan_rd_str(rd, it, "key", false);
		l->tags[i].value = plan_rd_str(rd, it, "value", false);
		l->ntags = ++i;
	}
	l->check = plan_rd_str(rd, o, "check", true);
	l->check_message = plan_rd_str(rd, o, "check_message", true);
}

static void plan_rd_release(struct plan_reader *rd, struct plan_release *r,
			    const cJSON *o)
{
	r->id = plan_rd_str(rd, o, "id", false);
	r->env = plan_rd_str(rd, o, "env", false);
	r->region = plan_rd_str(rd, o, "region",
				false); /* (null was allowed; never written) */
	r->zone = plan_rd_str(rd, o, "zone", true);
	r->type = plan_rd_str(rd, o, "instance_type", true);
	r->state = plan_rd_str(rd, o, "state", true);
	r->reason = (enum plan_reason)plan_rd_enum(rd, o, "reason", plan_reason_name_i,
						   PLAN_REASON_DESTROY + 1);
	r->detail = plan_rd_str(rd, o, "detail", true);
}

static void plan_rd_pool(struct plan_reader *rd, struct plan_pool *pp, const cJSON *o)
{
	pp->index = plan_rd_int(rd, o, "index", 0, SPEC_MAX_POOLS - 1);
	pp->zone = plan_rd_str(rd, o, "zone", false);
	pp->type = plan_rd_str(rd, o, "instance_type", false);
	pp->subnet_id = plan_rd_str(rd, o, "subnet_id", true);
	pp->bid = plan_rd_str(rd, o, "bid", false);
	if (pp->bid && !dec_valid(pp->bid))
		plan_rd_fail(rd, "bid", "expected a decimal string");
	pp->price = plan_rd_str(rd, o, "price", true);
	if (pp->price && !dec_valid(pp->price))
		plan_rd_fail(rd, "price", "expected a decimal string");
	pp->offer_status = plan_rd_str(rd, o, "offer_status", true);
	pp->stock = plan_rd_str(rd, o, "stock", true);
	pp->template = plan_rd_str(rd, o, "template", false);
	pp->usable = plan_rd_bool(rd, o, "usable");
	pp->active = plan_rd_int(rd, o, "active", 0, PLAN_MAX_COUNT);
	pp->launch = plan_rd_int(rd, o, "launch", 0, PLAN_MAX_COUNT);
}

#define PLAN_RD_LIST(rd, o, key, arr, n, elemfn)                                         \
	do {                                                                             \
		const cJSON *a_ = plan_rd_array(rd, o, key), *it_;                       \
		size_t i_ = 0;                                                           \
		(arr) = xcalloc((size_t)cJSON_GetArraySize(a_) + 1, sizeof(*(arr)));     \
		cJSON_ArrayForEach (it_, a_) {                                           \
			size_t old_ = plan_rd_push(rd, key, i_);                         \
			if (!cJSON_IsObject(it_))                                        \
				plan_rd_fail(rd, NULL, "expected an object");            \
			else                                                             \
				elemfn(rd, &(arr)[i_], it_);                             \
			(n) = ++i_;                                                      \
			if ((rd)->error)                                                 \
				break;                                                   \
			(rd)->path[old_] = '\0';                                         \
		}                                                                        \
	} while (0)

static void plan_rd_env(struct plan_reader *rd, struct plan_env *pe, const cJSON *o)
{
	const cJSON *x;

	pe->name = plan_rd_str(rd, o, "name", false);
	pe->scope = plan_rd_str(rd, o, "scope", true);
	pe->region = plan_rd_str(rd, o, "region", true);
	pe->basis = plan_rd_str(rd, o, "basis", true);
	pe->orphan = plan_rd_bool(rd, o, "orphan");
	pe->allocation = plan_rd_str(rd, o, "allocation", true);
	pe->status = (enum plan_status)plan_rd_enum(rd, o, "status", plan_status_name_i,
						    PLAN_STATUS_ERROR + 1);
	pe->desired = plan_rd_int(rd, o, "desired", 0, PLAN_MAX_COUNT);
	pe->active = plan_rd_int(rd, o, "active", 0, PLAN_MAX_COUNT);
	pe->drifted = plan_rd_int(rd, o, "drifted", 0, PLAN_MAX_COUNT);
	pe->failed = plan_rd_int(rd, o, "failed", 0, PLAN_MAX_COUNT);
	pe->leaving = plan_rd_int(rd, o, "leaving", 0, PLAN_MAX_COUNT);
	pe->unusual = plan_rd_int(rd, o, "unusual", 0, PLAN_MAX_COUNT);
	pe->to_launch = plan_rd_int(rd, o, "to_launch", 0, PLAN_MAX_COUNT);
	pe->to_release = plan_rd_int(rd, o, "to_release", 0, PLAN_MAX_COUNT);
	pe->to_replace = plan_rd_int(rd, o, "to_replace", 0, PLAN_MAX_COUNT);
	pe->hourly_cost_before = plan_rd_str(rd, o, "hourly_cost_before", true);
	pe->hourly_cost = plan_rd_str(rd, o, "hourly_cost", true);
	pe->max_hourly_cost = plan_rd_str(rd, o, "max_hourly_cost", true);
	if ((pe->hourly_cost_before && !dec_valid(pe->hourly_cost_before)) ||
	    (pe->hourly_cost && !dec_valid(pe->hourly_cost)) ||
	    (pe->max_hourly_cost && !dec_valid(pe->max_hourly_cost)))
		plan_rd_fail(rd, "hourly_cost", "expected a decimal string");
	pe->max_release = plan_rd_int(rd, o, "max_release", -1, INT_MAX);
	x = plan_rd_object(rd, o, "update", false);
	if (x) {
		pe->max_surge = plan_rd_int(rd, x, "max_surge", 0, PLAN_MAX_COUNT);
		pe->max_unavailable =
			plan_rd_int(rd, x, "max_unavailable", 0, PLAN_MAX_COUNT);
	}
	plan_rd_strv(rd, o, "errors", &pe->errors, &pe->nerrors);
	plan_rd_strv(rd, o, "warnings", &pe->warnings, &pe->nwarnings);
	pe->template = plan_rd_template(rd, plan_rd_object(rd, o, "template", true));
	PLAN_RD_LIST(rd, o, "pools", pe->pools, pe->npools, plan_rd_pool);
	x = plan_rd_array(rd, o, "fallback");
	pe->fallback = xcalloc((size_t)cJSON_GetArraySize(x) + 1, sizeof(int));
	for (const cJSON *it = x ? x->child : NULL; it && !rd->error; it = it->next) {
		if (!cJSON_IsNumber(it) || it->valueint < 0 ||
		    (size_t)it->valueint >= pe->npools ||
		    it->valuedouble != (double)it->valueint)
			plan_rd_fail(rd, "fallback", "expected pool indices");
		else
			pe->fallback[pe->nfallback++] = it->valueint;
	}
	PLAN_RD_LIST(rd, o, "launches", pe->launches, pe->nlaunches, plan_rd_launch);
	PLAN_RD_LIST(rd, o, "releases", pe->releases, pe->nreleases, plan_rd_release);
	/* apply indexes pools with these: keep them in range */
	for (size_t i = 0; i < pe->nlaunches && !rd->error; i++)
		if ((size_t)pe->launches[i].pool >= pe->npools)
			plan_rd_fail(rd, "launches",
				     "a launch names a pool that is not listed");
	pe->launches_alloc = pe->nlaunches;
	pe->releases_alloc = pe->nreleases;
	pe->warnings_alloc = pe->nwarnings;
	pe->errors_alloc = pe->nerrors;
}

/* One basis item: [id, state or null, template or null]. */
static void plan_rd_items(struct plan_reader *rd, struct plan *p, const cJSON *root)
{
	const cJSON *a = plan_rd_array(rd, root, "observed"), *it;
	size_t i = 0;

	p->observed = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*p->observed));
	cJSON_ArrayForEach (it, a) {
		const cJSON *id = cJSON_GetArrayItem(it, 0),
			    *st = cJSON_GetArrayItem(it, 1);
		const cJSON *tm = cJSON_GetArrayItem(it, 2);

		if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 3 ||
		    !cJSON_IsString(id) || !(cJSON_IsString(st) || cJSON_IsNull(st)) ||
		    !(cJSON_IsString(tm) || cJSON_IsNull(tm))) {
			plan_rd_fail(rd, "observed",
				     "expected [id, state, template] entries");
			return;
		}
		p->observed[i].id = xstrdup(id->valuestring);
		p->observed[i].state =
			cJSON_IsString(st) ? xstrdup(st->valuestring) : NULL;
		p->observed[i].template =
			cJSON_IsString(tm) ? xstrdup(tm->valuestring) : NULL;
		p->nobserved = ++i;
	}
}

/*
 * The shape every plan document has, checked over the whole tree before a
 * field is read: no member twice in an object (a reader would see the
 * first, a reviewer's tool perhaps the last), nesting at most
 * PLAN_MAX_DEPTH, strings at most PLAN_MAX_STRING bytes.
 */
static void plan_rd_shape(struct plan_reader *rd, const cJSON *node, int depth)
{
	if (rd->error)
		return;
	if (depth > PLAN_MAX_DEPTH) {
		plan_rd_fail(rd, NULL, "nested too deeply");
		return;
	}
	if (cJSON_IsString(node) && strlen(node->valuestring) > PLAN_MAX_STRING) {
		plan_rd_fail(rd, node->string, "string too long");
		return;
	}
	if (cJSON_IsObject(node) && cJSON_GetArraySize(node) > PLAN_MAX_MEMBERS) {
		plan_rd_fail(rd, node->string, "too many members");
		return;
	}
	for (const cJSON *k = node->child; k && !rd->error; k = k->next) {
		if (cJSON_IsObject(node))
			for (const cJSON *j = node->child; j != k; j = j->next)
				if (!strcmp(j->string, k->string)) {
					plan_rd_fail(rd, k->string, "appears twice");
					return;
				}
		plan_rd_shape(rd, k, depth + 1);
	}
}

/*
 * Whether the JSON text has a \u0000 escape in a string: cJSON would cut
 * the string there, so what is checked would not be what was written.
 */
static bool plan_rd_has_nul(const char *data, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		size_t bs = 0;

		if (memcmp(data + i, "u0000", 5) || i == 0 || data[i - 1] != '\\')
			continue;
		while (bs < i && data[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2)
			return true;
	}
	return false;
}

/* "http://" or "https://" and at most 255 printable characters after it. */
static bool plan_rd_endpoint_ok(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
		return false;
	if (n > 263)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

int plan_from_json(struct plan **out, const char *data, size_t len, struct err *e)
{
	struct plan_reader rd = { .e = e };
	cJSON *root = NULL;
	const cJSON *v, *o;
	struct plan *p = NULL;
	char *kind = NULL;

	if (len > PLAN_MAX_DOC)
		return err_set(e, ERR_INVALID, "plan file is larger than %d MiB",
			       PLAN_MAX_DOC >> 20);
	if (!(root = cJSON_ParseWithLength(data, len)))
		return err_set(e, ERR_INVALID, "plan file is not valid JSON");
	if (!cJSON_IsObject(root)) {
		plan_rd_fail(&rd, NULL, "not a JSON object");
		goto done;
	}
	if (plan_rd_has_nul(data, len)) {
		plan_rd_fail(&rd, NULL, "a string holds \\u0000");
		goto done;
	}
	plan_rd_shape(&rd, root, 0);
	if (rd.error)
		goto done;
	v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	if (!cJSON_IsString(v)) {
		err_set(e, ERR_INVALID, "not a spotenv plan file: no 'format_version'");
		rd.error = ERR_INVALID;
		goto done;
	}
	if (strcmp(v->valuestring, PLAN_FORMAT_VERSION)) {
		err_set(e, ERR_INVALID,
			"unsupported plan format_version '%s' (this spotenv "
			"reads '%s')",
			v->valuestring, PLAN_FORMAT_VERSION);
		rd.error = ERR_INVALID;
		goto done;
	}
	p = xcalloc(1, sizeof(*p));
	kind = plan_rd_str(&rd, root, "kind", false);
	if (kind && strcmp(kind, "plan") && strcmp(kind, "destroy"))
		plan_rd_fail(&rd, "kind", "expected \"plan\" or \"destroy\"");
	p->destroy = kind && !strcmp(kind, "destroy");
	p->basis = plan_rd_str(&rd, root, "basis", false);
	p->observed_at = plan_rd_str(&rd, root, "observed_at", true);
	/* absent in files older than the binding: unbound, which apply refuses */
	p->endpoint = plan_rd_str(&rd, root, "endpoint", true);
	if (p->endpoint && !plan_rd_endpoint_ok(p->endpoint))
		plan_rd_fail(&rd, "endpoint", "expected an http:// or https:// URL");
	p->account = plan_rd_str(&rd, root, "account", true);
	if (p->account && (!*p->account || strlen(p->account) > 20 ||
			   strspn(p->account, "0123456789") != strlen(p->account)))
		plan_rd_fail(&rd, "account", "expected an AppId (decimal digits)");
	o = plan_rd_object(&rd, root, "options", false);
	if (o) {
		p->prune = plan_rd_bool(&rd, o, "prune");
		p->max_release = plan_rd_int(&rd, o, "max_release", -1, INT_MAX);
		plan_rd_strv(&rd, o, "envs", &p->env_filter, &p->nenv_filter);
	}
	plan_rd_strv(&rd, root, "scopes", &p->scopes, &p->nscopes);
	PLAN_RD_LIST(&rd, root, "environments", p->envs, p->nenvs, plan_rd_env);
	plan_rd_items(&rd, p, root);

done:
	free(kind);
	cJSON_Delete(root);
	if (rd.error) {
		plan_free(p);
		return rd.error;
	}
	*out = p;
	return 0;
}
