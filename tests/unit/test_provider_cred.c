/*
 * Unit tests for provider/cred.c and cred_remote.c: the credential chain
 * (environment, web identity, SDK INI file, tccli file, CVM role), its
 * order, profiles and its errors, role ARNs, the parsers of the metadata
 * and STS answers (bad ones too), the refresh rule, and the metadata
 * probe's time budget (against loopback listeners that never answer).
 * Each test runs with a fresh temporary HOME and a clean environment, the
 * CVM role off unless a test turns it on (no network beyond loopback).
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include "../../provider/tc.h"

static char home[256];

static const char *const vars[] = {
	"TENCENTCLOUD_SECRET_ID",
	"TENCENTCLOUD_SECRET_KEY",
	"TENCENTCLOUD_SESSION_TOKEN",
	"TENCENTCLOUD_SECURITY_TOKEN",
	"TENCENTCLOUD_TOKEN",
	"TENCENTCLOUD_PROFILE",
	"TENCENTCLOUD_CREDENTIALS_FILE",
	"TENCENTCLOUD_ROLE_ARN",
	"TENCENTCLOUD_ROLE_SESSION_NAME",
	"TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE",
	"TENCENTCLOUD_PROVIDER_ID",
	"TENCENTCLOUD_REGION",
	"TKE_PROVIDER_ID",
	"TKE_WEB_IDENTITY_TOKEN_FILE",
	"TKE_ROLE_ARN",
	"TKE_REGION",
	"SPOTENV_STS_ENDPOINT",
};

static void write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char dir[300];

	(void)state;
	snprintf(home, sizeof(home), "/tmp/spotenv-cred-XXXXXX");
	if (!mkdtemp(home))
		return -1;
	snprintf(dir, sizeof(dir), "%s/.tencentcloud", home);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.tccli", home);
	mkdir(dir, 0700);
	setenv("HOME", home, 1);
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
	setenv("SPOTENV_METADATA_ENDPOINT", "off", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

static const char INI[] = "# comment\n"
			  "[default]\n"
			  "secret_id = AKIDini\n"
			  "secret_key = inikey\n"
			  "\n"
			  "[prod]\n"
			  "secret_id=AKIDprod\n"
			  "secret_key=\"prodkey\"\n"
			  "token = prodtoken\n"
			  "[half]\n"
			  "secret_id = AKIDhalf\n";

static const char TCCLI[] =
	"{\"secretId\": \"AKIDtccli\", \"secretKey\": \"tcclikey\", \"token\": \"tt\"}";

static void test_env_first(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tencentcloud/credentials", INI);
	write_file(".tccli/default.credential", TCCLI);
	setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv", 1);
	setenv("TENCENTCLOUD_SECRET_KEY", "envkey", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.secret_id, "AKIDenv");
	assert_string_equal(c.secret_key, "envkey");
	assert_null(c.token);
	assert_string_equal(c.source, "environment");
	tc_cred_clear(&c);
	assert_null(c.secret_key);
}

static void test_env_tokens(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv", 1);
	setenv("TENCENTCLOUD_SECRET_KEY", "envkey", 1);
	setenv("TENCENTCLOUD_TOKEN", "t3", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.token, "t3");
	tc_cred_clear(&c);
	setenv("TENCENTCLOUD_SECURITY_TOKEN", "t2", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.token, "t2");
	tc_cred_clear(&c);
	setenv("TENCENTCLOUD_SESSION_TOKEN", "t1", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.token, "t1");
	tc_cred_clear(&c);
}

static void test_env_half_is_error(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tencentcloud/credentials", INI);
	setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "TENCENTCLOUD_SECRET_KEY"));
	assert_null(c.secret_id);
	err_clear(&e);
	unsetenv("TENCENTCLOUD_SECRET_ID");
	setenv("TENCENTCLOUD_SECRET_KEY", "envkey", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(
		e.msg,
		"'TENCENTCLOUD_SECRET_KEY' is set but 'TENCENTCLOUD_SECRET_ID' is not"));
	assert_null(strstr(e.msg, "envkey"));
	err_clear(&e);
}

static void test_ini_beats_tccli(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;
	char want[400];

	(void)state;
	write_file(".tencentcloud/credentials", INI);
	write_file(".tccli/default.credential", TCCLI);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.secret_id, "AKIDini");
	assert_string_equal(c.secret_key, "inikey");
	assert_null(c.token);
	snprintf(want, sizeof(want), "'%s/.tencentcloud/credentials' [default]", home);
	assert_string_equal(c.source, want);
	tc_cred_clear(&c);
}

static void test_profiles(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tencentcloud/credentials", INI);
	write_file(".tccli/staging.credential", TCCLI);
	/* argument */
	assert_int_equal(tc_cred_load(&c, "prod", &e), 0);
	assert_string_equal(c.secret_id, "AKIDprod");
	assert_string_equal(c.secret_key, "prodkey");
	assert_string_equal(c.token, "prodtoken");
	tc_cred_clear(&c);
	/* TENCENTCLOUD_PROFILE, and a profile only tccli knows */
	setenv("TENCENTCLOUD_PROFILE", "staging", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.secret_id, "AKIDtccli");
	assert_string_equal(c.secret_key, "tcclikey");
	assert_string_equal(c.token, "tt");
	assert_non_null(strstr(c.source, ".tccli/staging.credential"));
	tc_cred_clear(&c);
	/* the argument wins over the variable */
	assert_int_equal(tc_cred_load(&c, "prod", &e), 0);
	assert_string_equal(c.secret_id, "AKIDprod");
	tc_cred_clear(&c);
	/* a section without secret_key is an error, not a fall-through */
	assert_int_equal(tc_cred_load(&c, "half", &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "[half] lacks 'secret_key'"));
	err_clear(&e);
	/* a path-like profile is refused */
	assert_int_equal(tc_cred_load(&c, "../x", &e), ERR_INVALID);
	err_clear(&e);
}

