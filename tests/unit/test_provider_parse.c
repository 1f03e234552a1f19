/*
 * Unit tests for provider/parse.c and the request builders: response
 * envelopes, instances, offers (prices as decimal text, never doubles; a
 * zero price is unknown; StatusCategory), the spot quota answer, error
 * classification, the RunInstances body.
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
		{ "RequestLimitExceeded.GlobalRegionUinLimitExceeded", 200,
		  ERR_CLASS_THROTTLED },
		{ "RequestLimitExceeded.IPLimitExceeded", 200, ERR_CLASS_THROTTLED },
		{ "ResourceInsufficient.SpecifiedInstanceType", 200, ERR_CLASS_CAPACITY },
		{ "ResourceInsufficient.AvailabilityZoneSoldOut", 200,
		  ERR_CLASS_CAPACITY },
		{ "ResourcesSoldOut.SpecifiedInstanceType", 200, ERR_CLASS_CAPACITY },
		{ "InvalidParameterValue.InsufficientPrice", 200, ERR_CLASS_CAPACITY },
		{ "InvalidParameterValue.InsufficientOffering", 200, ERR_CLASS_CAPACITY },
		{ "UnsupportedOperation.NoInstanceTypeSupportSpot", 200,
		  ERR_CLASS_CAPACITY },
		{ "UnsupportedOperation.SpotUnsupportedRegion", 200, ERR_CLASS_CAPACITY },
		{ "LimitExceeded.SpotQuota", 200, ERR_CLASS_QUOTA },
		{ "LimitExceeded.UserSpotQuota", 200, ERR_CLASS_QUOTA },
		{ "LimitExceeded.SpotQuotaX", 200, ERR_CLASS_OTHER },
		{ "LimitExceeded.InstanceQuota", 200, ERR_CLASS_OTHER },
		{ "LimitExceeded.UserReturnQuota", 200, ERR_CLASS_OTHER },
		{ "InvalidAccount.InsufficientBalance", 200, ERR_CLASS_ACCOUNT },
		{ "InvalidParameterValue.ZoneNotSupported", 200, ERR_CLASS_INVALID },
		{ "InvalidZone.MismatchRegion", 200, ERR_CLASS_INVALID },
		{ "MissingParameter", 200, ERR_CLASS_INVALID },
		{ "InvalidClientToken.TooLong", 200, ERR_CLASS_INVALID },
		{ "InvalidInstanceId.NotFound", 200, ERR_CLASS_INVALID },
		{ "UnsupportedOperation.InstanceMixedPricingModel", 200,
		  ERR_CLASS_INVALID },
		{ "UnsupportedOperation", 200, ERR_CLASS_INVALID },
		{ "UnsupportedOperation.InstancesProtected", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStatePending", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateLaunchFailed", 200,
		  ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateStarting", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateStopping", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateRebooting", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateTerminating", 200, ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateTerminated", 200, ERR_CLASS_OTHER },
		/* the bare prefix names no state */
		{ "UnsupportedOperation.InstanceState", 200, ERR_CLASS_INVALID },
		{ "InternalError", 200, ERR_CLASS_TRANSIENT },
		{ "InternalError.Unknown", 200, ERR_CLASS_TRANSIENT },
		{ "InternalServerError", 200, ERR_CLASS_TRANSIENT },
		{ "InternalServerErrorX", 200, ERR_CLASS_OTHER },
		{ "OperationDenied.InstanceOperationInProgress", 200,
		  ERR_CLASS_TRANSIENT },
		{ "OperationDenied", 200, ERR_CLASS_OTHER },
		{ "MutexOperation.TaskRunning", 200, ERR_CLASS_TRANSIENT },
		{ "FailedOperation.TagKeyReserved", 200, ERR_CLASS_OTHER },
		{ "ResourceInsufficientX", 200,
		  ERR_CLASS_OTHER }, /* prefix needs a dot */
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
			fail_msg("tc_classify(%s, %ld) = %d, want %d",
				 t[i].code ? t[i].code : "NULL", t[i].http, got,
				 t[i].cls);
		/* errors carry the same class */
		got = tc_err_class(t[i].code, t[i].http);
		if (got != t[i].cls)
			fail_msg("tc_err_class(%s) = %d", t[i].code ? t[i].code : "NULL",
				 got);
	}
	/* the spot quota is its own class, not capacity */
	assert_int_equal(tc_err_class("LimitExceeded.SpotQuota", 200), ERR_CLASS_QUOTA);
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
	assert_int_equal(
		parse(&r,
		      "{\"Response\":{\"Error\":{\"Code\":\"InvalidZone.MismatchRegion\","
		      "\"Message\":\"zone does not exist\"},\"RequestId\":\"req-9\"}}",
		      &e),
		ERR_API);
	assert_string_equal(e.api_code, "InvalidZone.MismatchRegion");
	assert_string_equal(e.api_message, "zone does not exist");
	assert_string_equal(e.request_id, "req-9");
	assert_int_equal(e.cls, ERR_CLASS_INVALID);
	err_clear(&e);
	/* the class an error carries: tc_err_class */
	{
		static const struct {
			const char *code;
			enum err_class cls;
		} c[] = {
			{ "LimitExceeded.SpotQuota", ERR_CLASS_QUOTA },
			{ "InvalidAccount.InsufficientBalance", ERR_CLASS_ACCOUNT },
			{ "InternalServerError", ERR_CLASS_TRANSIENT },
			{ "UnsupportedOperation.InstanceStatePending", ERR_CLASS_OTHER },
			{ "UnsupportedOperation.NoInstanceTypeSupportSpot",
			  ERR_CLASS_CAPACITY },
		};

		for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
			char *doc = xasprintf("{\"Response\":{\"Error\":{\"Code\":\"%s\","
					      "\"Message\":\"m\"},\"RequestId\":\"r\"}}",
					      c[i].code);

			assert_int_equal(parse(&r, doc, &e), ERR_API);
			assert_string_equal(e.api_code, c[i].code);
			assert_int_equal(e.cls, c[i].cls);
			err_clear(&e);
			free(doc);
		}
	}
	/* success: the Response object, numbers keeping their text */
	assert_int_equal(parse(&r,
			       "{\"Response\": {\"N\": 0.10000000000000001, \"I\": 250, "
			       "\"E\": 1e-2, \"S\": \"x\", \"RequestId\": \"r\"}}",
			       &e),
			 0);
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
		"{\"Response\": {\"InstanceSet\": [], \"RequestId\": \"r\"}}", /* no
										  TotalCount
										*/
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

		assert_int_equal(
			parse(&r,
			      "{\"Response\": {\"TotalCount\": \"7\", \"InstanceSet\": []}}",
			      &e),
			0);
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
			{ "0.10", "0.10" },
			{ "\"0.10\"", "0.10" },
			{ "0.123456789", "0.123456789" },
			{ "0.1234567895", "0.12345679" },
			{ "0.1234567894", "0.123456789" },
			{ "9.9999999999", "10" },
			{ "0.30000000000000004", "0.3" },
			{ "1E2", "100" },
			{ "\"100.000000\"", "100.000000" },
			{ "2.5e-1", "0.25" },
			{ "99.9999999996", "100" },
			{ "0.0000000005", "0.000000001" },
			/* zero, or rounding to zero at 9 decimals: not given (unknown) */
			{ "0", NULL },
			{ "0.0", NULL },
			{ "\"0.00\"", NULL },
			{ "0e5", NULL },
			{ "0.0000000004", NULL },
		};

		for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
			char *doc = xasprintf(
				"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
				" \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": %s}}]}}",
				t[i][0]);

			assert_int_equal(parse(&r, doc, &e), 0);
			assert_int_equal(tc_parse_offers(&l, r, &e), 0);
			assert_int_equal(l.n, 1);
			if (!t[i][1] ? l.v[0].price != NULL
				     : !l.v[0].price || strcmp(l.v[0].price, t[i][1]))
				fail_msg("price %s gave %s, want %s", t[i][0],
					 l.v[0].price ? l.v[0].price : "NULL",
					 t[i][1] ? t[i][1] : "NULL");
			tc_offer_list_clear(&l);
			cJSON_Delete(r);
			free(doc);
		}
	}

	/* a price too large for util/decimal */
	assert_int_equal(
		parse(&r,
		      "{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
		      " \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": 1e20}}]}}",
		      &e),
		0);
	assert_int_equal(tc_parse_offers(&l, r, &e), ERR_API);
	err_clear(&e);
	cJSON_Delete(r);
	/* a price that is not a number */
	assert_int_equal(
		parse(&r,
		      "{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\","
		      " \"InstanceType\": \"t\", \"Price\": {\"UnitPriceDiscount\": \"cheap\"}}]}}",
		      &e),
		0);
	assert_int_equal(tc_parse_offers(&l, r, &e), ERR_API);
	assert_int_equal(l.n, 0);
	err_clear(&e);
	cJSON_Delete(r);
	tc_offer_list_clear(&l);
}

