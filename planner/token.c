/*
 * token.c - ClientToken derivations (the model is in token.h).
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "../util/hash.h"
#include "token.h"

/* prefix + the first 40 hex digits of SHA-256 of the len bytes at data. */
static void plan_token_make(char out[TC_MAX_CLIENT_TOKEN + 1], const char *prefix,
			    const void *data, size_t len)
{
	char hex[SHA256_HEX_LEN + 1];

	xsha256_hex(hex, data, len);
	snprintf(out, TC_MAX_CLIENT_TOKEN + 1, "%s%.40s", prefix, hex);
}

void plan_token_launch(char out[TC_MAX_CLIENT_TOKEN + 1], const char *env,
		       const char *scope, const char *seed, int pool, int chunk)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "spotenv-token-v1\n%s\n%s\n%s\n%d\n%d\n", env, scope, seed, pool,
		   chunk);
	plan_token_make(out, "se-", b.ptr, b.len);
	buf_release(&b);
}

void plan_token_fallback(char out[TC_MAX_CLIENT_TOKEN + 1], const char *token, int pool,
			 int hop)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/fallback/%d/%d", token, pool, hop);
	plan_token_make(out, "sf-", b.ptr, b.len);
	buf_release(&b);
}

void plan_token_relaunch(char out[TC_MAX_CLIENT_TOKEN + 1], const char *prev,
			 const char *id)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", prev, id);
	plan_token_make(out, "sr-", b.ptr, b.len);
	buf_release(&b);
}

void plan_token_partial(char out[TC_MAX_CLIENT_TOKEN + 1], const char *base, int step,
			int count)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/partial/%d/%d", base, step, count);
	plan_token_make(out, "sp-", b.ptr, b.len);
	buf_release(&b);
}
