/*
 * tc.h - the Tencent Cloud CVM client: TC3 signing, credentials, HTTP with
 * retries and rate limits, and the CVM actions spotenv uses.
 *
 * Everything here is library code: it never prints; verbose call logs go
 * through the log callback in struct tc_client_opts, already redacted.
 * Secrets (SecretKey, token, derived keys, Authorization) never reach an
 * err, a log line or any output, and are wiped after use.
 *
 * Ownership: every `out` value is caller-owned and freed with the matching
 * *_free / *_clear function.  Strings passed in are borrowed.
 */
#ifndef SPOTENV_TC_H
#define SPOTENV_TC_H

#include "../util/setup.h"
#include "../util/err.h"
#include "../util/buf.h"
#include "model.h"

#define TC_SERVICE "cvm"
#define TC_VERSION "2017-03-12"
#define TC_DEFAULT_ENDPOINT "https://cvm.tencentcloudapi.com"
#define TC_LANGUAGE "en-US" /* X-TC-Language: API messages in English */
#define TC_TIME_WINDOW_SECONDS 300
#define TC_MAX_PAGE 100	     /* DescribeInstances Limit, ids per call */
#define TC_MAX_RUN_COUNT 100 /* InstanceCount per RunInstances */

/* ---------------------------------------------------------------------
 * Signing (TC3-HMAC-SHA256), shared by the client and the emulator.
 */

/* One HTTP header as sent or received (name in any case). */
struct tc_header {
	const char *name;
	const char *value;
};

/*
 * What the signer needs.  `headers` are the headers to sign (at least
 * content-type and host); they are lower-cased, trimmed and sorted by the
 * signer.  payload is signed byte for byte.
 */
struct tc_sign_input {
	const char *method; /* "POST" */
	const char *query;  /* "" for POST */
	const struct tc_header *headers;
	size_t nheaders;
	const void *payload;
	size_t payload_len;
	const char *service; /* "cvm" */
	int64_t timestamp;   /* Unix seconds, as X-TC-Timestamp */
	const char *secret_id;
	const char *secret_key; /* wiped copies only; never stored */
};

/* Every intermediate value, for tests and for the verifier. */
struct tc_sign_output {
	char payload_hash[65];
	struct buf canonical_request;
	char canonical_hash[65];
	struct buf string_to_sign;
	char date[11]; /* YYYY-MM-DD, UTC */
	char signed_headers[256];
	unsigned char secret_date[32];
	unsigned char secret_service[32];
	unsigned char secret_signing[32];
	char signature[65];
	struct buf authorization; /* secret: wipe with tc_sign_output_clear */
};

/* Sign; 0 or an error.  out must be cleared with tc_sign_output_clear. */
int tc_sign(struct tc_sign_output *out, const struct tc_sign_input *in, struct err *e);
/* Wipe derived keys and free buffers. */
void tc_sign_output_clear(struct tc_sign_output *out);

/* The UTC date (YYYY-MM-DD) of a Unix timestamp. */
void tc_utc_date(char out[11], int64_t timestamp);

/*
 * Verify a received request.  `headers` are all received headers; the
 * Authorization header is parsed, the headers it lists in SignedHeaders are
 * looked up (a listed header that is missing fails), the credential scope
 * date must equal the UTC date of X-TC-Timestamp, the service must match,
 * and the timestamp must be within TC_TIME_WINDOW_SECONDS of now.
 * lookup_secret finds the secret for a SecretId (returns NULL when
 * unknown).  On failure returns ERR_AUTH with e->api_code set to the code
 * the real service would answer (AuthFailure.SignatureFailure,
 * AuthFailure.SignatureExpire, AuthFailure.SecretIdNotFound,
 * AuthFailure.InvalidAuthorization, MissingParameter).
 *
 * Checks, in order: Authorization and X-TC-Timestamp present
 * (MissingParameter); the timestamp is decimal and the header parses as
 * "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
 * SignedHeaders=a;b, Signature=<64 hex>" with content-type and host among
 * the signed headers and SERVICE == service (InvalidAuthorization); the
 * 5-minute window (SignatureExpire); the SecretId (SecretIdNotFound); the
 * scope date, a listed header that is missing, and the signature itself,
 * compared in constant time (SignatureFailure).  e->cls is ERR_CLASS_AUTH.
 */
