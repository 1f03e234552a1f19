/*
 * Unit tests for applier/lock_etcd.c: URLs, keys, base64, escaping, the
 * holder note and etcd's answers (pure); then the lock against a fake etcd
 * on loopback (libmicrohttpd) whose answers each test scripts: a held
 * scope refused with its holder, waiting, a lost lease stopping the guard
 * cloud, etcd's errors.  The real etcd is tested by
 * tests/cli/0308-apply-etcd-lock.bats.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include "../../util/err.h"
#include "../../util/buf.h"
#include "../../util/duration.h"
#include "../../applier/lock.h"

/* ------------------------------------------------------------------ */
/* URLs */

static void test_url_forms(void **state)
{
	static const struct {
		const char *url, *base, *prefix;
		bool https, loopback;
	} ok[] = {
		{ "etcd://127.0.0.1:2379", "http://127.0.0.1:2379", "/spotenv", false,
		  true },
		{ "etcd://localhost", "http://localhost:2379", "/spotenv", false, true },
		{ "etcd://127.8.9.1:23790/", "http://127.8.9.1:23790", "/spotenv", false,
		  true },
		{ "etcd://[::1]:2379/team/a/", "http://[::1]:2379", "/team/a", false,
		  true },
		{ "etcd://etcd.example.com:2379", "https://etcd.example.com:2379",
		  "/spotenv", true, false },
		{ "ETCD://Etcd.Example.COM/ci", "https://etcd.example.com:2379", "/ci",
		  true, false },
		{ "etcd+https://127.0.0.1:2379/x_y.z~", "https://127.0.0.1:2379",
		  "/x_y.z~", true, true },
		{ "etcd+http://localhost:1", "http://localhost:1", "/spotenv", false,
		  true },
		{ "etcd+https://10.0.0.5", "https://10.0.0.5:2379", "/spotenv", true,
		  false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct apply_lock_url u = APPLY_LOCK_URL_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(apply_lock_url_parse(&u, ok[i].url, &e), 0);
		assert_string_equal(u.base, ok[i].base);
		assert_string_equal(u.prefix, ok[i].prefix);
		assert_int_equal(u.https, ok[i].https);
		assert_int_equal(u.loopback, ok[i].loopback);
		apply_lock_url_clear(&u);
		assert_null(u.base);
	}
}

static void test_url_refused(void **state)
{
	static const struct {
		const char *url, *why;
	} bad[] = {
		{ "http://127.0.0.1:2379", "must be etcd://" },
		{ "https://etcd.example.com", "must be etcd://" },
		{ "127.0.0.1:2379", "must be etcd://" },
		{ "etcd+http://10.0.0.5:2379", "plain http" },
		{ "etcd+http://etcd.example.com", "plain http" },
		{ "etcd://user:pw@127.0.0.1:2379", "credentials" },
		{ "etcd://127.0.0.1:99999", "invalid port" },
		{ "etcd://127.0.0.1:0", "invalid port" },
		{ "etcd://127.0.0.1:", "invalid port" },
		{ "etcd://127.0.0.1:2x", "invalid port" },
		{ "etcd://", "no host" },
		{ "etcd://:2379", "no host" },
		{ "etcd://127.0.0.1?x=1", "query" },
		{ "etcd://127.0.0.1/a#b", "query" },
		{ "etcd://127.0.0.1/pre fix", "prefix" },
		{ "etcd://127.0.0.1/a%2f", "prefix" },
		{ "etcd://127.0.0.1//a", "empty prefix component" },
		{ "etcd://[::1", "invalid host" },
		{ "etcd://[::1]x", "invalid host" },
		{ "etcd://a:1:2", "invalid host" },
		{ "etcd://h\tx", "invalid host" },
		{ "etcd://[1.2.3.x]:2379", "invalid host" },
		{ "etcd://[]:2379", "no host" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct apply_lock_url u = APPLY_LOCK_URL_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(apply_lock_url_parse(&u, bad[i].url, &e), ERR_INVALID);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("%s: '%s' does not say '%s'", bad[i].url, e.msg,
				 bad[i].why);
		assert_null(u.base);
		assert_null(u.prefix);
		err_clear(&e);
	}
}

static void test_url_secrets_not_shown(void **state)
{
	struct apply_lock_url u = APPLY_LOCK_URL_INIT;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(
		apply_lock_url_parse(&u, "etcd://root:s3cret@127.0.0.1:2379/x", &e),
		ERR_INVALID);
	assert_string_equal(e.msg,
			    "lock URL 'etcd://***@127.0.0.1:2379/x' has credentials; "
			    "etcd authentication is not supported");
	err_clear(&e);
	/* a URL that is wrong elsewhere too, and one with a terminal escape */
	assert_int_equal(apply_lock_url_parse(&u, "etcd://a:b@c@h:1?q", &e), ERR_INVALID);
	assert_null(strstr(e.msg, "b@c"));
	err_clear(&e);
	assert_int_equal(apply_lock_url_parse(&u, "etcd://h\x1b[2J", &e), ERR_INVALID);
	assert_string_equal(e.msg, "lock URL 'etcd://h\\x1b[2J' has an invalid host");
	err_clear(&e);
}

/* ------------------------------------------------------------------ */
/* Keys, base64, escaping, the holder note */

static void test_key_and_base64(void **state)
{
	struct apply_lock_url u = APPLY_LOCK_URL_INIT;
	struct err e = ERR_INIT;
	char *key, *b64, *back = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(apply_lock_url_parse(&u, "etcd://127.0.0.1:2379", &e), 0);
	key = apply_lock_key(&u, "default");
	assert_string_equal(key, "/spotenv/lock/default");
	b64 = apply_lock_b64(key, strlen(key));
	assert_string_equal(b64, "L3Nwb3RlbnYvbG9jay9kZWZhdWx0");
	assert_int_equal(apply_lock_b64_decode(&back, &n, b64, 100, &e), 0);
	assert_int_equal(n, strlen(key));
	assert_string_equal(back, key);
	free(back);
	free(b64);
	free(key);
	apply_lock_url_clear(&u);

	/* padding: one and two '=' */
	b64 = apply_lock_b64("ab", 2);
	assert_string_equal(b64, "YWI=");
	assert_int_equal(apply_lock_b64_decode(&back, &n, b64, 100, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(back, "ab");
	free(back);
	free(b64);
	b64 = apply_lock_b64("a", 1);
	assert_string_equal(b64, "YQ==");
	free(b64);
	/* empty, and bytes with a NUL inside */
	assert_int_equal(apply_lock_b64_decode(&back, &n, "", 100, &e), 0);
	assert_int_equal(n, 0);
	assert_string_equal(back, "");
	free(back);
	assert_int_equal(apply_lock_b64_decode(&back, &n, "YQBi", 100, &e), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(back, "a\0b", 3);
	free(back);
}

static void test_base64_refused(void **state)
{
	static const char *bad[] = { "YWI",   "YW=I", "Y===", "YWI=YWI=", "YW I",
				     "YWI\n", "YW-_", "=YWI", "====" };
	struct err e = ERR_INIT;
	char *out = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (apply_lock_b64_decode(&out, &n, bad[i], 100, &e) != ERR_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
		assert_null(out);
		err_clear(&e);
	}
	/* the cap */
	assert_int_equal(apply_lock_b64_decode(&out, &n, "YWJj", 2, &e), ERR_TOOBIG);
	err_clear(&e);
	assert_int_equal(apply_lock_b64_decode(&out, &n, "YWJj", 3, &e), 0);
	free(out);
}

static void test_escape(void **state)
{
	char *s;

	(void)state;
	s = apply_lock_escape("ci-7 pid 42 since 2026-01-01T00:00:00Z (apply)", 46, 256);
	assert_string_equal(s, "ci-7 pid 42 since 2026-01-01T00:00:00Z (apply)");
	free(s);
	s = apply_lock_escape("\x1b[31mred\x1b[0m\r\n", 14, 256);
	assert_string_equal(s, "\\x1b[31mred\\x1b[0m\\x0d\\x0a");
	free(s);
	s = apply_lock_escape("a\\b\0c\x7f\xc3\xa9", 8, 256);
	assert_string_equal(s, "a\\x5cb\\x00c\\x7f\\xc3\\xa9");
	free(s);
	s = apply_lock_escape("abcdef", 6, 3);
	assert_string_equal(s, "abc...");
	free(s);
	s = apply_lock_escape("", 0, 3);
	assert_string_equal(s, "");
	free(s);
}

static void test_holder_and_scopes(void **state)
{
	char host[256], *want, *s;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	s = apply_lock_holder("destroy", (time_t)1767225600);
	want = xasprintf("%s pid %ld since 2026-01-01T00:00:00Z (destroy)", host,
			 (long)getpid());
	assert_string_equal(s, want);
	free(s);
	free(want);

	assert_true(apply_lock_scope_valid("default"));
	assert_true(apply_lock_scope_valid("team-a.v2_x"));
	assert_false(apply_lock_scope_valid(""));
	assert_false(apply_lock_scope_valid(NULL));
	assert_false(apply_lock_scope_valid(".."));
	assert_false(apply_lock_scope_valid("a/b"));
	assert_false(apply_lock_scope_valid("a b"));
	assert_false(apply_lock_scope_valid("a\n"));
	assert_false(apply_lock_scope_valid(
		"0123456789012345678901234567890123456789012345678901234567890123"));
}

/* ------------------------------------------------------------------ */
/* etcd's answers */

#define PARSE_LEN(s) (s), strlen(s)

static void test_parse_grant(void **state)
{
	struct err e = ERR_INIT;
	int64_t id = 0, ttl = 0;

	(void)state;
	assert_int_equal(
		apply_lock_parse_grant(
			PARSE_LEN("{\"header\":{\"revision\":\"1\"},"
				  "\"ID\":\"2324035760220595462\",\"TTL\":\"10\"}"),
			&id, &ttl, &e),
		0);
	assert_true(id == 2324035760220595462LL);
	assert_int_equal(ttl, 10);
	/* numbers too, when exact */
	assert_int_equal(
		apply_lock_parse_grant(PARSE_LEN("{\"ID\":77,\"TTL\":2}"), &id, &ttl, &e),
		0);
	assert_int_equal(id, 77);
	assert_int_equal(ttl, 2);

	static const char *bad[] = {
		"{\"ID\":\"1\"}",
		"{\"TTL\":\"5\"}",
		"{\"ID\":\"1\",\"TTL\":\"0\"}",
		"{\"ID\":\"0\",\"TTL\":\"5\"}",
		"{\"ID\":\"abc\",\"TTL\":\"5\"}",
		"{\"ID\":\"12 \",\"TTL\":\"5\"}",
		"{\"ID\":\"99999999999999999999\",\"TTL\":\"5\"}",
		"{\"ID\":1.5,\"TTL\":\"5\"}",
		"{\"ID\":true,\"TTL\":\"5\"}",
		"{\"ID\":\"1\",\"TTL\":[5]}",
		"{\"ID\":\"1\",\"TTL\":\"99999999\"}",
		"[1]",
		"not json",
		"",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (apply_lock_parse_grant(PARSE_LEN(bad[i]), &id, &ttl, &e) !=
		    ERR_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
		err_clear(&e);
	}
	/* etcd's error answer is quoted, escaped */
	assert_int_equal(apply_lock_parse_grant(
				 PARSE_LEN("{\"error\":\"etcdserver: no\\u001b[2J\","
					   "\"code\":9}"),
				 &id, &ttl, &e),
			 ERR_GENERIC);
	assert_string_equal(e.msg,
			    "etcd refused the lease grant: etcdserver: no\\x1b[2J");
	err_clear(&e);
}

static void test_parse_txn(void **state)
{
	struct err e = ERR_INIT;
	char *holder = NULL;
	bool won = false;

	(void)state;
	assert_int_equal(
		apply_lock_parse_txn(PARSE_LEN("{\"header\":{},\"succeeded\":true,"
					       "\"responses\":[{\"response_put\":{}}]}"),
				     &won, &holder, &e),
		0);
	assert_true(won);
	assert_null(holder);

	/* held: the holder's note, decoded and escaped ("ci-7 pid 1\x1b") */
	assert_int_equal(
		apply_lock_parse_txn(
			PARSE_LEN(
				"{\"responses\":[{\"response_range\":{\"kvs\":[{\"key\":\"YQ==\","
				"\"create_revision\":\"2\",\"value\":\"Y2ktNyBwaWQgMRs=\","
				"\"lease\":\"9\"}],\"count\":\"1\"}}]}"),
			&won, &holder, &e),
		0);
	assert_false(won);
	assert_string_equal(holder, "ci-7 pid 1\\x1b");
	free(holder);
	holder = NULL;

	/* held, but without a note (or without the key: it went meanwhile) */
	assert_int_equal(
		apply_lock_parse_txn(PARSE_LEN("{\"responses\":[{\"response_range\":"
					       "{\"kvs\":[{\"key\":\"YQ==\"}]}}]}"),
				     &won, &holder, &e),
		0);
	assert_false(won);
	assert_string_equal(holder, "an unknown holder");
	free(holder);
	holder = NULL;
	assert_int_equal(
		apply_lock_parse_txn(PARSE_LEN("{\"header\":{}}"), &won, &holder, &e), 0);
	assert_false(won);
	assert_string_equal(holder, "an unknown holder");
	free(holder);
	holder = NULL;

	static const char *bad[] = {
		"{\"succeeded\":\"true\"}",
		"{\"responses\":{}}",
		"{\"responses\":[1]}",
		"{\"responses\":[{\"response_range\":[]}]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":{}}}]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":[\"x\"]}}]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":[{\"value\":5}]}}]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":[{\"value\":\"!!!!\"}]}}]}",
		"{\"responses\":[{\"response_range\":{\"kvs\":[{\"lease\":\"x\"}]}}]}",
		"null",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (apply_lock_parse_txn(PARSE_LEN(bad[i]), &won, &holder, &e) !=
		    ERR_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
		assert_null(holder);
		err_clear(&e);
	}
}

static void test_parse_keepalive(void **state)
{
	struct err e = ERR_INIT;
	int64_t ttl = -1;

	(void)state;
	assert_int_equal(apply_lock_parse_keepalive(
				 PARSE_LEN("{\"result\":{\"header\":{},\"ID\":\"7\","
					   "\"TTL\":\"5\"}}\n"),
				 &ttl, &e),
			 0);
	assert_int_equal(ttl, 5);
	/* a lease that is gone: etcd leaves TTL out */
	assert_int_equal(apply_lock_parse_keepalive(
				 PARSE_LEN("{\"result\":{\"ID\":\"7\"}}"), &ttl, &e),
			 0);
	assert_int_equal(ttl, 0);
	assert_int_equal(apply_lock_parse_keepalive(
				 PARSE_LEN("{\"result\":{\"TTL\":\"-1\"}}"), &ttl, &e),
			 0);
	assert_int_equal(ttl, 0);
	assert_int_equal(
		apply_lock_parse_keepalive(PARSE_LEN("{\"TTL\":\"5\"}"), &ttl, &e),
		ERR_INVALID);
	err_clear(&e);
	assert_int_equal(apply_lock_parse_keepalive(
				 PARSE_LEN("{\"result\":{\"TTL\":{}}}"), &ttl, &e),
			 ERR_INVALID);
	err_clear(&e);
	/* the streaming form of an error */
	assert_int_equal(
		apply_lock_parse_keepalive(PARSE_LEN("{\"error\":{\"grpc_code\":14,"
						     "\"message\":\"unavailable\"}}"),
					   &ttl, &e),
		ERR_GENERIC);
	assert_string_equal(e.msg, "etcd refused the lease keep-alive: unavailable");
	err_clear(&e);
	assert_int_equal(apply_lock_parse_keepalive(PARSE_LEN("{\"error\":7}"), &ttl, &e),
			 ERR_GENERIC);
	assert_string_equal(
		e.msg, "etcd refused the lease keep-alive: an error without a message");
	err_clear(&e);
}

/* ------------------------------------------------------------------ */
/* A fake etcd on loopback, answering as each test says */

enum fake_mode {
	FAKE_OK,	/* grant, txn won, keep-alive, revoke */
	FAKE_HELD,	/* txn: held by someone else's lease, with a note */
	FAKE_HELD_FREE, /* held for the first 3 tries, then won */
	FAKE_OURS,	/* txn: failed, but the key is under our own lease */
	FAKE_EXPIRE,	/* keep-alive answers without TTL after 2 renewals */
	FAKE_GRANT_503,
	FAKE_HUGE, /* grant answers more than the cap */
};

struct fake {
	struct MHD_Daemon *d;
	int port;
	enum fake_mode mode;
	pthread_mutex_t mu;
	int grants, txns, keepalives, revokes;
	const char *bad; /* what the client sent wrong (checked by the teardown) */
	char url[64];
};

struct fake_req {
	struct buf body;
};

static enum MHD_Result fake_answer(struct MHD_Connection *conn, unsigned status,
				   const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fake_request(void *cls, struct MHD_Connection *conn,
				    const char *url, const char *method,
				    const char *version, const char *upload,
				    size_t *upload_size, void **con_cls)
{
	struct fake *f = cls;
	struct fake_req *q = *con_cls;
	enum MHD_Result ret;
	char *huge;

	(void)version;
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_put(&q->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&f->mu);
	/* cmocka's asserts belong to the test's thread: note, check later */
	if (strcmp(method, "POST"))
		f->bad = "not a POST";
	if (!strcmp(url, "/v3/lease/grant")) {
		f->grants++;
		if (strcmp(buf_str(&q->body), "{\"TTL\":1}"))
			f->bad = "grant body";
		if (f->mode == FAKE_GRANT_503) {
			ret = fake_answer(conn, 503,
					  "{\"error\":\"etcdserver: request timed out\","
					  "\"code\":14}");
		} else if (f->mode == FAKE_HUGE) {
			huge = xmalloc(APPLY_LOCK_MAX_ANSWER + 2);
			memset(huge, ' ', APPLY_LOCK_MAX_ANSWER + 1);
			huge[APPLY_LOCK_MAX_ANSWER + 1] = '\0';
			ret = fake_answer(conn, 200, huge);
			free(huge);
		} else {
			ret = fake_answer(conn, 200, "{\"ID\":\"7\",\"TTL\":\"1\"}");
		}
	} else if (!strcmp(url, "/v3/kv/txn")) {
		f->txns++;
		/* the key of scope "a", our lease, a put under it */
		if (!strstr(buf_str(&q->body), "\"key\":\"L3Nwb3RlbnYvbG9jay9h\"") ||
		    !strstr(buf_str(&q->body), "\"lease\":\"7\"") ||
		    !strstr(buf_str(&q->body), "\"create_revision\":\"0\""))
			f->bad = "txn body";
		if (f->mode == FAKE_HELD || (f->mode == FAKE_HELD_FREE && f->txns <= 3))
			/* "other pid 9\e]0;x" */
			ret = fake_answer(
				conn, 200,
				"{\"responses\":[{\"response_range\":{\"kvs\":[{"
				"\"value\":\"b3RoZXIgcGlkIDkbXTA7eA==\","
				"\"lease\":\"99\"}]}}]}");
		else if (f->mode == FAKE_OURS)
			ret = fake_answer(
				conn, 200,
				"{\"responses\":[{\"response_range\":{\"kvs\":[{"
				"\"value\":\"eA==\",\"lease\":\"7\"}]}}]}");
		else
			ret = fake_answer(conn, 200, "{\"succeeded\":true}");
	} else if (!strcmp(url, "/v3/lease/keepalive")) {
		f->keepalives++;
		if (strcmp(buf_str(&q->body), "{\"ID\":\"7\"}"))
			f->bad = "keep-alive body";
		if (f->mode == FAKE_EXPIRE && f->keepalives > 2)
			ret = fake_answer(conn, 200, "{\"result\":{\"ID\":\"7\"}}\n");
		else
			ret = fake_answer(conn, 200,
					  "{\"result\":{\"ID\":\"7\",\"TTL\":\"1\"}}\n");
	} else if (!strcmp(url, "/v3/lease/revoke")) {
		f->revokes++;
		if (f->mode == FAKE_EXPIRE)
			ret = fake_answer(conn, 404,
					  "{\"error\":\"etcdserver: requested lease not "
					  "found\",\"code\":5}");
		else
			ret = fake_answer(conn, 200, "{\"header\":{}}");
	} else {
		ret = fake_answer(conn, 404, "{\"error\":\"no such path\",\"code\":12}");
	}
	pthread_mutex_unlock(&f->mu);
	return ret;
}

static void fake_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct fake_req *q = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q) {
		buf_release(&q->body);
		free(q);
	}
	*con_cls = NULL;
}

static int fake_setup(void **state)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pthread_mutex_init(&f->mu, NULL);
	f->d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD, 0, NULL,
		NULL, fake_request, f, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_NOTIFY_COMPLETED, fake_completed, NULL, MHD_OPTION_END);
	assert_non_null(f->d);
	info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	f->port = info->port;
	snprintf(f->url, sizeof(f->url), "etcd://127.0.0.1:%d", f->port);
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;

	MHD_stop_daemon(f->d);
	assert_null(f->bad);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

static int fake_count(struct fake *f, const int *which)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = *which;
	pthread_mutex_unlock(&f->mu);
	return n;
}

static struct apply_lock_opts fake_opts(int64_t timeout_ms)
{
	struct apply_lock_opts o = APPLY_LOCK_OPTS_INIT;

	o.ttl_ms = 1000;
	o.timeout_ms = timeout_ms;
	o.retry_ms = 20;
	o.holder = "me pid 1 since 2026-01-01T00:00:00Z (apply)";
	return o;
}

static void test_fake_acquire_release(void **state)
{
	struct fake *f = *state;
	struct apply_lock_opts o = fake_opts(0);
	const char *scopes[] = { "a", "a" };
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;

	f->mode = FAKE_OK;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 2, &o, &e), 0);
	assert_non_null(l);
	assert_int_equal(apply_lock_ttl_ms(l), 1000);
	/* one txn for the scope named twice */
	assert_int_equal(fake_count(f, &f->txns), 1);
	/* renewed every TTL/3 */
	for (int64_t end = time_now_ms() + 5000; fake_count(f, &f->keepalives) < 2;) {
		assert_true(time_now_ms() < end);
		usleep(20000);
	}
	assert_int_equal(apply_lock_check(l, &e), 0);
	assert_int_equal(apply_lock_release(l, &e), 0);
	assert_int_equal(fake_count(f, &f->revokes), 1);
	assert_false(err_isset(&e));
}

static void test_fake_held(void **state)
{
	struct fake *f = *state;
	struct apply_lock_opts o = fake_opts(0);
	const char *scopes[] = { "a" };
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;

	f->mode = FAKE_HELD;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), ERR_LOCKED);
	assert_null(l);
	assert_string_equal(e.msg, "scope 'a' is locked by other pid 9\\x1b]0;x");
	/* tried once; the lease revoked */
	assert_int_equal(fake_count(f, &f->txns), 1);
	assert_int_equal(fake_count(f, &f->revokes), 1);
	err_clear(&e);

	/* waiting: tried again and again until the deadline */
	o = fake_opts(300);
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), ERR_LOCKED);
	assert_true(fake_count(f, &f->txns) >= 4);
	assert_int_equal(fake_count(f, &f->revokes), 2);
	err_clear(&e);
}

