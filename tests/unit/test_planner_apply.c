/* Unit tests for the pure parts of the applier (planner/apply.c). */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../planner/apply.h"

static void assert_token_shape(const char *t)
{
	assert_true(strlen(t) <= TC_MAX_CLIENT_TOKEN);
	assert_memory_equal(t, "sf-", 3);
	assert_int_equal(strlen(t), 43);
	for (const char *c = t + 3; *c; c++)
		assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
}

static void test_fallback_token_deterministic(void **state)
{
	char a[TC_MAX_CLIENT_TOKEN + 1], b[TC_MAX_CLIENT_TOKEN + 1];
	char c[TC_MAX_CLIENT_TOKEN + 1], d[TC_MAX_CLIENT_TOKEN + 1];
	const char *token = "se-0123456789abcdef0123456789abcdef01234567";

	(void)state;
	apply_fallback_token(a, token, 1, 1);
	apply_fallback_token(b, token, 1, 1);
	assert_string_equal(a, b); /* a re-run falls back with the same token */
	assert_token_shape(a);
	assert_string_not_equal(a, token);
	apply_fallback_token(c, token, 2, 1); /* another pool */
	assert_string_not_equal(a, c);
	apply_fallback_token(d, token, 1, 2); /* another hop */
	assert_string_not_equal(a, d);
	apply_fallback_token(d, "se-ffffffffffffffffffffffffffffffffffffffff", 1, 1);
	assert_string_not_equal(a, d); /* another original token */
}

static void test_result_clear_empty(void **state)
{
	struct apply_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	apply_result_clear(&r);
	apply_result_clear(NULL);
	assert_int_equal(r.nenvs, 0);
	assert_null(r.envs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback_token_deterministic),
		cmocka_unit_test(test_result_clear_empty),
	};
	return cmocka_run_group_tests_name("apply", tests, NULL, NULL);
}
