/*
 * cmd.h - the command layer: the only part of spotenv that talks to the user.
 *
 * The dispatcher (cmd/main.c, after git's run_builtin) does what every
 * command shares, once: it looks the command up by its exact name, parses
 * its options against the command's table, answers -h/--help from the same
 * table, refuses a missing argument, runs the command, frees what parsing
 * allocated, and checks that standard output really went out.  A command
 * only checks what is particular to it, calls library code and prints.
 * Library errors become exit codes here.
 *
 * Option values live in static variables of the command's file (a command
 * runs once per process), so its option table is constant data that both
 * the parser and the help read, as in libgit2's src/cli/cmd_*.c.
 *
 * Adding a command:
 *  1. write cmd/cmd_<verb>.c: a "why" comment, the option values as file
 *     statics with their defaults, a static const struct cmd_opt table,
 *     `const struct cmd_syntax cmd_<verb>_syntax` (usage, about, the table,
 *     the message for a missing argument) and `cmd_<verb>()` with one
 *     `done:` exit that frees everything it allocated;
 *  2. declare both below;
 *  3. add a line to the table in cmd/main.c (sorted by name; exact names
 *     only, no abbreviations, destructive verbs get no shortcuts);
 *  4. add tests/cli/NNNN-<verb>-<detail>.bats and document it in README.md
 *     and docs/spotenv.1.
 */
#ifndef SPOTENV_CMD_H
#define SPOTENV_CMD_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../util/buf.h"

/* Exit codes (design section 2). */
enum cmd_exit {
	CMD_EXIT_OK = 0,      /* success; plan: no changes (or no --detailed-exitcode) */
	CMD_EXIT_ERROR = 1,   /* invalid spec, API/network failure, stale plan, refused */
	CMD_EXIT_CHANGES = 2, /* plan --detailed-exitcode: the plan has changes */
	CMD_EXIT_SHORT = 3,   /* apply finished but not converged */
	CMD_EXIT_USAGE = 64,  /* bad flags or arguments */
};

struct cmd_opt;
struct cmd;

/* A growable list of borrowed strings (positional arguments, --env). */
struct cmd_strlist {
	const char **v; /* borrowed from argv; the array itself is owned */
	size_t n, alloc;
};

void cmd_strlist_add(struct cmd_strlist *l, const char *s);
void cmd_strlist_release(struct cmd_strlist *l);

/* What the dispatcher hands a command's run function. */
struct cmd_ctx {
	const char *name; /* the command typed, for usage hints: "sim" for sim ctl */
	int argc;	  /* the command's argv, argv[0] its name ... */
	char **argv;	  /* ... (what CMD_RAW_ARGS commands parse) */
	struct cmd_strlist args; /* positional arguments, options parsed away */
};

/* How a command is called: what the dispatcher parses and help shows. */
struct cmd_syntax {
	const char *usage;	    /* after "usage: spotenv " */
	const char *about;	    /* the paragraph under it */
	const struct cmd_opt *opts; /* ends with a zeroed entry; NULL = none */
	const char *needs_args;	    /* the usage error when no argument is given;
				       NULL = arguments are optional */
	const struct cmd *subs;	    /* subcommands by exact name (sim ctl), ended by
				       a zeroed entry; NULL = none */
	const char *const *words;   /* the first argument's fixed set (sim ctl's
				       verbs), NULL-terminated, for shell
				       completion; NULL = paths or anything */
};

/* The usage error of commands that read specs and got no PATH. */
#define CMD_NO_SPECS(verb)                                                               \
	"no specs given; name files or directories, e.g. 'spotenv " verb " specs/'"

/* Flags of a command table entry. */
enum cmd_flags {
	/* No option parsing: run reads ctx->argc/argv itself (help, version). */
	CMD_RAW_ARGS = 1 << 0,
};

struct cmd {
	const char *name;
	const char *summary;		       /* one line in 'spotenv help' */
	unsigned flags;			       /* enum cmd_flags */
	const struct cmd_syntax *syntax;       /* NULL only with CMD_RAW_ARGS */
	int (*run)(const struct cmd_ctx *ctx); /* returns an exit code */
};

/*
 * The i-th option that may come before the command ("--endpoint", "-q"),
 * *value set when it takes one; NULL past the last (shell completion).
 */
const char *cmd_global_opt(size_t i, bool *value);

