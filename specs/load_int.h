/*
 * load_int.h - what the files of the spec loader share (private to specs/;
 * the API is spec.h).
 *
 *	load.c    the entry points: a buffer or paths into a spec_set
 *	paths.c   which files a list of paths names, and reading them
 *	schema.c  SpotEnvironment and SpotEnvironmentList documents: the
 *	          defaults and the rules across values
 *	rules.c   the rule tables: every mapping's keys, their types, bounds,
 *	          enums and descriptions (read by schema.c and jsonschema.c)
 *	get.c     typed getters over ytree nodes that report located errors
 *	jsonschema.c  the JSON Schema of a document, built from rules.c
 *
 * Every problem goes into ctx->errs with the file, line and column of the
 * node at fault and the key path (spec.pools[1].zone); the loader keeps
 * going after an error so that one run reports them all.
 */
#ifndef SPOTENV_SPECS_LOAD_INT_H
#define SPOTENV_SPECS_LOAD_INT_H

#include "../util/err.h"
#include "../util/setup.h"
#include "../util/ytree.h"
#include "spec.h"

#define SPEC_MAX_PATH 256 /* bytes of a key path, with its NUL */

/* A name seen in this load call, valid environment or not. */
struct spec_seen {
	char *name;
	struct spec_loc loc;
};

/* One load call (spec_load_buffer or spec_load_paths). */
struct spec_ctx {
	struct spec_set *set;
	struct errlist *errs;
	const char *file;    /* being read; borrowed from set->files */
	size_t nenvs_before; /* set->nenvs when the call began */
	struct spec_seen *seen;
	size_t nseen, alloc_seen;
};

/* ---- rules.c: the rule tables ---- */

/*
 * What a value must be.  The loader reads with the getter of the type
 * (get.c) and the JSON Schema (jsonschema.c) says the same in its terms.
 */
enum spec_type {
	SPEC_T_STR,   /* a scalar read as text: pattern, length (min..max) */
	SPEC_T_INT,   /* a whole number written as a number, min..max */
	SPEC_T_BOOL,  /* true or false */
	SPEC_T_PRICE, /* a decimal string or a number, > 0 */
	SPEC_T_ENUM,  /* one of choices (case-sensitive) */
	SPEC_T_MAP,   /* a mapping with the keys of map */
	SPEC_T_LIST,  /* a list (min..max entries; max 0 = any) of item */
	SPEC_T_DICT,  /* a mapping of free keys (dict_key) to values (item),
			 min..max pairs */
};

enum spec_key_flags {
	SPEC_KEY_REQUIRED = 1 << 0, /* missing or null is an error */
	SPEC_KEY_NOT_NULL = 1 << 1, /* optional, but null is an error */
	SPEC_KEY_UNIQUE = 1 << 2,   /* LIST: no entry twice */
	SPEC_KEY_SCALAR = 1 << 3,   /* STR: any scalar, read as its text */
};

struct spec_map;

/* One key of a mapping, or (item, dict_key) what a list or dict holds. */
struct spec_key {
	const char *name;
	enum spec_type type;
	unsigned flags;		    /* enum spec_key_flags */
	const char *desc;	    /* one line, for the schema */
	const char *expect;	    /* what the value should be, for errors */
	const char *what;	    /* ids: "an image id" */
	long min, max;		    /* INT: values; STR: characters; LIST, DICT: entries
				       (max 0: no limit) */
	const char *const *choices; /* ENUM */
	size_t nchoices;
	const char *prefix;		 /* STR ids: "img-" (then 1..32 of [a-z0-9]) */
	const char *pattern;		 /* STR: ECMA-262 regex the loader's check
					    amounts to (for the schema only) */
	const struct spec_map *map;	 /* MAP */
	const struct spec_key *item;	 /* LIST entries, DICT values */
	const struct spec_key *dict_key; /* DICT keys */
};

/* A YAML mapping: its keys, in the order the documentation gives them. */
struct spec_map {
	const char *name;  /* for the schema's $defs: "spec", "pool" */
	const char *title; /* one line */
	const struct spec_key *keys;
	size_t nkeys;
	bool allow_x; /* keys starting with "x-" are ignored */
};

/* The mappings of a document (rules.c). */
extern const struct spec_map spec_map_env_doc;	/* kind: SpotEnvironment */
extern const struct spec_map spec_map_list_doc; /* kind: SpotEnvironmentList */
extern const struct spec_map spec_map_list_item;
extern const struct spec_map spec_map_metadata;
extern const struct spec_map spec_map_spec;
extern const struct spec_map spec_map_pool;
extern const struct spec_map spec_map_network;
extern const struct spec_map spec_map_login;
extern const struct spec_map spec_map_system_disk;
extern const struct spec_map spec_map_update;
extern const struct spec_map spec_map_limits;

/* Enum values shared with the model: index i is enum spec_alloc i. */
extern const char *const spec_alloc_names[];
extern const size_t spec_nalloc_names;
extern const char *const spec_kind_names[]; /* SpotEnvironment, ...List */
extern const size_t spec_nkind_names;

/* The key called name in m (it must be there). */
const struct spec_key *spec_map_key(const struct spec_map *m, const char *name);

#define SPEC_MAX_KEYS 32 /* keys of the largest mapping */

/* A key of a mapping being read: name wanted, and what was found. */
struct spec_field {
	const char *name;
	const struct ynode *key, *val; /* borrowed from the tree; NULL: absent */
	const struct spec_key *rule;   /* the key's rule (rules.c) */
};

