/*
 * Unit tests for sim/: the emulator driven in-process through sim_handle
 * with an injected clock, so time-dependent behaviour (life cycle, tag lag,
 * rate windows, the 5-minute signature window) is checked exactly.
 * Requests are signed with the provider's tc_sign.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "../../sim/sim.h"
#include "../../sim/sim_int.h"
#include "../../provider/tc.h"
#include "../../util/decimal.h"

#define T0 1764000000000LL /* 2025-11-24T16:00:00Z in ms */

static int64_t fake_ms;

static int64_t fake_clock(void *ctx)
{
	UNUSED(ctx);
	return fake_ms;
}

static struct sim *new_sim(struct sim_opts *o)
{
	struct sim *s = NULL;
	struct err e = ERR_INIT;

	o->clock = fake_clock;
	if (sim_new(&s, o, &e) < 0)
		fail_msg("sim_new: %s", e.msg);
	return s;
}

static struct sim *default_sim(void)
{
	struct sim_opts o = SIM_OPTS_INIT;

	o.pending_ms = 1000;
	o.terminating_ms = 500;
	return new_sim(&o);
}

/*
 * Sign and send one API request; returns "ok" or the error code (static
 * storage), and the parsed Response in *resp when resp is not NULL.
 */
static const char *call_full(struct sim *s, const char *action, const char *region,
			     const char *body, int64_t ts, const char *secret, cJSON **resp)
{
	static char code[128];
	char tsbuf[32];
	struct tc_header sign_h[2] = { { "content-type", "application/json" },
				       { "host", "127.0.0.1:8787" } };
	struct tc_sign_input in;
	struct tc_sign_output out;
	struct tc_header h[8];
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;
	struct err e = ERR_INIT;
	size_t nh = 0;
	cJSON *doc, *rs, *er;

	snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.method = "POST";
	in.query = "";
	in.headers = sign_h;
	in.nheaders = 2;
	in.payload = body;
	in.payload_len = strlen(body);
	in.service = "cvm";
	in.timestamp = ts;
	in.secret_id = SIM_DEFAULT_SECRET_ID;
	in.secret_key = secret ? secret : SIM_DEFAULT_SECRET_KEY;
	assert_int_equal(tc_sign(&out, &in, &e), 0);
	h[nh++] = (struct tc_header){ "Content-Type", "application/json" };
	h[nh++] = (struct tc_header){ "Host", "127.0.0.1:8787" };
	h[nh++] = (struct tc_header){ "X-TC-Action", action };
	h[nh++] = (struct tc_header){ "X-TC-Version", "2017-03-12" };
	h[nh++] = (struct tc_header){ "X-TC-Timestamp", tsbuf };
	if (region)
		h[nh++] = (struct tc_header){ "X-TC-Region", region };
	h[nh++] = (struct tc_header){ "Authorization", buf_str(&out.authorization) };
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.query = "";
	req.headers = h;
	req.nheaders = nh;
	req.body = body;
	req.body_len = strlen(body);
	sim_handle(s, &req, &r);
	tc_sign_output_clear(&out);
	assert_int_equal(r.status, 200);
	doc = cJSON_Parse(buf_str(&r.body));
	assert_non_null(doc);
	rs = cJSON_GetObjectItem(doc, "Response");
	assert_non_null(rs);
	assert_non_null(cJSON_GetObjectItem(rs, "RequestId"));
	er = cJSON_GetObjectItem(rs, "Error");
	snprintf(code, sizeof(code), "%s",
		 er ? cJSON_GetStringValue(cJSON_GetObjectItem(er, "Code")) : "ok");
	if (resp)
		*resp = cJSON_DetachItemFromObject(doc, "Response");
	cJSON_Delete(doc);
	sim_response_clear(&r);
	return code;
}

static const char *call(struct sim *s, const char *action, const char *body, cJSON **resp)
{
	return call_full(s, action, "ap-guangzhou", body, fake_ms / 1000, NULL, resp);
}

