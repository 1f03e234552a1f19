/*
 * common.c - setup shared by the API commands, done the same way for all.
 */
#include "../util/setup.h"
#include "../util/suggest.h"
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>

/* The environment of set whose name is closest to name, or NULL. */
static const char *closest_env(const struct spec_set *set, const char *name)
{
	const char **names = xcalloc(set->nenvs + 1, sizeof(*names));
	const char *best;

	for (size_t i = 0; i < set->nenvs; i++)
		names[i] = set->envs[i].name;
	best = suggest_closest(name, names, set->nenvs);
	free(names);
	return best;
}

int cmd_load_specs(struct spec_set *out, const struct cmd_strlist *paths,
		   const struct cmd_common *c, bool allow_unknown_env, size_t *nbad)
{
	struct errlist errs = ERRLIST_INIT;
	int ret = 0;

	assert(paths->n);
	if (nbad)
		*nbad = 0;
	spec_load_paths(out, paths->v, paths->n, &errs);
	if (errs.n) {
		errlist_sort(&errs);
		for (size_t i = 0; i < errs.n; i++)
			cmd_error_err(&errs.v[i]);
		if (!nbad || !out->nenvs) {
			cmd_fprintf(stderr,
				    "spotenv: %zu error%s in specs; nothing was done\n",
				    errs.n, errs.n == 1 ? "" : "s");
			ret = CMD_EXIT_ERROR;
			goto done;
		}
		/*
		 * Environments are independent: what did not load is skipped
		 * (its instances are left alone: without a spec, spotenv
		 * touches them only with --prune, which the caller refuses),
		 * the environments that loaded go on.
		 */
		*nbad = errs.n;
		cmd_warnf(
			"%zu error%s in specs: the environments they affect are skipped; "
			"the %zu that loaded go on",
			errs.n, errs.n == 1 ? "" : "s", out->nenvs);
	}
	for (size_t i = 0; i < c->envs.n; i++) {
		const char *name = c->envs.v[i], *best;

		if (spec_set_find(out, name))
			continue;
		best = closest_env(out, name);
		if (allow_unknown_env) {
			/* an environment whose spec is gone may still have instances */
			if (best)
				cmd_warnf(
					"no environment named '%s' in the specs (did you "
					"mean '%s'?); looking for its instances anyway",
					name, best);
			continue;
		}
		if (best)
			ret = cmd_errorf(
				"no environment named '%s' in the specs (did you "
				"mean '%s'?)",
				name, best);
		else if (errs.n)
			ret = cmd_errorf("no environment named '%s' in the specs that "
					 "loaded (%zu error%s above)",
					 name, errs.n, errs.n == 1 ? "" : "s");
		else
			ret = cmd_errorf("no environment named '%s' in the specs", name);
		goto done;
	}
done:
	errlist_clear(&errs);
	return ret;
}

void cmd_warn_skipped(const struct plan *p, const char *then)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].nerrors)
			cmd_warnf_env(p->envs[i].name,
				      "environment '%s' has errors in its plan and is "
				      "skipped; %s",
				      p->envs[i].name, then);
}

int cmd_refuse_prune(size_t nbad)
{
	return cmd_errorf("--prune is refused while %zu error%s in specs: spotenv "
			  "cannot tell an environment that was deleted from one whose "
			  "file does not load; nothing was done",
			  nbad, nbad == 1 ? "" : "s");
}

static void log_line(void *ctx, const char *line)
{
	UNUSED(ctx);
	cmd_fprintf(stderr, "spotenv: api: %s\n", line);
}

