/*
 * Unit tests for applier/: observation, apply_run and apply_converge driven
 * through the seam (applier/cloud.h) against the emulator's in-process
 * handler (sim_handle) on a fake clock.  Sleeping moves the clock, so a
 * wait of minutes takes milliseconds and nothing depends on the machine's
 * load.  Every request is signed with the provider's tc_sign and verified
 * by the emulator, as over HTTP.  The pure parts (apply_outcome,
 * apply_next_round) are tested directly.
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "../../applier/apply.h"
#include "../../planner/token.h"
#include "../../sim/sim.h"

#define T0 1764000000000LL /* 2025-11-24T16:00:00Z in ms */

/* ------------------------------------------------------------------ */
/* The fake cloud: sim_handle behind the seam */

struct op {
	char kind;  /* 'R' RunInstances, 'T' TerminateInstances */
	char *what; /* R: "pool-zone/type bid token"; T: the ids, space-separated */
	int64_t at; /* fake clock */
};

struct fake {
	struct sim *sim;
	int64_t now;
	int64_t slept;
	struct op *ops;
	size_t nops, opsalloc;
	/* RunInstances answers carry this many made-up ids more (a lying API) */
	int inflate;
	/* TerminateInstances refuses calls holding this id, naming no id; may be NULL */
	const char *refuse_id;
	/* called after every sleep (to change the world mid-apply); may be NULL */
	void (*on_sleep)(struct fake *f);
	int sleeps;
	/* DescribeInstances calls by id, and how many came before the first launch */
	int id_describes, id_describes_before_run;
	bool ran;
};

static int64_t fake_clock(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_record(struct fake *f, char kind, char *what)
{
	ALLOC_GROW(f->ops, f->nops + 1, f->opsalloc);
	f->ops[f->nops].kind = kind;
	f->ops[f->nops].what = what;
	f->ops[f->nops].at = f->now;
	f->nops++;
}

/*
 * One signed API call through sim_handle; the parsed Response into
 * *response or the API error into e (with its class).  Each call takes a
 * millisecond of fake time, so the emulator's rate windows see time pass.
 */
static int fake_call(struct fake *f, const char *action, const char *region,
		     const char *body, cJSON **response, struct err *e)
{
	char tsbuf[32];
	struct tc_header sign_h[2] = { { "content-type", "application/json" },
				       { "host", "127.0.0.1:8787" } };
	struct tc_sign_input in;
	struct tc_sign_output out;
	struct tc_header h[8];
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;
	size_t nh = 0;
	int error;

	f->now += 1;
	snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, f->now / 1000);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.method = "POST";
	in.query = "";
	in.headers = sign_h;
	in.nheaders = 2;
	in.payload = body;
	in.payload_len = strlen(body);
	in.service = "cvm";
	in.timestamp = f->now / 1000;
	in.secret_id = SIM_DEFAULT_SECRET_ID;
	in.secret_key = SIM_DEFAULT_SECRET_KEY;
	assert_int_equal(tc_sign(&out, &in, e), 0);
	h[nh++] = (struct tc_header){ "Content-Type", "application/json" };
	h[nh++] = (struct tc_header){ "Host", "127.0.0.1:8787" };
	h[nh++] = (struct tc_header){ "X-TC-Action", action };
	h[nh++] = (struct tc_header){ "X-TC-Version", "2017-03-12" };
	h[nh++] = (struct tc_header){ "X-TC-Timestamp", tsbuf };
	h[nh++] = (struct tc_header){ "X-TC-Region", region };
	h[nh++] = (struct tc_header){ "Authorization", buf_str(&out.authorization) };
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.query = "";
	req.headers = h;
	req.nheaders = nh;
	req.body = body;
	req.body_len = strlen(body);
	sim_handle(f->sim, &req, &r);
	tc_sign_output_clear(&out);
	assert_int_equal(r.status, 200);
	error = tc_parse_response((void **)response, buf_str(&r.body), r.body.len, e);
	sim_response_clear(&r);
	return error;
}

