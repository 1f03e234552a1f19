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
			     const char *body, int64_t ts, const char *secret,
			     cJSON **resp)
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

#define RUN_BODY(zone, type, count, price, extra)                                        \
	"{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"" zone "\"},"    \
	"\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"" type                          \
	"\",\"InstanceCount\":" count                                                    \
	",\"InstanceMarketOptions\":{\"MarketType\":\"spot\",\"SpotOptions\":"           \
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
			 cJSON_GetStringValue(cJSON_GetObjectItem(
				 cJSON_GetArrayItem(set, 0), "InstanceState")));
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
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "0.50", ""), &r),
		"ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceIdSet")), 2);
	snprintf(id, sizeof(id), "%s",
		 cJSON_GetStringValue(
			 cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceIdSet"), 0)));
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
		/* terminating again is refused and changes nothing */
		assert_string_equal(call(s, "TerminateInstances", body, NULL),
				    "UnsupportedOperation.InstanceStateTerminating");
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
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 &r),
			    "ok");
	snprintf(id, sizeof(id), "%s",
		 cJSON_GetStringValue(
			 cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceIdSet"), 0)));
	cJSON_Delete(r);
	assert_string_equal(state_of(s, id), "PENDING");
	fake_ms = T0 + 100;
	snprintf(body, sizeof(body), "{\"InstanceIds\":[\"%s\"]}", id);
	assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
	in = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceSet"), 0);
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(in, "InstanceState")),
		"LAUNCH_FAILED");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(in, "LatestOperationState")),
		"FAILED");
	assert_true(cJSON_IsString(cJSON_GetObjectItem(in, "LatestOperationErrorMsg")));
	cJSON_Delete(r);
	/* a failed launch cannot be terminated: the emulator removes it after its TTL */
	assert_string_equal(call(s, "TerminateInstances", body, NULL),
			    "UnsupportedOperation.InstanceStateLaunchFailed");
	assert_string_equal(state_of(s, id), "LAUNCH_FAILED");
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 199);
	fake_ms = T0 + 100 + SIM_DEFAULT_LAUNCH_FAILED_TTL_MS - 1;
	assert_string_equal(state_of(s, id), "LAUNCH_FAILED");
	fake_ms = T0 + 100 + SIM_DEFAULT_LAUNCH_FAILED_TTL_MS;
	assert_string_equal(state_of(s, id), "gone");
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 200);
	assert_int_equal(s->stats.failed_removed, 1);
	assert_int_equal(sim_instance_count(s), 0);
	sim_free(s);
}

static void test_tag_lag(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	cJSON *r = NULL;
	const char *tagged =
		RUN_BODY("ap-guangzhou-4", "S5.LARGE8", "3", "1",
			 ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":"
			 "[{\"Key\":\"spotenv:env\",\"Value\":\"lag\"}]}]");
	const char *by_tag =
		"{\"Filters\":[{\"Name\":\"tag:spotenv:env\",\"Values\":[\"lag\"]}]}";
	const char *by_key =
		"{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":[\"spotenv:env\"]}]}";
	const char *by_val =
		"{\"Filters\":[{\"Name\":\"tag-value\",\"Values\":[\"lag\"]}]}";
	const char *by_zone =
		"{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-4\"]}]}";

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
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceSet"), 0),
			"Tags")),
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
	const char *dry =
		RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"DryRun\":true");

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	for (int i = 0; i < 10; i++)
		assert_string_equal(call(s, "RunInstances", dry, NULL), "ok");
	assert_string_equal(call(s, "RunInstances", dry, NULL), "RequestLimitExceeded");
	/* other actions have their own windows */
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "ok");
	fake_ms = T0 + 999;
	assert_string_equal(call(s, "RunInstances", dry, NULL), "RequestLimitExceeded");
	fake_ms = T0 + 1000;
	assert_string_equal(call(s, "RunInstances", dry, NULL), "ok");
	/* DescribeInstances: 40 a second */
	fake_ms = T0 + 5000;
	for (int i = 0; i < 40; i++)
		assert_string_equal(call(s, "DescribeInstances", "{}", NULL), "ok");
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL),
			    "RequestLimitExceeded");
	assert_int_equal(s->stats.launched, 0);
	sim_free(s);
}

/*
 * Tencent counts the limits per action and per region: two regions each
 * get their own 40 DescribeInstances a second.  The totals keep their
 * keys; byRegion has each region's requests and errors; a rate set
 * through /_sim/faults applies to every region.
 */
