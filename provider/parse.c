/*
 * parse.c - API responses into plain C structs, and error classification.
 *
 * Money never goes through a double.  cJSON keeps only a double for JSON
 * numbers, so before parsing, tc_parse_response rewrites every number
 * token into a string token tagged with a \x01 byte (which cannot appear
 * in valid JSON strings: raw control characters are rejected first), and
 * after parsing turns those tagged strings back into number items whose
 * `valuestring` holds the number's exact source text (cJSON frees and
 * duplicates valuestring for any item type, and prints numbers from
 * valuedouble, so the tree stays an ordinary cJSON tree).  Prices are then
 * read from that text, or from a JSON string, and normalised as decimals.
 *
 * Anything unexpected (no Response, wrong types, truncation) is an
 * ERR_API error naming what was wrong; never a crash.
 */
#include "../util/setup.h"
#include "tc.h"
#include "../util/decimal.h"

#include <cjson/cJSON.h>

#define TC_NUM_TAG '\x01'

/* ---------------------------------------------------------------------
 * Number-preserving parse.
 */

/* Length of a valid JSON number at p (0 when not one). */
static size_t tc_number_len(const char *p, const char *end)
{
	const char *s = p;

	if (s < end && *s == '-')
		s++;
	if (s >= end || !isdigit((unsigned char)*s))
		return 0;
	if (*s == '0')
		s++;
	else
		while (s < end && isdigit((unsigned char)*s))
			s++;
	if (s < end && *s == '.') {
		s++;
		if (s >= end || !isdigit((unsigned char)*s))
			return 0;
		while (s < end && isdigit((unsigned char)*s))
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			s++;
		if (s >= end || !isdigit((unsigned char)*s))
			return 0;
		while (s < end && isdigit((unsigned char)*s))
			s++;
	}
	/* a number must end at a delimiter */
	if (s < end &&
	    (isalnum((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+'))
		return 0;
	return (size_t)(s - p);
}

/*
 * Rewrite numbers as tagged strings; 0 or -1 for malformed text.  Text
 * between numbers is copied in one piece (strings and structure as they
 * are): a page of instances holds a few numbers in 150 KB.
 */
static int tc_tag_numbers(struct buf *out, const char *body, size_t len)
{
	const char *p = body, *end = body + len, *run = body;

	while (p < end) {
		if (*p == '"') {
			p++;
			while (p < end && *p != '"') {
				if ((unsigned char)*p < 0x20)
					return -1;
				if (*p == '\\') {
					p++;
					if (p >= end)
						return -1;
					/* keep the number tag unambiguous */
					if (*p == 'u' && end - p >= 5 &&
					    !strncmp(p + 1, "0001", 4))
						return -1;
				}
				p++;
			}
			if (p >= end)
				return -1;
			p++;
		} else if (*p == '-' || isdigit((unsigned char)*p)) {
			size_t n = tc_number_len(p, end);

			if (!n)
				return -1;
			if (buf_put(out, run, (size_t)(p - run)) || buf_putc(out, '"') ||
			    buf_putc(out, TC_NUM_TAG) || buf_put(out, p, n) ||
			    buf_putc(out, '"'))
				return -1;
			p += n;
			run = p;
		} else {
			if (*p == '\0')
				return -1;
			p++;
		}
	}
	return buf_put(out, run, (size_t)(p - run)) ? -1 : 0;
}

/* Turn tagged strings back into numbers that keep their source text. */
static void tc_untag_numbers(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring &&
		    j->valuestring[0] == TC_NUM_TAG) {
			char *text = j->valuestring;
			double d;

			memmove(text, text + 1, strlen(text));
			d = strtod(text, NULL);
			j->type = cJSON_Number;
			j->valuedouble = d;
			if (d >= (double)INT_MAX)
				j->valueint = INT_MAX;
			else if (d <= (double)INT_MIN)
				j->valueint = INT_MIN;
			else
				j->valueint = (int)d;
		}
		tc_untag_numbers(j->child);
	}
}

static int tc_bad_response(struct err *e, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static int tc_bad_response(struct err *e, const char *fmt, ...)
{
	va_list ap;
	char *m;
	int code;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	code = err_set(e, ERR_API, "unexpected API response: %s", m);
	free(m);
	return code;
}

/* Parse JSON text with numbers kept as source text; NULL when malformed. */
static cJSON *tc_json_parse(const char *body, size_t len)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL;

	buf_init(&b, 0);
	/* tags add 3 bytes a number: one allocation for most answers */
	if (buf_reserve(&b, len + len / 4) == 0 && tc_tag_numbers(&b, body, len) == 0 &&
	    b.ptr) {
		const char *endp = NULL;

		j = cJSON_ParseWithLengthOpts(b.ptr, b.len, &endp, false);
		if (j) {
			/* only whitespace may follow */
			while (endp && (size_t)(endp - b.ptr) < b.len &&
			       isspace((unsigned char)*endp))
				endp++;
			if (!endp || (size_t)(endp - b.ptr) != b.len) {
				cJSON_Delete(j);
				j = NULL;
			}
		}
		if (j)
			tc_untag_numbers(j);
	}
	buf_release(&b);
	return j;
}

int tc_parse_response(void **out_response, const char *body, size_t len, struct err *e)
{
	cJSON *root, *resp, *error, *rid;
	const char *request_id = NULL;

	*out_response = NULL;
	if (!body || !len)
		return tc_bad_response(e, "empty body");
	if (!(root = tc_json_parse(body, len)))
		return tc_bad_response(e, "malformed JSON");
	resp = cJSON_GetObjectItemCaseSensitive(root, "Response");
	if (!cJSON_IsObject(root) || !cJSON_IsObject(resp)) {
		cJSON_Delete(root);
		return tc_bad_response(e, "no 'Response' object");
	}
	rid = cJSON_GetObjectItemCaseSensitive(resp, "RequestId");
	if (rid && !cJSON_IsString(rid) && !cJSON_IsNull(rid)) {
		cJSON_Delete(root);
		return tc_bad_response(e, "'RequestId' is not a string");
	}
	if (cJSON_IsString(rid))
		request_id = rid->valuestring;
	error = cJSON_GetObjectItemCaseSensitive(resp, "Error");
	if (error && !cJSON_IsNull(error)) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "Code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "Message");
		int ret;

		if (!cJSON_IsObject(error) || !cJSON_IsString(code) ||
		    !*code->valuestring ||
		    (msg && !cJSON_IsString(msg) && !cJSON_IsNull(msg))) {
			cJSON_Delete(root);
			return tc_bad_response(e, "malformed 'Error' object");
		}
		ret = err_set(e, ERR_API, "the API refused the request");
		err_set_api(e, code->valuestring,
			    cJSON_IsString(msg) ? msg->valuestring : NULL, request_id,
			    tc_err_class(code->valuestring, 200));
		cJSON_Delete(root);
		return ret;
	}
	cJSON_DetachItemViaPointer(root, resp);
	cJSON_Delete(root);
	*out_response = resp;
	return 0;
}

/* ---------------------------------------------------------------------
 * Field helpers: absent and null are fine, a wrong type is an error.
 */

static int tc_get_str(char **dst, const cJSON *obj, const char *key, const char *where,
		      struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*dst = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return tc_bad_response(e, "%s: '%s' is not a string", where, key);
	*dst = xstrdup(v->valuestring);
	return 0;
}

/*
 * An integer given as a JSON number or a string: "7", 7, 7.0 and 7e0 are
 * all 7; 7.5 is an error.
 */
static int tc_get_int64(int64_t *dst, const cJSON *obj, const char *key,
			const char *where, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	const char *s;
	char *endp;
	long long n;
	double d;

	if (!v || cJSON_IsNull(v))
		return 0;
	s = (cJSON_IsNumber(v) || cJSON_IsString(v)) ? v->valuestring : NULL;
	if (!s || !*s)
		return tc_bad_response(e, "%s: '%s' is not a number", where, key);
	errno = 0;
	n = strtoll(s, &endp, 10);
	if (errno || endp == s || *endp) {
		/* not plain digits: accept an exactly integral number */
		d = strtod(s, &endp);
		if (endp == s || *endp || !(d >= -9e15 && d <= 9e15) ||
		    (double)(long long)d != d)
			return tc_bad_response(e, "%s: '%s' is not an integer", where,
					       key);
		n = (long long)d;
	}
	*dst = n;
	return 0;
}

/*
 * More than DEC_SCALE_DIGITS fractional digits (a serializer printing a
 * double, e.g. 0.10000000000000001) cannot be held by util/decimal: round
 * half up to DEC_SCALE_DIGITS on the text and drop the trailing zeros
 * that rounding leaves ("0.1").  Shorter fractions are kept as written.
 */
/* s must have room for one more character. */
static void tc_decimal_round(char *s)
{
	char *dot = strchr(s, '.');
	bool up;

	if (!dot || strlen(dot + 1) <= DEC_SCALE_DIGITS)
		return;
	up = dot[1 + DEC_SCALE_DIGITS] >= '5';
	dot[1 + DEC_SCALE_DIGITS] = '\0';
	for (char *p = dot + DEC_SCALE_DIGITS; up && p >= s; p--) {
		if (*p == '.')
			continue;
		if (*p == '9') {
			*p = '0';
		} else {
			(*p)++;
			up = false;
		}
	}
	if (up) {
		/* 9.999... carried past the first digit */
		memmove(s + 1, s, strlen(s) + 1);
		s[0] = '1';
		dot++;
	}
	for (char *p = dot + strlen(dot) - 1; p > dot && *p == '0'; p--)
		*p = '\0';
	if (dot[1] == '\0')
		*dot = '\0';
}

/*
 * The plain decimal text of a JSON number's source text (or a numeric
 * string): "1e-2" -> "0.01", "012.50" -> "12.50".  NULL when not a
 * non-negative number of sane size.
 */
static char *tc_decimal_text(const char *s)
{
	const char *ip, *fp = "", *p = s;
	size_t il, fl = 0;
	long exp = 0;
	struct buf digits = BUF_INIT, out = BUF_INIT;
	long point;
	char *r = NULL;

	while (*p == ' ')
		p++;
	if (*p == '+')
		p++;
	ip = p;
	while (isdigit((unsigned char)*p))
		p++;
	il = (size_t)(p - ip);
	if (*p == '.') {
		fp = ++p;
		while (isdigit((unsigned char)*p))
			p++;
		fl = (size_t)(p - fp);
	}
	if (il + fl == 0 || il + fl > 40)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		char *endp;

		p++;
		errno = 0;
		exp = strtol(p, &endp, 10);
		if (errno || endp == p || exp > 30 || exp < -30)
			return NULL;
		p = endp;
	}
	while (*p == ' ')
		p++;
	if (*p)
		return NULL;
	buf_put(&digits, ip, il);
	buf_put(&digits, fp, fl);
	point = (long)il + exp; /* digits before the point */
	if (point <= 0) {
		buf_puts(&out, "0.");
		for (long i = 0; i < -point; i++)
			buf_putc(&out, '0');
		buf_puts(&out, digits.ptr);
	} else if ((size_t)point >= digits.len) {
		buf_puts(&out, digits.ptr);
		for (size_t i = digits.len; i < (size_t)point; i++)
			buf_putc(&out, '0');
	} else {
		buf_put(&out, digits.ptr, (size_t)point);
		buf_putc(&out, '.');
		buf_puts(&out, digits.ptr + point);
	}
	/* strip leading zeros of the integer part */
	{
		const char *o = out.ptr;

		while (o[0] == '0' && o[1] && o[1] != '.')
			o++;
		size_t l = strlen(o);

		r = xmalloc(l + 2); /* room for a carry */
		memcpy(r, o, l + 1);
	}
	tc_decimal_round(r);
	buf_release(&digits);
	buf_release(&out);
	return r;
}

