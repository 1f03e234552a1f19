/*
 * Unit tests for provider/sign.c: the official TC3-HMAC-SHA256 worked
 * example (tencent-api.md 1.2) value by value, the earlier revisions of
 * 1.3, and the verifier.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../provider/tc.h"

/* The 86-byte body: literal backslash-u escapes, as Python json.dumps. */
static const char BODY[] =
	"{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\\u547d\\u540d\"], "
	"\"Name\": \"instance-name\"}]}";
static const char MASKED_ID[] = "AKID********************************";
static const char MASKED_KEY[] = "********************************";
static const char KEY_A[] = "Gu5t9xGARNpq86cd98joQYCN3*******";
static const char KEY_B[] = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";
static const char ID_B[] = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
#define TS 1551113065
#define CT "application/json; charset=utf-8"
#define HOST "cvm.tencentcloudapi.com"

static void hex(char *out, const unsigned char *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void sign3(struct tc_sign_output *out, const char *id, const char *key,
		  bool with_action, const char *body, size_t len, int64_t ts)
{
	struct tc_header h[3] = {
		{ "Content-Type", CT },
		{ "Host", HOST },
		{ "X-TC-Action", "DescribeInstances" },
	};
	struct tc_sign_input in = {
		.method = "POST",
		.query = "",
		.headers = h,
		.nheaders = with_action ? 3 : 2,
		.payload = body,
		.payload_len = len,
		.service = "cvm",
		.timestamp = ts,
		.secret_id = id,
		.secret_key = key,
	};
	struct err e = ERR_INIT;

	assert_int_equal(tc_sign(out, &in, &e), 0);
	assert_false(err_isset(&e));
}

static void test_body_is_86_bytes(void **state)
{
	(void)state;
	assert_int_equal(strlen(BODY), 86);
	assert_int_equal(strlen(MASKED_ID), 36);
	assert_int_equal(strlen(MASKED_KEY), 32);
}

static void test_official_example(void **state)
{
	struct tc_sign_output o;
	char h[65];
	static const char canon[] =
		"POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
		"host:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\n"
		"content-type;host;x-tc-action\n"
		"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";
	static const char sts[] =
		"TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
		"7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84";

	(void)state;
	sign3(&o, MASKED_ID, MASKED_KEY, true, BODY, strlen(BODY), TS);
	assert_string_equal(
		o.payload_hash,
		"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
	assert_int_equal(o.canonical_request.len, 207);
	assert_int_equal(strlen(canon), 207);
	assert_memory_equal(o.canonical_request.ptr, canon, 207);
	assert_string_equal(
		o.canonical_hash,
		"7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
	assert_string_equal(o.date, "2019-02-25");
	assert_string_equal(o.signed_headers, "content-type;host;x-tc-action");
	assert_string_equal(buf_str(&o.string_to_sign), sts);
	hex(h, o.secret_date, 32);
	assert_string_equal(
		h, "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0");
	hex(h, o.secret_service, 32);
	assert_string_equal(
		h, "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f");
	hex(h, o.secret_signing, 32);
	assert_string_equal(
		h, "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af");
	assert_string_equal(
		o.signature,
		"10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
	assert_string_equal(
		buf_str(&o.authorization),
		"TC3-HMAC-SHA256 Credential=AKID********************************"
		"/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host;"
		"x-tc-action, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff"
		"309d421d85b46093f6ab6c4f");
	tc_sign_output_clear(&o);
	/* cleared means wiped */
	for (size_t i = 0; i < sizeof(o.secret_signing); i++)
		assert_int_equal(o.secret_signing[i], 0);
	assert_null(o.authorization.ptr);
}

static void test_header_order_and_case_do_not_matter(void **state)
{
	struct tc_header h[3] = {
		{ "x-tc-action", "  DescribeInstances " },
		{ "HOST", HOST },
		{ "content-type", " " CT "\t" },
	};
	struct tc_sign_input in = {
		.method = "POST",
		.query = "",
		.headers = h,
		.nheaders = 3,
		.payload = BODY,
		.payload_len = strlen(BODY),
		.service = "cvm",
		.timestamp = TS,
		.secret_id = MASKED_ID,
		.secret_key = MASKED_KEY,
	};
	struct tc_sign_output o;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tc_sign(&o, &in, &e), 0);
	assert_string_equal(
		o.signature,
		"10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
	tc_sign_output_clear(&o);
}

static void test_earlier_revisions(void **state)
{
	struct tc_sign_output o;
	static const char canon_b[] =
		"POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
		"host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
		"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";

	(void)state;
	/* A': three headers, partly masked key */
	sign3(&o, MASKED_ID, KEY_A, true, BODY, strlen(BODY), TS);
	assert_string_equal(
		o.canonical_hash,
		"7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
	assert_string_equal(
		o.signature,
		"be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
	tc_sign_output_clear(&o);

	/* B: two headers, the EXAMPLE key */
	sign3(&o, ID_B, KEY_B, false, BODY, strlen(BODY), TS);
	assert_int_equal(o.canonical_request.len, 165);
	assert_memory_equal(o.canonical_request.ptr, canon_b, 165);
	assert_string_equal(
		o.canonical_hash,
		"5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
	assert_string_equal(
		o.signature,
		"72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
	assert_string_equal(
		buf_str(&o.authorization),
		"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
		"/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
		"Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
	tc_sign_output_clear(&o);

	/* B': two headers, partly masked key */
	sign3(&o, ID_B, KEY_A, false, BODY, strlen(BODY), TS);
	assert_string_equal(
		o.canonical_hash,
		"5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
	assert_string_equal(
		o.signature,
		"2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c");
	tc_sign_output_clear(&o);
}

static void test_utc_date(void **state)
{
	char d[11];

	(void)state;
	/* 2019-02-26 00:44:25 in UTC+8, but the scope date is UTC */
	tc_utc_date(d, 1551113065);
	assert_string_equal(d, "2019-02-25");
	tc_utc_date(d, 0);
	assert_string_equal(d, "1970-01-01");
	tc_utc_date(d, 1551139199); /* 2019-02-25 23:59:59Z */
	assert_string_equal(d, "2019-02-25");
	tc_utc_date(d, 1551139200);
	assert_string_equal(d, "2019-02-26");
}

static void test_empty_payload(void **state)
{
	struct tc_header h[2] = { { "Content-Type", "application/x-www-form-urlencoded" },
				  { "Host", HOST } };
	struct tc_sign_input in = {
		.method = "GET",
		.query = "",
		.headers = h,
		.nheaders = 2,
		.payload = NULL,
		.payload_len = 0,
		.service = "cvm",
		.timestamp = TS,
		.secret_id = "id",
		.secret_key = "key",
	};
	struct tc_sign_output o;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(tc_sign(&o, &in, &e), 0);
	assert_string_equal(
		o.payload_hash,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	tc_sign_output_clear(&o);
}

static void test_sign_rejects_bad_input(void **state)
{
	struct tc_header h[2] = { { "Host", "a" }, { "host", "b" } };
	struct tc_sign_input in = {
		.method = "POST",
		.query = "",
		.headers = h,
		.nheaders = 2,
		.payload = "",
		.payload_len = 0,
		.service = "cvm",
		.timestamp = TS,
		.secret_id = "id",
		.secret_key = "key",
	};
	struct tc_sign_output o;
	struct err e = ERR_INIT;

	(void)state;
	assert_true(tc_sign(&o, &in, &e) < 0); /* host twice */
	tc_sign_output_clear(&o);
	err_clear(&e);
	in.nheaders = 1;
	in.secret_key = "";
	assert_int_equal(tc_sign(&o, &in, &e), ERR_INVALID);
	tc_sign_output_clear(&o);
	err_clear(&e);
}

/* ---- verifier ---- */

struct keyring {
	const char *id[2];
	const char *key[2];
};

static const char *lookup(void *ctx, const char *id)
{
	struct keyring *k = ctx;

	for (int i = 0; i < 2; i++)
		if (k->id[i] && !strcmp(k->id[i], id))
			return k->key[i];
	return NULL;
}

static struct keyring ring = { { MASKED_ID, ID_B }, { MASKED_KEY, KEY_B } };

/* Received headers, as a server would see them. */
struct req {
	struct tc_header h[8];
	size_t n;
	char auth[512];
	char ts[32];
};

static void make_req(struct req *r, const char *id, const char *key, bool with_action,
		     int64_t ts)
{
	struct tc_sign_output o;

	sign3(&o, id, key, with_action, BODY, strlen(BODY), ts);
	snprintf(r->auth, sizeof(r->auth), "%s", buf_str(&o.authorization));
	tc_sign_output_clear(&o);
	snprintf(r->ts, sizeof(r->ts), "%" PRId64, ts);
	r->n = 0;
	r->h[r->n++] = (struct tc_header){ "authorization", r->auth };
	r->h[r->n++] = (struct tc_header){ "content-type", CT };
	r->h[r->n++] = (struct tc_header){ "host", HOST };
	r->h[r->n++] = (struct tc_header){ "x-tc-action", "DescribeInstances" };
	r->h[r->n++] = (struct tc_header){ "x-tc-timestamp", r->ts };
	r->h[r->n++] = (struct tc_header){ "x-tc-version", "2017-03-12" };
	r->h[r->n++] = (struct tc_header){ "x-tc-region", "ap-guangzhou" };
}

static int verify(struct req *r, const char *body, int64_t now, struct err *e)
{
	return tc_verify("POST", "", r->h, r->n, body, strlen(body), "cvm", now, lookup,
			 &ring, e);
}

static void expect_fail(struct req *r, const char *body, int64_t now, const char *code)
{
	struct err e = ERR_INIT;

	assert_int_equal(verify(r, body, now, &e), ERR_AUTH);
	assert_non_null(e.api_code);
	assert_string_equal(e.api_code, code);
	assert_int_equal(e.cls, ERR_CLASS_AUTH);
	err_clear(&e);
}

static void test_verify_accepts_vectors(void **state)
{
	struct req r;
	struct err e = ERR_INIT;
	/* the literal official Authorization values */
	static const char *official[] = {
		"TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/"
		"cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, "
		"Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
		"TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/"
		"cvm/tc3_request, SignedHeaders=content-type;host, "
		"Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(official); i++) {
		make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
		snprintf(r.auth, sizeof(r.auth), "%s", official[i]);
		assert_int_equal(verify(&r, BODY, TS, &e), 0);
		assert_false(err_isset(&e));
		/* within the window on either side */
		assert_int_equal(verify(&r, BODY, TS + 300, &e), 0);
		assert_int_equal(verify(&r, BODY, TS - 300, &e), 0);
	}
	/* A' with its own key */
	ring.key[0] = KEY_A;
	make_req(&r, MASKED_ID, KEY_A, true, TS);
	assert_true(strstr(
		r.auth,
		"be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"));
	assert_int_equal(verify(&r, BODY, TS, &e), 0);
	ring.key[0] = MASKED_KEY;
	/* header names arrive in any case */
	make_req(&r, ID_B, KEY_B, false, TS);
	r.h[1].name = "Content-Type";
	r.h[2].name = "HOST";
	assert_int_equal(verify(&r, BODY, TS, &e), 0);
}

static void test_verify_rejects_changes(void **state)
{
	struct req r;
	char body[128];

	(void)state;
	/* changed body (one byte) */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	snprintf(body, sizeof(body), "%s", BODY);
	body[10] = '2';
	expect_fail(&r, body, TS, "AuthFailure.SignatureFailure");
	/* changed signed header */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.h[3].value = "RunInstances";
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
	/* an unsigned header may change (x-tc-region is not signed here) */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.h[6].value = "ap-shanghai";
	{
		struct err e = ERR_INIT;

		assert_int_equal(verify(&r, BODY, TS, &e), 0);
	}
	/* changed scope date */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	{
		char *d = strstr(r.auth, "2019-02-25");

		assert_non_null(d);
		d[9] = '6';
	}
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
	/* a changed timestamp (same date) breaks the signature */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	snprintf(r.ts, sizeof(r.ts), "%d", TS + 1);
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
	/* wrong secret: signed with another key than the server holds */
	make_req(&r, MASKED_ID, KEY_A, true, TS);
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
	/* unknown SecretId */
	make_req(&r, "AKIDunknown", MASKED_KEY, true, TS);
	expect_fail(&r, BODY, TS, "AuthFailure.SecretIdNotFound");
	/* expired: more than 5 minutes either way */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	expect_fail(&r, BODY, TS + 301, "AuthFailure.SignatureExpire");
	expect_fail(&r, BODY, TS - 301, "AuthFailure.SignatureExpire");
	/* wrong service */
	{
		struct err e = ERR_INIT;

		assert_int_equal(tc_verify("POST", "", r.h, r.n, BODY, strlen(BODY),
					   "cbs", TS, lookup, &ring, &e),
				 ERR_AUTH);
		assert_string_equal(e.api_code, "AuthFailure.InvalidAuthorization");
		err_clear(&e);
	}
	/* a signed header missing */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.h[3].name = "x-tc-other";
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
	/* signature tampered with */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.auth[strlen(r.auth) - 1] = r.auth[strlen(r.auth) - 1] == '0' ? '1' : '0';
	expect_fail(&r, BODY, TS, "AuthFailure.SignatureFailure");
}

static void test_verify_missing_and_malformed(void **state)
{
	struct req r;
	static const char *bad[] = {
		"",
		"TC3-HMAC-SHA1 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=00",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3, SignedHeaders=content-type;host, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=short",
		"TC3-HMAC-SHA256 Credential=a, SignedHeaders=content-type;host, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
		"TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;;host, Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
	};

	(void)state;
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.h[0].name = "x-nothing";
	expect_fail(&r, BODY, TS, "MissingParameter");
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	r.h[4].name = "x-nothing";
	expect_fail(&r, BODY, TS, "MissingParameter");
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	snprintf(r.ts, sizeof(r.ts), "12x");
	expect_fail(&r, BODY, TS, "AuthFailure.InvalidAuthorization");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct err e = ERR_INIT;

		make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
		snprintf(r.auth, sizeof(r.auth), "%s", bad[i]);
		assert_int_equal(verify(&r, BODY, TS, &e), ERR_AUTH);
		if (i == 0)
			assert_string_equal(e.api_code, "MissingParameter");
		else
			assert_string_equal(e.api_code,
					    "AuthFailure.InvalidAuthorization");
		err_clear(&e);
	}
}

static void test_verify_midnight(void **state)
{
	struct req r;
	struct err e = ERR_INIT;

	(void)state;
	/* a client using the UTC+8 date would put 2019-02-26 in the scope */
	make_req(&r, MASKED_ID, MASKED_KEY, true, TS);
	assert_non_null(strstr(r.auth, "/2019-02-25/cvm/tc3_request"));
	assert_int_equal(verify(&r, BODY, TS + 10, &e), 0);
	{
		char *d = strstr(r.auth, "2019-02-25");

		d[9] = '6'; /* 2019-02-26: the local-time mistake */
	}
	assert_int_equal(verify(&r, BODY, TS, &e), ERR_AUTH);
	assert_string_equal(e.api_code, "AuthFailure.SignatureFailure");
	err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_is_86_bytes),
		cmocka_unit_test(test_official_example),
		cmocka_unit_test(test_header_order_and_case_do_not_matter),
		cmocka_unit_test(test_earlier_revisions),
		cmocka_unit_test(test_utc_date),
		cmocka_unit_test(test_empty_payload),
		cmocka_unit_test(test_sign_rejects_bad_input),
		cmocka_unit_test(test_verify_accepts_vectors),
		cmocka_unit_test(test_verify_rejects_changes),
		cmocka_unit_test(test_verify_missing_and_malformed),
		cmocka_unit_test(test_verify_midnight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
