/*
 * sdk_pager.c - the baseline for the plan benchmarks: list every instance
 * spotenv owns the way a program on the official SDKs does, one
 * DescribeInstances page at a time (Offset += 100, Limit 100, the next
 * request after the answer), region after region, with the filter spotenv
 * observes with (tag-key spotenv:env).  Each page's answer is parsed, as
 * an SDK deserialises it.  No offers call and no planning: the listing
 * alone, which favours the baseline.
 *
 *	sdk_pager REGION...
 *
 * Endpoint and credentials as for spotenv (SPOTENV_ENDPOINT,
 * TENCENTCLOUD_SECRET_ID/KEY).  Prints, per region and in all, the pages,
 * instances and wall time, and the client's counters.  One call at a time
 * is far below every rate limit (1 / latency a second), so the client's
 * limiters never hold it back.
 */
#include "../../util/setup.h"
#include "../../provider/tc.h"

#include <cjson/cJSON.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every page of region, one after the other; 0 or an error (printed). */
static int list_region(struct tc_client *c, const char *region, long *pages,
		       long *instances)
{
	int64_t offset = 0, total = -1;

	for (;;) {
		struct tc_instance_list l = { NULL, 0, 0 };
		struct tc_call call;
		struct err e = ERR_INIT;
		size_t rows;
		int error;

		memset(&call, 0, sizeof(call));
		call.action = "DescribeInstances";
		call.region = region;
		call.body = xasprintf("{\"Filters\":[{\"Name\":\"tag-key\",\"Values\":"
				      "[\"spotenv:env\"]}],\"Offset\":%" PRId64
				      ",\"Limit\":100}",
				      offset);
		error = tc_call_one(c, &call);
		if (!error)
			error = tc_parse_instances(&l, &total, call.response, region, &e);
		if (error) {
			fprintf(stderr, "sdk_pager: %s\n",
				err_isset(&call.err) ? call.err.msg : e.msg);
			free(call.body);
			cJSON_Delete(call.response);
			err_clear(&call.err);
			err_clear(&e);
			return error;
		}
		rows = l.n;
		(*pages)++;
		*instances += (long)rows;
		tc_instance_list_clear(&l);
		free(call.body);
		cJSON_Delete(call.response);
		offset += 100;
		if (rows < 100 || offset >= total)
			return 0;
	}
}

int main(int argc, char **argv)
{
	struct tc_cred cred = { 0 };
	struct tc_client_opts o;
	struct tc_client *c = NULL;
	struct tc_client_stats st;
	struct err e = ERR_INIT;
	long pages = 0, instances = 0;
	double t0, t1;
	int error = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sdk_pager REGION...\n");
		return 2;
	}
	memset(&o, 0, sizeof(o));
	o.parallelism = 1;
	if (tc_cred_load(&cred, NULL, &e) < 0 || tc_client_new(&c, &cred, &o, &e) < 0) {
		fprintf(stderr, "sdk_pager: %s\n", e.msg);
		tc_cred_clear(&cred);
		err_clear(&e);
		return 1;
	}
	t0 = now_s();
	for (int i = 1; i < argc && !error; i++) {
		long p = 0, n = 0;
		double r0 = now_s();

		error = list_region(c, argv[i], &p, &n);
		printf("sdk-style listing of %s: %ld pages, %ld instances, %.2f s\n",
		       argv[i], p, n, now_s() - r0);
		pages += p;
		instances += n;
	}
	t1 = now_s();
	tc_client_stats(c, &st);
	printf("sdk-style listing: %ld pages, %ld instances, %.2f s "
	       "(%" PRIu64 " requests, %" PRIu64 " refused)\n",
	       pages, instances, t1 - t0, st.calls, st.throttled);
	tc_client_free(c);
	tc_cred_clear(&cred);
	return error ? 1 : 0;
}
