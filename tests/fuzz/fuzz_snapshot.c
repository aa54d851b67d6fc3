/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_snapshot - snapshot objects (lb_snapshot_decode) on arbitrary bytes,
 * with fixed test keys.
 *
 * The input is read as the object of an unencrypted repository (the "seal"
 * is then the plaintext and a SHA-256 tag). Random bytes never pass the tag,
 * so each input is also decoded with its tag recomputed, to reach the body
 * parser, and its body is sealed again with a fixed encrypted key (the same
 * verdict is expected). The result reported is the first decode's: known-bad
 * inputs must be rejected as they are.
 */
#include "fuzz.h"

#include "base/err.h"
#include "base/sha256.h"
#include "repo/snapshot.h"

#include <stdlib.h>
#include <string.h>

#define AAD "lifeboat-snapshot"
#define AAD_LEN (sizeof(AAD) - 1)

static const struct lb_keys plain = {.encrypted = false};

static int decode(const struct lb_keys *k, const uint8_t *data, size_t size, bool check_body)
{
	struct lb_snapshot s;
	int r = lb_snapshot_decode(k, data, size, &s);

	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EBADMSG || r == -EOVERFLOW || r == -ENOMEM);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
		LB_FUZZ_ASSERT(!s.name && !s.tags && !s.maps && !s.format);
		return r;
	}
	LB_FUZZ_ASSERT(s.name && *s.name && s.hostname && s.source);
	LB_FUZZ_ASSERT(s.ntags <= LB_SNAPSHOT_MAX_TAGS);
	LB_FUZZ_ASSERT((s.kind == LB_SNAP_IMAGE) == (s.format != NULL));
	if (check_body) {
		/* one snapshot, one body: encoding it again gives the same plaintext */
		uint8_t *p = NULL;
		size_t n = 0;

		if (lb_snapshot_encode(k, &s, &p, &n) == 0) {
			LB_FUZZ_ASSERT(n == size && !memcmp(p + 44, data + 44, size - 44 - 16));
			free(p);
		}
	}
	lb_snapshot_release(&s);
	return r;
}

/* The unencrypted tag: SHA-256(aad | body), first 16 bytes. */
static void fix_tag(uint8_t *p, size_t size)
{
	struct lb_sha256 h;
	uint8_t d[LB_SHA256_LEN];

	memset(p + 32, 0, LB_SEAL_NONCE); /* an unencrypted "nonce" is zero */
	lb_sha256_init(&h);
	lb_sha256_update(&h, AAD, AAD_LEN);
	lb_sha256_update(&h, p + 16, LB_SALT_LEN);
	lb_sha256_update(&h, p + 44, size - 60);
	if (lb_sha256_final(&h, d) == 0)
		memcpy(p + size - 16, d, 16);
}

/* The same body sealed with an encrypted key. */
static void reseal(const uint8_t *p, size_t size, int want)
{
	struct lb_keys k;
	struct lb_aead_key ak;
	uint8_t aad[AAD_LEN + LB_SALT_LEN], *obj = malloc(size);
	int r;

	if (!obj)
		return;
	memset(&k, 0x5c, sizeof(k));
	k.encrypted = true;
	memcpy(obj, p, 32);
	memcpy(aad, AAD, AAD_LEN);
	memcpy(aad + AAD_LEN, p + 16, LB_SALT_LEN);
	if (lb_aead_derive(&k, "snapshot", p + 16, LB_SALT_LEN, &ak) == 0 &&
	    lb_seal(&ak, aad, sizeof(aad), p + 44, size - 60, obj + 32) == 0) {
		r = decode(&k, obj, size, false);
		LB_FUZZ_ASSERT(r == want || r == -ENOMEM || want == -ENOMEM);
	}
	free(obj);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	int r = decode(&plain, data, size, true);
	uint8_t *copy;

	if (size < 60 || size > LB_SNAPSHOT_MAX)
		return r;
	copy = malloc(size);
	if (copy) {
		int r2;

		memcpy(copy, data, size);
		fix_tag(copy, size);
		r2 = decode(&plain, copy, size, true);
		reseal(copy, size, r2);
		free(copy);
	}
	return r;
}

LB_FUZZ_TARGET
