/*
 * plan_util.c - small helpers shared by planner/: JSON access, hashing,
 * string arrays.
 */
#include "../util/setup.h"
#include <cjson/cJSON.h>
#include "plan_internal.h"
#include "plan.h"

int plan_strcmp0(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

int plan_cmp_str_ptr(const void *a, const void *b)
{
	return plan_strcmp0(*(char *const *)a, *(char *const *)b);
}

char *plan_strdup0(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void plan_json_str(struct cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

int plan_json_get_str(char **out, const struct cJSON *o, const char *key, bool required,
		      struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return err_set(e, ERR_INVALID, "'%s': missing", key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return err_set(e, ERR_INVALID, "'%s': expected a string", key);
	*out = xstrdup(v->valuestring);
	return 0;
}

/* A leaf (string, number, bool, null) in cJSON's compact form. */
static int plan_json_leaf(struct buf *out, const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v);
	int error;

	if (!s) {
		fputs("spotenv: out of memory\n", stderr);
		abort();
	}
	error = buf_puts(out, s);
	cJSON_free(s);
	return error;
}

static bool plan_json_scalar_array(const cJSON *v)
{
	const cJSON *it;

	cJSON_ArrayForEach (it, v)
		if (cJSON_IsObject(it) || cJSON_IsArray(it))
			return false;
	return true;
}

/*
 * Two-space indentation, one member per line; arrays of scalars on one
 * line.  Deterministic: members in insertion order.
 */
static int plan_json_print(struct buf *out, const cJSON *v, int depth)
{
	const cJSON *it;
	bool obj = cJSON_IsObject(v), inline_ = !obj && plan_json_scalar_array(v);
	int error = 0;

	if (!obj && !cJSON_IsArray(v))
		return plan_json_leaf(out, v);
	if (!v->child)
		return buf_puts(out, obj ? "{}" : "[]");
	buf_putc(out, obj ? '{' : '[');
	cJSON_ArrayForEach (it, v) {
		if (inline_) {
			if (it != v->child)
				buf_puts(out, ", ");
		} else {
			buf_puts(out, it != v->child ? ",\n" : "\n");
			for (int i = 0; i <= depth; i++)
				buf_puts(out, "  ");
		}
		if (obj) {
			cJSON key = { 0 };

			key.type = cJSON_String;
			key.valuestring = it->string;
			plan_json_leaf(out, &key);
			buf_puts(out, ": ");
		}
		error = plan_json_print(out, it, depth + 1);
	}
	if (!inline_) {
		buf_putc(out, '\n');
		for (int i = 0; i < depth; i++)
			buf_puts(out, "  ");
	}
	if (!error)
		error = buf_putc(out, obj ? '}' : ']');
	return error;
}

int plan_json_emit(struct buf *out, const struct cJSON *root)
{
	size_t len = out->len;
	int error = plan_json_print(out, root, 0);

	if (!error)
		error = buf_putc(out, '\n');
	if (error && out->ptr) {
		out->len = len; /* no half document */
		out->ptr[len] = '\0';
	}
	return error;
}

void plan_strv_addf(char ***v, size_t *n, size_t *alloc, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(*v, *n + 1, *alloc);
	va_start(ap, fmt);
	(*v)[(*n)++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void plan_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int plan_json_write(struct buf *out, const struct cJSON *root)
{
	return plan_json_emit(out, root);
}
