/*
 * schema.c - SpotEnvironment and SpotEnvironmentList documents.
 *
 * The rules of docs/spec-format.md: the defaults, and the checks that
 * involve more than one value (zones in the region, subnets with a VPC,
 * duplicate pools, tags and environments).  Which keys each mapping has,
 * which are required, and their types, bounds and enum values come from
 * the tables of rules.c; get.c reads and checks the single values.  An
 * environment enters the set only when it has no problem at all.
 */
#include "../util/setup.h"

#include <openssl/evp.h>

#include "load_int.h"

/* The field of f[] (read with spec_fields against m) for m's key name. */
static struct spec_field *field(struct spec_field *f, const struct spec_map *m,
				const char *name)
{
	return spec_field_find(f, m->nkeys, name);
}

void spec_env_release(struct spec_env *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->scope);
	free(e->region);
	free(e->max_price);
	free(e->image);
	for (size_t i = 0; i < e->npools; i++) {
		free(e->pools[i].zone);
		free(e->pools[i].instance_type);
		free(e->pools[i].subnet_id);
		free(e->pools[i].max_price);
	}
	free(e->pools);
	free(e->instance_name);
	for (size_t i = 0; i < e->ntags; i++) {
		free(e->tags[i].key);
		free(e->tags[i].value);
	}
	free(e->tags);
	free(e->network.vpc_id);
	for (size_t i = 0; i < e->network.nsecurity_groups; i++)
		free(e->network.security_group_ids[i]);
	free(e->network.security_group_ids);
	for (size_t i = 0; i < e->login.nkey_ids; i++)
		free(e->login.key_ids[i]);
	free(e->login.key_ids);
	free(e->system_disk.type);
	free(e->user_data);
	free(e->user_data_b64);
	free(e->limits.max_hourly_cost);
	memset(e, 0, sizeof(*e));
}

static void load_metadata(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			  const char *path)
{
	const struct spec_map *m = &spec_map_metadata;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, m, f))
		return;
	if (spec_need(c, n, path, (x = field(f, m, "name"))))
		e->name = spec_get_name(c, x->val, spec_path_key(p, path, "name"));
	if (spec_need(c, n, path, (x = field(f, m, "scope")))) {
		free(e->scope);
		e->scope = spec_get_name(c, x->val, spec_path_key(p, path, "scope"));
		if (!e->scope)
			e->scope = xstrdup("default");
	}
}

static bool valid_region(const char *s)
{
	bool dash = false;

	if (!islower((unsigned char)*s))
		return false;
	for (; *s; s++) {
		if (*s == '-')
			dash = true;
		else if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
			return false;
	}
	return dash && s[-1] != '-';
}

static bool valid_instance_type(const struct spec_key *rule, const char *s)
{
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1] || strlen(s) > (size_t)rule->max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && s != dot)
			return false;
	return true;
}

static void load_pool(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path, struct spec_pool *out, bool *ok)
{
	const struct spec_map *m = &spec_map_pool;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH], d[64];
	const char *s;

	out->loc.file = c->file;
	out->loc.line = n->line;
	out->loc.col = n->col;
	if (!spec_fields(c, n, path, m, f)) {
		*ok = false;
		return;
	}
	x = field(f, m, "zone");
	if (spec_need(c, n, path, x) &&
	    (s = spec_rule_scalar(c, x->rule, x->val, spec_path_key(p, path, "zone")))) {
		size_t rl = e->region ? strlen(e->region) : 0;
		const char *num = e->region && !strncmp(s, e->region, rl) && s[rl] == '-'
					  ? s + rl + 1
					  : NULL;
		bool digits = num && *num;

		for (const char *q = num; digits && *q; q++)
			digits = isdigit((unsigned char)*q);
		if (e->region && !digits) {
			spec_error(c, x->val, p,
				   "zone %s is not in region '%s' (expected '%s-N')",
				   spec_describe(d, sizeof(d), x->val), e->region,
				   e->region);
		} else if (!e->region && !valid_region(s)) {
			spec_error(c, x->val, p, "expected %s, got %s", x->rule->expect,
				   spec_describe(d, sizeof(d), x->val));
		} else {
			out->zone = xstrdup(s);
		}
	}
	x = field(f, m, "instanceType");
	if (spec_need(c, n, path, x) &&
	    (s = spec_rule_scalar(c, x->rule, x->val,
				  spec_path_key(p, path, "instanceType")))) {
		if (valid_instance_type(x->rule, s))
			out->instance_type = xstrdup(s);
		else
			spec_error(c, x->val, p, "expected %s, got %s", x->rule->expect,
				   spec_describe(d, sizeof(d), x->val));
	}
	x = field(f, m, "subnetId");
	if (spec_need(c, n, path, x) &&
	    !(out->subnet_id = spec_rule_id(c, x->rule, x->val,
					    spec_path_key(p, path, "subnetId"))))
		*ok = false;
	x = field(f, m, "maxPrice");
	if (spec_need(c, n, path, x) &&
	    !(out->max_price =
		      spec_get_price(c, x->val, spec_path_key(p, path, "maxPrice"))))
		*ok = false;
	if (!out->zone || !out->instance_type)
		*ok = false;
}