static cJSON *describe_body(const struct tc_filter *filters, size_t nfilters,
			    const char *const *ids, size_t nids, size_t offset)
{
	cJSON *j = cJSON_CreateObject();

	if (nids) {
		cJSON *a = cJSON_AddArrayToObject(j, "InstanceIds");

		for (size_t i = 0; i < nids; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
	} else if (nfilters) {
		cJSON *fs = cJSON_AddArrayToObject(j, "Filters");

		for (size_t i = 0; i < nfilters; i++) {
			cJSON *fo = cJSON_CreateObject(),
			      *vs = cJSON_AddArrayToObject(fo, "Values");

			cJSON_AddStringToObject(fo, "Name", filters[i].name);
			for (size_t k = 0; k < filters[i].nvalues; k++)
				cJSON_AddItemToArray(
					vs, cJSON_CreateString(filters[i].values[k]));
			cJSON_AddItemToArray(fs, fo);
		}
	}
	if (!nids) {
		cJSON_AddNumberToObject(j, "Offset", (double)offset);
		cJSON_AddNumberToObject(j, "Limit", 100);
	}
	return j;
}

static int fake_describe(void *ctx, const char *region, const struct tc_filter *filters,
			 size_t nfilters, const char *const *ids, size_t nids,
			 struct tc_instance_list *out, struct err *e)
{
	struct fake *f = ctx;
	size_t offset = 0;
	int64_t total = 0;

	if (nids > TC_MAX_PAGE) {
		/* by id: 100 a call, as tc_describe_instances does */
		for (size_t i = 0; i < nids; i += TC_MAX_PAGE) {
			int error = fake_describe(
				ctx, region, NULL, 0, ids + i,
				nids - i < TC_MAX_PAGE ? nids - i : TC_MAX_PAGE, out, e);

			if (error)
				return error;
		}
		return 0;
	}
	if (nids)
		f->id_describes++;
	do {
		cJSON *body = describe_body(filters, nfilters, ids, nids, offset),
		      *resp = NULL;
		char *text = cJSON_PrintUnformatted(body);
		int error = fake_call(f, "DescribeInstances", region, text, &resp, e);
		size_t before = out->n;

		free(text);
		cJSON_Delete(body);
		if (!error)
			error = tc_parse_instances(out, &total, resp, region, e);
		cJSON_Delete(resp);
		if (error)
			return error;
		if (out->n == before)
			break;
		offset += out->n - before;
	} while (!nids && (int64_t)offset < total);
	return 0;
}

static int fake_offers(struct fake *f, struct tc_region_obs *r, struct err *e)
{
	cJSON *j = cJSON_CreateObject(), *resp = NULL;
	cJSON *fs = cJSON_AddArrayToObject(j, "Filters");
	cJSON *fo = cJSON_CreateObject(), *vs = cJSON_AddArrayToObject(fo, "Values");
	char *text;
	int error;

	cJSON_AddStringToObject(fo, "Name", "instance-charge-type");
	cJSON_AddItemToArray(vs, cJSON_CreateString("SPOTPAID"));
	cJSON_AddItemToArray(fs, fo);
	text = cJSON_PrintUnformatted(j);
	error = fake_call(f, "DescribeZoneInstanceConfigInfos", r->region, text, &resp,
			  e);
	if (!error)
		error = tc_parse_offers(r->offers, resp, e);
	free(text);
	cJSON_Delete(j);
	cJSON_Delete(resp);
	return error;
}

static int fake_observe(void *ctx, struct tc_region_obs *r, size_t n, struct err *e)
{
	int error = 0;

	for (size_t i = 0; i < n && !error; i++) {
		error = fake_describe(ctx, r[i].region, r[i].filters, r[i].nfilters, NULL,
				      0, r[i].instances, e);
		if (!error && r[i].offers)
			error = fake_offers(ctx, &r[i], e);
	}
	return error;
}

static void fake_run(void *ctx, struct tc_call *calls, size_t n)
{
	struct fake *f = ctx;

	if (!f->ran)
		f->id_describes_before_run = f->id_describes;
	f->ran = true;

	for (size_t i = 0; i < n; i++) {
		cJSON *body = cJSON_Parse(calls[i].body);
		cJSON *pl = cJSON_GetObjectItem(body, "Placement");
		cJSON *mo = cJSON_GetObjectItem(body, "InstanceMarketOptions");
		cJSON *so = cJSON_GetObjectItem(mo, "SpotOptions");
		cJSON *dry = cJSON_GetObjectItem(body, "DryRun");

		if (cJSON_IsTrue(dry))
			fake_record(f, 'D',
				    xstrdup(cJSON_GetObjectItem(body, "ClientToken")
						    ? "token"
						    : "none"));
		else
			fake_record(f, 'R',
				    xasprintf("%s/%s %s %s",
					      cJSON_GetStringValue(
						      cJSON_GetObjectItem(pl, "Zone")),
					      cJSON_GetStringValue(cJSON_GetObjectItem(
						      body, "InstanceType")),
					      cJSON_GetStringValue(cJSON_GetObjectItem(
						      so, "MaxPrice")),
					      cJSON_GetStringValue(cJSON_GetObjectItem(
						      body, "ClientToken"))));
		cJSON_Delete(body);
		err_clear(&calls[i].err);
		calls[i].attempts = 1;
		fake_call(f, calls[i].action, calls[i].region, calls[i].body,
			  (cJSON **)&calls[i].response, &calls[i].err);
		for (int k = 0; k < f->inflate && calls[i].response; k++) {
			char id[32];

			snprintf(id, sizeof(id), "ins-x%07d", k % 10000000);
			cJSON_AddItemToArray(
				cJSON_GetObjectItem(calls[i].response, "InstanceIdSet"),
				cJSON_CreateString(id));
		}
	}
}

static int fake_terminate(void *ctx, const char *region, const char *const *ids, size_t n,
			  struct err *e)
{
	struct fake *f = ctx;
	cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "InstanceIds");
	cJSON *resp = NULL;
	struct buf what = BUF_INIT;
	char *text;
	int error;

	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
		buf_printf(&what, "%s%s", i ? " " : "", ids[i]);
	}
	fake_record(f, 'T', xstrdup(buf_str(&what)));
	buf_release(&what);
	for (size_t i = 0; f->refuse_id && i < n; i++)
		if (!strcmp(ids[i], f->refuse_id)) {
			cJSON_Delete(j);
			err_set(e, ERR_API, "refused");
			err_set_api(e, "UnsupportedOperation.InstancesProtected",
				    "termination protection is on for an instance",
				    "req-1",
				    tc_classify("UnsupportedOperation.InstancesProtected",
						200));
			return ERR_API;
		}
	text = cJSON_PrintUnformatted(j);
	error = fake_call(f, "TerminateInstances", region, text, &resp, e);
	free(text);
	cJSON_Delete(j);
	cJSON_Delete(resp);
	return error;
}

