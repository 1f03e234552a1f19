/*
 * server.c - sim_handle (authentication, faults, dispatch, envelope), the
 * control API under /_sim/, and the libmicrohttpd front end.
 *
 * Order of checks for a CVM API request, each answered with the real code:
 *   1. X-TC-Action present                      MissingParameter
 *   2. X-TC-Version present and 2017-03-12      MissingParameter / NoSuchVersion
 *   3. TC3 signature (provider tc_verify)       AuthFailure.* / MissingParameter
 *   4. action known                             InvalidAction
 *   5. X-TC-Region present and known            MissingParameter / UnsupportedRegion
 *   6. rate limit per action and region         RequestLimitExceeded
 *   7. internal error fault                     InternalServerError (DescribeInstances,
 *                                               TerminateInstances), else InternalError
 *   8. body is a JSON object                    InvalidParameter
 *   9. the action itself
 *  10. drop-after-commit fault (RunInstances that created instances)
 */
#include "../util/setup.h"
#include "../util/decimal.h"
#include "sim_int.h"
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const char *const known_codes[] = {
	"AuthFailure.SignatureFailure",
	"AuthFailure.SignatureExpire",
	"AuthFailure.SecretIdNotFound",
	"AuthFailure.InvalidAuthorization",
	"AuthFailure.InvalidSecretId",
	"AuthFailure.TokenFailure",
	"MissingParameter",
};

/* A stable literal for an error code string (counters keep pointers). */
static const char *intern_code(const char *code)
{
	for (size_t i = 0; code && i < ARRAY_SIZE(known_codes); i++)
		if (!strcmp(known_codes[i], code))
			return known_codes[i];
	return "AuthFailure";
}

static const char *find_header(const struct sim_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i].name && !strcasecmp(req->headers[i].name, name))
			return req->headers[i].value ? req->headers[i].value : "";
	return NULL;
}

static const char *lookup_secret(void *ctx, const char *id)
{
	struct sim *s = ctx;

	for (size_t i = 0; i < s->ncreds; i++)
		if (!strcmp(s->creds[i].id, id))
			return s->creds[i].key;
	return sim_sts_secret(s, id); /* temporary credentials */
}

/*
 * Answer doc (taken).  It is turned into text by sim_handle after the
 * world lock is let go: the tree holds copies only, and printing a page of
 * 100 instances is most of an answer's cost, which would otherwise queue
 * every other request behind it.
 */
static void render(struct sim_response *out, int status, cJSON *doc)
{
	out->status = status;
	buf_reset(&out->body);
	cJSON_Delete(out->doc);
	out->doc = doc;
}

static void render_text(struct sim_response *out)
{
	char *text;

	if (!out->doc)
		return;
	/* room for a page of instances at once, not a dozen reallocs */
	text = cJSON_PrintBuffered(out->doc, 1 << 16, false);
	buf_reset(&out->body);
	buf_puts(&out->body, text ? text : "{}");
	free(text);
	cJSON_Delete(out->doc);
	out->doc = NULL;
}

/* The API error envelope; counts the error. */
static void api_error(struct sim *s, struct sim_response *out, const char *code,
		      const char *message, const char *request_id)
{
	cJSON *doc = cJSON_CreateObject(), *r = cJSON_AddObjectToObject(doc, "Response");
	cJSON *er = cJSON_AddObjectToObject(r, "Error");

	cJSON_AddStringToObject(er, "Code", code);
	cJSON_AddStringToObject(er, "Message", message);
	cJSON_AddStringToObject(r, "RequestId", request_id);
	sim_count_error(s, code);
	out->error_code = code;
	render(out, 200, doc);
}

/*
 * Verify, also accepting the host signed without its port: the official
 * SDKs sign the endpoint host as configured, which may lack the port the
 * HTTP library puts in the Host header.
 */
static int verify(struct sim *s, const struct sim_request *req, int64_t now_s,
		  struct err *e)
{
	const char *host = find_header(req, "host"), *colon;
	struct tc_header *h;
	char *bare;
	int error;

	error = tc_verify(req->method, req->query ? req->query : "", req->headers,
			  req->nheaders, req->body, req->body_len, TC_SERVICE, now_s,
			  lookup_secret, s, e);
	if (!error || !host || !e->api_code ||
	    strcmp(e->api_code, "AuthFailure.SignatureFailure"))
		return error;
	colon = strrchr(host, ':');
	if (!colon || strchr(colon, ']'))
		return error;
	bare = xstrndup(host, (size_t)(colon - host));
	h = xcalloc(req->nheaders, sizeof(*h));
	for (size_t i = 0; i < req->nheaders; i++) {
		h[i] = req->headers[i];
		if (h[i].name && !strcasecmp(h[i].name, "host"))
			h[i].value = bare;
	}
	{
		struct err e2 = ERR_INIT;

		if (!tc_verify(req->method, req->query ? req->query : "", h,
			       req->nheaders, req->body, req->body_len, TC_SERVICE, now_s,
			       lookup_secret, s, &e2)) {
			err_clear(e);
			error = 0;
		}
		err_clear(&e2);
	}
	free(h);
	free(bare);
	return error;
}

