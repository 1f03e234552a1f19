/*
 * lock.h - the distributed apply lock, on etcd v3 (design section 11).
 *
 * The local flock (cmd/lock.c) keeps two runs on one machine apart; this
 * keeps runs on several machines apart (CI on merge, cron elsewhere).  One
 * lock per scope, the key PREFIX/lock/SCOPE, all of a run's keys attached
 * to one lease of TTL seconds that a background thread renews every TTL/3.
 * A crashed holder stops renewing, and etcd deletes its keys when the
 * lease expires.  The key's value names the holder ("HOST pid PID since
 * RFC3339 (apply)") so a refused run can say who holds it.
 *
 * Talks to etcd's JSON gateway over libcurl, never prints:
 *	POST /v3/lease/grant     {"TTL":N}                 -> {"ID":"..","TTL":".."}
 *	POST /v3/kv/txn          put KEY (with the lease) if its create_revision
 *	                         is 0, else read it        -> {"succeeded":true} or
 *	                         the holder's key-value
 *	POST /v3/lease/keepalive {"ID":".."}               -> {"result":{"TTL":".."}}
 *	POST /v3/lease/revoke    {"ID":".."}  (deletes every key of the lease)
 * Keys and values travel base64; 64-bit ids are JSON strings.
 *
 *	struct apply_lock *l = NULL;
 *	struct apply_lock_opts o = APPLY_LOCK_OPTS_INIT;
 *	if (apply_lock_acquire(&l, "etcd://10.0.0.5:2379", scopes, n, &o, &e) < 0)
 *		... e.code == ERR_LOCKED: e.msg names the holder ...
 *	apply_lock_guard_init(&g, APPLY_CLOUD_TC(client), l);
 *	apply_converge(&cv, &g.cloud, ...);      (stops once the lock is lost)
 *	apply_lock_release(l, &e);
 *
 * URLs (apply_lock_url_parse):
 *	etcd://HOST[:PORT][/PREFIX]        http when HOST is loopback (localhost,
 *	                                   127.0.0.0/8, ::1), https otherwise
 *	etcd+https://HOST[:PORT][/PREFIX]  https, anywhere
 *	etcd+http://HOST[:PORT][/PREFIX]   http, loopback hosts only
 * PORT defaults to 2379, PREFIX to /spotenv.  No user:password@, query or
 * fragment.  https verifies the server's certificate against the system's
 * CAs; client certificates are not supported.
 *
 * Everything etcd answers is untrusted: bodies are capped (64 KiB), every
 * field's type is checked, and a holder's value is shown escaped (bytes
 * outside printable ASCII, and backslash, as \xNN), at most 256 bytes.
 */
#ifndef SPOTENV_APPLY_LOCK_H
#define SPOTENV_APPLY_LOCK_H

#include "../util/setup.h"
#include "../util/err.h"
#include "cloud.h"

#define APPLY_LOCK_DEFAULT_PREFIX "/spotenv"
#define APPLY_LOCK_DEFAULT_PORT 2379
#define APPLY_LOCK_DEFAULT_TTL_MS 30000
#define APPLY_LOCK_MAX_ANSWER (64u << 10) /* bytes of one etcd answer */
#define APPLY_LOCK_MAX_HOLDER 256	  /* bytes of a holder shown */

/* A parsed lock URL. */
struct apply_lock_url {
	char *base;   /* "http://127.0.0.1:2379" or "https://[::1]:2379", no slash */
	char *prefix; /* "/spotenv": starts with '/', never ends with one */
	bool https;
	bool loopback; /* the host is this machine: never through a proxy */
};

#define APPLY_LOCK_URL_INIT                                                              \
	{                                                                                \
		NULL, NULL, false, false                                                 \
	}

/*
 * Parse and check url (the forms above) into out; 0 or ERR_INVALID with
 * out untouched.  Clear out with apply_lock_url_clear.
 */
int apply_lock_url_parse(struct apply_lock_url *out, const char *url, struct err *e);
void apply_lock_url_clear(struct apply_lock_url *u);

/*
 * Whether scope can name a lock: 1 to 63 bytes of [A-Za-z0-9._-] (spec
 * scopes are [a-z0-9-]), so a key never reaches outside PREFIX/lock/.
 */
bool apply_lock_scope_valid(const char *scope);

/* The key of scope's lock: "PREFIX/lock/SCOPE".  Caller frees. */
char *apply_lock_key(const struct apply_lock_url *u, const char *scope);

/* Standard base64 (with padding) of data[0..len).  Caller frees. */
char *apply_lock_b64(const void *data, size_t len);

/*
 * Decode standard base64 (padding required, no whitespace) into *out, a
 * NUL-terminated copy (which may hold NULs of its own: *outlen says how
 * long it is).  0, or ERR_INVALID for a malformed string, or ERR_TOOBIG
 * when it would decode to more than max bytes.  Caller frees *out.
 */
