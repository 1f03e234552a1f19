/*
 * Unit tests for applier/metrics.c: active instances after an apply (the
 * figure behind the spotenv_active_instances gauge), and the textfile:
 * label escaping, the hourly cost as the plan's decimal, leaving and
 * reclaimed instances, and success timestamps carried over from the last
 * run's file.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../applier/apply.h"
#include "../../applier/metrics.h"

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

/* ------------------------------------------------------------------ */
/* The textfile */

/* A run over two environments: plan, results, totals. */
struct run {
	struct plan plan;
	struct plan_env envs[2];
	struct apply_env_result res[2];
	struct apply_total totals[2];
	struct apply_converge_result cv;
	struct apply_metrics_in in;
	struct buf out;
};

static void setup_run(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->envs[0].name = (char *)"web";
	r->envs[0].scope = (char *)"prod";
	r->envs[0].active = 3;
	r->envs[0].leaving = 1;
	r->envs[0].hourly_cost = (char *)"0.1500";
	r->envs[1].name = (char *)"batch";
	r->envs[1].scope = (char *)"prod";
	r->envs[1].active = 2;
	r->envs[1].hourly_cost = (char *)"1.10";
	r->plan.envs = r->envs;
	r->plan.nenvs = 2;
	r->res[0].env = (char *)"web";
	r->res[0].desired = 3;
	r->res[0].converged = true;
	r->res[1].env = (char *)"batch";
	r->res[1].desired = 4;
	r->res[1].launched = 2;
	r->res[1].running = 1;
	r->res[1].launch_gone = 1;
	r->res[1].released = 1;
	r->res[1].refused = 2;
	r->totals[0].env = (char *)"web";
	r->totals[1].env = (char *)"batch";
	r->totals[1].launched = 2;
	r->totals[1].released = 1;
	r->cv.plan = &r->plan;
	r->cv.res.envs = r->res;
	r->cv.res.nenvs = 2;
	r->cv.res.converged = 1;
	r->cv.have_result = true;
	r->cv.totals = r->totals;
	r->cv.ntotals = 2;
	r->in.cv = &r->cv;
	r->in.waited = true;
	r->in.duration_ms = 12345;
	r->in.now = 1800000000;
	r->in.api_calls = 40;
	r->in.api_throttled = 3;
	buf_init(&r->out, 0);
}

