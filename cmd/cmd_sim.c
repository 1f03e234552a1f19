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
#include <curl/curl.h>
#include <cjson/cJSON.h>
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

static size_t ctl_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	return buf_put(b, ptr, size * n) < 0 ? 0 : size * n;
}

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

static void add_num(cJSON *o, const char *k, int v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, v);
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
	struct buf reply = BUF_INIT;
	const char *verb, *method = "GET", *json_arg = NULL;
	char *url = NULL, *body = NULL;
	cJSON *doc = NULL;
	CURL *curl = NULL;
	struct curl_slist *hdrs = NULL;
	long status = 0;
	double d;
	int ret;

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
		json_arg = args.v[args.n - 1];
	doc = cJSON_CreateObject();
	if (!strcmp(verb, "stats") || !strcmp(verb, "state")) {
		if (args.n > 1) {
			ret = cmd_usagef("sim", "'sim ctl %s' takes no arguments", verb);
			goto done;
		}
	} else if (!strcmp(verb, "reset")) {
		method = "POST";
	} else if (!strcmp(verb, "clock")) {
		if (json_arg)
			method = "POST";
	} else if (!strcmp(verb, "faults")) {
		add_num(doc, "latencyMs", latency);
		add_num(doc, "pendingMs", pending);
		add_num(doc, "terminatingMs", terminating);
		add_num(doc, "tagLagMs", tag_lag);
		if ((ret = parse_rate("internal-error-rate", ierr, 1, &d)))
			goto done;
		if (ierr)
			cJSON_AddNumberToObject(doc, "internalErrorRate", d);
		if ((ret = parse_rate("drop-after-commit-rate", drop, 1, &d)))
			goto done;
		if (drop)
			cJSON_AddNumberToObject(doc, "dropAfterCommitRate", d);
		if ((ret = parse_rate("reclaim-per-minute", reclaim, 1e6, &d)))
			goto done;
		if (reclaim)
			cJSON_AddNumberToObject(doc, "reclaimPerMinute", d);
		if ((ret = parse_rate("launch-fail-rate", lfail, 1, &d)))
			goto done;
		if (lfail)
			cJSON_AddNumberToObject(doc, "launchFailRate", d);
		if (rl && strcmp(rl, "on") && strcmp(rl, "off")) {
			ret = cmd_usagef("sim", "option '--rate-limits' expects on or off, got '%s'", rl);
			goto done;
		}
		if (rl)
			cJSON_AddBoolToObject(doc, "rateLimits", !strcmp(rl, "on"));
		if (cJSON_GetArraySize(doc) > 0 || json_arg)
			method = "POST";
	} else if (!strcmp(verb, "pool")) {
		if (zone || type || json_arg) {
			method = "POST";
			if (region)
				cJSON_AddStringToObject(doc, "region", region);
			if (zone)
				cJSON_AddStringToObject(doc, "zone", zone);
			if (type)
				cJSON_AddStringToObject(doc, "instanceType", type);
			add_num(doc, "stock", stock);
			if (price)
				cJSON_AddStringToObject(doc, "price", price);
		}
	} else if (!strcmp(verb, "reclaim")) {
		method = "POST";
		if (args.n > 1 && !json_arg) {
			cJSON *ids = cJSON_AddArrayToObject(doc, "instanceIds");

			for (size_t i = 1; i < args.n; i++)
				cJSON_AddItemToArray(ids, cJSON_CreateString(args.v[i]));
		} else {
			cJSON_AddNumberToObject(doc, "count", count >= 0 ? count : 1);
			if (env)
				cJSON_AddStringToObject(doc, "env", env);
		}
	} else {
		ret = cmd_usagef("sim", "unknown 'sim ctl' verb '%s'", verb);
		goto done;
	}
	body = json_arg ? xstrdup(json_arg) : cJSON_PrintUnformatted(doc);
	url = xasprintf("%s%s_sim/%s", endpoint,
			endpoint[strlen(endpoint) - 1] == '/' ? "" : "/", verb);

	if (!(curl = curl_easy_init())) {
		ret = cmd_errorf("cannot initialize libcurl");
		goto done;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ctl_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (!strcmp(method, "POST"))
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	{
		CURLcode rc = curl_easy_perform(curl);

		if (rc != CURLE_OK) {
			ret = cmd_errorf("cannot reach the emulator at '%s': %s", endpoint,
					 curl_easy_strerror(rc));
			goto done;
		}
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 400) {
		cJSON *r = cJSON_Parse(buf_str(&reply));
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "error"));

		ret = cmd_errorf("%s", msg ? msg : buf_str(&reply));
		cJSON_Delete(r);
		goto done;
	}
	fwrite(buf_str(&reply), 1, reply.len, stdout);
	if (!reply.len || buf_str(&reply)[reply.len - 1] != '\n')
		putchar('\n');
	ret = cmd_finish_stdout(CMD_EXIT_OK);
done:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	cJSON_Delete(doc);
	free(body);
	free(url);
	buf_free(&reply);
	cmd_strlist_free(&args);
	return ret;
}
