/*
 * client.c - signed CVM calls over libcurl's multi interface.
 *
 * One multi handle per client keeps connections alive between calls; each
 * attempt is its own easy handle, signed afresh (a new X-TC-Timestamp) over
 * the very bytes handed to CURLOPT_POSTFIELDS.  tc_call_many drives any
 * number of calls with at most `parallelism` in flight per region, a
 * sliding-window rate limiter per (action, region), and capped exponential
 * backoff with full jitter for the failures worth retrying
 * (ERR_CLASS_THROTTLED and ERR_CLASS_TRANSIENT: throttling,
 * InternalError, InternalServerError, an operation in progress on the
 * instance, HTTP 5xx, timeouts, refused or reset connections, truncated
 * bodies).  Everything else fails at once.
 *
 * Nothing secret is logged: the log line names the action, region,
 * attempt, HTTP status, duration, RequestId and error code only.
 */
#include "../util/setup.h"
#include "../util/retry.h"
#include "tc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>

#define TC_MAX_RESPONSE (64u << 20)

/* Calls of actions without a documented limit: per action and region. */
#define TC_RATE_OTHER 10

/*
 * The rate limit of one (action, region), counted as Tencent counts it
 * (per action, per region, per account): never more than `rate` requests
 * in any sliding one-second window, as the API sees them.
 *
 * The API stamps a request somewhere between the moment it was sent and
 * the moment its answer came back (network latency, queueing at the API,
 * a connection still being set up all move it, by different amounts for
 * different requests), so the limiter counts a request from its send
 * until a window after its answer: a new request may go at t only when
 * fewer than `rate` requests are in flight or were answered after
 * t - window.  Then any two requests the API might count in one window
 * really are within one window of each other, whatever the latency and
 * its jitter: stamp(new) >= send(new) >= answer(old) + window >=
 * stamp(old) + window.  The window is one second plus rate_margin_ms (the
 * API's clock granularity and skew).  Answers age out in order, so the
 * ring holds the answer times still in the window, oldest first; in
 * flight plus in the ring never exceeds `rate`.
 *
 * The first second may use the whole rate at once.  (A token bucket that
 * starts full with a burst of `rate` sends up to twice the rate in its
 * first second: that is what the API refuses.)  The price of certainty
 * is one round trip per window: a window's requests can go again one
 * second after their answers, not after their sends.
 */
struct tc_limiter {
	char *action;
	char *region; /* "" for calls without a region */
	int cap;      /* the documented rate: requests per window (the ring's size) */
	int rate;     /* the rate in force, 1..cap (see tc_limiter_throttled) */
	int inflight; /* sent, not answered: the API may count them at any moment */
	int64_t *answered; /* answer times (monotonic us) still in the window, a ring */
	size_t head;	   /* the oldest answer */
	size_t count;
	int64_t cut_us; /* when the rate was last lowered (0 = never) */
	int ok;		/* answers not refused since the rate last changed */
};

/* The requests in flight to one region; --parallelism bounds each. */
struct tc_lane {
	char *region; /* "" for calls without a region */
	int inflight;
};

struct tc_client {
	struct tc_cred cred;
	char *url;     /* scheme://authority/ */
	char *host;    /* the Host header (and signed host) */
	bool loopback; /* the endpoint is on this machine: never via a proxy */
	struct tc_client_opts o;
	CURLM *multi;
	int64_t window_us;	      /* the limiters' window: 1 s + rate_margin_ms */
	struct tc_limiter **limiters; /* one per (action, region) seen */
	size_t nlimiters, alimiters;
	struct tc_lane **lanes; /* one per region seen */
	size_t nlanes, alanes;
	struct tc_client_stats stats;
	uint64_t rng;
	struct retry retry;	     /* for calls that failed in a way that passes */
	struct retry throttle_retry; /* for calls refused for the rate */
};

/* One call in flight or waiting (tc_call_many). */
struct tc_pending {
	struct tc_call *call;
	struct tc_limiter *limiter;
	struct tc_lane *lane;
	CURL *easy;
	struct curl_slist *headers;
	struct buf resp;
	int64_t not_before_us;
	int64_t started_us;
	int failures;  /* failed tries other than refusals for the rate */
	int throttles; /* tries refused for the rate */
	bool done, inflight;
	char errbuf[CURL_ERROR_SIZE];
};

