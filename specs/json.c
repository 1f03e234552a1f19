/*
 * json.c - the normalized environments as JSON, for `validate --format
 * json`, golden tests and tooling.  The shape mirrors the YAML (metadata,
 * spec) so a reader of one can read the other.
 */
#include "../util/setup.h"

#include <cjson/cJSON.h>

#include "spec.h"

#define SPEC_JSON_FORMAT_VERSION "1"

static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddItemToObject(o, key, cJSON_CreateString(s));
	else
		cJSON_AddItemToObject(o, key, cJSON_CreateNull());
}

static void add_int(cJSON *o, const char *key, int v)
{
	cJSON_AddItemToObject(o, key, cJSON_CreateNumber(v));
}

static void add_strs(cJSON *o, const char *key, char *const *v, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
}

cJSON *spec_env_to_json(const struct spec_env *e)
{
	cJSON *o = cJSON_CreateObject(), *m, *s, *a, *x;

	m = cJSON_AddObjectToObject(o, "metadata");
	add_str(m, "name", e->name);
	add_str(m, "scope", e->scope);

	s = cJSON_AddObjectToObject(o, "spec");
	add_str(s, "region", e->region);
	add_int(s, "capacity", e->capacity);
	add_str(s, "maxPrice", e->max_price);
	add_str(s, "image", e->image);
	a = cJSON_AddArrayToObject(s, "pools");
	for (size_t i = 0; i < e->npools; i++) {
		const struct spec_pool *p = &e->pools[i];
		cJSON *po = cJSON_CreateObject();

		add_str(po, "zone", p->zone);
		add_str(po, "instanceType", p->instance_type);
		add_str(po, "subnetId", p->subnet_id);
		add_str(po, "maxPrice", p->max_price);
		add_str(po, "bid", spec_pool_bid(e, p));
		cJSON_AddItemToArray(a, po);
	}
	add_str(s, "allocation", spec_alloc_name(e->allocation));
	add_str(s, "instanceName", e->instance_name);
	x = cJSON_AddObjectToObject(s, "tags");
	for (size_t i = 0; i < e->ntags; i++)
		add_str(x, e->tags[i].key, e->tags[i].value);
	x = cJSON_AddObjectToObject(s, "network");
	add_str(x, "vpcId", e->network.vpc_id);
	add_strs(x, "securityGroupIds", e->network.security_group_ids,
		 e->network.nsecurity_groups);
	add_int(x, "publicIpBandwidthMbps", e->network.public_ip_bandwidth_mbps);
	x = cJSON_AddObjectToObject(s, "login");
	add_strs(x, "keyIds", e->login.key_ids, e->login.nkey_ids);
	cJSON_AddItemToObject(x, "keepImageLogin",
			      cJSON_CreateBool(e->login.keep_image_login));
	x = cJSON_AddObjectToObject(s, "systemDisk");
	add_str(x, "type", e->system_disk.type);
	if (e->system_disk.size_gb > 0)
		add_int(x, "sizeGb", e->system_disk.size_gb);
	else
		cJSON_AddItemToObject(x, "sizeGb", cJSON_CreateNull());
	add_str(s, "userData", e->user_data);
	x = cJSON_AddObjectToObject(s, "update");
	add_int(x, "maxSurge", e->update.max_surge);
	add_int(x, "maxUnavailable", e->update.max_unavailable);
	x = cJSON_AddObjectToObject(s, "limits");
	if (e->limits.max_release_per_apply >= 0)
		add_int(x, "maxReleasePerApply", e->limits.max_release_per_apply);
	else
		cJSON_AddItemToObject(x, "maxReleasePerApply", cJSON_CreateNull());
	add_str(x, "maxHourlyCost", e->limits.max_hourly_cost);

	x = cJSON_AddObjectToObject(o, "source");
	add_str(x, "file", e->loc.file);
	add_int(x, "line", e->loc.line);
	add_int(x, "column", e->loc.col);
	return o;
}

cJSON *spec_set_to_json(const struct spec_set *set)
{
	cJSON *o = cJSON_CreateObject(), *a;

	add_str(o, "format_version", SPEC_JSON_FORMAT_VERSION);
	add_strs(o, "files", set->files, set->nfiles);
	a = cJSON_AddArrayToObject(o, "environments");
	for (size_t i = 0; i < set->nenvs; i++)
		cJSON_AddItemToArray(a, spec_env_to_json(&set->envs[i]));
	return o;
}
