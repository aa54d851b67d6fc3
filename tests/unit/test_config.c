/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for src/repo/config.c and crypto.c: config and key records, passwords, sealing. */
#include "harness.h"

#include "base/err.h"
#include "io/image.h"
#include "repo/config.h"
#include "repo/crypto.h"

#include <stdlib.h>

static void test_config_roundtrip(void)
{
	struct lb_repo_config c, d;
	uint8_t buf[LB_CONFIG_SIZE];

	CHECK_INT(lb_config_default(&c, true), 0);
	c.image_chunk = 16384;
	lb_config_encode(&c, buf);
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), 0);
	CHECK(memcmp(c.repo_id, d.repo_id, LB_ID_LEN) == 0);
	CHECK_INT(d.image_chunk, 16384);
	CHECK_INT(d.cdc_avg, 1 << 20);
	CHECK(d.encrypted);
	/* every damage is caught */
	buf[20] ^= 1;
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "checksum");
	buf[20] ^= 1;
	CHECK_INT(lb_config_decode(buf, sizeof(buf) - 1, &d), -EBADMSG);
	buf[0] = 'X';
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "not a lifeboat repository");
}

static void test_config_ranges(void)
{
	struct lb_repo_config c, d;
	uint8_t buf[LB_CONFIG_SIZE];

	lb_config_default(&c, false);
	c.image_chunk = 3000; /* not a power of two */
	lb_config_encode(&c, buf);
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), -EBADMSG);
	lb_config_default(&c, false);
	c.cdc_min = c.cdc_avg; /* min must be below avg */
	lb_config_encode(&c, buf);
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), -EBADMSG);
	lb_config_default(&c, false);
	c.version = 2; /* a newer format: -ENOTSUP, not "damaged" */
	lb_config_encode(&c, buf);
	CHECK_INT(lb_config_decode(buf, sizeof(buf), &d), -ENOTSUP);
	CHECK_CONTAINS(lb_err_last()->hint, "upgrade");
}

static void test_keyfile(void)
{
	struct lb_repo_config c, other;
	struct lb_keys k, got;
	struct lb_keyfile kf, kf2;
	uint8_t buf[LB_KEYFILE_SIZE];

	setenv("LIFEBOAT_KDF_FAST", "1", 1);
	lb_config_default(&c, true);
	lb_config_default(&other, true);
	CHECK_INT(lb_keys_generate(&k, true), 0);
	CHECK_INT(lb_keyfile_make(&c, &k, "correct horse", &kf), 0);
	lb_keyfile_encode(&kf, buf);
	CHECK_INT(lb_keyfile_decode(buf, sizeof(buf), &kf2), 0);
	CHECK_INT(lb_keyfile_open(&c, &kf2, "correct horse", &got), 0);
	CHECK(memcmp(got.enc, k.enc, LB_KEY_LEN) == 0);
	CHECK(memcmp(got.mac, k.mac, LB_KEY_LEN) == 0);
	CHECK_INT(lb_keyfile_open(&c, &kf2, "wrong horse", &got), -EACCES);
	CHECK_CONTAINS(lb_err_last()->problem, "wrong password");
	CHECK_INT(lb_keyfile_open(&other, &kf2, "correct horse", &got), -EBADMSG);
	buf[100] ^= 0x80; /* inside the sealed keys: the CRC catches it first */
	CHECK_INT(lb_keyfile_decode(buf, sizeof(buf), &kf2), -EBADMSG);
	/* unencrypted: no password, no sealed keys */
	lb_config_default(&c, false);
	lb_keys_generate(&k, false);
	CHECK_INT(lb_keyfile_make(&c, &k, NULL, &kf), 0);
	CHECK_INT(kf.kdf, 0);
	CHECK_INT(lb_keyfile_open(&c, &kf, "", &got), 0);
	CHECK(!got.encrypted);
}

static void test_seal(void)
{
	struct lb_keys k;
	struct lb_aead_key a, b;
	uint8_t salt[LB_SALT_LEN] = {1, 2, 3}, pt[1000], ct[1000 + LB_SEAL_OVERHEAD], out[1000];

	for (int enc = 0; enc < 2; enc++) {
		lb_keys_generate(&k, enc);
		CHECK_INT(lb_aead_derive(&k, "pack", salt, sizeof(salt), &a), 0);
		for (size_t i = 0; i < sizeof(pt); i++)
			pt[i] = (uint8_t)(i * 7);
		CHECK_INT(lb_seal(&a, "aad", 3, pt, sizeof(pt), ct), 0);
		if (enc)
			CHECK(memcmp(ct + LB_SEAL_NONCE, pt, 64) != 0); /* really encrypted */
		CHECK_INT(lb_unseal(&a, "aad", 3, ct, sizeof(ct), out), 0);
		CHECK(memcmp(out, pt, sizeof(pt)) == 0);
		CHECK_INT(lb_unseal(&a, "aaX", 3, ct, sizeof(ct), out), -EBADMSG); /* other aad */
		ct[LB_SEAL_NONCE + 500] ^= 1;
		CHECK_INT(lb_unseal(&a, "aad", 3, ct, sizeof(ct), out),
			  -EBADMSG); /* a flipped bit */
		ct[LB_SEAL_NONCE + 500] ^= 1;
		CHECK_INT(lb_unseal(&a, "aad", 3, ct, 10, out), -EBADMSG); /* too short */
		salt[0] ^= 1;
		CHECK_INT(lb_aead_derive(&k, "pack", salt, sizeof(salt), &b), 0);
		if (enc)
			CHECK_INT(lb_unseal(&b, "aad", 3, ct, sizeof(ct), out), -EBADMSG);
		salt[0] ^= 1;
	}
}

static void test_idhash(void)
{
	struct lb_keys k1, k2;
	struct lb_idhash *h1 = NULL, *h2 = NULL, *hp = NULL;
	uint8_t a[LB_ID_LEN], b[LB_ID_LEN], c[LB_ID_LEN];
	/* SHA-256("abc") */
	static const uint8_t sha_abc[8] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea};

	lb_keys_generate(&k1, true);
	lb_keys_generate(&k2, true);
	lb_idhash_new(&k1, &h1);
	lb_idhash_new(&k2, &h2);
	CHECK_INT(lb_idhash(h1, "abc", 3, a), 0);
	CHECK_INT(lb_idhash(h1, "abc", 3, b), 0);
	CHECK(memcmp(a, b, LB_ID_LEN) == 0); /* reusable, deterministic */
	CHECK_INT(lb_idhash(h2, "abc", 3, c), 0);
	CHECK(memcmp(a, c, LB_ID_LEN) != 0); /* keyed */
	CHECK(memcmp(a, sha_abc, 8) != 0);
	lb_keys_generate(&k1, false);
	lb_idhash_new(&k1, &hp);
	CHECK_INT(lb_idhash(hp, "abc", 3, a), 0);
	CHECK(memcmp(a, sha_abc, 8) == 0); /* unencrypted: plain SHA-256 */
	lb_idhash_free(h1);
	lb_idhash_free(h2);
	lb_idhash_free(hp);
}

LB_TEST_MAIN(T(test_config_roundtrip), T(test_config_ranges), T(test_keyfile), T(test_seal),
	     T(test_idhash))
