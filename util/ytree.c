/*
 * ytree.c - build node trees from libyaml events (see ytree.h).
 *
 * Why not libyaml's document API: it copies nothing for aliases either,
 * but it gives no hook to count the expanded size while loading and no
 * place to resolve merge keys, and we need both.
 */
#include "setup.h"

#include <yaml.h>

#include "ytree.h"

struct yanchor {
	char *name;
	struct ynode *node;
};

struct ybuild {
	const char *file;
	struct errlist *errs;

	struct ynode **all; /* every node of the current document (owned) */
	size_t nall, alloc_all;
	struct ynode **stack; /* open collections */
	size_t depth, alloc_stack;
	struct yanchor *anchors;
	size_t nanchors, alloc_anchors;
	struct ynode *root;

	size_t expanded; /* nodes of the document with aliases expanded */
	bool fatal;	 /* a limit was reached: stop reading this stream */
};

static void yerr(struct ybuild *b, int line, int col, const char *fmt, ...)
	SPOTENV_PRINTF(4, 5);

static void yerr(struct ybuild *b, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	errlist_add(b->errs, ERR_INVALID, b->file, line, col, NULL, "%s", msg);
	free(msg);
}

static int mark_line(yaml_mark_t m)
{
	return m.line >= INT_MAX ? INT_MAX : (int)m.line + 1;
}

static int mark_col(yaml_mark_t m)
{
	return m.column >= INT_MAX ? INT_MAX : (int)m.column + 1;
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

bool ynode_is_null(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || !n->plain)
		return false;
	return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->kind == YNODE_SCALAR && !strcmp(k->str, key))
			return map->kids[i + 1];
	}
	return NULL;
}

static struct ynode *ynode_new(struct ybuild *b, enum ynode_kind kind, yaml_mark_t m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = mark_line(m);
	n->col = mark_col(m);
	n->weight = 1;
	ALLOC_GROW(b->all, b->nall + 1, b->alloc_all);
	b->all[b->nall++] = n;
	return n;
}

static void ynode_push_kid(struct ynode *parent, struct ynode *kid)
{
	ALLOC_GROW(parent->kids, parent->nkids + 1, parent->alloc);
	parent->kids[parent->nkids++] = kid;
}

/* Free the current document's nodes and anchors. */
static void ybuild_reset_doc(struct ybuild *b)
{
	for (size_t i = 0; i < b->nall; i++) {
		free(b->all[i]->str);
		free(b->all[i]->kids);
		free(b->all[i]);
	}
	b->nall = 0;
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	b->nanchors = 0;
	b->depth = 0;
	b->root = NULL;
	b->expanded = 0;
}

static void ybuild_free(struct ybuild *b)
{
	ybuild_reset_doc(b);
	free(b->all);
	free(b->stack);
	free(b->anchors);
}

/* Count n more expanded nodes; false (with an error) past the limit. */
static bool ybuild_count(struct ybuild *b, size_t n, int line, int col)
{
	b->expanded = sat_add(b->expanded, n);
	if (b->expanded <= YTREE_MAX_NODES)
		return true;
	yerr(b, line, col,
	     "document expands to more than %d nodes through aliases "
	     "(a \"billion laughs\" document?)",
	     YTREE_MAX_NODES);
	b->fatal = true;
	return false;
}

static void ybuild_anchor(struct ybuild *b, const yaml_char_t *anchor, struct ynode *n)
{
	if (!anchor)
		return;
	ALLOC_GROW(b->anchors, b->nanchors + 1, b->alloc_anchors);
	b->anchors[b->nanchors].name = xstrdup((const char *)anchor);
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
}

/* The latest node defined with this anchor (redefinition is allowed). */
static struct ynode *ybuild_find_anchor(struct ybuild *b, const char *name)
{
	for (size_t i = b->nanchors; i > 0; i--)
		if (!strcmp(b->anchors[i - 1].name, name))
			return b->anchors[i - 1].node;
	return NULL;
}

