/*
 * config.c - the built-in world (design section 9) and the YAML world file.
 *
 * World file format (every key optional except where noted):
 *
 *	credentials:                 # accepted in addition to the built-in one
 *	  - {secretId: AKID..., secretKey: ...}
 *	account: {appId: 1250000000} # what DescribeAccountQuota answers
 *	regions:                     # replaces the built-in world when given
 *	  - name: ap-guangzhou       # required
 *	    zones:
 *	      - name: ap-guangzhou-3 # required; must start with the region name
 *	        pools:
 *	          - {instanceType: S5.MEDIUM4, stock: 200, price: "0.12"}
 *	            # cpu/memory optional: derived from the type name;
 *	            # spot: false = not sold as spot (NoInstanceTypeSupportSpot)
 *	rateLimits: {RunInstances: 10, TerminateInstances: 10,
 *	             DescribeInstances: 40, DescribeZoneInstanceConfigInfos: 40}
 *	faults: {latencyMs: 0, pendingMs: 2000, terminatingMs: 1000, tagLagMs: 0,
 *	         internalErrorRate: 0, dropAfterCommitRate: 0,
 *	         reclaimPerMinute: 0, launchFailRate: 0, launchFailedTtlMs: 60000,
 *	         spotQuotaVcpu: 50, operationInProgressRate: 0,
 *	         insufficientBalance: false, accountQuotaUnsupported: false,
 *	         rateLimits: true}
 *
 * The file is read with util/ytree, the reader of specs: anchors, aliases
 * and `<<` merge keys work, errors carry ytree's line and column, and
 * ytree's limits (expanded size, nesting) are the only ones besides the
 * file size.  Only the first document of the file is the world.
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "../util/ytree.h"
#include "sim_int.h"

static const struct {
	const char *region;
	const char *zones[4];
} builtin_regions[] = {
	{ "ap-guangzhou",
	  { "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7" } },
	{ "ap-shanghai", { "ap-shanghai-2", "ap-shanghai-4", "ap-shanghai-5", NULL } },
	{ "ap-beijing", { "ap-beijing-5", "ap-beijing-6", "ap-beijing-7", NULL } },
};

/* Spot price of each built-in type in the first zone, in cents. */
static const struct {
	const char *type;
	int cents;
} builtin_types[] = {
	{ "S2.MEDIUM4", 10 }, { "S5.MEDIUM4", 12 }, { "S5.LARGE8", 24 },
	{ "SA2.MEDIUM4", 8 }, { "SA2.LARGE8", 16 },
};

static int add_region(struct sim *s, const char *name)
{
	s->regions = xreallocarray(s->regions, s->nregions + 1, sizeof(*s->regions));
	memset(&s->regions[s->nregions], 0, sizeof(s->regions[s->nregions]));
	s->regions[s->nregions].name = xstrdup(name);
	return (int)s->nregions++;
}

static int add_zone(struct sim *s, const char *name, int region)
{
	s->zones = xreallocarray(s->zones, s->nzones + 1, sizeof(*s->zones));
	s->zones[s->nzones].name = xstrdup(name);
	s->zones[s->nzones].region = region;
	return (int)s->nzones++;
}

static void add_cred(struct sim *s, const char *id, const char *key)
{
	s->creds = xreallocarray(s->creds, s->ncreds + 1, sizeof(*s->creds));
	s->creds[s->ncreds].id = xstrdup(id);
	s->creds[s->ncreds].key = xstrdup(key);
	s->ncreds++;
}

/*
 * Regions ap-guangzhou (zones 3, 4, 6, 7), ap-shanghai (2, 4, 5) and
 * ap-beijing (5, 6, 7); five types in every zone, stock 200, spot price
 * the type's base price plus one cent per zone (0.08 to 0.33 CNY/hour).
 */