int tc_verify(const char *method, const char *query, const struct tc_header *headers,
	      size_t nheaders, const void *body, size_t body_len, const char *service,
	      int64_t now, const char *(*lookup_secret)(void *ctx, const char *secret_id),
	      void *ctx, struct err *e);

/* ---------------------------------------------------------------------
 * Credentials (design section 7 and docs/provider.md "Credentials").
 *
 * The chain, first found wins:
 *   1. TENCENTCLOUD_SECRET_ID + TENCENTCLOUD_SECRET_KEY (token from
 *      TENCENTCLOUD_SESSION_TOKEN, _SECURITY_TOKEN or _TOKEN);
 *   2. web identity (OIDC): TKE_PROVIDER_ID + TKE_WEB_IDENTITY_TOKEN_FILE +
 *      TKE_ROLE_ARN (TKE_REGION), or TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE +
 *      TENCENTCLOUD_PROVIDER_ID + TENCENTCLOUD_ROLE_ARN;
 *   3. the SDK INI file [PROFILE] (secret_id, secret_key, token, role_arn,
 *      role_session_name);
 *   4. the tccli file ~/.tccli/PROFILE.credential (secretId, secretKey,
 *      token, role-arn, role-session-name; or "type": "cvm-role");
 *   5. the CVM role of the instance metadata service
 *      (SPOTENV_METADATA_ENDPOINT, default http://metadata.tencentyun.com;
 *      "off" skips it).
 * A role ARN (TENCENTCLOUD_ROLE_ARN, else the file's role_arn/role-arn)
 * turns the keys of 1, 3, 4 or 5 into the base credentials of an STS
 * AssumeRole call (SPOTENV_STS_ENDPOINT, default
 * https://sts.tencentcloudapi.com).
 */
#define TC_STS_SERVICE "sts"
#define TC_STS_VERSION "2018-08-13"
#define TC_STS_DEFAULT_ENDPOINT "https://sts.tencentcloudapi.com"
#define TC_METADATA_DEFAULT_ENDPOINT "http://metadata.tencentyun.com"
#define TC_METADATA_ROLE_PATH "/latest/meta-data/cam/security-credentials/"
#define TC_ROLE_SESSION_DEFAULT "spotenv"
#define TC_ROLE_DURATION_DEFAULT 7200 /* seconds, as the SDKs ask */
#define TC_CRED_REFRESH_EARLY 300     /* refresh 5 minutes before expiry */

/* How to fetch (and fetch again) temporary credentials; see cred_remote.c. */
struct tc_cred_spec;

struct tc_cred {
	char *secret_id;
	char *secret_key;	   /* secret */
	char *token;		   /* secret; NULL for permanent keys */
	char *source;		   /* where they came from, for messages: "environment" */
	int64_t expires;	   /* Unix seconds; 0 = never (long-lived keys) */
	int64_t issued;		   /* Unix seconds when fetched (temporary only) */
	struct tc_cred_spec *spec; /* owned; NULL for long-lived keys */
};

/*
 * Find credentials, first found wins.  profile may be NULL (then
 * TENCENTCLOUD_PROFILE, then "default").  No network: a source that
 * yields temporary credentials (AssumeRole, web identity, CVM role) comes
 * back with cred->spec set and no keys yet; tc_cred_fetch (which
 * tc_client_new calls) gets them.  On failure the error names every place
 * looked at; so does tc_cred_fetch's when the CVM role, the chain's last
 * resort, is not there either.
 */
int tc_cred_load(struct tc_cred *out, const char *profile, struct err *e);
/* Wipe and free (spec included). */
void tc_cred_clear(struct tc_cred *cred);
/* A deep copy (spec included) into out; out is overwritten. */
void tc_cred_copy(struct tc_cred *out, const struct tc_cred *in);

/*
 * Get (or renew) the temporary credentials cred->spec describes: metadata
 * GETs or STS calls, logged by name through log (never a secret, never a
 * token).  0 with cred's keys, token, expires and issued replaced, or an
 * error (cred unchanged).  A cred without spec: 0, nothing done.
 */
int tc_cred_fetch(struct tc_cred *cred, void (*log)(void *ctx, const char *line),
		  void *log_ctx, struct err *e);

/*
 * Whether cred must be fetched before signing at Unix time now: it has a
 * spec and either no keys yet or expiry is near: within
 * TC_CRED_REFRESH_EARLY seconds, or within half its life when the life
 * (expires - issued) is shorter than twice that.
 */
bool tc_cred_due(const struct tc_cred *cred, int64_t now);