/*
 * The pools that are valid; pool_nodes[i], subnet_nodes[i] and index[i]
 * say where e->pools[i] was written.
 */
static void load_pools(struct spec_ctx *c, struct spec_env *e,
		       const struct spec_key *rule, const struct ynode *n,
		       const char *path, const struct ynode **pool_nodes,
		       const struct ynode **subnet_nodes, size_t *index)
{
	char p[SPEC_MAX_PATH], d[64];

	if (n->kind != YNODE_SEQ) {
		spec_error(c, n, path,
			   "expected a list of pools (zone and instanceType), got %s",
			   spec_describe(d, sizeof(d), n));
		return;
	}
	if (n->nkids < (size_t)rule->min || n->nkids > (size_t)rule->max) {
		spec_error(c, n, path, "expected from %ld to %ld pools, got %zu",
			   rule->min, rule->max, n->nkids);
		return;
	}
	e->pools = xcalloc(n->nkids, sizeof(*e->pools));
	for (size_t i = 0; i < n->nkids; i++) {
		struct spec_pool *pool = &e->pools[e->npools];
		bool ok = true;

		load_pool(c, e, n->kids[i], spec_path_index(p, path, i), pool, &ok);
		if (!ok) {
			free(pool->zone);
			free(pool->instance_type);
			free(pool->subnet_id);
			free(pool->max_price);
			memset(pool, 0, sizeof(*pool));
			continue;
		}
		for (size_t j = 0; j < e->npools; j++) {
			if (!strcmp(e->pools[j].zone, pool->zone) &&
			    !strcmp(e->pools[j].instance_type, pool->instance_type)) {
				spec_error(
					c, n->kids[i], p,
					"duplicate pool: zone '%s' with instance type '%s' "
					"is already "
					"listed at line %d column %d",
					pool->zone, pool->instance_type,
					e->pools[j].loc.line, e->pools[j].loc.col);
				break;
			}
		}
		pool_nodes[e->npools] = n->kids[i];
		index[e->npools] = i;
		subnet_nodes[e->npools] = ynode_get(n->kids[i], "subnetId");
		e->npools++;
	}
}

struct tagref {
	const struct ynode *key, *val;
};

static int tagref_cmp(const void *a, const void *b)
{
	const struct tagref *x = a, *y = b;
	int r = strcmp(x->key->str, y->key->str);

	if (r)
		return r;
	if (x->key->line != y->key->line)
		return x->key->line < y->key->line ? -1 : 1;
	return x->key->col < y->key->col ? -1 : x->key->col > y->key->col;
}

static bool valid_tag_key_char(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || strchr(" +-=._:/@", ch);
}

