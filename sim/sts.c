/*
 * sts.c - the emulator's credential services, on its one port beside the
 * CVM API (docs/sim.md "Credentials"):
 *
 *   GET /latest/meta-data/cam/security-credentials/       the role name
 *   GET /latest/meta-data/cam/security-credentials/ROLE   its credentials
 *   POST / with service sts, version 2018-08-13:
 *       AssumeRole                  TC3-signed with any known credentials
 *       AssumeRoleWithWebIdentity   Authorization: SKIP
 *   GET|POST /_sim/sts              settings, the STS fault, counters
 *
 * Every answer issues fresh temporary credentials (TmpSecretId,
 * TmpSecretKey, Token) that live durationSeconds (settable, so expiry can
 * be tested in seconds) on the emulator's clock.  A CVM request signed
 * with a temporary SecretId must carry its X-TC-Token
 * (AuthFailure.TokenFailure) and be sent before it expires
 * (AuthFailure.SignatureExpire).  Long-lived keys are not affected.
 *
 * The injectable fault: "fail" {"count": N, "code": C, "after": M} lets
 * the next M STS calls through, then answers the N after them with the
 * documented error code C (InternalError by default), so a client's
 * failed renewals can be tested end to end.
 */
#include "../util/setup.h"
#include "../util/hash.h"
#include "sim_int.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define SIM_STS_MAX 4096 /* temporary credentials kept */
#define SIM_STS_KEEP_EXPIRED_MS (10 * 60 * 1000)
#define SIM_STS_ROLE_DEFAULT "spotenv-sim-role"
#define SIM_META_PREFIX "/latest/meta-data/"

struct sim_sts_cred {
	char *id;
	char *key;   /* secret */
	char *token; /* secret */
	int64_t expires_ms;
};

/*
 * Error codes an injected STS failure may answer: the common InternalError
 * and RequestLimitExceeded, and the codes tencentcloud-sdk-go documents
 * for AssumeRole and AssumeRoleWithWebIdentity
 * (tencentcloud/sts/v20180813/errors.go).  String literals: the error
 * counters borrow them.
 */
static const char *const sim_sts_fail_codes[] = {
	"InternalError",
	"InternalError.DbError",
	"InternalError.EncryptError",
	"InternalError.GetAppIdError",
	"InternalError.GetRoleError",
	"InternalError.GetSeedTokenError",
	"InternalError.IllegalRole",
	"InternalError.PbSerializeError",
	"InternalError.SystemError",
	"InternalError.UnknownError",
	"RequestLimitExceeded",
	"InvalidParameter.AccountNotAvaliable",
	"InvalidParameter.OverLimit",
	"InvalidParameter.WebIdentityTokenError",
	"ResourceNotFound.RoleNotFound",
	"UnauthorizedOperation",
};

#define SIM_STS_FAIL_MAX 1000000 /* count and after at most */

struct sim_sts {
	char *role_name;    /* "" = no role bound: the metadata pages answer 404 */
	int64_t duration_s; /* 0 = as asked (DurationSeconds, default 7200) */
	char *web_token;    /* NULL = any non-empty WebIdentityToken passes */
	/* the injected fault: after fail_after more STS calls, fail_count fail */
	int64_t fail_count, fail_after;
	const char *fail_code; /* one of sim_sts_fail_codes */
	struct sim_sts_cred *creds;
	size_t n, a;
	uint64_t metadata, assume_role, web_identity, issued, token_failures, expired;
	uint64_t failed; /* STS calls failed by the injected fault */
};

static struct sim_sts *sim_sts_get(struct sim *s)
{
	if (!s->sts) {
		s->sts = xcalloc(1, sizeof(*s->sts));
		s->sts->role_name = xstrdup(SIM_STS_ROLE_DEFAULT);
		s->sts->fail_code = sim_sts_fail_codes[0];
	}
	return s->sts;
}

static void sim_sts_cred_free(struct sim_sts_cred *c)
{
	free(c->id);
	secure_free_str(c->key);
	secure_free_str(c->token);
}

