/*
 * retry.h - one retry policy for every loop that tries again.
 *
 * spotenv tries again in five places: a provider call that failed in a way
 * that passes (throttling, InternalError, 5xx, the network), a launch or
 * release call that still failed after those retries, a launch moving to
 * the next pool on a capacity error, a relaunch for tokens that returned
 * long-gone instances, and the --until-converged loop.  Each sets a struct
 * retry where it is used, with a comment saying why those numbers; this
 * file only does the arithmetic.
 *
 *	struct retry r = { .attempts = 5, .base_ms = 200, .cap_ms = 5000,
 *			   .jitter = true };
 *	for (int n = 1;; n++) {
 *		if (try() == 0 || !retry_again(&r, n, now, &pause, &rng))
 *			break;
 *		sleep(pause);
 *	}
 */
#ifndef SPOTENV_RETRY_H
#define SPOTENV_RETRY_H

#include "setup.h"

struct retry {
	int attempts;	     /* tries in all, the first included; 0 = no limit */
	int64_t base_ms;     /* the pause after the first try */
	int64_t cap_ms;	     /* pauses double up to this (0 = base_ms: a fixed pause) */
	bool jitter;	     /* full jitter: uniform in [0, pause] */
	int64_t deadline_ms; /* no try starts after this clock time (0 = none) */
};

/*
 * The pause after `tries` tries: min(cap, base * 2^(tries-1)), or with
 * jitter a uniform draw in [0, that] from *rng (xorshift64*, jitter only,
 * never security; rng may be NULL without jitter).
 */
int64_t retry_pause_ms(const struct retry *r, int tries, uint64_t *rng);

/*
 * Whether another try may start after `tries` tries at clock time now_ms:
 * fewer than r->attempts tries so far, and the pause (stored in *pause_ms,
 * which may be NULL) ends by r->deadline_ms.
 */
bool retry_again(const struct retry *r, int tries, int64_t now_ms, int64_t *pause_ms,
		 uint64_t *rng);

/* Next value of a xorshift64* generator (state must not be 0). */
uint64_t retry_rand(uint64_t *state);

#endif