static int64_t fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static void fake_sleep(void *ctx, int64_t ms)
{
	struct fake *f = ctx;

	f->now += ms;
	f->slept += ms;
	f->sleeps++;
	if (f->on_sleep)
		f->on_sleep(f);
}

static const struct apply_cloud_ops fake_ops = {
	fake_describe, fake_observe, fake_run, fake_terminate, fake_now, fake_sleep, NULL,
};

/* A fresh emulator on the fake clock: pending 5 s, terminating 2 s. */
static struct fake *fake_new(int64_t tag_lag_ms, double launch_fail_rate)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	struct sim_opts o = SIM_OPTS_INIT;
	struct err e = ERR_INIT;

	f->now = T0;
	o.clock = fake_clock;
	o.clock_ctx = f;
	o.pending_ms = 5000;
	o.terminating_ms = 2000;
	o.tag_lag_ms = tag_lag_ms;
	o.launch_fail_rate = launch_fail_rate;
	if (sim_new(&f->sim, &o, &e) < 0)
		fail_msg("sim_new: %s", e.msg);
	return f;
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->nops; i++)
		free(f->ops[i].what);
	free(f->ops);
	sim_free(f->sim);
	free(f);
}

/* POST to the emulator's control API; asserts 200. */
static void fake_control(struct fake *f, const char *path, const char *body)
{
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.query = "";
	req.body = body;
	req.body_len = strlen(body);
	sim_handle(f->sim, &req, &r);
	if (r.status != 200)
		fail_msg("%s: %d %s", path, r.status, buf_str(&r.body));
	sim_response_clear(&r);
}

static void fake_forget_ops(struct fake *f)
{
	for (size_t i = 0; i < f->nops; i++)
		free(f->ops[i].what);
	f->nops = 0;
}

static size_t count_ops(const struct fake *f, char kind)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nops; i++)
		n += f->ops[i].kind == kind;
	return n;
}

/* ------------------------------------------------------------------ */
/* Specs, observation and planning through the seam */

static void load_specs(struct spec_set *set, const char *yaml)
{
	struct errlist errs = ERRLIST_INIT;

	if (spec_load_buffer(set, "test.yaml", yaml, strlen(yaml), &errs) != 0)
		fail_msg("spec: %s", errs.n ? errs.v[0].msg : "?");
	errlist_clear(&errs);
}

static struct plan *observe_and_plan(struct fake *f, const struct spec_set *set)
{
	const struct apply_cloud cloud = { &fake_ops, f };
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_input in;
	struct plan *p = NULL;
	struct err e = ERR_INIT;

	if (apply_observe(&obs, &cloud, set, NULL, 0, true, &e) < 0)
		fail_msg("observe: %s", e.msg);
	memset(&in, 0, sizeof(in));
	in.specs = set;
	in.observed = &obs;
	in.max_release = -1;
	if (plan_make(&p, &in, &e) < 0)
		fail_msg("plan: %s", e.msg);
	plan_observed_clear(&obs);
	return p;
}

/* Active instances of env now (through the ownership filter). */
static int active_of(struct fake *f, const struct spec_set *set, const char *env)
{
	struct plan *p = observe_and_plan(f, set);
	const struct plan_env *pe = plan_find_env(p, env);
	int n = pe ? pe->active : -1;

	plan_free(p);
	return n;
}

static const char spec_web[] =
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: web}\n"
	"spec:\n  region: ap-guangzhou\n  capacity: 3\n  maxPrice: \"0.60\"\n"
	"  image: img-pmqg1cw7\n  pools:\n"
	"    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, maxPrice: \"0.50\"}\n"
	"    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4}\n";

static int run_once(struct fake *f, const struct plan *p, struct apply_result *res)
{
	const struct apply_cloud cloud = { &fake_ops, f };
	struct apply_opts o;
	struct err e = ERR_INIT;
	int error;

	memset(&o, 0, sizeof(o));
	o.wait = true;
	error = apply_run(res, &cloud, p, &o, &e);
	err_clear(&e);
	return error;
}

/* ------------------------------------------------------------------ */
/* apply_run */

static void test_converge_from_nothing(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(plan_find_env(p, "web")->to_launch, 3);
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.launched, 3);
	assert_int_equal(res.envs[0].running, 3);
	assert_int_equal(res.envs[0].short_by, 0);
	assert_true(res.envs[0].converged);
	assert_int_equal(res.converged, 1);
	/* one RunInstances, with the plan's token and the pool's own bid */
	assert_int_equal(count_ops(f, 'R'), 1);
	assert_non_null(strstr(f->ops[0].what, "ap-guangzhou-3/S5.MEDIUM4 0.50 "));
	assert_non_null(strstr(f->ops[0].what, p->envs[0].launches[0].client_token));
	/* waiting slept on the fake clock, at least the 5 s of PENDING */
	assert_true(f->slept >= 5000);
	apply_result_clear(&res);
	plan_free(p);
	/* the world now matches: nothing to do */
	p = observe_and_plan(f, &set);
	assert_false(plan_has_changes(p));
	assert_int_equal(active_of(f, &set, "web"), 3);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