static int builtin_pools(struct sim *s, struct err *e)
{
	int zi = 0;

	for (size_t r = 0; r < ARRAY_SIZE(builtin_regions); r++) {
		int ri = add_region(s, builtin_regions[r].region);

		for (size_t z = 0; z < 4 && builtin_regions[r].zones[z]; z++, zi++) {
			int zone = add_zone(s, builtin_regions[r].zones[z], ri);

			for (size_t t = 0; t < ARRAY_SIZE(builtin_types); t++) {
				int cpu = 0, mem = 0, cents = builtin_types[t].cents + zi;
				char price[16];

				snprintf(price, sizeof(price), "0.%02d", cents);
				sim_type_shape(builtin_types[t].type, &cpu, &mem);
				if (sim_add_pool(s, zone, builtin_types[t].type, cpu, mem,
						 200, price, e) < 0)
					return e->code;
			}
		}
	}
	return 0;
}

int sim_world_builtin(struct sim *s, struct err *e)
{
	add_cred(s, SIM_DEFAULT_SECRET_ID, SIM_DEFAULT_SECRET_KEY);
	return builtin_pools(s, e);
}

/* ------------------------------------------------------------------ */
/* YAML, read through util/ytree (the same reader, limits and positions as specs) */

struct ycfg {
	struct sim *s;
	const char *path;
	struct err *e;
	const struct errlist *errs; /* what ytree found so far */
	size_t ndocs;		    /* documents seen; only the first is the world */
	int error;		    /* of the world document */
};

static int yfail(struct ycfg *c, const struct ynode *n, const char *fmt, ...)
	SPOTENV_PRINTF(3, 4);

static int yfail(struct ycfg *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	err_set_at(c->e, ERR_INVALID, c->path, n ? n->line : 0, n ? n->col : 0, NULL,
		   "%s", msg);
	free(msg);
	return ERR_INVALID;
}

/* A scalar's text (borrowed), or NULL for a list or a mapping. */
static const char *yscalar(const struct ynode *n)
{
	return n && n->kind == YNODE_SCALAR ? n->str : NULL;
}

static int yint(struct ycfg *c, const struct ynode *n, const char *what, int64_t min,
		int64_t max, int64_t *out)
{
	const char *v = yscalar(n);
	char *end;
	long long x;

	if (!v || !*v)
		return yfail(c, n, "'%s' must be a whole number", what);
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || *end || x < min || x > max)
		return yfail(c, n,
			     "'%s' must be a whole number from %" PRId64 " to %" PRId64,
			     what, min, max);
	*out = x;
	return 0;
}

/*
 * A YAML node as cJSON (plain scalars that look like numbers or booleans
 * are typed); the caller owns the result.  Nodes deeper than 16 levels
 * become null: aliases can nest a tree deeper than ytree's nesting limit,
 * and faults are flat anyway.  The size is bounded by ytree's expansion
 * limit (YTREE_MAX_NODES).
 */
static cJSON *yjson(const struct ynode *n, int depth)
{
	cJSON *j;

	if (!n || depth > 16)
		return cJSON_CreateNull();
	switch (n->kind) {
	case YNODE_SCALAR: {
		char *end;
		double d;

		if (!n->plain)
			return cJSON_CreateString(n->str);
		if (!strcmp(n->str, "true"))
			return cJSON_CreateTrue();
		if (!strcmp(n->str, "false"))
			return cJSON_CreateFalse();
		d = strtod(n->str, &end);
		if (*n->str && !*end)
			return cJSON_CreateNumber(d);
		return cJSON_CreateString(n->str);
	}
	case YNODE_SEQ:
		j = cJSON_CreateArray();
		for (size_t i = 0; i < n->nkids; i++)
			cJSON_AddItemToArray(j, yjson(n->kids[i], depth + 1));
		return j;
	case YNODE_MAP:
		j = cJSON_CreateObject();
		for (size_t i = 0; i + 1 < n->nkids; i += 2) {
			const char *k = yscalar(n->kids[i]);

			if (k)
				cJSON_AddItemToObject(j, k,
						      yjson(n->kids[i + 1], depth + 1));
		}
		return j;
	}
	return cJSON_CreateNull();
}

