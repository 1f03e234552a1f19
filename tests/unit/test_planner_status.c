/*
 * Unit tests for planner/status.c: the per-environment and per-pool state
 * counts of `spotenv status`, and the word for where an environment stands.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../planner/plan.h"

#define SPEC_HEAD                                                                        \
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata:\n"                     \
	"  name: web\nspec:\n  region: ap-guangzhou\n"

/* Two pools, capacity 4. */
static const char *const spec_text =
	SPEC_HEAD "  capacity: 4\n  maxPrice: \"0.50\"\n  image: img-aaaaaaaa\n"
		  "  pools:\n    - zone: ap-guangzhou-3\n      instanceType: S5.MEDIUM4\n"
		  "    - zone: ap-guangzhou-4\n      instanceType: S5.MEDIUM4\n";

/*
 * Append an instance to obs; env or scope NULL leaves that tag off.
 * Strings are copied (obs owns them).
 */
static void add(struct plan_observed *obs, const char *id, const char *state,
		const char *zone, const char *type, const char *env, const char *scope)
{
	struct tc_instance_list list = { NULL, 0, 0 };
	struct tc_instance *in;

	ALLOC_GROW(list.v, 1, list.alloc);
	in = &list.v[list.n++];
	memset(in, 0, sizeof(*in));
	in->id = xstrdup(id);
	in->state = state ? xstrdup(state) : NULL;
	in->region = xstrdup("ap-guangzhou");
	in->zone = zone ? xstrdup(zone) : NULL;
	in->type = type ? xstrdup(type) : NULL;
	in->tags = xcalloc(2, sizeof(*in->tags));
	if (env) {
		in->tags[in->ntags].key = xstrdup(PLAN_TAG_ENV);
		in->tags[in->ntags++].value = xstrdup(env);
	}
	if (scope) {
		in->tags[in->ntags].key = xstrdup(PLAN_TAG_SCOPE);
		in->tags[in->ntags++].value = xstrdup(scope);
	}
	plan_observed_add_instances(obs, &list);
	tc_instance_list_clear(&list);
}

static void web(struct plan_observed *obs, const char *id, const char *state,
		const char *zone)
{
	add(obs, id, state, zone, "S5.MEDIUM4", "web", "default");
}

static struct plan_env env_named(const char *name, const char *scope)
{
	struct plan_env env;

	memset(&env, 0, sizeof(env));
	env.name = (char *)name;
	env.scope = (char *)scope;
	return env;
}

static void expect(const struct plan_status_counts *k, int running, int pending,
		   int failed, int leaving)
{
	assert_int_equal(k->running, running);
	assert_int_equal(k->pending, pending);
	assert_int_equal(k->failed, failed);
	assert_int_equal(k->leaving, leaving);
}

static void test_counts_by_state_class(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_env env = env_named("web", "default");
	struct plan_status_counts k;

	(void)state;
	web(&obs, "ins-1", "RUNNING", "ap-guangzhou-3");
	web(&obs, "ins-2", "RUNNING", "ap-guangzhou-3");
	web(&obs, "ins-3", "PENDING", "ap-guangzhou-3");
	web(&obs, "ins-4", "STARTING", "ap-guangzhou-3");
	web(&obs, "ins-5", "REBOOTING", "ap-guangzhou-3");
	web(&obs, "ins-6", "LAUNCH_FAILED", "ap-guangzhou-3");
	web(&obs, "ins-7", "STOPPED", "ap-guangzhou-3");
	web(&obs, "ins-8", "STOPPING", "ap-guangzhou-3");
	web(&obs, "ins-9", "SHUTDOWN", "ap-guangzhou-3");
	web(&obs, "ins-a", "TERMINATING", "ap-guangzhou-3");
	plan_status_counts(&k, &obs, &env, NULL);
	expect(&k, 2, 3, 3, 2);
	plan_observed_clear(&obs);
}

static void test_unusual_and_missing_states_are_pending(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_env env = env_named("web", "default");
	struct plan_status_counts k;

	(void)state;
	web(&obs, "ins-1", "HIBERNATING", "ap-guangzhou-3");
	web(&obs, "ins-2", NULL, "ap-guangzhou-3");
	web(&obs, "ins-3", "", "ap-guangzhou-3");
	web(&obs, "ins-4", "running", "ap-guangzhou-3"); /* states are case-sensitive */
	plan_status_counts(&k, &obs, &env, NULL);
	expect(&k, 0, 4, 0, 0);
	plan_observed_clear(&obs);
}

static void test_only_the_environment_in_its_scope(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_env env = env_named("web", "default");
	struct plan_env other = env_named("web", "staging");
	struct plan_status_counts k;

	(void)state;
	web(&obs, "ins-1", "RUNNING", "ap-guangzhou-3");
	add(&obs, "ins-2", "RUNNING", "ap-guangzhou-3", "S5.MEDIUM4", "api", "default");
	add(&obs, "ins-3", "RUNNING", "ap-guangzhou-3", "S5.MEDIUM4", "web", "staging");
	add(&obs, "ins-4", "RUNNING", "ap-guangzhou-3", "S5.MEDIUM4", "web", NULL);
	add(&obs, "ins-5", "RUNNING", "ap-guangzhou-3", "S5.MEDIUM4", NULL, "default");
	add(&obs, "ins-6", "STOPPED", "ap-guangzhou-3", "S5.MEDIUM4", "web", "staging");
	plan_status_counts(&k, &obs, &env, NULL);
	expect(&k, 1, 0, 0, 0);
	plan_status_counts(&k, &obs, &other, NULL);
	expect(&k, 1, 0, 1, 0);
	plan_observed_clear(&obs);
}

