/*
 * Unit tests for planner/: template hash, renderers, plan and snapshot
 * documents, basis diffs, destroy plans, client tokens and speed.
 * The planning rules themselves are covered case by case in tests/plan/
 * (test_planner_golden.c).
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include "../../planner/plan.h"
#include <dirent.h>
#include <cjson/cJSON.h>

#define SPEC_HEAD                                                                        \
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata:\n"                     \
	"  name: web\nspec:\n  region: ap-guangzhou\n"

static const char *const base_spec = SPEC_HEAD
	"  capacity: 2\n  maxPrice: \"0.50\"\n  image: img-aaaaaaaa\n"
	"  pools:\n    - zone: ap-guangzhou-3\n      instanceType: S5.MEDIUM4\n";

static void load_spec(struct spec_set *set, const char *text)
{
	struct errlist errs = ERRLIST_INIT;

	if (spec_load_buffer(set, "test.yaml", text, strlen(text), &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("%d:%d: %s\n", errs.v[i].line, errs.v[i].col,
				    errs.v[i].msg);
		fail_msg("spec does not load");
	}
	errlist_clear(&errs);
}

static void hash_of(char out[PLAN_TEMPLATE_HEX + 1], const char *text)
{
	struct spec_set set = SPEC_SET_INIT;

	load_spec(&set, text);
	assert_int_equal(set.nenvs, 1);
	plan_template_hash(out, &set.envs[0], &set.envs[0].pools[0]);
	spec_set_release(&set);
}

/* Replace the first occurrence of from in s by to; caller frees. */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);

	assert_non_null(at);
	return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static void test_template_hash_fields(void **state)
{
	/* Each edit changes a template field: the hash must change. */
	static const char *const drift[][2] = {
		{ "img-aaaaaaaa", "img-bbbbbbbb" },
		{ "S5.MEDIUM4", "S2.MEDIUM4" },
		{ "ap-guangzhou-3", "ap-guangzhou-4" },
		{ "  pools:", "  instanceName: web\n  pools:" },
		{ "  pools:", "  userData: \"echo hi\"\n  pools:" },
		{ "  pools:", "  systemDisk: {type: CLOUD_SSD, sizeGb: 60}\n  pools:" },
		{ "  pools:", "  login: {keyIds: [skey-aaaa]}\n  pools:" },
		{ "  pools:", "  login: {keepImageLogin: true}\n  pools:" },
		{ "  pools:",
		  "  network: {vpcId: vpc-a, securityGroupIds: [sg-a]}\n  pools:" },
	};
	/* These do not touch the template: the hash must stay. */
	static const char *const same[][2] = {
		{ "\"0.50\"", "\"0.90\"" },
		{ "capacity: 2", "capacity: 7" },
		{ "  pools:", "  tags: {team: web}\n  pools:" },
		{ "  pools:", "  allocation: spread\n  pools:" },
		{ "  pools:",
		  "  limits: {maxReleasePerApply: 3, maxHourlyCost: \"1\"}\n  pools:" },
		{ "  pools:", "  update: {maxSurge: 4, maxUnavailable: 2}\n  pools:" },
		{ "S5.MEDIUM4\n", "S5.MEDIUM4\n      maxPrice: \"0.70\"\n" },
	};
	char h0[PLAN_TEMPLATE_HEX + 1], h[PLAN_TEMPLATE_HEX + 1];

	(void)state;
	hash_of(h0, base_spec);
	assert_int_equal(strlen(h0), PLAN_TEMPLATE_HEX);
	for (size_t i = 0; i < ARRAY_SIZE(drift); i++) {
		char *s = subst(base_spec, drift[i][0], drift[i][1]);

		if (strstr(s, "vpcId")) { /* a VPC needs a subnet per pool */
			char *t = subst(s, "S5.MEDIUM4\n",
					"S5.MEDIUM4\n      subnetId: subnet-a\n");

			free(s);
			s = t;
		}
		hash_of(h, s);
		if (!strcmp(h, h0))
			fail_msg("template hash did not change for: %s", drift[i][1]);
		free(s);
	}
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		char *s = subst(base_spec, same[i][0], same[i][1]);

		hash_of(h, s);
		if (strcmp(h, h0))
			fail_msg("template hash changed for: %s", same[i][1]);
		free(s);
	}
}

/* ---------------------------------------------------------------------
 * A small world built in code.
 */