static void test_rate_per_region(void **state)
{
	struct sim *s;
	cJSON *st, *by;
	int status;
	const char *regions[] = { "ap-guangzhou", "ap-shanghai" };

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 40; i++)
			assert_string_equal(call_full(s, "DescribeInstances", regions[r],
						      "{}", fake_ms / 1000, NULL, NULL),
					    "ok");
		assert_string_equal(call_full(s, "DescribeInstances", regions[r], "{}",
					      fake_ms / 1000, NULL, NULL),
				    "RequestLimitExceeded");
	}
	/* a third region's window is untouched, and other actions have their own */
	assert_string_equal(call_full(s, "DescribeInstances", "ap-beijing", "{}",
				      fake_ms / 1000, NULL, NULL),
			    "ok");
	assert_string_equal(call_full(s, "DescribeZoneInstanceConfigInfos",
				      "ap-guangzhou", "{}", fake_ms / 1000, NULL, NULL),
			    "ok");
	/* each region's window slides on its own */
	fake_ms = T0 + 1000;
	assert_string_equal(call_full(s, "DescribeInstances", "ap-shanghai", "{}",
				      fake_ms / 1000, NULL, NULL),
			    "ok");

	st = cJSON_Parse(control(s, "GET", "/_sim/stats", NULL, &status));
	assert_int_equal(status, 200);
	/* the totals, across regions, as before */
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "requests"),
					     "DescribeInstances")
				 ->valueint,
			 84);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "errors"),
					     "RequestLimitExceeded")
				 ->valueint,
			 2);
	by = cJSON_GetObjectItem(st, "byRegion");
	for (int r = 0; r < 2; r++) {
		cJSON *one = cJSON_GetObjectItem(by, regions[r]);

		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(one, "requests"),
						     "DescribeInstances")
					 ->valueint,
				 r ? 42 : 41);
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(one, "errors"),
						     "RequestLimitExceeded")
					 ->valueint,
				 1);
	}
	assert_int_equal(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(by, "ap-guangzhou"),
					    "requests"),
			"DescribeZoneInstanceConfigInfos")
			->valueint,
		1);
	assert_null(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(by, "ap-beijing"), "errors"),
		"RequestLimitExceeded"));
	cJSON_Delete(st);

	/* {"rates": {"ACTION": N}} sets the rate of every region */
	control(s, "POST", "/_sim/faults", "{\"rates\":{\"DescribeInstances\":2}}",
		&status);
	assert_int_equal(status, 200);
	fake_ms = T0 + 5000;
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 2; i++)
			assert_string_equal(call_full(s, "DescribeInstances", regions[r],
						      "{}", fake_ms / 1000, NULL, NULL),
					    "ok");
		assert_string_equal(call_full(s, "DescribeInstances", regions[r], "{}",
					      fake_ms / 1000, NULL, NULL),
				    "RequestLimitExceeded");
	}
	/* a request naming no known region counts in the totals only */
	assert_string_equal(call_full(s, "DescribeInstances", "ap-nowhere", "{}",
				      fake_ms / 1000, NULL, NULL),
			    "UnsupportedRegion");
	st = cJSON_Parse(control(s, "GET", "/_sim/stats", NULL, &status));
	assert_null(
		cJSON_GetObjectItem(cJSON_GetObjectItem(st, "byRegion"), "ap-nowhere"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "errors"),
					     "UnsupportedRegion")
				 ->valueint,
			 1);
	cJSON_Delete(st);
	/* a reset zeroes every region's counters too */
	control(s, "POST", "/_sim/reset", NULL, &status);
	st = cJSON_Parse(control(s, "GET", "/_sim/stats", NULL, &status));
	assert_int_equal(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(
				cJSON_GetObjectItem(cJSON_GetObjectItem(st, "byRegion"),
						    "ap-shanghai"),
				"requests"),
			"DescribeInstances")
			->valueint,
		0);
	cJSON_Delete(st);
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
	assert_string_equal(
		call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now, NULL, NULL),
		"ok");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}",
				      now - 300, NULL, NULL),
			    "ok");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}",
				      now - 301, NULL, NULL),
			    "AuthFailure.SignatureExpire");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}",
				      now + 301, NULL, NULL),
			    "AuthFailure.SignatureExpire");
	assert_string_equal(call_full(s, "DescribeInstances", "ap-guangzhou", "{}", now,
				      "wrong", NULL),
			    "AuthFailure.SignatureFailure");
	assert_string_equal(
		call_full(s, "DescribeInstance", "ap-guangzhou", "{}", now, NULL, NULL),
		"InvalidAction");
	assert_string_equal(
		call_full(s, "DescribeInstances", NULL, "{}", now, NULL, NULL),
		"MissingParameter");
	assert_string_equal(
		call_full(s, "DescribeInstances", "eu-nowhere", "{}", now, NULL, NULL),
		"UnsupportedRegion");
	assert_string_equal(
		call_full(s, "DescribeInstances", "ap-guangzhou", "[1]", now, NULL, NULL),
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
		{ "DescribeInstances", "{\"InstanceIds\":[\"ins-bad\"]}",
		  "InvalidInstanceId.Malformed" },
		{ "DescribeInstances",
		  "{\"InstanceIds\":[\"ins-aaaaaaaa\"],\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-3\"]}]}",
		  "InvalidParameter" },
		{ "DescribeInstances",
		  "{\"Filters\":[{\"Name\":\"color\",\"Values\":[\"red\"]}]}",
		  "InvalidFilter" },
		{ "DescribeInstances", "{\"Filters\":[{\"Name\":\"zone\"}]}",
		  "MissingParameter" },
		{ "DescribeInstances",
		  "{\"Filters\":[{\"Name\":\"instance-id\",\"Values\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}]}",
		  "InvalidFilterValue.LimitExceeded" },
		{ "DescribeInstances",
		  "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-shanghai-2\"]}]}",
		  "InvalidZone.MismatchRegion" },
		{ "RunInstances", "{}", "MissingParameter" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "0", "1", ""),
		  "InvalidParameterValue" },
		{ "RunInstances",
		  RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "101", "1", ""),
		  "InvalidParameterValue" },
		{ "RunInstances",
		  RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "0.01", ""),
		  "InvalidParameterValue.InsufficientPrice" },
		{ "RunInstances",
		  RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "abc", ""),
		  "InvalidParameterValue" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-5", "S5.MEDIUM4", "1", "1", ""),
		  "InvalidZone.MismatchRegion" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "S9.HUGE1", "1", "1", ""),
		  "InvalidParameterValue.InstanceTypeNotFound" },
		{ "RunInstances", RUN_BODY("ap-guangzhou-3", "BOGUS", "1", "1", ""),
		  "InvalidInstanceType.Malformed" },
		{ "RunInstances",
		  RUN_BODY(
			  "ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
			  ",\"ClientToken\":\"12345678901234567890123456789012345678901234567890123456789012345\""),
		  "InvalidClientToken.TooLong" },
		{ "RunInstances",
		  RUN_BODY(
			  "ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
			  ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"qcloud:x\",\"Value\":\"v\"}]}]"),
		  "FailedOperation.TagKeyReserved" },
		{ "RunInstances",
		  RUN_BODY(
			  "ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
			  ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"v\"},{\"Key\":\"a\",\"Value\":\"w\"}]}]"),
		  "InvalidParameterValue.DuplicateTags" },
		{ "RunInstances",
		  RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
			   ",\"UserData\":\"not base64!\""),
		  "InvalidParameterValue.InvalidUserDataFormat" },
		{ "RunInstances",
		  RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ",\"Foo\":1"),
		  "UnknownParameter" },
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
		{ "TerminateInstances", "{\"InstanceIds\":[\"ins-zzzzzzzz\"]}",
		  "InvalidInstanceId.NotFound" },
		{ "TerminateInstances", "{\"InstanceIds\":[\"i-1\"]}",
		  "InvalidInstanceId.Malformed" },
		{ "DescribeZoneInstanceConfigInfos",
		  "{\"Filters\":[{\"Name\":\"color\",\"Values\":[\"x\"]}]}",
		  "InvalidFilter" },
		{ "DescribeZoneInstanceConfigInfos",
		  "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-beijing-5\"]}]}",
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
		k += (size_t)snprintf(big + k, sizeof(big) - k, "%s\"ins-%08d\"",
				      i ? "," : "", i);
	snprintf(big + k, sizeof(big) - k, "]}");
	assert_string_equal(call(s, "TerminateInstances", big, NULL),
			    "InvalidParameterValue.LimitExceeded");
	assert_string_equal(call(s, "DescribeInstances", big, NULL),
			    "InvalidParameterValue.LimitExceeded");
	/* 11 filters */
	k = (size_t)snprintf(big, sizeof(big), "{\"Filters\":[");
	for (int i = 0; i < 11; i++)
		k += (size_t)snprintf(big + k, sizeof(big) - k,
				      "%s{\"Name\":\"tag-key\",\"Values\":[\"k%d\"]}",
				      i ? "," : "", i);
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
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1",
					  ",\"ClientToken\":\"tok-1\""),
				 &r1),
			    "ok");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1",
					  ",\"ClientToken\":\"tok-1\""),
				 &r2),
			    "ok");
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
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "4", "1", ""),
				 NULL),
			    "ResourceInsufficient.SpecifiedInstanceType");
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "0.124", ""), NULL),
		"InvalidParameterValue.InsufficientPrice");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "0.125",
					  ",\"DryRun\":true"),
				 NULL),
			    "ok");
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "3", "0.125", ""), NULL),
		"ok");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "1", "1", ""),
				 NULL),
			    "ResourcesSoldOut.SpecifiedInstanceType");
	/* the same token still answers after the pool sold out */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "SA2.MEDIUM4", "5", "1",
					  ",\"ClientToken\":\"tok-1\""),
				 NULL),
			    "ok");
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
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY(
			     "ap-guangzhou-3", "S5.MEDIUM4", "4", "1",
			     ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"a\"}]}]"),
		     NULL),
		"ok");
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY(
			     "ap-guangzhou-3", "S5.MEDIUM4", "4", "1",
			     ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"b\"}]}]"),
		     NULL),
		"ok");
	out = control(s, "POST", "/_sim/reclaim", "{\"count\":3,\"env\":\"a\"}", &status);
	assert_int_equal(status, 200);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reclaimed")), 3);
	assert_string_equal(
		state_of(s, cJSON_GetArrayItem(cJSON_GetObjectItem(j, "reclaimed"), 0)
				    ->valuestring),
		"SHUTDOWN");
	cJSON_Delete(j);
	/* more than there are: all that are left */
	out = control(s, "POST", "/_sim/reclaim", "{\"count\":10,\"env\":\"a\"}",
		      &status);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reclaimed")), 1);
	cJSON_Delete(j);
	assert_int_equal(s->stats.reclaimed, 4);
	fake_ms = T0 + 500;
	assert_int_equal(sim_instance_count(s), 4);
	/* reclaimed capacity is not given back */
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 192);
	out = control(s, "POST", "/_sim/reclaim", "{\"instanceIds\":[\"ins-00000000\"]}",
		      &status);
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
	/* each action's documented code: InternalServerError for describe and terminate
	 */
	assert_string_equal(call(s, "DescribeInstances", "{}", NULL),
			    "InternalServerError");
	assert_string_equal(call(s, "TerminateInstances",
				 "{\"InstanceIds\":[\"ins-aaaaaaaa\"]}", NULL),
			    "InternalServerError");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "InternalError");
	assert_string_equal(call(s, "DescribeZoneInstanceConfigInfos", "{}", NULL),
			    "InternalError");
	assert_string_equal(call(s, "DescribeAccountQuota", "{}", NULL), "InternalError");
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
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "10", "1", ""),
				 NULL),
			    "ok");
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
		assert_string_equal(
			call(s, "RunInstances",
			     RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "5", "1", ""), &r),
			"ok");
		t = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "InstanceIdSet"));
		snprintf(ids[k], sizeof(ids[k]), "%s", t);
		free(t);
		cJSON_Delete(r);
		sim_free(s);
	}
	assert_string_equal(ids[0], ids[1]);
}

