/*
 * Unit tests for sim/ over real HTTP: the emulator listens on a loopback
 * port in-process and libcurl sends requests to it.
 *
 * - Captured-style SDK requests (tests/sim_data/requests, files NAME.http) are
 *   replayed byte for byte with the emulator's clock set to the request's
 *   X-TC-Timestamp; each file says what the answer must be.  A request
 *   signed for Host "127.0.0.1" is sent with curl's own Host header, which
 *   carries the port: the SDK case of a host signed without its port.
 *   Every accepted request is replayed 301 s later and must expire.
 * - Many concurrent connections are answered; a dropped RunInstances
 *   closes the connection after committing.
 * SIM_DATA (default tests/sim_data) locates the data directory.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
#include <pthread.h>
#include "../../sim/sim.h"
#include "../../provider/tc.h"

static int64_t fake_ms;
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t fake_clock(void *ctx)
{
	int64_t v;

	UNUSED(ctx);
	pthread_mutex_lock(&fake_mu);
	v = fake_ms;
	pthread_mutex_unlock(&fake_mu);
	return v;
}

static void set_now(int64_t ms)
{
	pthread_mutex_lock(&fake_mu);
	fake_ms = ms;
	pthread_mutex_unlock(&fake_mu);
}

static const char *data_dir(void)
{
	const char *d = getenv("SIM_DATA");

	return d && *d ? d : "tests/sim_data";
}

struct captured {
	char expect[128];
	char *headers[32]; /* "Name: value" */
	size_t nheaders;
	char host[128];
	char *body;
	size_t body_len;
	int64_t ts;
};

static void captured_free(struct captured *c)
{
	for (size_t i = 0; i < c->nheaders; i++)
		free(c->headers[i]);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

static void load_captured(struct captured *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	char line[1024];
	bool first = true;
	struct buf body = BUF_INIT;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#') {
			if (!strncmp(line, "# expect: ", 10))
				snprintf(c->expect, sizeof(c->expect), "%.120s",
					 line + 10);
			continue;
		}
		if (first) { /* request line */
			first = false;
			continue;
		}
		if (!line[0])
			break;
		if (!strncasecmp(line, "Host: ", 6)) {
			snprintf(c->host, sizeof(c->host), "%.120s", line + 6);
			continue;
		}
		if (!strncasecmp(line, "X-TC-Timestamp: ", 16))
			c->ts = strtoll(line + 16, NULL, 10);
		assert_true(c->nheaders < 32);
		c->headers[c->nheaders++] = xstrdup(line);
	}
	while ((n = fread(line, 1, sizeof(line), f)) > 0)
		buf_put(&body, line, n);
	fclose(f);
	c->body_len = body.len;
	c->body = buf_detach(&body, NULL);
	if (!c->body)
		c->body = xstrdup("");
	assert_true(c->expect[0]);
	assert_true(c->ts > 0);
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	buf_put(ud, p, size * n);
	return size * n;
}

/*
 * POST headers+body to url; returns the error code or "ok" (static), and
 * the Response object in *resp when given.  Host is sent only when it is
 * not "127.0.0.1" (then curl sends "127.0.0.1:PORT").
 */
static const char *send_raw(const char *url, const struct captured *c, cJSON **resp,
			    CURLcode *rc_out)
{
	static _Thread_local char code[128]; /* the workers call it at once */
	struct curl_slist *h = NULL;
	struct buf out = BUF_INIT;
	CURL *curl = curl_easy_init();
	CURLcode rc;
	cJSON *doc, *r, *er;
	char *hosth = NULL;

	for (size_t i = 0; i < c->nheaders; i++)
		h = curl_slist_append(h, c->headers[i]);
	if (c->host[0] && strcmp(c->host, "127.0.0.1")) {
		hosth = xasprintf("Host: %s", c->host);
		h = curl_slist_append(h, hosth);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(curl);
	if (rc_out)
		*rc_out = rc;
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	free(hosth);
	if (rc != CURLE_OK) {
		buf_release(&out);
		snprintf(code, sizeof(code), "curl:%d", (int)rc);
		return code;
	}
	doc = cJSON_Parse(buf_str(&out));
	buf_release(&out);
	assert_non_null(doc);
	r = cJSON_GetObjectItem(doc, "Response");
	assert_non_null(r);
	assert_non_null(cJSON_GetObjectItem(r, "RequestId"));
	er = cJSON_GetObjectItem(r, "Error");
	snprintf(code, sizeof(code), "%s",
		 er ? cJSON_GetStringValue(cJSON_GetObjectItem(er, "Code")) : "ok");
	if (resp)
		*resp = cJSON_DetachItemFromObject(doc, "Response");
	cJSON_Delete(doc);
	return code;
}

static struct sim *start(const char *config)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct sim *s = NULL;
	struct err e = ERR_INIT;
	char *path = config ? xasprintf("%s/%s", data_dir(), config) : NULL;

	o.config_path = path;
	o.clock = fake_clock;
	o.no_rate_limits = true;
	if (sim_new(&s, &o, &e) < 0 || sim_listen(s, "127.0.0.1:0", &e) < 0)
		fail_msg("cannot start the emulator: %s", e.msg);
	free(path);
	assert_true(sim_port(s) > 0);
	return s;
}

