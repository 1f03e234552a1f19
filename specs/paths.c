/*
 * paths.c - the files a list of spec paths names, and reading them.
 *
 * Why sorted and deduplicated: a directory of specs must load the same way
 * on every machine, and naming a directory together with a file inside it
 * must not define its environments twice.
 */
#include "../util/setup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "load_int.h"

#define SPEC_MAX_FILE_BYTES (4 << 20)
#define SPEC_MAX_DIR_DEPTH 16

/* strerror, lowercased as our messages are. */
static const char *errstr(int errnum, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(errnum));
	if (buf[0] && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* What a file that is not regular is, for the message. */
static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISDIR(mode))
		return "a directory";
	return "not a regular file";
}

static int not_regular(struct errlist *errs, const char *path, mode_t mode)
{
	return errlist_add(
		errs, ERR_INVALID, path, 0, 0, NULL,
		"is %s, not a regular file; specs are read from regular files only",
		file_kind(mode));
}

/*
 * Open path for reading if it is a regular file: a FIFO would block
 * forever, a device never end.  Opened with O_NONBLOCK (so a FIFO without
 * a writer cannot hang the open) and checked with fstat on what was
 * opened; returns a blocking FILE, or NULL with the error added.
 */
static FILE *open_regular(const char *path, struct errlist *errs)
{
	struct stat st;
	char e[128];
	int fd, flags;
	FILE *f;

	/* a socket cannot be opened at all: say what it is */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		not_regular(errs, path, st.st_mode);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		errlist_add(errs, ERR_INVALID, path, 0, 0, NULL, "cannot open file: %s",
			    errstr(errno, e, sizeof(e)));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		errlist_add(errs, ERR_INVALID, path, 0, 0, NULL, "cannot read file: %s",
			    errstr(errno, e, sizeof(e)));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) { /* replaced since the stat */
		not_regular(errs, path, st.st_mode);
		close(fd);
		return NULL;
	}
	if ((flags = fcntl(fd, F_GETFL)) >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if (!(f = fdopen(fd, "rb"))) {
		errlist_add(errs, ERR_INVALID, path, 0, 0, NULL, "cannot open file: %s",
			    errstr(errno, e, sizeof(e)));
		close(fd);
	}
	return f;
}

int spec_read_file(char **out, size_t *len, const char *path, struct errlist *errs)
{
	char *data = NULL, e[128];
	size_t n = 0, alloc = 0;
	FILE *f = open_regular(path, errs);

	*out = NULL;
	if (!f)
		return ERR_INVALID;
	for (;;) {
		size_t got;

		ALLOC_GROW(data, n + 4096 + 1, alloc);
		got = fread(data + n, 1, alloc - n - 1, f);
		n += got;
		if (n > SPEC_MAX_FILE_BYTES) {
			errlist_add(errs, ERR_INVALID, path, 0, 0, NULL,
				    "file is larger than %d MiB",
				    SPEC_MAX_FILE_BYTES >> 20);
			goto fail;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		errlist_add(errs, ERR_INVALID, path, 0, 0, NULL, "cannot read file: %s",
			    errstr(errno ? errno : EIO, e, sizeof(e)));
		goto fail;
	}
	fclose(f);
	data[n] = '\0';
	*out = data;
	*len = n;
	return 0;
fail:
	fclose(f);
	free(data);
	return ERR_INVALID;
}

void spec_filelist_release(struct spec_filelist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Add path (taken over) to l. */
static void filelist_push(struct spec_filelist *l, char *path)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = path;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool spec_file_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

/* Collect *.yaml and *.yml under dir, sorted; hidden entries are skipped. */
static void walk_dir(struct spec_filelist *out, const char *dir, int depth,
		     struct errlist *errs)
{
	struct spec_filelist names = SPEC_FILELIST_INIT;
	struct dirent *de;
	char e[128];
	DIR *d;

	if (depth > SPEC_MAX_DIR_DEPTH) {
		errlist_add(errs, ERR_INVALID, dir, 0, 0, NULL,
			    "directories nested deeper than %d levels (a symlink loop?)",
			    SPEC_MAX_DIR_DEPTH);
		return;
	}
	if (!(d = opendir(dir))) {
		errlist_add(errs, ERR_INVALID, dir, 0, 0, NULL,
			    "cannot read directory: %s", errstr(errno, e, sizeof(e)));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		filelist_push(&names, xstrdup(de->d_name));
	}
	closedir(d);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), strp_cmp);
	for (size_t i = 0; i < names.n; i++) {
		size_t dl = strlen(dir);
		char *full = xasprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
				       names.v[i]);
		struct stat st;

		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk_dir(out, full, depth + 1, errs);
			free(full);
		} else if (spec_file_name(names.v[i])) {
			filelist_push(out, full);
		} else {
			free(full);
		}
	}
	spec_filelist_release(&names);
}

/*
 * Drop the files of l that name a file listed before them (the same file
 * named twice, or inside a named directory).  A file that cannot be
 * stat()ed stays: reading it will say what is wrong.
 */
static void filelist_dedup(struct spec_filelist *l)
{
	struct {
		dev_t dev;
		ino_t ino;
	} *ids = NULL;
	size_t nids = 0, ids_alloc = 0, kept = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct stat st;
		bool again = false;

		if (stat(l->v[i], &st) == 0) {
			for (size_t j = 0; j < nids && !again; j++)
				again = ids[j].dev == st.st_dev &&
					ids[j].ino == st.st_ino;
			if (!again) {
				ALLOC_GROW(ids, nids + 1, ids_alloc);
				ids[nids].dev = st.st_dev;
				ids[nids].ino = st.st_ino;
				nids++;
			}
		}
		if (again)
			free(l->v[i]);
		else
			l->v[kept++] = l->v[i];
	}
	l->n = kept;
	free(ids);
}

int spec_paths_collect(struct spec_filelist *out, const char *const *paths, size_t npaths,
		       struct errlist *errs)
{
	bool missing = false;
	char e[128];

	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		size_t before = out->n;

		if (stat(paths[i], &st) < 0) {
			bool gone = errno == ENOENT || errno == ENOTDIR;

			missing |= gone;
			errlist_add(errs, ERR_INVALID, paths[i], 0, 0, NULL, "%s%s",
				    gone ? "" : "cannot access: ",
				    errstr(errno, e, sizeof(e)));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			filelist_push(out, xstrdup(paths[i]));
			continue;
		}
		walk_dir(out, paths[i], 0, errs);
		if (out->n == before)
			errlist_add(errs, ERR_INVALID, paths[i], 0, 0, NULL,
				    "no *.yaml or *.yml files in directory");
	}
	filelist_dedup(out);
	return missing ? ERR_NOTFOUND : 0;
}
