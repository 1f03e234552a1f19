/*
 * actions.c - the CVM actions spotenv uses, on top of tc_call_many.
 *
 * Request bodies are built with cJSON in a fixed key order and printed
 * unformatted, so the same request always has the same bytes (a retried
 * RunInstances sends the same body and ClientToken).
 */
#include "../util/setup.h"
#include "tc.h"
#include "../util/decimal.h"

#include <cjson/cJSON.h>

#define TC_MAX_FILTERS 10
#define TC_MAX_FILTER_VALUES 5
#define TC_MAX_OFFER_VALUES 100
#define TC_MAX_PAGES 100000

static void tc_offer_calls(struct tc_call **calls, size_t *ncalls, const char *region,
			   const char *const *zones, size_t nzones,
			   const char *const *types, size_t ntypes);
static void tc_offers_truncate(struct tc_offer_list *out, size_t first);

static void tc_calls_clear(struct tc_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(calls[i].body);
		cJSON_Delete(calls[i].response);
		err_clear(&calls[i].err);
	}
	free(calls);
}

/* Move the first failed call's err into e; returns its code. */
static int tc_first_failure(struct tc_call *calls, size_t n, struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (err_isset(&calls[i].err)) {
			int code = calls[i].err.code;

			if (err_isset(e))
				return code;
			err_move(e, &calls[i].err);
			return code;
		}
	return 0;
}

static char *tc_print(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (!s) {
		fprintf(stderr, "spotenv: out of memory\n");
		abort();
	}
	return s;
}

static cJSON *tc_strings(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* ---------------------------------------------------------------------
 * DescribeInstances
 */

static char *tc_describe_body(const struct tc_filter *filters, size_t nfilters,
			      const char *const *ids, size_t nids, int64_t offset)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	if (nids) {
		cJSON_AddItemToObject(j, "InstanceIds", tc_strings(ids, nids));
	} else if (nfilters) {
		cJSON *fs = cJSON_AddArrayToObject(j, "Filters");

		for (size_t i = 0; i < nfilters; i++) {
			cJSON *f = cJSON_CreateObject();

			cJSON_AddStringToObject(f, "Name", filters[i].name);
			cJSON_AddItemToObject(
				f, "Values",
				tc_strings(filters[i].values, filters[i].nvalues));
			cJSON_AddItemToArray(fs, f);
		}
	}
	cJSON_AddNumberToObject(j, "Offset", (double)offset);
	cJSON_AddNumberToObject(j, "Limit", TC_MAX_PAGE);
	s = tc_print(j);
	cJSON_Delete(j);
	return s;
}

/* A set of instance ids (borrowed strings), open addressing. */
struct tc_idset {
	const char **slot;
	size_t cap, n;
};

static uint64_t tc_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Add id; false when it was there already. */
static bool tc_idset_add(struct tc_idset *set, const char *id)
{
	size_t i;

	if ((set->n + 1) * 2 > set->cap) {
		struct tc_idset bigger = { NULL, set->cap ? set->cap * 2 : 256, 0 };

		bigger.slot = xcalloc(bigger.cap, sizeof(*bigger.slot));
		for (size_t k = 0; k < set->cap; k++)
			if (set->slot[k])
				tc_idset_add(&bigger, set->slot[k]);
		free(set->slot);
		*set = bigger;
	}
	for (i = tc_hash(id) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->slot[i], id))
			return false;
	set->slot[i] = id;
	set->n++;
	return true;
}

/* Rows of a DescribeInstances page (InstanceSet), whatever they hold. */
static size_t tc_page_rows(const void *response)
{
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(response, "InstanceSet");

	return cJSON_IsArray(set) ? (size_t)cJSON_GetArraySize(set) : 0;
}

/* Append the instances of a response to out, skipping ids already seen. */
static int tc_take_instances(struct tc_instance_list *out, struct tc_idset *seen,
			     int64_t *total, const void *response, const char *region,
			     struct err *e)
{
	struct tc_instance_list page = { NULL, 0, 0 };
	int error = tc_parse_instances(&page, total, response, region, e);

	for (size_t i = 0; !error && i < page.n; i++) {
		/* the set borrows the id, which moves into out (heap string) */
		if (!tc_idset_add(seen, page.v[i].id)) {
			tc_instance_clear(&page.v[i]);
			continue;
		}
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n++] = page.v[i];
		memset(&page.v[i], 0, sizeof(page.v[i]));
	}
	tc_instance_list_clear(&page);
	return error;
}

