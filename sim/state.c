/*
 * state.c - the world as JSON: /_sim/state, /_sim/stats, /_sim/faults and
 * the state file (the same document as /_sim/state).
 *
 * State document:
 *	{"version":1,"now":MS,
 *	 "pools":[{"region","zone","instanceType","stock","price","cpu","memory","spot"}],
 *	 "faults":{...},
 *	 "instances":[{"id","name","region","zone","instanceType","state","image",
 *	               "chargeType","tags":{K:V},"createdMs","runningMs","tagsMs",
 *	               "leaveMs","goneMs","reclaimed","launchFailed","protected",
 *	               "operation","operationUntilMs","vpcId","subnetId",
 *	               "securityGroupIds","keyIds","diskType","diskSize",
 *	               "bandwidth","privateIp","uuid","requestId"}],
 *	 "stats":{...}}
 * Loading restores pools (by zone and type), faults and instances; ClientTokens
 * are not saved.
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "sim_int.h"

cJSON *sim_faults_json(const struct sim_faults *f)
{
	cJSON *j = cJSON_CreateObject(), *r;

	cJSON_AddNumberToObject(j, "latencyMs", (double)f->latency_ms);
	cJSON_AddNumberToObject(j, "pendingMs", (double)f->pending_ms);
	cJSON_AddNumberToObject(j, "terminatingMs", (double)f->terminating_ms);
	cJSON_AddNumberToObject(j, "tagLagMs", (double)f->tag_lag_ms);
	cJSON_AddNumberToObject(j, "internalErrorRate", f->internal_error_rate);
	cJSON_AddNumberToObject(j, "dropAfterCommitRate", f->drop_after_commit_rate);
	cJSON_AddNumberToObject(j, "reclaimPerMinute", f->reclaim_per_minute);
	cJSON_AddNumberToObject(j, "launchFailRate", f->launch_fail_rate);
	cJSON_AddNumberToObject(j, "launchFailedTtlMs", (double)f->launch_failed_ttl_ms);
	cJSON_AddNumberToObject(j, "spotQuotaVcpu", (double)f->spot_quota_vcpu);
	cJSON_AddNumberToObject(j, "operationInProgressRate",
				f->operation_in_progress_rate);
	cJSON_AddBoolToObject(j, "insufficientBalance", f->insufficient_balance);
	cJSON_AddBoolToObject(j, "accountQuotaUnsupported", f->account_quota_unsupported);
	cJSON_AddBoolToObject(j, "rateLimits", f->rate_limits);
	r = cJSON_AddObjectToObject(j, "rates");
	for (int a = 0; a < SIM_ACT_COUNT; a++)
		cJSON_AddNumberToObject(r, sim_action_names[a], f->rate[a]);
	return j;
}

static int get_ms(const cJSON *v, const char *key, int64_t *out, struct err *e)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400000.0 * 365)
		return err_set(e, ERR_INVALID,
			       "'%s' must be a number of milliseconds >= 0", key);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int get_bool(const cJSON *v, const char *key, bool *out, struct err *e)
{
	if (!cJSON_IsBool(v))
		return err_set(e, ERR_INVALID, "'%s' must be true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* A whole number of vCPUs, 0 (unlimited) to 10,000,000. */
static int get_vcpu(const cJSON *v, const char *key, int64_t *out, struct err *e)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e7) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return err_set(e, ERR_INVALID,
			       "'%s' must be a whole number of vCPUs >= 0", key);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int get_rate(const cJSON *v, const char *key, double max, double *out,
		    struct err *e)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > max)
		return err_set(e, ERR_INVALID, "'%s' must be a number from 0 to %g", key,
			       max);
	*out = v->valuedouble;
	return 0;
}