#define PTAG                                                                             \
	",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"p\"}]}]"

static void test_paging(void **state)
{
	struct sim *s;
	char seen[400][16];
	size_t nseen = 0;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	s->faults.spot_quota_vcpu =
		0; /* 300 in one zone: an account with a raised quota */
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-7", "S2.MEDIUM4", "100", "1", PTAG), NULL),
		"ok");
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-7", "S5.MEDIUM4", "100", "1", PTAG), NULL),
		"ok");
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-7", "SA2.MEDIUM4", "100", "1", PTAG), NULL),
		"ok");
	/* another region's instances never show */
	assert_string_equal(
		call_full(s, "RunInstances", "ap-shanghai",
			  RUN_BODY("ap-shanghai-2", "S2.MEDIUM4", "7", "1", ""),
			  fake_ms / 1000, NULL, NULL),
		"ok");
	for (int off = 0; off < 300; off += 100) {
		cJSON *r = NULL, *in;
		char body[160];

		snprintf(
			body, sizeof(body),
			"{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":[\"spotenv:env\"]}],\"Offset\":%d,\"Limit\":100}",
			off);
		assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
		assert_int_equal(cJSON_GetObjectItem(r, "TotalCount")->valueint, 300);
		cJSON_ArrayForEach (in, cJSON_GetObjectItem(r, "InstanceSet"))
			snprintf(seen[nseen++], 16, "%s",
				 cJSON_GetStringValue(
					 cJSON_GetObjectItem(in, "InstanceId")));
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
		assert_int_equal(
			cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceSet")), 20);
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
	assert_string_equal(
		call_full(
			s, "DescribeZoneInstanceConfigInfos", "ap-beijing",
			"{\"Filters\":[{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]},"
			"{\"Name\":\"zone\",\"Values\":[\"ap-beijing-6\"]},"
			"{\"Name\":\"instance-type\",\"Values\":[\"S5.LARGE8\"]}]}",
			fake_ms / 1000, NULL, &r),
		"ok");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet")), 1);
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(row, "Status")),
			    "SOLD_OUT");
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(row, "InstanceChargeType")),
		"SPOTPAID");
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(row, "Price"));
	assert_non_null(strstr(text, "\"UnitPriceDiscount\":0.3071"));
	assert_non_null(strstr(text, "\"UnitPrice\":1.5355"));
	free(text);
	cJSON_Delete(r);
	/* without filters: both charge types for every pool of the region */
	assert_string_equal(call_full(s, "DescribeZoneInstanceConfigInfos", "ap-beijing",
				      "{}", fake_ms / 1000, NULL, &r),
			    "ok");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet")), 30);
	cJSON_Delete(r);
	sim_free(s);
}

/* ------------------------------------------------------------------ */
/* Strictness (docs/sim.md, "Strictness") */

/* Launch and copy the ids into ids[] (at most 8); returns the call's code. */
static const char *launch(struct sim *s, const char *body, char ids[][16], size_t *n)
{
	static char code[128];
	cJSON *r = NULL, *v;

	snprintf(code, sizeof(code), "%s", call(s, "RunInstances", body, &r));
	*n = 0;
	cJSON_ArrayForEach (v, cJSON_GetObjectItem(r, "InstanceIdSet"))
		if (*n < 8)
			snprintf(ids[(*n)++], 16, "%s", cJSON_GetStringValue(v));
	cJSON_Delete(r);
	return code;
}

/* TerminateInstances of the given ids; the code, and the message in msg (static). */
static const char *terminate(struct sim *s, const char *const *ids, size_t n,
			     const char **msg)
{
	static char m[512];
	char body[1024];
	size_t k;
	cJSON *r = NULL, *er;
	const char *code;

	k = (size_t)snprintf(body, sizeof(body), "{\"InstanceIds\":[");
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(body + k, sizeof(body) - k, "%s\"%s\"",
				      i ? "," : "", ids[i]);
	snprintf(body + k, sizeof(body) - k, "]}");
	code = call(s, "TerminateInstances", body, &r);
	er = cJSON_GetObjectItem(r, "Error");
	snprintf(m, sizeof(m), "%s",
		 er ? cJSON_GetStringValue(cJSON_GetObjectItem(er, "Message")) : "");
	if (msg)
		*msg = m;
	cJSON_Delete(r);
	return code;
}

/* TotalCount of a DescribeInstances in region (rate limits are off). */
static int listed(struct sim *s, const char *region, const char *body)
{
	cJSON *r = NULL;
	int n;

	assert_string_equal(
		call_full(s, "DescribeInstances", region, body, fake_ms / 1000, NULL, &r),
		"ok");
	n = cJSON_GetObjectItem(r, "TotalCount")->valueint;
	cJSON_Delete(r);
	return n;
}

/*
 * DescribeInstances keeps a filtered listing for the next pages (struct
 * sim_listing): each answer must still be what a new scan gives, across
 * launches, removals, tags becoming visible, other listings in between,
 * the clock moved back and filters on the state.
 */
static void test_listing_kept(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	char ids[8][16];
	size_t n = 0;
	const char *gz = "ap-guangzhou";
	const char *tag =
		"{\"Filters\":[{\"Name\":\"tag:spotenv:env\",\"Values\":[\"p\"]}],"
		"\"Limit\":100}";
	const char *key =
		"{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":[\"spotenv:env\"]}]}";
	const char *running =
		"{\"Filters\":[{\"Name\":\"instance-state\",\"Values\":[\"RUNNING\"]}]}";

	UNUSED(state);
	fake_ms = T0;
	o.tag_lag_ms = 1000;
	o.pending_ms = 500;
	o.terminating_ms = 500;
	s = new_sim(&o);
	s->faults.rate_limits = false;
	assert_string_equal(
		launch(s, RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "3", "1", PTAG), ids,
		       &n),
		"ok");
	fake_ms = T0 + 600;
	assert_int_equal(listed(s, gz, tag), 0); /* tags not shown yet */
	assert_int_equal(listed(s, gz, key), 0);
	assert_int_equal(listed(s, "ap-shanghai", tag), 0);
	assert_int_equal(listed(s, gz, running), 3); /* the state moves with time */
	fake_ms = T0 + 1000;
	assert_int_equal(listed(s, gz, tag), 3); /* the tags show: a new scan */
	assert_int_equal(listed(s, gz, key), 3);
	assert_int_equal(listed(s, "ap-shanghai", tag), 0);

	/* a launch is seen at once (its tags a second later) */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1", PTAG),
				 NULL),
			    "ok");
	assert_int_equal(listed(s, gz, "{}"), 5);
	assert_int_equal(listed(s, gz, tag), 3);
	fake_ms = T0 + 2000;
	assert_int_equal(listed(s, gz, tag), 5);
	fake_ms = T0 + 1400; /* the clock moved back: hidden again */
	assert_int_equal(listed(s, gz, tag), 3);
	assert_int_equal(listed(s, gz, running), 3);
	fake_ms = T0 + 2000;
	assert_int_equal(listed(s, gz, running), 5);

	/* a removal is seen once the instance is gone */
	assert_string_equal(terminate(s, (const char *const[]){ ids[0] }, 1, NULL), "ok");
	assert_int_equal(listed(s, gz, tag), 5); /* TERMINATING is still listed */
	fake_ms = T0 + 2600;
	assert_int_equal(listed(s, gz, tag), 4);
	assert_int_equal(listed(s, gz, key), 4);
	assert_int_equal(listed(s, gz, running), 4);
	sim_free(s);
}