static bool reserved_tag_key(const char *k)
{
	static const char *const prefixes[] = { "qcloud", "tencent", "project",
						"spotenv:" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncasecmp(k, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void load_tags(struct spec_ctx *c, struct spec_env *e, const struct spec_key *rule,
		      const struct ynode *n, const char *path)
{
	const struct spec_key *krule = rule->dict_key, *vrule = rule->item;
	struct tagref *refs = NULL;
	size_t nrefs = 0;
	char d[64];

	if (n->kind != YNODE_MAP) {
		spec_error(c, n, path, "expected a mapping of tag keys to values, got %s",
			   spec_describe(d, sizeof(d), n));
		return;
	}
	if (ynode_npairs(n) > (size_t)rule->max) {
		spec_error(
			c, n, path,
			"too many tags: %zu, and spotenv adds %d of its own; an instance can "
			"have at most %d (so at most %d here)",
			ynode_npairs(n), SPEC_OWN_TAGS, SPEC_MAX_TAGS,
			SPEC_MAX_TAGS - SPEC_OWN_TAGS);
		return;
	}
	refs = xcalloc(ynode_npairs(n) + 1, sizeof(*refs));
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		const struct ynode *k = n->kids[i], *v = n->kids[i + 1];
		const char *ks = spec_rule_scalar(c, krule, k, path), *vs = "";
		bool ok = ks != NULL;

		if (ks && spec_utf8_chars(ks) > (size_t)krule->max) {
			spec_error(c, k, path, "tag key %s is longer than %ld characters",
				   spec_describe(d, sizeof(d), k), krule->max);
			ok = false;
		} else if (ks) {
			for (const char *q = ks; *q; q++) {
				if (!valid_tag_key_char((unsigned char)*q)) {
					spec_error(
						c, k, path,
						"tag key %s has the character '%c'; tag keys "
						"may hold "
						"letters, digits, spaces and + - = . _ : / @",
						spec_describe(d, sizeof(d), k),
						isprint((unsigned char)*q) ? *q : '?');
					ok = false;
					break;
				}
			}
			if (ok && reserved_tag_key(ks)) {
				spec_error(
					c, k, path,
					"tag key %s is reserved (keys starting with "
					"'qcloud', "
					"'tencent', 'project' or 'spotenv:' cannot be used)",
					spec_describe(d, sizeof(d), k));
				ok = false;
			}
		}
		if (!ynode_is_null(v)) {
			vs = spec_rule_scalar(c, vrule, v, path);
			if (vs && spec_utf8_chars(vs) > (size_t)vrule->max) {
				spec_error(
					c, v, path,
					"value of tag '%s' is longer than %ld characters",
					ks ? ks : "?", vrule->max);
				vs = NULL;
			} else if (vs && spec_has_control(vs)) {
				spec_error(c, v, path,
					   "value of tag '%s' has a control character",
					   ks ? ks : "?");
				vs = NULL;
			}
			ok = ok && vs;
		}
		if (ok) {
			refs[nrefs].key = k;
			refs[nrefs].val = ynode_is_null(v) ? NULL : v;
			nrefs++;
		}
	}
	qsort(refs, nrefs, sizeof(*refs), tagref_cmp);
	e->tags = nrefs ? xcalloc(nrefs, sizeof(*e->tags)) : NULL;
	for (size_t i = 0; i < nrefs; i++) {
		if (i > 0 && !strcmp(refs[i].key->str, refs[i - 1].key->str)) {
			spec_error(c, refs[i].key, path,
				   "duplicate tag key '%s' (first given at line %d "
				   "column %d)",
				   refs[i].key->str, refs[i - 1].key->line,
				   refs[i - 1].key->col);
			continue;
		}
		e->tags[e->ntags].key = xstrdup(refs[i].key->str);
		e->tags[e->ntags].value = xstrdup(refs[i].val ? refs[i].val->str : "");
		e->ntags++;
	}
	free(refs);
}

static void load_network(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			 const char *path)
{
	const struct spec_map *m = &spec_map_network;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, m, f))
		return;
	if (spec_need(c, n, path, (x = field(f, m, "vpcId"))))
		e->network.vpc_id =
			spec_rule_id(c, x->rule, x->val, spec_path_key(p, path, "vpcId"));
	if (spec_need(c, n, path, (x = field(f, m, "securityGroupIds"))))
		spec_rule_id_list(
			c, x->rule, x->val, spec_path_key(p, path, "securityGroupIds"),
			&e->network.security_group_ids, &e->network.nsecurity_groups);
	if (spec_need(c, n, path, (x = field(f, m, "publicIpBandwidthMbps"))))
		spec_rule_int(c, x->rule, x->val,
			      spec_path_key(p, path, "publicIpBandwidthMbps"),
			      &e->network.public_ip_bandwidth_mbps);
}

