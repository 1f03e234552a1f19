/*
 * cred.c - the credential chain (design section 7).
 *
 * First found wins:
 *   1. TENCENTCLOUD_SECRET_ID + TENCENTCLOUD_SECRET_KEY, token from
 *      TENCENTCLOUD_SESSION_TOKEN, TENCENTCLOUD_SECURITY_TOKEN or
 *      TENCENTCLOUD_TOKEN (first non-empty);
 *   2. the SDK INI file (TENCENTCLOUD_CREDENTIALS_FILE, else
 *      ~/.tencentcloud/credentials), section [PROFILE], keys secret_id,
 *      secret_key, token;
 *   3. the tccli file ~/.tccli/PROFILE.credential (JSON secretId,
 *      secretKey, token).
 * PROFILE is the argument, else TENCENTCLOUD_PROFILE, else "default".
 * A place that is absent is skipped; a place that exists but is broken
 * (one env var without the other, a section without secret_key, bad JSON)
 * is an error, so a typo never silently falls through to other keys.
 * File contents are wiped after parsing.
 */
#include "../util/setup.h"
#include "tc.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

#define TC_CRED_FILE_MAX (1u << 20)

void tc_cred_clear(struct tc_cred *cred)
{
	if (!cred)
		return;
	secure_free_str(cred->secret_id);
	secure_free_str(cred->secret_key);
	secure_free_str(cred->token);
	free(cred->source);
	memset(cred, 0, sizeof(*cred));
}

static const char *tc_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Read a whole file; 1 when read, 0 when absent, <0 on error. */
static int tc_read_secret_file(struct buf *out, const char *path, struct err *e)
{
	char chunk[4096];
	FILE *f;
	size_t n;
	int error = 0;

	buf_init(out, TC_CRED_FILE_MAX);
	if (!(f = fopen(path, "r"))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_set(e, ERR_AUTH, "cannot read '%s': %s", path, strerror(errno));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_put(out, chunk, n)) {
			error = err_set(e, ERR_AUTH, "'%s' is too large", path);
			break;
		}
	}
	if (!error && ferror(f))
		error = err_set(e, ERR_AUTH, "cannot read '%s'", path);
	secure_wipe(chunk, sizeof(chunk));
	fclose(f);
	if (!error && !out->ptr)
		buf_puts(out, "");
	return error ? error : 1;
}

static char *tc_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static char *tc_unquote(char *s)
{
	size_t l = strlen(s);

	if (l >= 2 && ((s[0] == '"' && s[l - 1] == '"') || (s[0] == '\'' && s[l - 1] == '\''))) {
		s[l - 1] = '\0';
		return s + 1;
	}
	return s;
}

/*
 * Parse the INI text in b (modified in place) for [profile].  Returns 1
 * when the section was found (fields filled, possibly incomplete), 0 when
 * it is absent.
 */
static int tc_ini_section(struct tc_cred *out, char *text, const char *profile)
{
	bool in = false, found = false;
	char *line = text;

	while (line) {
		char *next = strchr(line, '\n'), *s, *eq;

		if (next)
			*next++ = '\0';
		s = tc_trim(line);
		line = next;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end) {
				*end = '\0';
				in = !strcmp(tc_trim(s + 1), profile);
				found = found || in;
			} else {
				in = false;
			}
			continue;
		}
		if (!in || !(eq = strchr(s, '=')))
			continue;
		*eq = '\0';
		{
			char *key = tc_trim(s), *val = tc_unquote(tc_trim(eq + 1));
			char **dst = NULL;

			if (!strcmp(key, "secret_id"))
				dst = &out->secret_id;
			else if (!strcmp(key, "secret_key"))
				dst = &out->secret_key;
			else if (!strcmp(key, "token"))
				dst = &out->token;
			if (dst) {
				secure_free_str(*dst);
				*dst = *val ? xstrdup(val) : NULL;
			}
		}
	}
	return found ? 1 : 0;
}

static void tc_wipe_json(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			secure_wipe(j->valuestring, strlen(j->valuestring));
		if (j->string)
			secure_wipe(j->string, strlen(j->string));
		tc_wipe_json(j->child);
	}
}

static int tc_json_str(char **dst, const cJSON *obj, const char *key, const char *path,
		       struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_set(e, ERR_AUTH, "'%s': '%s' is not a string", path, key);
	if (*v->valuestring)
		*dst = xstrdup(v->valuestring);
	return 0;
}