/* Whether the rendered file has this exact line. */
static bool has_line(const struct run *r, const char *line)
{
	const char *t = buf_str(&r->out);
	size_t n = strlen(line);

	for (const char *p = strstr(t, line); p; p = strstr(p + 1, line))
		if ((p == t || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void test_label_escaping(void **state)
{
	struct buf b = BUF_INIT;
	char v[64];

	(void)state;
	apply_metrics_label(&b, "a\\b\"c\nd");
	assert_string_equal(buf_str(&b), "a\\\\b\\\"c\\nd");
	buf_release(&b);
	/* and read back by the parser of the last run's file */
	assert_true(apply_metrics_find("m{env=\"a\\\\b\\\"c\\nd\",scope=\"\"} 7\n", "m",
				       "a\\b\"c\nd", "", v, sizeof(v)));
	assert_string_equal(v, "7");
	assert_false(apply_metrics_find("m{env=\"x\",scope=\"\"} 7\n", "m", "y", "", v,
					sizeof(v)));
	assert_true(
		apply_metrics_find("# HELP m x\nm 5\n", "m", NULL, NULL, v, sizeof(v)));
	assert_string_equal(v, "5");
}

static void test_hostile_names_escaped_in_file(void **state)
{
	struct run r;

	(void)state;
	setup_run(&r);
	r.envs[0].name = (char *)"we\"b\\\n";
	r.res[0].env = r.envs[0].name;
	assert_int_equal(apply_metrics_render(&r.out, &r.in), 0);
	assert_true(has_line(
		&r,
		"spotenv_desired_instances{env=\"we\\\"b\\\\\\n\",scope=\"prod\"} 3"));
	/* no raw newline inside a sample: every line is a comment or name{...} value */
	for (const char *p = buf_str(&r.out); *p; p = strchr(p, '\n') + 1)
		assert_true(*p == '#' || !strncmp(p, "spotenv_", 8));
	buf_release(&r.out);
}

static void test_cost_leaving_reclaimed(void **state)
{
	struct run r;

	(void)state;
	setup_run(&r);
	/* the last run saw 4 batch instances active; 2 are now: 2 lost, 1 gone at launch
	 */
	r.in.previous = "spotenv_active_instances{env=\"batch\",scope=\"prod\"} 4\n"
			"spotenv_active_instances{env=\"web\",scope=\"prod\"} 2\n";
	assert_int_equal(apply_metrics_render(&r.out, &r.in), 0);
	/* money as the plan's decimal string, trailing zeros and all */
	assert_true(has_line(
		&r, "spotenv_env_hourly_cost{env=\"web\",scope=\"prod\"} 0.1500"));
	assert_true(has_line(
		&r, "spotenv_env_hourly_cost{env=\"batch\",scope=\"prod\"} 1.10"));
	/* leaving: seen leaving plus released */
	assert_true(has_line(
		&r, "spotenv_env_leaving_instances{env=\"web\",scope=\"prod\"} 1"));
	assert_true(has_line(
		&r, "spotenv_env_leaving_instances{env=\"batch\",scope=\"prod\"} 1"));
	assert_true(has_line(
		&r, "spotenv_env_reclaimed_instances{env=\"batch\",scope=\"prod\"} 3"));
	/* web grew since (2 then, 3 now): nothing lost */
	assert_true(has_line(
		&r, "spotenv_env_reclaimed_instances{env=\"web\",scope=\"prod\"} 0"));
	assert_true(has_line(
		&r, "spotenv_launched_instances{env=\"batch\",scope=\"prod\"} 2"));
	assert_true(has_line(&r, "spotenv_api_throttled_total 3"));
	assert_true(has_line(
		&r, "spotenv_env_refused_releases{env=\"batch\",scope=\"prod\"} 2"));
	assert_true(has_line(&r, "spotenv_api_calls_total 40"));
	assert_true(has_line(&r, "spotenv_apply_duration_seconds 12.345"));
	buf_release(&r.out);
}

static void test_unknown_or_hostile_cost_left_out(void **state)
{
	struct run r;

	(void)state;
	setup_run(&r);
	r.envs[0].hourly_cost = NULL;		       /* a price unknown */
	r.envs[1].hourly_cost = (char *)"1e3\nevil 1"; /* not a decimal */
	assert_int_equal(apply_metrics_render(&r.out, &r.in), 0);
	assert_null(strstr(buf_str(&r.out), "spotenv_env_hourly_cost{"));
	assert_null(strstr(buf_str(&r.out), "evil"));
	buf_release(&r.out);
}

static void test_last_success_per_env_carried_over(void **state)
{
	struct run r;

	(void)state;
	setup_run(&r);
	/* web converged now; batch did not (keeps 1700000000); old is not in this run */
	r.in.previous =
		"# HELP x\n"
		"spotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"prod\"} 1600000000\n"
		"spotenv_env_last_success_timestamp_seconds{env=\"batch\",scope=\"prod\"} 1700000000\n"
		"spotenv_env_last_success_timestamp_seconds{env=\"old\",scope=\"dev\"} 1500000000\n"
		"spotenv_env_last_success_timestamp_seconds{env=\"bad\",scope=\"dev\"} 1e9\n"
		"spotenv_apply_last_success_timestamp_seconds 1650000000\n";
	assert_int_equal(apply_metrics_render(&r.out, &r.in), 0);
	assert_true(has_line(
		&r,
		"spotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"prod\"} 1800000000"));
	assert_true(has_line(
		&r,
		"spotenv_env_last_success_timestamp_seconds{env=\"batch\",scope=\"prod\"} 1700000000"));
	assert_true(has_line(
		&r,
		"spotenv_env_last_success_timestamp_seconds{env=\"old\",scope=\"dev\"} 1500000000"));
	assert_null(strstr(buf_str(&r.out), "env=\"bad\""));
	/* not everything converged: the run-wide timestamp is the old one */
	assert_true(has_line(&r, "spotenv_apply_success 0"));
	assert_true(
		has_line(&r, "spotenv_apply_last_success_timestamp_seconds 1650000000"));

	/* a second run reads the first's file: nothing is lost */
	{
		struct run r2;
		char *first = xstrdup(buf_str(&r.out));

		setup_run(&r2);
		r2.res[0].converged = false;
		r2.in.previous = first;
		r2.in.now = 1900000000;
		assert_int_equal(apply_metrics_render(&r2.out, &r2.in), 0);
		assert_true(has_line(
			&r2,
			"spotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"prod\"} 1800000000"));
		assert_true(has_line(
			&r2,
			"spotenv_env_last_success_timestamp_seconds{env=\"old\",scope=\"dev\"} 1500000000"));
		buf_release(&r2.out);
		free(first);
	}
	buf_release(&r.out);
}

static void test_no_plan_keeps_history(void **state)
{
	struct apply_metrics_in in;
	struct buf out = BUF_INIT;

	(void)state;
	/* the run failed before planning: per-env gauges absent, history kept */
	memset(&in, 0, sizeof(in));
	in.now = 1800000000;
	in.previous =
		"spotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"\"} 1700000000\n"
		"spotenv_apply_last_success_timestamp_seconds 1700000000\n";
	assert_int_equal(apply_metrics_render(&out, &in), 0);
	assert_non_null(strstr(
		buf_str(&out),
		"\nspotenv_env_last_success_timestamp_seconds{env=\"web\",scope=\"\"} 1700000000\n"));
	assert_non_null(
		strstr(buf_str(&out),
		       "\nspotenv_apply_last_success_timestamp_seconds 1700000000\n"));
	assert_null(strstr(buf_str(&out), "spotenv_desired_instances{"));
	buf_release(&out);
	/* no file before: zero */
	in.previous = NULL;
	assert_int_equal(apply_metrics_render(&out, &in), 0);
	assert_non_null(strstr(buf_str(&out),
			       "\nspotenv_apply_last_success_timestamp_seconds 0\n"));
	buf_release(&out);
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
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_hostile_names_escaped_in_file),
		cmocka_unit_test(test_cost_leaving_reclaimed),
		cmocka_unit_test(test_unknown_or_hostile_cost_left_out),
		cmocka_unit_test(test_last_success_per_env_carried_over),
		cmocka_unit_test(test_no_plan_keeps_history),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