/* Check that every key of mapping n is in allowed (NULL-terminated). */
static int ykeys(struct ycfg *c, const struct ynode *n, const char *what,
		 const char *const *allowed)
{
	if (!n || n->kind != YNODE_MAP)
		return yfail(c, n, "%s must be a mapping", what);
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		const struct ynode *kn = n->kids[i];
		const char *k = yscalar(kn);
		bool ok = false;

		for (const char *const *a = allowed; k && *a; a++)
			ok = ok || !strcmp(*a, k);
		if (!ok)
			return yfail(c, kn, "unknown key '%s' in %s", k ? k : "?", what);
	}
	return 0;
}

static int load_pool(struct ycfg *c, int zone, const struct ynode *pn)
{
	static const char *const keys[] = { "instanceType", "stock", "price", "cpu",
					    "memory",	    "spot",  NULL };
	const char *type, *price, *spot = NULL;
	int64_t stock = 0, cpu = 0, mem = 0;
	int dcpu = 0, dmem = 0;
	const struct ynode *n;
	int error;

	if ((error = ykeys(c, pn, "a pool", keys)))
		return error;
	if (!(type = yscalar(ynode_get(pn, "instanceType"))) || !*type)
		return yfail(c, pn, "a pool needs 'instanceType'");
	n = ynode_get(pn, "price");
	if (!(price = yscalar(n)) || !dec_valid(price))
		return yfail(c, n ? n : pn,
			     "pool '%s' needs 'price' as a decimal such as \"0.12\"",
			     type);
	if ((n = ynode_get(pn, "stock")) &&
	    (error = yint(c, n, "stock", 0, 100000000, &stock)))
		return error;
	sim_type_shape(type, &dcpu, &dmem);
	cpu = dcpu;
	mem = dmem;
	if ((n = ynode_get(pn, "cpu")) && (error = yint(c, n, "cpu", 1, 1024, &cpu)))
		return error;
	if ((n = ynode_get(pn, "memory")) &&
	    (error = yint(c, n, "memory", 1, 65536, &mem)))
		return error;
	if (!cpu || !mem)
		return yfail(
			c, pn,
			"pool '%s' needs 'cpu' and 'memory' (not derivable from the name)",
			type);
	if ((n = ynode_get(pn, "spot")) &&
	    (!(spot = yscalar(n)) || (strcmp(spot, "true") && strcmp(spot, "false"))))
		return yfail(c, n, "'spot' must be true or false");
	if (sim_add_pool(c->s, zone, type, (int)cpu, (int)mem, stock, price, c->e) < 0) {
		err_clear(c->e);
		return yfail(c, pn, "pool '%s' is listed twice in zone '%s'", type,
			     c->s->zones[zone].name);
	}
	if (spot && !strcmp(spot, "false"))
		c->s->pools[c->s->npools - 1].spot =
			c->s->pools[c->s->npools - 1].initial_spot = false;
	return 0;
}

static int load_zone(struct ycfg *c, int region, const struct ynode *zn)
{
	static const char *const keys[] = { "name", "pools", NULL };
	const char *rname = c->s->regions[region].name, *name;
	const struct ynode *ps;
	int error, zi;

	if ((error = ykeys(c, zn, "a zone", keys)))
		return error;
	if (!(name = yscalar(ynode_get(zn, "name"))) || !*name)
		return yfail(c, zn, "a zone needs 'name'");
	if (strncmp(name, rname, strlen(rname)) || name[strlen(rname)] != '-')
		return yfail(c, zn, "zone '%s' does not belong to region '%s'", name,
			     rname);
	if (sim_find_zone(c->s, name) >= 0)
		return yfail(c, zn, "zone '%s' is listed twice", name);
	zi = add_zone(c->s, name, region);
	if (!(ps = ynode_get(zn, "pools")))
		return 0;
	if (ps->kind != YNODE_SEQ)
		return yfail(c, ps, "'pools' must be a list");
	for (size_t i = 0; i < ps->nkids; i++)
		if ((error = load_pool(c, zi, ps->kids[i])))
			return error;
	return 0;
}

