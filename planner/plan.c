/*
 * plan.c - the planner: a pure function from specs, observed instances and
 * spot offers to a plan (design sections 4 and 5).
 *
 * Shape of the work, so that 10,000 instances plan in milliseconds: the
 * instances in play are selected once and sorted by (env, scope, id), so
 * each environment gets a contiguous run; offers are sorted once and
 * looked up by binary search.  Nothing is quadratic in the instance count.
 */
#include "../util/setup.h"
#include "plan.h"
#include "plan_internal.h"
#include "../util/hash.h"
#include "token.h"

/* An observed instance in play, with its ownership tags looked up once. */
struct plan_inst {
	const struct tc_instance *in;
	const char *env;
	const char *scope;
	const char *tmpl; /* NULL when untagged */
};

/* Everything plan_make() shares between environments. */
struct plan_ctx {
	const struct plan_offer **offers; /* sorted by region, zone, type */
	size_t noffers;
	struct plan_inst *inst; /* in play, sorted by env, scope, id */
	size_t ninst;
	int max_release;
	bool prune;
	const struct plan_observed *obs;
};

const char *plan_reason_name(enum plan_reason r)
{
	switch (r) {
	case PLAN_REASON_EXCESS:
		return "excess";
	case PLAN_REASON_DRIFT:
		return "drift";
	case PLAN_REASON_FAILED:
		return "failed";
	case PLAN_REASON_ORPHAN:
		return "orphan";
	case PLAN_REASON_DESTROY:
		return "destroy";
	}
	return "unknown";
}

const char *plan_status_name(enum plan_status s)
{
	switch (s) {
	case PLAN_STATUS_CONVERGED:
		return "converged";
	case PLAN_STATUS_CHANGES:
		return "changes";
	case PLAN_STATUS_SHORT:
		return "short";
	case PLAN_STATUS_ERROR:
		return "error";
	}
	return "unknown";
}

enum plan_state_class plan_state_class(const char *state, bool *unusual)
{
	static const char *const active[] = { "PENDING", "STARTING", "RUNNING",
					      "REBOOTING" };
	static const char *const failed[] = { "LAUNCH_FAILED", "STOPPED", "STOPPING" };
	static const char *const leaving[] = { "SHUTDOWN", "TERMINATING" };
	bool dummy;

	if (!unusual)
		unusual = &dummy;
	*unusual = false;
	for (size_t i = 0; i < ARRAY_SIZE(active); i++)
		if (!plan_strcmp0(state, active[i]))
			return PLAN_STATE_ACTIVE;
	for (size_t i = 0; i < ARRAY_SIZE(failed); i++)
		if (!plan_strcmp0(state, failed[i]))
			return PLAN_STATE_FAILED;
	for (size_t i = 0; i < ARRAY_SIZE(leaving); i++)
		if (!plan_strcmp0(state, leaving[i]))
			return PLAN_STATE_LEAVING;
	*unusual = true;
	return PLAN_STATE_ACTIVE;
}

/* ---------------------------------------------------------------------
 * Template hash: a canonical, length-prefixed serialization of every
 * field that is fixed at launch (design section 5, step 1).
 */

static void plan_canon_str(struct buf *b, const char *key, const char *v)
{
	if (v)
		buf_printf(b, "%s=%zu:%s\n", key, strlen(v), v);
	else
		buf_printf(b, "%s=-\n", key);
}

void plan_template_hash(char out[PLAN_TEMPLATE_HEX + 1], const struct spec_env *env,
			const struct spec_pool *pool)
{
	struct buf b = BUF_INIT;
	char hex[65];

	buf_puts(&b, "spotenv-template-v1\n");
	plan_canon_str(&b, "image", env->image);
	plan_canon_str(&b, "instance_type", pool->instance_type);
	plan_canon_str(&b, "zone", pool->zone);
	plan_canon_str(&b, "vpc", env->network.vpc_id);
	plan_canon_str(&b, "subnet", pool->subnet_id);
	buf_printf(&b, "security_groups=%zu\n", env->network.nsecurity_groups);
	for (size_t i = 0; i < env->network.nsecurity_groups; i++)
		plan_canon_str(&b, "sg", env->network.security_group_ids[i]);
	plan_canon_str(&b, "disk_type", env->system_disk.type);
	buf_printf(&b, "disk_size=%d\n", env->system_disk.size_gb);
	buf_printf(&b, "key_ids=%zu\n", env->login.nkey_ids);
	for (size_t i = 0; i < env->login.nkey_ids; i++)
		plan_canon_str(&b, "key", env->login.key_ids[i]);
	buf_printf(&b, "keep_image_login=%d\n", env->login.keep_image_login ? 1 : 0);
	plan_canon_str(&b, "user_data", env->user_data_b64);
	plan_canon_str(&b, "instance_name", env->instance_name);
	xsha256_hex(hex, b.ptr, b.len);
	memcpy(out, hex, PLAN_TEMPLATE_HEX);
	out[PLAN_TEMPLATE_HEX] = '\0';
	buf_release(&b);
}

/* ---------------------------------------------------------------------
 * Selection, basis and offers.
 */

static bool plan_in_list(const char *s, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!plan_strcmp0(s, v[i]))
			return true;
	return false;
}

static int plan_cmp_inst(const void *a, const void *b)
{
	const struct plan_inst *x = a, *y = b;
	int c;

	if ((c = strcmp(x->env, y->env)))
		return c;
	if ((c = strcmp(x->scope, y->scope)))
		return c;
	if ((c = plan_strcmp0(x->in->id, y->in->id)))
		return c;
	/* the same id twice (paging shifted): keep the choice independent of order */
	if ((c = plan_strcmp0(x->in->state, y->in->state)))
		return c;
	return plan_strcmp0(x->tmpl, y->tmpl);
}

/*
 * The instances in play: tagged spotenv:env and spotenv:scope, the scope
 * one of scopes, and the env in filter when a filter is given.  Sorted by
 * (env, scope, id) and de-duplicated by id.
 */
static void plan_select(struct plan_inst **out, size_t *nout,
			const struct plan_observed *obs, char *const *scopes,
			size_t nscopes, char *const *filter, size_t nfilter)
{
	struct plan_inst *v = xcalloc(obs->instances.n + 1, sizeof(*v));
	size_t n = 0, w = 0;

	for (size_t i = 0; i < obs->instances.n; i++) {
		const struct tc_instance *in = &obs->instances.v[i];
		const char *env = tc_instance_tag(in, PLAN_TAG_ENV);
		const char *scope = tc_instance_tag(in, PLAN_TAG_SCOPE);

		if (!env || !scope || !in->id)
			continue;
		if (!plan_in_list(scope, scopes, nscopes))
			continue;
		if (nfilter && !plan_in_list(env, filter, nfilter))
			continue;
		v[n].in = in;
		v[n].env = env;
		v[n].scope = scope;
		v[n].tmpl = tc_instance_tag(in, PLAN_TAG_TEMPLATE);
		n++;
	}
	qsort(v, n, sizeof(*v), plan_cmp_inst);
	for (size_t i = 0; i < n; i++)
		if (!w || strcmp(v[w - 1].in->id, v[i].in->id))
			v[w++] = v[i];
	*out = v;
	*nout = w;
}

static int plan_cmp_basis(const void *a, const void *b)
{
	const struct plan_basis_item *x = a, *y = b;

	return plan_strcmp0(x->id, y->id);
}

