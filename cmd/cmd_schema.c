/*
 * cmd_schema.c - `spotenv schema [-o FILE]`: print the JSON Schema of specs.
 *
 * Why: editors validate and complete spec files against a JSON Schema
 * (`# yaml-language-server: $schema=...`).  The schema is generated from
 * the loader's own rule tables, so printing it from the binary gives the
 * one that matches this version of `spotenv validate`;
 * docs/spotenv.schema.json is this command's output.
 */
#include "../util/setup.h"

#include <cjson/cJSON.h>

#include "common.h"

static const char *out_file;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "out", 'o', &out_file, "FILE",
	  "write the schema to FILE instead of stdout", 0, 0 },
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_schema_syntax = {
	.usage = "schema [-o FILE]",
	.about =
		"Print the JSON Schema (draft 2020-12) of one spec document, for editors\n"
		"and other tools.  It is built from the rules 'spotenv validate' checks.",
	.opts = opts,
};

int cmd_schema(const struct cmd_ctx *ctx)
{
	struct buf out = BUF_INIT;
	cJSON *schema = NULL;
	int ret;

	if (ctx->args.n > 0) {
		ret = cmd_usagef("schema", "too many arguments");
		goto done;
	}
	schema = spec_json_schema();
	if (plan_json_write(&out, schema) < 0) {
		ret = cmd_errorf("out of memory while rendering JSON");
		goto done;
	}
	if (!out_file || !strcmp(out_file, "-"))
		ret = cmd_put_stdout(&out);
	else
		ret = cmd_write_file(out_file, out.ptr, out.len);
done:
	cJSON_Delete(schema);
	buf_release(&out);
	return ret;
}