/* A decimal given as a JSON number or string, as a plain decimal string. */
static int tc_get_decimal(char **dst, const cJSON *obj, const char *key,
			  const char *where, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*dst = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if ((!cJSON_IsNumber(v) && !cJSON_IsString(v)) || !v->valuestring ||
	    !(*dst = tc_decimal_text(v->valuestring)) || !dec_valid(*dst)) {
		free(*dst);
		*dst = NULL;
		return tc_bad_response(e, "%s: '%s' is not a decimal number", where, key);
	}
	return 0;
}

static int tc_get_array(const cJSON **dst, const cJSON *obj, const char *key,
			const char *where, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*dst = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v))
		return tc_bad_response(e, "%s: '%s' is not an array", where, key);
	*dst = v;
	return 0;
}

static int tc_get_object(const cJSON **dst, const cJSON *obj, const char *key,
			 const char *where, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*dst = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return tc_bad_response(e, "%s: '%s' is not an object", where, key);
	*dst = v;
	return 0;
}

/* ---------------------------------------------------------------------
 * Instances.
 */

/* "2020-09-22T00:00:00Z" or "...+08:00" / "...+0000"; 0 when unparsable. */
int64_t tc_parse_time(const char *s)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t t;

	if (!s)
		return 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p)
		return 0;
	if (*p == '.') /* fractional seconds */
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, hh, mm;

		p++;
		if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
			return 0;
		hh = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':')
			p++;
		if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
			return 0;
		mm = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		off = sign * (hh * 3600L + mm * 60L);
	}
	if (*p)
		return 0;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t - off;
}