static void test_sends_the_plans_bid(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	/* an edited plan: the launch's bid differs from the pool's */
	free(p->envs[0].launches[0].bid);
	p->envs[0].launches[0].bid = xstrdup("0.44");
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(count_ops(f, 'R'), 1);
	assert_non_null(strstr(f->ops[0].what, " 0.44 "));
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

static void test_fallback_to_next_pool(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;
	char token[TC_MAX_CLIENT_TOKEN + 1];

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	/* stock runs out after the plan was made */
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-3\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(count_ops(f, 'R'), 2);
	assert_non_null(strstr(f->ops[0].what, "ap-guangzhou-3/S5.MEDIUM4 0.50 "));
	/* the next pool, at its own bid (the environment's), with the derived token */
	plan_token_fallback(token, p->envs[0].launches[0].client_token, 1, 1);
	assert_non_null(strstr(f->ops[1].what, "ap-guangzhou-4/S5.MEDIUM4 0.60 "));
	assert_non_null(strstr(f->ops[1].what, token));
	assert_int_equal(res.launched, 3);
	assert_true(res.envs[0].converged);
	/* the capacity error is named among the reasons */
	assert_true(res.envs[0].nreasons >= 1);
	assert_non_null(strstr(res.envs[0].reasons[0], "ap-guangzhou-3/S5.MEDIUM4"));
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

static void test_all_pools_sold_out_is_short(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-3\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-4\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.launched, 0);
	assert_int_equal(res.envs[0].short_by, 3);
	assert_true(res.envs[0].capacity_short);
	assert_false(res.envs[0].converged);
	assert_true(apply_result_retryable(&res));
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/*
 * RunInstances is all or nothing: with 1 + 1 left in the two pools and 3
 * wanted, apply takes the 1 each pool has (smaller counts, derived
 * tokens) and is 1 short, instead of launching nothing.
 */
static void test_partial_stock(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-3\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":1}");
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-4\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":1}");
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.launched, 2);
	assert_int_equal(res.envs[0].short_by, 1);
	assert_true(res.envs[0].capacity_short);
	assert_false(res.envs[0].converged);
	/* partial tries carry derived tokens, never the plan's for another count */
	for (size_t i = 1; i < f->nops; i++)
		if (f->ops[i].kind == 'R')
			assert_null(strstr(f->ops[i].what,
					   p->envs[0].launches[0].client_token));
	assert_int_equal(active_of(f, &set, "web"), 2);
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/*
 * Release order: failed instances go before any launch; drifted ones only
 * after their replacements run (maxUnavailable 0); excess ones last.
 */
static void test_release_order(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT, set2 = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;
	size_t first_run = SIZE_MAX, drift_t = SIZE_MAX, last_t = SIZE_MAX;
	const struct plan_env *pe;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(run_once(f, p, &res), 0);
	apply_result_clear(&res);
	plan_free(p);
	/* the image changes (drift) and capacity drops (excess) */
	load_specs(
		&set2,
		"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: web}\n"
		"spec:\n  region: ap-guangzhou\n  capacity: 2\n  maxPrice: \"0.60\"\n"
		"  image: img-newimage\n  update: {maxSurge: 2, maxUnavailable: 0}\n"
		"  pools:\n"
		"    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}\n");
	p = observe_and_plan(f, &set2);
	pe = plan_find_env(p, "web");
	assert_non_null(pe);
	/* 2 replacements, 2 drifted released after them, 1 excess last */
	assert_int_equal(pe->nreleases, 3);
	assert_int_equal(pe->nlaunches, 1);
	assert_int_equal(pe->launches[0].count, 2);
	assert_true(pe->launches[0].replace);
	assert_int_equal(pe->releases[2].reason, PLAN_REASON_EXCESS);
	fake_forget_ops(f);
	assert_int_equal(run_once(f, p, &res), 0);
	for (size_t i = 0; i < f->nops; i++) {
		if (f->ops[i].kind == 'R' && first_run == SIZE_MAX)
			first_run = i;
		if (f->ops[i].kind == 'T' && drift_t == SIZE_MAX)
			drift_t = i;
		if (f->ops[i].kind == 'T')
			last_t = i;
	}
	assert_true(first_run != SIZE_MAX);
	assert_true(drift_t != SIZE_MAX);
	/* maxUnavailable 0: nothing drifted goes before the replacements */
	assert_true(drift_t > first_run);
	/* ... and not before they ran: the release came after waiting */
	assert_true(f->ops[drift_t].at >= f->ops[first_run].at + 5000);
	/* the excess instance goes last, in a call of its own */
	assert_true(last_t > drift_t);
	assert_string_equal(f->ops[last_t].what, pe->releases[2].id);
	assert_int_equal(res.envs[0].released, 3);
	assert_int_equal(res.envs[0].launched, 2);
	assert_true(res.envs[0].converged);
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	spec_set_release(&set2);
	fake_free(f);
}

/*
 * LAUNCH_FAILED instances are replaced but never sent to TerminateInstances
 * (the API refuses them): the plan releases nothing, apply makes no
 * TerminateInstances call.
 */
