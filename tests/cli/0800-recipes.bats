#!/usr/bin/env bats
# docs/recipes/ (the CI and scheduler recipes) checked for what can be
# checked here: every file is a known kind; the YAML parses and has the
# shape its platform needs; the shell in it parses (bash -n); the systemd
# units pass systemd-analyze verify (the binary path pointed at the build,
# the man page at docs/spotenv.1; no output at all, so a warning such as an
# unknown key fails too); every `spotenv ...` command line uses a command
# and options that `spotenv COMMAND --help` lists; the markdown plan carries
# the marker the sticky-comment jobs search for; and the timer's and the
# CronJob's command lines converge the examples against the emulator (the
# CronJob's with its etcd lock, on a local etcd).

# shellcheck disable=SC2154 # $output, $status, $stderr come from bats
bats_require_minimum_version 1.5.0

load sim_helpers
load etcd_helpers

R=$BATS_TEST_DIRNAME/../../docs/recipes

setup_file() {
	local py
	# a python3 with PyYAML: the one on PATH, else Debian's (python3-yaml)
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import yaml' 2>/dev/null; then
			PY=$py
			break
		fi
	done
	export PY
	write_checker "$BATS_FILE_TMPDIR/recipes.py"
	export CHECKER=$BATS_FILE_TMPDIR/recipes.py
}

teardown() {
	if [ -n "${GL_PID:-}" ]; then
		kill "$GL_PID" 2>/dev/null
		wait "$GL_PID" 2>/dev/null
		GL_PID=
	fi
	sim_stop
	etcd_stop
}

need_py() {
	[ -n "${PY:-}" ] || fail_with "no python3 with PyYAML (util/deps.sh test installs python3-yaml)"
}

fail_with() {
	echo "$*" >&2
	return 1
}

# The checker: python3 recipes.py MODE FILE...
#   yaml     parse every YAML file (all documents); check each platform's shape
#   shell    print the shell scripts in the YAML files, NUL-separated
#   commands every spotenv command line, checked against --help; prints
#            "ok FILE: LINE" per line, "error FILE: ..." per problem
#   execline FILE PREFIX  the first Exec* command line of a unit (systemd)
#   argv FILE            the CronJob container's command and args, one a line
#   sandbox TRACE UNIT   the syscalls and socket families of an strace log
#                        against the unit's filters
#   ghstep FILE JOB NAME the run script of a GitHub Actions step
#   glscript FILE JOB    a GitLab job's before_script (its own or the one it
#                        extends) and script, one command a line
write_checker() {
	cat >"$1" <<'PY'
import os, re, shlex, subprocess, sys
import yaml

SPOTENV = os.environ["SPOTENV"]

def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def strings(node):
    """every string scalar in a parsed YAML tree"""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)

def argv_lists(node):
    """Kubernetes-style containers: command + args whose program is spotenv"""
    if isinstance(node, dict):
        cmd = node.get("command")
        if isinstance(cmd, list) and cmd and os.path.basename(str(cmd[0])) == "spotenv":
            yield [str(x) for x in cmd[1:]] + [str(x) for x in node.get("args") or []]
        for v in node.values():
            yield from argv_lists(v)
    elif isinstance(node, list):
        for v in node:
            yield from argv_lists(v)

START = re.compile(r"(?:^|[\s;&|(`])(?:[\w./${}-]*/)?spotenv[ \t]+(?=\S)")

def shell_lines(text):
    """logical lines (backslash continuations joined), comment lines dropped"""
    text = re.sub(r"\\\n", " ", text)
    for line in text.split("\n"):
        if line.strip().startswith("#"):
            continue
        yield line

def invocations_in_shell(text):
    for line in shell_lines(text):
        for m in START.finditer(line):
            rest = line[m.end():]
            lex = shlex.shlex(rest, posix=True, punctuation_chars=";&|<>()")
            lex.whitespace_split = True
            words = []
            try:
                for tok in lex:
                    if tok and all(c in ";&|<>()" for c in tok):
                        break
                    words.append(tok)
            except ValueError as e:
                yield None, "cannot split %r: %s" % (rest, e)
                continue
            yield words, None