/* ---- get.c: located errors, key paths and typed getters ---- */

/* Append an ERR_INVALID error at node `at` (NULL: no position) and path. */
void spec_error(struct spec_ctx *c, const struct ynode *at, const char *path,
		const char *fmt, ...) SPOTENV_PRINTF(4, 5);

/*
 * Key paths: base.key and base[i] into buf, which holds SPEC_MAX_PATH
 * bytes (a longer path is cut short).  Both return buf.
 */
const char *spec_path_key(char *buf, const char *base, const char *key);
const char *spec_path_index(char *buf, const char *base, size_t i);

/* " (did you mean 'x'?)" into buf, or "" when nothing is close.  Returns buf. */
const char *spec_hint(char *buf, size_t size, const char *got, const char *const *cands,
		      size_t n);
/* A node for "got ..." in messages: 'text' (cut short), null, a list, ... */
const char *spec_describe(char *buf, size_t size, const struct ynode *n);

/* True when the field was given a value other than null. */
bool spec_present(const struct spec_field *f);
/*
 * Read the pairs of map into f[] (m->nkeys entries, one per key of m, in
 * m's order), reporting unknown and repeated keys.  False, after an
 * error, when map is not a mapping.
 */
bool spec_fields(struct spec_ctx *c, const struct ynode *map, const char *path,
		 const struct spec_map *m, struct spec_field *f);
/* The field called name in f[] (it must be there). */
struct spec_field *spec_field_find(struct spec_field *f, size_t nf, const char *name);
/* The first pair of map with rule's key into f, without reporting anything. */
void spec_field_peek(const struct ynode *map, const struct spec_key *rule,
		     struct spec_field *f);
/*
 * True when the field has a value.  Otherwise false, after an error at map
 * (missing) or at the key (null) when its rule says it needs one.
 */
bool spec_need(struct spec_ctx *c, const struct ynode *map, const char *path,
	       const struct spec_field *f);
/* Whether spec_need() would report f (without reporting it). */
bool spec_field_error(const struct spec_field *f);

/*
 * The getters report what they expected and what they got at the node,
 * and return NULL, false or -1 after doing so.  Strings they return are
 * borrowed from the tree (spec_get_scalar) or owned by the caller
 * (spec_get_price, spec_get_name, spec_get_id).
 */
const char *spec_get_scalar(struct spec_ctx *c, const struct ynode *n, const char *path,
			    const char *expect);
bool spec_get_int(struct spec_ctx *c, const struct ynode *n, const char *path, long min,
		  long max, int *out);
bool spec_get_bool(struct spec_ctx *c, const struct ynode *n, const char *path,
		   bool *out);
char *spec_get_price(struct spec_ctx *c, const struct ynode *n, const char *path);
int spec_get_enum(struct spec_ctx *c, const struct ynode *n, const char *path,
		  const char *const *choices, size_t nchoices);
char *spec_get_name(struct spec_ctx *c, const struct ynode *n, const char *path);
char *spec_get_id(struct spec_ctx *c, const struct ynode *n, const char *path,
		  const char *prefix, const char *what);
/* A list of ids into *out (caller-owned, even after an error). */
bool spec_get_id_list(struct spec_ctx *c, const struct ynode *n, const char *path,
		      const char *prefix, const char *what, char ***out, size_t *nout);

/*
 * The same getters with bounds, enum values, id prefixes and wording from
 * a rule of rules.c.
 */
bool spec_rule_int(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path, int *out);
int spec_rule_enum(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path);
char *spec_rule_id(struct spec_ctx *c, const struct spec_key *rule, const struct ynode *n,
		   const char *path);
bool spec_rule_id_list(struct spec_ctx *c, const struct spec_key *rule,
		       const struct ynode *n, const char *path, char ***out,
		       size_t *nout);
const char *spec_rule_scalar(struct spec_ctx *c, const struct spec_key *rule,
			     const struct ynode *n, const char *path);

/* Characters of s, counting a UTF-8 sequence once. */
size_t spec_utf8_chars(const char *s);
/* True when s holds a control character (below 0x20, or DEL). */
bool spec_has_control(const char *s);

/* ---- schema.c: the documents ---- */

/* One YAML document into c->set (a ytree_doc_fn; arg is the spec_ctx). */
void spec_load_doc(void *arg, const struct ynode *root);
/* Free what e holds and zero it.  NULL is fine. */
void spec_env_release(struct spec_env *e);

/* ---- paths.c: files and directories ---- */

struct spec_filelist {
	char **v; /* owned paths */
	size_t n, alloc;
};

#define SPEC_FILELIST_INIT                                                               \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

/*
 * The spec files that paths name, in order, into out: a file as given, a
 * directory as its *.yaml and *.yml files (recursively, sorted, hidden
 * entries skipped).  A file reached twice is listed once.  Problems go to
 * errs; returns ERR_NOTFOUND when a path does not exist (the others are
 * still listed), else 0.
 */
int spec_paths_collect(struct spec_filelist *out, const char *const *paths, size_t npaths,
		       struct errlist *errs);
void spec_filelist_release(struct spec_filelist *l);

/*
 * Read a whole file into *out (caller frees; NUL-terminated, *len bytes
 * before the NUL).  ERR_INVALID after an error in errs.  Only regular
 * files: a FIFO, socket or device is an error naming it, never a hang.
 */
int spec_read_file(char **out, size_t *len, const char *path, struct errlist *errs);

#endif
