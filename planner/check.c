/*
 * check.c - a saved plan is untrusted: is it one spotenv could have made?
 *
 * A plan file travels through CI artifacts and pull requests; anyone who
 * can edit it could add a release of someone else's instance, a launch
 * without ownership tags, a bid of 99999.99 or a zone of their choosing.
 * plan_check() holds every action to the plan's own declarations (its
 * environments, their pools, bids, templates and capacity) before the lock
 * is taken; the applier then holds every release to the live world
 * (apply_verify_plan).  Any violation refuses the whole plan: tampering is
 * not a per-environment problem.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "../util/decimal.h"
#include "plan.h"
#include "plan_internal.h"

/* At most this many violations are listed; the rest are counted. */
#define PLAN_CHECK_MAX_LINES 20

struct plan_checker {
	struct buf *why;
	int n;
};

static void plan_bad(struct plan_checker *k, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void plan_bad(struct plan_checker *k, const char *fmt, ...)
{
	va_list ap;

	if (k->n++ >= PLAN_CHECK_MAX_LINES || !k->why)
		return;
	va_start(ap, fmt);
	buf_puts(k->why, "  ");
	buf_vprintf(k->why, fmt, ap);
	buf_putc(k->why, '\n');
	va_end(ap);
}

/* Bounds of a tag (the spec's, in bytes here: at most 4 per character). */
#define PLAN_MAX_TAG_KEY (127 * 4)
#define PLAN_MAX_TAG_VALUE (255 * 4)

/* Text without control characters, at most max bytes; empty only when empty_ok. */
static bool plan_text_ok(const char *s, size_t max, bool empty_ok)
{
	size_t n = 0;

	if (!s || (!*s && !empty_ok))
		return false;
	for (; *s; s++, n++)
		if (n >= max || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Printable ASCII, at most max bytes. */
static bool plan_ascii_ok(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++, n++)
		if (n >= max || *s <= ' ' || *s > '~')
			return false;
	return true;
}

bool plan_instance_id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 5 || n > 32 || strncmp(id, "ins-", 4))
		return false;
	for (id += 4; *id; id++)
		if (!isalnum((unsigned char)*id))
			return false;
	return true;
}

static const char *plan_tag_of(const struct plan_launch *l, const char *key, int *count)
{
	const char *v = NULL;

	*count = 0;
	for (size_t i = 0; i < l->ntags; i++)
		if (l->tags[i].key && !strcmp(l->tags[i].key, key)) {
			v = l->tags[i].value;
			(*count)++;
		}
	return v;
}

/* The ownership tags a launch of pe in pp must carry, exactly once each. */
static void plan_check_tags(struct plan_checker *k, const struct plan_env *pe,
			    const struct plan_pool *pp, const struct plan_launch *l,
			    size_t j)
{
	static const char *const keys[] = { PLAN_TAG_ENV, PLAN_TAG_SCOPE,
					    PLAN_TAG_TEMPLATE };
	const char *want[3];

	want[0] = pe->name;
	want[1] = pe->scope;
	want[2] = pp ? pp->template : NULL;
	if (l->ntags > SPEC_MAX_TAGS)
		plan_bad(k, "environment '%s' launch %zu: %zu tags, more than %d",
			 pe->name, j + 1, l->ntags, SPEC_MAX_TAGS);
	for (size_t i = 0; i < l->ntags; i++)
		if (!l->tags[i].key || !l->tags[i].value)
			plan_bad(
				k,
				"environment '%s' launch %zu: a tag without key or value",
				pe->name, j + 1);
		else if (!plan_text_ok(l->tags[i].key, PLAN_MAX_TAG_KEY, false) ||
			 !plan_text_ok(l->tags[i].value, PLAN_MAX_TAG_VALUE, true))
			plan_bad(
				k,
				"environment '%s' launch %zu: tag %zu is empty, too long or holds "
				"control characters",
				pe->name, j + 1, i + 1);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int count;
		const char *v = plan_tag_of(l, keys[i], &count);

		if (count != 1 || !v || !want[i] || strcmp(v, want[i]))
			plan_bad(
				k,
				"environment '%s' launch %zu: tag '%s' must be '%s' once",
				pe->name, j + 1, keys[i], want[i] ? want[i] : "?");
	}
}