static int tc_parse_one_instance(struct tc_instance *in, const cJSON *o, size_t idx,
				 const char *region, struct err *e)
{
	char where[48];
	const cJSON *placement, *vpc, *tags;
	int error = 0;

	snprintf(where, sizeof(where), "InstanceSet[%zu]", idx);
	memset(in, 0, sizeof(*in));
	if (!cJSON_IsObject(o))
		return tc_bad_response(e, "%s is not an object", where);
	if ((error = tc_get_str(&in->id, o, "InstanceId", where, e)) < 0)
		return error;
	if (!in->id || !*in->id)
		return tc_bad_response(e, "%s has no 'InstanceId'", where);
	if ((error = tc_get_str(&in->name, o, "InstanceName", where, e)) < 0 ||
	    (error = tc_get_str(&in->type, o, "InstanceType", where, e)) < 0 ||
	    (error = tc_get_str(&in->state, o, "InstanceState", where, e)) < 0 ||
	    (error = tc_get_str(&in->charge_type, o, "InstanceChargeType", where, e)) <
		    0 ||
	    (error = tc_get_str(&in->image, o, "ImageId", where, e)) < 0 ||
	    (error = tc_get_str(&in->created, o, "CreatedTime", where, e)) < 0 ||
	    (error = tc_get_object(&placement, o, "Placement", where, e)) < 0 ||
	    (error = tc_get_object(&vpc, o, "VirtualPrivateCloud", where, e)) < 0 ||
	    (error = tc_get_array(&tags, o, "Tags", where, e)) < 0)
		return error;
	if (placement && (error = tc_get_str(&in->zone, placement, "Zone", where, e)) < 0)
		return error;
	if (vpc && ((error = tc_get_str(&in->vpc_id, vpc, "VpcId", where, e)) < 0 ||
		    (error = tc_get_str(&in->subnet_id, vpc, "SubnetId", where, e)) < 0))
		return error;
	in->created_unix = tc_parse_time(in->created);
	in->region = region ? xstrdup(region) : NULL;
	if (tags) {
		size_t n = (size_t)cJSON_GetArraySize(tags), k = 0;
		const cJSON *t;

		in->tags = n ? xcalloc(n, sizeof(*in->tags)) : NULL;
		cJSON_ArrayForEach (t, tags) {
			char *key = NULL, *val = NULL;

			if (!cJSON_IsObject(t))
				return tc_bad_response(e, "%s: a tag is not an object",
						       where);
			if ((error = tc_get_str(&key, t, "Key", where, e)) < 0)
				return error;
			if ((error = tc_get_str(&val, t, "Value", where, e)) < 0) {
				free(key);
				return error;
			}
			if (!key) {
				free(val);
				return tc_bad_response(e, "%s: a tag has no 'Key'",
						       where);
			}
			in->tags[k].key = key;
			in->tags[k].value = val ? val : xstrdup("");
			in->ntags = ++k;
		}
	}
	return 0;
}

