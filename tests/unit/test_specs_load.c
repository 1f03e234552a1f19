/*
 * Unit tests for the spec loader: valid specs with every default, and
 * invalid ones, each checking the exact line, column, key path and
 * message of the error.
 */
#include "../../util/setup.h"

#include <setjmp.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <time.h>

#include "../../specs/spec.h"
#include "../../util/buf.h"

/* Lines 1-5 */
#define HEAD                                                                             \
	"apiVersion: spotenv/v1\n"                                                       \
	"kind: SpotEnvironment\n"                                                        \
	"metadata:\n"                                                                    \
	"  name: web\n"                                                                  \
	"spec:\n"
/* Lines 6-12 */
#define BASE                                                                             \
	"  region: ap-guangzhou\n"                                                       \
	"  capacity: 2\n"                                                                \
	"  maxPrice: \"0.60\"\n"                                                         \
	"  image: img-pmqg1cw7\n"                                                        \
	"  pools:\n"                                                                     \
	"    - zone: ap-guangzhou-3\n"                                                   \
	"      instanceType: S5.MEDIUM4\n"
/* extras start on line 13 */

struct fx {
	struct spec_set set;
	struct errlist errs;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	spec_set_release(&f->set);
	errlist_clear(&f->errs);
	free(f);
	return 0;
}

static int load_named(struct fx *f, const char *name, const char *yaml)
{
	return spec_load_buffer(&f->set, name, yaml, strlen(yaml), &f->errs);
}

static int load(struct fx *f, const char *yaml)
{
	return load_named(f, "t.yaml", yaml);
}

/* Print the errors, to make a failing assertion readable. */
static void dump(const struct fx *f)
{
	for (size_t i = 0; i < f->errs.n; i++)
		print_message("  err %zu: %s:%d:%d: %s: %s\n", i,
			      f->errs.v[i].file ? f->errs.v[i].file : "-",
			      f->errs.v[i].line, f->errs.v[i].col,
			      f->errs.v[i].path ? f->errs.v[i].path : "-",
			      f->errs.v[i].msg);
}

/* Exactly one error, at line:col with path (NULL: none) and msg in it. */
static void expect_one(struct fx *f, int line, int col, const char *path, const char *msg)
{
	const struct err *e;

	if (f->errs.n != 1)
		dump(f);
	assert_int_equal(f->errs.n, 1);
	e = &f->errs.v[0];
	if (e->line != line || e->col != col || !strstr(e->msg, msg))
		dump(f);
	assert_int_equal(e->code, ERR_INVALID);
	assert_int_equal(e->line, line);
	assert_int_equal(e->col, col);
	if (path)
		assert_string_equal(e->path, path);
	else
		assert_null(e->path);
	assert_non_null(strstr(e->msg, msg));
}

/* Error i (after sorting) is at line:col with path and msg. */
static void expect_at(struct fx *f, size_t i, int line, int col, const char *path,
		      const char *msg)
{
	const struct err *e;

	errlist_sort(&f->errs);
	if (i >= f->errs.n)
		dump(f);
	assert_true(i < f->errs.n);
	e = &f->errs.v[i];
	if (e->line != line || e->col != col || !strstr(e->msg, msg))
		dump(f);
	assert_int_equal(e->line, line);
	assert_int_equal(e->col, col);
	if (path)
		assert_string_equal(e->path, path);
	else
		assert_null(e->path);
	assert_non_null(strstr(e->msg, msg));
}

static void expect_ok(struct fx *f, int ret)
{
	if (ret)
		dump(f);
	assert_int_equal(ret, 0);
	assert_int_equal(f->errs.n, 0);
}

/* ---- valid specs ---- */

static void test_minimal_defaults(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(f, load(f, HEAD BASE));
	assert_int_equal(f->set.nenvs, 1);
	assert_int_equal(f->set.nfiles, 1);
	e = &f->set.envs[0];
	assert_string_equal(e->name, "web");
	assert_string_equal(e->scope, "default");
	assert_string_equal(e->region, "ap-guangzhou");
	assert_int_equal(e->capacity, 2);
	assert_string_equal(e->max_price, "0.60");
	assert_string_equal(e->image, "img-pmqg1cw7");
	assert_int_equal(e->npools, 1);
	assert_string_equal(e->pools[0].zone, "ap-guangzhou-3");
	assert_string_equal(e->pools[0].instance_type, "S5.MEDIUM4");
	assert_null(e->pools[0].subnet_id);
	assert_null(e->pools[0].max_price);
	assert_int_equal(e->pools[0].loc.line, 11);
	assert_int_equal(e->pools[0].loc.col, 7);
	assert_int_equal(e->allocation, SPEC_ALLOC_PRIORITY);
	assert_null(e->instance_name);
	assert_int_equal(e->ntags, 0);
	assert_null(e->network.vpc_id);
	assert_int_equal(e->network.public_ip_bandwidth_mbps, 0);
	assert_int_equal(e->login.nkey_ids, 0);
	assert_false(e->login.keep_image_login);
	assert_null(e->system_disk.type);
	assert_int_equal(e->system_disk.size_gb, 0);
	assert_null(e->user_data);
	assert_null(e->user_data_b64);
	assert_int_equal(e->update.max_surge, 1);
	assert_int_equal(e->update.max_unavailable, 0);
	assert_int_equal(e->limits.max_release_per_apply, -1);
	assert_null(e->limits.max_hourly_cost);
	assert_string_equal(e->loc.file, "t.yaml");
	assert_int_equal(e->loc.line, 1);
	assert_int_equal(e->loc.col, 1);
}

