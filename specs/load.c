/*
 * load.c - turn YAML documents into validated struct spec_env values.
 *
 * Why one pass that keeps going: users fix specs in batches, so every
 * problem of a run is reported (each with file:line:column, the key path
 * and what was expected), and an environment enters the set only when it
 * has no problem at all.
 *
 * This file holds the entry points of spec.h; paths.c finds and reads the
 * files, util/ytree.c parses them, schema.c checks the documents with the
 * getters of get.c (load_int.h has the map).
 */
#include "../util/setup.h"

#include "load_int.h"

/*
 * Check that data is UTF-8 (libyaml would say so too, but without a
 * line and column); false after an error.
 */
static bool check_utf8(struct spec_ctx *c, const char *data, size_t len)
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
static void load_data(struct spec_ctx *c, const char *data, size_t len)
{
	size_t nerrs = c->errs->n, ndocs = 0;

	if (!check_utf8(c, data, len))
		return;
	ytree_parse(c->file, data, len, c->errs, spec_load_doc, c, &ndocs);
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

static int env_cmp(const void *a, const void *b)
{
	const struct spec_env *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static void spec_ctx_init(struct spec_ctx *c, struct spec_set *set, struct errlist *errs)
{
	memset(c, 0, sizeof(*c));
	c->set = set;
	c->errs = errs;
	c->nenvs_before = set->nenvs;
}

static void spec_ctx_finish(struct spec_ctx *c)
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
	struct spec_ctx c;
	size_t nerrs = errs->n;

	spec_ctx_init(&c, out, errs);
	c.file = add_file(out, name);
	load_data(&c, data ? data : "", data ? len : 0);
	spec_ctx_finish(&c);
	return errs->n == nerrs ? 0 : ERR_INVALID;
}

int spec_load_paths(struct spec_set *out, const char *const *paths, size_t npaths,
		    struct errlist *errs)
{
	struct spec_filelist files = SPEC_FILELIST_INIT;
	size_t nerrs = errs->n;
	struct spec_ctx c;
	int error;

	spec_ctx_init(&c, out, errs);
	error = spec_paths_collect(&files, paths, npaths, errs);
	for (size_t i = 0; i < files.n; i++) {
		char *data;
		size_t len = 0;

		if (spec_read_file(&data, &len, files.v[i], errs) < 0)
			continue;
		c.file = add_file(out, files.v[i]);
		load_data(&c, data, len);
		free(data);
	}
	spec_filelist_release(&files);
	spec_ctx_finish(&c);
	if (error)
		return error;
	return errs->n == nerrs ? 0 : ERR_INVALID;
}

void spec_set_release(struct spec_set *set)
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