static void test_terminate_states(void **state)
{
	struct sim *s;
	char a[8][16], b[8][16], p[8][16], f[8][16];
	size_t na, nb, np, nf;
	const char *msg;
	int status;
	char body[256];
	cJSON *r = NULL;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim(); /* pending 1000 ms, terminating 500 ms */
	s->faults.rate_limits = false;
	assert_string_equal(
		launch(s, RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "3", "1", ""), a, &na),
		"ok");
	fake_ms = T0 + 1000; /* a[] RUNNING */
	assert_string_equal(
		launch(s, RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1", ""), p, &np),
		"ok");
	/* PENDING: refused, and one bad id fails the whole call */
	{
		const char *ids[] = { a[0], p[0], a[1], p[1] };

		assert_string_equal(terminate(s, ids, 4, &msg),
				    "UnsupportedOperation.InstanceStatePending");
		/* the message names every PENDING id, and only those */
		assert_non_null(strstr(msg, p[0]));
		assert_non_null(strstr(msg, p[1]));
		assert_null(strstr(msg, a[0]));
		assert_string_equal(state_of(s, a[0]), "RUNNING");
		assert_string_equal(state_of(s, a[1]), "RUNNING");
		assert_int_equal(s->stats.terminated, 0);
	}
	/* unknown ids come first, whatever else is wrong */
	{
		const char *ids[] = { p[0], "ins-zzzzzzzz" };

		assert_string_equal(terminate(s, ids, 2, &msg),
				    "InvalidInstanceId.NotFound");
		assert_non_null(strstr(msg, "ins-zzzzzzzz"));
		assert_null(strstr(msg, p[0]));
	}
	/* TERMINATING (and again SHUTDOWN, for a reclaimed one) */
	{
		const char *one[] = { a[0] }, *two[] = { a[0], a[1] };

		assert_string_equal(terminate(s, one, 1, NULL), "ok");
		assert_string_equal(terminate(s, two, 2, &msg),
				    "UnsupportedOperation.InstanceStateTerminating");
		assert_non_null(strstr(msg, a[0]));
		assert_null(strstr(msg, a[1]));
		assert_string_equal(state_of(s, a[1]), "RUNNING");
		snprintf(body, sizeof(body), "{\"instanceIds\":[\"%s\"]}", a[1]);
		control(s, "POST", "/_sim/reclaim", body, &status);
		assert_int_equal(status, 200);
		one[0] = a[1];
		assert_string_equal(terminate(s, one, 1, NULL),
				    "UnsupportedOperation.InstanceStateTerminating");
	}
	/* reboot, stop and start from the control API */
	{
		const char *one[] = { a[2] };

		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"operation\":\"reboot\",\"ms\":300}",
			 a[2]);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_int_equal(status, 200);
		assert_string_equal(state_of(s, a[2]), "REBOOTING");
		assert_string_equal(terminate(s, one, 1, NULL),
				    "UnsupportedOperation.InstanceStateRebooting");
		/* an operation needs the right state: not while rebooting */
		control(s, "POST", "/_sim/operate", body, &status);
		assert_int_equal(status, 409);
		fake_ms += 300;
		assert_string_equal(state_of(s, a[2]), "RUNNING");
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"operation\":\"stop\",\"ms\":300}",
			 a[2]);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_string_equal(state_of(s, a[2]), "STOPPING");
		assert_string_equal(terminate(s, one, 1, NULL),
				    "UnsupportedOperation.InstanceStateStopping");
		fake_ms += 300;
		assert_string_equal(state_of(s, a[2]), "STOPPED");
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"operation\":\"start\",\"ms\":300}",
			 a[2]);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_int_equal(status, 200);
		assert_string_equal(state_of(s, a[2]), "STARTING");
		assert_string_equal(terminate(s, one, 1, NULL),
				    "UnsupportedOperation.InstanceStateStarting");
		control(s, "POST", "/_sim/operate",
			"{\"instanceIds\":[\"ins-00000000\"],\"operation\":\"stop\"}",
			&status);
		assert_int_equal(status, 404);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_int_equal(status, 409);
		fake_ms += 300;
		/* a STOPPED instance can be terminated */
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"operation\":\"stop\",\"ms\":0}",
			 a[2]);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_string_equal(state_of(s, a[2]), "STOPPED");
		assert_string_equal(terminate(s, one, 1, NULL), "ok");
	}
	/* termination protection: from the launch or from the control API */
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-4", "S5.MEDIUM4", "1", "1",
					    ",\"DisableApiTermination\":true"),
				   b, &nb),
			    "ok");
	fake_ms += 1000;
	assert_string_equal(
		launch(s, RUN_BODY("ap-guangzhou-4", "S5.MEDIUM4", "1", "1", ""), f, &nf),
		"ok");
	fake_ms += 1000;
	{
		const char *ids[] = { f[0], b[0] }, *one[] = { f[0] };

		snprintf(body, sizeof(body), "{\"InstanceIds\":[\"%s\"]}", b[0]);
		assert_string_equal(call(s, "DescribeInstances", body, &r), "ok");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceSet"), 0),
			"DisableApiTermination")));
		cJSON_Delete(r);
		assert_string_equal(terminate(s, ids, 2, &msg),
				    "UnsupportedOperation.InstancesProtected");
		assert_non_null(strstr(msg, b[0]));
		assert_null(strstr(msg, f[0]));
		assert_string_equal(state_of(s, f[0]), "RUNNING");
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"protected\":true}", f[0]);
		control(s, "POST", "/_sim/protect", body, &status);
		assert_int_equal(status, 200);
		assert_string_equal(terminate(s, one, 1, NULL),
				    "UnsupportedOperation.InstancesProtected");
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\",\"%s\"],\"protected\":false}", f[0],
			 b[0]);
		control(s, "POST", "/_sim/protect", body, &status);
		assert_int_equal(status, 200);
		control(s, "POST", "/_sim/protect",
			"{\"instanceIds\":[\"ins-00000000\"],\"protected\":true}",
			&status);
		assert_int_equal(status, 404);
		control(s, "POST", "/_sim/protect", "{\"instanceIds\":[]}", &status);
		assert_int_equal(status, 400);
		assert_string_equal(terminate(s, ids, 2, NULL), "ok");
	}
	/* one call may not mix SPOTPAID and POSTPAID_BY_HOUR */
	{
		char q[8][16];
		size_t nq;
		const char *ids[2];

		assert_string_equal(
			launch(s,
			       "{\"Placement\":{\"Zone\":\"ap-guangzhou-6\"},\"ImageId\":\"img-pmqg1cw7\","
			       "\"InstanceType\":\"S5.MEDIUM4\"}",
			       q, &nq),
			"ok");
		fake_ms += 1000;
		ids[0] = p[0];
		ids[1] = q[0];
		assert_string_equal(terminate(s, ids, 2, NULL),
				    "UnsupportedOperation.InstanceMixedPricingModel");
		assert_string_equal(terminate(s, ids, 1, NULL), "ok");
		assert_string_equal(terminate(s, ids + 1, 1, NULL), "ok");
	}
	sim_free(s);
}

