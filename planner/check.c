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
			    const struct plan_pool *pp, const struct plan_launch *l, size_t j)
{
	static const char *const keys[] = { PLAN_TAG_ENV, PLAN_TAG_SCOPE, PLAN_TAG_TEMPLATE };
	const char *want[3];

	want[0] = pe->name;
	want[1] = pe->scope;
	want[2] = pp ? pp->template : NULL;
	for (size_t i = 0; i < l->ntags; i++)
		if (!l->tags[i].key || !l->tags[i].value)
			plan_bad(k, "environment '%s' launch %zu: a tag without key or value",
				 pe->name, j + 1);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int count;
		const char *v = plan_tag_of(l, keys[i], &count);

		if (count != 1 || !v || !want[i] || strcmp(v, want[i]))
			plan_bad(k, "environment '%s' launch %zu: tag '%s' must be '%s' once",
				 pe->name, j + 1, keys[i], want[i] ? want[i] : "?");
	}
}

static void plan_check_launch(struct plan_checker *k, const struct plan *p,
			      const struct plan_env *pe, const struct plan_launch *l, size_t j)
{
	const struct plan_pool *pp = NULL;

	for (size_t i = 0; i < pe->npools; i++)
		if (pe->pools[i].index == l->pool)
			pp = &pe->pools[i];
	if (!pp) {
		plan_bad(k, "environment '%s' launch %zu: pool %d is not one of its pools",
			 pe->name, j + 1, l->pool + 1);
	} else {
		if (!pp->usable)
			plan_bad(k, "environment '%s' launch %zu: pool %d is not usable", pe->name,
				 j + 1, l->pool + 1);
		if (plan_strcmp0(l->zone, pp->zone) || plan_strcmp0(l->type, pp->type) ||
		    plan_strcmp0(l->subnet_id, pp->subnet_id))
			plan_bad(k, "environment '%s' launch %zu: zone, type or subnet differ from "
				 "pool %d", pe->name, j + 1, l->pool + 1);
		if (!l->bid || !dec_valid(l->bid) || plan_strcmp0(l->bid, pp->bid))
			plan_bad(k, "environment '%s' launch %zu: the bid is not pool %d's bid",
				 pe->name, j + 1, l->pool + 1);
		if (plan_strcmp0(l->template, pp->template))
			plan_bad(k, "environment '%s' launch %zu: the template is not pool %d's",
				 pe->name, j + 1, l->pool + 1);
	}
	if (plan_strcmp0(l->env, pe->name) || !l->region || plan_strcmp0(l->region, pe->region))
		plan_bad(k, "environment '%s' launch %zu: environment or region differ", pe->name,
			 j + 1);
	if (l->count < 1 || l->count > PLAN_CHUNK)
		plan_bad(k, "environment '%s' launch %zu: count %d is not 1 to %d", pe->name,
			 j + 1, l->count, PLAN_CHUNK);
	if (!plan_ascii_ok(l->client_token, TC_MAX_CLIENT_TOKEN))
		plan_bad(k, "environment '%s' launch %zu: the ClientToken is not 1 to %d printable "
			 "characters", pe->name, j + 1, TC_MAX_CLIENT_TOKEN);
	plan_check_tags(k, pe, pp, l, j);
	UNUSED(p);
}

static void plan_check_release(struct plan_checker *k, const struct plan_env *pe,
			       const struct plan_release *r, size_t j)
{
	if (!plan_instance_id_ok(r->id))
		plan_bad(k, "environment '%s' release %zu: not an instance id", pe->name, j + 1);
	if (plan_strcmp0(r->env, pe->name))
		plan_bad(k, "environment '%s' release %zu: it names environment '%s'", pe->name,
			 j + 1, r->env ? r->env : "(none)");
	if (!r->region || !pe->region || strcmp(r->region, pe->region))
		plan_bad(k, "environment '%s' release %zu: its region is not the environment's",
			 pe->name, j + 1);
	if (r->reason == PLAN_REASON_ORPHAN && !pe->orphan)
		plan_bad(k, "environment '%s' release %zu: an orphan release of an environment "
			 "in the specs", pe->name, j + 1);
}

static int plan_cmp_cstr(const void *a, const void *b)
{
	return plan_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

/* Names that appear twice in v (sorted in place): each reported once. */
static void plan_check_unique(struct plan_checker *k, const char **v, size_t n,
			      const char *what)
{
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
			plan_bad(&k, "environment %zu: its name or scope is missing or not printable",
				 i + 1);
			continue;
		}
		if (pe->status == PLAN_STATUS_ERROR && !pe->nerrors)
			plan_bad(&k, "environment '%s': status error without errors", pe->name);
		/* (an environment in error lists what it would do; apply never acts on it) */
		if (pe->status == PLAN_STATUS_CONVERGED && (pe->nlaunches || pe->nreleases))
			plan_bad(&k, "environment '%s': actions in an environment whose status is %s",
				 pe->name, plan_status_name(pe->status));
		if (pe->nlaunches && (pe->orphan || p->destroy || !pe->template ||
				      !pe->template->image || !pe->region))
			plan_bad(&k, "environment '%s': launches without a launch template, or in "
				 "an orphan or destroy plan", pe->name);
		for (size_t j = 0; j < pe->nlaunches; j++) {
			const struct plan_launch *l = &pe->launches[j];

			plan_check_launch(&k, p, pe, l, j);
			if (l->count > 0 && l->count <= PLAN_CHUNK)
				total += l->count;
			ALLOC_GROW(tokens, ntokens + 1, talloc);
			tokens[ntokens++] = l->client_token;
		}
		/* new instances plus replacements of drifted ones, never more */
		if (total > (long)pe->desired + pe->drifted)
			plan_bad(&k, "environment '%s': launches %ld instances for a capacity of %d "
				 "(%d drifted)", pe->name, total, pe->desired, pe->drifted);
		for (size_t j = 0; j < pe->nreleases; j++) {
			plan_check_release(&k, pe, &pe->releases[j], j);
			ALLOC_GROW(ids, nids + 1, ialloc);
			ids[nids++] = pe->releases[j].id;
		}
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
