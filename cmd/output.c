/*
 * output.c - how spotenv speaks on stderr, and the option parser.
 */
#include "../util/setup.h"
#include "../util/duration.h"
#include "../util/suggest.h"
#include "../util/escape.h"
#include "cmd.h"

/* Write b to f in one go (a message is never interleaved with another). */
static void put_buf(FILE *f, const struct buf *b)
{
	if (f == stderr && b->len && cmd_log_json()) {
		cmd_log_text(b->ptr, b->len); /* --log-format json */
		return;
	}
	if (b->len)
		fwrite(b->ptr, 1, b->len, f);
}

/* "spotenv: PREFIX MESSAGE\n", every %s argument escaped and cut. */
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "spotenv: ");
	buf_puts(&b, prefix);
	if (esc_vprintf(&b, ESC_MAX, fmt, ap) < 0)
		buf_puts(&b, "(message cannot be shown)");
	buf_putc(&b, '\n');
	put_buf(stderr, &b);
	buf_release(&b);
}

int cmd_fprintf(FILE *f, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = esc_vprintf(&b, ESC_MAX, fmt, ap);
	va_end(ap);
	if (!error)
		put_buf(f, &b);
	buf_release(&b);
	return error;
}

void cmd_print_lines(FILE *f, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		cmd_fprintf(f, "%.*s\n", (int)(n > INT_MAX ? INT_MAX : n), text);
		text += n;
		if (*text == '\n')
			text++;
	}
}

int cmd_errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
	return CMD_EXIT_ERROR;
}

int cmd_usagef(const char *cmdname, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(cmd_log_json() ? "usage: " : "", fmt, ap);
	va_end(ap);
	if (cmdname)
		cmd_fprintf(stderr, "Try 'spotenv help %s' for usage.\n", cmdname);
	else
		cmd_fprintf(stderr, "Try 'spotenv help' for usage.\n");
	return CMD_EXIT_USAGE;
}

void cmd_warnf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void cmd_notef(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

int cmd_error_err(const struct err *e)
{
	const char *msg = e && e->msg ? e->msg : "unknown error";
	struct buf b = BUF_INIT;

	if (cmd_log_json())
		return cmd_log_err(e);
	/* every part may come from outside: a file name, the API's answer */
	if (e && e->file) {
		esc_put(&b, e->file, ESC_MAX);
		if (e->line > 0)
			buf_printf(&b, ":%d", e->line);
		if (e->col > 0)
			buf_printf(&b, ":%d", e->col);
		buf_puts(&b, ": error: ");
	} else {
		buf_puts(&b, "spotenv: error: ");
	}
	if (e && e->path)
		esc_printf(&b, ESC_MAX, "%s: ", e->path);
	esc_put(&b, msg, ESC_MAX);
	if (e && e->api_code) {
		esc_printf(&b, ESC_MAX, " (%s", e->api_code);
		if (e->api_message && *e->api_message)
			esc_printf(&b, ESC_MAX, ": %s", e->api_message);
		if (e->request_id && *e->request_id)
			esc_printf(&b, ESC_MAX, ", RequestId %s", e->request_id);
		buf_putc(&b, ')');
	}
	buf_putc(&b, '\n');
	put_buf(stderr, &b);
	buf_release(&b);
	return CMD_EXIT_ERROR;
}

bool cmd_use_color(FILE *f, bool no_color)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (no_color || (nc && *nc))
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f)) == 1;
}

int cmd_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cmd_errorf("cannot write to standard output: %s", strerror(errno));
	return 0;
}

int cmd_put_stdout(const struct buf *b)
{
	if (b->len && fwrite(b->ptr, 1, b->len, stdout) != b->len)
		return cmd_errorf("cannot write to standard output: %s", strerror(errno));
	return 0;
}

void cmd_strlist_add(struct cmd_strlist *l, const char *s)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = s;
}

void cmd_strlist_release(struct cmd_strlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void cmd_print_help(FILE *f, const char *usage, const char *about,
		    const struct cmd_opt *opts)
{
	fprintf(f, "usage: spotenv %s\n", usage);
	if (about && *about)
		fprintf(f, "\n%s\n", about);
	if (!opts || opts->kind == CMD_OPT_END)
		return;
	fprintf(f, "\nOptions:\n");
	for (const struct cmd_opt *o = opts; o->kind != CMD_OPT_END; o++) {
		char left[64];
		int n;

		if (o->shrt)
			n = snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shrt, o->lng,
				     o->argname ? " " : "", o->argname ? o->argname : "");
		else
			n = snprintf(left, sizeof(left), "    --%s%s%s", o->lng,
				     o->argname ? " " : "", o->argname ? o->argname : "");
		if (n < 0 || (size_t)n >= sizeof(left))
			left[sizeof(left) - 1] = '\0';
		fprintf(f, "  %-28s %s\n", left, o->help ? o->help : "");
	}
	fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
}