static void test_launch_failed_ttl(void **state)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s;
	char ids[8][16], ok[8][16];
	size_t n, nok;
	int status;
	const char *out;
	cJSON *j;

	UNUSED(state);
	fake_ms = T0;
	o.pending_ms = 100;
	o.launch_fail_rate = 1;
	o.launch_failed_ttl_ms = 5000;
	o.no_rate_limits = true;
	s = new_sim(&o);
	assert_int_equal(s->faults.launch_failed_ttl_ms, 5000);
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "4", "1", ""),
				   ids, &n),
			    "ok");
	control(s, "POST", "/_sim/faults", "{\"launchFailRate\":0}", &status);
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				   ok, &nok),
			    "ok");
	fake_ms = T0 + 100;
	assert_string_equal(state_of(s, ids[0]), "LAUNCH_FAILED");
	/* failed instances hold their quota and stock until removed, and are never
	 * reclaimed */
	out = control(s, "POST", "/_sim/reclaim", "{\"count\":10}", &status);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "reclaimed")), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
				    cJSON_GetObjectItem(j, "reclaimed"), 0)),
			    ok[0]);
	cJSON_Delete(j);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 195);
	assert_int_equal(sim_spot_vcpu_used(s, sim_find_zone(s, "ap-guangzhou-3")), 10);
	/* a TTL changed later applies to instances launched later */
	control(s, "POST", "/_sim/faults", "{\"launchFailedTtlMs\":1}", &status);
	assert_int_equal(status, 200);
	fake_ms = T0 + 100 + 4999;
	assert_string_equal(state_of(s, ids[3]), "LAUNCH_FAILED");
	fake_ms = T0 + 100 + 5000;
	assert_string_equal(state_of(s, ids[3]), "gone");
	assert_int_equal(sim_instance_count(s), 0);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"),
			 199); /* reclaimed one not returned */
	out = control(s, "GET", "/_sim/stats", NULL, &status);
	j = cJSON_Parse(out);
	assert_int_equal(cJSON_GetObjectItem(j, "launchFailedRemoved")->valueint, 4);
	cJSON_Delete(j);
	sim_free(s);
}

static int64_t quota_row(struct sim *s, const char *zone, const char *key)
{
	char body[160];
	cJSON *r = NULL, *row;
	int64_t v;

	snprintf(body, sizeof(body),
		 "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"%s\"]}]}", zone);
	assert_string_equal(call(s, "DescribeAccountQuota", body, &r), "ok");
	row = cJSON_GetArrayItem(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(
				cJSON_GetObjectItem(r, "AccountQuotaOverview"),
				"AccountQuota"),
			"SpotPaidQuotaSet"),
		0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(row, "Zone")), zone);
	v = (int64_t)cJSON_GetObjectItem(row, key)->valuedouble;
	cJSON_Delete(r);
	return v;
}

static void test_spot_quota(void **state)
{
	struct sim *s;
	char ids[8][16];
	size_t n;
	int status;
	const char *msg;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	assert_int_equal(s->faults.spot_quota_vcpu, 50);
	/* 20 + 6 MEDIUM4 = 52 vCPU: the second call fails whole */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "20", "1", ""),
				 NULL),
			    "ok");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "SA2.MEDIUM4", "6", "1", ""),
				 NULL),
			    "LimitExceeded.SpotQuota");
	assert_int_equal(s->stats.launched, 20);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "SA2.MEDIUM4"), 200);
	/* a DryRun checks the quota too */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "SA2.MEDIUM4", "6", "1",
					  ",\"DryRun\":true"),
				 NULL),
			    "LimitExceeded.SpotQuota");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "SA2.MEDIUM4", "5", "1",
					  ",\"DryRun\":true"),
				 NULL),
			    "ok");
	/* a LARGE8 is 4 vCPU: 40 + 8 fits, 40 + 12 does not */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.LARGE8", "3", "1", ""),
				 NULL),
			    "LimitExceeded.SpotQuota");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.LARGE8", "2", "1", ""),
				 NULL),
			    "ok");
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "UsedQuota"), 48);
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "RemainingQuota"), 2);
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "TotalQuota"), 50);
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-3", "S2.MEDIUM4", "1", "1", ""),
				   ids, &n),
			    "ok");
	/* full; other zones have their own quota; pay-as-you-go does not count */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "LimitExceeded.SpotQuota");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-4", "S5.MEDIUM4", "25", "1", ""),
				 NULL),
			    "ok");
	assert_string_equal(
		call(s, "RunInstances",
		     "{\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},\"ImageId\":\"img-pmqg1cw7\","
		     "\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":3}",
		     NULL),
		"ok");
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "UsedQuota"), 50);
	/* a leaving instance counts until it is gone */
	fake_ms = T0 + 1000;
	{
		const char *one[] = { ids[0] };

		assert_string_equal(terminate(s, one, 1, NULL), "ok");
	}
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "LimitExceeded.SpotQuota");
	fake_ms = T0 + 1500;
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "RemainingQuota"), 2);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "ok");
	/* the message says how much is left */
	{
		cJSON *r = NULL;

		assert_string_equal(
			call(s, "RunInstances",
			     RUN_BODY("ap-guangzhou-4", "S5.LARGE8", "1", "1", ""), &r),
			"LimitExceeded.SpotQuota");
		msg = cJSON_GetStringValue(
			cJSON_GetObjectItem(cJSON_GetObjectItem(r, "Error"), "Message"));
		assert_non_null(strstr(msg, "ap-guangzhou-4"));
		assert_non_null(strstr(msg, "0 remaining"));
		cJSON_Delete(r);
	}
	/* raised through the control API; 0 is unlimited */
	control(s, "POST", "/_sim/faults", "{\"spotQuotaVcpu\":0}", &status);
	assert_int_equal(status, 200);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "100", "1", ""),
				 NULL),
			    "ok");
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "TotalQuota"),
			 SIM_UNLIMITED_QUOTA_VCPU);
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "RemainingQuota"),
			 SIM_UNLIMITED_QUOTA_VCPU - 250);
	control(s, "POST", "/_sim/faults", "{\"spotQuotaVcpu\":-1}", &status);
	assert_int_equal(status, 400);
	control(s, "POST", "/_sim/faults", "{\"spotQuotaVcpu\":2.5}", &status);
	assert_int_equal(status, 400);
	/* and back: over the quota now, so nothing more launches */
	control(s, "POST", "/_sim/faults", "{\"spotQuotaVcpu\":50}", &status);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "LimitExceeded.SpotQuota");
	assert_int_equal(quota_row(s, "ap-guangzhou-3", "RemainingQuota"), 0);
	sim_free(s);

	/* the flag */
	{
		struct sim_opts o = SIM_OPTS_INIT;

		o.spot_quota_vcpu = 4;
		s = new_sim(&o);
		assert_string_equal(
			call(s, "RunInstances",
			     RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "3", "1", ""),
			     NULL),
			"LimitExceeded.SpotQuota");
		assert_string_equal(
			call(s, "RunInstances",
			     RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1", ""),
			     NULL),
			"ok");
		sim_free(s);
	}
}