static void test_full_spec_with_vpc(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(f,
		  load(f, HEAD
		       "  region: ap-guangzhou\n"
		       "  capacity: 4\n"
		       "  maxPrice: \"0.60\"\n"
		       "  image: img-pmqg1cw7\n"
		       "  pools:\n"
		       "    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, subnetId: "
		       "subnet-aaaa}\n"
		       "    - zone: ap-guangzhou-4\n"
		       "      instanceType: SA2.MEDIUM4\n"
		       "      subnetId: subnet-bbbb\n"
		       "      maxPrice: \"0.45\"\n"
		       "  allocation: lowest-price\n"
		       "  instanceName: web\n"
		       "  tags: {zeta: last, alpha: first, \"cost center\": \"42\"}\n"
		       "  network: {vpcId: vpc-aaaa, securityGroupIds: [sg-1, sg-2], "
		       "publicIpBandwidthMbps: 10}\n"
		       "  login: {keyIds: [skey-abcd]}\n"
		       "  systemDisk: {type: CLOUD_SSD, sizeGb: 100}\n"
		       "  userData: |\n"
		       "    #!/bin/sh\n"
		       "    echo hi\n"
		       "  update: {maxSurge: 0, maxUnavailable: 2}\n"
		       "  limits: {maxReleasePerApply: 5, maxHourlyCost: \"5.00\"}\n"));
	e = &f->set.envs[0];
	assert_int_equal(e->npools, 2);
	assert_string_equal(e->pools[0].subnet_id, "subnet-aaaa");
	assert_string_equal(e->pools[1].max_price, "0.45");
	assert_string_equal(spec_pool_bid(e, &e->pools[0]), "0.60");
	assert_string_equal(spec_pool_bid(e, &e->pools[1]), "0.45");
	assert_int_equal(e->allocation, SPEC_ALLOC_LOWEST_PRICE);
	assert_string_equal(e->instance_name, "web");
	assert_int_equal(e->ntags, 3);
	assert_string_equal(e->tags[0].key, "alpha");
	assert_string_equal(e->tags[1].key, "cost center");
	assert_string_equal(e->tags[1].value, "42");
	assert_string_equal(e->tags[2].key, "zeta");
	assert_string_equal(e->network.vpc_id, "vpc-aaaa");
	assert_int_equal(e->network.nsecurity_groups, 2);
	assert_string_equal(e->network.security_group_ids[1], "sg-2");
	assert_int_equal(e->network.public_ip_bandwidth_mbps, 10);
	assert_int_equal(e->login.nkey_ids, 1);
	assert_string_equal(e->login.key_ids[0], "skey-abcd");
	assert_string_equal(e->system_disk.type, "CLOUD_SSD");
	assert_int_equal(e->system_disk.size_gb, 100);
	assert_string_equal(e->user_data, "#!/bin/sh\necho hi\n");
	assert_string_equal(e->user_data_b64, "IyEvYmluL3NoCmVjaG8gaGkK");
	assert_int_equal(e->update.max_surge, 0);
	assert_int_equal(e->update.max_unavailable, 2);
	assert_int_equal(e->limits.max_release_per_apply, 5);
	assert_string_equal(e->limits.max_hourly_cost, "5.00");
}

static void test_number_prices_exact(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(
		f,
		load(f, HEAD
		     "  region: ap-guangzhou\n"
		     "  capacity: 2\n"
		     "  maxPrice: 0.6\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools:\n"
		     "    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4, maxPrice: 0.60}\n"
		     "    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4, maxPrice: .5}\n"
		     "    - {zone: ap-guangzhou-6, instanceType: S5.MEDIUM4, maxPrice: 1}\n"
		     "    - {zone: ap-guangzhou-7, instanceType: S5.MEDIUM4, maxPrice: "
		     "0.123456789}\n"
		     "  limits: {maxHourlyCost: 12.10}\n"));
	e = &f->set.envs[0];
	assert_string_equal(e->max_price, "0.6");
	assert_string_equal(e->pools[0].max_price, "0.60");
	assert_string_equal(e->pools[1].max_price, "0.5");
	assert_string_equal(e->pools[2].max_price, "1");
	assert_string_equal(e->pools[3].max_price, "0.123456789");
	assert_string_equal(e->limits.max_hourly_cost, "12.10");
}

static void test_string_price_kept(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load(f, HEAD "  region: ap-guangzhou\n"
				  "  capacity: 2\n"
				  "  maxPrice: \"00.50\"\n"
				  "  image: img-pmqg1cw7\n"
				  "  pools: [{zone: ap-guangzhou-3, instanceType: "
				  "S5.MEDIUM4, maxPrice: '0.600'}]\n"));
	assert_string_equal(f->set.envs[0].max_price, "0.50");
	assert_string_equal(f->set.envs[0].pools[0].max_price, "0.600");
}

static void test_capacity_zero_ok(void **state)
{
	struct fx *f = *state;

	expect_ok(f,
		  load(f, HEAD
		       "  region: ap-guangzhou\n"
		       "  capacity: 0\n"
		       "  maxPrice: \"0.60\"\n"
		       "  image: img-pmqg1cw7\n"
		       "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n"));
	assert_int_equal(f->set.envs[0].capacity, 0);
}

static void test_sorted_and_find(void **state)
{
	struct fx *f = *state;

	expect_ok(
		f,
		load(f,
		     "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: zulu}\n"
		     "spec:\n" BASE "---\n"
		     "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: alpha}\n"
		     "spec:\n" BASE "---\n"
		     "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: mike}\n"
		     "spec:\n" BASE));
	assert_int_equal(f->set.nenvs, 3);
	assert_string_equal(f->set.envs[0].name, "alpha");
	assert_string_equal(f->set.envs[1].name, "mike");
	assert_string_equal(f->set.envs[2].name, "zulu");
	assert_int_equal(f->set.envs[0].loc.line, 13);
	assert_ptr_equal(spec_set_find(&f->set, "mike"), &f->set.envs[1]);
	assert_ptr_equal(spec_set_find(&f->set, "zulu"), &f->set.envs[2]);
	assert_null(spec_set_find(&f->set, "nope"));
	assert_string_equal(spec_alloc_name(SPEC_ALLOC_SPREAD), "spread");
	assert_string_equal(spec_alloc_name(SPEC_ALLOC_LOWEST_PRICE), "lowest-price");
}

static void test_x_keys_ignored(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load(f, "x-note: anything [goes] here\n" HEAD BASE
			     "x-other: {a: 1}\n"));
	assert_int_equal(f->set.nenvs, 1);
}

static void test_merge_key(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(f, load(f, "apiVersion: spotenv/v1\n"
			     "kind: SpotEnvironmentList\n"
			     "x-defaults: &d {region: ap-beijing, maxPrice: \"0.45\", "
			     "image: img-pmqg1cw7}\n"
			     "items:\n"
			     "  - metadata: {name: a}\n"
			     "    spec: {<<: *d, capacity: 4, pools: [{zone: "
			     "ap-beijing-5, instanceType: S5.MEDIUM4}]}\n"
			     "  - metadata: {name: b}\n"
			     "    spec: {<<: *d, maxPrice: \"0.50\", capacity: 7, pools: "
			     "[{zone: ap-beijing-6, instanceType: S5.MEDIUM4}]}\n"));
	assert_int_equal(f->set.nenvs, 2);
	e = spec_set_find(&f->set, "a");
	assert_non_null(e);
	assert_string_equal(e->region, "ap-beijing");
	assert_string_equal(e->max_price, "0.45");
	assert_int_equal(e->capacity, 4);
	assert_int_equal(e->loc.line, 5);
	assert_int_equal(e->loc.col, 5);
	e = spec_set_find(&f->set, "b");
	assert_string_equal(e->max_price, "0.50"); /* explicit key wins */
	assert_string_equal(e->image, "img-pmqg1cw7");
}