static void plan_check_launch(struct plan_checker *k, const struct plan *p,
			      const struct plan_env *pe, const struct plan_launch *l,
			      size_t j)
{
	const struct plan_pool *pp = NULL;

	for (size_t i = 0; i < pe->npools; i++)
		if (pe->pools[i].index == l->pool)
			pp = &pe->pools[i];
	if (!pp) {
		plan_bad(k,
			 "environment '%s' launch %zu: pool %d is not one of its pools",
			 pe->name, j + 1, l->pool + 1);
	} else {
		if (!pp->usable)
			plan_bad(k, "environment '%s' launch %zu: pool %d is not usable",
				 pe->name, j + 1, l->pool + 1);
		if (plan_strcmp0(l->zone, pp->zone) || plan_strcmp0(l->type, pp->type) ||
		    plan_strcmp0(l->subnet_id, pp->subnet_id))
			plan_bad(
				k,
				"environment '%s' launch %zu: zone, type or subnet differ from "
				"pool %d",
				pe->name, j + 1, l->pool + 1);
		if (!l->bid || !dec_valid(l->bid) || plan_strcmp0(l->bid, pp->bid))
			plan_bad(
				k,
				"environment '%s' launch %zu: the bid is not pool %d's bid",
				pe->name, j + 1, l->pool + 1);
		if (plan_strcmp0(l->template, pp->template))
			plan_bad(
				k,
				"environment '%s' launch %zu: the template is not pool %d's",
				pe->name, j + 1, l->pool + 1);
	}
	if (plan_strcmp0(l->env, pe->name) || !l->region ||
	    plan_strcmp0(l->region, pe->region))
		plan_bad(k, "environment '%s' launch %zu: environment or region differ",
			 pe->name, j + 1);
	if (l->count < 1 || l->count > PLAN_CHUNK)
		plan_bad(k, "environment '%s' launch %zu: count %d is not 1 to %d",
			 pe->name, j + 1, l->count, PLAN_CHUNK);
	if (!plan_ascii_ok(l->client_token, TC_MAX_CLIENT_TOKEN))
		plan_bad(
			k,
			"environment '%s' launch %zu: the ClientToken is not 1 to %d printable "
			"characters",
			pe->name, j + 1, TC_MAX_CLIENT_TOKEN);
	plan_check_tags(k, pe, pp, l, j);
	UNUSED(p);
}

/* 1 to max characters, each from set. */
static bool plan_word_ok(const char *s, const char *set, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= max && strspn(s, set) == n;
}

#define PLAN_LOWER "abcdefghijklmnopqrstuvwxyz0123456789-"
#define PLAN_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/*
 * The launch template as the spec loader admits it: ids of printable
 * ASCII, a name without control characters, base64 user data within the
 * spec's limit.  (apply sends these in RunInstances.)
 */
static bool plan_template_ok(const struct plan_template *t)
{
	if (!plan_ascii_ok(t->image, 64) ||
	    (t->vpc_id && !plan_ascii_ok(t->vpc_id, 64)) ||
	    (t->system_disk_type && !plan_ascii_ok(t->system_disk_type, 64)) ||
	    (t->instance_name && !plan_text_ok(t->instance_name, 240, false)) ||
	    (t->user_data_b64 &&
	     !plan_word_ok(t->user_data_b64, PLAN_ALNUM "+/=", SPEC_MAX_USERDATA_B64)))
		return false;
	for (size_t i = 0; i < t->nsecurity_groups; i++)
		if (!plan_ascii_ok(t->security_group_ids[i], 64))
			return false;
	for (size_t i = 0; i < t->nkey_ids; i++)
		if (!plan_ascii_ok(t->key_ids[i], 64))
			return false;
	return true;
}

static bool plan_scope_in(const struct plan *p, const char *scope)
{
	for (size_t i = 0; scope && i < p->nscopes; i++)
		if (!plan_strcmp0(p->scopes[i], scope))
			return true;
	return false;
}

