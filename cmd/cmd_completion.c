/*
 * cmd_completion.c - `spotenv completion bash|zsh|fish`: a shell completion
 * script made from the command table and each command's option table.
 *
 * Why generated: a script written by hand drifts from the options the
 * moment someone adds one.  This one is printed by the binary it completes,
 * from the tables the parser and the help read, so `make install` (or a
 * package) writes what this very build accepts.
 *
 * What is completed: command names, subcommands (sim ctl), each command's
 * options, option values from a fixed set (struct cmd_opt.values), files
 * for FILE-valued options and for spec paths, and environment names for
 * --env, read from the specs named earlier on the line by calling back
 * `spotenv completion __envs -- PATH...`: it only reads those files (never
 * the network) and prints nothing on errors.
 */
#include "../util/setup.h"
#include "../specs/spec.h"
#include "cmd.h"

static const char *const shells[] = { "bash", "zsh", "fish", NULL };

const struct cmd_syntax cmd_completion_syntax = {
	.usage = "completion bash|zsh|fish",
	.about =
		"Print a completion script for the shell, made from spotenv's own command\n"
		"and option tables.  Try it with\n"
		"  source <(spotenv completion bash)\n"
		"or install it: 'make install' writes the three scripts where bash-completion,\n"
		"zsh and fish look for them.",
	.opts = NULL,
	.needs_args = "name a shell: bash, zsh or fish",
	.words = shells,
};

/* What a command's positional arguments are. */
enum compl_args {
	COMPL_ARGS_NONE,     /* none, or nothing worth offering (api) */
	COMPL_ARGS_SPECS,    /* spec files and directories (*.yaml, *.yml) */
	COMPL_ARGS_FILES,    /* any file (a plan file, too) */
	COMPL_ARGS_WORDS,    /* a fixed set: syntax.words (sim ctl's verbs, shells) */
	COMPL_ARGS_COMMANDS, /* help's command names */
};

static enum compl_args compl_args_of(const struct cmd *c)
{
	const char *u;

	if (c->syntax && c->syntax->words)
		return COMPL_ARGS_WORDS;
	if (c->run == cmd_help)
		return COMPL_ARGS_COMMANDS;
	if (!c->syntax || !(u = c->syntax->usage))
		return COMPL_ARGS_NONE;
	if (strstr(u, "PLANFILE"))
		return COMPL_ARGS_FILES;
	if (strstr(u, "PATH"))
		return COMPL_ARGS_SPECS;
	return COMPL_ARGS_NONE;
}

static bool compl_takes_value(const struct cmd_opt *o)
{
	return o->kind != CMD_OPT_BOOL && o->kind != CMD_OPT_COUNT;
}

/* What an option's value is: a fixed set, environment names, a file, or anything. */
enum compl_value {
	COMPL_VALUE_ANY,
	COMPL_VALUE_LIST,
	COMPL_VALUE_ENVS,
	COMPL_VALUE_FILE,
};

static enum compl_value compl_value_of(const struct cmd_opt *o)
{
	if (o->values)
		return COMPL_VALUE_LIST;
	if (!strcmp(o->lng, "env"))
		return COMPL_VALUE_ENVS;
	if (o->argname && strstr(o->argname, "FILE"))
		return COMPL_VALUE_FILE;
	return COMPL_VALUE_ANY;
}

/* Words joined by spaces. */
static void compl_put_words(struct buf *b, const char *const *v)
{
	for (size_t i = 0; v && v[i]; i++)
		buf_printf(b, "%s%s", i ? " " : "", v[i]);
}

/* s as one single-quoted word for sh ('\'' for a quote). */
static void compl_put_sq(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; s && *s; s++)
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else if (*s != '\n')
			buf_putc(b, *s);
	buf_putc(b, '\'');
}

