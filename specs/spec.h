/*
 * spec.h - environment specs: the model, the YAML loader and validation.
 *
 * The loader reads files and directories (recursively, sorted, *.yaml and
 * *.yml), every document of each file, and turns `SpotEnvironment` and
 * `SpotEnvironmentList` documents into struct spec_env values with every
 * default filled in.  It reports *all* problems it finds, each with
 * file:line:column, the key path (spec.pools[1].zone) and what was expected.
 *
 * Prices are decimal strings, always: "0.60" stays "0.60".  Numbers given
 * in YAML are converted from their source text, never through a float.
 *
 * Ownership: a struct spec_set owns everything reachable from it; free it
 * with spec_set_release().
 */
#ifndef SPOTENV_SPEC_H
#define SPOTENV_SPEC_H

#include "../util/setup.h"
#include "../util/err.h"

#define SPEC_API_VERSION "spotenv/v1"
#define SPEC_MAX_CAPACITY 10000
#define SPEC_MAX_POOLS 20
#define SPEC_MAX_TAGS 50 /* per instance, including spotenv's own */
#define SPEC_OWN_TAGS 3	 /* spotenv:env, spotenv:scope, spotenv:template */
#define SPEC_MAX_USERDATA_B64 16384
#define SPEC_MAX_NAME 40

enum spec_alloc {
	SPEC_ALLOC_PRIORITY = 0,       /* fill pools in order (default) */
	SPEC_ALLOC_SPREAD,	       /* balance active instances across pools */
	SPEC_ALLOC_LOWEST_PRICE,       /* cheapest current spot price first */
	SPEC_ALLOC_CAPACITY_OPTIMIZED, /* most stock (StatusCategory) first, then price */
};

/* A place where something was written in a spec file. */
struct spec_loc {
	const char *file; /* borrowed from spec_set.files */
	int line, col;	  /* 1-based */
};

struct spec_pool {
	char *zone;	     /* ap-guangzhou-3 */
	char *instance_type; /* S5.MEDIUM4 */
	char *subnet_id;     /* NULL unless set */
	char *max_price;     /* per-pool bid; NULL = the environment's */
	struct spec_loc loc;
};

struct spec_tag {
	char *key;
	char *value;
};

struct spec_env {
	char *name;  /* metadata.name */
	char *scope; /* metadata.scope, default "default" */

	char *region;
	int capacity;	 /* 0..SPEC_MAX_CAPACITY */
	char *max_price; /* decimal string, > 0 */
	char *image;

	struct spec_pool *pools; /* 1..SPEC_MAX_POOLS, priority order */
	size_t npools;

	enum spec_alloc allocation;
	char *instance_name; /* InstanceName prefix; NULL = none */

	struct spec_tag *tags; /* user tags, sorted by key */
	size_t ntags;

	struct {
		char *vpc_id;		   /* NULL = default network */
		char **security_group_ids; /* may be empty */
		size_t nsecurity_groups;
		int public_ip_bandwidth_mbps; /* 0 = no public IP */
	} network;

	struct {
		char **key_ids; /* skey-... */
		size_t nkey_ids;
		bool keep_image_login;
	} login;

	struct {
		char *type;  /* CLOUD_PREMIUM, ...; NULL = provider default */
		int size_gb; /* 0 = provider default */
	} system_disk;

	char *user_data;     /* plain text; NULL = none */
	char *user_data_b64; /* base64 of user_data, as sent; NULL = none */

	struct {
		int max_surge;	     /* default 1 */
		int max_unavailable; /* default 0 */
	} update;

	struct {
		int max_release_per_apply; /* -1 = no limit (default) */
		char *max_hourly_cost;	   /* decimal string; NULL = no limit */
	} limits;

	struct spec_loc loc; /* where the environment starts */
};

struct spec_set {
	struct spec_env *envs; /* sorted by name */
	size_t nenvs;
	char **files; /* every file read, in order */
	size_t nfiles;
	size_t nenvs_alloc, nfiles_alloc;
};

#define SPEC_SET_INIT                                                                    \
	{                                                                                \
		0                                                                        \
	}

/*
 * Load every path (file or directory) into out.  Problems are appended to
 * errs (each located); returns 0 when there were none, ERR_INVALID when
 * the specs have errors, ERR_NOTFOUND when a path does not exist.  out
 * holds whatever was valid even on error; free it with spec_set_release().
 */
int spec_load_paths(struct spec_set *out, const char *const *paths, size_t npaths,
		    struct errlist *errs);
/* Load one YAML document stream from memory (name is used in errors). */
int spec_load_buffer(struct spec_set *out, const char *name, const char *data, size_t len,
		     struct errlist *errs);
void spec_set_release(struct spec_set *set);

/* Find an environment by name; NULL when absent.  Borrowed. */
const struct spec_env *spec_set_find(const struct spec_set *set, const char *name);

/* The bid for a pool: the pool's max_price or the environment's.  Borrowed. */
const char *spec_pool_bid(const struct spec_env *env, const struct spec_pool *pool);

const char *spec_alloc_name(enum spec_alloc a);

/*
 * The normalized environments as JSON (docs/spec-format.md describes the
 * shape): every default filled in, absent optional values as null, keys
 * in a fixed order.  The caller owns the result (cJSON_Delete).
 */
struct cJSON;
struct cJSON *spec_set_to_json(const struct spec_set *set);
/* One environment: {"metadata", "spec", "source"}.  Caller owns it. */
struct cJSON *spec_env_to_json(const struct spec_env *env);

/*
 * The JSON Schema (draft 2020-12) of one spec document, SpotEnvironment or
 * SpotEnvironmentList, built from the rule tables the loader checks
 * against (specs/rules.c), so it says what spec_load_*() accept about
 * keys, types, bounds and enum values.  `spotenv schema` prints it and
 * docs/spotenv.schema.json is its output.  The caller owns the result
 * (cJSON_Delete).
 */
struct cJSON *spec_json_schema(void);

#endif