/*
 * The published DescribeZoneInstanceConfigInfos example (tencentcloud-cli
 * tccli/examples/cvm/v20170312/DescribeZoneInstanceConfigInfos.md), its
 * row made SPOTPAID: "UnitPriceDiscount": 0.0 and "UnitPrice": 0.0 while
 * the real price sits in other fields.  The price is unknown, not free.
 */
static const char PUBLISHED_OFFER[] =
	"{\"Response\": {\"InstanceTypeQuotaSet\": [{"
	"\"Status\": \"SELL\", \"Zone\": \"ap-guangzhou-2\", \"NetworkCard\": 0,"
	"\"Price\": {\"DiscountPrice\": 59.0, \"OriginalPriceThreeYear\": 0.0, \"DiscountOneYear\": 0.0,"
	" \"UnitPrice\": 0.0, \"UnitPriceThirdStep\": 0.0, \"OriginalPriceFiveYear\": 0.0,"
	" \"Discount\": 0.0, \"DiscountFiveYear\": 0.0, \"UnitPriceDiscountThirdStep\": 0.0,"
	" \"UnitPriceSecondStep\": 0.0, \"OriginalPrice\": 59.0, \"DiscountThreeYear\": 0.0,"
	" \"UnitPriceDiscountSecondStep\": 0.0, \"UnitPriceDiscount\": 0.0,"
	" \"DiscountPriceFiveYear\": 0.0, \"OriginalPriceOneYear\": 708.0, \"ChargeUnit\": \"xx\","
	" \"DiscountPriceThreeYear\": 0.0, \"DiscountPriceOneYear\": 587.64},"
	"\"InstanceFamily\": \"S2\", \"Externals\": {}, \"InstanceType\": \"S2.SMALL1\","
	"\"TypeName\": \"Standard S2\", \"InstanceChargeType\": \"SPOTPAID\", \"Memory\": 1,"
	"\"LocalDiskTypeList\": [], \"Cpu\": 1, \"SoldOutReason\": \"\", \"StorageBlockAmount\": 0,"
	"\"CpuType\": \"Intel Xeon E5-2680 v4\", \"InstancePps\": 20, \"InstanceBandwidth\": 1.5,"
	"\"Gpu\": 0, \"Fpga\": 0, \"Remark\": \"\"}],"
	"\"RequestId\": \"c28559ca-d3cf-40f0-9664-2ab303484efa\"}}";

