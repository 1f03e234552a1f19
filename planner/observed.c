/*
 * observed.c - the observed snapshot: instances and spot offers, with the
 * JSON document `spotenv observe` writes and `--observed FILE` reads.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include "plan.h"
#include "plan_internal.h"

static void plan_offer_clear(struct plan_offer *o)
{
	free(o->region);
	tc_offer_clear(&o->offer); /* every field of the model, stock level included */
	memset(o, 0, sizeof(*o));
}

void plan_observed_clear(struct plan_observed *obs)
{
	if (!obs)
		return;
	free(obs->observed_at);
	for (size_t i = 0; i < obs->nregions; i++)
		free(obs->regions[i]);
	free(obs->regions);
	for (size_t i = 0; i < obs->nincomplete; i++)
		free(obs->incomplete[i]);
	free(obs->incomplete);
	tc_instance_list_clear(&obs->instances);
	for (size_t i = 0; i < obs->noffers; i++)
		plan_offer_clear(&obs->offers[i]);
	free(obs->offers);
	memset(obs, 0, sizeof(*obs));
}

void plan_observed_add_region(struct plan_observed *obs, const char *region)
{
	for (size_t i = 0; i < obs->nregions; i++)
		if (!strcmp(obs->regions[i], region))
			return;
	ALLOC_GROW(obs->regions, obs->nregions + 1, obs->regions_alloc);
	obs->regions[obs->nregions++] = xstrdup(region);
}

void plan_observed_mark_incomplete(struct plan_observed *obs, const char *region)
{
	if (plan_observed_is_incomplete(obs, region))
		return;
	ALLOC_GROW(obs->incomplete, obs->nincomplete + 1, obs->incomplete_alloc);
	obs->incomplete[obs->nincomplete++] = xstrdup(region);
}

bool plan_observed_is_incomplete(const struct plan_observed *obs, const char *region)
{
	for (size_t i = 0; region && i < obs->nincomplete; i++)
		if (!strcmp(obs->incomplete[i], region))
			return true;
	return false;
}

void plan_observed_add_instances(struct plan_observed *obs, struct tc_instance_list *list)
{
	struct tc_instance_list *d = &obs->instances;

	ALLOC_GROW(d->v, d->n + list->n, d->alloc);
	for (size_t i = 0; i < list->n; i++)
		d->v[d->n++] = list->v[i];
	free(list->v);
	memset(list, 0, sizeof(*list));
}

void plan_observed_add_offers(struct plan_observed *obs, const char *region,
			      struct tc_offer_list *list)
{
	ALLOC_GROW(obs->offers, obs->noffers + list->n, obs->offers_alloc);
	for (size_t i = 0; i < list->n; i++) {
		struct plan_offer *o = &obs->offers[obs->noffers++];

		o->region = xstrdup(region);
		o->offer = list->v[i];
	}
	free(list->v);
	memset(list, 0, sizeof(*list));
}

void plan_observed_set_time(struct plan_observed *obs, const char *rfc3339)
{
	free(obs->observed_at);
	obs->observed_at = rfc3339 ? xstrdup(rfc3339) : NULL;
}

/* ---------------------------------------------------------------------
 * Writing.
 */

static int plan_cmp_instance_ptr(const void *a, const void *b)
{
	const struct tc_instance *x = *(const struct tc_instance *const *)a;
	const struct tc_instance *y = *(const struct tc_instance *const *)b;

	int c = plan_strcmp0(x->id, y->id);

	return c ? c : plan_strcmp0(x->state, y->state); /* duplicates: stable output */
}

static int plan_cmp_offer_ptr(const void *a, const void *b)
{
	const struct plan_offer *x = *(const struct plan_offer *const *)a;
	const struct plan_offer *y = *(const struct plan_offer *const *)b;
	int c;

	if ((c = plan_strcmp0(x->region, y->region)))
		return c;
	if ((c = plan_strcmp0(x->offer.zone, y->offer.zone)))
		return c;
	if ((c = plan_strcmp0(x->offer.type, y->offer.type)))
		return c;
	if ((c = plan_strcmp0(x->offer.status, y->offer.status)))
		return c;
	return plan_strcmp0(x->offer.price, y->offer.price);
}

