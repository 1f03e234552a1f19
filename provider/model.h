/*
 * model.h - the observed data model: instances and spot offers as the CVM
 * API describes them, and the small helpers to read, copy and free them.
 *
 * Shared vocabulary of the provider (which parses API answers into it),
 * the planner (which plans from it, and must not link the client), the
 * applier and the emulator.  The helpers are inline so that a module using
 * the model links none of the provider's code.
 *
 * Ownership: every string and array in these structs is owned by it and
 * freed by the matching _clear (which accept NULL).
 */
#ifndef SPOTENV_MODEL_H
#define SPOTENV_MODEL_H

#include "../util/setup.h"

#define TC_MAX_CLIENT_TOKEN 64 /* ClientToken: at most 64 ASCII characters */

struct tc_tag {
	char *key;
	char *value;
};

struct tc_instance {
	char *id; /* ins-... */
	char *name;
	char *type;	   /* InstanceType */
	char *state;	   /* InstanceState */
	char *charge_type; /* SPOTPAID, ... */
	char *region;	   /* filled by the caller that asked (not in the API object) */
	char *zone;	   /* Placement.Zone */
	char *image;	   /* ImageId */
	char *vpc_id;	   /* VirtualPrivateCloud.VpcId or NULL */
	char *subnet_id;   /* VirtualPrivateCloud.SubnetId or NULL */
	char *created;	   /* CreatedTime as given */
	int64_t created_unix; /* parsed; 0 when absent or unparsable */
	struct tc_tag *tags;
	size_t ntags;
};

struct tc_instance_list {
	struct tc_instance *v;
	size_t n, alloc;
};

/* One SPOTPAID row of DescribeZoneInstanceConfigInfos. */
struct tc_offer {
	char *zone;
	char *type;
	char *status; /* SELL or SOLD_OUT */
	/*
	 * The spot price per hour, a plain decimal string (dec_valid), or NULL
	 * when unknown: Price.UnitPriceDiscount when above zero, else
	 * Price.UnitPrice when above zero (a zero means "not given", never
	 * "free"; see tc_offer_price in provider/parse.c).
	 */
	char *price;
	int cpu;
	int memory_gb;
	/*
	 * StatusCategory as given: EnoughStock, NormalStock, UnderStock or
	 * WithoutStock.  NULL when the row has none (older answers): unknown,
	 * not "without stock".  Any other text is kept as given; treat it as
	 * unknown too.
	 */
	char *status_category;
};

struct tc_offer_list {
	struct tc_offer *v;
	size_t n, alloc;
};

/* Borrowed value of a tag ("" for a NULL value), or NULL when absent. */
static inline const char *tc_instance_tag(const struct tc_instance *in, const char *key)
{
	for (size_t i = 0; i < in->ntags; i++)
		if (in->tags[i].key && !strcmp(in->tags[i].key, key))
			return in->tags[i].value ? in->tags[i].value : "";
	return NULL;
}

static inline void tc_instance_clear(struct tc_instance *in)
{
	if (!in)
		return;
	free(in->id);
	free(in->name);
	free(in->type);
	free(in->state);
	free(in->charge_type);
	free(in->region);
	free(in->zone);
	free(in->image);
	free(in->vpc_id);
	free(in->subnet_id);
	free(in->created);
	for (size_t i = 0; i < in->ntags; i++) {
		free(in->tags[i].key);
		free(in->tags[i].value);
	}
	free(in->tags);
	memset(in, 0, sizeof(*in));
}

static inline char *tc_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static inline void tc_instance_copy(struct tc_instance *dst,
				    const struct tc_instance *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = tc_dup(src->id);
	dst->name = tc_dup(src->name);
	dst->type = tc_dup(src->type);
	dst->state = tc_dup(src->state);
	dst->charge_type = tc_dup(src->charge_type);
	dst->region = tc_dup(src->region);
	dst->zone = tc_dup(src->zone);
	dst->image = tc_dup(src->image);
	dst->vpc_id = tc_dup(src->vpc_id);
	dst->subnet_id = tc_dup(src->subnet_id);
	dst->created = tc_dup(src->created);
	dst->created_unix = src->created_unix;
	if (src->ntags) {
		dst->tags = xcalloc(src->ntags, sizeof(*dst->tags));
		for (size_t i = 0; i < src->ntags; i++) {
			dst->tags[i].key = tc_dup(src->tags[i].key);
			dst->tags[i].value = tc_dup(src->tags[i].value);
		}
		dst->ntags = src->ntags;
	}
}

static inline void tc_instance_list_clear(struct tc_instance_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tc_instance_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static inline void tc_offer_clear(struct tc_offer *o)
{
	if (!o)
		return;
	free(o->zone);
	free(o->type);
	free(o->status);
	free(o->price);
	free(o->status_category);
	memset(o, 0, sizeof(*o));
}

static inline void tc_offer_list_clear(struct tc_offer_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tc_offer_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * One zone's row of DescribeAccountQuota's SpotPaidQuotaSet.  The counts
 * are vCPU (an assumption: the API reference gives no unit; the spot
 * product page states the quota in vCPU per account and zone).
 */
struct tc_spot_quota {
	char *zone;
	int64_t used;	   /* UsedQuota; -1 when not given */
	int64_t remaining; /* RemainingQuota; -1 when not given */
	int64_t total;	   /* TotalQuota; -1 when not given */
};

/* A region's spot quota, one row per zone (a zone not listed: unknown). */
struct tc_spot_quota_list {
	struct tc_spot_quota *v;
	size_t n, alloc;
};

static inline void tc_spot_quota_clear(struct tc_spot_quota *q)
{
	if (!q)
		return;
	free(q->zone);
	memset(q, 0, sizeof(*q));
}

static inline void tc_spot_quota_list_clear(struct tc_spot_quota_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tc_spot_quota_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* The row of zone in l (borrowed), or NULL when the zone is not listed. */
static inline const struct tc_spot_quota *
tc_spot_quota_find(const struct tc_spot_quota_list *l, const char *zone)
{
	for (size_t i = 0; l && zone && i < l->n; i++)
		if (l->v[i].zone && !strcmp(l->v[i].zone, zone))
			return &l->v[i];
	return NULL;
}

#endif
