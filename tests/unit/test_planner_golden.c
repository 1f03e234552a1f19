/*
 * Golden planner cases: tests/plan/NNN-<name>/ holds
 *   spec.yaml       the environments
 *   observed.json   the observed snapshot (docs/observed-format.md)
 *   options.json    optional: {"prune": bool, "max_release": N, "envs": [...]}
 *   expected.json   the plan document, byte for byte
 *   expected.txt    optional: the text rendering (no colour)
 *   expected.md     optional: the Markdown rendering (only where present)
 *   expected-error.txt  instead of expected.json: plan_make must fail with
 *                   this message
 *   spec-before.yaml  optional: the spec the observed instances were
 *                   launched from.  observed.json names its template hashes
 *                   with placeholders, replaced before it is read:
 *                     %TEMPLATE(ENV)%    ENV's first pool in spec-before.yaml
 *                     %TEMPLATE(ENV,N)%  its pool N (1 is the first)
 *                   A case with spec-before.yaml must use them.
 *
 * Every case is also planned twice (determinism) and round-tripped through
 * plan_from_json (the document and the text rendering must not change).
 * UPDATE_GOLDEN=1 rewrites the expected files; review every change by hand.
 * PLAN_CASES overrides the directory (default tests/plan, run from the
 * repository root as `make test` does).
 */
#include "../../util/setup.h"
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "../../planner/plan.h"

static const char *cases_dir(void)
{
	const char *d = getenv("PLAN_CASES");

	return d && *d ? d : "tests/plan";
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char tmp[8192];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_put(&b, tmp, n);
	fclose(f);
	if (len)
		*len = b.len;
	if (!b.ptr)
		return xstrdup("");
	return buf_detach(&b, NULL);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Compare; on mismatch name the first differing line of both. */
static void expect_same(const char *what, const char *path, const char *expected,
			const char *actual)
{
	int line = 1;
	const char *e = expected, *a = actual;
	char *out, *p;
	FILE *f;

	if (!strcmp(expected, actual))
		return;
	while (*e && *a && *e == *a) {
		if (*e == '\n')
			line++;
		e++;
		a++;
	}
	while (e > expected && e[-1] != '\n')
		e--, a--;
	/* Keep the whole actual text for `diff -u`. */
	mkdir("tests/out", 0755);
	for (out = xasprintf("tests/out/%s", path), p = out + strlen("tests/out/"); *p;
	     p++)
		if (*p == '/')
			*p = '_';
	f = fopen(out, "wb");
	if (f) {
		fputs(actual, f);
		fclose(f);
	}
	print_error(
		"%s: %s differs at line %d\n  expected: %.*s\n  actual:   %.*s\n"
		"(diff -u %s %s; rerun with UPDATE_GOLDEN=1 to rewrite, then review the "
		"diff)\n",
		path, what, line, (int)strcspn(e, "\n"), e, (int)strcspn(a, "\n"), a,
		path, out);
	free(out);
	fail();
}

/* The spec of one case file (spec.yaml, spec-before.yaml); fails the test. */
static void load_spec(struct spec_set *set, const char *path)
{
	const char *paths[] = { path };
	struct errlist errs = ERRLIST_INIT;

	if (spec_load_paths(set, paths, 1, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			print_error("%s:%d:%d: %s\n",
				    errs.v[i].file ? errs.v[i].file : "?", errs.v[i].line,
				    errs.v[i].col, errs.v[i].msg);
		errlist_clear(&errs);
		fail_msg("%s: spec does not load", path);
	}
	errlist_clear(&errs);
}

/*
 * observed.json with every %TEMPLATE(ENV[,N])% replaced by the template
 * hash of pool N (default 1) of environment ENV in before (NULL: the case
 * has no spec-before.yaml, and a placeholder is an error).  *used tells
 * whether there was one.
 */
static char *subst_templates(const char *path, const char *data,
			     const struct spec_set *before, bool *used)
{
	static const char opener[] = "%TEMPLATE(";
	struct buf out = BUF_INIT;
	const char *p = data, *q;

	*used = false;
	while ((q = strstr(p, opener))) {
		const char *args = q + strlen(opener), *end = strstr(args, ")%");
		const struct spec_env *env = NULL;
		char *arg, *comma, hash[PLAN_TEMPLATE_HEX + 1];
		long pool = 1;
		size_t nenv = 0;

		if (!end)
			fail_msg("%s: %%TEMPLATE( without its closing )%%", path);
		arg = xasprintf("%.*s", (int)(end - args), args);
		if ((comma = strchr(arg, ','))) {
			char *e;

			*comma = '\0';
			pool = strtol(comma + 1, &e, 10);
			if (e == comma + 1 || *e)
				fail_msg(
					"%s: %%TEMPLATE(%s,%s)%%: the pool is a number from 1",
					path, arg, comma + 1);
		}
		if (!before)
			fail_msg(
				"%s: %%TEMPLATE(%s)%% needs a spec-before.yaml beside it",
				path, arg);
		for (size_t i = 0; i < before->nenvs; i++)
			if (!strcmp(before->envs[i].name, arg)) {
				env = &before->envs[i];
				nenv++;
			}
		if (nenv != 1)
			fail_msg(
				"%s: %%TEMPLATE(%s)%%: %s environment of that name in spec-before.yaml",
				path, arg, nenv ? "more than one" : "no");
		if (pool < 1 || (size_t)pool > env->npools)
			fail_msg(
				"%s: %%TEMPLATE(%s,%ld)%%: environment '%s' has %zu pools in spec-before.yaml",
				path, arg, pool, arg, env->npools);
		plan_template_hash(hash, env, &env->pools[pool - 1]);
		buf_put(&out, p, (size_t)(q - p));
		buf_puts(&out, hash);
		p = end + 2;
		*used = true;
		free(arg);
	}
	buf_puts(&out, p);
	return buf_detach(&out, NULL);
}

static void load_options(struct plan_input *in, const char *dir, char ***envs)
{
	char *path = xasprintf("%s/options.json", dir), *data;
	cJSON *root, *v, *it;
	size_t n = 0;

	in->max_release = -1;
	data = read_file(path, NULL);
	free(path);
	if (!data)
		return;
	root = cJSON_Parse(data);
	assert_non_null(root);
	if ((v = cJSON_GetObjectItem(root, "prune")))
		in->prune = cJSON_IsTrue(v);
	if ((v = cJSON_GetObjectItem(root, "max_release")))
		in->max_release = v->valueint;
	v = cJSON_GetObjectItem(root, "envs");
	*envs = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *));
	cJSON_ArrayForEach (it, v)
		(*envs)[n++] = xstrdup(it->valuestring);
	in->envs = (const char *const *)*envs;
	in->nenvs = n;
	cJSON_Delete(root);
	free(data);
}

