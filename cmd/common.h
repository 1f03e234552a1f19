/*
 * common.h - setup shared by the commands that read specs and talk to the
 * API (plan, apply, status, observe, destroy): the common options, loading
 * specs with every error printed, credentials and the client, observation,
 * rendering plans (also for show), files written atomically.
 */
#ifndef SPOTENV_CMD_COMMON_H
#define SPOTENV_CMD_COMMON_H

#include "../util/setup.h"
#include <sys/types.h>
#include "../util/buf.h"
#include "../specs/spec.h"
#include "../provider/tc.h"
#include "../planner/plan.h"
#include "../applier/apply.h"
#include "cmd.h"

struct cmd_common {
	const char *endpoint;
	const char *profile;
	int parallelism;
	bool no_color;
	int quiet;
	int verbose;
	struct cmd_strlist envs; /* --env, repeatable */
	const char *observed;	 /* --observed FILE (plan, status) */
};

#define CMD_COMMON_INIT                                                                  \
	{                                                                                \
		NULL, NULL, TC_DEFAULT_PARALLELISM, false, 0, 0, { NULL, 0, 0 }, NULL    \
	}

/* The options every API command takes (use inside an option table). */
#define CMD_COMMON_API_OPTS(c)                                                           \
	{ CMD_OPT_STRLIST,                                                               \
	  "env",                                                                         \
	  0,                                                                             \
	  &(c).envs,                                                                     \
	  "NAME",                                                                        \
	  "only this environment (repeatable)",                                          \
	  0,                                                                             \
	  0 },                                                                           \
		{ CMD_OPT_STR,                                                           \
		  "endpoint",                                                            \
		  0,                                                                     \
		  &(c).endpoint,                                                         \
		  "URL",                                                                 \
		  "API endpoint (default $SPOTENV_ENDPOINT, else the public one)",       \
		  0,                                                                     \
		  0 },                                                                   \
		{ CMD_OPT_STR,		 "profile", 0, &(c).profile, "NAME",             \
		  "credentials profile", 0,	    0 },                                 \
		{ CMD_OPT_INT, "parallelism",                                            \
		  0,	       &(c).parallelism,                                         \
		  "N",	       "API requests in flight per region (default 16)",         \
		  1,	       256 },                                                    \
		{ CMD_OPT_BOOL,		 "no-color", 0, &(c).no_color, NULL,             \
		  "never colour output", 0,	     0 },                                \
		{ CMD_OPT_COUNT, "quiet", 'q', &(c).quiet, NULL, "print less", 0, 0 },   \
		{ CMD_OPT_COUNT,                                                         \
		  "verbose",                                                             \
		  'v',                                                                   \
		  &(c).verbose,                                                          \
		  NULL,                                                                  \
		  "log API calls on stderr (secrets redacted)",                          \
		  0,                                                                     \
		  0 },                                                                   \
		CMD_OPT_LOG_FORMAT

/*
 * Load specs from paths (at least one: the dispatcher checks), printing
 * every error (FILE:LINE:COL: error: ...).  Checks that each --env names an
 * environment of the specs unless allow_unknown_env (with a "did you
 * mean").  nbad NULL: any error is fatal.  Otherwise the environments that
 * loaded go on (a warning says the others are skipped) and *nbad counts
 * the errors; fatal only when nothing loaded.  Returns 0 or an exit code.
 */
int cmd_load_specs(struct spec_set *out, const struct cmd_strlist *paths,
		   const struct cmd_common *c, bool allow_unknown_env, size_t *nbad);
/*
 * Warn, for each environment of p whose plan has errors, that it is
 * skipped, ending with then ("the others go on").
 */
void cmd_warn_skipped(const struct plan *p, const char *then);
/* The refusal of --prune while nbad errors kept specs out; an exit code. */
int cmd_refuse_prune(size_t nbad);

/* Credentials and a client, or an exit code (message printed). */
int cmd_open_client(struct tc_client **out, const struct cmd_common *c);

/*
 * Observe (live, or from c->observed when set), printing errors.
 * Returns 0 or an exit code.
 */
int cmd_observe(struct plan_observed *out, struct tc_client *client,
		const struct spec_set *specs, const struct cmd_common *c, bool offers);

/*
 * Observe (as cmd_observe, with offers) into obs and plan the specs into
 * *out (prune, max_release as plan_input; --env from c).  0 or an exit
 * code, the error printed.
 */
int cmd_observe_and_plan(struct plan **out, struct plan_observed *obs,
			 struct tc_client *client, const struct spec_set *specs,
			 const struct cmd_common *c, bool prune, int max_release);

/*
 * Bind p to where it is made (docs/plan-format.md, "Where a plan was
 * made"): the client's endpoint and the account's AppId, learned with
 * DescribeAccountQuota in the plan's first region.  client NULL (an
 * offline plan from --observed, without credentials): the endpoint as
 * configured.  When the account cannot be learned (not permitted, a
 * snapshot) it stays NULL and a note says so.  0 or an exit code.
 */
int cmd_plan_bind(struct plan *p, struct tc_client *client, const struct cmd_common *c);
/*
 * Refuse a saved plan made elsewhere: unbound, made against another
 * endpoint, or (when it names one) another account.  0 or an exit code,
 * the reason printed.  Asks the API for the account when the plan has one.
 */
int cmd_check_binding(const struct plan *p, struct tc_client *client);
/*
 * The AppId of client's account (DescribeAccountQuota in p's first region)
 * into *out (caller frees); an error (e filled, *out NULL) when it cannot
 * be learned.
 */
int cmd_learn_account(char **out, struct tc_client *client, const struct plan *p,
		      struct err *e);

/*
 * The spot quota of the zones of p's pools, before any launch (status,
 * plan --check): DescribeAccountQuota in each region of p into *q (cleared
 * first; clear it with apply_quota_clear).  Informational: when it fails
 * (not permitted, not answered) a warning says the quota is unknown, q is
 * left empty and false is returned; the caller goes on.
 */
bool cmd_spot_quota(struct apply_quota *q, struct tc_client *client,
		    const struct plan *p);
/* Whether zone is the zone of one of p's pools (only those quotas are shown). */
bool cmd_quota_zone_used(const struct plan *p, const char *zone);
/*
 * The quota table of p's pool zones into out, lead first:
 *	SPOT QUOTA (vCPU) / ZONE        USED REMAINING   TOTAL
 *	  ap-guangzhou-3                   6        44      50
 * ("?" for a count the API did not give).  Nothing when q is NULL or has
 * none of those zones; returns whether the table was written.
 */
bool cmd_quota_text(struct buf *out, const struct plan *p, const struct apply_quota *q,
		    const char *lead);

/*
 * Render p in format ("text", "json" or "markdown") into out, colouring
 * text when color; 0 or an exit code (message printed).
 */
int cmd_render_plan(struct buf *out, const struct plan *p, const char *format,
		    bool color);
/* Whether format is one cmd_render_plan() knows. */
bool cmd_format_valid(const char *format);

/* Read a whole file; 0 or an exit code (message printed). Caller frees. */
int cmd_read_file(const char *path, char **data, size_t *len);
/*
 * Write data to path atomically (temp file + rename); 0 or an exit code.
 * Refuses to replace anything but a regular file (a device, FIFO, socket
 * or directory at path, also through a symlink).  "-" is standard output.
 */
int cmd_write_file(const char *path, const char *data, size_t len);
/* The same with the file's mode (less the umask); cmd_write_file is 0644. */
int cmd_write_file_mode(const char *path, const char *data, size_t len, mode_t mode);

#endif