void sim_sts_free(struct sim *s)
{
	struct sim_sts *t = s->sts;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		sim_sts_cred_free(&t->creds[i]);
	free(t->creds);
	free(t->role_name);
	free(t->web_token);
	free(t);
	s->sts = NULL;
}

static const char *sim_sts_header(const struct sim_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i].name && !strcasecmp(req->headers[i].name, name))
			return req->headers[i].value ? req->headers[i].value : "";
	return NULL;
}

bool sim_sts_route(const struct sim_request *req)
{
	const char *version, *auth;

	if (!strncmp(req->path, SIM_META_PREFIX, strlen(SIM_META_PREFIX)))
		return true;
	if (strcmp(req->path, "/"))
		return false;
	version = sim_sts_header(req, "x-tc-version");
	auth = sim_sts_header(req, "authorization");
	return (version && !strcmp(version, TC_STS_VERSION)) ||
	       (auth && (!strcmp(auth, "SKIP") ||
			 strstr(auth, "/" TC_STS_SERVICE "/tc3_request")));
}

static struct sim_sts_cred *sim_sts_find(struct sim_sts *t, const char *id)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (!strcmp(t->creds[i].id, id))
			return &t->creds[i];
	return NULL;
}

const char *sim_sts_secret(struct sim *s, const char *id)
{
	struct sim_sts_cred *c = sim_sts_find(s->sts, id);

	return c ? c->key : NULL;
}

/* The SecretId of a request's Authorization header, into out. */
static bool sim_sts_secret_id(char *out, size_t size, const struct sim_request *req)
{
	const char *auth = sim_sts_header(req, "authorization"), *p;
	size_t l;

	if (!auth || !(p = strstr(auth, "Credential=")))
		return false;
	p += strlen("Credential=");
	l = strcspn(p, "/, ");
	if (!l || l >= size)
		return false;
	memcpy(out, p, l);
	out[l] = '\0';
	return true;
}

int sim_sts_check(struct sim *s, const struct sim_request *req, int64_t now_ms,
		  struct err *e)
{
	char id[128];
	struct sim_sts_cred *c;
	const char *token;

	if (!sim_sts_secret_id(id, sizeof(id), req) || !(c = sim_sts_find(s->sts, id)))
		return 0; /* long-lived keys */
	token = sim_sts_header(req, "x-tc-token");
	if (!token || strlen(token) != strlen(c->token) ||
	    CRYPTO_memcmp(token, c->token, strlen(token))) {
		s->sts->token_failures++;
		err_set(e, ERR_AUTH, "token missing or wrong");
		err_set_api(e, "AuthFailure.TokenFailure",
			    token ? "The token is invalid"
				  : "The token is missing (X-TC-Token)",
			    NULL, ERR_CLASS_AUTH);
		return ERR_AUTH;
	}
	if (now_ms >= c->expires_ms) {
		s->sts->expired++;
		err_set(e, ERR_AUTH, "temporary credentials expired");
		err_set_api(e, "AuthFailure.SignatureExpire",
			    "The temporary credentials have expired", NULL,
			    ERR_CLASS_AUTH);
		return ERR_AUTH;
	}
	return 0;
}

static void sim_sts_rand_hex(char *out, size_t nbytes)
{
	unsigned char r[64];

	assert(nbytes <= sizeof(r));
	if (RAND_bytes(r, (int)nbytes) != 1)
		abort();
	hex_encode(out, r, nbytes);
	secure_wipe(r, sizeof(r));
}

