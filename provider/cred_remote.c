/*
 * cred_remote.c - temporary credentials: the CVM role of the instance
 * metadata service, STS AssumeRole and AssumeRoleWithWebIdentity, their
 * answers, and when to fetch them again.
 *
 * Shapes as the official SDKs use them (../shared/tencent-api.md 12.1):
 * the metadata service answers the role name as text, then the role's
 * JSON {TmpSecretId, TmpSecretKey, Token, ExpiredTime, Code}; STS
 * (service sts, version 2018-08-13) answers Credentials{TmpSecretId,
 * TmpSecretKey, Token} and ExpiredTime.  AssumeRole is TC3-signed with the
 * base credentials; AssumeRoleWithWebIdentity is sent with
 * "Authorization: SKIP".
 *
 * Plain http goes only to loopback and to the metadata host itself
 * (reachable only inside a CVM).  The metadata service gets one short
 * budget for the whole probe (500 ms for the role-name GET and the role
 * GET together, 300 ms at most to connect), so a machine that is not a
 * CVM falls through quickly, whether nothing answers the connection or
 * something accepts it and stays silent.  Bodies holding secrets are
 * wiped; logs name the call, never a key or token.
 */
#include "../util/setup.h"
#include "cred_int.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>

#define TC_CRED_BODY_MAX (64u << 10)
#define TC_METADATA_HOST "metadata.tencentyun.com"
#define TC_METADATA_CONNECT_MS 300L /* per connection */
#define TC_METADATA_BUDGET_MS 500L  /* the whole probe: every GET together */
#define TC_STS_CONNECT_MS 5000L
#define TC_STS_TOTAL_MS 15000L

/* ---------------------------------------------------------------------
 * Specs and copies.
 */

struct tc_cred_spec *tc_cred_spec_new(enum tc_cred_kind kind)
{
	struct tc_cred_spec *s = xcalloc(1, sizeof(*s));

	s->kind = kind;
	s->duration = TC_ROLE_DURATION_DEFAULT;
	return s;
}

void tc_cred_spec_free(struct tc_cred_spec *s)
{
	if (!s)
		return;
	free(s->metadata);
	free(s->role_name);
	free(s->looked);
	free(s->sts);
	free(s->region);
	free(s->role_arn);
	free(s->session_name);
	free(s->provider_id);
	free(s->token_file);
	free(s->base_source);
	if (s->base) {
		tc_cred_clear(s->base);
		free(s->base);
	}
	free(s);
}

static struct tc_cred_spec *tc_cred_spec_copy(const struct tc_cred_spec *in)
{
	struct tc_cred_spec *s;

	if (!in)
		return NULL;
	s = tc_cred_spec_new(in->kind);
	s->metadata = tc_dup(in->metadata);
	s->role_name = tc_dup(in->role_name);
	s->last_resort = in->last_resort;
	s->looked = tc_dup(in->looked);
	s->sts = tc_dup(in->sts);
	s->region = tc_dup(in->region);
	s->role_arn = tc_dup(in->role_arn);
	s->session_name = tc_dup(in->session_name);
	s->duration = in->duration;
	s->retry_after = in->retry_after;
	s->provider_id = tc_dup(in->provider_id);
	s->token_file = tc_dup(in->token_file);
	s->base_source = tc_dup(in->base_source);
	if (in->base) {
		s->base = xcalloc(1, sizeof(*s->base));
		tc_cred_copy(s->base, in->base);
	}
	return s;
}

void tc_cred_copy(struct tc_cred *out, const struct tc_cred *in)
{
	memset(out, 0, sizeof(*out));
	out->secret_id = tc_dup(in->secret_id);
	out->secret_key = tc_dup(in->secret_key);
	out->token = in->token && *in->token ? xstrdup(in->token) : NULL;
	out->source = tc_dup(in->source);
	out->expires = in->expires;
	out->issued = in->issued;
	out->spec = tc_cred_spec_copy(in->spec);
}