/* Add n under the innermost open collection (or make it the root). */
static void ybuild_attach(struct ybuild *b, struct ynode *n)
{
	if (b->depth == 0) {
		if (!b->root)
			b->root = n;
		return;
	}
	ynode_push_kid(b->stack[b->depth - 1], n);
}

static bool ybuild_open(struct ybuild *b, struct ynode *n)
{
	if (b->depth >= YTREE_MAX_DEPTH) {
		yerr(b, n->line, n->col, "nesting is deeper than %d levels",
		     YTREE_MAX_DEPTH);
		b->fatal = true;
		return false;
	}
	n->open = true;
	ALLOC_GROW(b->stack, b->depth + 1, b->alloc_stack);
	b->stack[b->depth++] = n;
	return true;
}

static bool is_merge_key(const struct ynode *k)
{
	return k->kind == YNODE_SCALAR && k->plain && !strcmp(k->str, "<<");
}

static bool same_key(const struct ynode *a, const struct ynode *b)
{
	return a->kind == YNODE_SCALAR && b->kind == YNODE_SCALAR && a->len == b->len &&
	       !memcmp(a->str, b->str, a->len);
}

struct pairs {
	struct ynode **v;
	size_t n, alloc;
};

/*
 * The scalar keys of a pairs list, hashed, so that merging stays linear
 * even when big mappings are merged many times.  Slots hold a pair's key
 * index + 1; 0 is empty.
 */
struct keyset {
	size_t *slots;
	size_t cap, n; /* cap is a power of two */
};

