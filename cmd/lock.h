/*
 * lock.h - the apply locks: two applies (or an apply and a destroy) never
 * overlap.
 *
 * The local lock, always taken: flock(2) on a file whose content names the
 * holder (pid, host, start time) so a blocked run can say who holds it.
 * The distributed lock, with --lock URL or $SPOTENV_LOCK: one etcd v3 lock
 * per scope the run may touch (applier/lock.h), for runners on several
 * machines; taken after the local one, released before it.
 */
#ifndef SPOTENV_CMD_LOCK_H
#define SPOTENV_CMD_LOCK_H

#include "../util/setup.h"
#include "../applier/lock.h"

struct cmd_lock {
	int fd;
	char *path;
	struct apply_lock *dist; /* the etcd lock, or NULL */
	struct apply_lock_guard guard;
};

#define CMD_LOCK_INIT                                                                    \
	{                                                                                \
		-1, NULL, NULL,                                                          \
		{                                                                        \
			{ NULL, NULL }, NULL, NULL                                       \
		}                                                                        \
	}

/*
 * The local lock file: path if given, else $SPOTENV_LOCK_FILE, else
 * $XDG_RUNTIME_DIR/spotenv.lock, else /tmp/spotenv-UID.lock.
 * Waits up to timeout_ms (0 = do not wait).  Returns 0 or an exit code
 * after printing who holds it.
 */
int cmd_lock_acquire(struct cmd_lock *l, const char *path, int64_t timeout_ms,
		     const char *what);

/*
 * The distributed lock's URL: url if given, else $SPOTENV_LOCK, else NULL
 * (no distributed lock).  Checks its form; a bad one is a usage error of
 * cmdname, printed.  0 or an exit code.
 */
int cmd_lock_url(const char **out, const char *cmdname, const char *url);

/*
 * Take the etcd lock at url of every scope (sorted, deduplicated) under a
 * lease of ttl_ms (0 = 30 s), waiting until deadline_ms (time_now_ms()
 * clock; already past = try once).  The holder note names what ("apply"
 * or "destroy").  0 or an exit code after printing who holds it or what
 * failed.
 */
int cmd_lock_acquire_dist(struct cmd_lock *l, const char *url, const char *const *scopes,
			  size_t nscopes, int64_t ttl_ms, int64_t deadline_ms,
			  const char *what);

/*
 * The cloud apply should act through: inner, or with a distributed lock a
 * guard that stops every call once the lock is lost.  Borrowed from l and
 * inner; valid until cmd_lock_release.
 */
const struct apply_cloud *cmd_lock_cloud(struct cmd_lock *l,
					 const struct apply_cloud *inner);

/* Release the distributed lock (warning when etcd was not told), then the local one. */
void cmd_lock_release(struct cmd_lock *l);

#endif
