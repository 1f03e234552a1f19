/*
 * cmd_apply.c - `spotenv apply` and `spotenv destroy`: converge, or tear
 * down, environments.
 *
 * Why so careful: apply spends money and deletes machines.  It does what
 * the plan says and nothing else, asks for a literal "yes" unless told
 * otherwise (and refuses without a terminal), refuses a saved plan whose
 * basis changed, holds a local lock so two runs never overlap (and with
 * --lock an etcd lock per scope, so runs on other machines do not either;
 * a run that loses it stops before it launches or releases more), and ends
 * with an exit code a cron job can alert on: 0 converged, 3 short, 1 error.
 */
#include "../util/setup.h"
#include "../util/duration.h"
#include "../applier/metrics.h"
#include "common.h"
#include "lock.h"

#include <sys/stat.h>

struct apply_cli {
	struct cmd_common c;
	bool auto_approve, no_wait, prune, strict;
	int64_t wait_timeout_ms, until_ms, lock_timeout_ms, lock_ttl_ms, poll_ms;
	int max_release;
	const char *metrics_file, *lock_file, *lock_url;
	bool destroy;
	/* progress */
	bool tty;
	int drawn;	      /* lines drawn last time (tty) */
	int64_t last_line_ms; /* plain mode */
	const char *last_phase;
	/* the round's inputs, for the converge callbacks */
	struct tc_client *client;
	const struct spec_set *set;
	struct plan *saved;	   /* a saved plan, until round 1 takes it */
	struct plan_observed *obs; /* what the round's plan was made from */
	bool plan_file;
};

/* Option values (file statics: the dispatcher parses into them). */
static struct apply_cli apply_cli = { .c = CMD_COMMON_INIT, .max_release = -1 };
static struct apply_cli destroy_cli = { .c = CMD_COMMON_INIT,
					.max_release = -1,
					.destroy = true };