static void add_instance(struct plan_observed *obs, const char *id, const char *env,
			 const char *scope, const char *tmpl, const char *state,
			 int64_t created)
{
	struct tc_instance_list l = { 0 };
	struct tc_instance *in;
	size_t t = 0;

	l.v = xcalloc(1, sizeof(*l.v));
	l.n = l.alloc = 1;
	in = &l.v[0];
	in->id = xstrdup(id);
	in->state = xstrdup(state);
	in->region = xstrdup("ap-guangzhou");
	in->zone = xstrdup("ap-guangzhou-3");
	in->type = xstrdup("S5.MEDIUM4");
	in->created_unix = created;
	in->tags = xcalloc(3, sizeof(*in->tags));
	if (env) {
		in->tags[t].key = xstrdup(PLAN_TAG_ENV);
		in->tags[t++].value = xstrdup(env);
	}
	if (scope) {
		in->tags[t].key = xstrdup(PLAN_TAG_SCOPE);
		in->tags[t++].value = xstrdup(scope);
	}
	if (tmpl) {
		in->tags[t].key = xstrdup(PLAN_TAG_TEMPLATE);
		in->tags[t++].value = xstrdup(tmpl);
	}
	in->ntags = t;
	plan_observed_add_instances(obs, &l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
}

static void add_offer(struct plan_observed *obs, const char *zone, const char *status,
		      const char *price)
{
	struct tc_offer_list l = { 0 };

	l.v = xcalloc(1, sizeof(*l.v));
	l.n = l.alloc = 1;
	l.v[0].zone = xstrdup(zone);
	l.v[0].type = xstrdup("S5.MEDIUM4");
	l.v[0].status = xstrdup(status);
	l.v[0].price = xstrdup(price);
	plan_observed_add_offers(obs, "ap-guangzhou", &l);
}

struct world {
	struct spec_set set;
	struct plan_observed obs;
	struct plan *p;
	char tmpl[PLAN_TEMPLATE_HEX + 1];
};

static void world_init(struct world *w, const char *spec)
{
	memset(w, 0, sizeof(*w));
	load_spec(&w->set, spec);
	plan_template_hash(w->tmpl, &w->set.envs[0], &w->set.envs[0].pools[0]);
	plan_observed_add_region(&w->obs, "ap-guangzhou");
	plan_observed_add_region(&w->obs, "ap-guangzhou");
	assert_int_equal(w->obs.nregions, 1);
	add_offer(&w->obs, "ap-guangzhou-3", "SELL", "0.20");
}

static void world_plan(struct world *w, bool prune, int max_release)
{
	struct plan_input in = { .specs = &w->set,
				 .observed = &w->obs,
				 .prune = prune,
				 .max_release = max_release };
	struct err e = ERR_INIT;

	plan_free(w->p);
	w->p = NULL;
	if (plan_make(&w->p, &in, &e) < 0)
		fail_msg("plan_make: %s", e.msg);
}

static void world_free(struct world *w)
{
	plan_free(w->p);
	plan_observed_clear(&w->obs);
	spec_set_release(&w->set);
}

static void test_render_text(void **state)
{
	struct world w;
	struct buf b = BUF_INIT, c = BUF_INIT;

	(void)state;
	world_init(&w, base_spec);
	add_instance(&w.obs, "ins-1", "web", "default", w.tmpl, "STOPPED", 10);
	add_instance(&w.obs, "ins-2", "web", "default", "000000000000", "RUNNING", 20);
	add_instance(&w.obs, "ins-3", "gone", "default", "000000000000", "RUNNING", 30);
	world_plan(&w, false, -1);

	assert_int_equal(plan_render_text(&b, w.p, false), 0);
	assert_non_null(strstr(b.ptr, "env web (scope default, ap-guangzhou, priority): "
				      "2 desired, 1 active, 1 drifted, 1 failed\n"));
	assert_non_null(strstr(b.ptr,
			       "  + launch 1 x S5.MEDIUM4 in ap-guangzhou-3 (pool 1), "
			       "bid 0.50, spot 0.20\n"));
	assert_non_null(strstr(b.ptr, "  ~ launch 1 x S5.MEDIUM4"));
	assert_non_null(strstr(b.ptr,
			       "  ~ release ins-2 (S5.MEDIUM4 ap-guangzhou-3, RUNNING): "
			       "drift: template 000000000000 -> "));
	assert_non_null(strstr(b.ptr,
			       "  - release ins-1 (S5.MEDIUM4 ap-guangzhou-3, STOPPED): "
			       "failed: state STOPPED\n"));
	assert_non_null(
		strstr(b.ptr, "env gone (orphan, scope default, ap-guangzhou): 1 active\n"
			      "  warning: environment 'gone'"));
	assert_null(strchr(b.ptr, '\033'));
	/* The closing line is last. */
	assert_non_null(
		strstr(b.ptr, "\nPlan: 1 to launch, 1 to release, 1 to replace.\n"));
	assert_int_equal(b.ptr[b.len - 1], '\n');

	assert_int_equal(plan_render_text(&c, w.p, true), 0);
	assert_non_null(strstr(c.ptr, "\033[32m+\033[0m launch"));
	assert_non_null(strstr(c.ptr, "\033[31m-\033[0m release"));
	assert_non_null(strstr(c.ptr, "\033[33m~\033[0m release"));
	buf_release(&b);
	buf_release(&c);
	world_free(&w);
}

static void test_render_closing(void **state)
{
	struct world w;
	struct buf b = BUF_INIT;
	char *two;

	(void)state;
	world_init(&w, base_spec);
	add_instance(&w.obs, "ins-1", "web", "default", w.tmpl, "RUNNING", 10);
	add_instance(&w.obs, "ins-2", "web", "default", w.tmpl, "RUNNING", 20);
	world_plan(&w, false, -1);
	assert_false(plan_has_changes(w.p));
	assert_false(plan_has_errors(w.p));
	plan_render_closing(&b, w.p);
	assert_string_equal(b.ptr, "No changes. 1 environment converged.");
	world_free(&w);

	/* Two environments, one short of capacity (sold out). */
	two = xasprintf(
		"%s---\n%s", base_spec,
		"apiVersion: spotenv/v1\nkind: SpotEnvironment\n"
		"metadata: {name: zz}\nspec:\n  region: ap-guangzhou\n  capacity: 1\n"
		"  maxPrice: \"0.5\"\n  image: img-aaaaaaaa\n"
		"  pools: [{zone: ap-guangzhou-4, instanceType: S5.MEDIUM4}]\n");
	world_init(&w, two);
	add_offer(&w.obs, "ap-guangzhou-4", "SOLD_OUT", "0.20");
	add_instance(&w.obs, "ins-1", "web", "default", w.tmpl, "RUNNING", 10);
	add_instance(&w.obs, "ins-2", "web", "default", w.tmpl, "RUNNING", 20);
	world_plan(&w, false, -1);
	buf_reset(&b);
	plan_render_closing(&b, w.p);
	assert_string_equal(b.ptr, "No changes. 1 of 2 environments converged.");
	assert_int_equal(plan_find_env(w.p, "zz")->status, PLAN_STATUS_SHORT);
	assert_null(plan_find_env(w.p, "nope"));
	buf_release(&b);
	world_free(&w);
	free(two);
}

static void test_render_markdown(void **state)
{
	struct world w;
	struct buf b = BUF_INIT;
	const char *warn, *table, *details, *diff;

	(void)state;
	world_init(&w, base_spec);
	add_offer(&w.obs, "ap-guangzhou-9", "SOLD_OUT", "0.20");
	add_instance(&w.obs, "ins-2", "web", "default", "000000000000", "RUNNING", 20);
	add_instance(&w.obs, "ins-3", "gone", "default", "000000000000", "RUNNING", 30);
	world_plan(&w, false, -1);
	assert_int_equal(plan_render_markdown(&b, w.p), 0);
	warn = strstr(b.ptr, "> [!WARNING]\n> - `gone`: environment 'gone'");
	table = strstr(b.ptr, "| Environment | Scope |");
	details = strstr(b.ptr,
			 "<details><summary><code>web</code>: 1 to launch, 0 to release, "
			 "1 to replace</summary>");
	diff = strstr(b.ptr, "```diff\n+ launch 1 x S5.MEDIUM4");
	assert_non_null(warn);
	assert_non_null(table);
	assert_non_null(details);
	assert_non_null(diff);
	assert_true(warn < table && table < details && details < diff);
	assert_non_null(strstr(
		b.ptr, "| `web` | default | ap-guangzhou | 2 | 1 | 0 | 0 | 1 | 0 | 1 "
		       "| 0.20 &rarr; 0.40 | changes |\n"));
	/* the marker a CI job finds its sticky comment by, and the cost */
	assert_ptr_equal(strstr(b.ptr, "<!-- spotenv-plan -->\n"), b.ptr);
	assert_non_null(strstr(b.ptr, "Estimated cost: "));
	assert_non_null(strstr(b.ptr, "| `gone` (orphan) |"));
	/* Replacements show as `!` lines in the diff block. */
	assert_non_null(strstr(b.ptr, "\n! release ins-2 "));
	assert_non_null(
		strstr(b.ptr, "**Plan: 1 to launch, 0 to release, 1 to replace.**"));
	assert_null(strchr(b.ptr, '\033'));
	buf_release(&b);
	world_free(&w);
}

/* UTF-8 characters of s. */
static size_t chars_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * A scale-down of 1,500 instances: the Markdown stays under 60,000
 * characters, keeps the summary, cuts the details and says how many lines
 * were left out; with room for everything nothing is cut.
 */
static void test_render_markdown_limit(void **state)
{
	char *spec = subst(base_spec, "capacity: 2", "capacity: 0");
	struct world w;
	struct buf b = BUF_INIT, all = BUF_INIT;
	char id[32];

	(void)state;
	world_init(&w, spec);
	for (int i = 0; i < 1500; i++) {
		snprintf(id, sizeof(id), "ins-%08d", i);
		add_instance(&w.obs, id, "web", "default", w.tmpl, "RUNNING", 10 + i);
	}
	world_plan(&w, false, -1);
	assert_int_equal((int)w.p->envs[0].nreleases, 1500);
	assert_int_equal(plan_render_markdown(&b, w.p), 0);
	assert_true(chars_of(b.ptr) <= PLAN_MARKDOWN_LIMIT);
	assert_true(chars_of(b.ptr) > PLAN_MARKDOWN_LIMIT - 1000);
	assert_ptr_equal(strstr(b.ptr, "<!-- spotenv-plan -->\n"), b.ptr);
	assert_non_null(
		strstr(b.ptr, "**Plan: 0 to launch, 1500 to release, 0 to replace.**"));
	assert_non_null(strstr(b.ptr, "| `web` | default | ap-guangzhou | 0 | 1500 |"));
	assert_non_null(strstr(b.ptr, "0.00 |"));
	assert_non_null(strstr(b.ptr, "more lines not shown\n```\n\n</details>"));
	assert_non_null(strstr(b.ptr, "_Shortened to fit 60000 characters: "));
	assert_non_null(strstr(b.ptr, "<sub>basis `"));
	/* multi-byte characters count once: a limit in characters, not bytes */
	assert_int_equal(plan_render_markdown_limit(&all, w.p, SIZE_MAX / 2), 0);
	assert_null(strstr(all.ptr, "Shortened"));
	assert_non_null(strstr(all.ptr, "- release ins-00001499 "));
	assert_true(all.len > 2 * PLAN_MARKDOWN_LIMIT);
	buf_release(&b);
	buf_release(&all);
	world_free(&w);
	free(spec);
}

/* Strings from the world cannot inject terminal escapes or Markdown. */
static void test_render_hostile_strings(void **state)
{
	struct world w;
	struct buf t = BUF_INIT, m = BUF_INIT;

	(void)state;
	world_init(&w, base_spec);
	add_instance(&w.obs, "ins-1\033[2J", "evil|<b>x</b>\033[2J`y`", "default", "t",
		     "RUNNING", 1);
	world_plan(&w, true, -1);
	plan_render_text(&t, w.p, false);
	assert_null(strchr(t.ptr, '\033'));
	assert_non_null(strstr(t.ptr, "env evil|<b>x</b>?[2J`y` (orphan,"));
	assert_non_null(strstr(
		t.ptr, "release ins-1?[2J (S5.MEDIUM4 ap-guangzhou-3, RUNNING): orphan"));
	plan_render_markdown(&m, w.p);
	assert_null(strchr(m.ptr, '\033'));
	/* "<b>" appears only inside the ``` block, where it is literal text */
	assert_true(strstr(m.ptr, "<b>") > strstr(m.ptr, "```diff"));
	assert_non_null(
		strstr(m.ptr, "| evil\\|&lt;b&gt;x&lt;/b&gt;?\\[2J\\`y\\` (orphan) |"));
	assert_non_null(
		strstr(m.ptr, "<summary><code>evil|&lt;b&gt;x&lt;/b&gt;?[2J`y`</code>"));
	assert_non_null(strstr(
		m.ptr,
		"- release ins-1?[2J (S5.MEDIUM4 ap-guangzhou-3, RUNNING): orphan: "
		"environment 'evil|<b>x</b>?[2J'y'' is not in the specs\n"));
	buf_release(&t);
	buf_release(&m);
	world_free(&w);
}

/* Every plan the planner made (the golden documents) passes plan_check. */
static void test_plan_check_golden(void **state)
{
	DIR *d = opendir("tests/plan");
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		char *path = xasprintf("tests/plan/%s/expected.json", de->d_name);
		FILE *f = fopen(path, "r");
		struct buf doc = BUF_INIT, why = BUF_INIT;
		struct plan *p = NULL;
		struct err e = ERR_INIT;
		char chunk[4096];
		size_t r;

		if (!f) {
			free(path);
			continue;
		}
		while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_put(&doc, chunk, r);
		fclose(f);
		if (plan_from_json(&p, doc.ptr, doc.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		if (plan_check(p, &why) != 0)
			fail_msg("%s:\n%s", path, buf_str(&why));
		n++;
		plan_free(p);
		buf_release(&doc);
		buf_release(&why);
		free(path);
	}
	closedir(d);
	assert_true(n >= 40);
}

/* A plan edited by hand: each tampering is named, nothing passes. */
static void expect_tampered(struct world *w, void (*edit)(struct plan *p),
			    const char *what)
{
	struct buf doc = BUF_INIT, why = BUF_INIT;
	struct plan *p = NULL;
	struct err e = ERR_INIT;

	world_plan(w, false, -1);
	assert_int_equal(plan_to_json(&doc, w->p), 0);
	assert_int_equal(plan_from_json(&p, doc.ptr, doc.len, &e), 0);
	assert_int_equal(plan_check(p, NULL), 0);
	edit(p);
	if (plan_check(p, &why) == 0 || !strstr(buf_str(&why), what))
		fail_msg("want '%s' in:\n%s", what, buf_str(&why));
	plan_free(p);
	buf_release(&doc);
	buf_release(&why);
}

static void edit_bid(struct plan *p)
{
	free(p->envs[0].launches[0].bid);
	p->envs[0].launches[0].bid = xstrdup("99999.99");
}

static void edit_zone(struct plan *p)
{
	free(p->envs[0].launches[0].zone);
	p->envs[0].launches[0].zone = xstrdup("ap-guangzhou-7");
}

static void edit_untag(struct plan *p)
{
	struct plan_launch *l = &p->envs[0].launches[0];

	for (size_t i = 0; i < l->ntags; i++)
		if (!strcmp(l->tags[i].key, PLAN_TAG_SCOPE)) {
			free(l->tags[i].value);
			l->tags[i].value = xstrdup("other");
		}
}

static void edit_count(struct plan *p)
{
	p->envs[0].launches[0].count = 200;
}

static void edit_release(struct plan *p)
{
	struct plan_env *pe = &p->envs[0];

	free(pe->releases); /* (the reader's empty list) */
	pe->releases = xcalloc(1, sizeof(*pe->releases));
	pe->nreleases = pe->releases_alloc = 1;
	pe->releases[0].id = xstrdup("ins-someone1");
	pe->releases[0].env = xstrdup("not-web");
	pe->releases[0].region = xstrdup("ap-guangzhou");
	pe->releases[0].reason = PLAN_REASON_EXCESS;
}

static void edit_error_status(struct plan *p)
{
	p->envs[0].status = PLAN_STATUS_ERROR;
}

static void test_plan_check_tampered(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, base_spec);
	expect_tampered(&w, edit_bid, "the bid is not pool 1's bid");
	expect_tampered(&w, edit_zone, "zone, type or subnet differ from pool 1");
	expect_tampered(&w, edit_untag, "tag 'spotenv:scope' must be 'default' once");
	expect_tampered(&w, edit_count, "count 200 is not 1 to 100");
	expect_tampered(&w, edit_release, "it names environment 'not-web'");
	expect_tampered(&w, edit_error_status, "status error without errors");
	world_free(&w);
}

static void edit_image(struct plan *p)
{
	free(p->envs[0].template->image);
	p->envs[0].template->image = xstrdup("img-evil0000");
}

static void edit_to_launch(struct plan *p)
{
	p->envs[0].to_launch = 1;
}

static void edit_pool_launch(struct plan *p)
{
	p->envs[0].pools[0].launch = 7;
}

static void edit_fallback(struct plan *p)
{
	p->envs[0].pools[0].usable = false;
}

static void edit_scope(struct plan *p)
{
	free(p->envs[0].scope);
	p->envs[0].scope = xstrdup("other");
}

static void edit_index(struct plan *p)
{
	p->envs[0].pools[0].index = 3;
}

static void edit_capacity(struct plan *p)
{
	p->envs[0].desired = SPEC_MAX_CAPACITY + 1;
}

static void edit_tag_control(struct plan *p)
{
	struct plan_launch *l = &p->envs[0].launches[0];

	free(l->tags[0].value);
	l->tags[0].value = xstrdup("web\033]0;x\007");
}

static void edit_region(struct plan *p)
{
	free(p->envs[0].region);
	p->envs[0].region = xstrdup("ap-shanghai");
}

static void edit_region_header(struct plan *p)
{
	free(p->envs[0].region);
	p->envs[0].region = xstrdup("ap-guangzhou\r\nX-Evil: 1");
}

static void edit_user_data(struct plan *p)
{
	free(p->envs[0].template->user_data_b64);
	p->envs[0].template->user_data_b64 = xstrdup("not base64!");
}

/* What plan_check holds a plan to besides the actions' own fields. */
static void test_plan_check_declarations(void **state)
{
	struct world w;

	(void)state;
	world_init(&w, base_spec);
	expect_tampered(&w, edit_image,
			"pool 1: its template hash is not that of the environment's "
			"launch template");
	expect_tampered(&w, edit_to_launch,
			"its actions (2 launched, 0 released) are not its "
			"to_launch 1, to_release 0 and to_replace 0");
	expect_tampered(&w, edit_pool_launch, "pool 1: launches 2 instances, it says 7");
	expect_tampered(&w, edit_fallback, "fallback pool 1 is not a usable pool");
	expect_tampered(&w, edit_scope, "its scope is not one of the plan's scopes");
	expect_tampered(&w, edit_index, "pool 1: its index is 4");
	expect_tampered(&w, edit_capacity, "a capacity over 10000");
	expect_tampered(&w, edit_tag_control,
			"tag 1 is empty, too long or holds control characters");
	expect_tampered(&w, edit_region,
			"pool 1: its zone is not in the environment's region");
	expect_tampered(&w, edit_region_header, "its region is not a region name");
	expect_tampered(&w, edit_user_data,
			"its launch template holds a malformed id, name or "
			"user data");
	world_free(&w);
}

/* 200 copies of one launch (made in the JSON): refused, once per reason. */
static void test_plan_check_copies(void **state)
{
	struct world w;
	struct buf doc = BUF_INIT, why = BUF_INIT;
	struct plan *p = NULL;
	struct err e = ERR_INIT;
	cJSON *root, *launches;
	char *text;

	(void)state;
	world_init(&w, base_spec);
	world_plan(&w, false, -1);
	assert_int_equal(plan_to_json(&doc, w.p), 0);
	root = cJSON_Parse(doc.ptr);
	launches = cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(root, "environments"), 0),
		"launches");
	for (int i = 0; i < 199; i++)
		cJSON_AddItemToArray(launches,
				     cJSON_Duplicate(cJSON_GetArrayItem(launches, 0), 1));
	text = cJSON_PrintUnformatted(root);
	assert_int_equal(plan_from_json(&p, text, strlen(text), &e), 0);
	assert_int_equal(plan_check(p, &why), ERR_INVALID);
	assert_non_null(
		strstr(buf_str(&why), "launches 400 instances for a capacity of 2"));
	assert_non_null(strstr(buf_str(&why), "appears more than once"));
	/* listed once, not 199 times */
	assert_null(strstr(strstr(buf_str(&why), "appears more than once") + 1,
			   "appears more than once"));
	plan_free(p);
	free(text);
	cJSON_Delete(root);
	buf_release(&doc);
	buf_release(&why);
	world_free(&w);
}

