/*
 * apply_int.h - what the applier's files share and nobody else uses.
 */
#ifndef SPOTENV_APPLY_INT_H
#define SPOTENV_APPLY_INT_H

#include "../util/setup.h"
#include "apply.h"

#define APPLY_TAG_KEY_FILTER "tag-key"

/* Add a copy of s to the string array unless it is there already. */
void apply_strlist_add_unique(char ***v, size_t *n, size_t *alloc, const char *s);
/* Free n strings and the array; NULL is fine. */
void apply_strlist_free(char **v, size_t n);
/* The pool of env with spec index `index`, or NULL. */
const struct plan_pool *apply_env_pool(const struct plan_env *env, int index);
/*
 * Fill req for count instances of env's template in pool, with the given
 * ClientToken and bid (SpotOptions.MaxPrice, sent as written); every
 * pointer is borrowed.
 */
void apply_fill_request(struct tc_run_request *req, const struct plan_env *env,
			const struct plan_pool *pool, int count, const char *token,
			const char *bid, const struct tc_tag *tags, size_t ntags,
			bool dry_run);

/* Add a reason (printf-style) to an environment's result. */
void apply_env_reason(struct apply_env_result *r, const char *fmt, ...)
	SPOTENV_PRINTF(2, 3);

/* The zone's spot quota is used up (LimitExceeded.SpotQuota, ...). */
bool apply_quota_error(const struct err *e);
/*
 * A capacity error that a smaller count may get past: stock (a pool short
 * of it takes fewer) or quota (a zone near its limit takes what fits).  A
 * bid below market or a type not sold as spot does not split.
 */
bool apply_capacity_splits(const struct err *e);

#endif