/* One line of a basis text: "ID\tSTATE\tTEMPLATE\n" ("-" for none). */
static void plan_basis_line(struct buf *b, const char *id, const char *state,
			    const char *tmpl)
{
	buf_puts(b, id);
	buf_putc(b, '\t');
	buf_puts(b, state ? state : "-");
	buf_putc(b, '\t');
	buf_puts(b, tmpl ? tmpl : "-");
	buf_putc(b, '\n');
}

/* Fill p->observed (sorted by id) and p->basis from the selection. */
static void plan_set_basis(struct plan *p, const struct plan_inst *inst, size_t n)
{
	struct buf b = BUF_INIT;
	char hex[65];

	p->observed = xcalloc(n + 1, sizeof(*p->observed));
	for (size_t i = 0; i < n; i++) {
		p->observed[i].id = xstrdup(inst[i].in->id);
		p->observed[i].state = plan_strdup0(inst[i].in->state);
		p->observed[i].template = plan_strdup0(inst[i].tmpl);
	}
	p->nobserved = n;
	qsort(p->observed, n, sizeof(*p->observed), plan_cmp_basis);
	buf_puts(&b, "spotenv-basis-v1\n");
	for (size_t i = 0; i < n; i++)
		plan_basis_line(&b, p->observed[i].id, p->observed[i].state,
				p->observed[i].template);
	xsha256_hex(hex, b.ptr, b.len);
	p->basis = xstrdup(hex);
	buf_release(&b);
}

/*
 * The basis of one environment: a hash of its own observed instances (id,
 * state, template; v is sorted by id).  It seeds the environment's launch
 * tokens (planner/token.h), so one environment's changes never move
 * another's tokens, and what was observed, never when, decides them.
 */
static char *plan_env_basis(const char *env, const char *scope, const struct plan_inst *v,
			    size_t n)
{
	struct buf b = BUF_INIT;
	char hex[SHA256_HEX_LEN + 1];

	buf_printf(&b, "spotenv-env-basis-v1\n%s\n%s\n", env, scope ? scope : "");
	for (size_t i = 0; i < n; i++)
		plan_basis_line(&b, v[i].in->id, v[i].in->state, v[i].tmpl);
	xsha256_hex(hex, b.ptr, b.len);
	buf_release(&b);
	return xstrdup(hex);
}

static int plan_cmp_offer_key(const char *region, const char *zone, const char *type,
			      const struct plan_offer *o)
{
	int c;

	if ((c = plan_strcmp0(region, o->region)))
		return c;
	if ((c = plan_strcmp0(zone, o->offer.zone)))
		return c;
	return plan_strcmp0(type, o->offer.type);
}

static int plan_cmp_offers(const void *a, const void *b)
{
	const struct plan_offer *x = *(const struct plan_offer *const *)a;
	const struct plan_offer *y = *(const struct plan_offer *const *)b;
	int c = plan_cmp_offer_key(x->region, x->offer.zone, x->offer.type, y);

	/* duplicates: a deterministic order whatever order they came in */
	if (!c)
		c = plan_strcmp0(x->offer.status, y->offer.status);
	return c ? c : plan_strcmp0(x->offer.price, y->offer.price);
}