def unit_exec_lines(path):
    for line in open(path):
        m = re.match(r"\s*(Exec\w+)=[-@:+!]*(.*)", line)
        if m:
            yield m.group(1), m.group(2).strip()

def invocations(path):
    base = os.path.basename(path)
    if base.endswith((".yml", ".yaml")):
        for d in docs(path):
            for s in strings(d):
                yield from invocations_in_shell(s)
            for argv in argv_lists(d):
                yield argv, None
    elif base.endswith((".service", ".socket")):
        for _, cmdline in unit_exec_lines(path):
            yield from invocations_in_shell(cmdline)
    elif base.endswith(".md"):
        text = open(path).read()
        # fenced shell blocks, line by line
        for m in re.finditer(r"(?ms)^```(\w*)\n(.*?)^```", text):
            if m.group(1) in ("", "sh", "bash", "console"):
                yield from invocations_in_shell(m.group(2))
        # inline code spans that are spotenv command lines (they may wrap);
        # `spotenv COMMAND --help` names no command: placeholders are skipped
        prose = re.sub(r"(?ms)^```.*?^```", "", text)
        for m in re.finditer(r"`(spotenv [^`]+)`", prose):
            words = shlex.split(m.group(1).replace("\n", " "))[1:]
            if words and not words[0].isupper():
                yield words, None

HELP = {}
def help_of(cmd):
    if cmd not in HELP:
        p = subprocess.run([SPOTENV, cmd, "--help"], capture_output=True, text=True)
        HELP[cmd] = p.stdout if p.returncode == 0 else None
    return HELP[cmd]

def check_words(words):
    if not words:
        return ["no command after spotenv"]
    cmd = words[0]
    if cmd in ("version",):
        return [] if len(words) == 1 else ["version takes no arguments"]
    h = help_of(cmd)
    if h is None:
        return ["no command %r ('%s %s --help' fails)" % (cmd, SPOTENV, cmd)]
    errs = []
    for w in words[1:]:
        if w == "--":
            break
        if w.startswith("--"):
            name = w.split("=", 1)[0]
            if not re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", h):
                errs.append("no option %s in 'spotenv %s --help'" % (name, cmd))
        elif re.fullmatch(r"-[A-Za-z]", w):
            if not re.search(r"(?m)^\s+" + re.escape(w) + r",", h):
                errs.append("no option %s in 'spotenv %s --help'" % (w, cmd))
    return errs

def mode_commands(paths):
    n = bad = 0
    for path in paths:
        for words, err in invocations(path):
            n += 1
            errs = [err] if err else check_words(words)
            line = "spotenv " + " ".join(words or [])
            if errs:
                bad += 1
                for e in errs:
                    print("error %s: %s: %s" % (path, line, e))
            else:
                print("ok %s: %s" % (path, line))
    print("%d command lines, %d bad" % (n, bad))
    return 1 if bad or not n else 0

def expect(cond, what):
    if not cond:
        raise SystemExit("shape: " + what)