static int64_t tc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static pthread_once_t tc_curl_once = PTHREAD_ONCE_INIT;
static CURLcode tc_curl_init_rc;

static void tc_curl_init(void)
{
	tc_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---------------------------------------------------------------------
 * Endpoint.
 */

static bool tc_is_loopback(const char *host)
{
	struct in_addr a4;

	if (!strcasecmp(host, "localhost") || !strcmp(host, "::1"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/* Split and check an endpoint URL into url ("scheme://authority/") and host. */
static int tc_endpoint(char **url, char **host, bool *loopback, const char *endpoint,
		       struct err *e)
{
	const char *auth, *end;
	char *authority = NULL, *hostname = NULL;
	bool https;
	int error = 0;

	if (!strncasecmp(endpoint, "https://", 8)) {
		https = true;
		auth = endpoint + 8;
	} else if (!strncasecmp(endpoint, "http://", 7)) {
		https = false;
		auth = endpoint + 7;
	} else {
		return err_set(e, ERR_INVALID, "endpoint '%s' must be an https:// URL",
			       endpoint);
	}
	end = auth + strcspn(auth, "/?#");
	if (*end && strcmp(end, "/"))
		return err_set(e, ERR_INVALID,
			       "endpoint '%s' must not have a path or query", endpoint);
	authority = xstrndup(auth, (size_t)(end - auth));
	for (char *p = authority; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!*authority || strpbrk(authority, "@ \t\r\n\\")) {
		error = err_set(e, ERR_INVALID, "endpoint '%s' has an invalid host",
				endpoint);
		goto done;
	}
	if (authority[0] == '[') {
		char *close = strchr(authority, ']');

		if (!close || (close[1] && close[1] != ':')) {
			error = err_set(e, ERR_INVALID,
					"endpoint '%s' has an invalid host", endpoint);
			goto done;
		}
		hostname = xstrndup(authority + 1, (size_t)(close - authority - 1));
	} else {
		hostname = xstrndup(authority, strcspn(authority, ":"));
	}
	{
		const char *port = authority[0] == '[' ? strchr(authority, ']') + 1
						       : authority + strlen(hostname);

		if (*port == ':' &&
		    (!port[1] || strspn(port + 1, "0123456789") != strlen(port + 1) ||
		     strlen(port + 1) > 5)) {
			error = err_set(e, ERR_INVALID,
					"endpoint '%s' has an invalid port", endpoint);
			goto done;
		}
	}
	if (!*hostname) {
		error = err_set(e, ERR_INVALID, "endpoint '%s' has no host", endpoint);
		goto done;
	}
	if (!https && !tc_is_loopback(hostname)) {
		error = err_set(
			e, ERR_INVALID,
			"endpoint '%s' uses plain http, which is only allowed for loopback addresses",
			endpoint);
		goto done;
	}
	*loopback = tc_is_loopback(hostname);
	*url = xasprintf("%s://%s/", https ? "https" : "http", authority);
	*host = authority;
	authority = NULL;
done:
	free(authority);
	free(hostname);
	return error;
}

/* ---------------------------------------------------------------------
 * Client.
 */

/* The rate of an action: the documented limits, overridable in the options. */
static int tc_rate_of(const struct tc_client *c, const char *action)
{
	if (!strcmp(action, "RunInstances"))
		return c->o.rate_run;
	if (!strcmp(action, "TerminateInstances"))
		return c->o.rate_terminate;
	if (!strcmp(action, "DescribeInstances"))
		return c->o.rate_describe;
	if (!strcmp(action, "DescribeZoneInstanceConfigInfos"))
		return c->o.rate_offers;
	return TC_RATE_OTHER;
}

/* The limiter of (action, region), made on first use; owned by c. */
static struct tc_limiter *tc_limiter_for(struct tc_client *c, const char *action,
					 const char *region)
{
	struct tc_limiter *l;

	if (!region)
		region = "";
	for (size_t i = 0; i < c->nlimiters; i++)
		if (!strcmp(c->limiters[i]->action, action) &&
		    !strcmp(c->limiters[i]->region, region))
			return c->limiters[i];
	l = xcalloc(1, sizeof(*l));
	l->action = xstrdup(action);
	l->region = xstrdup(region);
	l->cap = l->rate = tc_rate_of(c, action);
	l->answered = xcalloc((size_t)l->cap, sizeof(*l->answered));
	ALLOC_GROW(c->limiters, c->nlimiters + 1, c->alimiters);
	c->limiters[c->nlimiters++] = l;
	return l;
}

/*
 * May a request go at now?  0 when it may, else the microseconds until the
 * oldest answer leaves the window, or -1 when every request counted is
 * still in flight (an answer wakes the caller).
 */
static int64_t tc_limiter_wait(struct tc_limiter *l, int64_t now, int64_t window_us)
{
	size_t cap = (size_t)l->cap;

	while (l->count && l->answered[l->head] + window_us <= now) {
		l->head = (l->head + 1) % cap;
		l->count--;
	}
	if ((size_t)l->inflight + l->count < (size_t)l->rate)
		return 0;
	if (l->count)
		return l->answered[l->head] + window_us - now;
	return -1;
}

/* A request went out (after tc_limiter_wait said it may). */
static void tc_limiter_sent(struct tc_limiter *l)
{
	l->inflight++;
}

/*
 * Its attempt is over at now, answered or not (a timeout or a reset
 * connection may still have reached the API): it counts for one more
 * window.
 */
static void tc_limiter_answered(struct tc_limiter *l, int64_t now)
{
	size_t cap = (size_t)l->cap;

	assert(l->inflight > 0 && l->count < cap);
	l->inflight--;
	l->answered[(l->head + l->count++) % cap] = now;
}

/*
 * The API refused a request of l with RequestLimitExceeded although l kept
 * to the documented rate: the account's real limit is lower (sub-accounts
 * and other tools share it, per action and region).  Halve the rate in
 * force, once per window (the refusals of one burst are one event), down
 * to one request a window.  Returns whether it was lowered.
 */
static bool tc_limiter_throttled(struct tc_limiter *l, int64_t now, int64_t window_us)
{
	if (l->cut_us && now < l->cut_us + window_us)
		return false;
	l->cut_us = now;
	l->ok = 0;
	if (l->rate == 1)
		return false;
	l->rate = l->rate / 2 > 1 ? l->rate / 2 : 1;
	return true;
}

/*
 * An answer of l that was not refused: once TC_RATE_HOLD windows have
 * passed since the last cut, each window's worth of such answers raises
 * the rate by one, back up to the documented rate (additive increase, so
 * a shared limit is probed gently instead of refused in bursts).
 */
#define TC_RATE_HOLD 10
static void tc_limiter_ok(struct tc_limiter *l, int64_t now, int64_t window_us)
{
	if (l->rate >= l->cap || now < l->cut_us + TC_RATE_HOLD * window_us)
		return;
	if (++l->ok >= l->rate) {
		l->rate++;
		l->ok = 0;
	}
}

/*
 * The lane of region, made on first use; owned by c.  Each new region
 * lets libcurl keep `parallelism` more connections open.
 */
static struct tc_lane *tc_lane_for(struct tc_client *c, const char *region)
{
	struct tc_lane *l;

	if (!region)
		region = "";
	for (size_t i = 0; i < c->nlanes; i++)
		if (!strcmp(c->lanes[i]->region, region))
			return c->lanes[i];
	l = xcalloc(1, sizeof(*l));
	l->region = xstrdup(region);
	ALLOC_GROW(c->lanes, c->nlanes + 1, c->alanes);
	c->lanes[c->nlanes++] = l;
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
			  (long)c->o.parallelism * (long)c->nlanes);
	return l;
}

int tc_client_new(struct tc_client **out, const struct tc_cred *cred,
		  const struct tc_client_opts *opts, struct err *e)
{
	struct tc_client_opts defaults;
	struct tc_client *c;
	const char *endpoint;
	int error;

	*out = NULL;
	if (!cred || (!cred->spec && (!cred->secret_id || !*cred->secret_id ||
				      !cred->secret_key || !*cred->secret_key)))
		return err_set(e, ERR_AUTH, "incomplete credentials");
	if (!opts) {
		memset(&defaults, 0, sizeof(defaults));
		opts = &defaults;
	}
	pthread_once(&tc_curl_once, tc_curl_init);
	if (tc_curl_init_rc != CURLE_OK)
		return err_set(e, ERR_GENERIC, "cannot initialise libcurl");

	c = xcalloc(1, sizeof(*c));
	c->o = *opts;
	c->o.endpoint = NULL;
	endpoint = opts->endpoint && *opts->endpoint ? opts->endpoint
						     : getenv("SPOTENV_ENDPOINT");
	if (!endpoint || !*endpoint)
		endpoint = TC_DEFAULT_ENDPOINT;
	if ((error = tc_endpoint(&c->url, &c->host, &c->loopback, endpoint, e)) < 0) {
		tc_client_free(c);
		return error;
	}
#define TC_DEFAULT(f, v)                                                                 \
	if (c->o.f <= 0)                                                                 \
	c->o.f = (v)
	TC_DEFAULT(parallelism, TC_DEFAULT_PARALLELISM);
	TC_DEFAULT(connect_timeout_ms, 5000);
	TC_DEFAULT(timeout_ms, 30000);
	TC_DEFAULT(max_attempts, 5);
	TC_DEFAULT(backoff_base_ms, 200);
	TC_DEFAULT(backoff_cap_ms, 5000);
	TC_DEFAULT(throttle_wait_ms, 1000);
	TC_DEFAULT(max_throttled, 12);
	TC_DEFAULT(rate_run, 10);
	TC_DEFAULT(rate_terminate, 10);
	TC_DEFAULT(rate_describe, 40);
	TC_DEFAULT(rate_offers, 40);
	TC_DEFAULT(rate_margin_ms, 10);
#undef TC_DEFAULT
	/*
	 * A failure that passes (the THROTTLED and TRANSIENT classes of
	 * tc_classify: throttling, InternalError, InternalServerError,
	 * OperationDenied.InstanceOperationInProgress,
	 * MutexOperation.TaskRunning, 5xx, timeouts, refused connections) is
	 * tried again up to max_attempts times in all, after capped
	 * exponential backoff with full jitter (200 ms doubling to 5 s by
	 * default), so that many clients failing at once do not retry in
	 * step.  A throttled call waits throttle_wait_ms on top (the limits
	 * count per second).  No deadline: the HTTP timeouts bound each try.
	 */
	c->retry.attempts = c->o.max_attempts;
	c->retry.base_ms = c->o.backoff_base_ms;
	c->retry.cap_ms = c->o.backoff_cap_ms;
	c->retry.jitter = true;
	c->throttle_retry = c->retry;
	c->throttle_retry.attempts = c->o.max_throttled;
	c->window_us = (1000 + (int64_t)c->o.rate_margin_ms) * 1000;

	/*
	 * Temporary credentials (a role, web identity) are fetched now, so a
	 * source that is not there fails before any call, and again before
	 * signing whenever tc_cred_due says they near their end.
	 */
	tc_cred_copy(&c->cred, cred);
	if (c->o.log) {
		char *line = xasprintf("credentials from %s",
				       c->cred.source ? c->cred.source : "-");

		c->o.log(c->o.log_ctx, line);
		free(line);
	}
	if (tc_cred_due(&c->cred, (int64_t)time(NULL)) &&
	    (error = tc_cred_fetch(&c->cred, c->o.log, c->o.log_ctx, e)) < 0) {
		tc_client_free(c);
		return error;
	}

	if (RAND_bytes((unsigned char *)&c->rng, sizeof(c->rng)) != 1 || !c->rng)
		c->rng = (uint64_t)tc_now_us() ^ ((uint64_t)getpid() << 32) ^
			 0x9e3779b97f4a7c15ULL;

	if (!(c->multi = curl_multi_init())) {
		tc_client_free(c);
		return err_set(e, ERR_GENERIC, "cannot create an HTTP client");
	}
	/*
	 * No cap on connections in libcurl: tc_call_many bounds what is in
	 * flight (per region), and a request libcurl held back for a free
	 * connection would go out later than its limiter recorded.
	 */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->o.parallelism);
	*out = c;
	return 0;
}

void tc_client_free(struct tc_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->nlimiters; i++) {
		free(c->limiters[i]->action);
		free(c->limiters[i]->region);
		free(c->limiters[i]->answered);
		free(c->limiters[i]);
	}
	free(c->limiters);
	for (size_t i = 0; i < c->nlanes; i++) {
		free(c->lanes[i]->region);
		free(c->lanes[i]);
	}
	free(c->lanes);
	tc_cred_clear(&c->cred);
	free(c->url);
	free(c->host);
	secure_wipe(c, sizeof(*c));
	free(c);
}

const char *tc_client_endpoint(const struct tc_client *c)
{
	return c->url;
}

void tc_client_stats(const struct tc_client *c, struct tc_client_stats *out)
{
	*out = c->stats;
}

/* ---------------------------------------------------------------------
 * One attempt.
 */

static size_t tc_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct tc_pending *p = userdata;
	struct buf *b = &p->resp;
	size_t n = size * nmemb;
	curl_off_t len = -1;

	/*
	 * Room for the whole answer at once when it says how long it is (a
	 * page of instances is ~150 KB, a dozen doublings); a reserve beyond
	 * the cap fails harmlessly, buf_put enforces it.
	 */
	if (!b->alloc &&
	    curl_easy_getinfo(p->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) ==
		    CURLE_OK &&
	    len > 0 && (uint64_t)len > n && (uint64_t)len < SIZE_MAX)
		(void)buf_reserve(b, (size_t)len);
	if (buf_put(b, data, n))
		return 0; /* too big: abort the transfer */
	return n;
}