bool tc_cred_due(const struct tc_cred *cred, int64_t now)
{
	int64_t early = TC_CRED_REFRESH_EARLY, life;

	if (!cred->spec)
		return false;
	if (!cred->secret_id || !cred->secret_key || !cred->expires)
		return true;
	/* a renewal just failed: the keys serve on for a while */
	if (cred->spec->retry_after && now < cred->spec->retry_after &&
	    now < cred->expires)
		return false;
	life = cred->expires - cred->issued;
	if (life < 2 * early)
		early = life > 0 ? life / 2 : 0;
	return now >= cred->expires - early;
}

/* ---------------------------------------------------------------------
 * Parsing the answers.
 */

static void tc_cred_wipe_json(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			secure_wipe(j->valuestring, strlen(j->valuestring));
		tc_cred_wipe_json(j->child);
	}
}

/* A required non-empty string field; the error names the field only. */
static int tc_cred_field(char **dst, const cJSON *obj, const char *key, const char *what,
			 struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(v) || !*v->valuestring)
		return err_set(e, ERR_AUTH, "%s lacks '%s'", what, key);
	*dst = xstrdup(v->valuestring);
	return 0;
}

/* ExpiredTime: Unix seconds, a number or a string of digits. */
static int tc_cred_expiry(int64_t *out, const cJSON *obj, int64_t now, const char *what,
			  struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "ExpiredTime");
	int64_t t = 0;

	if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e12)
		t = (int64_t)v->valuedouble;
	else if (cJSON_IsString(v) && *v->valuestring &&
		 strspn(v->valuestring, "0123456789") == strlen(v->valuestring) &&
		 strlen(v->valuestring) < 12)
		t = (int64_t)strtoll(v->valuestring, NULL, 10);
	if (!t)
		return err_set(e, ERR_AUTH, "%s lacks a valid 'ExpiredTime'", what);
	if (t <= now)
		return err_set(e, ERR_AUTH, "%s holds credentials that expired already",
			       what);
	*out = t;
	return 0;
}

static void tc_cred_keys_clear(struct tc_cred *c)
{
	secure_free_str(c->secret_id);
	secure_free_str(c->secret_key);
	secure_free_str(c->token);
	c->secret_id = c->secret_key = c->token = NULL;
}

/* Fill out's keys from obj's TmpSecretId, TmpSecretKey, Token. */
static int tc_cred_tmp_keys(struct tc_cred *out, const cJSON *keys, const cJSON *exp_obj,
			    int64_t now, const char *what, struct err *e)
{
	struct tc_cred t = { 0 };
	int error = 0;

	if (!error)
		error = tc_cred_field(&t.secret_id, keys, "TmpSecretId", what, e);
	if (!error)
		error = tc_cred_field(&t.secret_key, keys, "TmpSecretKey", what, e);
	if (!error)
		error = tc_cred_field(&t.token, keys, "Token", what, e);
	if (!error)
		error = tc_cred_expiry(&t.expires, exp_obj, now, what, e);
	if (error) {
		tc_cred_keys_clear(&t);
		return error;
	}
	tc_cred_keys_clear(out);
	out->secret_id = t.secret_id;
	out->secret_key = t.secret_key;
	out->token = t.token;
	out->expires = t.expires;
	out->issued = now;
	return 0;
}

int tc_cred_parse_metadata(struct tc_cred *out, const char *body, size_t len, int64_t now,
			   struct err *e)
{
	static const char what[] = "the CVM role's answer";
	cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
	const cJSON *code;
	int error = 0;

	if (!cJSON_IsObject(j)) {
		error = err_set(e, ERR_AUTH, "%s is not a JSON object", what);
		goto done;
	}
	code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	if (!cJSON_IsString(code) || strcmp(code->valuestring, "Success")) {
		error = err_set(e, ERR_AUTH, "%s says Code '%.64s', not 'Success'", what,
				cJSON_IsString(code) ? code->valuestring : "");
		goto done;
	}
	error = tc_cred_tmp_keys(out, j, j, now, what, e);
done:
	tc_cred_wipe_json(j);
	cJSON_Delete(j);
	return error;
}

