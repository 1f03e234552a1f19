/*
 * Unit tests for spec_load_paths: files and directories (recursive,
 * sorted, *.yaml and *.yml only), duplicates across files, and the errors
 * for missing, empty and unreadable paths.
 */
#include "../../util/setup.h"

#include <setjmp.h>

#include <cmocka.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../specs/spec.h"

#define ENV(name)                                                                        \
	"apiVersion: spotenv/v1\nkind: SpotEnvironment\nmetadata:\n  name: " name        \
	"\nspec:\n  region: ap-guangzhou\n  capacity: 1\n  maxPrice: \"0.5\"\n"          \
	"  image: img-pmqg1cw7\n  pools: [{zone: ap-guangzhou-3, instanceType: "         \
	"S5.MEDIUM4}]\n"

struct fx {
	char dir[64];
	struct spec_set set;
	struct errlist errs;
};

static void put(struct fx *f, const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", f->dir, rel);
	FILE *fp;

	/* make parent directories */
	for (char *s = p + strlen(f->dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(p);
}

static char *path(struct fx *f, const char *rel)
{
	return xasprintf("%s/%s", f->dir, rel);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/spotenv-specs-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		print_message("cannot remove %s\n", f->dir);
	free(cmd);
	spec_set_release(&f->set);
	errlist_clear(&f->errs);
	free(f);
	return 0;
}

static int load1(struct fx *f, const char *p)
{
	const char *paths[1] = { p };

	return spec_load_paths(&f->set, paths, 1, &f->errs);
}

static void test_directory_recursive_sorted(void **state)
{
	struct fx *f = *state;

	put(f, "b.yaml", ENV("bravo"));
	put(f, "a.yml", ENV("alpha") "---\n" ENV("zulu"));
	put(f, "sub/c.yaml", ENV("charlie"));
	put(f, "notes.txt", "not yaml at all: [");
	put(f, ".hidden.yaml", "broken: [");
	put(f, ".git/x.yaml", "broken: [");
	assert_int_equal(load1(f, f->dir), 0);
	assert_int_equal(f->errs.n, 0);
	assert_int_equal(f->set.nfiles, 3);
	assert_non_null(strstr(f->set.files[0], "/a.yml"));
	assert_non_null(strstr(f->set.files[1], "/b.yaml"));
	assert_non_null(strstr(f->set.files[2], "/sub/c.yaml"));
	assert_int_equal(f->set.nenvs, 4);
	assert_string_equal(f->set.envs[0].name, "alpha");
	assert_string_equal(f->set.envs[3].name, "zulu");
	assert_ptr_equal(f->set.envs[3].loc.file, f->set.files[0]);
	assert_int_equal(f->set.envs[3].loc.line, 12);
}

static void test_duplicate_across_files(void **state)
{
	struct fx *f = *state;
	char *a, *b, *want;

	put(f, "a.yaml", ENV("web"));
	put(f, "b.yaml", "# second\n" ENV("web"));
	assert_int_equal(load1(f, f->dir), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	a = path(f, "a.yaml");
	b = path(f, "b.yaml");
	want = xasprintf("duplicate environment 'web' (first defined at %s:1:1)", a);
	assert_string_equal(f->errs.v[0].file, b);
	assert_int_equal(f->errs.v[0].line, 5);
	assert_int_equal(f->errs.v[0].col, 9);
	assert_string_equal(f->errs.v[0].path, "metadata.name");
	assert_string_equal(f->errs.v[0].msg, want);
	assert_int_equal(f->set.nenvs, 1);
	free(a);
	free(b);
	free(want);
}

static void test_same_file_twice_read_once(void **state)
{
	struct fx *f = *state;
	char *a = path(f, "a.yaml");
	const char *paths[3] = { a, f->dir, a };

	put(f, "a.yaml", ENV("web"));
	assert_int_equal(spec_load_paths(&f->set, paths, 3, &f->errs), 0);
	assert_int_equal(f->set.nfiles, 1);
	assert_int_equal(f->set.nenvs, 1);
	free(a);
}

static void test_explicit_file_any_extension(void **state)
{
	struct fx *f = *state;
	char *p = path(f, "spec.txt");

	put(f, "spec.txt", ENV("web"));
	assert_int_equal(load1(f, p), 0);
	assert_int_equal(f->set.nenvs, 1);
	free(p);
}

static void test_missing_path(void **state)
{
	struct fx *f = *state;
	char *p = path(f, "nope.yaml"), *ok = path(f, "ok.yaml");
	const char *paths[2] = { p, ok };

	put(f, "ok.yaml", ENV("web"));
	assert_int_equal(spec_load_paths(&f->set, paths, 2, &f->errs), ERR_NOTFOUND);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.v[0].file, p);
	assert_int_equal(f->errs.v[0].line, 0);
	assert_string_equal(f->errs.v[0].msg, "no such file or directory");
	assert_int_equal(f->set.nenvs, 1); /* the other path still loads */
	free(p);
	free(ok);
}

static void test_directory_without_specs(void **state)
{
	struct fx *f = *state;

	put(f, "README.md", "# nothing here\n");
	assert_int_equal(load1(f, f->dir), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.v[0].file, f->dir);
	assert_string_equal(f->errs.v[0].msg, "no *.yaml or *.yml files in directory");
}

static void test_empty_file_in_directory(void **state)
{
	struct fx *f = *state;
	char *p = path(f, "empty.yaml");

	put(f, "empty.yaml", "");
	put(f, "ok.yaml", ENV("web"));
	assert_int_equal(load1(f, f->dir), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.v[0].file, p);
	assert_int_equal(f->errs.v[0].line, 1);
	assert_int_equal(f->errs.v[0].col, 1);
	assert_non_null(strstr(f->errs.v[0].msg, "no environments in file"));
	free(p);
}

/*
 * Load p and check it fails as unreadable; 0 when it did.  Run as an
 * unprivileged user when the tests run as root (root reads anything).
 */
static int check_unreadable(struct fx *f, const char *p)
{
	if (load1(f, p) != ERR_INVALID || f->errs.n != 1 || !f->errs.v[0].file ||
	    strcmp(f->errs.v[0].file, p) ||
	    strcmp(f->errs.v[0].msg, "cannot open file: permission denied"))
		return 1;
	return 0;
}

static void test_unreadable_file(void **state)
{
	struct fx *f = *state;
	char *p = path(f, "secret.yaml");
	pid_t pid;
	int status = -1;

	put(f, "secret.yaml", ENV("web"));
	chmod(p, 0);
	if (geteuid() != 0) {
		assert_int_equal(check_unreadable(f, p), 0);
		free(p);
		return;
	}
	chmod(f->dir, 0711); /* nobody may pass through, not list */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child drops root (nobody), so the permission check applies */
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		_exit(check_unreadable(f, p));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(p);
}

/* Works as root too: /proc/self/mem opens but reading offset 0 fails. */
static void test_read_error(void **state)
{
	struct fx *f = *state;

	assert_int_equal(access("/proc/self/mem", F_OK), 0); /* Linux */
	assert_int_equal(load1(f, "/proc/self/mem"), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.v[0].file, "/proc/self/mem");
	assert_int_equal(f->errs.v[0].line, 0);
	assert_non_null(strstr(f->errs.v[0].msg, "cannot read file: "));
	assert_int_equal(f->set.nfiles, 0);
}

static void test_errors_in_several_files(void **state)
{
	struct fx *f = *state;

	put(f, "a.yaml", ENV("a") "  capcity: 1\n");
	put(f, "b.yaml", ENV("b") "  allocation: random\n");
	put(f, "c.yaml", ENV("c"));
	assert_int_equal(load1(f, f->dir), ERR_INVALID);
	errlist_sort(&f->errs);
	assert_int_equal(f->errs.n, 2);
	assert_non_null(strstr(f->errs.v[0].file, "/a.yaml"));
	assert_int_equal(f->errs.v[0].line, 11);
	assert_non_null(strstr(f->errs.v[1].file, "/b.yaml"));
	assert_string_equal(f->errs.v[1].path, "spec.allocation");
	assert_int_equal(f->set.nenvs, 1);
	assert_string_equal(f->set.envs[0].name, "c");
}

/* A FIFO, a socket or a device is an error naming it, never a hang. */
static void test_not_regular_files(void **state)
{
	struct fx *f = *state;
	char *fifo = path(f, "x.yaml"), *sock = path(f, "s.yaml");
	struct sockaddr_un sa;
	int sfd = socket(AF_UNIX, SOCK_STREAM, 0);

	put(f, "a.yaml", ENV("a"));
	assert_int_equal(mkfifo(fifo, 0644), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	assert_true(sfd >= 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* in a directory: the others still load, each odd one is named */
	assert_int_equal(load1(f, f->dir), ERR_INVALID);
	errlist_sort(&f->errs);
	assert_int_equal(f->errs.n, 2);
	assert_string_equal(f->errs.v[0].file, sock);
	assert_non_null(strstr(f->errs.v[0].msg, "is a socket, not a regular file"));
	assert_string_equal(f->errs.v[1].file, fifo);
	assert_non_null(strstr(f->errs.v[1].msg, "is a FIFO, not a regular file"));
	assert_int_equal(f->set.nenvs, 1);
	spec_set_release(&f->set);
	errlist_clear(&f->errs);
	/* given directly */
	assert_int_equal(load1(f, fifo), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	assert_non_null(strstr(f->errs.v[0].msg, "is a FIFO"));
	errlist_clear(&f->errs);
	assert_int_equal(load1(f, "/dev/null"), ERR_INVALID);
	assert_int_equal(f->errs.n, 1);
	assert_string_equal(f->errs.v[0].file, "/dev/null");
	assert_non_null(strstr(f->errs.v[0].msg, "is a device, not a regular file"));
	close(sfd);
	free(fifo);
	free(sock);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_directory_recursive_sorted),
		T(test_duplicate_across_files),
		T(test_same_file_twice_read_once),
		T(test_explicit_file_any_extension),
		T(test_missing_path),
		T(test_directory_without_specs),
		T(test_empty_file_in_directory),
		T(test_unreadable_file),
		T(test_read_error),
		T(test_errors_in_several_files),
		T(test_not_regular_files),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