/* The offer for (region, zone, type); NULL when none was observed. */
static const struct plan_offer *plan_find_offer(const struct plan_ctx *c,
						const char *region, const char *zone,
						const char *type)
{
	size_t lo = 0, hi = c->noffers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = plan_cmp_offer_key(region, zone, type, c->offers[mid]);

		if (!r)
			return c->offers[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---------------------------------------------------------------------
 * Building a plan_env.
 */

/* Free what a release holds. */
static void plan_release_clear(struct plan_release *r)
{
	free(r->id);
	free(r->env);
	free(r->region);
	free(r->zone);
	free(r->type);
	free(r->state);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

static void plan_warn(struct plan_env *pe, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void plan_warn(struct plan_env *pe, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(pe->warnings, pe->nwarnings + 1, pe->warnings_alloc);
	va_start(ap, fmt);
	pe->warnings[pe->nwarnings++] = xvasprintf(fmt, ap);
	va_end(ap);
}

static void plan_error(struct plan_env *pe, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void plan_error(struct plan_env *pe, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(pe->errors, pe->nerrors + 1, pe->errors_alloc);
	va_start(ap, fmt);
	pe->errors[pe->nerrors++] = xvasprintf(fmt, ap);
	va_end(ap);
}

static void plan_add_release(struct plan_env *pe, const struct plan_inst *pi,
			     enum plan_reason reason, const char *fmt, ...)
	SPOTENV_PRINTF(4, 5);
static void plan_add_release(struct plan_env *pe, const struct plan_inst *pi,
			     enum plan_reason reason, const char *fmt, ...)
{
	struct plan_release *r;
	va_list ap;

	ALLOC_GROW(pe->releases, pe->nreleases + 1, pe->releases_alloc);
	r = &pe->releases[pe->nreleases++];
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(pi->in->id);
	r->env = xstrdup(pi->env);
	r->region = plan_strdup0(pi->in->region);
	r->zone = plan_strdup0(pi->in->zone);
	r->type = plan_strdup0(pi->in->type);
	r->state = plan_strdup0(pi->in->state);
	r->reason = reason;
	va_start(ap, fmt);
	r->detail = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Newest first: created_unix descending, then id descending. */
bool plan_state_terminable(const char *state)
{
	return state && (!strcmp(state, "RUNNING") || !strcmp(state, "STOPPED"));
}

/*
 * The order instances are released in: those TerminateInstances accepts
 * (RUNNING) first, then the newest first.  A PENDING or STARTING instance
 * is refused by the API (UnsupportedOperation.InstanceState*), so it is
 * never picked; see plan_env_excess.
 */
static int plan_cmp_newest(const void *a, const void *b)
{
	const struct plan_inst *x = *(const struct plan_inst *const *)a;
	const struct plan_inst *y = *(const struct plan_inst *const *)b;
	bool tx = plan_state_terminable(x->in->state),
	     ty = plan_state_terminable(y->in->state);

	if (tx != ty)
		return tx ? -1 : 1;
	if (x->in->created_unix != y->in->created_unix)
		return x->in->created_unix > y->in->created_unix ? -1 : 1;
	return -plan_strcmp0(x->in->id, y->in->id);
}

/* The order releases are listed in: by reason, then id. */
static int plan_cmp_release(const void *a, const void *b)
{
	static const int rank[] = {
		[PLAN_REASON_FAILED] = 0,  [PLAN_REASON_DRIFT] = 1,
		[PLAN_REASON_EXCESS] = 2,  [PLAN_REASON_ORPHAN] = 3,
		[PLAN_REASON_DESTROY] = 4,
	};
	const struct plan_release *x = a, *y = b;

	if (x->reason != y->reason)
		return rank[x->reason] - rank[y->reason];
	return plan_strcmp0(x->id, y->id);
}

/* Why an instance drifted, for people. */
static char *plan_drift_detail(const struct spec_env *env, const struct plan_pool *pool,
			       const struct plan_inst *pi)
{
	const struct tc_instance *in = pi->in;

	if (!pool)
		return xasprintf("pool %s in %s is no longer listed",
				 in->type ? in->type : "?", in->zone ? in->zone : "?");
	if (in->image && plan_strcmp0(in->image, env->image))
		return xasprintf("image %s -> %s", in->image, env->image);
	if (in->vpc_id && env->network.vpc_id &&
	    plan_strcmp0(in->vpc_id, env->network.vpc_id))
		return xasprintf("vpc %s -> %s", in->vpc_id, env->network.vpc_id);
	if (in->subnet_id && pool->subnet_id &&
	    plan_strcmp0(in->subnet_id, pool->subnet_id))
		return xasprintf("subnet %s -> %s", in->subnet_id, pool->subnet_id);
	return xasprintf("template %s -> %s", pi->tmpl ? pi->tmpl : "-", pool->template);
}

static struct plan_template *plan_template_of(const struct spec_env *env)
{
	struct plan_template *t = xcalloc(1, sizeof(*t));

	t->image = plan_strdup0(env->image);
	t->instance_name = plan_strdup0(env->instance_name);
	t->vpc_id = plan_strdup0(env->network.vpc_id);
	t->nsecurity_groups = env->network.nsecurity_groups;
	t->security_group_ids = xcalloc(t->nsecurity_groups + 1, sizeof(char *));
	for (size_t i = 0; i < t->nsecurity_groups; i++)
		t->security_group_ids[i] = xstrdup(env->network.security_group_ids[i]);
	t->public_ip_bandwidth_mbps = env->network.public_ip_bandwidth_mbps;
	t->nkey_ids = env->login.nkey_ids;
	t->key_ids = xcalloc(t->nkey_ids + 1, sizeof(char *));
	for (size_t i = 0; i < t->nkey_ids; i++)
		t->key_ids[i] = xstrdup(env->login.key_ids[i]);
	t->keep_image_login = env->login.keep_image_login;
	t->system_disk_type = plan_strdup0(env->system_disk.type);
	t->system_disk_size_gb = env->system_disk.size_gb;
	t->user_data_b64 = plan_strdup0(env->user_data_b64);
	return t;
}

/* Append launches of count instances to pool pp, in chunks of PLAN_CHUNK. */
static void plan_add_launches(struct plan_env *pe, const struct spec_env *env,
			      const struct plan_pool *pp, int count, bool replace,
			      int *chunk, const char *seed)
{
	while (count > 0) {
		int n = count > PLAN_CHUNK ? PLAN_CHUNK : count;
		char token[TC_MAX_CLIENT_TOKEN + 1];
		struct plan_launch *l;
		size_t t = 0;

		ALLOC_GROW(pe->launches, pe->nlaunches + 1, pe->launches_alloc);
		l = &pe->launches[pe->nlaunches++];
		memset(l, 0, sizeof(*l));
		l->env = xstrdup(env->name);
		l->region = xstrdup(env->region);
		l->pool = pp->index;
		l->zone = xstrdup(pp->zone);
		l->type = xstrdup(pp->type);
		l->subnet_id = plan_strdup0(pp->subnet_id);
		l->count = n;
		l->chunk = *chunk;
		l->replace = replace;
		l->template = xstrdup(pp->template);
		l->bid = xstrdup(pp->bid);
		l->price = plan_strdup0(pp->price);
		plan_token_launch(token, env->name, env->scope, seed, pp->index, *chunk);
		l->client_token = xstrdup(token);
		l->ntags = env->ntags + SPEC_OWN_TAGS;
		l->tags = xcalloc(l->ntags, sizeof(*l->tags));
		for (size_t i = 0; i < env->ntags; i++, t++) {
			l->tags[t].key = xstrdup(env->tags[i].key);
			l->tags[t].value = xstrdup(env->tags[i].value);
		}
		l->tags[t].key = xstrdup(PLAN_TAG_ENV);
		l->tags[t++].value = xstrdup(env->name);
		l->tags[t].key = xstrdup(PLAN_TAG_SCOPE);
		l->tags[t++].value = xstrdup(env->scope);
		l->tags[t].key = xstrdup(PLAN_TAG_TEMPLATE);
		l->tags[t++].value = xstrdup(pp->template);
		count -= n;
		(*chunk)++;
	}
}

/* Per pool bookkeeping during planning. */
struct plan_poolwork {
	const struct plan_inst **inst; /* active, non-drifted, newest first */
	size_t n, next;		       /* next: first not yet released */
	int share;		       /* target for excess releases */
	int rank;		       /* preference rank: 0 = most preferred */
	int launch, replace;	       /* planned */
};

static int plan_price_rank_cmp(const struct plan_pool *a, const struct plan_pool *b)
{
	int c = dec_cmp_str(a->price, b->price);

	return c ? c : a->index - b->index;
}

/* Most stock first; a row without StatusCategory is "unknown", after UnderStock. */
static int plan_stock_rank(const char *category)
{
	static const char *const order[] = { "EnoughStock", "NormalStock", "UnderStock" };

	for (int i = 0; i < (int)ARRAY_SIZE(order); i++)
		if (!plan_strcmp0(category, order[i]))
			return i;
	return (int)ARRAY_SIZE(order);
}

/* capacity-optimized: most stock first, then price, then spec order. */
static int plan_stock_rank_cmp(const struct plan_pool *a, const struct plan_pool *b)
{
	int c = plan_stock_rank(a->stock) - plan_stock_rank(b->stock);

	return c ? c : plan_price_rank_cmp(a, b);
}

/* Order pool indices by launch preference (usable pools only). */
static void plan_fallback_order(struct plan_env *pe, enum spec_alloc alloc)
{
	pe->fallback = xcalloc(pe->npools + 1, sizeof(int));
	pe->nfallback = 0;
	for (size_t i = 0; i < pe->npools; i++)
		if (pe->pools[i].usable)
			pe->fallback[pe->nfallback++] = (int)i;
	if (alloc != SPEC_ALLOC_LOWEST_PRICE && alloc != SPEC_ALLOC_CAPACITY_OPTIMIZED)
		return;
	/* insertion sort: at most SPEC_MAX_POOLS entries */
	for (size_t i = 1; i < pe->nfallback; i++) {
		int v = pe->fallback[i];
		size_t j = i;

		while (j > 0 &&
		       (alloc == SPEC_ALLOC_LOWEST_PRICE
				? plan_price_rank_cmp(&pe->pools[pe->fallback[j - 1]],
						      &pe->pools[v])
				: plan_stock_rank_cmp(&pe->pools[pe->fallback[j - 1]],
						      &pe->pools[v])) > 0) {
			pe->fallback[j] = pe->fallback[j - 1];
			j--;
		}
		pe->fallback[j] = v;
	}
}

/*
 * Distribute n launches over the usable pools by the allocation strategy,
 * adding to field (launch or replace) of w.  Returns how many found no
 * pool (n when no pool is usable).
 */
static int plan_allocate(struct plan_env *pe, enum spec_alloc alloc,
			 struct plan_poolwork *w, int n, bool replace)
{
	if (n <= 0)
		return 0;
	if (!pe->nfallback)
		return n;
	if (alloc != SPEC_ALLOC_SPREAD) {
		int p = pe->fallback[0];

		if (replace)
			w[p].replace += n;
		else
			w[p].launch += n;
		return 0;
	}
	/* spread: water-filling, each launch to the emptiest usable pool */
	for (int k = 0; k < n; k++) {
		int best = -1;
		long bestc = 0;

		for (size_t f = 0; f < pe->nfallback; f++) {
			int p = pe->fallback[f];
			long cnt =
				(long)(w[p].n - w[p].next) + w[p].launch + w[p].replace;

			if (best < 0 || cnt < bestc) {
				best = p;
				bestc = cnt;
			}
		}
		if (replace)
			w[best].replace++;
		else
			w[best].launch++;
	}
	return 0;
}

/* Release k active non-drifted instances: most over share, then newest. */
static int plan_release_excess(struct plan_env *pe, struct plan_poolwork *w, int k)
{
	for (int r = 0; r < k; r++) {
		int best = -1;
		long bestover = 0;

		for (size_t p = 0; p < pe->npools; p++) {
			long over;

			if (w[p].next >= w[p].n ||
			    !plan_state_terminable(w[p].inst[w[p].next]->in->state))
				continue;
			over = (long)(w[p].n - w[p].next) - w[p].share;
			if (best < 0 || over > bestover ||
			    (over == bestover &&
			     plan_cmp_newest(&w[p].inst[w[p].next],
					     &w[best].inst[w[best].next]) < 0)) {
				best = (int)p;
				bestover = over;
			}
		}
		if (best < 0)
			return k - r; /* the rest cannot be terminated yet */
		plan_add_release(
			pe, w[best].inst[w[best].next], PLAN_REASON_EXCESS,
			"over capacity %d; pool %d has %zu active, its share is %d",
			pe->desired, best + 1, w[best].n, w[best].share);
		w[best].next++;
	}
	return 0;
}

/* Set the share of each pool: what its part of capacity would be. */
static void plan_shares(struct plan_env *pe, enum spec_alloc alloc,
			struct plan_poolwork *w)
{
	int cap = pe->desired, np = (int)pe->npools;

	if (alloc == SPEC_ALLOC_SPREAD) {
		for (int p = 0; p < np; p++)
			w[p].share = cap / np + (p < cap % np ? 1 : 0);
		return;
	}
	w[pe->nfallback ? pe->fallback[0] : 0].share = cap;
}

static const char *plan_offer_price(const struct plan_ctx *c,
				    const struct tc_instance *in)
{
	const struct plan_offer *o = plan_find_offer(c, in->region, in->zone, in->type);

	return o && o->offer.price && dec_valid(o->offer.price) ? o->offer.price : NULL;
}

/* Estimated hourly cost after the plan, and the cost guardrail. */
static void plan_cost(struct plan_env *pe, const struct plan_ctx *c,
		      const struct plan_inst *v, size_t n, const bool *released)
{
	dec_t total = 0, before = 0, x;
	int unknown = 0;
	char tmp[64];

	for (size_t i = 0; i < n; i++) {
		bool unusual;
		const char *price;

		if (plan_state_class(v[i].in->state, &unusual) != PLAN_STATE_ACTIVE)
			continue;
		price = plan_offer_price(c, v[i].in);
		if (!price || dec_parse(price, &x)) {
			unknown += !released[i];
			continue;
		}
		before = dec_add(before, x);
		if (!released[i])
			total = dec_add(total, x);
	}
	pe->hourly_cost_before = xstrdup(dec_format(tmp, sizeof(tmp), before, 2));
	for (size_t i = 0; i < pe->nlaunches; i++) {
		const struct plan_launch *l = &pe->launches[i];

		if (!l->price || dec_parse(l->price, &x)) {
			unknown += l->count;
			continue;
		}
		total = dec_add(total, dec_mul_int(x, l->count));
	}
	pe->hourly_cost = xstrdup(dec_format(tmp, sizeof(tmp), total, 2));
	if (unknown)
		plan_warn(
			pe,
			"estimated hourly cost leaves out %d instance%s without a known "
			"spot price",
			unknown, unknown == 1 ? "" : "s");
	if (pe->max_hourly_cost && dec_parse(pe->max_hourly_cost, &x) == 0 && total > x)
		plan_error(pe, "estimated hourly cost %s exceeds limits.maxHourlyCost %s",
			   pe->hourly_cost, pe->max_hourly_cost);
}

static void plan_release_limit(struct plan_env *pe, bool from_flag)
{
	if (pe->max_release < 0 || (int)pe->nreleases <= pe->max_release)
		return;
	plan_error(pe, "would release %zu instances, more than the limit of %d (%s)",
		   pe->nreleases, pe->max_release,
		   from_flag ? "--max-release" : "limits.maxReleasePerApply");
}

static void plan_set_status(struct plan_env *pe, bool short_)
{
	if (pe->nerrors)
		pe->status = PLAN_STATUS_ERROR;
	else if (short_)
		pe->status = PLAN_STATUS_SHORT;
	else if (pe->nlaunches || pe->nreleases)
		pe->status = PLAN_STATUS_CHANGES;
	else
		pe->status = PLAN_STATUS_CONVERGED;
}

static void plan_pools_of(struct plan_env *pe, const struct spec_env *env,
			  const struct plan_ctx *c)
{
	char hash[PLAN_TEMPLATE_HEX + 1];

	pe->npools = env->npools;
	pe->pools = xcalloc(env->npools + 1, sizeof(*pe->pools));
	for (size_t i = 0; i < env->npools; i++) {
		const struct spec_pool *sp = &env->pools[i];
		struct plan_pool *pp = &pe->pools[i];
		const struct plan_offer *o;

		pp->index = (int)i;
		pp->zone = xstrdup(sp->zone);
		pp->type = xstrdup(sp->instance_type);
		pp->subnet_id = plan_strdup0(sp->subnet_id);
		pp->bid = xstrdup(spec_pool_bid(env, sp));
		plan_template_hash(hash, env, sp);
		pp->template = xstrdup(hash);
		o = plan_find_offer(c, env->region, sp->zone, sp->instance_type);
		if (o) {
			pp->offer_status = plan_strdup0(o->offer.status);
			pp->stock = plan_strdup0(o->offer.status_category);
			if (o->offer.price && dec_valid(o->offer.price))
				pp->price = xstrdup(o->offer.price);
		}
		if (!o) {
			plan_warn(pe, "pool %zu (%s %s) has no spot offer; skipped",
				  i + 1, sp->zone, sp->instance_type);
		} else if (plan_strcmp0(o->offer.status, "SELL")) {
			plan_warn(pe, "pool %zu (%s %s) is sold out; skipped", i + 1,
				  sp->zone, sp->instance_type);
		} else if (!plan_strcmp0(o->offer.status_category, "WithoutStock")) {
			plan_warn(pe,
				  "pool %zu (%s %s) has no stock (WithoutStock); skipped",
				  i + 1, sp->zone, sp->instance_type);
		} else if (!pp->price) {
			plan_warn(pe, "pool %zu (%s %s) has no spot price; skipped",
				  i + 1, sp->zone, sp->instance_type);
		} else if (dec_cmp_str(pp->bid, pp->price) < 0) {
			plan_warn(
				pe,
				"pool %zu (%s %s): bid %s is below the market price %s; "
				"skipped",
				i + 1, sp->zone, sp->instance_type, pp->bid, pp->price);
		} else {
			pp->usable = true;
		}
	}
}

/* True when some pool is skipped only because the bid is below market. */
static bool plan_any_overbid(const struct plan_env *pe)
{
	for (size_t i = 0; i < pe->npools; i++) {
		const struct plan_pool *pp = &pe->pools[i];

		if (pp->price && !plan_strcmp0(pp->offer_status, "SELL") &&
		    dec_cmp_str(pp->bid, pp->price) < 0)
			return true;
	}
	return false;
}

/* The pool an instance runs in, or -1 when its (zone, type) is not listed. */
static int plan_pool_of(const struct plan_env *pe, const struct tc_instance *in)
{
	for (size_t i = 0; i < pe->npools; i++)
		if (!plan_strcmp0(pe->pools[i].zone, in->zone) &&
		    !plan_strcmp0(pe->pools[i].type, in->type))
			return (int)i;
	return -1;
}

/* The working state of one environment while it is planned. */
struct plan_envwork {
	struct plan_env *pe;
	const struct spec_env *env;
	const struct plan_inst *v; /* its instances in play */
	size_t n;
	struct plan_poolwork *w; /* per pool */
	const struct plan_inst *
		*drifted; /* active drifted not yet released, newest first */
	const struct plan_inst **drifted_all;
	size_t ndrifted;
	bool *released;	  /* per instance of v */
	int active;	  /* active, non-drifted */
	bool stuck;	  /* drifted instances no pool can replace */
	int unreleasable; /* failed instances the API cannot terminate */
};

/* Release an instance of ew and note it. */
static void plan_ew_release(struct plan_envwork *ew, const struct plan_inst *pi,
			    enum plan_reason reason, const char *detail)
{
	plan_add_release(ew->pe, pi, reason, "%s", detail);
	ew->released[pi - ew->v] = true;
}

/* Step 1-2: classes, failed releases, drift, per-pool lists. */
static void plan_env_classify(struct plan_envwork *ew)
{
	struct plan_env *pe = ew->pe;

	for (size_t i = 0; i < ew->n; i++) {
		const struct plan_inst *pi = &ew->v[i];
		bool unusual;
		enum plan_state_class cls = plan_state_class(pi->in->state, &unusual);
		char *why;
		int p;

		if (cls == PLAN_STATE_LEAVING) {
			pe->leaving++;
			continue;
		}
		if (cls == PLAN_STATE_FAILED) {
			pe->failed++;
			if (!plan_state_terminable(pi->in->state)) {
				/* LAUNCH_FAILED, STOPPING: the API refuses them */
				ew->unreleasable++;
				continue;
			}
			why = xasprintf("state %s", pi->in->state);
			plan_ew_release(ew, pi, PLAN_REASON_FAILED, why);
			free(why);
			continue;
		}
		pe->active++;
		if (unusual) {
			pe->unusual++;
			plan_warn(
				pe,
				"instance '%s' is in unusual state '%s'; counted as active",
				pi->in->id, pi->in->state ? pi->in->state : "");
		}
		p = plan_pool_of(pe, pi->in);
		/* A missing template tag cannot be judged; it is not replaced. */
		if (p < 0 || (pi->tmpl && strcmp(pi->tmpl, pe->pools[p].template))) {
			ew->drifted[ew->ndrifted++] = pi;
			continue;
		}
		ew->w[p].inst[ew->w[p].n++] = pi;
		pe->pools[p].active++;
		ew->active++;
	}
	if (ew->unreleasable)
		plan_warn(
			pe,
			"%d failed instance%s (LAUNCH_FAILED or STOPPING) not counted and not "
			"released: the API cannot terminate %s (LAUNCH_FAILED ones are removed by "
			"the cloud, STOPPING ones are released once STOPPED)",
			ew->unreleasable, ew->unreleasable == 1 ? "" : "s",
			ew->unreleasable == 1 ? "it" : "them");
	pe->drifted = (int)ew->ndrifted;
	for (size_t p = 0; p < pe->npools; p++)
		qsort(ew->w[p].inst, ew->w[p].n, sizeof(*ew->w[p].inst), plan_cmp_newest);
	qsort(ew->drifted, ew->ndrifted, sizeof(*ew->drifted), plan_cmp_newest);
}

/* The drift explanation of pi, for release details; caller frees. */
static char *plan_ew_drift_detail(const struct plan_envwork *ew,
				  const struct plan_inst *pi)
{
	int p = plan_pool_of(ew->pe, pi->in);

	return plan_drift_detail(ew->env, p < 0 ? NULL : &ew->pe->pools[p], pi);
}

/*
 * Step 4 of the design: release the excess, drifted first, then from the
 * pools over their share, newest first.  Returns the deficit (0 when there
 * was excess).
 */
static int plan_env_excess(struct plan_envwork *ew)
{
	struct plan_env *pe = ew->pe;
	int excess = ew->active + (int)ew->ndrifted - pe->desired;
	size_t k;

	if (excess <= 0)
		return -excess;
	/* drifted ones first, as far as the API can terminate them now */
	for (k = 0; k < ew->ndrifted && k < (size_t)excess &&
		    plan_state_terminable(ew->drifted[k]->in->state);
	     k++)
		;
	for (size_t i = 0; i < k; i++) {
		char *why = plan_ew_drift_detail(ew, ew->drifted[i]);
		char *detail =
			xasprintf("over capacity %d, drifted: %s", pe->desired, why);

		plan_ew_release(ew, ew->drifted[i], PLAN_REASON_EXCESS, detail);
		free(detail);
		free(why);
	}
	ew->drifted += k;
	ew->ndrifted -= k;
	excess -= (int)k;
	if (excess > 0) {
		int left;

		plan_shares(pe, ew->env->allocation, ew->w);
		left = plan_release_excess(pe, ew->w, excess);
		for (size_t p = 0; p < pe->npools; p++)
			for (size_t i = 0; i < ew->w[p].next; i++)
				ew->released[ew->w[p].inst[i] - ew->v] = true;
		if (left > 0) {
			/*
			 * PENDING or STARTING: TerminateInstances refuses them
			 * (UnsupportedOperation.InstanceState*); the next run
			 * releases them once they run.
			 */
			plan_warn(
				pe,
				"%d excess instance%s not released yet: not running, so the API "
				"cannot terminate %s; a later apply releases %s",
				left, left == 1 ? "" : "s", left == 1 ? "it" : "them",
				left == 1 ? "it" : "them");
			ew->stuck = true;
		}
	}
	return 0;
}

/* Step 1 continued: replace up to maxSurge + maxUnavailable drifted instances. */
static void plan_env_replace(struct plan_envwork *ew)
{
	struct plan_env *pe = ew->pe;
	int batch = pe->max_surge + pe->max_unavailable;
	size_t nd = ew->ndrifted, nt = 0;
	int repl = (int)nd < batch ? (int)nd : batch;

	/* only drifted instances the API can terminate now are replaced */
	while (nt < nd && plan_state_terminable(ew->drifted[nt]->in->state))
		nt++;
	if ((size_t)repl > nt) {
		if (batch > 0)
			plan_warn(
				pe,
				"%zu drifted instance%s not replaced yet: not running, so the "
				"API cannot terminate %s",
				nd - nt, nd - nt == 1 ? "" : "s",
				nd - nt == 1 ? "it" : "them");
		repl = (int)nt;
	}

	if (nd && batch <= 0)
		plan_warn(
			pe,
			"%zu drifted instance%s not replaced: maxSurge + maxUnavailable "
			"is 0",
			nd, nd == 1 ? "" : "s");
	if (!pe->nfallback && repl) {
		/* nothing can replace them: keep them running */
		plan_warn(pe, "%zu drifted instance%s not replaced: no pool is usable",
			  nd, nd == 1 ? "" : "s");
		ew->stuck = true;
		return;
	}
	plan_allocate(pe, ew->env->allocation, ew->w, repl, true);
	for (int i = 0; i < repl; i++) {
		char *why = plan_ew_drift_detail(ew, ew->drifted[i]);

		plan_ew_release(ew, ew->drifted[i], PLAN_REASON_DRIFT, why);
		free(why);
	}
	if (nd > (size_t)repl && batch > 0)
		plan_warn(pe,
			  "%zu more drifted instance%s will be replaced by later applies "
			  "(maxSurge %d + maxUnavailable %d at a time)",
			  nd - repl, nd - repl == 1 ? "" : "s", pe->max_surge,
			  pe->max_unavailable);
}

/* Launch actions: pools in preference order, chunks numbered per pool. */
static void plan_env_launches(struct plan_envwork *ew, const char *seed)
{
	struct plan_env *pe = ew->pe;

	for (size_t f = 0; f < pe->nfallback; f++) {
		int p = pe->fallback[f], chunk = 0;
		struct plan_poolwork *w = &ew->w[p];

		pe->pools[p].launch = w->launch + w->replace;
		plan_add_launches(pe, ew->env, &pe->pools[p], w->launch, false, &chunk,
				  seed);
		plan_add_launches(pe, ew->env, &pe->pools[p], w->replace, true, &chunk,
				  seed);
		pe->to_launch += w->launch;
	}
}

/* Plan one spec environment against its instances v[0..n). */
static void plan_env_make(struct plan_env *pe, const struct spec_env *env,
			  const struct plan_ctx *c, const struct plan_inst *v, size_t n)
{
	const char *seed;
	struct plan_envwork ew = { .pe = pe, .env = env, .v = v, .n = n };
	bool short_ = false;
	int unplaced;

	pe->name = xstrdup(env->name);
	pe->scope = xstrdup(env->scope);
	pe->region = xstrdup(env->region);
	pe->basis = plan_env_basis(env->name, env->scope, v, n);
	seed = pe->basis;
	pe->allocation = xstrdup(spec_alloc_name(env->allocation));
	pe->desired = env->capacity;
	pe->max_hourly_cost = plan_strdup0(env->limits.max_hourly_cost);
	pe->max_release =
		c->max_release >= 0 ? c->max_release : env->limits.max_release_per_apply;
	pe->max_surge = env->update.max_surge;
	pe->max_unavailable = env->update.max_unavailable;
	pe->template = plan_template_of(env);
	plan_pools_of(pe, env, c);
	plan_fallback_order(pe, env->allocation);

	ew.w = xcalloc(pe->npools + 1, sizeof(*ew.w));
	for (size_t p = 0; p < pe->npools; p++)
		ew.w[p].inst = xcalloc(n + 1, sizeof(*ew.w[p].inst));
	ew.drifted = ew.drifted_all = xcalloc(n + 1, sizeof(*ew.drifted));
	ew.released = xcalloc(n + 1, sizeof(*ew.released));

	plan_env_classify(&ew);
	unplaced = plan_allocate(pe, env->allocation, ew.w, plan_env_excess(&ew), false);
	if (plan_observed_is_incomplete(c->obs, env->region)) {
		/*
		 * The listing may have missed instances: launching now could
		 * pay twice, so nothing is launched (or replaced) this run.
		 */
		int missing = unplaced;

		for (size_t p = 0; p < pe->npools; p++) {
			missing += ew.w[p].launch;
			ew.w[p].launch = 0;
		}
		unplaced = 0;
		if (missing > 0) {
			plan_warn(
				pe,
				"%d instance%s not launched: the listing of %s changed while "
				"it was read, so it may have missed instances; the next run "
				"launches them",
				missing, missing == 1 ? "" : "s", env->region);
			short_ = true;
		}
	} else {
		plan_env_replace(&ew);
	}
	plan_env_launches(&ew, seed);
	if (unplaced > 0) {
		if (plan_any_overbid(pe)) {
			plan_error(
				pe,
				"cannot launch %d instance%s: no pool is usable and the bid is "
				"below the market price",
				unplaced, unplaced == 1 ? "" : "s");
		} else {
			plan_warn(
				pe,
				"will be short by %d instance%s: every pool is sold out or has "
				"no spot offer",
				unplaced, unplaced == 1 ? "" : "s");
			short_ = true;
		}
	}

	if (pe->nreleases > 1)
		qsort(pe->releases, pe->nreleases, sizeof(*pe->releases),
		      plan_cmp_release);
	for (size_t i = 0; i < pe->nreleases; i++) {
		if (pe->releases[i].reason == PLAN_REASON_DRIFT)
			pe->to_replace++;
		else
			pe->to_release++;
	}
	plan_cost(pe, c, v, n, ew.released);
	plan_release_limit(pe, c->max_release >= 0);
	/*
	 * Drift that no pool can replace leaves the environment short of its
	 * desired shape (apply says the same and exits 3).
	 */
	plan_set_status(pe, short_ || ew.stuck);

	for (size_t p = 0; p < pe->npools; p++)
		free(ew.w[p].inst);
	free(ew.w);
	free(ew.drifted_all);
	free(ew.released);
}

/* Orphans (and destroy targets): every instance of an unlisted environment. */
static void plan_env_orphan(struct plan_env *pe, const struct plan_ctx *c,
			    const struct plan_inst *v, size_t n, bool release,
			    enum plan_reason reason, int max_release)
{
	dec_t cost = 0, before = 0, x;
	int priced = 0, unpriced = 0, waiting = 0, priced_before = 0;
	bool waiting_said = false;
	char tmp[64];

	pe->name = xstrdup(v[0].env);
	pe->scope = xstrdup(v[0].scope);
	pe->region = plan_strdup0(v[0].in->region);
	pe->basis = plan_env_basis(pe->name, pe->scope, v, n);
	pe->orphan = reason == PLAN_REASON_ORPHAN;
	pe->max_release = max_release;
	pe->max_surge = pe->max_unavailable = 0;
	for (size_t i = 0; i < n; i++) {
		bool unusual;
		enum plan_state_class cls = plan_state_class(v[i].in->state, &unusual);

		if (cls == PLAN_STATE_LEAVING) {
			pe->leaving++;
			continue;
		}
		if (cls == PLAN_STATE_FAILED) {
			pe->failed++;
		} else {
			const char *price = c ? plan_offer_price(c, v[i].in) : NULL;

			bool known = price && dec_parse(price, &x) == 0;

			pe->active++;
			if (known) {
				before = dec_add(before, x);
				priced_before++;
			}
			if (!release && known) {
				cost = dec_add(cost, x);
				priced++;
			} else if (!release) {
				unpriced++;
			}
		}
		if (release && !plan_state_terminable(v[i].in->state)) {
			waiting++; /* PENDING, LAUNCH_FAILED, ...: the API refuses them */
		} else if (release) {
			if (reason == PLAN_REASON_ORPHAN)
				plan_add_release(pe, &v[i], reason,
						 "environment '%s' is not in the specs",
						 pe->name);
			else
				plan_add_release(pe, &v[i], reason,
						 "environment '%s' is destroyed",
						 pe->name);
		}
	}
	if (pe->nreleases > 1)
		qsort(pe->releases, pe->nreleases, sizeof(*pe->releases),
		      plan_cmp_release);
	if (reason == PLAN_REASON_DESTROY && max_release >= 0 &&
	    pe->nreleases > (size_t)max_release) {
		/* destroy goes in steps of the release limit, never past it */
		size_t more = pe->nreleases - (size_t)max_release;

		for (size_t k = (size_t)max_release; k < pe->nreleases; k++)
			plan_release_clear(&pe->releases[k]);
		pe->nreleases = (size_t)max_release;
		plan_warn(
			pe,
			"%zu more instance%s left for later destroys (at most %d released "
			"per run: maxReleasePerApply or --max-release)",
			more, more == 1 ? "" : "s", max_release);
		waiting += (int)more;
		waiting_said = true;
	}
	pe->to_release = (int)pe->nreleases;
	if (waiting && !waiting_said)
		plan_warn(
			pe,
			"%d instance%s not released yet: not running or stopped, so the API "
			"cannot terminate %s; run again once %s",
			waiting, waiting == 1 ? "" : "s", waiting == 1 ? "it" : "them",
			waiting == 1 ? "it runs" : "they run");
	/* What the instances left running cost; unknown when no price was seen. */
	if (!unpriced || priced)
		pe->hourly_cost = xstrdup(dec_format(tmp, sizeof(tmp), cost, 2));
	if (priced_before || !pe->active)
		pe->hourly_cost_before = xstrdup(dec_format(tmp, sizeof(tmp), before, 2));
	if (!release && pe->active + pe->failed > 0)
		plan_warn(
			pe,
			"environment '%s' (scope %s) is not in the specs: %d instance%s "
			"left running; use --prune to release them",
			pe->name, pe->scope, pe->active + pe->failed,
			pe->active + pe->failed == 1 ? "" : "s");
	plan_release_limit(pe, true);
	/* instances left to release by a later run: not there yet */
	plan_set_status(pe, waiting > 0);
}

/* ---------------------------------------------------------------------
 * Entry points.
 */

static struct plan *plan_new(const char *observed_at)
{
	struct plan *p = xcalloc(1, sizeof(*p));

	p->observed_at = plan_strdup0(observed_at);
	p->max_release = -1;
	return p;
}

static void plan_strv_copy_sorted(char ***out, size_t *nout, const char *const *v,
				  size_t n)
{
	size_t w = 0;

	*out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*out)[i] = xstrdup(v[i]);
	qsort(*out, n, sizeof(char *), plan_cmp_str_ptr);
	for (size_t i = 0; i < n; i++) {
		if (w && !strcmp((*out)[w - 1], (*out)[i]))
			free((*out)[i]);
		else
			(*out)[w++] = (*out)[i];
	}
	*nout = w;
}

static void plan_ctx_offers(struct plan_ctx *c, const struct plan_observed *obs)
{
	c->offers = xcalloc(obs->noffers + 1, sizeof(*c->offers));
	for (size_t i = 0; i < obs->noffers; i++)
		c->offers[i] = &obs->offers[i];
	c->noffers = obs->noffers;
	qsort(c->offers, c->noffers, sizeof(*c->offers), plan_cmp_offers);
}

int plan_make(struct plan **out, const struct plan_input *in, struct err *e)
{
	struct plan_ctx c = { 0 };
	struct plan *p = NULL;
	const char **scopes = NULL;
	size_t i, j;
	int error = 0;

	assert(in && in->specs && in->observed);
	for (i = 0; i < in->specs->nenvs; i++) {
		const struct spec_env *env = &in->specs->envs[i];

		if (!dec_valid(env->max_price))
			return err_set(e, ERR_INVALID,
				       "environment '%s': invalid maxPrice '%s'",
				       env->name, env->max_price ? env->max_price : "");
		for (j = 0; j < env->npools; j++)
			if (!dec_valid(spec_pool_bid(env, &env->pools[j])))
				return err_set(
					e, ERR_INVALID,
					"environment '%s': invalid maxPrice of pool %zu",
					env->name, j + 1);
	}

	p = plan_new(in->observed->observed_at);
	p->prune = in->prune;
	p->max_release = in->max_release < 0 ? -1 : in->max_release;
	scopes = xcalloc(in->specs->nenvs + 1, sizeof(*scopes));
	for (i = 0; i < in->specs->nenvs; i++)
		scopes[i] = in->specs->envs[i].scope;
	plan_strv_copy_sorted(&p->scopes, &p->nscopes, scopes, in->specs->nenvs);
	plan_strv_copy_sorted(&p->env_filter, &p->nenv_filter, in->envs,
			      in->envs ? in->nenvs : 0);

	plan_select(&c.inst, &c.ninst, in->observed, p->scopes, p->nscopes, p->env_filter,
		    p->nenv_filter);
	for (i = 0; i < p->nenv_filter; i++) {
		bool seen = spec_set_find(in->specs, p->env_filter[i]) != NULL;

		for (j = 0; !seen && j < c.ninst; j++)
			seen = !strcmp(c.inst[j].env, p->env_filter[i]);
		if (!seen) {
			error = err_set(e, ERR_INVALID,
					"environment '%s' is not in the specs "
					"and has no instances",
					p->env_filter[i]);
			goto done;
		}
	}
	plan_set_basis(p, c.inst, c.ninst);
	plan_ctx_offers(&c, in->observed);
	c.max_release = p->max_release;
	c.prune = p->prune;
	c.obs = in->observed;

	/* Spec environments (sorted by name), each with its run of instances. */
	p->envs = xcalloc(in->specs->nenvs + c.ninst + 1, sizeof(*p->envs));
	for (i = 0; i < in->specs->nenvs; i++) {
		const struct spec_env *env = &in->specs->envs[i];
		struct plan_inst key = { 0 };
		size_t lo = 0, hi = c.ninst, end;

		if (p->nenv_filter &&
		    !plan_in_list(env->name, p->env_filter, p->nenv_filter))
			continue;
		/* lower bound of (name, scope) */
		key.env = env->name;
		key.scope = env->scope;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(c.inst[mid].env, key.env) < 0 ||
			    (!strcmp(c.inst[mid].env, key.env) &&
			     strcmp(c.inst[mid].scope, key.scope) < 0))
				lo = mid + 1;
			else
				hi = mid;
		}
		for (end = lo; end < c.ninst && !strcmp(c.inst[end].env, key.env) &&
			       !strcmp(c.inst[end].scope, key.scope);
		     end++)
			;
		plan_env_make(&p->envs[p->nenvs++], env, &c, c.inst + lo, end - lo);
	}
	/* Orphans: runs of instances whose (env, scope) is not a spec env. */
	for (i = 0; i < c.ninst; i = j) {
		const struct spec_env *env = spec_set_find(in->specs, c.inst[i].env);

		for (j = i; j < c.ninst && !strcmp(c.inst[j].env, c.inst[i].env) &&
			    !strcmp(c.inst[j].scope, c.inst[i].scope);
		     j++)
			;
		if (env && !strcmp(env->scope, c.inst[i].scope))
			continue;
		plan_env_orphan(&p->envs[p->nenvs++], &c, c.inst + i, j - i, p->prune,
				PLAN_REASON_ORPHAN, p->max_release);
	}

done:
	free(scopes);
	free(c.inst);
	free(c.offers);
	if (error) {
		plan_free(p);
		return error;
	}
	*out = p;
	return 0;
}

int plan_destroy(struct plan **out, const struct plan_observed *observed,
		 const char *const *envs, size_t nenvs, const char *const *scopes,
		 size_t nscopes, int max_release, struct err *e)
{
	struct plan_inst *inst = NULL;
	struct plan *p = plan_new(observed->observed_at);
	size_t ninst = 0, i, j;

	UNUSED(e);
	p->destroy = true;
	p->max_release = max_release < 0 ? -1 : max_release;
	plan_strv_copy_sorted(&p->scopes, &p->nscopes, scopes, nscopes);
	plan_strv_copy_sorted(&p->env_filter, &p->nenv_filter, envs, nenvs);
	plan_select(&inst, &ninst, observed, p->scopes, p->nscopes, p->env_filter,
		    p->nenv_filter);
	plan_set_basis(p, inst, ninst);

	p->envs = xcalloc(p->nenv_filter + ninst + 1, sizeof(*p->envs));
	for (size_t f = 0; f < p->nenv_filter; f++) {
		bool any = false;

		for (i = 0; i < ninst; i = j) {
			for (j = i; j < ninst && !strcmp(inst[j].env, inst[i].env) &&
				    !strcmp(inst[j].scope, inst[i].scope);
			     j++)
				;
			if (strcmp(inst[i].env, p->env_filter[f]))
				continue;
			plan_env_orphan(&p->envs[p->nenvs++], NULL, inst + i, j - i, true,
					PLAN_REASON_DESTROY, p->max_release);
			any = true;
		}
		if (!any) {
			struct plan_env *pe = &p->envs[p->nenvs++];

			pe->name = xstrdup(p->env_filter[f]);
			pe->max_release = p->max_release;
			pe->hourly_cost = xstrdup("0.00");
			pe->hourly_cost_before = xstrdup("0.00");
			pe->status = PLAN_STATUS_CONVERGED;
		}
	}
	free(inst);
	*out = p;
	return 0;
}

/* ---------------------------------------------------------------------
 * Queries, freeing, stale checks.
 */

bool plan_has_changes(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].nlaunches || p->envs[i].nreleases)
			return true;
	return false;
}

bool plan_has_errors(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].nerrors)
			return true;
	return false;
}

