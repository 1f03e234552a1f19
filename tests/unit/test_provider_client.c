/*
 * Unit tests for provider/client.c and provider/actions.c against a small
 * loopback HTTP/1.1 responder that lives in this file: one thread per
 * connection on 127.0.0.1:0, scripted by a handler per test (canned
 * bodies, HTTP statuses, delays, connection resets, truncated bodies).
 * Every request it receives is checked with tc_verify and recorded.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <cjson/cJSON.h>
#include "../../provider/tc.h"

#define SECRET_ID "AKIDtest0000000000000000000000000000"
#define SECRET_KEY "test-secret-key-do-not-leak-0123"
#define TOKEN "session-token-do-not-leak-4567"
#define MAX_REQS 512
#define MAX_CONNS 128

/* ---------------------------------------------------------------------
 * The responder.
 */

enum reply_kind { REPLY_OK, REPLY_RESET, REPLY_TRUNCATE };

struct reply {
	enum reply_kind kind;
	int status;   /* 200 when 0 */
	char *body;   /* owned */
	int delay_ms; /* before answering */
};

struct rq {
	char *action;
	char *region;
	char *token;
	char *auth;
	char *lang;
	char *body;
	char *names; /* header names, ";"-joined, lower case, in order */
	bool verified;
	char verify_code[64];
};

struct srv;
typedef void (*handler_fn)(struct srv *s, const struct rq *r, int n, struct reply *out);

struct srv {
	int lfd;
	int port;
	pthread_t acceptor;
	pthread_mutex_t mu;
	handler_fn handler;
	void *ctx;
	struct rq reqs[MAX_REQS];
	int nreqs;
	int fds[MAX_CONNS];
	pthread_t threads[MAX_CONNS];
	int nconns;
	int inflight, max_inflight;
	bool stop;
	char url[64];
};

struct conn_arg {
	struct srv *s;
	int idx;
};

static const char *lookup(void *ctx, const char *id)
{
	(void)ctx;
	return !strcmp(id, SECRET_ID) ? SECRET_KEY : NULL;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Split a header block in place into name/value pairs (the request line
 * is skipped).
 */
static size_t split_headers(char *block, struct tc_header *h, size_t max)
{
	size_t n = 0;
	char *save = NULL, *line;

	line = strtok_r(block, "\r\n", &save);
	while ((line = strtok_r(NULL, "\r\n", &save)) && n < max) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ')
			v++;
		h[n].name = line;
		h[n].value = v;
		n++;
	}
	return n;
}

/* Read one request into *block (headers) and r->body; false at EOF. */
static bool read_request(int fd, struct buf *in, struct rq *r, char **block)
{
	struct tc_header h[32];
	char chunk[4096], *end, *copy;
	size_t hlen, clen = 0, nh;
	ssize_t got;

	while (!(end = in->ptr ? strstr(in->ptr, "\r\n\r\n") : NULL)) {
		got = recv(fd, chunk, sizeof(chunk), 0);
		if (got <= 0)
			return false;
		buf_put(in, chunk, (size_t)got);
	}
	hlen = (size_t)(end - in->ptr) + 4;
	*block = xstrndup(in->ptr, hlen - 4);
	copy = xstrdup(*block);
	nh = split_headers(copy, h, 32);
	r->names = xstrdup("");
	for (size_t i = 0; i < nh; i++) {
		char *names = xasprintf("%s%s%s", r->names, i ? ";" : "", h[i].name);

		for (char *p = names; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		free(r->names);
		r->names = names;
		if (!strcasecmp(h[i].name, "content-length"))
			clen = (size_t)strtoul(h[i].value, NULL, 10);
	}
	free(copy);
	while (in->len < hlen + clen) {
		got = recv(fd, chunk, sizeof(chunk), 0);
		if (got <= 0)
			return false;
		buf_put(in, chunk, (size_t)got);
	}
	r->body = xstrndup(in->ptr + hlen, clen);
	memmove(in->ptr, in->ptr + hlen + clen, in->len - hlen - clen);
	in->len -= hlen + clen;
	in->ptr[in->len] = '\0';
	return true;
}

static const char *hget(const struct tc_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(h[i].name, name))
			return h[i].value;
	return NULL;
}

