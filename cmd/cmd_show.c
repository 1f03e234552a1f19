/*
 * cmd_show.c - `spotenv show PLANFILE`: render a saved plan.
 *
 * Why: a plan saved in CI (plan -o) is reviewed later, in another format
 * (the Markdown comment), without credentials or network.
 */
#include "../util/setup.h"
#include "common.h"

static const char usage[] = "show PLANFILE [--format text|json|markdown] [--no-color]";
static const char about[] = "Render a plan saved with 'spotenv plan -o FILE'.";

int cmd_render_plan(struct buf *out, const struct plan *p, const char *format, bool color);
bool cmd_format_valid(const char *format);

int cmd_show(int argc, char **argv)
{
	const char *format = "text";
	bool no_color = false;
	const struct cmd_opt opts[] = {
		{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "text (default), json or markdown", 0, 0 },
		{ CMD_OPT_BOOL, "no-color", 0, &no_color, NULL, "never colour output", 0, 0 },
		{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
	};
	struct cmd_strlist args = { NULL, 0, 0 };
	struct plan *p = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char *data = NULL;
	size_t len = 0;
	int ret;

	ret = cmd_parse("show", usage, about, opts, argc, argv, &args);
	if (ret < 0) {
		ret = cmd_finish_stdout(CMD_EXIT_OK);
		goto done;
	}
	if (ret)
		goto done;
	if (args.n != 1) {
		ret = cmd_usagef("show", args.n ? "too many arguments" : "no plan file given");
		goto done;
	}
	if (!cmd_format_valid(format)) {
		ret = cmd_usagef("show", "unknown format '%s' (expected text, json or markdown)", format);
		goto done;
	}
	if ((ret = cmd_read_file(args.v[0], &data, &len)) != 0)
		goto done;
	if (plan_from_json(&p, data, len, &e) < 0) {
		ret = cmd_errorf("'%s' is not a spotenv plan: %s", args.v[0],
				 e.msg ? e.msg : "invalid");
		goto done;
	}
	if ((ret = cmd_render_plan(&out, p, format, cmd_use_color(stdout, no_color))) != 0)
		goto done;
	ret = cmd_finish_stdout(cmd_put_stdout(&out));
done:
	free(data);
	plan_free(p);
	buf_free(&out);
	err_clear(&e);
	cmd_strlist_free(&args);
	return ret;
}