static void test_account_quota(void **state)
{
	struct sim *s;
	cJSON *r = NULL, *ov, *aq, *set;
	int status;

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "S5.LARGE8", "3", "1", ""),
				 NULL),
			    "ok");
	assert_string_equal(call(s, "DescribeAccountQuota", "{}", &r), "ok");
	/* the published example's shape: AppId next to AccountQuotaOverview */
	assert_int_equal((int64_t)cJSON_GetObjectItem(r, "AppId")->valuedouble,
			 (int64_t)SIM_DEFAULT_APP_ID);
	ov = cJSON_GetObjectItem(r, "AccountQuotaOverview");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ov, "Region")),
			    "ap-guangzhou");
	aq = cJSON_GetObjectItem(ov, "AccountQuota");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(aq, "PostPaidQuotaSet")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(aq, "PrePaidQuotaSet")));
	set = cJSON_GetObjectItem(aq, "SpotPaidQuotaSet");
	assert_int_equal(cJSON_GetArraySize(set), 4); /* every zone of the region */
	{
		cJSON *row;
		int seen = 0;

		cJSON_ArrayForEach (row, set) {
			const char *z =
				cJSON_GetStringValue(cJSON_GetObjectItem(row, "Zone"));
			int used = cJSON_GetObjectItem(row, "UsedQuota")->valueint;

			assert_int_equal(cJSON_GetObjectItem(row, "TotalQuota")->valueint,
					 50);
			assert_int_equal(
				cJSON_GetObjectItem(row, "RemainingQuota")->valueint,
				50 - used);
			assert_int_equal(used, !strcmp(z, "ap-guangzhou-6") ? 12 : 0);
			seen++;
		}
		assert_int_equal(seen, 4);
	}
	cJSON_Delete(r);
	/* quota-type picks the sets */
	assert_string_equal(
		call(s, "DescribeAccountQuota",
		     "{\"Filters\":[{\"Name\":\"quota-type\",\"Values\":[\"SpotPaidQuotaSet\"]}]}",
		     &r),
		"ok");
	aq = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "AccountQuotaOverview"),
				 "AccountQuota");
	assert_int_equal(cJSON_GetArraySize(aq), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(aq, "SpotPaidQuotaSet")),
			 4);
	cJSON_Delete(r);
	/* region-scoped */
	assert_string_equal(call_full(s, "DescribeAccountQuota", "ap-beijing", "{}",
				      fake_ms / 1000, NULL, &r),
			    "ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
				 cJSON_GetObjectItem(
					 cJSON_GetObjectItem(r, "AccountQuotaOverview"),
					 "AccountQuota"),
				 "SpotPaidQuotaSet")),
			 3);
	cJSON_Delete(r);
	assert_string_equal(
		call(s, "DescribeAccountQuota",
		     "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-beijing-5\"]}]}",
		     NULL),
		"InvalidZone.MismatchRegion");
	assert_string_equal(
		call(s, "DescribeAccountQuota",
		     "{\"Filters\":[{\"Name\":\"colour\",\"Values\":[\"x\"]}]}", NULL),
		"InvalidFilter");
	assert_string_equal(
		call(s, "DescribeAccountQuota",
		     "{\"Filters\":[{\"Name\":\"quota-type\",\"Values\":[\"Spot\"]}]}",
		     NULL),
		"InvalidParameterValue.Range");
	assert_string_equal(
		call(s, "DescribeAccountQuota", "{\"Zone\":\"ap-guangzhou-3\"}", NULL),
		"UnknownParameter");
	control(s, "POST", "/_sim/faults", "{\"accountQuotaUnsupported\":true}", &status);
	assert_int_equal(status, 200);
	assert_string_equal(call(s, "DescribeAccountQuota", "{}", NULL),
			    "UnsupportedOperation");
	control(s, "POST", "/_sim/faults", "{\"accountQuotaUnsupported\":false}",
		&status);
	/* rate limit: 20 a second */
	fake_ms = T0 + 10000;
	for (int i = 0; i < 20; i++)
		assert_string_equal(call(s, "DescribeAccountQuota", "{}", NULL), "ok");
	assert_string_equal(call(s, "DescribeAccountQuota", "{}", NULL),
			    "RequestLimitExceeded");
	sim_free(s);
}

static const char *category(struct sim *s, const char *zone, const char *type,
			    int64_t stock)
{
	static char cat[32];
	char body[256];
	cJSON *r = NULL, *row;
	int status;

	snprintf(body, sizeof(body),
		 "{\"zone\":\"%s\",\"instanceType\":\"%s\",\"stock\":%" PRId64 "}", zone,
		 type, stock);
	control(s, "POST", "/_sim/pool", body, &status);
	assert_int_equal(status, 200);
	snprintf(
		body, sizeof(body),
		"{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"%s\"]},{\"Name\":\"instance-type\",\"Values\":[\"%s\"]},"
		"{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]}]}",
		zone, type);
	assert_string_equal(call(s, "DescribeZoneInstanceConfigInfos", body, &r), "ok");
	row = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet"), 0);
	snprintf(cat, sizeof(cat), "%s",
		 cJSON_GetStringValue(cJSON_GetObjectItem(row, "StatusCategory")));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(row, "Status")),
			    stock ? "SELL" : "SOLD_OUT");
	cJSON_Delete(r);
	return cat;
}

static void test_stock_levels_and_spotless(void **state)
{
	struct sim *s;
	cJSON *r = NULL;
	int status;
	const char *spot_filter =
		"{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-7\"]},"
		"{\"Name\":\"instance-type\",\"Values\":[\"S2.MEDIUM4\"]}]}";

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 0),
			    "WithoutStock");
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 1), "UnderStock");
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 9), "UnderStock");
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 10),
			    "NormalStock");
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 49),
			    "NormalStock");
	assert_string_equal(category(s, "ap-guangzhou-3", "S5.MEDIUM4", 50),
			    "EnoughStock");
	/* a type that is not sold as spot: no SPOTPAID row, and a spot launch is refused
	 */
	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-guangzhou-7\",\"instanceType\":\"S2.MEDIUM4\",\"spot\":false}",
		&status);
	assert_int_equal(status, 200);
	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-guangzhou-7\",\"instanceType\":\"S2.MEDIUM4\",\"spot\":1}",
		&status);
	assert_int_equal(status, 400);
	assert_string_equal(call(s, "DescribeZoneInstanceConfigInfos", spot_filter, &r),
			    "ok");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet")), 1);
	assert_string_equal(
		cJSON_GetStringValue(cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(r, "InstanceTypeQuotaSet"),
					   0),
			"InstanceChargeType")),
		"POSTPAID_BY_HOUR");
	cJSON_Delete(r);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-7", "S2.MEDIUM4", "1", "1", ""),
				 NULL),
			    "UnsupportedOperation.NoInstanceTypeSupportSpot");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-7", "S2.MEDIUM4", "1", "1",
					  ",\"DryRun\":true"),
				 NULL),
			    "UnsupportedOperation.NoInstanceTypeSupportSpot");
	assert_string_equal(
		call(s, "RunInstances",
		     "{\"Placement\":{\"Zone\":\"ap-guangzhou-7\"},\"ImageId\":\"img-pmqg1cw7\","
		     "\"InstanceType\":\"S2.MEDIUM4\"}",
		     NULL),
		"ok");
	/* other zones still sell it as spot */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-6", "S2.MEDIUM4", "1", "1", ""),
				 NULL),
			    "ok");
	/* reset brings the world's setting back */
	control(s, "POST", "/_sim/reset", "{}", &status);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-7", "S2.MEDIUM4", "1", "1", ""),
				 NULL),
			    "ok");
	sim_free(s);
}