static void test_merge_list_precedence(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(
		f,
		load(f,
		     "apiVersion: spotenv/v1\n"
		     "kind: SpotEnvironmentList\n"
		     "x-a: &a {maxPrice: \"0.40\", capacity: 1}\n"
		     "x-b: &b {maxPrice: \"0.55\", capacity: 9, image: img-pmqg1cw7}\n"
		     "x-c: &c {region: ap-shanghai}\n"
		     "items:\n"
		     "  - metadata: {name: m}\n"
		     "    spec:\n"
		     "      <<: [*a, *b, *c]\n"
		     "      capacity: 3\n"
		     "      pools: [{zone: ap-shanghai-2, instanceType: S5.MEDIUM4}]\n"));
	e = &f->set.envs[0];
	assert_string_equal(e->max_price, "0.40"); /* earlier merge wins */
	assert_int_equal(e->capacity, 3);	   /* explicit wins */
	assert_string_equal(e->image, "img-pmqg1cw7");
	assert_string_equal(e->region, "ap-shanghai");
}

static void test_alias_in_list_and_nested_merge(void **state)
{
	struct fx *f = *state;
	const struct spec_env *e;

	expect_ok(f,
		  load(f, "apiVersion: spotenv/v1\n"
			  "kind: SpotEnvironmentList\n"
			  "x-pool: &p {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}\n"
			  "x-tags: &t {team: data}\n"
			  "items:\n"
			  "  - metadata: {name: n}\n"
			  "    spec:\n"
			  "      region: ap-guangzhou\n"
			  "      capacity: 1\n"
			  "      maxPrice: \"0.5\"\n"
			  "      image: img-pmqg1cw7\n"
			  "      pools: [*p, {<<: *p, zone: ap-guangzhou-4}]\n"
			  "      tags: {<<: *t, job: x}\n"));
	e = &f->set.envs[0];
	assert_int_equal(e->npools, 2);
	assert_string_equal(e->pools[1].zone, "ap-guangzhou-4");
	assert_string_equal(e->pools[1].instance_type, "S5.MEDIUM4");
	assert_int_equal(e->ntags, 2);
	assert_string_equal(e->tags[0].key, "job");
	assert_string_equal(e->tags[1].value, "data");
}

static void test_json_output(void **state)
{
	struct fx *f = *state;
	cJSON *j, *env, *spec;

	expect_ok(f, load(f, HEAD BASE "  tags: {b: \"2\", a: \"1\"}\n"));
	j = spec_set_to_json(&f->set);
	assert_string_equal(cJSON_GetObjectItem(j, "format_version")->valuestring, "1");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "files"), 0)->valuestring,
		"t.yaml");
	env = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "environments"), 0);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(env, "metadata"), "scope")
			->valuestring,
		"default");
	spec = cJSON_GetObjectItem(env, "spec");
	assert_string_equal(cJSON_GetObjectItem(spec, "maxPrice")->valuestring, "0.60");
	assert_string_equal(cJSON_GetObjectItem(spec, "allocation")->valuestring,
			    "priority");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(spec, "userData")));
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "pools"), 0)
				    ->child->next->next->next->next->valuestring,
			    "0.60"); /* bid */
	assert_string_equal(cJSON_GetObjectItem(spec, "tags")->child->string, "a");
	assert_int_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "update"), "maxSurge")
			->valueint,
		1);
	cJSON_Delete(j);
}

/* ---- invalid: types and ranges ---- */

static void test_price_zero(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		load(f, HEAD
		     "  region: ap-guangzhou\n"
		     "  capacity: 2\n"
		     "  maxPrice: \"0.00\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n"),
		ERR_INVALID);
	expect_one(f, 8, 13, "spec.maxPrice", "must be greater than 0");
	assert_int_equal(f->set.nenvs, 0);
}

static void test_price_exponent(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  limits: {maxHourlyCost: 6e-1}\n");
	expect_one(f, 13, 27, "spec.limits.maxHourlyCost",
		   "expected a price in CNY per hour");
}

static void test_price_too_precise(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4, "
			  "maxPrice: \"0.1234567891\"}\n");
	expect_one(f, 13, 66, "spec.pools[1].maxPrice", "at most 9 decimal places");
}

static void test_capacity_range(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: 10001\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 7, 13, "spec.capacity",
		   "expected a whole number from 0 to 10000, got '10001'");
}

/* Tags: the core schema's are understood, any other is an error where written. */
static void test_yaml_tags(void **state)
{
	struct fx *f = *state;

	expect_ok(
		f,
		load(f, HEAD
		     "  region: !!str ap-guangzhou\n"
		     "  capacity: !!int 3\n"
		     "  maxPrice: ! \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: !!seq [!!map {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n"));
	spec_set_release(&f->set);
	load(f,
	     HEAD "  region: ap-guangzhou\n"
		  "  capacity: !foo 3\n"
		  "  maxPrice: \"0.60\"\n"
		  "  image: !!binary img-pmqg1cw7\n"
		  "  pools: !pools [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_at(f, 0, 7, 13, NULL, "unknown YAML tag '!foo'");
	expect_at(f, 1, 9, 10, NULL, "unsupported YAML tag '!!binary'");
	expect_at(f, 2, 10, 10, NULL, "unknown YAML tag '!pools'");
}

static void test_capacity_quoted(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: \"3\"\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 7, 13, "spec.capacity", "drop the quotes");
}

static void test_capacity_mapping(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: {min: 1}\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 7, 13, "spec.capacity", "got a mapping");
}

static void test_missing_required(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: 2\n"
		     "  maxPrice: \"0.60\"\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 6, 3, "spec", "missing required key 'image'");
}

static void test_null_required(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity:\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 7, 3, "spec", "'capacity' must not be empty");
}

