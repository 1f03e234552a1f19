/*
 * buf.h - a bounded growable byte buffer.
 *
 * Used for canonical requests, HTTP bodies and rendered output.  Invariants
 * (as git's strbuf): `ptr` is NULL until the first append and
 * NUL-terminated from then on (buf_str gives "" before), `len` excludes the
 * NUL, and `len <= max` when the cap `max` is not 0 (buf_init sets the cap;
 * it is a limit, not a size hint, and allocates nothing).  An append that would pass
 *`max` fails with ERR_TOOBIG and leaves the buffer as it was (curl's dynbuf "toobig").
 *
 *	struct buf b = BUF_INIT;     (unbounded)
 *	buf_init(&b, 1 << 20);       (at most 1 MiB)
 *	buf_printf(&b, "%d", n);
 *	fwrite(b.ptr, 1, b.len, f);
 *	buf_release(&b);
 */
#ifndef SPOTENV_BUF_H
#define SPOTENV_BUF_H

#include "setup.h"

struct buf {
	char *ptr;    /* NULL until the first append */
	size_t len;   /* bytes in use, not counting the NUL */
	size_t alloc; /* bytes allocated */
	size_t max;   /* 0 = unbounded */
};

#define BUF_INIT                                                                         \
	{                                                                                \
		NULL, 0, 0, 0                                                            \
	}

/* Reset b to empty with a size cap (0 = unbounded). */
void buf_init(struct buf *b, size_t max);
/* Append; 0 or ERR_TOOBIG. */
int buf_put(struct buf *b, const void *data, size_t len);
/* Make room for len more bytes at once; 0 or ERR_TOOBIG. */
int buf_reserve(struct buf *b, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) SPOTENV_PRINTF(2, 0);
/* The contents as a string; "" for an empty buffer (never NULL). */
const char *buf_str(const struct buf *b);
/* Keep the allocation, drop the contents. */
void buf_reset(struct buf *b);
/* Give the string to the caller (who frees it); b becomes empty. */
char *buf_detach(struct buf *b, size_t *len);
/* Free the contents (wiping them first when secret is true). */
void buf_release(struct buf *b);
void buf_release_secret(struct buf *b);

#endif