static void test_launch_failed_not_terminated(void **state)
{
	struct fake *f = fake_new(0, 1.0); /* every launch ends LAUNCH_FAILED */
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;
	const struct plan_env *pe;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.envs[0].launch_failed, 3);
	assert_int_equal(res.envs[0].short_by, 3);
	assert_false(res.envs[0].converged);
	assert_non_null(
		strstr(res.envs[0].reasons[res.envs[0].nreasons - 1], "LAUNCH_FAILED"));
	apply_result_clear(&res);
	plan_free(p);
	fake_control(f, "/_sim/faults", "{\"launchFailRate\":0}");
	p = observe_and_plan(f, &set);
	pe = plan_find_env(p, "web");
	assert_int_equal(pe->failed, 3);
	assert_int_equal(pe->nreleases, 0);
	assert_int_equal(pe->active, 0);
	assert_non_null(strstr(pe->warnings[0], "LAUNCH_FAILED"));
	fake_forget_ops(f);
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(count_ops(f, 'T'), 0);
	assert_int_equal(count_ops(f, 'R'), 1);
	assert_true(res.envs[0].converged);
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/*
 * A TerminateInstances batch refused because of one instance (protected)
 * is split: the others are released, the refused one is reported, and
 * only what the API accepted counts as released.
 */
static void test_refused_release_split(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT, none = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;
	char *spec0;
	const struct plan_env *pe;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(run_once(f, p, &res), 0);
	apply_result_clear(&res);
	plan_free(p);
	/* capacity 0: three excess releases in one call */
	spec0 = xstrdup(spec_web);
	memcpy(strstr(spec0, "capacity: 3"), "capacity: 0", 11);
	load_specs(&none, spec0);
	p = observe_and_plan(f, &none);
	pe = plan_find_env(p, "web");
	assert_int_equal(pe->nreleases, 3);
	f->refuse_id = pe->releases[1].id;
	fake_forget_ops(f);
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.released, 2);
	assert_int_equal(res.envs[0].released, 2);
	assert_int_equal(res.envs[0].refused, 1);
	assert_false(res.envs[0].converged);
	assert_non_null(strstr(res.envs[0].reasons[0], pe->releases[1].id));
	assert_non_null(strstr(res.envs[0].reasons[0], "InstancesProtected"));
	/* the whole batch, then halves until the refused one stood alone */
	assert_true(count_ops(f, 'T') >= 3);
	assert_int_equal(active_of(f, &none, "web"), 1);
	apply_result_clear(&res);
	plan_free(p);
	free(spec0);
	spec_set_release(&set);
	spec_set_release(&none);
	fake_free(f);
}

/*
 * A saved plan's releases are held to the live world: an untagged instance
 * written into a plan's releases is refused; the plan's own are fine.
 */
static void test_verify_plan_releases(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT, none = SPEC_SET_INIT;
	const struct apply_cloud cloud = { &fake_ops, f };
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct apply_result res;
	struct buf why = BUF_INIT;
	struct err e = ERR_INIT;
	struct plan *p;
	cJSON *resp = NULL;
	struct plan_release *r;
	char *spec0;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(run_once(f, p, &res), 0);
	apply_result_clear(&res);
	plan_free(p);
	/* someone else's instance, no tags */
	assert_int_equal(
		fake_call(
			f, "RunInstances", "ap-guangzhou",
			"{\"InstanceChargeType\":\"SPOTPAID\",\"Placement\":{\"Zone\":"
			"\"ap-guangzhou-3\"},\"ImageId\":\"img-pmqg1cw7\",\"InstanceType\":"
			"\"S5.MEDIUM4\",\"InstanceCount\":1,\"InstanceMarketOptions\":"
			"{\"MarketType\":\"spot\",\"SpotOptions\":{\"MaxPrice\":\"0.50\"}}}",
			&resp, &e),
		0);
	spec0 = xstrdup(spec_web);
	memcpy(strstr(spec0, "capacity: 3"), "capacity: 2", 11);
	load_specs(&none, spec0);
	p = observe_and_plan(f, &none);
	assert_int_equal(p->envs[0].nreleases, 1);
	assert_int_equal(apply_observe_plan(&obs, &cloud, p, &e), 0);
	assert_int_equal(apply_verify_plan(p, &obs, &why), 0); /* the plan as made */
	/* edited: the release now names the untagged instance */
	r = &p->envs[0].releases[0];
	free(r->id);
	r->id = xstrdup(cJSON_GetStringValue(
		cJSON_GetArrayItem(cJSON_GetObjectItem(resp, "InstanceIdSet"), 0)));
	assert_int_equal(apply_verify_plan(p, &obs, &why), ERR_INVALID);
	assert_non_null(strstr(buf_str(&why), "is not an instance spotenv owns"));
	plan_observed_clear(&obs);
	buf_release(&why);
	cJSON_Delete(resp);
	plan_free(p);
	free(spec0);
	spec_set_release(&set);
	spec_set_release(&none);
	fake_free(f);
}

