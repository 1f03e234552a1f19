/*
 * gen_requests.c - regenerate the captured-style SDK requests in this
 * directory (not built by make; the .http files are committed).
 *
 *	cc -std=gnu11 -I. -o /tmp/gen tests/sim_data/requests/gen_requests.c \
 *	   build/libprovider.a build/libutil.a -lcrypto -lcurl -lcjson
 *	cd tests/sim_data/requests && /tmp/gen
 *
 * Each file mimics what an official SDK puts on the wire at timestamp
 * 1764000000 (2025-11-24): the headers in the SDK's order, the body in the
 * SDK's JSON style, signed with the emulator's test credential by
 * provider/sign.c.  A first line "# expect: ok|CODE" says how the emulator
 * must answer when its clock is at the request time; the test also replays
 * every "ok" request 301 s later and expects AuthFailure.SignatureExpire.
 * official-doc-v3-example.http is NOT generated: it is the example of
 * Tencent's "signature v3" documentation (tencent-api.md section 1.3,
 * revision B), byte for byte, with its published signature.
 */
#include "util/setup.h"
#include "provider/tc.h"

#define TS 1764000000
#define ID "AKIDSPOTENVSIM0000000000000000000000"
#define KEY "spotenv-sim-not-a-secret"

struct hdr {
	const char *name, *value;
	bool sign;
};

static void gen(const char *file, const char *expect, const char *note, const char *id,
		const char *key, const struct hdr *h, size_t nh, const char *body,
		const char *sent_body, const char *sent_action)
{
	struct tc_header sh[16];
	struct tc_sign_input in;
	struct tc_sign_output out;
	struct err e = ERR_INIT;
	size_t n = 0;
	FILE *f;

	for (size_t i = 0; i < nh; i++)
		if (h[i].sign) {
			sh[n].name = h[i].name;
			sh[n].value = h[i].value;
			n++;
		}
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.method = "POST";
	in.query = "";
	in.headers = sh;
	in.nheaders = n;
	in.payload = body;
	in.payload_len = strlen(body);
	in.service = "cvm";
	in.timestamp = TS;
	in.secret_id = id;
	in.secret_key = key;
	if (tc_sign(&out, &in, &e)) {
		fprintf(stderr, "sign failed: %s\n", e.msg);
		exit(1);
	}
	f = fopen(file, "w");
	fprintf(f, "# expect: %s\n# %s\nPOST / HTTP/1.1\n", expect, note);
	for (size_t i = 0; i < nh; i++) {
		const char *v = h[i].value;

		if (sent_action && !strcasecmp(h[i].name, "X-TC-Action"))
			v = sent_action;
		fprintf(f, "%s: %s\n", h[i].name, v);
	}
	fprintf(f, "Authorization: %s\n\n%s", buf_str(&out.authorization),
		sent_body ? sent_body : body);
	fclose(f);
	tc_sign_output_clear(&out);
}

int main(void)
{
	const char *go_body =
		"{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-3\"]}],\"Limit\":10}";
	const char *py_body =
		"{\"InstanceChargeType\": \"SPOTPAID\", \"Placement\": {\"Zone\": \"ap-guangzhou-3\"}, "
		"\"InstanceType\": \"S5.MEDIUM4\", \"ImageId\": \"img-pmqg1cw7\", \"InstanceCount\": 2, "
		"\"ClientToken\": \"captured-python-1\", \"InstanceMarketOptions\": {\"MarketType\": \"spot\", "
		"\"SpotOptions\": {\"MaxPrice\": \"0.50\", \"SpotInstanceType\": \"one-time\"}}, "
		"\"TagSpecification\": [{\"ResourceType\": \"instance\", \"Tags\": [{\"Key\": \"spotenv:env\", "
		"\"Value\": \"captured\"}]}]}";
	const char *node_body =
		"{\"Filters\":[{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]}]}";
	const struct hdr go[] = {
		{ "Host", "127.0.0.1", true },
		{ "X-TC-Action", "DescribeInstances", false },
		{ "X-TC-Version", "2017-03-12", false },
		{ "X-TC-Timestamp", "1764000000", false },
		{ "X-TC-RequestClient", "SDK_GO_1.3.166", false },
		{ "X-TC-Language", "zh-CN", false },
		{ "X-TC-Region", "ap-guangzhou", false },
		{ "Content-Type", "application/json", true },
	};
	const struct hdr py[] = {
		{ "Host", "127.0.0.1", true },
		{ "Content-Type", "application/json", true },
		{ "X-TC-Action", "RunInstances", false },
		{ "X-TC-Timestamp", "1764000000", false },
		{ "X-TC-Version", "2017-03-12", false },
		{ "X-TC-Region", "ap-guangzhou", false },
		{ "X-TC-RequestClient", "SDK_PYTHON_3.0.1267", false },
	};
	const struct hdr node[] = {
		{ "Content-Type", "application/json; charset=utf-8", true },
		{ "Host", "cvm.tencentcloudapi.com", true },
		{ "X-TC-Action", "DescribeZoneInstanceConfigInfos", true },
		{ "X-TC-Timestamp", "1764000000", false },
		{ "X-TC-Version", "2017-03-12", false },
		{ "X-TC-Region", "ap-guangzhou", false },
		{ "X-TC-RequestClient", "SDK_NODEJS_4.0.3", false },
	};

	gen("sdk-go-describe.http", "ok",
	    "Go SDK style: signs content-type;host with the host without port", ID, KEY,
	    go, ARRAY_SIZE(go), go_body, NULL, NULL);
	gen("sdk-python-run.http", "ok",
	    "Python SDK style: json.dumps separators, host without port, spot launch", ID,
	    KEY, py, ARRAY_SIZE(py), py_body, NULL, NULL);
	gen("doc-style-offers.http", "ok",
	    "documentation style: charset in content-type, x-tc-action signed (value lower-cased)",
	    ID, KEY, node, ARRAY_SIZE(node), node_body, NULL, NULL);
	gen("tampered-body.http", "AuthFailure.SignatureFailure",
	    "the Go request with its body changed after signing (Limit 10 -> 100)", ID,
	    KEY, go, ARRAY_SIZE(go), go_body,
	    "{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-3\"]}],\"Limit\":100}",
	    NULL);
	gen("tampered-signed-action.http", "AuthFailure.SignatureFailure",
	    "x-tc-action is signed but the action sent differs from the signed one", ID,
	    KEY, node, ARRAY_SIZE(node), node_body, NULL, "DescribeInstances");
	gen("wrong-secret.http", "AuthFailure.SignatureFailure",
	    "signed with a SecretKey that is not the test credential's", ID,
	    "not-the-right-key", go, ARRAY_SIZE(go), go_body, NULL, NULL);
	gen("unknown-secretid.http", "AuthFailure.SecretIdNotFound",
	    "signed with a SecretId the emulator does not know",
	    "AKIDUNKNOWN00000000000000000000000000", KEY, go, ARRAY_SIZE(go), go_body,
	    NULL, NULL);
	return 0;
}