void plan_totals(const struct plan *p, struct plan_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];

		if (!pe->orphan) {
			t->envs++;
			if (pe->status == PLAN_STATUS_CONVERGED)
				t->converged++;
		}
		t->launch += pe->to_launch;
		t->release += pe->to_release;
		t->replace += pe->to_replace;
		t->errors += (int)pe->nerrors;
		t->warnings += (int)pe->nwarnings;
	}
}

void plan_total_cost(const struct plan *p, char *before, char *after, size_t size)
{
	dec_t b = 0, a = 0, x;
	bool have_b = false, have_a = false;
	char tmp[64];

	for (size_t i = 0; i < p->nenvs; i++) {
		if (p->envs[i].hourly_cost_before &&
		    !dec_parse(p->envs[i].hourly_cost_before, &x)) {
			b = dec_add(b, x);
			have_b = true;
		}
		if (p->envs[i].hourly_cost && !dec_parse(p->envs[i].hourly_cost, &x)) {
			a = dec_add(a, x);
			have_a = true;
		}
	}
	snprintf(before, size, "%s", have_b ? dec_format(tmp, sizeof(tmp), b, 2) : "-");
	snprintf(after, size, "%s", have_a ? dec_format(tmp, sizeof(tmp), a, 2) : "-");
}

const struct plan_env *plan_find_env(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (!strcmp(p->envs[i].name, name))
			return &p->envs[i];
	return NULL;
}