static void test_offer_price_and_stock(void **state)
{
	static const char text[] =
		"{\"Response\": {\"InstanceTypeQuotaSet\": ["
		/* UnitPriceDiscount above zero wins */
		"{\"Zone\": \"z\", \"InstanceType\": \"a\", \"StatusCategory\": \"EnoughStock\","
		" \"Price\": {\"UnitPrice\": 1.00, \"UnitPriceDiscount\": 0.20}},"
		/* a zero UnitPriceDiscount: UnitPrice */
		"{\"Zone\": \"z\", \"InstanceType\": \"b\", \"StatusCategory\": \"WithoutStock\","
		" \"Price\": {\"UnitPrice\": 0.90, \"UnitPriceDiscount\": 0.0}},"
		/* no UnitPriceDiscount: UnitPrice */
		"{\"Zone\": \"z\", \"InstanceType\": \"c\", \"StatusCategory\": \"UnderStock\","
		" \"Price\": {\"UnitPrice\": \"0.80\", \"UnitPriceDiscount\": null}},"
		/* neither: unknown; no StatusCategory: unknown */
		"{\"Zone\": \"z\", \"InstanceType\": \"d\", \"Price\": {\"Discount\": 20}},"
		/* no Price at all; StatusCategory null or empty: unknown; other text as
		   given */
		"{\"Zone\": \"z\", \"InstanceType\": \"e\", \"StatusCategory\": null},"
		"{\"Zone\": \"z\", \"InstanceType\": \"f\", \"StatusCategory\": \"\"},"
		"{\"Zone\": \"z\", \"InstanceType\": \"g\", \"StatusCategory\": \"NormalStock\","
		" \"Price\": {\"UnitPrice\": 0, \"UnitPriceDiscount\": 0}},"
		"{\"Zone\": \"z\", \"InstanceType\": \"h\", \"StatusCategory\": \"SomeNewStock\"}"
		"], \"RequestId\": \"r\"}}";
	static const char *const bad[] = {
		/* StatusCategory must be a string */
		"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\", \"InstanceType\": \"t\","
		" \"StatusCategory\": 3}]}}",
		"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\", \"InstanceType\": \"t\","
		" \"StatusCategory\": [\"EnoughStock\"]}]}}",
		/* UnitPrice is checked even when UnitPriceDiscount is used */
		"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\", \"InstanceType\": \"t\","
		" \"Price\": {\"UnitPriceDiscount\": 0.2, \"UnitPrice\": \"dear\"}}]}}",
		"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\", \"InstanceType\": \"t\","
		" \"Price\": {\"UnitPriceDiscount\": 0, \"UnitPrice\": true}}]}}",
		/* negative prices are not prices */
		"{\"Response\": {\"InstanceTypeQuotaSet\": [{\"Zone\": \"z\", \"InstanceType\": \"t\","
		" \"Price\": {\"UnitPriceDiscount\": -0.2}}]}}",
	};
	struct tc_offer_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	void *r;

	(void)state;
	assert_int_equal(parse(&r, PUBLISHED_OFFER, &e), 0);
	assert_int_equal(tc_parse_offers(&l, r, &e), 0);
	cJSON_Delete(r);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].zone, "ap-guangzhou-2");
	assert_string_equal(l.v[0].type, "S2.SMALL1");
	assert_string_equal(l.v[0].status, "SELL");
	assert_null(l.v[0].price);	     /* 0.0 and 0.0: unknown, never free */
	assert_null(l.v[0].status_category); /* absent: unknown */
	assert_int_equal(l.v[0].cpu, 1);
	assert_int_equal(l.v[0].memory_gb, 1);
	tc_offer_list_clear(&l);

	assert_int_equal(parse(&r, text, &e), 0);
	assert_int_equal(tc_parse_offers(&l, r, &e), 0);
	cJSON_Delete(r);
	assert_int_equal(l.n, 8);
	assert_string_equal(l.v[0].price, "0.20");
	assert_string_equal(l.v[0].status_category, "EnoughStock");
	assert_string_equal(l.v[1].price, "0.90");
	assert_string_equal(l.v[1].status_category, "WithoutStock");
	assert_string_equal(l.v[2].price, "0.80");
	assert_string_equal(l.v[2].status_category, "UnderStock");
	assert_null(l.v[3].price);
	assert_null(l.v[3].status_category);
	assert_null(l.v[4].price);
	assert_null(l.v[4].status_category);
	assert_null(l.v[5].status_category);
	assert_null(l.v[6].price);
	assert_string_equal(l.v[6].status_category, "NormalStock");
	assert_string_equal(l.v[7].status_category, "SomeNewStock"); /* as given */
	tc_offer_list_clear(&l);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse(&r, bad[i], &e), 0);
		if (tc_parse_offers(&l, r, &e) != ERR_API)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(l.n, 0);
		assert_non_null(strstr(e.msg, "unexpected API response"));
		err_clear(&e);
		cJSON_Delete(r);
	}
	tc_offer_list_clear(&l);
}

