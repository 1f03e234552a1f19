/*
 * jsonschema.c - the JSON Schema (draft 2020-12) of a spec document.
 *
 * Why: editors validate and complete YAML against a JSON Schema
 * (`# yaml-language-server: $schema=...`).  It is built from the rule
 * tables the loader itself reads (rules.c), so the keys, required keys,
 * types, bounds and enum values cannot drift from what `spotenv validate`
 * accepts.  What a schema cannot say (a zone in *the* region, subnets with
 * a VPC, duplicate pools or tag keys, keyIds with keepImageLogin, the
 * byte size of userData) is left to the loader.
 *
 * YAML files may hold several documents; the schema describes one.
 */
#include "../util/setup.h"

#include <cjson/cJSON.h>

#include "load_int.h"

#define SCHEMA_DIALECT "https://json-schema.org/draft/2020-12/schema"
#define SCHEMA_ID "https://spotenv.dev/schema/spotenv-v1.schema.json"
#define SCHEMA_MAX_MAPS 32

/*
 * A price as the loader reads it (util/decimal.c): digits with at most 9
 * of them before the point once leading zeros are dropped, at most 9
 * after it, not zero.
 */
#define PRICE_PATTERN "^(?=[0-9.]*[1-9])0*[0-9]{0,9}(\\.[0-9]{0,9})?$"

static void add_value_schema(cJSON *o, const struct spec_key *r);

/* "$ref": "#/$defs/NAME" of m, added to o. */
static void add_ref(cJSON *o, const struct spec_map *m)
{
	char *ref = xasprintf("#/$defs/%s", m->name);

	cJSON_AddStringToObject(o, "$ref", ref);
	free(ref);
}

/* {"$ref": "#/$defs/NAME"} */
static cJSON *map_ref(const struct spec_map *m)
{
	cJSON *o = cJSON_CreateObject();

	add_ref(o, m);
	return o;
}

/* "type": type */
static void add_type(cJSON *o, const char *type)
{
	cJSON_AddStringToObject(o, "type", type);
}

/*
 * Let o also accept null: an optional key written without a value counts
 * as not given.
 */
static void allow_null(cJSON *o)
{
	cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
	cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "enum");
	cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "const");
	cJSON *any = cJSON_GetObjectItemCaseSensitive(o, "anyOf");
	cJSON *ref = cJSON_DetachItemFromObjectCaseSensitive(o, "$ref");
	cJSON *null = cJSON_CreateObject();

	add_type(null, "null");
	if (ref) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddItemToObject(r, "$ref", ref);
		any = cJSON_AddArrayToObject(o, "anyOf");
		cJSON_AddItemToArray(any, r);
	}
	if (any) {
		cJSON_AddItemToArray(any, null);
		return;
	}
	cJSON_Delete(null);
	if (cJSON_IsString(t)) {
		cJSON *a = cJSON_CreateArray();

		cJSON_AddItemToArray(a, cJSON_CreateString(t->valuestring));
		cJSON_AddItemToArray(a, cJSON_CreateString("null"));
		cJSON_ReplaceItemInObjectCaseSensitive(o, "type", a);
	} else if (cJSON_IsArray(t)) {
		cJSON_AddItemToArray(t, cJSON_CreateString("null"));
	}
	if (k) {
		/* one value or null: an enum of two */
		e = cJSON_AddArrayToObject(o, "enum");
		cJSON_AddItemToArray(e,
				     cJSON_DetachItemFromObjectCaseSensitive(o, "const"));
		cJSON_AddItemToArray(e, cJSON_CreateNull());
	} else if (e) {
		cJSON_AddItemToArray(e, cJSON_CreateNull());
	}
}

static void add_string_schema(cJSON *o, const struct spec_key *r)
{
	char *pattern = NULL;

	if (r->flags & SPEC_KEY_SCALAR) {
		/* any scalar is read as its text */
		cJSON *a = cJSON_AddArrayToObject(o, "type");

		cJSON_AddItemToArray(a, cJSON_CreateString("string"));
		cJSON_AddItemToArray(a, cJSON_CreateString("number"));
		cJSON_AddItemToArray(a, cJSON_CreateString("boolean"));
	} else {
		add_type(o, "string");
	}
	if (r->min > 0)
		cJSON_AddNumberToObject(o, "minLength", (double)r->min);
	if (r->max > 0)
		cJSON_AddNumberToObject(o, "maxLength", (double)r->max);
	if (r->prefix)
		pattern = xasprintf("^%s[a-z0-9]{1,32}$", r->prefix);
	else if (r->pattern)
		pattern = xstrdup(r->pattern);
	if (pattern)
		cJSON_AddStringToObject(o, "pattern", pattern);
	free(pattern);
}

static void add_price_schema(cJSON *o)
{
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *s, *n;

	s = cJSON_CreateObject();
	add_type(s, "string");
	cJSON_AddStringToObject(s, "pattern", PRICE_PATTERN);
	cJSON_AddItemToArray(any, s);
	n = cJSON_CreateObject();
	add_type(n, "number");
	cJSON_AddNumberToObject(n, "exclusiveMinimum", 0);
	cJSON_AddItemToArray(any, n);
}

static void add_enum_schema(cJSON *o, const struct spec_key *r)
{
	add_type(o, "string");
	if (r->nchoices == 1) {
		cJSON_AddStringToObject(o, "const", r->choices[0]);
	} else {
		cJSON *a = cJSON_AddArrayToObject(o, "enum");

		for (size_t i = 0; i < r->nchoices; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(r->choices[i]));
	}
}