static void test_fake_wait_then_won(void **state)
{
	struct fake *f = *state;
	struct apply_lock_opts o = fake_opts(10000);
	const char *scopes[] = { "a" };
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;

	f->mode = FAKE_HELD_FREE;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), 0);
	assert_int_equal(fake_count(f, &f->txns), 4);
	assert_int_equal(apply_lock_release(l, &e), 0);

	/* a key already under our own lease (an answer lost) is ours */
	f->mode = FAKE_OURS;
	o = fake_opts(0);
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), 0);
	assert_int_equal(apply_lock_release(l, &e), 0);
}

/* The cloud under the guard: counts what reaches it. */
static int inner_calls;

static int inner_describe(void *ctx, const char *region, const struct tc_filter *filters,
			  size_t nfilters, const char *const *ids, size_t nids,
			  struct tc_instance_list *out, struct err *e)
{
	(void)ctx, (void)region, (void)filters, (void)nfilters, (void)ids, (void)nids,
		(void)out, (void)e;
	inner_calls++;
	return 0;
}

static int inner_observe(void *ctx, struct tc_region_obs *r, size_t n, struct err *e)
{
	(void)ctx, (void)r, (void)n, (void)e;
	inner_calls++;
	return 0;
}

static void inner_run(void *ctx, struct tc_call *calls, size_t n)
{
	(void)ctx, (void)calls, (void)n;
	inner_calls++;
}

