/*
 * config.c - the built-in world (design section 9) and the YAML world file.
 *
 * World file format (every key optional except where noted):
 *
 *	credentials:                 # accepted in addition to the built-in one
 *	  - {secretId: AKID..., secretKey: ...}
 *	regions:                     # replaces the built-in world when given
 *	  - name: ap-guangzhou       # required
 *	    zones:
 *	      - name: ap-guangzhou-3 # required; must start with the region name
 *	        pools:
 *	          - {instanceType: S5.MEDIUM4, stock: 200, price: "0.12"}
 *	            # cpu/memory optional: derived from the type name
 *	rateLimits: {RunInstances: 10, TerminateInstances: 10,
 *	             DescribeInstances: 40, DescribeZoneInstanceConfigInfos: 40}
 *	faults: {latencyMs: 0, pendingMs: 2000, terminatingMs: 1000, tagLagMs: 0,
 *	         internalErrorRate: 0, dropAfterCommitRate: 0,
 *	         reclaimPerMinute: 0, launchFailRate: 0, rateLimits: true}
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "sim_int.h"
#include <yaml.h>

static const struct {
	const char *region;
	const char *zones[4];
} builtin_regions[] = {
	{ "ap-guangzhou", { "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7" } },
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
				if (sim_add_pool(s, zone, builtin_types[t].type, cpu, mem, 200,
						 price, e) < 0)
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
/* YAML */

struct ycfg {
	struct sim *s;
	yaml_document_t doc;
	const char *path;
	struct err *e;
	long budget; /* nodes yjson may still build: aliases cannot blow it up */
};

static int yfail(struct ycfg *c, const yaml_node_t *n, const char *fmt, ...)
	SPOTENV_PRINTF(3, 4);

static int yfail(struct ycfg *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	err_set_at(c->e, ERR_INVALID, c->path, n ? (int)n->start_mark.line + 1 : 0,
		   n ? (int)n->start_mark.column + 1 : 0, NULL, "%s", msg);
	free(msg);
	return ERR_INVALID;
}

static yaml_node_t *ynode(struct ycfg *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

static const char *yscalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int yint(struct ycfg *c, const yaml_node_t *n, const char *what, int64_t min,
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
		return yfail(c, n, "'%s' must be a whole number from %" PRId64 " to %" PRId64,
			     what, min, max);
	*out = x;
	return 0;
}

/* Convert a YAML node to cJSON (plain scalars that look like numbers or booleans are typed). */
static cJSON *yjson(struct ycfg *c, const yaml_node_t *n, int depth)
{
	cJSON *j;

	if (!n || depth > 16 || --c->budget < 0)
		return cJSON_CreateNull();
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)n->data.scalar.value;
		char *end;
		double d;

		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return cJSON_CreateString(v);
		if (!strcmp(v, "true"))
			return cJSON_CreateTrue();
		if (!strcmp(v, "false"))
			return cJSON_CreateFalse();
		d = strtod(v, &end);
		if (*v && !*end)
			return cJSON_CreateNumber(d);
		return cJSON_CreateString(v);
	}
	case YAML_SEQUENCE_NODE:
		j = cJSON_CreateArray();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			cJSON_AddItemToArray(j, yjson(c, ynode(c, *it), depth + 1));
		return j;
	case YAML_MAPPING_NODE:
		j = cJSON_CreateObject();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			const char *k = yscalar(ynode(c, p->key));

			if (k)
				cJSON_AddItemToObject(j, k, yjson(c, ynode(c, p->value), depth + 1));
		}
		return j;
	default:
		return cJSON_CreateNull();
	}
}

/* Check that every key of mapping n is in allowed (NULL-terminated). */
static int ykeys(struct ycfg *c, const yaml_node_t *n, const char *what,
		 const char *const *allowed)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return yfail(c, n, "%s must be a mapping", what);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *kn = ynode(c, p->key);
		const char *k = yscalar(kn);
		bool ok = false;

		for (const char *const *a = allowed; k && *a; a++)
			ok = ok || !strcmp(*a, k);
		if (!ok)
			return yfail(c, kn, "unknown key '%s' in %s", k ? k : "?", what);
	}
	return 0;
}

static yaml_node_t *yget(struct ycfg *c, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = yscalar(ynode(c, p->key));

		if (k && !strcmp(k, key))
			return ynode(c, p->value);
	}
	return NULL;
}

