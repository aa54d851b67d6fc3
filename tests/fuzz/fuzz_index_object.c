/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_index_object - index objects (lb_index_object_decode) under a fixed
 * test key: the header, the seal, the zstd body, the body's pack records and
 * each pack's trailer.
 *
 * Random bytes never pass the AEAD tag, so each input is also used twice
 * more, to reach the checks behind it: as a decompressed body
 * (lb_index_body_parse), and sealed by this target as the compressed body of
 * an object (zstd's frame checks, then the body). The result reported is the
 * first: known-bad inputs must be rejected as they are. Seeds:
 * tests/unit/test_index.c (test_object_seeds) with LB_CORPUS_OUT set
 * (tests/fuzz/make-pack-corpus.sh), sealed with the same key.
 */
#include "fuzz.h"

#include "base/endian.h"
#include "base/err.h"
#include "repo/index.h"

static struct lb_keys fixed_key(void)
{
	struct lb_keys k = {.encrypted = true};

	for (int i = 0; i < LB_KEY_LEN; i++) {
		k.enc[i] = (uint8_t)(0x10 + i); /* as in tests/unit/test_index.c */
		k.mac[i] = (uint8_t)(0x50 + i);
	}
	return k;
}

static int check_pack(void *ctx, const struct lb_pack_info *p)
{
	uint64_t end = LB_PACK_HEADER;

	LB_FUZZ_ASSERT(p->nframes <= LB_PACK_READ_MAX_FRAMES);
	LB_FUZZ_ASSERT(p->nchunks <= LB_PACK_MAX_CHUNKS);
	for (uint32_t i = 0; i < p->nframes; i++) {
		LB_FUZZ_ASSERT(p->frames[i].off >= end);
		end = p->frames[i].off + p->frames[i].sealed_len;
		LB_FUZZ_ASSERT(end <= p->size);
	}
	for (uint32_t i = 0; i < p->nchunks; i++) {
		const struct lb_chunk_ref *c = &p->chunks[i];

		LB_FUZZ_ASSERT(c->frame < p->nframes);
		LB_FUZZ_ASSERT((uint64_t)c->off + c->len <= p->frames[c->frame].raw_len);
	}
	(*(size_t *)ctx)++;
	return 0;
}

/* An object whose sealed part is @data (taken as the zstd-compressed body). */
static void sealed_around(const struct lb_keys *k, const uint8_t *data, size_t size)
{
	uint8_t *obj = malloc(32 + LB_SEAL_OVERHEAD + size), aad[64], salt[LB_SALT_LEN] = {7};
	struct lb_aead_key key;
	size_t n = 0;

	if (!obj)
		return;
	memcpy(obj, "LBINDX\r\n", 8);
	lb_put_le32(obj + 8, 1);
	lb_put_le32(obj + 12, 32);
	memcpy(obj + 16, salt, LB_SALT_LEN);
	memcpy(aad, "lifeboat-index", 14);
	memcpy(aad + 14, salt, LB_SALT_LEN);
	if (lb_aead_derive(k, "index", salt, LB_SALT_LEN, &key) == 0 &&
	    lb_seal(&key, aad, 14 + LB_SALT_LEN, data, size, obj + 32) == 0)
		(void)lb_index_object_decode(k, obj, 32 + LB_SEAL_OVERHEAD + size, check_pack, &n);
	free(obj);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_keys k = fixed_key();
	struct lb_error first;
	size_t n = 0;
	int r = lb_index_object_decode(&k, data, size, check_pack, &n);

	lb_err_save(&first); /* the message replay shows is the first pass's */
	(void)lb_index_body_parse(data, size, check_pack, &n);
	if (size < (1u << 20))
		sealed_around(&k, data, size);
	lb_err_restore(&first);
	return r;
}

LB_FUZZ_TARGET