int tc_cred_parse_sts(struct tc_cred *out, const char *body, size_t len, int64_t now,
		      struct err *e)
{
	static const char what[] = "the STS answer";
	cJSON *j = cJSON_ParseWithLength(body ? body : "", len);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "Response"), *er, *keys;
	int error = 0;

	if (!cJSON_IsObject(r)) {
		error = err_set(e, ERR_API, "%s is not a JSON object with 'Response'",
				what);
		goto done;
	}
	er = cJSON_GetObjectItemCaseSensitive(r, "Error");
	if (er) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(er, "Code");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(er, "Message");
		const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "RequestId");
		const char *code = cJSON_IsString(c) ? c->valuestring : "InternalError";

		error = err_set(e, ERR_API, "STS refused: %s", code);
		err_set_api(e, code, cJSON_IsString(m) ? m->valuestring : NULL,
			    cJSON_IsString(rid) ? rid->valuestring : NULL,
			    tc_classify(code, 0));
		goto done;
	}
	keys = cJSON_GetObjectItemCaseSensitive(r, "Credentials");
	if (!cJSON_IsObject(keys)) {
		error = err_set(e, ERR_AUTH, "%s lacks 'Credentials'", what);
		goto done;
	}
	error = tc_cred_tmp_keys(out, keys, r, now, what, e);
done:
	tc_cred_wipe_json(j);
	cJSON_Delete(j);
	return error;
}

/* ---------------------------------------------------------------------
 * HTTP.
 */

struct tc_cred_url {
	char *url;	 /* as given, trailing slashes dropped */
	char *authority; /* host[:port], the Host header */
	bool loopback;
};

static void tc_cred_url_clear(struct tc_cred_url *u)
{
	free(u->url);
	free(u->authority);
	memset(u, 0, sizeof(*u));
}

static bool tc_cred_is_loopback(const char *host)
{
	struct in_addr a4;

	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1") ||
	    !strcmp(host, "[::1]"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/*
 * Check a base URL: http or https, no query, a path of "/" at most; plain
 * http only for loopback or (metadata) the metadata host.
 */
static int tc_cred_url(struct tc_cred_url *out, const char *url, bool metadata,
		       const char *var, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	int error = 0;

	memset(out, 0, sizeof(*out));
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		error = err_set(e, ERR_INVALID, "%s '%s' is not a URL", var, url);
		goto done;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
		error = err_set(e, ERR_INVALID, "%s '%s' must be an https:// URL", var,
				url);
		goto done;
	}
	if (query || (path && strcmp(path, "/") && *path)) {
		error = err_set(e, ERR_INVALID, "%s '%s' must not have a path or query",
				var, url);
		goto done;
	}
	out->loopback = tc_cred_is_loopback(host);
	if (!strcasecmp(scheme, "http") && !out->loopback &&
	    !(metadata && !strcasecmp(host, TC_METADATA_HOST))) {
		error = err_set(
			e, ERR_INVALID,
			"%s '%s' uses plain http, which is only allowed for loopback "
			"addresses%s",
			var, url, metadata ? " and " TC_METADATA_HOST : "");
		goto done;
	}
	out->authority = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
	out->url = xasprintf("%s://%s", scheme, out->authority);
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return error;
}

static pthread_once_t tc_cred_curl_once = PTHREAD_ONCE_INIT;

static void tc_cred_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT); /* reference counted: the client's too */
}

static size_t tc_cred_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;

	if (buf_put(b, data, size * nmemb))
		return 0;
	return size * nmemb;
}

/*
 * One request.  0 with *status and out (caller wipes with
 * buf_release_secret), or ERR_NET with *status 0 and errbuf said in e.
 */
