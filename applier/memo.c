/*
 * memo.c - the token-chain memo: where each launch token's chain ended.
 *
 * A cache, never a source of truth (docs/idempotency.md).  When an
 * environment's basis returns to an earlier one, its launch token is one
 * the API remembers, and the applier follows the deterministic chain
 * token -> ids -> next token (planner/token.h) until a token launches or
 * returns live instances.  Without the memo that is one RunInstances and a
 * few polls per step; with it, the applier starts at the step where the
 * last run on this machine ended, after checking by id that the instances
 * that step returned are gone.  Every runner derives the same chain, so a
 * runner without the memo (another machine) reaches the same tokens.
 *
 * The file is untrusted input: bounded in size and entries, every token
 * and id checked for shape; a file that does not parse is ignored (and
 * rewritten), because losing the memo costs time, never money.
 */
#include "../util/setup.h"
#include "../util/buf.h"
#include "apply_int.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sys/stat.h>

#define MEMO_FORMAT "1"
#define MEMO_MAX_BYTES (8u << 20)
#define MEMO_MAX_ENTRIES 20000
#define MEMO_MAX_IDS TC_MAX_RUN_COUNT
/* Entries older than this are dropped: the API forgets tokens in hours. */
#define MEMO_TTL_SECONDS (7LL * 24 * 3600)

struct apply_memo {
	struct apply_memo_entry *v;
	size_t n, alloc;
	bool dirty;
};

static bool memo_token_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > TC_MAX_CLIENT_TOKEN)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

static bool memo_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 5 || n > 32 || strncmp(s, "ins-", 4))
		return false;
	for (s += 4; *s; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

static void memo_entry_clear(struct apply_memo_entry *m)
{
	for (size_t i = 0; i < m->nids; i++)
		free(m->ids[i]);
	free(m->ids);
	memset(m, 0, sizeof(*m));
}

static int memo_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parse the document; entries that do not check out are skipped. */
static void memo_parse(struct apply_memo *m, const char *data, size_t len, int64_t now_s)
{
	cJSON *root = cJSON_ParseWithLength(data, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "format_version");
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entries");
	const cJSON *it;

	if (!cJSON_IsString(v) || strcmp(v->valuestring, MEMO_FORMAT) ||
	    !cJSON_IsArray(entries)) {
		cJSON_Delete(root);
		m->dirty = true;
		return;
	}
	cJSON_ArrayForEach (it, entries) {
		const char *origin = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(it, "origin"));
		const char *token = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(it, "token"));
		const cJSON *ids = cJSON_GetObjectItemCaseSensitive(it, "ids");
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(it, "at");
		const cJSON *id;
		struct apply_memo_entry e;
		bool ok = memo_token_ok(origin) && memo_token_ok(token) &&
			  cJSON_IsArray(ids) && cJSON_GetArraySize(ids) >= 1 &&
			  cJSON_GetArraySize(ids) <= MEMO_MAX_IDS && cJSON_IsNumber(at) &&
			  at->valuedouble >= 0 && at->valuedouble < 1e12;

		if (!ok || m->n >= MEMO_MAX_ENTRIES ||
		    (int64_t)at->valuedouble + MEMO_TTL_SECONDS < now_s) {
			m->dirty = true;
			continue;
		}
		memset(&e, 0, sizeof(e));
		snprintf(e.origin, sizeof(e.origin), "%s", origin);
		snprintf(e.token, sizeof(e.token), "%s", token);
		e.at = (int64_t)at->valuedouble;
		e.ids = xcalloc((size_t)cJSON_GetArraySize(ids), sizeof(*e.ids));
		cJSON_ArrayForEach (id, ids) {
			if (!cJSON_IsString(id) || !memo_id_ok(id->valuestring)) {
				ok = false;
				break;
			}
			e.ids[e.nids++] = xstrdup(id->valuestring);
		}
		if (!ok) {
			memo_entry_clear(&e);
			m->dirty = true;
			continue;
		}
		qsort(e.ids, e.nids, sizeof(*e.ids), memo_cmp_str);
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = e;
	}
	cJSON_Delete(root);
}

int apply_memo_load(struct apply_memo **out, const char *path, int64_t now_s,
		    struct err *e)
{
	struct apply_memo *m = xcalloc(1, sizeof(*m));
	struct buf data = BUF_INIT;
	struct stat st;
	int fd;