int cmd_open_client(struct tc_client **out, const struct cmd_common *c)
{
	struct tc_cred cred = { 0 };
	struct tc_client_opts opts;
	struct err e = ERR_INIT;
	int ret = 0;

	memset(&opts, 0, sizeof(opts));
	if (tc_cred_load(&cred, c->profile, &e) < 0) {
		ret = cmd_error_err(&e);
		goto done;
	}
	opts.endpoint = c->endpoint;
	opts.parallelism = c->parallelism;
	if (c->verbose) {
		opts.log = log_line;
		opts.log_ctx = NULL;
	}
	if (tc_client_new(out, &cred, &opts, &e) < 0)
		ret = cmd_error_err(&e);
done:
	tc_cred_clear(&cred);
	err_clear(&e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Where a plan was made (docs/plan-format.md, "Where a plan was made") */

/* The region the account is asked in: the plan's first environment's. */
static const char *account_region(const struct plan *p)
{
	for (size_t i = 0; i < p->nenvs; i++)
		if (p->envs[i].region)
			return p->envs[i].region;
	return NULL;
}

int cmd_learn_account(char **out, struct tc_client *client, const struct plan *p,
		      struct err *e)
{
	struct tc_spot_quota_list rows = { NULL, 0, 0 };
	const char *region = account_region(p);
	int error;

	*out = NULL;
	if (!region)
		return err_set(e, ERR_INVALID, "the plan has no region to ask in");
	error = tc_describe_spot_quota(client, region, &rows, out, e);
	tc_spot_quota_list_clear(&rows);
	if (!error && !*out)
		error = err_set(e, ERR_INVALID,
				"DescribeAccountQuota answered without an AppId");
	return error;
}

/*
 * The endpoint a client made from c's options would talk to, without
 * credentials (an offline plan): the client is the one place endpoints are
 * checked and normalised, so one is made with a placeholder credential,
 * asked, and freed; nothing is sent.
 */
static int endpoint_of(char **out, const struct cmd_common *c)
{
	struct tc_cred cred;
	struct tc_client_opts opts;
	struct tc_client *client = NULL;
	struct err e = ERR_INIT;
	int ret = 0;

	memset(&cred, 0, sizeof(cred));
	memset(&opts, 0, sizeof(opts));
	cred.secret_id = (char *)"-";
	cred.secret_key = (char *)"-";
	opts.endpoint = c->endpoint;
	if (tc_client_new(&client, &cred, &opts, &e) < 0)
		ret = cmd_error_err(&e);
	else
		*out = xstrdup(tc_client_endpoint(client));
	tc_client_free(client);
	err_clear(&e);
	return ret;
}

int cmd_plan_bind(struct plan *p, struct tc_client *client, const struct cmd_common *c)
{
	struct err e = ERR_INIT;
	int ret = 0;

	free(p->endpoint);
	free(p->account);
	p->endpoint = p->account = NULL;
	if (client)
		p->endpoint = xstrdup(tc_client_endpoint(client));
	else if ((ret = endpoint_of(&p->endpoint, c)) != 0)
		return ret;
	if (c->observed) {
		if (!c->quiet)
			cmd_notef(
				"a plan made from a snapshot does not know the account; it is bound "
				"to the endpoint '%s' alone",
				p->endpoint);
	} else if (cmd_learn_account(&p->account, client, p, &e) < 0) {
		/* not permitted, or not answered: say so, bind to the endpoint alone */
		if (!c->quiet)
			cmd_notef(
				"the account could not be learned (%s%s%s); the plan is bound to "
				"the endpoint '%s' alone",
				e.api_code ? e.api_code : "", e.api_code ? ": " : "",
				e.msg ? e.msg : "unknown error", p->endpoint);
	}
	err_clear(&e);
	return ret;
}

/* "ENDPOINT (account A)", or "(account unknown)". */
static char *where(const char *endpoint, const char *account)
{
	return xasprintf("%s (account %s)", endpoint ? endpoint : "?",
			 account ? account : "unknown");
}

int cmd_check_binding(const struct plan *p, struct tc_client *client)
{
	const char *now = tc_client_endpoint(client);
	char *account = NULL, *made = NULL, *here = NULL;
	struct err e = ERR_INIT;
	int ret = 0;

	if (!p->endpoint) {
		ret = cmd_errorf(
			"refusing the saved plan: it does not say where it was made (no "
			"'endpoint': written by an older spotenv, or edited); make a new one "
			"with 'spotenv plan -o FILE'");
		goto done;
	}
	made = where(p->endpoint, p->account);
	if (strcmp(p->endpoint, now)) {
		ret = cmd_errorf("plan was made against %s, not %s; nothing was done",
				 made, now);
		goto done;
	}
	if (!p->account)
		goto done; /* bound to the endpoint alone */
	if (cmd_learn_account(&account, client, p, &e) < 0) {
		cmd_error_err(&e);
		ret = cmd_errorf(
			"cannot tell which account these credentials belong to, so the "
			"plan made against %s is not applied; nothing was done",
			made);
		goto done;
	}
	if (strcmp(p->account, account)) {
		here = where(now, account);
		ret = cmd_errorf("plan was made against %s, not %s; nothing was done",
				 made, here);
	}
done:
	free(account);
	free(made);
	free(here);
	err_clear(&e);
	return ret;
}

int cmd_observe(struct plan_observed *out, struct tc_client *client,
		const struct spec_set *specs, const struct cmd_common *c, bool offers)
{
	struct err e = ERR_INIT;
	int ret = 0;

	if (c->observed) {
		char *data = NULL;
		size_t len = 0;

		if ((ret = cmd_read_file(c->observed, &data, &len)) != 0)
			return ret;
		if (plan_observed_from_json(out, data, len, &e) < 0)
			ret = cmd_errorf("'%s': %s", c->observed,
					 e.msg ? e.msg : "invalid snapshot");
		free(data);
		err_clear(&e);
		return ret;
	}
	if (apply_observe(out, APPLY_CLOUD_TC(client), specs, c->envs.v, c->envs.n,
			  offers, &e) < 0)
		ret = cmd_error_err(&e);
	err_clear(&e);
	return ret;
}

int cmd_observe_and_plan(struct plan **out, struct plan_observed *obs,
			 struct tc_client *client, const struct spec_set *specs,
			 const struct cmd_common *c, bool prune, int max_release)
{
	struct plan_input in;
	struct err e = ERR_INIT;
	int ret;

	if ((ret = cmd_observe(obs, client, specs, c, true)) != 0)
		return ret;
	memset(&in, 0, sizeof(in));
	in.specs = specs;
	in.observed = obs;
	in.prune = prune;
	in.max_release = max_release;
	in.envs = c->envs.v;
	in.nenvs = c->envs.n;
	if (plan_make(out, &in, &e) < 0)
		ret = cmd_error_err(&e);
	err_clear(&e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The spot quota of the pools' zones (status, plan --check) */

bool cmd_spot_quota(struct apply_quota *q, struct tc_client *client, const struct plan *p)
{
	struct err e = ERR_INIT;
	bool ok = true;

	memset(q, 0, sizeof(*q));
	if (apply_spot_quota_plan(q, APPLY_CLOUD_TC(client), p, &e) < 0) {
		/* informational: not permitted or not answered is no stopped run */
		cmd_warnf("the spot quota is unknown: %s%s%s%s",
			  e.msg ? e.msg : "unknown error", e.api_code ? " (" : "",
			  e.api_code ? e.api_code : "", e.api_code ? ")" : "");
		apply_quota_clear(q);
		ok = false;
	}
	err_clear(&e);
	return ok;
}

bool cmd_quota_zone_used(const struct plan *p, const char *zone)
{
	for (size_t i = 0; zone && i < p->nenvs; i++)
		for (size_t k = 0; k < p->envs[i].npools; k++)
			if (p->envs[i].pools[k].zone &&
			    !strcmp(p->envs[i].pools[k].zone, zone))
				return true;
	return false;
}

/* A count of the quota table: "?" when the API did not give it. */
static void quota_count(struct buf *out, int width, int64_t v)
{
	if (v < 0)
		buf_printf(out, " %*s", width, "?");
	else
		buf_printf(out, " %*" PRId64, width, v);
}

bool cmd_quota_text(struct buf *out, const struct plan *p, const struct apply_quota *q,
		    const char *lead)
{
	bool head = false;

	for (size_t i = 0; q && i < q->n; i++) {
		const struct tc_spot_quota *r = &q->v[i].row;

		if (!cmd_quota_zone_used(p, r->zone))
			continue;
		if (!head)
			buf_printf(out, "%s%-28s %7s %9s %7s\n", lead,
				   "SPOT QUOTA (vCPU) / ZONE", "USED", "REMAINING",
				   "TOTAL");
		head = true;
		/* r->zone is the text of a spec's pool zone (checked on load) */
		buf_printf(out, "  %-26s", r->zone);
		quota_count(out, 7, r->used);
		quota_count(out, 9, r->remaining);
		quota_count(out, 7, r->total);
		buf_putc(out, '\n');
	}
	return head;
}

int cmd_render_plan(struct buf *out, const struct plan *p, const char *format, bool color)
{
	int error;

	if (!strcmp(format, "text"))
		error = plan_render_text(out, p, color);
	else if (!strcmp(format, "json"))
		error = plan_to_json(out, p);
	else if (!strcmp(format, "markdown"))
		error = plan_render_markdown(out, p);
	else
		return cmd_usagef(NULL,
				  "unknown format '%s' (expected text, json or markdown)",
				  format);
	if (error)
		return cmd_errorf("plan too large to render");
	return 0;
}

const char *const cmd_values_plan_format[] = { "text", "json", "markdown", NULL };
const char *const cmd_values_text_json[] = { "text", "json", NULL };
const char *const cmd_values_on_off[] = { "on", "off", NULL };

bool cmd_format_valid(const char *format)
{
	return !strcmp(format, "text") || !strcmp(format, "json") ||
	       !strcmp(format, "markdown");
}

/* Plans and snapshots are read whole; none spotenv writes comes near this. */
#define CMD_MAX_READ (64 << 20)

int cmd_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f)
		return cmd_errorf("cannot open '%s': %s", path, strerror(errno));
	buf_init(&b, CMD_MAX_READ);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_put(&b, chunk, n) < 0) {
			if (f != stdin)
				fclose(f);
			buf_release(&b);
			return cmd_errorf("'%s' is larger than %d MiB", path,
					  CMD_MAX_READ >> 20);
		}
	if (ferror(f)) {
		int saved = errno;

		if (f != stdin)
			fclose(f);
		buf_release(&b);
		return cmd_errorf("cannot read '%s': %s", path, strerror(saved));
	}
	if (f != stdin)
		fclose(f);
	*data = buf_detach(&b, len);
	return 0;
}

int cmd_write_file(const char *path, const char *data, size_t len)
{
	return cmd_write_file_mode(path, data, len, 0644);
}

int cmd_write_file_mode(const char *path, const char *data, size_t len, mode_t mode)
{
	if (!strcmp(path, "-")) {
		/* "-" is standard output, as for every tool that writes files */
		if (len && fwrite(data, 1, len, stdout) != len)
			return cmd_errorf("cannot write to standard output: %s",
					  strerror(errno));
		return 0;
	}

	/*
	 * A fresh temporary name next to path (mkstemp: O_EXCL, so never a
	 * file or symlink planted in a shared directory, and 0600 from the
	 * start), then mode less the umask, then rename over path.
	 */
	char *tmp = NULL;
	int fd = -1;
	int ret = 0;
	size_t off = 0;
	mode_t mask;
	struct stat st;

	/*
	 * Only a regular file is replaced: rename() over a device node, a FIFO
	 * or a socket would replace it with a JSON file (as root, /dev/full).
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return cmd_errorf(
			"cannot write '%s': it exists and is not a regular file", path);
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, mode & ~mask) < 0)
		ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
	while (!ret && off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (!ret && fsync(fd) < 0)
		ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
	if (close(fd) < 0 && !ret)
		ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
	if (!ret && rename(tmp, path) < 0)
		ret = cmd_errorf("cannot write '%s': %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
done:
	free(tmp);
	return ret;
}
