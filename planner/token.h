/*
 * token.h - every ClientToken spotenv sends, derived in one place.
 *
 * The idempotency model.  RunInstances takes a ClientToken (at most 64
 * ASCII characters); the API remembers it for a while and answers a repeat
 * with the original launch's instance ids instead of launching again.
 * spotenv never makes tokens up at random: each one is a hash of what the
 * launch is for, so a retried call, a re-run after a crash, and two applies
 * of the same plan at once all send the same token and pay once.
 *
 *  - launch tokens ("se-") hash the environment, its scope, the basis the
 *    plan was made from (what was observed, never when), the pool and the
 *    chunk: plan_token_launch(), called by the planner;
 *  - fallback tokens ("sf-") hash a launch's token, the pool the remainder
 *    moves to and the hop, so a re-run falls back with the same tokens:
 *    plan_token_fallback(), called by the applier;
 *  - partial tokens ("sp-") hash the token a launch had when it reached a
 *    pool, the step and the count, when a pool could not take the whole
 *    count and the applier tries smaller ones (plan_token_partial);
 *  - relaunch tokens ("sr-") chain a token that returned long-gone
 *    instances (the world came back to an earlier basis) with those ids,
 *    so the relaunch is deterministic and differs each time the world comes
 *    back: plan_token_relaunch(), called by the applier.
 *
 * Every token is the prefix and 40 hex digits of SHA-256: 43 characters.
 * The derivations are pure (no clock, no randomness) and versioned by the
 * strings hashed; changing one changes every token of a running fleet.
 */
#ifndef SPOTENV_TOKEN_H
#define SPOTENV_TOKEN_H

#include "../util/setup.h"
#include "../provider/model.h"

#define PLAN_TOKEN_LEN 43 /* prefix + 40 hex digits */

/* The token of launch chunk `chunk` of pool index `pool`, from seed (the basis). */
void plan_token_launch(char out[TC_MAX_CLIENT_TOKEN + 1], const char *env,
		       const char *scope, const char *seed, int pool, int chunk);
/* The token of the hop-th fallback of token to pool index `pool`. */
void plan_token_fallback(char out[TC_MAX_CLIENT_TOKEN + 1], const char *token, int pool,
			 int hop);
/* The token of the step-th smaller try (count instances) of base in its pool. */
void plan_token_partial(char out[TC_MAX_CLIENT_TOKEN + 1], const char *base, int step,
			int count);
/*
 * Chain one more stale instance id into a relaunch token: out =
 * "sr-" + SHA-256(prev "/" id).  out may be prev (in-place chaining).
 */
void plan_token_relaunch(char out[TC_MAX_CLIENT_TOKEN + 1], const char *prev,
			 const char *id);

#endif
