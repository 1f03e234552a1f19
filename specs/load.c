/*
 * load.c - turn YAML documents into validated struct spec_env values.
 *
 * Why one pass that keeps going: users fix specs in batches, so every
 * problem of a run is reported (each with file:line:column, the key path
 * and what was expected), and an environment enters the set only when it
 * has no problem at all.
 */
#include "../util/setup.h"
#include "../util/suggest.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "../util/decimal.h"
#include "spec.h"
#include "ytree.h"

#define SPEC_MAX_FILE_BYTES (4 << 20)
#define SPEC_MAX_DIR_DEPTH 16
#define SPEC_MAX_TAG_KEY 127
#define SPEC_MAX_TAG_VALUE 255
#define SPEC_MAX_INSTANCE_NAME 60
#define SPEC_MIN_DISK_GB 20
#define SPEC_MAX_DISK_GB 1024
#define SPEC_MAX_BANDWIDTH 1000
#define SPEC_MAX_PATH 256

/* A name seen in this load call, valid environment or not. */
struct spec_seen {
	char *name;
	struct spec_loc loc;
};

struct lctx {
	struct spec_set *set;
	struct errlist *errs;
	const char *file;    /* borrowed from set->files */
	size_t nenvs_before; /* set->nenvs when the call began */
	struct spec_seen *seen;
	size_t nseen, alloc_seen;
};

/* A key of a mapping being read: name wanted, and what was found. */
struct field {
	const char *name;
	const struct ynode *key, *val;
};

static const char *const alloc_names[] = {"priority", "spread", "lowest-price"};

static const char *const disk_types[] = {
    "LOCAL_BASIC",   "LOCAL_SSD",  "CLOUD_BASIC", "CLOUD_SSD",
    "CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_HSSD",  "CLOUD_TSSD",
};

static void lerr(struct lctx *c, const struct ynode *at, const char *path,
		 const char *fmt, ...) SPOTENV_PRINTF(4, 5);

static void lerr(struct lctx *c, const struct ynode *at, const char *path,
		 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	errlist_add(c->errs, ERR_INVALID, c->file, at ? at->line : 0, at ? at->col : 0,
		    path, "%s", msg);
	free(msg);
}

/* path + "." + key into buf (truncated paths are still useful). */
static const char *pkey(char *buf, const char *base, const char *key)
{
	int n = snprintf(buf, SPEC_MAX_PATH, "%s%s%s", base, *base ? "." : "", key);

	if (n < 0 || n >= SPEC_MAX_PATH)
		buf[SPEC_MAX_PATH - 1] = '\0';
	return buf;
}

static const char *pidx(char *buf, const char *base, size_t i)
{
	int n = snprintf(buf, SPEC_MAX_PATH, "%s[%zu]", base, i);

	if (n < 0 || n >= SPEC_MAX_PATH)
		buf[SPEC_MAX_PATH - 1] = '\0';
	return buf;
}

/* ---- did you mean ---- */

/* " (did you mean 'x'?)" or "" into buf. */
static const char *hint(char *buf, size_t size, const char *got, const char *const *cands,
			size_t n)
{
	const char *s = suggest_closest(got, cands, n);

	if (s)
		snprintf(buf, size, " (did you mean '%s'?)", s);
	else
		buf[0] = '\0';
	return buf;
}

/* ---- describing and reading values ---- */

/* A short description of a node for "got ..." in messages. */
static const char *describe(char *buf, size_t size, const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	if (ynode_is_null(n))
		return "null";
	if (n->len > 40 || strlen(n->str) != n->len) {
		size_t shown = strlen(n->str); /* up to an embedded NUL */
		int cut = shown < 37 ? (int)shown : 37;

		/* do not cut a UTF-8 sequence in half */
		while (cut > 0 && ((unsigned char)n->str[cut] & 0xC0) == 0x80)
			cut--;
		snprintf(buf, size, "'%.*s...'", cut, n->str);
	} else
		snprintf(buf, size, "'%s'", n->str);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return buf;
}

static bool present(const struct field *f)
{
	return f->val && !ynode_is_null(f->val);
}

/*
 * Read the pairs of map into f[] by name.  Unknown keys are errors (with a
 * suggestion) unless allow_x and they start with "x-"; a key given twice is
 * an error.  Returns false, after an error, when map is not a mapping.
 */
static bool lfields(struct lctx *c, const struct ynode *map, const char *path,
		    struct field *f, size_t nf, bool allow_x)
{
	const char *names[32];
	char d[64], h[96];

	assert(nf <= ARRAY_SIZE(names));
	for (size_t i = 0; i < nf; i++) {
		names[i] = f[i].name;
		f[i].key = f[i].val = NULL;
	}
	if (map->kind != YNODE_MAP) {
		lerr(c, map, path, "expected a mapping, got %s",
		     describe(d, sizeof(d), map));
		return false;
	}
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i], *v = map->kids[i + 1];
		size_t j;

		if (k->kind != YNODE_SCALAR) {
			lerr(c, k, path, "expected a string key, got %s",
			     describe(d, sizeof(d), k));
			continue;
		}
		for (j = 0; j < nf; j++)
			if (!strcmp(f[j].name, k->str))
				break;
		if (j < nf) {
			if (f[j].key)
				lerr(c, k, path,
				     "duplicate key '%s' (first given at line %d column "
				     "%d)",
				     k->str, f[j].key->line, f[j].key->col);
			else {
				f[j].key = k;
				f[j].val = v;
			}
			continue;
		}
		if (allow_x && !strncmp(k->str, "x-", 2))
			continue;
		lerr(c, k, path, "unknown key %s%s", describe(d, sizeof(d), k),
		     hint(h, sizeof(h), k->str, names, nf));
	}
	return true;
}