/* Issue credentials living duration_s from now_ms. */
static struct sim_sts_cred *sim_sts_issue(struct sim *s, int64_t now_ms,
					  int64_t duration_s)
{
	struct sim_sts *t = sim_sts_get(s);
	char hex[129];
	size_t k = 0;

	/* forget what expired long ago, then the oldest beyond the cap */
	for (size_t i = 0; i < t->n; i++) {
		if (t->creds[i].expires_ms + SIM_STS_KEEP_EXPIRED_MS < now_ms)
			sim_sts_cred_free(&t->creds[i]);
		else
			t->creds[k++] = t->creds[i];
	}
	t->n = k;
	if (t->n >= SIM_STS_MAX) {
		sim_sts_cred_free(&t->creds[0]);
		memmove(t->creds, t->creds + 1, --t->n * sizeof(*t->creds));
	}
	if (t->n == t->a) {
		t->a = t->a ? 2 * t->a : 16;
		t->creds = xreallocarray(t->creds, t->a, sizeof(*t->creds));
	}
	{
		struct sim_sts_cred *c = &t->creds[t->n++];

		sim_sts_rand_hex(hex, 12);
		c->id = xasprintf("AKIDTMP%s", hex);
		sim_sts_rand_hex(hex, 20);
		c->key = xstrdup(hex);
		sim_sts_rand_hex(hex, 48);
		c->token = xstrdup(hex);
		secure_wipe(hex, sizeof(hex));
		c->expires_ms = now_ms + duration_s * 1000;
		t->issued++;
		return c;
	}
}

static void sim_sts_expiration(char out[32], int64_t unix_s)
{
	time_t t = (time_t)unix_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void sim_sts_render(struct sim_response *out, int status, cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);

	out->status = status;
	buf_reset(&out->body);
	buf_puts(&out->body, text ? text : "{}");
	if (text)
		secure_free_str(text);
	cJSON_Delete(doc);
}

static void sim_sts_text(struct sim_response *out, int status, const char *text)
{
	out->status = status;
	buf_reset(&out->body);
	buf_puts(&out->body, text);
}

/* The metadata pages. */
static void sim_sts_metadata(struct sim *s, const struct sim_request *req,
			     struct sim_response *out, int64_t now)
{
	static const char dir[] = SIM_META_PREFIX "cam/security-credentials/";
	struct sim_sts *t = sim_sts_get(s);
	const char *rest;

	t->metadata++;
	if (strcmp(req->method, "GET"))
		return sim_sts_text(out, 405, "method not allowed");
	if (strncmp(req->path, dir, strlen(dir)) || !*t->role_name)
		return sim_sts_text(out, 404, "not found");
	rest = req->path + strlen(dir);
	if (!*rest)
		return sim_sts_text(out, 200, t->role_name);
	if (strcmp(rest, t->role_name))
		return sim_sts_text(out, 404, "not found");
	{
		int64_t d = t->duration_s > 0 ? t->duration_s : 7200;
		struct sim_sts_cred *c = sim_sts_issue(s, now, d);
		cJSON *doc = cJSON_CreateObject();
		char exp[32];

		sim_sts_expiration(exp, c->expires_ms / 1000);
		cJSON_AddStringToObject(doc, "TmpSecretId", c->id);
		cJSON_AddStringToObject(doc, "TmpSecretKey", c->key);
		cJSON_AddNumberToObject(doc, "ExpiredTime",
					(double)(c->expires_ms / 1000));
		cJSON_AddStringToObject(doc, "Expiration", exp);
		cJSON_AddStringToObject(doc, "Token", c->token);
		cJSON_AddStringToObject(doc, "Code", "Success");
		sim_sts_render(out, 200, doc);
	}
}

static const char *sim_sts_lookup(void *ctx, const char *id)
{
	struct sim *s = ctx;

	for (size_t i = 0; i < s->ncreds; i++)
		if (!strcmp(s->creds[i].id, id))
			return s->creds[i].key;
	return sim_sts_secret(s, id);
}

static void sim_sts_error(struct sim *s, struct sim_response *out, const char *code,
			  const char *message, const char *rid)
{
	cJSON *doc = cJSON_CreateObject(), *r = cJSON_AddObjectToObject(doc, "Response");
	cJSON *er = cJSON_AddObjectToObject(r, "Error");

	cJSON_AddStringToObject(er, "Code", code);
	cJSON_AddStringToObject(er, "Message", message);
	cJSON_AddStringToObject(r, "RequestId", rid);
	sim_count_error(s, code);
	sim_sts_render(out, 200, doc);
}

