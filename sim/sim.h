/*
 * sim.h - `spotenv sim`, a local emulator of the CVM API (design section 9).
 *
 * The emulator holds a world model (regions, zones, pools of instance
 * types with stock and spot price, instances with a life cycle, a spot
 * vCPU quota per zone), answers the five CVM actions spotenv uses with the
 * real request shapes, limits, envelope and error codes - as strictly as
 * the documented API, taking the strictest reasonable reading where the
 * documents are silent (docs/sim.md, "Strictness") - verifies TC3
 * signatures with the provider's tc_verify, and injects faults on demand,
 * reproducibly from a seed.  A
 * control API under /_sim/ (JSON, no signature) lets tests, demos and
 * benchmarks reclaim instances, change pools and faults, read counters and
 * dump or reset the world.
 *
 * The module is library code: it never prints and never exits.  The
 * transport-free core is sim_handle(), which turns one HTTP request into
 * one response; sim_listen() puts it behind libmicrohttpd on loopback
 * (thread per connection, one mutex around the world).
 *
 *	struct sim_opts o = SIM_OPTS_INIT;
 *	struct sim *s = NULL;
 *	if (sim_new(&s, &o, &e) < 0 || sim_listen(s, "127.0.0.1:0", &e) < 0)
 *		...;
 *	printf("listening on %s\n", sim_url(s));
 *	... wait for a signal ...
 *	sim_stop(s);                 (stops answering)
 *	sim_save_state(s, &e);       (when opts.state_path is set)
 *	sim_free(s);
 *
 * Time: the world runs on the wall clock in milliseconds (opts.clock can
 * replace it in tests).  State transitions are computed lazily from
 * timestamps on each request: an instance is PENDING until created +
 * pendingMs, then RUNNING (or LAUNCH_FAILED, at launchFailRate, removed
 * after launchFailedTtlMs); a terminated or reclaimed one is TERMINATING
 * (reclaimed: SHUTDOWN) for terminatingMs and is then removed.
 */
#ifndef SPOTENV_SIM_H
#define SPOTENV_SIM_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../util/buf.h"
#include "../provider/tc.h"

/* The built-in test credential, printed at start-up. */
#define SIM_DEFAULT_SECRET_ID "AKIDSPOTENVSIM0000000000000000000000"
#define SIM_DEFAULT_SECRET_KEY "spotenv-sim-not-a-secret"

/* Defaults of the knobs (overridable by config file, flags, control API). */
#define SIM_DEFAULT_PENDING_MS 2000
#define SIM_DEFAULT_TERMINATING_MS 1000
/* A LAUNCH_FAILED instance cannot be terminated: the emulator removes it after this. */
#define SIM_DEFAULT_LAUNCH_FAILED_TTL_MS 60000
/* Spot quota per account and availability zone, in vCPUs (the documented default). */
#define SIM_DEFAULT_SPOT_QUOTA_VCPU 50
/* What DescribeAccountQuota reports as TotalQuota when the quota is unlimited (0). */
#define SIM_UNLIMITED_QUOTA_VCPU 1000000
/* The account's AppId unless the world file's `account: {appId: N}` says otherwise. */
#define SIM_DEFAULT_APP_ID 1250000000ULL
/* ClientToken memory: at most this many tokens, each for at most this long. */
#define SIM_CLIENT_TOKEN_MAX 20000
#define SIM_CLIENT_TOKEN_TTL_MS (6LL * 3600 * 1000)
/* Largest request body accepted (the real service allows 10 MB). */
#define SIM_MAX_BODY (10u << 20)

struct sim;

/*
 * Options.  Numeric knobs < 0 mean "not given": the config file's value,
 * else the default.  Start from SIM_OPTS_INIT.
 */