int tc_parse_instances(struct tc_instance_list *out, int64_t *total_count,
		       const void *response, const char *region, struct err *e)
{
	const cJSON *resp = response, *set, *o;
	int64_t total = -1;
	size_t idx = 0, start = out->n;
	int error;

	if (!cJSON_IsObject(resp))
		return tc_bad_response(e, "no 'Response' object");
	if ((error = tc_get_int64(&total, resp, "TotalCount", "Response", e)) < 0 ||
	    (error = tc_get_array(&set, resp, "InstanceSet", "Response", e)) < 0)
		return error;
	if (total < 0 || total > 100000000)
		return tc_bad_response(e, "'TotalCount' is missing or out of range");
	cJSON_ArrayForEach (o, set) {
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		error = tc_parse_one_instance(&out->v[out->n], o, idx++, region, e);
		out->n++;
		if (error) {
			/* leave out as it was */
			while (out->n > start)
				tc_instance_clear(&out->v[--out->n]);
			return error;
		}
	}
	if (total_count)
		*total_count = total;
	return 0;
}

/* ---------------------------------------------------------------------
 * Offers.
 */

/*
 * The spot price of an offer row, from its Price (ItemPrice) object: the
 * one place that decides which field it is.
 *
 * Which ItemPrice field carries the spot price on SPOTPAID rows is not
 * documented.  UnitPriceDiscount is the best reading; but the published
 * DescribeZoneInstanceConfigInfos example shows "UnitPriceDiscount": 0.0
 * and "UnitPrice": 0.0 on a row whose real price sits in other fields, so
 * a zero means "not given", never "free" (../shared/tencent-api.md, §12
 * "Strictness"; docs/provider.md, "Where the documents are silent").
 * Hence: UnitPriceDiscount when it is above zero, else UnitPrice when it
 * is above zero, else unknown (*dst NULL: no cost estimate, never the
 * cheapest pool).  Both fields are type-checked whatever their value.  A
 * price that rounds to zero at DEC_SCALE_DIGITS decimals counts as zero.
 */
