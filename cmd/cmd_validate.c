/*
 * cmd_validate.c - `spotenv validate PATH...`: check specs without the
 * network.
 *
 * Why a command of its own: specs live in git, and a check that needs no
 * credentials can run in every pull request and in an editor's save hook.
 * It reports every problem at once, each as FILE:LINE:COL so editors and
 * CI annotations can jump to it.
 */
#include "../util/setup.h"

#include <cjson/cJSON.h>

#include "../specs/spec.h"
#include "../planner/plan.h"
#include "cmd.h"

static const char *format = "text";
static bool quiet;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "format", 0, &format, "FORMAT", "output: text (default) or json",
	  0, 0, cmd_values_text_json },
	{ CMD_OPT_BOOL, "quiet", 'q', &quiet, NULL, "print nothing on success", 0, 0 },
	CMD_OPT_LOG_FORMAT,
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_validate_syntax = {
	.usage = "validate PATH... [--format text|json] [-q]",
	.about =
		"Check environment specs (files, or directories read recursively for *.yaml\n"
		"and *.yml) without contacting the cloud.  Every problem is printed as\n"
		"FILE:LINE:COL: error: KEY PATH: MESSAGE.  With --format json the normalized\n"
		"environments (defaults filled in) are printed on stdout.",
	.opts = opts,
	.needs_args = CMD_NO_SPECS("validate"),
};

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Distinct files named by errs (sorted, so equal names are adjacent). */
static size_t files_with_errors(const struct errlist *errs)
{
	size_t n = 0;

	for (size_t i = 0; i < errs->n; i++) {
		const char *f = errs->v[i].file ? errs->v[i].file : "";
		const char *prev =
			i ? (errs->v[i - 1].file ? errs->v[i - 1].file : "") : NULL;

		if (!prev || strcmp(prev, f))
			n++;
	}
	return n;
}

int cmd_validate(const struct cmd_ctx *ctx)
{
	struct spec_set set = SPEC_SET_INIT;
	struct errlist errs = ERRLIST_INIT;
	cJSON *json = NULL;
	char *text = NULL;
	int ret = CMD_EXIT_OK;

	if (strcmp(format, "text") && strcmp(format, "json")) {
		ret = cmd_usagef("validate",
				 "unknown format '%s' (expected 'text' or 'json')",
				 format);
		goto done;
	}
	spec_load_paths(&set, ctx->args.v, ctx->args.n, &errs);
	if (errs.n) {
		errlist_sort(&errs);
		for (size_t i = 0; i < errs.n; i++)
			cmd_error_err(&errs.v[i]);
		cmd_notef("%zu %s in %zu %s", errs.n, plural(errs.n, "error", "errors"),
			  files_with_errors(&errs),
			  plural(files_with_errors(&errs), "file", "files"));
		ret = CMD_EXIT_ERROR;
		goto done;
	}
	if (!strcmp(format, "json")) {
		struct buf doc = BUF_INIT;

		json = spec_set_to_json(&set);
		if (plan_json_write(&doc, json) < 0) {
			buf_release(&doc);
			ret = cmd_errorf("out of memory while rendering JSON");
			goto done;
		}
		fputs(buf_str(&doc), stdout);
		buf_release(&doc);
	} else if (!quiet) {
		printf("%zu %s in %zu %s %s valid\n", set.nenvs,
		       plural(set.nenvs, "environment", "environments"), set.nfiles,
		       plural(set.nfiles, "file", "files"),
		       set.nenvs == 1 ? "is" : "are");
	}
done:
	free(text);
	cJSON_Delete(json);
	errlist_clear(&errs);
	spec_set_release(&set);
	return ret;
}