/* The same tags, spotenv:template (which is per pool) aside. */
static bool plan_same_user_tags(const struct plan_launch *a, const struct plan_launch *b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->ntags && !plan_strcmp0(a->tags[i].key, PLAN_TAG_TEMPLATE))
			i++;
		while (j < b->ntags && !plan_strcmp0(b->tags[j].key, PLAN_TAG_TEMPLATE))
			j++;
		if (i == a->ntags || j == b->ntags)
			return i == a->ntags && j == b->ntags;
		if (plan_strcmp0(a->tags[i].key, b->tags[j].key) ||
		    plan_strcmp0(a->tags[i].value, b->tags[j].value))
			return false;
		i++, j++;
	}
}

/*
 * The pools as the planner writes them: in spec order (index i at i), in
 * the environment's region, the template hash that of the plan's launch
 * template (so an edited image, network, login or user data is seen), and
 * a fallback list of distinct usable pools: apply launches in those pools
 * with their bids when the planned one has no capacity.
 */
static void plan_check_pools(struct plan_checker *k, const struct plan_env *pe)
{
	size_t rlen = pe->region ? strlen(pe->region) : 0;

	if (pe->region && !plan_word_ok(pe->region, PLAN_LOWER, 64))
		plan_bad(k, "environment '%s': its region is not a region name",
			 pe->name);
	if (pe->template && !plan_template_ok(pe->template))
		plan_bad(
			k,
			"environment '%s': its launch template holds a malformed id, name or "
			"user data",
			pe->name);
	for (size_t i = 0; i < pe->npools; i++) {
		const struct plan_pool *pp = &pe->pools[i];

		if (!plan_word_ok(pp->zone, PLAN_LOWER, 64) ||
		    !plan_word_ok(pp->type, PLAN_ALNUM ".", 64) ||
		    (pp->subnet_id && !plan_ascii_ok(pp->subnet_id, 64)))
			plan_bad(
				k,
				"environment '%s' pool %zu: a malformed zone, instance type or "
				"subnet",
				pe->name, i + 1);
		if (pp->index != (int)i)
			plan_bad(k, "environment '%s' pool %zu: its index is %d",
				 pe->name, i + 1, pp->index + 1);
		if (!pp->zone || !pe->region || strncmp(pp->zone, pe->region, rlen) ||
		    pp->zone[rlen] != '-')
			plan_bad(
				k,
				"environment '%s' pool %zu: its zone is not in the environment's "
				"region",
				pe->name, i + 1);
		if (pe->template && pp->zone && pp->type) {
			struct spec_env se;
			struct spec_pool sp;
			char hash[PLAN_TEMPLATE_HEX + 1];
			const struct plan_template *t = pe->template;

			memset(&se, 0, sizeof(se));
			memset(&sp, 0, sizeof(sp));
			se.image = t->image;
			se.instance_name = t->instance_name;
			se.network.vpc_id = t->vpc_id;
			se.network.security_group_ids = t->security_group_ids;
			se.network.nsecurity_groups = t->nsecurity_groups;
			se.login.key_ids = t->key_ids;
			se.login.nkey_ids = t->nkey_ids;
			se.login.keep_image_login = t->keep_image_login;
			se.system_disk.type = t->system_disk_type;
			se.system_disk.size_gb = t->system_disk_size_gb;
			se.user_data_b64 = t->user_data_b64;
			sp.zone = pp->zone;
			sp.instance_type = pp->type;
			sp.subnet_id = pp->subnet_id;
			plan_template_hash(hash, &se, &sp);
			if (plan_strcmp0(hash, pp->template))
				plan_bad(
					k,
					"environment '%s' pool %zu: its template hash is not that "
					"of the environment's launch template",
					pe->name, i + 1);
		}
	}
	for (size_t i = 0; i < pe->nfallback; i++) {
		int f = pe->fallback[i];

		if (f < 0 || (size_t)f >= pe->npools || !pe->pools[f].usable)
			plan_bad(
				k,
				"environment '%s': fallback pool %d is not a usable pool",
				pe->name, f + 1);
		for (size_t j = 0; j < i; j++)
			if (pe->fallback[j] == f)
				plan_bad(
					k,
					"environment '%s': fallback pool %d is listed twice",
					pe->name, f + 1);
	}
}

