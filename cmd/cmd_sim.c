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

static const char sim_usage[] =
	"sim [--listen 127.0.0.1:8787] [--port-file FILE] [--config world.yaml] [--state FILE]\n"
	"           [--seed N] [--latency-ms N] [--pending-ms N] [--terminating-ms N]\n"
	"           [--tag-lag-ms N] [--internal-error-rate R] [--drop-after-commit-rate R]\n"
	"           [--reclaim-per-minute N] [--launch-fail-rate R] [--no-rate-limits] [-v]\n"
	"   or: spotenv sim ctl [--endpoint URL] reclaim|pool|faults|stats|state|reset|clock ...";

static const char sim_about[] =
	"Run a local emulator of the Tencent Cloud CVM API on loopback, with a world of\n"
	"regions, zones, instance types, stock and spot prices, and faults on demand.\n"
	"It prints its address and the test credential, and runs until interrupted.\n"
	"See docs/sim.md for the world file, the control API and fault semantics.";

static int parse_rate(const char *name, const char *s, double max, double *out)
{
	char *end;
	double v;

	if (!s)
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !*s || *end || !(v >= 0) || v > max)
		return cmd_usagef("sim", "option '--%s' expects a number from 0 to %g, got '%s'", name,
				  max, s);
	*out = v;
	return 0;
}

static int write_port_file(const char *path, int port)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int ret = 0;

	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
		if (f)
			fclose(f);
		ret = cmd_errorf("cannot write port file '%s': %s", tmp, strerror(errno));
	} else if (rename(tmp, path)) {
		ret = cmd_errorf("cannot write port file '%s': %s", path, strerror(errno));
	}
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

static int cmd_sim_ctl(int argc, char **argv);

/* -v: one line per request on stderr. */
static void sim_log(void *ctx, const char *line)
{
	UNUSED(ctx);
	cmd_notef("sim: %s", line);
}

