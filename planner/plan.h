/*
 * plan.h - planning: diff desired (specs) against observed (instances and
 * spot offers) into a plan, save and load plans, and render them.
 *
 * The planner is a pure function (design sections 4 and 5): no I/O, no
 * clock, no randomness.  The same inputs give a byte-identical plan
 * document.  The command layer observes the world (or reads a snapshot),
 * calls plan_make(), and prints what plan_render_*() produced:
 *
 *	struct plan_observed obs = PLAN_OBSERVED_INIT;
 *	struct plan *p = NULL;
 *	struct plan_input in = { .specs = &set, .observed = &obs,
 *				 .max_release = -1 };
 *	struct buf out = BUF_INIT;
 *
 *	... fill obs (plan_observed_add_instances / _add_offers) ...
 *	if (plan_make(&p, &in, &e) < 0)
 *		goto done;
 *	plan_render_text(&out, p, color);
 *	...
 *	plan_free(p);
 *	plan_observed_clear(&obs);
 *
 * Ownership: a struct plan owns every string and array reachable from it;
 * free it with plan_free().  A struct plan_observed owns its instances and
 * offers; clear it with plan_observed_clear().  Inputs are borrowed.
 *
 * Errors: functions return 0 or a negative ERR_* and fill a struct err.
 * Problems *in* a plan (a guardrail tripped, a pool priced above the bid)
 * are not function errors: they are recorded in the plan, per environment,
 * as errors and warnings, and plan_has_errors() tells the caller.
 */
#ifndef SPOTENV_PLAN_H
#define SPOTENV_PLAN_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../util/buf.h"
#include "../specs/spec.h"
#include "../provider/model.h"

#define PLAN_FORMAT_VERSION "1"
#define PLAN_OBSERVED_FORMAT_VERSION "1"

/* The ownership tags every launched instance carries (design section 4). */
#define PLAN_TAG_ENV "spotenv:env"
#define PLAN_TAG_SCOPE "spotenv:scope"
#define PLAN_TAG_TEMPLATE "spotenv:template"

#define PLAN_TEMPLATE_HEX 12 /* hex digits of the template hash */
#define PLAN_CHUNK 100	     /* instances per launch action (RunInstances) */

/* ---------------------------------------------------------------------
 * Observed state: what DescribeInstances and DescribeZoneInstanceConfigInfos
 * returned, or a snapshot written by `spotenv observe` (docs/observed-format.md).
 */

/* One spot offer with the region it was asked in. */
struct plan_offer {
	char *region;
	struct tc_offer offer; /* zone, type, status (SELL/SOLD_OUT), price */
};

struct plan_observed {
	char *observed_at; /* RFC 3339 UTC or NULL; copied into plans (informational) */
	char **regions;	   /* regions observed, as added */
	size_t nregions, regions_alloc;
	struct tc_instance_list instances; /* region filled in each */
	struct plan_offer *offers;
	size_t noffers, offers_alloc;
	/*
	 * Regions whose listing never settled (instances came or went while it
	 * was read, every re-read): instances may be missing, so the planner
	 * launches nothing for their environments this run.
	 */
	char **incomplete;
	size_t nincomplete, incomplete_alloc;
};

#define PLAN_OBSERVED_INIT                                                               \
	{                                                                                \
		0                                                                        \
	}

/* Free everything and reset to PLAN_OBSERVED_INIT.  NULL is fine. */
void plan_observed_clear(struct plan_observed *obs);
/* Record that region was observed (duplicates are ignored). */
void plan_observed_add_region(struct plan_observed *obs, const char *region);
/*
 * Move every instance of list into obs (list is left empty; its entries
 * now belong to obs).  Instances must have region set.
 */
void plan_observed_add_instances(struct plan_observed *obs,
				 struct tc_instance_list *list);
/* Move every offer of list into obs, tagged with region (list is left empty). */
void plan_observed_add_offers(struct plan_observed *obs, const char *region,
			      struct tc_offer_list *list);
