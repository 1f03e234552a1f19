/*
 * fuzz_sim_actions.c - the emulator's request handling on arbitrary bytes.
 *
 * The first byte picks what the rest is: the JSON body of one of the five
 * CVM actions (run directly, past authentication), of a control request
 * (faults, pool, reclaim, protect, operate, clock), or a state document to
 * load into a fresh world.
 * Errors are expected; crashes, leaks and sanitizer reports are bugs, and
 * a failed action must name an error code.
 */
#include "../../util/setup.h"
#include "../../sim/sim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sim *world;
static int64_t fake_ms = 1764000000000LL;

static int64_t fake_clock(void *ctx)
{
	UNUSED(ctx);
	return fake_ms;
}

static struct sim *new_world(void)
{
	struct sim_opts o = SIM_OPTS_INIT;
	struct err e = ERR_INIT;
	struct sim *s = NULL;

	o.clock = fake_clock;
	o.pending_ms = 10;
	o.terminating_ms = 10;
	if (sim_new(&s, &o, &e) < 0)
		abort();
	return s;
}

static void run_action(int which, const char *body, size_t len)
{
	static int (*const actions[])(struct sim_call *) = {
		sim_action_describe_instances,	   sim_action_run_instances,
		sim_action_terminate_instances,	   sim_action_describe_zone_configs,
		sim_action_describe_account_quota,
	};
	struct sim_call c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.req = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(c.req)) {
		cJSON_Delete((cJSON *)c.req);
		return;
	}
	c.s = world;
	c.now = fake_ms;
	c.region = "ap-guangzhou";
	snprintf(c.request_id, sizeof(c.request_id), "fuzz");
	pthread_mutex_lock(&world->mu);
	sim_advance(world, fake_ms);
	ret = actions[which](&c);
	pthread_mutex_unlock(&world->mu);
	if (ret < 0 && (!c.code || !c.message))
		abort();
	if (ret == 0 && !c.resp)
		abort();
	cJSON_Delete((cJSON *)c.req);
	cJSON_Delete(c.resp);
	free(c.message);
}

static void run_control(const char *path, const char *body, size_t len)
{
	struct sim_request req;
	struct sim_response r = SIM_RESPONSE_INIT;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = path;
	req.query = "";
	req.body = body;
	req.body_len = len;
	sim_handle(world, &req, &r);
	if (!r.body.len)
		abort();
	sim_response_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	size_t len;

	if (!world)
		world = new_world();
	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	fake_ms += 7;
	switch (data[0] % 12) {
	case 0:
	case 1:
	case 2:
	case 3:
		run_action(data[0] % 12, body, len);
		break;
	case 9:
		run_action(4, body, len); /* DescribeAccountQuota */
		break;
	case 4:
		run_control("/_sim/faults", body, len);
		break;
	case 5:
		run_control("/_sim/pool", body, len);
		break;
	case 6:
		run_control("/_sim/reclaim", body, len);
		break;
	case 10:
		run_control("/_sim/protect", body, len);
		break;
	case 11:
		run_control("/_sim/operate", body, len);
		break;
	case 8:
		run_control("/_sim/clock", body, len);
		fake_ms += 1; /* and back to the fake clock alone */
		pthread_mutex_lock(&world->mu);
		world->clock_offset_ms = 0;
		pthread_mutex_unlock(&world->mu);
		break;
	default: {
		struct sim *s = new_world();
		struct err e = ERR_INIT;
		cJSON *doc = cJSON_ParseWithLength(body, len);

		if (doc) {
			pthread_mutex_lock(&s->mu);
			sim_state_load_json(s, doc, &e);
			cJSON_Delete(sim_state_json(s, fake_ms));
			pthread_mutex_unlock(&s->mu);
		}
		cJSON_Delete(doc);
		err_clear(&e);
		sim_free(s);
		break;
	}
	}
	/* keep the world small: start over now and then */
	if (world->ninstances > 2000) {
		sim_free(world);
		world = new_world();
	}
	return 0;
}