int cmd_sim(int argc, char **argv)
{
	const char *listen = "127.0.0.1:8787", *port_file = NULL, *seed = NULL;
	const char *ierr = NULL, *drop = NULL, *reclaim = NULL, *lfail = NULL;
	int latency = -1, pending = -1, terminating = -1, tag_lag = -1;
	bool no_rate_limits = false;
	int verbose = 0;
	struct sim_opts o = SIM_OPTS_INIT;
	const struct cmd_opt opts[] = {
		{ CMD_OPT_STR, "listen", 0, &listen, "HOST:PORT", "loopback address (port 0 picks a free port)", 0, 0 },
		{ CMD_OPT_STR, "port-file", 0, &port_file, "FILE", "write the port to FILE once listening", 0, 0 },
		{ CMD_OPT_STR, "config", 0, &o.config_path, "FILE", "world file (YAML); default: the built-in world", 0, 0 },
		{ CMD_OPT_STR, "state", 0, &o.state_path, "FILE", "load the world from FILE if it exists; save it on exit", 0, 0 },
		{ CMD_OPT_STR, "seed", 0, &seed, "N", "random seed for ids and faults (default 1)", 0, 0 },
		{ CMD_OPT_INT, "latency-ms", 0, &latency, "N", "add N ms to every API answer", 0, INT_MAX },
		{ CMD_OPT_INT, "pending-ms", 0, &pending, "N", "PENDING lasts N ms (default 2000)", 0, INT_MAX },
		{ CMD_OPT_INT, "terminating-ms", 0, &terminating, "N", "TERMINATING lasts N ms (default 1000)", 0, INT_MAX },
		{ CMD_OPT_INT, "tag-lag-ms", 0, &tag_lag, "N", "new instances invisible to tag filters for N ms", 0, INT_MAX },
		{ CMD_OPT_STR, "internal-error-rate", 0, &ierr, "R", "answer InternalError to this share of requests (0..1)", 0, 0 },
		{ CMD_OPT_STR, "drop-after-commit-rate", 0, &drop, "R", "drop the connection after this share of launches (0..1)", 0, 0 },
		{ CMD_OPT_STR, "reclaim-per-minute", 0, &reclaim, "N", "reclaim N random instances a minute", 0, 0 },
		{ CMD_OPT_STR, "launch-fail-rate", 0, &lfail, "R", "this share of new instances ends LAUNCH_FAILED (0..1)", 0, 0 },
		{ CMD_OPT_BOOL, "no-rate-limits", 0, &no_rate_limits, NULL, "turn off the per-action rate limits", 0, 0 },
		{ CMD_OPT_COUNT, "verbose", 'v', &verbose, NULL, "log every request on stderr", 0, 0 },
		{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
	};
	struct cmd_strlist args = { NULL, 0, 0 };
	struct err e = ERR_INIT;
	struct sim *s = NULL;
	sigset_t set;
	int ret = CMD_EXIT_OK, sig = 0;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return cmd_sim_ctl(argc - 1, argv + 1);
	ret = cmd_parse("sim", sim_usage, sim_about, opts, argc, argv, &args);
	if (ret) {
		ret = ret < 0 ? CMD_EXIT_OK : ret;
		goto done;
	}
	if (args.n) {
		ret = cmd_usagef("sim", "unexpected argument '%s'", args.v[0]);
		goto done;
	}
	if (seed) {
		char *end;

		errno = 0;
		o.seed = strtoull(seed, &end, 10);
		if (errno || !*seed || *end || *seed == '-') {
			ret = cmd_usagef("sim", "option '--seed' expects a whole number, got '%s'", seed);
			goto done;
		}
	}
	o.latency_ms = latency;
	o.pending_ms = pending;
	o.terminating_ms = terminating;
	o.tag_lag_ms = tag_lag;
	o.no_rate_limits = no_rate_limits;
	if (verbose)
		o.log = sim_log;
	if ((ret = parse_rate("internal-error-rate", ierr, 1, &o.internal_error_rate)) ||
	    (ret = parse_rate("drop-after-commit-rate", drop, 1, &o.drop_after_commit_rate)) ||
	    (ret = parse_rate("reclaim-per-minute", reclaim, 1e6, &o.reclaim_per_minute)) ||
	    (ret = parse_rate("launch-fail-rate", lfail, 1, &o.launch_fail_rate)))
		goto done;

	if (sim_new(&s, &o, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	/* signals go to sigwait below, never to the server threads */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sim_listen(s, listen, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	printf("listening on %s\n", sim_url(s));
	printf("SecretId: %s  SecretKey: %s\n", SIM_DEFAULT_SECRET_ID, SIM_DEFAULT_SECRET_KEY);
	if ((ret = cmd_finish_stdout(CMD_EXIT_OK)))
		goto done;
	if (port_file && (ret = write_port_file(port_file, sim_port(s))))
		goto done;
	sigwait(&set, &sig);
	sim_stop(s);
	if (sim_save_state(s, &e) < 0)
		ret = cmd_error_err(&e);

done:
	sim_free(s);
	err_clear(&e);
	cmd_strlist_free(&args);
	return ret;
}

/* ------------------------------------------------------------------ */
/* spotenv sim ctl */

static const char ctl_usage[] =
	"sim ctl [--endpoint URL] VERB [OPTIONS] [JSON]\n\n"
	"Verbs:\n"
	"  stats                         request, error and instance counters\n"
	"  state                         the whole world as JSON\n"
	"  reset                         back to the start-up world\n"
	"  faults [--latency-ms N ...]   show or change faults\n"
	"  pool [--zone Z --type T [--stock N] [--price P]]   show or change pools\n"
	"  reclaim [--count N] [--env NAME] [ID...]           reclaim instances\n"
	"  clock ['{\"now\":MS}' | '{\"offsetMs\":N}']         show or move the clock\n"
	"A JSON object argument is sent as the request body as it is.";

/* The fault options as sim_ctl_faults wants them; 0 or an exit code. */
static int ctl_faults_opts(struct sim_ctl_faults *f, int latency, int pending, int terminating,
			   int tag_lag, const char *ierr, const char *drop, const char *reclaim,
			   const char *lfail, const char *rl)
{
	int ret;

	f->latency_ms = latency;
	f->pending_ms = pending;
	f->terminating_ms = terminating;
	f->tag_lag_ms = tag_lag;
	if ((ret = parse_rate("internal-error-rate", ierr, 1, &f->internal_error_rate)) ||
	    (ret = parse_rate("drop-after-commit-rate", drop, 1, &f->drop_after_commit_rate)) ||
	    (ret = parse_rate("reclaim-per-minute", reclaim, 1e6, &f->reclaim_per_minute)) ||
	    (ret = parse_rate("launch-fail-rate", lfail, 1, &f->launch_fail_rate)))
		return ret;
	if (rl && strcmp(rl, "on") && strcmp(rl, "off"))
		return cmd_usagef("sim", "option '--rate-limits' expects on or off, got '%s'", rl);
	if (rl)
		f->rate_limits = !strcmp(rl, "on");
	return 0;
}

static int cmd_sim_ctl(int argc, char **argv)
{
	const char *endpoint = NULL, *env = NULL, *zone = NULL, *type = NULL, *region = NULL;
	const char *price = NULL, *ierr = NULL, *drop = NULL, *reclaim = NULL, *rl = NULL;
	const char *lfail = NULL;
	int count = -1, stock = -1, latency = -1, pending = -1, terminating = -1, tag_lag = -1;
	const struct cmd_opt opts[] = {
		{ CMD_OPT_STR, "endpoint", 0, &endpoint, "URL", "emulator address (default: SPOTENV_ENDPOINT)", 0, 0 },
		{ CMD_OPT_INT, "count", 0, &count, "N", "reclaim: how many instances", 0, INT_MAX },
		{ CMD_OPT_STR, "env", 0, &env, "NAME", "reclaim: only instances of this environment", 0, 0 },
		{ CMD_OPT_STR, "region", 0, &region, "REGION", "pool: region (checked)", 0, 0 },
		{ CMD_OPT_STR, "zone", 0, &zone, "ZONE", "pool: zone", 0, 0 },
		{ CMD_OPT_STR, "type", 0, &type, "TYPE", "pool: instance type", 0, 0 },
		{ CMD_OPT_INT, "stock", 0, &stock, "N", "pool: new stock", 0, INT_MAX },
		{ CMD_OPT_STR, "price", 0, &price, "PRICE", "pool: new spot price (decimal)", 0, 0 },
		{ CMD_OPT_INT, "latency-ms", 0, &latency, "N", "faults: added latency", 0, INT_MAX },
		{ CMD_OPT_INT, "pending-ms", 0, &pending, "N", "faults: PENDING duration", 0, INT_MAX },
		{ CMD_OPT_INT, "terminating-ms", 0, &terminating, "N", "faults: TERMINATING duration", 0, INT_MAX },
		{ CMD_OPT_INT, "tag-lag-ms", 0, &tag_lag, "N", "faults: tag lag", 0, INT_MAX },
		{ CMD_OPT_STR, "internal-error-rate", 0, &ierr, "R", "faults: InternalError share", 0, 0 },
		{ CMD_OPT_STR, "drop-after-commit-rate", 0, &drop, "R", "faults: dropped launches share", 0, 0 },
		{ CMD_OPT_STR, "reclaim-per-minute", 0, &reclaim, "N", "faults: reclaim rate", 0, 0 },
		{ CMD_OPT_STR, "launch-fail-rate", 0, &lfail, "R", "faults: LAUNCH_FAILED share", 0, 0 },
		{ CMD_OPT_STR, "rate-limits", 0, &rl, "on|off", "faults: per-action rate limits", 0, 0 },
		{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
	};
	struct cmd_strlist args = { NULL, 0, 0 };
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	const char *verb, *json = NULL;
	int ret, error;

	ret = cmd_parse("sim", ctl_usage, "Talk to a running 'spotenv sim'.", opts, argc, argv,
			&args);
	if (ret) {
		ret = ret < 0 ? CMD_EXIT_OK : ret;
		goto done;
	}
	if (!args.n) {
		ret = cmd_usagef("sim", "'sim ctl' needs a verb: reclaim, pool, faults, stats, state, reset or clock");
		goto done;
	}
	if (!endpoint)
		endpoint = getenv("SPOTENV_ENDPOINT");
	if (!endpoint || !*endpoint) {
		ret = cmd_usagef("sim", "'sim ctl' needs --endpoint URL or SPOTENV_ENDPOINT");
		goto done;
	}
	verb = args.v[0];
	if (args.n > 1 && args.v[args.n - 1][0] == '{')
		json = args.v[args.n - 1];
	if (!strcmp(verb, "stats") || !strcmp(verb, "state")) {
		if (args.n > 1) {
			ret = cmd_usagef("sim", "'sim ctl %s' takes no arguments", verb);
			goto done;
		}
		error = !strcmp(verb, "stats") ? sim_ctl_stats(&out, endpoint, &e)
					       : sim_ctl_state(&out, endpoint, &e);
	} else if (!strcmp(verb, "reset")) {
		error = sim_ctl_reset(&out, endpoint, json, &e);
	} else if (!strcmp(verb, "clock")) {
		error = sim_ctl_clock(&out, endpoint, json, &e);
	} else if (!strcmp(verb, "faults")) {
		struct sim_ctl_faults f = SIM_CTL_FAULTS_INIT;

		if ((ret = ctl_faults_opts(&f, latency, pending, terminating, tag_lag, ierr, drop,
					   reclaim, lfail, rl)))
			goto done;
		error = sim_ctl_faults(&out, endpoint, &f, json, &e);
	} else if (!strcmp(verb, "pool")) {
		struct sim_ctl_pool p = { region, zone, type, stock, price };

		error = sim_ctl_pool(&out, endpoint, &p, json, &e);
	} else if (!strcmp(verb, "reclaim")) {
		struct sim_ctl_reclaim r = { args.v + 1, json ? 0 : args.n - 1, count, env };

		error = sim_ctl_reclaim(&out, endpoint, &r, json, &e);
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
	ret = cmd_finish_stdout(cmd_put_stdout(&out));
done:
	buf_free(&out);
	err_clear(&e);
	cmd_strlist_free(&args);
	return ret;
}