static void run_case(void **state)
{
	const char *dir = *state;
	char *spec_path = xasprintf("%s/spec.yaml", dir);
	char *obs_path = xasprintf("%s/observed.json", dir);
	char *exp_path = xasprintf("%s/expected.json", dir);
	char *txt_path = xasprintf("%s/expected.txt", dir);
	char *err_path = xasprintf("%s/expected-error.txt", dir);
	char *md_path = xasprintf("%s/expected.md", dir);
	char *before_path = xasprintf("%s/spec-before.yaml", dir);
	struct spec_set set = SPEC_SET_INIT, before = SPEC_SET_INIT;
	struct stat st;
	bool have_before, used;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan_input in = { 0 };
	struct plan *p = NULL, *p2 = NULL, *back = NULL;
	struct buf j1 = BUF_INIT, j2 = BUF_INIT, j3 = BUF_INIT, t1 = BUF_INIT,
		   t2 = BUF_INIT;
	struct buf md = BUF_INIT;
	struct err e = ERR_INIT;
	char **envs = NULL, *data, *obs_text, *expected;
	bool update = getenv("UPDATE_GOLDEN") && *getenv("UPDATE_GOLDEN") == '1';
	int rc;

	load_spec(&set, spec_path);
	have_before = stat(before_path, &st) == 0;
	if (have_before)
		load_spec(&before, before_path);
	data = read_file(obs_path, NULL);
	assert_non_null(data);
	obs_text = subst_templates(obs_path, data, have_before ? &before : NULL, &used);
	free(data);
	if (have_before && !used)
		fail_msg(
			"%s: spec-before.yaml is read by nothing: name its template hashes in "
			"observed.json with %%TEMPLATE(ENV[,N])%%",
			dir);
	if (plan_observed_from_json(&obs, obs_text, strlen(obs_text), &e) < 0)
		fail_msg("%s: observed.json: %s", dir, e.msg);
	free(obs_text);
	load_options(&in, dir, &envs);
	in.specs = &set;
	in.observed = &obs;

	rc = plan_make(&p, &in, &e);
	expected = read_file(err_path, NULL);
	if (expected || (rc < 0 && update)) {
		char *msg;

		assert_true(rc < 0);
		msg = xasprintf("%s\n", e.msg);
		if (update)
			write_file(err_path, msg, strlen(msg));
		else
			expect_same("error", err_path, expected, msg);
		free(msg);
		goto done;
	}
	if (rc < 0)
		fail_msg("%s: plan_make failed: %s", dir, e.msg);

	assert_int_equal(plan_to_json(&j1, p), 0);
	assert_int_equal(plan_render_text(&t1, p, false), 0);

	/* Deterministic: a second plan is byte-identical. */
	assert_int_equal(plan_make(&p2, &in, &e), 0);
	assert_int_equal(plan_to_json(&j2, p2), 0);
	assert_string_equal(j1.ptr, j2.ptr);

	/* Round trip: read back, write and render the same. */
	if (plan_from_json(&back, j1.ptr, j1.len, &e) < 0)
		fail_msg("%s: plan_from_json: %s", dir, e.msg);
	assert_int_equal(plan_to_json(&j3, back), 0);
	expect_same("round trip", exp_path, j1.ptr, j3.ptr);
	assert_int_equal(plan_render_text(&t2, back, false), 0);
	expect_same("text after round trip", txt_path, t1.ptr, t2.ptr);
	assert_int_equal(plan_basis_diff(p, back, NULL), 0);
	assert_int_equal(plan_basis_check(p, &obs, NULL), 0);

	assert_int_equal(plan_render_markdown(&md, p), 0);
	free(expected);
	expected = read_file(md_path, NULL);
	if (expected && update)
		write_file(md_path, md.ptr, md.len);
	else if (expected)
		expect_same("markdown", md_path, expected, md.ptr);
	if (update) {
		write_file(exp_path, j1.ptr, j1.len);
		write_file(txt_path, t1.ptr, t1.len);
	} else {
		free(expected);
		expected = read_file(exp_path, NULL);
		if (!expected)
			fail_msg("%s: missing (run with UPDATE_GOLDEN=1 and review)",
				 exp_path);
		expect_same("plan", exp_path, expected, j1.ptr);
		free(expected);
		expected = read_file(txt_path, NULL);
		if (expected)
			expect_same("text", txt_path, expected, t1.ptr);
	}

done:
	free(expected);
	buf_release(&j1);
	buf_release(&j2);
	buf_release(&j3);
	buf_release(&t1);
	buf_release(&t2);
	buf_release(&md);
	plan_free(p);
	plan_free(p2);
	plan_free(back);
	for (size_t i = 0; envs && envs[i]; i++)
		free(envs[i]);
	free(envs);
	err_clear(&e);
	spec_set_release(&set);
	spec_set_release(&before);
	plan_observed_clear(&obs);
	free(spec_path);
	free(obs_path);
	free(exp_path);
	free(txt_path);
	free(err_path);
	free(md_path);
	free(before_path);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	DIR *d = opendir(cases_dir());
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	struct CMUnitTest *tests;
	int rc;

	if (!d) {
		fprintf(stderr, "cannot open %s\n", cases_dir());
		return 1;
	}
	while ((de = readdir(d))) {
		char *path;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", cases_dir(), de->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = path;
		} else {
			free(path);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	tests = xcalloc(n + 1, sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = strrchr(names[i], '/') + 1;
		tests[i].test_func = run_case;
		tests[i].initial_state = names[i];
	}
	rc = _cmocka_run_group_tests("planner_golden", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	return rc;
}
