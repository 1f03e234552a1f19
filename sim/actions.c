/*
 * actions.c - the CVM actions of the emulator, with the request shapes,
 * limits and error codes of the real service (tencent-api.md sections 3-6
 * and 12), as strict as the documents and, where they are silent, the
 * strictest reasonable reading (docs/sim.md, "Strictness").
 *
 * Each action reads c->req (the parsed request body), and either fills
 * c->resp with the fields of "Response" (the caller adds RequestId) or
 * fails with an API error code and message.  A request that fails changes
 * nothing.
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "sim_int.h"

int sim_call_fail(struct sim_call *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (c->code)
		return -1;
	c->code = code;
	va_start(ap, fmt);
	c->message = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

/* Fail with UnknownParameter on any key of obj not in known. */
static int check_known(struct sim_call *c, const cJSON *obj, const char *const *known)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, obj) {
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = !strcmp(*k, v->string);
		if (!ok)
			return sim_call_fail(c, "UnknownParameter",
					     "The parameter `%s` is not recognized",
					     v->string);
	}
	return 0;
}

static const cJSON *field(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* Optional string field: NULL when absent; fails on the wrong type. */
static int opt_str(struct sim_call *c, const cJSON *obj, const char *name,
		   const char **out)
{
	const cJSON *v = field(obj, name);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `%s` must be a string", name);
	*out = v->valuestring;
	return 0;
}

static int req_str(struct sim_call *c, const cJSON *obj, const char *name,
		   const char *shown, const char **out)
{
	if (opt_str(c, obj, name, out) < 0)
		return -1;
	if (!*out)
		return sim_call_fail(c, "MissingParameter",
				     "The parameter `%s` is missing",
				     shown ? shown : name);
	return 0;
}

/* Optional integer field in [min, max]; *out untouched when absent. */
static int opt_int(struct sim_call *c, const cJSON *obj, const char *name, int64_t min,
		   int64_t max, const char *range_code, int64_t *out)
{
	const cJSON *v = field(obj, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `%s` must be an integer", name);
	if (!(v->valuedouble >= (double)min && v->valuedouble <= (double)max))
		return sim_call_fail(c, range_code,
				     "The value of `%s` must be from %" PRId64
				     " to %" PRId64,
				     name, min, max);
	/* in range, so the cast is defined */
	if (v->valuedouble != (double)(int64_t)v->valuedouble)
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `%s` must be an integer", name);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int opt_bool(struct sim_call *c, const cJSON *obj, const char *name, bool *out)
{
	const cJSON *v = field(obj, name);

	*out = false;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `%s` must be a boolean", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* Optional array of strings; *n = 0 when absent.  Borrowed pointers into out. */
static int opt_strs(struct sim_call *c, const cJSON *obj, const char *name, size_t max,
		    const char *max_code, const char ***out, size_t *n)
{
	const cJSON *a = field(obj, name), *v;

	*out = NULL;
	*n = 0;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `%s` must be an array", name);
	if ((size_t)cJSON_GetArraySize(a) > max)
		return sim_call_fail(c, max_code,
				     "The parameter `%s` has more than %zu elements",
				     name, max);
	*out = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(char *));
	cJSON_ArrayForEach (v, a) {
		if (!cJSON_IsString(v)) {
			free(*out);
			*out = NULL;
			*n = 0;
			return sim_call_fail(c, "InvalidParameter",
					     "The elements of `%s` must be strings",
					     name);
		}
		(*out)[(*n)++] = v->valuestring;
	}
	return 0;
}

static bool id_shape(const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (strncmp(s, prefix, pl) || strlen(s) != pl + 8)
		return false;
	for (s += pl; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
			return false;
	return true;
}

static bool in_region(const struct sim_call *c, const struct sim_instance *in)
{
	return c->s->zones[c->s->pools[in->pool].zone].region == c->region_index;
}

/* ------------------------------------------------------------------ */
/* DescribeInstances */

enum dfilter_kind {
	DF_ZONE,
	DF_INSTANCE_ID,
	DF_INSTANCE_STATE,
	DF_CHARGE_TYPE,
	DF_INSTANCE_NAME,
	DF_INSTANCE_TYPE,
	DF_PROJECT_ID,
	DF_VPC_ID,
	DF_SUBNET_ID,
	DF_SG_ID,
	DF_UUID,
	DF_PRIVATE_IP,
	DF_TAG_KEY,
	DF_TAG_VALUE,
	DF_TAG,
};

static const struct {
	const char *name;
	enum dfilter_kind kind;
} dfilter_names[] = {
	{ "zone", DF_ZONE },
	{ "instance-id", DF_INSTANCE_ID },
	{ "instance-state", DF_INSTANCE_STATE },
	{ "instance-charge-type", DF_CHARGE_TYPE },
	{ "instance-name", DF_INSTANCE_NAME },
	{ "instance-type", DF_INSTANCE_TYPE },
	{ "project-id", DF_PROJECT_ID },
	{ "vpc-id", DF_VPC_ID },
	{ "subnet-id", DF_SUBNET_ID },
	{ "security-group-id", DF_SG_ID },
	{ "uuid", DF_UUID },
	{ "private-ip-address", DF_PRIVATE_IP },
	{ "tag-key", DF_TAG_KEY },
	{ "tag-value", DF_TAG_VALUE },
};

struct dfilter {
	enum dfilter_kind kind;
	const char *tag;     /* DF_TAG: the key after "tag:" */
	const char **values; /* borrowed from the request */
	size_t n;
};

static bool any_eq(const struct dfilter *f, const char *v)
{
	for (size_t i = 0; v && i < f->n; i++)
		if (!strcmp(f->values[i], v))
			return true;
	return false;
}

static bool match_filter(struct sim_call *c, const struct sim_instance *in,
			 const struct dfilter *f)
{
	const struct sim_pool *p = &c->s->pools[in->pool];
	bool tags_visible = c->now >= in->tags_ms;

	switch (f->kind) {
	case DF_ZONE:
		return any_eq(f, c->s->zones[p->zone].name);
	case DF_INSTANCE_ID:
		return any_eq(f, in->id);
	case DF_INSTANCE_STATE:
		return any_eq(f, sim_instance_state(in, c->now));
	case DF_CHARGE_TYPE:
		return any_eq(f, in->spot ? "SPOTPAID" : "POSTPAID_BY_HOUR");
	case DF_INSTANCE_NAME:
		return any_eq(f, in->name);
	case DF_INSTANCE_TYPE:
		return any_eq(f, p->type);
	case DF_PROJECT_ID:
		return any_eq(f, "0");
	case DF_VPC_ID:
		return any_eq(f, in->vpc_id);
	case DF_SUBNET_ID:
		return any_eq(f, in->subnet_id);
	case DF_SG_ID:
		for (size_t i = 0; i < in->nsgs; i++)
			if (any_eq(f, in->sgs[i]))
				return true;
		return false;
	case DF_UUID:
		return any_eq(f, in->uuid);
	case DF_PRIVATE_IP:
		return any_eq(f, in->private_ip);
	case DF_TAG_KEY:
		for (size_t i = 0; tags_visible && i < in->ntags; i++)
			if (any_eq(f, in->tags[i].key))
				return true;
		return false;
	case DF_TAG_VALUE:
		for (size_t i = 0; tags_visible && i < in->ntags; i++)
			if (any_eq(f, in->tags[i].value))
				return true;
		return false;
	case DF_TAG:
		for (size_t i = 0; tags_visible && i < in->ntags; i++)
			if (!strcmp(in->tags[i].key, f->tag) &&
			    any_eq(f, in->tags[i].value))
				return true;
		return false;
	}
	return false;
}

static void created_time(char out[32], int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

/*
 * An integer member, as raw text: cJSON prints every number through
 * "%1.15g" and reads it back.
 */
static void add_int(cJSON *o, const char *name, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, v);
	cJSON_AddRawToObject(o, name, text);
}

/* s as a JSON string (the text writers of instance_json). */
static void put_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15] };

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_put(b, run, (size_t)(s - run));
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			buf_put(b, esc, 2);
		} else {
			buf_put(b, esc, sizeof(esc));
		}
		run = s + 1;
	}
	buf_put(b, run, (size_t)(s - run));
	buf_putc(b, '"');
}

