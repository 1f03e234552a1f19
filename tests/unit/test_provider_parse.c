/*
 * Unit tests for provider/parse.c and the request builders: response
 * envelopes, instances, offers (prices as decimal text, never doubles),
 * error classification, the RunInstances body.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "../../provider/tc.h"

static int parse(void **resp, const char *text, struct err *e)
{
	return tc_parse_response(resp, text, strlen(text), e);
}

static void test_classify(void **state)
{
	static const struct {
		const char *code;
		long http;
		enum err_class cls;
	} t[] = {
		{ "AuthFailure.SignatureFailure", 200, ERR_CLASS_AUTH },
		{ "AuthFailure.SecretIdNotFound", 200, ERR_CLASS_AUTH },
		{ "UnauthorizedOperation", 200, ERR_CLASS_AUTH },
		{ "RequestLimitExceeded", 200, ERR_CLASS_THROTTLED },
		{ "RequestLimitExceeded.UinLimitExceeded", 200, ERR_CLASS_THROTTLED },
		{ "RequestLimitExceeded.GlobalRegionUinLimitExceeded", 200, ERR_CLASS_THROTTLED },
		{ "ResourceInsufficient.SpecifiedInstanceType", 200, ERR_CLASS_CAPACITY },
		{ "ResourceInsufficient.AvailabilityZoneSoldOut", 200, ERR_CLASS_CAPACITY },
		{ "ResourcesSoldOut.SpecifiedInstanceType", 200, ERR_CLASS_CAPACITY },
		{ "InvalidParameterValue.InsufficientPrice", 200, ERR_CLASS_CAPACITY },
		{ "InvalidParameterValue.InsufficientOffering", 200, ERR_CLASS_CAPACITY },
		{ "LimitExceeded.SpotQuota", 200, ERR_CLASS_CAPACITY },
		{ "LimitExceeded.UserSpotQuota", 200, ERR_CLASS_CAPACITY },
		{ "LimitExceeded.InstanceQuota", 200, ERR_CLASS_OTHER },
		{ "InvalidParameterValue.ZoneNotSupported", 200, ERR_CLASS_INVALID },
		{ "InvalidZone.MismatchRegion", 200, ERR_CLASS_INVALID },
		{ "MissingParameter", 200, ERR_CLASS_INVALID },
		{ "UnsupportedOperation.NoInstanceTypeSupportSpot", 200, ERR_CLASS_INVALID },
		{ "InvalidClientToken.TooLong", 200, ERR_CLASS_INVALID },
		{ "InternalError", 200, ERR_CLASS_TRANSIENT },
		{ "InternalError.Unknown", 200, ERR_CLASS_TRANSIENT },
		{ "FailedOperation.TagKeyReserved", 200, ERR_CLASS_OTHER },
		{ "ResourceInsufficientX", 200, ERR_CLASS_OTHER }, /* prefix needs a dot */
		{ NULL, 500, ERR_CLASS_TRANSIENT },
		{ NULL, 502, ERR_CLASS_TRANSIENT },
		{ NULL, 429, ERR_CLASS_THROTTLED },
		{ NULL, 403, ERR_CLASS_AUTH },
		{ NULL, 404, ERR_CLASS_OTHER },
		{ NULL, 200, ERR_CLASS_NONE },
		{ "", 0, ERR_CLASS_NONE },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		enum err_class got = tc_classify(t[i].code, t[i].http);

		if (got != t[i].cls)
			fail_msg("tc_classify(%s, %ld) = %d, want %d", t[i].code ? t[i].code : "NULL",
				 t[i].http, got, t[i].cls);
	}
}