/* Record that region's listing may be missing instances (see incomplete). */
void plan_observed_mark_incomplete(struct plan_observed *obs, const char *region);
bool plan_observed_is_incomplete(const struct plan_observed *obs, const char *region);
/* Set observed_at (copied; NULL clears). */
void plan_observed_set_time(struct plan_observed *obs, const char *rfc3339);

/*
 * The snapshot document (JSON, "format_version": "1", stable order:
 * instances sorted by id, offers by region, zone, type).  Appends to out;
 * 0 or ERR_TOOBIG.
 */
int plan_observed_to_json(struct buf *out, const struct plan_observed *obs);
/*
 * Parse a snapshot (len bytes of data, NUL not needed) into out, which
 * must be cleared (PLAN_OBSERVED_INIT).  ERR_INVALID with a message naming
 * the bad field for anything malformed or an unsupported format_version;
 * out is cleared on error.
 */
int plan_observed_from_json(struct plan_observed *out, const char *data, size_t len,
			    struct err *e);

/* ---------------------------------------------------------------------
 * The plan.
 */

enum plan_reason {
	PLAN_REASON_EXCESS = 0, /* more active instances than capacity */
	PLAN_REASON_DRIFT,	/* launch template changed; replaced */
	PLAN_REASON_FAILED,	/* LAUNCH_FAILED, STOPPED or STOPPING */
	PLAN_REASON_ORPHAN,	/* its environment is no longer in the specs */
	PLAN_REASON_DESTROY,	/* `spotenv destroy` */
};

/* "excess", "drift", "failed", "orphan", "destroy". */
const char *plan_reason_name(enum plan_reason r);

/* Per environment outcome, for summaries and exit codes. */
enum plan_status {
	PLAN_STATUS_CONVERGED = 0, /* nothing to do */
	PLAN_STATUS_CHANGES,	   /* actions planned */
	PLAN_STATUS_SHORT,	   /* cannot reach capacity (no usable pool) */
	PLAN_STATUS_ERROR,	   /* a guardrail or bid error; must not apply */
};

/* "converged", "changes", "short", "error". */
const char *plan_status_name(enum plan_status s);

/*
 * Instance states as design section 4 classes them: active (counts toward
 * capacity: PENDING, STARTING, RUNNING, REBOOTING), failed (released and
 * replaced: LAUNCH_FAILED, STOPPED, STOPPING), leaving (neither counted nor
 * touched: SHUTDOWN, TERMINATING).  Any other state (or NULL) is active and
 * *unusual is set (unusual may be NULL).  The one classifier: the planner,
 * the applier and status all use it.
 */
enum plan_state_class { PLAN_STATE_ACTIVE, PLAN_STATE_FAILED, PLAN_STATE_LEAVING };
enum plan_state_class plan_state_class(const char *state, bool *unusual);
/*
 * Whether TerminateInstances accepts an instance in state: RUNNING and
 * STOPPED.  PENDING, STARTING, STOPPING, REBOOTING, LAUNCH_FAILED and the
 * leaving states are refused (UnsupportedOperation.InstanceState*,
 * tencent-api.md section 12), so spotenv never asks.
 */
bool plan_state_terminable(const char *state);

/* One RunInstances call (at most PLAN_CHUNK instances). */
struct plan_launch {
	char *env;
	char *region;
	int pool; /* index into the environment's pools (spec order) */
	char *zone;
	char *type;	     /* instance type */
	char *subnet_id;     /* NULL unless the pool has one */
	int count;	     /* 1..PLAN_CHUNK */
	int chunk;	     /* 0-based chunk index within the pool */
	bool replace;	     /* launches replacements for drifted instances */
	char *template;	     /* template hash of the pool (tagged) */
	char *bid;	     /* SpotOptions.MaxPrice, as written in the spec */
	char *price;	     /* current spot price, or NULL when unknown */
	char *client_token;  /* deterministic, <= TC_MAX_CLIENT_TOKEN ASCII: from env,
				scope, basis, pool, chunk */
	struct tc_tag *tags; /* user tags (sorted) + the 3 spotenv tags */
	size_t ntags;
	/* Filled by `plan --check` (plan_launch_set_check); NULL = not checked. */
	char *check;	     /* "ok" or the API error code of the dry run */
	char *check_message; /* the API's message when check is not "ok" */
};