static struct field *fget(struct field *f, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	assert(!"unknown field name");
	return NULL;
}

/* True when the required field is present; an error at map otherwise. */
static bool need(struct lctx *c, const struct ynode *map, const char *path,
		 const struct field *f, const char *expect)
{
	if (present(f))
		return true;
	if (f->key)
		lerr(c, f->key, path, "'%s' must not be empty (expected %s)", f->name,
		     expect);
	else
		lerr(c, map, path, "missing required key '%s' (%s)", f->name, expect);
	return false;
}

/* A scalar's text, or NULL after an error naming what was expected. */
static const char *get_scalar(struct lctx *c, const struct ynode *n, const char *path,
			      const char *expect)
{
	char d[64];

	if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
		lerr(c, n, path, "expected %s, got %s", expect,
		     describe(d, sizeof(d), n));
		return NULL;
	}
	if (strlen(n->str) != n->len) {
		lerr(c, n, path, "expected %s, got a string with a NUL character",
		     expect);
		return NULL;
	}
	return n->str;
}

static bool is_int_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool get_int(struct lctx *c, const struct ynode *n, const char *path, long min,
		    long max, int *out)
{
	char d[64];
	long v;

	if (n->kind != YNODE_SCALAR || !n->plain || ynode_is_null(n) ||
	    !is_int_text(n->str)) {
		if (n->kind == YNODE_SCALAR && !n->plain && is_int_text(n->str))
			lerr(c, n, path,
			     "expected a whole number from %ld to %ld, got the string %s "
			     "(drop the quotes)",
			     min, max, describe(d, sizeof(d), n));
		else
			lerr(c, n, path,
			     "expected a whole number from %ld to %ld, got %s", min, max,
			     describe(d, sizeof(d), n));
		return false;
	}
	errno = 0;
	v = strtol(n->str, NULL, 10);
	if (errno || v < min || v > max) {
		lerr(c, n, path, "expected a whole number from %ld to %ld, got %s", min,
		     max, describe(d, sizeof(d), n));
		return false;
	}
	*out = (int)v;
	return true;
}

static bool get_bool(struct lctx *c, const struct ynode *n, const char *path, bool *out)
{
	static const char *const t[] = {"true", "True", "TRUE"};
	static const char *const f[] = {"false", "False", "FALSE"};
	char d[64];

	if (n->kind == YNODE_SCALAR && n->plain) {
		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			if (!strcmp(n->str, t[i])) {
				*out = true;
				return true;
			}
			if (!strcmp(n->str, f[i])) {
				*out = false;
				return true;
			}
		}
	}
	lerr(c, n, path, "expected true or false, got %s", describe(d, sizeof(d), n));
	return false;
}

/*
 * A price: a decimal string or a plain YAML number, kept as written
 * (normalised: "00.50" -> "0.50", ".5" -> "0.5"), greater than 0.
 * Caller frees; NULL after an error.
 */
static char *get_price(struct lctx *c, const struct ynode *n, const char *path)
{
	char d[64];
	dec_t v;
	char *s;

	if (n->kind != YNODE_SCALAR || ynode_is_null(n) || strlen(n->str) != n->len ||
	    dec_parse(n->str, &v) < 0) {
		lerr(c, n, path,
		     "expected a price in CNY per hour as a decimal such as \"0.60\" "
		     "(at most 9 decimal places), got %s",
		     describe(d, sizeof(d), n));
		return NULL;
	}
	if (v <= 0) {
		lerr(c, n, path, "price must be greater than 0, got %s",
		     describe(d, sizeof(d), n));
		return NULL;
	}
	s = dec_normalize(n->str);
	assert(s);
	return s;
}

/* One of choices (case-sensitive), with a suggestion; index or -1. */
static int get_enum(struct lctx *c, const struct ynode *n, const char *path,
		    const char *const *choices, size_t nchoices)
{
	char list[256], h[96];
	const char *s;
	size_t len = 0;

	list[0] = '\0';
	for (size_t i = 0; i < nchoices; i++) {
		int k = snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "",
				 choices[i]);

		if (k < 0 || (size_t)k >= sizeof(list) - len)
			break;
		len += (size_t)k;
	}
	if (!(s = get_scalar(c, n, path, "one of the listed values")))
		return -1;
	for (size_t i = 0; i < nchoices; i++)
		if (!strcmp(s, choices[i]))
			return (int)i;
	lerr(c, n, path, "unknown value '%s'%s; expected one of %s", s,
	     hint(h, sizeof(h), s, choices, nchoices), list);
	return -1;
}

/* Characters, counting UTF-8 sequences once. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* metadata.name and metadata.scope: [a-z0-9]([a-z0-9-]*[a-z0-9])?, <= 40. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SPEC_MAX_NAME || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '-'))
			return false;
	return true;
}

static char *get_name(struct lctx *c, const struct ynode *n, const char *path)
{
	const char *s = get_scalar(c, n, path, "a name");
	char d[64];

	if (!s)
		return NULL;
	if (!valid_name(s)) {
		lerr(c, n, path,
		     "expected a name of lowercase letters, digits and '-' that starts "
		     "and ends "
		     "with a letter or digit, at most %d characters, got %s",
		     SPEC_MAX_NAME, describe(d, sizeof(d), n));
		return NULL;
	}
	return xstrdup(s);
}

/* A Tencent resource id: prefix then 1..32 of [a-z0-9]. */
static bool valid_id(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix), n = 0;

	if (strncmp(s, prefix, pl))
		return false;
	for (s += pl; *s; s++, n++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
			return false;
	return n >= 1 && n <= 32;
}