int apply_lock_b64_decode(char **out, size_t *outlen, const char *b64, size_t max,
			  struct err *e);

/*
 * data[0..len) for a terminal: printable ASCII as is, every other byte and
 * backslash as \xNN, cut after max input bytes with "...".  Caller frees.
 */
char *apply_lock_escape(const void *data, size_t len, size_t max);

/*
 * The value that names this process as a holder:
 * "HOST pid PID since 2026-01-02T03:04:05Z (WHAT)", since being the time
 * given.  Caller frees.
 */
char *apply_lock_holder(const char *what, time_t since);

/*
 * Parse etcd's answers (body[0..len), not necessarily NUL-terminated).
 * Each returns 0 or ERR_INVALID for an answer that is not what etcd sends
 * (malformed JSON, wrong types), or ERR_GENERIC carrying etcd's own error
 * message when the answer is an error ({"error": ..., "code": N}).
 *
 * grant: the lease's *id and granted *ttl_s (positive).
 * txn: *won when the put happened; otherwise *holder gets the escaped value
 *   of the key found (or "an unknown holder" when none came back).  Caller
 *   frees *holder; it is NULL when *won.
 * keepalive: *ttl_s is the lease's remaining TTL, 0 when the lease is gone
 *   (expired or revoked: etcd then leaves TTL out).
 */
int apply_lock_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl_s,
			   struct err *e);
int apply_lock_parse_txn(const char *body, size_t len, bool *won, char **holder,
			 struct err *e);
int apply_lock_parse_keepalive(const char *body, size_t len, int64_t *ttl_s,
			       struct err *e);

/* ---------------------------------------------------------------------
 * Taking and holding the lock.
 */

struct apply_lock_opts {
	int64_t ttl_ms;	    /* lease TTL, rounded up to whole seconds; 0 = 30 s */
	int64_t timeout_ms; /* wait this long for held scopes; 0 = try once */
	int64_t retry_ms;   /* between tries while waiting; 0 = 500 ms */
	const char *holder; /* the value naming us; NULL = apply_lock_holder("apply") */
};

#define APPLY_LOCK_OPTS_INIT                                                             \
	{                                                                                \
		0, 0, 0, NULL                                                            \
	}

struct apply_lock;

/*
 * Take the lock of every scope (deduplicated, in sorted order, so runners
 * wanting several never deadlock) at url, under one fresh lease renewed in
 * the background until apply_lock_release.  A held scope is tried again
 * every retry_ms (with jitter) until timeout_ms has passed; the scopes
 * already taken are kept meanwhile.
 *
 * Returns 0 with *out set, or a negative code with *out NULL and nothing
 * held (the lease revoked): ERR_LOCKED when a scope is held by someone
 * else (e.msg: "scope 'S' is locked by HOLDER"), ERR_INVALID for a bad url
 * or scope, ERR_NET when etcd cannot be reached or answers HTTP 5xx,
 * ERR_GENERIC for etcd's errors (e.msg quotes it).
 */
int apply_lock_acquire(struct apply_lock **out, const char *url,
		       const char *const *scopes, size_t nscopes,
		       const struct apply_lock_opts *o, struct err *e);

/*
 * Whether the lock still holds: 0, or ERR_LOCKED (e.msg says why) once
 * the lease is known gone (a keep-alive found it expired or revoked) or may
 * be (no renewal reached etcd for a whole TTL, e.g. after the process was
 * stopped or the network failed).  Cheap (no request); safe to call from
 * any thread.  Once lost, always lost.
 */
int apply_lock_check(struct apply_lock *l, struct err *e);

/* The granted lease TTL in milliseconds. */
int64_t apply_lock_ttl_ms(const struct apply_lock *l);

/*
 * Stop renewing, revoke the lease (deleting every key of it), free l.
 * NULL is fine.  0, or a negative code when the revoke failed (the keys
 * then go when the lease expires, within a TTL); l is freed either way.
 */
int apply_lock_release(struct apply_lock *l, struct err *e);

/*
 * A cloud that refuses to act once the lock is lost: every operation but
 * the clock first calls apply_lock_check and fails with its ERR_LOCKED
 * error (RunInstances calls get it with class ERR_CLASS_AUTH, which stops
 * the whole run), so apply stops before it launches or releases anything
 * more.  inner and lock are borrowed and must outlive the guard.
 */
struct apply_lock_guard {
	struct apply_cloud cloud; /* hand &g->cloud to apply_converge */
	const struct apply_cloud *inner;
	struct apply_lock *lock;
};

void apply_lock_guard_init(struct apply_lock_guard *g, const struct apply_cloud *inner,
			   struct apply_lock *lock);

#endif