static void test_plan_json_round_trip_and_check(void **state)
{
	struct world w;
	struct buf a = BUF_INIT, b = BUF_INIT, t1 = BUF_INIT, t2 = BUF_INIT;
	struct plan *back = NULL;
	struct err e = ERR_INIT;
	const struct plan_env *pe;

	(void)state;
	world_init(&w, base_spec);
	world_plan(&w, false, -1);
	pe = plan_find_env(w.p, "web");
	assert_non_null(pe);
	assert_int_equal(pe->nlaunches, 1);
	plan_launch_set_check(&w.p->envs[0].launches[0], false,
			      "ResourcesSoldOut.SpecifiedInstanceType", "sold out");
	assert_int_equal(plan_to_json(&a, w.p), 0);
	assert_non_null(
		strstr(a.ptr, "\"check\": \"ResourcesSoldOut.SpecifiedInstanceType\""));
	assert_int_equal(plan_from_json(&back, a.ptr, a.len, &e), 0);
	assert_int_equal(plan_to_json(&b, back), 0);
	assert_string_equal(a.ptr, b.ptr);
	plan_render_text(&t1, w.p, false);
	plan_render_text(&t2, back, false);
	assert_string_equal(t1.ptr, t2.ptr);
	assert_non_null(strstr(t1.ptr,
			       "[dry run failed: ResourcesSoldOut.SpecifiedInstanceType: "
			       "sold out]"));
	plan_launch_set_check(&back->envs[0].launches[0], true, NULL, NULL);
	buf_reset(&t2);
	plan_render_text(&t2, back, false);
	assert_non_null(strstr(t2.ptr, "[dry run ok]"));
	buf_release(&a);
	buf_release(&b);
	buf_release(&t1);
	buf_release(&t2);
	plan_free(back);
	world_free(&w);
}

