/*
 * cmd_observe.c - `spotenv observe PATH...`: capture observed state.
 *
 * Why: code review happens where there are no cloud credentials.  A
 * scheduled job captures a snapshot; `plan --observed FILE` diffs against
 * it offline and gives the same plan live observation would.
 */
#include "../util/setup.h"
#include "common.h"

static struct cmd_common c = CMD_COMMON_INIT;
static const char *out_file;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "out", 'o', &out_file, "FILE",
	  "write the snapshot to FILE instead of stdout", 0, 0 },
	CMD_COMMON_API_OPTS(c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_observe_syntax = {
	.usage = "observe PATH... [-o FILE] [--env NAME]",
	.about =
		"Describe the instances spotenv owns and the spot offers of the specs' pools,\n"
		"and print the snapshot (JSON, docs/observed-format.md) for 'plan --observed'.",
	.opts = opts,
	.needs_args = CMD_NO_SPECS("observe"),
};

int cmd_observe_cmd(const struct cmd_ctx *ctx)
{
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct tc_client *client = NULL;
	struct buf out = BUF_INIT;
	int ret;

	if ((ret = cmd_load_specs(&set, &ctx->args, &c, false, NULL)) != 0)
		goto done;
	if ((ret = cmd_open_client(&client, &c)) != 0)
		goto done;
	if ((ret = cmd_observe(&obs, client, &set, &c, true)) != 0)
		goto done;
	if (plan_observed_to_json(&out, &obs) < 0) {
		ret = cmd_errorf("snapshot too large");
		goto done;
	}
	if (!out_file || !strcmp(out_file, "-")) {
		ret = cmd_put_stdout(&out);
		goto done;
	}
	ret = cmd_write_file(out_file, out.ptr, out.len);
	if (!ret && !c.quiet)
		cmd_notef("observed %zu instance%s in %zu region%s; wrote '%s'",
			  obs.instances.n, obs.instances.n == 1 ? "" : "s", obs.nregions,
			  obs.nregions == 1 ? "" : "s", out_file);
done:
	plan_observed_clear(&obs);
	spec_set_release(&set);
	tc_client_free(client);
	buf_release(&out);
	return ret;
}