def mode_yaml(paths):
    for path in paths:
        base = os.path.basename(path)
        if base.endswith(".md"):
            n = 0
            for m in re.finditer(r"(?ms)^```yaml\n(.*?)^```", open(path).read()):
                yaml.safe_load(m.group(1))
                n += 1
            print("ok %s (%d YAML blocks)" % (path, n))
            continue
        ds = docs(path)
        expect(ds, "%s: no YAML document" % path)
        if base.startswith("github"):
            wf = ds[0]
            on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare on as true
            expect(isinstance(on, dict) and "pull_request" in on and "push" in on,
                   "%s: on pull_request and push" % path)
            for name, job in wf["jobs"].items():
                expect("runs-on" in job and isinstance(job.get("steps"), list),
                       "%s: job %s has runs-on and steps" % (path, name))
                for st in job["steps"]:
                    expect(("uses" in st) != ("run" in st),
                           "%s: a step of %s has uses or run" % (path, name))
            expect(wf["jobs"]["plan"]["permissions"].get("id-token") == "write",
                   "%s: plan may mint OIDC tokens" % path)
            expect(wf["jobs"]["apply"]["permissions"].get("id-token") == "write",
                   "%s: apply may mint OIDC tokens" % path)
        elif base.startswith("gitlab"):
            ci = ds[0]
            jobs = {k: v for k, v in ci.items() if isinstance(v, dict) and
                    not k.startswith(".") and k not in ("variables", "default", "workflow")}
            expect({"spotenv-plan", "spotenv-apply"} <= set(jobs), "%s: plan and apply jobs" % path)
            for name, job in jobs.items():
                expect(job.get("stage") in ci["stages"], "%s: %s has a known stage" % (path, name))
                expect(isinstance(job.get("script"), list), "%s: %s has a script" % (path, name))
            expect("id_tokens" in ci[".spotenv"], "%s: OIDC id_tokens" % path)
        elif base.startswith("kubernetes"):
            cron = [d for d in ds if d.get("kind") == "CronJob"]
            expect(len(cron) == 1, "%s: one CronJob" % path)
            c = cron[0]
            expect(c["apiVersion"] == "batch/v1", "%s: batch/v1" % path)
            expect(c["spec"]["concurrencyPolicy"] == "Forbid", "%s: concurrencyPolicy Forbid" % path)
            pod = c["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            expect(pod["restartPolicy"] in ("Never", "OnFailure"), "%s: restartPolicy" % path)
            argv = list(argv_lists(c))
            expect(len(argv) == 1 and "--lock" in argv[0], "%s: apply with --lock" % path)
            url = argv[0][argv[0].index("--lock") + 1]
            expect(url.startswith("etcd"), "%s: an etcd lock URL" % path)
            for d in ds:
                expect("apiVersion" in d and "kind" in d and "metadata" in d,
                       "%s: every object has apiVersion, kind, metadata" % path)
        print("ok %s" % path)
    return 0

def mode_shell(paths):
    for path in paths:
        for d in docs(path):
            if os.path.basename(path).startswith("github"):
                for job in d["jobs"].values():
                    for st in job["steps"]:
                        if "run" in st:
                            sys.stdout.write("# %s\n%s\0" % (path, st["run"]))
            elif os.path.basename(path).startswith("gitlab"):
                for name, job in d.items():
                    if not isinstance(job, dict):
                        continue
                    for key in ("before_script", "script", "after_script"):
                        if isinstance(job.get(key), list):
                            sys.stdout.write("# %s %s.%s\n%s\n\0" % (path, name, key, "\n".join(job[key])))
    return 0

def mode_execline(path, key):
    for k, v in unit_exec_lines(path):
        if k == key:
            print(v)
            return 0
    return 1

def mode_ghstep(path, job, name):
    for st in docs(path)[0]["jobs"][job]["steps"]:
        if st.get("name") == name and "run" in st:
            print(st["run"])
            return 0
    return 1

def mode_glscript(path, job):
    ci = docs(path)[0]
    j = ci[job]
    base = ci.get(j.get("extends", ""), {}) if isinstance(j.get("extends"), str) else {}
    lines = (j.get("before_script") or base.get("before_script") or []) + j["script"]
    print("\n".join(lines))
    return 0

def syscall_set(name):
    """a syscall or a @group, expanded by systemd-analyze syscall-filter"""
    if not name.startswith("@"):
        return {name}
    out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True, check=True).stdout
    s = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            s |= syscall_set(line)
    return s

def mode_sandbox(trace, unit):
    """the syscalls and socket families in an strace log against the unit's
    SystemCallFilter= and RestrictAddressFamilies="""
    allow, deny, families = set(), set(), None
    for line in open(unit):
        m = re.match(r"SystemCallFilter=(~?)(.*)", line.strip())
        if m:
            names = set().union(*(syscall_set(n) for n in m.group(2).split()))
            (deny if m.group(1) else allow).update(names)
        m = re.match(r"RestrictAddressFamilies=(.*)", line.strip())
        if m:
            families = set(m.group(1).split())
    used, fams = set(), set()
    for line in open(trace):
        m = re.match(r"(?:\d+\s+)?([a-z_0-9]+)\((.*)", line)
        if not m:
            continue
        used.add(m.group(1))
        if m.group(1) == "socket":
            fams.add(m.group(2).split(",")[0])
    bad = sorted(s for s in used if (allow and s not in allow) or s in deny)
    badf = sorted(fams - families) if families is not None else []
    print("%d syscalls used, socket families %s" % (len(used), " ".join(sorted(fams))))
    for s in bad:
        print("error: syscall %s is filtered out by the unit" % s)
    for f in badf:
        print("error: socket family %s is not in RestrictAddressFamilies" % f)
    return 1 if bad or badf or len(used) < 10 else 0