/*
 * Answer one API request of action act; ri is the index of the region it
 * names (X-TC-Region), -1 when none or unknown.
 */
static void answer_api(struct sim *s, const struct sim_request *req,
		       struct sim_response *out, int64_t now, enum sim_action act, int ri)
{
	const char *action = find_header(req, "x-tc-action");
	const char *version = find_header(req, "x-tc-version");
	const char *region = find_header(req, "x-tc-region");
	struct sim_call c;
	struct err e = ERR_INIT;
	cJSON *doc = NULL;
	char rid[37];

	memset(&c, 0, sizeof(c));
	sim_request_id(s, rid);
	out->delay_ms = s->faults.latency_ms;

	if (strcmp(req->method, "POST")) {
		api_error(s, out, "UnsupportedProtocol",
			  "spotenv sim accepts POST requests with a JSON body only", rid);
		return;
	}
	if (!action || !*action) {
		api_error(s, out, "MissingParameter", "The parameter `Action` is missing",
			  rid);
		return;
	}
	if (!version || !*version) {
		api_error(s, out, "MissingParameter",
			  "The parameter `Version` is missing", rid);
		return;
	}
	if (strcmp(version, TC_VERSION)) {
		api_error(s, out, "NoSuchVersion", "The requested version does not exist",
			  rid);
		return;
	}
	if (verify(s, req, now / 1000, &e) < 0 || sim_sts_check(s, req, now, &e) < 0) {
		const char *code = intern_code(e.api_code);

		api_error(s, out, code,
			  e.api_message ? e.api_message : "authentication failed", rid);
		err_clear(&e);
		return;
	}
	if (act == SIM_ACT_OTHER) {
		api_error(s, out, "InvalidAction", "The requested action does not exist",
			  rid);
		return;
	}
	if (!region || !*region) {
		api_error(s, out, "MissingParameter", "The parameter `Region` is missing",
			  rid);
		return;
	}
	if (ri < 0) {
		api_error(s, out, "UnsupportedRegion", "The region is not supported",
			  rid);
		return;
	}
	if (!sim_rate_take(s, act, ri, now)) {
		api_error(s, out, "RequestLimitExceeded",
			  "Your current request times equals to `limit` in a second",
			  rid);
		return;
	}
	if (s->faults.internal_error_rate > 0 &&
	    sim_rand01(s) < s->faults.internal_error_rate) {
		/* the code each action documents for it */
		bool server = act == SIM_ACT_DESCRIBE_INSTANCES ||
			      act == SIM_ACT_TERMINATE_INSTANCES;

		api_error(s, out, server ? "InternalServerError" : "InternalError",
			  "An internal error occurred (injected)", rid);
		return;
	}
	c.req = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
	if (!cJSON_IsObject(c.req)) {
		cJSON_Delete((cJSON *)c.req);
		api_error(s, out, "InvalidParameter",
			  "The request body is not a JSON object", rid);
		return;
	}
	c.s = s;
	c.now = now;
	c.region = region;
	c.region_index = ri;
	memcpy(c.request_id, rid, sizeof(rid));
	switch (act) {
	case SIM_ACT_DESCRIBE_INSTANCES:
		sim_action_describe_instances(&c);
		break;
	case SIM_ACT_RUN_INSTANCES:
		sim_action_run_instances(&c);
		break;
	case SIM_ACT_TERMINATE_INSTANCES:
		sim_action_terminate_instances(&c);
		break;
	case SIM_ACT_DESCRIBE_ZONE_CONFIGS:
		sim_action_describe_zone_configs(&c);
		break;
	case SIM_ACT_DESCRIBE_ACCOUNT_QUOTA:
		sim_action_describe_account_quota(&c);
		break;
	default:
		break;
	}
	cJSON_Delete((cJSON *)c.req);
	if (c.code || !c.resp) {
		api_error(s, out, c.code ? c.code : "InternalError",
			  c.message ? c.message : "no answer", rid);
		cJSON_Delete(c.resp);
		free(c.message);
		return;
	}
	free(c.message);
	if (c.committed && act == SIM_ACT_RUN_INSTANCES &&
	    s->faults.drop_after_commit_rate > 0 &&
	    sim_rand01(s) < s->faults.drop_after_commit_rate) {
		s->stats.dropped++;
		out->drop = true;
		cJSON_Delete(c.resp);
		return;
	}
	cJSON_AddStringToObject(c.resp, "RequestId", rid);
	doc = cJSON_CreateObject();
	cJSON_AddItemToObject(doc, "Response", c.resp);
	render(out, 200, doc);
}

