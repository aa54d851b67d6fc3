/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_blob_parts - lists of blob parts (lb_blob_parts_decode) on arbitrary
 * bytes.
 *
 * Anything without the magic is "not a list" (0); a list that is accepted
 * must be self-consistent: its length is exactly the header and one ID per
 * part, the parts cover the blob (all 4 MiB but the last), and the blob is
 * one that needed parts (over LB_BLOB_PART, at most LB_BLOB_MAX).
 */
#include "fuzz.h"

#include "base/err.h"
#include "repo/repo.h"

#include <string.h>

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	uint64_t total = 0;
	uint32_t n = 0;
	int r = lb_blob_parts_decode(data, size, &total, &n);

	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EBADMSG && lb_err_last()->code == r);
		LB_FUZZ_ASSERT(size >= LB_BLOB_PARTS_HEADER &&
			       !memcmp(data, LB_BLOB_PARTS_MAGIC, 4));
		return r;
	}
	if (r == 0) {
		LB_FUZZ_ASSERT(size < LB_BLOB_PARTS_HEADER || memcmp(data, LB_BLOB_PARTS_MAGIC, 4));
		return 0;
	}
	LB_FUZZ_ASSERT(r == 1);
	LB_FUZZ_ASSERT(total > LB_BLOB_PART && total <= LB_BLOB_MAX);
	LB_FUZZ_ASSERT((uint64_t)(n - 1) * LB_BLOB_PART < total && (uint64_t)n * LB_BLOB_PART >= total);
	LB_FUZZ_ASSERT(size == LB_BLOB_PARTS_HEADER + (size_t)n * LB_ID_LEN);
	return 0;
}

LB_FUZZ_TARGET