static const struct cmd_opt *find_long(const struct cmd_opt *opts, const char *name,
				       size_t len)
{
	for (const struct cmd_opt *o = opts; o && o->kind != CMD_OPT_END; o++)
		if (strlen(o->lng) == len && !strncmp(o->lng, name, len))
			return o;
	return NULL;
}

static const struct cmd_opt *find_short(const struct cmd_opt *opts, char c)
{
	for (const struct cmd_opt *o = opts; o && o->kind != CMD_OPT_END; o++)
		if (o->shrt && o->shrt == c)
			return o;
	return NULL;
}

const struct cmd_opt *cmd_opt_find(const struct cmd_opt *opts, const char *arg)
{
	if (arg[0] != '-' || !arg[1])
		return NULL;
	if (arg[1] == '-')
		return find_long(opts, arg + 2, strcspn(arg + 2, "="));
	return find_short(opts, arg[1]);
}

/* "unknown option '--auto-aprove' (did you mean '--auto-approve'?)" */
static int unknown_option(const char *cmdname, const struct cmd_opt *opts,
			  const char *shown)
{
	const char **names = NULL;
	const char *best;
	size_t n = 0;
	int ret;

	for (const struct cmd_opt *o = opts; o && o->kind != CMD_OPT_END; o++)
		n++;
	names = xcalloc(n + 1, sizeof(*names));
	n = 0;
	for (const struct cmd_opt *o = opts; o && o->kind != CMD_OPT_END; o++)
		names[n++] = o->lng;
	best = suggest_closest(shown + 2, names, n);
	if (best)
		ret = cmd_usagef(cmdname, "unknown option '%s' (did you mean '--%s'?)",
				 shown, best);
	else
		ret = cmd_usagef(cmdname, "unknown option '%s'", shown);
	free(names);
	return ret;
}

static bool takes_arg(const struct cmd_opt *o)
{
	return o->kind != CMD_OPT_BOOL && o->kind != CMD_OPT_COUNT;
}

static int set_opt(const char *cmdname, const struct cmd_opt *o, const char *shown,
		   const char *val)
{
	switch (o->kind) {
	case CMD_OPT_BOOL:
		*(bool *)o->dest = true;
		return 0;
	case CMD_OPT_COUNT:
		(*(int *)o->dest)++;
		return 0;
	case CMD_OPT_STR:
		*(const char **)o->dest = val;
		return 0;
	case CMD_OPT_STRLIST:
		cmd_strlist_add(o->dest, val);
		return 0;
	case CMD_OPT_INT: {
		char *end = NULL;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || !*val || *end || v < INT_MIN || v > INT_MAX ||
		    ((o->min || o->max) && (v < o->min || v > o->max))) {
			if (o->min || o->max)
				return cmd_usagef(
					cmdname,
					"option '%s' expects a whole number from %ld to %ld, got '%s'",
					shown, o->min, o->max, val);
			return cmd_usagef(cmdname,
					  "option '%s' expects a whole number, got '%s'",
					  shown, val);
		}
		*(int *)o->dest = (int)v;
		return 0;
	}
	case CMD_OPT_DURATION: {
		int64_t ms;

		if (duration_parse(val, &ms) < 0)
			return cmd_usagef(
				cmdname,
				"option '%s' expects a duration such as 30s, 5m or 1h30m, got '%s'",
				shown, val);
		*(int64_t *)o->dest = ms;
		return 0;
	}
	case CMD_OPT_END:
		break;
	}
	return CMD_EXIT_USAGE;
}

int cmd_parse(const char *cmdname, const char *usage, const char *about,
	      const struct cmd_opt *opts, int argc, char **argv, struct cmd_strlist *args)
{
	bool only_args = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cmd_opt *o;
		const char *val = NULL;
		char shown[80];
		int ret;

		if (only_args || a[0] != '-' || !a[1]) {
			cmd_strlist_add(args, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cmd_print_help(stdout, usage, about, opts);
			return -1;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			o = find_long(opts, name, len);
			snprintf(shown, sizeof(shown), "--%.*s",
				 (int)(len > 60 ? 60 : len), name);
			if (!o)
				return unknown_option(cmdname, opts, shown);
			if (eq) {
				if (!takes_arg(o))
					return cmd_usagef(cmdname,
							  "option '%s' takes no value",
							  shown);
				val = eq + 1;
			}
		} else {
			o = find_short(opts, a[1]);
			snprintf(shown, sizeof(shown), "-%c", a[1]);
			if (!o || (a[2] && !takes_arg(o)))
				return cmd_usagef(cmdname, "unknown option '%s'", a);
			if (a[2])
				val = a + 2;
		}
		if (takes_arg(o) && !val) {
			if (i + 1 >= argc)
				return cmd_usagef(cmdname,
						  "option '%s' needs a value (%s)", shown,
						  o->argname ? o->argname : "VALUE");
			val = argv[++i];
		}
		if ((ret = set_opt(cmdname, o, shown, val)) != 0)
			return ret;
	}
	return 0;
}
