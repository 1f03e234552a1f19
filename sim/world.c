/*
 * world.c - the emulator's world: pools, instances, ids, RNG, ClientTokens,
 * rate limits and counters.  Everything here runs under the world mutex.
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "sim_int.h"
#include <sys/time.h>

const char *const sim_action_names[SIM_ACT_COUNT] = {
	"DescribeInstances",	"RunInstances",
	"TerminateInstances",	"DescribeZoneInstanceConfigInfos",
	"DescribeAccountQuota",
};

char *sim_strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int64_t sim_now(struct sim *s)
{
	struct timespec ts;

	if (s->opts.clock)
		return s->opts.clock(s->opts.clock_ctx) + s->clock_offset_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + s->clock_offset_ms;
}

/* splitmix64: small, fast, reproducible from the seed. */
uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double sim_rand01(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / (double)(1ULL << 53);
}

void sim_request_id(struct sim *s, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = sim_rand(s), b = sim_rand(s);
	int k = 0;

	for (int i = 0; i < 32; i++) {
		uint64_t *w = i < 16 ? &a : &b;

		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[k++] = '-';
		out[k++] = hex[*w & 15];
		*w >>= 4;
	}
	out[k] = '\0';
}

int sim_find_region(const struct sim *s, const char *name)
{
	for (size_t i = 0; name && i < s->nregions; i++)
		if (!strcmp(s->regions[i].name, name))
			return (int)i;
	return -1;
}

int sim_find_zone(const struct sim *s, const char *name)
{
	for (size_t i = 0; name && i < s->nzones; i++)
		if (!strcmp(s->zones[i].name, name))
			return (int)i;
	return -1;
}

int sim_find_pool(const struct sim *s, int zone, const char *type)
{
	for (size_t i = 0; type && i < s->npools; i++)
		if (s->pools[i].zone == zone && !strcmp(s->pools[i].type, type))
			return (int)i;
	return -1;
}

/*
 * CPU and memory from a type name: FAMILY.SIZE<memory GB>, where SIZE is
 * SMALL (1 core), MEDIUM (2), LARGE (4) or <n>XLARGE (4n).
 */
bool sim_type_shape(const char *type, int *cpu, int *memory)
{
	const char *dot = strchr(type, '.'), *p;
	long n = 1, mem;
	char *end;

	if (!dot || dot == type)
		return false;
	p = dot + 1;
	if (isdigit((unsigned char)*p)) {
		n = strtol(p, &end, 10);
		if (n < 1 || n > 64 || strncmp(end, "XLARGE", 6))
			return false;
		p = end + 6;
		*cpu = (int)(4 * n);
	} else if (!strncmp(p, "SMALL", 5)) {
		p += 5;
		*cpu = 1;
	} else if (!strncmp(p, "MEDIUM", 6)) {
		p += 6;
		*cpu = 2;
	} else if (!strncmp(p, "LARGE", 5)) {
		p += 5;
		*cpu = 4;
	} else {
		return false;
	}
	if (!isdigit((unsigned char)*p))
		return false;
	mem = strtol(p, &end, 10);
	if (*end || mem < 1 || mem > 4096)
		return false;
	*memory = (int)mem;
	return true;
}

