/*
 * fuzz_planner_documents.c - plan documents and observed snapshots on
 * arbitrary bytes.
 *
 * Every input is tried as a plan file and as a snapshot.  Whatever parses
 * must write back, parse again and write the same bytes (the documents are
 * a fixed point after one round), and must render; a snapshot is also
 * planned against a fixed pair of environments.  A parsed plan goes
 * through what `apply PLANFILE` holds it to (plan_check, and
 * apply_verify_plan against worlds made from the plan itself), and a plan
 * that passes plan_check must also write, read back and pass again.
 * Nothing may crash, leak or read out of bounds.
 */
#include "../../util/setup.h"
#include "../../planner/plan.h"
/*
 * The applier's check of releases against the world: the one applier file
 * it needs, compiled in (this target links the planner's modules only;
 * verify.c uses nothing else of the applier or the provider).
 */
#include "../../applier/verify.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char spec_text[] =
	"apiVersion: spotenv/v1\nkind: SpotEnvironmentList\nitems:\n"
	"  - metadata: {name: web}\n"
	"    spec: {region: ap-guangzhou, capacity: 3, maxPrice: \"0.50\", image: img-aaaaaaaa,\n"
	"           allocation: spread, limits: {maxReleasePerApply: 5, maxHourlyCost: \"1\"},\n"
	"           pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4},\n"
	"                   {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4}]}\n"
	"  - metadata: {name: batch, scope: data}\n"
	"    spec: {region: ap-shanghai, capacity: 2, maxPrice: \"0.30\", image: img-aaaaaaaa,\n"
	"           allocation: lowest-price,\n"
	"           pools: [{zone: ap-shanghai-2, instanceType: S5.MEDIUM4}]}\n";

static struct spec_set specs = SPEC_SET_INIT;

/* One instance in obs: id, region, and the tags given (NULL values skipped). */
static void fuzz_add_instance(struct plan_observed *obs, const char *id,
			      const char *region, const char *env, const char *scope)
{
	struct tc_instance_list l = { NULL, 0, 0 };
	struct tc_instance *in;

	l.v = xcalloc(1, sizeof(*l.v));
	l.n = l.alloc = 1;
	in = &l.v[0];
	in->id = xstrdup(id ? id : "ins-fuzz");
	in->region = xstrdup(region ? region : "ap-guangzhou");
	in->state = xstrdup("RUNNING");
	in->tags = xcalloc(2, sizeof(*in->tags));
	if (env) {
		in->tags[in->ntags].key = xstrdup(PLAN_TAG_ENV);
		in->tags[in->ntags++].value = xstrdup(env);
	}
	if (scope) {
		in->tags[in->ntags].key = xstrdup(PLAN_TAG_SCOPE);
		in->tags[in->ntags++].value = xstrdup(scope);
	}
	plan_observed_add_instances(obs, &l);
	tc_instance_list_clear(&l);
}

/*
 * What apply holds a saved plan to, on a parsed plan: plan_check, then
 * apply_verify_plan against a world where every release is an instance of
 * its environment (what the plan claims), one where releases are untagged
 * or carry every other environment's tags, and an empty one.
 */
static void fuzz_checks(const struct plan *p)
{
	struct plan_observed mine = PLAN_OBSERVED_INIT, odd = PLAN_OBSERVED_INIT;
	struct plan_observed none = PLAN_OBSERVED_INIT;
	struct buf why = BUF_INIT;
	int checked = plan_check(p, &why);

	for (size_t i = 0; i < p->nenvs; i++) {
		const struct plan_env *pe = &p->envs[i];

		for (size_t j = 0; j < pe->nreleases && j < 64; j++) {
			const struct plan_release *r = &pe->releases[j];
			const struct plan_env *other = &p->envs[(i + j + 1) % p->nenvs];

			fuzz_add_instance(&mine, r->id, r->region, pe->name, pe->scope);
			fuzz_add_instance(&odd, r->id, r->region,
					  j & 1 ? other->name : NULL,
					  j & 2 ? other->scope : NULL);
		}
	}
	buf_reset(&why);
	apply_verify_plan(p, &mine, &why);
	apply_verify_plan(p, &odd, &why);
	apply_verify_plan(p, &none, &why);
	plan_basis_check(p, &mine, &why);
	if (checked == 0) {
		/* a plan that passes is one spotenv makes: it writes and reads back as
		 * one */
		struct buf a = BUF_INIT;
		struct plan *q = NULL;
		struct err e = ERR_INIT;

		plan_to_json(&a, p);
		if (plan_from_json(&q, a.ptr, a.len, &e) != 0 || plan_check(q, NULL) != 0)
			abort();
		plan_free(q);
		buf_release(&a);
		err_clear(&e);
	}
	plan_observed_clear(&mine);
	plan_observed_clear(&odd);
	plan_observed_clear(&none);
	buf_release(&why);
}

static void fuzz_plan(const char *body, size_t size)
{
	struct plan *p = NULL, *q = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;

	if (plan_from_json(&p, body, size, &e) == 0) {
		fuzz_checks(p);
		plan_to_json(&a, p);
		if (plan_from_json(&q, a.ptr, a.len, &e) != 0)
			abort(); /* what we wrote must read back */
		plan_to_json(&b, q);
		if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len))
			abort();
		buf_reset(&a);
		plan_render_text(&a, p, true);
		plan_render_markdown(&a, p);
		plan_basis_diff(p, q, &a);
	}
	err_clear(&e);
	plan_free(p);
	plan_free(q);
	buf_release(&a);
	buf_release(&b);
}

static void fuzz_observed(const char *body, size_t size)
{
	struct plan_observed o = PLAN_OBSERVED_INIT, o2 = PLAN_OBSERVED_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct err e = ERR_INIT;
	struct plan *p = NULL;
	struct plan_input in = { .specs = &specs, .max_release = -1 };

	if (plan_observed_from_json(&o, body, size, &e) == 0) {
		plan_observed_to_json(&a, &o);
		if (plan_observed_from_json(&o2, a.ptr, a.len, &e) != 0)
			abort();
		plan_observed_to_json(&b, &o2);
		if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len))
			abort();
		in.observed = &o;
		in.prune = size & 1;
		if (plan_make(&p, &in, &e) != 0)
			abort(); /* any snapshot plans against valid specs */
		buf_reset(&a);
		plan_to_json(&a, p);
		plan_render_text(&a, p, false);
		plan_basis_check(p, &o2, &a);
	}
	err_clear(&e);
	plan_free(p);
	plan_observed_clear(&o);
	plan_observed_clear(&o2);
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the input need not be NUL-terminated: copy into an exact-size buffer */
	char *body = xmalloc(size ? size : 1);

	if (!specs.nenvs) {
		struct errlist errs = ERRLIST_INIT;

		if (spec_load_buffer(&specs, "fuzz.yaml", spec_text, strlen(spec_text),
				     &errs))
			abort();
		errlist_clear(&errs);
	}
	if (size)
		memcpy(body, data, size);
	fuzz_plan(body, size);
	fuzz_observed(body, size);
	free(body);
	return 0;
}
