/*
 * fuzz_sim_world.c - the emulator's YAML world file loader on arbitrary
 * bytes (seeded from tests/sim_data).  It reads through util/ytree, the
 * spec loader's reader, so this also fuzzes ytree with the emulator's
 * callback.
 *
 * Errors are expected and must be located in the input; a world that loads
 * must be usable (every pool in a known zone with a valid price).  Alias
 * bombs must stay cheap.  Crashes, leaks and sanitizer reports are bugs.
 */
#include "../../util/setup.h"
#include "../../util/decimal.h"
#include "../../sim/sim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim *s = xcalloc(1, sizeof(*s));
	struct err e = ERR_INIT;
	int ret;

	pthread_mutex_init(&s->mu, NULL);
	sim_faults_default(&s->faults);
	ret = sim_world_load_buffer(s, "fuzz.yaml", (const char *)data, size, &e);
	if ((ret == 0) != !err_isset(&e))
		abort();
	if (ret && (!e.msg || !e.file || strcmp(e.file, "fuzz.yaml")))
		abort();
	if (!ret) {
		for (size_t i = 0; i < s->npools; i++)
			if (s->pools[i].zone < 0 ||
			    (size_t)s->pools[i].zone >= s->nzones ||
			    !dec_valid(s->pools[i].price) || s->pools[i].cpu < 1)
				abort();
		cJSON_Delete(sim_faults_json(&s->faults));
	}
	err_clear(&e);
	sim_free(s);
	return 0;
}