/* s as one single-quoted word for fish (\' and \\ inside). */
static void compl_put_fish_sq(struct buf *b, const char *s)
{
	buf_putc(b, '\'');
	for (; s && *s; s++)
		if (*s == '\'' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if (*s != '\n')
			buf_putc(b, *s);
	buf_putc(b, '\'');
}

/* A command or subcommand with the key the scripts know it by ("sim/ctl"). */
struct compl_cmd {
	char key[64];
	const struct cmd *c;
	const struct cmd *parent; /* NULL for a top-level command */
};

/* Every command and subcommand in table order; the caller frees *out. */
static size_t compl_cmds(struct compl_cmd **out)
{
	size_t n = 0, alloc = 0;
	struct compl_cmd *v = NULL;

	for (const struct cmd *c = cmd_table; c->name; c++) {
		ALLOC_GROW(v, n + 1, alloc);
		snprintf(v[n].key, sizeof(v[n].key), "%s", c->name);
		v[n].c = c;
		v[n++].parent = NULL;
		for (const struct cmd *s = c->syntax ? c->syntax->subs : NULL;
		     s && s->name; s++) {
			ALLOC_GROW(v, n + 1, alloc);
			snprintf(v[n].key, sizeof(v[n].key), "%s/%s", c->name, s->name);
			v[n].c = s;
			v[n++].parent = c;
		}
	}
	*out = v;
	return n;
}

static const struct cmd_opt *compl_opts(const struct cmd *c)
{
	return c->syntax ? c->syntax->opts : NULL;
}

/* The option a global option stands for ("--log-format"), in any command. */
static const struct cmd_opt *compl_find_opt(const struct compl_cmd *v, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (const struct cmd_opt *o = compl_opts(v[i].c); o && o->kind; o++)
			if (name[0] == '-' && name[1] == '-' && !strcmp(o->lng, name + 2))
				return o;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* bash and zsh: the same data functions (POSIX case), their own drivers */

/* "--format -o --out": the option words of opts, every one or those taking values. */
static void compl_put_optwords(struct buf *b, const struct cmd_opt *opts,
			       bool values_only)
{
	bool first = true;

	for (const struct cmd_opt *o = opts; o && o->kind; o++) {
		if (values_only && !compl_takes_value(o))
			continue;
		buf_printf(b, "%s--%s", first ? "" : " ", o->lng);
		if (o->shrt)
			buf_printf(b, " -%c", o->shrt);
		first = false;
	}
	if (!values_only)
		buf_printf(b, "%s-h --help", first ? "" : " ");
}

/* One case arm of _spotenv_value for option o of command key. */
static void compl_put_value_arm(struct buf *b, const char *key, const struct cmd_opt *o)
{
	static const char *const what[] = { "none", "list", "envs", "files" };
	enum compl_value v = compl_value_of(o);

	buf_printf(b, "\t\"%s --%s\"", key, o->lng);
	if (o->shrt)
		buf_printf(b, " | \"%s -%c\"", key, o->shrt);
	buf_printf(b, ") what=%s", what[v]);
	if (v == COMPL_VALUE_LIST) {
		buf_puts(b, " vals=\"");
		compl_put_words(b, o->values);
		buf_putc(b, '"');
	}
	buf_puts(b, " ;;\n");
}

static void compl_sh_data(struct buf *b, const struct compl_cmd *v, size_t n)
{
	static const char *const args[] = { "none", "specs", "files", "words",
					    "commands" };
	const struct cmd_opt *seen[16];
	size_t nseen = 0;
	const char *name;
	bool value;

	buf_puts(b, "_spotenv_commands=\"");
	for (const struct cmd *c = cmd_table; c->name; c++)
		buf_printf(b, "%s%s", c == cmd_table ? "" : " ", c->name);
	buf_puts(b, "\"\n\n");

	/* options: opts (all) and vopts (those taking a value) */
	buf_puts(
		b,
		"# Sets opts (every option of command $1) and vopts (those taking a value).\n"
		"_spotenv_opts() {\n\tcase $1 in\n");
	/* before the command: the global options (moved behind it by main.c) */
	buf_puts(b, "\t\"\") opts=\"-h --help --version");
	for (size_t i = 0; (name = cmd_global_opt(i, &value)); i++)
		buf_printf(b, " %s", name);
	buf_puts(b, "\" vopts=\"");
	for (size_t i = 0; (name = cmd_global_opt(i, &value)); i++) {
		const struct cmd_opt *o = value ? compl_find_opt(v, n, name) : NULL;

		if (!value)
			continue;
		buf_printf(b, "%s%s", i ? " " : "", name);
		if (o && nseen < ARRAY_SIZE(seen))
			seen[nseen++] = o;
	}
	buf_puts(b, "\" ;;\n");
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "\t%s) opts=\"", v[i].key);
		compl_put_optwords(b, compl_opts(v[i].c), false);
		buf_puts(b, "\" vopts=\"");
		compl_put_optwords(b, compl_opts(v[i].c), true);
		buf_puts(b, "\" ;;\n");
	}
	buf_puts(b, "\t*) opts=\"\" vopts=\"\" ;;\n\tesac\n}\n\n");

	/* subcommands and what the positional arguments are */
	buf_puts(b, "# Sets subs (subcommands of $1), args (what its arguments are) and\n"
		    "# argw (the first argument's words when args=words).\n"
		    "_spotenv_args() {\n\tcase $1 in\n");
	for (size_t i = 0; i < n; i++) {
		const struct cmd *c = v[i].c;

		buf_printf(b, "\t%s) subs=\"", v[i].key);
		for (const struct cmd *s = c->syntax ? c->syntax->subs : NULL;
		     s && s->name; s++)
			buf_printf(b, "%s%s", s == c->syntax->subs ? "" : " ", s->name);
		buf_printf(b, "\" args=%s argw=\"", args[compl_args_of(c)]);
		compl_put_words(b, c->syntax ? c->syntax->words : NULL);
		buf_puts(b, "\" ;;\n");
	}
	buf_puts(b, "\t*) subs=\"\" args=none argw=\"\" ;;\n\tesac\n}\n\n");

	/* option values */
	buf_puts(b,
		 "# Sets what (none, list, envs or files) and vals for option $2 of $1.\n"
		 "_spotenv_value() {\n\tvals=\"\"\n\tcase \"$1 $2\" in\n");
	for (size_t i = 0; i < nseen; i++)
		if (compl_value_of(seen[i]) != COMPL_VALUE_ANY)
			compl_put_value_arm(b, "", seen[i]);
	for (size_t i = 0; i < n; i++)
		for (const struct cmd_opt *o = compl_opts(v[i].c); o && o->kind; o++)
			if (compl_takes_value(o))
				compl_put_value_arm(b, v[i].key, o);
	buf_puts(b, "\t*) what=none ;;\n\tesac\n}\n\n");
}