int tc_describe_instances(struct tc_client *c, const char *region,
			  const struct tc_filter *filters, size_t nfilters,
			  const char *const *ids, size_t nids,
			  struct tc_instance_list *out, struct err *e)
{
	size_t first = out->n;
	struct tc_idset seen = { NULL, 0, 0 };
	struct tc_call *calls = NULL;
	size_t ncalls = 0;
	int error = 0;

	if (nids && nfilters)
		return err_set(
			e, ERR_INVALID,
			"DescribeInstances takes instance ids or filters, not both");

	if (nids) {
		/* ids: chunks of 100, concurrently, one page each */
		ncalls = (nids + TC_MAX_PAGE - 1) / TC_MAX_PAGE;
		calls = xcalloc(ncalls, sizeof(*calls));
		for (size_t i = 0; i < ncalls; i++) {
			size_t off = i * TC_MAX_PAGE;
			size_t cnt = nids - off < TC_MAX_PAGE ? nids - off : TC_MAX_PAGE;

			calls[i].action = "DescribeInstances";
			calls[i].region = region;
			calls[i].body = tc_describe_body(NULL, 0, ids + off, cnt, 0);
		}
		error = tc_call_many(c, calls, ncalls);
		if (error) {
			error = tc_first_failure(calls, ncalls, e);
			goto done;
		}
		for (size_t i = 0; i < ncalls && !error; i++)
			error = tc_take_instances(out, &seen, NULL, calls[i].response,
						  region, e);
		goto done;
	}

	/* filters: the paging of tc_observe_regions, for one region */
	{
		struct tc_region_obs one;

		memset(&one, 0, sizeof(one));
		one.region = region;
		one.filters = filters;
		one.nfilters = nfilters;
		one.instances = out;
		error = tc_observe_regions(c, &one, 1, e);
	}
done:
	if (error) {
		while (out->n > first)
			tc_instance_clear(&out->v[--out->n]);
	}
	tc_calls_clear(calls, ncalls);
	free(seen.slot);
	return error;
}

/*
 * Pages asked for per region in one round.  Every page a region still
 * needs goes out in one round: the client's limiters pace them (40 a
 * second per region) and its parallelism bounds what is in flight, so no
 * round waits for the slowest page of another before the next pages can
 * go.  Each page is parsed as it arrives and its JSON freed at once
 * (tc_page_done), so the memory held is the instances, not the pages.
 * The bound keeps the queued request bodies small for a TotalCount that
 * lies: the first empty or short page cancels the rest of its region's
 * round before they go out.
 */
#define TC_PAGE_ROUND 1000
/*
 * Listings read again when one looked inconsistent: offset paging skips
 * instances when earlier ones vanish meanwhile, so a listing whose
 * TotalCount moved, whose pages came back short, or that holds fewer
 * unique ids than TotalCount is read again (3 reads in all).
 */
#define TC_OBSERVE_READS 3
/*
 * Pages sent with the first one when the caller expects a big listing
 * (tc_region_obs.expect): at most one window of DescribeInstances (40 a
 * second) less the first page, and only as many as 9/10 of the expected
 * instances fill, so a listing that holds what was expected costs no call
 * more than the minimum, while the floor drops by a round trip (the first
 * page's answer no longer gates the rest).  When fewer instances are there
 * the extra pages come back empty: at most this many calls more.
 */
#define TC_SPECULATIVE_PAGES 39

/* Per region paging state of one listing. */
struct tc_pager {
	struct tc_idset seen;
	int64_t total;	   /* TotalCount of the first page; never chased upwards */
	int64_t next;	   /* offset of the next page to fetch */
	bool ended;	   /* a short or empty page: no page after it is asked for */
	bool inconsistent; /* see TC_OBSERVE_READS */
	size_t first_instance, first_offer;
};

struct tc_round;

/* One call of a round: a DescribeInstances page (offset >= 0) or an offers call (-1). */
struct tc_page {
	struct tc_round *round;
	size_t owner; /* index of the region (r[], pg[]) */
	int64_t offset;
	struct tc_instance_list inst; /* the page's rows, parsed on arrival */
	int64_t total;		      /* its TotalCount */
	size_t rows;
	bool parsed;
};

/* The calls of one round and what each is for (same index). */
struct tc_round {
	struct tc_region_obs *r;
	struct tc_pager *pg;
	struct tc_call *calls;
	struct tc_page *pages;
	size_t n, alloc_calls, alloc_pages;
};