static int tc_offer_price(char **dst, const cJSON *price, const char *where,
			  struct err *e)
{
	static const char *const fields[] = { "UnitPriceDiscount", "UnitPrice" };
	char *v[ARRAY_SIZE(fields)] = { NULL };
	int error = 0;

	*dst = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(fields) && !error; i++)
		error = tc_get_decimal(&v[i], price, fields[i], where, e);
	for (size_t i = 0; i < ARRAY_SIZE(fields) && !error && !*dst; i++)
		if (v[i] && strpbrk(v[i], "123456789")) {
			*dst = v[i];
			v[i] = NULL;
		}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		free(v[i]);
	return error;
}

static int tc_parse_one_offer(struct tc_offer *of, bool *keep, const cJSON *o, size_t idx,
			      struct err *e)
{
	char where[48];
	char *charge = NULL;
	const cJSON *price, *stock;
	int64_t cpu = 0, mem = 0;
	int error;

	snprintf(where, sizeof(where), "InstanceTypeQuotaSet[%zu]", idx);
	memset(of, 0, sizeof(*of));
	*keep = false;
	if (!cJSON_IsObject(o))
		return tc_bad_response(e, "%s is not an object", where);
	if ((error = tc_get_str(&charge, o, "InstanceChargeType", where, e)) < 0)
		return error;
	*keep = !charge || !strcmp(charge, "SPOTPAID");
	free(charge);
	if ((error = tc_get_str(&of->zone, o, "Zone", where, e)) < 0 ||
	    (error = tc_get_str(&of->type, o, "InstanceType", where, e)) < 0 ||
	    (error = tc_get_str(&of->status, o, "Status", where, e)) < 0 ||
	    (error = tc_get_int64(&cpu, o, "Cpu", where, e)) < 0 ||
	    (error = tc_get_int64(&mem, o, "Memory", where, e)) < 0 ||
	    (error = tc_get_object(&price, o, "Price", where, e)) < 0)
		return error;
	stock = cJSON_GetObjectItemCaseSensitive(o, "StatusCategory");
	if (stock && !cJSON_IsNull(stock) && !cJSON_IsString(stock))
		return tc_bad_response(e, "%s: 'StatusCategory' is not a string", where);
	/* as given; absent, null or "": unknown (NULL) */
	if (cJSON_IsString(stock) && *stock->valuestring)
		of->status_category = xstrdup(stock->valuestring);
	if (price && (error = tc_offer_price(&of->price, price, where, e)) < 0)
		return error;
	if (!of->zone || !of->type)
		return tc_bad_response(e, "%s lacks 'Zone' or 'InstanceType'", where);
	if (cpu < 0 || cpu > INT_MAX || mem < 0 || mem > INT_MAX)
		return tc_bad_response(e, "%s: 'Cpu' or 'Memory' out of range", where);
	of->cpu = (int)cpu;
	of->memory_gb = (int)mem;
	return 0;
}

