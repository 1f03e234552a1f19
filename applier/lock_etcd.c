/*
 * lock_etcd.c - the distributed apply lock on etcd v3's JSON gateway (see
 * lock.h for the protocol and the URL forms).
 *
 * Why a try-lock in a transaction rather than /v3/lock/lock: the txn puts
 * our holder note as the key's value and, when the key is taken, reads the
 * holder's note in the same round trip, so a refused run names its holder
 * without a race; and it never blocks inside etcd, so waiting is a
 * client-side loop with its own deadline.  Why revoke rather than delete:
 * revoking our lease deletes exactly our keys, while deleting a key after
 * our lease lapsed could delete the next holder's.
 *
 * The lease is renewed by a thread of its own, every TTL/3, on its own
 * curl handle; the main thread's handle serves acquire and release.  The
 * lease is known valid until the send time of the last renewal that
 * etcd answered plus the TTL it granted; past that (or once etcd says the
 * lease is gone) the lock is lost for good and the guard cloud refuses to
 * act.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "../util/duration.h"
#include "lock.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>

#define LOCK_DEFAULT_RETRY_MS 500
#define LOCK_MAX_TTL_S 86400
#define LOCK_GRPC_NOT_FOUND 5 /* gRPC's NotFound, as etcd's "code" */

struct apply_lock {
	struct apply_lock_url url;
	CURL *easy;	/* the main thread's handle (acquire, release) */
	int64_t id;	/* the lease */
	int64_t ttl_ms; /* granted */
	char **scopes;	/* sorted, unique; for messages */
	size_t nscopes;
	pthread_t thread; /* renews the lease */
	bool thread_started;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;  /* signalled on stop */
	bool stop;
	bool lost;
	char *lost_why;		/* why, once lost */
	char *renew_err;	/* the last failed renewal's error, or NULL */
	int64_t valid_until_ms; /* the lease holds at least until then */
};

/* ---------------------------------------------------------------------
 * URLs, keys, base64, escaping: pure.
 */

static bool lock_is_loopback(const char *host)
{
	struct in_addr a4;

	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/* Whether s is a port: 1 to 65535, digits only. */
static bool lock_port_valid(const char *s)
{
	long v = 0;

	if (!*s || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return false;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	return v >= 1 && v <= 65535;
}

/* A prefix: "" or "/" (the default), else '/' and [A-Za-z0-9._~/-]. */
static int lock_prefix(char **out, const char *path, const char *shown, struct err *e)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n <= 1) {
		*out = xstrdup(APPLY_LOCK_DEFAULT_PREFIX);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)path[i]) && !strchr("._~/-", path[i]))
			return err_set(
				e, ERR_INVALID,
				"lock URL '%s' has a prefix with characters other than "
				"letters, digits and ._~/-",
				shown);
	if (strstr(path, "//"))
		return err_set(e, ERR_INVALID,
			       "lock URL '%s' has an empty prefix component", shown);
	*out = xstrndup(path, n);
	return 0;
}

/*
 * url for messages: escaped, and any user:password@ shown as ***@ (the
 * URL may come from the environment with a secret in it).  Caller frees.
 */
static char *lock_url_shown(const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL;
	char *redacted, *shown;

	if (auth) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
	}
	if (at)
		redacted = xasprintf("%.*s***%s", (int)(auth - url), url, at);
	else
		redacted = xstrdup(url);
	shown = apply_lock_escape(redacted, strlen(redacted), APPLY_LOCK_MAX_HOLDER);
	free(redacted);
	return shown;
}