/* An instance as its snapshot object (every field, tags as an object). */
static cJSON *plan_instance_json(const struct tc_instance *in)
{
	cJSON *o = cJSON_CreateObject(), *tags;

	plan_json_str(o, "id", in->id);
	plan_json_str(o, "region", in->region);
	plan_json_str(o, "zone", in->zone);
	plan_json_str(o, "type", in->type);
	plan_json_str(o, "state", in->state);
	plan_json_str(o, "name", in->name);
	plan_json_str(o, "charge_type", in->charge_type);
	plan_json_str(o, "image", in->image);
	plan_json_str(o, "vpc_id", in->vpc_id);
	plan_json_str(o, "subnet_id", in->subnet_id);
	plan_json_str(o, "created", in->created);
	cJSON_AddNumberToObject(o, "created_unix", (double)in->created_unix);
	tags = cJSON_AddObjectToObject(o, "tags");
	for (size_t i = 0; i < in->ntags; i++)
		plan_json_str(tags, in->tags[i].key, in->tags[i].value);
	return o;
}

int plan_observed_to_json(struct buf *out, const struct plan_observed *obs)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	const struct tc_instance **ins = NULL;
	const struct plan_offer **off = NULL;
	char **regions = NULL;
	int error;

	cJSON_AddStringToObject(root, "format_version", PLAN_OBSERVED_FORMAT_VERSION);
	plan_json_str(root, "observed_at", obs->observed_at);

	regions = xcalloc(obs->nregions + 1, sizeof(*regions));
	if (obs->nregions)
		memcpy(regions, obs->regions, obs->nregions * sizeof(*regions));
	qsort(regions, obs->nregions, sizeof(*regions), plan_cmp_str_ptr);
	arr = cJSON_AddArrayToObject(root, "regions");
	for (size_t i = 0; i < obs->nregions; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(regions[i]));
	if (obs->nincomplete) {
		/* only when there are any: older snapshots stay byte-identical */
		arr = cJSON_AddArrayToObject(root, "incomplete_regions");
		for (size_t i = 0; i < obs->nincomplete; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(obs->incomplete[i]));
	}

	ins = xcalloc(obs->instances.n + 1, sizeof(*ins));
	for (size_t i = 0; i < obs->instances.n; i++)
		ins[i] = &obs->instances.v[i];
	qsort(ins, obs->instances.n, sizeof(*ins), plan_cmp_instance_ptr);
	arr = cJSON_AddArrayToObject(root, "instances");
	for (size_t i = 0; i < obs->instances.n; i++)
		cJSON_AddItemToArray(arr, plan_instance_json(ins[i]));

	off = xcalloc(obs->noffers + 1, sizeof(*off));
	for (size_t i = 0; i < obs->noffers; i++)
		off[i] = &obs->offers[i];
	qsort(off, obs->noffers, sizeof(*off), plan_cmp_offer_ptr);
	arr = cJSON_AddArrayToObject(root, "offers");
	for (size_t i = 0; i < obs->noffers; i++) {
		cJSON *o = cJSON_CreateObject();

		plan_json_str(o, "region", off[i]->region);
		plan_json_str(o, "zone", off[i]->offer.zone);
		plan_json_str(o, "type", off[i]->offer.type);
		plan_json_str(o, "status", off[i]->offer.status);
		if (off[i]->offer
			    .status_category) /* absent = unknown (older snapshots) */
			plan_json_str(o, "stock", off[i]->offer.status_category);
		plan_json_str(o, "price", off[i]->offer.price);
		cJSON_AddNumberToObject(o, "cpu", off[i]->offer.cpu);
		cJSON_AddNumberToObject(o, "memory_gb", off[i]->offer.memory_gb);
		cJSON_AddItemToArray(arr, o);
	}

	error = plan_json_emit(out, root);
	cJSON_Delete(root);
	free(regions);
	free(ins);
	free(off);
	return error;
}

