/*
 * sim_int.h - internals shared by the files of sim/ (not a public API).
 *
 * world.c    the world: catalogue, pools, instances, ids, RNG, tokens
 * config.c   the built-in world and the YAML world file
 * state.c    JSON dump and load of the world (state file, /_sim/state)
 * actions.c  the CVM actions
 * server.c   sim_handle (auth, faults, dispatch), control API, HTTP
 *
 * Every function here is called with the world mutex held unless it says
 * otherwise.
 */
#ifndef SPOTENV_SIM_INT_H
#define SPOTENV_SIM_INT_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../util/buf.h"
#include "sim.h"
#include <pthread.h>
#include <cjson/cJSON.h>

#define SIM_PRICE_MAX 24

/* struct sim_region (with its rate windows and counters) follows struct sim_rate. */

struct sim_zone {
	char *name;
	int region; /* index into regions */
};

/* A pool: one instance type in one zone. */
struct sim_pool {
	int zone;		   /* index into zones */
	char *type;		   /* S5.MEDIUM4 */
	char *family;		   /* S5 */
	int cpu, memory;	   /* cores, GB */
	int64_t stock;		   /* instances that can still be launched */
	char price[SIM_PRICE_MAX]; /* spot price, decimal text as configured */
	bool spot;	       /* sold as SPOTPAID (world `spot: false` turns it off) */
	int64_t initial_stock; /* for reset */
	char initial_price[SIM_PRICE_MAX];
	bool initial_spot;
};

struct sim_cred {
	char *id;
	char *key;
};

/* The actions the emulator knows, for rate limits and counters. */
enum sim_action {
	SIM_ACT_DESCRIBE_INSTANCES,
	SIM_ACT_RUN_INSTANCES,
	SIM_ACT_TERMINATE_INSTANCES,
	SIM_ACT_DESCRIBE_ZONE_CONFIGS,
	SIM_ACT_DESCRIBE_ACCOUNT_QUOTA,
	SIM_ACT_COUNT,
	SIM_ACT_OTHER = SIM_ACT_COUNT, /* unknown action (counted as "other") */
};

extern const char *const sim_action_names[SIM_ACT_COUNT];

/* Fault and timing knobs (flags, config `faults:`, POST /_sim/faults). */
struct sim_faults {
	int64_t latency_ms;
	int64_t pending_ms;
	int64_t terminating_ms;
	int64_t tag_lag_ms;
	double internal_error_rate;
	double drop_after_commit_rate;
	double reclaim_per_minute;
	double launch_fail_rate;
	int64_t launch_failed_ttl_ms; /* a LAUNCH_FAILED instance is removed after this */
	int64_t spot_quota_vcpu;      /* per zone; 0 = unlimited */
	double operation_in_progress_rate; /* 0..1 of TerminateInstances refused */
	bool insufficient_balance; /* RunInstances: InvalidAccount.InsufficientBalance */
	bool account_quota_unsupported; /* DescribeAccountQuota: UnsupportedOperation */
	bool rate_limits;
	int rate[SIM_ACT_COUNT]; /* requests per second per action */
};

/* An operation in progress on an instance, started through POST /_sim/operate. */
enum sim_op {
	SIM_OP_NONE,
	SIM_OP_REBOOT, /* REBOOTING, then RUNNING */
	SIM_OP_STOP,   /* STOPPING, then STOPPED */
	SIM_OP_START,  /* STARTING, then RUNNING */
};

struct sim_tag {
	char *key;
	char *value;
};

struct sim_instance {
	char id[16]; /* ins-xxxxxxxx */
	char *name;
	int pool; /* index into pools */
	char *image;
	bool spot; /* SPOTPAID (else POSTPAID_BY_HOUR) */
	struct sim_tag *tags;
	size_t ntags;
	int64_t created_ms;
	int64_t running_ms;  /* PENDING until then */
	int64_t tags_ms;     /* tags invisible until then */
	int64_t leave_ms;    /* 0, or when it started leaving */
	int64_t gone_ms;     /* when a leaving (or LAUNCH_FAILED) instance vanishes */
	bool reclaimed;	     /* leaving because of a reclaim (SHUTDOWN) */
	bool launch_failed;  /* ends LAUNCH_FAILED instead of RUNNING */
	bool protect;	     /* termination protection (DisableApiTermination) */
	enum sim_op op;	     /* the last operation started on it */
	int64_t op_until_ms; /* op is in progress until then */
	char *vpc_id, *subnet_id;
	char **sgs;
	size_t nsgs;
	char **key_ids;
	size_t nkey_ids;
	char *disk_type;
	int disk_size;
	int bandwidth;
	char private_ip[16];
	char uuid[37];
	char request_id[37];	    /* the RunInstances that made it */
	size_t slot;		    /* index in world.list */
	struct sim_instance *hnext; /* id hash chain */
};