static void tc_round_clear(struct tc_round *rd)
{
	for (size_t k = 0; k < rd->n; k++)
		tc_instance_list_clear(&rd->pages[k].inst);
	tc_calls_clear(rd->calls, rd->n);
	free(rd->pages);
	rd->calls = NULL;
	rd->pages = NULL;
	rd->n = rd->alloc_calls = rd->alloc_pages = 0;
}

static struct tc_page *tc_round_add(struct tc_round *rd, size_t owner, int64_t offset)
{
	ALLOC_GROW(rd->calls, rd->n + 1, rd->alloc_calls);
	ALLOC_GROW(rd->pages, rd->n + 1, rd->alloc_pages);
	memset(&rd->calls[rd->n], 0, sizeof(rd->calls[rd->n]));
	memset(&rd->pages[rd->n], 0, sizeof(rd->pages[rd->n]));
	rd->pages[rd->n].owner = owner;
	rd->pages[rd->n].offset = offset;
	return &rd->pages[rd->n++];
}

static void tc_page_done(struct tc_call *call, void *ctx);

static void tc_round_add_page(struct tc_round *rd, size_t i, int64_t off)
{
	const struct tc_region_obs *r = &rd->r[i];

	tc_round_add(rd, i, off);
	rd->calls[rd->n - 1].action = "DescribeInstances";
	rd->calls[rd->n - 1].region = r->region;
	rd->calls[rd->n - 1].body =
		tc_describe_body(r->filters, r->nfilters, NULL, 0, off);
	rd->calls[rd->n - 1].on_done = tc_page_done;
	/* the page pointer is set once the arrays stop moving (tc_round_hook) */
}

/* Point every page call's hook at its page (the arrays no longer move). */
static void tc_round_hook(struct tc_round *rd)
{
	for (size_t k = 0; k < rd->n; k++) {
		rd->pages[k].round = rd;
		if (rd->calls[k].on_done)
			rd->calls[k].on_done_ctx = &rd->pages[k];
	}
}

/*
 * A page arrived (on_done of tc_call_many): parse it and free its JSON.
 * An empty or short page ends its region's listing: the later pages of
 * the round that have not gone out yet are cancelled.
 */
static void tc_page_done(struct tc_call *call, void *ctx)
{
	struct tc_page *pg = ctx;
	struct tc_round *rd = pg->round;
	int64_t known = rd->pg[pg->owner].total, expect;

	if (err_isset(&call->err) || !call->response)
		return;
	if (tc_parse_instances(&pg->inst, &pg->total, call->response,
			       rd->r[pg->owner].region, &call->err) < 0)
		return; /* tc_call_many returns it */
	pg->rows = tc_page_rows(call->response);
	pg->parsed = true;
	cJSON_Delete(call->response);
	call->response = NULL;
	if (known < 0)
		known = pg->total; /* a first page */
	expect = known - pg->offset;
	if (expect > TC_MAX_PAGE)
		expect = TC_MAX_PAGE;
	if (pg->rows > 0 && (int64_t)pg->rows >= expect)
		return;
	for (size_t k = 0; k < rd->n; k++)
		if (rd->pages[k].owner == pg->owner && rd->pages[k].offset > pg->offset)
			rd->calls[k].cancel = true;
}

/* Move a parsed page's instances into out, skipping ids already seen. */
static void tc_take_page(struct tc_instance_list *out, struct tc_idset *seen,
			 struct tc_instance_list *page)
{
	for (size_t i = 0; i < page->n; i++) {
		/* the set borrows the id, which moves into out (heap string) */
		if (!tc_idset_add(seen, page->v[i].id)) {
			tc_instance_clear(&page->v[i]);
			continue;
		}
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n++] = page->v[i];
		memset(&page->v[i], 0, sizeof(page->v[i]));
	}
	page->n = 0;
}

/* Pages to send with r's first one (TC_SPECULATIVE_PAGES). */
static int64_t tc_speculative_pages(const struct tc_region_obs *r)
{
	int64_t full;

	if (r->expect <= 0 || r->expect > TC_MAX_PAGES * (int64_t)TC_MAX_PAGE)
		return 0;
	full = r->expect / 10 * 9 / TC_MAX_PAGE; /* 9/10 of it, in full pages */
	full -= 1;				 /* the first page itself */
	if (full < 0)
		return 0;
	return full < TC_SPECULATIVE_PAGES ? full : TC_SPECULATIVE_PAGES;
}