static const char *sim_sts_param(const cJSON *req, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* AssumeRole and AssumeRoleWithWebIdentity. */
static void sim_sts_api(struct sim *s, const struct sim_request *req,
			struct sim_response *out, int64_t now)
{
	static const char *const codes[] = {
		"AuthFailure.SignatureFailure", "AuthFailure.SignatureExpire",
		"AuthFailure.SecretIdNotFound", "AuthFailure.InvalidAuthorization",
		"AuthFailure.TokenFailure",	"MissingParameter"
	};
	struct sim_sts *t = sim_sts_get(s);
	const char *action = sim_sts_header(req, "x-tc-action");
	const char *version = sim_sts_header(req, "x-tc-version");
	const char *auth = sim_sts_header(req, "authorization");
	const char *code = NULL;
	bool web;
	cJSON *body = NULL;
	char rid[37];

	sim_request_id(s, rid);
	if (strcmp(req->method, "POST"))
		return sim_sts_error(s, out, "UnsupportedProtocol", "POST only", rid);
	if (!action || !*action)
		return sim_sts_error(s, out, "MissingParameter",
				     "The parameter `Action` is missing", rid);
	if (!version || strcmp(version, TC_STS_VERSION))
		return sim_sts_error(s, out, "NoSuchVersion",
				     "The requested version does not exist", rid);
	web = !strcmp(action, "AssumeRoleWithWebIdentity");
	if (!web && strcmp(action, "AssumeRole"))
		return sim_sts_error(s, out, "InvalidAction",
				     "The requested action does not exist", rid);
	if (web)
		t->web_identity++;
	else
		t->assume_role++;
	/* the injected fault, before anything is checked: the service fails */
	if (t->fail_count > 0) {
		if (t->fail_after > 0) {
			t->fail_after--;
		} else {
			t->fail_count--;
			t->failed++;
			return sim_sts_error(s, out, t->fail_code,
					     "The service failed (a fault injected "
					     "through /_sim/sts)",
					     rid);
		}
	}
	if (web && (!auth || strcmp(auth, "SKIP")))
		return sim_sts_error(
			s, out, "AuthFailure.InvalidAuthorization",
			"AssumeRoleWithWebIdentity is sent with Authorization: SKIP",
			rid);
	if (!web) {
		struct err e = ERR_INIT;

		if (tc_verify(req->method, req->query ? req->query : "", req->headers,
			      req->nheaders, req->body, req->body_len, TC_STS_SERVICE,
			      now / 1000, sim_sts_lookup, s, &e) < 0 ||
		    sim_sts_check(s, req, now, &e) < 0) {
			code = "AuthFailure";
			for (size_t i = 0; e.api_code && i < ARRAY_SIZE(codes); i++)
				if (!strcmp(codes[i], e.api_code))
					code = codes[i];
			sim_sts_error(s, out, code,
				      e.api_message ? e.api_message
						    : "authentication failed",
				      rid);
			err_clear(&e);
			return;
		}
	}
	body = cJSON_ParseWithLength(req->body ? req->body : "", req->body_len);
	if (!cJSON_IsObject(body)) {
		cJSON_Delete(body);
		return sim_sts_error(s, out, "InvalidParameter",
				     "The request body is not a JSON object", rid);
	}
	{
		static const char *const need[] = { "RoleArn", "RoleSessionName",
						    "ProviderId", "WebIdentityToken" };
		const cJSON *dur =
			cJSON_GetObjectItemCaseSensitive(body, "DurationSeconds");
		int64_t d = 7200;
		const char *wt = sim_sts_param(body, "WebIdentityToken");

		for (size_t i = 0; i < (web ? 4u : 2u); i++) {
			if (!sim_sts_param(body, need[i])) {
				char *m = xasprintf("The parameter `%s` is missing",
						    need[i]);

				sim_sts_error(s, out, "MissingParameter", m, rid);
				free(m);
				goto done;
			}
		}
		if (dur && !(cJSON_IsNumber(dur) && dur->valuedouble >= 1 &&
			     dur->valuedouble <= 43200)) {
			sim_sts_error(s, out, "InvalidParameterValue",
				      "DurationSeconds must be 1 to 43200", rid);
			goto done;
		}
		if (dur)
			d = (int64_t)dur->valuedouble;
		if (t->duration_s > 0)
			d = t->duration_s;
		if (web && t->web_token &&
		    (strlen(wt) != strlen(t->web_token) ||
		     CRYPTO_memcmp(wt, t->web_token, strlen(wt)))) {
			sim_sts_error(s, out, "InvalidParameter.WebIdentityTokenError",
				      "The web identity token is not valid", rid);
			goto done;
		}
		{
			struct sim_sts_cred *c = sim_sts_issue(s, now, d);
			cJSON *doc = cJSON_CreateObject(),
			      *r = cJSON_AddObjectToObject(doc, "Response");
			cJSON *k = cJSON_AddObjectToObject(r, "Credentials");
			char exp[32];

			sim_sts_expiration(exp, c->expires_ms / 1000);
			cJSON_AddStringToObject(k, "Token", c->token);
			cJSON_AddStringToObject(k, "TmpSecretId", c->id);
			cJSON_AddStringToObject(k, "TmpSecretKey", c->key);
			cJSON_AddNumberToObject(r, "ExpiredTime",
						(double)(c->expires_ms / 1000));
			cJSON_AddStringToObject(r, "Expiration", exp);
			cJSON_AddStringToObject(r, "RequestId", rid);
			sim_sts_render(out, 200, doc);
		}
	}
done:
	if (body) {
		const cJSON *wt =
			cJSON_GetObjectItemCaseSensitive(body, "WebIdentityToken");

		if (cJSON_IsString(wt))
			secure_wipe(wt->valuestring, strlen(wt->valuestring));
	}
	cJSON_Delete(body);
}

void sim_sts_handle(struct sim *s, const struct sim_request *req,
		    struct sim_response *out, int64_t now)
{
	if (!strncmp(req->path, SIM_META_PREFIX, strlen(SIM_META_PREFIX)))
		sim_sts_metadata(s, req, out, now);
	else
		sim_sts_api(s, req, out, now);
}

/* The code named c among sim_sts_fail_codes (its literal), or NULL. */
static const char *sim_sts_fail_code(const char *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(sim_sts_fail_codes); i++)
		if (!strcmp(c, sim_sts_fail_codes[i]))
			return sim_sts_fail_codes[i];
	return NULL;
}

