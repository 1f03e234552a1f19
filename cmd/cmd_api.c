/*
 * cmd_api.c - `spotenv api ACTION [JSON]`: one signed CVM call, raw.
 *
 * Why: an escape hatch like `tccli cvm ACTION`, to look at what the cloud
 * (or `spotenv sim`) really answers with exactly spotenv's signing,
 * credentials, endpoint and retries.  The emulator's tests use it to send
 * signed requests.  The Response object is printed as pretty JSON with
 * numbers exactly as received.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include "../provider/tc.h"
#include "../util/hash.h"
#include "cmd.h"

static const char *region, *endpoint, *profile;
static int verbose;

static const struct cmd_opt opts[] = {
	{ CMD_OPT_STR, "region", 'r', &region, "REGION",
	  "the region (X-TC-Region), e.g. ap-guangzhou", 0, 0 },
	{ CMD_OPT_STR, "endpoint", 0, &endpoint, "URL",
	  "API endpoint (http only for loopback)", 0, 0 },
	{ CMD_OPT_STR, "profile", 0, &profile, "NAME", "credentials profile", 0, 0 },
	{ CMD_OPT_COUNT, "verbose", 'v', &verbose, NULL,
	  "log each HTTP attempt on stderr", 0, 0 },
	CMD_OPT_LOG_FORMAT,
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_api_syntax = {
	.usage =
		"api ACTION [JSON] [--region REGION] [--endpoint URL] [--profile NAME] [-v]",
	.about =
		"Send one signed Tencent Cloud CVM API call (version 2017-03-12) and print\n"
		"its Response object as JSON.  JSON is the request body (default '{}';\n"
		"'-' reads it from stdin); it is sent byte for byte, except that a\n"
		"RunInstances without a ClientToken gets a random one (so a retry\n"
		"after a dropped connection cannot launch twice; -v shows it).  API errors are\n"
		"reported with their code and RequestId and exit 1.  -v logs each HTTP\n"
		"attempt on stderr (never secrets).  The endpoint defaults to\n"
		"$SPOTENV_ENDPOINT, then https://cvm.tencentcloudapi.com.",
	.opts = opts,
	.needs_args = "no action given, e.g. 'spotenv api DescribeInstances'",
};

static void api_log(void *ctx, const char *line)
{
	UNUSED(ctx);
	if (cmd_log_json())
		cmd_log_api_line(line); /* with its action, region, request id */
	else
		cmd_notef("%s", line);
}

/* Print numbers with the text they arrived with (see provider/parse.c). */
static void api_raw_numbers(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsNumber(j) && j->valuestring)
			j->type = cJSON_Raw;
		api_raw_numbers(j->child);
	}
}

static char *api_read_stdin(void)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	buf_init(&b, 10u << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (buf_put(&b, chunk, n))
			break;
	if (ferror(stdin) || n > 0) {
		buf_release(&b);
		return NULL;
	}
	if (!b.ptr)
		buf_puts(&b, "");
	return buf_detach(&b, NULL);
}

int cmd_api(const struct cmd_ctx *ctx)
{
	const struct cmd_strlist *args = &ctx->args;
	struct tc_cred cred;
	struct tc_client *client = NULL;
	struct tc_client_opts copts;
	struct tc_call call;
	struct err e = ERR_INIT;
	cJSON *check = NULL;
	char *body = NULL, *text = NULL;
	int ret = CMD_EXIT_OK;

	memset(&cred, 0, sizeof(cred));
	memset(&call, 0, sizeof(call));
	memset(&copts, 0, sizeof(copts));
	if (args->n > 2) {
		ret = cmd_usagef("api", "too many arguments");
		goto done;
	}
	if (args->n == 2 && !strcmp(args->v[1], "-")) {
		if (!(body = api_read_stdin())) {
			ret = cmd_errorf("cannot read the request body from stdin");
			goto done;
		}
	} else {
		body = xstrdup(args->n == 2 ? args->v[1] : "{}");
	}
	check = cJSON_Parse(body);
	if (!cJSON_IsObject(check)) {
		ret = cmd_usagef("api", "the request body is not a JSON object");
		goto done;
	}
	/* CVM actions are regional (all but DescribeRegions): say so before any call */
	if ((!region || !*region) && strcmp(args->v[0], "DescribeRegions")) {
		ret = cmd_usagef("api", "'%s' needs --region, e.g. --region ap-guangzhou",
				 args->v[0]);
		goto done;
	}

	if (!strcmp(args->v[0], "RunInstances") &&
	    !cJSON_GetObjectItemCaseSensitive(check, "ClientToken") &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(check, "DryRun"))) {
		/*
		 * The client retries a call whose answer was lost; without a
		 * ClientToken a launch that was committed would run twice.
		 */
		unsigned char rnd[16];
		char hex[33], token[40];

		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			ret = cmd_errorf("cannot make a ClientToken: no randomness");
			goto done;
		}
		hex_encode(hex, rnd, sizeof(rnd));
		snprintf(token, sizeof(token), "api-%s", hex);
		cJSON_AddStringToObject(check, "ClientToken", token);
		free(body);
		body = cJSON_PrintUnformatted(check);
		if (verbose)
			cmd_notef(
				"RunInstances without a ClientToken: added ClientToken %s, so a "
				"retried call cannot launch twice",
				token);
	}
	if (tc_cred_load(&cred, profile, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	copts.endpoint = endpoint;
	if (verbose) {
		copts.log = api_log;
		copts.log_ctx = NULL;
	}
	if (tc_client_new(&client, &cred, &copts, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	tc_cred_clear(&cred);

	call.action = args->v[0];
	call.region = region;
	call.body = body;
	if (tc_call_one(client, &call) < 0) {
		ret = cmd_error_err(&call.err);
		goto done;
	}
	api_raw_numbers(call.response);
	if (!(text = cJSON_Print(call.response))) {
		ret = cmd_errorf("cannot print the response");
		goto done;
	}
	printf("%s\n", text);
done:
	free(text);
	cJSON_Delete(call.response);
	err_clear(&call.err);
	cJSON_Delete(check);
	free(body);
	tc_client_free(client);
	tc_cred_clear(&cred);
	err_clear(&e);
	return ret;
}