/* An answer with 5,002 ids for a count of 3 is not acted on. */
static void test_lying_answer(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	f->inflate = 4999;
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.launched, 0);
	assert_true(res.envs[0].error);
	assert_false(res.envs[0].converged);
	assert_non_null(
		strstr(res.envs[0].reasons[0], "more ids than instances asked for"));
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/* plan --check: a dry run never carries the launch's ClientToken */
static void test_check_sends_no_token(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	const struct apply_cloud cloud = { &fake_ops, f };
	struct plan *p;
	struct apply_result res;
	struct err e = ERR_INIT;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(apply_check_launches(p, &cloud, &e), 0);
	assert_int_equal(count_ops(f, 'D'), 1);
	assert_string_equal(f->ops[0].what, "none");
	assert_string_equal(p->envs[0].launches[0].check, "ok");
	/* and the real launch after it launches */
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.launched, 3);
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/* Tags lag 30 s behind the launch: apply waits until the filter shows them. */
static void test_waits_for_tags(void **state)
{
	struct fake *f = fake_new(30000, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;
	int64_t start = f->now;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	assert_int_equal(run_once(f, p, &res), 0);
	assert_true(res.envs[0].converged);
	assert_true(f->now - start >= 30000);
	apply_result_clear(&res);
	plan_free(p);
	/* the next observation counts them: no second launch */
	p = observe_and_plan(f, &set);
	assert_false(plan_has_changes(p));
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

/* A reclaim while apply waits: the launch is short and says why. */
static void reclaim_on_second_sleep(struct fake *f)
{
	if (f->sleeps == 1)
		fake_control(f, "/_sim/reclaim", "{\"count\":1,\"env\":\"web\"}");
}

static void test_reclaimed_while_waiting(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_result res;
	struct plan *p;

	(void)state;
	load_specs(&set, spec_web);
	p = observe_and_plan(f, &set);
	f->on_sleep = reclaim_on_second_sleep;
	assert_int_equal(run_once(f, p, &res), 0);
	assert_int_equal(res.envs[0].launched, 3);
	assert_int_equal(res.envs[0].launch_gone, 1);
	assert_int_equal(res.envs[0].short_by, 1);
	assert_false(res.envs[0].converged);
	assert_non_null(strstr(res.envs[0].reasons[0], "reclaimed before running"));
	apply_result_clear(&res);
	plan_free(p);
	spec_set_release(&set);
	fake_free(f);
}

static const char spec_two_small[] =
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: a}\n"
	"spec:\n  region: ap-guangzhou\n  capacity: 1\n  maxPrice: \"0.60\"\n"
	"  image: img-pmqg1cw7\n  pools:\n"
	"    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}\n"
	"---\n"
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: b}\n"
	"spec:\n  region: ap-guangzhou\n  capacity: 1\n  maxPrice: \"0.60\"\n"
	"  image: img-pmqg1cw7\n  pools:\n"
	"    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4}\n";

static int run_with_memo(struct fake *f, const struct plan *p, struct apply_memo *m,
			 struct apply_result *res)
{
	const struct apply_cloud cloud = { &fake_ops, f };
	struct apply_opts o;
	struct err e = ERR_INIT;
	int error;

	memset(&o, 0, sizeof(o));
	o.wait = true;
	o.memo = m;
	f->ran = false;
	f->id_describes = f->id_describes_before_run = 0;
	error = apply_run(res, &cloud, p, &o, &e);
	err_clear(&e);
	return error;
}

/*
 * The world came back to an earlier basis (every instance reclaimed and
 * gone): each launch's token is one the memo knows.  Every hit of a region
 * is checked in one DescribeInstances by id (it was one call per hit), and
 * each launch starts at the step after its chain's end.
 */
static void test_memo_jump_one_describe(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct apply_memo *m = NULL;
	struct apply_result res;
	struct err e = ERR_INIT;
	struct plan *p;
	char first[2][PLAN_TOKEN_LEN + 1];

	(void)state;
	load_specs(&set, spec_two_small);
	assert_int_equal(apply_memo_load(&m, "/nonexistent/spotenv-test/tokens.json",
					 f->now / 1000, &e),
			 0);
	p = observe_and_plan(f, &set);
	for (size_t i = 0; i < 2; i++)
		snprintf(first[i], sizeof(first[i]), "%s",
			 p->envs[i].launches[0].client_token);
	assert_int_equal(run_with_memo(f, p, m, &res), 0);
	assert_int_equal(res.launched, 2);
	assert_int_equal(res.memo_jumps, 0);
	apply_result_clear(&res);
	plan_free(p);

	/* both reclaimed, and gone */
	fake_control(f, "/_sim/reclaim", "{\"count\":2}");
	f->now += 60000;
	p = observe_and_plan(f, &set);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(p->envs[i].launches[0].client_token, first[i]);
	assert_int_equal(run_with_memo(f, p, m, &res), 0);
	assert_int_equal(res.memo_jumps, 2);
	assert_int_equal(f->id_describes_before_run, 1);
	assert_int_equal(res.launched, 2);
	assert_int_equal(res.converged, 2);
	assert_int_equal(active_of(f, &set, "a"), 1);
	assert_int_equal(active_of(f, &set, "b"), 1);
	apply_result_clear(&res);
	plan_free(p);
	apply_memo_free(m);
	spec_set_release(&set);
	fake_free(f);
}

/* ------------------------------------------------------------------ */
/* apply_converge */

struct conv {
	struct fake *f;
	struct spec_set *set;
	int approvals, betweens;
	enum apply_next last;
};

static int conv_plan(void *ctx, int round, struct plan **out)
{
	struct conv *c = ctx;

	UNUSED(round);
	*out = observe_and_plan(c->f, c->set);
	return 0;
}

static int conv_approve(void *ctx, int round, const struct plan *p)
{
	struct conv *c = ctx;

	UNUSED(round);
	UNUSED(p);
	c->approvals++;
	return 0;
}