static void load_login(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		       const char *path)
{
	const struct spec_map *m = &spec_map_login;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];
	bool keys_ok = true;

	if (!spec_fields(c, n, path, m, f))
		return;
	if (spec_need(c, n, path, (x = field(f, m, "keyIds"))))
		keys_ok = spec_rule_id_list(c, x->rule, x->val,
					    spec_path_key(p, path, "keyIds"),
					    &e->login.key_ids, &e->login.nkey_ids);
	if (spec_need(c, n, path, (x = field(f, m, "keepImageLogin"))))
		spec_get_bool(c, x->val, spec_path_key(p, path, "keepImageLogin"),
			      &e->login.keep_image_login);
	if (keys_ok && e->login.nkey_ids > 0 && e->login.keep_image_login)
		spec_error(
			c, x->key, path,
			"keyIds and keepImageLogin cannot both be set (choose the image's "
			"login or "
			"the keys)");
}

static void load_system_disk(struct spec_ctx *c, struct spec_env *e,
			     const struct ynode *n, const char *path)
{
	const struct spec_map *m = &spec_map_system_disk;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];
	int i;

	if (!spec_fields(c, n, path, m, f))
		return;
	x = field(f, m, "type");
	if (spec_need(c, n, path, x) &&
	    (i = spec_rule_enum(c, x->rule, x->val, spec_path_key(p, path, "type"))) >= 0)
		e->system_disk.type = xstrdup(x->rule->choices[i]);
	if (spec_need(c, n, path, (x = field(f, m, "sizeGb"))))
		spec_rule_int(c, x->rule, x->val, spec_path_key(p, path, "sizeGb"),
			      &e->system_disk.size_gb);
}

static void load_user_data(struct spec_ctx *c, struct spec_env *e,
			   const struct spec_key *rule, const struct ynode *n,
			   const char *path)
{
	const char *s = spec_rule_scalar(c, rule, n, path);
	size_t len, b64;

	if (!s)
		return;
	len = strlen(s);
	if (len == 0)
		return; /* "" is no user data */
	b64 = 4 * ((len + 2) / 3);
	if (b64 > SPEC_MAX_USERDATA_B64) {
		spec_error(
			c, n, path,
			"user data is %zu bytes after base64 encoding; the limit is %d "
			"(about 12 KiB "
			"of text)",
			b64, SPEC_MAX_USERDATA_B64);
		return;
	}
	e->user_data = xstrdup(s);
	e->user_data_b64 = xmalloc(b64 + 1);
	EVP_EncodeBlock((unsigned char *)e->user_data_b64, (const unsigned char *)s,
			(int)len);
	e->user_data_b64[b64] = '\0';
}

static void load_update(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			const char *path)
{
	const struct spec_map *m = &spec_map_update;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];
	bool ok = true;

	if (!spec_fields(c, n, path, m, f))
		return;
	if (spec_need(c, n, path, (x = field(f, m, "maxSurge"))))
		ok &= spec_rule_int(c, x->rule, x->val,
				    spec_path_key(p, path, "maxSurge"),
				    &e->update.max_surge);
	if (spec_need(c, n, path, (x = field(f, m, "maxUnavailable"))))
		ok &= spec_rule_int(c, x->rule, x->val,
				    spec_path_key(p, path, "maxUnavailable"),
				    &e->update.max_unavailable);
	if (ok && e->update.max_surge == 0 && e->update.max_unavailable == 0)
		spec_error(
			c, n, path,
			"maxSurge and maxUnavailable cannot both be 0 (nothing could be "
			"replaced)");
}

