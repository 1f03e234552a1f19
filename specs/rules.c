/*
 * rules.c - the rule tables of a spec document, one per YAML mapping.
 *
 * Each table lists a mapping's keys with their type, whether they are
 * required, their bounds, enum values, patterns and a one-line
 * description.  The loader (schema.c, get.c) reads its key, required, type,
 * bound and enum checks from here, and jsonschema.c builds the JSON Schema
 * (docs/spotenv.schema.json) from the same tables, so a key added here is
 * both accepted and described.  Patterns are for the schema: they say in
 * ECMA-262 what the loader's own checks of the value amount to.
 * docs/spec-format.md is the prose version.
 */
#include "../util/setup.h"

#include "load_int.h"

#define SPEC_MAX_TAG_KEY 127
#define SPEC_MAX_TAG_VALUE 255
#define SPEC_MAX_INSTANCE_NAME 60
#define SPEC_MAX_INSTANCE_TYPE 64
#define SPEC_MIN_DISK_GB 20
#define SPEC_MAX_DISK_GB 1024
#define SPEC_MAX_BANDWIDTH 1000

#define NAME_PATTERN "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
#define REGION_PATTERN_BODY "[a-z][a-z0-9-]*-[a-z0-9-]*[a-z0-9]"
#define NO_CONTROL_PATTERN "^[^\\u0000-\\u001f\\u007f]*$"

const char *const spec_alloc_names[] = { "priority", "spread", "lowest-price",
					 "capacity-optimized" };
const size_t spec_nalloc_names = ARRAY_SIZE(spec_alloc_names);
_Static_assert(ARRAY_SIZE(spec_alloc_names) == SPEC_ALLOC_CAPACITY_OPTIMIZED + 1,
	       "one name per enum spec_alloc value, in its order");

const char *const spec_kind_names[] = { "SpotEnvironment", "SpotEnvironmentList" };
const size_t spec_nkind_names = ARRAY_SIZE(spec_kind_names);

static const char *const api_versions[] = { SPEC_API_VERSION };

static const char *const disk_types[] = {
	"LOCAL_BASIC",	 "LOCAL_SSD",  "CLOUD_BASIC", "CLOUD_SSD",
	"CLOUD_PREMIUM", "CLOUD_BSSD", "CLOUD_HSSD",  "CLOUD_TSSD",
};

#define MAP(var, nm, ttl, k, x)                                                          \
	const struct spec_map var = { .name = nm,                                        \
				      .title = ttl,                                      \
				      .keys = k,                                         \
				      .nkeys = ARRAY_SIZE(k),                            \
				      .allow_x = x }

/* ---- metadata ---- */

static const struct spec_key metadata_keys[] = {
	{ .name = "name",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The environment's name, unique across all files; lowercase letters, "
		  "digits and '-'",
	  .expect = "the environment's name",
	  .min = 1,
	  .max = SPEC_MAX_NAME,
	  .pattern = NAME_PATTERN },
	{ .name = "scope",
	  .type = SPEC_T_STR,
	  .desc = "The scope the environment's instances are tagged with (default "
		  "'default'); same rule as the name",
	  .min = 1,
	  .max = SPEC_MAX_NAME,
	  .pattern = NAME_PATTERN },
};
MAP(spec_map_metadata, "metadata", "The environment's name and scope", metadata_keys,
    false);

/* ---- spec.pools[] ---- */

static const struct spec_key pool_keys[] = {
	{ .name = "zone",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "A zone of the region: <region>-<number>, such as 'ap-guangzhou-3'",
	  .expect = "a zone such as 'ap-guangzhou-3'",
	  .pattern = "^" REGION_PATTERN_BODY "-[0-9]+$" },
	{ .name = "instanceType",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The instance type, such as 'S5.MEDIUM4'",
	  .expect = "an instance type such as 'S5.MEDIUM4'",
	  .max = SPEC_MAX_INSTANCE_TYPE,
	  .pattern = "^[A-Za-z0-9]+\\.[A-Za-z0-9]+$" },
	{ .name = "subnetId",
	  .type = SPEC_T_STR,
	  .desc = "The pool's subnet ('subnet-...'): required when network.vpcId is set, "
		  "not allowed without it",
	  .what = "a subnet id",
	  .prefix = "subnet-" },
	{ .name = "maxPrice",
	  .type = SPEC_T_PRICE,
	  .desc = "This pool's bid in CNY per instance-hour, such as \"0.55\" (default: "
		  "the environment's maxPrice)" },
};
MAP(spec_map_pool, "pool", "A pool: a zone and an instance type", pool_keys, false);