static void test_response_envelope(void **state)
{
	struct err e = ERR_INIT;
	void *r = NULL;
	static const char *bad[] = {
		"",
		"{",
		"{not json}",
		"[]",
		"{}",
		"{\"Response\": 3}",
		"{\"Response\": {\"RequestId\": 5}}",
		"{\"Response\": {\"Error\": {\"Message\": \"m\"}, \"RequestId\": \"r\"}}",
		"{\"Response\": {\"Error\": \"x\", \"RequestId\": \"r\"}}",
		"{\"Response\": {\"RequestId\": \"r\"}} trailing",
		"{\"Response\": {\"RequestId\": \"r\", \"A\": 01}}",
		"{\"Response\": {\"RequestId\": \"r\", \"A\": 1.}}",
		"{\"Response\": {\"RequestId\": \"r\", \"A\": -}}",
		"{\"Response\": {\"RequestId\": \"r\", \"A\": \"\\u0001x\"}}",
		"{\"Response\": {\"RequestId\": \"r\", \"A\": \"tab\there\"}}",
		"{\"Response\": {\"RequestId\": \"r\"",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse(&r, bad[i], &e), ERR_API);
		assert_null(r);
		assert_null(e.api_code);
		assert_non_null(strstr(e.msg, "unexpected API response"));
		err_clear(&e);
	}
	/* an error response keeps code, message, RequestId and class */
	assert_int_equal(parse(&r, "{\"Response\":{\"Error\":{\"Code\":\"InvalidZone.MismatchRegion\","
				    "\"Message\":\"zone does not exist\"},\"RequestId\":\"req-9\"}}",
			       &e),
			 ERR_API);
	assert_string_equal(e.api_code, "InvalidZone.MismatchRegion");
	assert_string_equal(e.api_message, "zone does not exist");
	assert_string_equal(e.request_id, "req-9");
	assert_int_equal(e.cls, ERR_CLASS_INVALID);
	err_clear(&e);
	/* success: the Response object, numbers keeping their text */
	assert_int_equal(parse(&r, "{\"Response\": {\"N\": 0.10000000000000001, \"I\": 250, "
				    "\"E\": 1e-2, \"S\": \"x\", \"RequestId\": \"r\"}}", &e), 0);
	{
		cJSON *j = r;
		cJSON *n = cJSON_GetObjectItem(j, "N"), *i = cJSON_GetObjectItem(j, "I");

		assert_true(cJSON_IsNumber(n));
		assert_string_equal(n->valuestring, "0.10000000000000001");
		assert_true(cJSON_IsNumber(i));
		assert_int_equal(i->valueint, 250);
		assert_string_equal(cJSON_GetObjectItem(j, "E")->valuestring, "1e-2");
		assert_string_equal(cJSON_GetObjectItem(j, "S")->valuestring, "x");
		/* duplicates keep it too */
		{
			cJSON *d = cJSON_Duplicate(j, 1);

			assert_string_equal(cJSON_GetObjectItem(d, "N")->valuestring,
					    "0.10000000000000001");
			cJSON_Delete(d);
		}
		cJSON_Delete(j);
	}
	/* the length is honoured: no terminator needed */
	{
		const char text[] = "{\"Response\":{\"RequestId\":\"r\"}}GARBAGE";

		assert_int_equal(tc_parse_response(&r, text, strlen(text) - 7, &e), 0);
		cJSON_Delete(r);
	}
}

static const char INSTANCES[] =
	"{\"Response\": {\"TotalCount\": 2, \"InstanceSet\": ["
	"{\"InstanceId\": \"ins-1\", \"InstanceName\": \"web-1\", \"InstanceType\": \"S5.LARGE8\","
	" \"InstanceState\": \"RUNNING\", \"InstanceChargeType\": \"SPOTPAID\","
	" \"Placement\": {\"Zone\": \"ap-guangzhou-6\", \"ProjectId\": 0}, \"ImageId\": \"img-1\","
	" \"VirtualPrivateCloud\": {\"VpcId\": \"vpc-1\", \"SubnetId\": \"subnet-1\"},"
	" \"CreatedTime\": \"2020-09-22T00:00:00+00:00\", \"ExpiredTime\": null,"
	" \"PublicIpAddresses\": null, \"CPU\": 2, \"Memory\": 8,"
	" \"Tags\": [{\"Key\": \"spotenv:env\", \"Value\": \"web\"}, {\"Key\": \"team\", \"Value\": \"a\"}]},"
	"{\"InstanceId\": \"ins-2\", \"InstanceState\": \"PENDING\", \"Tags\": null,"
	" \"CreatedTime\": \"2020-09-22T08:00:00+08:00\"}"
	"], \"RequestId\": \"r\"}}";