static void test_dry_run_and_faults(void **state)
{
	struct sim *s;
	cJSON *r = NULL;
	char ids[8][16], again[8][16];
	size_t n, n2;
	int status;
	const char *tok = ",\"ClientToken\":\"plan-check-1\"";

	UNUSED(state);
	fake_ms = T0;
	s = default_sim();
	s->faults.rate_limits = false;
	/* DryRun success: a RequestId and nothing else */
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1",
			      ",\"ClientToken\":\"plan-check-1\",\"DryRun\":true"),
		     &r),
		"ok");
	assert_int_equal(cJSON_GetArraySize(r), 1);
	assert_non_null(cJSON_GetObjectItem(r, "RequestId"));
	cJSON_Delete(r);
	assert_int_equal(s->stats.launched, 0);
	assert_int_equal(s->ntokens, 0);
	/* ... and never registers its ClientToken: the real launch launches */
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1",
					    ",\"ClientToken\":\"plan-check-1\""),
				   ids, &n),
			    "ok");
	assert_int_equal(n, 2);
	assert_int_equal(s->stats.launched, 2);
	assert_string_equal(launch(s,
				   RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1",
					    ",\"ClientToken\":\"plan-check-1\""),
				   again, &n2),
			    "ok");
	assert_string_equal(ids[1], again[1]);
	assert_int_equal(s->stats.launched, 2);
	UNUSED(tok);
	/* insufficient balance: every launch, DryRun too, launches nothing */
	control(s, "POST", "/_sim/faults", "{\"insufficientBalance\":true}", &status);
	assert_int_equal(status, 200);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "InvalidAccount.InsufficientBalance");
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1",
					  ",\"DryRun\":true"),
				 NULL),
			    "InvalidAccount.InsufficientBalance");
	/* an earlier launch's token still answers */
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "2", "1",
					  ",\"ClientToken\":\"plan-check-1\""),
				 NULL),
			    "ok");
	control(s, "POST", "/_sim/faults", "{\"insufficientBalance\":1}", &status);
	assert_int_equal(status, 400);
	control(s, "POST", "/_sim/faults", "{\"insufficientBalance\":false}", &status);
	assert_int_equal(s->stats.launched, 2);
	/* an operation in progress refuses a termination, which changes nothing */
	fake_ms = T0 + 1000;
	control(s, "POST", "/_sim/faults", "{\"operationInProgressRate\":1}", &status);
	assert_int_equal(status, 200);
	{
		const char *both[] = { ids[0], ids[1] };

		assert_string_equal(terminate(s, both, 2, NULL),
				    "OperationDenied.InstanceOperationInProgress");
		assert_string_equal(state_of(s, ids[0]), "RUNNING");
		/* (state rules come first) */
		control(s, "POST", "/_sim/faults", "{\"operationInProgressRate\":0}",
			&status);
		assert_string_equal(terminate(s, both, 2, NULL), "ok");
	}
	sim_free(s);
}

/* The new fault draws come from the seeded generator. */
static void test_strict_faults_seeded(void **state)
{
	char runs[2][64];

	UNUSED(state);
	for (int k = 0; k < 2; k++) {
		struct sim_opts o = SIM_OPTS_INIT;
		struct sim *s;
		char ids[8][16];
		size_t n;
		int status;

		fake_ms = T0;
		o.seed = 99;
		o.pending_ms = 0;
		o.no_rate_limits = true;
		s = new_sim(&o);
		control(s, "POST", "/_sim/faults", "{\"operationInProgressRate\":0.5}",
			&status);
		assert_string_equal(
			launch(s, RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "8", "1", ""),
			       ids, &n),
			"ok");
		for (size_t i = 0; i < n && i < 63; i++) {
			const char *one[] = { ids[i] };

			runs[k][i] =
				!strcmp(terminate(s, one, 1, NULL), "ok") ? 'o' : 'x';
			runs[k][i + 1] = '\0';
		}
		sim_free(s);
	}
	assert_string_equal(runs[0], runs[1]);
	assert_non_null(strchr(runs[0], 'o'));
	assert_non_null(strchr(runs[0], 'x'));
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
		{ "faults: {spotQuotaVcpu: -1}\n", "spotQuotaVcpu" },
		{ "faults: {launchFailedTtlMs: soon}\n", "launchFailedTtlMs" },
		{ "faults: {insufficientBalance: 1}\n", "insufficientBalance" },
		{ "account: {appId: 0}\n", "appId" },
		{ "account: {name: x}\n", "unknown key 'name'" },
		{ "regions:\n  - name: ap-x\n    zones:\n      - name: ap-x-1\n        pools:\n          - {instanceType: S5.MEDIUM4, price: \"1\", spot: no}\n",
		  "'spot' must be true or false" },
		{ "regions: [\n", "" },
		/* an alias bomb stays cheap */
		{ "faults: {a: &a [1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a],"
		  " c: &c [*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c],"
		  " e: &e [*d,*d,*d,*d,*d,*d,*d,*d], f: &f [*e,*e,*e,*e,*e,*e,*e,*e],"
		  " g: [*f,*f,*f,*f,*f,*f,*f,*f]}\n",
		  "too large" },
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
	      "          - {instanceType: GPU.BIG, stock: 1, price: \"2\", cpu: 8, memory: 32, spot: false}\n"
	      "account: {appId: 1300000042}\n"
	      "rateLimits: {RunInstances: 2, DescribeAccountQuota: 5}\n"
	      "faults: {pendingMs: 10, tagLagMs: 20, spotQuotaVcpu: 0, launchFailedTtlMs: 7,\n"
	      "         operationInProgressRate: 0.25, insufficientBalance: true}\n",
	      f);
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
	assert_true(s->pools[0].spot);
	assert_false(s->pools[1].spot);
	assert_int_equal(s->app_id, 1300000042);
	assert_int_equal(s->faults.rate[SIM_ACT_DESCRIBE_ACCOUNT_QUOTA], 5);
	assert_int_equal(s->faults.spot_quota_vcpu, 0);
	assert_int_equal(s->faults.launch_failed_ttl_ms, 7);
	assert_true(s->faults.operation_in_progress_rate == 0.25);
	assert_true(s->faults.insufficient_balance);
	sim_free(s);
	/* flags override the world file */
	o.spot_quota_vcpu = 8;
	o.launch_failed_ttl_ms = 1000;
	assert_int_equal(sim_new(&s, &o, &e), 0);
	assert_int_equal(s->faults.spot_quota_vcpu, 8);
	assert_int_equal(s->faults.launch_failed_ttl_ms, 1000);
	sim_free(s);
	/* the built-in world: the documented default quota */
	o.config_path = NULL;
	o.spot_quota_vcpu = -1;
	assert_int_equal(sim_new(&s, &o, &e), 0);
	assert_int_equal(s->faults.spot_quota_vcpu, SIM_DEFAULT_SPOT_QUOTA_VCPU);
	assert_int_equal(s->app_id, SIM_DEFAULT_APP_ID);
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
	assert_string_equal(
		call(s, "RunInstances",
		     RUN_BODY(
			     "ap-guangzhou-3", "S5.MEDIUM4", "3", "1",
			     ",\"TagSpecification\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}]"),
		     &r),
		"ok");
	cJSON_Delete(r);
	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-beijing-7\",\"instanceType\":\"S5.MEDIUM4\",\"price\":\"0.3\"}",
		&status);
	control(s, "POST", "/_sim/pool",
		"{\"zone\":\"ap-guangzhou-4\",\"instanceType\":\"S5.LARGE8\",\"spot\":false}",
		&status);
	/* one protected, one rebooting, one that will fail and be removed at a set time
	 */
	fake_ms = T0 + 2000; /* RUNNING */
	{
		const char *ids[3];
		char body[256];
		cJSON *set;

		assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
		set = cJSON_GetObjectItem(r, "InstanceSet");
		for (int i = 0; i < 3; i++)
			ids[i] = cJSON_GetStringValue(cJSON_GetObjectItem(
				cJSON_GetArrayItem(set, i), "InstanceId"));
		snprintf(body, sizeof(body),
			 "{\"instanceIds\":[\"%s\"],\"protected\":true}", ids[0]);
		control(s, "POST", "/_sim/protect", body, &status);
		assert_int_equal(status, 200);
		snprintf(
			body, sizeof(body),
			"{\"instanceIds\":[\"%s\"],\"operation\":\"reboot\",\"ms\":60000}",
			ids[1]);
		control(s, "POST", "/_sim/operate", body, &status);
		assert_int_equal(status, 200);
		cJSON_Delete(r);
	}
	control(s, "POST", "/_sim/faults",
		"{\"launchFailRate\":1,\"launchFailedTtlMs\":30000}", &status);
	assert_string_equal(call(s, "RunInstances",
				 RUN_BODY("ap-guangzhou-3", "S5.MEDIUM4", "1", "1", ""),
				 NULL),
			    "ok");
	control(s, "POST", "/_sim/faults",
		"{\"launchFailRate\":0,\"launchFailedTtlMs\":1}", &status);
	assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
	cJSON_DeleteItemFromObject(r, "RequestId");
	before = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	assert_int_equal(sim_save_state(s, &e), 0);
	sim_free(s);

	s = new_sim(&o);
	assert_int_equal(sim_instance_count(s), 4);
	assert_string_equal(call(s, "DescribeInstances", "{}", &r), "ok");
	cJSON_DeleteItemFromObject(r, "RequestId");
	{
		char *after = cJSON_PrintUnformatted(r);

		assert_string_equal(before, after);
		free(after);
	}
	cJSON_Delete(r);
	free(before);
	assert_int_equal(pool_stock(s, "ap-guangzhou-3", "S5.MEDIUM4"), 196);
	assert_string_equal(
		s->pools[sim_find_pool(s, sim_find_zone(s, "ap-beijing-7"), "S5.MEDIUM4")]
			.price,
		"0.3");
	assert_false(s->pools[sim_find_pool(s, sim_find_zone(s, "ap-guangzhou-4"),
					    "S5.LARGE8")]
			     .spot);
	/* the failed one keeps its removal time: 30 s after it failed */
	fake_ms = T0 + 2000 + 2000 + 30000 - 1;
	assert_int_equal(sim_instance_count(s), 4);
	fake_ms += 1;
	assert_int_equal(sim_instance_count(s), 3);
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