/* ---- spec.network, spec.login, spec.systemDisk, spec.update, spec.limits ---- */

static const struct spec_key sg_id = { .name = "securityGroupIds[]",
				       .type = SPEC_T_STR,
				       .desc = "A security group id",
				       .what = "a security group id",
				       .prefix = "sg-" };

static const struct spec_key network_keys[] = {
	{ .name = "vpcId",
	  .type = SPEC_T_STR,
	  .desc = "The VPC ('vpc-...'); every pool then needs a subnetId (default: the "
		  "default network)",
	  .what = "a VPC id",
	  .prefix = "vpc-" },
	{ .name = "securityGroupIds",
	  .type = SPEC_T_LIST,
	  .flags = SPEC_KEY_UNIQUE,
	  .desc = "Security groups ('sg-...'), each listed once (default: the project's)",
	  .item = &sg_id },
	{ .name = "publicIpBandwidthMbps",
	  .type = SPEC_T_INT,
	  .desc = "Public IP bandwidth in Mbps; 0 (the default) means no public IP",
	  .min = 0,
	  .max = SPEC_MAX_BANDWIDTH },
};
MAP(spec_map_network, "network", "Where instances are placed", network_keys, false);

static const struct spec_key key_id = { .name = "keyIds[]",
					.type = SPEC_T_STR,
					.desc = "A key id",
					.what = "a key id",
					.prefix = "skey-" };

static const struct spec_key login_keys[] = {
	{ .name = "keyIds",
	  .type = SPEC_T_LIST,
	  .flags = SPEC_KEY_UNIQUE,
	  .desc = "SSH keys ('skey-...'), each listed once; not together with "
		  "keepImageLogin: true",
	  .item = &key_id },
	{ .name = "keepImageLogin",
	  .type = SPEC_T_BOOL,
	  .desc = "Keep the image's own login settings (default false)" },
};
MAP(spec_map_login, "login", "How to log in to the instances", login_keys, false);

static const struct spec_key system_disk_keys[] = {
	{ .name = "type",
	  .type = SPEC_T_ENUM,
	  .desc = "The system disk type (default: the provider's)",
	  .choices = disk_types,
	  .nchoices = ARRAY_SIZE(disk_types) },
	{ .name = "sizeGb",
	  .type = SPEC_T_INT,
	  .desc = "The system disk size in GB (default: the provider's)",
	  .min = SPEC_MIN_DISK_GB,
	  .max = SPEC_MAX_DISK_GB },
};
MAP(spec_map_system_disk, "systemDisk", "The system disk", system_disk_keys, false);

static const struct spec_key update_keys[] = {
	{ .name = "maxSurge",
	  .type = SPEC_T_INT,
	  .desc = "Instances launched above capacity while replacing (default 1); not "
		  "both 0",
	  .min = 0,
	  .max = SPEC_MAX_CAPACITY },
	{ .name = "maxUnavailable",
	  .type = SPEC_T_INT,
	  .desc = "Instances released below capacity while replacing (default 0); not "
		  "both 0",
	  .min = 0,
	  .max = SPEC_MAX_CAPACITY },
};
MAP(spec_map_update, "update", "How drifted instances are replaced", update_keys, false);

static const struct spec_key limits_keys[] = {
	{ .name = "maxReleasePerApply",
	  .type = SPEC_T_INT,
	  .desc = "The most instances one apply may release (default: no limit)",
	  .min = 0,
	  .max = SPEC_MAX_CAPACITY },
	{ .name = "maxHourlyCost",
	  .type = SPEC_T_PRICE,
	  .desc = "The most the environment may cost in CNY per hour, such as \"5.00\" "
		  "(default: no limit)" },
};
MAP(spec_map_limits, "limits", "Guardrails for apply", limits_keys, false);

/* ---- spec ---- */