static void conv_between(void *ctx, enum apply_next next, const struct apply_result *r,
			 int64_t pause_ms)
{
	struct conv *c = ctx;

	UNUSED(r);
	c->betweens++;
	c->last = next;
	assert_true(pause_ms >= 2000);
	/* stock comes back during the pause */
	fake_control(c->f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-4\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":100}");
}

static void test_until_converged(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct conv c = { f, &set, 0, 0, APPLY_NEXT_STOP };
	struct apply_converge_opts o;
	struct apply_converge_result cv;
	const struct apply_cloud cloud = { &fake_ops, f };
	struct err e = ERR_INIT;

	(void)state;
	load_specs(&set, spec_web);
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-3\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":1}");
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-4\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	memset(&o, 0, sizeof(o));
	memset(&cv, 0, sizeof(cv));
	o.until_ms = 5 * 60 * 1000;
	o.apply.wait = true;
	o.plan = conv_plan;
	o.approve = conv_approve;
	o.between = conv_between;
	o.ctx = &c;
	assert_int_equal(apply_converge(&cv, &cloud, &o, &e), 0);
	assert_true(cv.rounds >= 2);
	assert_int_equal(c.approvals, cv.rounds);
	assert_int_equal(c.betweens, cv.rounds - 1);
	assert_int_equal(c.last, APPLY_NEXT_BACKOFF);
	assert_int_equal(cv.res.converged, 1);
	/* totals count every round: 1 launched in the first, 2 after */
	assert_int_equal(cv.launched, 3);
	assert_int_equal(apply_converge_total(&cv, "web")->launched, 3);
	apply_converge_result_clear(&cv);
	spec_set_release(&set);
	fake_free(f);
}

static void test_until_converged_gives_up_at_deadline(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct spec_set set = SPEC_SET_INIT;
	struct conv c = { f, &set, 0, 0, APPLY_NEXT_STOP };
	struct apply_converge_opts o;
	struct apply_converge_result cv;
	const struct apply_cloud cloud = { &fake_ops, f };
	struct err e = ERR_INIT;
	int64_t start = f->now;

	(void)state;
	load_specs(&set, spec_web);
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-3\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	fake_control(f, "/_sim/pool",
		     "{\"region\":\"ap-guangzhou\",\"zone\":\"ap-guangzhou-4\","
		     "\"instanceType\":\"S5.MEDIUM4\",\"stock\":0}");
	memset(&o, 0, sizeof(o));
	memset(&cv, 0, sizeof(cv));
	o.until_ms = 40 * 1000;
	o.apply.wait = true;
	o.plan = conv_plan;
	o.ctx = &c;
	assert_int_equal(apply_converge(&cv, &cloud, &o, &e), 0);
	assert_int_equal(cv.res.converged, 0);
	/* 2 + 4 + 8 + 16 s of pauses fit in 40 s; the next 30 s would not */
	assert_int_equal(cv.rounds, 5);
	assert_true(f->now - start <= 40 * 1000 + 1000);
	apply_converge_result_clear(&cv);
	spec_set_release(&set);
	fake_free(f);
}

/* ------------------------------------------------------------------ */
/* Pure parts */

static void test_next_round(void **state)
{
	struct apply_env_result envs[2];
	struct apply_result r;
	int64_t pause = -1;

	(void)state;
	memset(envs, 0, sizeof(envs));
	memset(&r, 0, sizeof(r));
	r.envs = envs;
	r.nenvs = 2;
	envs[0].converged = true;
	envs[1].short_by = 2;
	envs[1].capacity_short = true;
	r.converged = 1;
	assert_int_equal(apply_next_round(&r, false, 0, 0, 0, &pause), APPLY_NEXT_STOP);
	assert_int_equal(apply_next_round(&r, true, 0, 1000, 100000, &pause),
			 APPLY_NEXT_BACKOFF);
	assert_int_equal(pause, 2000);
	assert_int_equal(apply_next_round(&r, true, 3, 1000, 100000, &pause),
			 APPLY_NEXT_BACKOFF);
	assert_int_equal(pause, 16000);
	assert_int_equal(apply_next_round(&r, true, 10, 1000, 100000, &pause),
			 APPLY_NEXT_BACKOFF);
	assert_int_equal(pause, 30000); /* capped */
	/* the pause would end past the deadline */
	assert_int_equal(apply_next_round(&r, true, 0, 99000, 100000, &pause),
			 APPLY_NEXT_STOP);
	/* an error is not worth another round */
	envs[1].error = true;
	assert_int_equal(apply_next_round(&r, true, 0, 1000, 100000, &pause),
			 APPLY_NEXT_STOP);
	/* a rollout step goes on at once */
	envs[1].error = false;
	envs[1].short_by = 0;
	envs[1].drift_left = 2;
	envs[1].released = 1;
	assert_int_equal(apply_next_round(&r, true, 0, 1000, 100000, &pause),
			 APPLY_NEXT_ROLLOUT);
	assert_int_equal(pause, 0);
	assert_int_equal(apply_next_round(&r, true, 0, 100001, 100000, &pause),
			 APPLY_NEXT_STOP);
	/* everything converged */
	envs[1].converged = true;
	r.converged = 2;
	assert_int_equal(apply_next_round(&r, true, 0, 1000, 100000, &pause),
			 APPLY_NEXT_STOP);
}