int tc_parse_offers(struct tc_offer_list *out, const void *response, struct err *e)
{
	const cJSON *resp = response, *set, *o;
	size_t idx = 0, start = out->n;
	int error;

	if (!cJSON_IsObject(resp))
		return tc_bad_response(e, "no 'Response' object");
	if ((error = tc_get_array(&set, resp, "InstanceTypeQuotaSet", "Response", e)) < 0)
		return error;
	cJSON_ArrayForEach (o, set) {
		bool keep;

		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		error = tc_parse_one_offer(&out->v[out->n], &keep, o, idx++, e);
		if (error || !keep) {
			tc_offer_clear(&out->v[out->n]);
			if (!error)
				continue;
			while (out->n > start)
				tc_offer_clear(&out->v[--out->n]);
			return error;
		}
		out->n++;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Spot quota (DescribeAccountQuota).
 */

#define TC_MAX_QUOTA_ROWS 1000	  /* zones of one region: a dozen in practice */
#define TC_MAX_QUOTA 1000000000LL /* vCPU; anything above is not a quota */

/*
 * Response.AppId (a JSON number in the published example; a string of
 * digits is taken too) as its decimal text without leading zeros; NULL
 * when absent or null.
 */
static int tc_get_app_id(char **dst, const cJSON *resp, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(resp, "AppId");
	const char *s;
	size_t n;

	*dst = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	s = (cJSON_IsNumber(v) || cJSON_IsString(v)) ? v->valuestring : NULL;
	n = s ? strlen(s) : 0;
	if (!n || n > 20 || strspn(s, "0123456789") != n) {
		int64_t id = -1;
		struct err ie = ERR_INIT;

		/* 2.51007416e8 and friends: an exactly integral number */
		if (!s || tc_get_int64(&id, resp, "AppId", "Response", &ie) < 0 ||
		    id < 0) {
			err_clear(&ie);
			return tc_bad_response(
				e, "Response: 'AppId' is not a non-negative integer");
		}
		*dst = xasprintf("%" PRId64, id);
		return 0;
	}
	while (s[0] == '0' && s[1])
		s++;
	*dst = xstrdup(s);
	return 0;
}

/* A quota count: a non-negative integer up to TC_MAX_QUOTA, -1 when absent. */
static int tc_get_quota(int64_t *dst, const cJSON *row, const char *key,
			const char *where, struct err *e)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(row, key);
	int64_t v = -1;
	int error;

	*dst = -1;
	if (!item || cJSON_IsNull(item))
		return 0;
	if ((error = tc_get_int64(&v, row, key, where, e)) < 0)
		return error;
	if (v < 0 || v > TC_MAX_QUOTA)
		return tc_bad_response(e, "%s: '%s' is out of range", where, key);
	*dst = v;
	return 0;
}

int tc_parse_spot_quota(struct tc_spot_quota_list *out, char **app_id_out,
			const void *response, struct err *e)
{
	const cJSON *resp = response, *overview = NULL, *quota = NULL, *set = NULL, *row;
	size_t idx = 0, start = out->n;
	char *app_id = NULL;
	int error = 0;

	if (app_id_out)
		*app_id_out = NULL;
	if (!cJSON_IsObject(resp))
		return tc_bad_response(e, "no 'Response' object");
	if ((error = tc_get_app_id(&app_id, resp, e)) < 0 ||
	    (error = tc_get_object(&overview, resp, "AccountQuotaOverview", "Response",
				   e)) < 0)
		goto done;
	if (overview && (error = tc_get_object(&quota, overview, "AccountQuota",
					       "AccountQuotaOverview", e)) < 0)
		goto done;
	if (quota && (error = tc_get_array(&set, quota, "SpotPaidQuotaSet",
					   "AccountQuota", e)) < 0)
		goto done;
	if (set && cJSON_GetArraySize(set) > TC_MAX_QUOTA_ROWS) {
		error = tc_bad_response(e, "'SpotPaidQuotaSet' has more than %d rows",
					TC_MAX_QUOTA_ROWS);
		goto done;
	}
	cJSON_ArrayForEach (row, set) {
		struct tc_spot_quota q;
		char where[48];

		snprintf(where, sizeof(where), "SpotPaidQuotaSet[%zu]", idx++);
		memset(&q, 0, sizeof(q));
		if (!cJSON_IsObject(row)) {
			error = tc_bad_response(e, "%s is not an object", where);
			goto done;
		}
		if ((error = tc_get_str(&q.zone, row, "Zone", where, e)) < 0 ||
		    (error = tc_get_quota(&q.used, row, "UsedQuota", where, e)) < 0 ||
		    (error = tc_get_quota(&q.remaining, row, "RemainingQuota", where,
					  e)) < 0 ||
		    (error = tc_get_quota(&q.total, row, "TotalQuota", where, e)) < 0) {
			free(q.zone);
			goto done;
		}
		if (!q.zone || !*q.zone) {
			free(q.zone);
			error = tc_bad_response(e, "%s has no 'Zone'", where);
			goto done;
		}
		for (size_t k = start; k < out->n; k++)
			if (!strcmp(out->v[k].zone, q.zone)) {
				error = tc_bad_response(e,
							"%s: zone '%s' is listed twice",
							where, q.zone);
				free(q.zone);
				goto done;
			}
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n++] = q;
	}
done:
	if (error) {
		while (out->n > start)
			tc_spot_quota_clear(&out->v[--out->n]);
		free(app_id);
	} else if (app_id_out) {
		*app_id_out = app_id;
	} else {
		free(app_id);
	}
	return error;
}