static void test_pool_matches_zone_and_type(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_env env = env_named("web", "default");
	struct plan_pool pool;
	struct plan_status_counts k;

	(void)state;
	memset(&pool, 0, sizeof(pool));
	pool.zone = (char *)"ap-guangzhou-3";
	pool.type = (char *)"S5.MEDIUM4";
	web(&obs, "ins-1", "RUNNING", "ap-guangzhou-3");
	web(&obs, "ins-2", "PENDING", "ap-guangzhou-3");
	web(&obs, "ins-3", "RUNNING", "ap-guangzhou-4");
	add(&obs, "ins-4", "RUNNING", "ap-guangzhou-3", "S6.LARGE16", "web", "default");
	add(&obs, "ins-5", "RUNNING", NULL, "S5.MEDIUM4", "web", "default");
	add(&obs, "ins-6", "RUNNING", "ap-guangzhou-3", NULL, "web", "default");
	plan_status_counts(&k, &obs, &env, &pool);
	expect(&k, 1, 1, 0, 0);
	/* the environment as a whole counts them all */
	plan_status_counts(&k, &obs, &env, NULL);
	expect(&k, 5, 1, 0, 0);
	plan_observed_clear(&obs);
}

static void test_nothing_observed(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_env env = env_named("web", "default");
	struct plan_status_counts k;

	(void)state;
	memset(&k, 0xff, sizeof(k)); /* overwritten, not added to */
	plan_status_counts(&k, &obs, &env, NULL);
	expect(&k, 0, 0, 0, 0);
}

static void test_env_state_words(void **state)
{
	struct plan_env env = env_named("web", "default");

	(void)state;
	env.desired = 3;
	env.active = 3;
	env.status = PLAN_STATUS_CONVERGED;
	assert_string_equal(plan_env_state(&env), "converged");
	env.status = PLAN_STATUS_ERROR;
	env.active = 1; /* an error says so, whatever the capacity */
	assert_string_equal(plan_env_state(&env), "error");
	env.status = PLAN_STATUS_CHANGES;
	assert_string_equal(plan_env_state(&env), "short");
	env.status = PLAN_STATUS_SHORT;
	assert_string_equal(plan_env_state(&env), "short");
	env.status = PLAN_STATUS_CHANGES;
	env.active = 5;
	assert_string_equal(plan_env_state(&env), "over");
	env.active = 3;
	env.drifted = 1;
	assert_string_equal(plan_env_state(&env), "drifted");
}

/* Through plan_make: the counts agree with the plan's own pools. */
static void test_counts_of_a_real_plan(void **state)
{
	struct spec_set set = SPEC_SET_INIT;
	struct errlist errs = ERRLIST_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_input in;
	struct plan *p = NULL;
	struct err e = ERR_INIT;
	struct plan_status_counts k, k3, k4;

	(void)state;
	assert_int_equal(
		spec_load_buffer(&set, "web.yaml", spec_text, strlen(spec_text), &errs),
		0);
	plan_observed_add_region(&obs, "ap-guangzhou");
	web(&obs, "ins-1", "RUNNING", "ap-guangzhou-3");
	web(&obs, "ins-2", "PENDING", "ap-guangzhou-3");
	web(&obs, "ins-3", "STOPPED", "ap-guangzhou-4");
	web(&obs, "ins-4", "TERMINATING", "ap-guangzhou-4");
	memset(&in, 0, sizeof(in));
	in.specs = &set;
	in.observed = &obs;
	in.max_release = -1;
	assert_int_equal(plan_make(&p, &in, &e), 0);
	assert_int_equal(p->nenvs, 1);
	assert_int_equal(p->envs[0].npools, 2);

	plan_status_counts(&k, &obs, &p->envs[0], NULL);
	plan_status_counts(&k3, &obs, &p->envs[0], &p->envs[0].pools[0]);
	plan_status_counts(&k4, &obs, &p->envs[0], &p->envs[0].pools[1]);
	expect(&k, 1, 1, 1, 1);
	expect(&k3, 1, 1, 0, 0);
	expect(&k4, 0, 0, 1, 1);
	/* active = running + pending, as the planner counts it */
	assert_int_equal(p->envs[0].active, k.running + k.pending);
	assert_int_equal(p->envs[0].pools[0].active, k3.running + k3.pending);
	assert_string_equal(plan_env_state(&p->envs[0]), "short");

	plan_free(p);
	plan_observed_clear(&obs);
	errlist_clear(&errs);
	spec_set_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_by_state_class),
		cmocka_unit_test(test_unusual_and_missing_states_are_pending),
		cmocka_unit_test(test_only_the_environment_in_its_scope),
		cmocka_unit_test(test_pool_matches_zone_and_type),
		cmocka_unit_test(test_nothing_observed),
		cmocka_unit_test(test_env_state_words),
		cmocka_unit_test(test_counts_of_a_real_plan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
