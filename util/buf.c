#include "setup.h"
#include "buf.h"
#include "err.h"

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		return ERR_TOOBIG;
	need = b->len + extra;
	if (b->max && need > b->max)
		return ERR_TOOBIG;
	if (need + 1 > b->alloc) {
		size_t n = b->alloc ? b->alloc : 64;

		while (n < need + 1)
			n = n > SIZE_MAX / 2 ? need + 1 : n * 2;
		b->ptr = xrealloc(b->ptr, n);
		b->alloc = n;
	}
	return 0;
}

int buf_reserve(struct buf *b, size_t len)
{
	return buf_grow(b, len);
}

int buf_put(struct buf *b, const void *data, size_t len)
{
	int error = buf_grow(b, len);

	if (error)
		return error;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
	return buf_put(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, error;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return ERR_GENERIC;
	if ((error = buf_grow(b, (size_t)n)) != 0)
		return error;
	if (vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap) != n)
		return ERR_GENERIC;
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return error;
}

const char *buf_str(const struct buf *b)
{
	return b->ptr ? b->ptr : "";
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->ptr ? b->ptr : xstrdup("");

	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = b->alloc = 0;
	return p;
}

void buf_release(struct buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

void buf_release_secret(struct buf *b)
{
	if (!b)
		return;
	secure_wipe(b->ptr, b->alloc);
	buf_release(b);
}