static int load_regions(struct ycfg *c, const struct ynode *rs)
{
	static const char *const keys[] = { "name", "zones", NULL };
	int error;

	if (rs->kind != YNODE_SEQ)
		return yfail(c, rs, "'regions' must be a list");
	for (size_t i = 0; i < rs->nkids; i++) {
		const struct ynode *rn = rs->kids[i], *zs;
		const char *name;
		int ri;

		if ((error = ykeys(c, rn, "a region", keys)))
			return error;
		if (!(name = yscalar(ynode_get(rn, "name"))) || !*name)
			return yfail(c, rn, "a region needs 'name'");
		if (sim_find_region(c->s, name) >= 0)
			return yfail(c, rn, "region '%s' is listed twice", name);
		ri = add_region(c->s, name);
		if (!(zs = ynode_get(rn, "zones")))
			continue;
		if (zs->kind != YNODE_SEQ)
			return yfail(c, zs, "'zones' must be a list");
		for (size_t j = 0; j < zs->nkids; j++)
			if ((error = load_zone(c, ri, zs->kids[j])))
				return error;
	}
	return 0;
}

static int load_creds(struct ycfg *c, const struct ynode *cs)
{
	static const char *const keys[] = { "secretId", "secretKey", NULL };
	int error;

	if (cs->kind != YNODE_SEQ)
		return yfail(c, cs, "'credentials' must be a list");
	for (size_t i = 0; i < cs->nkids; i++) {
		const struct ynode *cn = cs->kids[i];
		const char *id, *key;

		if ((error = ykeys(c, cn, "a credential", keys)))
			return error;
		id = yscalar(ynode_get(cn, "secretId"));
		key = yscalar(ynode_get(cn, "secretKey"));
		if (!id || !*id || !key || !*key)
			return yfail(c, cn,
				     "a credential needs 'secretId' and 'secretKey'");
		add_cred(c->s, id, key);
	}
	return 0;
}

static int load_account(struct ycfg *c, const struct ynode *an)
{
	static const char *const keys[] = { "appId", NULL };
	const struct ynode *n;
	int64_t id;
	int error;

	if ((error = ykeys(c, an, "'account'", keys)))
		return error;
	if ((n = ynode_get(an, "appId"))) {
		if ((error = yint(c, n, "appId", 1, INT64_C(999999999999), &id)))
			return error;
		c->s->app_id = (uint64_t)id;
	}
	return 0;
}

static int load_rates(struct ycfg *c, const struct ynode *rn)
{
	int error;

	if (rn->kind != YNODE_MAP)
		return yfail(c, rn, "'rateLimits' must be a mapping");
	for (size_t i = 0; i + 1 < rn->nkids; i += 2) {
		const struct ynode *kn = rn->kids[i];
		const char *k = yscalar(kn);
		int a;
		int64_t v;

		for (a = 0; a < SIM_ACT_COUNT; a++)
			if (k && !strcmp(k, sim_action_names[a]))
				break;
		if (a == SIM_ACT_COUNT)
			return yfail(c, kn, "unknown action '%s' in 'rateLimits'",
				     k ? k : "?");
		if ((error = yint(c, rn->kids[i + 1], k, 0, 1000000, &v)))
			return error;
		c->s->faults.rate[a] = (int)v;
	}
	return 0;
}

static int load_faults(struct ycfg *c, const struct ynode *n)
{
	struct err fe = ERR_INIT;
	cJSON *j;
	int error = 0;

	if (n->kind != YNODE_MAP)
		return yfail(c, n, "'faults' must be a mapping");
	j = yjson(n, 0);
	if (sim_faults_apply_json(&c->s->faults, j, &fe) < 0)
		error = yfail(c, n, "%s", fe.msg);
	err_clear(&fe);
	cJSON_Delete(j);
	return error;
}