/*
 * The published DescribeAccountQuota example (tencentcloud-cli
 * tccli/examples/cvm/v20170312/DescribeAccountQuota.md), as printed: AppId
 * is a number next to RequestId, outside AccountQuotaOverview.
 */
static const char PUBLISHED_QUOTA[] =
	"{\n"
	"    \"Response\": {\n"
	"        \"AccountQuotaOverview\": {\n"
	"            \"Region\": \"ap-guangzhou\",\n"
	"            \"AccountQuota\": {\n"
	"                \"PostPaidQuotaSet\": [\n"
	"                    {\"UsedQuota\": 0, \"RemainingQuota\": 288, \"TotalQuota\": 288, \"Zone\": \"ap-guangzhou-1\"},\n"
	"                    {\"UsedQuota\": 2, \"RemainingQuota\": 1248, \"TotalQuota\": 1250, \"Zone\": \"ap-guangzhou-2\"}\n"
	"                ],\n"
	"                \"DisasterRecoverGroupQuotaSet\": [\n"
	"                    {\"CvmInRackGroupQuota\": 30, \"GroupQuota\": 10, \"CvmInHostGroupQuota\": 50,"
	" \"CurrentNum\": 0, \"CvmInSwitchGroupQuota\": 20}\n"
	"                ],\n"
	"                \"PrePaidQuotaSet\": [\n"
	"                    {\"UsedQuota\": 0, \"OnceQuota\": 300, \"Zone\": \"ap-guangzhou-1\", \"TotalQuota\": 255, \"RemainingQuota\": 255},\n"
	"                    {\"UsedQuota\": 0, \"OnceQuota\": 300, \"Zone\": \"ap-guangzhou-2\", \"TotalQuota\": 222, \"RemainingQuota\": 222}\n"
	"                ],\n"
	"                \"SpotPaidQuotaSet\": [\n"
	"                    {\"UsedQuota\": 0, \"RemainingQuota\": 244, \"TotalQuota\": 244, \"Zone\": \"ap-guangzhou-1\"},\n"
	"                    {\"UsedQuota\": 4, \"RemainingQuota\": 195, \"TotalQuota\": 199, \"Zone\": \"ap-guangzhou-2\"}\n"
	"                ],\n"
	"                \"ImageQuotaSet\": [\n"
	"                    {\"UsedQuota\": 0, \"TotalQuota\": 10}\n"
	"                ]\n"
	"            }\n"
	"        },\n"
	"        \"RequestId\": \"7f117776-3d20-4f00-839b-b22b04625f47\",\n"
	"        \"AppId\": 251007416\n"
	"    }\n"
	"}\n";