/* ,"key": (key is a literal of ours) */
static void put_key(struct buf *b, const char *key)
{
	buf_puts(b, ",\"");
	buf_puts(b, key);
	buf_puts(b, "\":");
}

/* ,"key":"value" */
static void put_member(struct buf *b, const char *key, const char *value)
{
	put_key(b, key);
	put_str(b, value);
}

/* ,"key":N */
static void put_int(struct buf *b, const char *key, int v)
{
	char text[16];

	put_key(b, key);
	buf_put(b, text, (size_t)snprintf(text, sizeof(text), "%d", v));
}

static void put_strs(struct buf *b, char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, v[i]);
	}
	buf_putc(b, ']');
}

/*
 * A realistic Instance object (tencent-api.md section 4), written as text:
 * a page holds 100 of them, and a tree of 40 nodes each, printed, was
 * most of the emulator's time for a listing.
 */
static cJSON *instance_json(struct sim_call *c, const struct sim_instance *in)
{
	const struct sim_pool *p = &c->s->pools[in->pool];
	const char *state = sim_instance_state(in, c->now);
	struct buf b;
	cJSON *o;
	char created[32];
	bool pending = !strcmp(state, "PENDING"), leaving = in->leave_ms != 0;
	bool operating = !leaving && !pending && !in->launch_failed &&
			 in->op != SIM_OP_NONE && c->now < in->op_until_ms;
	bool failed = !strcmp(state, "LAUNCH_FAILED");
	static const char *const op_names[] = {
		[SIM_OP_NONE] = "RunInstances",
		[SIM_OP_REBOOT] = "RebootInstances",
		[SIM_OP_STOP] = "StopInstances",
		[SIM_OP_START] = "StartInstances",
	};

	buf_init(&b, 0);
	buf_reserve(&b, 2048);
	created_time(created, in->created_ms);
	buf_puts(&b, "{\"Placement\":{\"Zone\":");
	put_str(&b, c->s->zones[p->zone].name);
	buf_puts(&b, ",\"ProjectId\":0,\"HostIds\":null}");
	put_member(&b, "InstanceId", in->id);
	put_member(&b, "Uuid", in->uuid);
	put_member(&b, "InstanceState", state);
	put_member(&b, "InstanceType", p->type);
	put_int(&b, "CPU", p->cpu);
	put_int(&b, "Memory", p->memory);
	put_member(&b, "RestrictState", "NORMAL");
	put_member(&b, "InstanceName", in->name ? in->name : "");
	put_member(&b, "InstanceChargeType", in->spot ? "SPOTPAID" : "POSTPAID_BY_HOUR");
	buf_puts(&b, ",\"SystemDisk\":{\"DiskType\":");
	put_str(&b, in->disk_type ? in->disk_type : "CLOUD_PREMIUM");
	buf_puts(&b, ",\"DiskId\":\"disk-sim\"");
	put_int(&b, "DiskSize", in->disk_size ? in->disk_size : 50);
	buf_puts(&b, "},\"DataDisks\":null");
	buf_puts(&b, ",\"PrivateIpAddresses\":[");
	put_str(&b, in->private_ip);
	buf_puts(&b, "],\"PublicIpAddresses\":null,\"InternetAccessible\":{"
		     "\"InternetChargeType\":\"TRAFFIC_POSTPAID_BY_HOUR\"");
	put_int(&b, "InternetMaxBandwidthOut", in->bandwidth);
	buf_puts(&b, "},\"VirtualPrivateCloud\":{\"VpcId\":");
	put_str(&b, in->vpc_id ? in->vpc_id : "vpc-default");
	put_member(&b, "SubnetId", in->subnet_id ? in->subnet_id : "subnet-default");
	buf_puts(&b, ",\"AsVpcGateway\":false}");
	put_member(&b, "ImageId", in->image ? in->image : "");
	put_member(&b, "OsName", "TencentOS Server 3.1 (TK4)");
	buf_puts(&b, ",\"SecurityGroupIds\":");
	put_strs(&b, in->sgs, in->nsgs);
	buf_puts(&b, ",\"LoginSettings\":{\"KeyIds\":");
	put_strs(&b, in->key_ids, in->nkey_ids);
	buf_putc(&b, '}');
	put_member(&b, "CreatedTime", created);
	buf_puts(&b, ",\"ExpiredTime\":null,\"Tags\":[");
	if (c->now >= in->tags_ms)
		for (size_t i = 0; i < in->ntags; i++) {
			buf_puts(&b, i ? ",{\"Key\":" : "{\"Key\":");
			put_str(&b, in->tags[i].key);
			put_member(&b, "Value", in->tags[i].value);
			buf_putc(&b, '}');
		}
	buf_putc(&b, ']');
	put_member(&b, "StopChargingMode", "NOT_APPLICABLE");
	put_member(&b, "LatestOperation",
		   leaving ? "TerminateInstances" : op_names[in->op]);
	put_member(&b, "LatestOperationState",
		   pending || leaving || operating ? "OPERATING"
		   : failed			   ? "FAILED"
						   : "SUCCESS");
	put_member(&b, "LatestOperationRequestId", in->request_id);
	if (failed)
		put_member(&b, "LatestOperationErrorMsg",
			   "launch failed (injected by spotenv sim)");
	else
		buf_puts(&b, ",\"LatestOperationErrorMsg\":null");
	put_member(&b, "IsolatedSource", "NOTISOLATED");
	put_key(&b, "DisableApiTermination");
	buf_puts(&b, in->protect ? "true" : "false");
	put_member(&b, "DefaultLoginUser", "root");
	buf_puts(&b, ",\"DefaultLoginPort\":22}");
	o = cJSON_CreateRaw(buf_str(&b));
	buf_release(&b);
	return o;
}

