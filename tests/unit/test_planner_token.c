/*
 * Unit tests for planner/token.c: every ClientToken derivation.  The
 * expected values were computed independently (Python's hashlib over the
 * documented strings), so a change to a derivation, which would change
 * every token of a running fleet, fails here.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../planner/token.h"

static void assert_token_shape(const char *t, const char *prefix)
{
	assert_true(strlen(t) <= TC_MAX_CLIENT_TOKEN);
	assert_int_equal(strlen(t), PLAN_TOKEN_LEN);
	assert_memory_equal(t, prefix, 3);
	for (const char *c = t + 3; *c; c++)
		assert_true((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'));
}

static void test_launch_token_pinned(void **state)
{
	char a[TC_MAX_CLIENT_TOKEN + 1], b[TC_MAX_CLIENT_TOKEN + 1];

	(void)state;
	plan_token_launch(a, "web", "default", "basis0", 1, 0);
	assert_string_equal(a, "se-dceac10bbf88932803dfa6741a27cd6446537f4c");
	assert_token_shape(a, "se-");
	plan_token_launch(b, "web", "default", "basis0", 1, 1); /* another chunk */
	assert_string_not_equal(a, b);
	plan_token_launch(b, "web", "other", "basis0", 1, 0); /* another scope */
	assert_string_not_equal(a, b);
	plan_token_launch(b, "web", "default", "basis1", 1, 0); /* another basis */
	assert_string_not_equal(a, b);
}

static void test_fallback_token_deterministic(void **state)
{
	char a[TC_MAX_CLIENT_TOKEN + 1], b[TC_MAX_CLIENT_TOKEN + 1];
	char c[TC_MAX_CLIENT_TOKEN + 1], d[TC_MAX_CLIENT_TOKEN + 1];
	const char *token = "se-0123456789abcdef0123456789abcdef01234567";

	(void)state;
	plan_token_fallback(a, token, 1, 1);
	assert_string_equal(a, "sf-e78f3e8553f6c9ebd07c58c63d31546fb79a1ad9");
	plan_token_fallback(b, token, 1, 1);
	assert_string_equal(a, b); /* a re-run falls back with the same token */
	assert_token_shape(a, "sf-");
	plan_token_fallback(c, token, 2, 1); /* another pool */
	assert_string_not_equal(a, c);
	plan_token_fallback(d, token, 1, 2); /* another hop */
	assert_string_not_equal(a, d);
	plan_token_fallback(d, "se-ffffffffffffffffffffffffffffffffffffffff", 1, 1);
	assert_string_not_equal(a, d); /* another original token */
}

static void test_relaunch_token_chains_in_place(void **state)
{
	char t[TC_MAX_CLIENT_TOKEN + 1] = "se-0123456789abcdef0123456789abcdef01234567";
	char first[TC_MAX_CLIENT_TOKEN + 1];

	(void)state;
	plan_token_relaunch(t, t, "ins-abc"); /* out may be prev */
	assert_string_equal(t, "sr-fa1660db65423f444f7fb88d1944686220256538");
	assert_token_shape(t, "sr-");
	memcpy(first, t, sizeof(t));
	plan_token_relaunch(t, t, "ins-def");
	assert_string_not_equal(t, first); /* every id moves the chain */
	assert_token_shape(t, "sr-");
}

static void test_partial_token(void **state)
{
	char a[TC_MAX_CLIENT_TOKEN + 1], b[TC_MAX_CLIENT_TOKEN + 1];
	const char *base = "se-0123456789abcdef0123456789abcdef01234567";

	(void)state;
	plan_token_partial(a, base, 1, 2);
	assert_string_equal(a, "sp-36c781535227472be33347f76918367a9b19d11c");
	assert_token_shape(a, "sp-");
	plan_token_partial(b, base, 2, 2); /* another step */
	assert_string_not_equal(a, b);
	plan_token_partial(b, base, 1, 1); /* another count */
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_token_pinned),
		cmocka_unit_test(test_fallback_token_deterministic),
		cmocka_unit_test(test_relaunch_token_chains_in_place),
		cmocka_unit_test(test_partial_token),
	};
	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
