/*
 * Unit tests for provider/cred.c: the credential chain (environment, SDK
 * INI file, tccli file), its order, profiles and its errors.  Each test
 * runs with a fresh temporary HOME and a clean environment.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include "../../provider/tc.h"

static char home[256];

static const char *const vars[] = {
	"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN",
	"TENCENTCLOUD_SECURITY_TOKEN", "TENCENTCLOUD_TOKEN", "TENCENTCLOUD_PROFILE",
	"TENCENTCLOUD_CREDENTIALS_FILE",
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
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

static const char INI[] =
	"# comment\n"
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

static const char TCCLI[] = "{\"secretId\": \"AKIDtccli\", \"secretKey\": \"tcclikey\", \"token\": \"tt\"}";

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
	assert_non_null(strstr(e.msg, "'TENCENTCLOUD_SECRET_KEY' is set but 'TENCENTCLOUD_SECRET_ID' is not"));
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
	write_file("other.ini", "[default]\nsecret_id = AKIDother\nsecret_key = otherkey\n");
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
	assert_null(strstr(e.msg, "inikey"));
	err_clear(&e);
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
	write_file(".tccli/default.credential", "{\"type\": \"cvm-role\"}");
	assert_int_equal(tc_cred_load(&c, NULL, &e), ERR_AUTH);
	assert_non_null(strstr(e.msg, "CVM role"));
	err_clear(&e);
	write_file(".tccli/default.credential", "{\"secretId\": \"AKID\", \"secretKey\": 5}");
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
		cmocka_unit_test_setup_teardown(test_credentials_file_var, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_found_names_places, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tccli_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