static int parse_dfilters(struct sim_call *c, const cJSON *fs, struct dfilter *out,
			  size_t *nout)
{
	const cJSON *f;

	*nout = 0;
	if (!fs || cJSON_IsNull(fs))
		return 0;
	if (!cJSON_IsArray(fs))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `Filters` must be an array");
	if (cJSON_GetArraySize(fs) > 10)
		return sim_call_fail(c, "InvalidParameterValue.LimitExceeded",
				     "At most 10 `Filters` may be given");
	cJSON_ArrayForEach (f, fs) {
		static const char *const known[] = { "Name", "Values", NULL };
		struct dfilter *d = &out[*nout];
		const char *name;
		size_t i;

		if (!cJSON_IsObject(f))
			return sim_call_fail(c, "InvalidParameter",
					     "The elements of `Filters` must be objects");
		if (check_known(c, f, known) < 0 ||
		    req_str(c, f, "Name", "Filters.N.Name", &name) < 0)
			return -1;
		memset(d, 0, sizeof(*d));
		for (i = 0; i < ARRAY_SIZE(dfilter_names); i++)
			if (!strcmp(dfilter_names[i].name, name))
				break;
		if (i < ARRAY_SIZE(dfilter_names)) {
			d->kind = dfilter_names[i].kind;
		} else if (!strncmp(name, "tag:", 4) && name[4]) {
			d->kind = DF_TAG;
			d->tag = name + 4;
		} else {
			return sim_call_fail(c, "InvalidFilter",
					     "The filter `%s` is not supported", name);
		}
		if (!field(f, "Values"))
			return sim_call_fail(
				c, "MissingParameter",
				"The parameter `Filters.N.Values` is missing");
		(*nout)++; /* counted before opt_strs so the values get freed */
		if (opt_strs(c, f, "Values", 5, "InvalidFilterValue.LimitExceeded",
			     &d->values, &d->n) < 0)
			return -1;
		if (d->n == 0)
			return sim_call_fail(c, "InvalidParameterValue",
					     "The filter `%s` needs at least one value",
					     name);
		if (d->kind == DF_ZONE)
			for (size_t v = 0; v < d->n; v++) {
				int z = sim_find_zone(c->s, d->values[v]);

				if (z < 0 ||
				    strcmp(c->s->regions[c->s->zones[z].region].name,
					   c->region))
					return sim_call_fail(
						c, "InvalidZone.MismatchRegion",
						"The zone `%s` does not exist in `%s`",
						d->values[v], c->region);
			}
	}
	return 0;
}

void sim_listing_release(struct sim *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->listing); i++) {
		free(s->listing[i].key);
		free(s->listing[i].v);
	}
	memset(s->listing, 0, sizeof(s->listing));
	s->listing_uses = 0;
}

/*
 * The instances of c's region that pass every filter, in creation order:
 * a kept listing when it is still exact (see struct sim_listing), else a
 * new scan, kept for the next page in place of the least recently used.
 */
static const struct sim_listing *listing_get(struct sim_call *c, const struct dfilter *f,
					     size_t nf)
{
	struct sim *s = c->s;
	struct sim_listing *l = &s->listing[0];
	char *text = cJSON_PrintUnformatted(field(c->req, "Filters"));
	char *key = xasprintf("%d %s", c->region_index, text ? text : "null");
	bool keep = true;

	free(text);
	for (size_t i = 0; i < nf; i++)
		if (f[i].kind == DF_INSTANCE_STATE)
			keep = false;
	for (size_t i = 0; i < ARRAY_SIZE(s->listing); i++) {
		struct sim_listing *k = &s->listing[i];

		if (keep && k->key && !strcmp(k->key, key) &&
		    k->version == s->list_version && c->now >= k->from &&
		    c->now < k->until) {
			k->used = ++s->listing_uses;
			free(key);
			return k;
		}
		if (k->used < l->used)
			l = k;
	}
	free(l->key);
	l->key = keep ? key : (free(key), NULL);
	l->used = ++s->listing_uses;
	l->version = s->list_version;
	l->from = c->now;
	l->until = INT64_MAX;
	l->n = 0;
	for (size_t i = 0; i < s->nlist; i++) {
		struct sim_instance *in = s->list[i];
		bool ok = true;

		if (!in || !in_region(c, in))
			continue;
		if (in->tags_ms > c->now && in->tags_ms < l->until)
			l->until = in->tags_ms; /* its tags show then */
		for (size_t k = 0; k < nf && ok; k++)
			ok = match_filter(c, in, &f[k]);
		if (!ok)
			continue;
		ALLOC_GROW(l->v, l->n + 1, l->alloc);
		l->v[l->n++] = in;
	}
	return l;
}

int sim_action_describe_instances(struct sim_call *c)
{
	static const char *const known[] = { "InstanceIds", "Filters", "Offset", "Limit",
					     NULL };
	struct dfilter filters[10];
	size_t nfilters = 0, nids = 0;
	const char **ids = NULL;
	int64_t offset = 0, limit = 20, total = 0;
	cJSON *set;
	int error = -1;

	if (check_known(c, c->req, known) < 0 ||
	    opt_strs(c, c->req, "InstanceIds", 100, "InvalidParameterValue.LimitExceeded",
		     &ids, &nids) < 0 ||
	    parse_dfilters(c, field(c->req, "Filters"), filters, &nfilters) < 0 ||
	    opt_int(c, c->req, "Offset", 0, INT32_MAX, "InvalidParameterValue", &offset) <
		    0 ||
	    opt_int(c, c->req, "Limit", 0, 100, "InvalidParameterValue", &limit) < 0)
		goto done;
	if (nids && nfilters) {
		sim_call_fail(
			c, "InvalidParameter",
			"The parameters `InstanceIds` and `Filters` cannot be used together");
		goto done;
	}
	for (size_t i = 0; i < nids; i++)
		if (!id_shape(ids[i], "ins-")) {
			sim_call_fail(c, "InvalidInstanceId.Malformed",
				      "The instance id `%s` is malformed", ids[i]);
			goto done;
		}

	c->resp = cJSON_CreateObject();
	set = cJSON_CreateArray();
	if (nids) {
		/* ids: answered in request order, unknown ones simply absent */
		for (size_t i = 0; i < nids; i++) {
			struct sim_instance *in = sim_instance_find(c->s, ids[i]);
			bool dup = false;

			for (size_t j = 0; j < i && !dup; j++)
				dup = !strcmp(ids[i], ids[j]);
			if (!in || dup || !in_region(c, in))
				continue;
			if (total >= offset && total < offset + limit)
				cJSON_AddItemToArray(set, instance_json(c, in));
			total++;
		}
	} else {
		const struct sim_listing *l = listing_get(c, filters, nfilters);

		for (size_t i = (size_t)offset; i < l->n && i < (size_t)(offset + limit);
		     i++)
			cJSON_AddItemToArray(set, instance_json(c, l->v[i]));
		total = (int64_t)l->n;
	}
	add_int(c->resp, "TotalCount", total);
	cJSON_AddItemToObject(c->resp, "InstanceSet", set);
	error = 0;
done:
	free(ids);
	for (size_t i = 0; i < nfilters; i++)
		free(filters[i].values);
	return error;
}

/* ------------------------------------------------------------------ */
/* RunInstances */

static bool b64_valid(const char *s, size_t *decoded)
{
	size_t n = strlen(s), pad = 0;

	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (pad || !(isalnum(ch) || ch == '+' || ch == '/')) {
			return false;
		}
	}
	*decoded = n / 4 * 3 - pad;
	return true;
}

static bool tag_key_reserved(const char *k)
{
	static const char *const prefixes[] = { "qcloud", "tencent", "project" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncasecmp(k, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool tag_chars_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x80 && !isalnum(ch) && !strchr(" +-=._:/@", ch))
			return false;
	}
	return true;
}

struct run_tags {
	const char *key[64];
	const char *value[64];
	size_t n;
};