/*
 * One listing of the regions with want[i] set (and their offers when
 * offers is true): every first page at once, then all the remaining pages
 * of every region in one round (TC_PAGE_ROUND at most per region).  Pages
 * are taken in offset order.  Sets pg[i].inconsistent.  On error the
 * caller drops what was appended.
 */
static int tc_list_regions(struct tc_client *c, struct tc_region_obs *r, size_t n,
			   const bool *want, bool offers, struct tc_pager *pg,
			   struct err *e)
{
	struct tc_round rd = { r, pg, NULL, NULL, 0, 0, 0 };
	int error = 0;

	for (size_t i = 0; i < n; i++) {
		if (!want[i])
			continue;
		pg[i].total = -1;
		pg[i].next = TC_MAX_PAGE;
		pg[i].ended = false;
		pg[i].inconsistent = false;
		tc_round_add_page(&rd, i, 0);
		for (int64_t k = 1; k <= tc_speculative_pages(&r[i]); k++) {
			tc_round_add_page(&rd, i, pg[i].next);
			pg[i].next += TC_MAX_PAGE;
		}
		if (offers && r[i].offers) {
			struct tc_call *oc = NULL;
			size_t noc = 0;

			tc_offer_calls(&oc, &noc, r[i].region, r[i].zones, r[i].nzones,
				       r[i].types, r[i].ntypes);
			for (size_t k = 0; k < noc; k++) {
				tc_round_add(&rd, i, -1);
				rd.calls[rd.n - 1] = oc[k]; /* the body moves */
			}
			free(oc);
		}
	}
	for (;;) {
		bool more = false;

		tc_round_hook(&rd);
		if (tc_call_many(c, rd.calls, rd.n) < 0) {
			error = tc_first_failure(rd.calls, rd.n, e);
			goto done;
		}
		for (size_t k = 0; k < rd.n && !error; k++) {
			struct tc_page *page = &rd.pages[k];
			struct tc_pager *p = &pg[page->owner];
			int64_t expect;

			if (page->offset < 0) {
				error = tc_parse_offers(r[page->owner].offers,
							rd.calls[k].response, e);
				continue;
			}
			if (!page->parsed)
				continue; /* cancelled after a short page */
			tc_take_page(r[page->owner].instances, &p->seen, &page->inst);
			if (p->total < 0)
				p->total = page->total;
			else if (page->total != p->total)
				p->inconsistent =
					true; /* instances came or went meanwhile */
			expect = p->total - page->offset;
			if (expect > TC_MAX_PAGE)
				expect = TC_MAX_PAGE;
			if (page->rows == 0 || (int64_t)page->rows < expect) {
				/* an empty or short page ends the listing */
				if (expect > 0)
					p->inconsistent = true;
				p->ended = true;
			}
		}
		if (error)
			goto done;
		tc_round_clear(&rd);
		for (size_t i = 0; i < n; i++) {
			struct tc_pager *p = &pg[i];
			size_t npages;

			if (!want[i] || p->ended || p->next >= p->total)
				continue;
			if (p->total / TC_MAX_PAGE > TC_MAX_PAGES) {
				error = err_set(
					e, ERR_API,
					"unexpected API response: 'TotalCount' %" PRId64
					" is too large",
					p->total);
				goto done;
			}
			npages = (size_t)((p->total - p->next + TC_MAX_PAGE - 1) /
					  TC_MAX_PAGE);
			if (npages > TC_PAGE_ROUND)
				npages = TC_PAGE_ROUND;
			for (size_t k = 0; k < npages; k++) {
				tc_round_add_page(&rd, i, p->next);
				p->next += TC_MAX_PAGE;
			}
			more = true;
		}
		if (!more)
			break;
	}
	for (size_t i = 0; i < n; i++)
		if (want[i] && (int64_t)pg[i].seen.n < pg[i].total)
			pg[i].inconsistent = true; /* fewer unique ids than TotalCount */
done:
	tc_round_clear(&rd);
	return error;
}

/*
 * Merge a re-read listing (fresh, consumed) into out: an id in both takes
 * the fresh record (the later state); an id only in the earlier listing is
 * kept, so a listing that skipped it never makes an instance disappear
 * (spotenv would launch to replace it and pay twice); one that vanished for
 * real is gone from the next observation.
 */
static void tc_merge_listing(struct tc_instance_list *out, size_t first,
			     struct tc_instance_list *fresh)
{
	struct tc_idset index = { NULL, 0, 0 };

