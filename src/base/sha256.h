/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sha256.h - SHA-256 through OpenSSL's libcrypto (which uses the CPU's SHA
 * extensions where present), behind a small interface of our own.
 *
 *     struct lb_sha256 h;
 *     lb_sha256_init(&h);
 *     lb_sha256_update(&h, p, n);
 *     lb_sha256_final(&h, digest);    also releases the context
 */
#ifndef LB_BASE_SHA256_H
#define LB_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define LB_SHA256_LEN 32
#define LB_SHA256_HEX (2 * LB_SHA256_LEN + 1)

struct lb_sha256 {
	void *ctx; /* EVP_MD_CTX *; NULL after final or on allocation failure */
	int err;   /* -ENOMEM if init failed: update is a no-op and final returns it */
};

void lb_sha256_init(struct lb_sha256 *h);
void lb_sha256_update(struct lb_sha256 *h, const void *data, size_t len);
/* Write the digest and release the context. Returns 0 or -ENOMEM. */
int lb_sha256_final(struct lb_sha256 *h, uint8_t out[LB_SHA256_LEN]);
/* Release without a digest (error paths); NULL-safe and idempotent. */
void lb_sha256_release(struct lb_sha256 *h);

/* One-shot. Returns 0 or -ENOMEM. */
int lb_sha256(const void *data, size_t len, uint8_t out[LB_SHA256_LEN]);

/* Lower-case hex of @len bytes into @out (2*len+1 bytes). Returns @out. */
char *lb_hex(const uint8_t *data, size_t len, char *out);

/* Parse exactly 2*@len hex digits (any case). Returns 0 or -EINVAL. */
int lb_unhex(const char *s, uint8_t *out, size_t len);

#endif