static void load_limits(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			const char *path)
{
	const struct spec_map *m = &spec_map_limits;
	struct spec_field f[SPEC_MAX_KEYS], *x;
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, m, f))
		return;
	if (spec_need(c, n, path, (x = field(f, m, "maxReleasePerApply"))))
		spec_rule_int(c, x->rule, x->val,
			      spec_path_key(p, path, "maxReleasePerApply"),
			      &e->limits.max_release_per_apply);
	if (spec_need(c, n, path, (x = field(f, m, "maxHourlyCost"))))
		e->limits.max_hourly_cost = spec_get_price(
			c, x->val, spec_path_key(p, path, "maxHourlyCost"));
}

static void load_spec(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path)
{
	const struct spec_map *m = &spec_map_spec;
	struct spec_field f[SPEC_MAX_KEYS];
	const struct ynode *subnets[SPEC_MAX_POOLS], *pool_nodes[SPEC_MAX_POOLS];
	size_t pool_index[SPEC_MAX_POOLS];
	char p[SPEC_MAX_PATH], d[64];
	struct spec_field *x;
	const char *s;
	int i;

	if (!spec_fields(c, n, path, m, f))
		return;
	x = field(f, m, "region");
	if (spec_need(c, n, path, x) &&
	    (s = spec_rule_scalar(c, x->rule, x->val,
				  spec_path_key(p, path, "region")))) {
		if (valid_region(s))
			e->region = xstrdup(s);
		else
			spec_error(c, x->val, p, "expected %s, got %s", x->rule->expect,
				   spec_describe(d, sizeof(d), x->val));
	}
	x = field(f, m, "capacity");
	if (spec_need(c, n, path, x))
		spec_rule_int(c, x->rule, x->val, spec_path_key(p, path, "capacity"),
			      &e->capacity);
	x = field(f, m, "maxPrice");
	if (spec_need(c, n, path, x))
		e->max_price =
			spec_get_price(c, x->val, spec_path_key(p, path, "maxPrice"));
	x = field(f, m, "image");
	if (spec_need(c, n, path, x))
		e->image =
			spec_rule_id(c, x->rule, x->val, spec_path_key(p, path, "image"));
	x = field(f, m, "network");
	if (spec_need(c, n, path, x))
		load_network(c, e, x->val, spec_path_key(p, path, "network"));
	x = field(f, m, "pools");
	if (spec_need(c, n, path, x))
		load_pools(c, e, x->rule, x->val, spec_path_key(p, path, "pools"),
			   pool_nodes, subnets, pool_index);
	for (size_t k = 0; k < e->npools; k++) {
		char pp[SPEC_MAX_PATH], ps[SPEC_MAX_PATH];

		spec_path_index(pp, spec_path_key(p, path, "pools"), pool_index[k]);
		if (e->network.vpc_id && !e->pools[k].subnet_id)
			spec_error(
				c, pool_nodes[k], pp,
				"missing required key 'subnetId' (network.vpcId is set, and "
				"subnets "
				"belong to one zone)");
		else if (e->pools[k].subnet_id &&
			 !ynode_get(ynode_get(n, "network"), "vpcId"))
			spec_error(c, subnets[k], spec_path_key(ps, pp, "subnetId"),
				   "subnetId needs network.vpcId (the subnet's VPC)");
	}
	x = field(f, m, "allocation");
	if (spec_need(c, n, path, x) &&
	    (i = spec_rule_enum(c, x->rule, x->val,
				spec_path_key(p, path, "allocation"))) >= 0)
		e->allocation = (enum spec_alloc)i;
	x = field(f, m, "instanceName");
	if (spec_need(c, n, path, x) &&
	    (s = spec_rule_scalar(c, x->rule, x->val,
				  spec_path_key(p, path, "instanceName")))) {
		if (spec_utf8_chars(s) > (size_t)x->rule->max || spec_has_control(s))
			spec_error(c, x->val, p,
				   "expected %s of at most %ld characters without "
				   "control characters, got %s",
				   x->rule->expect, x->rule->max,
				   spec_describe(d, sizeof(d), x->val));
		else
			e->instance_name = xstrdup(s);
	}
	x = field(f, m, "tags");
	if (spec_need(c, n, path, x))
		load_tags(c, e, x->rule, x->val, spec_path_key(p, path, "tags"));
	x = field(f, m, "login");
	if (spec_need(c, n, path, x))
		load_login(c, e, x->val, spec_path_key(p, path, "login"));
	x = field(f, m, "systemDisk");
	if (spec_need(c, n, path, x))
		load_system_disk(c, e, x->val, spec_path_key(p, path, "systemDisk"));
	x = field(f, m, "userData");
	if (spec_need(c, n, path, x))
		load_user_data(c, e, x->rule, x->val, spec_path_key(p, path, "userData"));
	x = field(f, m, "update");
	if (spec_need(c, n, path, x))
		load_update(c, e, x->val, spec_path_key(p, path, "update"));
	x = field(f, m, "limits");
	if (spec_need(c, n, path, x))
		load_limits(c, e, x->val, spec_path_key(p, path, "limits"));
}