/*
 * An API request: counted by action in the totals and, when it names a
 * known region, in that region's counters too (with its error code).
 */
static void handle_api(struct sim *s, const struct sim_request *req,
		       struct sim_response *out, int64_t now)
{
	const char *action = find_header(req, "x-tc-action");
	const char *region = find_header(req, "x-tc-region");
	enum sim_action act = SIM_ACT_OTHER;
	int ri = region && *region ? sim_find_region(s, region) : -1;

	for (int a = 0; action && a < SIM_ACT_COUNT; a++)
		if (!strcmp(action, sim_action_names[a]))
			act = (enum sim_action)a;
	s->stats.requests[act]++;
	answer_api(s, req, out, now, act, ri);
	if (ri >= 0)
		sim_count_region(s, ri, act, out->error_code);
}

/* ------------------------------------------------------------------ */
/* Control API */

static void ctl_error(struct sim_response *out, int status, const char *fmt, ...)
	SPOTENV_PRINTF(3, 4);

static void ctl_error(struct sim_response *out, int status, const char *fmt, ...)
{
	cJSON *doc = cJSON_CreateObject();
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	cJSON_AddStringToObject(doc, "error", msg);
	free(msg);
	render(out, status, doc);
}

static void ctl_reclaim(struct sim *s, const cJSON *body, struct sim_response *out,
			int64_t now)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "instanceIds");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(body, "count");
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(body, "env");
	const cJSON *v;
	cJSON *doc = cJSON_CreateObject(),
	      *done = cJSON_AddArrayToObject(doc, "reclaimed");

	if (ids) {
		if (!cJSON_IsArray(ids)) {
			cJSON_Delete(doc);
			return ctl_error(out, 400,
					 "'instanceIds' must be an array of strings");
		}
		cJSON_ArrayForEach (v, ids)
			if (!cJSON_IsString(v) || !sim_instance_find(s, v->valuestring)) {
				cJSON_Delete(doc);
				return ctl_error(out, 404, "instance '%s' not found",
						 cJSON_IsString(v) ? v->valuestring
								   : "?");
			}
		cJSON_ArrayForEach (v, ids) {
			struct sim_instance *in = sim_instance_find(s, v->valuestring);

			if (in->leave_ms || in->launch_failed)
				continue; /* leaving already, or no running capacity to
					     take */
			sim_instance_leave(s, in, true, now);
			s->stats.reclaimed++;
			cJSON_AddItemToArray(done, cJSON_CreateString(in->id));
		}
	} else {
		struct sim_instance **cand;
		size_t n = 0, want;

		if (!cJSON_IsNumber(count) ||
		    !(count->valuedouble >= 0 && count->valuedouble <= 1e9)) {
			cJSON_Delete(doc);
			return ctl_error(
				out, 400,
				"give 'count' (and optionally 'env') or 'instanceIds'");
		}
		if (env && !cJSON_IsString(env)) {
			cJSON_Delete(doc);
			return ctl_error(out, 400, "'env' must be a string");
		}
		want = (size_t)count->valuedouble;
		cand = xcalloc(s->nlist + 1, sizeof(*cand));
		for (size_t i = 0; i < s->nlist; i++) {
			struct sim_instance *in = s->list[i];
			bool ok = in && !in->leave_ms && !in->launch_failed;

			if (ok && env) {
				ok = false;
				for (size_t t = 0; t < in->ntags && !ok; t++)
					ok = !strcmp(in->tags[t].key, "spotenv:env") &&
					     !strcmp(in->tags[t].value, env->valuestring);
			}
			if (ok)
				cand[n++] = in;
		}
		for (size_t i = 0; i < want && i < n; i++) {
			size_t j = i + (size_t)(sim_rand(s) % (n - i));
			struct sim_instance *tmp = cand[i];

			cand[i] = cand[j];
			cand[j] = tmp;
			sim_instance_leave(s, cand[i], true, now);
			s->stats.reclaimed++;
			cJSON_AddItemToArray(done, cJSON_CreateString(cand[i]->id));
		}
		free(cand);
	}
	render(out, 200, doc);
}