int apply_lock_url_parse(struct apply_lock_url *out, const char *url, struct err *e)
{
	static const struct {
		const char *scheme;
		int https; /* 1 https, 0 http, -1 by host */
	} schemes[] = {
		{ "etcd://", -1 },
		{ "etcd+http://", 0 },
		{ "etcd+https://", 1 },
	};
	const char *auth = NULL, *end, *port = NULL;
	char *authority = NULL, *host = NULL, *prefix = NULL,
	     *shown = lock_url_shown(url);
	int https = -1;
	bool loopback;
	int error = 0;

	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
		if (!strncasecmp(url, schemes[i].scheme, strlen(schemes[i].scheme))) {
			auth = url + strlen(schemes[i].scheme);
			https = schemes[i].https;
		}
	if (!auth) {
		error = err_set(e, ERR_INVALID,
				"lock URL '%s' must be etcd://HOST:PORT[/PREFIX] "
				"(or etcd+https://, etcd+http://)",
				shown);
		goto done;
	}
	end = auth + strcspn(auth, "/?#");
	if (strpbrk(end, "?#")) {
		error = err_set(e, ERR_INVALID,
				"lock URL '%s' must not have a query or fragment", shown);
		goto done;
	}
	authority = xstrndup(auth, (size_t)(end - auth));
	for (char *p = authority; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strchr(authority, '@')) {
		error = err_set(
			e, ERR_INVALID,
			"lock URL '%s' has credentials; etcd authentication is not supported",
			shown);
		goto done;
	}
	for (const char *p = authority; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]", *p)) {
			error = err_set(e, ERR_INVALID,
					"lock URL '%s' has an invalid host", shown);
			goto done;
		}
	if (authority[0] == '[') {
		char *close = strchr(authority, ']');

		if (!close || (close[1] && close[1] != ':')) {
			error = err_set(e, ERR_INVALID,
					"lock URL '%s' has an invalid host", shown);
			goto done;
		}
		host = xstrndup(authority + 1, (size_t)(close - authority - 1));
		port = close[1] ? close + 2 : NULL;
		if (strspn(host, "0123456789abcdef:.") != strlen(host)) {
			error = err_set(e, ERR_INVALID,
					"lock URL '%s' has an invalid host", shown);
			goto done;
		}
	} else {
		host = xstrndup(authority, strcspn(authority, ":"));
		port = authority[strlen(host)] ? authority + strlen(host) + 1 : NULL;
		if (strchr(host, '[') || strchr(host, ']') ||
		    (port && strchr(port, ':'))) {
			error = err_set(e, ERR_INVALID,
					"lock URL '%s' has an invalid host", shown);
			goto done;
		}
	}
	if (!*host) {
		error = err_set(e, ERR_INVALID, "lock URL '%s' has no host", shown);
		goto done;
	}
	if (port && !lock_port_valid(port)) {
		error = err_set(e, ERR_INVALID, "lock URL '%s' has an invalid port",
				shown);
		goto done;
	}
	loopback = lock_is_loopback(host);
	if (https < 0)
		https = !loopback;
	if (!https && !loopback) {
		error = err_set(
			e, ERR_INVALID,
			"lock URL '%s' uses plain http, which is only allowed for loopback "
			"addresses; use etcd+https://",
			shown);
		goto done;
	}
	if ((error = lock_prefix(&prefix, end, shown, e)) < 0)
		goto done;
	out->base = port ? xasprintf("%s://%s", https ? "https" : "http", authority)
			 : xasprintf("%s://%s:%d", https ? "https" : "http", authority,
				     APPLY_LOCK_DEFAULT_PORT);
	out->prefix = prefix;
	prefix = NULL;
	out->https = https;
	out->loopback = loopback;
done:
	free(shown);
	free(authority);
	free(host);
	free(prefix);
	return error;
}

void apply_lock_url_clear(struct apply_lock_url *u)
{
	if (!u)
		return;
	free(u->base);
	free(u->prefix);
	*u = (struct apply_lock_url)APPLY_LOCK_URL_INIT;
}

bool apply_lock_scope_valid(const char *scope)
{
	size_t n = scope ? strlen(scope) : 0;

	if (n < 1 || n > 63 || !strcmp(scope, ".") || !strcmp(scope, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)scope[i]) && !strchr("._-", scope[i]))
			return false;
	return true;
}

char *apply_lock_key(const struct apply_lock_url *u, const char *scope)
{
	return xasprintf("%s/lock/%s", u->prefix, scope);
}