/*
 * Parsers of the answers (exposed for tests).  body need not be
 * terminated; now is the Unix time for the "expired on arrival" check.
 * Both fill secret_id, secret_key, token, expires and issued (= now) only.
 *  - tc_cred_parse_metadata: the CVM role page (TmpSecretId,
 *    TmpSecretKey, Token, ExpiredTime, "Code": "Success").
 *  - tc_cred_parse_sts: AssumeRole's or AssumeRoleWithWebIdentity's
 *    answer ({"Response": {"Credentials": {"TmpSecretId",
 *    "TmpSecretKey", "Token"}, "ExpiredTime"}}), or its API error (ERR_API
 *    with api_code set).
 * Errors never quote the page (it holds secrets).
 */
int tc_cred_parse_metadata(struct tc_cred *out, const char *body, size_t len, int64_t now,
			   struct err *e);
int tc_cred_parse_sts(struct tc_cred *out, const char *body, size_t len, int64_t now,
		      struct err *e);

/* The observed data model (struct tc_instance, tc_offer): model.h. */

/* ---------------------------------------------------------------------
 * The client.
 */
struct tc_client;

/*
 * Requests in flight per region by default: the rate limits count per
 * region, and DescribeInstances' 40 a second at 100-400 ms of latency
 * needs 4 to 16 in flight in every region at once (more than the limit's
 * first second can use is never sent anyway).
 */
#define TC_DEFAULT_PARALLELISM 16