static const struct cmd_opt apply_opts[] = {
	{ CMD_OPT_BOOL, "auto-approve", 0, &apply_cli.auto_approve, NULL,
	  "do not ask for confirmation", 0, 0 },
	{ CMD_OPT_BOOL, "no-wait", 0, &apply_cli.no_wait, NULL,
	  "do not wait for launched instances to run", 0, 0 },
	{ CMD_OPT_DURATION, "wait-timeout", 0, &apply_cli.wait_timeout_ms, "D",
	  "how long to wait for RUNNING (default 10m)", 0, 0 },
	{ CMD_OPT_DURATION, "until-converged", 0, &apply_cli.until_ms, "D",
	  "re-plan and retry short pools until converged or D passed", 0, 0 },
	{ CMD_OPT_INT, "max-release", 0, &apply_cli.max_release, "N",
	  "refuse to release more than N per environment", 0, 1000000 },
	{ CMD_OPT_BOOL, "prune", 0, &apply_cli.prune, NULL,
	  "release instances of environments no longer in the specs", 0, 0 },
	{ CMD_OPT_BOOL, "strict", 0, &apply_cli.strict, NULL,
	  "do nothing when any spec file or environment's plan has errors", 0, 0 },
	{ CMD_OPT_STR, "metrics-file", 0, &apply_cli.metrics_file, "FILE",
	  "write Prometheus textfile metrics", 0, 0 },
	{ CMD_OPT_STR, "lock-file", 0, &apply_cli.lock_file, "FILE",
	  "the local lock (default $SPOTENV_LOCK_FILE or a runtime dir)", 0, 0 },
	{ CMD_OPT_DURATION, "lock-timeout", 0, &apply_cli.lock_timeout_ms, "D",
	  "wait up to D for the locks (default: fail at once)", 0, 0 },
	{ CMD_OPT_STR, "lock", 0, &apply_cli.lock_url, "URL",
	  "also take an etcd lock per scope: etcd://HOST:PORT[/PREFIX] (default $SPOTENV_LOCK)",
	  0, 0 },
	{ CMD_OPT_DURATION, "lock-ttl", 0, &apply_cli.lock_ttl_ms, "D",
	  "the etcd lock's lease: a crashed holder's lock frees after D (default 30s)", 0,
	  0 },
	{ CMD_OPT_DURATION, "poll-interval", 0, &apply_cli.poll_ms, "D",
	  "how often to poll while waiting (default 2s)", 0, 0 },
	CMD_COMMON_API_OPTS(apply_cli.c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

static const struct cmd_opt destroy_opts[] = {
	{ CMD_OPT_BOOL, "auto-approve", 0, &destroy_cli.auto_approve, NULL,
	  "do not ask for confirmation", 0, 0 },
	{ CMD_OPT_BOOL, "no-wait", 0, &destroy_cli.no_wait, NULL, "do not wait", 0, 0 },
	{ CMD_OPT_INT, "max-release", 0, &destroy_cli.max_release, "N",
	  "refuse to release more than N per environment", 0, 1000000 },
	{ CMD_OPT_STR, "metrics-file", 0, &destroy_cli.metrics_file, "FILE",
	  "write Prometheus textfile metrics", 0, 0 },
	{ CMD_OPT_STR, "lock-file", 0, &destroy_cli.lock_file, "FILE", "the local lock",
	  0, 0 },
	{ CMD_OPT_DURATION, "lock-timeout", 0, &destroy_cli.lock_timeout_ms, "D",
	  "wait up to D for the locks", 0, 0 },
	{ CMD_OPT_STR, "lock", 0, &destroy_cli.lock_url, "URL",
	  "also take an etcd lock per scope (default $SPOTENV_LOCK)", 0, 0 },
	{ CMD_OPT_DURATION, "lock-ttl", 0, &destroy_cli.lock_ttl_ms, "D",
	  "the etcd lock's lease (default 30s)", 0, 0 },
	CMD_COMMON_API_OPTS(destroy_cli.c),
	{ CMD_OPT_END, NULL, 0, NULL, NULL, NULL, 0, 0 },
};

const struct cmd_syntax cmd_apply_syntax = {
	.usage =
		"apply (PATH... | PLANFILE) [--auto-approve] [--no-wait] [--wait-timeout D]\n"
		"                     [--until-converged D] [--max-release N] [--prune] [--env NAME]\n"
		"                     [--metrics-file F] [--lock-file F] [--lock URL] [--lock-timeout D]",
	.about =
		"Converge environments: release failed instances, launch what is missing\n"
		"(falling back across pools on capacity errors), wait until the new\n"
		"instances run, then release drifted and excess ones.  Without\n"
		"--auto-approve it shows the plan and asks for 'yes' (only on a terminal).\n"
		"A saved plan (plan -o FILE) is the approval; it is refused if stale.\n"
		"Exit 0 converged, 3 finished but short, 1 error.",
	.opts = apply_opts,
	.needs_args = "no specs or plan file given; e.g. 'spotenv apply specs/'",
};

const struct cmd_syntax cmd_destroy_syntax = {
	.usage =
		"destroy PATH... --env NAME [--auto-approve] [--no-wait] [--lock-file F]\n"
		"                     [--lock URL] [--lock-timeout D]",
	.about =
		"Release every instance of the named environments.  Only instances that\n"
		"carry spotenv's tags for those environments, in the scopes of the specs,\n"
		"are touched.",
	.opts = destroy_opts,
	.needs_args = "no specs given; e.g. 'spotenv destroy specs/ --env NAME'",
};

/* ------------------------------------------------------------------ */
/* Progress on stderr */

/*
 * Whether env has anything to show in phase: releases while releasing,
 * launches while launching and waiting, either at the end.  An
 * environment with nothing to do in a phase gets no line ("releasing: 0
 * released" says nothing).
 */
static bool progress_shows(const struct apply_progress *pr,
			   const struct apply_progress_env *e)
{
	if (!strcmp(pr->phase, "releasing"))
		return e->to_release > 0 || e->released > 0;
	if (!strcmp(pr->phase, "done"))
		return e->launched > 0 || e->released > 0;
	return e->to_launch > 0 || e->launched > 0;
}

/* A progress line as a JSON log event, with its environment and phase. */
static void progress_json(const struct apply_progress *pr,
			  const struct apply_progress_env *e, const char *el)
{
	struct cmd_log_fields f;
	char *msg = xasprintf("%d running, %d pending, %d failed, %d released (%s)",
			      e->running, e->pending, e->failed, e->released, el);

	cmd_log_fields_init(&f);
	f.environment = e->env;
	f.action = pr->phase;
	f.duration_ms = pr->elapsed_ms;
	cmd_log_event(CMD_LOG_INFO, "progress", &f, msg);
	free(msg);
}

static void progress(void *ctx, const struct apply_progress *pr)
{
	struct apply_cli *a = ctx;
	char el[32];
	int64_t now = time_now_ms();

	if (a->c.quiet)
		return;
	duration_format(el, sizeof(el), pr->elapsed_ms);
	if (a->tty) {
		if (a->drawn)
			fprintf(stderr, "\033[%dA", a->drawn);
		a->drawn = 0;
		for (size_t i = 0; i < pr->nenvs; i++) {
			const struct apply_progress_env *e = &pr->envs[i];

			if (!e->to_launch && !e->to_release && !e->launched &&
			    !e->released)
				continue;
			cmd_fprintf(
				stderr,
				"\033[2K  %-24s %s: %d running, %d pending, %d failed, "
				"%d released (%s)\n",
				e->env, pr->phase, e->running, e->pending, e->failed,
				e->released, el);
			a->drawn++;
		}
		fflush(stderr);
		return;
	}
	/* plain lines: on every phase change, then every 10 seconds */
	if (a->last_phase && !strcmp(a->last_phase, pr->phase) &&
	    now - a->last_line_ms < 10000)
		return;
	if (!strcmp(pr->phase, "waiting for tags") &&
	    (!a->last_phase || strcmp(a->last_phase, pr->phase)))
		cmd_notef("the new instances run; waiting until the API lists their "
			  "tags (it shows them late), so that the next run counts them "
			  "as its own");
	a->last_phase = pr->phase;
	a->last_line_ms = now;
	for (size_t i = 0; i < pr->nenvs; i++) {
		const struct apply_progress_env *e = &pr->envs[i];

		if (!progress_shows(pr, e))
			continue;
		if (cmd_log_json()) {
			progress_json(pr, e, el);
			continue;
		}
		cmd_fprintf(
			stderr,
			"spotenv: %s: %s: %d running, %d pending, %d failed, %d released (%s)\n",
			e->env, pr->phase, e->running, e->pending, e->failed, e->released,
			el);
	}
}

/* ------------------------------------------------------------------ */
/* Confirmation */

static int confirm(struct apply_cli *a, const char *verb)
{
	char line[64];

	if (a->auto_approve)
		return 0;
	if (!isatty(STDIN_FILENO))
		return cmd_errorf(
			"%s needs confirmation and standard input is not a terminal; "
			"pass --auto-approve to %s without asking",
			verb, verb);
	fprintf(stderr, "\nDo you want to perform these actions?\n"
			"  Only 'yes' will be accepted to approve.\n\n  Enter a value: ");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, "yes"))
		return cmd_errorf("%s cancelled", verb);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Metrics (Prometheus textfile format, applier/metrics.h, docs/metrics.md) */

/*
 * The file an earlier run wrote (the success timestamps carry over from
 * it), or NULL: absent, unreadable or not a regular file is no history.
 */
static char *previous_metrics(const char *path)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	FILE *f;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 22) ||
	    !(f = fopen(path, "r")))
		return NULL;
	data = xmalloc((size_t)st.st_size + 1);
	n = fread(data, 1, (size_t)st.st_size, f);
	data[n] = '\0';
	fclose(f);
	return data;
}

