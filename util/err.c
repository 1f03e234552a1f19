#include "setup.h"
#include "err.h"

int err_vset(struct err *e, int code, const char *fmt, va_list ap)
{
	if (code == 0)
		code = ERR_GENERIC;
	if (!e || e->code)
		return code;
	e->code = code;
	e->msg = xvasprintf(fmt, ap);
	return code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int err_set_at(struct err *e, int code, const char *file, int line, int col,
	       const char *path, const char *fmt, ...)
{
	va_list ap;
	bool was_set = err_isset(e);

	va_start(ap, fmt);
	code = err_vset(e, code, fmt, ap);
	va_end(ap);
	if (e && !was_set) {
		e->file = file ? xstrdup(file) : NULL;
		e->line = line;
		e->col = col;
		e->path = path && *path ? xstrdup(path) : NULL;
	}
	return code;
}

static void replace(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

void err_set_api(struct err *e, const char *api_code, const char *api_message,
		 const char *request_id, enum err_class cls)
{
	if (!e)
		return;
	replace(&e->api_code, api_code);
	replace(&e->api_message, api_message);
	replace(&e->request_id, request_id);
	e->cls = cls;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e->file);
	free(e->path);
	free(e->api_code);
	free(e->api_message);
	free(e->request_id);
	memset(e, 0, sizeof(*e));
}

void err_move(struct err *dst, struct err *src)
{
	err_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

void err_copy(struct err *dst, const struct err *src)
{
	err_clear(dst);
	dst->code = src->code;
	dst->msg = src->msg ? xstrdup(src->msg) : NULL;
	dst->file = src->file ? xstrdup(src->file) : NULL;
	dst->line = src->line;
	dst->col = src->col;
	dst->path = src->path ? xstrdup(src->path) : NULL;
	dst->api_code = src->api_code ? xstrdup(src->api_code) : NULL;
	dst->api_message = src->api_message ? xstrdup(src->api_message) : NULL;
	dst->request_id = src->request_id ? xstrdup(src->request_id) : NULL;
	dst->cls = src->cls;
}

void errlist_push(struct errlist *l, struct err *e)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = *e;
	memset(e, 0, sizeof(*e));
}

int errlist_add(struct errlist *l, int code, const char *file, int line, int col,
		const char *path, const char *fmt, ...)
{
	struct err e = ERR_INIT;
	va_list ap;

	va_start(ap, fmt);
	code = err_vset(&e, code, fmt, ap);
	va_end(ap);
	e.file = file ? xstrdup(file) : NULL;
	e.line = line;
	e.col = col;
	e.path = path && *path ? xstrdup(path) : NULL;
	errlist_push(l, &e);
	return code;
}

static int errlist_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;
	int c = strcmp(x->file ? x->file : "", y->file ? y->file : "");

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void errlist_sort(struct errlist *l)
{
	/* insertion sort keeps equal positions in order; lists are short */
	for (size_t i = 1; i < l->n; i++) {
		struct err tmp = l->v[i];
		size_t j = i;

		while (j > 0 && errlist_cmp(&l->v[j - 1], &tmp) > 0) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = tmp;
	}
}

void errlist_clear(struct errlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		err_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