/* A whole number from 0 to SIM_STS_FAIL_MAX. */
static bool sim_sts_fail_number(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 &&
	       v->valuedouble <= SIM_STS_FAIL_MAX &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

/*
 * Check "fail": null (no fault), or {"count": N, "code": C, "after": M},
 * each key optional (count 1, code InternalError, after 0).  NULL with
 * the values in *count, *code and *after, or an error message (a literal).
 */
static const char *sim_sts_fail_parse(const cJSON *f, int64_t *count, const char **code,
				      int64_t *after)
{
	const cJSON *n, *c, *a;

	*count = 0;
	*after = 0;
	*code = sim_sts_fail_codes[0];
	if (cJSON_IsNull(f))
		return NULL;
	if (!cJSON_IsObject(f))
		return "'fail' must be an object {\"count\":N,\"code\":\"C\",\"after\":M} "
		       "or null";
	for (const cJSON *k = f->child; k; k = k->next)
		if (strcmp(k->string, "count") && strcmp(k->string, "code") &&
		    strcmp(k->string, "after"))
			return "'fail' knows only 'count', 'code' and 'after'";
	n = cJSON_GetObjectItemCaseSensitive(f, "count");
	c = cJSON_GetObjectItemCaseSensitive(f, "code");
	a = cJSON_GetObjectItemCaseSensitive(f, "after");
	if ((n && !sim_sts_fail_number(n)) || (a && !sim_sts_fail_number(a)))
		return "'fail': 'count' and 'after' are whole numbers from 0 to 1000000";
	if (c && !(cJSON_IsString(c) && sim_sts_fail_code(c->valuestring)))
		return "'fail': 'code' must be a documented STS error code: InternalError, "
		       "InternalError.DbError, InternalError.EncryptError, "
		       "InternalError.GetAppIdError, InternalError.GetRoleError, "
		       "InternalError.GetSeedTokenError, InternalError.IllegalRole, "
		       "InternalError.PbSerializeError, InternalError.SystemError, "
		       "InternalError.UnknownError, RequestLimitExceeded, "
		       "InvalidParameter.AccountNotAvaliable, InvalidParameter.OverLimit, "
		       "InvalidParameter.WebIdentityTokenError, "
		       "ResourceNotFound.RoleNotFound or UnauthorizedOperation";
	*count = n ? (int64_t)n->valuedouble : 1;
	*after = a ? (int64_t)a->valuedouble : 0;
	if (c)
		*code = sim_sts_fail_code(c->valuestring);
	return NULL;
}

/*
 * GET|POST /_sim/sts {"roleName", "durationSeconds", "webIdentityToken",
 * "fail"}: nothing changes when any key is invalid.
 */
void sim_sts_control(struct sim *s, const struct sim_request *req, const cJSON *body,
		     struct sim_response *out)
{
	struct sim_sts *t = sim_sts_get(s);
	cJSON *doc;

	if (!strcmp(req->method, "POST")) {
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(body, "roleName");
		const cJSON *d =
			cJSON_GetObjectItemCaseSensitive(body, "durationSeconds");
		const cJSON *wt =
			cJSON_GetObjectItemCaseSensitive(body, "webIdentityToken");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(body, "fail");
		const char *why = NULL, *code = NULL;
		int64_t count = 0, after = 0;

		if ((rn && !cJSON_IsString(rn)) ||
		    (d && !(cJSON_IsNumber(d) && d->valuedouble >= 0 &&
			    d->valuedouble <= 43200)) ||
		    (wt && !cJSON_IsString(wt) && !cJSON_IsNull(wt)))
			why = "give 'roleName' (a string, \"\" = none), "
			      "'durationSeconds' (0 to 43200, 0 = as asked), "
			      "'webIdentityToken' (a string, null = any), "
			      "'fail' ({\"count\":N,\"code\":\"C\",\"after\":M}, null = none)";
		else if (f)
			why = sim_sts_fail_parse(f, &count, &code, &after);
		if (why) {
			doc = cJSON_CreateObject();
			cJSON_AddStringToObject(doc, "error", why);
			sim_sts_render(out, 400, doc);
			return;
		}
		if (rn) {
			free(t->role_name);
			t->role_name = xstrdup(rn->valuestring);
		}
		if (d)
			t->duration_s = (int64_t)d->valuedouble;
		if (wt) {
			free(t->web_token);
			t->web_token =
				cJSON_IsString(wt) ? xstrdup(wt->valuestring) : NULL;
		}
		if (f) {
			t->fail_count = count;
			t->fail_after = after;
			t->fail_code = code;
		}
	} else if (strcmp(req->method, "GET")) {
		sim_sts_text(out, 405, "{\"error\":\"GET or POST\"}");
		return;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "roleName", t->role_name);
	cJSON_AddNumberToObject(doc, "durationSeconds", (double)t->duration_s);
	cJSON_AddBoolToObject(doc, "webIdentityTokenSet", t->web_token != NULL);
	{
		cJSON *fo = cJSON_AddObjectToObject(doc, "fail");

		cJSON_AddNumberToObject(fo, "count", (double)t->fail_count);
		cJSON_AddStringToObject(fo, "code", t->fail_code);
		cJSON_AddNumberToObject(fo, "after", (double)t->fail_after);
	}
	cJSON_AddNumberToObject(doc, "metadata", (double)t->metadata);
	cJSON_AddNumberToObject(doc, "assumeRole", (double)t->assume_role);
	cJSON_AddNumberToObject(doc, "assumeRoleWithWebIdentity",
				(double)t->web_identity);
	cJSON_AddNumberToObject(doc, "issued", (double)t->issued);
	cJSON_AddNumberToObject(doc, "failed", (double)t->failed);
	cJSON_AddNumberToObject(doc, "tokenFailures", (double)t->token_failures);
	cJSON_AddNumberToObject(doc, "expired", (double)t->expired);
	sim_sts_render(out, 200, doc);
}