/* ---------------------------------------------------------------------
 * Reading.
 */

/* "2026-01-02T03:04:05Z" (or with a space) to Unix seconds; 0 if unparsable. */
int64_t plan_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	char sep, z = 0;

	if (!s)
		return 0;
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%c", &y, &mo, &d, &sep, &h, &mi, &sec,
		   &z) < 7)
		return 0;
	if ((sep != 'T' && sep != ' ') || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm);
}

/* One element of "instances" into in; errors name instances[idx]. */
static int plan_read_instance(struct tc_instance *in, const cJSON *o, size_t idx,
			      struct err *e)
{
	static const char *const required[] = { "id", "region", "zone", "type", "state" };
	const cJSON *tags, *t, *cu;
	char **fields[] = { &in->id, &in->region, &in->zone, &in->type, &in->state };
	int error = 0;

	if (!cJSON_IsObject(o))
		return err_set(e, ERR_INVALID, "instances[%zu]: expected an object", idx);
	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		error = plan_json_get_str(fields[i], o, required[i], true, e);
		if (error) {
			err_clear(e);
			return err_set(e, ERR_INVALID,
				       "instances[%zu].%s: expected a string", idx,
				       required[i]);
		}
	}
	if (!error)
		error = plan_json_get_str(&in->name, o, "name", false, e);
	if (!error)
		error = plan_json_get_str(&in->charge_type, o, "charge_type", false, e);
	if (!error)
		error = plan_json_get_str(&in->image, o, "image", false, e);
	if (!error)
		error = plan_json_get_str(&in->vpc_id, o, "vpc_id", false, e);
	if (!error)
		error = plan_json_get_str(&in->subnet_id, o, "subnet_id", false, e);
	if (!error)
		error = plan_json_get_str(&in->created, o, "created", false, e);
	if (error) {
		err_clear(e);
		return err_set(e, ERR_INVALID,
			       "instances[%zu]: a field has the wrong type", idx);
	}
	cu = cJSON_GetObjectItemCaseSensitive(o, "created_unix");
	if (cJSON_IsNumber(cu) && cu->valuedouble >= -1e15 && cu->valuedouble <= 1e15)
		in->created_unix = (int64_t)cu->valuedouble;
	else if (cu && !cJSON_IsNull(cu))
		return err_set(e, ERR_INVALID,
			       "instances[%zu].created_unix: expected seconds "
			       "since the epoch",
			       idx);
	else
		in->created_unix = plan_parse_time(in->created);

	tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
	if (tags && !cJSON_IsObject(tags))
		return err_set(e, ERR_INVALID, "instances[%zu].tags: expected an object",
			       idx);
	cJSON_ArrayForEach (t, tags) {
		if (!cJSON_IsString(t))
			return err_set(e, ERR_INVALID,
				       "instances[%zu].tags.%s: expected a string", idx,
				       t->string);
		in->tags = xreallocarray(in->tags, in->ntags + 1, sizeof(*in->tags));
		in->tags[in->ntags].key = xstrdup(t->string);
		in->tags[in->ntags].value = xstrdup(t->valuestring);
		in->ntags++;
	}
	return 0;
}

/* One element of "offers" into po; errors name offers[idx]. */
static int plan_read_offer(struct plan_offer *po, const cJSON *o, size_t idx,
			   struct err *e)
{
	static const char *const required[] = { "region", "zone", "type", "status" };
	char **fields[] = { &po->region, &po->offer.zone, &po->offer.type,
			    &po->offer.status };
	const cJSON *n;

