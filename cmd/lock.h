/*
 * lock.h - the local apply lock: two applies (or an apply and a destroy)
 * on one machine never overlap.  flock(2) on a file whose content names the
 * holder (pid, host, start time) so a blocked run can say who holds it.
 */
#ifndef SPOTENV_CMD_LOCK_H
#define SPOTENV_CMD_LOCK_H

#include "../util/setup.h"

struct cmd_lock {
	int fd;
	char *path;
};

#define CMD_LOCK_INIT { -1, NULL }

/*
 * The lock file: path if given, else $SPOTENV_LOCK_FILE, else
 * $XDG_RUNTIME_DIR/spotenv.lock, else /tmp/spotenv-UID.lock.
 * Waits up to timeout_ms (0 = do not wait).  Returns 0 or an exit code
 * after printing who holds it.
 */
int cmd_lock_acquire(struct cmd_lock *l, const char *path, int64_t timeout_ms,
		     const char *what);
void cmd_lock_release(struct cmd_lock *l);

#endif