static void ctl_pool(struct sim *s, const cJSON *body, struct sim_response *out)
{
	const char *region =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "region"));
	const char *zone =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "zone"));
	const char *type = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(body, "instanceType"));
	const cJSON *stock = cJSON_GetObjectItemCaseSensitive(body, "stock");
	const cJSON *price = cJSON_GetObjectItemCaseSensitive(body, "price");
	const cJSON *spot = cJSON_GetObjectItemCaseSensitive(body, "spot");
	int zi, pi;
	struct err e = ERR_INIT;

	if (!zone || !type)
		return ctl_error(out, 400, "give 'zone' and 'instanceType'");
	if ((zi = sim_find_zone(s, zone)) < 0)
		return ctl_error(out, 404, "zone '%s' not found", zone);
	if (region && strcmp(region, s->regions[s->zones[zi].region].name))
		return ctl_error(out, 400, "zone '%s' is not in region '%s'", zone,
				 region);
	if (stock && (!cJSON_IsNumber(stock) || stock->valuedouble < 0 ||
		      stock->valuedouble > 1e8))
		return ctl_error(out, 400, "'stock' must be a whole number >= 0");
	if (price && (!cJSON_IsString(price) || !dec_valid(price->valuestring)))
		return ctl_error(out, 400,
				 "'price' must be a decimal string such as \"0.12\"");
	if (spot && !cJSON_IsBool(spot))
		return ctl_error(out, 400, "'spot' must be true or false");
	if ((pi = sim_find_pool(s, zi, type)) < 0) {
		int cpu = 0, mem = 0;

		if (!price || !sim_type_shape(type, &cpu, &mem))
			return ctl_error(
				out, 404,
				"pool '%s' in '%s' not found (a new pool needs 'price' and a type name like S5.MEDIUM4)",
				type, zone);
		if (sim_add_pool(s, zi, type, cpu, mem, 0, price->valuestring, &e) < 0) {
			ctl_error(out, 400, "%s", e.msg);
			err_clear(&e);
			return;
		}
		pi = (int)s->npools - 1;
	}
	if (stock)
		s->pools[pi].stock = (int64_t)stock->valuedouble;
	if (spot)
		s->pools[pi].spot = cJSON_IsTrue(spot);
	if (price) {
		char *norm = dec_normalize(price->valuestring);

		snprintf(s->pools[pi].price, sizeof(s->pools[pi].price), "%s", norm);
		free(norm);
	}
	render(out, 200, sim_pool_json(s, &s->pools[pi]));
}

/*
 * The instances named by body's "instanceIds" (every one must exist, else
 * 404 naming it); NULL after answering an error.  Caller frees the array.
 */
static struct sim_instance **ctl_instances(struct sim *s, const cJSON *body, size_t *n,
					   struct sim_response *out)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "instanceIds"), *v;
	struct sim_instance **found;

	*n = 0;
	if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
		ctl_error(out, 400, "give 'instanceIds', a non-empty array of strings");
		return NULL;
	}
	found = xcalloc((size_t)cJSON_GetArraySize(ids), sizeof(*found));
	cJSON_ArrayForEach (v, ids) {
		if (!cJSON_IsString(v) ||
		    !(found[*n] = sim_instance_find(s, v->valuestring))) {
			ctl_error(out, cJSON_IsString(v) ? 404 : 400,
				  "instance '%s' not found",
				  cJSON_IsString(v) ? v->valuestring : "?");
			free(found);
			*n = 0;
			return NULL;
		}
		(*n)++;
	}
	return found;
}

/* POST /_sim/protect {"instanceIds":[...],"protected":BOOL}: termination protection. */
static void ctl_protect(struct sim *s, const cJSON *body, struct sim_response *out)
{
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "protected");
	struct sim_instance **ins;
	cJSON *doc, *a;
	size_t n;

	if (!cJSON_IsBool(on))
		return ctl_error(out, 400, "give 'protected': true or false");
	if (!(ins = ctl_instances(s, body, &n, out)))
		return;
	doc = cJSON_CreateObject();
	cJSON_AddBoolToObject(doc, "protected", cJSON_IsTrue(on));
	a = cJSON_AddArrayToObject(doc, "instanceIds");
	for (size_t i = 0; i < n; i++) {
		ins[i]->protect = cJSON_IsTrue(on);
		cJSON_AddItemToArray(a, cJSON_CreateString(ins[i]->id));
	}
	free(ins);
	render(out, 200, doc);
}

/*
 * POST /_sim/operate {"instanceIds":[...],"operation":"reboot|stop|start","ms":N}:
 * an operation started on the instances from elsewhere (the console, another
 * tool).  reboot: RUNNING -> REBOOTING for ms -> RUNNING; stop: RUNNING ->
 * STOPPING -> STOPPED; start: STOPPED -> STARTING -> RUNNING.  An instance
 * in another state fails the whole request (409).
 */