static const char *control(struct sim *s, const char *method, const char *path,
			   const char *body, int *status)
{
	static char text[1 << 16];
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = "";
	req.body = body ? body : "";
	req.body_len = body ? strlen(body) : 0;
	sim_handle(s, &req, &r);
	*status = r.status;
	snprintf(text, sizeof(text), "%s", buf_str(&r.body));
	sim_response_clear(&r);
	return text;
}

#define RUN_BODY(zone, type, count, price, extra)                                   \
	"{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"" zone "\"},"   \
	"\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"" type "\",\"InstanceCount\":" \
	count ",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":"   \
	"{\"MaxPrice\":\"" price "\"}}" extra "}"

static const char *state_of(struct sim *s, const char *id)
{
	static char st[32];
	char body[128];
	cJSON *r = NULL, *set;

	snprintf(body, sizeof(body), "{\"InstanceIds\":[\"%s\"]}", id);
	assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
	set = cJSON_GetObjectItem(r, "InstanceSet");
	if (cJSON_GetArraySize(set) == 0)
		snprintf(st, sizeof(st), "gone");
	else
		snprintf(st, sizeof(st), "%s",
			 cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(set, 0),
								  "InstanceState")));
	cJSON_Delete(r);
	return st;
}

static int64_t pool_stock(struct sim *s, const char *zone, const char *type)
{
	int z = sim_find_zone(s, zone), p = sim_find_pool(s, z, type);

	assert_true(p >= 0);
	return s->pools[p].stock;
}

static void test_builtin_world(void **state)
{
	struct sim *s;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	assert_int_equal(s->nregions, 3);
	assert_int_equal(s->nzones, 10);
	assert_int_equal(s->npools, 50);
	for (size_t i = 0; i < s->npools; i++) {
		assert_int_equal(s->pools[i].stock, 200);
		assert_true(dec_cmp_str(s->pools[i].price, "0.05") >= 0);
		assert_true(dec_cmp_str(s->pools[i].price, "0.40") <= 0);
	}
	/* prices differ by zone */
	assert_string_not_equal(s->pools[sim_find_pool(s, 0, "S5.MEDIUM4")].price,
				s->pools[sim_find_pool(s, 1, "S5.MEDIUM4")].price);
	sim_free(s);
}

static void test_life_cycle(void **state)
{
	struct sim *s;
	cJSON *r = NULL;
	char id[16];

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "0.50", ""), &r), "ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceIdSet")), 2);
	snprintf(id, sizeof(id), "%s",
		 cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceIdSet"), 0)));
	cJSON_Delete(r);
	assert_int_equal(strlen(id), 12);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 198);
	assert_string_equal(state_of(s, id), "PENDING");
	fake_ms = T0 + 999;
	assert_string_equal(state_of(s, id), "PENDING");
	fake_ms = T0 + 1000;
	assert_string_equal(state_of(s, id), "RUNNING");
	{
		char body[64];

		snprintf(body, sizeof(body), "{\"InstanceIds\":[\"%s\"]}", id);
		assert_string_equal(call(s, "TerminateInstances", body, NULL), "ok");
		assert_string_equal(state_of(s, id), "TERMINATING");
		/* terminating again is accepted and changes nothing */
		assert_string_equal(call(s, "TerminateInstances", body, NULL), "ok");
	}
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 198);
	fake_ms = T0 + 1499;
	assert_string_equal(state_of(s, id), "TERMINATING");
	fake_ms = T0 + 1500;
	assert_string_equal(state_of(s, id), "gone");
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 199);
	assert_int_equal(sim_instance_count(s), 1);
	assert_int_equal(s->stats.launched, 2);
	assert_int_equal(s->stats.terminated, 1);
	sim_free(s);
}