/* Validate everything first, then apply (a bad request changes nothing). */
int sim_faults_apply_json(struct sim_faults *f, const cJSON *obj, struct err *e)
{
	struct sim_faults n = *f;
	const cJSON *v;
	int error = 0;

	if (!cJSON_IsObject(obj))
		return err_set(e, ERR_INVALID, "faults must be a JSON object");
	cJSON_ArrayForEach (v, obj) {
		const char *k = v->string ? v->string : "";

		if (!strcmp(k, "latencyMs"))
			error = get_ms(v, k, &n.latency_ms, e);
		else if (!strcmp(k, "pendingMs"))
			error = get_ms(v, k, &n.pending_ms, e);
		else if (!strcmp(k, "terminatingMs"))
			error = get_ms(v, k, &n.terminating_ms, e);
		else if (!strcmp(k, "tagLagMs"))
			error = get_ms(v, k, &n.tag_lag_ms, e);
		else if (!strcmp(k, "internalErrorRate"))
			error = get_rate(v, k, 1, &n.internal_error_rate, e);
		else if (!strcmp(k, "dropAfterCommitRate"))
			error = get_rate(v, k, 1, &n.drop_after_commit_rate, e);
		else if (!strcmp(k, "launchFailRate"))
			error = get_rate(v, k, 1, &n.launch_fail_rate, e);
		else if (!strcmp(k, "reclaimPerMinute"))
			error = get_rate(v, k, 1e6, &n.reclaim_per_minute, e);
		else if (!strcmp(k, "launchFailedTtlMs"))
			error = get_ms(v, k, &n.launch_failed_ttl_ms, e);
		else if (!strcmp(k, "spotQuotaVcpu"))
			error = get_vcpu(v, k, &n.spot_quota_vcpu, e);
		else if (!strcmp(k, "operationInProgressRate"))
			error = get_rate(v, k, 1, &n.operation_in_progress_rate, e);
		else if (!strcmp(k, "insufficientBalance"))
			error = get_bool(v, k, &n.insufficient_balance, e);
		else if (!strcmp(k, "accountQuotaUnsupported"))
			error = get_bool(v, k, &n.account_quota_unsupported, e);
		else if (!strcmp(k, "rateLimits"))
			error = get_bool(v, k, &n.rate_limits, e);
		else if (!strcmp(k, "rates")) {
			const cJSON *r;

			if (!cJSON_IsObject(v))
				return err_set(e, ERR_INVALID,
					       "'rates' must be an object");
			cJSON_ArrayForEach (r, v) {
				int a;

				for (a = 0; a < SIM_ACT_COUNT; a++)
					if (!strcmp(r->string, sim_action_names[a]))
						break;
				if (a == SIM_ACT_COUNT)
					error = err_set(e, ERR_INVALID,
							"unknown action '%s' in 'rates'",
							r->string);
				else if (!cJSON_IsNumber(r) || r->valuedouble < 0 ||
					 r->valuedouble > 1000000)
					error = err_set(
						e, ERR_INVALID,
						"'rates.%s' must be a number of requests per second",
						r->string);
				else
					n.rate[a] = (int)r->valuedouble;
				if (error)
					return error;
			}
		} else {
			error = err_set(e, ERR_INVALID, "unknown fault '%s'", k);
		}
		if (error)
			return error;
	}
	*f = n;
	return 0;
}

cJSON *sim_pool_json(const struct sim *s, const struct sim_pool *p)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "region", s->regions[s->zones[p->zone].region].name);
	cJSON_AddStringToObject(j, "zone", s->zones[p->zone].name);
	cJSON_AddStringToObject(j, "instanceType", p->type);
	cJSON_AddNumberToObject(j, "stock", (double)p->stock);
	cJSON_AddStringToObject(j, "price", p->price);
	cJSON_AddNumberToObject(j, "cpu", p->cpu);
	cJSON_AddNumberToObject(j, "memory", p->memory);
	cJSON_AddBoolToObject(j, "spot", p->spot);
	return j;
}

/*
 * The counters of each region, beside the totals: {"REGION": {"requests":
 * {ACTION: n, ...}, "errors": {CODE: n, ...}}} for the requests that named
 * a known region (the rate limits count per region).
 */
