/*
 * fuzz_provider_parse.c - the API response parsers on arbitrary bytes.
 *
 * Runs tc_parse_response, then tc_parse_instances and tc_parse_offers on
 * whatever Response came out.  Anything may fail; nothing may crash, leak
 * or read out of bounds.
 */
#include "../../util/setup.h"
#include <cjson/cJSON.h>
#include "../../provider/tc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_instance_list il = { NULL, 0, 0 };
	struct tc_offer_list ol = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	void *resp = NULL;
	int64_t total = 0;

	/* the body need not be NUL-terminated: copy into an exact-size buffer */
	char *body = xmalloc(size ? size : 1);

	if (size)
		memcpy(body, data, size);
	if (tc_parse_response(&resp, body, size, &e) == 0) {
		if (tc_parse_instances(&il, &total, resp, "ap-guangzhou", &e) == 0) {
			for (size_t i = 0; i < il.n; i++) {
				struct tc_instance copy;

				tc_instance_copy(&copy, &il.v[i]);
				(void)tc_instance_tag(&copy, "spotenv:env");
				tc_instance_clear(&copy);
			}
		}
		err_clear(&e);
		if (tc_parse_offers(&ol, resp, &e) == 0)
			for (size_t i = 0; i < ol.n; i++)
				if (ol.v[i].price && !*ol.v[i].price)
					abort(); /* a price is never an empty string */
		cJSON_Delete(resp);
	} else if (e.api_code) {
		(void)tc_classify(e.api_code, 200);
	}
	err_clear(&e);
	tc_instance_list_clear(&il);
	tc_offer_list_clear(&ol);
	free(body);
	return 0;
}
