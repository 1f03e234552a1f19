/*
 * err.h - the error value every library function fills.
 *
 * Library code (specs/, planner/, provider/, sim/, util/) never prints and
 * never exits.  A function that can fail returns 0 on success or a negative
 * ERR_* code, and fills a caller-provided `struct err *`.  The first error
 * wins: err_set() on an err that already holds an error keeps the old one,
 * so errors propagate instead of being rewritten.  An err is left untouched
 * on success so calls chain.
 *
 *	struct err e = ERR_INIT;
 *	if (spec_load(&set, paths, n, &e) < 0) {
 *		cmd_error_err(&e);
 *		err_clear(&e);
 *	}
 *
 * Secrets never go into an err.
 */
#ifndef SPOTENV_ERR_H
#define SPOTENV_ERR_H

#include "setup.h"

enum err_code {
	ERR_OK = 0,
	ERR_GENERIC = -1,  /* anything else */
	ERR_NOTFOUND = -2, /* a file, profile or object does not exist */
	ERR_INVALID = -3,  /* bad input: spec, JSON, arguments */
	ERR_API = -4,	   /* the API answered with an error (api_* set) */
	ERR_NET = -5,	   /* transport: connect, timeout, HTTP status */
	ERR_AUTH = -6,	   /* credentials missing or rejected */
	ERR_STALE = -7,	   /* a saved plan no longer matches the world */
	ERR_TOOBIG = -8,   /* a bounded buffer or limit was exceeded */
	ERR_LOCKED = -9,   /* a lock is held by someone else */
};

/*
 * How an API error should be treated by callers.  The provider classifies
 * (tc_classify in provider/tc.h lists every code); the classes say what a
 * caller does next, not what went wrong.
 */
enum err_class {
	ERR_CLASS_NONE = 0,
	ERR_CLASS_AUTH,	     /* AuthFailure.*, UnauthorizedOperation*: stop */
	ERR_CLASS_THROTTLED, /* RequestLimitExceeded*: retried, after the window */
	/*
	 * This pool cannot take the launch: stock, sold out, bid too low, not
	 * offered as spot (type or region), too little spot offering.  Go on
	 * with the next pool.
	 */
	ERR_CLASS_CAPACITY,
	ERR_CLASS_INVALID, /* Invalid*, MissingParameter, ...: the request is wrong */
	/*
	 * Worth trying again after a backoff: InternalError*,
	 * InternalServerError*, OperationDenied.InstanceOperationInProgress,
	 * MutexOperation.TaskRunning, HTTP 5xx, timeouts, resets.
	 */
	ERR_CLASS_TRANSIENT,
	ERR_CLASS_OTHER, /* anything else: not retried, not capacity */
	/*
	 * The zone's spot quota (vCPU per account and zone) is used up:
	 * LimitExceeded.SpotQuota, LimitExceeded.UserSpotQuota.  What still
	 * fits may be launched; the zone's other pools share the same quota,
	 * so skip them and go on in other zones.
	 */
	ERR_CLASS_QUOTA,
	/*
	 * The account cannot pay (InvalidAccount.InsufficientBalance): stop
	 * the run; not retried, not capacity.
	 */
	ERR_CLASS_ACCOUNT,
};

struct err {
	int code;	   /* ERR_OK while no error is set */
	char *msg;	   /* lowercase, no trailing period */
	char *file;	   /* optional: where (spec errors) */
	int line, col;	   /* 1-based; 0 when unknown */
	char *path;	   /* optional key path: spec.pools[1].zone */
	char *api_code;	   /* optional: API error code */
	char *api_message; /* optional: API error message */
	char *request_id;  /* optional: API RequestId */
	enum err_class cls;
};

#define ERR_INIT                                                                         \
	{                                                                                \
		0                                                                        \
	}

/* Set an error unless one is set already.  Returns code (never 0). */
int err_set(struct err *e, int code, const char *fmt, ...) SPOTENV_PRINTF(3, 4);
int err_vset(struct err *e, int code, const char *fmt, va_list ap) SPOTENV_PRINTF(3, 0);
/* Same, with a location (file may be NULL) and key path (may be NULL). */
int err_set_at(struct err *e, int code, const char *file, int line, int col,
	       const char *path, const char *fmt, ...) SPOTENV_PRINTF(7, 8);
/* Set the API details on e (copies the strings; NULLs allowed). */
void err_set_api(struct err *e, const char *api_code, const char *api_message,
		 const char *request_id, enum err_class cls);
/* True when e holds an error. */
static inline bool err_isset(const struct err *e)
{
	return e && e->code != 0;
}
/* Free what e holds and reset it to ERR_INIT.  NULL is fine. */
void err_clear(struct err *e);
/* Move src into dst (dst cleared first); src is reset. */
void err_move(struct err *dst, struct err *src);
/* Deep copy src into dst (dst cleared first). */
void err_copy(struct err *dst, const struct err *src);

/*
 * A list of errors, for loaders that report every problem of a run.
 * Each element is owned by the list.
 */
struct errlist {
	struct err *v;
	size_t n, alloc;
};

#define ERRLIST_INIT                                                                     \
	{                                                                                \
		NULL, 0, 0                                                               \
	}

/* Append a located error; returns the code. */
int errlist_add(struct errlist *l, int code, const char *file, int line, int col,
		const char *path, const char *fmt, ...) SPOTENV_PRINTF(7, 8);
/* Move e into the list (e is reset). */
void errlist_push(struct errlist *l, struct err *e);
/* Sort by file, line, column (stable for equal positions). */
void errlist_sort(struct errlist *l);
void errlist_clear(struct errlist *l);

#endif
