#include "setup.h"
#include "decimal.h"
#include "err.h"

int dec_parse(const char *s, dec_t *out)
{
	int64_t ip = 0, fp = 0;
	int idigits = 0, fdigits = 0;

	if (!s || !*s)
		return ERR_INVALID;
	while (isdigit((unsigned char)*s)) {
		if (++idigits > 9 && ip == 0 && *s == '0') {
			idigits--; /* leading zeros do not count */
		} else if (idigits > 9) {
			return ERR_INVALID;
		}
		ip = ip * 10 + (*s++ - '0');
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (++fdigits > DEC_SCALE_DIGITS)
				return ERR_INVALID;
			fp = fp * 10 + (*s++ - '0');
		}
	}
	if (*s || (idigits == 0 && fdigits == 0))
		return ERR_INVALID;
	for (int i = fdigits; i < DEC_SCALE_DIGITS; i++)
		fp *= 10;
	*out = ip * DEC_SCALE + fp;
	return 0;
}

bool dec_valid(const char *s)
{
	dec_t v;

	return dec_parse(s, &v) == 0;
}

int dec_cmp_str(const char *a, const char *b)
{
	dec_t x, y;
	bool xa = dec_parse(a, &x) == 0, yb = dec_parse(b, &y) == 0;

	if (!xa || !yb)
		return (int)xa - (int)yb;
	return x < y ? -1 : x > y;
}

dec_t dec_mul_int(dec_t a, int64_t n)
{
	if (n != 0 && a > INT64_MAX / (n < 0 ? -n : n))
		return INT64_MAX;
	return a * n;
}

dec_t dec_add(dec_t a, dec_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

const char *dec_format(char *buf, size_t size, dec_t v, int min_frac)
{
	char frac[DEC_SCALE_DIGITS + 1];
	int64_t ip, fp;
	int n, keep;
	bool neg = v < 0;

	if (neg)
		v = v == INT64_MIN ? INT64_MAX : -v;
	ip = v / DEC_SCALE;
	fp = v % DEC_SCALE;
	n = snprintf(frac, sizeof(frac), "%09" PRId64, fp);
	if (n != DEC_SCALE_DIGITS) {
		snprintf(buf, size, "?");
		return buf;
	}
	keep = DEC_SCALE_DIGITS;
	while (keep > min_frac && frac[keep - 1] == '0')
		keep--;
	if (min_frac > DEC_SCALE_DIGITS)
		keep = DEC_SCALE_DIGITS;
	if (keep > 0)
		n = snprintf(buf, size, "%s%" PRId64 ".%.*s", neg ? "-" : "", ip, keep,
			     frac);
	else
		n = snprintf(buf, size, "%s%" PRId64, neg ? "-" : "", ip);
	if (n < 0 || (size_t)n >= size)
		buf[size ? size - 1 : 0] = '\0';
	return buf;
}

char *dec_normalize(const char *s)
{
	const char *dot;

	if (!dec_valid(s))
		return NULL;
	while (*s == '0' && s[1] && s[1] != '.')
		s++;
	dot = strchr(s, '.');
	if (s[0] == '.')
		return xasprintf("0%s", s);
	if (dot && !dot[1])
		return xstrndup(s, (size_t)(dot - s));
	return xstrdup(s);
}
