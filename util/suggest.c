/*
 * suggest.c - "did you mean" for keys, enum values, commands and options.
 */
#include "setup.h"
#include "suggest.h"

static void fold(char *out, size_t size, const char *s, bool drop_sep)
{
	size_t n = 0;

	for (; *s && n + 1 < size; s++) {
		if (drop_sep && (*s == '_' || *s == '-' || *s == ' '))
			continue;
		out[n++] = (char)tolower((unsigned char)*s);
	}
	out[n] = '\0';
}

/* Optimal string alignment distance, for short ASCII strings. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *suggest_closest(const char *got, const char *const *cands, size_t n)
{
	char g[65], gs[65], cb[65];
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	if (strlen(got) > 64)
		return NULL;
	fold(g, sizeof(g), got, false);
	fold(gs, sizeof(gs), got, true);
	for (size_t i = 0; i < n; i++) {
		size_t d, limit;

		fold(cb, sizeof(cb), cands[i], true);
		if (!strcmp(gs, cb))
			return cands[i]; /* only case or separators differ */
		fold(cb, sizeof(cb), cands[i], false);
		d = edit_distance(g, cb);
		limit = strlen(cb) >= 6 ? 2 : 1;
		if (d <= limit && d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}