static void test_credentials_file_var(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;
	char path[400];

	(void)state;
	write_file("other.ini",
		   "[default]\nsecret_id = AKIDother\nsecret_key = otherkey\n");
	write_file(".tencentcloud/credentials", INI);
	snprintf(path, sizeof(path), "%s/other.ini", home);
	setenv("TENCENTCLOUD_CREDENTIALS_FILE", path, 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_string_equal(c.secret_id, "AKIDother");
	tc_cred_clear(&c);
}

static void test_nothing_found_names_places(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;
	char want[400];

	(void)state;
	write_file(".tencentcloud/credentials", INI); /* no [ci] section */
	assert_int_equal(tc_cred_load(&c, "ci", &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "TENCENTCLOUD_SECRET_ID"));
	snprintf(want, sizeof(want), "'%s/.tencentcloud/credentials' [ci]", home);
	assert_non_null(strstr(e.msg, want));
	snprintf(want, sizeof(want), "'%s/.tccli/ci.credential'", home);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, "web identity"));
	assert_non_null(strstr(e.msg, "the CVM role"));
	assert_null(strstr(e.msg, "inikey"));
	err_clear(&e);
}

/* With the CVM role on, the chain ends there: fetched later, places kept. */
static void test_cvm_role_last_resort(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	setenv("SPOTENV_METADATA_ENDPOINT", "http://127.0.0.1:1/", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_null(c.secret_id);
	assert_non_null(c.spec);
	assert_true(tc_cred_due(&c, 1000));
	assert_non_null(strstr(c.source, "CVM role"));
	assert_non_null(strstr(c.source, "http://127.0.0.1:1'"));
	/* refused at once: the error lists every place */
	assert_int_equal(tc_cred_fetch(&c, NULL, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "no Tencent Cloud credentials found"));
	assert_non_null(strstr(e.msg, ".tccli/default.credential'"));
	assert_non_null(strstr(e.msg, "the CVM role at 'http://127.0.0.1:1'"));
	err_clear(&e);
	tc_cred_clear(&c);
	/* plain http elsewhere is refused */
	setenv("SPOTENV_METADATA_ENDPOINT", "http://metadata.example.com", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_int_equal(tc_cred_fetch(&c, NULL, NULL, &e), ERR_INVALID);
	assert_non_null(strstr(e.msg, "plain http"));
	err_clear(&e);
	tc_cred_clear(&c);
}

static void test_tccli_cvm_role_and_role_arn(void **state)
{
	struct tc_cred c, copy;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tccli/default.credential",
		   "{\"type\": \"cvm-role\", \"role-name\": \"r1\"}");
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_non_null(c.spec);
	assert_null(c.secret_id);
	assert_non_null(strstr(c.source, "cvm-role"));
	assert_non_null(strstr(c.source, "'r1'"));
	tc_cred_clear(&c);

	write_file(
		".tccli/default.credential",
		"{\"secretId\": \"AKIDbase\", \"secretKey\": \"basekey\", "
		"\"role-arn\": \"qcs::cam::uin/1:roleName/r\", \"role-session-name\": \"s\"}");
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_non_null(c.spec);
	assert_null(c.secret_id);
	assert_non_null(strstr(c.source, "AssumeRole 'qcs::cam::uin/1:roleName/r'"));
	assert_null(strstr(c.source, "basekey"));
	tc_cred_copy(&copy, &c);
	assert_non_null(copy.spec);
	assert_string_equal(copy.source, c.source);
	tc_cred_clear(&copy);
	tc_cred_clear(&c);

	/* the environment's role ARN applies to the environment's keys */
	setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv", 1);
	setenv("TENCENTCLOUD_SECRET_KEY", "envkey", 1);
	setenv("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/e", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_non_null(strstr(c.source, "with the keys of environment"));
	tc_cred_clear(&c);

	write_file(".tccli/default.credential", "{\"type\": \"other\"}");
	unsetenv("TENCENTCLOUD_SECRET_ID");
	unsetenv("TENCENTCLOUD_SECRET_KEY");
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "unknown 'type'"));
	err_clear(&e);
}