static void test_launch_failed(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	cJSON *r = NULL, *in;
	char id[16], body[64];

	UNUSED(state);
	fake_ms = T0;
	o.pending_ms = 100;
	o.launch_fail_rate = 1;
	s = new_sim(&o);
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""), &r), "ok");
	snprintf(id, sizeof(id), "%s",
		 cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceIdSet"), 0)));
	cJSON_Delete(r);
	assert_string_equal(state_of(s, id), "PENDING");
	fake_ms = T0 + 100;
	snprintf(body, sizeof(body), "{\"InstanceIds\":[\"%s\"]}", id);
	assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
	in = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceSet"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(in, "InstanceState")), "LAUNCH_FAILED");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(in, "LatestOperationState")), "FAILED");
	assert_true(cJSON_IsString(cJSON_GetObjectItem(in, "LatestOperationErrorMsg")));
	cJSON_Delete(r);
	/* a failed launch is released like any other */
	assert_string_equal(call(s, "TerminateInstances", body, NULL), "ok");
	assert_string_equal(state_of(s, id), "TERMINATING");
	sim_free(s);
}

static void test_tag_lag(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	cJSON *r = NULL;
	const char *tagged = RUN_BODY("ap-guangzhou-4", "S5.LARGE8", "3", "1",
				      ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":"
				      "[{\"Key\":\"spotenv:env\",\"Value\":\"lag\"}]}]");
	const char *by_tag = "{\"Filters\":[{\"Name\":\"tag:spotenv:env\",\"Values\":[\"lag\"]}]}";
	const char *by_key = "{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":[\"spotenv:env\"]}]}";
	const char *by_val = "{\"Filters\":[{\"Name\":\"tag-value\",\"Values\":[\"lag\"]}]}";
	const char *by_zone = "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-4\"]}]}";

	UNUSED(state);
	fake_ms = T0;
	o.tag_lag_ms = 2000;
	s = new_sim(&o);
	assert_string_equal(call(s, "RunInstances", tagged, NULL), "ok");
	fake_ms = T0 + 1999;
	const char *const lagged[] = { by_tag, by_key, by_val };
	for (size_t i = 0; i < ARRAY_SIZE(lagged); i++) {
		assert_string_equal(call(s, "DescribeInstances", lagged[i], &r), "ok");
		assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 0);
		cJSON_Delete(r);
	}
	/* visible by other filters, with no tags yet */
	assert_string_equal(call(s, "DescribeInstances", by_zone, &r), "ok");
	assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 3);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceSet"), 0), "Tags")),
			 0);
	cJSON_Delete(r);
	fake_ms = T0 + 2000;
	for (size_t i = 0; i < ARRAY_SIZE(lagged); i++) {
		assert_string_equal(call(s, "DescribeInstances", lagged[i], &r), "ok");
		assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 3);
		cJSON_Delete(r);
	}
	sim_free(s);
}

static void test_rate_window(void **state)
{
	struct sim *s;
	const char *dry = RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"DryRun\":true");

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	for (int i = 0; i < 10; i++)
		assert_string_equal(call(s, "RunInstances", dry, NULL), "DryRunOperation");
	assert_string_equal(call(s, "RunInstances", dry, NULL), "RequestLimitExceeded");
	/* other actions have their own windows */
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "ok");
	fake_ms = T0 + 999;
	assert_string_equal(call(s, "RunInstances", dry, NULL), "RequestLimitExceeded");
	fake_ms = T0 + 1000;
	assert_string_equal(call(s, "RunInstances", dry, NULL), "DryRunOperation");
	/* DescribeInstances: 40 a second */
	fake_ms = T0 + 5000;
	for (int i = 0; i < 40; i++)
		assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "ok");
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "RequestLimitExceeded");
	assert_int_equal(s->stats.launched, 0);
	sim_free(s);
}

static void test_auth(void **state)
{
	struct sim *s;
	int64_t now;

	UNUSED(state);
	fake_ms = T0;
	now = T0 / 1000;
	s = default_sim();
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now, NULL, NULL), "ok");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now - 300, NULL, NULL), "ok");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now - 301, NULL, NULL),
			    "AuthFailure.SignatureExpire");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now + 301, NULL, NULL),
			    "AuthFailure.SignatureExpire");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now, "wrong", NULL),
			    "AuthFailure.SignatureFailure");
	assert_string_equal(call_full(s, "DescribeInstance", "ap-guangzhou", "{}", now, NULL, NULL),
			    "InvalidAction");
	assert_string_equal(call_full(s, "DescribeInstances", NULL, "{}", now, NULL, NULL),
			    "MissingParameter");
	assert_string_equal(call_full(s, "DescribeInstances", "eu-nowhere", "{}", now, NULL, NULL),
			    "UnsupportedRegion");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "[1]", now, NULL, NULL),
			    "InvalidParameter");
	sim_free(s);
}

