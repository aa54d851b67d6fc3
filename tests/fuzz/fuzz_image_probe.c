/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_image_probe - the input is an image file: lb_image_probe() sees its
 * first 136 KiB (what lb_image_open() reads), its last 512 bytes and its size,
 * as lb_image_open() would. The result of that call is returned.
 *
 * The same bytes are also probed with every --format, and as the start of a
 * 1 TiB file, so the checks behind "this offset lies outside the file" are
 * reached by small inputs too (those results only have to be consistent).
 */
#include "fuzz.h"

#include "base/err.h"
#include "io/image.h"

#define HEAD_LEN (136 * 1024)

static void check_probe(int r, const struct lb_image_probe *p, enum lb_image_format want)
{
	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EMEDIUMTYPE || r == -EBADMSG || r == -EOVERFLOW);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
		return;
	}
	LB_FUZZ_TERMINATED(p->subformat);
	LB_FUZZ_TERMINATED(p->backing_file);
	LB_FUZZ_ASSERT(p->format >= LB_FMT_RAW && p->format <= LB_FMT_VDI);
	/* --format X accepts only content that is X (or anything, for raw) */
	if (want != LB_FMT_AUTO)
		LB_FUZZ_ASSERT(p->format == want);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	size_t head_len = size < HEAD_LEN ? size : HEAD_LEN;
	uint8_t *head = malloc(head_len ? head_len : 1);
	uint8_t *tail = NULL;
	struct lb_image_probe p;
	struct lb_error first;
	int r, r2;

	LB_FUZZ_ASSERT(head != NULL);
	memcpy(head, data, head_len);
	if (size >= 512) {
		tail = malloc(512);
		LB_FUZZ_ASSERT(tail != NULL);
		memcpy(tail, data + size - 512, 512);
	}
	lb_err_clear();
	r = lb_image_probe(head, head_len, tail, size, LB_FMT_AUTO, &p);
	check_probe(r, &p, LB_FMT_AUTO);
	lb_err_save(&first);

	for (enum lb_image_format want = LB_FMT_RAW; want <= LB_FMT_VDI; want++) {
		struct lb_image_probe q;

		lb_err_clear();
		r2 = lb_image_probe(head, head_len, tail, size, want, &q);
		check_probe(r2, &q, want);
		/* naming the format that was detected changes nothing */
		if (r == 0 && want == p.format)
			LB_FUZZ_ASSERT(r2 == 0);
	}
	lb_err_clear();
	r2 = lb_image_probe(head, head_len, NULL, UINT64_C(1) << 40, LB_FMT_AUTO, &p);
	check_probe(r2, &p, LB_FMT_AUTO);
	lb_err_restore(&first); /* the record goes with the result returned */

	free(tail);
	free(head);
	return r;
}

LB_FUZZ_TARGET
