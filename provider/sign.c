/*
 * sign.c - TC3-HMAC-SHA256 request signing and verification.
 *
 * The pipeline follows tencent-api.md section 1 step by step (and the
 * shape of curl's http_aws_sigv4.c): canonical request, its hash, the
 * string to sign, the three chained HMAC keys, the signature, the
 * Authorization header.  Every intermediate value lands in struct
 * tc_sign_output so tests can compare each one with the official example.
 *
 * Intermediate keys are binary (they may contain NUL bytes), so every HMAC
 * gets an explicit length.  The "TC3"+SecretKey key and the derived keys
 * are wiped as soon as they are no longer needed.
 */
#include "../util/setup.h"
#include "../util/hash.h"
#include "tc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define TC_ALGORITHM "TC3-HMAC-SHA256"
#define TC_SIGN_MAX_HEADERS 32
#define TC_SIGN_MAX_BUF (1u << 20)

/* HMAC-SHA256 with an explicit key length; out receives 32 bytes. */
static int tc_hmac(unsigned char out[32], const void *key, size_t keylen, const void *msg,
		   size_t msglen)
{
	unsigned int outlen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) ||
	    outlen != 32)
		return ERR_GENERIC;
	return 0;
}

void tc_utc_date(char out[11], int64_t timestamp)
{
	struct tm tm;
	time_t t = (time_t)timestamp;

	if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		memcpy(out, "1970-01-01", 11);
}

/* A header in canonical form: both name and value trimmed, lower-cased. */
struct tc_canon_header {
	char *name;
	char *value;
};