static int tc_cred_http(struct buf *out, long *status, int64_t *ms, const char *url,
			bool loopback, struct curl_slist *headers, const char *body,
			long connect_ms, long total_ms, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct timespec t0, t1;
	CURL *h;
	CURLcode rc;

	*status = 0;
	buf_init(out, TC_CRED_BODY_MAX);
	pthread_once(&tc_cred_curl_once, tc_cred_curl_init);
	if (!(h = curl_easy_init()))
		return err_set(e, ERR_GENERIC, "cannot prepare an HTTP request");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(body));
	}
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, tc_cred_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	if (loopback)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = curl_easy_perform(h);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 +
	      (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK)
		return err_set(e, ERR_NET, "%s",
			       errbuf[0] ? errbuf : curl_easy_strerror(rc));
	return 0;
}

static void tc_cred_log(void (*log)(void *, const char *), void *ctx, const char *fmt,
			...) SPOTENV_PRINTF(3, 4);
static void tc_cred_log(void (*log)(void *, const char *), void *ctx, const char *fmt,
			...)
{
	va_list ap;
	char *line;

	if (!log)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	log(ctx, line);
	free(line);
}

/* ---------------------------------------------------------------------
 * The CVM role.
 */

static bool tc_cred_role_name_ok(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+=,.@-", *s))
			return false;
	return true;
}

/* Milliseconds from now to deadline (CLOCK_MONOTONIC); 0 once it has passed. */
static long tc_cred_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	int64_t left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return left > 0 ? (long)left : 0;
}

/*
 * One GET of the metadata probe, within what is left of its budget (the
 * deadline): a real metadata service answers in milliseconds, so both GETs
 * together never take longer than TC_METADATA_BUDGET_MS.
 */
static int tc_cred_metadata_get(struct buf *out, long *status, int64_t *ms,
				const char *url, bool loopback,
				const struct timespec *deadline, struct err *e)
{
	long left = tc_cred_ms_left(deadline);

	if (!left) {
		*status = 0;
		*ms = 0;
		return err_set(e, ERR_NET, "the probe's %ld ms were spent",
			       TC_METADATA_BUDGET_MS);
	}
	return tc_cred_http(out, status, ms, url, loopback, NULL, NULL,
			    left < TC_METADATA_CONNECT_MS ? left : TC_METADATA_CONNECT_MS,
			    left, e);
}

/*
 * GET the role name (when not given), then the role, both within one
 * budget.  A role that is not there (404, no answer) is "not found": for
 * the chain's last resort the error lists every place looked at.
 */
static int tc_cred_fetch_cvm(struct tc_cred *cred, const struct tc_cred_spec *sp,
			     void (*log)(void *, const char *), void *log_ctx,
			     struct err *e)
{
	struct tc_cred_url u = { 0 };
	struct buf b = BUF_INIT;
	struct err he = ERR_INIT;
	struct timespec deadline;
	char *url = NULL, *role = NULL, *why = NULL;
	long status = 0;
	int64_t ms = 0;
	int error;