	for (size_t i = 0; i < fresh->n; i++)
		tc_idset_add(&index, fresh->v[i].id);
	for (size_t i = first; i < out->n; i++)
		if (tc_idset_add(&index, out->v[i].id)) {
			/* only in the earlier listing: keep it */
			ALLOC_GROW(fresh->v, fresh->n + 1, fresh->alloc);
			fresh->v[fresh->n++] = out->v[i];
			memset(&out->v[i], 0, sizeof(out->v[i]));
		}
	free(index.slot);
	while (out->n > first)
		tc_instance_clear(&out->v[--out->n]);
	for (size_t i = 0; i < fresh->n; i++) {
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n++] = fresh->v[i];
	}
	free(fresh->v);
	memset(fresh, 0, sizeof(*fresh));
}

int tc_observe_regions(struct tc_client *c, struct tc_region_obs *r, size_t n,
		       struct err *e)
{
	struct tc_pager *pg = xcalloc(n ? n : 1, sizeof(*pg));
	bool *want = xcalloc(n ? n : 1, sizeof(*want));
	int error = 0;

	for (size_t i = 0; i < n && !error; i++) {
		if (r[i].nfilters > TC_MAX_FILTERS)
			error = err_set(e, ERR_INVALID,
					"at most %d filters per DescribeInstances call",
					TC_MAX_FILTERS);
		for (size_t k = 0; !error && k < r[i].nfilters; k++)
			if (!r[i].filters[k].name || !r[i].filters[k].nvalues ||
			    r[i].filters[k].nvalues > TC_MAX_FILTER_VALUES)
				error = err_set(
					e, ERR_INVALID,
					"filter '%s' needs 1 to %d values",
					r[i].filters[k].name ? r[i].filters[k].name : "",
					TC_MAX_FILTER_VALUES);
		pg[i].first_instance = r[i].instances->n;
		pg[i].first_offer = r[i].offers ? r[i].offers->n : 0;
		r[i].inconsistent = false;
		r[i].reads = 1;
		want[i] = true;
	}
	if (!error)
		error = tc_list_regions(c, r, n, want, true, pg, e);
	for (int read = 1; !error && read < TC_OBSERVE_READS; read++) {
		struct tc_instance_list *saved = xcalloc(n ? n : 1, sizeof(*saved));
		bool again = false;

		for (size_t i = 0; i < n; i++) {
			want[i] = pg[i].inconsistent;
			if (!want[i])
				continue;
			r[i].reads++;
			again = true;
			/* read into a fresh tail, then merge */
			saved[i] = *r[i].instances;
			memset(r[i].instances, 0, sizeof(*r[i].instances));
			free(pg[i].seen.slot);
			memset(&pg[i].seen, 0, sizeof(pg[i].seen));
		}
		if (again)
			error = tc_list_regions(c, r, n, want, false, pg, e);
		for (size_t i = 0; i < n; i++) {
			struct tc_instance_list fresh;

			if (!want[i])
				continue;
			fresh = *r[i].instances;
			*r[i].instances = saved[i];
			if (error)
				tc_instance_list_clear(&fresh);
			else
				tc_merge_listing(r[i].instances, pg[i].first_instance,
						 &fresh);
		}
		free(saved);
		if (!again)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		if (error) {
			while (r[i].instances->n > pg[i].first_instance)
				tc_instance_clear(
					&r[i].instances->v[--r[i].instances->n]);
			if (r[i].offers)
				tc_offers_truncate(r[i].offers, pg[i].first_offer);
		} else {
			r[i].inconsistent = pg[i].inconsistent;
		}
		free(pg[i].seen.slot);
	}
	free(want);
	free(pg);
	return error;
}

/* ---------------------------------------------------------------------
 * RunInstances
 */

