/*
 * get.c - typed getters over ytree nodes for the spec loader.
 *
 * Each getter checks one node against what the schema wants (a name, a
 * whole number in a range, a price, an id, ...) and, when it does not fit,
 * reports what was expected and what was found at that node's line and
 * column.  schema.c says which keys exist; this file says how a value is
 * read.
 */
#include "../util/setup.h"
#include "../util/suggest.h"

#include "../util/decimal.h"
#include "load_int.h"

void spec_error(struct spec_ctx *c, const struct ynode *at, const char *path,
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
const char *spec_path_key(char *buf, const char *base, const char *key)
{
	int n = snprintf(buf, SPEC_MAX_PATH, "%s%s%s", base, *base ? "." : "", key);

	if (n < 0 || n >= SPEC_MAX_PATH)
		buf[SPEC_MAX_PATH - 1] = '\0';
	return buf;
}

const char *spec_path_index(char *buf, const char *base, size_t i)
{
	int n = snprintf(buf, SPEC_MAX_PATH, "%s[%zu]", base, i);

	if (n < 0 || n >= SPEC_MAX_PATH)
		buf[SPEC_MAX_PATH - 1] = '\0';
	return buf;
}

/* ---- did you mean ---- */

/* " (did you mean 'x'?)" or "" into buf. */
const char *spec_hint(char *buf, size_t size, const char *got, const char *const *cands,
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
const char *spec_describe(char *buf, size_t size, const struct ynode *n)
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

bool spec_present(const struct spec_field *f)
{
	return f->val && !ynode_is_null(f->val);
}

/*
 * Read the pairs of map into f[] (one per key of m, in m's order).  Unknown
 * keys are errors (with a suggestion) unless m allows "x-" keys and they
 * start with "x-"; a key given twice is an error.  Returns false, after an
 * error, when map is not a mapping.
 */
bool spec_fields(struct spec_ctx *c, const struct ynode *map, const char *path,
		 const struct spec_map *m, struct spec_field *f)
{
	const char *names[SPEC_MAX_KEYS];
	size_t nf = m->nkeys;
	char d[64], h[96];

	assert(nf <= ARRAY_SIZE(names));
	for (size_t i = 0; i < nf; i++) {
		names[i] = f[i].name = m->keys[i].name;
		f[i].rule = &m->keys[i];
		f[i].key = f[i].val = NULL;
	}
	if (map->kind != YNODE_MAP) {
		spec_error(c, map, path, "expected a mapping, got %s",
			   spec_describe(d, sizeof(d), map));
		return false;
	}
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i], *v = map->kids[i + 1];
		size_t j;

		if (k->kind != YNODE_SCALAR) {
			spec_error(c, k, path, "expected a string key, got %s",
				   spec_describe(d, sizeof(d), k));
			continue;
		}
		for (j = 0; j < nf; j++)
			if (!strcmp(f[j].name, k->str))
				break;
		if (j < nf) {
			if (f[j].key)
				spec_error(
					c, k, path,
					"duplicate key '%s' (first given at line %d column "
					"%d)",
					k->str, f[j].key->line, f[j].key->col);
			else {
				f[j].key = k;
				f[j].val = v;
			}
			continue;
		}
		if (m->allow_x && !strncmp(k->str, "x-", 2))
			continue;
		spec_error(c, k, path, "unknown key %s%s", spec_describe(d, sizeof(d), k),
			   spec_hint(h, sizeof(h), k->str, names, nf));
	}
	return true;
}

struct spec_field *spec_field_find(struct spec_field *f, size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	assert(!"unknown field name");
	return NULL;
}