/* One instance to terminate. */
struct plan_release {
	char *id;
	char *env;
	char *region;
	char *zone;
	char *type;
	char *state;
	enum plan_reason reason;
	char *detail; /* why, for people: "state STOPPED", "image img-a -> img-b" */
};

/* A pool of an environment as the planner saw it. */
struct plan_pool {
	int index; /* position in spec.pools */
	char *zone;
	char *type;
	char *subnet_id;    /* NULL = none */
	char *bid;	    /* effective bid (pool's or environment's) */
	char *price;	    /* current spot price; NULL = no offer seen */
	char *offer_status; /* "SELL", "SOLD_OUT" or NULL (no offer seen) */
	char *stock;	    /* StatusCategory: EnoughStock, NormalStock, UnderStock,
			       WithoutStock; NULL = not given (unknown) */
	char *template;	    /* template hash */
	bool usable;	    /* launches may go here */
	int active;	    /* active, non-drifted instances now */
	int launch;	    /* instances planned to launch here */
};

/*
 * The launch template shared by the pools of an environment (what apply
 * sends besides zone, type and subnet).  Absent for orphans.
 */
struct plan_template {
	char *image;
	char *instance_name; /* NULL = none */
	char *vpc_id;	     /* NULL = default network */
	char **security_group_ids;
	size_t nsecurity_groups;
	int public_ip_bandwidth_mbps;
	char **key_ids;
	size_t nkey_ids;
	bool keep_image_login;
	char *system_disk_type; /* NULL = provider default */
	int system_disk_size_gb;
	char *user_data_b64; /* NULL = none */
};

struct plan_env {
	char *name;
	char *scope;
	char *region;	  /* spec region; for orphans the first seen */
	char *basis;	  /* hex SHA-256 of this environment's observed instances:
			     seeds its launch tokens; NULL in older plan files */
	bool orphan;	  /* not in the specs (no template, no pools) */
	char *allocation; /* "priority", "spread", "lowest-price"; NULL for orphans */
	enum plan_status status;

	int desired; /* capacity (0 for orphans) */
	int active;  /* active instances now, drifted included */
	int drifted; /* active instances with a stale template */
	int failed;
	int leaving;
	int unusual;		  /* active in a state spotenv does not know */
	int to_launch;		  /* instances, replacements excluded */
	int to_release;		  /* instances, drift replacements excluded */
	int to_replace;		  /* drifted instances replaced (launch + release) */
	char *hourly_cost;	  /* estimated after the plan, exact decimal */
	char *hourly_cost_before; /* what the active instances cost before it;
				     NULL: unknown (a plan file without it) */
	char *max_hourly_cost;	  /* limits.maxHourlyCost or NULL */
	int max_release;	  /* effective limit (-1 = none) */
	int max_surge, max_unavailable;

	struct plan_template *template; /* NULL for orphans */
	struct plan_pool *pools;
	size_t npools;
	int *fallback; /* usable pool indices in launch preference order */
	size_t nfallback;

	struct plan_launch *launches; /* by pool preference, then chunk */
	size_t nlaunches;
	struct plan_release *releases; /* failed, drift, excess, orphan; then by id */
	size_t nreleases;

	char **warnings; /* lowercase sentences, no trailing period */
	size_t nwarnings;
	char **errors;
	size_t nerrors;

	size_t launches_alloc, releases_alloc, warnings_alloc, errors_alloc;
};

/* One observed instance the plan was made from (the basis). */
struct plan_basis_item {
	char *id;
	char *state;
	char *template; /* spotenv:template tag or NULL */
};