static int write_metrics(struct apply_cli *a, const struct apply_converge_result *cv,
			 const struct tc_client *client, int64_t duration_ms,
			 bool success)
{
	struct tc_client_stats st = { 0, 0, 0 };
	struct apply_metrics_in in;
	struct buf b = BUF_INIT;
	char *previous = previous_metrics(a->metrics_file);
	int ret;

	if (client)
		tc_client_stats(client, &st);
	memset(&in, 0, sizeof(in));
	in.cv = cv;
	in.waited = !a->no_wait;
	in.success = success;
	in.duration_ms = duration_ms;
	in.now = (int64_t)time(NULL);
	in.api_calls = st.calls;
	in.api_throttled = st.throttled;
	in.previous = previous;
	apply_metrics_render(&b, &in);
	ret = cmd_write_file(a->metrics_file, b.ptr, b.len);
	buf_release(&b);
	free(previous);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reporting */

/* The length of reason without its " (RequestId ...)" part. */
static size_t reason_key_len(const char *reason)
{
	const char *rid = strstr(reason, " (RequestId ");

	return rid ? (size_t)(rid - reason) : strlen(reason);
}

/*
 * An environment's reasons, each said once: the refusals of many calls
 * alike (a pool sold out for every chunk of a large launch) become one
 * line with the first RequestId and a count of the others.
 */
static void print_reasons(const struct apply_env_result *er)
{
	for (size_t k = 0; k < er->nreasons; k++) {
		const char *r = er->reasons[k];
		size_t len = reason_key_len(r), alike = 0;
		bool seen = false;

		for (size_t j = 0; j < k && !seen; j++)
			seen = reason_key_len(er->reasons[j]) == len &&
			       !strncmp(er->reasons[j], r, len);
		if (seen)
			continue;
		for (size_t j = k + 1; j < er->nreasons; j++)
			alike += reason_key_len(er->reasons[j]) == len &&
				 !strncmp(er->reasons[j], r, len);
		if (alike)
			cmd_fprintf(stdout, "  %s, and %zu more call%s alike\n", r, alike,
				    alike == 1 ? "" : "s");
		else
			cmd_fprintf(stdout, "  %s\n", r);
	}
}

static void report_result(const struct apply_cli *a,
			  const struct apply_converge_result *cv)
{
	const struct plan *p = cv->plan;
	const struct apply_result *r = &cv->res;
	size_t nenvs;
	/* every round of --until-converged counts */
	int launched = cv->launched, released = cv->released, converged = 0;

	for (size_t i = 0; i < r->nenvs; i++) {
		const struct apply_env_result *er = &r->envs[i];

		if (er->converged)
			continue;
		cmd_fprintf(stdout, "%s: not converged%s", er->env,
			    er->short_by ? "" : "\n");
		if (er->short_by)
			printf(" (%d short of %d)\n", er->short_by, er->desired);
		print_reasons(er);
	}
	/*
	 * Environments are those of the specs, as in the plan's closing line;
	 * orphans (released with --prune) are not counted.
	 */
	nenvs = 0;
	for (size_t i = 0; i < r->nenvs; i++) {
		if (i < p->nenvs && p->envs[i].orphan)
			continue;
		nenvs++;
		converged += r->envs[i].converged;
	}
	if ((size_t)r->converged == r->nenvs)
		printf("%s complete: %d launched, %d released. %d/%zu environments converged.\n",
		       a->destroy ? "Destroy" : "Apply", launched, released, converged,
		       nenvs);
	else
		printf("%s finished: %d launched, %d released. %d/%zu environments converged.\n",
		       a->destroy ? "Destroy" : "Apply", launched, released, converged,
		       nenvs);
}

static int check_max_release(const struct apply_cli *a, const struct plan *p)
{
	if (a->max_release < 0)
		return 0;
	for (size_t i = 0; i < p->nenvs; i++)
		if ((int)p->envs[i].nreleases > a->max_release)
			return cmd_errorf(
				"environment '%s' would release %zu instances, more than "
				"--max-release %d; nothing was done",
				p->envs[i].name, p->envs[i].nreleases, a->max_release);
	return 0;
}

static bool looks_like_plan_file(const char *path)
{
	struct stat st;
	FILE *f;
	int c = EOF;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (!(f = fopen(path, "r")))
		return false;
	do
		c = fgetc(f);
	while (c != EOF && isspace(c));
	fclose(f);
	return c == '{';
}

/* ------------------------------------------------------------------ */

/*
 * Read and check a saved plan (plan -o FILE), before the lock is taken and
 * before anything is asked of the API; 0 or an exit code.  A plan file is
 * untrusted: it must be a document spotenv could have made (plan_from_json
 * checks types, nulls, duplicates and bounds; plan_check holds every action
 * to the plan's own declarations), or the whole plan is refused, naming
 * each offending entry.
 */
static int load_saved_plan(const struct apply_cli *a, const char *path, struct plan **out)
{
	struct buf why = BUF_INIT;
	struct err e = ERR_INIT;
	char *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = cmd_read_file(path, &data, &len)) != 0)
		return ret;
	if (plan_from_json(out, data, len, &e) < 0) {
		ret = cmd_errorf("'%s' is not a spotenv plan: %s", path,
				 e.msg ? e.msg : "invalid");
	} else if (plan_check(*out, &why) < 0) {
		ret = cmd_errorf(
			"refusing the saved plan '%s': it is not a plan spotenv makes "
			"(edited?); nothing was done",
			path);
		cmd_print_lines(stderr, buf_str(&why));
	} else if (plan_has_errors(*out) && a->strict) {
		ret = cmd_errorf("the saved plan has errors (--strict); make a new one");
	} else {
		ret = check_max_release(a, *out);
	}
	free(data);
	buf_release(&why);
	err_clear(&e);
	return ret;
}

