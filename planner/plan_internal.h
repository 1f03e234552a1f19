/*
 * plan_internal.h - helpers shared by the files of planner/ (not API).
 */
#ifndef SPOTENV_PLAN_INTERNAL_H
#define SPOTENV_PLAN_INTERNAL_H

#include "../util/setup.h"
#include "../util/buf.h"
#include "../util/err.h"
#include "../util/decimal.h"

struct cJSON;

/* strcmp with NULL sorting first. */
int plan_strcmp0(const char *a, const char *b);
/* qsort comparator for an array of char *. */
int plan_cmp_str_ptr(const void *a, const void *b);
/* xstrdup that passes NULL through. */
char *plan_strdup0(const char *s);

/* Add key: s (a JSON null when s is NULL) to object o. */
void plan_json_str(struct cJSON *o, const char *key, const char *s);
/*
 * Copy the string at key of o into *out (NULL when absent or null).
 * ERR_INVALID when present with another type, or absent and required.
 */
int plan_json_get_str(char **out, const struct cJSON *o, const char *key, bool required,
		      struct err *e);
/* Print root (formatted, stable) and a newline into out. */
int plan_json_emit(struct buf *out, const struct cJSON *root);

/* "2026-01-02T03:04:05Z" to Unix seconds; 0 when unparsable. */
int64_t plan_parse_time(const char *s);

/* Append a printf-formatted string to a growable char * array. */
void plan_strv_addf(char ***v, size_t *n, size_t *alloc, const char *fmt, ...)
	SPOTENV_PRINTF(4, 5);
void plan_strv_free(char **v, size_t n);

#endif