static void expect_plan_error(const char *doc, const char *msg_part)
{
	struct plan *p = NULL;
	struct err e = ERR_INIT;

	assert_int_equal(plan_from_json(&p, doc, strlen(doc), &e), ERR_INVALID);
	assert_null(p);
	if (!e.msg || !strstr(e.msg, msg_part))
		fail_msg("error '%s' does not mention '%s'", e.msg ? e.msg : "",
			 msg_part);
	err_clear(&e);
}

static void test_plan_json_errors(void **state)
{
	struct world w;
	struct buf a = BUF_INIT;
	char *bad;

	(void)state;
	expect_plan_error("{", "not valid JSON");
	expect_plan_error("[]", "not a JSON object");
	expect_plan_error("{\"kind\": \"plan\"}", "no 'format_version'");
	expect_plan_error("{\"format_version\": \"2\"}",
			  "unsupported plan format_version '2'");

	world_init(&w, base_spec);
	world_plan(&w, false, -1);
	plan_to_json(&a, w.p);
	bad = subst(a.ptr, "\"count\": 2", "\"count\": \"2\"");
	expect_plan_error(bad,
			  "'environments[0].launches[0].count': expected an integer");
	free(bad);
	bad = subst(a.ptr, "\"count\": 2", "\"count\": 101");
	expect_plan_error(bad, "launches[0].count");
	free(bad);
	bad = subst(a.ptr, "\"bid\": \"0.50\",\n          \"price\"",
		    "\"bid\": \"cheap\",\n          \"price\"");
	expect_plan_error(bad,
			  "'environments[0].pools[0].bid': expected a decimal string");
	free(bad);
	bad = subst(a.ptr, "\"pool\": 0", "\"pool\": 7");
	expect_plan_error(
		bad,
		"'environments[0].launches': a launch names a pool that is not listed");
	free(bad);
	bad = subst(a.ptr, "\"basis\"", "\"basis_\"");
	expect_plan_error(bad, "'basis': missing");
	free(bad);
	buf_release(&a);
	world_free(&w);
}

