/*
 * decimal.h - money as decimal strings, never floats.
 *
 * Prices travel as the strings users wrote ("0.60" is sent as "0.60").
 * When spotenv must compare or add them (bids against market prices,
 * estimated hourly cost), it parses them into fixed-point integers of
 * DEC_SCALE_DIGITS fractional digits, exactly, and formats results back.
 */
#ifndef SPOTENV_DECIMAL_H
#define SPOTENV_DECIMAL_H

#include "setup.h"

#define DEC_SCALE_DIGITS 9
#define DEC_SCALE 1000000000LL

/* A fixed-point value: units of 10^-9. */
typedef int64_t dec_t;

/*
 * Parse "12", "0.60", "3.", ".5" (no sign, no exponent, at most
 * DEC_SCALE_DIGITS fractional digits, at most 9 integer digits).
 * 0 on success, ERR_INVALID otherwise.
 */
int dec_parse(const char *s, dec_t *out);
/* True when s parses. */
bool dec_valid(const char *s);
/* Compare two valid decimal strings numerically; invalid ones sort first. */
int dec_cmp_str(const char *a, const char *b);
/* Multiply by a count, saturating at INT64_MAX. */
dec_t dec_mul_int(dec_t a, int64_t n);
/* Add, saturating. */
dec_t dec_add(dec_t a, dec_t b);
/*
 * Format with at least min_frac and at most DEC_SCALE_DIGITS fractional
 * digits, dropping trailing zeros beyond min_frac: (600000000, 2) -> "0.60".
 * Returns buf.
 */
const char *dec_format(char *buf, size_t size, dec_t v, int min_frac);
/*
 * Canonical text of a decimal string for storage: strip leading zeros of
 * the integer part, keep the fraction as written ("00.50" -> "0.50",
 * ".5" -> "0.5").  Caller frees; NULL when s is not valid.
 */
char *dec_normalize(const char *s);

#endif
