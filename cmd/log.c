/*
 * log.c - what spotenv writes on stderr, as JSON lines for log pipelines
 * (--log-format json, or $SPOTENV_LOG_FORMAT).
 *
 * Why here and not in every command: messages already go through a few
 * functions of the command layer (output.c's errorf/warnf/notef, the err
 * printer, cmd_fprintf on stderr, the -v call log), so turning each line
 * into an object at those points covers every command at once.  A message
 * that knows its fields (an err's request id, the call log's action and
 * duration, apply's progress per environment) passes them; free text is
 * recognised by its "spotenv: error: " / "warning: " prefix.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include <time.h>
#include "../util/escape.h"
#include "cmd.h"

const char *cmd_log_format_opt;
const char *const cmd_values_log_format[] = { "text", "json", NULL };

/* The format asked for: the option, else the environment, else text. */
static const char *log_format_name(void)
{
	const char *env = getenv("SPOTENV_LOG_FORMAT");

	if (cmd_log_format_opt)
		return cmd_log_format_opt;
	return env && *env ? env : "text";
}

bool cmd_log_json(void)
{
	return !strcmp(log_format_name(), "json");
}

int cmd_log_check(const char *cmdname)
{
	const char *f = log_format_name();

	if (!strcmp(f, "text") || !strcmp(f, "json"))
		return 0;
	return cmd_usagef(cmdname, "unknown log format '%s'%s (expected text or json)", f,
			  cmd_log_format_opt ? "" : " in SPOTENV_LOG_FORMAT");
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* "2026-12-02T11:04:05.123Z" into out (at least 25 bytes). */
static void log_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char day[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, size, "%s.%03ldZ", day, ts.tv_nsec / 1000000);
}

static void log_add_str(cJSON *o, const char *key, const char *v)
{
	if (v && *v && strcmp(v, "-"))
		cJSON_AddStringToObject(o, key, v);
}

void cmd_log_event(enum cmd_log_level level, const char *event,
		   const struct cmd_log_fields *f, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char when[40], *line;

	log_time(when, sizeof(when));
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddStringToObject(o, "level", level_names[level]);
	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "msg", msg ? msg : "");
	if (f) {
		log_add_str(o, "environment", f->environment);
		log_add_str(o, "action", f->action);
		log_add_str(o, "region", f->region);
		log_add_str(o, "request_id", f->request_id);
		if (f->duration_ms >= 0)
			cJSON_AddNumberToObject(o, "duration_ms", (double)f->duration_ms);
		log_add_str(o, "file", f->file);
		if (f->line > 0)
			cJSON_AddNumberToObject(o, "line", f->line);
		if (f->col > 0)
			cJSON_AddNumberToObject(o, "column", f->col);
		log_add_str(o, "path", f->path);
		log_add_str(o, "api_code", f->api_code);
		log_add_str(o, "api_message", f->api_message);
		log_add_str(o, "error", f->error);
		if (f->attempt > 0)
			cJSON_AddNumberToObject(o, "attempt", f->attempt);
		if (f->status > 0)
			cJSON_AddNumberToObject(o, "status", f->status);
	}
	/* one write per line, so lines of concurrent writers never interleave */
	if ((line = cJSON_PrintUnformatted(o)) != NULL) {
		char *nl = xasprintf("%s\n", line);

		fwrite(nl, 1, strlen(nl), stderr);
		free(nl);
		cJSON_free(line);
	}
	cJSON_Delete(o);
}

void cmd_log_fields_init(struct cmd_log_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->duration_ms = -1;
}