char *tc_run_request_json(const struct tc_run_request *req)
{
	cJSON *j = cJSON_CreateObject(), *o, *s;
	char *text;

	cJSON_AddStringToObject(j, "InstanceChargeType", "SPOTPAID");
	o = cJSON_AddObjectToObject(j, "InstanceMarketOptions");
	cJSON_AddStringToObject(o, "MarketType", "spot");
	s = cJSON_AddObjectToObject(o, "SpotOptions");
	if (req->max_price)
		cJSON_AddStringToObject(s, "MaxPrice", req->max_price);
	cJSON_AddStringToObject(s, "SpotInstanceType", "one-time");
	o = cJSON_AddObjectToObject(j, "Placement");
	cJSON_AddStringToObject(o, "Zone", req->zone ? req->zone : "");
	cJSON_AddStringToObject(j, "ImageId", req->image ? req->image : "");
	cJSON_AddStringToObject(j, "InstanceType",
				req->instance_type ? req->instance_type : "");
	cJSON_AddNumberToObject(j, "InstanceCount", req->count);
	if (req->client_token)
		cJSON_AddStringToObject(j, "ClientToken", req->client_token);
	if (req->instance_name)
		cJSON_AddStringToObject(j, "InstanceName", req->instance_name);
	if (req->ntags) {
		cJSON *specs = cJSON_AddArrayToObject(j, "TagSpecification");
		cJSON *spec = cJSON_CreateObject(), *tags;

		cJSON_AddStringToObject(spec, "ResourceType", "instance");
		tags = cJSON_AddArrayToObject(spec, "Tags");
		for (size_t i = 0; i < req->ntags; i++) {
			cJSON *t = cJSON_CreateObject();

			cJSON_AddStringToObject(t, "Key", req->tags[i].key);
			cJSON_AddStringToObject(
				t, "Value", req->tags[i].value ? req->tags[i].value : "");
			cJSON_AddItemToArray(tags, t);
		}
		cJSON_AddItemToArray(specs, spec);
	}
	if (req->vpc_id) {
		o = cJSON_AddObjectToObject(j, "VirtualPrivateCloud");
		cJSON_AddStringToObject(o, "VpcId", req->vpc_id);
		cJSON_AddStringToObject(o, "SubnetId",
					req->subnet_id ? req->subnet_id : "");
	}
	if (req->nsecurity_groups)
		cJSON_AddItemToObject(
			j, "SecurityGroupIds",
			tc_strings(req->security_group_ids, req->nsecurity_groups));
	if (req->public_ip_bandwidth_mbps > 0) {
		o = cJSON_AddObjectToObject(j, "InternetAccessible");
		cJSON_AddStringToObject(o, "InternetChargeType",
					"TRAFFIC_POSTPAID_BY_HOUR");
		cJSON_AddNumberToObject(o, "InternetMaxBandwidthOut",
					req->public_ip_bandwidth_mbps);
		cJSON_AddBoolToObject(o, "PublicIpAssigned", 1);
	}
	if (req->nkey_ids) {
		o = cJSON_AddObjectToObject(j, "LoginSettings");
		cJSON_AddItemToObject(o, "KeyIds",
				      tc_strings(req->key_ids, req->nkey_ids));
	} else if (req->keep_image_login) {
		o = cJSON_AddObjectToObject(j, "LoginSettings");
		cJSON_AddStringToObject(o, "KeepImageLogin", "true");
	}
	if (req->system_disk_type || req->system_disk_size_gb > 0) {
		o = cJSON_AddObjectToObject(j, "SystemDisk");
		if (req->system_disk_type)
			cJSON_AddStringToObject(o, "DiskType", req->system_disk_type);
		if (req->system_disk_size_gb > 0)
			cJSON_AddNumberToObject(o, "DiskSize", req->system_disk_size_gb);
	}
	if (req->user_data_b64)
		cJSON_AddStringToObject(j, "UserData", req->user_data_b64);
	if (req->dry_run)
		cJSON_AddBoolToObject(j, "DryRun", 1);
	text = tc_print(j);
	cJSON_Delete(j);
	return text;
}

static bool tc_token_ok(const char *t)
{
	size_t n = strlen(t);

	if (!n || n > TC_MAX_CLIENT_TOKEN)
		return false;
	for (; *t; t++)
		if ((unsigned char)*t < 0x21 || (unsigned char)*t > 0x7e)
			return false;
	return true;
}

static int tc_run_check(const struct tc_run_request *req, struct err *e)
{
	if (!req->region || !*req->region || !req->zone || !*req->zone ||
	    !req->instance_type || !*req->instance_type || !req->image || !*req->image)
		return err_set(
			e, ERR_INVALID,
			"RunInstances needs a region, zone, instance type and image");
	if (req->count < 1 || req->count > TC_MAX_RUN_COUNT)
		return err_set(e, ERR_INVALID,
			       "RunInstances count %d is not within 1..%d", req->count,
			       TC_MAX_RUN_COUNT);
	if (req->max_price && !dec_valid(req->max_price))
		return err_set(e, ERR_INVALID, "max price '%s' is not a decimal",
			       req->max_price);
	if (req->client_token && !tc_token_ok(req->client_token))
		return err_set(e, ERR_INVALID,
			       "ClientToken must be 1 to %d printable ASCII characters",
			       TC_MAX_CLIENT_TOKEN);
	if (req->vpc_id && (!req->subnet_id || !*req->subnet_id))
		return err_set(e, ERR_INVALID, "a VPC needs a subnet");
	if (req->ntags && !req->tags)
		return err_set(e, ERR_INVALID, "tags missing");
	for (size_t i = 0; i < req->ntags; i++)
		if (!req->tags[i].key || !*req->tags[i].key)
			return err_set(e, ERR_INVALID, "a tag has an empty key");
	return 0;
}

