/*
 * cmd_show.c - `spotenv show PLANFILE`: render a saved plan.
 *
 * Why: a plan saved in CI (plan -o) is reviewed later, in another format
 * (the Markdown comment), without credentials or network.
 */
#include "../util/setup.h"
#include "common.h"

static const char *format = "text";
static bool no_color;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default), json or markdown",
	  0, 0, cmd_values_plan_format },
	{ CMD_OPT_BOOL, "no-color", 0, &no_color, NULL, "never colour output", 0, 0 },
	CMD_OPT_LOG_FORMAT,
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_show_syntax = {
	.usage = "show PLANFILE [--format text|json|markdown] [--no-color]",
	.about = "Render a plan saved with 'spotenv plan -o FILE'.",
	.opts = opts,
	.needs_args = "no plan file given",
};

int cmd_show(const struct cmd_ctx *ctx)
{
	const char *path = ctx->args.v[0];
	struct plan *p = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (ctx->args.n > 1) {
		ret = cmd_usagef("show", "too many arguments");
		goto done;
	}
	if (!cmd_format_valid(format)) {
		ret = cmd_usagef("show",
				 "unknown format '%s' (expected text, json or markdown)",
				 format);
		goto done;
	}
	if ((ret = cmd_read_file(path, &data, &len)) != 0)
		goto done;
	if (plan_from_json(&p, data, len, &e) < 0) {
		ret = cmd_errorf("'%s' is not a spotenv plan: %s", path,
				 e.msg ? e.msg : "invalid");
		goto done;
	}
	if ((ret = cmd_render_plan(&out, p, format, cmd_use_color(stdout, no_color))) ==
	    0)
		ret = cmd_put_stdout(&out);
done:
	free(data);
	plan_free(p);
	buf_release(&out);
	err_clear(&e);
	return ret;
}