static void test_web_identity_env(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tencentcloud/credentials", INI);
	setenv("TKE_PROVIDER_ID", "p", 1);
	setenv("TKE_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "'TKE_ROLE_ARN'"));
	err_clear(&e);
	setenv("TKE_ROLE_ARN", "qcs::cam::uin/1:roleName/tke", 1);
	/* before the files */
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_non_null(strstr(c.source, "web identity (TKE_WEB_IDENTITY_TOKEN_FILE"));
	/* the token file is read at fetch time; a missing one is named */
	assert_int_equal(tc_cred_fetch(&c, NULL, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "/nonexistent/token"));
	err_clear(&e);
	tc_cred_clear(&c);
	unsetenv("TKE_PROVIDER_ID");
	unsetenv("TKE_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("TKE_ROLE_ARN");
	setenv("TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE", "/t", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "'TENCENTCLOUD_PROVIDER_ID'"));
	err_clear(&e);
	setenv("TENCENTCLOUD_PROVIDER_ID", "gh", 1);
	setenv("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/ci", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_non_null(strstr(c.source, "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE '/t'"));
	tc_cred_clear(&c);
}

#define NOW 1800000000

static void test_parse_metadata(void **state)
{
	struct tc_cred c = { 0 };
	struct err e = ERR_INIT;
	char good[400];
	const char *bad[] = {
		"<html>not found</html>",
		"spotenv-role",
		"{\"TmpSecretId\":\"AKIDt\",\"TmpSecretKey\":\"k\",\"Token\":\"t\","
		"\"ExpiredTime\":1800000600,\"Code\":\"Failure\"}",
		"{\"TmpSecretKey\":\"k\",\"Token\":\"t\",\"ExpiredTime\":1800000600,"
		"\"Code\":\"Success\"}",
		"{\"TmpSecretId\":\"AKIDt\",\"TmpSecretKey\":\"k\",\"ExpiredTime\":1800000600,"
		"\"Code\":\"Success\"}",
		"{\"TmpSecretId\":\"AKIDt\",\"TmpSecretKey\":\"k\",\"Token\":\"t\","
		"\"Code\":\"Success\"}",
		"{\"TmpSecretId\":\"AKIDt\",\"TmpSecretKey\":\"secretk\",\"Token\":\"tok\","
		"\"ExpiredTime\":1799999999,\"Code\":\"Success\"}",
	};
	const char *want[] = { "not a JSON object", "not a JSON object", "not 'Success'",
			       "'TmpSecretId'",	    "'Token'",		 "'ExpiredTime'",
			       "expired already" };

	(void)state;
	snprintf(
		good, sizeof(good),
		"{\"TmpSecretId\":\"AKIDt\",\"TmpSecretKey\":\"secretk\",\"Token\":\"tok\","
		"\"ExpiredTime\":%d,\"Expiration\":\"x\",\"Code\":\"Success\"}",
		NOW + 600);
	assert_int_equal(tc_cred_parse_metadata(&c, good, strlen(good), NOW, &e), 0);
	assert_string_equal(c.secret_id, "AKIDt");
	assert_string_equal(c.secret_key, "secretk");
	assert_string_equal(c.token, "tok");
	assert_int_equal(c.expires, NOW + 600);
	assert_int_equal(c.issued, NOW);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(
			tc_cred_parse_metadata(&c, bad[i], strlen(bad[i]), NOW, &e),
			ERR_AUTH);
		assert_non_null(strstr(e.msg, want[i]));
		assert_null(strstr(e.msg, "secretk"));
		assert_null(strstr(e.msg, "tok\""));
		err_clear(&e);
		/* a bad answer leaves the old keys */
		assert_string_equal(c.secret_id, "AKIDt");
	}
	tc_cred_clear(&c);
}

static void test_parse_sts(void **state)
{
	struct tc_cred c = { 0 };
	struct err e = ERR_INIT;
	char good[400];
	static const char error[] =
		"{\"Response\":{\"Error\":{\"Code\":\"InvalidParameter.RoleArn\","
		"\"Message\":\"no such role\"},\"RequestId\":\"r-1\"}}";
	const char *bad[] = {
		"not json",
		"{\"Response\":{\"ExpiredTime\":1800000600,\"RequestId\":\"r\"}}",
		"{\"Response\":{\"Credentials\":{\"TmpSecretId\":\"AKIDs\",\"TmpSecretKey\":"
		"\"sk\"},\"ExpiredTime\":1800000600}}",
		"{\"Response\":{\"Credentials\":{\"Token\":\"t\",\"TmpSecretId\":\"AKIDs\","
		"\"TmpSecretKey\":\"sk\"},\"ExpiredTime\":\"soon\"}}",
		"{\"Response\":{\"Credentials\":{\"Token\":\"t\",\"TmpSecretId\":\"AKIDs\","
		"\"TmpSecretKey\":\"sk\"},\"ExpiredTime\":1700000000}}",
	};
	const char *want[] = { "'Response'", "'Credentials'", "'Token'", "'ExpiredTime'",
			       "expired already" };

	(void)state;
	snprintf(
		good, sizeof(good),
		"{\"Response\":{\"Credentials\":{\"Token\":\"tok\",\"TmpSecretId\":\"AKIDs\","
		"\"TmpSecretKey\":\"sk\"},\"ExpiredTime\":\"%d\",\"Expiration\":\"x\","
		"\"RequestId\":\"r\"}}",
		NOW + 20);
	assert_int_equal(tc_cred_parse_sts(&c, good, strlen(good), NOW, &e), 0);
	assert_string_equal(c.secret_id, "AKIDs");
	assert_string_equal(c.token, "tok");
	assert_int_equal(c.expires, NOW + 20);
	assert_int_equal(tc_cred_parse_sts(&c, error, strlen(error), NOW, &e), ERR_API);
	assert_string_equal(e.api_code, "InvalidParameter.RoleArn");
	assert_string_equal(e.request_id, "r-1");
	err_clear(&e);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(tc_cred_parse_sts(&c, bad[i], strlen(bad[i]), NOW, &e) < 0);
		assert_non_null(strstr(e.msg, want[i]));
		assert_null(strstr(e.msg, "sk"));
		err_clear(&e);
	}
	tc_cred_clear(&c);
}