/* The value of " key=VALUE" in a call log line into out; false if absent. */
static bool log_kv(const char *line, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
		size_t n;

		if ((p != line && p[-1] != ' ') || p[klen] != '=')
			continue;
		p += klen + 1;
		n = strcspn(p, " ");
		if (n >= size)
			n = size - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

/*
 * A line of the client's call log (provider/client.c):
 *   call ACTION region=R attempt=N status=S time=Tms request_id=ID error=E ...
 * and other lines ("credentials from ...") as they are.
 */
void cmd_log_api_line(const char *line)
{
	struct cmd_log_fields f;
	char action[64], region[64], rid[128], t[32], attempt[16], status[16], error[256];
	const char *event = "api";

	cmd_log_fields_init(&f);
	if (!strncmp(line, "call ", 5)) {
		size_t n = strcspn(line + 5, " ");

		event = "api_call";
		if (n >= sizeof(action))
			n = sizeof(action) - 1;
		memcpy(action, line + 5, n);
		action[n] = '\0';
		f.action = action;
		if (log_kv(line, "region", region, sizeof(region)))
			f.region = region;
		if (log_kv(line, "request_id", rid, sizeof(rid)))
			f.request_id = rid;
		if (log_kv(line, "time", t, sizeof(t)))
			f.duration_ms = strtoll(t, NULL, 10);
		if (log_kv(line, "attempt", attempt, sizeof(attempt)))
			f.attempt = (int)strtol(attempt, NULL, 10);
		if (log_kv(line, "status", status, sizeof(status)))
			f.status = strtol(status, NULL, 10);
		if (log_kv(line, "error", error, sizeof(error)))
			f.error = error;
	}
	cmd_log_event(CMD_LOG_DEBUG, event, &f, line);
}

/* One line of free text written to stderr, its level from its prefix. */
static void log_text_line(const char *s)
{
	static const struct {
		const char *prefix;
		enum cmd_log_level level;
		const char *event;
		bool keep; /* the prefix is part of the message */
	} kinds[] = {
		{ "spotenv: error: ", CMD_LOG_ERROR, "error", false },
		{ "spotenv: warning: ", CMD_LOG_WARN, "warning", false },
		{ "spotenv: usage: ", CMD_LOG_ERROR, "usage", false },
		{ "spotenv: api: ", CMD_LOG_DEBUG, "api", false },
		{ "Try 'spotenv help", CMD_LOG_INFO, "hint", true },
		{ "spotenv: ", CMD_LOG_INFO, "note", false },
	};

	if (!*s)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(s, kinds[i].prefix, n))
			continue;
		if (kinds[i].level == CMD_LOG_DEBUG)
			cmd_log_api_line(s + n);
		else
			cmd_log_event(kinds[i].level, kinds[i].event, NULL,
				      kinds[i].keep ? s : s + n);
		return;
	}
	/* indented detail lines (why a plan is refused), and anything else */
	while (*s == ' ' || *s == '\t')
		s++;
	cmd_log_event(CMD_LOG_INFO, "detail", NULL, s);
}

void cmd_log_text(const char *text, size_t len)
{
	char *copy = xstrndup(text, len), *p = copy;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char c = p[n];

		p[n] = '\0';
		log_text_line(p);
		p += n + (c ? 1 : 0);
	}
	free(copy);
}

int cmd_log_err(const struct err *e)
{
	struct cmd_log_fields f;

	cmd_log_fields_init(&f);
	if (e) {
		f.file = e->file;
		f.line = e->line;
		f.col = e->col;
		f.path = e->path;
		f.api_code = e->api_code;
		f.api_message = e->api_message;
		f.request_id = e->request_id;
	}
	cmd_log_event(CMD_LOG_ERROR, e && e->file ? "spec_error" : "error", &f,
		      e && e->msg ? e->msg : "unknown error");
	return CMD_EXIT_ERROR;
}

void cmd_warnf_env(const char *env, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = esc_vprintf(&b, ESC_MAX, fmt, ap);
	va_end(ap);
	if (error) {
		buf_reset(&b);
		buf_puts(&b, "(message cannot be shown)");
	}
	if (cmd_log_json()) {
		struct cmd_log_fields f;

		cmd_log_fields_init(&f);
		f.environment = env;
		cmd_log_event(CMD_LOG_WARN, "warning", &f, buf_str(&b));
	} else {
		char *line = xasprintf("spotenv: warning: %s\n", buf_str(&b));

		fwrite(line, 1, strlen(line), stderr); /* one write, as cmd_warnf */
		free(line);
	}
	buf_release(&b);
}