#define YSEQ_EACH(c, n, it, item)                                              \
	for (yaml_node_item_t *it = (n)->data.sequence.items.start;             \
	     it < (n)->data.sequence.items.top && ((item) = ynode((c), *it)); it++)

static int load_pool(struct ycfg *c, int zone, const yaml_node_t *pn)
{
	static const char *const keys[] = { "instanceType", "stock", "price", "cpu", "memory", NULL };
	const char *type, *price;
	int64_t stock = 0, cpu = 0, mem = 0;
	int dcpu = 0, dmem = 0;
	yaml_node_t *n;
	int error;

	if ((error = ykeys(c, pn, "a pool", keys)))
		return error;
	if (!(type = yscalar(yget(c, pn, "instanceType"))) || !*type)
		return yfail(c, pn, "a pool needs 'instanceType'");
	if (!(price = yscalar(yget(c, pn, "price"))) || !dec_valid(price))
		return yfail(c, yget(c, pn, "price") ? yget(c, pn, "price") : pn,
			     "pool '%s' needs 'price' as a decimal such as \"0.12\"", type);
	if ((n = yget(c, pn, "stock")) && (error = yint(c, n, "stock", 0, 100000000, &stock)))
		return error;
	sim_type_shape(type, &dcpu, &dmem);
	cpu = dcpu;
	mem = dmem;
	if ((n = yget(c, pn, "cpu")) && (error = yint(c, n, "cpu", 1, 1024, &cpu)))
		return error;
	if ((n = yget(c, pn, "memory")) && (error = yint(c, n, "memory", 1, 65536, &mem)))
		return error;
	if (!cpu || !mem)
		return yfail(c, pn, "pool '%s' needs 'cpu' and 'memory' (not derivable from the name)",
			     type);
	if (sim_add_pool(c->s, zone, type, (int)cpu, (int)mem, stock, price, c->e) < 0) {
		err_clear(c->e);
		return yfail(c, pn, "pool '%s' is listed twice in zone '%s'", type,
			     c->s->zones[zone].name);
	}
	return 0;
}

static int load_regions(struct ycfg *c, const yaml_node_t *rs)
{
	static const char *const rkeys[] = { "name", "zones", NULL };
	static const char *const zkeys[] = { "name", "pools", NULL };
	yaml_node_t *rn, *zn, *pn;
	int error;

	if (rs->type != YAML_SEQUENCE_NODE)
		return yfail(c, rs, "'regions' must be a list");
	YSEQ_EACH(c, rs, rit, rn) {
		const char *name;
		yaml_node_t *zs;
		int ri;

		if ((error = ykeys(c, rn, "a region", rkeys)))
			return error;
		if (!(name = yscalar(yget(c, rn, "name"))) || !*name)
			return yfail(c, rn, "a region needs 'name'");
		if (sim_find_region(c->s, name) >= 0)
			return yfail(c, rn, "region '%s' is listed twice", name);
		ri = add_region(c->s, name);
		if (!(zs = yget(c, rn, "zones")))
			continue;
		if (zs->type != YAML_SEQUENCE_NODE)
			return yfail(c, zs, "'zones' must be a list");
		YSEQ_EACH(c, zs, zit, zn) {
			const char *zname;
			yaml_node_t *ps;
			int zi;

			if ((error = ykeys(c, zn, "a zone", zkeys)))
				return error;
			if (!(zname = yscalar(yget(c, zn, "name"))) || !*zname)
				return yfail(c, zn, "a zone needs 'name'");
			if (strncmp(zname, name, strlen(name)) || zname[strlen(name)] != '-')
				return yfail(c, zn, "zone '%s' does not belong to region '%s'", zname,
					     name);
			if (sim_find_zone(c->s, zname) >= 0)
				return yfail(c, zn, "zone '%s' is listed twice", zname);
			zi = add_zone(c->s, zname, ri);
			if (!(ps = yget(c, zn, "pools")))
				continue;
			if (ps->type != YAML_SEQUENCE_NODE)
				return yfail(c, ps, "'pools' must be a list");
			YSEQ_EACH(c, ps, pit, pn)
				if ((error = load_pool(c, zi, pn)))
					return error;
		}
	}
	return 0;
}