/* A plan document's shape: duplicates, nesting, lengths, NULs, element counts. */
static void test_plan_json_shape(void **state)
{
	struct world w;
	struct buf a = BUF_INIT, big = BUF_INIT;
	char *bad, *tags;

	(void)state;
	world_init(&w, base_spec);
	world_plan(&w, false, -1);
	plan_to_json(&a, w.p);
	/* a member twice: the reader would see one, a reviewer's tool the other */
	bad = subst(a.ptr, "\"kind\": \"plan\",",
		    "\"kind\": \"plan\", \"kind\": \"destroy\",");
	expect_plan_error(bad, "'kind': appears twice");
	free(bad);
	bad = subst(a.ptr, "\"count\": 2,", "\"count\": 2, \"count\": 100,");
	expect_plan_error(bad, "'count': appears twice");
	free(bad);
	/* deep nesting, even in a member nobody reads */
	buf_puts(&big, "{\"format_version\": \"1\", \"x\": ");
	for (int i = 0; i < 40; i++)
		buf_putc(&big, '[');
	for (int i = 0; i < 40; i++)
		buf_putc(&big, ']');
	buf_putc(&big, '}');
	expect_plan_error(big.ptr, "nested too deeply");
	/* a huge string */
	buf_reset(&big);
	buf_puts(&big, "{\"format_version\": \"1\", \"basis\": \"");
	for (int i = 0; i < 70000; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\"}");
	expect_plan_error(big.ptr, "'basis': string too long");
	/* a NUL escape would cut what is checked short of what was written */
	bad = subst(a.ptr, "\"name\": \"web\"", "\"name\": \"web\\u0000evil\"");
	expect_plan_error(bad, "a string holds \\u0000");
	free(bad);
	/* an escaped backslash before u0000 is text, not a NUL */
	bad = subst(a.ptr, "\"scopes\": [\"default\"]",
		    "\"scopes\": [\"default\"], \"note\": \"a\\\\u0000\"");
	{
		struct plan *p = NULL;
		struct err e = ERR_INIT;

		assert_int_equal(plan_from_json(&p, bad, strlen(bad), &e), 0);
		plan_free(p);
	}
	free(bad);
	/* more tags than a launch may carry */
	buf_reset(&big);
	for (int i = 0; i < 60; i++)
		buf_printf(&big, "{\"key\": \"k%d\", \"value\": \"v\"}, ", i);
	tags = xasprintf("\"tags\": [%s", big.ptr);
	bad = subst(a.ptr, "\"tags\": [", tags);
	expect_plan_error(bad, "'environments[0].launches[0].tags': too many elements");
	free(bad);
	free(tags);
	/* wrong types where a string, an object or an array is expected */
	bad = subst(a.ptr, "\"scopes\": [\"default\"]", "\"scopes\": [1]");
	expect_plan_error(bad, "'scopes': expected an array of strings");
	free(bad);
	bad = subst(a.ptr, "\"environments\": [", "\"environments\": [7, ");
	expect_plan_error(bad, "'environments[0]': expected an object");
	free(bad);
	buf_release(&big);
	buf_release(&a);
	world_free(&w);
}

