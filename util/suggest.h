/*
 * suggest.h - "did you mean": the closest of a few candidates to a typo.
 */
#ifndef SPOTENV_SUGGEST_H
#define SPOTENV_SUGGEST_H

#include "setup.h"

/*
 * The candidate closest to got (borrowed from cands), or NULL when none is
 * close enough: equal but for case and separators ('_', '-', ' '), or
 * within an edit distance of 1 (2 for candidates of 6 characters or more,
 * transpositions counting 1).
 */
const char *suggest_closest(const char *got, const char *const *cands, size_t n);

#endif