	if ((error = tc_cred_url(&u, sp->metadata, true, "SPOTENV_METADATA_ENDPOINT", e)))
		goto done;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += TC_METADATA_BUDGET_MS / 1000;
	deadline.tv_nsec += (TC_METADATA_BUDGET_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (sp->role_name) {
		role = xstrdup(sp->role_name);
	} else {
		url = xasprintf("%s%s", u.url, TC_METADATA_ROLE_PATH);
		error = tc_cred_metadata_get(&b, &status, &ms, url, u.loopback, &deadline,
					     &he);
		tc_cred_log(
			log, log_ctx,
			"credentials metadata GET cam/security-credentials/ status=%ld "
			"time=%" PRId64 "ms%s%s",
			status, ms, error ? " error=" : "", error ? he.msg : "");
		if (error)
			why = xasprintf("no answer: %s", he.msg);
		else if (status != 200)
			why = xasprintf("HTTP status %ld", status);
		else {
			char *all = xstrdup(buf_str(&b)), *s = all;

			while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
				s++;
			s[strcspn(s, " \r\n\t")] = '\0';
			if (!tc_cred_role_name_ok(s))
				why = xstrdup("no valid role name in the answer");
			else
				role = xstrdup(s);
			free(all);
		}
		buf_release(&b);
		free(url);
		url = NULL;
	}
	if (role) {
		url = xasprintf("%s%s%s", u.url, TC_METADATA_ROLE_PATH, role);
		err_clear(&he);
		error = tc_cred_metadata_get(&b, &status, &ms, url, u.loopback, &deadline,
					     &he);
		tc_cred_log(
			log, log_ctx,
			"credentials metadata GET cam/security-credentials/%s status=%ld "
			"time=%" PRId64 "ms%s%s",
			role, status, ms, error ? " error=" : "", error ? he.msg : "");
		if (error)
			why = xasprintf("no answer for role '%s': %s", role, he.msg);
		else if (status != 200)
			why = xasprintf("HTTP status %ld for role '%s'", status, role);
		else if ((error = tc_cred_parse_metadata(cred, b.ptr, b.len,
							 (int64_t)time(NULL), e)))
			goto done;
	}
	error = 0;
	if (why) {
		if (sp->last_resort)
			error = err_set(
				e, ERR_AUTH,
				"no Tencent Cloud credentials found; looked at %s, the CVM "
				"role at '%s' (%s)",
				sp->looked ? sp->looked : "", u.url, why);
		else
			error = err_set(e, ERR_AUTH, "no CVM role at '%s' (%s)", u.url,
					why);
	}
done:
	free(why);
	free(url);
	free(role);
	err_clear(&he);
	buf_release_secret(&b);
	tc_cred_url_clear(&u);
	return error;
}

/* ---------------------------------------------------------------------
 * STS.
 */

static struct curl_slist *tc_cred_hdr(struct curl_slist *l, bool *ok, const char *fmt,
				      ...) SPOTENV_PRINTF(3, 4);
static struct curl_slist *tc_cred_hdr(struct curl_slist *l, bool *ok, const char *fmt,
				      ...)
{
	va_list ap;
	char *line;
	struct curl_slist *n;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	n = curl_slist_append(l, line);
	secure_free_str(line);
	if (!n) {
		*ok = false;
		return l;
	}
	return n;
}

static void tc_cred_hdr_free(struct curl_slist *l)
{
	for (struct curl_slist *i = l; i; i = i->next)
		secure_wipe(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

/* Read the web identity token file (trimmed); caller wipes. */
static int tc_cred_read_token(char **out, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	int error = 0;

	if (!f)
		return err_set(e, ERR_AUTH,
			       "cannot read the web identity token file '%s': %s", path,
			       strerror(errno));
	buf_init(&b, TC_CRED_BODY_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_put(&b, chunk, n)) {
			error = err_set(e, ERR_AUTH,
					"the web identity token file '%s' is too large",
					path);
			break;
		}
	secure_wipe(chunk, sizeof(chunk));
	fclose(f);
	if (!error) {
		char *all = xstrdup(buf_str(&b)), *s = all, *end;

		while (isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*s)
			error = err_set(e, ERR_AUTH,
					"the web identity token file '%s' is empty",
					path);
		else
			*out = xstrdup(s);
		secure_free_str(all);
	}
	buf_release_secret(&b);
	return error;
}

/* Response.RequestId of an STS answer, for the log (printable, bounded). */
static void tc_cred_request_id(char *out, size_t size, const struct buf *b)
{
	cJSON *j = cJSON_ParseWithLength(b->ptr ? b->ptr : "", b->len);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "Response");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "RequestId");

	if (cJSON_IsString(id) && *id->valuestring && strlen(id->valuestring) < size &&
	    strspn(id->valuestring, "0123456789abcdefABCDEF-") == strlen(id->valuestring))
		snprintf(out, size, "%s", id->valuestring);
	tc_cred_wipe_json(j);
	cJSON_Delete(j);
}

static int tc_cred_fetch_sts(struct tc_cred *cred, struct tc_cred_spec *sp,
			     void (*log)(void *, const char *), void *log_ctx,
			     struct err *e)
{
	bool web = sp->kind == TC_CRED_WEB_IDENTITY, ok = true;
	const char *action = web ? "AssumeRoleWithWebIdentity" : "AssumeRole";
	struct tc_cred_url u = { 0 };
	struct curl_slist *h = NULL;
	struct buf b = BUF_INIT;
	struct err he = ERR_INIT;
	char *token = NULL, *body = NULL;
	cJSON *req = NULL;
	int64_t ts = (int64_t)time(NULL), ms = 0;
	long status = 0;
	int error;