/* 1 found, 0 absent, <0 error */
static int tc_cred_tccli(struct tc_cred *out, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL;
	int r = tc_read_secret_file(&b, path, e);

	if (r <= 0)
		goto done;
	j = cJSON_ParseWithLength(b.ptr, b.len);
	if (!j || !cJSON_IsObject(j)) {
		r = err_set(e, ERR_AUTH, "'%s' is not a JSON object", path);
		goto done;
	}
	{
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");

		if (cJSON_IsString(type) && !strcmp(type->valuestring, "cvm-role")) {
			r = err_set(e, ERR_AUTH,
				    "'%s' uses a CVM role, which spotenv does not support", path);
			goto done;
		}
	}
	if ((r = tc_json_str(&out->secret_id, j, "secretId", path, e)) < 0 ||
	    (r = tc_json_str(&out->secret_key, j, "secretKey", path, e)) < 0 ||
	    (r = tc_json_str(&out->token, j, "token", path, e)) < 0)
		goto done;
	if (!out->secret_id || !out->secret_key) {
		r = err_set(e, ERR_AUTH, "'%s' lacks '%s'", path,
			    out->secret_id ? "secretKey" : "secretId");
		goto done;
	}
	r = 1;
done:
	if (j) {
		tc_wipe_json(j);
		cJSON_Delete(j);
	}
	buf_free_secret(&b);
	return r;
}

static bool tc_profile_ok(const char *p)
{
	if (!*p || !strcmp(p, ".") || !strcmp(p, ".."))
		return false;
	for (; *p; p++)
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

int tc_cred_load(struct tc_cred *out, const char *profile, struct err *e)
{
	const char *id = tc_env("TENCENTCLOUD_SECRET_ID");
	const char *key = tc_env("TENCENTCLOUD_SECRET_KEY");
	const char *home = tc_env("HOME");
	const char *ini = tc_env("TENCENTCLOUD_CREDENTIALS_FILE");
	char *ini_path = NULL, *tccli_path = NULL;
	struct buf looked = BUF_INIT;
	struct buf text = BUF_INIT;
	int error = 0, r;

	memset(out, 0, sizeof(*out));
	if (id || key) {
		static const char *const token_vars[] = {
			"TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_SECURITY_TOKEN",
			"TENCENTCLOUD_TOKEN",
		};

		if (!id || !key)
			return err_set(e, ERR_AUTH, "'%s' is set but '%s' is not",
				       id ? "TENCENTCLOUD_SECRET_ID" : "TENCENTCLOUD_SECRET_KEY",
				       id ? "TENCENTCLOUD_SECRET_KEY" : "TENCENTCLOUD_SECRET_ID");
		out->secret_id = xstrdup(id);
		out->secret_key = xstrdup(key);
		for (size_t i = 0; i < ARRAY_SIZE(token_vars); i++) {
			const char *t = tc_env(token_vars[i]);

			if (t) {
				out->token = xstrdup(t);
				break;
			}
		}
		out->source = xstrdup("environment");
		return 0;
	}
	buf_puts(&looked, "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)");

	if (!profile || !*profile)
		profile = tc_env("TENCENTCLOUD_PROFILE");
	if (!profile)
		profile = "default";
	if (!tc_profile_ok(profile)) {
		error = err_set(e, ERR_INVALID, "invalid profile name '%s'", profile);
		goto done;
	}

	/* the SDK INI file */
	if (ini)
		ini_path = xstrdup(ini);
	else if (home)
		ini_path = xasprintf("%s/.tencentcloud/credentials", home);
	if (ini_path) {
		r = tc_read_secret_file(&text, ini_path, e);
		if (r < 0) {
			error = r;
			goto done;
		}
		if (r > 0 && tc_ini_section(out, text.ptr, profile)) {
			if (!out->secret_id || !out->secret_key) {
				error = err_set(e, ERR_AUTH, "'%s' [%s] lacks '%s'", ini_path,
						profile, out->secret_id ? "secret_key" : "secret_id");
				goto done;
			}
			out->source = xasprintf("'%s' [%s]", ini_path, profile);
			goto done;
		}
		tc_cred_clear(out);
		buf_printf(&looked, ", '%s' [%s]", ini_path, profile);
	}

	/* the tccli file */
	if (home) {
		tccli_path = xasprintf("%s/.tccli/%s.credential", home, profile);
		r = tc_cred_tccli(out, tccli_path, e);
		if (r < 0) {
			error = r;
			goto done;
		}
		if (r > 0) {
			out->source = xasprintf("'%s'", tccli_path);
			goto done;
		}
		tc_cred_clear(out);
		buf_printf(&looked, ", '%s'", tccli_path);
	} else {
		buf_puts(&looked, " (HOME is not set)");
	}
	error = err_set(e, ERR_AUTH, "no Tencent Cloud credentials found; looked at %s",
			buf_str(&looked));

done:
	if (error)
		tc_cred_clear(out);
	buf_free_secret(&text);
	buf_free(&looked);
	free(ini_path);
	free(tccli_path);
	return error;
}