int sim_add_pool(struct sim *s, int zone, const char *type, int cpu, int memory,
		 int64_t stock, const char *price, struct err *e)
{
	struct sim_pool *p;
	const char *dot = strchr(type, '.');
	char *norm;

	if (sim_find_pool(s, zone, type) >= 0)
		return err_set(e, ERR_INVALID, "pool '%s' in '%s' is listed twice", type,
			       s->zones[zone].name);
	if (!(norm = dec_normalize(price)) || strlen(norm) >= SIM_PRICE_MAX) {
		free(norm);
		return err_set(e, ERR_INVALID, "price '%s' is not a decimal number",
			       price);
	}
	if (stock < 0)
		stock = 0;
	ALLOC_GROW(s->pools, s->npools + 1, s->apools);
	p = &s->pools[s->npools++];
	memset(p, 0, sizeof(*p));
	p->zone = zone;
	p->type = xstrdup(type);
	p->family = dot ? xstrndup(type, (size_t)(dot - type)) : xstrdup(type);
	p->cpu = cpu;
	p->memory = memory;
	p->stock = p->initial_stock = stock;
	p->spot = p->initial_spot = true;
	snprintf(p->price, sizeof(p->price), "%s", norm);
	snprintf(p->initial_price, sizeof(p->initial_price), "%s", norm);
	free(norm);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Instances */

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static void hash_grow(struct sim *s)
{
	size_t nsize = s->hsize ? s->hsize * 2 : 1024;
	struct sim_instance **nh = xcalloc(nsize, sizeof(*nh));

	for (size_t i = 0; i < s->hsize; i++) {
		struct sim_instance *in = s->hash[i], *next;

		for (; in; in = next) {
			size_t b = hash_str(in->id) & (nsize - 1);

			next = in->hnext;
			in->hnext = nh[b];
			nh[b] = in;
		}
	}
	free(s->hash);
	s->hash = nh;
	s->hsize = nsize;
}

struct sim_instance *sim_instance_find(struct sim *s, const char *id)
{
	if (!s->hsize || !id)
		return NULL;
	for (struct sim_instance *in = s->hash[hash_str(id) & (s->hsize - 1)]; in;
	     in = in->hnext)
		if (!strcmp(in->id, id))
			return in;
	return NULL;
}

bool sim_instance_insert(struct sim *s, struct sim_instance *in)
{
	size_t b;

	if (sim_instance_find(s, in->id))
		return false;
	if (s->ninstances + 1 > s->hsize)
		hash_grow(s);
	b = hash_str(in->id) & (s->hsize - 1);
	in->hnext = s->hash[b];
	s->hash[b] = in;
	ALLOC_GROW(s->list, s->nlist + 1, s->alist);
	in->slot = s->nlist;
	s->list[s->nlist++] = in;
	s->ninstances++;
	s->list_version++;
	return true;
}

struct sim_instance *sim_instance_new(struct sim *s, int pool)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct sim_instance *in = xcalloc(1, sizeof(*in));
	uint64_t r;

	in->pool = pool;
	do {
		r = sim_rand(s);
		memcpy(in->id, "ins-", 4);
		for (int i = 0; i < 8; i++) {
			in->id[4 + i] = alnum[r % 36];
			r /= 36;
		}
		in->id[12] = '\0';
	} while (sim_instance_find(s, in->id));
	sim_request_id(s, in->uuid);
	r = sim_rand(s);
	snprintf(in->private_ip, sizeof(in->private_ip), "10.%u.%u.%u",
		 (unsigned)(r & 0xff), (unsigned)((r >> 8) & 0xff),
		 (unsigned)((r >> 16) % 253 + 2));
	sim_instance_insert(s, in);
	return in;
}

void sim_instance_free(struct sim_instance *in)
{
	if (!in)
		return;
	free(in->name);
	free(in->image);
	for (size_t i = 0; i < in->ntags; i++) {
		free(in->tags[i].key);
		free(in->tags[i].value);
	}
	free(in->tags);
	free(in->vpc_id);
	free(in->subnet_id);
	for (size_t i = 0; i < in->nsgs; i++)
		free(in->sgs[i]);
	free(in->sgs);
	for (size_t i = 0; i < in->nkey_ids; i++)
		free(in->key_ids[i]);
	free(in->key_ids);
	free(in->disk_type);
	free(in);
}

static void compact_list(struct sim *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->nlist; i++) {
		if (!s->list[i])
			continue;
		s->list[i]->slot = k;
		s->list[k++] = s->list[i];
	}
	s->nlist = k;
	s->nholes = 0;
}