static void test_instances(void **state)
{
	struct tc_instance_list l = { NULL, 0, 0 };
	struct tc_instance copy;
	struct err e = ERR_INIT;
	int64_t total = -1;
	void *r;

	(void)state;
	assert_int_equal(parse(&r, INSTANCES, &e), 0);
	assert_int_equal(tc_parse_instances(&l, &total, r, "ap-guangzhou", &e), 0);
	cJSON_Delete(r);
	assert_int_equal(total, 2);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "ins-1");
	assert_string_equal(l.v[0].name, "web-1");
	assert_string_equal(l.v[0].type, "S5.LARGE8");
	assert_string_equal(l.v[0].state, "RUNNING");
	assert_string_equal(l.v[0].charge_type, "SPOTPAID");
	assert_string_equal(l.v[0].region, "ap-guangzhou");
	assert_string_equal(l.v[0].zone, "ap-guangzhou-6");
	assert_string_equal(l.v[0].image, "img-1");
	assert_string_equal(l.v[0].vpc_id, "vpc-1");
	assert_string_equal(l.v[0].subnet_id, "subnet-1");
	assert_int_equal(l.v[0].created_unix, 1600732800);
	assert_int_equal(l.v[1].created_unix, 1600732800);
	assert_string_equal(tc_instance_tag(&l.v[0], "spotenv:env"), "web");
	assert_null(tc_instance_tag(&l.v[0], "nope"));
	assert_int_equal(l.v[1].ntags, 0);
	assert_null(l.v[1].zone);
	tc_instance_copy(&copy, &l.v[0]);
	tc_instance_list_clear(&l);
	assert_string_equal(tc_instance_tag(&copy, "team"), "a");
	tc_instance_clear(&copy);
}

static void test_instances_wrong_types(void **state)
{
	static const char *bad[] = {
		"{\"Response\": {\"InstanceSet\": [], \"RequestId\": \"r\"}}", /* no TotalCount */
		"{\"Response\": {\"TotalCount\": \"x\", \"InstanceSet\": []}}",
		"{\"Response\": {\"TotalCount\": -1, \"InstanceSet\": []}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": {}}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [3]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{}]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{\"InstanceId\": 5}]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{\"InstanceId\": \"i\", \"Placement\": []}]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{\"InstanceId\": \"i\", \"Tags\": [1]}]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{\"InstanceId\": \"i\", \"Tags\": [{\"Value\": \"v\"}]}]}}",
		"{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [{\"InstanceId\": \"i\", \"InstanceState\": true}]}}",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tc_instance_list l = { NULL, 0, 0 };
		struct err e = ERR_INIT;
		void *r;

		assert_int_equal(parse(&r, bad[i], &e), 0);
		assert_int_equal(tc_parse_instances(&l, NULL, r, "rg", &e), ERR_API);
		assert_int_equal(l.n, 0);
		assert_non_null(strstr(e.msg, "unexpected API response"));
		err_clear(&e);
		tc_instance_list_clear(&l);
		cJSON_Delete(r);
	}
	/* TotalCount as a string of digits is fine */
	{
		struct tc_instance_list l = { NULL, 0, 0 };
		struct err e = ERR_INIT;
		int64_t total = 0;
		void *r;

		assert_int_equal(parse(&r, "{\"Response\": {\"TotalCount\": \"7\", \"InstanceSet\": []}}", &e), 0);
		assert_int_equal(tc_parse_instances(&l, &total, r, "rg", &e), 0);
		assert_int_equal(total, 7);
		cJSON_Delete(r);
	}
}