struct sim_opts {
	const char *config_path;       /* world YAML; NULL = built-in world */
	const char *state_path;	       /* loaded by sim_new when it exists */
	uint64_t seed;		       /* RNG seed (ids, faults, reclaim victims) */
	int64_t latency_ms;	       /* added to every CVM API answer */
	int64_t pending_ms;	       /* PENDING -> RUNNING */
	int64_t terminating_ms;	       /* TERMINATING/SHUTDOWN -> gone */
	int64_t tag_lag_ms;	       /* new instances invisible to tag filters */
	double internal_error_rate;    /* 0..1 of CVM API requests */
	double drop_after_commit_rate; /* 0..1 of successful RunInstances */
	double reclaim_per_minute;     /* random reclaims of active instances */
	double launch_fail_rate;       /* 0..1 of new instances end LAUNCH_FAILED */
	int64_t launch_failed_ttl_ms; /* LAUNCH_FAILED instances are removed after this */
	int64_t spot_quota_vcpu;      /* spot vCPUs per zone; 0 = unlimited */
	bool no_rate_limits;	      /* disable the per-action rate limits */
	/* Wall clock in ms since the epoch; NULL = the real clock. */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
	/*
	 * Request log: one line per request (no newline, printable ASCII,
	 * never a secret), called with the world lock held; NULL = quiet.
	 */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

#define SIM_OPTS_INIT                                                                    \
	{                                                                                \
		.seed = 1, .latency_ms = -1, .pending_ms = -1, .terminating_ms = -1,     \
		.tag_lag_ms = -1, .internal_error_rate = -1.0,                           \
		.drop_after_commit_rate = -1.0, .reclaim_per_minute = -1.0,              \
		.launch_fail_rate = -1.0, .launch_failed_ttl_ms = -1,                    \
		.spot_quota_vcpu = -1                                                    \
	}

/*
 * Create an emulator: the built-in world or opts->config_path, then the
 * state file when opts->state_path exists.  *out is freed with sim_free.
 * Config errors name file:line:column.
 */
int sim_new(struct sim **out, const struct sim_opts *opts, struct err *e);
/* Stop the server (if any) and free everything; NULL is fine. */
void sim_free(struct sim *s);

/*
 * Start answering HTTP on `listen` ("127.0.0.1:PORT", "[::1]:PORT" or
 * "localhost:PORT"; port 0 picks a free one).  Non-loopback addresses are
 * refused (ERR_INVALID).
 */
int sim_listen(struct sim *s, const char *listen, struct err *e);
/* The bound port (after sim_listen), and "http://HOST:PORT" (borrowed). */
int sim_port(const struct sim *s);
const char *sim_url(const struct sim *s);
/* Stop answering (waits for requests in flight).  Idempotent. */
void sim_stop(struct sim *s);
/*
 * Write the world to opts->state_path atomically (temp file + rename).
 * A no-op returning 0 when no state path was given.
 */
int sim_save_state(struct sim *s, struct err *e);

/* One request, transport-free.  All pointers are borrowed. */
struct sim_request {
	const char *method; /* "POST", "GET" */
	const char *path;   /* "/" or "/_sim/stats" (no query) */
	const char *query;  /* "" when none */
	const struct tc_header *headers;
	size_t nheaders;
	const char *body;
	size_t body_len;
};

/* One answer.  Clear with sim_response_clear. */
struct sim_response {
	int status;		/* HTTP status (200 for API errors, like the service) */
	struct buf body;	/* JSON text */
	bool drop;		/* close the connection without answering */
	int64_t delay_ms;	/* wait this long before answering (latency fault) */
	const char *error_code; /* API error code answered, or NULL (borrowed) */
	void *doc;		/* private: a cJSON answer rendered into body after
				   the world lock is let go */
};

#define SIM_RESPONSE_INIT                                                                \
	{                                                                                \
		0, BUF_INIT, false, 0, NULL, NULL                                        \
	}

/* Answer one request (thread-safe).  Always fills out. */
void sim_handle(struct sim *s, const struct sim_request *req, struct sim_response *out);
void sim_response_clear(struct sim_response *r);

/* Number of instances currently in the world (any state), for tests. */
size_t sim_instance_count(struct sim *s);

/* ---------------------------------------------------------------------
 * sim ctl: a client of a running emulator's control API (sim/ctl.c).
 *
 * One function per control verb.  Each sends its HTTP request to
 * ENDPOINT/_sim/VERB (endpoint as "http://127.0.0.1:8787", a trailing
 * slash is fine) and, on an answer below 400, appends its body (JSON
 * text, as received) to *out.  An answer of 400 or more fails with the
 * emulator's "error" message (ERR_INVALID); no answer at all with
 * ERR_NET naming the endpoint.  They never print.
 *
 * Where a verb takes `json`, a non-NULL json is sent as the request body
 * exactly as given (a POST), and the structured arguments are ignored.
 *
 * The emulator listens on loopback only, and its control API resets and
 * reshapes worlds, so these talk to loopback only: an endpoint that is not
 * http(s) on 127.0.0.0/8, ::1 or localhost fails with ERR_INVALID before
 * anything is sent (sim_ctl_check_endpoint), never through a proxy, never
 * following a redirect.
 *
 *	struct buf out = BUF_INIT;
 *	if (sim_ctl_stats(&out, "http://127.0.0.1:8787", &e) < 0)
 *		...
 *	fputs(buf_str(&out), stdout);
 *	buf_release(&out);
 */

/*
 * 0 when endpoint is an http:// or https:// URL of a loopback host
 * (127.0.0.0/8, ::1, localhost); ERR_INVALID naming it otherwise.
 */
int sim_ctl_check_endpoint(const char *endpoint, struct err *e);

/* Largest answer accepted from the control API. */
#define SIM_CTL_MAX_ANSWER (256u << 20)

/* GET /_sim/stats: request, error and instance counters. */
int sim_ctl_stats(struct buf *out, const char *endpoint, struct err *e);
/* GET /_sim/state: the whole world. */
int sim_ctl_state(struct buf *out, const char *endpoint, struct err *e);
/* POST /_sim/reset: back to the start-up world. */
int sim_ctl_reset(struct buf *out, const char *endpoint, const char *json, struct err *e);
/* The clock: GET shows it; a json ('{"now":MS}' or '{"offsetMs":N}') moves it. */
int sim_ctl_clock(struct buf *out, const char *endpoint, const char *json, struct err *e);
/*
 * The metadata service and STS: GET shows their settings, the STS fault
 * and counters; a json ('{"durationSeconds":N}', '{"fail":{"count":N,
 * "code":"C","after":M}}', ...) changes them (docs/sim.md "Credentials").
 */
int sim_ctl_sts(struct buf *out, const char *endpoint, const char *json, struct err *e);

/*
 * Fault changes (the keys of /_sim/faults); each field left at its
 * SIM_CTL_FAULTS_INIT value, negative, is unchanged.  Switches are 1 on,
 * 0 off.
 */
struct sim_ctl_faults {
	int64_t latency_ms, pending_ms, terminating_ms, tag_lag_ms;
	double internal_error_rate;
	double drop_after_commit_rate;
	double reclaim_per_minute;
	double launch_fail_rate;
	int64_t launch_failed_ttl_ms;
	int64_t spot_quota_vcpu; /* 0 = unlimited */
	double operation_in_progress_rate;
	int insufficient_balance;      /* switch */
	int account_quota_unsupported; /* switch */
	int rate_limits;	       /* switch */
};

#define SIM_CTL_FAULTS_INIT                                                              \
	{                                                                                \
		.latency_ms = -1, .pending_ms = -1, .terminating_ms = -1,                \
		.tag_lag_ms = -1, .internal_error_rate = -1.0,                           \
		.drop_after_commit_rate = -1.0, .reclaim_per_minute = -1.0,              \
		.launch_fail_rate = -1.0, .launch_failed_ttl_ms = -1,                    \
		.spot_quota_vcpu = -1, .operation_in_progress_rate = -1.0,               \
		.insufficient_balance = -1, .account_quota_unsupported = -1,             \
		.rate_limits = -1                                                        \
	}

/* The faults: GET shows them; a change (or json) POSTs it and shows the result. */
int sim_ctl_faults(struct buf *out, const char *endpoint, const struct sim_ctl_faults *f,
		   const char *json, struct err *e);

/* A pool change: zone and type pick the pool (added when new). */
struct sim_ctl_pool {
	const char *region; /* checked against the zone; NULL: not sent */
	const char *zone;   /* NULL with type NULL: list the pools */
	const char *type;
	int stock;	   /* < 0: unchanged */
	const char *price; /* decimal; NULL: unchanged */
	int spot;	   /* sold as spot: 1 yes, 0 no, < 0: unchanged */
};

#define SIM_CTL_POOL_INIT                                                                \
	{                                                                                \
		NULL, NULL, NULL, -1, NULL, -1                                           \
	}

/* The pools: GET lists them; a zone or type (or json) POSTs the change. */
int sim_ctl_pool(struct buf *out, const char *endpoint, const struct sim_ctl_pool *p,
		 const char *json, struct err *e);

/* What to reclaim: the instances named, else count random active ones. */
struct sim_ctl_reclaim {
	const char *const *ids; /* borrowed */
	size_t nids;
	int count;	 /* when nids is 0; < 0: 1 */
	const char *env; /* only instances of this environment; NULL: any */
};

#define SIM_CTL_RECLAIM_INIT                                                             \
	{                                                                                \
		NULL, 0, -1, NULL                                                        \
	}

/* POST /_sim/reclaim. */
int sim_ctl_reclaim(struct buf *out, const char *endpoint,
		    const struct sim_ctl_reclaim *r, const char *json, struct err *e);

/* POST /_sim/protect: termination protection of ids on (or off). */
int sim_ctl_protect(struct buf *out, const char *endpoint, const char *const *ids,
		    size_t nids, bool on, const char *json, struct err *e);

/*
 * POST /_sim/operate: start operation ("reboot", "stop" or "start") on ids,
 * lasting ms (< 0: the emulator's default).
 */
int sim_ctl_operate(struct buf *out, const char *endpoint, const char *operation,
		    const char *const *ids, size_t nids, int64_t ms, const char *json,
		    struct err *e);

#endif