/* Where an environment named name was first seen, or NULL. */
static const struct spec_loc *find_seen(struct spec_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->nenvs_before; i++)
		if (!strcmp(c->set->envs[i].name, name))
			return &c->set->envs[i].loc;
	for (size_t i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i].name, name))
			return &c->seen[i].loc;
	return NULL;
}

/*
 * One environment: n is the document (or list item) holding metadata and
 * spec, already checked for keys; prefix is "" or "items[2]".
 */
static void load_env(struct spec_ctx *c, const struct ynode *n,
		     const struct spec_field *meta, const struct spec_field *spec,
		     const char *prefix)
{
	struct spec_env e;
	size_t nerrs = c->errs->n;
	char p[SPEC_MAX_PATH], pm[SPEC_MAX_PATH];
	const struct spec_loc *first;

	memset(&e, 0, sizeof(e));
	e.scope = xstrdup("default");
	e.allocation = SPEC_ALLOC_PRIORITY;
	e.update.max_surge = 1;
	e.update.max_unavailable = 0;
	e.limits.max_release_per_apply = -1;
	e.loc.file = c->file;
	e.loc.line = n->line;
	e.loc.col = n->col;

	if (spec_need(c, n, prefix, meta))
		load_metadata(c, &e, meta->val, spec_path_key(p, prefix, "metadata"));
	if (spec_need(c, n, prefix, spec))
		load_spec(c, &e, spec->val, spec_path_key(p, prefix, "spec"));

	if (e.name && (first = find_seen(c, e.name))) {
		spec_error(
			c, ynode_get(meta->val, "name"),
			spec_path_key(p, spec_path_key(pm, prefix, "metadata"), "name"),
			"duplicate environment '%s' (first defined at %s:%d:%d)", e.name,
			first->file, first->line, first->col);
	} else if (e.name) {
		ALLOC_GROW(c->seen, c->nseen + 1, c->alloc_seen);
		c->seen[c->nseen].name = xstrdup(e.name);
		c->seen[c->nseen].loc = e.loc;
		c->nseen++;
	}
	if (c->errs->n != nerrs) {
		spec_env_release(&e);
		return;
	}
	ALLOC_GROW(c->set->envs, c->set->nenvs + 1, c->set->nenvs_alloc);
	c->set->envs[c->set->nenvs++] = e;
}

/* The index of s among rule's choices, or -1. */
static int rule_choice(const struct spec_key *rule, const char *s)
{
	for (size_t i = 0; i < rule->nchoices; i++)
		if (!strcmp(s, rule->choices[i]))
			return (int)i;
	return -1;
}

/*
 * apiVersion and kind of a document (item false: any kind) or of a list
 * item (item true: apiVersion and kind may be left out, and kind must be
 * one of its rule's).  Whether they are required, and the values allowed,
 * come from the fields' rules.  Sets *kind_out to an index into
 * spec_kind_names[]; false when unusable.
 */
