/*
 * schema.c - SpotEnvironment and SpotEnvironmentList documents.
 *
 * The rules of docs/spec-format.md: which keys each mapping has, which are
 * required, the defaults, and the checks that involve more than one value
 * (zones in the region, subnets with a VPC, duplicate pools, tags and
 * environments).  An environment enters the set only when it has no
 * problem at all; get.c reads and checks the single values.
 */
#include "../util/setup.h"

#include <openssl/evp.h>

#include "load_int.h"

#define SPEC_MAX_TAG_KEY 127
#define SPEC_MAX_TAG_VALUE 255
#define SPEC_MAX_INSTANCE_NAME 60
#define SPEC_MIN_DISK_GB 20
#define SPEC_MAX_DISK_GB 1024
#define SPEC_MAX_BANDWIDTH 1000

static const char *const alloc_names[] = { "priority", "spread", "lowest-price",
					   "capacity-optimized" };

static const char *const disk_types[] = {
	"LOCAL_BASIC",	 "LOCAL_SSD",  "CLOUD_BASIC", "CLOUD_SSD",
	"CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_HSSD",  "CLOUD_TSSD",
};

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
	struct spec_field f[] = { { "name", NULL, NULL }, { "scope", NULL, NULL } };
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_need(c, n, path, &f[0], "the environment's name"))
		e->name = spec_get_name(c, f[0].val, spec_path_key(p, path, "name"));
	if (spec_present(&f[1])) {
		free(e->scope);
		e->scope = spec_get_name(c, f[1].val, spec_path_key(p, path, "scope"));
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

static bool valid_instance_type(const char *s)
{
	const char *dot = strchr(s, '.');

	if (!dot || dot == s || !dot[1] || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && s != dot)
			return false;
	return true;
}

static void load_pool(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path, struct spec_pool *out, bool *ok)
{
	struct spec_field f[] = {
		{ "zone", NULL, NULL },
		{ "instanceType", NULL, NULL },
		{ "subnetId", NULL, NULL },
		{ "maxPrice", NULL, NULL },
	};
	char p[SPEC_MAX_PATH], d[64];
	const char *s;

	out->loc.file = c->file;
	out->loc.line = n->line;
	out->loc.col = n->col;
	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false)) {
		*ok = false;
		return;
	}
	if (spec_need(c, n, path, &f[0], "a zone such as 'ap-guangzhou-3'") &&
	    (s = spec_get_scalar(c, f[0].val, spec_path_key(p, path, "zone"),
				 "a zone such as 'ap-guangzhou-3'"))) {
		size_t rl = e->region ? strlen(e->region) : 0;
		const char *num = e->region && !strncmp(s, e->region, rl) && s[rl] == '-'
					  ? s + rl + 1
					  : NULL;
		bool digits = num && *num;

		for (const char *q = num; digits && *q; q++)
			digits = isdigit((unsigned char)*q);
		if (e->region && !digits) {
			spec_error(c, f[0].val, p,
				   "zone %s is not in region '%s' (expected '%s-N')",
				   spec_describe(d, sizeof(d), f[0].val), e->region,
				   e->region);
		} else if (!e->region && !valid_region(s)) {
			spec_error(c, f[0].val, p,
				   "expected a zone such as 'ap-guangzhou-3', got %s",
				   spec_describe(d, sizeof(d), f[0].val));
		} else {
			out->zone = xstrdup(s);
		}
	}
	if (spec_need(c, n, path, &f[1], "an instance type such as 'S5.MEDIUM4'") &&
	    (s = spec_get_scalar(c, f[1].val, spec_path_key(p, path, "instanceType"),
				 "an instance type such as 'S5.MEDIUM4'"))) {
		if (valid_instance_type(s))
			out->instance_type = xstrdup(s);
		else
			spec_error(
				c, f[1].val, p,
				"expected an instance type such as 'S5.MEDIUM4', got %s",
				spec_describe(d, sizeof(d), f[1].val));
	}
	if (spec_present(&f[2]) &&
	    !(out->subnet_id =
		      spec_get_id(c, f[2].val, spec_path_key(p, path, "subnetId"),
				  "subnet-", "a subnet id")))
		*ok = false;
	if (spec_present(&f[3]) &&
	    !(out->max_price =
		      spec_get_price(c, f[3].val, spec_path_key(p, path, "maxPrice"))))
		*ok = false;
	if (!out->zone || !out->instance_type)
		*ok = false;
}