static void *conn_main(void *arg)
{
	struct conn_arg *ca = arg;
	struct srv *s = ca->s;
	int fd = s->fds[ca->idx];
	struct buf in = BUF_INIT;

	for (;;) {
		struct tc_header h[32];
		struct rq r;
		struct reply rep;
		struct err e = ERR_INIT;
		char *block = NULL, *block2;
		size_t nh = 0;
		int n;

		memset(&r, 0, sizeof(r));
		memset(&rep, 0, sizeof(rep));
		if (!read_request(fd, &in, &r, &block)) {
			free(r.names);
			free(r.body);
			free(block);
			break;
		}
		block2 = xstrdup(block);
		nh = split_headers(block2, h, 32);
		r.verified = tc_verify("POST", "", h, nh, r.body, strlen(r.body), "cvm",
				       (int64_t)time(NULL), lookup, NULL, &e) == 0;
		if (e.api_code)
			snprintf(r.verify_code, sizeof(r.verify_code), "%s", e.api_code);
		err_clear(&e);
		r.action = hget(h, nh, "X-TC-Action")
				   ? xstrdup(hget(h, nh, "X-TC-Action"))
				   : NULL;
		r.region = hget(h, nh, "X-TC-Region")
				   ? xstrdup(hget(h, nh, "X-TC-Region"))
				   : NULL;
		r.token = hget(h, nh, "X-TC-Token") ? xstrdup(hget(h, nh, "X-TC-Token"))
						    : NULL;
		r.auth = hget(h, nh, "Authorization")
				 ? xstrdup(hget(h, nh, "Authorization"))
				 : NULL;
		r.lang = hget(h, nh, "X-TC-Language")
				 ? xstrdup(hget(h, nh, "X-TC-Language"))
				 : NULL;
		free(block);
		free(block2);

		pthread_mutex_lock(&s->mu);
		n = s->nreqs;
		if (n < MAX_REQS) {
			s->reqs[n] = r;
			s->nreqs++;
		}
		s->inflight++;
		if (s->inflight > s->max_inflight)
			s->max_inflight = s->inflight;
		s->handler(s, &s->reqs[n < MAX_REQS ? n : 0], n, &rep);
		pthread_mutex_unlock(&s->mu);

		if (rep.delay_ms)
			usleep((useconds_t)rep.delay_ms * 1000);
		pthread_mutex_lock(&s->mu);
		s->inflight--;
		pthread_mutex_unlock(&s->mu);
		if (rep.kind == REPLY_RESET) {
			struct linger lg = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			free(rep.body);
			break;
		} else {
			const char *body = rep.body ? rep.body : "";
			size_t blen = strlen(body);
			char *head = xasprintf(
				"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
				"Content-Length: %zu\r\n\r\n",
				rep.status ? rep.status : 200, blen);

			send_all(fd, head, strlen(head));
			free(head);
			if (rep.kind == REPLY_TRUNCATE) {
				send_all(fd, body, blen / 2);
				free(rep.body);
				break;
			}
			send_all(fd, body, blen);
			free(rep.body);
		}
	}
	buf_release(&in);
	pthread_mutex_lock(&s->mu);
	close(fd);
	s->fds[ca->idx] = -1;
	pthread_mutex_unlock(&s->mu);
	free(ca);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		struct conn_arg *ca;

		if (fd < 0) {
			if (s->stop)
				break;
			if (errno == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&s->mu);
		if (s->stop || s->nconns == MAX_CONNS) {
			pthread_mutex_unlock(&s->mu);
			close(fd);
			continue;
		}
		ca = xmalloc(sizeof(*ca));
		ca->s = s;
		ca->idx = s->nconns;
		s->fds[s->nconns] = fd;
		pthread_create(&s->threads[s->nconns], NULL, conn_main, ca);
		s->nconns++;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static struct srv *srv_start(handler_fn handler, void *ctx)
{
	struct srv *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	pthread_mutex_init(&s->mu, NULL);
	s->handler = handler;
	s->ctx = ctx;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	getsockname(s->lfd, (struct sockaddr *)&a, &alen);
	s->port = ntohs(a.sin_port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	pthread_create(&s->acceptor, NULL, accept_main, s);
	return s;
}

static void srv_stop(struct srv *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->nconns; i++)
		if (s->fds[i] >= 0)
			shutdown(s->fds[i], SHUT_RDWR);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; i < s->nconns; i++)
		pthread_join(s->threads[i], NULL);
	for (int i = 0; i < s->nreqs; i++) {
		free(s->reqs[i].action);
		free(s->reqs[i].region);
		free(s->reqs[i].token);
		free(s->reqs[i].auth);
		free(s->reqs[i].lang);
		free(s->reqs[i].body);
		free(s->reqs[i].names);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void reply_json(struct reply *out, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void reply_json(struct reply *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out->body = xvasprintf(fmt, ap);
	va_end(ap);
}

static void reply_error(struct reply *out, const char *code, int n)
{
	reply_json(
		out,
		"{\"Response\":{\"Error\":{\"Code\":\"%s\",\"Message\":\"message for %s\"},"
		"\"RequestId\":\"req-%d\"}}",
		code, code, n);
}

/* ---------------------------------------------------------------------
 * Client helpers.
 */

struct logs {
	char *lines[256];
	int n;
};

static void log_cb(void *ctx, const char *line)
{
	struct logs *l = ctx;

	if (l->n < 256)
		l->lines[l->n++] = xstrdup(line);
}

static void logs_free(struct logs *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->lines[i]);
	l->n = 0;
}

static struct tc_client *client(struct srv *s, struct tc_client_opts *o, bool token)
{
	struct tc_cred cred = { .secret_id = (char *)SECRET_ID,
				.secret_key = (char *)SECRET_KEY,
				.token = token ? (char *)TOKEN : NULL,
				.source = (char *)"test" };
	struct tc_client_opts def;
	struct tc_client *c = NULL;
	struct err e = ERR_INIT;

	if (!o) {
		memset(&def, 0, sizeof(def));
		o = &def;
	}
	if (!o->endpoint && s)
		o->endpoint = s->url;
	if (!o->backoff_base_ms)
		o->backoff_base_ms = 5;
	if (!o->backoff_cap_ms)
		o->backoff_cap_ms = 20;
	if (!o->timeout_ms)
		o->timeout_ms = 3000;
	if (!o->throttle_wait_ms)
		o->throttle_wait_ms = 10;
	assert_int_equal(tc_client_new(&c, &cred, o, &e), 0);
	return c;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void call_init(struct tc_call *c, const char *action, const char *region,
		      const char *body)
{
	memset(c, 0, sizeof(*c));
	c->action = action;
	c->region = region;
	c->body = xstrdup(body);
}

static void call_free(struct tc_call *c)
{
	free(c->body);
	cJSON_Delete(c->response);
	err_clear(&c->err);
}

/* ---------------------------------------------------------------------
 * Tests.
 */

static void h_simple(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_json(
		out,
		"{\"Response\":{\"TotalCount\":0,\"InstanceSet\":[],\"RequestId\":\"req-%d\"}}",
		n);
}

static void test_headers_and_signature(void **state)
{
	struct srv *s = srv_start(h_simple, NULL);
	struct tc_client *c = client(s, NULL, true);
	struct tc_call call;
	static const char body[] =
		"{\"Limit\": 1, \"Filters\": [{\"Values\": [\"\\u672a\"], \"Name\": \"instance-name\"}]}";
	char host[64];

	(void)state;
	call_init(&call, "DescribeInstances", "ap-guangzhou", body);
	assert_int_equal(tc_call_one(c, &call), 0);
	assert_non_null(call.response);
	assert_int_equal(call.attempts, 1);
	assert_int_equal(s->nreqs, 1);
	assert_true(s->reqs[0].verified);
	/* exactly these headers, nothing added by curl (no Expect, no Accept) */
	assert_string_equal(
		s->reqs[0].names,
		"host;authorization;content-type;x-tc-action;x-tc-version;x-tc-region;"
		"x-tc-timestamp;x-tc-token;x-tc-language;x-tc-requestclient;content-length");
	/* API messages in English; the header is sent, not signed */
	assert_string_equal(s->reqs[0].lang, "en-US");
	assert_string_equal(s->reqs[0].body,
			    body); /* the bytes signed are the bytes sent */
	assert_string_equal(s->reqs[0].action, "DescribeInstances");
	assert_string_equal(s->reqs[0].region, "ap-guangzhou");
	assert_string_equal(s->reqs[0].token, TOKEN);
	assert_non_null(strstr(s->reqs[0].auth, "Credential=" SECRET_ID "/"));
	assert_non_null(strstr(
		s->reqs[0].auth,
		"/cvm/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="));
	snprintf(host, sizeof(host), "127.0.0.1:%d", s->port);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void test_endpoints(void **state)
{
	static const char *ok[] = {
		"https://cvm.tencentcloudapi.com",
		"https://cvm.ap-guangzhou.tencentcloudapi.com/",
		"http://127.0.0.1:8080",
		"http://localhost:1",
		"http://[::1]:9000",
		"http://127.3.2.1",
		"HTTPS://CVM.TENCENTCLOUDAPI.COM",
	};
	static const char *bad[] = {
		"http://cvm.tencentcloudapi.com",
		"http://10.0.0.1:80",
		"ftp://127.0.0.1",
		"cvm.tencentcloudapi.com",
		"https://",
		"https://a/path",
		"https://u@host",
		"http://128.0.0.1",
		"https://host:99x",
		"http://[::2]:80",
		"https://h?x=1",
	};
	struct tc_cred cred = { .secret_id = (char *)"id", .secret_key = (char *)"key" };
	struct tc_client_opts o;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct tc_client *c = NULL;
		struct err e = ERR_INIT;

		memset(&o, 0, sizeof(o));
		o.endpoint = ok[i];
		if (tc_client_new(&c, &cred, &o, &e) != 0)
			fail_msg("endpoint '%s' refused: %s", ok[i], e.msg);
		tc_client_free(c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct tc_client *c = NULL;
		struct err e = ERR_INIT;

		memset(&o, 0, sizeof(o));
		o.endpoint = bad[i];
		if (tc_client_new(&c, &cred, &o, &e) != ERR_INVALID)
			fail_msg("endpoint '%s' accepted", bad[i]);
		assert_null(c);
		err_clear(&e);
	}
	/* SPOTENV_ENDPOINT applies when opts has none */
	{
		struct tc_client *c = NULL;
		struct err e = ERR_INIT;

		memset(&o, 0, sizeof(o));
		setenv("SPOTENV_ENDPOINT", "http://example.com", 1);
		assert_int_equal(tc_client_new(&c, &cred, &o, &e), ERR_INVALID);
		assert_non_null(strstr(e.msg, "http://example.com"));
		err_clear(&e);
		unsetenv("SPOTENV_ENDPOINT");
		/* missing credentials */
		cred.secret_key = NULL;
		assert_int_equal(tc_client_new(&c, &cred, &o, &e), ERR_AUTH);
		err_clear(&e);
	}
}

/* DescribeInstances paging: TotalCount 250, 100 a page, one duplicate. */
static void h_pages(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	int off = cJSON_GetObjectItem(req, "Offset")->valueint;
	int lim = cJSON_GetObjectItem(req, "Limit")->valueint;
	struct buf b = BUF_INIT;

	(void)s;
	buf_printf(&b, "{\"Response\":{\"TotalCount\":250,\"InstanceSet\":[");
	for (int i = off; i < off + lim && i < 250; i++) {
		/* the last page repeats ins-0 instead of ins-249 */
		int id = i == 249 ? 0 : i;

		buf_printf(&b,
			   "%s{\"InstanceId\":\"ins-%d\",\"InstanceState\":\"RUNNING\","
			   "\"Tags\":[{\"Key\":\"spotenv:env\",\"Value\":\"web\"}]}",
			   i > off ? "," : "", id);
	}
	buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
	out->body = buf_detach(&b, NULL);
	if (off > 0)
		out->delay_ms = 150; /* let the later pages overlap */
	cJSON_Delete(req);
}

static void test_paging_concurrent(void **state)
{
	struct srv *s = srv_start(h_pages, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	const char *vals[] = { "web" };
	struct tc_filter f = { "tag:spotenv:env", vals, 1 };
	struct err e = ERR_INIT;
	struct tc_client_stats st;
	int offsets = 0;

	(void)state;
	assert_int_equal(tc_describe_instances(c, "ap-guangzhou", &f, 1, NULL, 0, &l, &e),
			 0);
	/*
	 * 249 unique ids for a TotalCount of 250: the listing may have missed
	 * one, so it is read again, 3 reads in all (it never settles here)
	 */
	assert_int_equal(s->nreqs, 9);
	assert_int_equal(l.n, 249); /* de-duplicated */
	for (size_t i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].region, "ap-guangzhou");
		assert_string_equal(tc_instance_tag(&l.v[i], "spotenv:env"), "web");
		for (size_t k = i + 1; k < l.n; k++)
			assert_string_not_equal(l.v[i].id, l.v[k].id);
	}
	assert_true(s->max_inflight >= 2); /* pages 2 and 3 were concurrent */
	for (int i = 0; i < s->nreqs; i++) {
		cJSON *b = cJSON_Parse(s->reqs[i].body);

		assert_true(s->reqs[i].verified);
		assert_int_equal(cJSON_GetObjectItem(b, "Limit")->valueint, 100);
		offsets += cJSON_GetObjectItem(b, "Offset")->valueint;
		assert_string_equal(
			cJSON_GetObjectItem(
				cJSON_GetArrayItem(cJSON_GetObjectItem(b, "Filters"), 0),
				"Name")
				->valuestring,
			"tag:spotenv:env");
		cJSON_Delete(b);
	}
	assert_int_equal(offsets, 3 * (0 + 100 + 200));
	tc_client_stats(c, &st);
	assert_int_equal(st.calls, 9);
	assert_int_equal(st.retries, 0);
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

/* *(int *)s->ctx instances, 100 a page, each answer 50 ms late. */
static void h_count(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	int off = cJSON_GetObjectItem(req, "Offset")->valueint;
	int total = *(int *)s->ctx;
	struct buf b = BUF_INIT;

	buf_printf(&b, "{\"Response\":{\"TotalCount\":%d,\"InstanceSet\":[", total);
	for (int i = off; i < off + 100 && i < total; i++)
		buf_printf(
			&b,
			"%s{\"InstanceId\":\"ins-%04d\",\"InstanceState\":\"RUNNING\"}",
			i > off ? "," : "", i);
	buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
	out->body = buf_detach(&b, NULL);
	out->delay_ms = 50;
	cJSON_Delete(req);
}

/* One listing of `total` instances expecting `expect`; the requests made. */
static int list_expecting(int total, int64_t expect, size_t *found, bool *inconsistent,
			  int *max_inflight)
{
	struct srv *s = srv_start(h_count, &total);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	const char *key = "spotenv:env";
	struct tc_filter f = { "tag-key", &key, 1 };
	struct tc_region_obs r;
	struct err e = ERR_INIT;
	int nreqs;

	memset(&r, 0, sizeof(r));
	r.region = "ap-guangzhou";
	r.filters = &f;
	r.nfilters = 1;
	r.instances = &l;
	r.expect = expect;
	assert_int_equal(tc_observe_regions(c, &r, 1, &e), 0);
	assert_int_equal(r.reads, 1);
	*found = l.n;
	*inconsistent = r.inconsistent;
	for (size_t i = 0; i < l.n; i++)
		assert_int_equal(strtol(l.v[i].id + 4, NULL, 10), (long)i);
	nreqs = s->nreqs;
	*max_inflight = s->max_inflight;
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
	return nreqs;
}

/*
 * A listing expected to be big sends pages ahead with the first one (as
 * many as 9/10 of the expectation fills, 39 at most): the minimum number
 * of calls when it holds what was expected, a few empty pages more when
 * it holds less, and the same listing either way.
 */
static void test_paging_speculative(void **state)
{
	size_t found;
	bool inc;
	int inflight, n;

	(void)state;
	/* 1,000 expected and there: pages 0-800 at once, then 900 */
	assert_int_equal(list_expecting(1000, 1000, &found, &inc, &inflight), 10);
	assert_int_equal(found, 1000);
	assert_false(inc);
	assert_true(inflight >= 9);
	/* 1,050 there: the minimum, 11 */
	assert_int_equal(list_expecting(1050, 1000, &found, &inc, &inflight), 11);
	assert_int_equal(found, 1050);
	assert_false(inc);
	/* fewer than expected: the pages beyond the end come back empty */
	assert_int_equal(list_expecting(450, 1000, &found, &inc, &inflight), 9);
	assert_int_equal(found, 450);
	assert_false(inc);
	assert_int_equal(list_expecting(0, 1000, &found, &inc, &inflight), 9);
	assert_int_equal(found, 0);
	assert_false(inc);
	/* small or unknown expectations send the first page alone */
	assert_int_equal(list_expecting(450, 150, &found, &inc, &inflight), 5);
	assert_int_equal(found, 450);
	assert_int_equal(list_expecting(450, 0, &found, &inc, &inflight), 5);
	assert_int_equal(found, 450);
	/*
	 * a huge expectation: 39 pages ahead at most, and an empty page
	 * cancels those not sent yet (16 go at once)
	 */
	n = list_expecting(100, 1000000, &found, &inc, &inflight);
	assert_true(n >= 2 && n <= 40);
	assert_int_equal(found, 100);
	assert_false(inc);
}

/*
 * 250 instances, and the 20 oldest vanish after the first page was read:
 * the later pages shift by 20 (offset paging), so a single read misses 20
 * that exist.  The second read is whole; the merge keeps every id.
 */
static void h_vanish(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	int off = cJSON_GetObjectItem(req, "Offset")->valueint;
	/* requests 1-3 are the first read: 250 then 230 */
	int gone = n > 1 ? 20 : 0, total = 250 - gone;
	struct buf b = BUF_INIT;

	(void)s;
	buf_printf(&b, "{\"Response\":{\"TotalCount\":%d,\"InstanceSet\":[", total);
	for (int i = off; i < off + 100 && i < total; i++)
		buf_printf(
			&b,
			"%s{\"InstanceId\":\"ins-%03d\",\"InstanceState\":\"RUNNING\"}",
			i > off ? "," : "", i + gone);
	buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
	out->body = buf_detach(&b, NULL);
	cJSON_Delete(req);
}

static void test_paging_vanishing(void **state)
{
	struct srv *s = srv_start(h_vanish, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	const char *key = "spotenv:env";
	struct tc_filter f = { "tag-key", &key, 1 };
	struct tc_region_obs r;
	struct err e = ERR_INIT;
	bool seen[250] = { false };

	(void)state;
	memset(&r, 0, sizeof(r));
	r.region = "ap-guangzhou";
	r.filters = &f;
	r.nfilters = 1;
	r.instances = &l;
	assert_int_equal(tc_observe_regions(c, &r, 1, &e), 0);
	/* the first read's TotalCount moved: read again; the second is whole */
	assert_int_equal(r.reads, 2);
	assert_false(r.inconsistent);
	assert_int_equal(s->nreqs, 3 + 3);
	/* nothing that exists is missing: 20..249, and the 20 seen earlier kept */
	for (size_t i = 0; i < l.n; i++)
		seen[strtol(l.v[i].id + 4, NULL, 10)] = true;
	for (int i = 20; i < 250; i++)
		assert_true(seen[i]);
	assert_int_equal(l.n, 250);
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

/* A TotalCount of 5,000,000 over empty pages: paging stops at once. */
static void h_lying_total(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	int off = cJSON_GetObjectItem(req, "Offset")->valueint;

	(void)s;
	if (off == 0)
		reply_json(
			out,
			"{\"Response\":{\"TotalCount\":5000000,\"InstanceSet\":["
			"{\"InstanceId\":\"ins-00000001\",\"InstanceState\":\"RUNNING\"}],"
			"\"RequestId\":\"req-%d\"}}",
			n);
	else
		reply_json(out,
			   "{\"Response\":{\"TotalCount\":5000000,\"InstanceSet\":[],"
			   "\"RequestId\":\"req-%d\"}}",
			   n);
	cJSON_Delete(req);
}

static void test_paging_lying_total(void **state)
{
	struct srv *s = srv_start(h_lying_total, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	const char *key = "spotenv:env";
	struct tc_filter f = { "tag-key", &key, 1 };
	struct tc_region_obs r;
	struct err e = ERR_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.region = "ap-guangzhou";
	r.filters = &f;
	r.nfilters = 1;
	r.instances = &l;
	assert_int_equal(tc_observe_regions(c, &r, 1, &e), 0);
	/* a short first page ends each read: 3 reads of one request each */
	assert_int_equal(s->nreqs, 3);
	assert_true(r.inconsistent);
	assert_int_equal(l.n, 1);
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

/* Two regions at once: 250 instances in Guangzhou, 120 in Shanghai, offers. */
static void h_regions(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	struct buf b = BUF_INIT;
	bool gz = r->region && !strcmp(r->region, "ap-guangzhou");

	(void)s;
	if (!strcmp(r->action, "DescribeZoneInstanceConfigInfos")) {
		buf_printf(
			&b,
			"{\"Response\":{\"InstanceTypeQuotaSet\":[{\"Zone\":\"%s-3\","
			"\"InstanceType\":\"S5.MEDIUM4\",\"InstanceChargeType\":\"SPOTPAID\","
			"\"Status\":\"SELL\",\"Price\":{\"UnitPriceDiscount\":%s}}],"
			"\"RequestId\":\"req-%d\"}}",
			r->region, gz ? "0.11" : "0.13", n);
		out->delay_ms = 100;
	} else {
		int total = gz ? 250 : 120;
		int off = cJSON_GetObjectItem(req, "Offset")->valueint;

		buf_printf(&b, "{\"Response\":{\"TotalCount\":%d,\"InstanceSet\":[",
			   total);
		for (int i = off; i < off + 100 && i < total; i++)
			buf_printf(
				&b,
				"%s{\"InstanceId\":\"ins-%s%d\",\"InstanceState\":\"RUNNING\"}",
				i > off ? "," : "", gz ? "g" : "s", i);
		buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
		if (off == 0)
			out->delay_ms = 100; /* the first round overlaps */
	}
	out->body = buf_detach(&b, NULL);
	cJSON_Delete(req);
}

static void test_observe_regions(void **state)
{
	struct srv *s = srv_start(h_regions, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list gz = { NULL, 0, 0 }, sh = { NULL, 0, 0 };
	struct tc_offer_list ogz = { NULL, 0, 0 }, osh = { NULL, 0, 0 };
	const char *key = "spotenv:env", *zones[] = { "ap-guangzhou-3" },
		   *types[] = { "S5.MEDIUM4" };
	struct tc_filter f = { "tag-key", &key, 1 };
	struct tc_region_obs r[2];
	struct err e = ERR_INIT;
	int first_round = 0;

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].region = "ap-guangzhou";
	r[1].region = "ap-shanghai";
	for (int i = 0; i < 2; i++) {
		r[i].filters = &f;
		r[i].nfilters = 1;
		r[i].zones = zones;
		r[i].nzones = 1;
		r[i].types = types;
		r[i].ntypes = 1;
	}
	r[0].instances = &gz;
	r[0].offers = &ogz;
	r[1].instances = &sh;
	r[1].offers = &osh;
	assert_int_equal(tc_observe_regions(c, r, 2, &e), 0);
	/* the minimum: 3 + 2 pages and one offers call per region */
	assert_int_equal(s->nreqs, 7);
	assert_int_equal(gz.n, 250);
	assert_int_equal(sh.n, 120);
	assert_string_equal(gz.v[0].region, "ap-guangzhou");
	assert_string_equal(sh.v[0].region, "ap-shanghai");
	assert_int_equal(ogz.n, 1);
	assert_int_equal(osh.n, 1);
	assert_string_equal(ogz.v[0].price, "0.11");
	assert_string_equal(osh.v[0].price, "0.13");
	/* round one: both first pages and both offers, together */
	assert_true(s->max_inflight >= 4);
	for (int i = 0; i < 4; i++) {
		cJSON *b = cJSON_Parse(s->reqs[i].body);
		const cJSON *off = cJSON_GetObjectItem(b, "Offset");

		if (!strcmp(s->reqs[i].action, "DescribeZoneInstanceConfigInfos") ||
		    (off && off->valueint == 0))
			first_round++;
		cJSON_Delete(b);
	}
	assert_int_equal(first_round, 4);
	tc_instance_list_clear(&gz);
	tc_instance_list_clear(&sh);
	tc_offer_list_clear(&ogz);
	tc_offer_list_clear(&osh);
	tc_client_free(c);
	srv_stop(s);
}

/* Instance ids: chunks of 100, no filters. */
static void h_ids(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body), *ids = cJSON_GetObjectItem(req, "InstanceIds"),
	      *id;
	struct buf b = BUF_INIT;
	bool first = true;

	(void)s;
	buf_printf(&b, "{\"Response\":{\"TotalCount\":%d,\"InstanceSet\":[",
		   cJSON_GetArraySize(ids));
	cJSON_ArrayForEach (id, ids) {
		buf_printf(&b, "%s{\"InstanceId\":\"%s\"}", first ? "" : ",",
			   id->valuestring);
		first = false;
	}
	buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
	out->body = buf_detach(&b, NULL);
	cJSON_Delete(req);
}

static void test_describe_ids(void **state)
{
	struct srv *s = srv_start(h_ids, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	char *ids[150];
	const char *vals[] = { "x" };
	struct tc_filter f = { "zone", vals, 1 };

	(void)state;
	for (int i = 0; i < 150; i++)
		ids[i] = xasprintf("ins-%03d", i);
	assert_int_equal(tc_describe_instances(c, "ap-shanghai", NULL, 0,
					       (const char *const *)ids, 150, &l, &e),
			 0);
	assert_int_equal(s->nreqs, 2);
	assert_int_equal(l.n, 150);
	for (int i = 0; i < s->nreqs; i++)
		assert_null(strstr(s->reqs[i].body, "Filters"));
	/* ids and filters together are refused without a call */
	assert_int_equal(tc_describe_instances(c, "ap-shanghai", &f, 1,
					       (const char *const *)ids, 1, &l, &e),
			 ERR_INVALID);
	err_clear(&e);
	assert_int_equal(s->nreqs, 2);
	for (int i = 0; i < 150; i++)
		free(ids[i]);
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

/* RunInstances: the connection is reset, then HTTP 502, then success. */
static void h_run_flaky(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	if (n == 0)
		out->kind = REPLY_RESET;
	else if (n == 1)
		out->status = 502, reply_json(out, "bad gateway");
	else
		reply_json(
			out,
			"{\"Response\":{\"InstanceIdSet\":[\"ins-a\",\"ins-b\"],\"RequestId\":\"req-%d\"}}",
			n);
}

static void test_run_retry_same_token(void **state)
{
	struct srv *s = srv_start(h_run_flaky, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_run_request req = {
		.region = "ap-guangzhou",
		.zone = "ap-guangzhou-6",
		.instance_type = "S5.LARGE8",
		.image = "img-1",
		.count = 2,
		.max_price = "0.60",
		.client_token = "spotenv-web-0-abc",
	};
	struct tc_client_stats st;
	struct err e = ERR_INIT;
	char **ids = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "ins-a");
	assert_string_equal(ids[1], "ins-b");
	assert_int_equal(s->nreqs, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(s->reqs[i].verified);
		assert_string_equal(s->reqs[i].action, "RunInstances");
		/* byte-identical bodies, so the same ClientToken */
		assert_string_equal(s->reqs[i].body, s->reqs[0].body);
		/* every attempt asks for English messages */
		assert_string_equal(s->reqs[i].lang, "en-US");
	}
	assert_non_null(strstr(s->reqs[0].body, "\"ClientToken\":\"spotenv-web-0-abc\""));
	assert_non_null(strstr(s->reqs[0].body, "\"MaxPrice\":\"0.60\""));
	tc_client_stats(c, &st);
	assert_int_equal(st.calls, 3);
	assert_int_equal(st.retries, 2);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	tc_client_free(c);
	srv_stop(s);
}

static void h_dry_run(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_error(out, "DryRunOperation", n);
}

static void test_run_dry_run_and_checks(void **state)
{
	struct srv *s = srv_start(h_dry_run, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_run_request req = {
		.region = "ap-guangzhou",
		.zone = "ap-guangzhou-6",
		.instance_type = "S5.LARGE8",
		.image = "img-1",
		.count = 1,
		.max_price = "0.60",
		.client_token = "t",
		.dry_run = true,
	};
	struct err e = ERR_INIT;
	char **ids = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), 0);
	assert_null(ids);
	assert_int_equal(n, 0);
	assert_int_equal(s->nreqs, 1);
	assert_non_null(strstr(s->reqs[0].body, "\"DryRun\":true"));
	/* refused before any call */
	req.count = 101;
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_INVALID);
	err_clear(&e);
	req.count = 1;
	req.client_token =
		"0123456789012345678901234567890123456789012345678901234567890123x";
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_INVALID);
	err_clear(&e);
	req.client_token = "t";
	req.max_price = "0,6";
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(s->nreqs, 1);
	/* without DryRun, DryRunOperation is an error */
	req.max_price = "0.6";
	req.dry_run = false;
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_API);
	assert_string_equal(e.api_code, "DryRunOperation");
	err_clear(&e);
	tc_client_free(c);
	srv_stop(s);
}

/*
 * What the RunInstances page documents for a dry run that passes: an
 * answer with only a RequestId.  Then one that (oddly) carries ids, then
 * a dry run that fails for capacity.
 */
static void h_dry_run_plain(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	if (n == 0)
		reply_json(out, "{\"Response\":{\"RequestId\":\"req-%d\"}}", n);
	else if (n == 1)
		reply_json(
			out,
			"{\"Response\":{\"InstanceIdSet\":[\"ins-x\"],\"RequestId\":\"req-%d\"}}",
			n);
	else if (n == 2)
		reply_error(out, "ResourcesSoldOut.SpecifiedInstanceType", n);
	else
		reply_json(out, "{\"Response\":{\"RequestId\":\"req-%d\"}}", n);
}

static void test_run_dry_run_request_id_only(void **state)
{
	struct srv *s = srv_start(h_dry_run_plain, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_run_request req = {
		.region = "ap-guangzhou",
		.zone = "ap-guangzhou-6",
		.instance_type = "S5.LARGE8",
		.image = "img-1",
		.count = 2,
		.max_price = "0.60",
		.dry_run = true,
	};
	struct err e = ERR_INIT;
	char **ids = NULL;
	size_t n = 7;

	(void)state;
	/* only a RequestId: success, no ids */
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), 0);
	assert_false(err_isset(&e));
	assert_null(ids);
	assert_int_equal(n, 0);
	assert_non_null(strstr(s->reqs[0].body, "\"DryRun\":true"));
	/* a dry run never returns ids, whatever the answer holds */
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), 0);
	assert_null(ids);
	assert_int_equal(n, 0);
	/* a dry run that fails says why */
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_API);
	assert_string_equal(e.api_code, "ResourcesSoldOut.SpecifiedInstanceType");
	assert_int_equal(e.cls, ERR_CLASS_CAPACITY);
	assert_null(ids);
	err_clear(&e);
	/* a real launch answered with only a RequestId is a malformed answer */
	req.dry_run = false;
	assert_int_equal(tc_run_instances(c, &req, &ids, &n, &e), ERR_API);
	assert_non_null(strstr(e.msg, "InstanceIdSet"));
	assert_null(ids);
	err_clear(&e);
	assert_int_equal(s->nreqs, 4);
	tc_client_free(c);
	srv_stop(s);
}

/* The documented transient codes, one after another, then success. */
static void h_transient_codes(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	static const char *const codes[] = {
		"InternalServerError",
		"OperationDenied.InstanceOperationInProgress",
		"MutexOperation.TaskRunning",
		"RequestLimitExceeded.IPLimitExceeded",
	};

	(void)s;
	(void)r;
	if (n < (int)ARRAY_SIZE(codes))
		reply_error(out, codes[n], n);
	else
		reply_json(out, "{\"Response\":{\"RequestId\":\"req-%d\"}}", n);
}

static void test_transient_codes_retried(void **state)
{
	struct srv *s = srv_start(h_transient_codes, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_client_stats st;
	struct err e = ERR_INIT;
	const char *ids[] = { "ins-1" };

	(void)state;
	assert_int_equal(tc_terminate_instances(c, "ap-guangzhou", ids, 1, &e), 0);
	assert_int_equal(s->nreqs, 5);
	tc_client_stats(c, &st);
	assert_int_equal(st.retries, 4);
	assert_int_equal(st.throttled, 1);
	tc_client_free(c);
	srv_stop(s);
}

/* Answers with the error code the request body names: {"Code":"..."}. */
static void h_invalid_code(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);

	(void)s;
	reply_error(out, cJSON_GetStringValue(cJSON_GetObjectItem(req, "Code")), n);
	cJSON_Delete(req);
}

static void test_final_codes_not_retried(void **state)
{
	static const struct {
		const char *code;
		enum err_class cls;
	} t[] = {
		{ "InvalidAccount.InsufficientBalance", ERR_CLASS_ACCOUNT },
		{ "LimitExceeded.SpotQuota", ERR_CLASS_QUOTA },
		{ "LimitExceeded.UserSpotQuota", ERR_CLASS_QUOTA },
		{ "UnsupportedOperation.NoInstanceTypeSupportSpot", ERR_CLASS_CAPACITY },
		{ "UnsupportedOperation.SpotUnsupportedRegion", ERR_CLASS_CAPACITY },
		{ "InvalidParameterValue.InsufficientOffering", ERR_CLASS_CAPACITY },
		{ "UnsupportedOperation.InstancesProtected", ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStatePending", ERR_CLASS_OTHER },
		{ "UnsupportedOperation.InstanceStateTerminating", ERR_CLASS_OTHER },
	};
	struct srv *s = srv_start(h_invalid_code, NULL);
	struct tc_client *c = client(s, NULL, false);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct tc_call call;
		char *body = xasprintf("{\"Code\":\"%s\"}", t[i].code);

		call_init(&call, "RunInstances", "ap-guangzhou", body);
		assert_int_equal(tc_call_one(c, &call), ERR_API);
		assert_int_equal(call.attempts, 1);
		assert_string_equal(call.err.api_code, t[i].code);
		if (call.err.cls != t[i].cls)
			fail_msg("%s: class %d, want %d", t[i].code, call.err.cls,
				 t[i].cls);
		call_free(&call);
		free(body);
	}
	assert_int_equal(s->nreqs, (int)ARRAY_SIZE(t));
	tc_client_free(c);
	srv_stop(s);
}

static void h_throttle_once(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	if (n == 0)
		reply_error(out, "RequestLimitExceeded", n);
	else
		h_simple(s, r, n, out);
}

static void test_throttled_then_ok(void **state)
{
	struct srv *s = srv_start(h_throttle_once, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_client_stats st;
	struct tc_call call;
	int64_t t0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.throttle_wait_ms = 300; /* a throttled call waits out the window */
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	t0 = now_ms();
	assert_int_equal(tc_call_one(c, &call), 0);
	assert_true(now_ms() - t0 >= 300);
	assert_int_equal(call.attempts, 2);
	assert_false(err_isset(&call.err));
	tc_client_stats(c, &st);
	assert_int_equal(st.throttled, 1);
	assert_int_equal(st.retries, 1);
	assert_int_equal(s->nreqs, 2);
	/* a new timestamp and signature, same body */
	assert_string_equal(s->reqs[0].body, s->reqs[1].body);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void h_5xx(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	if (n == 0)
		out->status = 500, reply_json(out, "{\"oops\":1}");
	else if (n == 1)
		out->status = 502, reply_json(out, "<html>bad gateway</html>");
	else if (n == 2)
		reply_error(out, "InternalError", n);
	else
		h_simple(s, r, n, out);
}

static void test_5xx_then_ok(void **state)
{
	struct srv *s = srv_start(h_5xx, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_call call;

	(void)state;
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), 0);
	assert_int_equal(call.attempts, 4);
	assert_int_equal(s->nreqs, 4);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void h_always_502(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	(void)n;
	out->status = 502;
	reply_json(out, "bad gateway");
}

static void test_5xx_bounded(void **state)
{
	struct srv *s = srv_start(h_always_502, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call call;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.max_attempts = 3;
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_NET);
	assert_int_equal(call.attempts, 3);
	assert_int_equal(s->nreqs, 3);
	assert_int_equal(call.err.cls, ERR_CLASS_TRANSIENT);
	assert_non_null(strstr(call.err.msg, "HTTP status 502"));
	assert_non_null(strstr(call.err.msg, "after 3 attempts"));
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void h_malformed(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	(void)n;
	reply_json(out, "{\"Response\": {\"TotalCount\": 1, \"InstanceSet\": [");
}

static void test_malformed_json(void **state)
{
	struct srv *s = srv_start(h_malformed, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(
		tc_describe_instances(c, "ap-guangzhou", NULL, 0, NULL, 0, &l, &e),
		ERR_API);
	assert_non_null(strstr(e.msg, "unexpected API response"));
	assert_int_equal(l.n, 0);
	assert_int_equal(s->nreqs, 1); /* not retried */
	err_clear(&e);
	tc_client_free(c);
	srv_stop(s);
}

static void h_wrong_shape(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_json(
		out,
		"{\"Response\":{\"TotalCount\":\"many\",\"InstanceSet\":{},\"RequestId\":\"req-%d\"}}",
		n);
}

static void test_unexpected_shape(void **state)
{
	struct srv *s = srv_start(h_wrong_shape, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(
		tc_describe_instances(c, "ap-guangzhou", NULL, 0, NULL, 0, &l, &e),
		ERR_API);
	assert_non_null(strstr(e.msg, "TotalCount"));
	err_clear(&e);
	tc_client_free(c);
	srv_stop(s);
}

static void h_4xx(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	if (n == 0) {
		out->status = 429;
		reply_json(out, "too many");
	} else if (n == 1) {
		out->status = 400;
		reply_error(out, "InvalidParameter", n);
	} else {
		out->status = 404;
		reply_json(out, "not found");
	}
}

static void test_http_4xx(void **state)
{
	struct srv *s = srv_start(h_4xx, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_client_stats st;
	struct tc_call call;

	(void)state;
	/* 429 is throttling (retried); a 400 carrying an API error is that error */
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_API);
	assert_int_equal(call.attempts, 2);
	assert_string_equal(call.err.api_code, "InvalidParameter");
	assert_int_equal(call.err.cls, ERR_CLASS_INVALID);
	tc_client_stats(c, &st);
	assert_int_equal(st.throttled, 1);
	call_free(&call);
	/* a bare 404 is a transport error, not retried */
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_NET);
	assert_int_equal(call.attempts, 1);
	assert_non_null(strstr(call.err.msg, "HTTP status 404"));
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void h_truncate_once(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	h_simple(s, r, n, out);
	if (n == 0)
		out->kind = REPLY_TRUNCATE;
}

static void test_truncated_body(void **state)
{
	struct srv *s = srv_start(h_truncate_once, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_call call;

	(void)state;
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), 0);
	assert_int_equal(call.attempts, 2);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void test_connection_refused(void **state)
{
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call call;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	char url[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* a port that was free a moment ago */
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	memset(&o, 0, sizeof(o));
	o.endpoint = url;
	o.max_attempts = 3;
	c = client(NULL, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_NET);
	assert_int_equal(call.attempts, 3);
	assert_int_equal(call.err.cls, ERR_CLASS_TRANSIENT);
	assert_non_null(
		strstr(call.err.msg, "'DescribeInstances' in 'ap-guangzhou' failed"));
	call_free(&call);
	tc_client_free(c);
}

static void h_slow(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	h_simple(s, r, n, out);
	out->delay_ms = 700;
}

static void test_timeout(void **state)
{
	struct srv *s = srv_start(h_slow, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call call;
	int64_t t0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 150;
	o.max_attempts = 2;
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	t0 = now_ms();
	assert_int_equal(tc_call_one(c, &call), ERR_NET);
	assert_true(now_ms() - t0 < 650);
	assert_int_equal(call.attempts, 2);
	assert_int_equal(call.err.cls, ERR_CLASS_TRANSIENT);
	assert_non_null(strstr(call.err.msg, "timed out"));
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

static void h_invalid(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_error(out, "InvalidZone.MismatchRegion", n);
}

static void test_api_error_not_retried(void **state)
{
	struct srv *s = srv_start(h_invalid, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_call call;

	(void)state;
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_API);
	assert_int_equal(call.attempts, 1);
	assert_string_equal(call.err.api_code, "InvalidZone.MismatchRegion");
	assert_string_equal(call.err.api_message,
			    "message for InvalidZone.MismatchRegion");
	assert_string_equal(call.err.request_id, "req-0");
	assert_int_equal(call.err.cls, ERR_CLASS_INVALID);
	assert_string_equal(call.err.msg, "'DescribeInstances' in 'ap-guangzhou' failed");
	assert_null(call.response);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

/* Throttle, fail, succeed: the log must never show a secret. */
static void h_mixed(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	if (n == 0)
		reply_error(out, "RequestLimitExceeded", n);
	else if (n == 1)
		out->status = 503, reply_json(out, "x");
	else if (n == 2)
		reply_error(out, "AuthFailure.SignatureFailure", n);
	else
		h_simple(s, r, n, out);
}

static bool contains_secret(const char *s, struct srv *srv)
{
	if (!s)
		return false;
	if (strstr(s, SECRET_KEY) || strstr(s, TOKEN))
		return true;
	for (int i = 0; i < srv->nreqs; i++) {
		const char *sig = srv->reqs[i].auth
					  ? strstr(srv->reqs[i].auth, "Signature=")
					  : NULL;

		if (sig && strstr(s, sig + 10))
			return true;
		if (srv->reqs[i].auth && strstr(s, srv->reqs[i].auth))
			return true;
	}
	return false;
}

static void test_redaction(void **state)
{
	struct srv *s = srv_start(h_mixed, NULL);
	struct logs logs = { { NULL }, 0 };
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call calls[2];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.log = log_cb;
	o.log_ctx = &logs;
	c = client(s, &o, true);
	call_init(&calls[0], "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &calls[0]), ERR_API); /* ends on AuthFailure */
	call_init(&calls[1], "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &calls[1]), 0);
	assert_int_equal(s->nreqs, 4);
	assert_int_equal(logs.n,
			 5); /* where the credentials came from, one line per attempt */
	assert_non_null(strstr(logs.lines[0], "credentials from test"));
	assert_non_null(strstr(logs.lines[1], "DescribeInstances"));
	assert_non_null(strstr(logs.lines[1], "region=ap-guangzhou"));
	assert_non_null(strstr(logs.lines[1], "attempt=1"));
	assert_non_null(strstr(logs.lines[1], "request_id=req-0"));
	assert_non_null(strstr(logs.lines[1], "error=RequestLimitExceeded"));
	assert_non_null(strstr(logs.lines[2], "status=503"));
	assert_non_null(strstr(logs.lines[3], "error=AuthFailure.SignatureFailure"));
	assert_non_null(strstr(logs.lines[4], "status=200"));
	for (int i = 0; i < logs.n; i++)
		assert_false(contains_secret(logs.lines[i], s));
	assert_false(contains_secret(calls[0].err.msg, s));
	assert_false(contains_secret(calls[0].err.api_message, s));
	assert_int_equal(calls[0].err.cls, ERR_CLASS_AUTH);
	/* the server did get the token: the check above can fail */
	assert_string_equal(s->reqs[0].token, TOKEN);
	call_free(&calls[0]);
	call_free(&calls[1]);
	logs_free(&logs);
	tc_client_free(c);
	srv_stop(s);
}

static void test_token_bucket(void **state)
{
	struct srv *s = srv_start(h_simple, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call calls[25];
	int64_t t0, dt;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rate_describe = 10; /* burst 10, then 10/s: 15 more take 1.5 s */
	c = client(s, &o, false);
	for (int i = 0; i < 25; i++)
		call_init(&calls[i], "DescribeInstances", "ap-guangzhou", "{}");
	t0 = now_ms();
	assert_int_equal(tc_call_many(c, calls, 25), 0);
	dt = now_ms() - t0;
	assert_true(dt >= 1400);
	assert_true(dt < 4000);
	assert_int_equal(s->nreqs, 25);
	for (int i = 0; i < 25; i++)
		call_free(&calls[i]);
	/* another action has its own bucket: 10 terminate calls go at once */
	for (int i = 0; i < 10; i++)
		call_init(&calls[i], "TerminateInstances", "ap-guangzhou",
			  "{\"InstanceIds\":[\"ins-1\"]}");
	t0 = now_ms();
	assert_int_equal(tc_call_many(c, calls, 10), 0);
	assert_true(now_ms() - t0 < 900);
	for (int i = 0; i < 10; i++)
		call_free(&calls[i]);
	tc_client_free(c);
	srv_stop(s);
}

static void h_slowish(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	h_simple(s, r, n, out);
	out->delay_ms = 60;
}

static void test_parallelism_bound(void **state)
{
	struct srv *s = srv_start(h_slowish, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call calls[12];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.parallelism = 3;
	c = client(s, &o, false);
	for (int i = 0; i < 12; i++)
		call_init(&calls[i], "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_many(c, calls, 12), 0);
	assert_int_equal(s->nreqs, 12);
	assert_true(s->max_inflight <= 3);
	assert_true(s->max_inflight >= 2);
	for (int i = 0; i < 12; i++)
		call_free(&calls[i]);
	tc_client_free(c);
	srv_stop(s);
}

/*
 * The limiter against the API's count: the responder records when each
 * request arrived (per region) and answers after 10 to 70 ms (jitter);
 * no sliding one-second window, starting at any arrival, may hold more
 * than the rate.
 */
#define WIN_MAX 128
struct arrivals {
	int64_t us[2][WIN_MAX]; /* [0] ap-guangzhou, [1] ap-shanghai */
	int n[2];
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void h_arrivals(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	struct arrivals *a = s->ctx;
	int k = r->region && !strcmp(r->region, "ap-shanghai");

	if (a->n[k] < WIN_MAX)
		a->us[k][a->n[k]++] = now_us();
	h_simple(s, r, n, out);
	out->delay_ms = 10 + (n * 37) % 61;
}

/* The most arrivals in any window of one second (starting at an arrival). */
static int max_in_window(const int64_t *us, int n)
{
	int most = 0;

	for (int i = 0; i < n; i++) {
		int in = 0;

		for (int k = 0; k < n; k++)
			if (us[k] >= us[i] && us[k] < us[i] + 1000000)
				in++;
		if (in > most)
			most = in;
	}
	return most;
}

static void test_limiter_sliding_window(void **state)
{
	struct arrivals a;
	struct srv *s;
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call calls[50];
	int64_t t0, dt;

	(void)state;
	memset(&a, 0, sizeof(a));
	s = srv_start(h_arrivals, &a);
	memset(&o, 0, sizeof(o));
	o.rate_describe = 10;
	o.parallelism = 32;
	c = client(s, &o, false);
	/* 25 calls in each of two regions, all at once */
	for (int i = 0; i < 50; i++)
		call_init(&calls[i], "DescribeInstances",
			  i % 2 ? "ap-shanghai" : "ap-guangzhou", "{}");
	t0 = now_ms();
	assert_int_equal(tc_call_many(c, calls, 50), 0);
	dt = now_ms() - t0;
	assert_int_equal(a.n[0], 25);
	assert_int_equal(a.n[1], 25);
	for (int k = 0; k < 2; k++) {
		/* never more than the rate in any one-second window the API counts */
		assert_true(max_in_window(a.us[k], a.n[k]) <= 10);
		/* the first second is used whole: 10 arrive together */
		assert_true(a.us[k][9] - a.us[k][0] < 300000);
	}
	/*
	 * Each region has its own limit, side by side: 25 calls at 10/s take
	 * two windows after the first answers (about 2.2 s), not the 4.5 s
	 * of 50 calls through one limiter.
	 */
	assert_true(dt >= 2000);
	assert_true(dt < 4000);
	for (int i = 0; i < 50; i++)
		call_free(&calls[i]);
	tc_client_free(c);
	srv_stop(s);
}

/*
 * A slow answer keeps its request counted: it may have reached the API
 * late, so the window runs from the answer, not from the send.
 */
static void h_slow_first(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	struct arrivals *a = s->ctx;

	if (a->n[0] < WIN_MAX)
		a->us[0][a->n[0]++] = now_us();
	h_simple(s, r, n, out);
	out->delay_ms = n < 2 ? 400 : 5;
}

static void test_limiter_counts_from_answers(void **state)
{
	struct arrivals a;
	struct srv *s;
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call calls[3];

	(void)state;
	memset(&a, 0, sizeof(a));
	s = srv_start(h_slow_first, &a);
	memset(&o, 0, sizeof(o));
	o.rate_run = 2;
	c = client(s, &o, false);
	for (int i = 0; i < 3; i++)
		call_init(&calls[i], "RunInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_many(c, calls, 3), 0);
	assert_int_equal(a.n[0], 3);
	/* the third waits a second after the first answers (400 ms late) */
	assert_true(a.us[0][2] - a.us[0][0] >= 1400000);
	for (int i = 0; i < 3; i++)
		call_free(&calls[i]);
	tc_client_free(c);
	srv_stop(s);
}

/* A refused call is retried, counted, and shows in the call log. */
static void test_throttled_counted_and_logged(void **state)
{
	struct srv *s = srv_start(h_throttle_once, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_client_stats st;
	struct tc_call call;
	struct logs logs = { { NULL }, 0 };
	int calls = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.log = log_cb;
	o.log_ctx = &logs;
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), 0);
	tc_client_stats(c, &st);
	assert_int_equal(st.throttled, 1);
	/* the call lines (the log starts with where the credentials came from) */
	for (int i = 0; i < logs.n; i++)
		if (!strncmp(logs.lines[i], "call ", 5))
			calls++;
	assert_int_equal(calls, 2);
	assert_non_null(strstr(logs.lines[logs.n - 2],
			       "error=RequestLimitExceeded throttled=1 retry_in="));
	assert_null(strstr(logs.lines[logs.n - 1], "throttled="));
	call_free(&call);
	logs_free(&logs);
	tc_client_free(c);
	srv_stop(s);
}

/* Four refusals for the rate, then an InternalError, then an answer. */
static void h_throttle_4_internal_1(struct srv *s, const struct rq *r, int n,
				    struct reply *out)
{
	if (n < 4)
		reply_error(out, "RequestLimitExceeded", n);
	else if (n == 4)
		reply_error(out, "InternalError", n);
	else
		h_simple(s, r, n, out);
}

/*
 * Refusals for the rate do not use up the tries of other failures (a busy
 * account must not turn one InternalError into a failed apply), and the
 * first refusal halves the limiter's rate, once per window.
 */
static void test_throttle_budget_and_cut(void **state)
{
	struct srv *s = srv_start(h_throttle_4_internal_1, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_call call;
	struct logs logs = { { NULL }, 0 };
	int cuts = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.max_attempts = 2;
	o.log = log_cb;
	o.log_ctx = &logs;
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), 0);
	assert_int_equal(call.attempts, 6);
	for (int i = 0; i < logs.n; i++)
		if (strstr(logs.lines[i], " limit="))
			cuts++, assert_non_null(strstr(logs.lines[i], "limit=20/s"));
	assert_int_equal(cuts, 1);
	call_free(&call);
	logs_free(&logs);
	tc_client_free(c);
	srv_stop(s);

	/* with max_throttled, refusals end the call */
	s = srv_start(h_throttle_4_internal_1, NULL);
	memset(&o, 0, sizeof(o));
	o.max_throttled = 3;
	c = client(s, &o, false);
	call_init(&call, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &call), ERR_API);
	assert_int_equal(call.attempts, 3);
	assert_int_equal(call.err.cls, ERR_CLASS_THROTTLED);
	call_free(&call);
	tc_client_free(c);
	srv_stop(s);
}

/* After a cut to 20/s, 25 calls cannot all go in one window. */
static void test_throttle_cut_paces_later_calls(void **state)
{
	struct srv *s = srv_start(h_throttle_once, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_call calls[25], one;
	int64_t t0;

	(void)state;
	call_init(&one, "DescribeInstances", "ap-guangzhou", "{}");
	assert_int_equal(tc_call_one(c, &one), 0);
	assert_int_equal(one.attempts, 2);
	call_free(&one);
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
		call_init(&calls[i], "DescribeInstances", "ap-guangzhou", "{}");
	t0 = now_ms();
	assert_int_equal(tc_call_many(c, calls, ARRAY_SIZE(calls)), 0);
	/* 40/s would send all 25 at once; 20/s holds 7 back for a window */
	assert_true(now_ms() - t0 >= 1000);
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
		call_free(&calls[i]);
	tc_client_free(c);
	srv_stop(s);
}

/*
 * TotalCount says 5,000,000 but every page after the first is empty: the
 * first empty page cancels the rest of the round before it goes out.
 */
static void h_empty_after_first(struct srv *s, const struct rq *r, int n,
				struct reply *out)
{
	cJSON *req = cJSON_Parse(r->body);
	int off = cJSON_GetObjectItem(req, "Offset")->valueint;
	struct buf b = BUF_INIT;

	(void)s;
	buf_printf(&b, "{\"Response\":{\"TotalCount\":5000000,\"InstanceSet\":[");
	for (int i = 0; off == 0 && i < 100; i++)
		buf_printf(
			&b,
			"%s{\"InstanceId\":\"ins-%08d\",\"InstanceState\":\"RUNNING\"}",
			i ? "," : "", i);
	buf_printf(&b, "],\"RequestId\":\"req-%d\"}}", n);
	out->body = buf_detach(&b, NULL);
	out->delay_ms = 20;
	cJSON_Delete(req);
}

static void test_paging_cancelled_after_empty(void **state)
{
	struct srv *s = srv_start(h_empty_after_first, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_instance_list l = { NULL, 0, 0 };
	const char *key = "spotenv:env";
	struct tc_filter f = { "tag-key", &key, 1 };
	struct tc_region_obs r;
	struct err e = ERR_INIT;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.region = "ap-guangzhou";
	r.filters = &f;
	r.nfilters = 1;
	r.instances = &l;
	assert_int_equal(tc_observe_regions(c, &r, 1, &e), 0);
	assert_true(r.inconsistent);
	assert_int_equal(l.n, 100);
	/*
	 * each of the 3 reads: the first page, then at most what was in
	 * flight (parallelism 16) when the first empty page came back
	 */
	assert_true(s->nreqs <= 3 * (1 + TC_DEFAULT_PARALLELISM + 2));
	tc_instance_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

static void h_terminate(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_json(out, "{\"Response\":{\"RequestId\":\"req-%d\"}}", n);
}

static void test_terminate_chunks(void **state)
{
	struct srv *s = srv_start(h_terminate, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct err e = ERR_INIT;
	char *ids[250];
	int total = 0;

	(void)state;
	for (int i = 0; i < 250; i++)
		ids[i] = xasprintf("ins-%d", i);
	assert_int_equal(tc_terminate_instances(c, "ap-guangzhou",
						(const char *const *)ids, 250, &e),
			 0);
	assert_int_equal(s->nreqs, 3);
	for (int i = 0; i < 3; i++) {
		cJSON *b = cJSON_Parse(s->reqs[i].body);
		int n = cJSON_GetArraySize(cJSON_GetObjectItem(b, "InstanceIds"));

		assert_true(n <= 100);
		total += n;
		assert_string_equal(s->reqs[i].action, "TerminateInstances");
		cJSON_Delete(b);
	}
	assert_int_equal(total, 250);
	assert_int_equal(tc_terminate_instances(c, "ap-guangzhou", NULL, 0, &e), 0);
	assert_int_equal(s->nreqs, 3);
	for (int i = 0; i < 250; i++)
		free(ids[i]);
	tc_client_free(c);
	srv_stop(s);
}

static void h_offers(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	(void)r;
	reply_json(
		out,
		"{\"Response\":{\"InstanceTypeQuotaSet\":["
		"{\"Zone\":\"ap-guangzhou-6\",\"InstanceType\":\"S5.LARGE8\",\"InstanceChargeType\":\"SPOTPAID\","
		"\"Status\":\"SELL\",\"StatusCategory\":\"NormalStock\",\"Cpu\":4,\"Memory\":8,"
		"\"Price\":{\"UnitPriceDiscount\":0.32,\"Discount\":\"20.000000\"}}],"
		"\"RequestId\":\"req-%d\"}}",
		n);
}

static void test_offers(void **state)
{
	struct srv *s = srv_start(h_offers, NULL);
	struct tc_client *c = client(s, NULL, false);
	struct tc_offer_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	const char *zones[] = { "ap-guangzhou-6", "ap-guangzhou-7" };
	const char *types[] = { "S5.LARGE8" };

	(void)state;
	assert_int_equal(
		tc_describe_offers(c, "ap-guangzhou", zones, 2, types, 1, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].price, "0.32");
	assert_string_equal(l.v[0].status_category, "NormalStock");
	assert_int_equal(s->nreqs, 1);
	assert_string_equal(
		s->reqs[0].body,
		"{\"Filters\":[{\"Name\":\"zone\",\"Values\":[\"ap-guangzhou-6\",\"ap-guangzhou-7\"]},"
		"{\"Name\":\"instance-type\",\"Values\":[\"S5.LARGE8\"]},"
		"{\"Name\":\"instance-charge-type\",\"Values\":[\"SPOTPAID\"]}]}");
	tc_offer_list_clear(&l);
	tc_client_free(c);
	srv_stop(s);
}

/*
 * DescribeAccountQuota: the published answer (tencentcloud-cli
 * tccli/examples/cvm/v20170312/DescribeAccountQuota.md, shortened to the
 * parts that matter) for Guangzhou; an authorization error for Shanghai
 * (an account whose policy does not allow the action); a malformed answer
 * for Beijing.
 */
static void h_quota(struct srv *s, const struct rq *r, int n, struct reply *out)
{
	(void)s;
	if (r->region && !strcmp(r->region, "ap-shanghai"))
		reply_error(out, "UnauthorizedOperation", n);
	else if (r->region && !strcmp(r->region, "ap-beijing"))
		reply_json(
			out,
			"{\"Response\":{\"AccountQuotaOverview\":{\"AccountQuota\":"
			"{\"SpotPaidQuotaSet\":[{\"Zone\":\"ap-beijing-1\",\"RemainingQuota\":\"lots\"}]}},"
			"\"RequestId\":\"req-%d\"}}",
			n);
	else
		reply_json(
			out,
			"{\"Response\":{\"AccountQuotaOverview\":{\"Region\":\"ap-guangzhou\","
			"\"AccountQuota\":{\"PostPaidQuotaSet\":[{\"UsedQuota\":0,\"RemainingQuota\":288,"
			"\"TotalQuota\":288,\"Zone\":\"ap-guangzhou-1\"}],"
			"\"SpotPaidQuotaSet\":[{\"UsedQuota\":0,\"RemainingQuota\":244,\"TotalQuota\":244,"
			"\"Zone\":\"ap-guangzhou-1\"},{\"UsedQuota\":4,\"RemainingQuota\":195,"
			"\"TotalQuota\":199,\"Zone\":\"ap-guangzhou-2\"}],"
			"\"ImageQuotaSet\":[{\"UsedQuota\":0,\"TotalQuota\":10}]}},"
			"\"RequestId\":\"7f117776-3d20-4f00-839b-b22b04625f47\",\"AppId\":251007416}}");
}

static void test_spot_quota(void **state)
{
	struct srv *s = srv_start(h_quota, NULL);
	struct tc_client_opts o;
	struct tc_client *c;
	struct tc_spot_quota_list l = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	char *app_id = (char *)"untouched";
	int64_t t0;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.rate_describe = 1; /* DescribeAccountQuota is not DescribeInstances' bucket */
	o.rate_offers = 1;
	c = client(s, &o, false);
	assert_int_equal(tc_describe_spot_quota(c, "ap-guangzhou", &l, &app_id, &e), 0);
	assert_int_equal(s->nreqs, 1);
	assert_true(s->reqs[0].verified);
	assert_string_equal(s->reqs[0].action, "DescribeAccountQuota");
	assert_string_equal(s->reqs[0].region, "ap-guangzhou");
	assert_string_equal(s->reqs[0].body, "{}");
	assert_string_equal(s->reqs[0].lang, "en-US");
	assert_string_equal(app_id, "251007416");
	free(app_id);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].zone, "ap-guangzhou-1");
	assert_int_equal(l.v[0].remaining, 244);
	assert_string_equal(l.v[1].zone, "ap-guangzhou-2");
	assert_int_equal(l.v[1].used, 4);
	assert_int_equal(l.v[1].remaining, 195);
	assert_int_equal(l.v[1].total, 199);

	/* refused: the API's error, nothing appended, no AppId */
	app_id = (char *)"untouched";
	assert_int_equal(tc_describe_spot_quota(c, "ap-shanghai", &l, &app_id, &e),
			 ERR_API);
	assert_string_equal(e.api_code, "UnauthorizedOperation");
	assert_int_equal(e.cls, ERR_CLASS_AUTH);
	assert_null(app_id);
	assert_int_equal(l.n, 2);
	err_clear(&e);
	/* malformed: an unexpected answer, nothing appended */
	assert_int_equal(tc_describe_spot_quota(c, "ap-beijing", &l, NULL, &e), ERR_API);
	assert_non_null(strstr(e.msg, "unexpected API response"));
	assert_non_null(strstr(e.msg, "RemainingQuota"));
	assert_int_equal(l.n, 2);
	err_clear(&e);
	tc_spot_quota_list_clear(&l);

	/* the shared bucket of other actions (10/s), not the describe buckets at 1/s */
	t0 = now_ms();
	for (int i = 0; i < 5; i++) {
		assert_int_equal(tc_describe_spot_quota(c, "ap-guangzhou", &l, NULL, &e),
				 0);
		tc_spot_quota_list_clear(&l);
	}
	assert_true(now_ms() - t0 < 900);
	tc_client_free(c);
	srv_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_signature),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_paging_concurrent),
		cmocka_unit_test(test_paging_vanishing),
		cmocka_unit_test(test_paging_speculative),
		cmocka_unit_test(test_paging_lying_total),
		cmocka_unit_test(test_describe_ids),
		cmocka_unit_test(test_run_retry_same_token),
		cmocka_unit_test(test_run_dry_run_and_checks),
		cmocka_unit_test(test_run_dry_run_request_id_only),
		cmocka_unit_test(test_transient_codes_retried),
		cmocka_unit_test(test_final_codes_not_retried),
		cmocka_unit_test(test_throttled_then_ok),
		cmocka_unit_test(test_observe_regions),
		cmocka_unit_test(test_5xx_then_ok),
		cmocka_unit_test(test_5xx_bounded),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_unexpected_shape),
		cmocka_unit_test(test_http_4xx),
		cmocka_unit_test(test_truncated_body),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_api_error_not_retried),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_token_bucket),
		cmocka_unit_test(test_parallelism_bound),
		cmocka_unit_test(test_terminate_chunks),
		cmocka_unit_test(test_offers),
		cmocka_unit_test(test_spot_quota),
		cmocka_unit_test(test_limiter_sliding_window),
		cmocka_unit_test(test_limiter_counts_from_answers),
		cmocka_unit_test(test_throttled_counted_and_logged),
		cmocka_unit_test(test_throttle_budget_and_cut),
		cmocka_unit_test(test_throttle_cut_paces_later_calls),
		cmocka_unit_test(test_paging_cancelled_after_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