static void test_outcome_counts(void **state)
{
	struct apply_env_result er;
	struct plan_env env;
	struct apply_env_facts f;

	(void)state;
	memset(&er, 0, sizeof(er));
	memset(&env, 0, sizeof(env));
	memset(&f, 0, sizeof(f));
	env.desired = 5;
	env.to_launch = 5;
	env.status = PLAN_STATUS_CHANGES;
	f.running = 2;
	f.gone = 1;
	f.failed = 1;
	f.pending = 1;
	f.waited = true;
	apply_outcome(&er, &env, &f);
	assert_int_equal(er.running, 2);
	assert_int_equal(er.launch_gone, 1);
	assert_int_equal(er.launch_failed, 1);
	assert_int_equal(er.short_by, 3);
	assert_false(er.converged);
	assert_int_equal(er.nreasons, 3);
	assert_string_equal(er.reasons[0],
			    "1 launched instance was reclaimed before running");
	assert_string_equal(er.reasons[1], "1 launched instance ended LAUNCH_FAILED");
	assert_string_equal(er.reasons[2],
			    "1 instance still pending when the wait timed out");
	for (size_t i = 0; i < er.nreasons; i++)
		free(er.reasons[i]);
	free(er.reasons);

	/* without waiting nothing is known to be short */
	memset(&er, 0, sizeof(er));
	f.waited = false;
	apply_outcome(&er, &env, &f);
	assert_int_equal(er.short_by, 0);
	assert_true(er.converged);
	/* ... but a failed run never converges */
	memset(&er, 0, sizeof(er));
	f.run_failed = true;
	apply_outcome(&er, &env, &f);
	assert_false(er.converged);
}

static void test_outcome_capacity_and_drift(void **state)
{
	struct apply_env_result er;
	struct plan_env env;
	struct plan_release rel[2];
	struct apply_env_facts f;
	bool released[2] = { true, false };
	char *warn = (char *)"pool 1 sold out";

	(void)state;
	memset(&er, 0, sizeof(er));
	memset(&env, 0, sizeof(env));
	memset(rel, 0, sizeof(rel));
	memset(&f, 0, sizeof(f));
	/* short at plan time: the plan's warnings say why */
	env.desired = 4;
	env.active = 1;
	env.to_launch = 1;
	env.status = PLAN_STATUS_SHORT;
	env.warnings = &warn;
	env.nwarnings = 1;
	f.waited = true;
	f.running = 1;
	apply_outcome(&er, &env, &f);
	assert_int_equal(er.short_by, 2);
	assert_true(er.capacity_short);
	assert_false(er.converged);
	assert_string_equal(er.reasons[0], "pool 1 sold out");
	free(er.reasons[0]);
	free(er.reasons);

	/* two drifted releases, one done: one kept until replacements run */
	memset(&er, 0, sizeof(er));
	memset(&env, 0, sizeof(env));
	env.desired = 2;
	env.active = 2;
	env.drifted = 2;
	env.status = PLAN_STATUS_CHANGES;
	rel[0].reason = PLAN_REASON_DRIFT;
	rel[1].reason = PLAN_REASON_DRIFT;
	env.releases = rel;
	env.nreleases = 2;
	f.released = released;
	apply_outcome(&er, &env, &f);
	assert_false(er.converged);
	assert_int_equal(er.drift_left, 0);
	assert_string_equal(er.reasons[0],
			    "1 drifted instance kept until replacements run");
	free(er.reasons[0]);
	free(er.reasons);

	/* 5 active for 1 wanted, 2 excess released: 2 PENDING ones are left */
	memset(&er, 0, sizeof(er));
	memset(&env, 0, sizeof(env));
	env.desired = 1;
	env.active = 5;
	env.status = PLAN_STATUS_SHORT;
	rel[0].reason = PLAN_REASON_EXCESS;
	rel[1].reason = PLAN_REASON_EXCESS;
	env.releases = rel;
	env.nreleases = 2;
	released[1] = true;
	apply_outcome(&er, &env, &f);
	assert_int_equal(er.excess_left, 2);
	assert_false(er.converged);
	assert_string_equal(er.reasons[0],
			    "2 excess instances not released yet (not running: the "
			    "API cannot terminate them now)");
	free(er.reasons[0]);
	free(er.reasons);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge_from_nothing),
		cmocka_unit_test(test_sends_the_plans_bid),
		cmocka_unit_test(test_fallback_to_next_pool),
		cmocka_unit_test(test_all_pools_sold_out_is_short),
		cmocka_unit_test(test_partial_stock),
		cmocka_unit_test(test_release_order),
		cmocka_unit_test(test_launch_failed_not_terminated),
		cmocka_unit_test(test_refused_release_split),
		cmocka_unit_test(test_check_sends_no_token),
		cmocka_unit_test(test_verify_plan_releases),
		cmocka_unit_test(test_lying_answer),
		cmocka_unit_test(test_waits_for_tags),
		cmocka_unit_test(test_reclaimed_while_waiting),
		cmocka_unit_test(test_memo_jump_one_describe),
		cmocka_unit_test(test_until_converged),
		cmocka_unit_test(test_until_converged_gives_up_at_deadline),
		cmocka_unit_test(test_next_round),
		cmocka_unit_test(test_outcome_counts),
		cmocka_unit_test(test_outcome_capacity_and_drift),
	};
	return cmocka_run_group_tests_name("applier", tests, NULL, NULL);
}