static void test_missing_spec(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: a}\n");
	expect_one(f, 1, 1, NULL, "missing required key 'spec'");
}

static void test_bool_invalid(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  login: {keepImageLogin: yes}\n");
	expect_one(f, 13, 27, "spec.login.keepImageLogin",
		   "expected true or false, got 'yes'");
}

static void test_bad_image_id(void **state)
{
	struct fx *f = *state;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: 2\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: ubuntu-22.04\n"
		     "  pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]\n");
	expect_one(f, 9, 10, "spec.image", "expected an image id such as 'img-xxxxxxxx'");
}

static void test_long_value_cut_at_character(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT, want = BUF_INIT;

	buf_puts(&b, HEAD BASE "  instanceName: ");
	for (int i = 0; i < 70; i++)
		buf_puts(&b, "\xc3\xa9"); /* e-acute: 2 bytes, 1 character */
	buf_puts(&b, "\n");
	load(f, buf_str(&b));
	/* 37 bytes would split a character: 18 characters (36 bytes) are shown */
	buf_puts(&want, "got '");
	for (int i = 0; i < 18; i++)
		buf_puts(&want, "\xc3\xa9");
	buf_puts(&want, "...'");
	expect_one(f, 13, 17, "spec.instanceName", buf_str(&want));
	buf_release(&b);
	buf_release(&want);
}

/* ---- invalid: keys ---- */

static void test_unknown_key_did_you_mean(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  capcity: 3\n");
	expect_one(f, 13, 3, "spec", "unknown key 'capcity' (did you mean 'capacity'?)");
}

static void test_unknown_key_snake_case(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - zone: ap-guangzhou-4\n      instanceType: S5.MEDIUM4\n"
			  "      max_price: \"0.5\"\n");
	expect_one(f, 15, 7, "spec.pools[1]",
		   "unknown key 'max_price' (did you mean 'maxPrice'?)");
}

static void test_unknown_key_no_suggestion(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  flavour: vanilla\n");
	expect_one(f, 13, 3, "spec", "unknown key 'flavour'");
	assert_null(strstr(f->errs.v[0].msg, "did you mean"));
}

static void test_unknown_top_key(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "metdata: {}\n");
	expect_one(f, 13, 1, NULL, "unknown key 'metdata' (did you mean 'metadata'?)");
}

static void test_x_key_only_top_level(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  x-note: hi\n");
	expect_one(f, 13, 3, "spec", "unknown key 'x-note'");
}

static void test_duplicate_key(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  capacity: 3\n");
	expect_one(f, 13, 3, "spec",
		   "duplicate key 'capacity' (first given at line 7 column 3)");
}

/* ---- invalid: documents ---- */

static void test_api_version(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v2\nkind: SpotEnvironment\nmetadata:\n  name: "
		"web\nspec:\n" BASE);
	expect_one(f, 1, 13, "apiVersion",
		   "unsupported apiVersion 'spotenv/v2' (expected 'spotenv/v1')");
}

static void test_missing_api_version(void **state)
{
	struct fx *f = *state;

	load(f, "kind: SpotEnvironment\nmetadata:\n  name: web\nspec:\n" BASE);
	expect_one(f, 1, 1, NULL, "missing required key 'apiVersion'");
}

static void test_kind_did_you_mean(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironmnet\nmetadata:\n  name: "
		"web\nspec:\n" BASE);
	expect_one(f, 2, 7, "kind", "(did you mean 'SpotEnvironment'?)");
}

static void test_root_not_mapping(void **state)
{
	struct fx *f = *state;

	load(f, "- a\n- b\n");
	expect_one(
		f, 1, 1, NULL,
		"expected a mapping with apiVersion, kind, metadata and spec, got a list");
}

static void test_list_item_path(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\n"
		"kind: SpotEnvironmentList\n"
		"items:\n"
		"  - metadata: {name: one}\n"
		"    spec: {region: ap-guangzhou, capacity: 1, maxPrice: \"0.5\", image: "
		"img-pmqg1cw7,"
		" pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]}\n"
		"  - metadata: {name: two}\n"
		"    spec: {region: ap-guangzhou, capacity: -1, maxPrice: \"0.5\", "
		"image: img-pmqg1cw7,"
		" pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]}\n");
	expect_one(f, 7, 44, "items[1].spec.capacity",
		   "expected a whole number from 0 to 10000, got '-1'");
	assert_int_equal(f->set.nenvs, 1); /* the valid one is kept */
	assert_string_equal(f->set.envs[0].name, "one");
}

static void test_list_empty(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironmentList\nitems: []\n");
	expect_one(f, 3, 8, "items", "expected at least one environment");
}

static void test_list_item_wrong_kind(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironmentList\nitems:\n"
		"  - kind: SpotEnvironmentList\n    metadata: {name: a}\n    spec: {}\n");
	expect_one(f, 4, 11, "items[0].kind",
		   "unsupported kind 'SpotEnvironmentList' in a list");
}

static void test_all_errors_reported(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
		load(f, HEAD BASE
		     "  allocation: sprad\n"
		     "---\n"
		     "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: ok}\n"
		     "spec:\n" BASE "---\n"
		     "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: Bad}\n"
		     "spec:\n" BASE "  tags: {qcloud-x: y}\n"),
		ERR_INVALID);
	assert_int_equal(f->errs.n, 3);
	expect_at(f, 0, 13, 15, "spec.allocation",
		  "unknown value 'sprad' (did you mean 'spread'?)");
	expect_at(f, 1, 29, 18, "metadata.name", "got 'Bad'");
	expect_at(f, 2, 38, 10, "spec.tags", "tag key 'qcloud-x' is reserved");
	assert_int_equal(f->set.nenvs, 1);
	assert_string_equal(f->set.envs[0].name, "ok");
}

/* ---- invalid: names and duplicates ---- */

static void test_name_rules(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: "
		"web-}\nspec:\n" BASE);
	expect_one(f, 3, 18, "metadata.name", "lowercase letters, digits and '-'");
}

static void test_name_length(void **state)
{
	struct fx *f = *state;

	/* 40 characters is fine, 41 is not */
	expect_ok(f, load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironment\n"
			     "metadata: {name: "
			     "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd}\nspec:\n" BASE));
	load(f,
	     "apiVersion: spotenv/v1\nkind: SpotEnvironment\n"
	     "metadata: {name: aaaaaaaaaabbbbbbbbbbccccccccccddddddddddx}\nspec:\n" BASE);
	expect_one(f, 3, 18, "metadata.name", "at most 40 characters");
}