/*
 * The word walk both drivers share: from words[first] up to the word
 * being completed, find the command key (sim/ctl), skip option values,
 * and collect the positional arguments (the specs) in specs.
 */
static const char compl_sh_walk[] =
	"\tkey=\"\" npos=0 only_args=\"\"\n"
	"\twhile [ \"$i\" -lt \"$cword\" ]; do\n"
	"\t\tw=${words[i]}\n"
	"\t\t_spotenv_opts \"$key\"\n"
	"\t\tif [ -z \"$only_args\" ] && [ \"$w\" = -- ] && [ -n \"$key\" ]; then\n"
	"\t\t\tonly_args=1\n"
	"\t\telif [ -z \"$only_args\" ] && [ \"${w#-}\" != \"$w\" ] && [ \"$w\" != - ]; then\n"
	"\t\t\tcase \" $vopts \" in\n"
	"\t\t\t*\" $w \"*) i=$((i + 1)) ;;\n"
	"\t\t\tesac\n"
	"\t\telif [ -z \"$key\" ]; then\n"
	"\t\t\tkey=$w\n"
	"\t\telse\n"
	"\t\t\t_spotenv_args \"$key\"\n"
	"\t\t\tcase \" $subs \" in\n"
	"\t\t\t*\" $w \"*) [ \"$npos\" -eq 0 ] && key=\"$key/$w\" && w=\"\" ;;\n"
	"\t\t\tesac\n"
	"\t\t\tif [ -n \"$w\" ]; then\n"
	"\t\t\t\tcase $w in \"~/\"*) w=\"$HOME/${w#\"~/\"}\" ;; esac\n"
	"\t\t\t\tspecs+=(\"$w\")\n"
	"\t\t\t\tnpos=$((npos + 1))\n"
	"\t\t\tfi\n"
	"\t\tfi\n"
	"\t\ti=$((i + 1))\n"
	"\tdone\n";

