/*
 * fuzz_provider_parse.c - the API response parsers on arbitrary bytes.
 *
 * Runs tc_parse_response, then tc_parse_instances, tc_parse_offers and
 * tc_parse_spot_quota on whatever Response came out.  Anything may fail;
 * nothing may crash, leak or read out of bounds, and what comes out keeps
 * its documented invariants.
 */
#include "../../util/setup.h"
#include <cjson/cJSON.h>
#include "../../provider/tc.h"
#include "../../util/decimal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tc_instance_list il = { NULL, 0, 0 };
	struct tc_offer_list ol = { NULL, 0, 0 };
	struct tc_spot_quota_list ql = { NULL, 0, 0 };
	char *app_id = NULL;
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
			for (size_t i = 0; i < ol.n; i++) {
				/* a price is unknown (NULL) or a positive decimal */
				if (ol.v[i].price &&
				    (!dec_valid(ol.v[i].price) ||
				     !strpbrk(ol.v[i].price, "123456789")))
					abort();
				if (ol.v[i].status_category && !*ol.v[i].status_category)
					abort(); /* "" is unknown: NULL */
			}
		err_clear(&e);
		if (tc_parse_spot_quota(&ql, &app_id, resp, &e) == 0) {
			for (size_t i = 0; i < ql.n; i++) {
				const struct tc_spot_quota *q = &ql.v[i];

				if (!q->zone || !*q->zone || q->used < -1 ||
				    q->remaining < -1 || q->total < -1 ||
				    tc_spot_quota_find(&ql, q->zone) != q)
					abort(); /* zones are unique and named, counts >=
						    0 or -1 */
			}
			if (app_id &&
			    (!*app_id || strspn(app_id, "0123456789") != strlen(app_id)))
				abort(); /* AppId is decimal text */
		} else if (app_id || ql.n) {
			abort(); /* nothing comes out of a failure */
		}
		cJSON_Delete(resp);
	} else if (e.api_code) {
		(void)tc_classify(e.api_code, 200);
		(void)tc_err_class(e.api_code, 200);
	}
	err_clear(&e);
	tc_instance_list_clear(&il);
	tc_offer_list_clear(&ol);
	tc_spot_quota_list_clear(&ql);
	free(app_id);
	free(body);
	return 0;
}