char *apply_lock_b64(const void *data, size_t len)
{
	char *out;

	if (len > INT_MAX / 2)
		abort(); /* keys and notes are a few hundred bytes */
	out = xmalloc((len + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

int apply_lock_b64_decode(char **out, size_t *outlen, const char *b64, size_t max,
			  struct err *e)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(b64), pad = 0, body;
	char *buf;
	int got;

	if (n % 4)
		return err_set(e, ERR_INVALID, "malformed base64 (length %zu)", n);
	if (n >= 1 && b64[n - 1] == '=')
		pad++;
	if (n >= 2 && b64[n - 2] == '=')
		pad++;
	body = n - pad;
	if (strspn(b64, alphabet) != body)
		return err_set(e, ERR_INVALID, "malformed base64");
	if (n / 4 * 3 - pad > max)
		return err_set(e, ERR_TOOBIG, "base64 value longer than %zu bytes", max);
	buf = xmalloc(n / 4 * 3 + 1);
	got = n ? EVP_DecodeBlock((unsigned char *)buf, (const unsigned char *)b64,
				  (int)n)
		: 0;
	if (got < 0 || (size_t)got != n / 4 * 3) {
		free(buf);
		return err_set(e, ERR_INVALID, "malformed base64");
	}
	*outlen = (size_t)got - pad;
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

char *apply_lock_escape(const void *data, size_t len, size_t max)
{
	const unsigned char *p = data;
	struct buf b = BUF_INIT;
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			buf_putc(&b, (char)p[i]);
		else
			buf_printf(&b, "\\x%02x", p[i]);
	}
	if (n < len)
		buf_puts(&b, "...");
	return buf_detach(&b, NULL);
}

char *apply_lock_holder(const char *what, time_t since)
{
	char host[256], stamp[32];
	struct tm tm;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	if (!gmtime_r(&since, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(stamp, sizeof(stamp), "an unknown time");
	return xasprintf("%s pid %ld since %s (%s)", host, (long)getpid(), stamp,
			 what ? what : "apply");
}

/* ---------------------------------------------------------------------
 * Answers: untrusted JSON, every type checked.
 */

/* A 64-bit integer as etcd writes it (a string of digits) or a number. */
static bool lock_json_int64(const cJSON *item, int64_t *out)
{
	if (cJSON_IsString(item)) {
		const char *s = item->valuestring;
		char *end;
		long long v;

		if (!*s ||
		    strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')))
			return false;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || *end)
			return false;
		*out = v;
		return true;
	}
	if (cJSON_IsNumber(item) &&
	    item->valuedouble == (double)(int64_t)item->valuedouble &&
	    item->valuedouble > -9007199254740992.0 &&
	    item->valuedouble < 9007199254740992.0) {
		*out = (int64_t)item->valuedouble;
		return true;
	}
	return false;
}

/*
 * Parse body; an error answer ({"error": "..."} or {"error": {"message":
 * ...}}, as the gateway writes for unary and streaming calls) becomes
 * ERR_GENERIC quoting etcd, with its gRPC code in *grpc_code (when not
 * NULL).  0 with *out the root object, or a negative code.
 */
static int lock_answer(cJSON **out, const char *body, size_t len, const char *what,
		       int *grpc_code, struct err *e)
{
	cJSON *root, *err, *code, *msg;
	char *shown;
	int64_t c = 0;
	int error;

	*out = NULL;
	if (grpc_code)
		*grpc_code = 0;
	if (len > APPLY_LOCK_MAX_ANSWER)
		return err_set(e, ERR_TOOBIG,
			       "etcd's answer to %s is larger than %u bytes", what,
			       APPLY_LOCK_MAX_ANSWER);
	root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return err_set(e, ERR_INVALID, "etcd's answer to %s is not a JSON object",
			       what);
	}
	err = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (!err) {
		*out = root;
		return 0;
	}
	code = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(err) ? err : root,
						cJSON_IsObject(err) ? "grpc_code"
								    : "code");
	if (grpc_code && lock_json_int64(code, &c) && c > 0 && c < 100)
		*grpc_code = (int)c;
	msg = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "message")
				  : err;
	shown = cJSON_IsString(msg)
			? apply_lock_escape(msg->valuestring, strlen(msg->valuestring),
					    APPLY_LOCK_MAX_HOLDER)
			: xstrdup("an error without a message");
	error = err_set(e, ERR_GENERIC, "etcd refused %s: %s", what, shown);
	free(shown);
	cJSON_Delete(root);
	return error;
}

int apply_lock_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
			   struct err *e)
{
	cJSON *root = NULL;
	int64_t i, t;
	int error;

	if ((error = lock_answer(&root, body, len, "the lease grant", NULL, e)) < 0)
		return error;
	if (!lock_json_int64(cJSON_GetObjectItemCaseSensitive(root, "ID"), &i) ||
	    i <= 0 ||
	    !lock_json_int64(cJSON_GetObjectItemCaseSensitive(root, "TTL"), &t) ||
	    t <= 0 || t > LOCK_MAX_TTL_S) {
		error = err_set(
			e, ERR_INVALID,
			"etcd's answer to the lease grant has no valid ID and TTL");
	} else {
		*id = i;
		*ttl_s = t;
	}
	cJSON_Delete(root);
	return error;
}

/* The first key-value of a txn's failure range, or NULL. */
static const cJSON *lock_txn_kv(const cJSON *root, int *error, struct err *e)
{
	const cJSON *resps = cJSON_GetObjectItemCaseSensitive(root, "responses");
	const cJSON *first, *range, *kvs;

	if (!resps)
		return NULL;
	if (!cJSON_IsArray(resps))
		goto bad;
	if (!(first = cJSON_GetArrayItem(resps, 0)))
		return NULL;
	if (!cJSON_IsObject(first))
		goto bad;
	if (!(range = cJSON_GetObjectItemCaseSensitive(first, "response_range")))
		return NULL;
	if (!cJSON_IsObject(range))
		goto bad;
	if (!(kvs = cJSON_GetObjectItemCaseSensitive(range, "kvs")))
		return NULL;
	if (!cJSON_IsArray(kvs) ||
	    (cJSON_GetArrayItem(kvs, 0) && !cJSON_IsObject(cJSON_GetArrayItem(kvs, 0))))
		goto bad;
	return cJSON_GetArrayItem(kvs, 0);
bad:
	*error = err_set(e, ERR_INVALID,
			 "etcd's answer to the lock transaction is malformed");
	return NULL;
}