/*
 * Refuse a saved plan made against another endpoint or account; observe
 * what it was made from and refuse it, naming what
 * changed, when its basis moved, or naming each release that is not an
 * instance its environment owns now (apply_verify_plan); 0 or an exit
 * code.  Nothing that changes the world has been asked for yet.
 */
static int check_saved_plan(struct tc_client *client, const struct plan *saved,
			    struct plan_observed *obs)
{
	struct buf why = BUF_INIT;
	struct err e = ERR_INIT;
	int ret = 0;

	if ((ret = cmd_check_binding(saved, client)) != 0) {
		/* made against another endpoint or account (said) */
	} else if (apply_observe_plan(obs, APPLY_CLOUD_TC(client), saved, &e) < 0) {
		ret = cmd_error_err(&e);
	} else if (plan_basis_check(saved, obs, &why) < 0) {
		ret = cmd_errorf("plan is stale: the instances it was made from changed; "
				 "run 'spotenv plan' again");
		cmd_print_lines(stderr, buf_str(&why));
	} else if (apply_verify_plan(saved, obs, &why) < 0) {
		/* every release must be an instance the environment owns now */
		ret = cmd_errorf(
			"refusing the saved plan: it releases instances that are not "
			"its environments' own; nothing was done");
		cmd_print_lines(stderr, buf_str(&why));
	}
	buf_release(&why);
	err_clear(&e);
	return ret;
}

