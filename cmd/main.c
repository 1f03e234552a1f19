/*
 * main.c - spotenv's entry point, command table and dispatcher.
 *
 * Commands are looked up by their exact name only: no abbreviations, so a
 * typo can never turn into a destructive verb.  What every command shares
 * (options, help, a missing argument, the check that stdout went out) is
 * done here once, as git's run_builtin does.
 */
#include "../util/setup.h"
#include "../util/suggest.h"
#include "cmd.h"

/* Sorted by name; only implemented commands are listed. */
const struct cmd cmd_table[] = {
	{ "api", "send one signed CVM API call and print the response", 0,
	  &cmd_api_syntax, cmd_api },
	{ "apply", "converge environments to their specs", 0, &cmd_apply_syntax,
	  cmd_apply },
	{ "completion", "print a shell completion script (bash, zsh or fish)", 0,
	  &cmd_completion_syntax, cmd_completion },
	{ "destroy", "release every instance of an environment", 0, &cmd_destroy_syntax,
	  cmd_destroy },
	{ "help", "show help for spotenv or one command", CMD_RAW_ARGS, NULL, cmd_help },
	{ "observe", "capture observed state for offline plans", 0, &cmd_observe_syntax,
	  cmd_observe_cmd },
	{ "plan", "observe and diff; print what apply would do", 0, &cmd_plan_syntax,
	  cmd_plan },
	{ "schema", "print the JSON Schema of spec files", 0, &cmd_schema_syntax,
	  cmd_schema },
	{ "show", "render a saved plan", 0, &cmd_show_syntax, cmd_show },
	{ "sim", "run the local CVM API emulator", 0, &cmd_sim_syntax, cmd_sim },
	{ "status", "desired against observed, per environment and pool", 0,
	  &cmd_status_syntax, cmd_status },
	{ "validate", "check environment specs (no network)", 0, &cmd_validate_syntax,
	  cmd_validate },
	{ "version", "print the version", CMD_RAW_ARGS, NULL, cmd_version },
	{ NULL, NULL, 0, NULL, NULL },
};