static void test_spot_quota(void **state)
{
	struct tc_spot_quota_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	char *app_id = NULL;
	void *r;

	(void)state;
	assert_int_equal(parse(&r, PUBLISHED_QUOTA, &e), 0);
	assert_int_equal(tc_parse_spot_quota(&l, &app_id, r, &e), 0);
	assert_string_equal(app_id, "251007416");
	free(app_id);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].zone, "ap-guangzhou-1");
	assert_int_equal(l.v[0].used, 0);
	assert_int_equal(l.v[0].remaining, 244);
	assert_int_equal(l.v[0].total, 244);
	assert_string_equal(l.v[1].zone, "ap-guangzhou-2");
	assert_int_equal(l.v[1].used, 4);
	assert_int_equal(l.v[1].remaining, 195);
	assert_int_equal(l.v[1].total, 199);
	assert_ptr_equal(tc_spot_quota_find(&l, "ap-guangzhou-2"), &l.v[1]);
	assert_null(tc_spot_quota_find(&l, "ap-guangzhou-3"));
	/* appends (duplicates are checked within one answer); app_id_out may be NULL */
	assert_int_equal(tc_parse_spot_quota(&l, NULL, r, &e), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[3].zone, "ap-guangzhou-2");
	cJSON_Delete(r);
	tc_spot_quota_list_clear(&l);

	/* optional parts absent: no rows, no AppId; AppId as a string; missing counts */
	{
		static const struct {
			const char *doc;
			size_t rows;
			const char *app_id;
		} ok[] = {
			{ "{\"Response\": {\"RequestId\": \"r\"}}", 0, NULL },
			{ "{\"Response\": {\"AccountQuotaOverview\": null, \"AppId\": null}}",
			  0, NULL },
			{ "{\"Response\": {\"AccountQuotaOverview\": {\"Region\": \"x\"}, \"AppId\": \"0042\"}}",
			  0, "42" },
			{ "{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {}}, \"AppId\": 0}}",
			  0, "0" },
			{ "{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": null}},"
			  " \"AppId\": 2.51007416e8}}",
			  0, "251007416" },
			{ "{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": ["
			  "{\"Zone\": \"z1\", \"TotalQuota\": \"50\"}]}}, \"AppId\": 12345678901234567890}}",
			  1, "12345678901234567890" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
			assert_int_equal(parse(&r, ok[i].doc, &e), 0);
			if (tc_parse_spot_quota(&l, &app_id, r, &e) != 0)
				fail_msg("refused: %s: %s", ok[i].doc, e.msg);
			assert_int_equal(l.n, ok[i].rows);
			if (ok[i].app_id)
				assert_string_equal(app_id, ok[i].app_id);
			else
				assert_null(app_id);
			free(app_id);
			app_id = NULL;
			cJSON_Delete(r);
		}
		assert_string_equal(l.v[0].zone, "z1");
		assert_int_equal(l.v[0].total, 50);
		assert_int_equal(l.v[0].used, -1);	/* not given */
		assert_int_equal(l.v[0].remaining, -1); /* not given */
		tc_spot_quota_list_clear(&l);
	}

	/* wrong types and values: an error, nothing appended, no AppId */
	{
		static const char *const bad[] = {
			"{\"Response\": {\"AppId\": \"abc\"}}",
			"{\"Response\": {\"AppId\": -1}}",
			"{\"Response\": {\"AppId\": 1.5}}",
			"{\"Response\": {\"AppId\": true}}",
			"{\"Response\": {\"AppId\": \"\"}}",
			"{\"Response\": {\"AccountQuotaOverview\": []}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": 1}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": {}}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": [1]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": [{}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"\"}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": 7}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"UsedQuota\": \"many\"}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"RemainingQuota\": -5}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"TotalQuota\": 2.5}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"TotalQuota\": 1e12}]}}}}",
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"TotalQuota\": 50}, {\"Zone\": \"z\", \"TotalQuota\": 60}]}}}}",
			/* a good row before a bad one is not kept */
			"{\"Response\": {\"AppId\": 7, \"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": "
			"[{\"Zone\": \"z\", \"TotalQuota\": 50}, {\"Zone\": \"y\", \"TotalQuota\": []}]}}}}",
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			app_id = (char *)"untouched";
			assert_int_equal(parse(&r, bad[i], &e), 0);
			if (tc_parse_spot_quota(&l, &app_id, r, &e) != ERR_API)
				fail_msg("accepted: %s", bad[i]);
			assert_null(app_id);
			assert_int_equal(l.n, 0);
			assert_non_null(strstr(e.msg, "unexpected API response"));
			err_clear(&e);
			cJSON_Delete(r);
		}
		tc_spot_quota_list_clear(&l);
	}

	/* bounded: more than 1000 rows is not a region's quota */
	{
		struct buf b = BUF_INIT;

		buf_puts(
			&b,
			"{\"Response\": {\"AccountQuotaOverview\": {\"AccountQuota\": {\"SpotPaidQuotaSet\": [");
		for (int i = 0; i < 1001; i++)
			buf_printf(&b, "%s{\"Zone\": \"z-%d\", \"TotalQuota\": 50}",
				   i ? "," : "", i);
		buf_puts(&b, "]}}}}");
		assert_int_equal(parse(&r, buf_str(&b), &e), 0);
		assert_int_equal(tc_parse_spot_quota(&l, NULL, r, &e), ERR_API);
		assert_non_null(strstr(e.msg, "1000"));
		assert_int_equal(l.n, 0);
		err_clear(&e);
		cJSON_Delete(r);
		buf_release(&b);
	}
	/* not a Response object */
	assert_int_equal(tc_parse_spot_quota(&l, NULL, NULL, &e), ERR_API);
	err_clear(&e);
}