/*
 * What the environment says it does is what its actions do: launches add
 * up to to_launch + to_replace (each pool's to its launch count), releases
 * to to_release + to_replace, and the replacements to the drift releases.
 */
static void plan_check_counts(struct plan_checker *k, const struct plan_env *pe)
{
	long launched = 0, replaced = 0, drift = 0;

	for (size_t j = 0; j < pe->nlaunches; j++) {
		launched += pe->launches[j].count;
		if (pe->launches[j].replace)
			replaced += pe->launches[j].count;
	}
	for (size_t j = 0; j < pe->nreleases; j++)
		drift += pe->releases[j].reason == PLAN_REASON_DRIFT;
	if (launched != (long)pe->to_launch + pe->to_replace ||
	    (long)pe->nreleases != (long)pe->to_release + pe->to_replace ||
	    replaced != pe->to_replace || drift != pe->to_replace ||
	    pe->to_replace > pe->drifted)
		plan_bad(
			k,
			"environment '%s': its actions (%ld launched, %zu released) are not its "
			"to_launch %d, to_release %d and to_replace %d",
			pe->name, launched, pe->nreleases, pe->to_launch, pe->to_release,
			pe->to_replace);
	for (size_t i = 0; i < pe->npools; i++) {
		long n = 0;

		for (size_t j = 0; j < pe->nlaunches; j++)
			if (pe->launches[j].pool == pe->pools[i].index)
				n += pe->launches[j].count;
		if (n != pe->pools[i].launch)
			plan_bad(
				k,
				"environment '%s' pool %zu: launches %ld instances, it says %d",
				pe->name, i + 1, n, pe->pools[i].launch);
	}
}

static void plan_check_release(struct plan_checker *k, const struct plan_env *pe,
			       const struct plan_release *r, size_t j)
{
	if (!plan_instance_id_ok(r->id))
		plan_bad(k, "environment '%s' release %zu: not an instance id", pe->name,
			 j + 1);
	if (plan_strcmp0(r->env, pe->name))
		plan_bad(k, "environment '%s' release %zu: it names environment '%s'",
			 pe->name, j + 1, r->env ? r->env : "(none)");
	if (!r->region || !pe->region || strcmp(r->region, pe->region))
		plan_bad(
			k,
			"environment '%s' release %zu: its region is not the environment's",
			pe->name, j + 1);
	if (r->reason == PLAN_REASON_ORPHAN && !pe->orphan)
		plan_bad(
			k,
			"environment '%s' release %zu: an orphan release of an environment "
			"in the specs",
			pe->name, j + 1);
}