static void tc_free_headers(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		if (p->data)
			secure_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static struct curl_slist *tc_header_add(struct curl_slist *l, bool *ok, const char *fmt,
					...) SPOTENV_PRINTF(3, 4);
static struct curl_slist *tc_header_add(struct curl_slist *l, bool *ok, const char *fmt,
					...)
{
	struct curl_slist *r;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	r = curl_slist_append(l, s);
	secure_free_str(s);
	if (!r) {
		*ok = false;
		return l;
	}
	return r;
}

static bool tc_action_ok(const char *a)
{
	if (!a || !*a || strlen(a) > 64)
		return false;
	for (; *a; a++)
		if (!isalnum((unsigned char)*a))
			return false;
	return true;
}

static bool tc_region_ok(const char *r)
{
	if (!r)
		return true;
	if (strlen(r) > 64)
		return false;
	for (; *r; r++)
		if (!isalnum((unsigned char)*r) && *r != '-' && *r != '_')
			return false;
	return true;
}

/* Sign and start one attempt. */
static int tc_start(struct tc_client *c, CURLM *multi, struct tc_pending *p,
		    struct err *e)
{
	struct tc_call *call = p->call;
	const char *body = call->body ? call->body : "{}";
	size_t body_len = strlen(body);
	struct tc_header sh[3] = {
		{ "content-type", "application/json" },
		{ "host", c->host },
		{ "x-tc-action", call->action },
	};
	struct tc_sign_input in;
	struct tc_sign_output so;
	int64_t ts = (int64_t)time(NULL);
	bool ok = true;
	struct curl_slist *h = NULL;
	CURL *easy;
	int error;

	/*
	 * Temporary credentials near their end: renew them first.  A renewal
	 * that fails while they are still valid is logged and tried again
	 * later (tc_cred_due waits); once they have expired it fails the call.
	 */
	if (tc_cred_due(&c->cred, ts)) {
		struct err fe = ERR_INIT;

		if (tc_cred_fetch(&c->cred, c->o.log, c->o.log_ctx, &fe) < 0) {
			if (!c->cred.secret_id || ts >= c->cred.expires) {
				error = fe.code;
				err_move(e, &fe);
				return error;
			}
			if (c->o.log) {
				char *line = xasprintf(
					"credentials renewal failed (%s); the current "
					"ones are valid for %" PRId64 "s more",
					fe.msg, c->cred.expires - ts);

				c->o.log(c->o.log_ctx, line);
				free(line);
			}
			err_clear(&fe);
		}
	}
	memset(&in, 0, sizeof(in));
	in.method = "POST";
	in.query = "";
	in.headers = sh;
	in.nheaders = ARRAY_SIZE(sh);
	in.payload = body;
	in.payload_len = body_len;
	in.service = TC_SERVICE;
	in.timestamp = ts;
	in.secret_id = c->cred.secret_id;
	in.secret_key = c->cred.secret_key;
	if ((error = tc_sign(&so, &in, e)) < 0) {
		tc_sign_output_clear(&so);
		return error;
	}
	h = tc_header_add(h, &ok, "Authorization: %s", buf_str(&so.authorization));
	tc_sign_output_clear(&so);
	h = tc_header_add(h, &ok, "Content-Type: application/json");
	h = tc_header_add(h, &ok, "Host: %s", c->host);
	h = tc_header_add(h, &ok, "X-TC-Action: %s", call->action);
	h = tc_header_add(h, &ok, "X-TC-Version: %s", TC_VERSION);
	if (call->region && *call->region)
		h = tc_header_add(h, &ok, "X-TC-Region: %s", call->region);
	h = tc_header_add(h, &ok, "X-TC-Timestamp: %" PRId64, ts);
	if (c->cred.token)
		h = tc_header_add(h, &ok, "X-TC-Token: %s", c->cred.token);
	/* messages in English; not signed (neither do the SDKs sign it) */
	h = tc_header_add(h, &ok, "X-TC-Language: %s", TC_LANGUAGE);
	h = tc_header_add(h, &ok, "X-TC-RequestClient: spotenv/%s", SPOTENV_VERSION);
	h = tc_header_add(h, &ok, "Expect:");
	h = tc_header_add(h, &ok, "Accept:");
	if (!ok || !(easy = curl_easy_init())) {
		tc_free_headers(h);
		return err_set(e, ERR_GENERIC, "cannot prepare an HTTP request");
	}
	buf_init(&p->resp, TC_MAX_RESPONSE);
	p->errbuf[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_URL, c->url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_POST, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, tc_write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->loopback)
		curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, p);
	if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		tc_free_headers(h);
		return err_set(e, ERR_GENERIC, "cannot start an HTTP request");
	}
	p->easy = easy;
	p->headers = h;
	p->inflight = true;
	p->started_us = tc_now_us();
	call->attempts++;
	c->stats.calls++;
	return 0;
}