/* The binding members round-trip; bad ones are refused. */
static void test_plan_json_binding(void **state)
{
	struct world w;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct plan *p = NULL;
	struct err e = ERR_INIT;
	char *bad;

	(void)state;
	world_init(&w, base_spec);
	world_plan(&w, false, -1);
	plan_to_json(&a, w.p);
	assert_null(strstr(a.ptr, "\"endpoint\"")); /* unbound: not written */
	w.p->endpoint = xstrdup("http://127.0.0.1:8787/");
	buf_reset(&a);
	plan_to_json(&a, w.p);
	assert_non_null(strstr(
		a.ptr,
		"\"endpoint\": \"http://127.0.0.1:8787/\",\n  \"account\": null,"));
	w.p->account = xstrdup("1250000000");
	buf_reset(&a);
	plan_to_json(&a, w.p);
	assert_int_equal(plan_from_json(&p, a.ptr, a.len, &e), 0);
	assert_string_equal(p->endpoint, "http://127.0.0.1:8787/");
	assert_string_equal(p->account, "1250000000");
	plan_to_json(&b, p);
	assert_string_equal(a.ptr, b.ptr);
	plan_free(p);
	bad = subst(a.ptr, "\"1250000000\"", "\"125-0\"");
	expect_plan_error(bad, "'account': expected an AppId");
	free(bad);
	bad = subst(a.ptr, "\"http://127.0.0.1:8787/\"", "\"ftp://x/\"");
	expect_plan_error(bad, "'endpoint': expected an http:// or https:// URL");
	free(bad);
	bad = subst(a.ptr, "\"http://127.0.0.1:8787/\"", "7");
	expect_plan_error(bad, "'endpoint': expected a string");
	free(bad);
	buf_release(&a);
	buf_release(&b);
	world_free(&w);
}

static void test_observed_json(void **state)
{
	struct world w;
	struct plan_observed back = PLAN_OBSERVED_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	static const char *const bad[][2] = {
		{ "{}", "no 'format_version'" },
		{ "{\"format_version\": \"9\"}",
		  "unsupported observed snapshot format_version '9'" },
		{ "{\"format_version\": \"1\", \"instances\": {}}",
		  "'instances': expected an array" },
		{ "{\"format_version\": \"1\", \"instances\": [{\"id\": \"i\"}]}",
		  "instances[0].region: expected a string" },
		{ "{\"format_version\": \"1\", \"instances\": [], \"offers\": [{\"region\": \"r\", "
		  "\"zone\": \"z\", \"type\": \"t\", \"status\": \"SELL\", \"price\": \"x\"}]}",
		  "offers[0].price: expected a decimal string" },
		{ "nope", "not valid JSON" },
	};

	(void)state;
	world_init(&w, base_spec);
	plan_observed_set_time(&w.obs, "2026-11-27T12:00:00Z");
	add_instance(&w.obs, "ins-b", "web", "default", w.tmpl, "RUNNING", 1764244800);
	add_instance(&w.obs, "ins-a", "web", "default", NULL, "PENDING", 0);
	assert_int_equal(plan_observed_to_json(&a, &w.obs), 0);
	/* Sorted by id whatever the order observed. */
	assert_true(strstr(a.ptr, "\"ins-a\"") < strstr(a.ptr, "\"ins-b\""));
	assert_int_equal(plan_observed_from_json(&back, a.ptr, a.len, &e), 0);
	assert_int_equal(back.instances.n, 2);
	assert_string_equal(tc_instance_tag(&back.instances.v[1], PLAN_TAG_ENV), "web");
	assert_int_equal(plan_observed_to_json(&b, &back), 0);
	assert_string_equal(a.ptr, b.ptr);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct plan_observed o = PLAN_OBSERVED_INIT;

		assert_int_equal(
			plan_observed_from_json(&o, bad[i][0], strlen(bad[i][0]), &e),
			ERR_INVALID);
		if (!strstr(e.msg, bad[i][1]))
			fail_msg("error '%s' does not mention '%s'", e.msg, bad[i][1]);
		assert_int_equal(o.instances.n, 0);
		err_clear(&e);
	}
	buf_release(&a);
	buf_release(&b);
	plan_observed_clear(&back);
	world_free(&w);
}

static void test_basis_diff(void **state)
{
	struct world w;
	struct plan *old;
	struct buf d = BUF_INIT;

	(void)state;
	world_init(&w, base_spec);
	add_instance(&w.obs, "ins-1", "web", "default", w.tmpl, "RUNNING", 10);
	add_instance(&w.obs, "ins-2", "web", "default", w.tmpl, "RUNNING", 20);
	add_instance(&w.obs, "ins-9", "other", "elsewhere", w.tmpl, "RUNNING", 20);
	world_plan(&w, false, -1);
	old = w.p;
	w.p = NULL;
	assert_int_equal(plan_basis_check(old, &w.obs, &d), 0);
	assert_int_equal(d.len, 0);

	/* An instance of another scope changing does not make the plan stale. */
	free(w.obs.instances.v[2].state);
	w.obs.instances.v[2].state = xstrdup("STOPPED");
	assert_int_equal(plan_basis_check(old, &w.obs, &d), 0);

	free(w.obs.instances.v[0].state);
	w.obs.instances.v[0].state = xstrdup("STOPPED");
	free(w.obs.instances.v[1].id);
	w.obs.instances.v[1].id = xstrdup("ins-3");
	assert_int_equal(plan_basis_check(old, &w.obs, &d), ERR_STALE);
	assert_string_equal(d.ptr,
			    "ins-1: RUNNING -> STOPPED\nins-2: gone (was RUNNING)\n"
			    "ins-3: new (RUNNING)\n");
	world_plan(&w, false, -1);
	buf_reset(&d);
	assert_int_equal(plan_basis_diff(old, w.p, &d), ERR_STALE);
	assert_non_null(strstr(d.ptr, "ins-1: RUNNING -> STOPPED\n"));
	assert_string_not_equal(old->basis, w.p->basis);
	plan_free(old);
	buf_release(&d);
	world_free(&w);
}

