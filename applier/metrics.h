/*
 * metrics.h - the Prometheus textfile `apply --metrics-file` writes
 * (docs/metrics.md), rendered from the plan, the outcome and the file the
 * last run wrote.  Pure: no I/O and no clock (the caller reads the old file
 * and passes the time), so every figure is unit-tested.
 */
#ifndef SPOTENV_APPLY_METRICS_H
#define SPOTENV_APPLY_METRICS_H

#include "../util/setup.h"
#include "../util/buf.h"
#include "apply.h"

struct apply_metrics_in {
	/* the run's plan and outcome; NULL, or without a plan: run-wide figures only */
	const struct apply_converge_result *cv;
	bool waited;		/* apply waited for RUNNING (not --no-wait) */
	bool success;		/* the run converged every environment */
	int64_t duration_ms;	/* wall time of the run */
	int64_t now;		/* Unix seconds, for the success timestamps */
	uint64_t api_calls;	/* HTTP requests sent, retries included */
	uint64_t api_throttled; /* of those, refused for the rate */
	const char *previous; /* the file the last run wrote (NUL-terminated), or NULL */
};

/*
 * Render the textfile into out (appended).  Per environment (labels env and
 * scope): desired, active, launched, released, failed, converged, the
 * hourly cost (the plan's decimal string, printed as it is), instances
 * leaving, instances lost since the last run (reclaims) and the last
 * successful apply, carried over from previous when the environment did
 * not converge or was not in this run.  0, or ERR_TOOBIG when out is
 * bounded and full.
 */
int apply_metrics_render(struct buf *out, const struct apply_metrics_in *in);

/* A Prometheus label value: backslash, double quote and newline escaped. */
void apply_metrics_label(struct buf *out, const char *s);

/*
 * The value of the sample `name{env="ENV",scope="SCOPE"}` in text (env and
 * scope NULL: a sample without labels), copied into out (size bytes);
 * false when there is none.  Labels are unescaped before comparing.
 */
bool apply_metrics_find(const char *text, const char *name, const char *env,
			const char *scope, char *out, size_t size);

#endif