static int load_creds(struct ycfg *c, const yaml_node_t *cs)
{
	static const char *const keys[] = { "secretId", "secretKey", NULL };
	yaml_node_t *cn;
	int error;

	if (cs->type != YAML_SEQUENCE_NODE)
		return yfail(c, cs, "'credentials' must be a list");
	YSEQ_EACH(c, cs, cit, cn) {
		const char *id, *key;

		if ((error = ykeys(c, cn, "a credential", keys)))
			return error;
		id = yscalar(yget(c, cn, "secretId"));
		key = yscalar(yget(c, cn, "secretKey"));
		if (!id || !*id || !key || !*key)
			return yfail(c, cn, "a credential needs 'secretId' and 'secretKey'");
		add_cred(c->s, id, key);
	}
	return 0;
}

static int load_rates(struct ycfg *c, const yaml_node_t *rn)
{
	int error;

	if (!rn || rn->type != YAML_MAPPING_NODE)
		return yfail(c, rn, "'rateLimits' must be a mapping");
	for (yaml_node_pair_t *p = rn->data.mapping.pairs.start; p < rn->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *kn = ynode(c, p->key);
		const char *k = yscalar(kn);
		int a;
		int64_t v;

		for (a = 0; a < SIM_ACT_COUNT; a++)
			if (k && !strcmp(k, sim_action_names[a]))
				break;
		if (a == SIM_ACT_COUNT)
			return yfail(c, kn, "unknown action '%s' in 'rateLimits'", k ? k : "?");
		if ((error = yint(c, ynode(c, p->value), k, 0, 1000000, &v)))
			return error;
		c->s->faults.rate[a] = (int)v;
	}
	return 0;
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
			buf_free(&b);
			return err_set(e, ERR_TOOBIG, "world file '%s' is larger than %u bytes", path,
				       SIM_MAX_WORLD_FILE);
		}
	if (ferror(f)) {
		fclose(f);
		buf_free(&b);
		return err_set(e, ERR_GENERIC, "cannot read world file '%s'", path);
	}
	fclose(f);
	error = sim_world_load_buffer(s, path, buf_str(&b), b.len, e);
	buf_free(&b);
	return error;
}

int sim_world_load_buffer(struct sim *s, const char *name, const char *text, size_t len,
			  struct err *e)
{
	static const char *const keys[] = { "credentials", "regions", "rateLimits", "faults", NULL };
	struct ycfg c = { .s = s, .path = name, .e = e, .budget = 100000 };
	yaml_parser_t parser;
	yaml_node_t *root, *n;
	int error = 0;
	bool have_doc = false;

	if (!yaml_parser_initialize(&parser))
		return err_set(e, ERR_GENERIC, "cannot initialize the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &c.doc)) {
		error = err_set_at(e, ERR_INVALID, name, (int)parser.problem_mark.line + 1,
				   (int)parser.problem_mark.column + 1, NULL, "%s",
				   parser.problem ? parser.problem : "invalid YAML");
		goto done;
	}
	have_doc = true;
	add_cred(s, SIM_DEFAULT_SECRET_ID, SIM_DEFAULT_SECRET_KEY);
	root = yaml_document_get_root_node(&c.doc);
	if (!root) { /* empty file: the built-in world */
		error = builtin_pools(s, e);
		goto done;
	}
	if ((error = ykeys(&c, root, "the world file", keys)))
		goto done;
	if ((n = yget(&c, root, "credentials")) && (error = load_creds(&c, n)))
		goto done;
	if ((n = yget(&c, root, "regions")))
		error = load_regions(&c, n);
	else
		error = builtin_pools(s, e);
	if (error)
		goto done;
	if ((n = yget(&c, root, "rateLimits")) && (error = load_rates(&c, n)))
		goto done;
	if ((n = yget(&c, root, "faults"))) {
		cJSON *j = yjson(&c, n, 0);
		struct err fe = ERR_INIT;

		if (n->type != YAML_MAPPING_NODE)
			error = yfail(&c, n, "'faults' must be a mapping");
		else if (c.budget < 0)
			error = yfail(&c, n, "'faults' is too large (aliases?)");
		else if (sim_faults_apply_json(&s->faults, j, &fe) < 0)
			error = yfail(&c, n, "%s", fe.msg);
		err_clear(&fe);
		cJSON_Delete(j);
	}
done:
	if (have_doc)
		yaml_document_delete(&c.doc);
	yaml_parser_delete(&parser);
	return error;
}
