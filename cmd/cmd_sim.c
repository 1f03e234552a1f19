/*
 * cmd_sim.c - `spotenv sim`: run the local CVM API emulator, and
 * `spotenv sim ctl`: a thin client for its control API.
 *
 * Why: tests, the demo, benchmarks and users trying specs without an
 * account all need a cloud; the emulator is that cloud, on loopback only.
 * It runs in the foreground until SIGINT or SIGTERM, then saves --state.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "../sim/sim.h"
#include "cmd.h"
#include <signal.h>
#include <pthread.h>

/* sim's options (start-up knobs; the control API changes them later). */
static const char *listen_at = "127.0.0.1:8787", *port_file, *seed;
static const char *ierr, *drop, *reclaim, *lfail;
static int latency = -1, pending = -1, terminating = -1, tag_lag = -1;
static int lfailed_ttl = -1, spot_quota = -1;
static bool no_rate_limits;
static int verbose;
static struct sim_opts sim_o = SIM_OPTS_INIT;

static const struct cmd_opt sim_opts[] = {
	{ CMD_OPT_STR, "listen", 0, &listen_at, "HOST:PORT",
	  "loopback address (port 0 picks a free port)", 0, 0 },
	{ CMD_OPT_STR, "port-file", 0, &port_file, "FILE",
	  "write the port to FILE once listening", 0, 0 },
	{ CMD_OPT_STR, "config", 0, &sim_o.config_path, "FILE",
	  "world file (YAML); default: the built-in world", 0, 0 },
	{ CMD_OPT_STR, "state", 0, &sim_o.state_path, "FILE",
	  "load the world from FILE if it exists; save it on exit", 0, 0 },
	{ CMD_OPT_STR, "seed", 0, &seed, "N",
	  "random seed for ids and faults (default 1)", 0, 0 },
	{ CMD_OPT_INT, "latency-ms", 0, &latency, "N", "add N ms to every API answer", 0,
	  INT_MAX },
	{ CMD_OPT_INT, "pending-ms", 0, &pending, "N",
	  "PENDING lasts N ms (default 2000)", 0, INT_MAX },
	{ CMD_OPT_INT, "terminating-ms", 0, &terminating, "N",
	  "TERMINATING lasts N ms (default 1000)", 0, INT_MAX },
	{ CMD_OPT_INT, "tag-lag-ms", 0, &tag_lag, "N",
	  "new instances invisible to tag filters for N ms", 0, INT_MAX },
	{ CMD_OPT_STR, "internal-error-rate", 0, &ierr, "R",
	  "answer InternalError to this share of requests (0..1)", 0, 0 },
	{ CMD_OPT_STR, "drop-after-commit-rate", 0, &drop, "R",
	  "drop the connection after this share of launches (0..1)", 0, 0 },
	{ CMD_OPT_STR, "reclaim-per-minute", 0, &reclaim, "N",
	  "reclaim N random instances a minute", 0, 0 },
	{ CMD_OPT_STR, "launch-fail-rate", 0, &lfail, "R",
	  "this share of new instances ends LAUNCH_FAILED (0..1)", 0, 0 },
	{ CMD_OPT_INT, "launch-failed-ttl-ms", 0, &lfailed_ttl, "N",
	  "LAUNCH_FAILED instances are removed after N ms (default 60000)", 0, INT_MAX },
	{ CMD_OPT_INT, "spot-quota-vcpu", 0, &spot_quota, "N",
	  "spot quota per zone in vCPUs (default 50; 0 = unlimited)", 0, 10000000 },
	{ CMD_OPT_BOOL, "no-rate-limits", 0, &no_rate_limits, NULL,
	  "turn off the per-action rate limits", 0, 0 },
	{ CMD_OPT_COUNT, "verbose", 'v', &verbose, NULL, "log every request on stderr", 0,
	  0 },
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

/* `sim ctl`'s options: one table for every verb, each option names its verb. */
static const char *c_endpoint, *c_env, *c_zone, *c_type, *c_region, *c_price;
static const char *c_ierr, *c_drop, *c_reclaim, *c_lfail, *c_rate_limits, *c_spot;
static const char *c_op_rate, *c_balance, *c_acct_quota, *c_protected;
static int c_count = -1, c_stock = -1, c_latency = -1, c_pending = -1, c_terminating = -1;
static int c_tag_lag = -1, c_lfailed_ttl = -1, c_spot_quota = -1, c_ms = -1;

static const struct cmd_opt ctl_opts[] = {
	{ CMD_OPT_STR, "endpoint", 0, &c_endpoint, "URL",
	  "emulator address on loopback (default: SPOTENV_ENDPOINT)", 0, 0 },
	{ CMD_OPT_INT, "count", 0, &c_count, "N", "reclaim: how many instances", 0,
	  INT_MAX },
	{ CMD_OPT_STR, "env", 0, &c_env, "NAME",
	  "reclaim: only instances of this environment", 0, 0 },
	{ CMD_OPT_STR, "region", 0, &c_region, "REGION", "pool: region (checked)", 0, 0 },
	{ CMD_OPT_STR, "zone", 0, &c_zone, "ZONE", "pool: zone", 0, 0 },
	{ CMD_OPT_STR, "type", 0, &c_type, "TYPE", "pool: instance type", 0, 0 },
	{ CMD_OPT_INT, "stock", 0, &c_stock, "N", "pool: new stock", 0, INT_MAX },
	{ CMD_OPT_STR, "price", 0, &c_price, "PRICE", "pool: new spot price (decimal)", 0,
	  0 },
	{ CMD_OPT_STR, "spot", 0, &c_spot, "on|off", "pool: sold as spot or not", 0, 0,
	  cmd_values_on_off },
	{ CMD_OPT_STR, "protected", 0, &c_protected, "on|off",
	  "protect: protection on (default) or off", 0, 0, cmd_values_on_off },
	{ CMD_OPT_INT, "ms", 0, &c_ms, "N",
	  "operate: how long the operation lasts (default 5000)", 0, INT_MAX },
	{ CMD_OPT_INT, "latency-ms", 0, &c_latency, "N", "faults: added latency", 0,
	  INT_MAX },
	{ CMD_OPT_INT, "pending-ms", 0, &c_pending, "N", "faults: PENDING duration", 0,
	  INT_MAX },
	{ CMD_OPT_INT, "terminating-ms", 0, &c_terminating, "N",
	  "faults: TERMINATING duration", 0, INT_MAX },
	{ CMD_OPT_INT, "tag-lag-ms", 0, &c_tag_lag, "N", "faults: tag lag", 0, INT_MAX },
	{ CMD_OPT_STR, "internal-error-rate", 0, &c_ierr, "R",
	  "faults: InternalError share", 0, 0 },
	{ CMD_OPT_STR, "drop-after-commit-rate", 0, &c_drop, "R",
	  "faults: dropped launches share", 0, 0 },
	{ CMD_OPT_STR, "reclaim-per-minute", 0, &c_reclaim, "N", "faults: reclaim rate",
	  0, 0 },
	{ CMD_OPT_STR, "launch-fail-rate", 0, &c_lfail, "R",
	  "faults: LAUNCH_FAILED share", 0, 0 },
	{ CMD_OPT_INT, "launch-failed-ttl-ms", 0, &c_lfailed_ttl, "N",
	  "faults: LAUNCH_FAILED lifetime", 0, INT_MAX },
	{ CMD_OPT_INT, "spot-quota-vcpu", 0, &c_spot_quota, "N",
	  "faults: spot quota per zone (0 = unlimited)", 0, 10000000 },
	{ CMD_OPT_STR, "operation-in-progress-rate", 0, &c_op_rate, "R",
	  "faults: OperationInProgress share", 0, 0 },
	{ CMD_OPT_STR, "insufficient-balance", 0, &c_balance, "on|off",
	  "faults: launches refused for the balance", 0, 0, cmd_values_on_off },
	{ CMD_OPT_STR, "account-quota-unsupported", 0, &c_acct_quota, "on|off",
	  "faults: DescribeAccountQuota unsupported", 0, 0, cmd_values_on_off },
	{ CMD_OPT_STR, "rate-limits", 0, &c_rate_limits, "on|off",
	  "faults: per-action rate limits", 0, 0, cmd_values_on_off },
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

static int sim_ctl(const struct cmd_ctx *ctx);

static const char *const ctl_verbs[] = { "reclaim", "pool",  "faults", "protect",
					 "operate", "stats", "state",  "reset",
					 "clock",   "sts",   NULL };

static const struct cmd_syntax ctl_syntax = {
	.usage =
		"sim ctl [--endpoint URL] VERB [OPTIONS] [JSON]\n\n"
		"Verbs:\n"
		"  stats                         request, error and instance counters\n"
		"  state                         the whole world as JSON\n"
		"  reset                         back to the start-up world\n"
		"  faults [--latency-ms N ...]   show or change faults\n"
		"  pool [--zone Z --type T [--stock N] [--price P]]   show or change pools\n"
		"  reclaim [--count N] [--env NAME] [ID...]           reclaim instances\n"
		"  protect [--protected on|off] ID...                 termination protection\n"
		"  operate reboot|stop|start ID... [--ms N]           put instances in an operation\n"
		"  clock ['{\"now\":MS}' | '{\"offsetMs\":N}']         show or move the clock\n"
		"  sts [JSON]                    show or change the metadata service and STS:\n"
		"                                '{\"durationSeconds\":N}', '{\"roleName\":\"R\"}',\n"
		"                                '{\"fail\":{\"count\":N,\"code\":\"InternalError\"}}'\n"
		"A JSON object argument is sent as the request body as it is.  The endpoint\n"
		"must be on loopback (127.0.0.1, ::1, localhost); any other is refused, exit 1.",
	.about = "Talk to a running 'spotenv sim'.",
	.opts = ctl_opts,
	.needs_args =
		"'sim ctl' needs a verb: reclaim, pool, faults, protect, operate, stats, "
		"state, reset, clock or sts",
	.words = ctl_verbs,
};

static const struct cmd sim_subs[] = {
	{ "ctl", "talk to a running emulator", 0, &ctl_syntax, sim_ctl },
	{ NULL, NULL, 0, NULL, NULL },
};

const struct cmd_syntax cmd_sim_syntax = {
	.usage =
		"sim [--listen 127.0.0.1:8787] [--port-file FILE] [--config world.yaml] [--state FILE]\n"
		"           [--seed N] [--latency-ms N] [--pending-ms N] [--terminating-ms N]\n"
		"           [--tag-lag-ms N] [--internal-error-rate R] [--drop-after-commit-rate R]\n"
		"           [--reclaim-per-minute N] [--launch-fail-rate R] [--launch-failed-ttl-ms N]\n"
		"           [--spot-quota-vcpu N] [--no-rate-limits] [-v]\n"
		"   or: spotenv sim ctl [--endpoint URL] reclaim|pool|faults|protect|operate|stats|state|reset|clock|sts ...",
	.about =
		"Run a local emulator of the Tencent Cloud CVM API on loopback, with a world of\n"
		"regions, zones, instance types, stock and spot prices, and faults on demand.\n"
		"It prints its address and the test credential, and runs until interrupted.\n"
		"See docs/sim.md for the world file, the control API and fault semantics.",
	.opts = sim_opts,
	.subs = sim_subs,
};

/* A rate option (NULL: not given, *out unchanged); 0 or an exit code. */
static int parse_rate(const char *name, const char *s, double max, double *out)
{
	char *end;
	double v;

	if (!s)
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !*s || *end || !(v >= 0) || v > max)
		return cmd_usagef("sim",
				  "option '--%s' expects a number from 0 to %g, got '%s'",
				  name, max, s);
	*out = v;
	return 0;
}

/* An on|off option (NULL: not given, *out unchanged); 0 or an exit code. */
static int parse_switch(const char *name, const char *s, int *out)
{
	if (!s)
		return 0;
	if (strcmp(s, "on") && strcmp(s, "off"))
		return cmd_usagef("sim", "option '--%s' expects on or off, got '%s'",
				  name, s);
	*out = !strcmp(s, "on");
	return 0;
}

static int write_port_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int ret = 0;

	if (!f) {
		ret = cmd_errorf("cannot write port file '%s': %s", tmp, strerror(errno));
	} else if ((fprintf(f, "%d\n", port) < 0) | (fclose(f) != 0)) {
		ret = cmd_errorf("cannot write port file '%s': %s", tmp, strerror(errno));
	} else if (rename(tmp, path)) {
		ret = cmd_errorf("cannot write port file '%s': %s", path,
				 strerror(errno));
	}
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

/* -v: one line per request on stderr. */
static void sim_log(void *ctx, const char *line)
{
	UNUSED(ctx);
	cmd_notef("sim: %s", line);
}

/* The start-up knobs into sim_o; 0 or an exit code. */
static int sim_knobs(void)
{
	int ret;

	if (seed) {
		char *end;

		errno = 0;
		sim_o.seed = strtoull(seed, &end, 10);
		if (errno || !*seed || *end || *seed == '-')
			return cmd_usagef(
				"sim", "option '--seed' expects a whole number, got '%s'",
				seed);
	}
	sim_o.latency_ms = latency;
	sim_o.pending_ms = pending;
	sim_o.terminating_ms = terminating;
	sim_o.tag_lag_ms = tag_lag;
	sim_o.launch_failed_ttl_ms = lfailed_ttl;
	sim_o.spot_quota_vcpu = spot_quota;
	sim_o.no_rate_limits = no_rate_limits;
	if (verbose)
		sim_o.log = sim_log;
	if ((ret = parse_rate("internal-error-rate", ierr, 1,
			      &sim_o.internal_error_rate)) ||
	    (ret = parse_rate("drop-after-commit-rate", drop, 1,
			      &sim_o.drop_after_commit_rate)) ||
	    (ret = parse_rate("reclaim-per-minute", reclaim, 1e6,
			      &sim_o.reclaim_per_minute)))
		return ret;
	return parse_rate("launch-fail-rate", lfail, 1, &sim_o.launch_fail_rate);
}

int cmd_sim(const struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct sim *s = NULL;
	sigset_t set;
	int ret, sig = 0;

	if (ctx->args.n) {
		ret = cmd_usagef("sim", "unexpected argument '%s'", ctx->args.v[0]);
		goto done;
	}
	if ((ret = sim_knobs()) != 0)
		goto done;
	if (sim_new(&s, &sim_o, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	/* signals go to sigwait below, never to the server threads */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sim_listen(s, listen_at, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	printf("listening on %s\n", sim_url(s));
	printf("SecretId: %s  SecretKey: %s\n", SIM_DEFAULT_SECRET_ID,
	       SIM_DEFAULT_SECRET_KEY);
	/* whoever started us reads these lines now, not at exit */
	if ((ret = cmd_flush_stdout()) != 0)
		goto done;
	if (port_file && (ret = write_port_file(port_file, sim_port(s))) != 0)
		goto done;
	sigwait(&set, &sig);
	sim_stop(s);
	if (sim_save_state(s, &e) < 0)
		ret = cmd_error_err(&e);
done:
	sim_free(s);
	err_clear(&e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* spotenv sim ctl */

/* The fault options as sim_ctl_faults() takes them; 0 or an exit code. */
static int ctl_faults(struct sim_ctl_faults *f)
{
	int ret;

	f->latency_ms = c_latency;
	f->pending_ms = c_pending;
	f->terminating_ms = c_terminating;
	f->tag_lag_ms = c_tag_lag;
	f->launch_failed_ttl_ms = c_lfailed_ttl;
	f->spot_quota_vcpu = c_spot_quota;
	if ((ret = parse_rate("internal-error-rate", c_ierr, 1,
			      &f->internal_error_rate)) ||
	    (ret = parse_rate("drop-after-commit-rate", c_drop, 1,
			      &f->drop_after_commit_rate)) ||
	    (ret = parse_rate("reclaim-per-minute", c_reclaim, 1e6,
			      &f->reclaim_per_minute)) ||
	    (ret = parse_rate("launch-fail-rate", c_lfail, 1, &f->launch_fail_rate)) ||
	    (ret = parse_rate("operation-in-progress-rate", c_op_rate, 1,
			      &f->operation_in_progress_rate)) ||
	    (ret = parse_switch("insufficient-balance", c_balance,
				&f->insufficient_balance)) ||
	    (ret = parse_switch("account-quota-unsupported", c_acct_quota,
				&f->account_quota_unsupported)))
		return ret;
	return parse_switch("rate-limits", c_rate_limits, &f->rate_limits);
}

static int sim_ctl(const struct cmd_ctx *ctx)
{
	const struct cmd_strlist *args = &ctx->args;
	const char *verb = args->v[0], *endpoint = c_endpoint, *json = NULL;
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	int ret = 0, error;

	if (!endpoint)
		endpoint = getenv("SPOTENV_ENDPOINT");
	if (!endpoint || !*endpoint) {
		ret = cmd_usagef("sim",
				 "'sim ctl' needs --endpoint URL or SPOTENV_ENDPOINT");
		goto done;
	}
	/* the control API resets worlds: loopback only, refused before anything is sent
	 */
	if (sim_ctl_check_endpoint(endpoint, &e) < 0) {
		ret = cmd_errorf("%s%s", e.msg,
				 c_endpoint ? "" : " (from SPOTENV_ENDPOINT)");
		goto done;
	}
	/* a last argument that is a JSON object is the request body */
	if (args->n > 1 && args->v[args->n - 1][0] == '{')
		json = args->v[args->n - 1];
	if (!strcmp(verb, "stats") || !strcmp(verb, "state")) {
		if (args->n > 1) {
			ret = cmd_usagef("sim", "'sim ctl %s' takes no arguments", verb);
			goto done;
		}
		error = !strcmp(verb, "stats") ? sim_ctl_stats(&out, endpoint, &e)
					       : sim_ctl_state(&out, endpoint, &e);
	} else if (!strcmp(verb, "reset")) {
		error = sim_ctl_reset(&out, endpoint, json, &e);
	} else if (!strcmp(verb, "clock")) {
		error = sim_ctl_clock(&out, endpoint, json, &e);
	} else if (!strcmp(verb, "sts")) {
		if (args->n > 2 || (args->n == 2 && !json)) {
			ret = cmd_usagef(
				"sim", "'sim ctl sts' takes at most one argument, a JSON "
				       "object");
			goto done;
		}
		error = sim_ctl_sts(&out, endpoint, json, &e);
	} else if (!strcmp(verb, "faults")) {
		struct sim_ctl_faults f = SIM_CTL_FAULTS_INIT;

		if ((ret = ctl_faults(&f)) != 0)
			goto done;
		error = sim_ctl_faults(&out, endpoint, &f, json, &e);
	} else if (!strcmp(verb, "pool")) {
		struct sim_ctl_pool p = {
			c_region, c_zone, c_type, c_stock, c_price, -1
		};

		if ((ret = parse_switch("spot", c_spot, &p.spot)) != 0)
			goto done;
		error = sim_ctl_pool(&out, endpoint, &p, json, &e);
	} else if (!strcmp(verb, "reclaim")) {
		struct sim_ctl_reclaim r = { args->v + 1, json ? 0 : args->n - 1, c_count,
					     c_env };

		error = sim_ctl_reclaim(&out, endpoint, &r, json, &e);
	} else if (!strcmp(verb, "protect")) {
		int on = 1;

		if ((ret = parse_switch("protected", c_protected, &on)) != 0)
			goto done;
		error = sim_ctl_protect(&out, endpoint, args->v + 1,
					json ? 0 : args->n - 1, on, json, &e);
	} else if (!strcmp(verb, "operate")) {
		if (args->n < 2) {
			ret = cmd_usagef("sim",
					 "'sim ctl operate' needs reboot, stop or start, "
					 "and instance ids");
			goto done;
		}
		error = sim_ctl_operate(&out, endpoint, json ? NULL : args->v[1],
					args->v + 2, json ? 0 : args->n - 2, c_ms, json,
					&e);
	} else {
		ret = cmd_usagef("sim", "unknown 'sim ctl' verb '%s'", verb);
		goto done;
	}
	if (error) {
		ret = cmd_error_err(&e);
		goto done;
	}
	if (!out.len || buf_str(&out)[out.len - 1] != '\n')
		buf_putc(&out, '\n');
	ret = cmd_put_stdout(&out);
done:
	buf_release(&out);
	err_clear(&e);
	return ret;
}
