/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_imagemap - image map blobs (lb_map_decode) on arbitrary bytes.
 *
 * A blob that decodes must describe itself (count within the span, kinds
 * valid) and encode back to exactly the same bytes: the format has one
 * encoding per map, which is what lets an unchanged region keep its blob.
 */
#include "fuzz.h"

#include "base/err.h"
#include "repo/imagemap.h"

#include <stdlib.h>
#include <string.h>

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_map_blob m;
	uint8_t *p = NULL;
	size_t n = 0;
	int r = lb_map_decode(data, size, &m);

	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EBADMSG || r == -EOVERFLOW || r == -ENOMEM);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
		LB_FUZZ_ASSERT(!m.kinds && !m.ids);
		return r;
	}
	LB_FUZZ_ASSERT(m.count >= 1 && m.count <= LB_MAP_SPAN && m.first % LB_MAP_SPAN == 0);
	LB_FUZZ_ASSERT(lb_map_check_chunk_size(m.chunk_size));
	for (uint32_t i = 0; i < m.count; i++)
		LB_FUZZ_ASSERT(m.kinds[i] <= LB_MAP_DATA);
	if (lb_map_encode(&m, &p, &n) == 0) {
		LB_FUZZ_ASSERT(n == size && !memcmp(p, data, size));
		free(p);
	}
	lb_map_release(&m);
	return r;
}

LB_FUZZ_TARGET