struct tc_client_opts {
	const char *endpoint;	 /* NULL: SPOTENV_ENDPOINT, then TC_DEFAULT_ENDPOINT */
	int parallelism;	 /* requests in flight per region (X-TC-Region);
				    0 = TC_DEFAULT_PARALLELISM */
	long connect_timeout_ms; /* 0 = 5000 */
	long timeout_ms;	 /* 0 = 30000 */
	int max_attempts;	 /* 0 = 5: tries in all, refusals for the rate
				    aside */
	int max_throttled;	 /* 0 = 12: answers refused for the rate
				    (RequestLimitExceeded) one call may get;
				    each also halves its limiter's rate, once
				    per window, see "Rate limits" */
	long backoff_base_ms;	 /* 0 = 200 */
	long backoff_cap_ms;	 /* 0 = 5000 */
	long throttle_wait_ms;	 /* 0 = 1000: least wait after RequestLimitExceeded
				    (the limits count per second, so a shorter
				    wait mostly meets the same window) */
	int rate_run;		 /* per second; 0 = 10 (RunInstances) */
	int rate_terminate;	 /* 0 = 10 */
	int rate_describe;	 /* 0 = 40 (DescribeInstances) */
	int rate_offers;	 /* 0 = 40 (DescribeZoneInstanceConfigInfos) */
	long rate_margin_ms;	 /* 0 = 10: the limiters' window is 1 s plus
				    this (the API's clock granularity and
				    skew; see "Rate limits" below) */
	/* Verbose call log (redacted lines, no newline); NULL = quiet. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/* Creates a client; the credential is copied (and wiped on free). */
int tc_client_new(struct tc_client **out, const struct tc_cred *cred,
		  const struct tc_client_opts *opts, struct err *e);
void tc_client_free(struct tc_client *c);
/*
 * The endpoint c talks to, normalised as "scheme://authority/" (borrowed):
 * what a saved plan is bound to (docs/plan-format.md).
 */
const char *tc_client_endpoint(const struct tc_client *c);

/* Counters, for tests, benchmarks and the metrics file. */
struct tc_client_stats {
	uint64_t calls; /* HTTP requests sent, retries included */
	uint64_t retries;
	uint64_t throttled; /* answers refused with RequestLimitExceeded* (or HTTP
			       429); each is retried after a backoff, and the
			       call log (-v) shows the count so far as
			       throttled=N on the refused attempt's line */
};
void tc_client_stats(const struct tc_client *c, struct tc_client_stats *out);

/*
 * A generic action call, for batching: the request body is JSON text (the
 * exact bytes are signed and sent), the response is the parsed
 * Response object (cJSON *, caller frees with cJSON_Delete) or an err with
 * code/message/RequestId and class.  tc_call_many runs n calls
 * concurrently within the parallelism bound, with retries for each; it
 * returns 0 when all succeeded, otherwise the first failure's code (each
 * call keeps its own err).
 *
 * Each struct tc_call must start zeroed apart from action, region, body
 * and the optional hooks below (err is cleared, response and attempts are
 * reset on entry).
 * Retries re-sign with a new timestamp but send the same body bytes.
 * Every request carries X-TC-Language: en-US (not signed).
 * A call with a DryRunOperation error is an ERR_API with api_code
 * "DryRunOperation" and class ERR_CLASS_NONE; a dry run may also succeed
 * with an answer holding only a RequestId (what the RunInstances page
 * documents).  tc_run_instances treats both as dry-run success; callers
 * judging raw DryRun calls should too.
 *
 * Rate limits, as Tencent counts them (per action, per region, per
 * account): one limiter per (action, region), at rate_run,
 * rate_terminate (10/s), rate_describe, rate_offers (40/s); every other
 * action (DescribeAccountQuota included) 10/s of its own per region.  No
 * sliding one-second window, as the API sees it, ever holds more than the
 * rate: a request counts from its send until 1 s + rate_margin_ms after
 * its answer (the API stamps it somewhere in between), and goes only when
 * fewer than `rate` are counted.  A region's first second may use its
 * whole rate at once; each later window starts a round trip later than a
 * send-time count would (25 calls at 10/s with a 50 ms round trip take
 * about 2.1 s).  Retries pass the limiter too.  At most `parallelism`
 * requests are in flight per region, so calls of different regions never
 * wait for each other.
 *
 * The documented rate is a ceiling, not a promise: sub-accounts and other
 * tools share the account's limit.  A request refused with
 * RequestLimitExceeded halves its limiter's rate (once per window, down to
 * 1/s; -v shows limit=N/s on that line) and is tried again after
 * throttle_wait_ms plus a jittered backoff, up to max_throttled refusals,
 * which do not use up max_attempts.  Ten windows after the last cut, each
 * window's worth of answers that were not refused raises the rate by one
 * again, back up to the documented rate.
 *
 * Hooks, for callers that stream (tc_observe_regions): on_done, when set,
 * runs once inside tc_call_many as soon as its call is over (answered,
 * failed for good, or refused before sending), with the call's response
 * and err in place; it may take the response (freeing it and setting it to
 * NULL), set the call's err, and set `cancel` on other calls of the same
 * batch.  It must not call into the client.  A call whose `cancel` is set
 * before it goes out (or before a retry) is dropped: no response, no err,
 * no on_done.
 */
struct tc_call {
	const char *action;
	const char *region;
	char *body;	/* owned by the caller */
	void *response; /* out: cJSON * of "Response", caller frees */
	struct err err; /* out */
	int attempts;	/* out */
	void (*on_done)(struct tc_call *call, void *ctx); /* optional, see above */
	void *on_done_ctx;
	bool cancel; /* in: drop it unless it is in flight */
};

int tc_call_many(struct tc_client *c, struct tc_call *calls, size_t n);
int tc_call_one(struct tc_client *c, struct tc_call *call);

/* A DescribeInstances filter; values are ORed, filters ANDed. */
struct tc_filter {
	const char *name; /* tag-key, tag:KEY, instance-id, zone, ... */
	const char *const *values;
	size_t nvalues; /* <= 5 */
};

/*
 * Every instance matching filters (or ids, not both) in region: first page
 * with Limit 100, then the rest of the pages concurrently once TotalCount
 * is known; de-duplicated by InstanceId; region filled in.  Appends to out.
 */
int tc_describe_instances(struct tc_client *c, const char *region,
			  const struct tc_filter *filters, size_t nfilters,
			  const char *const *ids, size_t nids,
			  struct tc_instance_list *out, struct err *e);

/*
 * One region's share of tc_observe_regions: instances matching filters
 * (appended to *instances, de-duplicated, region filled) and, when offers
 * is not NULL, the SPOTPAID offers of zones x types (appended to *offers).
 */
struct tc_region_obs {
	const char *region;
	const struct tc_filter *filters;
	size_t nfilters;
	const char *const *zones;
	size_t nzones;
	const char *const *types;
	size_t ntypes;
	/*
	 * in: how many instances the caller expects the listing to hold (the
	 * desired capacity there), 0 = no idea.  A big expectation sends
	 * pages beyond the first with it (up to 39, as many as 9/10 of it
	 * fills), instead of after its TotalCount is known.
	 */
	int64_t expect;
	struct tc_instance_list *instances; /* out */
	struct tc_offer_list *offers;	    /* out; NULL = no offers */
	/*
	 * out: the listing still looked inconsistent after every re-read
	 * (TotalCount moved between pages, a page came back short, fewer
	 * unique ids than TotalCount): instances may be missing from it.
	 */
	bool inconsistent;
	int reads; /* out: listings made (1 when the first was consistent) */
};

/*
 * Observe several regions at once: every region's first DescribeInstances
 * page (with the pages its expect asks for) and its offers in one
 * concurrent round, then the remaining pages of
 * every region together (up to 1,000 a region a round, paced by each
 * region's limiter), up to the first page's TotalCount (never chasing a
 * TotalCount that grows; an empty or short page cancels the region's pages
 * not yet sent).  Pages are parsed as they arrive and taken in offset
 * order.  The calls made are the minimum (one per 100 instances per
 * region, plus the offers) when a region holds at least 9/10 of what its
 * expect said; else the pages sent ahead beyond its end come back empty
 * (at most 39 calls more).  A listing that looks inconsistent is read
 * again, up to 3 reads, and merged (an id seen in any read stays, with its
 * latest state); r[i].inconsistent says when it never settled.  On error
 * nothing is appended to any output.
 */
int tc_observe_regions(struct tc_client *c, struct tc_region_obs *r, size_t n,
		       struct err *e);

/* One spot launch (InstanceCount <= 100). */
struct tc_run_request {
	const char *region;
	const char *zone;
	const char *instance_type;
	const char *image;
	int count;
	const char *max_price;	   /* decimal string, sent as is */
	const char *client_token;  /* <= 64 ASCII */
	const char *instance_name; /* NULL = none */
	const struct tc_tag *tags; /* TagSpecification, ResourceType instance */
	size_t ntags;
	const char *vpc_id, *subnet_id;
	const char *const *security_group_ids;
	size_t nsecurity_groups;
	int public_ip_bandwidth_mbps;
	const char *const *key_ids;
	size_t nkey_ids;
	bool keep_image_login;
	const char *system_disk_type; /* NULL = default */
	int system_disk_size_gb;      /* 0 = default */
	const char *user_data_b64;    /* NULL = none */
	bool dry_run;
};

/* Build the JSON body of a RunInstances request (deterministic key order). */
char *tc_run_request_json(const struct tc_run_request *req);
/*
 * Launch; out_ids receives InstanceIdSet (caller frees each and the array).
 * Retries reuse the ClientToken.  A DryRun success returns 0 with no ids,
 * whether the API answered with only a RequestId (as documented) or with
 * the DryRunOperation error code; a dry run never returns ids.
 */
int tc_run_instances(struct tc_client *c, const struct tc_run_request *req,
		     char ***out_ids, size_t *out_n, struct err *e);
/* Terminate ids in chunks of 100 (concurrently). */
int tc_terminate_instances(struct tc_client *c, const char *region,
			   const char *const *ids, size_t n, struct err *e);
/*
 * SPOTPAID offers in region, filtered by zones and types (either may be
 * empty = all).  Appends to out.
 */
int tc_describe_offers(struct tc_client *c, const char *region, const char *const *zones,
		       size_t nzones, const char *const *types, size_t ntypes,
		       struct tc_offer_list *out, struct err *e);

/*
 * Spot quota of region's zones (DescribeAccountQuota, version 2017-03-12,
 * body {}): AccountQuotaOverview.AccountQuota.SpotPaidQuotaSet rows are
 * appended to out (nothing on error), and *app_id_out (when not NULL)
 * receives Response.AppId as decimal text, or NULL when the answer has
 * none; the caller frees it.  Counts are vCPU (assumed, see model.h).  An
 * account that may not call this action gets the API's error as usual
 * (UnauthorizedOperation: ERR_CLASS_AUTH), which callers that only want
 * the quota as a hint should take as "unknown", not as bad credentials.
 */
int tc_describe_spot_quota(struct tc_client *c, const char *region,
			   struct tc_spot_quota_list *out, char **app_id_out,
			   struct err *e);

/*
 * Classify an API error code (and HTTP status, 0 if none):
 *
 *  ERR_CLASS_AUTH       AuthFailure*, UnauthorizedOperation*; HTTP 401/403
 *  ERR_CLASS_THROTTLED  RequestLimitExceeded and every
 *                       RequestLimitExceeded.* (.UinLimitExceeded,
 *                       .IPLimitExceeded, .GlobalRegionUinLimitExceeded);
 *                       HTTP 429
 *  ERR_CLASS_QUOTA      LimitExceeded.SpotQuota, LimitExceeded.UserSpotQuota
 *  ERR_CLASS_ACCOUNT    InvalidAccount.InsufficientBalance
 *  ERR_CLASS_CAPACITY   ResourceInsufficient.*, ResourcesSoldOut.*,
 *                       InvalidParameterValue.InsufficientPrice,
 *                       InvalidParameterValue.InsufficientOffering,
 *                       UnsupportedOperation.NoInstanceTypeSupportSpot,
 *                       UnsupportedOperation.SpotUnsupportedRegion
 *  ERR_CLASS_TRANSIENT  InternalError*, InternalServerError*,
 *                       OperationDenied.InstanceOperationInProgress,
 *                       MutexOperation.TaskRunning; HTTP 5xx
 *  ERR_CLASS_OTHER      UnsupportedOperation.InstancesProtected,
 *                       UnsupportedOperation.InstanceState* (Pending,
 *                       Terminating, ...); any code not listed; other
 *                       HTTP statuses
 *  ERR_CLASS_INVALID    Invalid*, MissingParameter, UnknownParameter,
 *                       NoSuchVersion, UnsupportedOperation.* (the rest),
 *                       UnsupportedRegion, UnsupportedProtocol
 *
 * A prefix "X*" matches X itself and X.anything.  THROTTLED and TRANSIENT
 * are retried by the client (with backoff); nothing else is.
 */
enum err_class tc_classify(const char *api_code, long http_status);

/*
 * The class an err carries for an API error (what tc_parse_response and
 * the client set in err.cls): tc_classify's.  (The spot quota codes once
 * carried ERR_CLASS_CAPACITY here while callers caught up; every caller
 * now handles ERR_CLASS_QUOTA.)
 */
enum err_class tc_err_class(const char *api_code, long http_status);

/* Parsers (exposed for tests and fuzzing).  body need not be terminated. */
int tc_parse_response(void **out_response, const char *body, size_t len, struct err *e);
int tc_parse_instances(struct tc_instance_list *out, int64_t *total_count,
		       const void *response, const char *region, struct err *e);
int tc_parse_offers(struct tc_offer_list *out, const void *response, struct err *e);
/* DescribeAccountQuota's answer; see tc_describe_spot_quota. */
int tc_parse_spot_quota(struct tc_spot_quota_list *out, char **app_id_out,
			const void *response, struct err *e);

/*
 * Notes on parsed responses:
 *  - tc_parse_response keeps every JSON number's exact source text: number
 *    items of the returned tree have valuestring set to it (valuedouble
 *    and valueint are filled as usual).  Prices are read from that text
 *    (or from a JSON string) and never pass through a double.
 *  - A Response holding "Error" is returned as ERR_API with api_code,
 *    api_message, request_id and the class set (tc_err_class).
 *  - Anything else unexpected (not JSON, no Response object, a field of
 *    the wrong type) is ERR_API "unexpected API response: ..." with
 *    ERR_CLASS_NONE and no api_code.
 *  - tc_offer.price is Price.UnitPriceDiscount when above zero, else
 *    Price.UnitPrice when above zero, else NULL (unknown): a zero price
 *    means "not given", never "free" (../shared/tencent-api.md §12).  It
 *    is a plain positive decimal as given, rounded half up (on the digits)
 *    to DEC_SCALE_DIGITS decimals when it has more, so it always passes
 *    dec_valid().  Both fields must be decimals (or absent/null) even when
 *    not used.
 *  - tc_offer.status_category is StatusCategory as given, NULL when
 *    absent, null or "" (unknown).  It must be a string when present.
 *  - tc_parse_spot_quota: AccountQuotaOverview, AccountQuota and
 *    SpotPaidQuotaSet may each be absent or null (no rows: every zone's
 *    quota unknown) but must have their types; each row needs a non-empty
 *    Zone, listed once; UsedQuota, RemainingQuota and TotalQuota are
 *    integers within 0..10^9 (-1 when absent); at most 1000 rows.  AppId
 *    is a non-negative integer (number or string of digits).
 */

/* "2020-09-22T00:00:00Z", "...+08:00" or "YYYY-MM-DD hh:mm:ss" (UTC) as Unix seconds; 0
 * when unparsable. */
int64_t tc_parse_time(const char *s);

#endif