/* Unlink from the hash and the list and free. */
static void instance_remove(struct sim *s, struct sim_instance *in)
{
	struct sim_instance **pp = &s->hash[hash_str(in->id) & (s->hsize - 1)];

	while (*pp && *pp != in)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = in->hnext;
	if (!in->reclaimed) /* a terminated instance gives its capacity back */
		s->pools[in->pool].stock++;
	s->list[in->slot] = NULL;
	s->list_version++;
	s->nholes++;
	s->ninstances--;
	sim_instance_free(in);
	if (s->nholes > 64 && s->nholes * 2 > s->nlist)
		compact_list(s);
}

void sim_instance_leave(struct sim *s, struct sim_instance *in, bool reclaimed,
			int64_t now)
{
	if (in->leave_ms)
		return;
	in->leave_ms = now;
	in->gone_ms = now + s->faults.terminating_ms;
	in->reclaimed = reclaimed;
	ALLOC_GROW(s->leaving, s->nleaving + 1, s->aleaving);
	s->leaving[s->nleaving++] = in;
}

const char *sim_instance_state(const struct sim_instance *in, int64_t now)
{
	if (in->leave_ms)
		return in->reclaimed ? "SHUTDOWN" : "TERMINATING";
	if (now < in->running_ms)
		return "PENDING";
	if (in->launch_failed)
		return "LAUNCH_FAILED";
	switch (in->op) {
	case SIM_OP_REBOOT:
		return now < in->op_until_ms ? "REBOOTING" : "RUNNING";
	case SIM_OP_STOP:
		return now < in->op_until_ms ? "STOPPING" : "STOPPED";
	case SIM_OP_START:
		return now < in->op_until_ms ? "STARTING" : "RUNNING";
	case SIM_OP_NONE:
		break;
	}
	return "RUNNING";
}

void sim_instance_will_fail(struct sim *s, struct sim_instance *in)
{
	in->launch_failed = true;
	if (!in->gone_ms)
		in->gone_ms = in->running_ms + s->faults.launch_failed_ttl_ms;
	ALLOC_GROW(s->failed, s->nfailed + 1, s->afailed);
	s->failed[s->nfailed++] = in;
}

int64_t sim_spot_vcpu_used(const struct sim *s, int zone)
{
	int64_t used = 0;

	for (size_t i = 0; i < s->nlist; i++) {
		const struct sim_instance *in = s->list[i];

		if (in && in->spot && s->pools[in->pool].zone == zone)
			used += s->pools[in->pool].cpu;
	}
	return used;
}

bool sim_instance_active(const struct sim_instance *in)
{
	return !in->leave_ms;
}

/*
 * LAUNCH_FAILED instances (and those that will fail) hold no running
 * capacity and are never reclaimed.
 */
size_t sim_reclaim_random(struct sim *s, size_t n, int64_t now)
{
	size_t done = 0, tries = 0, active = s->ninstances - s->nleaving;

	active = active > s->nfailed ? active - s->nfailed : 0;

	while (done < n && active > 0 && tries < 64 * n + 64) {
		struct sim_instance *in;

		tries++;
		in = s->list[sim_rand(s) % s->nlist];
		if (!in || in->leave_ms || in->launch_failed)
			continue;
		sim_instance_leave(s, in, true, now);
		s->stats.reclaimed++;
		done++;
		active--;
	}
	return done;
}