static void sim_stats_regions_json(struct sim *s, cJSON *by)
{
	for (size_t i = 0; i < s->nregions; i++) {
		const struct sim_region_stats *st = &s->regions[i].stats;
		cJSON *o = cJSON_AddObjectToObject(by, s->regions[i].name);
		cJSON *r = cJSON_AddObjectToObject(o, "requests");
		cJSON *er = cJSON_AddObjectToObject(o, "errors");

		for (int a = 0; a < SIM_ACT_COUNT; a++)
			cJSON_AddNumberToObject(r, sim_action_names[a],
						(double)st->requests[a]);
		if (st->requests[SIM_ACT_OTHER])
			cJSON_AddNumberToObject(r, "other",
						(double)st->requests[SIM_ACT_OTHER]);
		for (size_t k = 0; k < st->nerrors; k++)
			cJSON_AddNumberToObject(er, st->errors[k].code,
						(double)st->errors[k].n);
	}
}

cJSON *sim_stats_json(struct sim *s)
{
	cJSON *j = cJSON_CreateObject(), *r, *er;
	uint64_t total = 0, errors = 0;

	r = cJSON_AddObjectToObject(j, "requests");
	for (int a = 0; a < SIM_ACT_COUNT; a++) {
		cJSON_AddNumberToObject(r, sim_action_names[a],
					(double)s->stats.requests[a]);
		total += s->stats.requests[a];
	}
	if (s->stats.requests[SIM_ACT_OTHER])
		cJSON_AddNumberToObject(r, "other",
					(double)s->stats.requests[SIM_ACT_OTHER]);
	total += s->stats.requests[SIM_ACT_OTHER];
	er = cJSON_AddObjectToObject(j, "errors");
	for (size_t i = 0; i < s->stats.nerrors; i++) {
		cJSON_AddNumberToObject(er, s->stats.errors[i].code,
					(double)s->stats.errors[i].n);
		errors += s->stats.errors[i].n;
	}
	cJSON_AddNumberToObject(j, "launched", (double)s->stats.launched);
	cJSON_AddNumberToObject(j, "terminated", (double)s->stats.terminated);
	cJSON_AddNumberToObject(j, "reclaimed", (double)s->stats.reclaimed);
	cJSON_AddNumberToObject(j, "instances", (double)s->ninstances);
	cJSON_AddNumberToObject(j, "leaving", (double)s->nleaving);
	cJSON_AddNumberToObject(j, "dropped", (double)s->stats.dropped);
	cJSON_AddNumberToObject(j, "launchFailedRemoved",
				(double)s->stats.failed_removed);
	cJSON_AddNumberToObject(j, "totalRequests", (double)total);
	cJSON_AddNumberToObject(j, "totalErrors", (double)errors);
	cJSON_AddNumberToObject(j, "clientTokens", (double)s->ntokens);
	sim_stats_regions_json(s, cJSON_AddObjectToObject(j, "byRegion"));
	return j;
}

static cJSON *str_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void add_str(cJSON *j, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(j, k, v);
}