/*
 * The destroy plan: every owned instance of the --env environments, in the
 * scopes those environments have in the specs; 0 or an exit code.
 */
static int destroy_plan(const struct apply_cli *a, const struct spec_set *set,
			struct tc_client *client, struct plan_observed *obs,
			struct plan **out)
{
	const char **scopes = xcalloc(set->nenvs + 1, sizeof(*scopes));
	size_t nscopes = 0;
	struct err e = ERR_INIT;
	int ret = 0, limit = a->max_release;

	for (size_t i = 0; i < set->nenvs; i++) {
		bool named = false, seen = false;

		for (size_t k = 0; k < a->c.envs.n; k++)
			if (!strcmp(a->c.envs.v[k], set->envs[i].name))
				named = true;
		/*
		 * Without --max-release, destroy goes in steps of the named
		 * environments' limits.maxReleasePerApply (the smallest).
		 */
		if (named && a->max_release < 0 &&
		    set->envs[i].limits.max_release_per_apply >= 0 &&
		    (limit < 0 || set->envs[i].limits.max_release_per_apply < limit))
			limit = set->envs[i].limits.max_release_per_apply;
		for (size_t k = 0; k < nscopes; k++)
			if (!strcmp(scopes[k], set->envs[i].scope))
				seen = true;
		if (named && !seen)
			scopes[nscopes++] = set->envs[i].scope;
	}
	if (!nscopes)
		ret = cmd_errorf("no environment named %s'%s' in the specs",
				 a->c.envs.n > 1 ? "by --env, such as " : "",
				 a->c.envs.v[0]);
	else if ((ret = cmd_observe(obs, client, set, &a->c, false)) == 0 &&
		 plan_destroy(out, obs, a->c.envs.v, a->c.envs.n, scopes, nscopes, limit,
			      &e) < 0)
		ret = cmd_error_err(&e);
	free(scopes);
	err_clear(&e);
	return ret;
}