static void test_scope_invalid(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata: {name: a, "
		"scope: My_Team}\n"
		"spec:\n" BASE);
	expect_one(f, 3, 28, "metadata.scope", "got 'My_Team'");
}

static void test_duplicate_env_same_buffer(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "---\n" HEAD BASE);
	expect_one(f, 17, 9, "metadata.name",
		   "duplicate environment 'web' (first defined at t.yaml:1:1)");
	assert_int_equal(f->set.nenvs, 1);
}

static void test_duplicate_env_two_buffers(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load_named(f, "a.yaml", HEAD BASE));
	assert_int_equal(load_named(f, "b.yaml", "# b\n" HEAD BASE), ERR_INVALID);
	expect_one(f, 5, 9, "metadata.name",
		   "duplicate environment 'web' (first defined at a.yaml:1:1)");
	assert_string_equal(f->errs.v[0].file, "b.yaml");
	assert_int_equal(f->set.nenvs, 1);
	assert_int_equal(f->set.nfiles, 2);
}

static void test_duplicate_env_in_list(void **state)
{
	struct fx *f = *state;

	load(f, "apiVersion: spotenv/v1\nkind: SpotEnvironmentList\n"
		"x-s: &s {region: ap-guangzhou, capacity: 1, maxPrice: \"0.5\", image: "
		"img-pmqg1cw7,"
		" pools: [{zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}]}\n"
		"items:\n"
		"  - {metadata: {name: a}, spec: *s}\n"
		"  - {metadata: {name: a}, spec: *s}\n");
	expect_one(f, 6, 23, "items[1].metadata.name",
		   "duplicate environment 'a' (first defined at t.yaml:5:5)");
}

/* ---- invalid: pools, network ---- */

static void test_zone_outside_region(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - zone: ap-shanghai-2\n      instanceType: S5.MEDIUM4\n");
	expect_one(f, 13, 13, "spec.pools[1].zone",
		   "zone 'ap-shanghai-2' is not in region 'ap-guangzhou' (expected "
		   "'ap-guangzhou-N')");
}

static void test_zone_prefix_only(void **state)
{
	struct fx *f = *state;

	/* ap-guangzhou-open-3 starts with the region but is not a zone of it */
	load(f, HEAD BASE "    - {zone: ap-guangzhou-x3, instanceType: S5.MEDIUM4}\n");
	expect_one(f, 13, 14, "spec.pools[1].zone", "is not in region 'ap-guangzhou'");
}

static void test_duplicate_pool(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - zone: ap-guangzhou-3\n      instanceType: S5.MEDIUM4\n");
	expect_one(
		f, 13, 7, "spec.pools[1]",
		"duplicate pool: zone 'ap-guangzhou-3' with instance type 'S5.MEDIUM4' is "
		"already listed at line 11 column 7");
}

static void test_pools_count(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	load(f, HEAD "  region: ap-guangzhou\n"
		     "  capacity: 2\n"
		     "  maxPrice: \"0.60\"\n"
		     "  image: img-pmqg1cw7\n"
		     "  pools: []\n");
	expect_one(f, 10, 10, "spec.pools", "expected from 1 to 20 pools, got 0");
	errlist_clear(&f->errs);

	buf_puts(&b, HEAD "  region: ap-guangzhou\n  capacity: 2\n  maxPrice: \"0.6\"\n"
			  "  image: img-pmqg1cw7\n  pools:\n");
	for (int i = 0; i < 21; i++)
		buf_printf(&b,
			   "    - {zone: ap-guangzhou-%d, instanceType: S5.MEDIUM4}\n",
			   i + 1);
	load(f, buf_str(&b));
	expect_one(f, 11, 5, "spec.pools", "expected from 1 to 20 pools, got 21");
	buf_release(&b);
}

static void test_vpc_needs_subnets(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE
	     "    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4, subnetId: subnet-b}\n"
	     "  network: {vpcId: vpc-a}\n");
	expect_one(f, 11, 7, "spec.pools[0]",
		   "missing required key 'subnetId' (network.vpcId is set");
}

static void test_subnet_needs_vpc(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - {zone: ap-guangzhou-4, instanceType: S5.MEDIUM4, "
			  "subnetId: subnet-b}\n");
	expect_one(f, 13, 66, "spec.pools[1].subnetId", "subnetId needs network.vpcId");
}

static void test_instance_type(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "    - {zone: ap-guangzhou-4, instanceType: large}\n");
	expect_one(f, 13, 44, "spec.pools[1].instanceType",
		   "expected an instance type such as 'S5.MEDIUM4'");
}

static void test_security_group_ids(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  network:\n    securityGroupIds: [sg-1, default]\n");
	expect_one(f, 14, 30, "spec.network.securityGroupIds[1]",
		   "expected a security group id such as 'sg-xxxxxxxx', got 'default'");
}

/* ---- invalid: enums, tags, login, disks, user data, update ---- */

static void test_allocation_enum(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  allocation: cheapest\n");
	expect_one(f, 13, 15, "spec.allocation",
		   "unknown value 'cheapest'; expected one of 'priority', 'spread', "
		   "'lowest-price'");
}

static void test_disk_type(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  systemDisk:\n    type: cloud_premium\n    sizeGb: 50\n");
	expect_one(f, 14, 11, "spec.systemDisk.type", "(did you mean 'CLOUD_PREMIUM'?)");
}

static void test_disk_size(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  systemDisk: {sizeGb: 10}\n");
	expect_one(f, 13, 24, "spec.systemDisk.sizeGb",
		   "expected a whole number from 20 to 1024");
}

static void test_tag_reserved(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  tags:\n    ok: 1\n    SpotEnv:env: mine\n");
	expect_one(f, 15, 5, "spec.tags", "tag key 'SpotEnv:env' is reserved");
	errlist_clear(&f->errs);
	load(f, HEAD BASE "  tags: {Tencent-owner: x}\n");
	expect_one(f, 13, 10, "spec.tags", "tag key 'Tencent-owner' is reserved");
}

static void test_tag_bad_char(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  tags: {\"a#b\": x}\n");
	expect_one(f, 13, 10, "spec.tags", "has the character '#'");
}

static void test_tag_key_allowed_chars(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load(f, HEAD BASE
			  "  tags: {\"a b+c-d=e.f_g:h/i@j\": x, 团队: 图形}\n"));
	assert_int_equal(f->set.envs[0].ntags, 2);
}