void plan_launch_set_check(struct plan_launch *l, bool ok, const char *code,
			   const char *message)
{
	free(l->check);
	free(l->check_message);
	l->check = xstrdup(ok ? "ok" : code ? code : "failed");
	l->check_message = ok ? NULL : plan_strdup0(message);
}

static void plan_template_free(struct plan_template *t)
{
	if (!t)
		return;
	free(t->image);
	free(t->instance_name);
	free(t->vpc_id);
	plan_strv_free(t->security_group_ids, t->nsecurity_groups);
	plan_strv_free(t->key_ids, t->nkey_ids);
	free(t->system_disk_type);
	free(t->user_data_b64);
	free(t);
}

static void plan_env_release(struct plan_env *pe)
{
	free(pe->name);
	free(pe->scope);
	free(pe->region);
	free(pe->basis);
	free(pe->allocation);
	free(pe->hourly_cost);
	free(pe->hourly_cost_before);
	free(pe->max_hourly_cost);
	plan_template_free(pe->template);
	for (size_t i = 0; i < pe->npools; i++) {
		struct plan_pool *pp = &pe->pools[i];

		free(pp->zone);
		free(pp->type);
		free(pp->subnet_id);
		free(pp->bid);
		free(pp->price);
		free(pp->offer_status);
		free(pp->stock);
		free(pp->template);
	}
	free(pe->pools);
	free(pe->fallback);
	for (size_t i = 0; i < pe->nlaunches; i++) {
		struct plan_launch *l = &pe->launches[i];

		free(l->env);
		free(l->region);
		free(l->zone);
		free(l->type);
		free(l->subnet_id);
		free(l->template);
		free(l->bid);
		free(l->price);
		free(l->client_token);
		for (size_t t = 0; t < l->ntags; t++) {
			free(l->tags[t].key);
			free(l->tags[t].value);
		}
		free(l->tags);
		free(l->check);
		free(l->check_message);
	}
	free(pe->launches);
	for (size_t i = 0; i < pe->nreleases; i++)
		plan_release_clear(&pe->releases[i]);
	free(pe->releases);
	plan_strv_free(pe->warnings, pe->nwarnings);
	plan_strv_free(pe->errors, pe->nerrors);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	free(p->basis);
	free(p->observed_at);
	free(p->endpoint);
	free(p->account);
	plan_strv_free(p->scopes, p->nscopes);
	plan_strv_free(p->env_filter, p->nenv_filter);
	for (size_t i = 0; i < p->nenvs; i++)
		plan_env_release(&p->envs[i]);
	free(p->envs);
	for (size_t i = 0; i < p->nobserved; i++) {
		free(p->observed[i].id);
		free(p->observed[i].state);
		free(p->observed[i].template);
	}
	free(p->observed);
	free(p);
}