static void test_destroy(void **state)
{
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct err e = ERR_INIT;
	const char *envs[] = { "web", "empty" }, *scopes[] = { "default" };
	const struct plan_env *pe;
	struct buf b = BUF_INIT;

	(void)state;
	add_instance(&obs, "ins-1", "web", "default", "x", "RUNNING", 1);
	add_instance(&obs, "ins-2", "web", "default", "x", "STOPPED", 2);
	add_instance(&obs, "ins-3", "web", "default", "x", "TERMINATING", 3);
	add_instance(&obs, "ins-4", "web", "other", "x", "RUNNING", 4);
	add_instance(&obs, "ins-5", "api", "default", "x", "RUNNING", 5);
	add_instance(&obs, "ins-6", NULL, NULL, NULL, "RUNNING", 6);
	assert_int_equal(plan_destroy(&p, &obs, envs, 2, scopes, 1, -1, &e), 0);
	assert_true(p->destroy);
	assert_int_equal(p->nenvs, 2);
	pe = plan_find_env(p, "web");
	assert_int_equal(pe->nreleases, 2);
	assert_string_equal(pe->releases[0].id, "ins-1");
	assert_string_equal(pe->releases[1].id, "ins-2");
	assert_int_equal(pe->releases[0].reason, PLAN_REASON_DESTROY);
	assert_int_equal(pe->leaving, 1);
	pe = plan_find_env(p, "empty");
	assert_int_equal(pe->nreleases, 0);
	assert_int_equal(pe->status, PLAN_STATUS_CONVERGED);
	plan_render_text(&b, p, false);
	assert_non_null(strstr(
		b.ptr, "- release ins-1 (S5.MEDIUM4 ap-guangzhou-3, RUNNING): destroy: "
		       "environment 'web' is destroyed"));
	assert_non_null(strstr(b.ptr, "Plan: 0 to launch, 2 to release, 0 to replace."));
	assert_false(plan_has_errors(p));
	buf_reset(&b);
	plan_to_json(&b, p);
	plan_free(p);
	assert_int_equal(plan_from_json(&p, b.ptr, b.len, &e), 0);
	assert_true(p->destroy);
	assert_int_equal(plan_basis_check(p, &obs, NULL), 0);
	plan_free(p);

	/* The release limit applies to destroy too, in steps. */
	assert_int_equal(plan_destroy(&p, &obs, envs, 1, scopes, 1, 1, &e), 0);
	/* destroy goes in steps of the limit: one now, the other later */
	assert_false(plan_has_errors(p));
	assert_int_equal(p->envs[0].nreleases, 1);
	assert_int_equal(p->envs[0].status, PLAN_STATUS_SHORT);
	assert_non_null(strstr(p->envs[0].warnings[0],
			       "1 more instance left for later destroys"));
	plan_free(p);
	buf_release(&b);
	plan_observed_clear(&obs);
}

static void test_client_tokens(void **state)
{
	struct world w;
	char *spec = subst(base_spec, "capacity: 2", "capacity: 250");
	const struct plan_env *pe;
	char first[TC_MAX_CLIENT_TOKEN + 1];

	(void)state;
	world_init(&w, spec);
	world_plan(&w, false, -1);
	pe = &w.p->envs[0];
	assert_int_equal(pe->nlaunches, 3);
	assert_int_equal(pe->launches[0].count, 100);
	assert_int_equal(pe->launches[2].count, 50);
	for (size_t i = 0; i < pe->nlaunches; i++) {
		const char *t = pe->launches[i].client_token;

		assert_true(strlen(t) <= TC_MAX_CLIENT_TOKEN);
		assert_memory_equal(t, "se-", 3);
		for (const char *c = t; *c; c++)
			assert_true(*c > ' ' && *c < 127);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(t, pe->launches[j].client_token);
	}
	snprintf(first, sizeof(first), "%s", pe->launches[0].client_token);
	/* Same inputs, same tokens; a different basis, different tokens. */
	world_plan(&w, false, -1);
	assert_string_equal(first, w.p->envs[0].launches[0].client_token);
	/* The same world a few seconds later: same tokens (crash re-runs, tag lag). */
	plan_observed_set_time(&w.obs, "2026-11-27T12:00:05Z");
	world_plan(&w, false, -1);
	snprintf(first, sizeof(first), "%s", w.p->envs[0].launches[0].client_token);
	plan_observed_set_time(&w.obs, "2026-11-27T12:00:55Z");
	world_plan(&w, false, -1);
	assert_string_equal(first, w.p->envs[0].launches[0].client_token);
	/*
	 * The same world much later: still the same tokens; they depend on
	 * what was observed, never on when (the applier handles tokens whose
	 * instances are gone).
	 */
	plan_observed_set_time(&w.obs, "2026-11-28T09:31:00Z");
	world_plan(&w, false, -1);
	assert_string_equal(first, w.p->envs[0].launches[0].client_token);
	/* Another basis: other tokens. */
	add_instance(&w.obs, "ins-1", "web", "default", w.tmpl, "LAUNCH_FAILED", 10);
	world_plan(&w, false, -1);
	assert_string_not_equal(first, w.p->envs[0].launches[0].client_token);
	world_free(&w);
	free(spec);
}

/*
 * Tokens come from each environment's own basis: instances of another
 * environment appearing (tags of a crashed apply becoming visible, say)
 * never move this environment's tokens.
 */
static void test_tokens_per_environment(void **state)
{
	struct world w;
	char *two = xasprintf("%s---\n%s", base_spec, base_spec);
	char *spec = subst(two, "name: web\n", "name: api\n");
	char api[TC_MAX_CLIENT_TOKEN + 1], web[TC_MAX_CLIENT_TOKEN + 1];
	char api_basis[80];

	(void)state;
	world_init(&w, spec);
	world_plan(&w, false, -1);
	assert_int_equal(w.p->nenvs, 2);
	assert_string_equal(w.p->envs[0].name, "api");
	snprintf(api, sizeof(api), "%s", w.p->envs[0].launches[0].client_token);
	snprintf(web, sizeof(web), "%s", w.p->envs[1].launches[0].client_token);
	snprintf(api_basis, sizeof(api_basis), "%s", w.p->envs[0].basis);
	assert_string_not_equal(api, web);
	/* web's launches become visible: web's basis and tokens move, api's do not */
	add_instance(&w.obs, "ins-w1", "web", "default", w.tmpl, "PENDING", 10);
	world_plan(&w, false, -1);
	assert_string_equal(api, w.p->envs[0].launches[0].client_token);
	assert_string_equal(api_basis, w.p->envs[0].basis);
	assert_string_not_equal(web, w.p->envs[1].launches[0].client_token);
	/* an orphan or an untagged instance moves nothing either */
	add_instance(&w.obs, "ins-o1", "gone", "default", w.tmpl, "RUNNING", 10);
	add_instance(&w.obs, "ins-u1", NULL, NULL, NULL, "RUNNING", 10);
	world_plan(&w, false, -1);
	assert_string_equal(api, w.p->envs[0].launches[0].client_token);
	world_free(&w);
	free(spec);
	free(two);
}

static void test_plan_make_errors(void **state)
{
	struct world w;
	struct plan_input in = { 0 };
	struct plan *p = NULL;
	struct err e = ERR_INIT;
	const char *envs[] = { "web", "nosuch" };

	(void)state;
	world_init(&w, base_spec);
	in.specs = &w.set;
	in.observed = &w.obs;
	in.max_release = -1;
	in.envs = envs;
	in.nenvs = 2;
	assert_int_equal(plan_make(&p, &in, &e), ERR_INVALID);
	assert_null(p);
	assert_string_equal(
		e.msg, "environment 'nosuch' is not in the specs and has no instances");
	err_clear(&e);
	world_free(&w);
}