static void test_run_request_json(void **state)
{
	struct tc_tag tags[2] = { { (char *)"spotenv:env", (char *)"web" },
				  { (char *)"team", (char *)"a" } };
	const char *sgs[] = { "sg-1", "sg-2" };
	const char *keys[] = { "skey-1" };
	struct tc_run_request req = {
		.region = "ap-guangzhou",
		.zone = "ap-guangzhou-6",
		.instance_type = "S5.LARGE8",
		.image = "img-1",
		.count = 3,
		.max_price = "0.60",
		.client_token = "tok-1",
		.instance_name = "web",
		.tags = tags,
		.ntags = 2,
		.vpc_id = "vpc-1",
		.subnet_id = "subnet-1",
		.security_group_ids = sgs,
		.nsecurity_groups = 2,
		.public_ip_bandwidth_mbps = 10,
		.key_ids = keys,
		.nkey_ids = 1,
		.system_disk_type = "CLOUD_PREMIUM",
		.system_disk_size_gb = 50,
		.user_data_b64 = "ZWNobw==",
		.dry_run = true,
	};
	char *s;

	(void)state;
	s = tc_run_request_json(&req);
	assert_string_equal(
		s,
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
	assert_string_equal(
		s,
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
		cmocka_unit_test(test_offer_price_and_stock),
		cmocka_unit_test(test_spot_quota),
		cmocka_unit_test(test_run_request_json),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
