/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_frame - the plaintext of pack frames (lb_frame_decode): codec byte,
 * reserved bytes, raw length, and the raw or zstd payload.
 *
 * Random bytes never pass the AEAD tag, so the input is taken as a frame's
 * plaintext and sealed by this target under a fixed test key (as frame 0 of
 * a pack with a fixed salt), then decoded: what lies behind the tag (zstd's
 * frame checks, the length rules) sees arbitrary bytes. The input as sealed
 * bytes must be refused (-EBADMSG). A frame that decodes has exactly the raw
 * length its header names; a raw-codec frame decodes to its payload.
 */
#include "fuzz.h"

#include "base/endian.h"
#include "base/err.h"
#include "repo/pack.h"

#include <stdlib.h>
#include <string.h>

static struct lb_aead_key frame_key(const uint8_t salt[LB_SALT_LEN])
{
	struct lb_keys k = {.encrypted = true};
	struct lb_aead_key key;

	for (int i = 0; i < LB_KEY_LEN; i++) {
		k.enc[i] = (uint8_t)(0x10 + i);
		k.mac[i] = (uint8_t)(0x50 + i);
	}
	memset(&key, 0, sizeof(key));
	(void)lb_aead_derive(&k, "pack", salt, LB_SALT_LEN, &key);
	return key;
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	static const uint8_t salt[LB_SALT_LEN] = {1, 2, 3};
	struct lb_aead_key key = frame_key(salt);
	uint8_t aad[64], *sealed, *raw;
	size_t n = strlen("lifeboat-frame"), raw_len;
	int r;

	/* as sealed bytes: the tag cannot match */
	raw = malloc(LB_FRAME_MAX_RAW);
	if (!raw)
		return -ENOMEM;
	r = lb_frame_decode(&key, salt, 0, data, size, raw, size);
	LB_FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
	if (size < LB_FRAME_HEADER) {
		free(raw);
		return r;
	}
	raw_len = lb_le32(data + 4);
	if (raw_len > LB_FRAME_MAX_RAW)
		raw_len = LB_FRAME_MAX_RAW; /* the header then disagrees: refused */
	sealed = malloc(size + LB_SEAL_OVERHEAD);
	if (!sealed) {
		free(raw);
		return -ENOMEM;
	}
	memcpy(aad, "lifeboat-frame", n);
	memcpy(aad + n, salt, LB_SALT_LEN);
	lb_put_le32(aad + n + LB_SALT_LEN, 0);
	r = lb_seal(&key, aad, n + LB_SALT_LEN + 4, data, size, sealed);
	if (r == 0) {
		r = lb_frame_decode(&key, salt, 0, sealed, size + LB_SEAL_OVERHEAD, raw, raw_len);
		if (r < 0) {
			LB_FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
			LB_FUZZ_ASSERT(lb_err_last()->code == r);
		} else {
			LB_FUZZ_ASSERT(lb_le32(data + 4) == raw_len && !data[1] && !data[2] &&
				       !data[3] && data[0] <= 1);
			if (data[0] == 0)
				LB_FUZZ_ASSERT(size - LB_FRAME_HEADER == raw_len &&
					       !memcmp(raw, data + LB_FRAME_HEADER, raw_len));
		}
	}
	free(sealed);
	free(raw);
	return r;
}

LB_FUZZ_TARGET