static void test_captured_requests(void **state)
{
	char *dir = xasprintf("%s/requests", data_dir());
	struct sim *s = start("world-docs.yaml");
	DIR *d = opendir(dir);
	struct dirent *de;
	int files = 0, ok = 0;
	char *url = xasprintf("%s/", sim_url(s));

	UNUSED(state);
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct captured c;
		char *path;
		const char *got;
		size_t len = strlen(de->d_name);
		cJSON *r1 = NULL, *r2 = NULL;

		if (len < 6 || strcmp(de->d_name + len - 5, ".http"))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		load_captured(&c, path);
		set_now(c.ts * 1000 + 20000);
		got = send_raw(url, &c, &r1, NULL);
		if (strcmp(got, c.expect))
			fail_msg("%s: got %s, want %s", de->d_name, got, c.expect);
		if (!strcmp(c.expect, "ok")) {
			/* replayed: idempotent for launches with a ClientToken */
			if (cJSON_GetObjectItem(r1, "InstanceIdSet")) {
				char *a, *b;

				assert_string_equal(send_raw(url, &c, &r2, NULL), "ok");
				a = cJSON_PrintUnformatted(
					cJSON_GetObjectItem(r1, "InstanceIdSet"));
				b = cJSON_PrintUnformatted(
					cJSON_GetObjectItem(r2, "InstanceIdSet"));
				assert_string_equal(a, b);
				free(a);
				free(b);
			}
			set_now(c.ts * 1000 + 301000);
			got = send_raw(url, &c, NULL, NULL);
			if (strcmp(got, "AuthFailure.SignatureExpire"))
				fail_msg("%s 301 s later: got %s", de->d_name, got);
			ok++;
		}
		cJSON_Delete(r1);
		cJSON_Delete(r2);
		captured_free(&c);
		free(path);
		files++;
	}
	closedir(d);
	assert_true(files >= 8);
	assert_true(ok >= 4);
	free(url);
	free(dir);
	sim_free(s);
}

/* Headers of a freshly signed request (host as given, signed as sign_host). */
static void sign_fresh(struct captured *c, const char *action, const char *body,
		       const char *sent_host, const char *sign_host, int64_t ts)
{
	struct tc_header sh[2] = { { "content-type", "application/json" },
				   { "host", sign_host } };
	struct tc_sign_input in;
	struct tc_sign_output out;
	struct err e = ERR_INIT;

	memset(c, 0, sizeof(*c));
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.method = "POST";
	in.query = "";
	in.headers = sh;
	in.nheaders = 2;
	in.payload = body;
	in.payload_len = strlen(body);
	in.service = "cvm";
	in.timestamp = ts;
	in.secret_id = SIM_DEFAULT_SECRET_ID;
	in.secret_key = SIM_DEFAULT_SECRET_KEY;
	assert_int_equal(tc_sign(&out, &in, &e), 0);
	snprintf(c->expect, sizeof(c->expect), "ok");
	snprintf(c->host, sizeof(c->host), "%s", sent_host);
	c->ts = ts;
	c->headers[c->nheaders++] = xstrdup("Content-Type: application/json");
	c->headers[c->nheaders++] = xasprintf("X-TC-Action: %s", action);
	c->headers[c->nheaders++] = xstrdup("X-TC-Version: 2017-03-12");
	c->headers[c->nheaders++] = xasprintf("X-TC-Timestamp: %" PRId64, ts);
	c->headers[c->nheaders++] = xstrdup("X-TC-Region: ap-guangzhou");
	c->headers[c->nheaders++] = xstrdup("X-TC-RequestClient: SDK_GO_1.3.166");
	c->headers[c->nheaders++] =
		xasprintf("Authorization: %s", buf_str(&out.authorization));
	c->body = xstrdup(body);
	c->body_len = strlen(body);
	tc_sign_output_clear(&out);
}

