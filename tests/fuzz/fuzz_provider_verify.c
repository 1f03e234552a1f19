/*
 * fuzz_provider_verify.c - tc_verify, the emulator's check of untrusted
 * signature headers, on arbitrary requests.
 *
 * The input is a request in a small HTTP-like text form:
 *
 *	METHOD[ QUERY]\n
 *	Name: value\n          (any number of headers, as received)
 *	\n
 *	BODY                   (the rest, any bytes)
 *
 * The clock stands at the official example's timestamp and the keyring
 * holds the example's two credentials, so a mutated copy of a valid
 * request (the seeds in corpus/fuzz_provider_verify/) reaches every step:
 * the Authorization parser, the SignedHeaders walk, canonicalisation and
 * the signature compare.  Anything may be refused; nothing may crash,
 * leak or read out of bounds, a refusal always carries an auth error, and
 * the seeds themselves must verify.
 */
#include "../../util/setup.h"
#include "../../provider/tc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW 1551113065 /* 2019-02-25 16:44:25 UTC, tencent-api.md 1.2 */
#define FUZZ_MAX_HEADERS 64 /* more than the signer takes */

static const char *const fuzz_ids[] = {
	"AKID********************************",
	"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
};
static const char *const fuzz_keys[] = {
	"********************************",
	"Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
};

static const char *fuzz_lookup(void *ctx, const char *id)
{
	UNUSED(ctx);
	for (size_t i = 0; i < ARRAY_SIZE(fuzz_ids); i++)
		if (!strcmp(fuzz_ids[i], id))
			return fuzz_keys[i];
	return NULL;
}

/* Cut the next line off *p (bounded by end); NULL at the end of input. */
static char *fuzz_line(char **p, char *end)
{
	char *line = *p, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl)
		nl = end;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_header h[FUZZ_MAX_HEADERS];
	struct err e = ERR_INIT;
	char *copy = xmalloc(size + 1), *p = copy, *end = copy + size;
	char *method, *query = NULL, *line;
	const char *body = "";
	size_t nh = 0, body_len = 0;
	int error;

	memcpy(copy, data, size);
	copy[size] = '\0';
	if (!(method = fuzz_line(&p, end)))
		goto done;
	if ((query = strchr(method, ' ')) != NULL)
		*query++ = '\0';
	while ((line = fuzz_line(&p, end)) != NULL && *line) {
		char *colon = strchr(line, ':');

		if (!colon || nh == FUZZ_MAX_HEADERS)
			continue;
		*colon = '\0';
		h[nh].name = line;
		h[nh].value = colon + 1 + strspn(colon + 1, " ");
		nh++;
	}
	if (p < end) {
		body = p;
		body_len = (size_t)(end - p);
	}
	error = tc_verify(method, query, h, nh, body, body_len, "cvm", FUZZ_NOW,
			  fuzz_lookup, NULL, &e);
	if (error) {
		/* every refusal is an auth error the emulator can answer with */
		if (error != ERR_AUTH || !e.msg || !e.api_code || e.cls != ERR_CLASS_AUTH)
			abort();
	} else if (err_isset(&e)) {
		abort(); /* success leaves the err untouched */
	}
done:
	err_clear(&e);
	free(copy);
	return 0;
}