static const char compl_bash_driver[] =
	"# Files for $1 = specs (directories, *.yaml, *.yml) or any file.\n"
	"_spotenv_files() {\n"
	"\tif declare -F _filedir >/dev/null 2>&1; then\n"
	"\t\tif [ \"$1\" = specs ]; then _filedir '@(yaml|yml)'; else _filedir; fi\n"
	"\telse\n"
	"\t\tlocal IFS=$'\\n'\n"
	"\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	"\tfi\n"
	"}\n"
	"\n"
	"_spotenv() {\n"
	"\tlocal cur prev words cword split\n"
	"\tif declare -F _init_completion >/dev/null 2>&1; then\n"
	"\t\t_init_completion -s || return\n"
	"\telse\n"
	"\t\tCOMPREPLY=()\n"
	"\t\twords=(\"${COMP_WORDS[@]}\") cword=$COMP_CWORD\n"
	"\t\tcur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
	"\t\tcase $cur in --*=*) prev=${cur%%%%=*} cur=${cur#*=} split=true ;; esac\n"
	"\tfi\n"
	"\tlocal key npos only_args w i=1 opts vopts subs args argw what vals\n"
	"\tlocal -a specs=()\n"
	"%s"
	"\t_spotenv_opts \"$key\"\n"
	"\tif [ -z \"$only_args\" ]; then\n"
	"\t\tcase \" $vopts \" in\n"
	"\t\t*\" $prev \"*)\n"
	"\t\t\t_spotenv_value \"$key\" \"$prev\"\n"
	"\t\t\tcase $what in\n"
	"\t\t\tlist) COMPREPLY=($(compgen -W \"$vals\" -- \"$cur\")) ;;\n"
	"\t\t\tenvs)\n"
	"\t\t\t\tvals=$(\"${words[0]}\" completion __envs -- \"${specs[@]}\" 2>/dev/null)\n"
	"\t\t\t\tCOMPREPLY=($(compgen -W \"$vals\" -- \"$cur\")) ;;\n"
	"\t\t\tfiles) _spotenv_files any ;;\n"
	"\t\t\tesac\n"
	"\t\t\treturn ;;\n"
	"\t\tesac\n"
	"\tfi\n"
	"\tif [ -z \"$only_args\" ] && [ \"${cur#-}\" != \"$cur\" ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [ -z \"$key\" ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$_spotenv_commands\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t_spotenv_args \"$key\"\n"
	"\tif [ -n \"$subs\" ] && [ \"$npos\" -eq 0 ]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase $args in\n"
	"\tspecs | files) _spotenv_files \"$args\" ;;\n"
	"\twords) [ \"$npos\" -eq 0 ] && COMPREPLY=($(compgen -W \"$argw\" -- \"$cur\")) ;;\n"
	"\tcommands) [ \"$npos\" -eq 0 ] && COMPREPLY=($(compgen -W \"$_spotenv_commands\" -- \"$cur\")) ;;\n"
	"\tesac\n"
	"}\n"
	"complete -F _spotenv spotenv\n";

