/*
 * ctl.c - `spotenv sim ctl`'s side of the control API: one function per
 * verb, each one HTTP request to a running emulator's /_sim/ endpoints.
 *
 * Why in sim/: the control API is the emulator's own protocol (server.c
 * answers it); its client belongs next to it, as library code that builds
 * the request, sends it and hands back the answer, so cmd/ only parses
 * options and prints.  Plain HTTP on loopback, no signature, no retries:
 * a test that drives the emulator wants to see a failure at once.
 */
#include "../util/setup.h"
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "sim.h"

/* 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), localhost. */
static bool sim_ctl_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[64];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' &&
	    host[n - 1] == ']') { /* curl keeps IPv6 brackets */
		if (n - 2 >= sizeof(h))
			return false;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		host = h;
	}
	if (!strcasecmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

int sim_ctl_check_endpoint(const char *endpoint, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int error = 0;

	if (!endpoint || !*endpoint) {
		error = err_set(e, ERR_INVALID, "no emulator endpoint given");
	} else if (!u) {
		error = err_set(e, ERR_GENERIC, "cannot initialize libcurl");
	} else if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
		   curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		   curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
		   (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		error = err_set(e, ERR_INVALID,
				"emulator endpoint '%s' is not an http:// URL", endpoint);
	} else if (!sim_ctl_loopback(host)) {
		error = err_set(
			e, ERR_INVALID,
			"emulator endpoint '%s' is not on loopback; 'sim ctl' only talks "
			"to an emulator on this machine (127.0.0.1, ::1 or localhost)",
			endpoint);
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return error;
}

/* The answer as it arrives, and whether it outgrew SIM_CTL_MAX_ANSWER. */
struct sim_ctl_answer {
	struct buf body;
	bool toobig;
};

static size_t sim_ctl_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct sim_ctl_answer *a = ud;

	if (buf_put(&a->body, ptr, size * n) < 0) {
		a->toobig = true;
		return 0;
	}
	return size * n;
}

/* The "error" of an error answer, else the answer itself. */
static int sim_ctl_answer_error(const struct buf *answer, struct err *e)
{
	cJSON *r = cJSON_ParseWithLength(buf_str(answer), answer->len);
	const char *msg =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "error"));
	int error = err_set(e, ERR_INVALID, "%s", msg ? msg : buf_str(answer));

	cJSON_Delete(r);
	return error;
}

/*
 * Send one request to endpoint/_sim/verb: a POST of body when post, else a
 * GET.  Appends a 2xx answer's body to out.
 */
static int sim_ctl_send(struct buf *out, const char *endpoint, const char *verb,
			bool post, const char *body, struct err *e)
{
	struct sim_ctl_answer answer = { BUF_INIT, false };
	struct curl_slist *hdrs = NULL;
	CURL *curl = NULL;
	char *url = NULL;
	long status = 0;
	CURLcode rc;
	int error = 0;

	if ((error = sim_ctl_check_endpoint(endpoint, e)) < 0)
		return error;
	buf_init(&answer.body, SIM_CTL_MAX_ANSWER);
	url = xasprintf("%s%s_sim/%s", endpoint,
			endpoint[strlen(endpoint) - 1] == '/' ? "" : "/", verb);
	if (!(curl = curl_easy_init())) {
		error = err_set(e, ERR_GENERIC, "cannot initialize libcurl");
		goto done;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sim_ctl_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* loopback only: no proxy in between, no redirect elsewhere */
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (post)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "{}");
	rc = curl_easy_perform(curl);
	if (answer.toobig) {
		error = err_set(e, ERR_TOOBIG,
				"the emulator's answer is larger than %u MiB",
				SIM_CTL_MAX_ANSWER >> 20);
		goto done;
	}
	if (rc != CURLE_OK) {
		error = err_set(e, ERR_NET, "cannot reach the emulator at '%s': %s",
				endpoint, curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 400)
		error = sim_ctl_answer_error(&answer.body, e);
	else if (buf_put(out, buf_str(&answer.body), answer.body.len) < 0)
		error = err_set(e, ERR_TOOBIG, "the emulator's answer is too large");
done:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	free(url);
	buf_release(&answer.body);
	return error;
}

/* POST doc (or json, when given); doc is freed. */
static int sim_ctl_post(struct buf *out, const char *endpoint, const char *verb,
			cJSON *doc, const char *json, struct err *e)
{
	char *body = json ? NULL : cJSON_PrintUnformatted(doc);
	int error;

	if (!json && !body)
		error = err_set(e, ERR_GENERIC, "cannot render the request body");
	else
		error = sim_ctl_send(out, endpoint, verb, true, json ? json : body, e);
	free(body);
	cJSON_Delete(doc);
	return error;
}

int sim_ctl_stats(struct buf *out, const char *endpoint, struct err *e)
{
	return sim_ctl_send(out, endpoint, "stats", false, NULL, e);
}

int sim_ctl_state(struct buf *out, const char *endpoint, struct err *e)
{
	return sim_ctl_send(out, endpoint, "state", false, NULL, e);
}

int sim_ctl_reset(struct buf *out, const char *endpoint, const char *json, struct err *e)
{
	return sim_ctl_send(out, endpoint, "reset", true, json ? json : "{}", e);
}

int sim_ctl_clock(struct buf *out, const char *endpoint, const char *json, struct err *e)
{
	return sim_ctl_send(out, endpoint, "clock", json != NULL, json, e);
}

int sim_ctl_sts(struct buf *out, const char *endpoint, const char *json, struct err *e)
{
	return sim_ctl_send(out, endpoint, "sts", json != NULL, json, e);
}

static void sim_ctl_add_int(cJSON *o, const char *key, int64_t v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, (double)v);
}