def mode_argv(path):
    for d in docs(path):
        for argv in argv_lists(d):
            print("\n".join(argv))
            return 0
    return 1

mode = sys.argv[1]
if mode == "commands":
    sys.exit(mode_commands(sys.argv[2:]))
if mode == "yaml":
    sys.exit(mode_yaml(sys.argv[2:]))
if mode == "shell":
    sys.exit(mode_shell(sys.argv[2:]))
if mode == "execline":
    sys.exit(mode_execline(sys.argv[2], sys.argv[3]))
if mode == "ghstep":
    sys.exit(mode_ghstep(sys.argv[2], sys.argv[3], sys.argv[4]))
if mode == "glscript":
    sys.exit(mode_glscript(sys.argv[2], sys.argv[3]))
if mode == "sandbox":
    sys.exit(mode_sandbox(sys.argv[2], sys.argv[3]))
if mode == "argv":
    sys.exit(mode_argv(sys.argv[2]))
sys.exit("unknown mode " + mode)
PY
}

@test "recipes: every file is of a kind this test checks" {
	local f n=0
	for f in "$R"/*; do
		case $f in
		*.yml | *.yaml | *.service | *.timer | *.md) n=$((n + 1)) ;;
		*) fail_with "$f: no check for this kind of file" ;;
		esac
	done
	[ "$n" -ge 6 ]
	for f in github-actions.yml gitlab-ci.yml spotenv-apply.service spotenv-apply.timer \
		kubernetes-cronjob.yaml README.md; do
		[ -f "$R/$f" ] || fail_with "missing docs/recipes/$f"
	done
}

@test "recipes: the YAML parses and has the shape its platform needs" {
	need_py
	run "$PY" "$CHECKER" yaml "$R"/*.yml "$R"/*.yaml "$R"/*.md
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"README.md (1 YAML blocks)"* ]]
}

@test "recipes: the shell scripts in the CI recipes parse (bash -n)" {
	need_py
	local n=0 script
	"$PY" "$CHECKER" shell "$R"/*.yml "$R"/*.yaml >"$BATS_TEST_TMPDIR/scripts"
	while IFS= read -r -d '' script; do
		n=$((n + 1))
		bash -n -c "$script" || fail_with "does not parse: $script"
	done <"$BATS_TEST_TMPDIR/scripts"
	[ "$n" -ge 8 ] || fail_with "only $n scripts found"
}

# the units as installed, but ExecStart's /usr/bin/spotenv is this build
# (verify checks that the program exists) and man:spotenv(1) is found in
# docs/ (verify runs man for Documentation=)
@test "recipes: the systemd units pass systemd-analyze verify, without a warning" {
	command -v systemd-analyze >/dev/null || fail_with "no systemd-analyze (util/deps.sh test installs systemd)"
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/units" "$d/man/man1"
	ln -s "$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/docs/spotenv.1" "$d/man/man1/spotenv.1"
	sed "s|/usr/bin/spotenv |$SPOTENV |" "$R/spotenv-apply.service" >"$d/units/spotenv-apply.service"
	cp "$R/spotenv-apply.timer" "$d/units/"
	grep -q "ExecStart=$SPOTENV apply " "$d/units/spotenv-apply.service"
	cd "$d/units"
	run env MANPATH="$d/man" SYSTEMD_LOG_COLOR=0 systemd-analyze verify \
		./spotenv-apply.service ./spotenv-apply.timer
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "recipes: systemd-analyze verify catches what this test relies on it for" {
	command -v systemd-analyze >/dev/null || fail_with "no systemd-analyze"
	local d=$BATS_TEST_TMPDIR
	sed "s|/usr/bin/spotenv |$SPOTENV |; s|^ProtectSystem=strict|ProtectSystem=sometimes|" \
		"$R/spotenv-apply.service" >"$d/spotenv-apply.service"
	cd "$d"
	run env SYSTEMD_LOG_COLOR=0 systemd-analyze --man=no verify ./spotenv-apply.service
	echo "$output"
	[[ "$output" == *"protect system value"*sometimes* ]]
}

@test "recipes: every spotenv command line uses commands and options spotenv has" {
	need_py
	run "$PY" "$CHECKER" commands "$R"/*
	echo "$output"
	[ "$status" -eq 0 ]
	# plan and apply in both CI recipes, apply in the unit and the CronJob
	local f
	for f in github-actions.yml gitlab-ci.yml; do
		echo "$output" | grep -q "^ok .*/$f: spotenv plan envs/ .*--format markdown -o plan.json"
		echo "$output" | grep -q "^ok .*/$f: spotenv apply plan.json "
	done
	[[ "$output" == *"spotenv-apply.service: spotenv apply /etc/spotenv/envs"*"--metrics-file"* ]]
	[[ "$output" == *"kubernetes-cronjob.yaml: spotenv apply /etc/spotenv/envs"*"--lock etcd"* ]]
	[[ "$output" == *"README.md: spotenv apply plan.json --auto-approve"* ]]
}