static void test_offers(void **state)
{
	static const char text[] =
		"{\"Response\": {\"InstanceTypeQuotaSet\": ["
		"{\"Zone\": \"ap-guangzhou-6\", \"InstanceType\": \"S5.LARGE8\", \"InstanceChargeType\": \"SPOTPAID\","
		" \"Status\": \"SELL\", \"Cpu\": 4, \"Memory\": 8,"
		" \"Price\": {\"UnitPrice\": 1.01, \"UnitPriceDiscount\": 0.10000000000000001, \"Discount\": \"20.000000\"}},"
		"{\"Zone\": \"ap-guangzhou-7\", \"InstanceType\": \"S5.LARGE8\", \"InstanceChargeType\": \"SPOTPAID\","
		" \"Status\": \"SOLD_OUT\", \"Cpu\": \"4\", \"Memory\": 8.0,"
		" \"Price\": {\"UnitPriceDiscount\": \"0.2500\"}},"
		"{\"Zone\": \"ap-guangzhou-7\", \"InstanceType\": \"S5.SMALL1\", \"InstanceChargeType\": \"POSTPAID_BY_HOUR\","
		" \"Status\": \"SELL\", \"Cpu\": 1, \"Memory\": 1, \"Price\": {\"UnitPriceDiscount\": 0.05}},"
		"{\"Zone\": \"ap-guangzhou-3\", \"InstanceType\": \"S5.TINY\", \"InstanceChargeType\": \"SPOTPAID\","
		" \"Status\": \"SELL\", \"Cpu\": 1, \"Memory\": 1, \"Price\": {\"UnitPriceDiscount\": 5E-3}},"
		"{\"Zone\": \"ap-guangzhou-3\", \"InstanceType\": \"S5.BIG\", \"InstanceChargeType\": \"SPOTPAID\","
		" \"Status\": \"SELL\", \"Cpu\": 1, \"Memory\": 1, \"Price\": {\"UnitPriceDiscount\": 12}}"
		"], \"RequestId\": \"r\"}}";
	struct tc_offer_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	void *r;

	(void)state;
	assert_int_equal(parse(&r, text, &e), 0);
	assert_int_equal(tc_parse_offers(&l, r, &e), 0);
	cJSON_Delete(r);
	assert_int_equal(l.n, 4); /* the POSTPAID row is skipped */
	assert_string_equal(l.v[0].zone, "ap-guangzhou-6");
	assert_string_equal(l.v[0].status, "SELL");
	/* from the source text, never a double: more than 9 decimals are rounded */
	assert_string_equal(l.v[0].price, "0.1");
	assert_int_equal(l.v[0].cpu, 4);
	assert_int_equal(l.v[0].memory_gb, 8);
	assert_string_equal(l.v[1].price, "0.2500");
	assert_string_equal(l.v[1].status, "SOLD_OUT");
	assert_int_equal(l.v[1].cpu, 4);
	assert_int_equal(l.v[1].memory_gb, 8);
	assert_string_equal(l.v[2].price, "0.005");
	assert_string_equal(l.v[3].price, "12");
	tc_offer_list_clear(&l);

	/* decimal text: kept as written up to 9 decimals, rounded half up beyond */
	{
		static const char *const t[][2] = {
			{ "0.10", "0.10" }, { "\"0.10\"", "0.10" }, { "0.123456789", "0.123456789" },
			{ "0.1234567895", "0.12345679" }, { "0.1234567894", "0.123456789" },
			{ "9.9999999999", "10" }, { "0.30000000000000004", "0.3" }, { "1E2", "100" },
			{ "\"100.000000\"", "100.000000" }, { "2.5e-1", "0.25" }, { "0", "0" },
			{ "0.0000000004", "0" }, { "99.9999999996", "100" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			char *doc = xasprintf("{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
					       " \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": %s}}]}}",
					       t[i][0]);

			assert_int_equal(parse(&r, doc, &e), 0);
			assert_int_equal(tc_parse_offers(&l, r, &e), 0);
			if (strcmp(l.v[0].price, t[i][1]))
				fail_msg("price %s gave %s, want %s", t[i][0], l.v[0].price, t[i][1]);
			tc_offer_list_clear(&l);
			cJSON_Delete(r);
			free(doc);
		}
	}

	/* a price too large for util/decimal */
	assert_int_equal(parse(&r, "{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
				    " \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": 1e20}}]}}",
			       &e), 0);
	assert_int_equal(tc_parse_offers(&l, r, &e), ERR_API);
	err_clear(&e);
	cJSON_Delete(r);
	/* a price that is not a number */
	assert_int_equal(parse(&r, "{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
				    " \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": \"cheap\"}}]}}",
			       &e), 0);
	assert_int_equal(tc_parse_offers(&l, r, &e), ERR_API);
	assert_int_equal(l.n, 0);
	err_clear(&e);
	cJSON_Delete(r);
	tc_offer_list_clear(&l);
}