static void test_errors(void **state)
{
	struct sim *s;
	static const struct {
		const char *action, *body, *code;
	} cases[] = {
		{ "DescribeInstances", "{\"Limit\":101}", "InvalidParameterValue" },
		{ "DescribeInstances", "{\"Limit\":-1}", "InvalidParameterValue" },
		{ "DescribeInstances", "{\"Offset\":-1}", "InvalidParameterValue" },
		{ "DescribeInstances", "{\"Limit\":\"5\"}", "InvalidParameter" },
		{ "DescribeInstances", "{\"Bogus\":1}", "UnknownParameter" },
		{ "DescribeInstances", "{\"InstanceIds\":[\"ins-bad\"]}", "InvalidInstanceId.Malformed" },
		{ "DescribeInstances",
		  "{\"InstanceIds\":[\"ins-aaaaaaaa\"],\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-3\"]}]}",
		  "InvalidParameter" },
		{ "DescribeInstances", "{\"Filters\":[{\"Name\":\"color\",\"Values\":[\"red\"]}]}",
		  "InvalidFilter" },
		{ "DescribeInstances", "{\"Filters\":[{\"Name\":\"zone\"}]}", "MissingParameter" },
		{ "DescribeInstances",
		  "{\"Filters\":[{\"Name\":\"instance-id\",\"Values\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}]}",
		  "InvalidFilterValue.LimitExceeded" },
		{ "DescribeInstances", "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-shanghai-2\"]}]}",
		  "InvalidZone.MismatchRegion" },
		{ "RunInstances", "{}", "MissingParameter" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "0", "1", ""), "InvalidParameterValue" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "101", "1", ""), "InvalidParameterValue" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "0.01", ""),
		  "InvalidParameterValue.InsufficientPrice" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "abc", ""), "InvalidParameterValue" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-5", "S5.MEDIUM4", "1", "1", ""), "InvalidZone.MismatchRegion" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S9.HUGE1", "1", "1", ""),
		  "InvalidParameterValue.InstanceTypeNotFound" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "BOGUS", "1", "1", ""), "InvalidInstanceType.Malformed" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"ClientToken\":\"12345678901234567890123456789012345678901234567890123456789012345\""),
		  "InvalidClientToken.TooLong" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
					   ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"qcloud:x\",\"Value\":\"v\"}]}]"),
		  "FailedOperation.TagKeyReserved" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
					   ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"v\"},{\"Key\":\"a\",\"Value\":\"w\"}]}]"),
		  "InvalidParameterValue.DuplicateTags" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"UserData\":\"not base64!\""),
		  "InvalidParameterValue.InvalidUserDataFormat" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"Foo\":1"), "UnknownParameter" },
		{ "RunInstances",
		  "{\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-1\",\"InstanceType\":\"S5.MEDIUM4\"}",
		  "InvalidImageId.Malformed" },
		{ "RunInstances",
		  "{\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\","
		  "\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"1\"}}}",
		  "InvalidParameterCombination" },
		{ "RunInstances",
		  "{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-pmqg1cw7\","
		  "\"InstanceType\":\"S5.MEDIUM4\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":{}}}",
		  "MissingParameter" },
		{ "TerminateInstances", "{}", "MissingParameter" },
		{ "TerminateInstances", "{\"InstanceIds\":[\"ins-zzzzzzzz\"]}", "InvalidInstanceId.NotFound" },
		{ "TerminateInstances", "{\"InstanceIds\":[\"i-1\"]}", "InvalidInstanceId.Malformed" },
		{ "DescribeZoneInstanceConfigInfos", "{\"Filters\":[{\"Name\":\"color\",\"Values\":[\"x\"]}]}",
		  "InvalidFilter" },
		{ "DescribeZoneInstanceConfigInfos", "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-beijing-5\"]}]}",
		  "InvalidZone.MismatchRegion" },
	};
	char big[4096];
	size_t k;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = call(s, cases[i].action, cases[i].body, NULL);

		if (strcmp(got, cases[i].code))
			fail_msg("case %zu (%s %s): got %s, want %s", i, cases[i].action,
				 cases[i].body, got, cases[i].code);
	}
	/* 101 ids to terminate */
	k = (size_t)snprintf(big, sizeof(big), "{\"InstanceIds\":[");
	for (int i = 0; i < 101; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s\"ins-%08d\"", i ? "," : "", i);
	snprintf(big + k, sizeof(big) - k, "]}");
	assert_string_equal(call(s, "TerminateInstances", big, NULL),
			    "InvalidParameterValue.LimitExceeded");
	assert_string_equal(call(s, "DescribeInstances", big, NULL),
			    "InvalidParameterValue.LimitExceeded");
	/* 11 filters */
	k = (size_t)snprintf(big, sizeof(big), "{\"Filters\":[");
	for (int i = 0; i < 11; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k,
				      "%s{\"Name\":\"tag-key\",\"Values\":[\"k%d\"]}", i ? "," : "", i);
	snprintf(big + k, sizeof(big) - k, "]}");
	assert_string_equal(call(s, "DescribeInstances", big, NULL),
			    "InvalidParameterValue.LimitExceeded");
	assert_int_equal(s->stats.launched, 0);
	assert_int_equal(sim_instance_count(s), 0);
	sim_free(s);
}