static const struct spec_key pool_item = { .name = "pools[]",
					   .type = SPEC_T_MAP,
					   .desc = "A pool: a zone and an instance type",
					   .map = &spec_map_pool };

/* Letters (any non-ASCII too), digits, space and + - = . _ : / @. */
static const struct spec_key tag_key = {
	.name = "tags{}",
	.type = SPEC_T_STR,
	.desc = "A tag key: letters, digits, spaces and + - = . _ : / @; not starting "
		"with qcloud, tencent, project or spotenv: in any case",
	.expect = "a tag key",
	.min = 1,
	.max = SPEC_MAX_TAG_KEY,
	.pattern = "^(?![Qq][Cc][Ll][Oo][Uu][Dd]|[Tt][Ee][Nn][Cc][Ee][Nn][Tt]"
		   "|[Pp][Rr][Oo][Jj][Ee][Cc][Tt]|[Ss][Pp][Oo][Tt][Ee][Nn][Vv]:)"
		   "(?:[A-Za-z0-9 +=._:/@-]|[^\\u0000-\\u007f])+$"
};

static const struct spec_key tag_value = { .name = "tags{}.value",
					   .type = SPEC_T_STR,
					   .flags = SPEC_KEY_SCALAR,
					   .desc = "A tag value (null is \"\")",
					   .expect = "a tag value",
					   .max = SPEC_MAX_TAG_VALUE,
					   .pattern = NO_CONTROL_PATTERN };

static const struct spec_key spec_keys[] = {
	{ .name = "region",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The region, such as 'ap-guangzhou'",
	  .expect = "a region such as 'ap-guangzhou'",
	  .pattern = "^" REGION_PATTERN_BODY "$" },
	{ .name = "capacity",
	  .type = SPEC_T_INT,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The number of instances wanted",
	  .expect = "the number of instances wanted, 0 to 10000",
	  .min = 0,
	  .max = SPEC_MAX_CAPACITY },
	{ .name = "maxPrice",
	  .type = SPEC_T_PRICE,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The highest bid in CNY per instance-hour, such as \"0.60\"; a "
		  "decimal string (a number is taken as written)",
	  .expect = "the highest bid in CNY per instance-hour, such as \"0.60\"" },
	{ .name = "image",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The image id, such as 'img-pmqg1cw7'",
	  .expect = "an image id such as 'img-pmqg1cw7'",
	  .what = "an image id",
	  .prefix = "img-" },
	{ .name = "pools",
	  .type = SPEC_T_LIST,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The pools to launch in, in priority order",
	  .expect = "a list of zone and instanceType pairs",
	  .min = 1,
	  .max = SPEC_MAX_POOLS,
	  .item = &pool_item },
	{ .name = "allocation",
	  .type = SPEC_T_ENUM,
	  .desc = "How instances are spread over the pools (default 'priority')",
	  .choices = spec_alloc_names,
	  .nchoices = ARRAY_SIZE(spec_alloc_names) },
	{ .name = "instanceName",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_SCALAR,
	  .desc = "The InstanceName prefix, without control characters",
	  .expect = "an instance name prefix",
	  .max = SPEC_MAX_INSTANCE_NAME,
	  .pattern = NO_CONTROL_PATTERN },
	{ .name = "tags",
	  .type = SPEC_T_DICT,
	  .desc = "Tags for the instances, key to value (spotenv adds 3 of its own)",
	  .max = SPEC_MAX_TAGS - SPEC_OWN_TAGS,
	  .item = &tag_value,
	  .dict_key = &tag_key },
	{ .name = "network",
	  .type = SPEC_T_MAP,
	  .desc = "Where instances are placed: VPC, security groups, public IP",
	  .map = &spec_map_network },
	{ .name = "login",
	  .type = SPEC_T_MAP,
	  .desc = "How to log in: SSH keys or the image's login",
	  .map = &spec_map_login },
	{ .name = "systemDisk",
	  .type = SPEC_T_MAP,
	  .desc = "The system disk's type and size",
	  .map = &spec_map_system_disk },
	{ .name = "userData",
	  .type = SPEC_T_STR,
	  .flags = SPEC_KEY_SCALAR,
	  .desc = "User data as plain text (a script or cloud-init config), at most "
		  "16384 bytes once base64-encoded",
	  .expect = "text (a script or cloud-init config)",
	  /* a bound on characters that the byte limit implies */
	  .max = SPEC_MAX_USERDATA_B64 / 4 * 3 },
	{ .name = "update",
	  .type = SPEC_T_MAP,
	  .desc = "How drifted instances are replaced",
	  .map = &spec_map_update },
	{ .name = "limits",
	  .type = SPEC_T_MAP,
	  .desc = "Guardrails for apply",
	  .map = &spec_map_limits },
};
MAP(spec_map_spec, "spec", "The environment's desired shape", spec_keys, false);