static int inner_terminate(void *ctx, const char *region, const char *const *ids,
			   size_t n, struct err *e)
{
	(void)ctx, (void)region, (void)ids, (void)n, (void)e;
	inner_calls++;
	return 0;
}

static int64_t inner_now(void *ctx)
{
	(void)ctx;
	return 42;
}

static void inner_sleep(void *ctx, int64_t ms)
{
	(void)ctx, (void)ms;
}

static const struct apply_cloud_ops inner_ops = {
	inner_describe, inner_observe, inner_run, inner_terminate,
	inner_now,	inner_sleep,   NULL,
};

static void test_fake_lost_stops_guard(void **state)
{
	struct fake *f = *state;
	struct apply_lock_opts o = fake_opts(0);
	const char *scopes[] = { "a" };
	struct apply_cloud inner = { &inner_ops, NULL };
	struct apply_lock_guard g;
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;
	struct tc_call calls[2];
	const char *ids[] = { "ins-1" };

	f->mode = FAKE_EXPIRE;
	inner_calls = 0;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), 0);
	apply_lock_guard_init(&g, &inner, l);
	/* while it holds, everything passes */
	assert_int_equal(
		g.cloud.ops->describe(g.cloud.ctx, "r", NULL, 0, ids, 1, NULL, &e), 0);
	assert_int_equal(g.cloud.ops->terminate(g.cloud.ctx, "r", ids, 1, &e), 0);
	assert_int_equal(inner_calls, 2);
	/* the third keep-alive finds the lease gone */
	for (int64_t end = time_now_ms() + 10000; !apply_lock_check(l, &e);) {
		assert_true(time_now_ms() < end);
		usleep(20000);
	}
	assert_int_equal(e.code, ERR_LOCKED);
	assert_string_equal(
		e.msg,
		"the etcd lock on scope 'a' was lost: its lease expired or was revoked");
	err_clear(&e);
	/* then nothing reaches the cloud but the clock */
	memset(calls, 0, sizeof(calls));
	g.cloud.ops->run(g.cloud.ctx, calls, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(calls[i].err.code, ERR_LOCKED);
		assert_int_equal(calls[i].err.cls, ERR_CLASS_AUTH);
		err_clear(&calls[i].err);
	}
	assert_int_equal(g.cloud.ops->terminate(g.cloud.ctx, "r", ids, 1, &e),
			 ERR_LOCKED);
	err_clear(&e);
	assert_int_equal(g.cloud.ops->observe(g.cloud.ctx, NULL, 0, &e), ERR_LOCKED);
	err_clear(&e);
	assert_int_equal(
		g.cloud.ops->describe(g.cloud.ctx, "r", NULL, 0, ids, 1, NULL, &e),
		ERR_LOCKED);
	err_clear(&e);
	assert_int_equal(g.cloud.ops->now_ms(g.cloud.ctx), 42);
	assert_int_equal(inner_calls, 2);
	/* the lease is gone already: releasing is no error */
	assert_int_equal(apply_lock_release(l, &e), 0);
	assert_int_equal(fake_count(f, &f->revokes), 1);
}