static bool tc_curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void tc_log(struct tc_client *c, const char *fmt, ...) SPOTENV_PRINTF(2, 3);
static void tc_log(struct tc_client *c, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (!c->o.log)
		return;
	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	c->o.log(c->o.log_ctx, line);
	free(line);
}

static const char *tc_or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* A call is over (not cancelled): its on_done hook runs once, now. */
static void tc_settle(struct tc_pending *p)
{
	p->done = true;
	if (p->call->on_done)
		p->call->on_done(p->call, p->call->on_done_ctx);
}

/*
 * An attempt finished by now (the time libcurl handed over the answers,
 * before any was parsed): success, a retry (scheduled), or a final
 * failure.  Returns true when the call is done.
 */
static bool tc_finish(struct tc_client *c, struct tc_pending *p, CURLcode rc, int64_t now)
{
	struct tc_call *call = p->call;
	const char *region = call->region && *call->region ? call->region : "-";
	struct err ae = ERR_INIT;
	void *resp = NULL;
	long status = 0;
	int64_t ms = (now - p->started_us) / 1000, wait_ms = 0;
	bool retry = false, cut = false;

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			err_set(&ae, ERR_NET,
				"'%s' in '%s' timed out after %" PRId64 " ms",
				call->action, region, ms);
		else
			err_set(&ae, ERR_NET, "'%s' in '%s' failed: %s", call->action,
				region,
				p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
		retry = tc_curl_retryable(rc);
		ae.cls = retry ? ERR_CLASS_TRANSIENT : ERR_CLASS_OTHER;
	} else {
		struct err pe = ERR_INIT;
		int r = tc_parse_response(&resp, p->resp.ptr, p->resp.len, &pe);

		if (r == 0 && status == 200) {
			/* success */
		} else if (pe.api_code && status < 500) {
			/* API errors come with HTTP 200; accept them with a 4xx too */
			err_set(&ae, ERR_API, "'%s' in '%s' failed", call->action,
				region);
			err_set_api(&ae, pe.api_code, pe.api_message, pe.request_id,
				    pe.cls);
			if (!strcmp(pe.api_code, "DryRunOperation"))
				ae.cls = ERR_CLASS_NONE;
		} else if (status != 200) {
			err_set(&ae, ERR_NET, "'%s' in '%s' failed: HTTP status %ld",
				call->action, region, status);
			err_set_api(&ae, pe.api_code, pe.api_message, pe.request_id,
				    tc_classify(NULL, status));
		} else {
			err_set(&ae, pe.code, "'%s' in '%s': %s", call->action, region,
				pe.msg);
			ae.cls = ERR_CLASS_OTHER;
		}
		err_clear(&pe);
		if (err_isset(&ae)) {
			cJSON_Delete(resp);
			resp = NULL;
			retry = ae.cls == ERR_CLASS_THROTTLED ||
				ae.cls == ERR_CLASS_TRANSIENT;
			if (ae.cls == ERR_CLASS_THROTTLED)
				c->stats.throttled++;
		}
	}
	/*
	 * Refusals for the rate and other failures have budgets of their
	 * own: a refused request was not carried out, and a busy account can
	 * refuse a call many times before its turn comes, so refusals must
	 * not use up the tries of a call that also meets an InternalError.
	 */
	if (ae.cls == ERR_CLASS_THROTTLED) {
		p->throttles++;
		if (tc_limiter_throttled(p->limiter, now, c->window_us))
			cut = true;
		if (retry &&
		    retry_again(&c->throttle_retry, p->throttles, 0, &wait_ms, &c->rng))
			wait_ms += c->o.throttle_wait_ms;
		else
			retry = false;
	} else {
		if (!err_isset(&ae) || ae.api_code)
			tc_limiter_ok(p->limiter, now, c->window_us);
		if (err_isset(&ae))
			p->failures++;
		if (!retry || !retry_again(&c->retry, p->failures, 0, &wait_ms, &c->rng))
			retry = false;
	}

	if (c->o.log) {
		const char *rid = ae.request_id, *what = "-";
		char retry_in[48] = "", throttled[48] = "", limit[32] = "";

		if (!rid && resp) {
			const cJSON *j = cJSON_GetObjectItemCaseSensitive((cJSON *)resp,
									  "RequestId");

			rid = cJSON_IsString(j) ? j->valuestring : NULL;
		}
		if (err_isset(&ae))
			what = ae.api_code	? ae.api_code
			       : rc != CURLE_OK ? curl_easy_strerror(rc)
						: ae.msg;
		if (ae.cls == ERR_CLASS_THROTTLED)
			snprintf(throttled, sizeof(throttled), " throttled=%" PRIu64,
				 c->stats.throttled);
		if (cut)
			snprintf(limit, sizeof(limit), " limit=%d/s", p->limiter->rate);
		if (retry)
			snprintf(retry_in, sizeof(retry_in), " retry_in=%" PRId64 "ms",
				 wait_ms);
		tc_log(c,
		       "call %s region=%s attempt=%d status=%ld time=%" PRId64
		       "ms request_id=%s error=%s%s%s%s",
		       call->action, region, call->attempts, status, ms, tc_or_dash(rid),
		       tc_or_dash(what), throttled, retry_in, limit);
	}

	curl_multi_remove_handle(c->multi, p->easy);
	curl_easy_cleanup(p->easy);
	p->easy = NULL;
	tc_free_headers(p->headers);
	p->headers = NULL;
	buf_release(&p->resp);
	p->inflight = false;
	p->lane->inflight--;
	tc_limiter_answered(p->limiter, now);

	if (retry) {
		c->stats.retries++;
		err_clear(&ae);
		p->not_before_us = now + wait_ms * 1000;
		return false;
	}
	if (err_isset(&ae) && call->attempts > 1) {
		char *m = xasprintf("%s (after %d attempts)", ae.msg, call->attempts);

		free(ae.msg);
		ae.msg = m;
	}
	err_move(&call->err, &ae);
	call->response = resp;
	tc_settle(p);
	return true;
}