static void test_stock_and_tokens(void **state)
{
	struct sim *s;
	cJSON *r1 = NULL, *r2 = NULL;
	int status;
	char *a, *b;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1", ",\"ClientToken\":\"tok-1\""), &r1), "ok");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1", ",\"ClientToken\":\"tok-1\""), &r2), "ok");
	a = cJSON_PrintUnformatted(cJSON_GetObjectItem(r1, "InstanceIdSet"));
	b = cJSON_PrintUnformatted(cJSON_GetObjectItem(r2, "InstanceIdSet"));
	assert_string_equal(a, b);
	free(a);
	free(b);
	cJSON_Delete(r1);
	cJSON_Delete(r2);
	assert_int_equal(s->stats.launched, 5);
	assert_int_equal(pool_stock(s, "ap-guangzhou-6", "SA2.MEDIUM4"), 195);

	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-guangzhou-6\",\"instanceType\":\"SA2.MEDIUM4\",\"stock\":3,\"price\":\"0.125\"}",
		&status);
	assert_int_equal(status, 200);
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "4", "1", ""), NULL),
			    "ResourceInsufficient.SpecifiedInstanceType");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "0.124", ""), NULL),
			    "InvalidParameterValue.InsufficientPrice");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "0.125", ",\"DryRun\":true"), NULL),
			    "DryRunOperation");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "3", "0.125", ""), NULL), "ok");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "1", ""), NULL),
			    "ResourcesSoldOut.SpecifiedInstanceType");
	/* the same token still answers after the pool sold out */
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1", ",\"ClientToken\":\"tok-1\""), NULL), "ok");
	assert_int_equal(s->stats.launched, 8);
	sim_free(s);
}

static void test_token_memory_bounded(void **state)
{
	struct sim *s;
	char tok[32], *id = (char *)"ins-aaaaaaaa";

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < SIM_CLIENT_TOKEN_MAX + 500; i++) {
		snprintf(tok, sizeof(tok), "t%d", i);
		sim_token_add(s, tok, &id, 1, T0 + i);
	}
	assert_int_equal(s->ntokens, SIM_CLIENT_TOKEN_MAX);
	assert_null(sim_token_find(s, "t0", T0 + SIM_CLIENT_TOKEN_MAX + 500));
	assert_non_null(sim_token_find(s, "t20499", T0 + SIM_CLIENT_TOKEN_MAX + 500));
	/* expiry by age */
	assert_null(sim_token_find(s, "t20499", T0 + SIM_CLIENT_TOKEN_TTL_MS + 30000));
	assert_int_equal(s->ntokens, 0);
	pthread_mutex_unlock(&s->mu);
	sim_free(s);
}