/* The plan as text on stdout. */
static void show_plan(const struct apply_cli *a, const struct plan *p)
{
	struct buf out = BUF_INIT;

	cmd_render_plan(&out, p, "text", cmd_use_color(stdout, a->c.no_color));
	cmd_put_stdout(&out);
	fflush(stdout);
	buf_release(&out);
}

/*
 * The token-chain memo (docs/idempotency.md): $SPOTENV_STATE_DIR, else
 * $XDG_STATE_HOME/spotenv, else ~/.local/state/spotenv, file tokens.json.
 * A cache: when the directory cannot be made, apply goes on without it.
 */
static char *memo_path(void)
{
	const char *dir = getenv("SPOTENV_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *d, *path;

	if (dir && *dir)
		d = xstrdup(dir);
	else if (xdg && *xdg == '/')
		d = xasprintf("%s/spotenv", xdg);
	else if (home && *home == '/')
		d = xasprintf("%s/.local/state/spotenv", home);
	else
		return NULL;
	if (mkdir(d, 0700) < 0 && errno != EEXIST) {
		/* ~/.local/state may not exist yet */
		char *parent = xstrdup(d), *slash = strrchr(parent, '/');

		if (slash && slash != parent) {
			*slash = '\0';
			if (!mkdir(parent, 0700) || errno == EEXIST)
				mkdir(d, 0700);
		}
		free(parent);
	}
	path = xasprintf("%s/tokens.json", d);
	free(d);
	return path;
}

/* apply_converge's plan callback: the saved plan, the destroy plan or a fresh one. */
static int round_plan(void *ctx, int round, struct plan **out)
{
	struct apply_cli *a = ctx;

	UNUSED(round);
	plan_observed_clear(a->obs);
	if (a->plan_file) {
		int ret = check_saved_plan(a->client, a->saved, a->obs);

		if (!ret) {
			*out = a->saved;
			a->saved = NULL;
		}
		return ret;
	}
	if (a->destroy)
		return destroy_plan(a, a->set, a->client, a->obs, out);
	return cmd_observe_and_plan(out, a->obs, a->client, a->set, &a->c, a->prune,
				    a->max_release);
}

/* apply_converge's approve callback: show the plan once, ask once. */
static int round_approve(void *ctx, int round, const struct plan *p)
{
	struct apply_cli *a = ctx;
	int ret = 0;

	if (plan_has_errors(p) && a->strict) {
		show_plan(a, p);
		return cmd_errorf("the plan has errors; nothing was done%s",
				  a->strict ? " (--strict)" : "");
	}
	if (round == 1 && !a->c.quiet && (!a->plan_file || !a->auto_approve))
		show_plan(a, p);
	else if (round == 1 && plan_has_errors(p))
		show_plan(a, p); /* the errors are for everyone to see, even with -q */
	/*
	 * Environments are independent: one whose plan has errors (bid below
	 * market, no usable pool) is skipped, the others go on; apply then
	 * exits 3.  --strict keeps the all-or-nothing of earlier versions.
	 */
	if (round == 1)
		cmd_warn_skipped(p, "the others go on");
	if (round == 1 && !a->plan_file && plan_has_changes(p))
		ret = confirm(a, a->destroy ? "destroy" : "apply");
	a->drawn = 0;
	a->last_phase = NULL;
	return ret;
}

/* apply_converge's between callback: say what comes next. */
static void round_between(void *ctx, enum apply_next next, const struct apply_result *r,
			  int64_t pause_ms)
{
	struct apply_cli *a = ctx;

	if (a->c.quiet)
		return;
	if (next == APPLY_NEXT_ROLLOUT)
		cmd_notef("replacing the next drifted instances");
	else
		cmd_notef("%zu of %zu environments short; trying again in %llds",
			  r->nenvs - (size_t)r->converged, r->nenvs,
			  (long long)pause_ms / 1000);
}

/*
 * The scopes the run may touch, for the distributed lock: a saved plan's,
 * the --env environments' for destroy, else every scope of the specs (a
 * plan observes, and --prune releases, in all of them).  The strings are
 * borrowed; the caller frees the array.
 */
static const char **lock_scopes(const struct apply_cli *a, const struct spec_set *set,
				size_t *n)
{
	const char **v;

	*n = 0;
	if (a->plan_file) {
		v = xcalloc(a->saved->nscopes + 1, sizeof(*v));
		for (size_t i = 0; i < a->saved->nscopes; i++)
			v[(*n)++] = a->saved->scopes[i];
		return v;
	}
	v = xcalloc(set->nenvs + 1, sizeof(*v));
	for (size_t i = 0; i < set->nenvs; i++) {
		bool named = !a->destroy;

		for (size_t k = 0; k < a->c.envs.n; k++)
			if (!strcmp(a->c.envs.v[k], set->envs[i].name))
				named = true;
		if (named)
			v[(*n)++] = set->envs[i].scope;
	}
	return v;
}

/* apply or destroy (a says which) on the parsed arguments; an exit code. */
static int apply_main(struct apply_cli *a, const struct cmd_strlist *args)
{
	struct spec_set set = SPEC_SET_INIT;
	struct plan_observed obs = PLAN_OBSERVED_INIT;
	struct tc_client *client = NULL;
	struct apply_converge_result cv;
	struct apply_converge_opts o;
	struct cmd_lock lock = CMD_LOCK_INIT;
	struct apply_cloud tc_cloud = { &apply_cloud_tc_ops, NULL };
	struct err e = ERR_INIT;
	const char *verb = a->destroy ? "destroy" : "apply", *lock_url = NULL,
		   **scopes = NULL;
	size_t nscopes = 0, nbad = 0;
	int64_t start = time_now_ms();
	struct apply_memo *memo = NULL;
	char *memo_file = NULL;
	int ret = 0;

	memset(&cv, 0, sizeof(cv));
	a->tty = isatty(STDERR_FILENO) == 1 && !getenv("NO_COLOR") && !a->c.no_color &&
		 !cmd_log_json();
	if (!a->destroy && args->n == 1 && looks_like_plan_file(args->v[0]))
		a->plan_file = true;
	if (a->plan_file && a->until_ms) {
		ret = cmd_usagef(
			verb,
			"--until-converged re-plans, so it needs specs, not a saved plan");
		goto done;
	}
	if (a->destroy && !a->c.envs.n) {
		ret = cmd_usagef(verb,
				 "name the environments to destroy with --env NAME");
		goto done;
	}
	if ((ret = cmd_lock_url(&lock_url, verb, a->lock_url)) != 0)
		goto done;
	if (a->lock_ttl_ms && (a->lock_ttl_ms < 1000 || a->lock_ttl_ms > 86400000)) {
		ret = cmd_usagef(verb, "--lock-ttl must be between 1s and 24h");
		goto done;
	}

	if (a->plan_file)
		ret = load_saved_plan(a, args->v[0], &a->saved);
	else
		ret = cmd_load_specs(&set, args, &a->c, a->destroy,
				     a->destroy || a->strict ? NULL : &nbad);
	if (ret)
		goto done;
	if (a->prune && nbad) {
		ret = cmd_refuse_prune(nbad);
		goto done;
	}
	if ((ret = cmd_open_client(&client, &a->c)) != 0)
		goto done;
	if ((ret = cmd_lock_acquire(&lock, a->lock_file, a->lock_timeout_ms, verb)) != 0)
		goto done;
	if (lock_url && (scopes = lock_scopes(a, &set, &nscopes)) && nscopes &&
	    (ret = cmd_lock_acquire_dist(&lock, lock_url, scopes, nscopes, a->lock_ttl_ms,
					 start + a->lock_timeout_ms, verb)) != 0)
		goto done;

	a->client = client;
	a->set = &set;
	a->obs = &obs;
	if ((memo_file = memo_path()) != NULL &&
	    apply_memo_load(&memo, memo_file, (int64_t)time(NULL), &e) < 0) {
		if (a->c.verbose)
			cmd_warnf("%s; going on without it", e.msg);
		err_clear(&e);
	}
	memset(&o, 0, sizeof(o));
	o.apply.memo = memo;
	o.until_ms = a->until_ms;
	o.apply.wait = !a->no_wait;
	o.apply.wait_timeout_ms = a->wait_timeout_ms;
	o.apply.poll_ms = a->poll_ms;
	o.apply.progress = progress;
	o.apply.progress_ctx = a;
	o.plan = round_plan;
	o.approve = round_approve;
	o.between = round_between;
	o.ctx = a;
	/* with the etcd lock, every call first checks that it still holds */
	tc_cloud.ctx = client;
	ret = apply_converge(&cv, cmd_lock_cloud(&lock, &tc_cloud), &o, &e);
	if (ret < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	if (ret)
		goto done;
	report_result(a, &cv);
	ret = (size_t)cv.res.converged == cv.res.nenvs ? CMD_EXIT_OK : CMD_EXIT_SHORT;
	if (nbad) {
		/* what did not load was skipped: not converged, whatever it is */
		cmd_warnf(
			"%zu error%s in specs: the environments they affect were skipped",
			nbad, nbad == 1 ? "" : "s");
		ret = CMD_EXIT_SHORT;
	}
done:
	if (a->metrics_file) {
		int mret = write_metrics(a, &cv, client, time_now_ms() - start,
					 ret == CMD_EXIT_OK && cv.have_result);

		if (mret && !ret)
			ret = mret;
	}
	if (memo && memo_file && apply_memo_save(memo, memo_file, &e) < 0) {
		if (a->c.verbose)
			cmd_warnf("%s", e.msg);
		err_clear(&e);
	}
	apply_memo_free(memo);
	free(memo_file);
	cmd_lock_release(&lock);
	free(scopes);
	apply_converge_result_clear(&cv);
	plan_free(a->saved);
	a->saved = NULL;
	plan_observed_clear(&obs);
	spec_set_release(&set);
	tc_client_free(client);
	err_clear(&e);
	return ret;
}

int cmd_apply(const struct cmd_ctx *ctx)
{
	return apply_main(&apply_cli, &ctx->args);
}

int cmd_destroy(const struct cmd_ctx *ctx)
{
	return apply_main(&destroy_cli, &ctx->args);
}
