/*
 * escape.c - outside text made safe to print (see escape.h).
 */
#include "setup.h"
#include "err.h"
#include "escape.h"

/*
 * The length of the valid UTF-8 character at s (at most n bytes), and its
 * code point in *cp; 0 when s does not start a valid character (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or
 * cut short).
 */
static size_t esc_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int esc_put_len(struct buf *out, const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int error = 0;

	while (i < len && !error) {
		uint32_t cp = 0;
		size_t n = esc_utf8(u + i, len - i, &cp);

		if (n == 0)
			n = 1, cp = 0; /* shown as '?' */
		if (i + n > max)
			break;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			error = buf_putc(out, '?');
		else
			error = buf_put(out, s + i, n);
		i += n;
	}
	if (!error && i < len)
		error = buf_puts(out, "...");
	return error;
}

int esc_put(struct buf *out, const char *s, size_t max)
{
	if (!s)
		return buf_puts(out, "(null)");
	/* never read further than max + one character into s */
	return esc_put_len(out, s, strnlen(s, max + 4), max);
}

/* A number from the format ("12") or an int argument ("*"); -1 when absent. */
static const char *esc_num(const char *p, va_list *ap, bool star_ok, int *out, bool *star)
{
	*star = false;
	if (star_ok && *p == '*') {
		*out = va_arg(*ap, int);
		*star = true;
		return p + 1;
	}
	*out = -1;
	if (isdigit((unsigned char)*p)) {
		long v = 0;

		for (; isdigit((unsigned char)*p); p++)
			v = v > INT_MAX / 10 ? INT_MAX : v * 10 + (*p - '0');
		*out = (int)(v > INT_MAX ? INT_MAX : v);
	}
	return p;
}

/*
 * One conversion other than %s, with the widths already numbers in spec
 * ("%-8.3lld"); conv and the length modifier pick the argument's type.
 */
static int esc_other(struct buf *out, const char *spec, char conv, const char *len,
		     va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i':
		if (!strcmp(len, "l"))
			return buf_printf(out, spec, va_arg(*ap, long));
		if (!strcmp(len, "ll"))
			return buf_printf(out, spec, va_arg(*ap, long long));
		if (!strcmp(len, "j"))
			return buf_printf(out, spec, va_arg(*ap, intmax_t));
		if (!strcmp(len, "z"))
			return buf_printf(out, spec, va_arg(*ap, ssize_t));
		if (!strcmp(len, "t"))
			return buf_printf(out, spec, va_arg(*ap, ptrdiff_t));
		return buf_printf(out, spec, va_arg(*ap, int)); /* also hh, h: promoted */
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		if (!strcmp(len, "l"))
			return buf_printf(out, spec, va_arg(*ap, unsigned long));
		if (!strcmp(len, "ll"))
			return buf_printf(out, spec, va_arg(*ap, unsigned long long));
		if (!strcmp(len, "j"))
			return buf_printf(out, spec, va_arg(*ap, uintmax_t));
		if (!strcmp(len, "z"))
			return buf_printf(out, spec, va_arg(*ap, size_t));
		if (!strcmp(len, "t"))
			return buf_printf(out, spec, va_arg(*ap, ptrdiff_t));
		return buf_printf(out, spec, va_arg(*ap, unsigned int));
	case 'c':
		return buf_printf(out, spec, va_arg(*ap, int));
	case 'p':
		return buf_printf(out, spec, va_arg(*ap, void *));
	case 'f':
	case 'F':
	case 'e':
	case 'E':
	case 'g':
	case 'G':
	case 'a':
	case 'A':
		if (!strcmp(len, "L"))
			return buf_printf(out, spec, va_arg(*ap, long double));
		return buf_printf(out, spec, va_arg(*ap, double));
	default:
		return ERR_INVALID;
	}
}

/* %s: precision first (bytes of s), then escaping and the cut, then width. */
static int esc_string(struct buf *out, size_t max, const char *s, bool left, int width,
		      int prec)
{
	struct buf tmp = BUF_INIT;
	int error;

	if (!s)
		error = buf_puts(&tmp, "(null)");
	else
		error = esc_put_len(&tmp, s,
				    strnlen(s, prec >= 0 && (size_t)prec < max + 4
						       ? (size_t)prec
						       : max + 4),
				    max);
	if (!error)
		error = buf_printf(out, left ? "%-*s" : "%*s", width < 0 ? 0 : width,
				   buf_str(&tmp));
	buf_release(&tmp);
	return error;
}

int esc_vprintf(struct buf *out, size_t max, const char *fmt, va_list ap)
{
	va_list aq;
	const char *p = fmt;
	int error = 0;

	va_copy(aq, ap);
	while (*p && !error) {
		const char *pct = strchr(p, '%'), *flags;
		char spec[64], len[3] = "", conv;
		int width, prec, n, nflags;
		bool left, star;

		if (!pct) {
			error = buf_puts(out, p);
			break;
		}
		if (pct > p && (error = buf_put(out, p, (size_t)(pct - p))) != 0)
			break;
		p = pct + 1;
		if (*p == '%') {
			error = buf_putc(out, '%');
			p++;
			continue;
		}
		flags = p;
		nflags = (int)strspn(p, "-+ #0");
		p += nflags;
		if (nflags > 8) {
			error = ERR_INVALID;
			break;
		}
		left = memchr(flags, '-', (size_t)nflags) != NULL;
		p = esc_num(p, &aq, true, &width, &star);
		if (star && width < 0) { /* a negative * width means '-' */
			left = true;
			width = width == INT_MIN ? INT_MAX : -width;
		}
		prec = -1;
		if (*p == '.') {
			p = esc_num(p + 1, &aq, true, &prec, &star);
			if (!star && prec < 0)
				prec = 0; /* "%.s" */
		}
		n = (int)strspn(p, "hljztL");
		if (n > 2) {
			error = ERR_INVALID;
			break;
		}
		memcpy(len, p, (size_t)n);
		p += n;
		conv = *p ? *p++ : '\0';
		if (conv == 's') {
			if (*len) {
				error = ERR_INVALID; /* %ls */
				break;
			}
			error = esc_string(out, max, va_arg(aq, const char *), left,
					   width, prec);
			continue;
		}
		/* rebuild the conversion with the * values written in */
		n = snprintf(spec, sizeof(spec), "%%%.*s%s", nflags, flags,
			     left && !memchr(flags, '-', (size_t)nflags) ? "-" : "");
		if (width >= 0)
			n += snprintf(spec + n, sizeof(spec) - (size_t)n, "%d", width);
		if (prec >= 0)
			n += snprintf(spec + n, sizeof(spec) - (size_t)n, ".%d", prec);
		n += snprintf(spec + n, sizeof(spec) - (size_t)n, "%s%c", len, conv);
		if (n < 0 || (size_t)n >= sizeof(spec)) {
			error = ERR_INVALID;
			break;
		}
		error = esc_other(out, spec, conv, len, &aq);
	}
	va_end(aq);
	return error;
}

int esc_printf(struct buf *out, size_t max, const char *fmt, ...)
{
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = esc_vprintf(out, max, fmt, ap);
	va_end(ap);
	return error;
}
