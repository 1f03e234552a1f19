/*
 * hash.c - SHA-256 hex digests (see hash.h).
 */
#include "setup.h"
#include "hash.h"

#include <openssl/evp.h>

void hex_encode(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int sha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		out[0] = '\0';
		return -1;
	}
	hex_encode(out, md, 32);
	return 0;
}

void xsha256_hex(char out[SHA256_HEX_LEN + 1], const void *data, size_t len)
{
	if (sha256_hex(out, data, len) < 0) {
		fputs("spotenv: SHA-256 failed in OpenSSL\n", stderr);
		abort();
	}
}