static void test_run_request_json(void **state)
{
	struct tc_tag tags[2] = { { (char *)"spotenv:env", (char *)"web" },
				  { (char *)"team", (char *)"a" } };
	const char *sgs[] = { "sg-1", "sg-2" };
	const char *keys[] = { "skey-1" };
	struct tc_run_request req = {
		.region = "ap-guangzhou", .zone = "ap-guangzhou-6",
		.instance_type = "S5.LARGE8", .image = "img-1", .count = 3,
		.max_price = "0.60", .client_token = "tok-1", .instance_name = "web",
		.tags = tags, .ntags = 2, .vpc_id = "vpc-1", .subnet_id = "subnet-1",
		.security_group_ids = sgs, .nsecurity_groups = 2,
		.public_ip_bandwidth_mbps = 10, .key_ids = keys, .nkey_ids = 1,
		.system_disk_type = "CLOUD_PREMIUM", .system_disk_size_gb = 50,
		.user_data_b64 = "ZWNobw==", .dry_run = true,
	};
	char *s;

	(void)state;
	s = tc_run_request_json(&req);
	assert_string_equal(s,
		"{\"InstanceChargeType\":\"SPOTPAID\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\","
		"\"SpotOptions\":{\"MaxPrice\":\"0.60\",\"SpotInstanceType\":\"one-time\"}},"
		"\"Placement\":{\"Zone\":\"ap-guangzhou-6\"},\"ImageId\":\"img-1\","
		"\"InstanceType\":\"S5.LARGE8\",\"InstanceCount\":3,\"ClientToken\":\"tok-1\","
		"\"InstanceName\":\"web\",\"TagSpecification\":[{\"ResourceType\":\"instance\","
		"\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"web\"},{\"Key\":\"team\",\"Value\":\"a\"}]}],"
		"\"VirtualPrivateCloud\":{\"VpcId\":\"vpc-1\",\"SubnetId\":\"subnet-1\"},"
		"\"SecurityGroupIds\":[\"sg-1\",\"sg-2\"],\"InternetAccessible\":{\"InternetChargeType\":"
		"\"TRAFFIC_POSTPAID_BY_HOUR\",\"InternetMaxBandwidthOut\":10,\"PublicIpAssigned\":true},"
		"\"LoginSettings\":{\"KeyIds\":[\"skey-1\"]},\"SystemDisk\":{\"DiskType\":\"CLOUD_PREMIUM\","
		"\"DiskSize\":50},\"UserData\":\"ZWNobw==\",\"DryRun\":true}");
	free(s);

	/* the minimum: no optional parts, KeepImageLogin */
	memset(&req, 0, sizeof(req));
	req.region = "r";
	req.zone = "z";
	req.instance_type = "t";
	req.image = "i";
	req.count = 1;
	req.max_price = "1";
	req.keep_image_login = true;
	s = tc_run_request_json(&req);
	assert_string_equal(s,
		"{\"InstanceChargeType\":\"SPOTPAID\",\"InstanceMarketOptions\":{\"MarketType\":\"spot\","
		"\"SpotOptions\":{\"MaxPrice\":\"1\",\"SpotInstanceType\":\"one-time\"}},"
		"\"Placement\":{\"Zone\":\"z\"},\"ImageId\":\"i\",\"InstanceType\":\"t\","
		"\"InstanceCount\":1,\"LoginSettings\":{\"KeepImageLogin\":\"true\"}}");
	free(s);
}

static void test_parse_time(void **state)
{
	(void)state;
	assert_int_equal(tc_parse_time("2020-09-22T00:00:00Z"), 1600732800);
	assert_int_equal(tc_parse_time("2020-09-22T00:00:00+00:00"), 1600732800);
	assert_int_equal(tc_parse_time("2020-09-22T08:00:00+08:00"), 1600732800);
	assert_int_equal(tc_parse_time("2020-09-21T23:00:00-0100"), 1600732800);
	assert_int_equal(tc_parse_time("2020-09-22 00:00:00"), 1600732800);
	assert_int_equal(tc_parse_time("2020-09-22T00:00:00.123Z"), 1600732800);
	assert_int_equal(tc_parse_time("yesterday"), 0);
	assert_int_equal(tc_parse_time("2020-09-22T00:00:00Zjunk"), 0);
	assert_int_equal(tc_parse_time(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_response_envelope),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_instances_wrong_types),
		cmocka_unit_test(test_offers),
		cmocka_unit_test(test_run_request_json),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
