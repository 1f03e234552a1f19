/*
 * planner_bench.c - the planner alone, no API: CPU time and peak memory of
 * plan_make over a large observed world built in memory.
 *
 *	planner_bench [INSTANCES [ENVIRONMENTS]]     (default 100000 1000)
 *
 * ENVIRONMENTS environments over two regions, each in two pools
 * (allocation spread), hold INSTANCES instances between them, so every
 * environment sits near its capacity: about 1 in 50 instances is STOPPED
 * (replaced), 1 in 7 carries an old template (drift), and capacities vary
 * by a few so that some environments scale up and some down.  Prints one
 * line of figures per phase (build, plan, render) and the totals: CPU
 * time (user + system, getrusage), wall time, and the process's peak
 * resident memory (ru_maxrss), with the observed world included.
 *
 * Built by `make bench` (the Makefile's bench target) and run by
 * tests/bench/planner-100k.sh.
 */
#include "../../util/setup.h"
#include "../../util/buf.h"
#include "../../planner/plan.h"
#include <sys/resource.h>

struct mark {
	double wall, cpu;
	double peak_mib; /* peak resident memory so far */
};

static struct mark mark_now(void)
{
	struct timespec ts;
	struct rusage ru;
	struct mark m;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	m.wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	m.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	m.peak_mib = (double)ru.ru_maxrss / 1024.0; /* kB on Linux */
	return m;
}

static double peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0; /* kB on Linux */
}

static void phase(const char *what, struct mark a, struct mark b)
{
	printf("%-34s cpu %7.3f s  wall %7.3f s  peak RSS so far %6.1f MiB\n", what,
	       b.cpu - a.cpu, b.wall - a.wall, b.peak_mib);
}

