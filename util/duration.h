/*
 * duration.h - human durations ("90s", "5m", "1h30m", "250ms", "2h").
 */
#ifndef SPOTENV_DURATION_H
#define SPOTENV_DURATION_H

#include "setup.h"

/* Parse s into milliseconds.  0 or ERR_INVALID (nothing is written then). */
int duration_parse(const char *s, int64_t *out_ms);
/* Format ms as "1m30s", "250ms", "2h"; returns buf. */
const char *duration_format(char *buf, size_t size, int64_t ms);
/* Monotonic clock in milliseconds. */
int64_t time_now_ms(void);

#endif