static void test_tag_lengths(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	buf_puts(&b, HEAD BASE "  tags:\n    ");
	for (int i = 0; i < 128; i++)
		buf_putc(&b, 'k');
	buf_puts(&b, ": v\n    short: ");
	for (int i = 0; i < 256; i++)
		buf_putc(&b, 'v');
	buf_puts(&b, "\n");
	load(f, buf_str(&b));
	assert_int_equal(f->errs.n, 2);
	expect_at(f, 0, 14, 5, "spec.tags", "is longer than 127 characters");
	expect_at(f, 1, 15, 12, "spec.tags",
		  "value of tag 'short' is longer than 255 characters");
	buf_release(&b);
}

static void test_tag_count(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	/* 47 user tags + spotenv's 3 = 50: fine */
	buf_puts(&b, HEAD BASE "  tags:\n");
	for (int i = 0; i < 47; i++)
		buf_printf(&b, "    k%02d: v\n", i);
	expect_ok(f, load(f, buf_str(&b)));
	assert_int_equal(f->set.envs[0].ntags, 47);
	spec_set_release(&f->set);
	buf_printf(&b, "    k47: v\n");
	load(f, buf_str(&b));
	expect_one(f, 14, 5, "spec.tags",
		   "too many tags: 48, and spotenv adds 3 of its own");
	buf_release(&b);
}

static void test_tag_duplicate_through_merge_is_fine(void **state)
{
	struct fx *f = *state;

	expect_ok(f,
		  load(f, "x-t: &t {team: a}\n" HEAD BASE "  tags: {<<: *t, team: b}\n"));
	assert_string_equal(f->set.envs[0].tags[0].value, "b");
}

static void test_login_conflict(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  login:\n    keyIds: [skey-a]\n    keepImageLogin: true\n");
	expect_one(f, 15, 5, "spec.login",
		   "keyIds and keepImageLogin cannot both be set");
}

static void test_user_data_limit(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	/* 12288 bytes encode to exactly 16384 */
	buf_puts(&b, HEAD BASE "  userData: \"");
	for (int i = 0; i < 12288; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\"\n");
	expect_ok(f, load(f, buf_str(&b)));
	assert_int_equal(strlen(f->set.envs[0].user_data_b64), 16384);
	spec_set_release(&f->set);
	buf_reset(&b);
	buf_puts(&b, HEAD BASE "  userData: \"");
	for (int i = 0; i < 12289; i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\"\n");
	load(f, buf_str(&b));
	expect_one(f, 13, 13, "spec.userData",
		   "user data is 16388 bytes after base64 encoding; the limit is 16384");
	buf_release(&b);
}

static void test_user_data_empty_is_none(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load(f, HEAD BASE "  userData: \"\"\n"));
	assert_null(f->set.envs[0].user_data);
	assert_null(f->set.envs[0].user_data_b64);
}

static void test_update_rules(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  update: {maxSurge: 0, maxUnavailable: 0}\n");
	expect_one(f, 13, 11, "spec.update",
		   "maxSurge and maxUnavailable cannot both be 0");
	errlist_clear(&f->errs);
	load(f, HEAD BASE "  update: {maxSurge: -1}\n");
	expect_one(f, 13, 22, "spec.update.maxSurge",
		   "expected a whole number from 0 to 10000, got '-1'");
}

static void test_limits(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  limits: {maxReleasePerApply: 2.5}\n");
	expect_one(f, 13, 32, "spec.limits.maxReleasePerApply",
		   "expected a whole number");
}

/* ---- YAML level ---- */

static void test_merge_not_mapping(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  tags: {<<: [{a: b}, oops]}\n");
	expect_one(
		f, 13, 23, NULL,
		"merge key '<<' expects a mapping or a list of mappings, got a scalar");
}

static void test_unknown_anchor(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  tags: *nope\n");
	assert_true(f->errs.n >= 1);
	expect_at(f, 0, 13, 9, NULL, "unknown anchor 'nope'");
}

static void test_recursive_alias(void **state)
{
	struct fx *f = *state;

	load(f, "x-a: &a [1, *a]\n" HEAD BASE);
	expect_one(f, 1, 13, NULL, "alias '*a' refers to a node that contains it");
}

static void test_billion_laughs(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;
	clock_t t0 = clock();

	buf_puts(&b, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 12; i++) {
		buf_printf(&b, "a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			buf_printf(&b, "%s*a%d", j ? ", " : "", i - 1);
		buf_puts(&b, "]\n");
	}
	load(f, buf_str(&b));
	/*
	 * a4 expands to 111111 nodes and everything before a5 to about 123k,
	 * so the 8th alias of a5 (line 6, column 45) passes 10^6.
	 */
	expect_one(f, 6, 45, NULL, "more than 1000000 nodes through aliases");
	assert_int_equal(f->set.nenvs, 0);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	buf_release(&b);
}

static void test_merge_laughs(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	/* merges copy pairs: the expansion counter covers them too */
	buf_puts(&b, "m0: &m0 {a: [x, x, x, x, x, x, x, x, x, x]}\n");
	for (int i = 1; i < 10; i++) {
		buf_printf(&b, "m%d: &m%d {", i, i);
		for (int j = 0; j < 10; j++)
			buf_printf(&b, "%sk%d: *m%d", j ? ", " : "", j, i - 1);
		buf_puts(&b, "}\n");
	}
	load(f, buf_str(&b));
	assert_int_equal(f->errs.n, 1);
	assert_non_null(strstr(f->errs.v[0].msg, "billion laughs"));
	buf_release(&b);
}

static void test_repeated_big_merge_is_bounded(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;
	clock_t t0 = clock();

	/* 5000 keys merged 1000 times: lookups are counted and hashed */
	buf_puts(&b, "big: &a {");
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "%sk%d: 1", i ? ", " : "", i);
	buf_puts(&b, "}\nm: {<<: [");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%s*a", i ? ", " : "");
	buf_puts(&b, "]}\n");
	load(f, buf_str(&b));
	assert_int_equal(f->errs.n, 1);
	assert_int_equal(f->errs.v[0].line, 2);
	assert_non_null(strstr(f->errs.v[0].msg, "more than 1000000 nodes"));
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
	buf_release(&b);
}