/*
 * The pools that are valid; pool_nodes[i], subnet_nodes[i] and index[i]
 * say where e->pools[i] was written.
 */
static void load_pools(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
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
	if (n->nkids == 0 || n->nkids > SPEC_MAX_POOLS) {
		spec_error(c, n, path, "expected from 1 to %d pools, got %zu",
			   SPEC_MAX_POOLS, n->nkids);
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

static void load_tags(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path)
{
	struct tagref *refs = NULL;
	size_t nrefs = 0;
	char d[64];

	if (n->kind != YNODE_MAP) {
		spec_error(c, n, path, "expected a mapping of tag keys to values, got %s",
			   spec_describe(d, sizeof(d), n));
		return;
	}
	if (ynode_npairs(n) + SPEC_OWN_TAGS > SPEC_MAX_TAGS) {
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
		const char *ks = spec_get_scalar(c, k, path, "a tag key"), *vs = "";
		bool ok = ks != NULL;

		if (ks && spec_utf8_chars(ks) > SPEC_MAX_TAG_KEY) {
			spec_error(c, k, path, "tag key %s is longer than %d characters",
				   spec_describe(d, sizeof(d), k), SPEC_MAX_TAG_KEY);
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
			vs = spec_get_scalar(c, v, path, "a tag value");
			if (vs && spec_utf8_chars(vs) > SPEC_MAX_TAG_VALUE) {
				spec_error(
					c, v, path,
					"value of tag '%s' is longer than %d characters",
					ks ? ks : "?", SPEC_MAX_TAG_VALUE);
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
	struct spec_field f[] = {
		{ "vpcId", NULL, NULL },
		{ "securityGroupIds", NULL, NULL },
		{ "publicIpBandwidthMbps", NULL, NULL },
	};
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_present(&f[0]))
		e->network.vpc_id = spec_get_id(
			c, f[0].val, spec_path_key(p, path, "vpcId"), "vpc-", "a VPC id");
	if (spec_present(&f[1]))
		spec_get_id_list(c, f[1].val, spec_path_key(p, path, "securityGroupIds"),
				 "sg-", "a security group id",
				 &e->network.security_group_ids,
				 &e->network.nsecurity_groups);
	if (spec_present(&f[2]))
		spec_get_int(c, f[2].val, spec_path_key(p, path, "publicIpBandwidthMbps"),
			     0, SPEC_MAX_BANDWIDTH, &e->network.public_ip_bandwidth_mbps);
}

static void load_login(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		       const char *path)
{
	struct spec_field f[] = { { "keyIds", NULL, NULL },
				  { "keepImageLogin", NULL, NULL } };
	char p[SPEC_MAX_PATH];
	bool keys_ok = true;

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_present(&f[0]))
		keys_ok = spec_get_id_list(c, f[0].val, spec_path_key(p, path, "keyIds"),
					   "skey-", "a key id", &e->login.key_ids,
					   &e->login.nkey_ids);
	if (spec_present(&f[1]))
		spec_get_bool(c, f[1].val, spec_path_key(p, path, "keepImageLogin"),
			      &e->login.keep_image_login);
	if (keys_ok && e->login.nkey_ids > 0 && e->login.keep_image_login)
		spec_error(
			c, f[1].key, path,
			"keyIds and keepImageLogin cannot both be set (choose the image's "
			"login or "
			"the keys)");
}

static void load_system_disk(struct spec_ctx *c, struct spec_env *e,
			     const struct ynode *n, const char *path)
{
	struct spec_field f[] = { { "type", NULL, NULL }, { "sizeGb", NULL, NULL } };
	char p[SPEC_MAX_PATH];
	int i;

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_present(&f[0]) &&
	    (i = spec_get_enum(c, f[0].val, spec_path_key(p, path, "type"), disk_types,
			       ARRAY_SIZE(disk_types))) >= 0)
		e->system_disk.type = xstrdup(disk_types[i]);
	if (spec_present(&f[1]))
		spec_get_int(c, f[1].val, spec_path_key(p, path, "sizeGb"),
			     SPEC_MIN_DISK_GB, SPEC_MAX_DISK_GB, &e->system_disk.size_gb);
}

static void load_user_data(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			   const char *path)
{
	const char *s =
		spec_get_scalar(c, n, path, "text (a script or cloud-init config)");
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
	struct spec_field f[] = { { "maxSurge", NULL, NULL },
				  { "maxUnavailable", NULL, NULL } };
	char p[SPEC_MAX_PATH];
	bool ok = true;

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_present(&f[0]))
		ok &= spec_get_int(c, f[0].val, spec_path_key(p, path, "maxSurge"), 0,
				   SPEC_MAX_CAPACITY, &e->update.max_surge);
	if (spec_present(&f[1]))
		ok &= spec_get_int(c, f[1].val, spec_path_key(p, path, "maxUnavailable"),
				   0, SPEC_MAX_CAPACITY, &e->update.max_unavailable);
	if (ok && e->update.max_surge == 0 && e->update.max_unavailable == 0)
		spec_error(
			c, n, path,
			"maxSurge and maxUnavailable cannot both be 0 (nothing could be "
			"replaced)");
}

static void load_limits(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
			const char *path)
{
	struct spec_field f[] = {
		{ "maxReleasePerApply", NULL, NULL },
		{ "maxHourlyCost", NULL, NULL },
	};
	char p[SPEC_MAX_PATH];

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (spec_present(&f[0]))
		spec_get_int(c, f[0].val, spec_path_key(p, path, "maxReleasePerApply"), 0,
			     SPEC_MAX_CAPACITY, &e->limits.max_release_per_apply);
	if (spec_present(&f[1]))
		e->limits.max_hourly_cost = spec_get_price(
			c, f[1].val, spec_path_key(p, path, "maxHourlyCost"));
}

static void load_spec(struct spec_ctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path)
{
	struct spec_field f[] = {
		{ "region", NULL, NULL },	{ "capacity", NULL, NULL },
		{ "maxPrice", NULL, NULL },	{ "image", NULL, NULL },
		{ "pools", NULL, NULL },	{ "allocation", NULL, NULL },
		{ "instanceName", NULL, NULL }, { "tags", NULL, NULL },
		{ "network", NULL, NULL },	{ "login", NULL, NULL },
		{ "systemDisk", NULL, NULL },	{ "userData", NULL, NULL },
		{ "update", NULL, NULL },	{ "limits", NULL, NULL },
	};
	const struct ynode *subnets[SPEC_MAX_POOLS], *pool_nodes[SPEC_MAX_POOLS];
	size_t pool_index[SPEC_MAX_POOLS];
	char p[SPEC_MAX_PATH], d[64];
	struct spec_field *x;
	const char *s;
	int i;

	if (!spec_fields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	x = spec_field_find(f, ARRAY_SIZE(f), "region");
	if (spec_need(c, n, path, x, "a region such as 'ap-guangzhou'") &&
	    (s = spec_get_scalar(c, x->val, spec_path_key(p, path, "region"),
				 "a region such as 'ap-guangzhou'"))) {
		if (valid_region(s))
			e->region = xstrdup(s);
		else
			spec_error(c, x->val, p,
				   "expected a region such as 'ap-guangzhou', got %s",
				   spec_describe(d, sizeof(d), x->val));
	}
	x = spec_field_find(f, ARRAY_SIZE(f), "capacity");
	if (spec_need(c, n, path, x, "the number of instances wanted, 0 to 10000"))
		spec_get_int(c, x->val, spec_path_key(p, path, "capacity"), 0,
			     SPEC_MAX_CAPACITY, &e->capacity);
	x = spec_field_find(f, ARRAY_SIZE(f), "maxPrice");
	if (spec_need(c, n, path, x,
		      "the highest bid in CNY per instance-hour, such as \"0.60\""))
		e->max_price =
			spec_get_price(c, x->val, spec_path_key(p, path, "maxPrice"));
	x = spec_field_find(f, ARRAY_SIZE(f), "image");
	if (spec_need(c, n, path, x, "an image id such as 'img-pmqg1cw7'"))
		e->image = spec_get_id(c, x->val, spec_path_key(p, path, "image"), "img-",
				       "an image id");
	x = spec_field_find(f, ARRAY_SIZE(f), "network");
	if (spec_present(x))
		load_network(c, e, x->val, spec_path_key(p, path, "network"));
	x = spec_field_find(f, ARRAY_SIZE(f), "pools");
	if (spec_need(c, n, path, x, "a list of zone and instanceType pairs"))
		load_pools(c, e, x->val, spec_path_key(p, path, "pools"), pool_nodes,
			   subnets, pool_index);
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
	x = spec_field_find(f, ARRAY_SIZE(f), "allocation");
	if (spec_present(x) &&
	    (i = spec_get_enum(c, x->val, spec_path_key(p, path, "allocation"),
			       alloc_names, ARRAY_SIZE(alloc_names))) >= 0)
		e->allocation = (enum spec_alloc)i;
	x = spec_field_find(f, ARRAY_SIZE(f), "instanceName");
	if (spec_present(x) &&
	    (s = spec_get_scalar(c, x->val, spec_path_key(p, path, "instanceName"),
				 "an instance name prefix"))) {
		if (spec_utf8_chars(s) > SPEC_MAX_INSTANCE_NAME || spec_has_control(s))
			spec_error(
				c, x->val, p,
				"expected an instance name prefix of at most %d characters "
				"without "
				"control characters, got %s",
				SPEC_MAX_INSTANCE_NAME,
				spec_describe(d, sizeof(d), x->val));
		else
			e->instance_name = xstrdup(s);
	}
	x = spec_field_find(f, ARRAY_SIZE(f), "tags");
	if (spec_present(x))
		load_tags(c, e, x->val, spec_path_key(p, path, "tags"));
	x = spec_field_find(f, ARRAY_SIZE(f), "login");
	if (spec_present(x))
		load_login(c, e, x->val, spec_path_key(p, path, "login"));
	x = spec_field_find(f, ARRAY_SIZE(f), "systemDisk");
	if (spec_present(x))
		load_system_disk(c, e, x->val, spec_path_key(p, path, "systemDisk"));
	x = spec_field_find(f, ARRAY_SIZE(f), "userData");
	if (spec_present(x))
		load_user_data(c, e, x->val, spec_path_key(p, path, "userData"));
	x = spec_field_find(f, ARRAY_SIZE(f), "update");
	if (spec_present(x))
		load_update(c, e, x->val, spec_path_key(p, path, "update"));
	x = spec_field_find(f, ARRAY_SIZE(f), "limits");
	if (spec_present(x))
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

	if (spec_need(c, n, prefix, meta, "a mapping with the environment's name"))
		load_metadata(c, &e, meta->val, spec_path_key(p, prefix, "metadata"));
	if (spec_need(c, n, prefix, spec,
		      "a mapping with region, capacity, maxPrice, image and pools"))
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

static const char *const kinds[] = { "SpotEnvironment", "SpotEnvironmentList" };

/*
 * apiVersion and kind of a document (want_kind NULL: both required) or of
 * a list item (want_kind set: both optional, and kind must be want_kind).
 * Sets *kind_out to an index into kinds[]; false when unusable.
 */
static bool check_header(struct spec_ctx *c, const struct ynode *n,
			 const struct spec_field *api, const struct spec_field *kind,
			 const char *path, const char *want_kind, int *kind_out)
{
	const char *expect_kind = "'SpotEnvironment' or 'SpotEnvironmentList'";
	char p[SPEC_MAX_PATH], d[64], h[96];
	bool ok = true;
	const char *s;

	if (spec_present(api)) {
		s = spec_get_scalar(c, api->val, spec_path_key(p, path, "apiVersion"),
				    "'" SPEC_API_VERSION "'");
		if (s && strcmp(s, SPEC_API_VERSION))
			spec_error(
				c, api->val, p,
				"unsupported apiVersion %s (expected '" SPEC_API_VERSION
				"')",
				spec_describe(d, sizeof(d), api->val));
		ok = s && !strcmp(s, SPEC_API_VERSION);
	} else if (!want_kind || api->key) {
		spec_need(c, n, path, api, "'" SPEC_API_VERSION "'");
		ok = false;
	}
	if (want_kind && !kind->key) {
		*kind_out = 0;
		return ok;
	}
	if (!spec_need(c, n, path, kind, want_kind ? "'SpotEnvironment'" : expect_kind))
		return false;
	if (!(s = spec_get_scalar(c, kind->val, spec_path_key(p, path, "kind"),
				  expect_kind)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!strcmp(s, kinds[i]) && (!want_kind || !strcmp(s, want_kind))) {
			*kind_out = (int)i;
			return ok;
		}
	}
	if (want_kind)
		spec_error(c, kind->val, p,
			   "unsupported kind %s in a list (expected '%s')",
			   spec_describe(d, sizeof(d), kind->val), want_kind);
	else
		spec_error(c, kind->val, p, "unsupported kind %s%s; expected %s",
			   spec_describe(d, sizeof(d), kind->val),
			   spec_hint(h, sizeof(h), s, kinds, ARRAY_SIZE(kinds)),
			   expect_kind);
	return false;
}

static void load_list(struct spec_ctx *c, const struct ynode *items)
{
	char p[SPEC_MAX_PATH], d[64];

	if (items->kind != YNODE_SEQ) {
		spec_error(c, items, "items", "expected a list of environments, got %s",
			   spec_describe(d, sizeof(d), items));
		return;
	}
	if (items->nkids == 0) {
		spec_error(c, items, "items", "expected at least one environment");
		return;
	}
	for (size_t i = 0; i < items->nkids; i++) {
		struct spec_field f[] = {
			{ "apiVersion", NULL, NULL },
			{ "kind", NULL, NULL },
			{ "metadata", NULL, NULL },
			{ "spec", NULL, NULL },
		};
		const struct ynode *it = items->kids[i];
		int kind = 0;

		spec_path_index(p, "items", i);
		if (!spec_fields(c, it, p, f, ARRAY_SIZE(f), true))
			continue;
		if (!check_header(c, it, &f[0], &f[1], p, "SpotEnvironment", &kind))
			continue;
		load_env(c, it, &f[2], &f[3], p);
	}
}

/* One YAML document (ytree callback). */
void spec_load_doc(void *arg, const struct ynode *root)
{
	struct spec_ctx *c = arg;
	struct spec_field api = { "apiVersion", NULL, NULL },
			  kind = { "kind", NULL, NULL };
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
	spec_field_peek(root, &api);
	spec_field_peek(root, &kind);
	if (!check_header(c, root, &api, &kind, "", NULL, &k))
		return;
	if (k == 0) {
		struct spec_field f[] = {
			{ "apiVersion", NULL, NULL },
			{ "kind", NULL, NULL },
			{ "metadata", NULL, NULL },
			{ "spec", NULL, NULL },
		};

		spec_fields(c, root, "", f, ARRAY_SIZE(f), true);
		load_env(c, root, &f[2], &f[3], "");
	} else {
		struct spec_field f[] = {
			{ "apiVersion", NULL, NULL },
			{ "kind", NULL, NULL },
			{ "items", NULL, NULL },
		};

		spec_fields(c, root, "", f, ARRAY_SIZE(f), true);
		if (spec_need(c, root, "", &f[2], "a list of environments"))
			load_list(c, f[2].val);
	}
}

const char *spec_alloc_name(enum spec_alloc a)
{
	if ((size_t)a < ARRAY_SIZE(alloc_names))
		return alloc_names[a];
	return "unknown";
}