/* Internal: parse_txn that also says which lease holds the key (0 = none). */
static int lock_parse_txn(const char *body, size_t len, bool *won, int64_t *lease,
			  char **holder, struct err *e)
{
	cJSON *root = NULL;
	const cJSON *ok, *kv, *value;
	char *raw = NULL;
	size_t rawlen = 0;
	int error;

	*won = false;
	*holder = NULL;
	*lease = 0;
	if ((error = lock_answer(&root, body, len, "the lock transaction", NULL, e)) < 0)
		return error;
	ok = cJSON_GetObjectItemCaseSensitive(root, "succeeded");
	if (ok && !cJSON_IsBool(ok)) {
		error = err_set(e, ERR_INVALID,
				"etcd's answer to the lock transaction is malformed");
		goto done;
	}
	if (cJSON_IsTrue(ok)) {
		*won = true;
		goto done;
	}
	kv = lock_txn_kv(root, &error, e);
	if (error)
		goto done;
	if (kv) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(kv, "lease");

		if (l && !lock_json_int64(l, lease)) {
			error = err_set(
				e, ERR_INVALID,
				"etcd's answer to the lock transaction is malformed");
			goto done;
		}
	}
	value = kv ? cJSON_GetObjectItemCaseSensitive(kv, "value") : NULL;
	if (value && !cJSON_IsString(value)) {
		error = err_set(e, ERR_INVALID,
				"etcd's answer to the lock transaction is malformed");
		goto done;
	}
	if (value) {
		struct err de = ERR_INIT;

		if (apply_lock_b64_decode(&raw, &rawlen, value->valuestring,
					  APPLY_LOCK_MAX_ANSWER, &de) < 0)
			error = err_set(
				e, ERR_INVALID,
				"etcd's answer names its holder in malformed base64");
		err_clear(&de);
		if (error)
			goto done;
	}
	*holder = rawlen ? apply_lock_escape(raw, rawlen, APPLY_LOCK_MAX_HOLDER)
			 : xstrdup("an unknown holder");
done:
	free(raw);
	cJSON_Delete(root);
	return error;
}

int apply_lock_parse_txn(const char *body, size_t len, bool *won, char **holder,
			 struct err *e)
{
	int64_t lease;

	return lock_parse_txn(body, len, won, &lease, holder, e);
}

int apply_lock_parse_keepalive(const char *body, size_t len, int64_t *ttl_s,
			       struct err *e)
{
	cJSON *root = NULL;
	const cJSON *result, *ttl;
	int64_t t = 0;
	int error;

	if ((error = lock_answer(&root, body, len, "the lease keep-alive", NULL, e)) < 0)
		return error;
	result = cJSON_GetObjectItemCaseSensitive(root, "result");
	ttl = cJSON_IsObject(result) ? cJSON_GetObjectItemCaseSensitive(result, "TTL")
				     : NULL;
	if (!cJSON_IsObject(result) ||
	    (ttl && (!lock_json_int64(ttl, &t) || t > LOCK_MAX_TTL_S)))
		error = err_set(e, ERR_INVALID,
				"etcd's answer to the lease keep-alive is malformed");
	else
		*ttl_s = t > 0 ? t : 0;
	cJSON_Delete(root);
	return error;
}

/* ---------------------------------------------------------------------
 * HTTP.
 */

static pthread_once_t lock_curl_once = PTHREAD_ONCE_INIT;
static CURLcode lock_curl_init_rc;

static void lock_curl_init(void)
{
	lock_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct lock_resp {
	struct buf body;
	bool toobig;
};

static size_t lock_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct lock_resp *r = userdata;
	size_t n = size * nmemb;

	if (buf_put(&r->body, data, n)) {
		r->toobig = true;
		return 0; /* abort the transfer */
	}
	return n;
}

/* A request's timeout: a third of the TTL, within 1 to 10 seconds. */
static long lock_timeout_ms(int64_t ttl_ms)
{
	int64_t t = ttl_ms / 3;

	return (long)(t < 1000 ? 1000 : t > 10000 ? 10000 : t);
}