/* A remembered ClientToken (FIFO by insertion, bounded, expiring). */
struct sim_token {
	char *token;
	char **ids;
	size_t n;
	int64_t ms;
	struct sim_token *hnext;	 /* hash chain */
	struct sim_token *older, *newer; /* FIFO */
};

struct sim_counter {
	const char *code; /* borrowed string literal */
	uint64_t n;
};

struct sim_stats {
	uint64_t requests[SIM_ACT_COUNT + 1];
	struct sim_counter *errors;
	size_t nerrors, aerrors;
	uint64_t launched, terminated, reclaimed, dropped;
	uint64_t failed_removed; /* LAUNCH_FAILED instances removed after their TTL */
};

struct sim_rate {
	int64_t *ring; /* times of the last `cap` accepted requests */
	size_t cap, head, count;
};

/* The counters of the requests that named one region (X-TC-Region). */
struct sim_region_stats {
	uint64_t requests[SIM_ACT_COUNT + 1];
	struct sim_counter *errors;
	size_t nerrors, aerrors;
};

/*
 * A region.  Tencent counts its rate limits per action, per region and
 * per account, so each region has its own sliding window per action (at
 * faults.rate[a], the same rates in every region).
 */
struct sim_region {
	char *name;
	struct sim_rate rates[SIM_ACT_COUNT];
	struct sim_region_stats stats;
};

struct sim {
	pthread_mutex_t mu;
	struct sim_opts opts;

	/* the catalogue (fixed after load) */
	struct sim_region *regions;
	size_t nregions;
	struct sim_zone *zones;
	size_t nzones;
	struct sim_pool *pools;
	size_t npools, apools;
	struct sim_cred *creds;
	size_t ncreds;
	struct sim_sts *sts; /* metadata and STS (sts.c); NULL until used */

	struct sim_faults faults, initial_faults;

	/* instances: creation order (NULL holes) plus an id hash */
	struct sim_instance **list;
	size_t nlist, alist, nholes, ninstances;
	struct sim_instance **hash;
	size_t hsize;
	struct sim_instance **leaving; /* instances in TERMINATING/SHUTDOWN */
	size_t nleaving, aleaving;
	struct sim_instance **failed; /* instances that end (or ended) LAUNCH_FAILED */
	size_t nfailed, afailed;
	uint64_t list_version; /* bumped whenever an instance is added or removed */

	/*
	 * The last filtered DescribeInstances listing (actions.c), kept so the
	 * next pages of the same listing do not scan every instance again.
	 * Used only while it cannot differ from a new scan: same region and
	 * Filters text, no instance added or removed, no tag that was hidden
	 * at the scan visible yet, the clock not moved back, and no filter on
	 * the state (which changes with time alone).
	 */
	struct sim_listing {
		char *key;		 /* region index and Filters text; NULL: none */
		uint64_t version;	 /* list_version it was made at */
		int64_t from, until;	 /* valid while from <= now < until */
		struct sim_instance **v; /* the matching instances, in list order */
		size_t n, alloc;
		uint64_t used; /* when last used (a counter), to replace the oldest */
	} listing[8];	       /* one per listing under way (regions page side by side) */
	uint64_t listing_uses;
	uint64_t app_id; /* the account's AppId (DescribeAccountQuota) */

	/* ClientTokens */
	struct sim_token **thash;
	size_t thsize, ntokens;
	struct sim_token *toldest, *tnewest;

	uint64_t rng;
	int64_t clock_offset_ms; /* added to the clock (POST /_sim/clock) */
	int64_t reclaim_last_ms; /* time the reclaim rate was last applied */
	double reclaim_carry;	 /* fractional reclaims owed */
	struct sim_stats stats;

	/* server */
	void *daemon;
	int port;
	char url[64];
};

/*
 * sts.c: the metadata service and STS on the same port (docs/sim.md
 * "Credentials").  sim_sts_route: whether a request is theirs (a
 * /latest/meta-data/ path, or "/" with version 2018-08-13 or signed for
 * service sts).  sim_sts_secret: a temporary SecretId's key (NULL when not
 * one).  sim_sts_check: after a good signature, a temporary SecretId needs
 * its X-TC-Token (AuthFailure.TokenFailure) and must not have expired
 * (AuthFailure.SignatureExpire); 0 for long-lived keys.
 */
bool sim_sts_route(const struct sim_request *req);
void sim_sts_handle(struct sim *s, const struct sim_request *req,
		    struct sim_response *out, int64_t now);
void sim_sts_control(struct sim *s, const struct sim_request *req, const cJSON *body,
		     struct sim_response *out);
const char *sim_sts_secret(struct sim *s, const char *id);
int sim_sts_check(struct sim *s, const struct sim_request *req, int64_t now_ms,
		  struct err *e);
void sim_sts_free(struct sim *s);

