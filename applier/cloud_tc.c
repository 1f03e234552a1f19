/*
 * cloud_tc.c - the applier's seam implemented by tc_client (see cloud.h).
 */
#include "../util/setup.h"
#include "../util/duration.h"
#include "cloud.h"

static int cloud_tc_describe(void *ctx, const char *region,
			     const struct tc_filter *filters, size_t nfilters,
			     const char *const *ids, size_t nids,
			     struct tc_instance_list *out, struct err *e)
{
	return tc_describe_instances(ctx, region, filters, nfilters, ids, nids, out, e);
}

static int cloud_tc_observe(void *ctx, struct tc_region_obs *r, size_t n, struct err *e)
{
	return tc_observe_regions(ctx, r, n, e);
}

static void cloud_tc_run(void *ctx, struct tc_call *calls, size_t n)
{
	if (n)
		tc_call_many(ctx, calls, n);
}

static int cloud_tc_terminate(void *ctx, const char *region, const char *const *ids,
			      size_t n, struct err *e)
{
	return tc_terminate_instances(ctx, region, ids, n, e);
}

static int64_t cloud_tc_now_ms(void *ctx)
{
	UNUSED(ctx);
	return time_now_ms();
}

static void cloud_tc_sleep_ms(void *ctx, int64_t ms)
{
	struct timespec ts;

	UNUSED(ctx);
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cloud_tc_quota(void *ctx, const char *region, struct tc_spot_quota_list *out,
			  char **app_id, struct err *e)
{
	return tc_describe_spot_quota(ctx, region, out, app_id, e);
}

const struct apply_cloud_ops apply_cloud_tc_ops = {
	cloud_tc_describe, cloud_tc_observe,  cloud_tc_run,   cloud_tc_terminate,
	cloud_tc_now_ms,   cloud_tc_sleep_ms, cloud_tc_quota,
};