static bool check_header(struct spec_ctx *c, const struct ynode *n,
			 const struct spec_field *api, const struct spec_field *kind,
			 const char *path, bool item, int *kind_out)
{
	const struct spec_key *ar = api->rule, *kr = kind->rule;
	const char *const *kinds = item ? kr->choices : spec_kind_names;
	size_t nkinds = item ? kr->nchoices : spec_nkind_names;
	char p[SPEC_MAX_PATH], d[64], h[96];
	bool ok = true;
	const char *s;

	if (spec_need(c, n, path, api)) {
		s = spec_rule_scalar(c, ar, api->val,
				     spec_path_key(p, path, "apiVersion"));
		ok = s && rule_choice(ar, s) >= 0;
		if (s && !ok)
			spec_error(c, api->val, p,
				   "unsupported apiVersion %s (expected %s)",
				   spec_describe(d, sizeof(d), api->val), ar->expect);
	} else {
		ok = !spec_field_error(api);
	}
	if (!spec_need(c, n, path, kind)) {
		if (spec_field_error(kind))
			return false;
		*kind_out = 0;
		return ok;
	}
	if (!(s = spec_rule_scalar(c, kr, kind->val, spec_path_key(p, path, "kind"))))
		return false;
	for (size_t i = 0; i < nkinds; i++) {
		if (!strcmp(s, kinds[i])) {
			*kind_out = (int)(kinds + i - spec_kind_names);
			return ok;
		}
	}
	if (item)
		spec_error(c, kind->val, p, "unsupported kind %s in a list (expected %s)",
			   spec_describe(d, sizeof(d), kind->val), kr->expect);
	else
		spec_error(c, kind->val, p, "unsupported kind %s%s; expected %s",
			   spec_describe(d, sizeof(d), kind->val),
			   spec_hint(h, sizeof(h), s, kinds, nkinds), kr->expect);
	return false;
}

static void load_list(struct spec_ctx *c, const struct spec_key *rule,
		      const struct ynode *items)
{
	const struct spec_map *m = rule->item->map;
	char p[SPEC_MAX_PATH], d[64];

	if (items->kind != YNODE_SEQ) {
		spec_error(c, items, "items", "expected a list of environments, got %s",
			   spec_describe(d, sizeof(d), items));
		return;
	}
	if (items->nkids < (size_t)rule->min) {
		spec_error(c, items, "items", "expected at least one environment");
		return;
	}
	for (size_t i = 0; i < items->nkids; i++) {
		struct spec_field f[SPEC_MAX_KEYS];
		const struct ynode *it = items->kids[i];
		int kind = 0;

		spec_path_index(p, "items", i);
		if (!spec_fields(c, it, p, m, f))
			continue;
		if (!check_header(c, it, field(f, m, "apiVersion"), field(f, m, "kind"),
				  p, true, &kind))
			continue;
		load_env(c, it, field(f, m, "metadata"), field(f, m, "spec"), p);
	}
}

/* One YAML document (ytree callback). */
void spec_load_doc(void *arg, const struct ynode *root)
{
	struct spec_ctx *c = arg;
	const struct spec_map *m = &spec_map_env_doc;
	struct spec_field api, kind, f[SPEC_MAX_KEYS], *x;
	char d[64];
	int k = -1;

	if (root->kind != YNODE_MAP) {
		spec_error(
			c, root, NULL,
			"expected a mapping with apiVersion, kind, metadata and spec, got %s",
			spec_describe(d, sizeof(d), root));
		return;
	}
	/* the keys allowed depend on the kind: read it first */
	spec_field_peek(root, spec_map_key(m, "apiVersion"), &api);
	spec_field_peek(root, spec_map_key(m, "kind"), &kind);
	if (!check_header(c, root, &api, &kind, "", false, &k))
		return;
	if (k == 0) {
		spec_fields(c, root, "", m, f);
		load_env(c, root, field(f, m, "metadata"), field(f, m, "spec"), "");
	} else {
		m = &spec_map_list_doc;
		spec_fields(c, root, "", m, f);
		if (spec_need(c, root, "", (x = field(f, m, "items"))))
			load_list(c, x->rule, x->val);
	}
}

const char *spec_alloc_name(enum spec_alloc a)
{
	if ((size_t)a < spec_nalloc_names)
		return spec_alloc_names[a];
	return "unknown";
}