/* world.c */
int64_t sim_now(struct sim *s);
uint64_t sim_rand(struct sim *s);
double sim_rand01(struct sim *s);
void sim_request_id(struct sim *s, char out[37]);
int sim_find_region(const struct sim *s, const char *name);
int sim_find_zone(const struct sim *s, const char *name);
int sim_find_pool(const struct sim *s, int zone, const char *type);
int sim_add_pool(struct sim *s, int zone, const char *type, int cpu, int memory,
		 int64_t stock, const char *price, struct err *e);
bool sim_type_shape(const char *type, int *cpu, int *memory);
/* A new instance with a fresh unique id, added to the world (caller fills the rest). */
struct sim_instance *sim_instance_new(struct sim *s, int pool);
/* Insert an instance that already has an id (state load); false on duplicate. */
bool sim_instance_insert(struct sim *s, struct sim_instance *in);
struct sim_instance *sim_instance_find(struct sim *s, const char *id);
/* Start leaving: TERMINATING (or SHUTDOWN when reclaimed) until now + terminatingMs. */
void sim_instance_leave(struct sim *s, struct sim_instance *in, bool reclaimed,
			int64_t now);
const char *sim_instance_state(const struct sim_instance *in, int64_t now);
bool sim_instance_active(const struct sim_instance *in);
/* Mark an instance that will end LAUNCH_FAILED: removed at running_ms +
 * launchFailedTtlMs. */
void sim_instance_will_fail(struct sim *s, struct sim_instance *in);
/* vCPUs of SPOTPAID instances in a zone (every state until they are removed). */
int64_t sim_spot_vcpu_used(const struct sim *s, int zone);
/* Reclaim up to n random active instances; returns how many. */
size_t sim_reclaim_random(struct sim *s, size_t n, int64_t now);
/* Remove vanished instances and apply the reclaim rate. */
void sim_advance(struct sim *s, int64_t now);
/* Remove every instance, token and counter (reset). */
void sim_world_clear_instances(struct sim *s);
void sim_instance_free(struct sim_instance *in);
/* ClientTokens. */
const struct sim_token *sim_token_find(struct sim *s, const char *token, int64_t now);
void sim_token_add(struct sim *s, const char *token, char *const *ids, size_t n,
		   int64_t now);
/* Counters: the totals over every region. */
void sim_count_error(struct sim *s, const char *code);
/*
 * The counters of region (an index into regions): one request of action a,
 * answered with error code (a string literal, NULL when it succeeded).
 */
void sim_count_region(struct sim *s, int region, enum sim_action a, const char *code);
/* Zero every counter, the totals and each region's (reset). */
void sim_stats_clear(struct sim *s);
/*
 * Rate limit of action a in region (an index into regions): true when the
 * request may proceed (and is recorded in that region's window).
 */
bool sim_rate_take(struct sim *s, enum sim_action a, int region, int64_t now);
/* (Re)size and empty every region's windows to faults.rate. */
void sim_rates_setup(struct sim *s);
/* Free every region's windows (sim_free). */
void sim_rates_release(struct sim *s);
void sim_faults_default(struct sim_faults *f);
char *sim_strdup_or_null(const char *s);

/* config.c */
int sim_world_builtin(struct sim *s, struct err *e);
int sim_world_load(struct sim *s, const char *path, struct err *e);
/* The same from text in memory (name is used in error locations). */
int sim_world_load_buffer(struct sim *s, const char *name, const char *text, size_t len,
			  struct err *e);
#define SIM_MAX_WORLD_FILE (4u << 20)

/* state.c */
cJSON *sim_state_json(struct sim *s, int64_t now);
int sim_state_load_json(struct sim *s, const cJSON *root, struct err *e);
cJSON *sim_faults_json(const struct sim_faults *f);
cJSON *sim_pool_json(const struct sim *s, const struct sim_pool *p);
cJSON *sim_stats_json(struct sim *s);
/* Apply a faults object (control API, config); errors name the key. */
int sim_faults_apply_json(struct sim_faults *f, const cJSON *obj, struct err *e);

/* actions.c: each fills resp (a Response object without RequestId) or returns an error
 * code with a message.  */
struct sim_call {
	struct sim *s;
	int64_t now;
	const char *region; /* X-TC-Region, validated */
	int region_index;   /* its index in s->regions */
	const cJSON *req;   /* the request object */
	cJSON *resp;	    /* out: fields of Response */
	const char *code;   /* out: error code (string literal) */
	char *message;	    /* out: error message (owned) */
	bool committed;	    /* out: the world changed (drop-after-commit applies) */
	char request_id[37];
};

int sim_action_describe_instances(struct sim_call *c);
void sim_listing_release(struct sim *s);
int sim_action_run_instances(struct sim_call *c);
int sim_action_terminate_instances(struct sim_call *c);
int sim_action_describe_zone_configs(struct sim_call *c);
int sim_action_describe_account_quota(struct sim_call *c);
/* Set an error on c; returns -1. */
int sim_call_fail(struct sim_call *c, const char *code, const char *fmt, ...)
	SPOTENV_PRINTF(3, 4);

#endif