static void test_depth_limit(void **state)
{
	struct fx *f = *state;
	struct buf b = BUF_INIT;

	for (int i = 0; i < 100; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 100; i++)
		buf_putc(&b, ']');
	load(f, buf_str(&b));
	expect_one(f, 1, 65, NULL, "nesting is deeper than 64 levels");
	buf_release(&b);
}

static void test_non_utf8(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  instanceName: caf\xe9\n");
	expect_one(f, 13, 20, NULL, "expected UTF-8 text, found the byte 0xE9");
}

static void test_utf16(void **state)
{
	struct fx *f = *state;
	static const char data[] = "\xff\xfe"
				   "a\0:\0 \0b\0";

	spec_load_buffer(&f->set, "t.yaml", data, sizeof(data) - 1, &f->errs);
	expect_one(f, 1, 1, NULL, "found a UTF-16 byte order mark");
}

static void test_nul_in_scalar(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  instanceName: \"a\\0b\"\n");
	expect_one(f, 13, 17, "spec.instanceName", "a NUL character");
}

static void test_nul_in_root_scalar(void **state)
{
	struct fx *f = *state;

	load(f, "\"a\\0n\"\n");
	expect_one(f, 1, 1, NULL, "got 'a...'");
}

static void test_empty_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, ""), ERR_INVALID);
	expect_one(f, 1, 1, NULL, "no environments in file");
	errlist_clear(&f->errs);
	load(f, "# just a comment\n---\n...\n");
	expect_one(f, 1, 1, NULL, "no environments in file");
}

static void test_syntax_error(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "  tags: {a: b\n");
	expect_one(f, 14, 1, NULL, "invalid YAML: did not find expected ',' or '}'");
}

static void test_syntax_error_keeps_earlier_docs(void **state)
{
	struct fx *f = *state;

	load(f, HEAD BASE "---\nkey: [unclosed\n");
	expect_one(f, 15, 1, NULL, "invalid YAML");
	assert_int_equal(f->set.nenvs, 1);
}

static void test_null_buffer(void **state)
{
	struct fx *f = *state;

	assert_int_equal(spec_load_buffer(&f->set, "none", NULL, 0, &f->errs),
			 ERR_INVALID);
	expect_one(f, 1, 1, NULL, "no environments in file");
	assert_string_equal(f->errs.v[0].file, "none");
}

static void test_bom_accepted(void **state)
{
	struct fx *f = *state;

	expect_ok(f, load(f, "\xef\xbb\xbf" HEAD BASE));
}

/* ---- the JSON Schema says what the loader does ---- */

/* Empty f again, for another document. */
static void fx_reset(struct fx *f)
{
	spec_set_release(&f->set);
	memset(&f->set, 0, sizeof(f->set));
	errlist_clear(&f->errs);
}

/* Load HEAD BASE plus extra (lines of spec); 0 or an error code. */
static int load_extra(struct fx *f, const char *extra)
{
	char *y = xasprintf(HEAD BASE "%s", extra);
	int ret;

	fx_reset(f);
	ret = load(f, y);
	free(y);
	return ret;
}

/* The mapping a property of the schema refers to ($ref or anyOf[0].$ref). */
static const cJSON *schema_ref(const cJSON *schema, const cJSON *prop)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(prop, "$ref");
	const cJSON *any = cJSON_GetObjectItemCaseSensitive(prop, "anyOf");

	if (!ref && any)
		ref = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(any, 0),
						       "$ref");
	if (!cJSON_IsString(ref))
		return NULL;
	assert_true(!strncmp(ref->valuestring, "#/$defs/", 8));
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(schema, "$defs"), ref->valuestring + 8);
}

static bool schema_required(const cJSON *map, const char *key)
{
	const cJSON *r;

	cJSON_ArrayForEach (r, cJSON_GetObjectItemCaseSensitive(map, "required"))
		if (!strcmp(r->valuestring, key))
			return true;
	return false;
}

static const cJSON *schema_def(const cJSON *schema, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(schema, "$defs"), name);
}

/*
 * Every optional key of spec and of the mappings under it is accepted
 * (null counts as not given), and an unknown key in each is refused.
 */
static void test_schema_keys_are_the_loaders(void **state)
{
	struct fx *f = *state;
	cJSON *schema = spec_json_schema();
	const cJSON *spec = schema_def(schema, "spec"), *p, *q, *sub;
	size_t nmaps = 0, nkeys = 0;

	assert_non_null(spec);
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(spec, "properties")) {
		char *extra;

		if (schema_required(spec, p->string))
			continue;
		extra = xasprintf("  %s: ~\n", p->string);
		expect_ok(f, load_extra(f, extra));
		free(extra);
		nkeys++;
		if (!(sub = schema_ref(schema, p)))
			continue;
		nmaps++;
		assert_false(cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(sub, "additionalProperties")));
		cJSON_ArrayForEach (q,
				    cJSON_GetObjectItemCaseSensitive(sub, "properties")) {
			extra = xasprintf("  %s:\n    %s: ~\n", p->string, q->string);
			expect_ok(f, load_extra(f, extra));
			free(extra);
			nkeys++;
		}
		extra = xasprintf("  %s:\n    bogus-key: 1\n", p->string);
		load_extra(f, extra);
		free(extra);
		extra = xasprintf("spec.%s", p->string);
		expect_one(f, 14, 5, extra, "unknown key 'bogus-key'");
		free(extra);
	}
	assert_int_equal(nmaps, 5); /* network, login, systemDisk, update, limits */
	assert_true(nkeys >= 18);
	cJSON_Delete(schema);
}

/* The required keys of spec are those the loader misses. */
static void test_schema_required_are_the_loaders(void **state)
{
	static const struct {
		const char *key, *lines;
	} base[] = {
		{ "region", "  region: ap-guangzhou\n" },
		{ "capacity", "  capacity: 2\n" },
		{ "maxPrice", "  maxPrice: \"0.60\"\n" },
		{ "image", "  image: img-pmqg1cw7\n" },
		{ "pools",
		  "  pools:\n    - {zone: ap-guangzhou-3, instanceType: S5.MEDIUM4}\n" },
	};
	struct fx *f = *state;
	cJSON *schema = spec_json_schema();
	const cJSON *spec = schema_def(schema, "spec");

	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "required")),
		ARRAY_SIZE(base));
	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		struct buf y = BUF_INIT;
		char msg[64];

		assert_true(schema_required(spec, base[i].key));
		buf_puts(&y, HEAD);
		for (size_t j = 0; j < ARRAY_SIZE(base); j++)
			if (j != i)
				buf_puts(&y, base[j].lines);
		fx_reset(f);
		load(f, buf_str(&y));
		snprintf(msg, sizeof(msg), "missing required key '%s'", base[i].key);
		expect_one(f, 6, 3, "spec", msg);
		buf_release(&y);
	}
	cJSON_Delete(schema);
}