static void test_fake_errors(void **state)
{
	struct fake *f = *state;
	struct apply_lock_opts o = fake_opts(0);
	const char *scopes[] = { "a" };
	const char *bad_scopes[] = { "a", "../x" };
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;

	f->mode = FAKE_GRANT_503;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), ERR_NET);
	assert_string_equal(
		e.msg, "etcd refused the lease grant: etcdserver: request timed out");
	err_clear(&e);
	f->mode = FAKE_HUGE;
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 1, &o, &e), ERR_TOOBIG);
	err_clear(&e);
	assert_int_equal(fake_count(f, &f->txns), 0);
	assert_int_equal(fake_count(f, &f->revokes), 0);

	assert_int_equal(apply_lock_acquire(&l, f->url, bad_scopes, 2, &o, &e),
			 ERR_INVALID);
	assert_string_equal(e.msg, "scope '../x' cannot name a lock");
	err_clear(&e);
	assert_int_equal(apply_lock_acquire(&l, f->url, scopes, 0, &o, &e), ERR_INVALID);
	err_clear(&e);
	assert_int_equal(
		apply_lock_acquire(&l, "etcd+http://192.0.2.1", scopes, 1, &o, &e),
		ERR_INVALID);
	err_clear(&e);
	assert_int_equal(fake_count(f, &f->grants), 2);
	assert_null(l);
	assert_int_equal(apply_lock_release(NULL, &e), 0);
}