static void test_reclaim_control(void **state)
{
	struct sim *s;
	int status;
	const char *out;
	cJSON *j;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "4", "1",
							      ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"a\"}]}]"),
			     NULL), "ok");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "4", "1",
							      ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"b\"}]}]"),
			     NULL), "ok");
	out = control(s, "POST", "/_sim/reclaim", "{\"count\":3,\"env\":\"a\"}", &status);
	assert_int_equal(status, 200);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reclaimed")), 3);
	assert_string_equal(state_of(s, cJSON_GetArrayItem(cJSON_GetObjectItem(j, "reclaimed"), 0)->valuestring),
			    "SHUTDOWN");
	cJSON_Delete(j);
	/* more than there are: all that are left */
	out = control(s, "POST", "/_sim/reclaim", "{\"count\":10,\"env\":\"a\"}", &status);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reclaimed")), 1);
	cJSON_Delete(j);
	assert_int_equal(s->stats.reclaimed, 4);
	fake_ms = T0 + 500;
	assert_int_equal(sim_instance_count(s), 4);
	/* reclaimed capacity is not given back */
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 192);
	out = control(s, "POST", "/_sim/reclaim", "{\"instanceIds\":[\"ins-00000000\"]}", &status);
	assert_int_equal(status, 404);
	out = control(s, "GET", "/_sim/stats", NULL, &status);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetObjectItem(j, "launched")->valueint, 8);
	assert_int_equal(cJSON_GetObjectItem(j, "reclaimed")->valueint, 4);
	assert_int_equal(cJSON_GetObjectItem(j, "instances")->valueint, 4);
	cJSON_Delete(j);
	out = control(s, "POST", "/_sim/reset", "{}", &status);
	assert_int_equal(status, 200);
	assert_int_equal(sim_instance_count(s), 0);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 200);
	control(s, "GET", "/_sim/nope", NULL, &status);
	assert_int_equal(status, 404);
	control(s, "POST", "/_sim/faults", "{\"internalErrorRate\":2}", &status);
	assert_int_equal(status, 400);
	control(s, "POST", "/_sim/faults", "{\"internalErrorRate\":1}", &status);
	assert_int_equal(status, 200);
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "InternalError");
	sim_free(s);
}

static void test_reclaim_rate(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;

	UNUSED(state);
	fake_ms = T0;
	o.reclaim_per_minute = 60; /* one a second */
	o.no_rate_limits = true;
	s = new_sim(&o);
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "10", "1", ""), NULL), "ok");
	fake_ms = T0 + 3500;
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "ok");
	assert_int_equal(s->stats.reclaimed, 3);
	sim_free(s);
}

static void test_seed_reproducible(void **state)
{
	char ids[2][512];

	UNUSED(state);
	for (int k = 0; k < 2; k++) {
		struct sim_opts o = SIM_OPTS_INIT;
		struct sim *s;
		cJSON *r = NULL;
		char *t;

		fake_ms = T0;
		o.seed = 42;
		s = new_sim(&o);
		assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "5", "1", ""), &r), "ok");
		t = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "InstanceIdSet"));
		snprintf(ids[k], sizeof(ids[k]), "%s", t);
		free(t);
		cJSON_Delete(r);
		sim_free(s);
	}
	assert_string_equal(ids[0], ids[1]);
}

#define PTAG ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"p\"}]}]"