/* The command table (cmd/main.c); ends with a zeroed entry. */
extern const struct cmd cmd_table[];
const struct cmd *cmd_lookup(const char *name);

/*
 * Run c on argv[0..argc) (argv[0] its name): parse, help, the argument
 * check, run, free.  hint names the command in usage hints (NULL = c's
 * name).  Returns the exit code; standard output is left to the caller.
 */
int cmd_dispatch(const struct cmd *c, const char *hint, int argc, char **argv);

/* Commands, with their syntax (in cmd/cmd_<verb>.c). */
int cmd_api(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_api_syntax;
int cmd_apply(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_apply_syntax;
int cmd_completion(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_completion_syntax;
int cmd_destroy(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_destroy_syntax;
int cmd_help(const struct cmd_ctx *ctx);
int cmd_observe_cmd(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_observe_syntax;
int cmd_plan(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_plan_syntax;
int cmd_schema(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_schema_syntax;
int cmd_show(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_show_syntax;
int cmd_sim(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_sim_syntax;
int cmd_status(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_status_syntax;
int cmd_validate(const struct cmd_ctx *ctx);
extern const struct cmd_syntax cmd_validate_syntax;
int cmd_version(const struct cmd_ctx *ctx);

/*
 * Options as data.  Each command keeps a static const table ending in a
 * zeroed entry, its dest pointing at the file's static option values.
 * Parsing understands --name value, --name=value, -x value, and `--` to
 * end options; the dispatcher frees CMD_OPT_STRLIST values after the run.
 * dest points at:
 *   CMD_OPT_BOOL     bool
 *   CMD_OPT_STR      const char * (points into argv)
 *   CMD_OPT_INT      int (decimal, checked; min/max inclusive)
 *   CMD_OPT_STRLIST  struct cmd_strlist (repeatable)
 *   CMD_OPT_DURATION int64_t milliseconds ("90s", "5m", "1h30m", "250ms")
 *   CMD_OPT_COUNT    int, incremented per use (-v -v)
 */
enum cmd_opt_kind {
	CMD_OPT_END = 0,
	CMD_OPT_BOOL,
	CMD_OPT_STR,
	CMD_OPT_INT,
	CMD_OPT_STRLIST,
	CMD_OPT_DURATION,
	CMD_OPT_COUNT,
};

struct cmd_opt {
	enum cmd_opt_kind kind;
	const char *lng; /* long name without dashes */
	char shrt;	 /* short letter or 0 */
	void *dest;
	const char *argname; /* shown in help: "FILE" */
	const char *help;    /* one line */
	long min, max;	     /* CMD_OPT_INT bounds (ignored when both 0) */
	/*
	 * The value's fixed set, NULL-terminated, for shell completion (the
	 * command still checks the value); NULL = any value.  Optional: the
	 * tables' positional entries leave it out (see the pragma below).
	 */
	const char *const *values;
};

/*
 * Option tables are positional and trailing fields are optional (values
 * above), so -Wextra's missing-field-initializers is off for cmd/, as git's
 * config.mak.dev turns it off for the whole tree.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Fixed value sets for cmd_opt.values (cmd/common.c). */
extern const char *const cmd_values_plan_format[]; /* text json markdown */
extern const char *const cmd_values_text_json[];   /* text json */
extern const char *const cmd_values_on_off[];	   /* on off */

/*
 * Parse argv[1..] against opts (the dispatcher's job); positional
 * arguments are appended to args.
 * On a usage error prints it (with a hint to `spotenv help CMD`) and
 * returns CMD_EXIT_USAGE; returns 0 otherwise.  `-h`/`--help` print the
 * help from `usage` and opts and return -1 (the caller exits 0).
 */
int cmd_parse(const char *cmdname, const char *usage, const char *about,
	      const struct cmd_opt *opts, int argc, char **argv,
	      struct cmd_strlist *args);
/*
 * The option of opts that arg names ("--name", "--name=value", "-x"; "-vv"
 * by its first letter), or NULL.
 */
const struct cmd_opt *cmd_opt_find(const struct cmd_opt *opts, const char *arg);
/* Print "usage: spotenv USAGE", about, and the options table. */
void cmd_print_help(FILE *f, const char *usage, const char *about,
		    const struct cmd_opt *opts);

/*
 * Messages on stderr, one prefix, no embedded newlines in fmt.  All return
 * the exit code they are given or CMD_EXIT_ERROR, so
 *	ret = cmd_errorf("cannot open '%s'", path); goto done;
 * reads naturally.  Every %s argument is printed escaped and cut
 * (util/escape.h: control characters as '?', at most ESC_MAX bytes and
 * "..."), so names from files and the API's words can be passed as they
 * are.
 */
int cmd_errorf(const char *fmt, ...) SPOTENV_PRINTF(1, 2);
int cmd_usagef(const char *cmdname, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
void cmd_warnf(const char *fmt, ...) SPOTENV_PRINTF(1, 2);
void cmd_notef(const char *fmt, ...) SPOTENV_PRINTF(1, 2);
/*
 * Print an err: "FILE:LINE:COL: error: PATH: MSG" when it has a location,
 * "error: MSG" otherwise, plus "(CODE: API MESSAGE, RequestId ID)" for API
 * errors, each part escaped and cut.  Returns CMD_EXIT_ERROR.
 */
int cmd_error_err(const struct err *e);
/*
 * fprintf whose %s arguments are escaped and cut as above (the format's own
 * text, newlines and colours included, is printed as it is): for progress
 * and result lines that name environments or quote the API.  0 or an error.
 */
int cmd_fprintf(FILE *f, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
/* Each line of text on f, escaped and cut, with a newline. */
void cmd_print_lines(FILE *f, const char *text);

/*
 * Structured logs (cmd/log.c): with --log-format json (or
 * $SPOTENV_LOG_FORMAT=json) every line spotenv writes on stderr is one JSON
 * object: {"time", "level", "event", "msg", and "environment", "action",
 * "region", "request_id", "duration_ms", ... when known}.  The functions
 * above turn their lines into objects themselves; code that knows a
 * message's fields calls cmd_log_event().
 */
enum cmd_log_level { CMD_LOG_ERROR, CMD_LOG_WARN, CMD_LOG_INFO, CMD_LOG_DEBUG };

/* What a message is about; unset fields (NULL, 0, duration -1) are left out. */
struct cmd_log_fields {
	const char *environment, *action, *region, *request_id;
	int64_t duration_ms;	 /* -1 = unknown */
	const char *file, *path; /* a spec error's place */
	int line, col;
	const char *api_code, *api_message, *error;
	int attempt;
	long status; /* HTTP status */
};

extern const char *cmd_log_format_opt;		  /* --log-format (option tables) */
extern const char *const cmd_values_log_format[]; /* text json */

/* --log-format as a table entry (every command that writes on stderr). */
#define CMD_OPT_LOG_FORMAT                                                                 \
	{                                                                                  \
		CMD_OPT_STR, "log-format", 0, &cmd_log_format_opt, "FORMAT",               \
			"stderr as text (default) or json lines (or $SPOTENV_LOG_FORMAT)", \
			0, 0, cmd_values_log_format                                        \
	}

/* Whether stderr is JSON lines. */
bool cmd_log_json(void);
/* A usage error (printed) for an unknown format, else 0. */
int cmd_log_check(const char *cmdname);
void cmd_log_fields_init(struct cmd_log_fields *f);
/* One JSON line on stderr; f may be NULL. */
void cmd_log_event(enum cmd_log_level level, const char *event,
		   const struct cmd_log_fields *f, const char *msg);
/* Text meant for stderr as JSON lines, each line's level from its prefix. */
void cmd_log_text(const char *text, size_t len);
/* A line of the client's -v call log as a debug event with its fields. */
void cmd_log_api_line(const char *line);
/* cmd_warnf about one environment: in JSON its name is the environment field. */
void cmd_warnf_env(const char *env, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
/* cmd_error_err in JSON: the err's parts as fields; CMD_EXIT_ERROR. */
int cmd_log_err(const struct err *e);

/* Whether to colour output on f: a terminal, no NO_COLOR, no --no-color. */
bool cmd_use_color(FILE *f, bool no_color);

/* Print b on stdout; 0 or an exit code (message printed). */
int cmd_put_stdout(const struct buf *b);

/*
 * Flush stdout now (a command that goes on running after printing); 0 or
 * CMD_EXIT_ERROR with a message.  main() does the final check after every
 * command.
 */
int cmd_flush_stdout(void);

#endif