/* ---- documents and list items ---- */

#define KEY_API_VERSION(fl)                                                              \
	{                                                                                \
		.name = "apiVersion", .type = SPEC_T_ENUM, .flags = (fl),                \
		.desc = "The spec format's version", .expect = "'" SPEC_API_VERSION "'", \
		.choices = api_versions, .nchoices = ARRAY_SIZE(api_versions)            \
	}
#define KEY_METADATA                                                                     \
	{                                                                                \
		.name = "metadata", .type = SPEC_T_MAP, .flags = SPEC_KEY_REQUIRED,      \
		.desc = "The environment's name and scope",                              \
		.expect = "a mapping with the environment's name",                       \
		.map = &spec_map_metadata                                                \
	}
#define KEY_SPEC                                                                         \
	{                                                                                \
		.name = "spec", .type = SPEC_T_MAP, .flags = SPEC_KEY_REQUIRED,          \
		.desc = "The environment's desired shape",                               \
		.expect = "a mapping with region, capacity, maxPrice, image and pools",  \
		.map = &spec_map_spec                                                    \
	}

static const struct spec_key env_doc_keys[] = {
	KEY_API_VERSION(SPEC_KEY_REQUIRED),
	{ .name = "kind",
	  .type = SPEC_T_ENUM,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "One environment",
	  .expect = "'SpotEnvironment' or 'SpotEnvironmentList'",
	  .choices = &spec_kind_names[0],
	  .nchoices = 1 },
	KEY_METADATA,
	KEY_SPEC,
};
MAP(spec_map_env_doc, "SpotEnvironment", "One environment", env_doc_keys, true);

static const struct spec_key list_item_keys[] = {
	KEY_API_VERSION(SPEC_KEY_NOT_NULL),
	{ .name = "kind",
	  .type = SPEC_T_ENUM,
	  .flags = SPEC_KEY_NOT_NULL,
	  .desc = "One environment (may be left out)",
	  .expect = "'SpotEnvironment'",
	  .choices = &spec_kind_names[0],
	  .nchoices = 1 },
	KEY_METADATA,
	KEY_SPEC,
};
MAP(spec_map_list_item, "SpotEnvironmentListItem",
    "One environment of a list (apiVersion and kind may be left out)", list_item_keys,
    true);

static const struct spec_key list_item = { .name = "items[]",
					   .type = SPEC_T_MAP,
					   .desc = "One environment",
					   .map = &spec_map_list_item };

static const struct spec_key list_doc_keys[] = {
	KEY_API_VERSION(SPEC_KEY_REQUIRED),
	{ .name = "kind",
	  .type = SPEC_T_ENUM,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "A list of environments that can share YAML anchors",
	  .expect = "'SpotEnvironment' or 'SpotEnvironmentList'",
	  .choices = &spec_kind_names[1],
	  .nchoices = 1 },
	{ .name = "items",
	  .type = SPEC_T_LIST,
	  .flags = SPEC_KEY_REQUIRED,
	  .desc = "The environments",
	  .expect = "a list of environments",
	  .min = 1,
	  .item = &list_item },
};
MAP(spec_map_list_doc, "SpotEnvironmentList",
    "Environments in one document, so that they can share YAML anchors (keys "
    "starting with x- are ignored)",
    list_doc_keys, true);

const struct spec_key *spec_map_key(const struct spec_map *m, const char *name)
{
	for (size_t i = 0; i < m->nkeys; i++)
		if (!strcmp(m->keys[i].name, name))
			return &m->keys[i];
	assert(!"unknown key name");
	return NULL;
}