@test "recipes: the command check refuses an option or command spotenv does not have" {
	need_py
	local d=$BATS_TEST_TMPDIR
	printf 'steps:\n  - run: |\n      spotenv apply envs/ --auto-aprove\n' >"$d/bad.yml"
	run "$PY" "$CHECKER" commands "$d/bad.yml"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no option --auto-aprove in 'spotenv apply --help'"* ]]
	printf '[Service]\nExecStart=/usr/bin/spotenv converge /etc/spotenv\n' >"$d/bad.service"
	run "$PY" "$CHECKER" commands "$d/bad.service"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no command 'converge'"* ]]
	printf 'c:\n  command: [spotenv]\n  args: [plan, x, -z]\n' >"$d/bad.yaml"
	run "$PY" "$CHECKER" commands "$d/bad.yaml"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no option -z in 'spotenv plan --help'"* ]]
}

@test "recipes: the markdown plan carries the marker the sticky-comment jobs look for" {
	sim_start
	run --separate-stderr "$SPOTENV" plan "$BATS_TEST_DIRNAME/../../specs/examples" --format markdown
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "<!-- spotenv-plan -->" ]
	grep -qF "'<!-- spotenv-plan -->'" "$R/github-actions.yml"
	grep -qF "marker='<!-- spotenv-plan -->'" "$R/gitlab-ci.yml"
}

