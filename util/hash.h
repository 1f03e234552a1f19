/*
 * hash.h - SHA-256 as lowercase hex, the one digest spotenv uses.
 *
 * Signing (provider/sign.c), template hashes and bases (planner/) and
 * ClientTokens (applier/token.c) all hash with these.  EVP_Digest's result
 * is always checked: sha256_hex returns it, xsha256_hex treats a failure as
 * the broken invariant it is (OpenSSL cannot compute SHA-256: abort, as the
 * x-allocators do on out of memory).
 */
#ifndef SPOTENV_HASH_H
#define SPOTENV_HASH_H

#include "setup.h"

#define SHA256_HEX_LEN 64

/* Hex of the SHA-256 of data into out (65 bytes, NUL-terminated); 0 or -1. */
int sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t len);
/* The same, aborting when OpenSSL fails (never in practice). */
void xsha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t len);
/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void hex_encode(char *out, const unsigned char *in, size_t n);

#endif