static int parse_tags(struct sim_call *c, struct run_tags *t)
{
	const cJSON *specs = field(c->req, "TagSpecification"), *spec;

	t->n = 0;
	if (!specs || cJSON_IsNull(specs))
		return 0;
	if (!cJSON_IsArray(specs))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `TagSpecification` must be an array");
	cJSON_ArrayForEach (spec, specs) {
		static const char *const known[] = { "ResourceType", "Tags", NULL };
		static const char *const tknown[] = { "Key", "Value", NULL };
		const cJSON *tags, *tag;
		const char *rt;

		if (!cJSON_IsObject(spec))
			return sim_call_fail(
				c, "InvalidParameter",
				"The elements of `TagSpecification` must be objects");
		if (check_known(c, spec, known) < 0 ||
		    req_str(c, spec, "ResourceType", "TagSpecification.N.ResourceType",
			    &rt) < 0)
			return -1;
		if (strcmp(rt, "instance") && strcmp(rt, "host") && strcmp(rt, "image") &&
		    strcmp(rt, "keypair") && strcmp(rt, "ps") && strcmp(rt, "hpc"))
			return sim_call_fail(c, "InvalidParameterValue",
					     "The resource type `%s` is not supported",
					     rt);
		tags = field(spec, "Tags");
		if (!cJSON_IsArray(tags))
			return sim_call_fail(
				c, "MissingParameter",
				"The parameter `TagSpecification.N.Tags` is missing");
		cJSON_ArrayForEach (tag, tags) {
			const char *k, *v;

			if (!cJSON_IsObject(tag))
				return sim_call_fail(
					c, "InvalidParameter",
					"The elements of `Tags` must be objects");
			if (check_known(c, tag, tknown) < 0 ||
			    req_str(c, tag, "Key", "TagSpecification.N.Tags.N.Key", &k) <
				    0 ||
			    req_str(c, tag, "Value", "TagSpecification.N.Tags.N.Value",
				    &v) < 0)
				return -1;
			if (strcmp(rt, "instance"))
				continue;
			if (!*k || strlen(k) > 127 || !tag_chars_ok(k))
				return sim_call_fail(c, "FailedOperation.IllegalTagKey",
						     "The tag key `%s` is illegal", k);
			if (tag_key_reserved(k))
				return sim_call_fail(
					c, "FailedOperation.TagKeyReserved",
					"The tag key `%s` is reserved by the system", k);
			if (strlen(v) > 255 || !tag_chars_ok(v))
				return sim_call_fail(c, "FailedOperation.IllegalTagValue",
						     "The tag value `%s` is illegal", v);
			for (size_t i = 0; i < t->n; i++)
				if (!strcmp(t->key[i], k))
					return sim_call_fail(
						c, "InvalidParameterValue.DuplicateTags",
						"The tag key `%s` is given twice", k);
			if (t->n == 50)
				return sim_call_fail(
					c, "InvalidParameterValue.TagQuotaLimitExceeded",
					"At most 50 tags may be attached to an instance");
			t->key[t->n] = k;
			t->value[t->n] = v;
			t->n++;
		}
	}
	return 0;
}

struct run_args {
	const char *charge, *zone, *image, *type, *token, *name, *user_data;
	const char *max_price; /* NULL: bid at the market price */
	const char *vpc, *subnet, *disk_type;
	const char **sgs, **keys;
	size_t nsgs, nkeys;
	int64_t count, disk_size, bandwidth;
	bool dry_run, protect;
	int zi, pool;
	struct run_tags tags;
};

static int parse_spot(struct sim_call *c, struct run_args *a)
{
	const cJSON *mo = field(c->req, "InstanceMarketOptions"), *so;
	static const char *const known[] = { "MarketType", "SpotOptions", NULL };
	static const char *const sknown[] = { "MaxPrice", "SpotInstanceType", NULL };
	const char *mt, *sit;

	if (!mo || cJSON_IsNull(mo))
		return 0;
	if (!cJSON_IsObject(mo))
		return sim_call_fail(
			c, "InvalidParameter",
			"The parameter `InstanceMarketOptions` must be an object");
	if (strcmp(a->charge, "SPOTPAID"))
		return sim_call_fail(
			c, "InvalidParameterCombination",
			"`InstanceMarketOptions` requires `InstanceChargeType` SPOTPAID");
	if (check_known(c, mo, known) < 0 ||
	    req_str(c, mo, "MarketType", "InstanceMarketOptions.MarketType", &mt) < 0)
		return -1;
	if (strcmp(mt, "spot"))
		return sim_call_fail(c, "InvalidParameterValue",
				     "The market type `%s` is not supported", mt);
	so = field(mo, "SpotOptions");
	if (!cJSON_IsObject(so))
		return sim_call_fail(
			c, "MissingParameter",
			"The parameter `InstanceMarketOptions.SpotOptions` is missing");
	if (check_known(c, so, sknown) < 0 ||
	    req_str(c, so, "MaxPrice", "InstanceMarketOptions.SpotOptions.MaxPrice",
		    &a->max_price) < 0 ||
	    opt_str(c, so, "SpotInstanceType", &sit) < 0)
		return -1;
	if (!dec_valid(a->max_price))
		return sim_call_fail(c, "InvalidParameterValue",
				     "The bid price `%s` is not a valid price",
				     a->max_price);
	if (sit && strcmp(sit, "one-time"))
		return sim_call_fail(c, "InvalidParameterValue",
				     "The spot instance type `%s` is not supported", sit);
	return 0;
}