static int plan_cmp_cstr(const void *a, const void *b)
{
	return plan_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* Names that appear twice in v (sorted in place): each reported once. */
static void plan_check_unique(struct plan_checker *k, const char **v, size_t n,
			      const char *what)
{
	if (n < 2)
		return; /* (and v may be NULL) */
	qsort(v, n, sizeof(*v), plan_cmp_cstr);
	for (size_t i = 1; i < n; i++)
		if (v[i] && v[i - 1] && !strcmp(v[i], v[i - 1]) &&
		    (i < 2 || !v[i - 2] || strcmp(v[i - 2], v[i])))
			plan_bad(k, "%s '%s' appears more than once", what, v[i]);
}

int plan_check(const struct plan *p, struct buf *why)
{
	struct plan_checker k = { why, 0 };
	const char **names = xcalloc(p->nenvs + 1, sizeof(*names));
	const char **tokens = NULL, **ids = NULL;
	size_t ntokens = 0, nids = 0, talloc = 0, ialloc = 0;

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];
		long total = 0;

		names[i] = pe->name;
		if (!plan_ascii_ok(pe->name, 64) || !plan_ascii_ok(pe->scope, 64)) {
			plan_bad(
				&k,
				"environment %zu: its name or scope is missing or not printable",
				i + 1);
			continue;
		}
		if (pe->status == PLAN_STATUS_ERROR && !pe->nerrors)
			plan_bad(&k, "environment '%s': status error without errors",
				 pe->name);
		if (pe->status != PLAN_STATUS_ERROR && pe->nerrors)
			plan_bad(&k,
				 "environment '%s': errors listed but its status is not "
				 "error",
				 pe->name);
		/* (an environment in error lists what it would do; apply never acts on
		 * it) */
		if (pe->status == PLAN_STATUS_CONVERGED &&
		    (pe->nlaunches || pe->nreleases))
			plan_bad(
				&k,
				"environment '%s': actions in an environment whose status is %s",
				pe->name, plan_status_name(pe->status));
		if (pe->nlaunches && (pe->orphan || p->destroy || !pe->template ||
				      !pe->template->image || !pe->region))
			plan_bad(
				&k,
				"environment '%s': launches without a launch template, or in "
				"an orphan or destroy plan",
				pe->name);
		if (!plan_scope_in(p, pe->scope))
			plan_bad(
				&k,
				"environment '%s': its scope is not one of the plan's scopes",
				pe->name);
		if (pe->desired > SPEC_MAX_CAPACITY || pe->drifted > pe->active)
			plan_bad(
				&k,
				"environment '%s': a capacity over %d, or more drifted instances "
				"than active ones",
				pe->name, SPEC_MAX_CAPACITY);
		plan_check_pools(&k, pe);
		for (size_t j = 0; j < pe->nlaunches; j++) {
			const struct plan_launch *l = &pe->launches[j];

			plan_check_launch(&k, p, pe, l, j);
			if (j > 0 && !plan_same_user_tags(l, &pe->launches[0]))
				plan_bad(
					&k,
					"environment '%s' launch %zu: its tags are not those of "
					"launch 1",
					pe->name, j + 1);
			if (l->count > 0 && l->count <= PLAN_CHUNK)
				total += l->count;
			ALLOC_GROW(tokens, ntokens + 1, talloc);
			tokens[ntokens++] = l->client_token;
		}
		/*
		 * chunks of up to 100 per pool, new and replacements apart: no
		 * more launches than that (one instance a call is not a plan)
		 */
		if ((long)pe->nlaunches > total / PLAN_CHUNK + 2 * (long)pe->npools)
			plan_bad(
				&k,
				"environment '%s': %zu launches for %ld instances in %zu pools",
				pe->name, pe->nlaunches, total, pe->npools);
		/* new instances plus replacements of drifted ones, never more */
		if (total > (long)pe->desired + pe->drifted)
			plan_bad(
				&k,
				"environment '%s': launches %ld instances for a capacity of %d "
				"(%d drifted)",
				pe->name, total, pe->desired, pe->drifted);
		plan_check_counts(&k, pe);
		for (size_t j = 0; j < pe->nreleases; j++) {
			plan_check_release(&k, pe, &pe->releases[j], j);
			ALLOC_GROW(ids, nids + 1, ialloc);
			ids[nids++] = pe->releases[j].id;
		}
	}
	for (size_t i = 0; i < p->nscopes; i++)
		if (!plan_ascii_ok(p->scopes[i], 64))
			plan_bad(&k, "scope %zu: missing or not printable", i + 1);
	for (size_t i = 0; i < p->nenv_filter; i++)
		if (!plan_ascii_ok(p->env_filter[i], 64))
			plan_bad(&k, "--env name %zu: missing or not printable", i + 1);
	{
		const char **scopes = xcalloc(p->nscopes + 1, sizeof(*scopes));

		for (size_t i = 0; i < p->nscopes; i++)
			scopes[i] = p->scopes[i];
		plan_check_unique(&k, scopes, p->nscopes, "scope");
		free(scopes);
	}
	plan_check_unique(&k, names, p->nenvs, "environment");
	plan_check_unique(&k, tokens, ntokens, "ClientToken");
	plan_check_unique(&k, ids, nids, "release of instance");
	if (k.n > PLAN_CHECK_MAX_LINES && why)
		buf_printf(why, "  ... and %d more\n", k.n - PLAN_CHECK_MAX_LINES);
	free(names);
	free(tokens);
	free(ids);
	return k.n ? ERR_INVALID : 0;
}