static void ctl_operate(struct sim *s, const cJSON *body, struct sim_response *out,
			int64_t now)
{
	static const struct {
		const char *name, *from;
		enum sim_op op;
	} ops[] = {
		{ "reboot", "RUNNING", SIM_OP_REBOOT },
		{ "stop", "RUNNING", SIM_OP_STOP },
		{ "start", "STOPPED", SIM_OP_START },
	};
	const char *name =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "operation"));
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(body, "ms");
	struct sim_instance **ins;
	int64_t dur = 5000;
	cJSON *doc, *a;
	size_t n, k;

	for (k = 0; name && k < ARRAY_SIZE(ops); k++)
		if (!strcmp(name, ops[k].name))
			break;
	if (!name || k == ARRAY_SIZE(ops))
		return ctl_error(out, 400, "give 'operation': reboot, stop or start");
	if (ms && !(cJSON_IsNumber(ms) && ms->valuedouble >= 0 &&
		    ms->valuedouble <= 86400000.0 * 365))
		return ctl_error(out, 400, "'ms' must be a number of milliseconds >= 0");
	if (ms)
		dur = (int64_t)ms->valuedouble;
	if (!(ins = ctl_instances(s, body, &n, out)))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *st = sim_instance_state(ins[i], now);

		if (strcmp(st, ops[k].from)) {
			ctl_error(out, 409, "instance '%s' is %s: '%s' needs %s",
				  ins[i]->id, st, ops[k].name, ops[k].from);
			free(ins);
			return;
		}
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "operation", ops[k].name);
	a = cJSON_AddArrayToObject(doc, "instanceIds");
	for (size_t i = 0; i < n; i++) {
		ins[i]->op = ops[k].op;
		ins[i]->op_until_ms = now + dur;
		cJSON_AddItemToArray(a, cJSON_CreateString(ins[i]->id));
	}
	free(ins);
	render(out, 200, doc);
}

static void sim_reset(struct sim *s, int64_t now)
{
	sim_world_clear_instances(s);
	for (size_t i = 0; i < s->npools; i++) {
		s->pools[i].stock = s->pools[i].initial_stock;
		memcpy(s->pools[i].price, s->pools[i].initial_price,
		       sizeof(s->pools[i].price));
		s->pools[i].spot = s->pools[i].initial_spot;
	}
	sim_stats_clear(s);
	s->faults = s->initial_faults;
	sim_sts_free(s); /* settings, counters and temporary credentials */
	sim_rates_setup(s);
	s->reclaim_last_ms = now;
	s->reclaim_carry = 0;
}

static void handle_control(struct sim *s, const struct sim_request *req,
			   struct sim_response *out, int64_t now)
{
	const char *what = req->path + strlen("/_sim/");
	bool get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
	cJSON *body = NULL;

	if (post) {
		body = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len)
				     : cJSON_CreateObject();
		if (!cJSON_IsObject(body)) {
			cJSON_Delete(body);
			return ctl_error(out, 400,
					 "the request body must be a JSON object");
		}
	}
	if (!strcmp(what, "stats") && get) {
		render(out, 200, sim_stats_json(s));
	} else if (!strcmp(what, "state") && get) {
		render(out, 200, sim_state_json(s, now));
	} else if (!strcmp(what, "faults") && (get || post)) {
		struct err e = ERR_INIT;

		if (post && sim_faults_apply_json(&s->faults, body, &e) < 0) {
			ctl_error(out, 400, "%s", e.msg);
			err_clear(&e);
		} else {
			if (post)
				sim_rates_setup(s);
			render(out, 200, sim_faults_json(&s->faults));
		}
	} else if (!strcmp(what, "clock") && (get || post)) {
		const cJSON *abs = cJSON_GetObjectItemCaseSensitive(body, "now");
		const cJSON *off = cJSON_GetObjectItemCaseSensitive(body, "offsetMs");
		cJSON *doc;

		if ((abs && !(cJSON_IsNumber(abs) && abs->valuedouble >= 0 &&
			      abs->valuedouble < 1e15)) ||
		    (off && !(cJSON_IsNumber(off) && off->valuedouble > -1e15 &&
			      off->valuedouble < 1e15)) ||
		    (abs && off)) {
			cJSON_Delete(body);
			return ctl_error(
				out, 400,
				"give 'now' (ms since the epoch) or 'offsetMs', numbers");
		}
		if (abs)
			s->clock_offset_ms += (int64_t)abs->valuedouble - now;
		else if (off)
			s->clock_offset_ms = (int64_t)off->valuedouble;
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "now", (double)sim_now(s));
		cJSON_AddNumberToObject(doc, "offsetMs", (double)s->clock_offset_ms);
		render(out, 200, doc);
	} else if (!strcmp(what, "pool") && get) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; i < s->npools; i++)
			cJSON_AddItemToArray(a, sim_pool_json(s, &s->pools[i]));
		render(out, 200, a);
	} else if (!strcmp(what, "pool") && post) {
		ctl_pool(s, body, out);
	} else if (!strcmp(what, "reclaim") && post) {
		ctl_reclaim(s, body, out, now);
	} else if (!strcmp(what, "protect") && post) {
		ctl_protect(s, body, out);
	} else if (!strcmp(what, "operate") && post) {
		ctl_operate(s, body, out, now);
	} else if (!strcmp(what, "sts") && (get || post)) {
		sim_sts_control(s, req, body, out);
	} else if (!strcmp(what, "reset") && post) {
		cJSON *doc = cJSON_CreateObject();

		sim_reset(s, now);
		cJSON_AddBoolToObject(doc, "reset", true);
		render(out, 200, doc);
	} else if (!strcmp(what, "stats") || !strcmp(what, "state") ||
		   !strcmp(what, "pool") || !strcmp(what, "reclaim") ||
		   !strcmp(what, "reset") || !strcmp(what, "clock") ||
		   !strcmp(what, "protect") || !strcmp(what, "operate")) {
		ctl_error(out, 405, "method %s is not allowed on '/_sim/%s'", req->method,
			  what);
	} else {
		ctl_error(out, 404, "no control endpoint '/_sim/%s'", what);
	}
	cJSON_Delete(body);
}

