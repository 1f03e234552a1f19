/*
 * main.c - spotenv's entry point and command table.
 *
 * Commands are looked up by their exact name only: no abbreviations, so a
 * typo can never turn into a destructive verb.
 */
#include "../util/setup.h"
#include "../util/suggest.h"
#include "cmd.h"

/* Sorted by name; only implemented commands are listed. */
const struct cmd cmd_table[] = {
	{ "api", "send one signed CVM API call and print the response", cmd_api },
	{ "apply", "converge environments to their specs", cmd_apply },
	{ "destroy", "release every instance of an environment", cmd_destroy },
	{ "help", "show help for spotenv or one command", cmd_help },
	{ "observe", "capture observed state for offline plans", cmd_observe_cmd },
	{ "plan", "observe and diff; print what apply would do", cmd_plan },
	{ "show", "render a saved plan", cmd_show },
	{ "sim", "run the local CVM API emulator", cmd_sim },
	{ "status", "desired against observed, per environment and pool", cmd_status },
	{ "validate", "check environment specs (no network)", cmd_validate },
	{ "version", "print the version", cmd_version },
	{ NULL, NULL, NULL },
};

const struct cmd *cmd_lookup(const char *name)
{
	for (const struct cmd *c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
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
		return cmd_usagef(NULL, "unknown command '%s' (did you mean '%s'?)", name, best);
	return cmd_usagef(NULL, "unknown command '%s'", name);
}

static void print_main_help(FILE *f)
{
	fprintf(f, "usage: spotenv COMMAND [OPTIONS] [ARGS]\n\n"
		   "Keep spot instance environments on Tencent Cloud CVM at the shape\n"
		   "described in YAML.\n\nCommands:\n");
	for (const struct cmd *c = cmd_table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nExit codes: 0 ok, 1 error, 2 plan has changes (--detailed-exitcode),\n"
		   "3 apply finished but not converged, 64 usage error.\n"
		   "Run 'spotenv help COMMAND' for a command's options.\n");
}

int cmd_help(int argc, char **argv)
{
	const struct cmd *c;
	char *sub[3];

	if (argc < 2) {
		print_main_help(stdout);
		return cmd_finish_stdout(CMD_EXIT_OK);
	}
	if (argc > 2)
		return cmd_usagef("help", "too many arguments");
	if (!(c = cmd_lookup(argv[1])))
		return cmd_unknown_command(argv[1]);
	if (c->run == cmd_help) {
		print_main_help(stdout);
		return cmd_finish_stdout(CMD_EXIT_OK);
	}
	sub[0] = argv[1];
	sub[1] = (char *)"--help";
	sub[2] = NULL;
	return c->run(2, sub);
}

int cmd_version(int argc, char **argv)
{
	UNUSED(argv);
	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
		return cmd_usagef("version", "'version' takes no arguments");
	printf("spotenv %s\n", SPOTENV_VERSION);
	return cmd_finish_stdout(CMD_EXIT_OK);
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		print_main_help(stderr);
		return CMD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	if (!(c = cmd_lookup(argv[1])))
		return cmd_unknown_command(argv[1]);
	return c->run(argc - 1, argv + 1);
}
