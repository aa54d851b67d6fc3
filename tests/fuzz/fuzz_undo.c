/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_undo - the undo log reader (lb_undo_parse) on arbitrary bytes: the
 * header, every record's checksums and bounds, and the torn-tail rule.
 *
 * Random bytes rarely pass a CRC, so each input is also parsed a second time
 * with its checksums recomputed (walking the records by their declared
 * lengths), to reach the checks behind them. The result reported is the
 * first parse's: known-bad inputs must be rejected as they are.
 */
#include "fuzz.h"

#include "base/endian.h"
#include "io/image.h"
#include "repair/undo.h"

#include <stdlib.h>
#include <string.h>

static int parse(const uint8_t *data, size_t size)
{
	struct lb_undo_info info;
	int r = lb_undo_parse(data, size, &info);

	/* what the reader reports must describe the bytes it was given */
	if (r == 0 && (info.end > size || info.end < LB_UNDO_HEADER_SIZE ||
		       (info.end < size) != info.torn_tail || (info.begun && !info.committed)))
		__builtin_trap();
	return r;
}

static void fix_crcs(uint8_t *p, size_t size)
{
	size_t pos = LB_UNDO_HEADER_SIZE;

	if (size < LB_UNDO_HEADER_SIZE)
		return;
	lb_put_le32(p + 4092, lb_crc32c(0, p, 4092));
	while (size - pos >= 32) {
		uint32_t kind = lb_le32(p + pos + 4);
		uint64_t dlen = kind == 2 ? 32 : kind == 3 ? 0 : lb_le64(p + pos + 16);
		uint64_t avail = size - pos - 32;

		lb_put_le32(p + pos + 24,
			    lb_crc32c(0, p + pos + 32, (size_t)(dlen < avail ? dlen : avail)));
		lb_put_le32(p + pos + 28, lb_crc32c(0, p + pos, 28));
		if (dlen > avail)
			break;
		pos += 32 + (size_t)dlen;
	}
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	int r = parse(data, size);
	uint8_t *copy = malloc(size ? size : 1);

	if (copy) {
		memcpy(copy, data, size);
		fix_crcs(copy, size);
		parse(copy, size);
		free(copy);
	}
	return r;
}

LB_FUZZ_TARGET