static char *get_id(struct lctx *c, const struct ynode *n, const char *path,
		    const char *prefix, const char *what)
{
	char expect[96], d[64];
	const char *s;

	snprintf(expect, sizeof(expect), "%s such as '%sxxxxxxxx'", what, prefix);
	if (!(s = get_scalar(c, n, path, expect)))
		return NULL;
	if (!valid_id(s, prefix)) {
		lerr(c, n, path, "expected %s, got %s", expect,
		     describe(d, sizeof(d), n));
		return NULL;
	}
	return xstrdup(s);
}

/* A list of ids; false after an error (the list holds what was valid). */
static bool get_id_list(struct lctx *c, const struct ynode *n, const char *path,
			const char *prefix, const char *what, char ***out, size_t *nout)
{
	char d[64], p[SPEC_MAX_PATH];
	bool ok = true;

	if (n->kind != YNODE_SEQ) {
		lerr(c, n, path, "expected a list of ids such as '%sxxxxxxxx', got %s",
		     prefix, describe(d, sizeof(d), n));
		return false;
	}
	*out = n->nkids ? xcalloc(n->nkids, sizeof(**out)) : NULL;
	*nout = 0;
	for (size_t i = 0; i < n->nkids; i++) {
		char *id = get_id(c, n->kids[i], pidx(p, path, i), prefix, what);

		if (!id) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < *nout; j++) {
			if (!strcmp((*out)[j], id)) {
				lerr(c, n->kids[i], p, "'%s' is listed twice", id);
				ok = false;
				break;
			}
		}
		(*out)[(*nout)++] = id;
	}
	return ok;
}

/* ---- environments ---- */

static void spec_env_release(struct spec_env *e)
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

static void load_metadata(struct lctx *c, struct spec_env *e, const struct ynode *n,
			  const char *path)
{
	struct field f[] = {{"name", NULL, NULL}, {"scope", NULL, NULL}};
	char p[SPEC_MAX_PATH];

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (need(c, n, path, &f[0], "the environment's name"))
		e->name = get_name(c, f[0].val, pkey(p, path, "name"));
	if (present(&f[1])) {
		free(e->scope);
		e->scope = get_name(c, f[1].val, pkey(p, path, "scope"));
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

static void load_pool(struct lctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path, struct spec_pool *out, bool *ok)
{
	struct field f[] = {
	    {"zone", NULL, NULL},
	    {"instanceType", NULL, NULL},
	    {"subnetId", NULL, NULL},
	    {"maxPrice", NULL, NULL},
	};
	char p[SPEC_MAX_PATH], d[64];
	const char *s;

	out->loc.file = c->file;
	out->loc.line = n->line;
	out->loc.col = n->col;
	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false)) {
		*ok = false;
		return;
	}
	if (need(c, n, path, &f[0], "a zone such as 'ap-guangzhou-3'") &&
	    (s = get_scalar(c, f[0].val, pkey(p, path, "zone"),
			    "a zone such as 'ap-guangzhou-3'"))) {
		size_t rl = e->region ? strlen(e->region) : 0;
		const char *num = e->region && !strncmp(s, e->region, rl) && s[rl] == '-'
				      ? s + rl + 1
				      : NULL;
		bool digits = num && *num;

		for (const char *q = num; digits && *q; q++)
			digits = isdigit((unsigned char)*q);
		if (e->region && !digits) {
			lerr(c, f[0].val, p,
			     "zone %s is not in region '%s' (expected '%s-N')",
			     describe(d, sizeof(d), f[0].val), e->region, e->region);
		} else if (!e->region && !valid_region(s)) {
			lerr(c, f[0].val, p,
			     "expected a zone such as 'ap-guangzhou-3', got %s",
			     describe(d, sizeof(d), f[0].val));
		} else {
			out->zone = xstrdup(s);
		}
	}
	if (need(c, n, path, &f[1], "an instance type such as 'S5.MEDIUM4'") &&
	    (s = get_scalar(c, f[1].val, pkey(p, path, "instanceType"),
			    "an instance type such as 'S5.MEDIUM4'"))) {
		if (valid_instance_type(s))
			out->instance_type = xstrdup(s);
		else
			lerr(c, f[1].val, p,
			     "expected an instance type such as 'S5.MEDIUM4', got %s",
			     describe(d, sizeof(d), f[1].val));
	}
	if (present(&f[2]) &&
	    !(out->subnet_id = get_id(c, f[2].val, pkey(p, path, "subnetId"), "subnet-",
				      "a subnet id")))
		*ok = false;
	if (present(&f[3]) &&
	    !(out->max_price = get_price(c, f[3].val, pkey(p, path, "maxPrice"))))
		*ok = false;
	if (!out->zone || !out->instance_type)
		*ok = false;
}

/*
 * The pools that are valid; pool_nodes[i], subnet_nodes[i] and index[i]
 * say where e->pools[i] was written.
 */
