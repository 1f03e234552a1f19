/*
 * ytree.h - YAML documents as node trees.
 *
 * The one YAML reader of spotenv: the spec loader (specs/) and the
 * emulator's world files (sim/config.c) both read through it, so both get
 * the same limits and the same error positions.
 *
 * libyaml's event parser drives a small tree builder that understands
 * anchors, aliases and `<<` merge keys (a mapping or a list of mappings;
 * explicit keys win, then earlier merges win over later ones).  Of tags it
 * understands the YAML core schema's (!!str, !!int, !!float, !!bool,
 * !!null, !!seq, !!map) and the non-specific `!`; any other tag is an
 * error where it is written, never silently dropped.  Aliases
 * are shared, not copied, so memory stays proportional to the input; the
 * number of nodes the document would have once every alias is expanded is
 * counted and capped at YTREE_MAX_NODES, so a "billion laughs" document
 * fails at once instead of exhausting time or memory.  Nesting is capped
 * at YTREE_MAX_DEPTH.
 *
 * Every node records where it starts (1-based line and column, as libyaml
 * counts characters).  A node reached through an alias or a merge reports
 * the place it was written, which is where a user would fix it.
 */
#ifndef SPOTENV_YTREE_H
#define SPOTENV_YTREE_H

#include "setup.h"
#include "err.h"

#define YTREE_MAX_NODES 1000000
#define YTREE_MAX_DEPTH 64

enum ynode_kind {
	YNODE_SCALAR = 0,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_kind kind;
	int line, col; /* 1-based */

	/* scalars */
	char *str;  /* NUL-terminated (may hold NULs inside: see len) */
	size_t len; /* bytes in str */
	bool plain; /* plain style without an explicit !!str tag */

	/* sequences: items; mappings: key, value, key, value, ... */
	struct ynode **kids;
	size_t nkids, alloc;

	size_t weight; /* nodes once aliases are expanded, saturating */
	bool open;     /* still being built (an alias to it would be a cycle) */
};

/*
 * Called once for each complete document whose root is not null.  The
 * tree is borrowed and freed when the callback returns.
 */
typedef void (*ytree_doc_fn)(void *arg, const struct ynode *root);

/*
 * Parse a YAML stream of len bytes (need not be NUL-terminated).  Problems
 * (syntax, unknown anchors, cycles, bad merges, limits) are appended to
 * errs located in `file`.  *ndocs counts the documents handed to fn.
 * Returns 0, ERR_TOOBIG when a limit (YTREE_MAX_NODES, YTREE_MAX_DEPTH)
 * stopped the reading, or ERR_INVALID when the stream could not be read to
 * its end for another reason.  The errors appended to errs are ERR_INVALID
 * either way; the return only tells callers which it was.
 */
int ytree_parse(const char *file, const char *data, size_t len, struct errlist *errs,
		ytree_doc_fn fn, void *arg, size_t *ndocs);

/* True for a null scalar: empty plain, ~, null, Null, NULL. */
bool ynode_is_null(const struct ynode *n);
/* Number of key/value pairs of a mapping. */
static inline size_t ynode_npairs(const struct ynode *n)
{
	return n->nkids / 2;
}
/* The value for key in a mapping (first match), or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

#endif