struct plan {
	char *basis;	   /* hex SHA-256 over the sorted basis items */
	char *observed_at; /* copied from the observation; may be NULL */
	/*
	 * Where the plan was made (docs/plan-format.md, "Where a plan was
	 * made").  Set by the command layer, never by plan_make (which does no
	 * I/O).  endpoint NULL: the plan is unbound (made without an API, or a
	 * file older than the binding) and apply refuses it; account NULL:
	 * the account could not be learned, the plan is bound to the endpoint
	 * alone.  Written to the document only when endpoint is set.
	 */
	char *endpoint; /* the API's URL, "scheme://authority/" */
	char *account;	/* the account's AppId (decimal), or NULL */
	bool destroy;	/* made by plan_destroy() */
	bool prune;
	int max_release; /* --max-release, -1 = none */
	char **scopes;	 /* scopes in play, sorted */
	size_t nscopes;
	char **env_filter; /* --env names, sorted; empty = every environment */
	size_t nenv_filter;

	struct plan_env *envs; /* spec envs by name, then orphans by name */
	size_t nenvs;

	struct plan_basis_item *observed; /* sorted by id */
	size_t nobserved;
};

/* What plan_make() needs; everything is borrowed. */
struct plan_input {
	const struct spec_set *specs;
	const struct plan_observed *observed;
	bool prune;		 /* release orphans */
	int max_release;	 /* --max-release; -1 = each env's limit */
	const char *const *envs; /* --env filter; NULL/0 = all */
	size_t nenvs;
};

/*
 * Make a plan.  *out is caller-owned (plan_free) and set only on success.
 * Fails (ERR_INVALID) only for unusable input: a --env name that is neither
 * in the specs nor observed, an invalid price.  Guardrail failures are
 * plan errors (see plan_has_errors()), not function errors.
 */
int plan_make(struct plan **out, const struct plan_input *in, struct err *e);

/*
 * A plan releasing every observed instance (reason destroy) of the named
 * environments, only those carrying spotenv:env and whose scope is one of
 * scopes.  Environments with nothing observed are listed converged.
 * The guardrail max_release (-1 = none) applies.  *out is caller-owned.
 */
int plan_destroy(struct plan **out, const struct plan_observed *observed,
		 const char *const *envs, size_t nenvs, const char *const *scopes,
		 size_t nscopes, int max_release, struct err *e);

void plan_free(struct plan *p);

/* True when any environment has an action. */
bool plan_has_changes(const struct plan *p);
/* True when any environment has an error (apply must refuse). */
bool plan_has_errors(const struct plan *p);

/* Totals over every environment. */
struct plan_totals {
	int envs, converged, launch, release, replace, errors, warnings;
};
void plan_totals(const struct plan *p, struct plan_totals *out);

/*
 * The estimated hourly cost of every environment before and after the plan,
 * summed exactly, into before and after (each at least 32 bytes), "-" when
 * no environment knows it.
 */
void plan_total_cost(const struct plan *p, char *before, char *after, size_t size);

/* Find an environment of the plan by name; NULL when absent.  Borrowed. */
const struct plan_env *plan_find_env(const struct plan *p, const char *name);

/*
 * Record a --check dry run on a launch: ok, or the API code and message of
 * the refusal (copied).
 */
void plan_launch_set_check(struct plan_launch *l, bool ok, const char *code,
			   const char *message);

/*
 * The template hash of pool of env (PLAN_TEMPLATE_HEX hex digits and a
 * NUL).  Exposed for tests and the emulator's fixtures.
 */
void plan_template_hash(char out[PLAN_TEMPLATE_HEX + 1], const struct spec_env *env,
			const struct spec_pool *pool);

/*
 * Is p one spotenv could have made?  A saved plan is untrusted input
 * (planner/check.c): every launch must match its environment's pool (zone,
 * type, subnet, bid, template), carry the environment's ownership tags
 * exactly once, count 1..PLAN_CHUNK with a printable ClientToken, and the
 * launches of an environment may not exceed its capacity plus its drifted
 * instances; every release must name an instance id of that environment in
 * its region; environments, ClientTokens and released ids are unique; an
 * environment converged has no actions, one in error has errors.  Returns 0, or
 * ERR_INVALID with one line per violation ("  ...\n", at most 20) in why
 * (which may be NULL).  The lines quote names from the file: escape them
 * before printing.
 */
int plan_check(const struct plan *p, struct buf *why);
/*
 * Print any JSON document in spotenv's one style (2-space indent, stable,
 * a final newline), as plan and snapshot documents are; appends to out.
 */