static uint64_t key_hash(const struct ynode *k)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < k->len; i++) {
		h ^= (unsigned char)k->str[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot for key: where it is, or the empty slot where it would go. */
static size_t *keyset_slot(const struct keyset *ks, const struct pairs *p,
			   const struct ynode *key)
{
	size_t i = (size_t)key_hash(key) & (ks->cap - 1);

	while (ks->slots[i] && !same_key(p->v[ks->slots[i] - 1], key))
		i = (i + 1) & (ks->cap - 1);
	return &ks->slots[i];
}

static void keyset_grow(struct keyset *ks, const struct pairs *p)
{
	free(ks->slots);
	ks->cap = ks->cap ? ks->cap * 2 : 64;
	ks->slots = xcalloc(ks->cap, sizeof(*ks->slots));
	for (size_t i = 0; i < p->n; i += 2)
		if (p->v[i]->kind == YNODE_SCALAR)
			*keyset_slot(ks, p, p->v[i]) = i + 1;
}

static bool pairs_has(const struct keyset *ks, const struct pairs *p,
		      const struct ynode *key)
{
	return key->kind == YNODE_SCALAR && ks->cap && *keyset_slot(ks, p, key) != 0;
}

static void pairs_add(struct keyset *ks, struct pairs *p, struct ynode *k,
		      struct ynode *v)
{
	ALLOC_GROW(p->v, p->n + 2, p->alloc);
	p->v[p->n++] = k;
	p->v[p->n++] = v;
	if (k->kind != YNODE_SCALAR)
		return;
	if (++ks->n * 2 > ks->cap) {
		keyset_grow(ks, p); /* rehashes k too */
		return;
	}
	{
		size_t *slot = keyset_slot(ks, p, k);

		if (!*slot)
			*slot = p->n - 1;
	}
}

static const char *kind_name(const struct ynode *n)
{
	if (n->kind == YNODE_SEQ)
		return "a list";
	if (n->kind == YNODE_MAP)
		return "a mapping";
	return ynode_is_null(n) ? "null" : "a scalar";
}

/* Add src's pairs that out lacks; false when the expansion limit hit. */
static bool ybuild_merge_from(struct ybuild *b, struct keyset *ks, struct pairs *out,
			      const struct ynode *src, const struct ynode *at)
{
	for (size_t j = 0; j + 1 < src->nkids; j += 2) {
		/* looking costs too: a big mapping merged often is bounded */
		if (!ybuild_count(b, 1, at->line, at->col))
			return false;
		if (pairs_has(ks, out, src->kids[j]))
			continue;
		if (!ybuild_count(b,
				  sat_add(src->kids[j]->weight, src->kids[j + 1]->weight),
				  at->line, at->col))
			return false;
		pairs_add(ks, out, src->kids[j], src->kids[j + 1]);
	}
	return true;
}

/*
 * Resolve `<<` keys of a finished mapping: explicit keys first, then the
 * pairs of each merged mapping that are not there yet.
 */
static void ybuild_merge(struct ybuild *b, struct ynode *map)
{
	struct pairs out = { NULL, 0, 0 };
	struct keyset ks = { NULL, 0, 0 };
	bool any = false;

	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		any |= is_merge_key(map->kids[i]);
	if (!any)
		return;
	for (size_t i = 0; i + 1 < map->nkids; i += 2)
		if (!is_merge_key(map->kids[i]))
			pairs_add(&ks, &out, map->kids[i], map->kids[i + 1]);
	for (size_t i = 0; i + 1 < map->nkids && !b->fatal; i += 2) {
		const struct ynode *v = map->kids[i + 1];

		if (!is_merge_key(map->kids[i]))
			continue;
		if (v->kind == YNODE_MAP) {
			ybuild_merge_from(b, &ks, &out, v, v);
		} else if (v->kind == YNODE_SEQ) {
			for (size_t j = 0; j < v->nkids && !b->fatal; j++) {
				const struct ynode *m = v->kids[j];

				if (m->kind != YNODE_MAP)
					yerr(b, m->line, m->col,
					     "merge key '<<' expects a mapping or a list "
					     "of "
					     "mappings, got %s in the list",
					     kind_name(m));
				else
					ybuild_merge_from(b, &ks, &out, m, m);
			}
		} else {
			yerr(b, v->line, v->col,
			     "merge key '<<' expects a mapping or a list of mappings, "
			     "got %s",
			     kind_name(v));
		}
	}
	free(ks.slots);
	free(map->kids);
	map->kids = out.v;
	map->nkids = out.n;
	map->alloc = out.alloc;
}

/* Close the innermost collection: resolve merges, compute its weight. */
static void ybuild_close(struct ybuild *b)
{
	struct ynode *n;
	size_t w = 1;

	assert(b->depth > 0);
	n = b->stack[--b->depth];
	n->open = false;
	if (n->kind == YNODE_MAP)
		ybuild_merge(b, n);
	for (size_t i = 0; i < n->nkids; i++)
		w = sat_add(w, n->kids[i]->weight);
	n->weight = w;
}

/*
 * A tag spotenv understands: none, the non-specific "!", or one of the
 * YAML core schema's (!!str, !!int, !!float, !!bool, !!null, !!seq,
 * !!map).  Any other (`!foo`, `!!binary`, a full URI) would be read as if
 * it were not there, so it is an error where it is written.
 */
static void ybuild_tag(struct ybuild *b, const yaml_char_t *utag, yaml_mark_t m)
{
	static const char *const core[] = { "str",  "int", "float", "bool",
					    "null", "seq", "map" };
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *tag = (const char *)utag;

	if (!tag || !strcmp(tag, "!"))
		return;
	if (!strncmp(tag, prefix, sizeof(prefix) - 1)) {
		for (size_t i = 0; i < ARRAY_SIZE(core); i++)
			if (!strcmp(tag + sizeof(prefix) - 1, core[i]))
				return;
		yerr(b, mark_line(m), mark_col(m),
		     "unsupported YAML tag '!!%.64s' (only !!str, !!int, !!float, !!bool, !!null, "
		     "!!seq and !!map are understood)",
		     tag + sizeof(prefix) - 1);
		return;
	}
	yerr(b, mark_line(m), mark_col(m),
	     "unknown YAML tag '%.64s' (only !!str, !!int, !!float, !!bool, !!null, !!seq and "
	     "!!map are understood)",
	     tag);
}

static void ybuild_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	struct ynode *n = ynode_new(b, YNODE_SCALAR, ev->start_mark);
	const char *tag = (const char *)ev->data.scalar.tag;

	n->len = ev->data.scalar.length;
	n->str = xmalloc(n->len + 1);
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !(tag && (!strcmp(tag, YAML_STR_TAG) || !strcmp(tag, "!")));
	ybuild_tag(b, ev->data.scalar.tag, ev->start_mark);
	ybuild_anchor(b, ev->data.scalar.anchor, n);
	ybuild_attach(b, n);
	ybuild_count(b, 1, n->line, n->col);
}

static void ybuild_alias(struct ybuild *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ynode *target = ybuild_find_anchor(b, name);
	int line = mark_line(ev->start_mark), col = mark_col(ev->start_mark);

	if (!target) {
		yerr(b, line, col,
		     "unknown anchor '%s' (aliases must follow their anchor "
		     "in the same document)",
		     name);
	} else if (target->open) {
		yerr(b, line, col, "alias '*%s' refers to a node that contains it", name);
		target = NULL;
	} else if (!ybuild_count(b, target->weight, line, col)) {
		return;
	}
	if (!target) {
		/* a null placeholder keeps mappings in key/value pairs */
		struct ynode *n = ynode_new(b, YNODE_SCALAR, ev->start_mark);

		n->str = xstrdup("");
		n->plain = true;
		target = n;
	}
	ybuild_attach(b, target);
}

static void ybuild_collection(struct ybuild *b, const yaml_event_t *ev,
			      enum ynode_kind kind)
{
	struct ynode *n = ynode_new(b, kind, ev->start_mark);
	const yaml_char_t *anchor = kind == YNODE_MAP ? ev->data.mapping_start.anchor
						      : ev->data.sequence_start.anchor;

	ybuild_tag(b,
		   kind == YNODE_MAP ? ev->data.mapping_start.tag
				     : ev->data.sequence_start.tag,
		   ev->start_mark);
	ybuild_anchor(b, anchor, n);
	ybuild_attach(b, n);
	if (ybuild_count(b, 1, n->line, n->col))
		ybuild_open(b, n);
}

/* 1-based line and column of a byte offset, columns in characters. */
static void offset_pos(const char *data, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void ybuild_parse_error(struct ybuild *b, const yaml_parser_t *p, const char *data,
			       size_t len)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	int line, col;

	switch (p->error) {
	case YAML_READER_ERROR:
		offset_pos(data, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			yerr(b, line, col, "invalid YAML input: %s (#%X)", problem,
			     (unsigned)p->problem_value);
		else
			yerr(b, line, col, "invalid YAML input: %s", problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = mark_line(p->problem_mark);
		col = mark_col(p->problem_mark);
		if (p->context)
			yerr(b, line, col, "invalid YAML: %s (%s at line %d column %d)",
			     problem, p->context, mark_line(p->context_mark),
			     mark_col(p->context_mark));
		else
			yerr(b, line, col, "invalid YAML: %s", problem);
		break;
	default:
		yerr(b, 0, 0, "invalid YAML: %s", problem);
		break;
	}
}

int ytree_parse(const char *file, const char *data, size_t len, struct errlist *errs,
		ytree_doc_fn fn, void *arg, size_t *ndocs)
{
	struct ybuild b;
	yaml_parser_t p;
	yaml_event_t ev;
	int error = 0;
	bool done = false;

	memset(&b, 0, sizeof(b));
	b.file = file;
	b.errs = errs;
	*ndocs = 0;
	if (!yaml_parser_initialize(&p)) {
		yerr(&b, 0, 0, "cannot initialise the YAML parser");
		return ERR_GENERIC;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && !b.fatal) {
		if (!yaml_parser_parse(&p, &ev)) {
			ybuild_parse_error(&b, &p, data, len);
			error = ERR_INVALID;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			ybuild_reset_doc(&b);
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (b.root && !ynode_is_null(b.root)) {
				(*ndocs)++;
				fn(arg, b.root);
			}
			ybuild_reset_doc(&b);
			break;
		case YAML_SCALAR_EVENT:
			ybuild_scalar(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			ybuild_alias(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			ybuild_collection(&b, &ev, YNODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			ybuild_collection(&b, &ev, YNODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (b.depth > 0)
				ybuild_close(&b);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (b.fatal)
		error = ERR_TOOBIG;
	yaml_parser_delete(&p);
	ybuild_free(&b);
	return error;
}
