/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/sha256.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

void lb_sha256_init(struct lb_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	h->ctx = NULL;
	h->err = 0;
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->err = -ENOMEM;
		return;
	}
	h->ctx = c;
}

void lb_sha256_update(struct lb_sha256 *h, const void *data, size_t len)
{
	if (h->ctx && len && EVP_DigestUpdate(h->ctx, data, len) != 1)
		h->err = -ENOMEM;
}

int lb_sha256_final(struct lb_sha256 *h, uint8_t out[LB_SHA256_LEN])
{
	unsigned n = 0;
	int r = h->err;

	if (!h->ctx)
		return r ? r : -EINVAL;
	if (!r && (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != LB_SHA256_LEN))
		r = -ENOMEM;
	lb_sha256_release(h);
	return r;
}

void lb_sha256_release(struct lb_sha256 *h)
{
	if (h && h->ctx) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

int lb_sha256(const void *data, size_t len, uint8_t out[LB_SHA256_LEN])
{
	struct lb_sha256 h;

	lb_sha256_init(&h);
	lb_sha256_update(&h, data, len);
	return lb_sha256_final(&h, out);
}

char *lb_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int lb_unhex(const char *s, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(s[2 * i]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = hexval(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return s[2 * len] ? -EINVAL : 0;
}