# The unit's ExecStart and Environment= as they are, with the paths moved
# into the test's directory: the examples converge and the metrics appear.
@test "recipes: the systemd unit's command line converges the examples against the emulator" {
	need_py
	local d=$BATS_TEST_TMPDIR line
	sim_start --pending-ms 100
	mkdir -p "$d/envs" "$d/textfile" "$d/state" "$d/run"
	cp "$BATS_TEST_DIRNAME"/../../specs/examples/*.yaml "$d/envs/"
	line=$("$PY" "$CHECKER" execline "$R/spotenv-apply.service" ExecStart)
	line=${line//\/usr\/bin\/spotenv/$SPOTENV}
	line=${line//\/etc\/spotenv\/envs/$d/envs}
	line=${line//\/var\/lib\/node_exporter\/textfile_collector/$d/textfile}
	[[ "$line" == "$SPOTENV apply $d/envs "* ]]
	grep -qx 'Environment=SPOTENV_STATE_DIR=/var/lib/spotenv' "$R/spotenv-apply.service"
	grep -qx 'Environment=SPOTENV_LOCK_FILE=/run/spotenv/apply.lock' "$R/spotenv-apply.service"
	# shellcheck disable=SC2086 # the unit's command line, split as systemd does (no quotes in it)
	run --separate-stderr env NO_COLOR=1 SPOTENV_STATE_DIR="$d/state" \
		SPOTENV_LOCK_FILE="$d/run/apply.lock" $line
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4/4 environments converged"* ]]
	grep -q '^spotenv_desired_instances{env="render-farm"' "$d/textfile/spotenv.prom"
	[ -f "$d/state/tokens.json" ] || ls -la "$d/state"
}

# systemd cannot run here (no PID 1), so the sandbox is checked another
# way: the unit's command line under strace makes no syscall its
# SystemCallFilter= lines leave out, and opens sockets only of the families
# RestrictAddressFamilies= allows (a filtered syscall would kill the run).
@test "recipes: the unit's command line makes only syscalls its sandbox allows" {
	need_py
	command -v strace >/dev/null || fail_with "no strace (util/deps.sh test installs it)"
	local d=$BATS_TEST_TMPDIR line
	sim_start --pending-ms 100
	mkdir -p "$d/envs" "$d/textfile" "$d/state"
	cp "$BATS_TEST_DIRNAME"/../../specs/examples/*.yaml "$d/envs/"
	line=$("$PY" "$CHECKER" execline "$R/spotenv-apply.service" ExecStart)
	line=${line//\/usr\/bin\/spotenv/$SPOTENV}
	line=${line//\/etc\/spotenv\/envs/$d/envs}
	line=${line//\/var\/lib\/node_exporter\/textfile_collector/$d/textfile}
	# (LeakSanitizer cannot run under ptrace: in the sanitizer pass leaks
	# are checked by every other test, not by this one)
	# shellcheck disable=SC2086 # the unit's command line, split as systemd does
	run --separate-stderr env NO_COLOR=1 SPOTENV_STATE_DIR="$d/state" \
		SPOTENV_LOCK_FILE="$d/apply.lock" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -o "$d/trace" $line
	echo "$stderr"
	[ "$status" -eq 0 ]
	run "$PY" "$CHECKER" sandbox "$d/trace" "$R/spotenv-apply.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *AF_INET* ]]
	# and the check bites: a unit without network syscalls or AF_INET fails
	sed 's/^SystemCallFilter=~.*/& @network-io/; s/^RestrictAddressFamilies=.*/RestrictAddressFamilies=AF_UNIX/' \
		"$R/spotenv-apply.service" >"$d/tight.service"
	run "$PY" "$CHECKER" sandbox "$d/trace" "$d/tight.service"
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: syscall connect is filtered out by the unit"* ]]
	[[ "$output" == *"error: socket family AF_INET is not in RestrictAddressFamilies"* ]]
}

# The CronJob's command and args as they are, with the paths moved into the
# test's directory and its etcd lock on a local etcd; its stderr is JSON
# lines; a second run finds nothing to do.
@test "recipes: the CronJob's command line converges the examples under its etcd lock" {
	need_py
	etcd_start
	sim_start --pending-ms 100
	local d=$BATS_TEST_TMPDIR a argv=()
	mkdir -p "$d/envs" "$d/textfile" "$d/state"
	cp "$BATS_TEST_DIRNAME"/../../specs/examples/*.yaml "$d/envs/"
	while IFS= read -r a; do
		case $a in
		etcd*) a=$ETCD_URL/recipes ;;
		/etc/spotenv/envs) a=$d/envs ;;
		/var/lib/node_exporter/textfile_collector/*) a=$d/textfile/${a##*/} ;;
		esac
		argv+=("$a")
	done < <("$PY" "$CHECKER" argv "$R/kubernetes-cronjob.yaml")
	[ "${argv[0]}" = apply ]
	run --separate-stderr env NO_COLOR=1 SPOTENV_STATE_DIR="$d/state" \
		SPOTENV_LOCK_FILE="$d/lock" "$SPOTENV" "${argv[@]}"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4/4 environments converged"* ]]
	grep -q '^spotenv_desired_instances' "$d/textfile/spotenv.prom"
	# its logs are JSON lines (--log-format json)
	[ -n "$stderr" ]
	echo "$stderr" | "$PY" -c 'import json, sys; [json.loads(l) for l in sys.stdin if l.strip()]'
	# run again: nothing to do, the lock taken and given back again
	run --separate-stderr env NO_COLOR=1 SPOTENV_STATE_DIR="$d/state" \
		SPOTENV_LOCK_FILE="$d/lock2" "$SPOTENV" "${argv[@]}"
	echo "$stderr"
	[ "$status" -eq 0 ]
}

