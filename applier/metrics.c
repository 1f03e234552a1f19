/*
 * metrics.c - figures about an apply that are worth a gauge, and the
 * Prometheus textfile that carries them (docs/metrics.md), computed from
 * the plan, the outcome and the file the last run wrote (pure: no I/O, no
 * clock).
 *
 * Why here: what counts as active after an apply is the applier's
 * knowledge (which releases took active instances, what a launch adds
 * when apply did or did not wait), not the command layer's.  Money stays
 * in the plan's decimal strings: a cost is printed as the planner wrote
 * it, never through a double.
 */
#include "../util/setup.h"
#include "apply.h"
#include "metrics.h"

int apply_active_after(const struct plan_env *env, const struct apply_env_result *er,
		       bool waited)
{
	int failed = 0, released, active;

	/* failed instances were never active: releasing them takes nothing away */
	for (size_t k = 0; k < env->nreleases; k++)
		if (env->releases[k].reason == PLAN_REASON_FAILED)
			failed++;
	released = er->released > failed ? er->released - failed : 0;
	active = env->active + (waited ? er->running : er->launched) - released;
	return active > 0 ? active : 0;
}

void apply_metrics_label(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			buf_puts(out, "\\\\");
		else if (*s == '"')
			buf_puts(out, "\\\"");
		else if (*s == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *s);
	}
}

/* ------------------------------------------------------------------ */
/* Reading the last run's file */

/* One sample line: name, the env and scope labels (unescaped), the value. */
struct metrics_sample {
	char name[128];
	char env[256], scope[256];
	bool has_env, has_scope, has_labels;
	char value[64];
};

/* Parse a label value at *p (after the opening quote) into out; false if malformed. */
static bool metrics_parse_value(const char **p, char *out, size_t size)
{
	size_t n = 0;
	const char *s = *p;

	for (; *s && *s != '"' && *s != '\n'; s++) {
		char c = *s;

		if (c == '\\') {
			s++;
			c = *s == 'n' ? '\n' : *s;
			if (!c)
				return false;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	if (*s != '"')
		return false;
	out[n] = '\0';
	*p = s + 1;
	return true;
}

/* Parse line (up to a newline) into s; false for comments and malformed lines. */
static bool metrics_parse_line(const char *line, struct metrics_sample *s)
{
	const char *p = line;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == ':')) {
		if (n + 1 >= sizeof(s->name))
			return false;
		s->name[n++] = *p++;
	}
	if (!n)
		return false;
	if (*p == '{') {
		s->has_labels = true;
		p++;
		while (*p && *p != '}') {
			char key[64], skip[256], *dest = NULL;
			size_t k = 0, size = 0;

			while (*p && *p != '=' && *p != '}' && *p != '\n' &&
			       k + 1 < sizeof(key))
				key[k++] = *p++;
			key[k] = '\0';
			if (*p++ != '=' || *p++ != '"')
				return false;
			if (!strcmp(key, "env")) {
				dest = s->env;
				size = sizeof(s->env);
				s->has_env = true;
			} else if (!strcmp(key, "scope")) {
				dest = s->scope;
				size = sizeof(s->scope);
				s->has_scope = true;
			} else {
				dest = skip;
				size = sizeof(skip);
			}
			if (!metrics_parse_value(&p, dest, size))
				return false;
			if (*p == ',')
				p++;
		}
		if (*p++ != '}')
			return false;
	}
	if (*p != ' ')
		return false;
	while (*p == ' ')
		p++;
	n = strcspn(p, " \n");
	if (!n || n >= sizeof(s->value))
		return false;
	memcpy(s->value, p, n);
	s->value[n] = '\0';
	return true;
}