static char *tc_canon_text(const char *s)
{
	const char *end;
	char *r;

	if (!s)
		s = "";
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	r = xstrndup(s, (size_t)(end - s));
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static int tc_canon_cmp(const void *a, const void *b)
{
	const struct tc_canon_header *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void tc_sign_output_clear(struct tc_sign_output *out)
{
	if (!out)
		return;
	buf_release(&out->canonical_request);
	buf_release(&out->string_to_sign);
	buf_release_secret(&out->authorization);
	secure_wipe(out, sizeof(*out));
	memset(out, 0, sizeof(*out));
}

/*
 * Build canonical headers ("k:v\n" each) and the signed-headers list from
 * in->headers.
 */
static int tc_canon_headers(struct buf *canon, char *signed_headers, size_t sh_size,
			    const struct tc_sign_input *in, struct err *e)
{
	struct tc_canon_header h[TC_SIGN_MAX_HEADERS];
	size_t n = in->nheaders, used = 0;
	int error = 0;

	if (n == 0)
		return err_set(e, ERR_INVALID, "no headers to sign");
	if (n > TC_SIGN_MAX_HEADERS)
		return err_set(e, ERR_TOOBIG, "too many headers to sign (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		h[i].name = tc_canon_text(in->headers[i].name);
		h[i].value = tc_canon_text(in->headers[i].value);
	}
	qsort(h, n, sizeof(h[0]), tc_canon_cmp);
	signed_headers[0] = '\0';
	for (size_t i = 0; i < n && !error; i++) {
		size_t l = strlen(h[i].name);

		if (!l || strchr(h[i].name, ';') || strchr(h[i].name, ':')) {
			error = err_set(e, ERR_INVALID, "invalid header name to sign");
			break;
		}
		if (i > 0 && !strcmp(h[i].name, h[i - 1].name)) {
			error = err_set(e, ERR_INVALID, "header '%s' signed twice",
					h[i].name);
			break;
		}
		if (used + l + (i ? 1 : 0) + 1 > sh_size) {
			error = err_set(e, ERR_TOOBIG, "signed header list too long");
			break;
		}
		if (i)
			signed_headers[used++] = ';';
		memcpy(signed_headers + used, h[i].name, l + 1);
		used += l;
		if (buf_printf(canon, "%s:%s\n", h[i].name, h[i].value))
			error = err_set(e, ERR_TOOBIG, "canonical headers too long");
	}
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	return error;
}

int tc_sign(struct tc_sign_output *out, const struct tc_sign_input *in, struct err *e)
{
	struct buf headers = BUF_INIT;
	unsigned char sig[32];
	unsigned char *key = NULL;
	size_t keylen = 0;
	int error = 0;

	memset(out, 0, sizeof(*out));
	buf_init(&out->canonical_request, TC_SIGN_MAX_BUF);
	buf_init(&out->string_to_sign, TC_SIGN_MAX_BUF);
	buf_init(&out->authorization, 4096);
	buf_init(&headers, TC_SIGN_MAX_BUF);

	if (!in->method || !*in->method || !in->service || !*in->service ||
	    !in->secret_id || !*in->secret_id || !in->secret_key || !*in->secret_key)
		return err_set(e, ERR_INVALID, "incomplete signing input");
	if (in->payload_len && !in->payload)
		return err_set(e, ERR_INVALID, "payload missing");

	/* 1. canonical request */
	if (sha256_hex(out->payload_hash, in->payload_len ? in->payload : "",
		       in->payload_len))
		error = err_set(e, ERR_GENERIC, "sha-256 failed");
	if (!error)
		error = tc_canon_headers(&headers, out->signed_headers,
					 sizeof(out->signed_headers), in, e);
	if (!error &&
	    buf_printf(&out->canonical_request, "%s\n/\n%s\n%s\n%s\n%s", in->method,
		       in->query ? in->query : "", buf_str(&headers), out->signed_headers,
		       out->payload_hash))
		error = err_set(e, ERR_TOOBIG, "canonical request too long");
	if (!error && sha256_hex(out->canonical_hash, out->canonical_request.ptr,
				 out->canonical_request.len))
		error = err_set(e, ERR_GENERIC, "sha-256 failed");

	/* 2. string to sign */
	if (!error) {
		tc_utc_date(out->date, in->timestamp);
		if (buf_printf(&out->string_to_sign,
			       "%s\n%" PRId64 "\n%s/%s/tc3_request\n%s", TC_ALGORITHM,
			       in->timestamp, out->date, in->service,
			       out->canonical_hash))
			error = err_set(e, ERR_TOOBIG, "string to sign too long");
	}

	/* 3. keys and signature */
	if (!error) {
		size_t sklen = strlen(in->secret_key);

		keylen = 3 + sklen;
		key = xmalloc(keylen);
		memcpy(key, "TC3", 3);
		memcpy(key + 3, in->secret_key, sklen);
		if (tc_hmac(out->secret_date, key, keylen, out->date,
			    strlen(out->date)) ||
		    tc_hmac(out->secret_service, out->secret_date, 32, in->service,
			    strlen(in->service)) ||
		    tc_hmac(out->secret_signing, out->secret_service, 32, "tc3_request",
			    11) ||
		    tc_hmac(sig, out->secret_signing, 32, out->string_to_sign.ptr,
			    out->string_to_sign.len))
			error = err_set(e, ERR_GENERIC, "hmac-sha256 failed");
		else
			hex_encode(out->signature, sig, 32);
	}

	/* 4. Authorization */
	if (!error &&
	    buf_printf(
		    &out->authorization,
		    "%s Credential=%s/%s/%s/tc3_request, SignedHeaders=%s, Signature=%s",
		    TC_ALGORITHM, in->secret_id, out->date, in->service,
		    out->signed_headers, out->signature))
		error = err_set(e, ERR_TOOBIG, "authorization header too long");

	if (key) {
		secure_wipe(key, keylen);
		free(key);
	}
	secure_wipe(sig, sizeof(sig));
	buf_release(&headers);
	return error;
}

/* ------------------------------------------------------------------ */

static const char *tc_find_header(const struct tc_header *headers, size_t n,
				  const char *name, size_t namelen)
{
	for (size_t i = 0; i < n; i++)
		if (headers[i].name && strlen(headers[i].name) == namelen &&
		    !strncasecmp(headers[i].name, name, namelen))
			return headers[i].value ? headers[i].value : "";
	return NULL;
}

static int tc_auth_fail(struct err *e, int code, const char *api_code, const char *msg)
{
	code = err_set(e, code, "%s", msg);
	err_set_api(e, api_code, msg, NULL, ERR_CLASS_AUTH);
	return code;
}

/* The parts of a received Authorization header (pointers into a copy). */
struct tc_auth_parts {
	char *secret_id;
	char *date;
	char *service;
	char *signed_headers;
	char *signature;
};

static char *tc_skip_space(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parse "TC3-HMAC-SHA256 Credential=ID/DATE/SVC/tc3_request, SignedHeaders=...,
 * Signature=..." */
static bool tc_parse_auth(struct tc_auth_parts *a, char *s)
{
	size_t alen = strlen(TC_ALGORITHM);
	char *p, *cred = NULL;

	memset(a, 0, sizeof(*a));
	s = tc_skip_space(s);
	if (strncmp(s, TC_ALGORITHM, alen) || (s[alen] != ' ' && s[alen] != '\t'))
		return false;
	p = s + alen;
	while (*p) {
		char *part, *eq, *end;

		p = tc_skip_space(p);
		part = p;
		end = strchr(p, ',');
		if (end) {
			*end = '\0';
			p = end + 1;
		} else {
			p += strlen(p);
		}
		/* trim the end of part */
		for (char *t = part + strlen(part);
		     t > part && (t[-1] == ' ' || t[-1] == '\t');)
			*--t = '\0';
		if (!*part)
			return false;
		if (!(eq = strchr(part, '=')))
			return false;
		*eq = '\0';
		if (!strcmp(part, "Credential") && !cred)
			cred = eq + 1;
		else if (!strcmp(part, "SignedHeaders") && !a->signed_headers)
			a->signed_headers = eq + 1;
		else if (!strcmp(part, "Signature") && !a->signature)
			a->signature = eq + 1;
		else
			return false;
	}
	if (!cred || !a->signed_headers || !a->signature)
		return false;
	/* ID/DATE/SERVICE/tc3_request; the id itself has no '/' */
	a->secret_id = cred;
	if (!(p = strchr(cred, '/')))
		return false;
	*p++ = '\0';
	a->date = p;
	if (!(p = strchr(p, '/')))
		return false;
	*p++ = '\0';
	a->service = p;
	if (!(p = strchr(p, '/')))
		return false;
	*p++ = '\0';
	if (strcmp(p, "tc3_request"))
		return false;
	return *a->secret_id && *a->date && *a->service && *a->signed_headers &&
	       strlen(a->signature) == 64;
}

static bool tc_parse_timestamp(const char *s, int64_t *out)
{
	int64_t v = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return false;
	*out = v;
	return true;
}

static bool tc_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ';');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (l == n && !strncmp(p, name, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

int tc_verify(const char *method, const char *query, const struct tc_header *headers,
	      size_t nheaders, const void *body, size_t body_len, const char *service,
	      int64_t now, const char *(*lookup_secret)(void *ctx, const char *secret_id),
	      void *ctx, struct err *e)
{
	struct tc_header signed_h[TC_SIGN_MAX_HEADERS];
	struct tc_sign_output out;
	struct tc_sign_input in;
	struct tc_auth_parts a;
	const char *auth, *ts_text, *secret;
	char *copy = NULL, date[11];
	size_t nsigned = 0, copy_len = 0;
	int64_t ts;
	int error = 0;

	memset(&out, 0, sizeof(out));
	auth = tc_find_header(headers, nheaders, "authorization", 13);
	ts_text = tc_find_header(headers, nheaders, "x-tc-timestamp", 14);
	if (!auth || !*auth)
		return tc_auth_fail(e, ERR_AUTH, "MissingParameter",
				    "the request is missing the 'Authorization' header");
	if (!ts_text || !*ts_text)
		return tc_auth_fail(e, ERR_AUTH, "MissingParameter",
				    "the request is missing the 'X-TC-Timestamp' header");
	if (!tc_parse_timestamp(ts_text, &ts))
		return tc_auth_fail(e, ERR_AUTH, "AuthFailure.InvalidAuthorization",
				    "'X-TC-Timestamp' is not a Unix timestamp");

	copy_len = strlen(auth);
	copy = xstrdup(auth);
	if (!tc_parse_auth(&a, copy)) {
		error = tc_auth_fail(e, ERR_AUTH, "AuthFailure.InvalidAuthorization",
				     "the 'Authorization' header is malformed");
		goto done;
	}
	if (!tc_list_has(a.signed_headers, "content-type") ||
	    !tc_list_has(a.signed_headers, "host")) {
		error = tc_auth_fail(
			e, ERR_AUTH, "AuthFailure.InvalidAuthorization",
			"'SignedHeaders' must include content-type and host");
		goto done;
	}
	if (strcmp(a.service, service)) {
		error = tc_auth_fail(e, ERR_AUTH, "AuthFailure.InvalidAuthorization",
				     "the credential scope names the wrong service");
		goto done;
	}
	if (ts > now + TC_TIME_WINDOW_SECONDS || ts < now - TC_TIME_WINDOW_SECONDS) {
		error = tc_auth_fail(
			e, ERR_AUTH, "AuthFailure.SignatureExpire",
			"the request timestamp is more than 5 minutes from server time");
		goto done;
	}
	if (!lookup_secret || !(secret = lookup_secret(ctx, a.secret_id))) {
		error = tc_auth_fail(e, ERR_AUTH, "AuthFailure.SecretIdNotFound",
				     "the SecretId is not found");
		goto done;
	}
	tc_utc_date(date, ts);
	if (strcmp(date, a.date)) {
		error = tc_auth_fail(
			e, ERR_AUTH, "AuthFailure.SignatureFailure",
			"the credential scope date does not match 'X-TC-Timestamp'");
		goto done;
	}
	/* the headers SignedHeaders lists, in its order (the signer sorts) */
	for (char *p = a.signed_headers; p && *p;) {
		char *end = strchr(p, ';');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		const char *v;

		if (nsigned == TC_SIGN_MAX_HEADERS || l == 0) {
			error = tc_auth_fail(e, ERR_AUTH,
					     "AuthFailure.InvalidAuthorization",
					     "the 'SignedHeaders' list is invalid");
			goto done;
		}
		if (!(v = tc_find_header(headers, nheaders, p, l))) {
			error = tc_auth_fail(
				e, ERR_AUTH, "AuthFailure.SignatureFailure",
				"a header listed in 'SignedHeaders' is missing");
			goto done;
		}
		if (end)
			*end = '\0';
		signed_h[nsigned].name = p;
		signed_h[nsigned].value = v;
		nsigned++;
		p = end ? end + 1 : NULL;
	}

	memset(&in, 0, sizeof(in));
	in.method = method;
	in.query = query ? query : "";
	in.headers = signed_h;
	in.nheaders = nsigned;
	in.payload = body;
	in.payload_len = body_len;
	in.service = a.service;
	in.timestamp = ts;
	in.secret_id = a.secret_id;
	in.secret_key = secret;
	{
		struct err se = ERR_INIT;

		if (tc_sign(&out, &in, &se)) {
			err_clear(&se);
			error = tc_auth_fail(
				e, ERR_AUTH, "AuthFailure.InvalidAuthorization",
				"the signed headers cannot be canonicalized");
			goto done;
		}
	}
	if (CRYPTO_memcmp(out.signature, a.signature, 64) != 0)
		error = tc_auth_fail(e, ERR_AUTH, "AuthFailure.SignatureFailure",
				     "the request signature does not match");

done:
	tc_sign_output_clear(&out);
	if (copy) {
		/* parsing put NULs into the copy: wipe all of it */
		secure_wipe(copy, copy_len);
		free(copy);
	}
	return error;
}
