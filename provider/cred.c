/*
 * cred.c - the credential chain (design section 7; tc.h has the order).
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
#include "cred_int.h"

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
	tc_cred_spec_free(cred->spec);
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
		return err_set(e, ERR_AUTH, "cannot read '%s': %s", path,
			       strerror(errno));
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

	if (l >= 2 &&
	    ((s[0] == '"' && s[l - 1] == '"') || (s[0] == '\'' && s[l - 1] == '\''))) {
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
/* What a file says beyond the keys. */
struct tc_cred_extra {
	char *role_arn;	    /* role_arn / role-arn: AssumeRole with the keys */
	char *session_name; /* role_session_name / role-session-name */
	bool cvm_role;	    /* tccli "type": "cvm-role" */
	char *role_name;    /* tccli "role-name" with cvm-role */
};

static void tc_cred_extra_clear(struct tc_cred_extra *x)
{
	free(x->role_arn);
	free(x->session_name);
	free(x->role_name);
	memset(x, 0, sizeof(*x));
}

static int tc_ini_section(struct tc_cred *out, struct tc_cred_extra *x, char *text,
			  const char *profile)
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
			else if (!strcmp(key, "role_arn"))
				dst = &x->role_arn;
			else if (!strcmp(key, "role_session_name"))
				dst = &x->session_name;
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
static int tc_cred_tccli(struct tc_cred *out, struct tc_cred_extra *x, const char *path,
			 struct err *e)
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

		if (type && !cJSON_IsNull(type) &&
		    !(cJSON_IsString(type) &&
		      (!*type->valuestring || !strcmp(type->valuestring, "cvm-role")))) {
			r = err_set(e, ERR_AUTH,
				    "'%s': unknown 'type' (only \"cvm-role\" is known)",
				    path);
			goto done;
		}
		x->cvm_role =
			cJSON_IsString(type) && !strcmp(type->valuestring, "cvm-role");
	}
	if ((r = tc_json_str(&x->role_arn, j, "role-arn", path, e)) < 0 ||
	    (r = tc_json_str(&x->session_name, j, "role-session-name", path, e)) < 0 ||
	    (r = tc_json_str(&x->role_name, j, "role-name", path, e)) < 0)
		goto done;
	if (x->cvm_role) {
		r = 1;
		goto done;
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
	buf_release_secret(&b);
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

static char *tc_endpoint_env(const char *var, const char *dflt)
{
	const char *v = tc_env(var);
	char *s = xstrdup(v ? v : dflt);
	size_t l = strlen(s);

	while (l > 0 && s[l - 1] == '/')
		s[--l] = '\0';
	return s;
}

/*
 * Web identity from the environment: 1 found (out->spec set), 0 none, <0
 * when a set of variables is incomplete.
 */
static int tc_cred_web_identity(struct tc_cred *out, struct err *e)
{
	static const char *const tke[] = { "TKE_PROVIDER_ID",
					   "TKE_WEB_IDENTITY_TOKEN_FILE",
					   "TKE_ROLE_ARN" };
	static const char *const gen[] = { "TENCENTCLOUD_PROVIDER_ID",
					   "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE",
					   "TENCENTCLOUD_ROLE_ARN" };
	const char *const *vars = NULL;
	struct tc_cred_spec *sp;
	const char *region;

	if (tc_env(tke[0]) || tc_env(tke[1]) || tc_env(tke[2]))
		vars = tke;
	else if (tc_env(gen[1]))
		vars = gen;
	if (!vars)
		return 0;
	for (size_t i = 0; i < 3; i++)
		if (!tc_env(vars[i]))
			return err_set(e, ERR_AUTH, "'%s' is set but '%s' is not",
				       tc_env(vars[1]) ? vars[1] : vars[0], vars[i]);
	sp = tc_cred_spec_new(TC_CRED_WEB_IDENTITY);
	sp->provider_id = xstrdup(tc_env(vars[0]));
	sp->token_file = xstrdup(tc_env(vars[1]));
	sp->role_arn = xstrdup(tc_env(vars[2]));
	sp->session_name = xstrdup(tc_env("TENCENTCLOUD_ROLE_SESSION_NAME")
					   ? tc_env("TENCENTCLOUD_ROLE_SESSION_NAME")
					   : TC_ROLE_SESSION_DEFAULT);
	region = vars == tke && tc_env("TKE_REGION") ? tc_env("TKE_REGION")
						     : tc_env("TENCENTCLOUD_REGION");
	sp->region = xstrdup(region ? region : "ap-guangzhou");
	sp->sts = tc_endpoint_env("SPOTENV_STS_ENDPOINT", TC_STS_DEFAULT_ENDPOINT);
	out->spec = sp;
	out->source = xasprintf("web identity (%s '%s', role '%s')", vars[1],
				sp->token_file, sp->role_arn);
	return 1;
}

/* The CVM role: explicit (role_name may be NULL) or the chain's last resort. */
static void tc_cred_cvm_role(struct tc_cred *out, const char *role_name,
			     const char *looked)
{
	struct tc_cred_spec *sp = tc_cred_spec_new(TC_CRED_CVM_ROLE);

	sp->metadata = tc_endpoint_env("SPOTENV_METADATA_ENDPOINT",
				       TC_METADATA_DEFAULT_ENDPOINT);
	sp->role_name = role_name ? xstrdup(role_name) : NULL;
	sp->last_resort = looked != NULL;
	sp->looked = looked ? xstrdup(looked) : NULL;
	out->spec = sp;
	out->source = xasprintf("the CVM role%s%s%s of the metadata service '%s'",
				role_name ? " '" : "", role_name ? role_name : "",
				role_name ? "'" : "", sp->metadata);
}

/* Turn out into the base of an AssumeRole of arn (its keys move). */
static void tc_cred_assume(struct tc_cred *out, const char *arn, const char *session)
{
	struct tc_cred_spec *sp = tc_cred_spec_new(TC_CRED_ASSUME_ROLE);
	const char *region = tc_env("TENCENTCLOUD_REGION");

	sp->base = xcalloc(1, sizeof(*sp->base));
	*sp->base = *out;
	memset(out, 0, sizeof(*out));
	sp->role_arn = xstrdup(arn);
	sp->session_name = xstrdup(session ? session : TC_ROLE_SESSION_DEFAULT);
	sp->region = xstrdup(region ? region : "ap-guangzhou");
	sp->sts = tc_endpoint_env("SPOTENV_STS_ENDPOINT", TC_STS_DEFAULT_ENDPOINT);
	out->spec = sp;
	out->source = xasprintf("AssumeRole '%s' with the keys of %s", arn,
				sp->base->source ? sp->base->source : "-");
}

int tc_cred_load(struct tc_cred *out, const char *profile, struct err *e)
{
	const char *id = tc_env("TENCENTCLOUD_SECRET_ID");
	const char *key = tc_env("TENCENTCLOUD_SECRET_KEY");
	const char *home = tc_env("HOME");
	const char *ini = tc_env("TENCENTCLOUD_CREDENTIALS_FILE");
	const char *metadata = tc_env("SPOTENV_METADATA_ENDPOINT");
	struct tc_cred_extra x = { 0 };
	char *ini_path = NULL, *tccli_path = NULL;
	struct buf looked = BUF_INIT;
	struct buf text = BUF_INIT;
	int error = 0, r;

	memset(out, 0, sizeof(*out));
	if (id || key) {
		static const char *const token_vars[] = {
			"TENCENTCLOUD_SESSION_TOKEN",
			"TENCENTCLOUD_SECURITY_TOKEN",
			"TENCENTCLOUD_TOKEN",
		};

		if (!id || !key)
			return err_set(e, ERR_AUTH, "'%s' is set but '%s' is not",
				       id ? "TENCENTCLOUD_SECRET_ID"
					  : "TENCENTCLOUD_SECRET_KEY",
				       id ? "TENCENTCLOUD_SECRET_KEY"
					  : "TENCENTCLOUD_SECRET_ID");
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
		goto wrap;
	}
	buf_puts(&looked,
		 "environment (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY)");

	if ((r = tc_cred_web_identity(out, e)) != 0) {
		error = r < 0 ? r : 0;
		goto done;
	}
	buf_puts(&looked, ", web identity (TKE_WEB_IDENTITY_TOKEN_FILE, "
			  "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE)");

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
		if (r > 0 && tc_ini_section(out, &x, text.ptr, profile)) {
			if (!out->secret_id || !out->secret_key) {
				error = err_set(e, ERR_AUTH, "'%s' [%s] lacks '%s'",
						ini_path, profile,
						out->secret_id ? "secret_key"
							       : "secret_id");
				goto done;
			}
			out->source = xasprintf("'%s' [%s]", ini_path, profile);
			goto wrap;
		}
		tc_cred_clear(out);
		tc_cred_extra_clear(&x);
		buf_printf(&looked, ", '%s' [%s]", ini_path, profile);
	}

	/* the tccli file */
	if (home) {
		tccli_path = xasprintf("%s/.tccli/%s.credential", home, profile);
		r = tc_cred_tccli(out, &x, tccli_path, e);
		if (r < 0) {
			error = r;
			goto done;
		}
		if (r > 0 && x.cvm_role) {
			tc_cred_cvm_role(out, x.role_name, NULL);
			free(out->source);
			out->source = xasprintf("the CVM role%s%s%s ('%s' type cvm-role)",
						x.role_name ? " '" : "",
						x.role_name ? x.role_name : "",
						x.role_name ? "'" : "", tccli_path);
			goto wrap;
		}
		if (r > 0) {
			out->source = xasprintf("'%s'", tccli_path);
			goto wrap;
		}
		tc_cred_clear(out);
		tc_cred_extra_clear(&x);
		buf_printf(&looked, ", '%s'", tccli_path);
	} else {
		buf_puts(&looked, " (HOME is not set)");
	}

	/* the CVM role, unless turned off: fetched (or not found) later */
	if (!metadata || strcmp(metadata, "off")) {
		tc_cred_cvm_role(out, NULL, buf_str(&looked));
		goto wrap;
	}
	buf_puts(&looked, ", the CVM role (SPOTENV_METADATA_ENDPOINT is 'off')");
	error = err_set(e, ERR_AUTH, "no Tencent Cloud credentials found; looked at %s",
			buf_str(&looked));
	goto done;

wrap:
	/* a role ARN: these keys only sign the AssumeRole call */
	{
		const char *arn = tc_env("TENCENTCLOUD_ROLE_ARN");
		const char *session = tc_env("TENCENTCLOUD_ROLE_SESSION_NAME");

		if (!arn)
			arn = x.role_arn;
		if (!session)
			session = x.session_name;
		if (arn)
			tc_cred_assume(out, arn, session);
	}

done:
	if (error)
		tc_cred_clear(out);
	tc_cred_extra_clear(&x);
	buf_release_secret(&text);
	buf_release(&looked);
	free(ini_path);
	free(tccli_path);
	return error;
}