	if (!cJSON_IsObject(o))
		return err_set(e, ERR_INVALID, "offers[%zu]: expected an object", idx);
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (plan_json_get_str(fields[i], o, required[i], true, e)) {
			err_clear(e);
			return err_set(e, ERR_INVALID,
				       "offers[%zu].%s: expected a string", idx,
				       required[i]);
		}
	if (plan_json_get_str(&po->offer.price, o, "price", false, e) ||
	    (po->offer.price && !dec_valid(po->offer.price))) {
		err_clear(e);
		return err_set(e, ERR_INVALID,
			       "offers[%zu].price: expected a decimal string", idx);
	}
	if (plan_json_get_str(&po->offer.status_category, o, "stock", false, e) ||
	    (po->offer.status_category && strlen(po->offer.status_category) > 32)) {
		err_clear(e);
		return err_set(e, ERR_INVALID,
			       "offers[%zu].stock: expected a short string", idx);
	}
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "cpu")) && cJSON_IsNumber(n))
		po->offer.cpu = n->valueint;
	if ((n = cJSON_GetObjectItemCaseSensitive(o, "memory_gb")) && cJSON_IsNumber(n))
		po->offer.memory_gb = n->valueint;
	return 0;
}

int plan_observed_from_json(struct plan_observed *out, const char *data, size_t len,
			    struct err *e)
{
	cJSON *root = cJSON_ParseWithLength(data, len);
	const cJSON *v, *arr, *it;
	int error = 0;
	size_t idx;

	if (!root)
		return err_set(e, ERR_INVALID, "observed snapshot is not valid JSON");
	if (!cJSON_IsObject(root)) {
		error = err_set(e, ERR_INVALID, "observed snapshot is not a JSON object");
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	if (!cJSON_IsString(v)) {
		error = err_set(e, ERR_INVALID,
				"observed snapshot has no 'format_version'");
		goto done;
	}
	if (strcmp(v->valuestring, PLAN_OBSERVED_FORMAT_VERSION)) {
		error = err_set(e, ERR_INVALID,
				"unsupported observed snapshot format_version '%s'",
				v->valuestring);
		goto done;
	}
	if ((error = plan_json_get_str(&out->observed_at, root, "observed_at", false, e)))
		goto done;

	arr = cJSON_GetObjectItemCaseSensitive(root, "regions");
	if (arr && !cJSON_IsArray(arr)) {
		error = err_set(e, ERR_INVALID, "'regions': expected an array");
		goto done;
	}
	cJSON_ArrayForEach (it, arr) {
		if (!cJSON_IsString(it)) {
			error = err_set(e, ERR_INVALID, "'regions': expected strings");
			goto done;
		}
		plan_observed_add_region(out, it->valuestring);
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "incomplete_regions");
	if (arr && !cJSON_IsArray(arr)) {
		error = err_set(e, ERR_INVALID,
				"'incomplete_regions': expected an array");
		goto done;
	}
	cJSON_ArrayForEach (it, arr) {
		if (!cJSON_IsString(it)) {
			error = err_set(e, ERR_INVALID,
					"'incomplete_regions': expected strings");
			goto done;
		}
		plan_observed_mark_incomplete(out, it->valuestring);
	}

	arr = cJSON_GetObjectItemCaseSensitive(root, "instances");
	if (!cJSON_IsArray(arr)) {
		error = err_set(e, ERR_INVALID, "'instances': expected an array");
		goto done;
	}
	idx = 0;
	cJSON_ArrayForEach (it, arr) {
		struct tc_instance_list *l = &out->instances;

		ALLOC_GROW(l->v, l->n + 1, l->alloc);
		memset(&l->v[l->n], 0, sizeof(l->v[0]));
		l->n++;
		if ((error = plan_read_instance(&l->v[l->n - 1], it, idx++, e)))
			goto done;
		plan_observed_add_region(out, l->v[l->n - 1].region);
	}

	arr = cJSON_GetObjectItemCaseSensitive(root, "offers");
	if (arr && !cJSON_IsArray(arr)) {
		error = err_set(e, ERR_INVALID, "'offers': expected an array");
		goto done;
	}
	idx = 0;
	cJSON_ArrayForEach (it, arr) {
		ALLOC_GROW(out->offers, out->noffers + 1, out->offers_alloc);
		memset(&out->offers[out->noffers], 0, sizeof(out->offers[0]));
		out->noffers++;
		if ((error = plan_read_offer(&out->offers[out->noffers - 1], it, idx++,
					     e)))
			goto done;
	}

done:
	cJSON_Delete(root);
	if (error)
		plan_observed_clear(out);
	return error;
}