/*
 * POST body to u's base + path on easy, the answer into resp (capped).
 * 0 for HTTP 200.  Otherwise ERR_NET for transport failures and HTTP 5xx,
 * ERR_TOOBIG, or ERR_GENERIC; an error answer from etcd is quoted (what
 * names the request) and its gRPC code goes to *grpc_code (0 when none).
 */
static int lock_post(CURL *easy, const struct apply_lock_url *u, const char *path,
		     const char *what, const char *body, long timeout_ms,
		     struct lock_resp *resp, int *grpc_code, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct err ae = ERR_INIT;
	cJSON *root = NULL;
	char *url = xasprintf("%s%s", u->base, path);
	long status = 0;
	CURLcode rc;
	int error;

	buf_release(&resp->body);
	buf_init(&resp->body, APPLY_LOCK_MAX_ANSWER);
	resp->toobig = false;
	*grpc_code = 0;
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, u->https ? "https" : "http");
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, lock_write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	if (u->loopback)
		curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	free(url);
	if (resp->toobig)
		return err_set(e, ERR_TOOBIG,
			       "etcd at %s answered more than %u bytes to %s", u->base,
			       APPLY_LOCK_MAX_ANSWER, what);
	if (rc != CURLE_OK)
		return err_set(e, ERR_NET, "cannot reach etcd at %s: %s", u->base,
			       *errbuf ? errbuf : curl_easy_strerror(rc));
	if (status == 200)
		return 0;
	/* the gateway's errors carry etcd's message and gRPC code */
	if (lock_answer(&root, resp->body.ptr, resp->body.len, what, grpc_code, &ae) <
		    0 &&
	    ae.code == ERR_GENERIC)
		error = err_set(e, status >= 500 ? ERR_NET : ERR_GENERIC, "%s", ae.msg);
	else
		error = err_set(e, status >= 500 ? ERR_NET : ERR_GENERIC,
				"etcd at %s answered HTTP %ld to %s", u->base, status,
				what);
	cJSON_Delete(root);
	err_clear(&ae);
	return error;
}

/* ---------------------------------------------------------------------
 * Lease and keys.
 */

static int lock_grant(struct apply_lock *l, int64_t ttl_s, struct err *e)
{
	struct lock_resp r = { BUF_INIT, false };
	char *body = xasprintf("{\"TTL\":%lld}", (long long)ttl_s);
	int64_t sent = time_now_ms(), granted = 0;
	int code, error;

	error = lock_post(l->easy, &l->url, "/v3/lease/grant", "the lease grant", body,
			  lock_timeout_ms(ttl_s * 1000), &r, &code, e);
	if (!error)
		error = apply_lock_parse_grant(r.body.ptr, r.body.len, &l->id, &granted,
					       e);
	if (!error) {
		l->ttl_ms = granted * 1000;
		l->valid_until_ms = sent + l->ttl_ms;
	}
	buf_release(&r.body);
	free(body);
	return error;
}

/* Revoke the lease: its keys go with it.  A lease already gone is fine. */
static int lock_revoke(struct apply_lock *l, struct err *e)
{
	struct lock_resp r = { BUF_INIT, false };
	struct err re = ERR_INIT;
	char *body = xasprintf("{\"ID\":\"%lld\"}", (long long)l->id);
	cJSON *root = NULL;
	int code = 0, error;

	error = lock_post(l->easy, &l->url, "/v3/lease/revoke", "the lease revoke", body,
			  lock_timeout_ms(l->ttl_ms), &r, &code, &re);
	if (!error)
		error = lock_answer(&root, r.body.ptr, r.body.len, "the lease revoke",
				    &code, &re);
	if (error && code == LOCK_GRPC_NOT_FOUND)
		error = 0; /* expired already */
	else if (error)
		error = err_set(e, re.code, "%s", re.msg);
	err_clear(&re);
	cJSON_Delete(root);
	buf_release(&r.body);
	free(body);
	return error;
}

/*
 * One try at a scope's key: put our note under our lease if nobody holds
 * the key, else read who does, in one transaction.  0 with *won, or with
 * *holder (caller frees) naming who holds it.
 */