static void load_pools(struct lctx *c, struct spec_env *e, const struct ynode *n,
		       const char *path, const struct ynode **pool_nodes,
		       const struct ynode **subnet_nodes, size_t *index)
{
	char p[SPEC_MAX_PATH], d[64];

	if (n->kind != YNODE_SEQ) {
		lerr(c, n, path,
		     "expected a list of pools (zone and instanceType), got %s",
		     describe(d, sizeof(d), n));
		return;
	}
	if (n->nkids == 0 || n->nkids > SPEC_MAX_POOLS) {
		lerr(c, n, path, "expected from 1 to %d pools, got %zu", SPEC_MAX_POOLS,
		     n->nkids);
		return;
	}
	e->pools = xcalloc(n->nkids, sizeof(*e->pools));
	for (size_t i = 0; i < n->nkids; i++) {
		struct spec_pool *pool = &e->pools[e->npools];
		bool ok = true;

		load_pool(c, e, n->kids[i], pidx(p, path, i), pool, &ok);
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
				lerr(c, n->kids[i], p,
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
	static const char *const prefixes[] = {"qcloud", "tencent", "project",
					       "spotenv:"};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncasecmp(k, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void load_tags(struct lctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path)
{
	struct tagref *refs = NULL;
	size_t nrefs = 0;
	char d[64];

	if (n->kind != YNODE_MAP) {
		lerr(c, n, path, "expected a mapping of tag keys to values, got %s",
		     describe(d, sizeof(d), n));
		return;
	}
	if (ynode_npairs(n) + SPEC_OWN_TAGS > SPEC_MAX_TAGS) {
		lerr(
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
		const char *ks = get_scalar(c, k, path, "a tag key"), *vs = "";
		bool ok = ks != NULL;

		if (ks && utf8_chars(ks) > SPEC_MAX_TAG_KEY) {
			lerr(c, k, path, "tag key %s is longer than %d characters",
			     describe(d, sizeof(d), k), SPEC_MAX_TAG_KEY);
			ok = false;
		} else if (ks) {
			for (const char *q = ks; *q; q++) {
				if (!valid_tag_key_char((unsigned char)*q)) {
					lerr(
					    c, k, path,
					    "tag key %s has the character '%c'; tag keys "
					    "may hold "
					    "letters, digits, spaces and + - = . _ : / @",
					    describe(d, sizeof(d), k),
					    isprint((unsigned char)*q) ? *q : '?');
					ok = false;
					break;
				}
			}
			if (ok && reserved_tag_key(ks)) {
				lerr(c, k, path,
				     "tag key %s is reserved (keys starting with "
				     "'qcloud', "
				     "'tencent', 'project' or 'spotenv:' cannot be used)",
				     describe(d, sizeof(d), k));
				ok = false;
			}
		}
		if (!ynode_is_null(v)) {
			vs = get_scalar(c, v, path, "a tag value");
			if (vs && utf8_chars(vs) > SPEC_MAX_TAG_VALUE) {
				lerr(c, v, path,
				     "value of tag '%s' is longer than %d characters",
				     ks ? ks : "?", SPEC_MAX_TAG_VALUE);
				vs = NULL;
			} else if (vs && has_control(vs)) {
				lerr(c, v, path,
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
			lerr(c, refs[i].key, path,
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

static void load_network(struct lctx *c, struct spec_env *e, const struct ynode *n,
			 const char *path)
{
	struct field f[] = {
	    {"vpcId", NULL, NULL},
	    {"securityGroupIds", NULL, NULL},
	    {"publicIpBandwidthMbps", NULL, NULL},
	};
	char p[SPEC_MAX_PATH];

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (present(&f[0]))
		e->network.vpc_id =
		    get_id(c, f[0].val, pkey(p, path, "vpcId"), "vpc-", "a VPC id");
	if (present(&f[1]))
		get_id_list(c, f[1].val, pkey(p, path, "securityGroupIds"), "sg-",
			    "a security group id", &e->network.security_group_ids,
			    &e->network.nsecurity_groups);
	if (present(&f[2]))
		get_int(c, f[2].val, pkey(p, path, "publicIpBandwidthMbps"), 0,
			SPEC_MAX_BANDWIDTH, &e->network.public_ip_bandwidth_mbps);
}

static void load_login(struct lctx *c, struct spec_env *e, const struct ynode *n,
		       const char *path)
{
	struct field f[] = {{"keyIds", NULL, NULL}, {"keepImageLogin", NULL, NULL}};
	char p[SPEC_MAX_PATH];
	bool keys_ok = true;

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (present(&f[0]))
		keys_ok = get_id_list(c, f[0].val, pkey(p, path, "keyIds"), "skey-",
				      "a key id", &e->login.key_ids, &e->login.nkey_ids);
	if (present(&f[1]))
		get_bool(c, f[1].val, pkey(p, path, "keepImageLogin"),
			 &e->login.keep_image_login);
	if (keys_ok && e->login.nkey_ids > 0 && e->login.keep_image_login)
		lerr(c, f[1].key, path,
		     "keyIds and keepImageLogin cannot both be set (choose the image's "
		     "login or "
		     "the keys)");
}

static void load_system_disk(struct lctx *c, struct spec_env *e, const struct ynode *n,
			     const char *path)
{
	struct field f[] = {{"type", NULL, NULL}, {"sizeGb", NULL, NULL}};
	char p[SPEC_MAX_PATH];
	int i;

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (present(&f[0]) && (i = get_enum(c, f[0].val, pkey(p, path, "type"),
					    disk_types, ARRAY_SIZE(disk_types))) >= 0)
		e->system_disk.type = xstrdup(disk_types[i]);
	if (present(&f[1]))
		get_int(c, f[1].val, pkey(p, path, "sizeGb"), SPEC_MIN_DISK_GB,
			SPEC_MAX_DISK_GB, &e->system_disk.size_gb);
}

static void load_user_data(struct lctx *c, struct spec_env *e, const struct ynode *n,
			   const char *path)
{
	const char *s = get_scalar(c, n, path, "text (a script or cloud-init config)");
	size_t len, b64;

	if (!s)
		return;
	len = strlen(s);
	if (len == 0)
		return; /* "" is no user data */
	b64 = 4 * ((len + 2) / 3);
	if (b64 > SPEC_MAX_USERDATA_B64) {
		lerr(c, n, path,
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

static void load_update(struct lctx *c, struct spec_env *e, const struct ynode *n,
			const char *path)
{
	struct field f[] = {{"maxSurge", NULL, NULL}, {"maxUnavailable", NULL, NULL}};
	char p[SPEC_MAX_PATH];
	bool ok = true;

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (present(&f[0]))
		ok &= get_int(c, f[0].val, pkey(p, path, "maxSurge"), 0,
			      SPEC_MAX_CAPACITY, &e->update.max_surge);
	if (present(&f[1]))
		ok &= get_int(c, f[1].val, pkey(p, path, "maxUnavailable"), 0,
			      SPEC_MAX_CAPACITY, &e->update.max_unavailable);
	if (ok && e->update.max_surge == 0 && e->update.max_unavailable == 0)
		lerr(c, n, path,
		     "maxSurge and maxUnavailable cannot both be 0 (nothing could be "
		     "replaced)");
}

static void load_limits(struct lctx *c, struct spec_env *e, const struct ynode *n,
			const char *path)
{
	struct field f[] = {
	    {"maxReleasePerApply", NULL, NULL},
	    {"maxHourlyCost", NULL, NULL},
	};
	char p[SPEC_MAX_PATH];

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	if (present(&f[0]))
		get_int(c, f[0].val, pkey(p, path, "maxReleasePerApply"), 0,
			SPEC_MAX_CAPACITY, &e->limits.max_release_per_apply);
	if (present(&f[1]))
		e->limits.max_hourly_cost =
		    get_price(c, f[1].val, pkey(p, path, "maxHourlyCost"));
}

static void load_spec(struct lctx *c, struct spec_env *e, const struct ynode *n,
		      const char *path)
{
	struct field f[] = {
	    {"region", NULL, NULL},	  {"capacity", NULL, NULL},
	    {"maxPrice", NULL, NULL},	  {"image", NULL, NULL},
	    {"pools", NULL, NULL},	  {"allocation", NULL, NULL},
	    {"instanceName", NULL, NULL}, {"tags", NULL, NULL},
	    {"network", NULL, NULL},	  {"login", NULL, NULL},
	    {"systemDisk", NULL, NULL},	  {"userData", NULL, NULL},
	    {"update", NULL, NULL},	  {"limits", NULL, NULL},
	};
	const struct ynode *subnets[SPEC_MAX_POOLS], *pool_nodes[SPEC_MAX_POOLS];
	size_t pool_index[SPEC_MAX_POOLS];
	char p[SPEC_MAX_PATH], d[64];
	struct field *x;
	const char *s;
	int i;

	if (!lfields(c, n, path, f, ARRAY_SIZE(f), false))
		return;
	x = fget(f, ARRAY_SIZE(f), "region");
	if (need(c, n, path, x, "a region such as 'ap-guangzhou'") &&
	    (s = get_scalar(c, x->val, pkey(p, path, "region"),
			    "a region such as 'ap-guangzhou'"))) {
		if (valid_region(s))
			e->region = xstrdup(s);
		else
			lerr(c, x->val, p,
			     "expected a region such as 'ap-guangzhou', got %s",
			     describe(d, sizeof(d), x->val));
	}
	x = fget(f, ARRAY_SIZE(f), "capacity");
	if (need(c, n, path, x, "the number of instances wanted, 0 to 10000"))
		get_int(c, x->val, pkey(p, path, "capacity"), 0, SPEC_MAX_CAPACITY,
			&e->capacity);
	x = fget(f, ARRAY_SIZE(f), "maxPrice");
	if (need(c, n, path, x,
		 "the highest bid in CNY per instance-hour, such as \"0.60\""))
		e->max_price = get_price(c, x->val, pkey(p, path, "maxPrice"));
	x = fget(f, ARRAY_SIZE(f), "image");
	if (need(c, n, path, x, "an image id such as 'img-pmqg1cw7'"))
		e->image =
		    get_id(c, x->val, pkey(p, path, "image"), "img-", "an image id");
	x = fget(f, ARRAY_SIZE(f), "network");
	if (present(x))
		load_network(c, e, x->val, pkey(p, path, "network"));
	x = fget(f, ARRAY_SIZE(f), "pools");
	if (need(c, n, path, x, "a list of zone and instanceType pairs"))
		load_pools(c, e, x->val, pkey(p, path, "pools"), pool_nodes, subnets,
			   pool_index);
	for (size_t k = 0; k < e->npools; k++) {
		char pp[SPEC_MAX_PATH], ps[SPEC_MAX_PATH];

		pidx(pp, pkey(p, path, "pools"), pool_index[k]);
		if (e->network.vpc_id && !e->pools[k].subnet_id)
			lerr(c, pool_nodes[k], pp,
			     "missing required key 'subnetId' (network.vpcId is set, and "
			     "subnets "
			     "belong to one zone)");
		else if (e->pools[k].subnet_id &&
			 !ynode_get(ynode_get(n, "network"), "vpcId"))
			lerr(c, subnets[k], pkey(ps, pp, "subnetId"),
			     "subnetId needs network.vpcId (the subnet's VPC)");
	}
	x = fget(f, ARRAY_SIZE(f), "allocation");
	if (present(x) && (i = get_enum(c, x->val, pkey(p, path, "allocation"),
					alloc_names, ARRAY_SIZE(alloc_names))) >= 0)
		e->allocation = (enum spec_alloc)i;
	x = fget(f, ARRAY_SIZE(f), "instanceName");
	if (present(x) && (s = get_scalar(c, x->val, pkey(p, path, "instanceName"),
					  "an instance name prefix"))) {
		if (utf8_chars(s) > SPEC_MAX_INSTANCE_NAME || has_control(s))
			lerr(c, x->val, p,
			     "expected an instance name prefix of at most %d characters "
			     "without "
			     "control characters, got %s",
			     SPEC_MAX_INSTANCE_NAME, describe(d, sizeof(d), x->val));
		else
			e->instance_name = xstrdup(s);
	}
	x = fget(f, ARRAY_SIZE(f), "tags");
	if (present(x))
		load_tags(c, e, x->val, pkey(p, path, "tags"));
	x = fget(f, ARRAY_SIZE(f), "login");
	if (present(x))
		load_login(c, e, x->val, pkey(p, path, "login"));
	x = fget(f, ARRAY_SIZE(f), "systemDisk");
	if (present(x))
		load_system_disk(c, e, x->val, pkey(p, path, "systemDisk"));
	x = fget(f, ARRAY_SIZE(f), "userData");
	if (present(x))
		load_user_data(c, e, x->val, pkey(p, path, "userData"));
	x = fget(f, ARRAY_SIZE(f), "update");
	if (present(x))
		load_update(c, e, x->val, pkey(p, path, "update"));
	x = fget(f, ARRAY_SIZE(f), "limits");
	if (present(x))
		load_limits(c, e, x->val, pkey(p, path, "limits"));
}

/* Where an environment named name was first seen, or NULL. */
static const struct spec_loc *find_seen(struct lctx *c, const char *name)
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
static void load_env(struct lctx *c, const struct ynode *n, const struct field *meta,
		     const struct field *spec, const char *prefix)
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

	if (need(c, n, prefix, meta, "a mapping with the environment's name"))
		load_metadata(c, &e, meta->val, pkey(p, prefix, "metadata"));
	if (need(c, n, prefix, spec,
		 "a mapping with region, capacity, maxPrice, image and pools"))
		load_spec(c, &e, spec->val, pkey(p, prefix, "spec"));

	if (e.name && (first = find_seen(c, e.name))) {
		lerr(c, ynode_get(meta->val, "name"),
		     pkey(p, pkey(pm, prefix, "metadata"), "name"),
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

static const char *const kinds[] = {"SpotEnvironment", "SpotEnvironmentList"};

/* The first pair of map with this key, without reporting anything. */
static void quiet_field(const struct ynode *map, struct field *f)
{
	f->key = f->val = NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->kind == YNODE_SCALAR && !strcmp(k->str, f->name)) {
			f->key = k;
			f->val = map->kids[i + 1];
			return;
		}
	}
}

/*
 * apiVersion and kind of a document (want_kind NULL: both required) or of
 * a list item (want_kind set: both optional, and kind must be want_kind).
 * Sets *kind_out to an index into kinds[]; false when unusable.
 */
static bool check_header(struct lctx *c, const struct ynode *n, const struct field *api,
			 const struct field *kind, const char *path,
			 const char *want_kind, int *kind_out)
{
	const char *expect_kind = "'SpotEnvironment' or 'SpotEnvironmentList'";
	char p[SPEC_MAX_PATH], d[64], h[96];
	bool ok = true;
	const char *s;

	if (present(api)) {
		s = get_scalar(c, api->val, pkey(p, path, "apiVersion"),
			       "'" SPEC_API_VERSION "'");
		if (s && strcmp(s, SPEC_API_VERSION))
			lerr(c, api->val, p,
			     "unsupported apiVersion %s (expected '" SPEC_API_VERSION
			     "')",
			     describe(d, sizeof(d), api->val));
		ok = s && !strcmp(s, SPEC_API_VERSION);
	} else if (!want_kind || api->key) {
		need(c, n, path, api, "'" SPEC_API_VERSION "'");
		ok = false;
	}
	if (want_kind && !kind->key) {
		*kind_out = 0;
		return ok;
	}
	if (!need(c, n, path, kind, want_kind ? "'SpotEnvironment'" : expect_kind))
		return false;
	if (!(s = get_scalar(c, kind->val, pkey(p, path, "kind"), expect_kind)))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!strcmp(s, kinds[i]) && (!want_kind || !strcmp(s, want_kind))) {
			*kind_out = (int)i;
			return ok;
		}
	}
	if (want_kind)
		lerr(c, kind->val, p, "unsupported kind %s in a list (expected '%s')",
		     describe(d, sizeof(d), kind->val), want_kind);
	else
		lerr(c, kind->val, p, "unsupported kind %s%s; expected %s",
		     describe(d, sizeof(d), kind->val),
		     hint(h, sizeof(h), s, kinds, ARRAY_SIZE(kinds)), expect_kind);
	return false;
}

static void load_list(struct lctx *c, const struct ynode *items)
{
	char p[SPEC_MAX_PATH], d[64];

	if (items->kind != YNODE_SEQ) {
		lerr(c, items, "items", "expected a list of environments, got %s",
		     describe(d, sizeof(d), items));
		return;
	}
	if (items->nkids == 0) {
		lerr(c, items, "items", "expected at least one environment");
		return;
	}
	for (size_t i = 0; i < items->nkids; i++) {
		struct field f[] = {
		    {"apiVersion", NULL, NULL},
		    {"kind", NULL, NULL},
		    {"metadata", NULL, NULL},
		    {"spec", NULL, NULL},
		};
		const struct ynode *it = items->kids[i];
		int kind = 0;

		pidx(p, "items", i);
		if (!lfields(c, it, p, f, ARRAY_SIZE(f), true))
			continue;
		if (!check_header(c, it, &f[0], &f[1], p, "SpotEnvironment", &kind))
			continue;
		load_env(c, it, &f[2], &f[3], p);
	}
}

/* One YAML document (ytree callback). */
static void load_doc(void *arg, const struct ynode *root)
{
	struct lctx *c = arg;
	struct field api = {"apiVersion", NULL, NULL}, kind = {"kind", NULL, NULL};
	char d[64];
	int k = -1;

	if (root->kind != YNODE_MAP) {
		lerr(
		    c, root, NULL,
		    "expected a mapping with apiVersion, kind, metadata and spec, got %s",
		    describe(d, sizeof(d), root));
		return;
	}
	/* the keys allowed depend on the kind: read it first */
	quiet_field(root, &api);
	quiet_field(root, &kind);
	if (!check_header(c, root, &api, &kind, "", NULL, &k))
		return;
	if (k == 0) {
		struct field f[] = {
		    {"apiVersion", NULL, NULL},
		    {"kind", NULL, NULL},
		    {"metadata", NULL, NULL},
		    {"spec", NULL, NULL},
		};

		lfields(c, root, "", f, ARRAY_SIZE(f), true);
		load_env(c, root, &f[2], &f[3], "");
	} else {
		struct field f[] = {
		    {"apiVersion", NULL, NULL},
		    {"kind", NULL, NULL},
		    {"items", NULL, NULL},
		};

		lfields(c, root, "", f, ARRAY_SIZE(f), true);
		if (need(c, root, "", &f[2], "a list of environments"))
			load_list(c, f[2].val);
	}
}

/* ---- files, directories and the set ---- */

/*
 * Check that data is UTF-8 (libyaml would say so too, but without a
 * line and column); false after an error.
 */
static bool check_utf8(struct lctx *c, const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	int line = 1, col = 1;

	if (len >= 2 &&
	    ((s[0] == 0xFE && s[1] == 0xFF) || (s[0] == 0xFF && s[1] == 0xFE))) {
		errlist_add(c->errs, ERR_INVALID, c->file, 1, 1, NULL,
			    "expected UTF-8 text, found a UTF-16 byte order mark");
		return false;
	}
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		size_t n = ch < 0x80		 ? 1
			   : (ch & 0xE0) == 0xC0 ? 2
			   : (ch & 0xF0) == 0xE0 ? 3
			   : (ch & 0xF8) == 0xF0 ? 4
						 : 0;
		uint32_t cp = n == 2 ? ch & 0x1F : n == 3 ? ch & 0x0F : ch & 0x07;
		bool ok = n > 0 && i + n <= len;

		for (size_t k = 1; ok && k < n; k++) {
			ok = (s[i + k] & 0xC0) == 0x80;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* no overlong forms, surrogates or code points past U+10FFFF */
		if (ok && n > 1)
			ok = !((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
			       (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
			       (cp >= 0xD800 && cp <= 0xDFFF));
		if (!ok) {
			errlist_add(c->errs, ERR_INVALID, c->file, line, col, NULL,
				    "expected UTF-8 text, found the byte 0x%02X", ch);
			return false;
		}
		if (ch == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return true;
}

/* Parse one buffer named c->file into c->set. */
static void load_data(struct lctx *c, const char *data, size_t len)
{
	size_t nerrs = c->errs->n, ndocs = 0;

	if (!check_utf8(c, data, len))
		return;
	ytree_parse(c->file, data, len, c->errs, load_doc, c, &ndocs);
	if (ndocs == 0 && c->errs->n == nerrs)
		errlist_add(c->errs, ERR_INVALID, c->file, 1, 1, NULL,
			    "no environments in file (expected a 'SpotEnvironment' or "
			    "'SpotEnvironmentList' document)");
}

/* Remember name as a file of the set; returns the set's copy. */
static const char *add_file(struct spec_set *set, const char *name)
{
	ALLOC_GROW(set->files, set->nfiles + 1, set->nfiles_alloc);
	set->files[set->nfiles] = xstrdup(name);
	return set->files[set->nfiles++];
}

/* strerror, lowercased as our messages are. */
static const char *errstr(int errnum, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(errnum));
	if (buf[0] && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* Read a whole file; NULL after an error in c->errs. */
static char *read_file(struct lctx *c, const char *path, size_t *len)
{
	char *data = NULL, e[128];
	size_t n = 0, alloc = 0;
	FILE *f = fopen(path, "rb");

	if (!f) {
		errlist_add(c->errs, ERR_INVALID, path, 0, 0, NULL,
			    "cannot open file: %s", errstr(errno, e, sizeof(e)));
		return NULL;
	}
	for (;;) {
		size_t got;

		ALLOC_GROW(data, n + 4096 + 1, alloc);
		got = fread(data + n, 1, alloc - n - 1, f);
		n += got;
		if (n > SPEC_MAX_FILE_BYTES) {
			errlist_add(c->errs, ERR_INVALID, path, 0, 0, NULL,
				    "file is larger than %d MiB",
				    SPEC_MAX_FILE_BYTES >> 20);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errlist_add(c->errs, ERR_INVALID, path, 0, 0, NULL,
			    "cannot read file: %s",
			    errstr(errno ? errno : EIO, e, sizeof(e)));
		goto fail;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
fail:
	fclose(f);
	free(data);
	return NULL;
}

struct filelist {
	char **v;
	size_t n, alloc;
};

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool spec_file_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Collect *.yaml and *.yml under dir, sorted; hidden entries are skipped. */
static void walk_dir(struct lctx *c, const char *dir, int depth, struct filelist *out)
{
	struct filelist names = {NULL, 0, 0};
	struct dirent *de;
	char e[128];
	DIR *d;

	if (depth > SPEC_MAX_DIR_DEPTH) {
		errlist_add(c->errs, ERR_INVALID, dir, 0, 0, NULL,
			    "directories nested deeper than %d levels (a symlink loop?)",
			    SPEC_MAX_DIR_DEPTH);
		return;
	}
	if (!(d = opendir(dir))) {
		errlist_add(c->errs, ERR_INVALID, dir, 0, 0, NULL,
			    "cannot read directory: %s", errstr(errno, e, sizeof(e)));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ALLOC_GROW(names.v, names.n + 1, names.alloc);
		names.v[names.n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), strp_cmp);
	for (size_t i = 0; i < names.n; i++) {
		size_t dl = strlen(dir);
		char *full = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
				       names.v[i]);
		struct stat st;

		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk_dir(c, full, depth + 1, out);
			free(full);
		} else if (spec_file_name(names.v[i])) {
			ALLOC_GROW(out->v, out->n + 1, out->alloc);
			out->v[out->n++] = full;
		} else {
			free(full);
		}
		free(names.v[i]);
	}
	free(names.v);
}

static int env_cmp(const void *a, const void *b)
{
	const struct spec_env *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void lctx_init(struct lctx *c, struct spec_set *set, struct errlist *errs)
{
	memset(c, 0, sizeof(*c));
	c->set = set;
	c->errs = errs;
	c->nenvs_before = set->nenvs;
}

static void lctx_finish(struct lctx *c)
{
	for (size_t i = 0; i < c->nseen; i++)
		free(c->seen[i].name);
	free(c->seen);
	if (c->set->nenvs > 1)
		qsort(c->set->envs, c->set->nenvs, sizeof(*c->set->envs), env_cmp);
}

int spec_load_buffer(struct spec_set *out, const char *name, const char *data, size_t len,
		     struct errlist *errs)
{
	struct lctx c;
	size_t nerrs = errs->n;

	lctx_init(&c, out, errs);
	c.file = add_file(out, name);
	load_data(&c, data ? data : "", data ? len : 0);
	lctx_finish(&c);
	return errs->n == nerrs ? 0 : ERR_INVALID;
}

int spec_load_paths(struct spec_set *out, const char *const *paths, size_t npaths,
		    struct errlist *errs)
{
	struct filelist files = {NULL, 0, 0};
	struct {
		dev_t dev;
		ino_t ino;
	} *ids = NULL;
	size_t nids = 0, ids_alloc = 0;
	size_t nerrs = errs->n;
	bool missing = false;
	struct lctx c;
	char e[128];

	lctx_init(&c, out, errs);
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		size_t before = files.n;

		if (stat(paths[i], &st) < 0) {
			bool gone = errno == ENOENT || errno == ENOTDIR;

			missing |= gone;
			errlist_add(
			    errs, ERR_INVALID, paths[i], 0, 0, NULL, "%s%s",
			    gone ? "" : "cannot access: ", errstr(errno, e, sizeof(e)));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			ALLOC_GROW(files.v, files.n + 1, files.alloc);
			files.v[files.n++] = xstrdup(paths[i]);
			continue;
		}
		walk_dir(&c, paths[i], 0, &files);
		if (files.n == before)
			errlist_add(errs, ERR_INVALID, paths[i], 0, 0, NULL,
				    "no *.yaml or *.yml files in directory");
	}
	for (size_t i = 0; i < files.n; i++) {
		struct stat st;
		bool again = false;
		char *data;
		size_t len = 0;

		/* the same file named twice (or inside a named directory) is read once */
		if (stat(files.v[i], &st) == 0) {
			for (size_t j = 0; j < nids && !again; j++)
				again =
				    ids[j].dev == st.st_dev && ids[j].ino == st.st_ino;
			if (!again) {
				ALLOC_GROW(ids, nids + 1, ids_alloc);
				ids[nids].dev = st.st_dev;
				ids[nids].ino = st.st_ino;
				nids++;
			}
		}
		if (!again && (data = read_file(&c, files.v[i], &len))) {
			c.file = add_file(out, files.v[i]);
			load_data(&c, data, len);
			free(data);
		}
		free(files.v[i]);
	}
	free(files.v);
	free(ids);
	lctx_finish(&c);
	if (missing)
		return ERR_NOTFOUND;
	return errs->n == nerrs ? 0 : ERR_INVALID;
}

void spec_set_free(struct spec_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nenvs; i++)
		spec_env_release(&set->envs[i]);
	free(set->envs);
	for (size_t i = 0; i < set->nfiles; i++)
		free(set->files[i]);
	free(set->files);
	memset(set, 0, sizeof(*set));
}

const struct spec_env *spec_set_find(const struct spec_set *set, const char *name)
{
	size_t lo = 0, hi = set->nenvs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(set->envs[mid].name, name);

		if (r == 0)
			return &set->envs[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *spec_pool_bid(const struct spec_env *env, const struct spec_pool *pool)
{
	return pool && pool->max_price ? pool->max_price : env->max_price;
}

const char *spec_alloc_name(enum spec_alloc a)
{
	if ((size_t)a < ARRAY_SIZE(alloc_names))
		return alloc_names[a];
	return "unknown";
}
