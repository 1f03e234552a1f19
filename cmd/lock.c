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
		return cmd_errorf(
			"lock file '%s' is a symbolic link; refusing to follow it",
			l->path);
	if (l->fd < 0)
		return cmd_errorf("cannot open lock file '%s': %s", l->path,
				  strerror(errno));
	if (fstat(l->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(l->fd);
		l->fd = -1;
		return cmd_errorf("lock file '%s' is not a plain file with one name; "
				  "remove it or pass --lock-file",
				  l->path);
	}
	while (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return cmd_errorf("cannot lock '%s': %s", l->path,
					  strerror(errno));
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
	n = snprintf(line, sizeof(line), "pid %ld on %s since %s (%s)\n", (long)getpid(),
		     host, stamp, what);
	if (n > 0 && (size_t)n < sizeof(line)) {
		/* the lock holds even if the note cannot be written */
		if (ftruncate(l->fd, 0) == 0 && pwrite(l->fd, line, (size_t)n, 0) < 0)
			errno = 0;
	}
	return 0;
}

int cmd_lock_url(const char **out, const char *cmdname, const char *url)
{
	struct apply_lock_url u = APPLY_LOCK_URL_INIT;
	struct err e = ERR_INIT;
	int ret = 0;

	if (!url || !*url)
		url = getenv("SPOTENV_LOCK");
	*out = NULL;
	if (!url || !*url)
		return 0;
	if (apply_lock_url_parse(&u, url, &e) < 0)
		ret = cmd_usagef(cmdname, "%s", e.msg);
	else
		*out = url;
	apply_lock_url_clear(&u);
	err_clear(&e);
	return ret;
}

int cmd_lock_acquire_dist(struct cmd_lock *l, const char *url, const char *const *scopes,
			  size_t nscopes, int64_t ttl_ms, int64_t deadline_ms,
			  const char *what)
{
	struct apply_lock_opts o = APPLY_LOCK_OPTS_INIT;
	struct err e = ERR_INIT;
	char *holder = apply_lock_holder(what, time(NULL));
	int64_t left = deadline_ms - time_now_ms();
	int ret = 0;

	o.ttl_ms = ttl_ms;
	o.timeout_ms = left > 0 ? left : 0;
	o.holder = holder;
	if (apply_lock_acquire(&l->dist, url, scopes, nscopes, &o, &e) < 0) {
		if (e.code == ERR_LOCKED)
			ret = cmd_errorf("%s; wait for it, or pass --lock-timeout",
					 e.msg);
		else
			ret = cmd_errorf("cannot take the etcd lock: %s", e.msg);
	}
	free(holder);
	err_clear(&e);
	return ret;
}

const struct apply_cloud *cmd_lock_cloud(struct cmd_lock *l,
					 const struct apply_cloud *inner)
{
	if (!l->dist)
		return inner;
	apply_lock_guard_init(&l->guard, inner, l->dist);
	return &l->guard.cloud;
}

void cmd_lock_release(struct cmd_lock *l)
{
	if (l->dist) {
		struct err e = ERR_INIT;
		int64_t ttl = apply_lock_ttl_ms(l->dist);

		if (apply_lock_release(l->dist, &e) < 0)
			cmd_warnf(
				"could not release the etcd lock (%s); it frees itself within %llds",
				e.msg, (long long)ttl / 1000);
		err_clear(&e);
		l->dist = NULL;
	}
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