int tc_run_instances(struct tc_client *c, const struct tc_run_request *req,
		     char ***out_ids, size_t *out_n, struct err *e)
{
	struct tc_call call;
	const cJSON *set, *id;
	char **ids = NULL;
	size_t n = 0;
	int error;

	*out_ids = NULL;
	*out_n = 0;
	if ((error = tc_run_check(req, e)) < 0)
		return error;
	memset(&call, 0, sizeof(call));
	call.action = "RunInstances";
	call.region = req->region;
	call.body = tc_run_request_json(req);
	/* the same body (and ClientToken) for every attempt */
	if (tc_call_one(c, &call) < 0) {
		/* the common code DryRunOperation: dry-run success too */
		if (req->dry_run && call.err.api_code &&
		    !strcmp(call.err.api_code, "DryRunOperation")) {
			error = 0;
			goto done;
		}
		error = call.err.code;
		err_move(e, &call.err);
		goto done;
	}
	/*
	 * A dry run that passes answers with just a RequestId (the
	 * RunInstances page); it launches nothing, so whatever else the
	 * answer holds, it gives no ids.
	 */
	if (req->dry_run)
		goto done;
	set = cJSON_GetObjectItemCaseSensitive(call.response, "InstanceIdSet");
	if (!set || cJSON_IsNull(set)) {
		error = err_set(
			e, ERR_API,
			"unexpected API response: RunInstances returned no 'InstanceIdSet'");
		goto done;
	}
	if (!cJSON_IsArray(set)) {
		error = err_set(
			e, ERR_API,
			"unexpected API response: 'InstanceIdSet' is not an array");
		goto done;
	}
	ids = xcalloc((size_t)cJSON_GetArraySize(set) + 1, sizeof(*ids));
	cJSON_ArrayForEach (id, set) {
		if (!cJSON_IsString(id) || !*id->valuestring) {
			error = err_set(
				e, ERR_API,
				"unexpected API response: an instance id is not a string");
			goto done;
		}
		ids[n++] = xstrdup(id->valuestring);
	}
done:
	if (error) {
		for (size_t i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
	} else if (n) {
		*out_ids = ids;
		*out_n = n;
	} else {
		free(ids);
	}
	free(call.body);
	cJSON_Delete(call.response);
	err_clear(&call.err);
	return error;
}

/* ---------------------------------------------------------------------
 * TerminateInstances
 */

int tc_terminate_instances(struct tc_client *c, const char *region,
			   const char *const *ids, size_t n, struct err *e)
{
	size_t ncalls = (n + TC_MAX_PAGE - 1) / TC_MAX_PAGE;
	struct tc_call *calls;
	int error = 0;

	if (!n)
		return 0;
	calls = xcalloc(ncalls, sizeof(*calls));
	for (size_t i = 0; i < ncalls; i++) {
		size_t off = i * TC_MAX_PAGE;
		size_t cnt = n - off < TC_MAX_PAGE ? n - off : TC_MAX_PAGE;
		cJSON *j = cJSON_CreateObject();

		cJSON_AddItemToObject(j, "InstanceIds", tc_strings(ids + off, cnt));
		calls[i].action = "TerminateInstances";
		calls[i].region = region;
		calls[i].body = tc_print(j);
		cJSON_Delete(j);
	}
	if (tc_call_many(c, calls, ncalls) < 0)
		error = tc_first_failure(calls, ncalls, e);
	tc_calls_clear(calls, ncalls);
	return error;
}

/* ---------------------------------------------------------------------
 * DescribeZoneInstanceConfigInfos
 */

static char *tc_offers_body(const char *const *zones, size_t nzones,
			    const char *const *types, size_t ntypes)
{
	cJSON *j = cJSON_CreateObject(), *fs, *f;
	static const char *const spot[] = { "SPOTPAID" };
	char *s;

	fs = cJSON_AddArrayToObject(j, "Filters");
	if (nzones) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "Name", "zone");
		cJSON_AddItemToObject(f, "Values", tc_strings(zones, nzones));
		cJSON_AddItemToArray(fs, f);
	}
	if (ntypes) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "Name", "instance-type");
		cJSON_AddItemToObject(f, "Values", tc_strings(types, ntypes));
		cJSON_AddItemToArray(fs, f);
	}
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "Name", "instance-charge-type");
	cJSON_AddItemToObject(f, "Values", tc_strings(spot, 1));
	cJSON_AddItemToArray(fs, f);
	s = tc_print(j);
	cJSON_Delete(j);
	return s;
}