static int parse_run(struct sim_call *c, struct run_args *a)
{
	static const char *const known[] = { "InstanceChargeType",
					     "InstanceChargePrepaid",
					     "Placement",
					     "InstanceType",
					     "ImageId",
					     "SystemDisk",
					     "DataDisks",
					     "VirtualPrivateCloud",
					     "InternetAccessible",
					     "InstanceCount",
					     "MinCount",
					     "InstanceName",
					     "LoginSettings",
					     "SecurityGroupIds",
					     "EnhancedService",
					     "ClientToken",
					     "HostName",
					     "ActionTimer",
					     "DisasterRecoverGroupIds",
					     "TagSpecification",
					     "InstanceMarketOptions",
					     "UserData",
					     "Metadata",
					     "DryRun",
					     "CpuTopology",
					     "CamRoleName",
					     "HpcClusterId",
					     "LaunchTemplate",
					     "DedicatedClusterId",
					     "ChcIds",
					     "DisableApiTermination",
					     "EnableJumboFrame",
					     NULL };
	const cJSON *pl, *v;
	size_t dec;

	a->count = 1;
	if (check_known(c, c->req, known) < 0 ||
	    opt_str(c, c->req, "ClientToken", &a->token) < 0)
		return -1;
	if (a->token && strlen(a->token) > TC_MAX_CLIENT_TOKEN)
		return sim_call_fail(c, "InvalidClientToken.TooLong",
				     "The `ClientToken` is longer than 64 characters");
	if (opt_str(c, c->req, "InstanceChargeType", &a->charge) < 0)
		return -1;
	if (!a->charge)
		a->charge = "POSTPAID_BY_HOUR";
	if (strcmp(a->charge, "SPOTPAID") && strcmp(a->charge, "POSTPAID_BY_HOUR"))
		return sim_call_fail(c, "InvalidParameterValue",
				     "The charge type `%s` is not supported here",
				     a->charge);

	pl = field(c->req, "Placement");
	if (!pl)
		return sim_call_fail(c, "MissingParameter",
				     "The parameter `Placement` is missing");
	if (!cJSON_IsObject(pl))
		return sim_call_fail(c, "InvalidParameter",
				     "The parameter `Placement` must be an object");
	if (req_str(c, pl, "Zone", "Placement.Zone", &a->zone) < 0)
		return -1;
	a->zi = sim_find_zone(c->s, a->zone);
	if (a->zi < 0 || strcmp(c->s->regions[c->s->zones[a->zi].region].name, c->region))
		return sim_call_fail(c, "InvalidZone.MismatchRegion",
				     "The zone `%s` does not exist in `%s`", a->zone,
				     c->region);

	if (req_str(c, c->req, "ImageId", NULL, &a->image) < 0)
		return -1;
	if (!id_shape(a->image, "img-"))
		return sim_call_fail(c, "InvalidImageId.Malformed",
				     "The image id `%s` is malformed", a->image);
	if (req_str(c, c->req, "InstanceType", NULL, &a->type) < 0)
		return -1;
	if (!strchr(a->type, '.') || a->type[0] == '.')
		return sim_call_fail(c, "InvalidInstanceType.Malformed",
				     "The instance type `%s` is malformed", a->type);
	a->pool = sim_find_pool(c->s, a->zi, a->type);
	if (a->pool < 0) {
		bool anywhere = false;

		for (size_t i = 0; i < c->s->npools && !anywhere; i++)
			anywhere = !strcmp(c->s->pools[i].type, a->type);
		if (!anywhere)
			return sim_call_fail(
				c, "InvalidParameterValue.InstanceTypeNotFound",
				"The instance type `%s` does not exist", a->type);
		return sim_call_fail(c, "ResourceUnavailable.InstanceType",
				     "The instance type `%s` is not sold in `%s`",
				     a->type, a->zone);
	}
	if (opt_int(c, c->req, "InstanceCount", 1, TC_MAX_RUN_COUNT,
		    "InvalidParameterValue", &a->count) < 0)
		return -1;
	if (parse_spot(c, a) < 0 || parse_tags(c, &a->tags) < 0)
		return -1;
	if (opt_str(c, c->req, "InstanceName", &a->name) < 0)
		return -1;
	if (a->name && strlen(a->name) > 128)
		return sim_call_fail(c, "InvalidInstanceName.TooLong",
				     "The `InstanceName` is longer than 128 characters");
	if (opt_str(c, c->req, "UserData", &a->user_data) < 0)
		return -1;
	if (a->user_data &&
	    (!b64_valid(a->user_data, &dec) || strlen(a->user_data) > 16384))
		return sim_call_fail(c, "InvalidParameterValue.InvalidUserDataFormat",
				     "The `UserData` is not base64 of at most 16 KB");
	if ((v = field(c->req, "VirtualPrivateCloud")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v))
			return sim_call_fail(
				c, "InvalidParameter",
				"The parameter `VirtualPrivateCloud` must be an object");
		if (req_str(c, v, "VpcId", "VirtualPrivateCloud.VpcId", &a->vpc) < 0 ||
		    req_str(c, v, "SubnetId", "VirtualPrivateCloud.SubnetId",
			    &a->subnet) < 0)
			return -1;
	}
	if (opt_strs(c, c->req, "SecurityGroupIds", 100,
		     "InvalidParameterValue.LimitExceeded", &a->sgs, &a->nsgs) < 0)
		return -1;
	if ((v = field(c->req, "LoginSettings")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v))
			return sim_call_fail(
				c, "InvalidParameter",
				"The parameter `LoginSettings` must be an object");
		if (opt_strs(c, v, "KeyIds", 100, "InvalidParameterValue.LimitExceeded",
			     &a->keys, &a->nkeys) < 0)
			return -1;
		if (a->nkeys && field(v, "Password"))
			return sim_call_fail(
				c, "InvalidParameterCombination",
				"`LoginSettings.Password` and `KeyIds` cannot be used together");
	}
	if ((v = field(c->req, "SystemDisk")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v))
			return sim_call_fail(
				c, "InvalidParameter",
				"The parameter `SystemDisk` must be an object");
		if (opt_str(c, v, "DiskType", &a->disk_type) < 0 ||
		    opt_int(c, v, "DiskSize", 20, 2048, "InvalidParameterValue",
			    &a->disk_size) < 0)
			return -1;
	}
	if ((v = field(c->req, "InternetAccessible")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsObject(v))
			return sim_call_fail(
				c, "InvalidParameter",
				"The parameter `InternetAccessible` must be an object");
		if (opt_int(c, v, "InternetMaxBandwidthOut", 0, 65535,
			    "InvalidParameterValue", &a->bandwidth) < 0)
			return -1;
	}
	if (opt_bool(c, c->req, "DisableApiTermination", &a->protect) < 0)
		return -1;
	return opt_bool(c, c->req, "DryRun", &a->dry_run);
}