static void test_paging(void **state)
{
	struct sim *s;
	char seen[400][16];
	size_t nseen = 0;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-7", "S2.MEDIUM4", "100", "1", PTAG), NULL), "ok");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-7", "S5.MEDIUM4", "100", "1", PTAG), NULL), "ok");
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-7", "SA2.MEDIUM4", "100", "1", PTAG), NULL), "ok");
	/* another region's instances never show */
	assert_string_equal(call_full(s, "RunInstances", "ap-shanghai",
				      RUN_BODY("ap-shanghai-2", "S2.MEDIUM4", "7", "1", ""), fake_ms / 1000,
				      NULL, NULL), "ok");
	for (int off = 0; off < 300; off += 100) {
		cJSON *r = NULL, *in;
		char body[160];

		snprintf(body, sizeof(body),
			 "{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":[\"spotenv:env\"]}],\"Offset\":%d,\"Limit\":100}",
			 off);
		assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
		assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 300);
		cJSON_ArrayForEach(in, cJSON_GetObjectItem(r, "InstanceSet"))
			snprintf(seen[nseen++], 16, "%s",
				 cJSON_GetStringValue(cJSON_GetObjectItem(in, "InstanceId")));
		cJSON_Delete(r);
	}
	assert_int_equal(nseen, 300);
	for (size_t i = 0; i < nseen; i++)
		for (size_t j = i + 1; j < nseen; j++)
			assert_string_not_equal(seen[i], seen[j]);
	{
		cJSON *r = NULL;

		assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
		assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 300);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceSet")), 20);
		cJSON_Delete(r);
	}
	sim_free(s);
}

static void test_offers(void **state)
{
	struct sim *s;
	cJSON *r = NULL, *row;
	char *text;
	int status;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-beijing-6\",\"instanceType\":\"S5.LARGE8\",\"stock\":0,\"price\":\"0.3071\"}",
		&status);
	assert_int_equal(status, 200);
	assert_string_equal(call_full(s, "DescribeZoneInstanceConfigInfos", "ap-beijing",
				      "{\"Filters\":[{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]},"
				      "{\"Name\":\"zone\",\"Values\":[\"ap-beijing-6\"]},"
				      "{\"Name\":\"instance-type\",\"Values\":[\"S5.LARGE8\"]}]}",
				      fake_ms / 1000, NULL, &r), "ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet")), 1);
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(row, "Status")), "SOLD_OUT");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(row, "InstanceChargeType")), "SPOTPAID");
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(row, "Price"));
	assert_non_null(strstr(text, "\"UnitPriceDiscount\":0.3071"));
	assert_non_null(strstr(text, "\"UnitPrice\":1.5355"));
	free(text);
	cJSON_Delete(r);
	/* without filters: both charge types for every pool of the region */
	assert_string_equal(call_full(s, "DescribeZoneInstanceConfigInfos", "ap-beijing", "{}",
				      fake_ms / 1000, NULL, &r), "ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet")), 30);
	cJSON_Delete(r);
	sim_free(s);
}