/* A header value fit for a log line: printable ASCII, at most 64 characters. */
static void log_value(char *dst, size_t size, const char *v)
{
	size_t k = 0;

	for (; v && *v && k + 1 < size && k < 64; v++)
		dst[k++] = (*v >= 0x20 && *v < 0x7f) ? *v : '?';
	dst[k] = '\0';
	if (!k)
		snprintf(dst, size, "-");
}

static void log_request(struct sim *s, const struct sim_request *req,
			const struct sim_response *out, int64_t now)
{
	char action[80], region[80], path[80], *line;

	if (strcmp(req->path, "/")) {
		log_value(path, sizeof(path), req->path);
		log_value(action, sizeof(action), req->method);
		line = xasprintf("control %s %s -> %d", action, path, out->status);
	} else {
		log_value(action, sizeof(action), find_header(req, "x-tc-action"));
		log_value(region, sizeof(region), find_header(req, "x-tc-region"));
		line = xasprintf("%s %s -> %s%s (%" PRId64 " instances)", action, region,
				 out->error_code ? out->error_code : "ok",
				 out->drop ? ", connection dropped" : "",
				 (int64_t)s->ninstances);
	}
	UNUSED(now);
	s->opts.log(s->opts.log_ctx, line);
	free(line);
}

void sim_handle(struct sim *s, const struct sim_request *req, struct sim_response *out)
{
	int64_t now;

	out->status = 200;
	out->drop = false;
	out->delay_ms = 0;
	out->error_code = NULL;
	out->doc = NULL;
	pthread_mutex_lock(&s->mu);
	now = sim_now(s);
	sim_advance(s, now);
	if (!strncmp(req->path, "/_sim/", 6))
		handle_control(s, req, out, now);
	else if (sim_sts_route(req))
		sim_sts_handle(s, req, out, now); /* metadata and STS */
	else if (!strcmp(req->path, "/"))
		handle_api(s, req, out, now);
	else
		ctl_error(
			out, 404,
			"not found: the CVM API is at '/', the control API under '/_sim/'");
	if (s->opts.log)
		log_request(s, req, out, now);
	pthread_mutex_unlock(&s->mu);
	render_text(out);
}

void sim_response_clear(struct sim_response *r)
{
	if (!r)
		return;
	buf_release(&r->body);
	cJSON_Delete(r->doc);
	memset(r, 0, sizeof(*r));
}