cJSON *sim_state_json(struct sim *s, int64_t now)
{
	cJSON *j = cJSON_CreateObject(), *pools, *insts;

	cJSON_AddNumberToObject(j, "version", 1);
	cJSON_AddNumberToObject(j, "now", (double)now);
	pools = cJSON_AddArrayToObject(j, "pools");
	for (size_t i = 0; i < s->npools; i++)
		cJSON_AddItemToArray(pools, sim_pool_json(s, &s->pools[i]));
	cJSON_AddItemToObject(j, "faults", sim_faults_json(&s->faults));
	insts = cJSON_AddArrayToObject(j, "instances");
	for (size_t i = 0; i < s->nlist; i++) {
		const struct sim_instance *in = s->list[i];
		const struct sim_pool *p;
		cJSON *o, *tags;

		if (!in)
			continue;
		p = &s->pools[in->pool];
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", in->id);
		add_str(o, "name", in->name);
		cJSON_AddStringToObject(o, "region",
					s->regions[s->zones[p->zone].region].name);
		cJSON_AddStringToObject(o, "zone", s->zones[p->zone].name);
		cJSON_AddStringToObject(o, "instanceType", p->type);
		cJSON_AddStringToObject(o, "state", sim_instance_state(in, now));
		add_str(o, "image", in->image);
		cJSON_AddStringToObject(o, "chargeType",
					in->spot ? "SPOTPAID" : "POSTPAID_BY_HOUR");
		tags = cJSON_AddObjectToObject(o, "tags");
		for (size_t t = 0; t < in->ntags; t++)
			cJSON_AddStringToObject(tags, in->tags[t].key, in->tags[t].value);
		cJSON_AddNumberToObject(o, "createdMs", (double)in->created_ms);
		cJSON_AddNumberToObject(o, "runningMs", (double)in->running_ms);
		cJSON_AddNumberToObject(o, "tagsMs", (double)in->tags_ms);
		cJSON_AddNumberToObject(o, "leaveMs", (double)in->leave_ms);
		cJSON_AddNumberToObject(o, "goneMs", (double)in->gone_ms);
		cJSON_AddBoolToObject(o, "reclaimed", in->reclaimed);
		cJSON_AddBoolToObject(o, "launchFailed", in->launch_failed);
		cJSON_AddBoolToObject(o, "protected", in->protect);
		if (in->op != SIM_OP_NONE) {
			static const char *const ops[] = { "", "reboot", "stop",
							   "start" };

			cJSON_AddStringToObject(o, "operation", ops[in->op]);
			cJSON_AddNumberToObject(o, "operationUntilMs",
						(double)in->op_until_ms);
		}
		add_str(o, "vpcId", in->vpc_id);
		add_str(o, "subnetId", in->subnet_id);
		cJSON_AddItemToObject(o, "securityGroupIds",
				      str_array(in->sgs, in->nsgs));
		cJSON_AddItemToObject(o, "keyIds", str_array(in->key_ids, in->nkey_ids));
		add_str(o, "diskType", in->disk_type);
		cJSON_AddNumberToObject(o, "diskSize", in->disk_size);
		cJSON_AddNumberToObject(o, "bandwidth", in->bandwidth);
		cJSON_AddStringToObject(o, "privateIp", in->private_ip);
		cJSON_AddStringToObject(o, "uuid", in->uuid);
		cJSON_AddStringToObject(o, "requestId", in->request_id);
		cJSON_AddItemToArray(insts, o);
	}
	cJSON_AddItemToObject(j, "stats", sim_stats_json(s));
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v) || !(v->valuedouble > -9e15 && v->valuedouble < 9e15))
		return 0;
	return (int64_t)v->valuedouble;
}

static char **jstrs(const cJSON *o, const char *k, size_t *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k), *v;
	char **out = NULL;

	*n = 0;
	if (!cJSON_IsArray(a))
		return NULL;
	out = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*out));
	cJSON_ArrayForEach (v, a)
		if (cJSON_IsString(v))
			out[(*n)++] = xstrdup(v->valuestring);
	return out;
}

