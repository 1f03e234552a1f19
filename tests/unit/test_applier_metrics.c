/*
 * Unit tests for applier/metrics.c: active instances after an apply, the
 * figure behind the spotenv_active_instances gauge.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../applier/apply.h"

/* An environment the plan found with `active` instances and these releases. */
struct fixture {
	struct plan_env env;
	struct plan_release rel[8];
	struct apply_env_result er;
};

static void setup_env(struct fixture *f, int active, const enum plan_reason *reasons,
		      size_t nreleases)
{
	assert_true(nreleases <= ARRAY_SIZE(f->rel));
	memset(f, 0, sizeof(*f));
	f->env.name = (char *)"web";
	f->env.active = active;
	for (size_t i = 0; i < nreleases; i++)
		f->rel[i].reason = reasons[i];
	f->env.releases = f->rel;
	f->env.nreleases = nreleases;
	f->er.env = (char *)"web";
}

static void test_nothing_done(void **state)
{
	struct fixture f;

	(void)state;
	setup_env(&f, 3, NULL, 0);
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 3);
	assert_int_equal(apply_active_after(&f.env, &f.er, false), 3);
}

static void test_launches_count_when_running_or_not_waited(void **state)
{
	struct fixture f;

	(void)state;
	setup_env(&f, 1, NULL, 0);
	f.er.launched = 4;
	f.er.running = 3; /* one still pending (or failed) when the wait ended */
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 4);
	/* --no-wait: every launched instance is on its way */
	assert_int_equal(apply_active_after(&f.env, &f.er, false), 5);
}

static void test_failed_releases_take_nothing_away(void **state)
{
	static const enum plan_reason r[] = { PLAN_REASON_FAILED, PLAN_REASON_FAILED,
					      PLAN_REASON_EXCESS };
	struct fixture f;

	(void)state;
	/* 4 active; 2 failed instances (not active) and 1 excess released */
	setup_env(&f, 4, r, ARRAY_SIZE(r));
	f.er.released = 3;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 3);
	/* only the failed ones went: still 4 */
	f.er.released = 2;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 4);
	/* fewer released than failed planned (some already gone): still 4 */
	f.er.released = 1;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 4);
}

static void test_replacement(void **state)
{
	static const enum plan_reason r[] = { PLAN_REASON_DRIFT, PLAN_REASON_DRIFT };
	struct fixture f;

	(void)state;
	/* 2 drifted of 2 active, replaced: 2 launched and running, 2 released */
	setup_env(&f, 2, r, ARRAY_SIZE(r));
	f.er.launched = 2;
	f.er.running = 2;
	f.er.released = 2;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 2);
	/* replacements never came up: the drifted ones were kept */
	f.er.running = 0;
	f.er.released = 0;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 2);
}

static void test_destroy_and_orphans_end_at_zero(void **state)
{
	static const enum plan_reason r[] = { PLAN_REASON_DESTROY, PLAN_REASON_DESTROY,
					      PLAN_REASON_ORPHAN };
	struct fixture f;

	(void)state;
	setup_env(&f, 3, r, ARRAY_SIZE(r));
	f.er.released = 3;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 0);
}

static void test_never_negative(void **state)
{
	static const enum plan_reason r[] = { PLAN_REASON_EXCESS, PLAN_REASON_EXCESS };
	struct fixture f;

	(void)state;
	/* more released than the plan saw active (instances that came up since) */
	setup_env(&f, 1, r, ARRAY_SIZE(r));
	f.er.released = 2;
	assert_int_equal(apply_active_after(&f.env, &f.er, true), 0);
	assert_int_equal(apply_active_after(&f.env, &f.er, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_done),
		cmocka_unit_test(test_launches_count_when_running_or_not_waited),
		cmocka_unit_test(test_failed_releases_take_nothing_away),
		cmocka_unit_test(test_replacement),
		cmocka_unit_test(test_destroy_and_orphans_end_at_zero),
		cmocka_unit_test(test_never_negative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
