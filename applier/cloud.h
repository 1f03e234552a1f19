/*
 * cloud.h - the narrow seam between the applier and the provider.
 *
 * Everything the applier needs from the cloud, and from time: describe
 * instances, observe regions (instances and spot offers), launch
 * (RunInstances calls, real or dry runs, batched), terminate, read a clock
 * and sleep.  tc_client is the real implementation (APPLY_CLOUD_TC); the
 * unit tests drive the applier against the emulator's in-process handler
 * (sim_handle) on a fake clock that sleeping moves, so a test of a
 * ten-minute wait takes milliseconds and never depends on the machine's
 * load.
 *
 * The operations have the contracts of the tc_* functions they are named
 * after (provider/tc.h); errors arrive as struct err with the API's code,
 * message, RequestId and class.
 */
#ifndef SPOTENV_CLOUD_H
#define SPOTENV_CLOUD_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../provider/tc.h"

struct apply_cloud_ops {
	/* DescribeInstances by filters or ids, every page (tc_describe_instances). */
	int (*describe)(void *ctx, const char *region, const struct tc_filter *filters,
			size_t nfilters, const char *const *ids, size_t nids,
			struct tc_instance_list *out, struct err *e);
	/* Instances and offers of several regions at once (tc_observe_regions). */
	int (*observe)(void *ctx, struct tc_region_obs *r, size_t n, struct err *e);
	/* RunInstances calls, all at once within the rate limits (tc_call_many). */
	void (*run)(void *ctx, struct tc_call *calls, size_t n);
	/* TerminateInstances of ids in one region (tc_terminate_instances). */
	int (*terminate)(void *ctx, const char *region, const char *const *ids, size_t n,
			 struct err *e);
	/* Milliseconds on a monotonic clock, and sleeping on it. */
	int64_t (*now_ms)(void *ctx);
	void (*sleep_ms)(void *ctx, int64_t ms);
	/*
	 * The region's spot quota per zone and the account's AppId
	 * (tc_describe_spot_quota); may be NULL (not offered).
	 */
	int (*quota)(void *ctx, const char *region, struct tc_spot_quota_list *out,
		     char **app_id, struct err *e);
};

struct apply_cloud {
	const struct apply_cloud_ops *ops;
	void *ctx;
};

/* The real cloud: a tc_client, the monotonic clock and nanosleep. */
extern const struct apply_cloud_ops apply_cloud_tc_ops;
#define APPLY_CLOUD_TC(client) (&(struct apply_cloud){ &apply_cloud_tc_ops, (client) })

#endif