/* Diff two sorted basis lists into out; returns the number of differences. */
static size_t plan_diff_items(const struct plan_basis_item *a, size_t na,
			      const struct plan_basis_item *b, size_t nb, struct buf *out)
{
	size_t i = 0, j = 0, diffs = 0, shown = 20;

	while (i < na || j < nb) {
		int c = i >= na ? 1 : j >= nb ? -1 : plan_strcmp0(a[i].id, b[j].id);
		char *line = NULL;

		if (c < 0) {
			line = xasprintf("%s: gone (was %s)", a[i].id,
					 a[i].state ? a[i].state : "-");
			i++;
		} else if (c > 0) {
			line = xasprintf("%s: new (%s)", b[j].id,
					 b[j].state ? b[j].state : "-");
			j++;
		} else {
			if (plan_strcmp0(a[i].state, b[j].state))
				line = xasprintf("%s: %s -> %s", a[i].id,
						 a[i].state ? a[i].state : "-",
						 b[j].state ? b[j].state : "-");
			else if (plan_strcmp0(a[i].template, b[j].template))
				line = xasprintf("%s: template %s -> %s", a[i].id,
						 a[i].template ? a[i].template : "-",
						 b[j].template ? b[j].template : "-");
			i++;
			j++;
		}
		if (!line)
			continue;
		if (out && diffs < shown)
			buf_printf(out, "%s\n", line);
		diffs++;
		free(line);
	}
	if (out && diffs > shown)
		buf_printf(out, "... and %zu more\n", diffs - shown);
	return diffs;
}

int plan_basis_diff(const struct plan *old, const struct plan *fresh, struct buf *out)
{
	if (!plan_strcmp0(old->basis, fresh->basis))
		return 0;
	if (!plan_diff_items(old->observed, old->nobserved, fresh->observed,
			     fresh->nobserved, out) &&
	    out)
		buf_puts(out, "the observed instances changed\n");
	return ERR_STALE;
}

int plan_basis_check(const struct plan *old, const struct plan_observed *now,
		     struct buf *out)
{
	struct plan *fresh = plan_new(NULL);
	struct plan_inst *inst = NULL;
	size_t ninst = 0;
	int error;

	plan_select(&inst, &ninst, now, old->scopes, old->nscopes, old->env_filter,
		    old->nenv_filter);
	plan_set_basis(fresh, inst, ninst);
	error = plan_basis_diff(old, fresh, out);
	free(inst);
	plan_free(fresh);
	return error;
}