	*out = m;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_GENERIC, "cannot read the token memo '%s': %s",
			       path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_GENERIC,
			       "the token memo '%s' is not a regular file", path);
	}
	buf_init(&data, MEMO_MAX_BYTES);
	for (;;) {
		char chunk[8192];
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf_put(&data, chunk, (size_t)r) < 0) {
			/* too big: start afresh (a cache) */
			buf_release(&data);
			m->dirty = true;
			break;
		}
	}
	close(fd);
	if (data.len)
		memo_parse(m, data.ptr, data.len, now_s);
	buf_release(&data);
	return 0;
}

const struct apply_memo_entry *apply_memo_find(const struct apply_memo *m,
					       const char *origin)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (!strcmp(m->v[i].origin, origin))
			return &m->v[i];
	return NULL;
}

void apply_memo_put(struct apply_memo *m, const char *origin, const char *token,
		    const char *const *ids, size_t nids, int64_t now_s)
{
	struct apply_memo_entry *e = NULL;

	if (!m || !nids || !memo_token_ok(origin) || !memo_token_ok(token))
		return;
	for (size_t i = 0; i < m->n && !e; i++)
		if (!strcmp(m->v[i].origin, origin))
			e = &m->v[i];
	if (!e) {
		if (m->n >= MEMO_MAX_ENTRIES) {
			/* drop the oldest */
			size_t old = 0;

			for (size_t i = 1; i < m->n; i++)
				if (m->v[i].at < m->v[old].at)
					old = i;
			memo_entry_clear(&m->v[old]);
			m->v[old] = m->v[--m->n];
		}
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		e = &m->v[m->n++];
		memset(e, 0, sizeof(*e));
	} else {
		memo_entry_clear(e);
	}
	snprintf(e->origin, sizeof(e->origin), "%s", origin);
	snprintf(e->token, sizeof(e->token), "%s", token);
	e->at = now_s;
	e->ids = xcalloc(nids, sizeof(*e->ids));
	for (size_t i = 0; i < nids && i < MEMO_MAX_IDS; i++)
		if (memo_id_ok(ids[i]))
			e->ids[e->nids++] = xstrdup(ids[i]);
	qsort(e->ids, e->nids, sizeof(*e->ids), memo_cmp_str);
	m->dirty = true;
}

int apply_memo_save(struct apply_memo *m, const char *path, struct err *e)
{
	cJSON *root, *arr;
	char *text, *tmp;
	int fd, error = 0;
	size_t len, off = 0;

	if (!m || !m->dirty)
		return 0;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "format_version", MEMO_FORMAT);
	arr = cJSON_AddArrayToObject(root, "entries");
	for (size_t i = 0; i < m->n; i++) {
		cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "ids");

		cJSON_AddStringToObject(o, "origin", m->v[i].origin);
		cJSON_AddStringToObject(o, "token", m->v[i].token);
		for (size_t k = 0; k < m->v[i].nids; k++)
			cJSON_AddItemToArray(ids, cJSON_CreateString(m->v[i].ids[k]));
		cJSON_AddNumberToObject(o, "at", (double)m->v[i].at);
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	len = strlen(text);
	/* a fresh private temporary next to path, then rename over it */
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		error = err_set(e, ERR_GENERIC, "cannot write the token memo '%s': %s",
				path, strerror(errno));
		goto done;
	}
	if (fchmod(fd, 0600) < 0)
		error = err_set(e, ERR_GENERIC, "cannot write the token memo '%s': %s",
				path, strerror(errno));
	while (!error && off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			error = err_set(e, ERR_GENERIC,
					"cannot write the token memo '%s': %s", path,
					strerror(errno));
		else
			off += (size_t)w;
	}
	if (close(fd) < 0 && !error)
		error = err_set(e, ERR_GENERIC, "cannot write the token memo '%s': %s",
				path, strerror(errno));
	if (!error && rename(tmp, path) < 0)
		error = err_set(e, ERR_GENERIC, "cannot write the token memo '%s': %s",
				path, strerror(errno));
	if (error)
		unlink(tmp);
	else
		m->dirty = false;
done:
	free(tmp);
	free(text);
	return error;
}

void apply_memo_free(struct apply_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		memo_entry_clear(&m->v[i]);
	free(m->v);
	free(m);
}