static const char compl_zsh_driver[] =
	"_spotenv() {\n"
	"\tlocal cur=${words[CURRENT]} prev=${words[CURRENT - 1]} split=\"\"\n"
	"\tlocal key npos only_args w opts vopts subs args argw what vals\n"
	"\tlocal -i i=2 cword=$CURRENT\n"
	"\tlocal -a specs\n"
	"\t# words[] is 1-based here: the walk starts after the command name\n"
	"%s"
	"\tif [[ $cur == --*=* ]]; then\n"
	"\t\tprev=${cur%%%%=*} split=true\n"
	"\t\tcompset -P '*='\n"
	"\t\tcur=${cur#*=}\n"
	"\tfi\n"
	"\t_spotenv_opts \"$key\"\n"
	"\tif [[ -z $only_args && \" $vopts \" == *\" $prev \"* ]]; then\n"
	"\t\t_spotenv_value \"$key\" \"$prev\"\n"
	"\t\tcase $what in\n"
	"\t\tlist) compadd -- ${=vals} ;;\n"
	"\t\tenvs) compadd -- ${(f)\"$(${words[1]} completion __envs -- \"${specs[@]}\" 2>/dev/null)\"} ;;\n"
	"\t\tfiles) _files ;;\n"
	"\t\tesac\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [[ -z $only_args && $cur == -* ]]; then\n"
	"\t\tcompadd -- ${=opts}\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [[ -z $key ]]; then\n"
	"\t\t_describe -t commands 'spotenv command' _spotenv_described\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t_spotenv_args \"$key\"\n"
	"\tif [[ -n $subs && $npos -eq 0 ]]; then\n"
	"\t\tcompadd -- ${=subs}\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase $args in\n"
	"\tspecs) _files -g '*.(yaml|yml)' ;;\n"
	"\tfiles) _files ;;\n"
	"\twords) (( npos == 0 )) && compadd -- ${=argw} ;;\n"
	"\tcommands) (( npos == 0 )) && compadd -- ${=_spotenv_commands} ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"_spotenv \"$@\"\n";

static void compl_bash(struct buf *b, const struct compl_cmd *v, size_t n)
{
	buf_printf(
		b,
		"# bash completion for spotenv %s, made by 'spotenv completion bash'.\n"
		"# shellcheck disable=all\n\n",
		SPOTENV_VERSION);
	compl_sh_data(b, v, n);
	buf_printf(b, compl_bash_driver, compl_sh_walk);
}

static void compl_zsh(struct buf *b, const struct compl_cmd *v, size_t n)
{
	buf_printf(
		b,
		"#compdef spotenv\n"
		"# zsh completion for spotenv %s, made by 'spotenv completion zsh'.\n\n",
		SPOTENV_VERSION);
	compl_sh_data(b, v, n);
	buf_puts(b, "_spotenv_described=(\n");
	for (const struct cmd *c = cmd_table; c->name; c++) {
		char *item = xasprintf("%s:%s", c->name, c->summary);

		buf_putc(b, '\t');
		compl_put_sq(b, item);
		buf_putc(b, '\n');
		free(item);
	}
	buf_puts(b, ")\n\n");
	buf_printf(b, compl_zsh_driver, compl_sh_walk);
}

/* ------------------------------------------------------------------ */
/* fish: complete -c lines, conditions from one word walk */

static const char compl_fish_head[] =
	"# Print the command key (plan, sim/ctl), then the positional arguments.\n"
	"function __fish_spotenv_walk\n"
	"    set -l toks (commandline -opc)\n"
	"    set -l key ''\n"
	"    set -l npos 0\n"
	"    set -l skip 0\n"
	"    set -l only 0\n"
	"    set -l specs\n"
	"    for w in $toks[2..-1]\n"
	"        if test $skip = 1\n"
	"            set skip 0\n"
	"            continue\n"
	"        end\n"
	"        if test $only = 0 -a \"$w\" = -- -a -n \"$key\"\n"
	"            set only 1\n"
	"        else if test $only = 0; and string match -q -- '-?*' $w\n"
	"            if contains -- $w (__fish_spotenv_vopts $key)\n"
	"                set skip 1\n"
	"            end\n"
	"        else if test -z \"$key\"\n"
	"            set key $w\n"
	"        else if test $npos = 0; and contains -- $w (__fish_spotenv_subs $key)\n"
	"            set key $key/$w\n"
	"        else\n"
	"            set -a specs $w\n"
	"            set npos (math $npos + 1)\n"
	"        end\n"
	"    end\n"
	"    echo $key\n"
	"    echo $npos\n"
	"    for s in $specs\n"
	"        echo $s\n"
	"    end\n"
	"end\n"
	"\n"
	"function __fish_spotenv_is\n"
	"    set -l w (__fish_spotenv_walk)\n"
	"    test \"$w[1]\" = \"$argv[1]\"\n"
	"end\n"
	"\n"
	"function __fish_spotenv_first_arg\n"
	"    set -l w (__fish_spotenv_walk)\n"
	"    test \"$w[1]\" = \"$argv[1]\" -a \"$w[2]\" = 0\n"
	"end\n"
	"\n"
	"function __fish_spotenv_envs\n"
	"    set -l w (__fish_spotenv_walk)\n"
	"    set -l exe (commandline -opc)[1]\n"
	"    command $exe completion __envs -- $w[3..-1] 2>/dev/null\n"
	"end\n"
	"\n"
	"complete -c spotenv -f\n";