static char **dup_strs(const char **v, size_t n)
{
	char **out = xcalloc(n ? n : 1, sizeof(*out));

	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/*
 * The checks of a launch after its parameters, in order: the account's
 * balance, whether the type is sold as spot, the bid, the zone's spot
 * quota, the stock.  Each refuses the whole call.
 */
static int run_admit(struct sim_call *c, const struct run_args *a)
{
	const struct sim_pool *p = &c->s->pools[a->pool];
	bool spot = !strcmp(a->charge, "SPOTPAID");
	int64_t quota = c->s->faults.spot_quota_vcpu;

	if (c->s->faults.insufficient_balance)
		return sim_call_fail(
			c, "InvalidAccount.InsufficientBalance",
			"The account balance is insufficient (injected by spotenv sim)");
	if (spot && !p->spot)
		return sim_call_fail(
			c, "UnsupportedOperation.NoInstanceTypeSupportSpot",
			"The instance type `%s` does not support spot instances in `%s`",
			a->type, a->zone);
	if (spot && a->max_price && dec_cmp_str(a->max_price, p->price) < 0)
		return sim_call_fail(
			c, "InvalidParameterValue.InsufficientPrice",
			"The bid price %s is below the current spot price of `%s` in `%s`",
			a->max_price, a->type, a->zone);
	if (spot && quota > 0) {
		int64_t used = sim_spot_vcpu_used(c->s, p->zone),
			want = a->count * p->cpu;

		if (used + want > quota)
			return sim_call_fail(c, "LimitExceeded.SpotQuota",
					     "The spot quota of zone `%s` is %" PRId64
					     " vCPU: %" PRId64 " in use, %" PRId64
					     " remaining, %" PRId64 " requested",
					     a->zone, quota, used,
					     used < quota ? quota - used : 0, want);
	}
	if (p->stock < a->count) {
		if (p->stock == 0)
			return sim_call_fail(c, "ResourcesSoldOut.SpecifiedInstanceType",
					     "The instance type `%s` is sold out in `%s`",
					     a->type, a->zone);
		return sim_call_fail(c, "ResourceInsufficient.SpecifiedInstanceType",
				     "Only %" PRId64
				     " instances of `%s` are available in `%s`",
				     p->stock, a->type, a->zone);
	}
	return 0;
}

int sim_action_run_instances(struct sim_call *c)
{
	struct run_args a;
	struct sim_pool *p;
	const struct sim_token *tok;
	char **ids = NULL;
	cJSON *set;
	int error = -1;

	memset(&a, 0, sizeof(a));
	if (parse_run(c, &a) < 0)
		goto done;
	if (a.token && !a.dry_run && (tok = sim_token_find(c->s, a.token, c->now))) {
		/* idempotent: the original instances, nothing new */
		c->resp = cJSON_CreateObject();
		set = cJSON_AddArrayToObject(c->resp, "InstanceIdSet");
		for (size_t i = 0; i < tok->n; i++)
			cJSON_AddItemToArray(set, cJSON_CreateString(tok->ids[i]));
		error = 0;
		goto done;
	}
	if (run_admit(c, &a) < 0)
		goto done;
	p = &c->s->pools[a.pool];
	if (a.dry_run) {
		/* success: just the RequestId; the ClientToken is not remembered */
		c->resp = cJSON_CreateObject();
		error = 0;
		goto done;
	}

	ids = xcalloc((size_t)a.count, sizeof(*ids));
	c->resp = cJSON_CreateObject();
	set = cJSON_AddArrayToObject(c->resp, "InstanceIdSet");
	for (int64_t i = 0; i < a.count; i++) {
		struct sim_instance *in = sim_instance_new(c->s, a.pool);
		const char *base =
			a.name ? a.name : "\xe6\x9c\xaa\xe5\x91\xbd\xe5\x90\x8d";

		in->name = a.count > 1 ? xasprintf("%s%" PRId64, base, i + 1)
				       : xstrdup(base);
		in->image = xstrdup(a.image);
		in->spot = !strcmp(a.charge, "SPOTPAID");
		in->tags = xcalloc(a.tags.n ? a.tags.n : 1, sizeof(*in->tags));
		for (size_t t = 0; t < a.tags.n; t++) {
			in->tags[t].key = xstrdup(a.tags.key[t]);
			in->tags[t].value = xstrdup(a.tags.value[t]);
		}
		in->ntags = a.tags.n;
		in->created_ms = c->now;
		in->running_ms = c->now + c->s->faults.pending_ms;
		in->tags_ms = c->now + c->s->faults.tag_lag_ms;
		if (c->s->faults.launch_fail_rate > 0 &&
		    sim_rand01(c->s) < c->s->faults.launch_fail_rate)
			sim_instance_will_fail(c->s, in);
		in->protect = a.protect;
		in->vpc_id = sim_strdup_or_null(a.vpc);
		in->subnet_id = sim_strdup_or_null(a.subnet);
		in->sgs = dup_strs(a.sgs, a.nsgs);
		in->nsgs = a.nsgs;
		in->key_ids = dup_strs(a.keys, a.nkeys);
		in->nkey_ids = a.nkeys;
		in->disk_type = sim_strdup_or_null(a.disk_type);
		in->disk_size = (int)a.disk_size;
		in->bandwidth = (int)a.bandwidth;
		snprintf(in->request_id, sizeof(in->request_id), "%s", c->request_id);
		ids[i] = in->id;
		cJSON_AddItemToArray(set, cJSON_CreateString(in->id));
	}
	p->stock -= a.count;
	c->s->stats.launched += (uint64_t)a.count;
	if (a.token)
		sim_token_add(c->s, a.token, ids, (size_t)a.count, c->now);
	c->committed = true;
	error = 0;
done:
	free(ids);
	free(a.sgs);
	free(a.keys);
	return error;
}

/* ------------------------------------------------------------------ */
/* TerminateInstances */

/*
 * Why an instance cannot be terminated now (an error code), or NULL.
 * The state comes first, then termination protection.
 */
static const char *terminate_refusal(const struct sim_instance *in, int64_t now,
				     const char **why)
{
	static const struct {
		const char *state, *code, *why;
	} refused[] = {
		{ "PENDING", "UnsupportedOperation.InstanceStatePending", "PENDING" },
		{ "LAUNCH_FAILED", "UnsupportedOperation.InstanceStateLaunchFailed",
		  "LAUNCH_FAILED" },
		{ "STARTING", "UnsupportedOperation.InstanceStateStarting", "STARTING" },
		{ "STOPPING", "UnsupportedOperation.InstanceStateStopping", "STOPPING" },
		{ "REBOOTING", "UnsupportedOperation.InstanceStateRebooting",
		  "REBOOTING" },
		{ "TERMINATING", "UnsupportedOperation.InstanceStateTerminating",
		  "TERMINATING" },
		{ "SHUTDOWN", "UnsupportedOperation.InstanceStateTerminating",
		  "SHUTDOWN" },
	};
	const char *state = sim_instance_state(in, now);

	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		if (!strcmp(state, refused[i].state)) {
			*why = refused[i].why;
			return refused[i].code;
		}
	if (in->protect) {
		*why = "protected from termination";
		return "UnsupportedOperation.InstancesProtected";
	}
	return NULL;
}

/*
 * All or nothing: one id that is malformed, unknown, in a state that
 * cannot be terminated or protected fails the whole call, and the message
 * names every id refused for the same reason as the first refused one.
 */
int sim_action_terminate_instances(struct sim_call *c)
{
	static const char *const known[] = { "InstanceIds", "ReleaseAddress",
					     "ReleasePrepaidDataDisks", NULL };
	const char **ids = NULL;
	size_t nids = 0, nnamed = 0;
	bool b, any_spot = false, any_paid = false;
	struct buf named = BUF_INIT;
	const char *code = NULL, *why = NULL;
	int error = -1;

	if (check_known(c, c->req, known) < 0 ||
	    opt_bool(c, c->req, "ReleaseAddress", &b) < 0 ||
	    opt_bool(c, c->req, "ReleasePrepaidDataDisks", &b) < 0 ||
	    opt_strs(c, c->req, "InstanceIds", 100, "InvalidParameterValue.LimitExceeded",
		     &ids, &nids) < 0)
		goto done;
	if (!nids) {
		sim_call_fail(c, "MissingParameter",
			      "The parameter `InstanceIds` is missing");
		goto done;
	}
	for (size_t i = 0; i < nids; i++) {
		struct sim_instance *in;

		if (!id_shape(ids[i], "ins-")) {
			sim_call_fail(c, "InvalidInstanceId.Malformed",
				      "The instance id `%s` is malformed", ids[i]);
			goto done;
		}
		in = sim_instance_find(c->s, ids[i]);
		if (!in || !in_region(c, in)) {
			buf_printf(&named, "%s`%s`", nnamed ? ", " : "", ids[i]);
			nnamed++;
		}
	}
	if (nnamed) {
		sim_call_fail(c, "InvalidInstanceId.NotFound",
			      "The instance%s %s %s not exist", nnamed > 1 ? "s" : "",
			      buf_str(&named), nnamed > 1 ? "do" : "does");
		goto done;
	}
	for (size_t i = 0; i < nids; i++) {
		const struct sim_instance *in = sim_instance_find(c->s, ids[i]);
		const char *w = NULL, *r = terminate_refusal(in, c->now, &w);
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(ids[i], ids[j]);
		if (!r || dup || (code && strcmp(r, code)))
			continue;
		code = r;
		why = w;
		buf_printf(&named, "%s`%s`", nnamed ? ", " : "", ids[i]);
		nnamed++;
	}
	if (code) {
		sim_call_fail(c, code, "The instance%s %s %s %s and cannot be terminated",
			      nnamed > 1 ? "s" : "", buf_str(&named),
			      nnamed > 1 ? "are" : "is", why);
		goto done;
	}
	for (size_t i = 0; i < nids; i++) {
		if (sim_instance_find(c->s, ids[i])->spot)
			any_spot = true;
		else
			any_paid = true;
	}
	if (any_spot && any_paid) {
		sim_call_fail(c, "UnsupportedOperation.InstanceMixedPricingModel",
			      "The instances of one call must share a billing model "
			      "(SPOTPAID and POSTPAID_BY_HOUR are mixed)");
		goto done;
	}
	if (c->s->faults.operation_in_progress_rate > 0 &&
	    sim_rand01(c->s) < c->s->faults.operation_in_progress_rate) {
		sim_call_fail(
			c, "OperationDenied.InstanceOperationInProgress",
			"An operation is in progress on the instances, try again later "
			"(injected by spotenv sim)");
		goto done;
	}
	for (size_t i = 0; i < nids; i++) {
		struct sim_instance *in = sim_instance_find(c->s, ids[i]);

		if (in->leave_ms)
			continue; /* the same id twice in the call */
		sim_instance_leave(c->s, in, false, c->now);
		c->s->stats.terminated++;
	}
	c->resp = cJSON_CreateObject();
	c->committed = true;
	error = 0;
done:
	buf_release(&named);
	free(ids);
	return error;
}

/* ------------------------------------------------------------------ */
/* DescribeZoneInstanceConfigInfos */

static cJSON *raw_number(const char *dec_text)
{
	char *n = dec_normalize(dec_text);
	cJSON *j = cJSON_CreateRaw(n ? n : "0");

	free(n);
	return j;
}

/* The list price: five times the spot price (spot is sold at 20%). */
static cJSON *list_price(const char *spot)
{
	dec_t v = 0;
	char out[40];
	const char *dot = strchr(spot, '.');
	int frac = dot ? (int)strlen(dot + 1) : 0;

	dec_parse(spot, &v);
	return cJSON_CreateRaw(dec_format(out, sizeof(out), dec_mul_int(v, 5), frac));
}

static bool in_values(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static cJSON *offer_row(struct sim_call *c, const struct sim_pool *p, const char *charge)
{
	cJSON *o = cJSON_CreateObject(), *pr;
	bool spot = !strcmp(charge, "SPOTPAID");
	const char *cat = p->stock == 0	  ? "WithoutStock"
			  : p->stock < 10 ? "UnderStock"
			  : p->stock < 50 ? "NormalStock"
					  : "EnoughStock";
	char *tname = xasprintf("Standard %s", p->family);

	cJSON_AddStringToObject(o, "Zone", c->s->zones[p->zone].name);
	cJSON_AddStringToObject(o, "InstanceType", p->type);
	cJSON_AddStringToObject(o, "InstanceChargeType", charge);
	cJSON_AddNumberToObject(o, "NetworkCard", 25);
	cJSON_AddObjectToObject(o, "Externals");
	cJSON_AddNumberToObject(o, "Cpu", p->cpu);
	cJSON_AddNumberToObject(o, "Memory", p->memory);
	cJSON_AddStringToObject(o, "InstanceFamily", p->family);
	cJSON_AddStringToObject(o, "TypeName", tname);
	cJSON_AddArrayToObject(o, "LocalDiskTypeList");
	cJSON_AddStringToObject(o, "Status", p->stock > 0 ? "SELL" : "SOLD_OUT");
	pr = cJSON_AddObjectToObject(o, "Price");
	cJSON_AddItemToObject(pr, "UnitPrice", list_price(p->price));
	cJSON_AddStringToObject(pr, "ChargeUnit", "HOUR");
	cJSON_AddItemToObject(pr, "UnitPriceDiscount",
			      spot ? raw_number(p->price) : list_price(p->price));
	cJSON_AddNumberToObject(pr, "Discount", spot ? 20 : 100);
	cJSON_AddStringToObject(o, "SoldOutReason",
				p->stock > 0 ? ""
					     : "ResourcesSoldOut.SpecifiedInstanceType");
	cJSON_AddNumberToObject(o, "InstanceBandwidth", 1.5);
	cJSON_AddNumberToObject(o, "InstancePps", 30);
	cJSON_AddNumberToObject(o, "StorageBlockAmount", 0);
	cJSON_AddStringToObject(o, "CpuType", "Intel Xeon Cascade Lake 8255C(2.5 GHz)");
	cJSON_AddNumberToObject(o, "Gpu", 0);
	cJSON_AddNumberToObject(o, "Fpga", 0);
	cJSON_AddStringToObject(o, "Remark", "");
	cJSON_AddNumberToObject(o, "GpuCount", 0);
	cJSON_AddStringToObject(o, "Frequency", "2.5/3.1GHz");
	cJSON_AddStringToObject(o, "StatusCategory", cat);
	free(tname);
	return o;
}

int sim_action_describe_zone_configs(struct sim_call *c)
{
	static const char *const known[] = { "Filters", NULL };
	static const char *const fknown[] = { "Name", "Values", NULL };
	static const char *const charges[] = { "POSTPAID_BY_HOUR", "SPOTPAID" };
	const char **zones = NULL, **families = NULL, **types = NULL, **chg = NULL,
		   **ign = NULL;
	size_t nz = 0, nf = 0, nt = 0, nc = 0, ni = 0;
	const cJSON *fs, *f;
	cJSON *set;
	int error = -1;

	if (check_known(c, c->req, known) < 0)
		goto done;
	fs = field(c->req, "Filters");
	if (fs && !cJSON_IsNull(fs) && !cJSON_IsArray(fs)) {
		sim_call_fail(c, "InvalidParameter",
			      "The parameter `Filters` must be an array");
		goto done;
	}
	if (cJSON_GetArraySize(fs) > 10) {
		sim_call_fail(c, "InvalidParameterValue.LimitExceeded",
			      "At most 10 `Filters` may be given");
		goto done;
	}
	cJSON_ArrayForEach (f, fs) {
		const char *name, ***dst;
		size_t *ndst;

		if (!cJSON_IsObject(f)) {
			sim_call_fail(c, "InvalidParameter",
				      "The elements of `Filters` must be objects");
			goto done;
		}
		if (check_known(c, f, fknown) < 0 ||
		    req_str(c, f, "Name", "Filters.N.Name", &name) < 0)
			goto done;
		if (!strcmp(name, "zone"))
			dst = &zones, ndst = &nz;
		else if (!strcmp(name, "instance-family"))
			dst = &families, ndst = &nf;
		else if (!strcmp(name, "instance-type"))
			dst = &types, ndst = &nt;
		else if (!strcmp(name, "instance-charge-type"))
			dst = &chg, ndst = &nc;
		else if (!strcmp(name, "sort-keys"))
			dst = &ign, ndst = &ni;
		else {
			sim_call_fail(c, "InvalidFilter",
				      "The filter `%s` is not supported", name);
			goto done;
		}
		if (*dst) {
			sim_call_fail(c, "InvalidFilter",
				      "The filter `%s` is given twice", name);
			goto done;
		}
		if (!field(f, "Values")) {
			sim_call_fail(c, "MissingParameter",
				      "The parameter `Filters.N.Values` is missing");
			goto done;
		}
		if (opt_strs(c, f, "Values", 100, "InvalidFilterValue.LimitExceeded", dst,
			     ndst) < 0)
			goto done;
	}
	for (size_t i = 0; i < nz; i++) {
		int z = sim_find_zone(c->s, zones[i]);

		if (z < 0 ||
		    strcmp(c->s->regions[c->s->zones[z].region].name, c->region)) {
			sim_call_fail(c, "InvalidZone.MismatchRegion",
				      "The zone `%s` does not exist in `%s`", zones[i],
				      c->region);
			goto done;
		}
	}
	c->resp = cJSON_CreateObject();
	set = cJSON_AddArrayToObject(c->resp, "InstanceTypeQuotaSet");
	for (size_t i = 0; i < c->s->npools; i++) {
		const struct sim_pool *p = &c->s->pools[i];

		if (strcmp(c->s->regions[c->s->zones[p->zone].region].name, c->region))
			continue;
		if ((zones && !in_values(zones, nz, c->s->zones[p->zone].name)) ||
		    (families && !in_values(families, nf, p->family)) ||
		    (types && !in_values(types, nt, p->type)))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(charges); k++) {
			/* a type that is not sold as spot has no SPOTPAID row */
			if (!p->spot && !strcmp(charges[k], "SPOTPAID"))
				continue;
			if (!chg || in_values(chg, nc, charges[k]))
				cJSON_AddItemToArray(set, offer_row(c, p, charges[k]));
		}
	}
	error = 0;
done:
	free(zones);
	free(families);
	free(types);
	free(chg);
	free(ign);
	return error;
}

/* ------------------------------------------------------------------ */
/* DescribeAccountQuota */

static const char *const quota_sets[] = {
	"PostPaidQuotaSet",
	"DisasterRecoverGroupQuotaSet",
	"PrePaidQuotaSet",
	"SpotPaidQuotaSet",
};

/*
 * The account's quotas in the region (the published example's shape):
 * AppId, and AccountQuotaOverview{Region, AccountQuota{...}} where
 * SpotPaidQuotaSet has one row per zone of the region from the spot quota
 * model; the other sets are empty.  Filters: zone, quota-type.
 */
int sim_action_describe_account_quota(struct sim_call *c)
{
	static const char *const known[] = { "Filters", NULL };
	static const char *const fknown[] = { "Name", "Values", NULL };
	const char **zones = NULL, **types = NULL;
	size_t nz = 0, nt = 0;
	const cJSON *fs, *f;
	cJSON *ov, *aq;
	int64_t quota = c->s->faults.spot_quota_vcpu;
	int error = -1;

	if (check_known(c, c->req, known) < 0)
		goto done;
	fs = field(c->req, "Filters");
	if (fs && !cJSON_IsNull(fs) && !cJSON_IsArray(fs)) {
		sim_call_fail(c, "InvalidParameter",
			      "The parameter `Filters` must be an array");
		goto done;
	}
	if (cJSON_GetArraySize(fs) > 10) {
		sim_call_fail(c, "InvalidParameterValue.LimitExceeded",
			      "At most 10 `Filters` may be given");
		goto done;
	}
	cJSON_ArrayForEach (f, fs) {
		const char *name, ***dst;
		size_t *ndst;

		if (!cJSON_IsObject(f)) {
			sim_call_fail(c, "InvalidParameter",
				      "The elements of `Filters` must be objects");
			goto done;
		}
		if (check_known(c, f, fknown) < 0 ||
		    req_str(c, f, "Name", "Filters.N.Name", &name) < 0)
			goto done;
		if (!strcmp(name, "zone"))
			dst = &zones, ndst = &nz;
		else if (!strcmp(name, "quota-type"))
			dst = &types, ndst = &nt;
		else {
			sim_call_fail(c, "InvalidFilter",
				      "The filter `%s` is not supported", name);
			goto done;
		}
		if (*dst) {
			sim_call_fail(c, "InvalidFilter",
				      "The filter `%s` is given twice", name);
			goto done;
		}
		if (!field(f, "Values")) {
			sim_call_fail(c, "MissingParameter",
				      "The parameter `Filters.N.Values` is missing");
			goto done;
		}
		if (opt_strs(c, f, "Values", 100, "InvalidFilterValue.LimitExceeded", dst,
			     ndst) < 0)
			goto done;
		if (*ndst == 0) {
			sim_call_fail(c, "InvalidParameterValue",
				      "The filter `%s` needs at least one value", name);
			goto done;
		}
	}
	for (size_t i = 0; i < nz; i++) {
		int z = sim_find_zone(c->s, zones[i]);

		if (z < 0 ||
		    strcmp(c->s->regions[c->s->zones[z].region].name, c->region)) {
			sim_call_fail(c, "InvalidZone.MismatchRegion",
				      "The zone `%s` does not exist in `%s`", zones[i],
				      c->region);
			goto done;
		}
	}
	for (size_t i = 0; i < nt; i++)
		if (!in_values(quota_sets, ARRAY_SIZE(quota_sets), types[i])) {
			sim_call_fail(
				c, "InvalidParameterValue.Range",
				"The quota type `%s` is not one of PostPaidQuotaSet, "
				"DisasterRecoverGroupQuotaSet, PrePaidQuotaSet, SpotPaidQuotaSet",
				types[i]);
			goto done;
		}
	if (c->s->faults.account_quota_unsupported) {
		sim_call_fail(c, "UnsupportedOperation",
			      "DescribeAccountQuota is not supported for this account "
			      "(injected by spotenv sim)");
		goto done;
	}

	c->resp = cJSON_CreateObject();
	cJSON_AddNumberToObject(c->resp, "AppId", (double)c->s->app_id);
	ov = cJSON_AddObjectToObject(c->resp, "AccountQuotaOverview");
	cJSON_AddStringToObject(ov, "Region", c->region);
	aq = cJSON_AddObjectToObject(ov, "AccountQuota");
	for (size_t k = 0; k < ARRAY_SIZE(quota_sets); k++) {
		cJSON *set;

		if (types && !in_values(types, nt, quota_sets[k]))
			continue;
		set = cJSON_AddArrayToObject(aq, quota_sets[k]);
		if (strcmp(quota_sets[k], "SpotPaidQuotaSet"))
			continue;
		for (size_t z = 0; z < c->s->nzones; z++) {
			const char *zname = c->s->zones[z].name;
			int64_t used, total;
			cJSON *row;

			if (strcmp(c->s->regions[c->s->zones[z].region].name,
				   c->region) ||
			    (zones && !in_values(zones, nz, zname)))
				continue;
			used = sim_spot_vcpu_used(c->s, (int)z);
			total = quota > 0 ? quota : SIM_UNLIMITED_QUOTA_VCPU;
			row = cJSON_CreateObject();
			cJSON_AddNumberToObject(row, "UsedQuota", (double)used);
			cJSON_AddNumberToObject(
				row, "RemainingQuota",
				(double)(used < total ? total - used : 0));
			cJSON_AddNumberToObject(row, "TotalQuota", (double)total);
			cJSON_AddStringToObject(row, "Zone", zname);
			cJSON_AddItemToArray(set, row);
		}
	}
	error = 0;
done:
	free(zones);
	free(types);
	return error;
}