/* A list's or dict's entries: item's schema with its description. */
static cJSON *entry_schema(const struct spec_key *item)
{
	cJSON *o = cJSON_CreateObject();

	if (item->desc)
		cJSON_AddStringToObject(o, "description", item->desc);
	add_value_schema(o, item);
	return o;
}

/* What a value of rule r must be, added to o. */
static void add_value_schema(cJSON *o, const struct spec_key *r)
{
	cJSON *v;

	switch (r->type) {
	case SPEC_T_STR:
		add_string_schema(o, r);
		break;
	case SPEC_T_INT:
		add_type(o, "integer");
		cJSON_AddNumberToObject(o, "minimum", (double)r->min);
		cJSON_AddNumberToObject(o, "maximum", (double)r->max);
		break;
	case SPEC_T_BOOL:
		add_type(o, "boolean");
		break;
	case SPEC_T_PRICE:
		add_price_schema(o);
		break;
	case SPEC_T_ENUM:
		add_enum_schema(o, r);
		break;
	case SPEC_T_MAP:
		add_ref(o, r->map);
		break;
	case SPEC_T_LIST:
		add_type(o, "array");
		if (r->min > 0)
			cJSON_AddNumberToObject(o, "minItems", (double)r->min);
		if (r->max > 0)
			cJSON_AddNumberToObject(o, "maxItems", (double)r->max);
		if (r->flags & SPEC_KEY_UNIQUE)
			cJSON_AddTrueToObject(o, "uniqueItems");
		cJSON_AddItemToObject(o, "items", entry_schema(r->item));
		break;
	case SPEC_T_DICT:
		add_type(o, "object");
		if (r->min > 0)
			cJSON_AddNumberToObject(o, "minProperties", (double)r->min);
		if (r->max > 0)
			cJSON_AddNumberToObject(o, "maxProperties", (double)r->max);
		cJSON_AddItemToObject(o, "propertyNames", entry_schema(r->dict_key));
		v = entry_schema(r->item);
		allow_null(v);
		cJSON_AddItemToObject(o, "additionalProperties", v);
		break;
	}
}

/* One mapping: its keys, the required ones, nothing else (but "x-"). */
static cJSON *map_schema(const struct spec_map *m)
{
	cJSON *o = cJSON_CreateObject(), *props, *req = NULL;

	cJSON_AddStringToObject(o, "description", m->title);
	add_type(o, "object");
	props = cJSON_AddObjectToObject(o, "properties");
	for (size_t i = 0; i < m->nkeys; i++) {
		const struct spec_key *k = &m->keys[i];
		cJSON *p = cJSON_CreateObject();

		cJSON_AddStringToObject(p, "description", k->desc);
		add_value_schema(p, k);
		if (!(k->flags & (SPEC_KEY_REQUIRED | SPEC_KEY_NOT_NULL)))
			allow_null(p);
		cJSON_AddItemToObject(props, k->name, p);
		if (k->flags & SPEC_KEY_REQUIRED) {
			if (!req)
				req = cJSON_CreateArray();
			cJSON_AddItemToArray(req, cJSON_CreateString(k->name));
		}
	}
	if (req)
		cJSON_AddItemToObject(o, "required", req);
	if (m->allow_x) {
		cJSON *pp = cJSON_AddObjectToObject(o, "patternProperties"), *x;

		x = cJSON_AddObjectToObject(pp, "^x-");
		cJSON_AddStringToObject(x, "description",
					"Ignored: a place for YAML anchors to share");
	}
	cJSON_AddFalseToObject(o, "additionalProperties");
	return o;
}

struct map_set {
	const struct spec_map *v[SCHEMA_MAX_MAPS];
	size_t n;
};

/* Add m to s unless it is there. */
static void add_map(struct map_set *s, const struct spec_map *m)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == m)
			return;
	assert(s->n < ARRAY_SIZE(s->v));
	s->v[s->n++] = m;
}

/* The mappings a value of k holds, directly or in its entries. */
static void add_maps_of(struct map_set *s, const struct spec_key *k)
{
	if (k->map)
		add_map(s, k->map);
	if (k->item)
		add_maps_of(s, k->item);
	if (k->dict_key)
		add_maps_of(s, k->dict_key);
}

/* Every mapping reachable from those in s, breadth first, each once. */
static void add_reachable(struct map_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->v[i]->nkeys; j++)
			add_maps_of(s, &s->v[i]->keys[j]);
}

cJSON *spec_json_schema(void)
{
	static const struct spec_map *const docs[] = { &spec_map_env_doc,
						       &spec_map_list_doc };
	cJSON *o = cJSON_CreateObject(), *one, *defs;
	struct map_set maps = { { NULL }, 0 };

	cJSON_AddStringToObject(o, "$schema", SCHEMA_DIALECT);
	cJSON_AddStringToObject(o, "$id", SCHEMA_ID);
	cJSON_AddStringToObject(o, "title",
				"spotenv environment spec (" SPEC_API_VERSION ")");
	cJSON_AddStringToObject(
		o, "description",
		"One YAML document of a spotenv spec file: a SpotEnvironment or a "
		"SpotEnvironmentList (docs/spec-format.md).  Generated by "
		"'spotenv schema' from the rules 'spotenv validate' checks; "
		"validate also checks what a schema cannot say (zones in the region, "
		"subnets with a VPC, duplicates).");
	add_type(o, "object");
	one = cJSON_AddArrayToObject(o, "oneOf");
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		cJSON_AddItemToArray(one, map_ref(docs[i]));
		add_map(&maps, docs[i]);
	}
	add_reachable(&maps);
	defs = cJSON_AddObjectToObject(o, "$defs");
	for (size_t i = 0; i < maps.n; i++)
		cJSON_AddItemToObject(defs, maps.v[i]->name, map_schema(maps.v[i]));
	return o;
}
