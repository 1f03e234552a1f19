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
static bool detailed, check, prune, strict;
static int max_release = -1;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default), json or markdown",
	  0, 0, cmd_values_plan_format },
	{ CMD_OPT_STR, "out", 'o', &out_file, "FILE",
	  "save the plan (JSON) for 'spotenv apply FILE'", 0, 0 },
	{ CMD_OPT_BOOL, "detailed-exitcode", 0, &detailed, NULL,
	  "exit 2 when the plan has changes, 3 when short and nothing helps", 0, 0 },
	{ CMD_OPT_BOOL, "check", 0, &check, NULL,
	  "dry-run every launch (RunInstances DryRun), show the zones' spot quota", 0,
	  0 },
	{ CMD_OPT_BOOL, "prune", 0, &prune, NULL,
	  "release instances of environments no longer in the specs", 0, 0 },
	{ CMD_OPT_STR, "observed", 0, &c.observed, "FILE",
	  "plan against a snapshot from 'spotenv observe'", 0, 0 },
	{ CMD_OPT_INT, "max-release", 0, &max_release, "N",
	  "refuse plans releasing more than N per environment", 0, 1000000 },
	{ CMD_OPT_BOOL, "strict", 0, &strict, NULL,
	  "fail (exit 1) when any spec file or environment has errors", 0, 0 },
	CMD_COMMON_API_OPTS(c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_plan_syntax = {
	.usage =
		"plan PATH... [--format text|json|markdown] [-o FILE|-] [--detailed-exitcode]\n"
		"                    [--check] [--prune] [--strict] [--env NAME] [--observed FILE]\n"
		"                    [--max-release N]",
	.about =
		"Observe the instances spotenv owns, diff them against the specs and print\n"
		"the plan: '+' launch, '-' release, '~' replace, with a reason for each.\n"
		"Environments are independent: one whose spec file does not load or whose\n"
		"plan has errors (a guardrail, a bid below the market) is reported and\n"
		"skipped, the others are planned (--strict: exit 1 instead).  -o - writes\n"
		"the plan file to standard output (the plan shown goes to stderr).\n"
		"--check dry-runs every launch; the text plan then starts with the spot\n"
		"quota (vCPU used, remaining, total) of the pools' zones, as in status.\n"
		"Exit 0 on success, 3 when an environment was skipped or a --check dry run\n"
		"failed, 1 when nothing could be planned (credentials, network).  With\n"
		"--detailed-exitcode: 0 converged, 2 changes, 3 short with no change that\n"
		"would help (sold out, or skipped).",
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

/* Whether a --check dry run of a launch of p was refused. */
static bool check_failed(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		for (size_t k = 0; k < p->envs[i].nlaunches; k++)
			if (p->envs[i].launches[k].check &&
			    strcmp(p->envs[i].launches[k].check, "ok"))
				return true;
	return false;
}

/* Whether an environment of p is short with nothing planned that helps. */
static bool short_unhelped(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].status == PLAN_STATUS_SHORT && !p->envs[i].nlaunches)
			return true;
	return false;
}

/*
 * The exit code of a plan that was made: 3 when something was skipped (a
 * spec file that did not load, an environment in error) or a dry run was
 * refused; with --detailed-exitcode 2 for changes, 3 for an environment
 * short with nothing planned that would help, else 0.
 */
static int plan_exit(const struct plan *p, size_t nbad)
{
	if (nbad || plan_has_errors(p) || check_failed(p))
		return CMD_EXIT_SHORT;
	if (!detailed)
		return CMD_EXIT_OK;
	if (plan_has_changes(p))
		return CMD_EXIT_CHANGES;
	return short_unhelped(p) ? CMD_EXIT_SHORT : CMD_EXIT_OK;
}

int cmd_plan(const struct cmd_ctx *ctx)
{
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct plan *p = NULL;
	struct tc_client *client = NULL;
	struct buf out = BUF_INIT, doc = BUF_INIT;
	struct err e = ERR_INIT;
	struct apply_quota quota;
	bool to_stdout = out_file && !strcmp(out_file, "-");
	size_t nbad = 0;
	int ret;

	memset(&quota, 0, sizeof(quota));
	if (!cmd_format_valid(format)) {
		ret = cmd_usagef("plan",
				 "unknown format '%s' (expected text, json or markdown)",
				 format);
		goto done;
	}
	if ((ret = cmd_load_specs(&set, &ctx->args, &c, true, strict ? NULL : &nbad)) !=
	    0)
		goto done;
	if (prune && nbad) {
		ret = cmd_refuse_prune(nbad);
		goto done;
	}
	if ((!c.observed || check) && (ret = cmd_open_client(&client, &c)) != 0)
		goto done;
	if ((ret = cmd_observe_and_plan(&p, &obs, client, &set, &c, prune,
					max_release)) != 0)
		goto done;
	/*
	 * --check in text: the spot quota of the pools' zones first, as
	 * status shows it (unknown is a warning).  Never in the JSON
	 * document or the Markdown comment, whose formats are fixed, nor
	 * asked for when the text is not shown (-q -o -).
	 */
	if (check && !strcmp(format, "text") && !(to_stdout && c.quiet) &&
	    cmd_spot_quota(&quota, client, p) && cmd_quota_text(&out, p, &quota, ""))
		buf_putc(&out, '\n');
	if (check && apply_check_launches(p, APPLY_CLOUD_TC(client), &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	if ((ret = cmd_render_plan(
		     &out, p, format,
		     cmd_use_color(to_stdout ? stderr : stdout, c.no_color))) != 0)
		goto done;
	if (to_stdout) {
		if (!c.quiet)
			fwrite(out.ptr, 1, out.len, stderr);
	} else if ((ret = cmd_put_stdout(&out)) != 0) {
		goto done;
	}

	if (plan_has_errors(p) && strict) {
		ret = cmd_errorf("the plan has errors (--strict)%s",
				 out_file ? "; plan not saved" : "");
		goto done;
	}
	cmd_warn_skipped(p, "apply leaves it as it is");
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
		if (!c.quiet && !to_stdout)
			cmd_notef(
				"saved the plan to '%s'; run 'spotenv apply %s' to apply it",
				out_file, out_file);
	}
	ret = plan_exit(p, nbad);
done:
	plan_free(p);
	plan_observed_clear(&obs);
	spec_set_release(&set);
	tc_client_free(client);
	buf_release(&out);
	buf_release(&doc);
	err_clear(&e);
	apply_quota_clear(&quota);
	return ret;
}