static void compl_fish_switch(struct buf *b, const char *fn, const struct compl_cmd *v,
			      size_t n, bool subs)
{
	const char *name;
	bool value;

	buf_printf(b, "function %s\n    switch \"$argv[1]\"\n", fn);
	if (!subs) {
		/* before the command: the global options that take a value */
		buf_puts(b, "        case ''\n            printf '%s\\n'");
		for (size_t i = 0; (name = cmd_global_opt(i, &value)); i++)
			if (value)
				buf_printf(b, " %s", name);
		buf_puts(b, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		const struct cmd *c = v[i].c;

		buf_printf(b, "        case %s\n            printf '%%s\\n'", v[i].key);
		if (subs) {
			for (const struct cmd *s = c->syntax ? c->syntax->subs : NULL;
			     s && s->name; s++)
				buf_printf(b, " %s", s->name);
		} else {
			for (const struct cmd_opt *o = compl_opts(c); o && o->kind; o++)
				if (compl_takes_value(o)) {
					buf_printf(b, " --%s", o->lng);
					if (o->shrt)
						buf_printf(b, " -%c", o->shrt);
				}
		}
		buf_puts(b, "\n");
	}
	buf_puts(b, "    end\nend\n\n");
}

static void compl_fish_opt(struct buf *b, const char *key, const struct cmd_opt *o)
{
	buf_printf(b, "complete -c spotenv -n '__fish_spotenv_is %s' -l %s", key, o->lng);
	if (o->shrt)
		buf_printf(b, " -s %c", o->shrt);
	switch (compl_takes_value(o) ? compl_value_of(o) : COMPL_VALUE_ANY) {
	case COMPL_VALUE_LIST:
		buf_puts(b, " -x -a ");
		{
			struct buf w = BUF_INIT;

			compl_put_words(&w, o->values);
			compl_put_fish_sq(b, buf_str(&w));
			buf_release(&w);
		}
		break;
	case COMPL_VALUE_ENVS:
		buf_puts(b, " -x -a '(__fish_spotenv_envs)'");
		break;
	case COMPL_VALUE_FILE:
		buf_puts(b, " -r -F");
		break;
	case COMPL_VALUE_ANY:
		if (compl_takes_value(o))
			buf_puts(b, " -x");
		break;
	}
	if (o->help) {
		buf_puts(b, " -d ");
		compl_put_fish_sq(b, o->help);
	}
	buf_putc(b, '\n');
}

static void compl_fish(struct buf *b, const struct compl_cmd *v, size_t n)
{
	const char *name;
	bool value;

	buf_printf(
		b,
		"# fish completion for spotenv %s, made by 'spotenv completion fish'.\n\n",
		SPOTENV_VERSION);
	compl_fish_switch(b, "__fish_spotenv_vopts", v, n, false);
	compl_fish_switch(b, "__fish_spotenv_subs", v, n, true);
	buf_puts(b, compl_fish_head);
	for (const struct cmd *c = cmd_table; c->name; c++) {
		buf_printf(b, "complete -c spotenv -n '__fish_spotenv_is \"\"' -a %s -d ",
			   c->name);
		compl_put_fish_sq(b, c->summary);
		buf_putc(b, '\n');
	}
	/* the global options, before the command */
	for (size_t i = 0; (name = cmd_global_opt(i, &value)); i++) {
		const struct cmd_opt *o = compl_find_opt(v, n, name);

		if (o && !strncmp(name, "--", 2))
			compl_fish_opt(b, "", o);
	}
	for (size_t i = 0; i < n; i++) {
		const struct cmd *c = v[i].c;

		buf_printf(b, "\n# %s\n", v[i].key);
		for (const struct cmd *s = c->syntax ? c->syntax->subs : NULL;
		     s && s->name; s++) {
			buf_printf(
				b,
				"complete -c spotenv -n '__fish_spotenv_first_arg %s' -a %s -d ",
				v[i].key, s->name);
			compl_put_fish_sq(b, s->summary);
			buf_putc(b, '\n');
		}
		for (const struct cmd_opt *o = compl_opts(c); o && o->kind; o++)
			compl_fish_opt(b, v[i].key, o);
		if (c->syntax || c->run == cmd_help)
			buf_printf(
				b,
				"complete -c spotenv -n '__fish_spotenv_is %s' -s h -l help "
				"-d 'show this help'\n",
				v[i].key);
		switch (compl_args_of(c)) {
		case COMPL_ARGS_SPECS:
		case COMPL_ARGS_FILES:
			buf_printf(b,
				   "complete -c spotenv -n '__fish_spotenv_is %s' -F\n",
				   v[i].key);
			break;
		case COMPL_ARGS_WORDS:
			buf_printf(
				b,
				"complete -c spotenv -n '__fish_spotenv_first_arg %s' -a '",
				v[i].key);
			compl_put_words(b, c->syntax->words);
			buf_puts(b, "'\n");
			break;
		case COMPL_ARGS_COMMANDS:
			for (const struct cmd *t = cmd_table; t->name; t++)
				buf_printf(
					b,
					"complete -c spotenv -n '__fish_spotenv_first_arg %s' "
					"-a %s\n",
					v[i].key, t->name);
			break;
		case COMPL_ARGS_NONE:
			break;
		}
	}
}

/* ------------------------------------------------------------------ */

/* Whether an environment name is safe to hand to a shell as a word. */
static bool compl_plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/*
 * `completion __envs -- PATH...`: the environment names of the specs, one a
 * line.  Whatever loaded is listed; errors are not printed (this runs under
 * the user's shell at every <TAB>) and the exit code is 0 anyway.
 */
static int compl_envs(const struct cmd_strlist *args)
{
	struct spec_set set = SPEC_SET_INIT;
	struct errlist errs = ERRLIST_INIT;

	if (args->n > 1)
		spec_load_paths(&set, args->v + 1, args->n - 1, &errs);
	for (size_t i = 0; i < set.nenvs; i++)
		if (set.envs[i].name && compl_plain_name(set.envs[i].name))
			printf("%s\n", set.envs[i].name);
	errlist_clear(&errs);
	spec_set_release(&set);
	return CMD_EXIT_OK;
}

int cmd_completion(const struct cmd_ctx *ctx)
{
	const char *shell = ctx->args.v[0];
	struct compl_cmd *v = NULL;
	struct buf b = BUF_INIT;
	size_t n;
	int ret;

	if (!strcmp(shell, "__envs"))
		return compl_envs(&ctx->args);
	if (ctx->args.n > 1)
		return cmd_usagef("completion", "too many arguments");
	n = compl_cmds(&v);
	if (!strcmp(shell, "bash"))
		compl_bash(&b, v, n);
	else if (!strcmp(shell, "zsh"))
		compl_zsh(&b, v, n);
	else if (!strcmp(shell, "fish"))
		compl_fish(&b, v, n);
	if (b.len)
		ret = cmd_put_stdout(&b);
	else
		ret = cmd_usagef("completion",
				 "unknown shell '%s' (expected bash, zsh or fish)",
				 shell);
	buf_release(&b);
	free(v);
	return ret;
}
