#include "setup.h"
#include "duration.h"
#include "err.h"

int duration_parse(const char *s, int64_t *out_ms)
{
	int64_t total = 0;
	bool any = false;

	if (!s || !*s)
		return ERR_INVALID;
	while (*s) {
		int64_t v = 0, mult;

		if (!isdigit((unsigned char)*s))
			return ERR_INVALID;
		while (isdigit((unsigned char)*s)) {
			if (v > (INT64_MAX - 9) / 10)
				return ERR_INVALID;
			v = v * 10 + (*s++ - '0');
		}
		if (!strncmp(s, "ms", 2)) {
			mult = 1;
			s += 2;
		} else if (*s == 's') {
			mult = 1000;
			s++;
		} else if (*s == 'm') {
			mult = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			mult = 3600 * 1000;
			s++;
		} else if (*s == 'd') {
			mult = 24 * 3600 * 1000;
			s++;
		} else {
			return ERR_INVALID;
		}
		if (v > (INT64_MAX - total) / mult)
			return ERR_INVALID;
		total += v * mult;
		any = true;
	}
	if (!any)
		return ERR_INVALID;
	*out_ms = total;
	return 0;
}

const char *duration_format(char *buf, size_t size, int64_t ms)
{
	int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60;
	int n;

	if (ms < 1000)
		n = snprintf(buf, size, "%" PRId64 "ms", ms);
	else if (h)
		n = snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", h, m,
			     s);
	else if (m)
		n = snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", m, s);
	else
		n = snprintf(buf, size, "%" PRId64 ".%01" PRId64 "s", s,
			     (ms % 1000) / 100);
	if (n < 0 || (size_t)n >= size)
		buf[size ? size - 1 : 0] = '\0';
	return buf;
}

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