/* 5 minutes early, or at half the life when that is shorter than 10 minutes. */
static void test_refresh_rule(void **state)
{
	struct tc_cred c = { 0 };
	struct err e = ERR_INIT;

	(void)state;
	c.secret_id = xstrdup("AKID");
	c.secret_key = xstrdup("k");
	assert_false(tc_cred_due(&c, NOW)); /* long-lived keys: never */
	setenv("SPOTENV_METADATA_ENDPOINT", "http://127.0.0.1:1", 1);
	tc_cred_clear(&c);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	assert_true(tc_cred_due(&c, NOW)); /* nothing fetched yet */
	c.secret_id = xstrdup("AKIDt");
	c.secret_key = xstrdup("k");
	c.issued = NOW;
	c.expires = NOW + 7200;
	assert_false(tc_cred_due(&c, NOW + 7200 - 301));
	assert_true(tc_cred_due(&c, NOW + 7200 - 300));
	c.expires = NOW + 10;
	assert_false(tc_cred_due(&c, NOW + 4));
	assert_true(tc_cred_due(&c, NOW + 5));
	tc_cred_clear(&c);
}

/* A renewal that fails while the keys are valid waits a quarter of what is left. */
static void test_renewal_failure_waits(void **state)
{
	struct tc_cred c = { 0 };
	struct err e = ERR_INIT;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	setenv("SPOTENV_METADATA_ENDPOINT", "http://127.0.0.1:1", 1);
	assert_int_equal(tc_cred_load(&c, NULL, &e), 0);
	c.secret_id = xstrdup("AKIDold");
	c.secret_key = xstrdup("oldkey");
	c.token = xstrdup("oldtoken");
	c.issued = now - 7000;
	c.expires = now + 100;
	assert_true(tc_cred_due(&c, now));
	assert_int_equal(tc_cred_fetch(&c, NULL, NULL, &e), ERR_AUTH);
	err_clear(&e);
	/* the old keys stay, and are not due for 25 s */
	assert_string_equal(c.secret_id, "AKIDold");
	assert_string_equal(c.token, "oldtoken");
	assert_false(tc_cred_due(&c, now + 1));
	assert_true(tc_cred_due(&c, now + 26));
	tc_cred_clear(&c);
}