static int lock_try(struct apply_lock *l, const char *key_b64, const char *value_b64,
		    bool *won, char **holder, struct err *e)
{
	struct lock_resp r = { BUF_INIT, false };
	int64_t held_by = 0;
	char *body;
	int code, error;

	/* base64 and digits only: nothing to escape */
	body = xasprintf(
		"{\"compare\":[{\"key\":\"%s\",\"target\":\"CREATE\",\"result\":\"EQUAL\","
		"\"create_revision\":\"0\"}],"
		"\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\","
		"\"lease\":\"%lld\"}}],"
		"\"failure\":[{\"request_range\":{\"key\":\"%s\"}}]}",
		key_b64, key_b64, value_b64, (long long)l->id, key_b64);
	*won = false;
	*holder = NULL;
	error = lock_post(l->easy, &l->url, "/v3/kv/txn", "the lock transaction", body,
			  lock_timeout_ms(l->ttl_ms), &r, &code, e);
	if (!error)
		error = lock_parse_txn(r.body.ptr, r.body.len, won, &held_by, holder, e);
	if (!error && !*won && held_by == l->id) {
		/* ours already: the answer to an earlier try was lost */
		*won = true;
		free(*holder);
		*holder = NULL;
	}
	buf_release(&r.body);
	free(body);
	return error;
}

/* ---------------------------------------------------------------------
 * Keeping the lease alive.
 */