static const struct cmd *cmd_find(const struct cmd *table, const char *name)
{
	for (const struct cmd *c = table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct cmd *cmd_lookup(const char *name)
{
	return cmd_find(cmd_table, name);
}

/* Free the values parsing allocated (repeatable options). */
static void cmd_opts_release(const struct cmd_opt *opts)
{
	for (const struct cmd_opt *o = opts; o && o->kind != CMD_OPT_END; o++)
		if (o->kind == CMD_OPT_STRLIST)
			cmd_strlist_release(o->dest);
}

int cmd_dispatch(const struct cmd *c, const char *hint, int argc, char **argv)
{
	const struct cmd_syntax *syn = c->syntax;
	const struct cmd *sub;
	struct cmd_ctx ctx = { hint ? hint : c->name, argc, argv, { NULL, 0, 0 } };
	int ret;

	if (c->flags & CMD_RAW_ARGS)
		return c->run(&ctx);
	assert(syn);
	if (syn->subs && argc > 1 && (sub = cmd_find(syn->subs, argv[1])))
		return cmd_dispatch(sub, ctx.name, argc - 1, argv + 1);
	ret = cmd_parse(ctx.name, syn->usage, syn->about, syn->opts, argc, argv,
			&ctx.args);
	if (ret < 0)
		ret = CMD_EXIT_OK; /* -h/--help: the help is printed */
	else if (!ret && (ret = cmd_log_check(ctx.name)) != 0)
		; /* --log-format or $SPOTENV_LOG_FORMAT unknown (said) */
	else if (!ret && !ctx.args.n && syn->needs_args)
		ret = cmd_usagef(ctx.name, "%s", syn->needs_args);
	else if (!ret)
		ret = c->run(&ctx);
	cmd_opts_release(syn->opts);
	cmd_strlist_release(&ctx.args);
	return ret;
}

/* "unknown command 'aply' (did you mean 'apply'?)"; exit 64. */
static int cmd_unknown_command(const char *name)
{
	const char *names[ARRAY_SIZE(cmd_table)];
	const char *best;
	size_t n = 0;

	for (const struct cmd *c = cmd_table; c->name; c++)
		names[n++] = c->name;
	best = suggest_closest(name, names, n);
	if (best)
		return cmd_usagef(NULL, "unknown command '%s' (did you mean '%s'?)", name,
				  best);
	return cmd_usagef(NULL, "unknown command '%s'", name);
}

static void print_main_help(FILE *f)
{
	fprintf(f, "usage: spotenv COMMAND [OPTIONS] [ARGS]\n\n"
		   "Keep spot instance environments on Tencent Cloud CVM at the shape\n"
		   "described in YAML.\n\nCommands:\n");
	for (const struct cmd *c = cmd_table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f,
		"\nExit codes: 0 ok, 1 error, 2 plan has changes (--detailed-exitcode),\n"
		"3 apply finished but not converged, 64 usage error.\n"
		"Run 'spotenv help COMMAND' for a command's options.\n");
}

/* `spotenv help [COMMAND]`: what `COMMAND --help` prints. */
int cmd_help(const struct cmd_ctx *ctx)
{
	const struct cmd *c;
	char *sub[3];

	if (ctx->argc < 2) {
		print_main_help(stdout);
		return CMD_EXIT_OK;
	}
	if (ctx->argc > 2)
		return cmd_usagef("help", "too many arguments");
	if (!(c = cmd_lookup(ctx->argv[1])))
		return cmd_unknown_command(ctx->argv[1]);
	if (c->run == cmd_help) {
		print_main_help(stdout);
		return CMD_EXIT_OK;
	}
	sub[0] = ctx->argv[1];
	sub[1] = (char *)"--help";
	sub[2] = NULL;
	return cmd_dispatch(c, NULL, 2, sub);
}

/* `spotenv version`; `version --help` prints the version too. */
int cmd_version(const struct cmd_ctx *ctx)
{
	const char *a = ctx->argc > 1 ? ctx->argv[1] : NULL;

	if (a && strcmp(a, "--help") && strcmp(a, "-h"))
		return cmd_usagef("version", "'version' takes no arguments");
	printf("spotenv %s\n", SPOTENV_VERSION);
	return CMD_EXIT_OK;
}

/*
 * After a command that succeeded (exit 0, 2 or 3): make sure what it
 * printed reached stdout, or fail with exit 1 (git's run_builtin).
 */
static int cmd_close_stdout(int ret)
{
	if (ret == CMD_EXIT_ERROR || ret == CMD_EXIT_USAGE)
		return ret;
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		return cmd_errorf("cannot write to standard output: %s", strerror(errno));
	}
	return ret;
}

/*
 * Options that may come before the command (`spotenv --no-color plan`,
 * `spotenv -v --endpoint URL apply ...`), as Terraform's global flags do.
 * They are moved behind the command name and parsed against its table, so
 * a command that does not take one says so as for any other option.
 */
static const struct {
	const char *name; /* "--name" or "-x" */
	bool value;	  /* takes the next argument (unless --name=value) */
} global_opts[] = {
	{ "--no-color", false },  { "--quiet", false },	 { "-q", false },
	{ "--verbose", false },	  { "-v", false },	 { "-vv", false },
	{ "--endpoint", true },	  { "--profile", true }, { "--parallelism", true },
	{ "--log-format", true },
};

const char *cmd_global_opt(size_t i, bool *value)
{
	if (i >= ARRAY_SIZE(global_opts))
		return NULL;
	*value = global_opts[i].value;
	return global_opts[i].name;
}

/* How many arguments the global option at arg takes up (1 or 2), or 0. */
static int global_opt_len(const char *arg)
{
	for (size_t i = 0; i < ARRAY_SIZE(global_opts); i++) {
		const char *n = global_opts[i].name;
		size_t len = strlen(n);

		if (!strcmp(arg, n))
			return global_opts[i].value ? 2 : 1;
		if (global_opts[i].value && !strncmp(arg, n, len) && arg[len] == '=')
			return 1;
	}
	return 0;
}

/*
 * Move the global options before the command behind it, in their order:
 * argv[1..] = "-v --endpoint U plan x" becomes "plan -v --endpoint U x".
 * Returns the usage exit code when one is unknown or lacks its value.
 */
static int hoist_global_opts(int argc, char **argv, int *hoisted)
{
	int k = 1, len;

	while (k < argc && argv[k][0] == '-' && strcmp(argv[k], "-h") &&
	       strcmp(argv[k], "--help") && strcmp(argv[k], "--version")) {
		if (!(len = global_opt_len(argv[k])))
			return cmd_usagef(NULL,
					  "unknown option '%s' before the command "
					  "(global options: --no-color, -q, -v, "
					  "--endpoint, --profile, --parallelism, "
					  "--log-format)",
					  argv[k]);
		if (k + len > argc - 1)
			return cmd_usagef(NULL, "no command after '%s'", argv[k]);
		k += len;
	}
	if (k > 1) {
		/* rotate argv[1..k] right by one: the command comes first */
		char *name = argv[k];

		memmove(argv + 2, argv + 1, (size_t)(k - 1) * sizeof(*argv));
		argv[1] = name;
	}
	*hoisted = k - 1;
	return 0;
}

/*
 * Drop the hoisted global options (argv[2 .. 2+hoisted)) that command c
 * does not take: a global option means nothing to a command that does not
 * use it (`spotenv --no-color validate`).  Returns the new argc.
 */
static int drop_unused_global_opts(const struct cmd *c, int argc, char **argv,
				   int hoisted)
{
	const struct cmd_opt *opts = c->syntax ? c->syntax->opts : NULL;
	int k = 2, end = 2 + hoisted;

	while (k < end) {
		int len = global_opt_len(argv[k]);

		if (!(c->flags & CMD_RAW_ARGS) && cmd_opt_find(opts, argv[k])) {
			k += len;
			continue;
		}
		memmove(argv + k, argv + k + len,
			(size_t)(argc - k - len + 1) * sizeof(*argv));
		argc -= len;
		end -= len;
	}
	return argc;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int ret, hoisted = 0;

	if (argc > 1 && (ret = hoist_global_opts(argc, argv, &hoisted)) != 0)
		return ret;
	if (argc < 2) {
		print_main_help(stderr);
		return CMD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_close_stdout(
			cmd_dispatch(cmd_lookup("help"), NULL, 1, argv + 1));
	if (!strcmp(argv[1], "--version"))
		return cmd_close_stdout(
			cmd_dispatch(cmd_lookup("version"), NULL, 1, argv + 1));
	if (!(c = cmd_lookup(argv[1])))
		return cmd_unknown_command(argv[1]);
	argc = drop_unused_global_opts(c, argc, argv, hoisted);
	return cmd_close_stdout(cmd_dispatch(c, NULL, argc - 1, argv + 1));
}