/* One AssumeRoleWithWebIdentity (unsigned): "ok" or the error code. */
static const char *web_identity(struct sim *s)
{
	static char code[128];
	static const char body[] = "{\"ProviderId\":\"p\",\"WebIdentityToken\":\"t\","
				   "\"RoleArn\":\"qcs::cam::uin/1:roleName/r\","
				   "\"RoleSessionName\":\"s\"}";
	struct tc_header h[] = {
		{ "Content-Type", "application/json" },
		{ "Host", "127.0.0.1:8787" },
		{ "X-TC-Action", "AssumeRoleWithWebIdentity" },
		{ "X-TC-Version", "2018-08-13" },
		{ "Authorization", "SKIP" },
	};
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;
	cJSON *doc, *er;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.query = "";
	req.headers = h;
	req.nheaders = ARRAY_SIZE(h);
	req.body = body;
	req.body_len = strlen(body);
	sim_handle(s, &req, &r);
	assert_int_equal(r.status, 200);
	doc = cJSON_Parse(buf_str(&r.body));
	assert_non_null(doc);
	er = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "Response"), "Error");
	snprintf(code, sizeof(code), "%s",
		 er ? cJSON_GetStringValue(cJSON_GetObjectItem(er, "Code")) : "ok");
	cJSON_Delete(doc);
	sim_response_clear(&r);
	return code;
}

/*
 * The injectable STS fault (POST /_sim/sts "fail"): the next `after` calls
 * go through, the `count` after them fail with `code`; defaults count 1,
 * InternalError; a bad one changes nothing; reset clears it.
 */
static void test_sts_fault(void **state)
{
	struct sim *s = default_sim();
	const char *t;
	int st;

	UNUSED(state);
	fake_ms = T0;
	t = control(s, "POST", "/_sim/sts",
		    "{\"fail\":{\"count\":2,\"code\":\"InternalError.SystemError\","
		    "\"after\":1}}",
		    &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(
		t,
		"\"fail\":{\"count\":2,\"code\":\"InternalError.SystemError\",\"after\":1}"));
	assert_string_equal(web_identity(s), "ok");
	assert_string_equal(web_identity(s), "InternalError.SystemError");
	assert_string_equal(web_identity(s), "InternalError.SystemError");
	assert_string_equal(web_identity(s), "ok");
	t = control(s, "GET", "/_sim/sts", NULL, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(t, "\"fail\":{\"count\":0,"));
	assert_non_null(strstr(t, "\"assumeRoleWithWebIdentity\":4"));
	assert_non_null(strstr(t, "\"issued\":2"));
	assert_non_null(strstr(t, "\"failed\":2"));
	t = control(s, "GET", "/_sim/stats", NULL, &st);
	assert_non_null(strstr(t, "\"InternalError.SystemError\":2"));

	/* refused as a whole: an undocumented code, a fraction, an unknown key */
	t = control(s, "POST", "/_sim/sts",
		    "{\"durationSeconds\":9,\"fail\":{\"code\":\"Nope\"}}", &st);
	assert_int_equal(st, 400);
	assert_non_null(strstr(t, "documented STS error code"));
	control(s, "POST", "/_sim/sts", "{\"fail\":{\"count\":0.5}}", &st);
	assert_int_equal(st, 400);
	control(s, "POST", "/_sim/sts", "{\"fail\":{\"times\":1}}", &st);
	assert_int_equal(st, 400);
	control(s, "POST", "/_sim/sts", "{\"fail\":[1]}", &st);
	assert_int_equal(st, 400);
	t = control(s, "GET", "/_sim/sts", NULL, &st);
	assert_non_null(strstr(t, "\"durationSeconds\":0,"));
	assert_non_null(strstr(t, "\"fail\":{\"count\":0,"));

	/* the defaults: one call, InternalError */
	control(s, "POST", "/_sim/sts", "{\"fail\":{}}", &st);
	assert_int_equal(st, 200);
	assert_string_equal(web_identity(s), "InternalError");
	assert_string_equal(web_identity(s), "ok");

	/* null turns it off; so does reset */
	control(s, "POST", "/_sim/sts", "{\"fail\":{\"count\":3}}", &st);
	control(s, "POST", "/_sim/sts", "{\"fail\":null}", &st);
	assert_int_equal(st, 200);
	assert_string_equal(web_identity(s), "ok");
	control(s, "POST", "/_sim/sts", "{\"fail\":{\"count\":3}}", &st);
	control(s, "POST", "/_sim/reset", "{}", &st);
	assert_int_equal(st, 200);
	assert_string_equal(web_identity(s), "ok");
	t = control(s, "GET", "/_sim/sts", NULL, &st);
	assert_non_null(strstr(t, "\"failed\":0,"));
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
		cmocka_unit_test(test_rate_per_region),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stock_and_tokens),
		cmocka_unit_test(test_token_memory_bounded),
		cmocka_unit_test(test_reclaim_control),
		cmocka_unit_test(test_reclaim_rate),
		cmocka_unit_test(test_seed_reproducible),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_listing_kept),
		cmocka_unit_test(test_offers),
		cmocka_unit_test(test_terminate_states),
		cmocka_unit_test(test_launch_failed_ttl),
		cmocka_unit_test(test_spot_quota),
		cmocka_unit_test(test_account_quota),
		cmocka_unit_test(test_stock_levels_and_spotless),
		cmocka_unit_test(test_dry_run_and_faults),
		cmocka_unit_test(test_strict_faults_seeded),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_listen_refuses_non_loopback),
		cmocka_unit_test(test_sts_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
