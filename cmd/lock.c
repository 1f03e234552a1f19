#include "../util/setup.h"
#include "../util/duration.h"
#include "cmd.h"
#include "lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

static char *lock_path(const char *path)
{
	const char *env = getenv("SPOTENV_LOCK_FILE");
	const char *run = getenv("XDG_RUNTIME_DIR");

	if (path && *path)
		return xstrdup(path);
	if (env && *env)
		return xstrdup(env);
	if (run && *run)
		return xasprintf("%s/spotenv.lock", run);
	return xasprintf("/tmp/spotenv-%ld.lock", (long)getuid());
}

static void read_holder(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	if (n <= 0) {
		snprintf(out, size, "unknown holder");
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

int cmd_lock_acquire(struct cmd_lock *l, const char *path, int64_t timeout_ms,
		     const char *what)
{
	int64_t deadline = time_now_ms() + timeout_ms;
	char holder[256], host[128], stamp[32], line[320];
	time_t now;
	struct tm tm;
	struct stat st;
	int n;

	l->path = lock_path(path);
	/*
	 * The default lives in /tmp when there is no runtime dir: never
	 * follow a symlink planted there (the holder note truncates the
	 * file), and only use a plain file with one name.
	 */
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (l->fd < 0 && errno == ELOOP)
		return cmd_errorf("lock file '%s' is a symbolic link; refusing to follow it",
				  l->path);
	if (l->fd < 0)
		return cmd_errorf("cannot open lock file '%s': %s", l->path, strerror(errno));
	if (fstat(l->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(l->fd);
		l->fd = -1;
		return cmd_errorf("lock file '%s' is not a plain file with one name; "
				  "remove it or pass --lock-file",
				  l->path);
	}
	while (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return cmd_errorf("cannot lock '%s': %s", l->path, strerror(errno));
		if (time_now_ms() >= deadline) {
			read_holder(l->fd, holder, sizeof(holder));
			close(l->fd);
			l->fd = -1;
			return cmd_errorf("another spotenv %s holds the lock '%s' (%s); "
					  "wait for it, or pass --lock-timeout",
					  what, l->path, holder);
		}
		usleep(100 * 1000);
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "pid %ld on %s since %s (%s)\n", (long)getpid(), host,
		     stamp, what);
	if (n > 0 && (size_t)n < sizeof(line)) {
		/* the lock holds even if the note cannot be written */
		if (ftruncate(l->fd, 0) == 0 && pwrite(l->fd, line, (size_t)n, 0) < 0)
			errno = 0;
	}
	return 0;
}

void cmd_lock_release(struct cmd_lock *l)
{
	if (l->fd >= 0) {
		/* best effort: the next holder rewrites it anyway */
		if (ftruncate(l->fd, 0) < 0)
			errno = 0;
		flock(l->fd, LOCK_UN);
		close(l->fd);
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}