/* The first pair of map with the key of rule, without reporting anything. */
void spec_field_peek(const struct ynode *map, const struct spec_key *rule,
		     struct spec_field *f)
{
	f->name = rule->name;
	f->rule = rule;
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

bool spec_field_error(const struct spec_field *f)
{
	if (spec_present(f))
		return false;
	if (f->key)
		return f->rule->flags & (SPEC_KEY_REQUIRED | SPEC_KEY_NOT_NULL);
	return f->rule->flags & SPEC_KEY_REQUIRED;
}

/*
 * True when the field has a value.  Otherwise false, after an error when
 * its rule says it must have one (required, or not null once written).
 */
bool spec_need(struct spec_ctx *c, const struct ynode *map, const char *path,
	       const struct spec_field *f)
{
	if (spec_present(f))
		return true;
	if (!spec_field_error(f))
		return false;
	if (f->key)
		spec_error(c, f->key, path, "'%s' must not be empty (expected %s)",
			   f->name, f->rule->expect);
	else
		spec_error(c, map, path, "missing required key '%s' (%s)", f->name,
			   f->rule->expect);
	return false;
}

/* A scalar's text, or NULL after an error naming what was expected. */
const char *spec_get_scalar(struct spec_ctx *c, const struct ynode *n, const char *path,
			    const char *expect)
{
	char d[64];

	if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
		spec_error(c, n, path, "expected %s, got %s", expect,
			   spec_describe(d, sizeof(d), n));
		return NULL;
	}
	if (strlen(n->str) != n->len) {
		spec_error(c, n, path, "expected %s, got a string with a NUL character",
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

bool spec_get_int(struct spec_ctx *c, const struct ynode *n, const char *path, long min,
		  long max, int *out)
{
	char d[64];
	long v;

	if (n->kind != YNODE_SCALAR || !n->plain || ynode_is_null(n) ||
	    !is_int_text(n->str)) {
		if (n->kind == YNODE_SCALAR && !n->plain && is_int_text(n->str))
			spec_error(
				c, n, path,
				"expected a whole number from %ld to %ld, got the string %s "
				"(drop the quotes)",
				min, max, spec_describe(d, sizeof(d), n));
		else
			spec_error(c, n, path,
				   "expected a whole number from %ld to %ld, got %s", min,
				   max, spec_describe(d, sizeof(d), n));
		return false;
	}
	errno = 0;
	v = strtol(n->str, NULL, 10);
	if (errno || v < min || v > max) {
		spec_error(c, n, path, "expected a whole number from %ld to %ld, got %s",
			   min, max, spec_describe(d, sizeof(d), n));
		return false;
	}
	*out = (int)v;
	return true;
}

bool spec_get_bool(struct spec_ctx *c, const struct ynode *n, const char *path, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE" };
	static const char *const f[] = { "false", "False", "FALSE" };
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
	spec_error(c, n, path, "expected true or false, got %s",
		   spec_describe(d, sizeof(d), n));
	return false;
}

/*
 * A price: a decimal string or a plain YAML number, kept as written
 * (normalised: "00.50" -> "0.50", ".5" -> "0.5"), greater than 0.
 * Caller frees; NULL after an error.
 */
char *spec_get_price(struct spec_ctx *c, const struct ynode *n, const char *path)
{
	char d[64];
	dec_t v;
	char *s;

	if (n->kind != YNODE_SCALAR || ynode_is_null(n) || strlen(n->str) != n->len ||
	    dec_parse(n->str, &v) < 0) {
		spec_error(
			c, n, path,
			"expected a price in CNY per hour as a decimal such as \"0.60\" "
			"(at most 9 decimal places), got %s",
			spec_describe(d, sizeof(d), n));
		return NULL;
	}
	if (v <= 0) {
		spec_error(c, n, path, "price must be greater than 0, got %s",
			   spec_describe(d, sizeof(d), n));
		return NULL;
	}
	s = dec_normalize(n->str);
	assert(s);
	return s;
}

/* One of choices (case-sensitive), with a suggestion; index or -1. */
int spec_get_enum(struct spec_ctx *c, const struct ynode *n, const char *path,
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
	if (!(s = spec_get_scalar(c, n, path, "one of the listed values")))
		return -1;
	for (size_t i = 0; i < nchoices; i++)
		if (!strcmp(s, choices[i]))
			return (int)i;
	spec_error(c, n, path, "unknown value '%s'%s; expected one of %s", s,
		   spec_hint(h, sizeof(h), s, choices, nchoices), list);
	return -1;
}

/* Characters, counting UTF-8 sequences once. */
size_t spec_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

bool spec_has_control(const char *s)
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

char *spec_get_name(struct spec_ctx *c, const struct ynode *n, const char *path)
{
	const char *s = spec_get_scalar(c, n, path, "a name");
	char d[64];

	if (!s)
		return NULL;
	if (!valid_name(s)) {
		spec_error(
			c, n, path,
			"expected a name of lowercase letters, digits and '-' that starts "
			"and ends "
			"with a letter or digit, at most %d characters, got %s",
			SPEC_MAX_NAME, spec_describe(d, sizeof(d), n));
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

char *spec_get_id(struct spec_ctx *c, const struct ynode *n, const char *path,
		  const char *prefix, const char *what)
{
	char expect[96], d[64];
	const char *s;

	snprintf(expect, sizeof(expect), "%s such as '%sxxxxxxxx'", what, prefix);
	if (!(s = spec_get_scalar(c, n, path, expect)))
		return NULL;
	if (!valid_id(s, prefix)) {
		spec_error(c, n, path, "expected %s, got %s", expect,
			   spec_describe(d, sizeof(d), n));
		return NULL;
	}
	return xstrdup(s);
}

/* A list of ids; false after an error (the list holds what was valid). */
bool spec_get_id_list(struct spec_ctx *c, const struct ynode *n, const char *path,
		      const char *prefix, const char *what, char ***out, size_t *nout)
{
	char d[64], p[SPEC_MAX_PATH];
	bool ok = true;

	if (n->kind != YNODE_SEQ) {
		spec_error(c, n, path,
			   "expected a list of ids such as '%sxxxxxxxx', got %s", prefix,
			   spec_describe(d, sizeof(d), n));
		return false;
	}
	*out = n->nkids ? xcalloc(n->nkids, sizeof(**out)) : NULL;
	*nout = 0;
	for (size_t i = 0; i < n->nkids; i++) {
		char *id = spec_get_id(c, n->kids[i], spec_path_index(p, path, i), prefix,
				       what);

		if (!id) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < *nout; j++) {
			if (!strcmp((*out)[j], id)) {
				spec_error(c, n->kids[i], p, "'%s' is listed twice", id);
				ok = false;
				break;
			}
		}
		(*out)[(*nout)++] = id;
	}
	return ok;
}

/* ---- getters by rule ---- */

bool spec_rule_int(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path, int *out)
{
	assert(rule->type == SPEC_T_INT);
	return spec_get_int(c, n, path, rule->min, rule->max, out);
}

int spec_rule_enum(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path)
{
	assert(rule->type == SPEC_T_ENUM);
	return spec_get_enum(c, n, path, rule->choices, rule->nchoices);
}

char *spec_rule_id(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path)
{
	assert(rule->type == SPEC_T_STR && rule->prefix && rule->what);
	return spec_get_id(c, n, path, rule->prefix, rule->what);
}

bool spec_rule_id_list(struct spec_ctx *c, const struct spec_key *rule,
		       const struct ynode *n, const char *path, char ***out, size_t *nout)
{
	assert(rule->type == SPEC_T_LIST && (rule->flags & SPEC_KEY_UNIQUE));
	assert(rule->item->prefix && rule->item->what);
	return spec_get_id_list(c, n, path, rule->item->prefix, rule->item->what, out,
				nout);
}

const char *spec_rule_scalar(struct spec_ctx *c, const struct spec_key *rule,
			     const struct ynode *n, const char *path)
{
	assert(rule->expect);
	return spec_get_scalar(c, n, path, rule->expect);
}