void sim_advance(struct sim *s, int64_t now)
{
	size_t k = 0;

	/* the reclaim rate, lazily: what is owed since the last request */
	if (s->faults.reclaim_per_minute > 0 && s->reclaim_last_ms > 0 &&
	    now > s->reclaim_last_ms) {
		double owed = s->reclaim_carry +
			      s->faults.reclaim_per_minute *
				      (double)(now - s->reclaim_last_ms) / 60000.0;
		size_t whole = owed > 1e6 ? 1000000 : (size_t)owed;

		s->reclaim_carry = owed - (double)whole;
		if (whole)
			sim_reclaim_random(s, whole, now);
	}
	if (s->faults.reclaim_per_minute <= 0)
		s->reclaim_carry = 0;
	s->reclaim_last_ms = now;

	/*
	 * LAUNCH_FAILED instances cannot be terminated: they vanish after their
	 * TTL, giving their stock back.  (This pass runs before the leaving one,
	 * so an instance that started leaving is dropped here before it is freed.)
	 */
	for (size_t i = 0; i < s->nfailed; i++) {
		struct sim_instance *in = s->failed[i];

		if (in->leave_ms)
			continue; /* removed through the leaving list */
		if (now >= in->running_ms && in->gone_ms <= now) {
			s->stats.failed_removed++;
			instance_remove(s, in);
		} else {
			s->failed[k++] = in;
		}
	}
	s->nfailed = k;
	k = 0;
	for (size_t i = 0; i < s->nleaving; i++) {
		struct sim_instance *in = s->leaving[i];

		if (in->gone_ms <= now)
			instance_remove(s, in);
		else
			s->leaving[k++] = in;
	}
	s->nleaving = k;
}

/* ------------------------------------------------------------------ */
/* ClientTokens: a hash plus a FIFO, bounded in count and age. */

static void token_unlink(struct sim *s, struct sim_token *t)
{
	struct sim_token **pp = &s->thash[hash_str(t->token) & (s->thsize - 1)];

	while (*pp && *pp != t)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = t->hnext;
	if (t->older)
		t->older->newer = t->newer;
	else
		s->toldest = t->newer;
	if (t->newer)
		t->newer->older = t->older;
	else
		s->tnewest = t->older;
	s->ntokens--;
	free(t->token);
	for (size_t i = 0; i < t->n; i++)
		free(t->ids[i]);
	free(t->ids);
	free(t);
}

static void token_expire(struct sim *s, int64_t now)
{
	while (s->toldest && (s->ntokens > SIM_CLIENT_TOKEN_MAX ||
			      s->toldest->ms + SIM_CLIENT_TOKEN_TTL_MS <= now))
		token_unlink(s, s->toldest);
}

const struct sim_token *sim_token_find(struct sim *s, const char *token, int64_t now)
{
	token_expire(s, now);
	if (!s->thsize)
		return NULL;
	for (struct sim_token *t = s->thash[hash_str(token) & (s->thsize - 1)]; t;
	     t = t->hnext)
		if (!strcmp(t->token, token))
			return t;
	return NULL;
}

void sim_token_add(struct sim *s, const char *token, char *const *ids, size_t n,
		   int64_t now)
{
	struct sim_token *t;
	size_t b;

	if (!s->thsize) {
		s->thsize = 4096;
		s->thash = xcalloc(s->thsize, sizeof(*s->thash));
	}
	t = xcalloc(1, sizeof(*t));
	t->token = xstrdup(token);
	t->ids = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		t->ids[i] = xstrdup(ids[i]);
	t->n = n;
	t->ms = now;
	b = hash_str(token) & (s->thsize - 1);
	t->hnext = s->thash[b];
	s->thash[b] = t;
	t->older = s->tnewest;
	if (s->tnewest)
		s->tnewest->newer = t;
	else
		s->toldest = t;
	s->tnewest = t;
	s->ntokens++;
	token_expire(s, now);
}

void sim_world_clear_instances(struct sim *s)
{
	sim_listing_release(s);
	s->list_version++;
	for (size_t i = 0; i < s->nlist; i++)
		sim_instance_free(s->list[i]);
	free(s->list);
	free(s->hash);
	free(s->leaving);
	free(s->failed);
	s->list = NULL;
	s->hash = NULL;
	s->leaving = NULL;
	s->failed = NULL;
	s->nlist = s->alist = s->nholes = s->ninstances = s->hsize = 0;
	s->nleaving = s->aleaving = 0;
	s->nfailed = s->afailed = 0;
	while (s->toldest)
		token_unlink(s, s->toldest);
	free(s->thash);
	s->thash = NULL;
	s->thsize = 0;
}