/* An attempt libcurl has finished, and when it handed it over. */
struct tc_done {
	struct tc_pending *p;
	CURLcode rc;
	int64_t at;
};

/*
 * Read the sockets once and queue every attempt that finished, timed now,
 * behind the ndone already in done (room for every call); the new count.
 */
static size_t tc_collect(struct tc_client *c, struct tc_done *done, size_t ndone,
			 int *running)
{
	CURLMsg *m;
	int msgs = 0;
	int64_t at;

	curl_multi_perform(c->multi, running);
	at = tc_now_us(); /* every answer read is in by now */
	while ((m = curl_multi_info_read(c->multi, &msgs))) {
		struct tc_pending *q = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		done[ndone].p = q;
		done[ndone].rc = m->data.result;
		done[ndone].at = at;
		ndone++;
	}
	return ndone;
}

/*
 * The scheduler: each turn starts every call that may go (not done, not in
 * flight, not cancelled, its region below `parallelism` in flight, its
 * retry pause over, its limiter willing), in array order, then waits for
 * an answer or for the earliest pause or limiter to end.
 */
int tc_call_many(struct tc_client *c, struct tc_call *calls, size_t n)
{
	struct tc_pending *p;
	struct tc_done *done;
	size_t remaining = n, ndone = 0;
	int inflight = 0, first_error = 0;

	if (!n)
		return 0;
	p = xcalloc(n, sizeof(*p));
	done = xcalloc(n, sizeof(*done)); /* an attempt of each call at most */
	for (size_t i = 0; i < n; i++) {
		p[i].call = &calls[i];
		calls[i].response = NULL;
		calls[i].attempts = 0;
		err_clear(&calls[i].err);
	}
	for (size_t i = 0; i < n; i++) {
		if (!tc_action_ok(calls[i].action) || !tc_region_ok(calls[i].region)) {
			err_set(&calls[i].err, ERR_INVALID, "invalid action or region");
			tc_settle(&p[i]);
			remaining--;
			continue;
		}
		p[i].limiter = tc_limiter_for(c, calls[i].action, calls[i].region);
		p[i].lane = tc_lane_for(c, calls[i].region);
	}

	while (remaining > 0) {
		int64_t now = tc_now_us(), wait_us = 1000000;
		int running = 0, finished = 0;

		for (size_t i = 0; i < n; i++) {
			int64_t w;

			if (p[i].done || p[i].inflight)
				continue;
			if (calls[i].cancel) {
				/* dropped before it went out (again): no answer, no error
				 */
				p[i].done = true;
				remaining--;
				continue;
			}
			if (p[i].lane->inflight >= c->o.parallelism)
				continue; /* an answer of that region wakes us */
			if (p[i].not_before_us > now) {
				if (p[i].not_before_us - now < wait_us)
					wait_us = p[i].not_before_us - now;
				continue;
			}
			if ((w = tc_limiter_wait(p[i].limiter, now, c->window_us)) != 0) {
				if (w > 0 && w < wait_us)
					wait_us = w;
				continue; /* w < 0: an answer wakes us */
			}
			if (tc_start(c, c->multi, &p[i], &calls[i].err) < 0) {
				tc_settle(&p[i]);
				remaining--;
				continue;
			}
			tc_limiter_sent(p[i].limiter);
			p[i].lane->inflight++;
			inflight++;
		}
		if (remaining == 0)
			break;
		if (inflight) {
			/*
			 * Answers are timed when libcurl hands them over, and
			 * handled (parsed) one by one after: between two, the
			 * sockets are read again, so an answer that came in
			 * while an earlier one was parsed is timed when it came
			 * (the limiter counts a request until a window after its
			 * answer; parsing a burst of pages must not stretch it).
			 */
			size_t head = 0;

			ndone = tc_collect(c, done, 0, &running);
			while (head < ndone) {
				struct tc_done d = done[head++];

				inflight--;
				finished++;
				if (tc_finish(c, d.p, d.rc, d.at))
					remaining--;
				if (inflight > 0)
					ndone = tc_collect(c, done, ndone, &running);
			}
			if (finished)
				continue;
		}
		{
			int ms = (int)((wait_us + 999) / 1000);

			if (ms < 1)
				ms = 1;
			curl_multi_poll(c->multi, NULL, 0, ms, NULL);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (err_isset(&calls[i].err) && !first_error)
			first_error = calls[i].err.code;
	free(done);
	free(p);
	return first_error;
}

int tc_call_one(struct tc_client *c, struct tc_call *call)
{
	return tc_call_many(c, call, 1);
}