static void test_config_file(void **state)
{
	static const char *const bad[][2] = {
		{ "regions: [{name: r1, zones: [{name: r2-1}]}]\n", "does not belong" },
		{ "regions:\n  - name: ap-x\n    zones:\n      - name: ap-x-1\n        pools:\n          - {instanceType: S5.MEDIUM4, price: cheap}\n",
		  "needs 'price'" },
		{ "colour: blue\n", "unknown key 'colour'" },
		{ "faults: {latencyMs: -5}\n", "latencyMs" },
		{ "rateLimits: {RunInstances: lots}\n", "whole number" },
		{ "regions: [\n", "" },
		/* an alias bomb stays cheap */
		{ "faults: {a: &a [1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a],"
		  " c: &c [*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c],"
		  " e: &e [*d,*d,*d,*d,*d,*d,*d,*d], f: &f [*e,*e,*e,*e,*e,*e,*e,*e],"
		  " g: [*f,*f,*f,*f,*f,*f,*f,*f]}\n", "too large" },
	};
	char path[] = "/tmp/spotenv-sim-test-XXXXXX";
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s = NULL;
	struct err e = ERR_INIT;
	int fd = mkstemp(path);
	FILE *f;

	UNUSED(state);
	assert_true(fd >= 0);
	close(fd);
	o.config_path = path;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		f = fopen(path, "w");
		fputs(bad[i][0], f);
		fclose(f);
		assert_true(sim_new(&s, &o, &e) < 0);
		assert_null(s);
		assert_non_null(e.msg);
		assert_non_null(strstr(e.msg, bad[i][1]));
		assert_string_equal(e.file, path);
		assert_true(e.line > 0);
		err_clear(&e);
	}
	f = fopen(path, "w");
	fputs("credentials: [{secretId: AKIDX, secretKey: k}]\n"
	      "regions:\n  - name: ap-x\n    zones:\n      - name: ap-x-1\n        pools:\n"
	      "          - {instanceType: Z9.MEDIUM4, stock: 3, price: \"0.5\"}\n"
	      "          - {instanceType: GPU.BIG, stock: 1, price: \"2\", cpu: 8, memory: 32}\n"
	      "rateLimits: {RunInstances: 2}\nfaults: {pendingMs: 10, tagLagMs: 20}\n", f);
	fclose(f);
	fake_ms = T0;
	o.clock = fake_clock;
	assert_int_equal(sim_new(&s, &o, &e), 0);
	assert_int_equal(s->npools, 2);
	assert_int_equal(s->ncreds, 2);
	assert_int_equal(s->pools[0].cpu, 2);
	assert_int_equal(s->pools[1].memory, 32);
	assert_int_equal(s->faults.rate[SIM_ACT_RUN_INSTANCES], 2);
	assert_int_equal(s->faults.pending_ms, 10);
	assert_int_equal(s->faults.tag_lag_ms, 20);
	sim_free(s);
	unlink(path);
}

static void test_state_roundtrip(void **state)
{
	char path[] = "/tmp/spotenv-sim-state-XXXXXX";
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	struct err e = ERR_INIT;
	cJSON *r = NULL;
	char *before;
	int fd = mkstemp(path), status;

	UNUSED(state);
	close(fd);
	unlink(path); /* no state file yet: a fresh world */
	fake_ms = T0;
	o.state_path = path;
	o.no_rate_limits = true;
	s = new_sim(&o);
	assert_string_equal(call(s, "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "3", "1",
							      ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}]"),
			     &r), "ok");
	cJSON_Delete(r);
	control(s, "POST", "/_sim/pool", "{\"zone\":\"ap-beijing-7\",\"instanceType\":\"S5.MEDIUM4\",\"price\":\"0.3\"}", &status);
	assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
	cJSON_DeleteItemFromObject(r, "RequestId");
	before = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	assert_int_equal(sim_save_state(s, &e), 0);
	sim_free(s);

	s = new_sim(&o);
	assert_int_equal(sim_instance_count(s), 3);
	assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
	cJSON_DeleteItemFromObject(r, "RequestId");
	{
		char *after = cJSON_PrintUnformatted(r);

		assert_string_equal(before, after);
		free(after);
	}
	cJSON_Delete(r);
	free(before);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 197);
	assert_string_equal(s->pools[sim_find_pool(s, sim_find_zone(s, "ap-beijing-7"), "S5.MEDIUM4")].price,
			    "0.3");
	sim_free(s);
	unlink(path);
}

static void test_listen_refuses_non_loopback(void **state)
{
	struct sim *s;
	struct err e = ERR_INIT;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	assert_int_equal(sim_listen(s, "0.0.0.0:0", &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "loopback"));
	err_clear(&e);
	assert_int_equal(sim_listen(s, "192.168.1.1:0", &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(sim_listen(s, "[::]:0", &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(sim_listen(s, "127.0.0.1", &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(sim_listen(s, "127.0.0.1:99999", &e), ERR_INVALID);
	err_clear(&e);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_world),
		cmocka_unit_test(test_life_cycle),
		cmocka_unit_test(test_launch_failed),
		cmocka_unit_test(test_tag_lag),
		cmocka_unit_test(test_rate_window),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stock_and_tokens),
		cmocka_unit_test(test_token_memory_bounded),
		cmocka_unit_test(test_reclaim_control),
		cmocka_unit_test(test_reclaim_rate),
		cmocka_unit_test(test_seed_reproducible),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_offers),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_listen_refuses_non_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