/* Mark l lost (under l->mu); the first reason stays. */
static void lock_lose(struct apply_lock *l, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void lock_lose(struct apply_lock *l, const char *fmt, ...)
{
	va_list ap;

	if (l->lost)
		return;
	l->lost = true;
	va_start(ap, fmt);
	l->lost_why = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Lost when no renewal was answered for a whole TTL (under l->mu). */
static void lock_check_late(struct apply_lock *l)
{
	if (l->lost || time_now_ms() < l->valid_until_ms)
		return;
	if (l->renew_err)
		lock_lose(l, "its lease was not renewed within its %llds TTL (%s)",
			  (long long)l->ttl_ms / 1000, l->renew_err);
	else
		lock_lose(l, "its lease was not renewed within its %llds TTL",
			  (long long)l->ttl_ms / 1000);
}

static void lock_abstime(struct timespec *ts, int64_t in_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += in_ms / 1000;
	ts->tv_nsec += (in_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* One keep-alive on easy: 0 with *ttl_s (0 = the lease is gone), or an error. */
static int lock_renew(struct apply_lock *l, CURL *easy, struct lock_resp *r,
		      int64_t *ttl_s, struct err *e)
{
	char *body = xasprintf("{\"ID\":\"%lld\"}", (long long)l->id);
	int code, error;

	if (!easy)
		error = err_set(e, ERR_GENERIC, "cannot create an HTTP client");
	else
		error = lock_post(easy, &l->url, "/v3/lease/keepalive",
				  "the lease keep-alive", body,
				  lock_timeout_ms(l->ttl_ms), r, &code, e);
	if (!error)
		error = apply_lock_parse_keepalive(r->body.ptr, r->body.len, ttl_s, e);
	free(body);
	return error;
}

/*
 * The keep-alive thread: renew every TTL/3, sooner again after a failed
 * renewal; stop when told, or once the lease is lost.
 */
static void *lock_keepalive_main(void *arg)
{
	struct apply_lock *l = arg;
	struct lock_resp r = { BUF_INIT, false };
	CURL *easy = curl_easy_init();
	int64_t interval = l->ttl_ms / 3 < 100 ? 100 : l->ttl_ms / 3;
	int64_t retry = interval / 3 < 100 ? 100 : interval / 3;
	int64_t next = time_now_ms() + interval;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && !l->lost) {
		struct err e = ERR_INIT;
		int64_t now = time_now_ms(), sent, ttl_s = 0;
		int error;

		if (now < next) {
			struct timespec ts;

			lock_abstime(&ts, next - now);
			pthread_cond_timedwait(&l->cv, &l->mu, &ts);
			continue;
		}
		pthread_mutex_unlock(&l->mu);
		sent = time_now_ms();
		error = lock_renew(l, easy, &r, &ttl_s, &e);
		pthread_mutex_lock(&l->mu);
		if (!error && ttl_s > 0) {
			if (sent + ttl_s * 1000 > l->valid_until_ms)
				l->valid_until_ms = sent + ttl_s * 1000;
			free(l->renew_err);
			l->renew_err = NULL;
			next = sent + interval;
		} else if (!error) {
			lock_lose(l, "its lease expired or was revoked");
		} else {
			free(l->renew_err);
			l->renew_err = xstrdup(e.msg ? e.msg : "renewal failed");
			next = time_now_ms() + retry;
		}
		err_clear(&e);
		lock_check_late(l);
	}
	pthread_mutex_unlock(&l->mu);
	buf_release(&r.body);
	if (easy)
		curl_easy_cleanup(easy);
	return NULL;
}

/* ---------------------------------------------------------------------
 * Acquire, check, release.
 */

static int lock_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A new lock of the sorted unique scopes, not yet talking to etcd. */
static struct apply_lock *lock_new(const char *const *scopes, size_t nscopes)
{
	struct apply_lock *l = xcalloc(1, sizeof(*l));
	pthread_condattr_t ca;

	l->scopes = xcalloc(nscopes, sizeof(*l->scopes));
	for (size_t i = 0; i < nscopes; i++)
		l->scopes[i] = xstrdup(scopes[i]);
	qsort(l->scopes, nscopes, sizeof(*l->scopes), lock_strcmp);
	for (size_t i = 0; i < nscopes; i++) {
		if (l->nscopes && !strcmp(l->scopes[l->nscopes - 1], l->scopes[i]))
			free(l->scopes[i]);
		else
			l->scopes[l->nscopes++] = l->scopes[i];
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	return l;
}

static void lock_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Take one scope's key, waiting until deadline_ms; 0 or an error. */
static int lock_take(struct apply_lock *l, const char *scope, const char *value_b64,
		     int64_t deadline_ms, int64_t retry_ms, uint64_t *rng, struct err *e)
{
	char *key = apply_lock_key(&l->url, scope);
	char *key_b64 = apply_lock_b64(key, strlen(key));
	char *holder = NULL;
	bool won = false;
	int error = 0;

	for (;;) {
		int64_t now, pause;

		if ((error = apply_lock_check(l, e)) < 0)
			break;
		if ((error = lock_try(l, key_b64, value_b64, &won, &holder, e)) < 0 ||
		    won)
			break;
		now = time_now_ms();
		if (now >= deadline_ms) {
			error = err_set(e, ERR_LOCKED, "scope '%s' is locked by %s",
					scope, holder);
			break;
		}
		free(holder);
		holder = NULL;
		/* retry_ms give or take a fifth, so waiting runners spread out */
		*rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		pause = retry_ms * 4 / 5 +
			(int64_t)((*rng >> 33) % (uint64_t)(retry_ms * 2 / 5 + 1));
		lock_sleep_ms(pause < deadline_ms - now ? pause : deadline_ms - now);
	}
	free(holder);
	free(key_b64);
	free(key);
	return error;
}

int apply_lock_acquire(struct apply_lock **out, const char *url,
		       const char *const *scopes, size_t nscopes,
		       const struct apply_lock_opts *o, struct err *e)
{
	struct apply_lock_opts defaults = APPLY_LOCK_OPTS_INIT;
	struct apply_lock *l = NULL;
	char *holder = NULL, *value_b64 = NULL;
	int64_t start = time_now_ms(), ttl_s, retry_ms;
	uint64_t rng = (uint64_t)start ^ ((uint64_t)getpid() << 20);
	int error = 0;

	*out = NULL;
	if (!o)
		o = &defaults;
	if (!nscopes)
		return err_set(e, ERR_INVALID, "no scope to lock");
	for (size_t i = 0; i < nscopes; i++)
		if (!apply_lock_scope_valid(scopes[i])) {
			char *shown = apply_lock_escape(scopes[i], strlen(scopes[i]), 64);

			error = err_set(e, ERR_INVALID, "scope '%s' cannot name a lock",
					shown);
			free(shown);
			return error;
		}
	pthread_once(&lock_curl_once, lock_curl_init);
	if (lock_curl_init_rc != CURLE_OK)
		return err_set(e, ERR_GENERIC, "cannot initialise libcurl");

	l = lock_new(scopes, nscopes);
	if ((error = apply_lock_url_parse(&l->url, url, e)) < 0)
		goto done;
	if (!(l->easy = curl_easy_init())) {
		error = err_set(e, ERR_GENERIC, "cannot create an HTTP client");
		goto done;
	}
	ttl_s = o->ttl_ms > 0 ? (o->ttl_ms + 999) / 1000
			      : APPLY_LOCK_DEFAULT_TTL_MS / 1000;
	if (ttl_s > LOCK_MAX_TTL_S)
		ttl_s = LOCK_MAX_TTL_S;
	retry_ms = o->retry_ms > 0 ? o->retry_ms : LOCK_DEFAULT_RETRY_MS;
	if ((error = lock_grant(l, ttl_s, e)) < 0)
		goto done;
	if (pthread_create(&l->thread, NULL, lock_keepalive_main, l) != 0) {
		error = err_set(e, ERR_GENERIC,
				"cannot start the lease keep-alive thread");
		goto done;
	}
	l->thread_started = true;
	holder = o->holder ? xstrdup(o->holder) : apply_lock_holder("apply", time(NULL));
	value_b64 = apply_lock_b64(holder, strlen(holder));
	for (size_t i = 0; i < l->nscopes && !error; i++)
		error = lock_take(l, l->scopes[i], value_b64,
				  start + (o->timeout_ms > 0 ? o->timeout_ms : 0),
				  retry_ms, &rng, e);
done:
	if (error)
		apply_lock_release(l, e); /* the first error stays */
	else
		*out = l;
	free(value_b64);
	free(holder);
	return error;
}

/* "scope 'a'" or "scopes 'a', 'b'", for messages.  Caller frees. */
static char *lock_scopes_desc(const struct apply_lock *l)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, l->nscopes == 1 ? "scope " : "scopes ");
	for (size_t i = 0; i < l->nscopes; i++)
		buf_printf(&b, "%s'%s'", i ? ", " : "", l->scopes[i]);
	return buf_detach(&b, NULL);
}

int apply_lock_check(struct apply_lock *l, struct err *e)
{
	int error = 0;

	pthread_mutex_lock(&l->mu);
	lock_check_late(l);
	if (l->lost) {
		char *what = lock_scopes_desc(l);

		error = err_set(e, ERR_LOCKED, "the etcd lock on %s was lost: %s", what,
				l->lost_why);
		free(what);
	}
	pthread_mutex_unlock(&l->mu);
	return error;
}

int64_t apply_lock_ttl_ms(const struct apply_lock *l)
{
	return l->ttl_ms;
}

int apply_lock_release(struct apply_lock *l, struct err *e)
{
	int error = 0;

	if (!l)
		return 0;
	if (l->thread_started) {
		pthread_mutex_lock(&l->mu);
		l->stop = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->thread, NULL);
	}
	if (l->id && l->easy)
		error = lock_revoke(l, e);
	if (l->easy)
		curl_easy_cleanup(l->easy);
	apply_lock_url_clear(&l->url);
	for (size_t i = 0; i < l->nscopes; i++)
		free(l->scopes[i]);
	free(l->scopes);
	free(l->lost_why);
	free(l->renew_err);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
	return error;
}

/* ---------------------------------------------------------------------
 * The guard cloud.
 */

static int guard_describe(void *ctx, const char *region, const struct tc_filter *filters,
			  size_t nfilters, const char *const *ids, size_t nids,
			  struct tc_instance_list *out, struct err *e)
{
	struct apply_lock_guard *g = ctx;
	int error = apply_lock_check(g->lock, e);

	if (!error)
		error = g->inner->ops->describe(g->inner->ctx, region, filters, nfilters,
						ids, nids, out, e);
	return error;
}

static int guard_observe(void *ctx, struct tc_region_obs *r, size_t n, struct err *e)
{
	struct apply_lock_guard *g = ctx;
	int error = apply_lock_check(g->lock, e);

	if (!error)
		error = g->inner->ops->observe(g->inner->ctx, r, n, e);
	return error;
}

static void guard_run(void *ctx, struct tc_call *calls, size_t n)
{
	struct apply_lock_guard *g = ctx;
	struct err le = ERR_INIT;

	if (apply_lock_check(g->lock, &le) < 0) {
		for (size_t i = 0; i < n; i++) {
			err_copy(&calls[i].err, &le);
			calls[i].err.cls = ERR_CLASS_AUTH; /* stop the run */
		}
		err_clear(&le);
		return;
	}
	g->inner->ops->run(g->inner->ctx, calls, n);
}

static int guard_terminate(void *ctx, const char *region, const char *const *ids,
			   size_t n, struct err *e)
{
	struct apply_lock_guard *g = ctx;
	int error = apply_lock_check(g->lock, e);

	if (!error)
		error = g->inner->ops->terminate(g->inner->ctx, region, ids, n, e);
	return error;
}

static int64_t guard_now_ms(void *ctx)
{
	struct apply_lock_guard *g = ctx;

	return g->inner->ops->now_ms(g->inner->ctx);
}

static void guard_sleep_ms(void *ctx, int64_t ms)
{
	struct apply_lock_guard *g = ctx;

	g->inner->ops->sleep_ms(g->inner->ctx, ms);
}

static int guard_quota(void *ctx, const char *region, struct tc_spot_quota_list *out,
		       char **app_id, struct err *e)
{
	struct apply_lock_guard *g = ctx;

	if (!g->inner->ops->quota)
		return err_set(e, ERR_GENERIC, "the spot quota cannot be asked for here");
	return g->inner->ops->quota(g->inner->ctx, region, out, app_id, e);
}

static const struct apply_cloud_ops lock_guard_ops = {
	guard_describe, guard_observe,	guard_run,   guard_terminate,
	guard_now_ms,	guard_sleep_ms, guard_quota,
};

void apply_lock_guard_init(struct apply_lock_guard *g, const struct apply_cloud *inner,
			   struct apply_lock *lock)
{
	g->cloud.ops = &lock_guard_ops;
	g->cloud.ctx = g;
	g->inner = inner;
	g->lock = lock;
}