/* ---------------------------------------------------------------------
 * Classification.
 */

static bool tc_prefix(const char *code, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(code, prefix, n) && (code[n] == '\0' || code[n] == '.');
}

enum err_class tc_classify(const char *api_code, long http_status)
{
	static const char *const capacity_exact[] = {
		"InvalidParameterValue.InsufficientPrice",
		"InvalidParameterValue.InsufficientOffering",
		"UnsupportedOperation.NoInstanceTypeSupportSpot",
		"UnsupportedOperation.SpotUnsupportedRegion",
	};
	static const char *const quota_exact[] = {
		"LimitExceeded.SpotQuota",
		"LimitExceeded.UserSpotQuota",
	};
	static const char *const transient_exact[] = {
		"OperationDenied.InstanceOperationInProgress",
		"MutexOperation.TaskRunning",
	};
	/* refusals about one instance's state or protection: not the request's fault */
	static const char *const other_exact[] = {
		"UnsupportedOperation.InstancesProtected",
	};
	static const char state_prefix[] = "UnsupportedOperation.InstanceState";
	static const char *const invalid_prefix[] = {
		"InvalidParameter",
		"InvalidParameterValue",
		"InvalidParameterCombination",
		"MissingParameter",
		"UnknownParameter",
		"InvalidAction",
		"InvalidFilter",
		"InvalidFilterValue",
		"InvalidZone",
		"InvalidRegion",
		"InvalidInstanceId",
		"InvalidInstanceType",
		"InvalidImageId",
		"InvalidClientToken",
		"InvalidInstanceName",
		"InvalidSecurityGroupId",
		"InvalidPeriod",
		"InvalidInstanceChargeType",
		"NoSuchVersion",
		"UnsupportedOperation",
		"UnsupportedRegion",
		"UnsupportedProtocol",
		"InvalidHostId",
		"InvalidInstance",
		"InvalidPassword",
		"InvalidKeyPair",
	};