size_t sim_instance_count(struct sim *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	sim_advance(s, sim_now(s));
	n = s->ninstances;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ------------------------------------------------------------------ */
/* Life cycle */

static void apply_flags(struct sim_faults *f, const struct sim_opts *o)
{
	if (o->latency_ms >= 0)
		f->latency_ms = o->latency_ms;
	if (o->pending_ms >= 0)
		f->pending_ms = o->pending_ms;
	if (o->terminating_ms >= 0)
		f->terminating_ms = o->terminating_ms;
	if (o->tag_lag_ms >= 0)
		f->tag_lag_ms = o->tag_lag_ms;
	if (o->internal_error_rate >= 0)
		f->internal_error_rate = o->internal_error_rate;
	if (o->drop_after_commit_rate >= 0)
		f->drop_after_commit_rate = o->drop_after_commit_rate;
	if (o->reclaim_per_minute >= 0)
		f->reclaim_per_minute = o->reclaim_per_minute;
	if (o->launch_fail_rate >= 0)
		f->launch_fail_rate = o->launch_fail_rate;
	if (o->launch_failed_ttl_ms >= 0)
		f->launch_failed_ttl_ms = o->launch_failed_ttl_ms;
	if (o->spot_quota_vcpu >= 0)
		f->spot_quota_vcpu = o->spot_quota_vcpu;
	if (o->no_rate_limits)
		f->rate_limits = false;
}

static int load_state_file(struct sim *s, const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	cJSON *root;
	int error;

	if (!f) {
		if (errno == ENOENT)
			return 0; /* first run */
		return err_set(e, ERR_GENERIC, "cannot open state file '%s': %s", path,
			       strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(&b, chunk, n);
	fclose(f);
	root = cJSON_ParseWithLength(buf_str(&b), b.len);
	buf_release(&b);
	if (!root)
		return err_set(e, ERR_INVALID, "state file '%s' is not valid JSON", path);
	error = sim_state_load_json(s, root, e);
	cJSON_Delete(root);
	if (error)
		err_set(e, error, "state file '%s' cannot be loaded", path);
	return error;
}

int sim_new(struct sim **out, const struct sim_opts *opts, struct err *e)
{
	struct sim *s = xcalloc(1, sizeof(*s));
	struct sim_opts defaults = SIM_OPTS_INIT;
	int error;

	*out = NULL;
	s->opts = opts ? *opts : defaults;
	pthread_mutex_init(&s->mu, NULL);
	s->rng = s->opts.seed * 0x2545f4914f6cdd1dULL + 0x1234567;
	s->app_id = SIM_DEFAULT_APP_ID;
	sim_faults_default(&s->faults);
	error = s->opts.config_path ? sim_world_load(s, s->opts.config_path, e)
				    : sim_world_builtin(s, e);
	if (error)
		goto fail;
	s->initial_faults = s->faults;
	apply_flags(&s->initial_faults, &s->opts);
	if (s->opts.state_path && (error = load_state_file(s, s->opts.state_path, e)))
		goto fail;
	apply_flags(&s->faults, &s->opts);
	sim_rates_setup(s);
	s->reclaim_last_ms = sim_now(s);
	*out = s;
	return 0;
fail:
	sim_free(s);
	return error;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	sim_stop(s);
	sim_world_clear_instances(s);
	for (size_t i = 0; i < s->nzones; i++)
		free(s->zones[i].name);
	free(s->zones);
	for (size_t i = 0; i < s->npools; i++) {
		free(s->pools[i].type);
		free(s->pools[i].family);
	}
	free(s->pools);
	for (size_t i = 0; i < s->ncreds; i++) {
		free(s->creds[i].id);
		secure_free_str(s->creds[i].key);
	}
	free(s->creds);
	sim_sts_free(s);
	sim_rates_release(s);
	sim_stats_clear(s);
	for (size_t i = 0; i < s->nregions; i++)
		free(s->regions[i].name);
	free(s->regions);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int sim_save_state(struct sim *s, struct err *e)
{
	const char *path = s->opts.state_path;
	char *tmp, *text;
	cJSON *doc;
	FILE *f;
	int error = 0;

	if (!path)
		return 0;
	pthread_mutex_lock(&s->mu);
	doc = sim_state_json(s, sim_now(s));
	pthread_mutex_unlock(&s->mu);
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "wb"))) {
		error = err_set(e, ERR_GENERIC, "cannot write state file '%s': %s", tmp,
				strerror(errno));
		goto done;
	}
	if (fputs(text, f) < 0 || fputc('\n', f) < 0 || fflush(f) || fsync(fileno(f))) {
		error = err_set(e, ERR_GENERIC, "cannot write state file '%s': %s", tmp,
				strerror(errno));
		fclose(f);
		unlink(tmp);
		goto done;
	}
	if (fclose(f) || rename(tmp, path)) {
		error = err_set(e, ERR_GENERIC, "cannot save state file '%s': %s", path,
				strerror(errno));
		unlink(tmp);
	}
done:
	free(text);
	free(tmp);
	return error;
}

/* ------------------------------------------------------------------ */
/* HTTP (libmicrohttpd, thread per connection) */

struct sim_conn {
	struct buf body;
	bool too_big;
};

struct header_list {
	struct tc_header *v;
	size_t n, alloc;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct header_list *l = cls;

	UNUSED(kind);
	if (l->n >= 256)
		return MHD_NO;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].name = key;
	l->v[l->n].value = value ? value : "";
	l->n++;
	return MHD_YES;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct sim *s = cls;
	struct sim_conn *sc = *con_cls;
	struct header_list hl = { NULL, 0, 0 };
	struct sim_response resp = SIM_RESPONSE_INIT;
	struct sim_request req;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	UNUSED(version);
	if (!sc) {
		sc = xcalloc(1, sizeof(*sc));
		buf_init(&sc->body, SIM_MAX_BODY);
		*con_cls = sc;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (buf_put(&sc->body, upload_data, *upload_data_size) < 0)
			sc->too_big = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (sc->too_big) {
		static const char msg[] = "{\"error\":\"request body too large\"}";

		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, 413, r);
		MHD_destroy_response(r);
		return ret;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hl);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.query = "";
	req.headers = hl.v;
	req.nheaders = hl.n;
	req.body = buf_str(&sc->body);
	req.body_len = sc->body.len;
	sim_handle(s, &req, &resp);
	free(hl.v);
	if (resp.delay_ms > 0)
		sleep_ms(resp.delay_ms);
	if (resp.drop) {
		sim_response_clear(&resp);
		return MHD_NO; /* closes the connection without an answer */
	}
	/* handed over, not copied: a page of instances is ~150 KB */
	body = buf_detach(&resp.body, &len);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, (unsigned int)resp.status, r);
	MHD_destroy_response(r);
	sim_response_clear(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sim_conn *sc = *con_cls;

	UNUSED(cls);
	UNUSED(conn);
	UNUSED(toe);
	if (sc) {
		buf_release(&sc->body);
		free(sc);
		*con_cls = NULL;
	}
}

