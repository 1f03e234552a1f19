/*
 * cmd_plan.c - `spotenv plan PATH...`: what apply would do, and why.
 *
 * Why: plan is what people read in code review and what cron jobs decide
 * on.  It observes (or reads a snapshot), diffs, and prints the plan as
 * text, JSON or a Markdown review comment; -o saves the JSON document that
 * `apply PLANFILE` executes after a stale check.
 */
#include "../util/setup.h"
#include "common.h"

static struct cmd_common c = CMD_COMMON_INIT;
static const char *format = "text", *out_file;
static bool detailed, check, prune;
static int max_release = -1;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default), json or markdown",
	  0, 0 },
	{ CMD_OPT_STR, "out", 'o', &out_file, "FILE",
	  "save the plan (JSON) for 'spotenv apply FILE'", 0, 0 },
	{ CMD_OPT_BOOL, "detailed-exitcode", 0, &detailed, NULL,
	  "exit 2 when the plan has changes", 0, 0 },
	{ CMD_OPT_BOOL, "check", 0, &check, NULL,
	  "dry-run every launch (RunInstances DryRun)", 0, 0 },
	{ CMD_OPT_BOOL, "prune", 0, &prune, NULL,
	  "release instances of environments no longer in the specs", 0, 0 },
	{ CMD_OPT_STR, "observed", 0, &c.observed, "FILE",
	  "plan against a snapshot from 'spotenv observe'", 0, 0 },
	{ CMD_OPT_INT, "max-release", 0, &max_release, "N",
	  "refuse plans releasing more than N per environment", 0, 1000000 },
	CMD_COMMON_API_OPTS(c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_plan_syntax = {
	.usage =
		"plan PATH... [--format text|json|markdown] [-o FILE] [--detailed-exitcode]\n"
		"                    [--check] [--prune] [--env NAME] [--observed FILE] [--max-release N]",
	.about =
		"Observe the instances spotenv owns, diff them against the specs and print\n"
		"the plan: '+' launch, '-' release, '~' replace, with a reason for each.\n"
		"Exit 0 on success (with --detailed-exitcode: 0 no changes, 2 changes),\n"
		"1 on errors, including a plan that trips a guardrail.",
	.opts = opts,
	.needs_args = CMD_NO_SPECS("plan"),
};

/*
 * Whether a launch template carries user data: bootstrap scripts often hold
 * secrets, so such a plan file is written 0600 (docs/plan-format.md).
 */
static bool has_user_data(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].template && p->envs[i].template->user_data_b64)
			return true;
	return false;
}

int cmd_plan(const struct cmd_ctx *ctx)
{
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct tc_client *client = NULL;
	struct buf out = BUF_INIT, doc = BUF_INIT;
	struct err e = ERR_INIT;
	int ret;

	if (!cmd_format_valid(format)) {
		ret = cmd_usagef("plan",
				 "unknown format '%s' (expected text, json or markdown)",
				 format);
		goto done;
	}
	if ((ret = cmd_load_specs(&set, &ctx->args, &c, true)) != 0)
		goto done;
	if ((!c.observed || check) && (ret = cmd_open_client(&client, &c)) != 0)
		goto done;
	if ((ret = cmd_observe_and_plan(&p, &obs, client, &set, &c, prune,
					max_release)) != 0)
		goto done;
	if (check && apply_check_launches(p, APPLY_CLOUD_TC(client), &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	if ((ret = cmd_render_plan(&out, p, format, cmd_use_color(stdout, c.no_color))) !=
	    0)
		goto done;
	if ((ret = cmd_put_stdout(&out)) != 0)
		goto done;

	if (plan_has_errors(p)) {
		ret = cmd_errorf("the plan has errors; fix them before applying%s",
				 out_file ? " (plan not saved)" : "");
		goto done;
	}
	if (out_file) {
		/* a saved plan says where it was made (apply refuses it elsewhere) */
		if ((ret = cmd_plan_bind(p, client, &c)) != 0)
			goto done;
		if (plan_to_json(&doc, p) < 0) {
			ret = cmd_errorf("plan too large to save");
			goto done;
		}
		if ((ret = cmd_write_file_mode(out_file, doc.ptr, doc.len,
					       has_user_data(p) ? 0600 : 0644)) != 0)
			goto done;
		if (!c.quiet)
			cmd_notef(
				"saved the plan to '%s'; run 'spotenv apply %s' to apply it",
				out_file, out_file);
	}
	ret = detailed && plan_has_changes(p) ? CMD_EXIT_CHANGES : CMD_EXIT_OK;
done:
	plan_free(p);
	plan_observed_clear(&obs);
	spec_set_release(&set);
	tc_client_free(client);
	buf_release(&out);
	buf_release(&doc);
	err_clear(&e);
	return ret;
}