/* Observation order does not matter: shuffled input, same plan. */
static void test_order_independent(void **state)
{
	struct world w;
	struct buf a = BUF_INIT, b = BUF_INIT;
	char id[32], *spec = subst(base_spec, "capacity: 2", "capacity: 5");

	(void)state;
	world_init(&w, spec);
	free(spec);
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "ins-%d", i);
		add_instance(&w.obs, id, "web", "default",
			     i % 3 ? w.tmpl : "000000000000",
			     i == 4 ? "STOPPED" : "RUNNING", 100 + i % 4);
	}
	/* duplicates, as shifting pages can return: one id twice, one pool twice */
	add_instance(&w.obs, "ins-3", "web", "default", w.tmpl, "STOPPING", 103);
	add_offer(&w.obs, "ap-guangzhou-3", "SELL", "0.25");
	world_plan(&w, false, -1);
	plan_to_json(&a, w.p);
	/* reverse the instances */
	for (size_t i = 0, j = w.obs.instances.n - 1; i < j; i++, j--) {
		struct tc_instance t = w.obs.instances.v[i];

		w.obs.instances.v[i] = w.obs.instances.v[j];
		w.obs.instances.v[j] = t;
	}
	for (size_t i = 0, j = w.obs.noffers - 1; i < j; i++, j--) {
		struct plan_offer t = w.obs.offers[i];

		w.obs.offers[i] = w.obs.offers[j];
		w.obs.offers[j] = t;
	}
	world_plan(&w, false, -1);
	plan_to_json(&b, w.p);
	assert_string_equal(a.ptr, b.ptr);
	buf_release(&a);
	buf_release(&b);
	world_free(&w);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 10,000 instances in 100 environments over two regions plan fast. */
static void test_speed(void **state)
{
	struct buf spec = BUF_INIT, json = BUF_INIT;
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct plan_input pin = { .max_release = -1 };
	struct err e = ERR_INIT;
	struct tc_instance_list l = { 0 };
	double t0, t1;

	(void)state;
	for (int i = 0; i < 100; i++) {
		const char *region = i % 2 ? "ap-shanghai" : "ap-guangzhou";

		buf_printf(
			&spec,
			"---\napiVersion: spotenv/v1\nkind: SpotEnvironment\n"
			"metadata: {name: env-%03d}\nspec:\n  region: %s\n  capacity: %d\n"
			"  maxPrice: \"0.50\"\n  image: img-aaaaaaaa\n  allocation: spread\n"
			"  pools:\n    - {zone: %s-2, instanceType: S5.MEDIUM4}\n"
			"    - {zone: %s-4, instanceType: S5.MEDIUM4}\n",
			i, region, 95 + i % 10, region, region);
	}
	load_spec(&set, spec.ptr);
	assert_int_equal(set.nenvs, 100);
	for (int i = 0; i < 10000; i++) {
		const struct spec_env *env = &set.envs[i % 100];
		struct tc_instance *in;
		char h[PLAN_TEMPLATE_HEX + 1];

		ALLOC_GROW(l.v, l.n + 1, l.alloc);
		in = &l.v[l.n++];
		memset(in, 0, sizeof(*in));
		plan_template_hash(h, env, &env->pools[i % 2]);
		in->id = xasprintf("ins-%08d", (i * 7919) % 10000);
		in->state = xstrdup(i % 50 ? "RUNNING" : "STOPPED");
		in->region = xstrdup(env->region);
		in->zone = xstrdup(env->pools[i % 2].zone);
		in->type = xstrdup("S5.MEDIUM4");
		in->created_unix = 1700000000 + i;
		in->ntags = 3;
		in->tags = xcalloc(3, sizeof(*in->tags));
		in->tags[0].key = xstrdup(PLAN_TAG_ENV);
		in->tags[0].value = xstrdup(env->name);
		in->tags[1].key = xstrdup(PLAN_TAG_SCOPE);
		in->tags[1].value = xstrdup("default");
		in->tags[2].key = xstrdup(PLAN_TAG_TEMPLATE);
		in->tags[2].value = xstrdup(i % 7 ? h : "000000000000");
	}
	plan_observed_add_instances(&obs, &l);
	for (int r = 0; r < 2; r++) {
		const char *region = r ? "ap-shanghai" : "ap-guangzhou";
		struct tc_offer_list ol = { 0 };

		ol.v = xcalloc(2, sizeof(*ol.v));
		ol.n = ol.alloc = 2;
		for (int z = 0; z < 2; z++) {
			ol.v[z].zone = xasprintf("%s-%d", region, z ? 4 : 2);
			ol.v[z].type = xstrdup("S5.MEDIUM4");
			ol.v[z].status = xstrdup("SELL");
			ol.v[z].price = xstrdup("0.12");
		}
		plan_observed_add_offers(&obs, region, &ol);
	}
	pin.specs = &set;
	pin.observed = &obs;
	t0 = now_seconds();
	assert_int_equal(plan_make(&p, &pin, &e), 0);
	assert_int_equal(plan_to_json(&json, p), 0);
	t1 = now_seconds();
	print_message("planned 10000 instances in 100 environments in %.3f s\n", t1 - t0);
	assert_true(t1 - t0 < 1.0);
	assert_int_equal(p->nenvs, 100);
	assert_int_equal(p->nobserved, 10000);
	assert_true(plan_has_changes(p));
	plan_free(p);
	buf_release(&json);
	buf_release(&spec);
	plan_observed_clear(&obs);
	spec_set_release(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_hash_fields),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_render_closing),
		cmocka_unit_test(test_render_markdown),
		cmocka_unit_test(test_render_markdown_limit),
		cmocka_unit_test(test_render_hostile_strings),
		cmocka_unit_test(test_plan_json_round_trip_and_check),
		cmocka_unit_test(test_plan_json_errors),
		cmocka_unit_test(test_observed_json),
		cmocka_unit_test(test_basis_diff),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_client_tokens),
		cmocka_unit_test(test_tokens_per_environment),
		cmocka_unit_test(test_plan_check_golden),
		cmocka_unit_test(test_plan_check_tampered),
		cmocka_unit_test(test_plan_check_copies),
		cmocka_unit_test(test_plan_check_declarations),
		cmocka_unit_test(test_plan_json_shape),
		cmocka_unit_test(test_plan_json_binding),
		cmocka_unit_test(test_plan_make_errors),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests_name("planner", tests, NULL, NULL);
}