/* Call fn for every sample line of text named name; stop when it returns true. */
static bool metrics_each(const char *text, const char *name,
			 bool (*fn)(const struct metrics_sample *s, void *ctx), void *ctx)
{
	struct metrics_sample s;

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');

		if (*line != '#' && metrics_parse_line(line, &s) &&
		    !strcmp(s.name, name) && fn(&s, ctx))
			return true;
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

struct metrics_find {
	const char *env, *scope;
	char *out;
	size_t size;
};

static bool metrics_match(const struct metrics_sample *s, void *ctx)
{
	struct metrics_find *f = ctx;

	if (!f->env ? s->has_env : !s->has_env || strcmp(s->env, f->env))
		return false;
	if (!f->scope ? s->has_scope : !s->has_scope || strcmp(s->scope, f->scope))
		return false;
	if (strlen(s->value) >= f->size)
		return false;
	memcpy(f->out, s->value, strlen(s->value) + 1);
	return true;
}

bool apply_metrics_find(const char *text, const char *name, const char *env,
			const char *scope, char *out, size_t size)
{
	struct metrics_find f = { env, scope, out, size };

	return metrics_each(text, name, metrics_match, &f);
}

/* Whether s is a whole number of digits (a timestamp, a count). */
static bool metrics_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Whether s is a plain decimal: digits, optionally a point and digits. */
static bool metrics_decimal(const char *s)
{
	size_t n = s ? strspn(s, "0123456789") : 0;

	if (!n)
		return false;
	if (s[n] == '.')
		return s[n + 1] && !s[n + 1 + strspn(s + n + 1, "0123456789")];
	return !s[n];
}

/* ------------------------------------------------------------------ */
/* Writing */

static void metrics_header(struct buf *b, const char *name, const char *type,
			   const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{env="E",scope="S"} ` */
static void metrics_sample_start(struct buf *b, const char *name, const char *env,
				 const char *scope)
{
	buf_printf(b, "%s{env=\"", name);
	apply_metrics_label(b, env);
	buf_puts(b, "\",scope=\"");
	apply_metrics_label(b, scope ? scope : "");
	buf_puts(b, "\"} ");
}

enum metrics_gauge {
	M_DESIRED,
	M_ACTIVE,
	M_LAUNCHED,
	M_RELEASED,
	M_FAILED,
	M_CONVERGED,
	M_LEAVING,
	M_RECLAIMED,
	M_REFUSED,
};

static const struct {
	const char *name, *help;
	enum metrics_gauge which;
} metrics_gauges[] = {
	{ "spotenv_desired_instances", "Instances the spec asks for.", M_DESIRED },
	{ "spotenv_active_instances", "Active instances after the apply.", M_ACTIVE },
	{ "spotenv_launched_instances", "Instances launched by the last apply.",
	  M_LAUNCHED },
	{ "spotenv_released_instances", "Instances released by the last apply.",
	  M_RELEASED },
	{ "spotenv_failed_instances", "Launched instances that ended LAUNCH_FAILED.",
	  M_FAILED },
	{ "spotenv_converged", "1 when the environment is at its desired shape.",
	  M_CONVERGED },
	{ "spotenv_env_leaving_instances",
	  "Instances leaving (terminating or shut down) after the apply: those seen "
	  "leaving and those it released.",
	  M_LEAVING },
	{ "spotenv_env_reclaimed_instances",
	  "Instances lost since the last run (spot reclaims, or terminated outside "
	  "spotenv): the last run's active count less the active seen now, plus "
	  "launches gone before running.",
	  M_RECLAIMED },
	{ "spotenv_env_refused_releases",
	  "Releases the API refused in the last apply (termination protection, an "
	  "instance in a state that cannot be terminated).",
	  M_REFUSED },
};

/* Instances lost since the last run (see the gauge's help). */
static long metrics_reclaimed(const struct apply_metrics_in *in,
			      const struct plan_env *env,
			      const struct apply_env_result *er)
{
	char prev[64];
	long lost = 0;

	if (in->previous &&
	    apply_metrics_find(in->previous, "spotenv_active_instances", env->name,
			       env->scope ? env->scope : "", prev, sizeof(prev)) &&
	    metrics_digits(prev)) {
		long before = strtol(prev, NULL, 10);

		if (before > env->active)
			lost = before - env->active;
	}
	return lost + er->launch_gone;
}

static long metrics_value(const struct apply_metrics_in *in, enum metrics_gauge which,
			  const struct plan_env *env, const struct apply_env_result *er)
{
	const struct apply_total *total = apply_converge_total(in->cv, er->env);

	switch (which) {
	case M_DESIRED:
		return er->desired;
	case M_ACTIVE:
		return apply_active_after(env, er, in->waited);
	case M_LAUNCHED:
		return total ? total->launched : 0;
	case M_RELEASED:
		return total ? total->released : 0;
	case M_FAILED:
		return er->launch_failed;
	case M_CONVERGED:
		return er->converged;
	case M_LEAVING:
		return (long)env->leaving + er->released;
	case M_RECLAIMED:
		return metrics_reclaimed(in, env, er);
	case M_REFUSED:
		return er->refused;
	}
	return 0;
}

/* The environments (plan and result side by side), or 0 when there are none. */
static size_t metrics_nenvs(const struct apply_metrics_in *in)
{
	const struct apply_converge_result *cv = in->cv;

	if (!cv || !cv->plan || !cv->have_result)
		return 0;
	return cv->res.nenvs < cv->plan->nenvs ? cv->res.nenvs : cv->plan->nenvs;
}

struct metrics_carry {
	const struct apply_metrics_in *in;
	struct buf *b;
};

/* Whether this run wrote a last-success sample for env/scope. */
static bool metrics_in_run(const struct apply_metrics_in *in, const char *env,
			   const char *scope)
{
	size_t n = metrics_nenvs(in);

	for (size_t i = 0; i < n; i++) {
		const struct plan_env *pe = &in->cv->plan->envs[i];

		if (!pe->orphan && !strcmp(pe->name, env) &&
		    !strcmp(pe->scope ? pe->scope : "", scope))
			return true;
	}
	return false;
}

/* Carry an environment's last success over from the last run's file. */
static bool metrics_carry_one(const struct metrics_sample *s, void *ctx)
{
	struct metrics_carry *c = ctx;

	if (!s->has_env || !metrics_digits(s->value) ||
	    metrics_in_run(c->in, s->env, s->has_scope ? s->scope : ""))
		return false;
	metrics_sample_start(c->b, "spotenv_env_last_success_timestamp_seconds", s->env,
			     s->has_scope ? s->scope : "");
	buf_printf(c->b, "%s\n", s->value);
	return false;
}

static void metrics_last_success(struct buf *b, const struct apply_metrics_in *in)
{
	static const char name[] = "spotenv_env_last_success_timestamp_seconds";
	struct metrics_carry carry = { in, b };
	size_t n = metrics_nenvs(in);

	metrics_header(b, name, "gauge",
		       "Unix time of the last apply that converged the environment "
		       "(carried over from the last run's file).");
	for (size_t i = 0; i < n; i++) {
		const struct plan_env *env = &in->cv->plan->envs[i];
		const char *scope = env->scope ? env->scope : "";
		char prev[64];

		if (env->orphan)
			continue;
		if (in->cv->res.envs[i].converged) {
			metrics_sample_start(b, name, env->name, scope);
			buf_printf(b, "%" PRId64 "\n", in->now);
		} else if (in->previous &&
			   apply_metrics_find(in->previous, name, env->name, scope, prev,
					      sizeof(prev)) &&
			   metrics_digits(prev)) {
			metrics_sample_start(b, name, env->name, scope);
			buf_printf(b, "%s\n", prev);
		}
	}
	/* environments this run did not plan (--env, or not loaded) keep theirs */
	if (in->previous)
		metrics_each(in->previous, name, metrics_carry_one, &carry);
}

int apply_metrics_render(struct buf *out, const struct apply_metrics_in *in)
{
	struct buf b = BUF_INIT;
	size_t n = metrics_nenvs(in);
	char last[64] = "0";
	int error = 0;

	for (size_t g = 0; g < ARRAY_SIZE(metrics_gauges); g++) {
		metrics_header(&b, metrics_gauges[g].name, "gauge",
			       metrics_gauges[g].help);
		for (size_t i = 0; i < n; i++) {
			const struct plan_env *env = &in->cv->plan->envs[i];
			const struct apply_env_result *er = &in->cv->res.envs[i];

			metrics_sample_start(&b, metrics_gauges[g].name, env->name,
					     env->scope);
			buf_printf(&b, "%ld\n",
				   metrics_value(in, metrics_gauges[g].which, env, er));
		}
	}
	metrics_header(
		&b, "spotenv_env_hourly_cost", "gauge",
		"Estimated hourly cost of the environment once the plan is carried "
		"out, in the account's currency (the plan's exact decimal).");
	for (size_t i = 0; i < n; i++) {
		const struct plan_env *env = &in->cv->plan->envs[i];

		if (!metrics_decimal(env->hourly_cost))
			continue; /* a price unknown: no sample rather than a wrong one */
		metrics_sample_start(&b, "spotenv_env_hourly_cost", env->name,
				     env->scope);
		buf_printf(&b, "%s\n", env->hourly_cost);
	}
	metrics_last_success(&b, in);

	metrics_header(&b, "spotenv_apply_duration_seconds", "gauge",
		       "Wall time of the last apply.");
	buf_printf(&b, "spotenv_apply_duration_seconds %lld.%03lld\n",
		   (long long)in->duration_ms / 1000, (long long)in->duration_ms % 1000);
	metrics_header(&b, "spotenv_apply_success", "gauge",
		       "1 when the last apply converged every environment.");
	buf_printf(&b, "spotenv_apply_success %d\n", in->success ? 1 : 0);
	metrics_header(&b, "spotenv_apply_last_success_timestamp_seconds", "gauge",
		       "Unix time of the last apply that converged everything.");
	if (in->success)
		snprintf(last, sizeof(last), "%" PRId64, in->now);
	else if (in->previous &&
		 (!apply_metrics_find(in->previous,
				      "spotenv_apply_last_success_timestamp_seconds",
				      NULL, NULL, last, sizeof(last)) ||
		  !metrics_digits(last)))
		snprintf(last, sizeof(last), "0");
	buf_printf(&b, "spotenv_apply_last_success_timestamp_seconds %s\n", last);
	metrics_header(&b, "spotenv_api_calls_total", "counter",
		       "API requests of the last apply, retries included.");
	buf_printf(&b, "spotenv_api_calls_total %" PRIu64 "\n", in->api_calls);
	metrics_header(&b, "spotenv_api_throttled_total", "counter",
		       "API requests of the last apply refused with RequestLimitExceeded "
		       "(each tried again after a backoff).");
	buf_printf(&b, "spotenv_api_throttled_total %" PRIu64 "\n", in->api_throttled);

	if (buf_put(out, b.ptr ? b.ptr : "", b.len) < 0)
		error = ERR_TOOBIG;
	buf_release(&b);
	return error;
}