static void copy_fixed(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int sim_state_load_json(struct sim *s, const cJSON *root, struct err *e)
{
	const cJSON *pools, *insts, *v, *faults;

	if (!cJSON_IsObject(root) || jnum(root, "version") != 1)
		return err_set(e, ERR_INVALID,
			       "not a spotenv sim state document (version 1)");
	pools = cJSON_GetObjectItemCaseSensitive(root, "pools");
	cJSON_ArrayForEach (v, pools) {
		int zone = sim_find_zone(s, jstr(v, "zone")), p;
		const char *price = jstr(v, "price");

		if (zone < 0 || (p = sim_find_pool(s, zone, jstr(v, "instanceType"))) < 0)
			continue; /* the world file changed: keep its pools */
		s->pools[p].stock = jnum(v, "stock");
		if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(v, "spot")))
			s->pools[p].spot =
				cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "spot"));
		if (price && dec_valid(price) && strlen(price) < SIM_PRICE_MAX)
			copy_fixed(s->pools[p].price, sizeof(s->pools[p].price), price);
	}
	faults = cJSON_GetObjectItemCaseSensitive(root, "faults");
	if (faults) {
		struct err fe = ERR_INIT;

		/* a state file's faults only apply when valid */
		sim_faults_apply_json(&s->faults, faults, &fe);
		err_clear(&fe);
	}
	insts = cJSON_GetObjectItemCaseSensitive(root, "instances");
	cJSON_ArrayForEach (v, insts) {
		const char *id = jstr(v, "id"), *chg = jstr(v, "chargeType");
		int zone = sim_find_zone(s, jstr(v, "zone")), p;
		struct sim_instance *in;
		const cJSON *tags, *t;

		if (!id || strlen(id) != 12 || strncmp(id, "ins-", 4) || zone < 0 ||
		    (p = sim_find_pool(s, zone, jstr(v, "instanceType"))) < 0)
			continue;
		in = xcalloc(1, sizeof(*in));
		copy_fixed(in->id, sizeof(in->id), id);
		in->pool = p;
		in->name = sim_strdup_or_null(jstr(v, "name"));
		in->image = sim_strdup_or_null(jstr(v, "image"));
		in->spot = !chg || !strcmp(chg, "SPOTPAID");
		tags = cJSON_GetObjectItemCaseSensitive(v, "tags");
		in->tags =
			xcalloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(*in->tags));
		cJSON_ArrayForEach (t, tags) {
			if (!cJSON_IsObject(tags) || !t->string || !cJSON_IsString(t))
				continue;
			in->tags[in->ntags].key = xstrdup(t->string);
			in->tags[in->ntags].value = xstrdup(t->valuestring);
			in->ntags++;
		}
		in->created_ms = jnum(v, "createdMs");
		in->running_ms = jnum(v, "runningMs");
		in->tags_ms = jnum(v, "tagsMs");
		in->protect =
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "protected"));
		{
			const char *op = jstr(v, "operation");

			in->op = !op			 ? SIM_OP_NONE
				 : !strcmp(op, "reboot") ? SIM_OP_REBOOT
				 : !strcmp(op, "stop")	 ? SIM_OP_STOP
				 : !strcmp(op, "start")	 ? SIM_OP_START
							 : SIM_OP_NONE;
			in->op_until_ms = jnum(v, "operationUntilMs");
		}
		in->vpc_id = sim_strdup_or_null(jstr(v, "vpcId"));
		in->subnet_id = sim_strdup_or_null(jstr(v, "subnetId"));
		in->sgs = jstrs(v, "securityGroupIds", &in->nsgs);
		in->key_ids = jstrs(v, "keyIds", &in->nkey_ids);
		in->disk_type = sim_strdup_or_null(jstr(v, "diskType"));
		in->disk_size = (int)jnum(v, "diskSize");
		in->bandwidth = (int)jnum(v, "bandwidth");
		copy_fixed(in->private_ip, sizeof(in->private_ip), jstr(v, "privateIp"));
		copy_fixed(in->uuid, sizeof(in->uuid), jstr(v, "uuid"));
		copy_fixed(in->request_id, sizeof(in->request_id), jstr(v, "requestId"));
		if (!sim_instance_insert(s, in)) {
			sim_instance_free(in);
			continue;
		}
		if (jnum(v, "leaveMs") > 0) {
			in->launch_failed = cJSON_IsTrue(
				cJSON_GetObjectItemCaseSensitive(v, "launchFailed"));
			sim_instance_leave(s, in,
					   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
						   v, "reclaimed")),
					   jnum(v, "leaveMs"));
			in->gone_ms = jnum(v, "goneMs");
		} else if (cJSON_IsTrue(
				   cJSON_GetObjectItemCaseSensitive(v, "launchFailed"))) {
			/* removed at goneMs (older state files: running + today's TTL) */
			in->gone_ms = jnum(v, "goneMs");
			sim_instance_will_fail(s, in);
		}
	}
	return 0;
}