/* Parse "HOST:PORT" into a loopback socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
			bool *v6, struct err *e)
{
	char host[64];
	const char *colon, *h = listen, *hend;
	long port;
	char *end;

	if (listen[0] == '[') {
		hend = strchr(listen, ']');
		if (!hend || hend[1] != ':')
			return err_set(e, ERR_INVALID, "cannot parse listen address '%s'",
				       listen);
		h = listen + 1;
		colon = hend + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return err_set(
				e, ERR_INVALID,
				"listen address '%s' needs a port (127.0.0.1:PORT)",
				listen);
		hend = colon;
	}
	if ((size_t)(hend - h) >= sizeof(host))
		return err_set(e, ERR_INVALID, "cannot parse listen address '%s'",
			       listen);
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || !colon[1] || *end || port < 0 || port > 65535)
		return err_set(e, ERR_INVALID, "invalid port in listen address '%s'",
			       listen);
	memset(ss, 0, sizeof(*ss));
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
			if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
				return err_set(
					e, ERR_INVALID,
					"refusing to listen on '%s': only loopback addresses are allowed",
					listen);
			a4->sin_family = AF_INET;
			a4->sin_port = htons((uint16_t)port);
			*len = sizeof(*a4);
			*v6 = false;
		} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
				return err_set(
					e, ERR_INVALID,
					"refusing to listen on '%s': only loopback addresses are allowed",
					listen);
			a6->sin6_family = AF_INET6;
			a6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*a6);
			*v6 = true;
		} else {
			return err_set(
				e, ERR_INVALID,
				"refusing to listen on '%s': only loopback addresses are allowed",
				listen);
		}
	}
	return 0;
}

int sim_listen(struct sim *s, const char *listen, struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	bool v6 = false;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	char host[64];
	int error;

	if (s->daemon)
		return err_set(e, ERR_GENERIC, "the emulator is already listening");
	if ((error = parse_listen(listen, &ss, &len, &v6, e)))
		return error;
	d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
			(v6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)512,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
	if (!d)
		return err_set(e, ERR_GENERIC, "cannot listen on '%s': %s", listen,
			       errno ? strerror(errno) : "libmicrohttpd failed to start");
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	s->daemon = d;
	s->port = info ? info->port : 0;
	if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
			  sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
			  sizeof(host));
	snprintf(s->url, sizeof(s->url), v6 ? "http://[%s]:%d" : "http://%s:%d", host,
		 s->port);
	return 0;
}

int sim_port(const struct sim *s)
{
	return s->port;
}

const char *sim_url(const struct sim *s)
{
	return s->url;
}

void sim_stop(struct sim *s)
{
	if (s && s->daemon) {
		MHD_stop_daemon(s->daemon);
		s->daemon = NULL;
	}
}