static void sim_ctl_add_switch(cJSON *o, const char *key, int v)
{
	if (v >= 0)
		cJSON_AddBoolToObject(o, key, v > 0);
}

static void sim_ctl_add_rate(cJSON *o, const char *key, double v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, v);
}

int sim_ctl_faults(struct buf *out, const char *endpoint, const struct sim_ctl_faults *f,
		   const char *json, struct err *e)
{
	cJSON *doc = cJSON_CreateObject();

	sim_ctl_add_int(doc, "latencyMs", f->latency_ms);
	sim_ctl_add_int(doc, "pendingMs", f->pending_ms);
	sim_ctl_add_int(doc, "terminatingMs", f->terminating_ms);
	sim_ctl_add_int(doc, "tagLagMs", f->tag_lag_ms);
	sim_ctl_add_rate(doc, "internalErrorRate", f->internal_error_rate);
	sim_ctl_add_rate(doc, "dropAfterCommitRate", f->drop_after_commit_rate);
	sim_ctl_add_rate(doc, "reclaimPerMinute", f->reclaim_per_minute);
	sim_ctl_add_rate(doc, "launchFailRate", f->launch_fail_rate);
	sim_ctl_add_int(doc, "launchFailedTtlMs", f->launch_failed_ttl_ms);
	sim_ctl_add_int(doc, "spotQuotaVcpu", f->spot_quota_vcpu);
	sim_ctl_add_rate(doc, "operationInProgressRate", f->operation_in_progress_rate);
	sim_ctl_add_switch(doc, "insufficientBalance", f->insufficient_balance);
	sim_ctl_add_switch(doc, "accountQuotaUnsupported", f->account_quota_unsupported);
	sim_ctl_add_switch(doc, "rateLimits", f->rate_limits);
	if (!json && cJSON_GetArraySize(doc) == 0) {
		cJSON_Delete(doc);
		return sim_ctl_send(out, endpoint, "faults", false, NULL, e);
	}
	return sim_ctl_post(out, endpoint, "faults", doc, json, e);
}

int sim_ctl_pool(struct buf *out, const char *endpoint, const struct sim_ctl_pool *p,
		 const char *json, struct err *e)
{
	cJSON *doc;

	if (!json && !p->zone && !p->type)
		return sim_ctl_send(out, endpoint, "pool", false, NULL, e);
	doc = cJSON_CreateObject();
	if (p->region)
		cJSON_AddStringToObject(doc, "region", p->region);
	if (p->zone)
		cJSON_AddStringToObject(doc, "zone", p->zone);
	if (p->type)
		cJSON_AddStringToObject(doc, "instanceType", p->type);
	sim_ctl_add_int(doc, "stock", p->stock);
	if (p->price)
		cJSON_AddStringToObject(doc, "price", p->price);
	sim_ctl_add_switch(doc, "spot", p->spot);
	return sim_ctl_post(out, endpoint, "pool", doc, json, e);
}

/* {"instanceIds":[...]} with ids added. */
static cJSON *sim_ctl_ids_doc(const char *const *ids, size_t nids)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *a = cJSON_AddArrayToObject(doc, "instanceIds");

	for (size_t i = 0; i < nids; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
	return doc;
}

int sim_ctl_reclaim(struct buf *out, const char *endpoint,
		    const struct sim_ctl_reclaim *r, const char *json, struct err *e)
{
	cJSON *doc;

	if (r->nids) {
		doc = sim_ctl_ids_doc(r->ids, r->nids);
	} else {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "count", r->count >= 0 ? r->count : 1);
		if (r->env)
			cJSON_AddStringToObject(doc, "env", r->env);
	}
	return sim_ctl_post(out, endpoint, "reclaim", doc, json, e);
}

int sim_ctl_protect(struct buf *out, const char *endpoint, const char *const *ids,
		    size_t nids, bool on, const char *json, struct err *e)
{
	cJSON *doc = sim_ctl_ids_doc(ids, nids);

	cJSON_AddBoolToObject(doc, "protected", on);
	return sim_ctl_post(out, endpoint, "protect", doc, json, e);
}

int sim_ctl_operate(struct buf *out, const char *endpoint, const char *operation,
		    const char *const *ids, size_t nids, int64_t ms, const char *json,
		    struct err *e)
{
	cJSON *doc = sim_ctl_ids_doc(ids, nids);

	if (operation)
		cJSON_AddStringToObject(doc, "operation", operation);
	sim_ctl_add_int(doc, "ms", ms);
	return sim_ctl_post(out, endpoint, "operate", doc, json, e);
}