/*
 * The DescribeZoneInstanceConfigInfos calls for region: one per chunk of
 * at most 100 zones and 100 types.  Appends to *calls (grown).
 */
static void tc_offer_calls(struct tc_call **calls, size_t *ncalls, const char *region,
			   const char *const *zones, size_t nzones,
			   const char *const *types, size_t ntypes)
{
	size_t zchunks =
		nzones ? (nzones + TC_MAX_OFFER_VALUES - 1) / TC_MAX_OFFER_VALUES : 1;
	size_t tchunks =
		ntypes ? (ntypes + TC_MAX_OFFER_VALUES - 1) / TC_MAX_OFFER_VALUES : 1;
	size_t k = *ncalls;

	*calls = xreallocarray(*calls, *ncalls + zchunks * tchunks, sizeof(**calls));
	memset(*calls + *ncalls, 0, zchunks * tchunks * sizeof(**calls));
	for (size_t zi = 0; zi < zchunks; zi++)
		for (size_t ti = 0; ti < tchunks; ti++) {
			size_t zoff = zi * TC_MAX_OFFER_VALUES,
			       toff = ti * TC_MAX_OFFER_VALUES;
			size_t zn = nzones ? (nzones - zoff < TC_MAX_OFFER_VALUES
						      ? nzones - zoff
						      : TC_MAX_OFFER_VALUES)
					   : 0;
			size_t tn = ntypes ? (ntypes - toff < TC_MAX_OFFER_VALUES
						      ? ntypes - toff
						      : TC_MAX_OFFER_VALUES)
					   : 0;

			(*calls)[k].action = "DescribeZoneInstanceConfigInfos";
			(*calls)[k].region = region;
			(*calls)[k].body = tc_offers_body(zn ? zones + zoff : NULL, zn,
							  tn ? types + toff : NULL, tn);
			k++;
		}
	*ncalls = k;
}

/* Drop the offers appended to out after first. */
static void tc_offers_truncate(struct tc_offer_list *out, size_t first)
{
	while (out->n > first)
		tc_offer_clear(&out->v[--out->n]);
}

int tc_describe_offers(struct tc_client *c, const char *region, const char *const *zones,
		       size_t nzones, const char *const *types, size_t ntypes,
		       struct tc_offer_list *out, struct err *e)
{
	struct tc_call *calls = NULL;
	size_t ncalls = 0, first = out->n;
	int error = 0;

	tc_offer_calls(&calls, &ncalls, region, zones, nzones, types, ntypes);
	if (tc_call_many(c, calls, ncalls) < 0) {
		error = tc_first_failure(calls, ncalls, e);
		goto done;
	}
	for (size_t i = 0; i < ncalls && !error; i++)
		error = tc_parse_offers(out, calls[i].response, e);
done:
	if (error)
		tc_offers_truncate(out, first);
	tc_calls_clear(calls, ncalls);
	return error;
}

/* ---------------------------------------------------------------------
 * DescribeAccountQuota
 */

int tc_describe_spot_quota(struct tc_client *c, const char *region,
			   struct tc_spot_quota_list *out, char **app_id_out,
			   struct err *e)
{
	struct tc_call call;
	int error;

	if (app_id_out)
		*app_id_out = NULL;
	memset(&call, 0, sizeof(call));
	call.action = "DescribeAccountQuota";
	call.region = region;
	/* no filter: the answer is a few rows per quota type, and {} is what every
	 * version takes */
	call.body = xstrdup("{}");
	if (tc_call_one(c, &call) < 0) {
		error = call.err.code;
		if (!err_isset(e)) /* the first error wins */
			err_move(e, &call.err);
	} else {
		error = tc_parse_spot_quota(out, app_id_out, call.response, e);
	}
	free(call.body);
	cJSON_Delete(call.response);
	err_clear(&call.err);
	return error;
}