struct worker {
	const char *url;
	int64_t ts;
	int ok;
};

static void *describe_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 10; i++) {
		struct captured c;
		char hostport[64];

		snprintf(hostport, sizeof(hostport), "%s", w->url + strlen("http://"));
		hostport[strcspn(hostport, "/")] = '\0';
		sign_fresh(&c, "DescribeInstances", "{\"Limit\":100}", "127.0.0.1",
			   hostport, w->ts);
		if (!strcmp(send_raw(w->url, &c, NULL, NULL), "ok"))
			w->ok++;
		captured_free(&c);
	}
	return NULL;
}

static void test_http_paths(void **state)
{
	struct sim *s;
	struct captured c;
	char *url, hostport[64];
	int64_t now = 1764000000;
	cJSON *r = NULL;
	CURLcode rc;
	struct worker w[8];
	pthread_t th[8];
	const char *run =
		"{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":\"ap-guangzhou-3\"},"
		"\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":\"S5.MEDIUM4\",\"InstanceCount\":2,"
		"\"ClientToken\":\"drop-1\"}";

	UNUSED(state);
	set_now(now * 1000);
	s = start(NULL);
	url = xasprintf("%s/", sim_url(s));
	snprintf(hostport, sizeof(hostport), "127.0.0.1:%d", sim_port(s));

	/* host signed with the port, as spotenv does */
	sign_fresh(&c, "DescribeInstances", "{}", "127.0.0.1", hostport, now);
	assert_string_equal(send_raw(url, &c, NULL, NULL), "ok");
	captured_free(&c);
	/* host signed without the port, as the SDKs do */
	sign_fresh(&c, "DescribeInstances", "{}", "127.0.0.1", "127.0.0.1", now);
	assert_string_equal(send_raw(url, &c, NULL, NULL), "ok");
	captured_free(&c);
	/* a different host is not accepted */
	sign_fresh(&c, "DescribeInstances", "{}", "127.0.0.1", "example.com", now);
	assert_string_equal(send_raw(url, &c, NULL, NULL),
			    "AuthFailure.SignatureFailure");
	captured_free(&c);

	/* several requests in flight at once */
	for (int i = 0; i < 8; i++) {
		w[i].url = url;
		w[i].ts = now;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&th[i], NULL, describe_worker, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok, 10);
	}

	/* drop after commit: no answer, but the launch happened; the retry gets the same
	 * ids */
	{
		int st;
		struct sim_request req;
		struct sim_response resp = SIM_RESPONSE_INIT;
		const char *faults = "{\"dropAfterCommitRate\":1}";

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = "/_sim/faults";
		req.query = "";
		req.body = faults;
		req.body_len = strlen(faults);
		sim_handle(s, &req, &resp);
		st = resp.status;
		sim_response_clear(&resp);
		assert_int_equal(st, 200);
	}
	sign_fresh(&c, "RunInstances", run, "127.0.0.1", hostport, now);
	send_raw(url, &c, NULL, &rc);
	assert_int_not_equal(rc, CURLE_OK);
	assert_int_equal(sim_instance_count(s), 2);
	{
		struct sim_request req;
		struct sim_response resp = SIM_RESPONSE_INIT;
		const char *faults = "{\"dropAfterCommitRate\":0}";

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = "/_sim/faults";
		req.query = "";
		req.body = faults;
		req.body_len = strlen(faults);
		sim_handle(s, &req, &resp);
		sim_response_clear(&resp);
	}
	assert_string_equal(send_raw(url, &c, &r, NULL), "ok");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "InstanceIdSet")), 2);
	assert_int_equal(sim_instance_count(s), 2);
	cJSON_Delete(r);
	captured_free(&c);

	free(url);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured_requests),
		cmocka_unit_test(test_http_paths),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