/* The world document (the root is not null). */
static int load_world(struct ycfg *c, const struct ynode *root)
{
	static const char *const keys[] = { "credentials", "account", "regions",
					    "rateLimits",  "faults",  NULL };
	const struct ynode *n;
	int error;

	if ((error = ykeys(c, root, "the world file", keys)))
		return error;
	if ((n = ynode_get(root, "credentials")) && (error = load_creds(c, n)))
		return error;
	if ((n = ynode_get(root, "account")) && (error = load_account(c, n)))
		return error;
	if ((n = ynode_get(root, "regions")))
		error = load_regions(c, n);
	else
		error = builtin_pools(c->s, c->e);
	if (error)
		return error;
	if ((n = ynode_get(root, "rateLimits")) && (error = load_rates(c, n)))
		return error;
	if ((n = ynode_get(root, "faults")) && (error = load_faults(c, n)))
		return error;
	return 0;
}

/*
 * ytree callback: the first document is the world, unless ytree already
 * found a problem in it (that error comes first).  Later documents are
 * read for syntax and limits but otherwise ignored, as before.
 */
static void world_doc(void *arg, const struct ynode *root)
{
	struct ycfg *c = arg;

	if (c->ndocs++ == 0 && c->errs->n == 0)
		c->error = load_world(c, root);
}

int sim_world_load(struct sim *s, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f;
	int error;

	if (!(f = fopen(path, "rb")))
		return err_set(e, errno == ENOENT ? ERR_NOTFOUND : ERR_GENERIC,
			       "cannot open world file '%s': %s", path, strerror(errno));
	buf_init(&b, SIM_MAX_WORLD_FILE);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_put(&b, chunk, n) < 0) {
			fclose(f);
			buf_release(&b);
			return err_set(e, ERR_TOOBIG,
				       "world file '%s' is larger than %u bytes", path,
				       SIM_MAX_WORLD_FILE);
		}
	if (ferror(f)) {
		fclose(f);
		buf_release(&b);
		return err_set(e, ERR_GENERIC, "cannot read world file '%s'", path);
	}
	fclose(f);
	error = sim_world_load_buffer(s, path, buf_str(&b), b.len, e);
	buf_release(&b);
	return error;
}

/*
 * The first problem ytree found, as the world's error.  When it is the
 * limit that stopped the reading (the only error then), say that the file
 * is too large, as the size cap does.
 */
static int world_ytree_error(struct err *e, const struct errlist *errs, int ret)
{
	const struct err *first = &errs->v[0];
	bool limit = ret == ERR_TOOBIG && errs->n == 1;

	return err_set_at(e, limit ? ERR_TOOBIG : ERR_INVALID, first->file, first->line,
			  first->col, NULL, "%s%s",
			  limit ? "world file is too large: " : "", first->msg);
}

int sim_world_load_buffer(struct sim *s, const char *name, const char *text, size_t len,
			  struct err *e)
{
	struct errlist errs = ERRLIST_INIT;
	struct ycfg c = { .s = s, .path = name, .e = e, .errs = &errs };
	size_t ndocs = 0;
	int ret, error = 0;

	add_cred(s, SIM_DEFAULT_SECRET_ID, SIM_DEFAULT_SECRET_KEY);
	ret = ytree_parse(name, text, len, &errs, world_doc, &c, &ndocs);
	if (c.error) /* the world is only read when ytree found nothing before */
		error = c.error;
	else if (errs.n > 0)
		error = world_ytree_error(e, &errs, ret);
	else if (ndocs == 0) /* nothing but comments: the built-in world */
		error = builtin_pools(s, e);
	errlist_clear(&errs);
	return error;
}