	if (!api_code || !*api_code) {
		if (http_status >= 500 && http_status <= 599)
			return ERR_CLASS_TRANSIENT;
		if (http_status == 429)
			return ERR_CLASS_THROTTLED;
		if (http_status == 401 || http_status == 403)
			return ERR_CLASS_AUTH;
		if (http_status && http_status != 200)
			return ERR_CLASS_OTHER;
		return ERR_CLASS_NONE;
	}
	if (tc_prefix(api_code, "AuthFailure") ||
	    tc_prefix(api_code, "UnauthorizedOperation"))
		return ERR_CLASS_AUTH;
	if (tc_prefix(api_code, "RequestLimitExceeded"))
		return ERR_CLASS_THROTTLED;
	for (size_t i = 0; i < ARRAY_SIZE(quota_exact); i++)
		if (!strcmp(api_code, quota_exact[i]))
			return ERR_CLASS_QUOTA;
	if (!strcmp(api_code, "InvalidAccount.InsufficientBalance"))
		return ERR_CLASS_ACCOUNT;
	for (size_t i = 0; i < ARRAY_SIZE(capacity_exact); i++)
		if (!strcmp(api_code, capacity_exact[i]))
			return ERR_CLASS_CAPACITY;
	if (tc_prefix(api_code, "ResourceInsufficient") ||
	    tc_prefix(api_code, "ResourcesSoldOut"))
		return ERR_CLASS_CAPACITY;
	if (tc_prefix(api_code, "InternalError") ||
	    tc_prefix(api_code, "InternalServerError"))
		return ERR_CLASS_TRANSIENT;
	for (size_t i = 0; i < ARRAY_SIZE(transient_exact); i++)
		if (!strcmp(api_code, transient_exact[i]))
			return ERR_CLASS_TRANSIENT;
	for (size_t i = 0; i < ARRAY_SIZE(other_exact); i++)
		if (!strcmp(api_code, other_exact[i]))
			return ERR_CLASS_OTHER;
	if (!strncmp(api_code, state_prefix, sizeof(state_prefix) - 1) &&
	    api_code[sizeof(state_prefix) - 1])
		return ERR_CLASS_OTHER; /* ...InstanceStatePending, ...Terminating, ... */
	for (size_t i = 0; i < ARRAY_SIZE(invalid_prefix); i++)
		if (tc_prefix(api_code, invalid_prefix[i]))
			return ERR_CLASS_INVALID;
	return ERR_CLASS_OTHER;
}

enum err_class tc_err_class(const char *api_code, long http_status)
{
	return tc_classify(api_code, http_status);
}