/* Each enum value of the schema loads; each integer bound is the loader's. */
static void test_schema_enums_and_bounds_are_the_loaders(void **state)
{
	struct fx *f = *state;
	cJSON *schema = spec_json_schema();
	const cJSON *alloc, *v, *p, *q, *sub;
	size_t nenum = 0, nbounds = 0;

	alloc = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(schema_def(schema, "spec"),
						 "properties"),
		"allocation");
	cJSON_ArrayForEach (v, cJSON_GetObjectItemCaseSensitive(alloc, "enum")) {
		char *extra;

		if (cJSON_IsNull(v))
			continue;
		extra = xasprintf("  allocation: %s\n", v->valuestring);
		expect_ok(f, load_extra(f, extra));
		assert_string_equal(spec_alloc_name(f->set.envs[0].allocation),
				    v->valuestring);
		free(extra);
		nenum++;
	}
	assert_int_equal(nenum, 4);
	cJSON_ArrayForEach (v, cJSON_GetObjectItemCaseSensitive(
				       cJSON_GetObjectItemCaseSensitive(
					       cJSON_GetObjectItemCaseSensitive(
						       schema_def(schema, "systemDisk"),
						       "properties"),
					       "type"),
				       "enum")) {
		char *extra;

		if (cJSON_IsNull(v))
			continue;
		extra = xasprintf("  systemDisk: {type: %s}\n", v->valuestring);
		expect_ok(f, load_extra(f, extra));
		assert_string_equal(f->set.envs[0].system_disk.type, v->valuestring);
		free(extra);
		nenum++;
	}
	assert_int_equal(nenum, 12);
	/* integers of the mappings under spec: the maximum loads, one more not */
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(
				       schema_def(schema, "spec"), "properties")) {
		if (!(sub = schema_ref(schema, p)))
			continue;
		cJSON_ArrayForEach (q,
				    cJSON_GetObjectItemCaseSensitive(sub, "properties")) {
			const cJSON *max = cJSON_GetObjectItemCaseSensitive(q, "maximum");
			const cJSON *min = cJSON_GetObjectItemCaseSensitive(q, "minimum");
			char *extra, msg[96];

			if (!max)
				continue;
			extra = xasprintf("  %s: {%s: %d}\n", p->string, q->string,
					  max->valueint);
			expect_ok(f, load_extra(f, extra));
			free(extra);
			extra = xasprintf("  %s: {%s: %d}\n", p->string, q->string,
					  max->valueint + 1);
			load_extra(f, extra);
			free(extra);
			snprintf(msg, sizeof(msg),
				 "expected a whole number from %d to %d", min->valueint,
				 max->valueint);
			extra = xasprintf("spec.%s.%s", p->string, q->string);
			expect_one(f, 13,
				   8 + (int)strlen(p->string) + (int)strlen(q->string),
				   extra, msg);
			free(extra);
			nbounds++;
		}
	}
	assert_int_equal(nbounds, 5); /* bandwidth, disk size, update, limits */
	cJSON_Delete(schema);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_minimal_defaults),
		T(test_yaml_tags),
		T(test_full_spec_with_vpc),
		T(test_number_prices_exact),
		T(test_string_price_kept),
		T(test_capacity_zero_ok),
		T(test_sorted_and_find),
		T(test_x_keys_ignored),
		T(test_merge_key),
		T(test_merge_list_precedence),
		T(test_alias_in_list_and_nested_merge),
		T(test_json_output),
		T(test_price_zero),
		T(test_price_exponent),
		T(test_price_too_precise),
		T(test_capacity_range),
		T(test_capacity_quoted),
		T(test_capacity_mapping),
		T(test_missing_required),
		T(test_null_required),
		T(test_missing_spec),
		T(test_bool_invalid),
		T(test_bad_image_id),
		T(test_long_value_cut_at_character),
		T(test_unknown_key_did_you_mean),
		T(test_unknown_key_snake_case),
		T(test_unknown_key_no_suggestion),
		T(test_unknown_top_key),
		T(test_x_key_only_top_level),
		T(test_duplicate_key),
		T(test_api_version),
		T(test_missing_api_version),
		T(test_kind_did_you_mean),
		T(test_root_not_mapping),
		T(test_list_item_path),
		T(test_list_empty),
		T(test_list_item_wrong_kind),
		T(test_all_errors_reported),
		T(test_name_rules),
		T(test_name_length),
		T(test_scope_invalid),
		T(test_duplicate_env_same_buffer),
		T(test_duplicate_env_two_buffers),
		T(test_duplicate_env_in_list),
		T(test_zone_outside_region),
		T(test_zone_prefix_only),
		T(test_duplicate_pool),
		T(test_pools_count),
		T(test_vpc_needs_subnets),
		T(test_subnet_needs_vpc),
		T(test_instance_type),
		T(test_security_group_ids),
		T(test_allocation_enum),
		T(test_disk_type),
		T(test_disk_size),
		T(test_tag_reserved),
		T(test_tag_bad_char),
		T(test_tag_key_allowed_chars),
		T(test_tag_lengths),
		T(test_tag_count),
		T(test_tag_duplicate_through_merge_is_fine),
		T(test_login_conflict),
		T(test_user_data_limit),
		T(test_user_data_empty_is_none),
		T(test_update_rules),
		T(test_limits),
		T(test_merge_not_mapping),
		T(test_unknown_anchor),
		T(test_recursive_alias),
		T(test_billion_laughs),
		T(test_merge_laughs),
		T(test_repeated_big_merge_is_bounded),
		T(test_depth_limit),
		T(test_non_utf8),
		T(test_utf16),
		T(test_nul_in_scalar),
		T(test_nul_in_root_scalar),
		T(test_empty_file),
		T(test_syntax_error),
		T(test_syntax_error_keeps_earlier_docs),
		T(test_null_buffer),
		T(test_bom_accepted),
		T(test_schema_keys_are_the_loaders),
		T(test_schema_required_are_the_loaders),
		T(test_schema_enums_and_bounds_are_the_loaders),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