static long arg_or(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v < 1 || v > 10000000) {
		fprintf(stderr, "planner_bench: '%s' is not a count\n", argv[i]);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long ninst = arg_or(argc, argv, 1, 100000), nenv = arg_or(argc, argv, 2, 1000);
	long per_env = ninst / nenv;
	struct buf spec = BUF_INIT, out = BUF_INIT;
	struct spec_set set = SPEC_SET_INIT;
	struct errlist errs = ERRLIST_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct tc_instance_list l = { 0 };
	struct plan_input pin = { .max_release = -1 };
	struct plan *p = NULL;
	struct plan_totals tot;
	struct err e = ERR_INIT;
	struct mark m0, ms, m1, m2, m3, m4;
	char(*hash)[2][PLAN_TEMPLATE_HEX + 1];
	double base_mib;

	base_mib = peak_mib();
	m0 = mark_now();
	for (long i = 0; i < nenv; i++) {
		const char *region = i % 2 ? "ap-shanghai" : "ap-guangzhou";

		buf_printf(
			&spec,
			"---\napiVersion: spotenv/v1\nkind: SpotEnvironment\n"
			"metadata: {name: env-%06ld}\nspec:\n  region: %s\n  capacity: %ld\n"
			"  maxPrice: \"0.50\"\n  image: img-aaaaaaaa\n  allocation: spread\n"
			"  pools:\n    - {zone: %s-2, instanceType: S5.MEDIUM4}\n"
			"    - {zone: %s-4, instanceType: S5.MEDIUM4}\n",
			i, region, per_env - 5 + i % 10, region, region);
	}
	if (spec_load_buffer(&set, "bench.yaml", spec.ptr, spec.len, &errs) < 0 ||
	    (long)set.nenvs != nenv) {
		fprintf(stderr, "planner_bench: the generated specs do not load\n");
		return 1;
	}
	ms = mark_now();
	hash = xcalloc(set.nenvs, sizeof(*hash));
	for (size_t i = 0; i < set.nenvs; i++)
		for (int k = 0; k < 2; k++)
			plan_template_hash(hash[i][k], &set.envs[i],
					   &set.envs[i].pools[k]);
	l.v = xcalloc((size_t)ninst, sizeof(*l.v));
	l.alloc = (size_t)ninst;
	for (long i = 0; i < ninst; i++) {
		size_t ei = (size_t)(i % nenv);
		const struct spec_env *env = &set.envs[ei];
		struct tc_instance *in = &l.v[l.n++];
		int k = (int)((i / nenv) % 2);

		in->id = xasprintf("ins-%08lx", (unsigned long)((i * 7919) % ninst));
		in->state = xstrdup(i % 50 ? "RUNNING" : "STOPPED");
		in->charge_type = xstrdup("SPOTPAID");
		in->region = xstrdup(env->region);
		in->zone = xstrdup(env->pools[k].zone);
		in->type = xstrdup("S5.MEDIUM4");
		in->image = xstrdup("img-aaaaaaaa");
		in->created = xstrdup("2026-11-27T10:00:00Z");
		in->created_unix = 1700000000 + i;
		in->ntags = 3;
		in->tags = xcalloc(3, sizeof(*in->tags));
		in->tags[0].key = xstrdup(PLAN_TAG_ENV);
		in->tags[0].value = xstrdup(env->name);
		in->tags[1].key = xstrdup(PLAN_TAG_SCOPE);
		in->tags[1].value = xstrdup("default");
		in->tags[2].key = xstrdup(PLAN_TAG_TEMPLATE);
		in->tags[2].value = xstrdup(i % 7 ? hash[ei][k] : "000000000000");
	}
	plan_observed_add_instances(&obs, &l);
	for (int r = 0; r < 2; r++) {
		const char *region = r ? "ap-shanghai" : "ap-guangzhou";
		struct tc_offer_list ol = { 0 };

		plan_observed_add_region(&obs, region);
		ol.v = xcalloc(2, sizeof(*ol.v));
		ol.n = ol.alloc = 2;
		for (int z = 0; z < 2; z++) {
			ol.v[z].zone = xasprintf("%s-%d", region, z ? 4 : 2);
			ol.v[z].type = xstrdup("S5.MEDIUM4");
			ol.v[z].status = xstrdup("SELL");
			ol.v[z].price = xstrdup(z ? "0.12" : "0.11");
		}
		plan_observed_add_offers(&obs, region, &ol);
	}
	m1 = mark_now();
	pin.specs = &set;
	pin.observed = &obs;
	if (plan_make(&p, &pin, &e) < 0) {
		fprintf(stderr, "planner_bench: plan_make: %s\n",
			e.msg ? e.msg : "failed");
		return 1;
	}
	m2 = mark_now();
	if (plan_to_json(&out, p) < 0)
		return 1;
	m3 = mark_now();
	buf_reset(&out);
	if (plan_render_text(&out, p, false) < 0)
		return 1;
	m4 = mark_now();

	plan_totals(p, &tot);
	printf("planner alone: %ld instances, %zu environments, 2 regions, 4 pools (no API)\n",
	       ninst, set.nenvs);
	printf("baseline peak RSS (process start)  %6.1f MiB\n", base_mib);
	phase("load specs (generated YAML)", m0, ms);
	phase("build the observed world", ms, m1);
	phase("plan_make", m1, m2);
	phase("plan_to_json", m2, m3);
	phase("plan_render_text", m3, m4);
	printf("plan: %d environments, %zu instances observed, %d to launch, %d to release "
	       "(%d replacements)\n",
	       tot.envs, p->nobserved, tot.launch, tot.release, tot.replace);
	printf("planner (plan_make + plan_to_json): cpu %.3f s, wall %.3f s; peak RSS %.1f MiB\n",
	       m3.cpu - m1.cpu, m3.wall - m1.wall, peak_mib());

	plan_free(p);
	buf_release(&out);
	buf_release(&spec);
	free(hash);
	plan_observed_clear(&obs);
	spec_set_release(&set);
	errlist_clear(&errs);
	return 0;
}