int plan_json_write(struct buf *out, const struct cJSON *root);
/* "ins-" and 1 to 28 letters and digits. */
bool plan_instance_id_ok(const char *id);

/*
 * Stale check.  Compares the basis of old (a saved plan) with fresh (a
 * plan made now from the same specs and options, or read back from a
 * file).  0 when they match;
 * otherwise ERR_STALE, and out (when not NULL) gets one line per
 * difference, at most 20 and then "... and N more":
 *	ins-abc: RUNNING -> STOPPED
 *	ins-def: gone (was RUNNING)
 *	ins-ghi: new (PENDING)
 *	ins-jkl: template a1b2 -> c3d4
 * When the bases differ but no instance does (cannot happen for plans
 * made by this version), out gets "the observed instances changed".
 */
int plan_basis_diff(const struct plan *old, const struct plan *fresh, struct buf *out);

/*
 * The same check against an observation, using the plan's own selection
 * (its scopes and --env filter), for `apply PLANFILE`.
 */
int plan_basis_check(const struct plan *old, const struct plan_observed *now,
		     struct buf *out);

/* ---------------------------------------------------------------------
 * Plan documents (docs/plan-format.md).
 */

/* The JSON document; appends to out.  0 or ERR_TOOBIG. */
int plan_to_json(struct buf *out, const struct plan *p);
/*
 * Read a plan document.  ERR_INVALID naming the problem for malformed
 * JSON, a missing field or an unsupported format_version.  *out is
 * caller-owned and set only on success.
 */
int plan_from_json(struct plan **out, const char *data, size_t len, struct err *e);

/* ---------------------------------------------------------------------
 * Renderings; each appends to out and returns 0 or ERR_TOOBIG.
 */

/*
 * Terraform-like text: one block per environment, `+` launch, `-` release,
 * `~` replace, reasons inline, warnings and errors, and a closing line
 * "Plan: N to launch, N to release, N to replace." or
 * "No changes. N environments converged.".  color adds ANSI colours (the
 * caller decides: terminal, NO_COLOR, --no-color).
 */
int plan_render_text(struct buf *out, const struct plan *p, bool color);
/* A pull-request comment: warnings first, a summary table, details folded. */
int plan_render_markdown(struct buf *out, const struct plan *p);
/*
 * The same in at most limit characters (UTF-8 characters, not bytes):
 * beyond that the summary table stays (as far as it fits) and the details
 * stop where the limit is, saying how many were left out.
 * plan_render_markdown is this with PLAN_MARKDOWN_LIMIT (60,000: a pull
 * request comment holds 65,536).
 */
#define PLAN_MARKDOWN_LIMIT 60000
int plan_render_markdown_limit(struct buf *out, const struct plan *p, size_t limit);
/* The closing line alone (no newline), e.g. for --quiet. */
int plan_render_closing(struct buf *out, const struct plan *p);

/* ---------------------------------------------------------------------
 * Status (`spotenv status`): what is observed now, per environment and pool.
 */

/* Observed instances of an environment, or of one of its pools, by state. */
struct plan_status_counts {
	int running; /* RUNNING */
	int pending; /* the other active states: PENDING, STARTING, REBOOTING, unusual */
	int failed;  /* LAUNCH_FAILED, STOPPED, STOPPING */
	int leaving; /* SHUTDOWN, TERMINATING */
};

/*
 * Count the instances of obs that belong to env (by its spotenv:env and
 * spotenv:scope tags), classed by plan_state_class() with RUNNING counted
 * apart from the other active states.  With pool (NULL = the whole
 * environment), only those in the pool's zone and instance type.  Pure;
 * *out is overwritten.
 */
void plan_status_counts(struct plan_status_counts *out, const struct plan_observed *obs,
			const struct plan_env *env, const struct plan_pool *pool);

/*
 * One word for where env stands in its plan: "converged", "error", else by
 * capacity "short" (fewer active than desired), "over" (more) or "drifted"
 * (as many, but some to replace).  A static string.
 */
const char *plan_env_state(const struct plan_env *env);

#endif