/* ------------------------------------------------------------------ */
/* Counters and rate limits */

/* Count one `code` in a list of counters. */
static void sim_count_code(struct sim_counter **v, size_t *n, size_t *alloc,
			   const char *code)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].code, code)) {
			(*v)[i].n++;
			return;
		}
	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[*n].code = code;
	(*v)[*n].n = 1;
	(*n)++;
}

void sim_count_error(struct sim *s, const char *code)
{
	sim_count_code(&s->stats.errors, &s->stats.nerrors, &s->stats.aerrors, code);
}

void sim_count_region(struct sim *s, int region, enum sim_action a, const char *code)
{
	struct sim_region_stats *st = &s->regions[region].stats;

	st->requests[a]++;
	if (code)
		sim_count_code(&st->errors, &st->nerrors, &st->aerrors, code);
}

void sim_stats_clear(struct sim *s)
{
	free(s->stats.errors);
	memset(&s->stats, 0, sizeof(s->stats));
	for (size_t i = 0; i < s->nregions; i++) {
		free(s->regions[i].stats.errors);
		memset(&s->regions[i].stats, 0, sizeof(s->regions[i].stats));
	}
}

void sim_faults_default(struct sim_faults *f)
{
	memset(f, 0, sizeof(*f));
	f->pending_ms = SIM_DEFAULT_PENDING_MS;
	f->terminating_ms = SIM_DEFAULT_TERMINATING_MS;
	f->launch_failed_ttl_ms = SIM_DEFAULT_LAUNCH_FAILED_TTL_MS;
	f->spot_quota_vcpu = SIM_DEFAULT_SPOT_QUOTA_VCPU;
	f->rate_limits = true;
	f->rate[SIM_ACT_DESCRIBE_INSTANCES] = 40;
	f->rate[SIM_ACT_RUN_INSTANCES] = 10;
	f->rate[SIM_ACT_TERMINATE_INSTANCES] = 10;
	f->rate[SIM_ACT_DESCRIBE_ZONE_CONFIGS] = 40;
	f->rate[SIM_ACT_DESCRIBE_ACCOUNT_QUOTA] = 20; /* undocumented: an assumption */
}

void sim_rates_setup(struct sim *s)
{
	for (size_t i = 0; i < s->nregions; i++)
		for (int a = 0; a < SIM_ACT_COUNT; a++) {
			struct sim_rate *r = &s->regions[i].rates[a];
			size_t cap =
				s->faults.rate[a] > 0 ? (size_t)s->faults.rate[a] : 1;

			if (r->cap != cap) {
				free(r->ring);
				r->ring = xcalloc(cap, sizeof(*r->ring));
				r->cap = cap;
			}
			r->head = r->count = 0;
		}
}

void sim_rates_release(struct sim *s)
{
	for (size_t i = 0; i < s->nregions; i++)
		for (int a = 0; a < SIM_ACT_COUNT; a++) {
			free(s->regions[i].rates[a].ring);
			memset(&s->regions[i].rates[a], 0,
			       sizeof(s->regions[i].rates[a]));
		}
}

/*
 * A sliding one-second window per action and region: the request is
 * allowed when fewer than `rate` requests of that action in that region
 * were accepted in the last 1000 ms.  Refused requests are not recorded.
 */
bool sim_rate_take(struct sim *s, enum sim_action a, int region, int64_t now)
{
	struct sim_rate *r;
	size_t oldest;

	if (!s->faults.rate_limits || s->faults.rate[a] <= 0)
		return true;
	r = &s->regions[region].rates[a];
	if (!r->cap)
		return true;
	if (r->count == r->cap) {
		oldest = r->head; /* ring full: head is the oldest */
		if (now - r->ring[oldest] < 1000)
			return false;
		r->ring[r->head] = now;
		r->head = (r->head + 1) % r->cap;
		return true;
	}
	r->ring[(r->head + r->count) % r->cap] = now;
	r->count++;
	return true;
}