/* ---------------------------------------------------------------------
 * The metadata probe's budget: loopback listeners that never answer.
 */

/* A loopback listener; its port in *port. */
static int listener(int *port)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Wait up to ms for fd to be readable; false on timeout. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1;
}

/*
 * A metadata service that answers the role-name GET after answer_ms, then
 * accepts the role GET and never answers it (until the client hangs up).
 */
struct slow_meta {
	int fd;
	int answer_ms;
};

static void *slow_meta_serve(void *arg)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 9\r\nConnection: close\r\n\r\n"
				     "slow-role";
	const struct slow_meta *m = arg;
	char req[4096];
	int c;

	if (!readable(m->fd, 5000) || (c = accept(m->fd, NULL, NULL)) < 0)
		return NULL;
	if (readable(c, 5000) && read(c, req, sizeof(req)) > 0) {
		ssize_t w;

		poll(NULL, 0, m->answer_ms);
		w = write(c, answer, sizeof(answer) - 1);
		(void)w;
	}
	close(c);
	if (!readable(m->fd, 5000) || (c = accept(m->fd, NULL, NULL)) < 0)
		return NULL;
	/* silent: read until the client gives up and closes */
	while (readable(c, 5000) && read(c, req, sizeof(req)) > 0)
		;
	close(c);
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Fetch the chain's last resort at port; the time it took in ms. */
static int64_t probe(int port, struct err *e)
{
	struct tc_cred c;
	char url[64];
	int64_t t0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	setenv("SPOTENV_METADATA_ENDPOINT", url, 1);
	assert_int_equal(tc_cred_load(&c, NULL, e), 0);
	t0 = mono_ms();
	assert_int_equal(tc_cred_fetch(&c, NULL, NULL, e), ERR_AUTH);
	t0 = mono_ms() - t0;
	assert_null(c.secret_id);
	tc_cred_clear(&c);
	return t0;
}

/*
 * Off a CVM the chain falls through well under 1 s: one budget for the
 * whole probe, whether the service accepts and stays silent, or answers
 * the role name slowly and then stays silent on the role.
 */
static void test_metadata_budget(void **state)
{
	struct err e = ERR_INIT;
	struct slow_meta m = { -1, 400 };
	pthread_t th;
	int port, fd;
	int64_t ms;

	(void)state;
	/* accepted by the kernel, never answered */
	fd = listener(&port);
	ms = probe(port, &e);
	assert_non_null(strstr(e.msg, "no Tencent Cloud credentials found"));
	assert_non_null(strstr(e.msg, "(no answer: "));
	err_clear(&e);
	print_message("silent metadata service: %lld ms\n", (long long)ms);
	assert_true(ms < 900);
	close(fd);

	/* the role name after 400 ms, then silence: both GETs share the budget */
	m.fd = listener(&port);
	assert_int_equal(pthread_create(&th, NULL, slow_meta_serve, &m), 0);
	ms = probe(port, &e);
	assert_non_null(strstr(e.msg, "(no answer for role 'slow-role': "));
	err_clear(&e);
	print_message("slow role name, silent role: %lld ms\n", (long long)ms);
	assert_true(ms >= 400);
	assert_true(ms < 900);
	pthread_join(th, NULL);
	close(m.fd);
}

static void test_tccli_errors(void **state)
{
	struct tc_cred c;
	struct err e = ERR_INIT;

	(void)state;
	write_file(".tccli/default.credential", "{\"secretId\": \"AKID\"");
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "is not a JSON object"));
	err_clear(&e);
	write_file(".tccli/default.credential", "{\"secretId\": \"AKID\"}");
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "lacks 'secretKey'"));
	err_clear(&e);
	write_file(".tccli/default.credential",
		   "{\"secretId\": \"AKID\", \"secretKey\": 5}");
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "not a string"));
	err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_env_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_half_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ini_beats_tccli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_file_var, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_found_names_places, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tccli_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cvm_role_last_resort, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tccli_cvm_role_and_role_arn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_web_identity_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_sts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_failure_waits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_metadata_budget, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
