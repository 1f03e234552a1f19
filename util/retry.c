/*
 * retry.c - the retry policy's arithmetic (see retry.h).
 */
#include "setup.h"
#include "retry.h"

uint64_t retry_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int64_t retry_pause_ms(const struct retry *r, int tries, uint64_t *rng)
{
	int64_t cap = r->cap_ms > r->base_ms ? r->cap_ms : r->base_ms;
	int64_t pause = r->base_ms > 0 ? r->base_ms : 0;

	for (int i = 1; i < tries && pause < cap; i++)
		pause *= 2;
	if (pause > cap)
		pause = cap;
	if (r->jitter && rng && pause > 0)
		pause = (int64_t)(retry_rand(rng) % (uint64_t)(pause + 1));
	return pause;
}

bool retry_again(const struct retry *r, int tries, int64_t now_ms, int64_t *pause_ms,
		 uint64_t *rng)
{
	int64_t pause;

	if (r->attempts > 0 && tries >= r->attempts)
		return false;
	pause = retry_pause_ms(r, tries, rng);
	if (pause_ms)
		*pause_ms = pause;
	return !r->deadline_ms || now_ms + pause <= r->deadline_ms;
}
