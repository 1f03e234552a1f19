/*
 * setup.h - included first by every .c file of spotenv.
 *
 * Feature macros, the standard headers everything uses, small macros and
 * the x-allocators.  Keep it boring: anything module-specific belongs in
 * that module's header.
 */
#ifndef SPOTENV_SETUP_H
#define SPOTENV_SETUP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))

#if defined(__GNUC__)
#define SPOTENV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SPOTENV_NORETURN __attribute__((noreturn))
#else
#define SPOTENV_PRINTF(f, a)
#define SPOTENV_NORETURN
#endif

#define SPOTENV_VERSION "0.1.0"

/*
 * x-allocators: never return NULL.  Out of memory is not an error a caller
 * can handle sensibly here, so they abort (after a short message on stderr,
 * the only place library code may write, because nothing else is possible).
 * Multiplications are checked for overflow.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Caller frees the result. */
char *xasprintf(const char *fmt, ...) SPOTENV_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) SPOTENV_PRINTF(1, 0);

/* Grow *arr (of *alloc elements of size elem) so it holds at least need. */
#define ALLOC_GROW(arr, need, alloc)                                                     \
	do {                                                                             \
		if ((size_t)(need) > (alloc)) {                                          \
			size_t alloc_grow_n_ = (alloc) < 8 ? 8 : (alloc)*2;              \
			while (alloc_grow_n_ < (size_t)(need))                           \
				alloc_grow_n_ *= 2;                                      \
			(arr) = xreallocarray((arr), alloc_grow_n_, sizeof(*(arr)));     \
			(alloc) = alloc_grow_n_;                                         \
		}                                                                        \
	} while (0)

/* Wipe memory that held a secret, in a way the compiler cannot drop. */
void secure_wipe(void *p, size_t n);
/* Wipe a NUL-terminated secret string in place and free it; NULL is fine. */
void secure_free_str(char *s);

#include "banned.h"

#endif