	if ((error = tc_cred_url(&u, sp->sts, false, "SPOTENV_STS_ENDPOINT", e)))
		goto done;
	if (!web && tc_cred_due(sp->base, ts) &&
	    (error = tc_cred_fetch(sp->base, log, log_ctx, e)))
		goto done;
	if (web && (error = tc_cred_read_token(&token, sp->token_file, e)))
		goto done;
	req = cJSON_CreateObject();
	if (web) {
		cJSON_AddStringToObject(req, "ProviderId", sp->provider_id);
		cJSON_AddStringToObject(req, "WebIdentityToken", token);
	}
	cJSON_AddStringToObject(req, "RoleArn", sp->role_arn);
	cJSON_AddStringToObject(req, "RoleSessionName", sp->session_name);
	cJSON_AddNumberToObject(req, "DurationSeconds", (double)sp->duration);
	body = cJSON_PrintUnformatted(req);
	if (!body) {
		error = err_set(e, ERR_GENERIC, "out of memory");
		goto done;
	}
	if (web) {
		h = tc_cred_hdr(h, &ok, "Authorization: SKIP");
	} else {
		struct tc_header sh[3] = {
			{ "content-type", "application/json" },
			{ "host", u.authority },
			{ "x-tc-action", action },
		};
		struct tc_sign_input in;
		struct tc_sign_output so;

		memset(&in, 0, sizeof(in));
		in.method = "POST";
		in.query = "";
		in.headers = sh;
		in.nheaders = ARRAY_SIZE(sh);
		in.payload = body;
		in.payload_len = strlen(body);
		in.service = TC_STS_SERVICE;
		in.timestamp = ts;
		in.secret_id = sp->base->secret_id;
		in.secret_key = sp->base->secret_key;
		if ((error = tc_sign(&so, &in, e)) < 0) {
			tc_sign_output_clear(&so);
			goto done;
		}
		h = tc_cred_hdr(h, &ok, "Authorization: %s", buf_str(&so.authorization));
		tc_sign_output_clear(&so);
		if (sp->base->token)
			h = tc_cred_hdr(h, &ok, "X-TC-Token: %s", sp->base->token);
	}
	h = tc_cred_hdr(h, &ok, "Content-Type: application/json");
	h = tc_cred_hdr(h, &ok, "Host: %s", u.authority);
	h = tc_cred_hdr(h, &ok, "X-TC-Action: %s", action);
	h = tc_cred_hdr(h, &ok, "X-TC-Version: %s", TC_STS_VERSION);
	h = tc_cred_hdr(h, &ok, "X-TC-Timestamp: %" PRId64, ts);
	h = tc_cred_hdr(h, &ok, "X-TC-Region: %s", sp->region);
	h = tc_cred_hdr(h, &ok, "X-TC-Language: %s", TC_LANGUAGE);
	h = tc_cred_hdr(h, &ok, "X-TC-RequestClient: spotenv/%s", SPOTENV_VERSION);
	h = tc_cred_hdr(h, &ok, "Expect:");
	if (!ok) {
		error = err_set(e, ERR_GENERIC, "cannot prepare an HTTP request");
		goto done;
	}
	error = tc_cred_http(&b, &status, &ms, u.url, u.loopback, h, body,
			     TC_STS_CONNECT_MS, TC_STS_TOTAL_MS, &he);
	if (error) {
		tc_cred_log(log, log_ctx,
			    "credentials %s status=0 time=%" PRId64 "ms error=%s", action,
			    ms, he.msg);
		error = err_set(e, ERR_NET, "'%s' at '%s' failed: %s", action, u.url,
				he.msg);
		goto done;
	}
	{
		struct err pe = ERR_INIT;

		char rid[80] = "-";

		error = tc_cred_parse_sts(cred, b.ptr, b.len, (int64_t)time(NULL), &pe);
		if (pe.request_id)
			snprintf(rid, sizeof(rid), "%s", pe.request_id);
		else if (!error)
			tc_cred_request_id(rid, sizeof(rid), &b);
		tc_cred_log(log, log_ctx,
			    "credentials %s status=%ld time=%" PRId64
			    "ms request_id=%s error=%s",
			    action, status, ms, rid,
			    pe.api_code ? pe.api_code
			    : error	? "invalid answer"
					: "-");
		if (error && pe.api_code) {
			error = err_set(e, ERR_AUTH,
					"'%s' at '%s' for role '%s' failed: %s%s%s",
					action, u.url, sp->role_arn, pe.api_code,
					pe.api_message ? ": " : "",
					pe.api_message ? pe.api_message : "");
			err_set_api(e, pe.api_code, pe.api_message, pe.request_id,
				    ERR_CLASS_AUTH);
		} else if (error) {
			error = err_set(e, ERR_AUTH, "'%s' at '%s': %s%s", action, u.url,
					pe.msg,
					status != 200 ? " (HTTP status not 200)" : "");
		}
		err_clear(&pe);
	}
done:
	if (body)
		secure_free_str(body);
	if (req) {
		tc_cred_wipe_json(req);
		cJSON_Delete(req);
	}
	if (token)
		secure_free_str(token);
	tc_cred_hdr_free(h);
	err_clear(&he);
	buf_release_secret(&b);
	tc_cred_url_clear(&u);
	return error;
}

int tc_cred_fetch(struct tc_cred *cred, void (*log)(void *ctx, const char *line),
		  void *log_ctx, struct err *e)
{
	struct tc_cred fresh = { 0 };
	int error;

	if (!cred->spec)
		return 0;
	switch (cred->spec->kind) {
	case TC_CRED_CVM_ROLE:
		error = tc_cred_fetch_cvm(&fresh, cred->spec, log, log_ctx, e);
		break;
	case TC_CRED_ASSUME_ROLE:
	case TC_CRED_WEB_IDENTITY:
		error = tc_cred_fetch_sts(&fresh, cred->spec, log, log_ctx, e);
		break;
	default:
		assert(!"unknown credential kind");
		error = -1;
	}
	if (error) {
		int64_t now = (int64_t)time(NULL), wait;

		tc_cred_keys_clear(&fresh);
		/* keys still valid: try again in a quarter of what is left, 30 s at most
		 */
		if (cred->secret_id && cred->expires > now) {
			wait = (cred->expires - now) / 4;
			wait = wait > 30 ? 30 : wait < 1 ? 1 : wait;
			cred->spec->retry_after = now + wait;
		}
		return error;
	}
	cred->spec->retry_after = 0;
	tc_cred_keys_clear(cred);
	cred->secret_id = fresh.secret_id;
	cred->secret_key = fresh.secret_key;
	cred->token = fresh.token;
	cred->expires = fresh.expires;
	cred->issued = fresh.issued;
	tc_cred_log(log, log_ctx,
		    "credentials from %s: temporary, valid for %" PRId64 "s",
		    cred->source ? cred->source : "-", cred->expires - cred->issued);
	return 0;
}