# `spotenv` on PATH (as the package installs it), in a directory of its own
path_with_spotenv() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -sf "$SPOTENV" "$BATS_TEST_TMPDIR/bin/spotenv"
	echo "$BATS_TEST_TMPDIR/bin:$PATH"
}

# The GitHub workflow's Plan and Apply steps as they are (bash -e, as
# Actions runs them), in a checkout whose envs/ are the examples: the plan
# is saved with exit code 2 and the marker first, the saved plan applies,
# and planning again finds nothing to do.
@test "recipes: the GitHub workflow's plan and apply steps run against the emulator" {
	need_py
	sim_start --pending-ms 100
	local d=$BATS_TEST_TMPDIR/checkout p
	mkdir -p "$d/envs"
	cp "$BATS_TEST_DIRNAME"/../../specs/examples/*.yaml "$d/envs/"
	p=$(path_with_spotenv)
	"$PY" "$CHECKER" ghstep "$R/github-actions.yml" plan Plan >"$BATS_TEST_TMPDIR/plan.sh"
	"$PY" "$CHECKER" ghstep "$R/github-actions.yml" apply "Apply the reviewed plan" >"$BATS_TEST_TMPDIR/apply.sh"
	cd "$d"
	run --separate-stderr env PATH="$p" GITHUB_OUTPUT="$d/out1" bash -e "$BATS_TEST_TMPDIR/plan.sh"
	echo "$stderr"
	[ "$status" -eq 0 ]
	grep -qx 'exitcode=2' "$d/out1"
	[ "$(head -n 1 plan.md)" = "<!-- spotenv-plan -->" ]
	[ -s plan.json ]
	run --separate-stderr env PATH="$p" SPOTENV_LOCK_FILE="$d/lock" SPOTENV_STATE_DIR="$d/state" \
		bash -e "$BATS_TEST_TMPDIR/apply.sh"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"4/4 environments converged"* ]]
	run --separate-stderr env PATH="$p" GITHUB_OUTPUT="$d/out2" bash -e "$BATS_TEST_TMPDIR/plan.sh"
	[ "$status" -eq 0 ]
	grep -qx 'exitcode=0' "$d/out2"
}

# A stand-in for the GitLab API on loopback: the merge request's notes
# (GET, POST, PUT), the commit's merge requests, their pipelines and jobs,
# and the plan job's artifact (the plan.json the plan script saved).
write_fake_gitlab() {
	cat >"$1" <<'PY'
import json, os, re, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

state = {"notes": [], "next": 100, "calls": []}
workdir = sys.argv[2]

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        return parse_qs(self.rfile.read(n).decode())
    def route(self, method):
        u = urlparse(self.path)
        state["calls"].append(method + " " + u.path)
        if u.path == "/_state":
            return self.send(200, state)
        if self.headers.get("PRIVATE-TOKEN") != "glpat-test":
            return self.send(401, {"message": "401 Unauthorized"})
        p = u.path
        if p == "/api/v4/projects/42/merge_requests/7/notes":
            if method == "GET":
                return self.send(200, state["notes"])
            if method == "POST":
                state["next"] += 1
                note = {"id": state["next"], "body": self.form()["body"][0]}
                state["notes"].append(note)
                return self.send(201, note)
        m = re.fullmatch(r"/api/v4/projects/42/merge_requests/7/notes/(\d+)", p)
        if m and method == "PUT":
            for note in state["notes"]:
                if note["id"] == int(m.group(1)):
                    note["body"] = self.form()["body"][0]
                    return self.send(200, note)
            return self.send(404, {"message": "404 Note Not Found"})
        if p == "/api/v4/projects/42/repository/commits/mergesha/merge_requests":
            return self.send(200, [{"iid": 7, "sha": "headsha", "state": "merged"}])
        if p == "/api/v4/projects/42/merge_requests/7/pipelines":
            return self.send(200, [{"id": 900, "sha": "othersha", "status": "success"},
                                   {"id": 899, "sha": "headsha", "status": "failed"},
                                   {"id": 898, "sha": "headsha", "status": "success"}])
        if p == "/api/v4/projects/42/pipelines/898/jobs":
            return self.send(200, [{"id": 5550, "name": "spotenv-validate"},
                                   {"id": 5551, "name": "spotenv-plan"}])
        if p == "/api/v4/projects/42/jobs/5551/artifacts/plan.json":
            with open(os.path.join(workdir, "plan.json"), "rb") as f:
                return self.send(200, f.read(), "application/octet-stream")
        return self.send(404, {"message": "404 Not Found"})
    def do_GET(self):
        self.route("GET")
    def do_POST(self):
        self.route("POST")
    def do_PUT(self):
        self.route("PUT")

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
PY
}

gitlab_notes() {
	curl -fsS "$GL/_state" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
print(len(s["notes"]))
for n in s["notes"]:
    print(n["id"], n["body"].splitlines()[0])'
}

# The GitLab jobs' scripts as they are (bash -e), against the emulator and
# a stand-in GitLab API: the first plan creates the note, the second
# updates that same note, and the apply job finds the merge request's last
# successful pipeline at the merged head, fetches its plan and applies it.
@test "recipes: the GitLab jobs' scripts run against the emulator and a stand-in GitLab API" {
	need_py
	command -v jq >/dev/null || fail_with "no jq (util/deps.sh test installs it)"
	sim_start --pending-ms 100
	local d=$BATS_TEST_TMPDIR/checkout p
	mkdir -p "$d/envs"
	cp "$BATS_TEST_DIRNAME"/../../specs/examples/*.yaml "$d/envs/"
	p=$(path_with_spotenv)
	write_fake_gitlab "$BATS_TEST_TMPDIR/gitlab.py"
	"$PY" "$BATS_TEST_TMPDIR/gitlab.py" "$BATS_TEST_TMPDIR/gl.port" "$d" \
		>"$BATS_TEST_TMPDIR/gitlab.log" 2>&1 3>&- </dev/null &
	GL_PID=$!
	wait_until 20 test -s "$BATS_TEST_TMPDIR/gl.port"
	GL=http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/gl.port")
	"$PY" "$CHECKER" glscript "$R/gitlab-ci.yml" spotenv-plan >"$BATS_TEST_TMPDIR/plan.sh"
	"$PY" "$CHECKER" glscript "$R/gitlab-ci.yml" spotenv-apply >"$BATS_TEST_TMPDIR/apply.sh"
	cd "$d"
	gl_env=(PATH="$p" CI_API_V4_URL="$GL/api/v4" CI_PROJECT_ID=42 CI_MERGE_REQUEST_IID=7
		CI_JOB_URL="$GL/job/1" SPOTENV_GITLAB_TOKEN=glpat-test TC_OIDC_TOKEN=not-used-here
		SPOTENV_LOCK_FILE="$d/lock" SPOTENV_STATE_DIR="$d/state")
	run --separate-stderr env "${gl_env[@]}" bash -e "$BATS_TEST_TMPDIR/plan.sh"
	echo "$stderr"
	[ "$status" -eq 0 ]
	run gitlab_notes
	echo "$output"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "101 <!-- spotenv-plan -->" ]
	# a second push: the same note, updated
	run --separate-stderr env "${gl_env[@]}" bash -e "$BATS_TEST_TMPDIR/plan.sh"
	echo "$stderr"
	[ "$status" -eq 0 ]
	run gitlab_notes
	echo "$output"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "101 <!-- spotenv-plan -->" ]
	curl -fsS "$GL/_state" | grep -q 'PUT /api/v4/projects/42/merge_requests/7/notes/101'
	# the merge, in a fresh job: the plan the stand-in serves as the plan
	# job's artifact is the one the plan script saved ($d/plan.json)
	mkdir -p "$d/apply"
	cd "$d/apply"
	run --separate-stderr env "${gl_env[@]}" CI_COMMIT_SHA=mergesha bash -e "$BATS_TEST_TMPDIR/apply.sh"
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"applying the plan of !7 (job 5551)"* ]]
	[[ "$output" == *"4/4 environments converged"* ]]
	cmp plan.json ../plan.json
}
