/*
 * fuzz_specs_load.c - libFuzzer target for the spec loader.
 *
 * Feeds arbitrary bytes to spec_load_buffer and, when something loaded,
 * renders it as JSON, so the tree builder, the validator and the renderer
 * all see hostile input.  Crashes, leaks and sanitizer reports are bugs;
 * errors are expected.
 */
#include "../../util/setup.h"

#include <cjson/cJSON.h>

#include "../../specs/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec_set set = SPEC_SET_INIT;
	struct errlist errs = ERRLIST_INIT;
	int ret;

	ret = spec_load_buffer(&set, "fuzz.yaml", (const char *)data, size, &errs);
	/* the contract: errors iff the return says so, each located in the file */
	if ((ret == 0) != (errs.n == 0))
		abort();
	for (size_t i = 0; i < errs.n; i++)
		if (!errs.v[i].msg || !errs.v[i].file ||
		    strcmp(errs.v[i].file, "fuzz.yaml"))
			abort();
	for (size_t i = 1; i < set.nenvs; i++)
		if (strcmp(set.envs[i - 1].name, set.envs[i].name) >= 0)
			abort();
	if (set.nenvs) {
		cJSON *j = spec_set_to_json(&set);
		char *s = cJSON_PrintUnformatted(j);

		free(s);
		cJSON_Delete(j);
	}
	errlist_sort(&errs);
	errlist_clear(&errs);
	spec_set_release(&set);
	return 0;
}