static void test_unreachable(void **state)
{
	const char *scopes[] = { "a" };
	struct apply_lock_opts o = fake_opts(0);
	struct apply_lock *l = NULL;
	struct err e = ERR_INIT;
	struct fake *f = *state;
	char url[64];

	(void)state;
	/* a port nobody listens on: the fake's, once stopped */
	snprintf(url, sizeof(url), "%s", f->url);
	MHD_stop_daemon(f->d);
	f->d = NULL;
	assert_int_equal(apply_lock_acquire(&l, url, scopes, 1, &o, &e), ERR_NET);
	assert_non_null(strstr(e.msg, "cannot reach etcd at http://127.0.0.1:"));
	err_clear(&e);
	assert_null(l);
}

static int fake_teardown_stopped(void **state)
{
	struct fake *f = *state;

	if (f->d)
		MHD_stop_daemon(f->d);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_secrets_not_shown),
		cmocka_unit_test(test_key_and_base64),
		cmocka_unit_test(test_base64_refused),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_holder_and_scopes),
		cmocka_unit_test(test_parse_grant),
		cmocka_unit_test(test_parse_txn),
		cmocka_unit_test(test_parse_keepalive),
		cmocka_unit_test_setup_teardown(test_fake_acquire_release, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_held, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_wait_then_won, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_lost_stops_guard, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_fake_errors, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_unreachable, fake_setup,
						fake_teardown_stopped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
